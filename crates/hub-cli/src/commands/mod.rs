//! One file per subcommand: `Args` + `run(args, global)`, which does the work through the
//! libraries and prints its result through [`crate::report`].

pub mod bench;
pub mod cache;
pub mod convert;
pub mod download;
pub mod help;
pub mod list;
pub mod lock;
pub mod run;
pub mod serve;
