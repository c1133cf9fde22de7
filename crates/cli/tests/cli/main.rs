//! The CLI's integration tests, one binary for them all (one link, one process to list for
//! nextest; `cargo nextest run -p wavecrew --test cli`). Each module was a test binary of its
//! own and keeps its name, so a test is `gates::a_gate_that_fails_twice_is_fixed_on_the_third_round`
//! and `-E 'test(/^gates::/)'` picks a module. Shared setup is in the `testkit` crate; what
//! only these tests share is in [`common`].
//!
//! A new test file goes here as a module, not as another `tests/*.rs` (cargo would make it a
//! binary of its own).

mod common;

mod agents;
mod best_of;
mod budget;
mod cli;
mod codes;
mod dashboard;
mod docs;
mod gaps;
mod gates;
mod import;
mod limits;
mod mcp;
mod notify;
mod plan;
mod provision;
mod run;
mod sandbox;
mod ship;
mod slurm;
mod timeline;
mod verifier_limits;
mod verify;
mod wiring;
