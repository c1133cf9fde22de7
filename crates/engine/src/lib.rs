//! `engine`: runs wavecrew plans.
//!
//! [`run::start`] takes a checked [`plan::Plan`] and a repository ([`run::Workspace`]), makes
//! the run branch, and schedules the plan's tasks on agent lanes, each in its own git
//! worktree; every task that passes its Verify commands becomes one commit on the run branch.
//! Everything that happens is an [`events::Event`]: the [`journal::Journal`] records each one
//! before it takes effect (so [`run::resume`] can pick up after any crash), and the terminal
//! view and the dashboard read the same stream.

// The modules in layers, from the bottom up: each uses only its own layer and those above it
// in this list (`crate::` never points down the list); nothing imports `run`.

// The vocabulary: events, agents' requests, paths, git, prompts' text, the scheduler's line.
pub mod agent;
pub mod budget;
pub mod escalate;
pub mod events;
pub mod git;
pub mod layout;
pub mod limits;
pub mod prompt;
pub mod skills;
mod slots;
pub mod slurm;

// Processes, the agent CLIs' adapters, provisioning, a worker's spool folder.
pub mod adapters;
pub mod double;
pub mod process;
pub mod provision;
pub mod remote;
pub mod sandbox;

// A run's knobs, record, journal and repository; what reads a journal back into a report.
mod emitter;
pub mod error;
pub mod graph;
pub mod journal;
pub mod options;
pub mod report;
pub mod settings;
pub mod timeline;
pub mod workspace;

// One attempt: its environment, worktree, agent, Verify commands, landing.
mod ask;
mod attempt;
mod ctx;
mod env;
mod integrate;
mod launch;
mod worktree;

// Where attempts run, and above a single attempt: checkpoints, gates, the final verification.
pub mod backend;
mod best_of;
mod checkpoint;
pub mod gate;
pub mod verify;
pub mod worker;

// The run loop, and the commands that read and answer a run.
pub mod control;
pub mod gaps;
pub mod planner;
pub mod preview;
pub mod rejection;
pub mod run;

/// The layers above hold: no module names (`crate::…`) one of a later layer, outside tests.
#[cfg(test)]
mod layers {
    use std::collections::HashMap;
    use std::path::Path;

    /// The layers of `lib.rs`: its `mod` lines, in groups separated by blank lines.
    fn layers(lib: &str) -> Vec<Vec<String>> {
        let mut layers = vec![Vec::new()];
        for line in lib.lines().map(str::trim) {
            let name = line.strip_prefix("pub ").unwrap_or(line).strip_prefix("mod ").and_then(|m| m.strip_suffix(';'));
            match name {
                Some(name) => layers.last_mut().unwrap().push(name.to_owned()),
                None if line.is_empty() && !layers.last().unwrap().is_empty() => layers.push(Vec::new()),
                None => {}
            }
        }
        layers.retain(|layer| !layer.is_empty());
        layers
    }

    /// The modules `source` names as `crate::<module>`, outside its tests and comments.
    fn uses(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let mut names = Vec::new();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let rest = rest.strip_prefix('{').unwrap_or(rest);
                for item in rest.split([',', '}']).take(if line[..at].ends_with("use ") { usize::MAX } else { 1 }) {
                    let name: String =
                        item.trim().chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if !name.is_empty() {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    #[test]
    fn no_module_reaches_up_into_a_later_layer() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let layers = layers(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
        assert!(layers.len() >= 5, "{layers:?}");
        let layer_of: HashMap<&str, usize> =
            layers.iter().enumerate().flat_map(|(i, l)| l.iter().map(move |m| (m.as_str(), i))).collect();
        let mut wrong = Vec::new();
        for (module, &layer) in &layer_of {
            let files: Vec<_> = [src.join(format!("{module}.rs"))]
                .into_iter()
                .filter(|f| f.exists())
                .chain(walk(&src.join(module)))
                .collect();
            assert!(!files.is_empty(), "no source for module {module}");
            for file in files {
                for used in uses(&std::fs::read_to_string(&file).unwrap()) {
                    if layer_of.get(used.as_str()).is_some_and(|&l| l > layer) {
                        wrong.push(format!("{} uses crate::{used}", file.display()));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "lower layers reach up:\n{}", wrong.join("\n"));
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .filter_map(Result::ok)
            .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect()
    }
}
