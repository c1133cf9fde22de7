//! The engine driven through its library, no binary: gate rounds and checkpoints with the
//! scripted agent (a test double, played by this test executable: `testkit::agent`), asserted
//! on the events the run emits and on what lands on the run branch; the checkpoint events' wire
//! format across journal versions; the Slurm client against a real single-node cluster.
//!
//! One binary (`cargo nextest run -p wavecrew-engine --test engine`); a new file goes here as a
//! module.

mod checkpoint_events;
mod checkpoints;
mod gate_limits;
mod gates;
mod slurm;
mod support;

testkit::scripted_agent_entry!();
