//! An error that carries its own exit code (the codes are listed in the README and mapped in
//! `main.rs`).

/// An error that carries its own exit code (e.g. `cache verify` finding corrupt files).
#[derive(Debug)]
pub struct Exit(pub u8, pub String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}
