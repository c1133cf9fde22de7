//! `engine`: runs wavecrew plans.
//!
//! [`run::start`] takes a checked [`plan::Plan`] and a repository ([`run::Workspace`]), makes
//! the run branch, and schedules the plan's tasks on agent lanes, each in its own git
//! worktree; every task that passes its Verify commands becomes one commit on the run branch.
//! Everything that happens is an [`events::Event`]: the [`journal::Journal`] records each one
//! before it takes effect (so [`run::resume`] can pick up after any crash), and the terminal
//! view and the dashboard read the same stream.

pub mod adapters;
pub mod agent;
pub mod backend;
pub mod control;
pub mod double;
pub mod events;
pub mod gaps;
pub mod gate;
pub mod git;
pub mod journal;
pub mod process;
pub mod prompt;
pub mod provision;
pub mod remote;
pub mod report;
pub mod run;
pub mod settings;
pub mod skills;
pub mod slurm;
pub mod timeline;
pub mod verify;
