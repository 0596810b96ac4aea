//! One file per subcommand: `Args` + `run(args, global)`, which does the work through the
//! libraries and prints its result through [`crate::report`].

pub mod cache;
pub mod convert;
pub mod download;
pub mod help;
pub mod list;
pub mod lock;
pub mod run;
pub mod serve;

/// An error that carries its own exit code (e.g. `cache verify` finding corrupt files).
#[derive(Debug)]
pub struct Exit(pub u8, pub String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}
