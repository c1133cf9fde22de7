//! The scripted agent (a test double for real agent CLIs): it edits files as a script says,
//! so runs can be tested and demonstrated without any model.
//!
//! A script is JSON: for each task id, a list of attempts, each a list of steps; attempts past
//! the end repeat the last one; a task missing from the script (and from `"*"`) does nothing.
//! A gate's fix rounds are the attempts of its task id. The agents wavecrew asks for an answer
//! have keys of their own, never taken from `"*"`: `"<task>/review"` for the review of gate
//! `<task>` (one attempt per round), and `"verification"` for the verifier of the plan's truths.
//!
//! ```json
//! { "tasks": { "1.1": [[{"write": "src/a.py", "content": "x = 1\n"}]],
//!              "2.1": [[{"exit": 3}], [{"append": "log.txt", "content": "ok\n"}]],
//!              "2.1/review": [[{"write": ".wavecrew/review/2.1-1-house-style.json",
//!                               "content": "{\"findings\": []}"}]] } }
//! ```
//!
//! A step `{"limit": {"reason": "…", "reset_in_ms": 2000, "once": "/tmp/…/limited"}}` ends the
//! call on a usage or rate limit of the agent's account (once, with `once`), for the tests of
//! what wavecrew does then.

use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// A scripted agent's script.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Steps per task id (`*` for every task not listed), per attempt.
    pub tasks: HashMap<String, Vec<Vec<Step>>>,
}

/// One thing the scripted agent does.
#[allow(missing_docs)] // the fields are named for what they hold; the variant says the rest
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// Writes `content` to `write` (relative to the worktree, or absolute: a misbehaving agent).
    Write { write: String, content: String },
    /// Appends `content` to `append`.
    Append { append: String, content: String },
    /// Removes a file.
    Remove { remove: String },
    /// Prints a line on stdout.
    Say { say: String },
    /// Prints `NAME=value` (or `NAME is unset`) for a variable of its environment.
    Env { env: String },
    /// Prints this many bytes of output (an agent that floods its log).
    Flood { flood: u64 },
    /// Waits.
    SleepMs { sleep_ms: u64 },
    /// Waits until the file `wait_for` exists (relative to the worktree, or absolute), at most a
    /// minute; exits 1 if it never does. Lets a test hold an agent until it has seen it run.
    WaitFor { wait_for: String },
    /// Never ends (until killed).
    Hang { hang: bool },
    /// Exits with this code now.
    Exit { exit: i32 },
    /// Reports usage as an agent CLI streams it mid-run (one line on stdout the scripted agent
    /// reads back as [`crate::agent::Activity::Usage`]): tokens, and dollars when given.
    Usage { usage: Usage },
    /// Ends on a usage or rate limit of its account, as an agent CLI does: one line on stdout
    /// the scripted agent reads back as a [`crate::limits::Limit`]
    /// ([`crate::agent::scripted_limit`]), then exit 1.
    Limit { limit: Limit },
}

/// A usage or rate limit a scripted agent ends on (see [`Step::Limit`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// What the agent says, as a CLI would.
    pub reason: String,
    /// The limit resets this many milliseconds after the step plays; without it the agent
    /// does not say when (wavecrew backs off).
    #[serde(default)]
    pub reset_in_ms: Option<u64>,
    /// A file (absolute: outside the repository and its worktrees; in a sandboxed run, in a
    /// folder of `[sandbox] writable`) that the step makes when it plays; once the file exists
    /// the step does nothing. A call is limited once, and the same call made again after the
    /// hold goes on with the next steps.
    #[serde(default)]
    pub once: Option<String>,
}

/// Usage a scripted agent reports (see [`Step::Usage`]).
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Input tokens.
    #[serde(default)]
    pub input: u64,
    /// Output tokens.
    #[serde(default)]
    pub output: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write: u64,
    /// US dollars.
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

/// The key of the script's steps for `task` started as `role` (`task`, `review`, `verify`).
pub fn key(task: &str, role: &str) -> String {
    match role {
        "review" => format!("{task}/review"),
        _ => task.to_owned(),
    }
}

/// Plays the steps for `task`'s `attempt`, started as `role` (`WAVECREW_ROLE`), in `dir`;
/// returns the exit code.
pub fn play(script: &Script, task: &str, role: &str, attempt: u32, dir: &Path) -> std::io::Result<i32> {
    let key = key(task, role);
    // `*` stands for tasks, not for the agents that answer (a review, the verifier).
    let attempts = script.tasks.get(&key).or_else(|| if role == "task" { script.tasks.get("*") } else { None });
    let Some(attempts) = attempts.filter(|a| !a.is_empty()) else {
        println!("scripted agent: nothing to do for {key}");
        return Ok(0);
    };
    let index = (attempt.max(1) as usize - 1).min(attempts.len() - 1);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "scripted agent: {key}, attempt {attempt}")?;
    for step in &attempts[index] {
        match step {
            Step::Write { write, content } => {
                let path = dir.join(write);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, content)?;
                writeln!(stdout, "wrote {write}")?;
            }
            Step::Append { append, content } => {
                let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(append))?;
                file.write_all(content.as_bytes())?;
                writeln!(stdout, "appended to {append}")?;
            }
            Step::Remove { remove } => {
                std::fs::remove_file(dir.join(remove))?;
                writeln!(stdout, "removed {remove}")?;
            }
            Step::Say { say } => writeln!(stdout, "{say}")?,
            Step::Env { env } => match std::env::var(env) {
                Ok(value) => writeln!(stdout, "{env}={value}")?,
                Err(_) => writeln!(stdout, "{env} is unset")?,
            },
            Step::Flood { flood } => {
                let line = "flood flood flood flood flood flood flood flood flood flood flood flood\n";
                let mut left = *flood;
                while left > 0 {
                    let n = left.min(line.len() as u64) as usize;
                    stdout.write_all(&line.as_bytes()[..n])?;
                    left -= n as u64;
                }
            }
            Step::SleepMs { sleep_ms } => {
                stdout.flush()?;
                std::thread::sleep(Duration::from_millis(*sleep_ms));
            }
            Step::WaitFor { wait_for } => {
                stdout.flush()?;
                let path = dir.join(wait_for);
                let deadline = std::time::Instant::now() + Duration::from_secs(60);
                while !path.exists() {
                    if std::time::Instant::now() >= deadline {
                        writeln!(stdout, "scripted agent: {} never appeared", path.display())?;
                        return Ok(1);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Step::Hang { .. } => loop {
                stdout.flush()?;
                std::thread::sleep(Duration::from_secs(3600));
            },
            Step::Exit { exit } => return Ok(*exit),
            Step::Usage { usage } => {
                writeln!(stdout, "{}", serde_json::json!({ crate::agent::SCRIPTED_USAGE: usage }))?;
                stdout.flush()?;
            }
            Step::Limit { limit } => {
                if let Some(once) = &limit.once {
                    if Path::new(once).exists() {
                        continue;
                    }
                    std::fs::write(once, "")?;
                }
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let reset_ms = limit.reset_in_ms.map(|ms| now_ms.saturating_add(ms));
                let line =
                    serde_json::json!({ crate::agent::SCRIPTED_LIMIT: {"reason": limit.reason, "reset_ms": reset_ms} });
                writeln!(stdout, "{line}")?;
                return Ok(1);
            }
        }
    }
    Ok(0)
}
