//! `engine`: runs wavecrew plans.
//!
//! [`run::start`] takes a checked [`plan::Plan`] and a repository ([`run::Workspace`]), makes
//! the run branch, and schedules the plan's tasks on agent lanes, each in its own git
//! worktree; every task that passes its Verify commands becomes one commit on the run branch.
//! Everything that happens is an [`events::Event`]: the [`journal::Journal`] records each one
//! before it takes effect (so [`run::resume`] can pick up after any crash), and the terminal
//! view and the dashboard read the same stream.

// From the bottom up: each module uses only those above it in this list (the lists are
// layers, alphabetical within one).
// What a run is made of: errors, knobs, the repository, paths, events and where they go.
mod emitter;
pub mod error;
pub mod events;
pub mod git;
pub mod journal;
pub mod layout;
pub mod options;
pub mod process;
pub mod settings;
pub mod workspace;
// The plan as a run sees it, and the agents.
pub mod adapters;
pub mod agent;
pub mod graph;
pub mod prompt;
pub mod provision;
pub mod skills;
// One attempt: its environment, worktree, agent, Verify commands, and where it runs.
mod ask;
mod attempt;
pub mod backend;
mod env;
mod integrate;
mod launch;
pub mod remote;
mod slots;
pub mod slurm;
pub mod worker;
mod worktree;
// Above a single attempt: checkpoints, gates, the final verification.
mod checkpoint;
mod ctx;
pub mod gate;
pub mod verify;
// The run loop, and what reads its journal.
pub mod control;
pub mod double;
pub mod gaps;
pub mod report;
pub mod run;
