//! How a run was started: its agent, backend and options as the journal keeps them (the run
//! row's `options` column, versioned JSON), so that `resume` goes on with exactly those. A flag
//! given to `resume` overrides one of them, and the journal keeps the override too; the
//! configuration files are not read again for anything recorded here.
//!
//! Secrets are never recorded: an agent's `pass_env` is a list of variable names, their values
//! are read from the environment each time an agent starts.

use crate::agent::{Agent, CommandAgent, ScriptedAgent};
use crate::options::Options;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The version of [`RunSettings`] this wavecrew writes. Fields added later get their defaults
/// when an older record is read; a record of a newer version is refused, not guessed at.
pub const VERSION: u32 = 1;

/// Everything `resume` needs to go on as the run was started.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSettings {
    /// [`VERSION`] when written.
    pub version: u32,
    /// The agent, fully resolved (its configuration is not read again).
    pub agent: AgentSpec,
    /// Where attempts run.
    #[serde(default)]
    pub backend: BackendSpec,
    /// The knobs: `-j`, attempts, timeouts, schedule, budget, checkpoints, gates, verification.
    #[serde(default)]
    pub options: Options,
}

/// An agent as the run was started with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentSpec {
    /// One of the agent CLIs (`claude`, `codex`, ...), with its `[agents.NAME]` settings.
    Cli {
        /// The name the run was given (`--agent NAME`).
        name: String,
        /// The CLI (`claude`).
        cli: String,
        /// Its program, when not `cli` on PATH.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        program: Option<PathBuf>,
        /// The model API's base URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_url: Option<String>,
        /// Model aliases of the plan to model ids.
        #[serde(default)]
        models: BTreeMap<String, String>,
        /// Names (or `PREFIX_*`) of variables the agent may see; never their values.
        #[serde(default)]
        pass_env: Vec<String>,
        /// Extra arguments.
        #[serde(default)]
        args: Vec<String>,
    },
    /// A command line: `--agent command --agent-command CMD`, or `[agents.NAME] command`.
    Command {
        /// `command`, or the configured agent's name.
        name: String,
        /// The command line, the program first, with its `{placeholders}`.
        argv: Vec<String>,
        /// Names (or `PREFIX_*`) of variables the agent may see; never their values.
        #[serde(default)]
        pass_env: Vec<String>,
    },
    /// The scripted agent, a test double.
    Scripted {
        /// Its script (an absolute path).
        script: PathBuf,
    },
}

impl AgentSpec {
    /// The name the agent was chosen by (`claude`, `command`, `scripted`, a configured name).
    pub fn name(&self) -> &str {
        match self {
            AgentSpec::Cli { name, .. } | AgentSpec::Command { name, .. } => name,
            AgentSpec::Scripted { .. } => "scripted",
        }
    }

    /// The command line or script it runs, as `status` shows it.
    pub fn describe(&self) -> String {
        match self {
            AgentSpec::Cli { cli, program, models, args, .. } => {
                let mut text = program.as_ref().map_or_else(|| cli.clone(), |p| format!("{cli} ({})", p.display()));
                if !args.is_empty() {
                    text.push_str(&format!(" {}", shell_words::join(args)));
                }
                if !models.is_empty() {
                    let models: Vec<String> = models.iter().map(|(alias, id)| format!("{alias}={id}")).collect();
                    text.push_str(&format!(", models {}", models.join(" ")));
                }
                text
            }
            AgentSpec::Command { argv, .. } => shell_words::join(argv),
            AgentSpec::Scripted { script } => format!("script {}", script.display()),
        }
    }

    /// The agent; `wavecrew` is the program the scripted agent runs (`wavecrew agent-double`).
    /// `None` for a command line without a program.
    pub fn build(&self, wavecrew: &Path) -> Option<Arc<dyn Agent>> {
        Some(match self {
            AgentSpec::Cli { cli, program, base_url, models, pass_env, args, .. } => {
                let cli = crate::adapters::Cli::from_name(cli)?;
                Arc::new(
                    crate::adapters::CliAgent::new(cli, program.clone(), base_url.clone(), models.clone())
                        .with_pass_env(pass_env.clone())
                        .with_args(args.clone()),
                )
            }
            AgentSpec::Command { name, argv, pass_env } => {
                Arc::new(CommandAgent::new(name.clone(), argv.clone())?.with_pass_env(pass_env.clone()))
            }
            AgentSpec::Scripted { script } => {
                Arc::new(ScriptedAgent { program: wavecrew.to_owned(), script: script.clone() })
            }
        })
    }

