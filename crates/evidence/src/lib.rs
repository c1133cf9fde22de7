//! `evidence`: what wavecrew's gates and must_have checks read, as pure functions over text.
//!
//! Nothing here runs a command or touches the disk: the engine runs the tools, reads the
//! files and hands their text to these parsers, so that every verdict comes from evidence
//! wavecrew gathered itself and every parser can be tested (and property-tested) on strings.
//!
//! - [`results`]: test counts from JUnit XML and from the summary lines of common runners.
//! - [`coverage`]: lcov and Cobertura line coverage, and coverage of the lines a diff changed.
//! - [`expectation`]: what a plan's Automated command's `# comment` expects, and whether what
//!   the command showed meets it.
//! - [`diff`]: the added or changed lines of a unified diff, per file.
//! - [`secrets`]: known key formats and high-entropy strings.
//! - [`patterns`]: dangerous code patterns per language.
//! - [`artifacts`]: stub markers and plain references between files.
//! - [`wiring`]: is an artifact wired? Imports resolved as the project's toolchain resolves them,
//!   entry points by convention, the plan's own commands, in one edge index.
//! - [`review`]: the JSON answers of reviewing agents (a gate's review, the truths verifier)
//!   and whether the places and commands they cite hold.
pub mod artifacts;
pub mod coverage;
pub mod diff;
pub mod expectation;
pub mod patterns;
pub mod results;
pub mod review;
pub mod secrets;
pub mod wiring;
