//! What the CLI's tests share beyond `testkit`: the binary under test. Everything of
//! `testkit` is re-exported, so `use crate::common::*` brings the repository builder, git,
//! events and fixtures.

pub use testkit::fixtures::*;
pub use testkit::process::Cluster;
pub use testkit::*;

use serde_json::Value;
use std::path::Path;

/// The `wavecrew` binary under test (cargo sets this variable when it compiles the
/// package's integration tests; a library like testkit cannot read it).
pub fn wavecrew_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wavecrew"))
}

/// [`wavecrew_bin`], for testkit.
pub fn wavecrew() -> Wavecrew {
    Wavecrew::new(wavecrew_bin())
}

/// A repository with one commit, `plan.md` and `script.json` for the scripted agent, in which
/// the binary under test runs (see [`Repo::scripted`]).
pub fn scripted_repo(plan: &str, script: &Value) -> Repo {
    Repo::scripted(wavecrew(), plan, script)
}