    /// What of the agent is not on this machine (any more): its program, or its script.
    pub fn missing(&self) -> Option<String> {
        let program = match self {
            AgentSpec::Cli { cli, program, .. } => program.clone().unwrap_or_else(|| PathBuf::from(cli)),
            // A program that is filled in per task cannot be looked for.
            AgentSpec::Command { argv, .. } if argv.first().is_some_and(|p| p.contains('{')) => return None,
            AgentSpec::Command { argv, .. } => PathBuf::from(argv.first()?),
            AgentSpec::Scripted { script } => {
                return (!script.is_file()).then(|| format!("its script `{}` is gone", script.display()));
            }
        };
        match find_program(&program) {
            Some(_) => None,
            None if program.components().count() > 1 => Some(format!("`{}` does not exist", program.display())),
            None => Some(format!("`{}` is not on PATH", program.display())),
        }
    }
}

/// Where attempts run, as the run was started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackendSpec {
    /// Lane worktrees on this machine.
    #[default]
    Local,
    /// One Slurm job per attempt.
    Slurm {
        /// Partition, CPUs, memory, `sbatch` arguments, `slurm.conf`.
        client: crate::slurm::Slurm,
        /// The folder every node sees.
        spool: PathBuf,
        /// Where workers clone the repository from.
        repo: String,
    },
}

/// What the journal holds for a run.
#[derive(Debug)]
pub enum Recorded {
    /// Its settings.
    Settings(Box<RunSettings>),
    /// Nothing: an older wavecrew started it, and did not record its options.
    Nothing,
    /// Settings of a newer wavecrew (their version), which this one does not know how to read.
    Newer(u32),
}

impl RunSettings {
    /// The record the journal keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the journal's record of a run. Older wavecrews wrote the options' debug text
    /// there, which is not JSON: nothing recorded.
    pub fn from_json(text: &str) -> Recorded {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return Recorded::Nothing };
        match value["version"].as_u64() {
            Some(version) if version > u64::from(VERSION) => Recorded::Newer(version as u32),
            Some(_) => serde_json::from_value(value).map_or(Recorded::Nothing, |s| Recorded::Settings(Box::new(s))),
            None => Recorded::Nothing,
        }
    }
}

