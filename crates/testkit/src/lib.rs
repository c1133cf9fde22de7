//! `testkit`: what wavecrew's integration tests share, so that each test says what it checks
//! and not how to set it up.
//!
//! - [`Repo`]: a scratch git repository built from files and commits ([`Repo::builder`]), or the
//!   usual one with a plan and a script for the scripted agent ([`Repo::scripted`]), with the
//!   run branch's commits and the run's folder at hand.
//! - [`Wavecrew`]: the real `wavecrew` binary, run with the user's configuration kept out. The
//!   test crate names the binary (`env!("CARGO_BIN_EXE_wavecrew")` is only set there).
//! - [`git`]: run git and read what a run left: branch heads, commits, trailers, files.
//! - [`events`]: the events of a run, from `--json` output or from the journal, found by kind.
//! - [`fixtures`]: the plans, scripts and files several tests use.
//! - [`agent`]: the scripted agent (a test double, see `engine::double`) played by the test
//!   executable itself, for tests that drive the engine's library without the binary.
//! - [`process`]: programs the tests start and stop (installed agent CLIs, a Slurm cluster).
//!
//! Not published; only tests depend on it.

pub mod agent;
pub mod events;
pub mod fixtures;
pub mod git;
pub mod process;
pub mod repo;
pub mod wavecrew;

pub use events::{events, json_lines, of_kind};
pub use fixtures::{plan, wave, write};
pub use git::git;
pub use process::{Stopped, finish, installed, stderr};
pub use repo::{Repo, RepoBuilder};
pub use wavecrew::{Wavecrew, test_state_home};
