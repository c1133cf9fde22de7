//! The scripted agent (a test double, see `engine::double`) for tests that drive the engine's
//! library: the test executable itself plays it, so no other binary is needed.
//!
//! The engine starts every agent as a program. [`ScriptedSelf`] names the running test
//! executable, asked (libtest's `--exact --ignored`) to run only the entry point that
//! [`scripted_agent_entry!`] defines; the entry sees the variables the engine sets and plays the
//! script with `engine::double::play`, the very steps `wavecrew agent-double` plays.
//!
//! ```ignore
//! // In the test crate's main.rs:
//! testkit::scripted_agent_entry!();
//! // In a test:
//! let agent = Arc::new(testkit::agent::ScriptedSelf::new(repo.root().join("script.json")));
//! ```

use engine::agent::{Agent, AgentCommand, AgentRequest};
use std::path::PathBuf;

/// The name of the entry point [`scripted_agent_entry!`] defines at the test crate's root.
pub const ENTRY: &str = "scripted_agent_entry";

/// The variable that tells the entry point which script to play (and that it was started as
/// an agent).
const SCRIPT_VAR: &str = "WAVECREW_TESTKIT_SCRIPT";

/// Defines the ignored test `scripted_agent_entry` at the root of the test crate: the scripted
/// agent's entry point for [`ScriptedSelf`]. It does nothing when run as a test.
#[macro_export]
macro_rules! scripted_agent_entry {
    () => {
        /// Not a test: the scripted agent's entry point. The runs of the tests start this
        /// executable as their agent (`testkit::agent::ScriptedSelf`); run as a test, it
        /// does nothing.
        #[test]
        #[ignore = "the scripted agent's entry point: runs start it as their agent"]
        fn scripted_agent_entry() {
            $crate::agent::play_if_started_as_agent();
        }
    };
}

/// The scripted agent played by this test executable: the engine starts it in the lane's
/// worktree, and it plays the steps `script` gives for the task, role and attempt.
#[derive(Clone, Debug)]
pub struct ScriptedSelf {
    exe: PathBuf,
    script: PathBuf,
}

impl ScriptedSelf {
    /// The agent that plays `script` (an absolute path: agents run in their worktrees).
    pub fn new(script: impl Into<PathBuf>) -> ScriptedSelf {
        let exe = std::env::current_exe().expect("the test executable's path");
        ScriptedSelf { exe, script: script.into() }
    }
}

impl Agent for ScriptedSelf {
    fn name(&self) -> &str {
        "scripted"
    }

    /// The limit its `limit` step ended on, as `wavecrew agent-double` reads it.
    fn limit(&self, output: &str) -> Option<engine::limits::Limit> {
        engine::agent::scripted_limit(output)
    }

    fn command(&self, request: &AgentRequest) -> AgentCommand {
        let args = [ENTRY, "--exact", "--ignored", "--nocapture", "--test-threads=1", "--quiet"];
        AgentCommand {
            program: self.exe.clone(),
            args: args.map(str::to_owned).to_vec(),
            // What the engine gives every agent (`WAVECREW_TASK`, …), and the script.
            env: vec![
                ("WAVECREW_TASK".into(), request.task.clone()),
                ("WAVECREW_ATTEMPT".into(), request.attempt.to_string()),
                ("WAVECREW_PROMPT_FILE".into(), request.prompt_file.to_string_lossy().into_owned()),
                ("WAVECREW_MODEL".into(), request.model.clone().unwrap_or_default()),
                ("WAVECREW_ROLE".into(), request.role.as_str().into()),
                (SCRIPT_VAR.into(), self.script.to_string_lossy().into_owned()),
            ],
            pass_env: Vec::new(),
        }
    }
}

/// When the engine started this executable as a [`ScriptedSelf`] agent: plays the script in
/// the current folder (the worktree) and exits with its code. Otherwise returns.
pub fn play_if_started_as_agent() {
    let Some(script) = std::env::var_os(SCRIPT_VAR) else { return };
    let text = std::fs::read_to_string(&script).unwrap_or_else(|e| panic!("script {}: {e}", script.display()));
    let script: engine::double::Script = serde_json::from_str(&text).expect("the script is a scripted agent's script");
    let task = std::env::var("WAVECREW_TASK").expect("WAVECREW_TASK is set for agents");
    let attempt = std::env::var("WAVECREW_ATTEMPT").ok().and_then(|a| a.parse().ok()).unwrap_or(1);
    let role = std::env::var("WAVECREW_ROLE").unwrap_or_else(|_| "task".into());
    let dir = std::env::current_dir().expect("the agent's folder");
    let code = engine::double::play(&script, &task, &role, attempt, &dir).expect("the script plays");
    std::process::exit(code);
}