/// Where `program` is: itself when it is a path, else the first match on PATH.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| p.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn settings_round_trip_and_older_or_newer_records_are_told_apart() {
        let settings = RunSettings {
            version: VERSION,
            agent: AgentSpec::Cli {
                name: "claude".into(),
                cli: "claude".into(),
                program: None,
                base_url: Some("http://127.0.0.1:9".into()),
                models: BTreeMap::from([("haiku".into(), "m-haiku".into())]),
                pass_env: vec!["MY_TOKEN".into()],
                args: Vec::new(),
            },
            backend: BackendSpec::Local,
            options: Options {
                jobs: Some(2),
                agent_timeout: Duration::from_secs(90),
                auto_approve: vec![plan::TaskType::HumanVerify],
                // Read back to the last bit (serde_json's `float_roundtrip`): found by the property below.
                budget_usd: Some(106.83336541109149),
                schedule: crate::options::ScheduleMode::Waves,
                escalate: vec!["haiku".into(), "sonnet".into()],
                budgets: crate::budget::Budgets {
                    task: Some(crate::budget::Amount::Usd(2.5)),
                    wave: Some(crate::budget::Amount::Tokens(200_000)),
                    ..Default::default()
                },
                ..Options::default()
            },
        };
        let json = settings.to_json();
        assert!(json.contains(r#""agent_timeout_secs":90"#) && json.contains("checkpoint:human-verify"), "{json}");
        let Recorded::Settings(back) = RunSettings::from_json(&json) else { panic!("{json}") };
        assert_eq!(back.agent, settings.agent);
        assert_eq!(back.options.jobs, Some(2));
        assert_eq!(back.options.agent_timeout, Duration::from_secs(90));
        assert_eq!(back.options.auto_approve, [plan::TaskType::HumanVerify]);
        assert_eq!(back.options.schedule, crate::options::ScheduleMode::Waves);
        assert_eq!(back.options.budget_usd, Some(106.83336541109149));
        assert_eq!(back.options.escalate, ["haiku", "sonnet"], "resume escalates as the run was started");
        assert_eq!(back.options.budgets, settings.options.budgets);

        // What older wavecrews wrote there: the options' debug text.
        assert!(matches!(RunSettings::from_json("Options { jobs: None, attempts: 3 }"), Recorded::Nothing));
        assert!(matches!(RunSettings::from_json(r#"{"version": 99, "agent": 1}"#), Recorded::Newer(99)));
        // A record of this version missing later fields gets their defaults.
        let Recorded::Settings(sparse) =
            RunSettings::from_json(r#"{"version": 1, "agent": {"kind": "scripted", "script": "/s.json"}}"#)
        else {
            panic!("sparse record")
        };
        assert_eq!(sparse.options.attempts, Options::default().attempts);
        assert_eq!(sparse.backend, BackendSpec::Local);
    }

    #[test]
    fn best_of_tasks_are_remembered_for_resume_and_older_records_have_none() {
        let agent = r#""agent": {"kind": "scripted", "script": "/s.json"}"#;
        let Recorded::Settings(mut settings) = RunSettings::from_json(&format!(r#"{{"version": 1, {agent}}}"#)) else {
            panic!("a record without best_of")
        };
        assert!(settings.options.best_of.is_empty());
        settings.options.best_of = BTreeMap::from([("2.1".to_owned(), 3), ("2.2".to_owned(), 8)]);
        let json = settings.to_json();
        let Recorded::Settings(back) = RunSettings::from_json(&json) else { panic!("{json}") };
        assert_eq!(back.options.best_of, settings.options.best_of, "{json}");
    }

    proptest::proptest! {
        /// Whatever a journal holds, reading it never panics; what this wavecrew writes, it
        /// reads back the same.
        #[test]
        fn records_read_back_what_was_written_and_anything_else_reads_safely(
            junk in ".{0,200}",
            jobs in proptest::option::of(1usize..64),
            attempts in 1u32..20,
            timeout in 1u64..100_000,
            budget in proptest::option::of(0.0f64..1000.0),
            waves: bool,
            fail_fast: bool,
            argv in proptest::collection::vec("[^\\x00]{0,20}", 1..4),
        ) {
            let _ = RunSettings::from_json(&junk);
            let settings = RunSettings {
                version: VERSION,
                agent: AgentSpec::Command { name: "command".into(), argv, pass_env: Vec::new() },
                backend: BackendSpec::Local,
                options: Options {
                    jobs,
                    attempts,
                    agent_timeout: Duration::from_secs(timeout),
                    budget_usd: budget,
                    schedule: if waves { crate::options::ScheduleMode::Waves } else { crate::options::ScheduleMode::Dag },
                    fail_fast,
                    ..Options::default()
                },
            };
            let Recorded::Settings(back) = RunSettings::from_json(&settings.to_json()) else {
                panic!("not read back: {}", settings.to_json())
            };
            proptest::prop_assert_eq!(&back.agent, &settings.agent);
            proptest::prop_assert_eq!(back.options.jobs, jobs);
            proptest::prop_assert_eq!(back.options.attempts, attempts);
            proptest::prop_assert_eq!(back.options.agent_timeout, Duration::from_secs(timeout));
            proptest::prop_assert_eq!(back.options.budget_usd, budget);
            proptest::prop_assert_eq!(back.options.schedule, settings.options.schedule);
            proptest::prop_assert_eq!(back.options.fail_fast, fail_fast);
        }
    }

    #[test]
    fn a_missing_program_or_script_is_named() {
        let gone = AgentSpec::Cli {
            name: "claude".into(),
            cli: "claude".into(),
            program: Some("/nonexistent/claude".into()),
            base_url: None,
            models: BTreeMap::new(),
            pass_env: Vec::new(),
            args: Vec::new(),
        };
        assert_eq!(gone.missing().as_deref(), Some("`/nonexistent/claude` does not exist"));
        let command = AgentSpec::Command { name: "command".into(), argv: vec!["sh".into()], pass_env: Vec::new() };
        assert_eq!(command.missing(), None);
        let absent = AgentSpec::Command {
            name: "command".into(),
            argv: vec!["no-such-agent-program-x".into()],
            pass_env: Vec::new(),
        };
        assert_eq!(absent.missing().as_deref(), Some("`no-such-agent-program-x` is not on PATH"));
        let script = AgentSpec::Scripted { script: "/nonexistent/script.json".into() };
        assert!(script.missing().unwrap().contains("script"));
    }
}
