//! The real `wavecrew` binary, run as a person would, with their configuration kept out.
//!
//! The test crate says where the binary is (cargo sets `CARGO_BIN_EXE_wavecrew` only when it
//! compiles the integration tests of the package that has the binary, so a library cannot read
//! it): `Wavecrew::new(env!("CARGO_BIN_EXE_wavecrew"))`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `wavecrew` executable under test.
#[derive(Clone, Debug)]
pub struct Wavecrew {
    bin: PathBuf,
}

impl Wavecrew {
    /// The executable at `bin`.
    pub fn new(bin: impl Into<PathBuf>) -> Wavecrew {
        Wavecrew { bin: bin.into() }
    }

    /// Where it is.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `wavecrew ARGS` with nothing added: the environment of the test.
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command.args(args);
        command
    }

    /// `wavecrew ARGS` in `dir`, colours off, the user's own configuration out of the way
    /// (`XDG_CONFIG_HOME` is `dir/.no-config`), worktrees in [`test_state_home`].
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = self.bare(args);
        command
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", dir.join(".no-config"))
            .env("XDG_STATE_HOME", test_state_home());
        command
    }
}

/// wavecrew's state folder for the tests (runs' worktrees go there), outside every test
/// repository.
pub fn test_state_home() -> PathBuf {
    std::env::temp_dir().join("wavecrew-test-state")
}
