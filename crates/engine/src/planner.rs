//! The planning agent of `wavecrew plan`: each round starts the agent in a worktree of HEAD
//! that it may read but not change (the sandbox lets it write only the draft's folder, its CLI's
//! own folders and a private `TMPDIR`), and reads back the draft it wrote. What a round asks
//! for, checking the draft and feeding the diagnostics back are the CLI's (`commands/plan.rs`).

use crate::agent::{Activity, Agent, AgentRole};
use crate::error::EngineError;
use crate::git::Git;
use crate::process;
use crate::sandbox::{self, Rules};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::layout::{PLAN_DIR, PLAN_DRAFT};

/// How a planning session runs.
pub struct Settings {
    /// The agent.
    pub agent: Arc<dyn Agent>,
    /// The model it runs on (`--model`, `[plan] model`), when one is named.
    pub model: Option<String>,
    /// Whether it is confined, the folders it may write besides its draft's, and the TCP ports
    /// it may reach (the run's `[sandbox]`).
    pub sandbox: sandbox::Settings,
    /// How long one round may take.
    pub timeout: Duration,
    /// Prices per million tokens in and out, by model id, for CLIs that report no cost.
    pub prices: HashMap<String, (f64, f64)>,
    /// Prices per million tokens read from and written to the prompt cache, by model id.
    pub cache_prices: HashMap<String, (f64, f64)>,
}

/// One planning session: its folder in the state folder, and the worktree of HEAD it reads.
pub struct Session {
    settings: Settings,
    repo: Git,
    dir: PathBuf,
    worktree: PathBuf,
}

/// What one round did.
#[derive(Debug)]
pub struct Round {
    /// How the agent's process ended.
    pub outcome: process::Outcome,
    /// The draft it left, when there is one.
    pub draft: Option<String>,
    /// Tokens it read and wrote, and what it cost when known.
    pub tokens_in: u64,
    /// Tokens it wrote.
    pub tokens_out: u64,
    /// Its cost in US dollars, when the CLI or the price table says.
    pub cost_usd: Option<f64>,
    /// Its log.
    pub log: PathBuf,
    /// What the sandbox refused it.
    pub denials: Vec<sandbox::Denial>,
}

impl Session {
    /// Opens a session of the repository at `root` whose prompts and logs go to the folder
    /// `dir`, with a detached worktree of HEAD at `worktree`: outside the repository's `.git`,
    /// like a run's ([`crate::workspace::Workspace::worktree_root_of`]), because agent CLIs
    /// refuse to write under a `.git` folder.
    pub async fn open(
        root: &Path,
        dir: PathBuf,
        worktree: PathBuf,
        settings: Settings,
    ) -> Result<Session, EngineError> {
        tokio::fs::create_dir_all(&dir).await?;
        if let Some(parent) = worktree.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let repo = Git::new(root);
        let path = worktree.to_string_lossy().into_owned();
        repo.run(&["worktree", "add", "--detach", "--force", &path, "HEAD"]).await?;
        tokio::fs::create_dir_all(worktree.join(PLAN_DIR)).await?;
        Ok(Session { settings, repo, dir, worktree })
    }

    /// The worktree the agent reads.
    pub fn worktree(&self) -> &Path {
        &self.worktree
    }

    /// Where the agent writes its draft (its prompt names this path).
    pub fn draft_path(&self) -> PathBuf {
        self.worktree.join(PLAN_DRAFT)
    }

    /// Round `round`: the agent gets `prompt` and writes (or rewrites) the draft. `on_activity`
    /// sees what it does as it does it; `cancel` turning true stops the agent's process group
    /// (the round's outcome then says `cancelled`).
    pub async fn round(
        &self,
        round: u32,
        prompt: &str,
        mut on_activity: impl FnMut(&Activity),
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Round, EngineError> {
        let prompt_file = self.dir.join(format!("prompt-{round}.md"));
        tokio::fs::write(&prompt_file, prompt).await?;
        let state = sandbox::State::of(self.settings.sandbox.mode, sandbox::support())
            .map_err(|error| EngineError::Io(std::io::Error::other(error.to_string())))?;
        let request = crate::agent::AgentRequest {
            task: "plan".into(),
            attempt: round,
            model: self.settings.model.clone(),
            prompt: prompt.to_owned(),
            prompt_file,
            worktree: self.worktree.clone(),
            skills: Vec::new(),
            verify_commands: Vec::new(),
            role: AgentRole::Plan,
            sandboxed: state.confines(),
        };
        let agent = &self.settings.agent;
        let command = agent.command(&request);
        let tmp = self.dir.join(format!("tmp-{round}"));
        tokio::fs::create_dir_all(&tmp).await?;
        let rules = state.confines().then(|| {
            // Only the draft's folder of the worktree: the agent reads the repository, it does
            // not change it.
            Rules::for_attempt(sandbox::Parts {
                worktree: &self.worktree.join(PLAN_DIR),
                tmp: &tmp,
                agent: agent.writable(&request),
                lane: Vec::new(),
                caches: sandbox::user_caches(),
                user: &self.settings.sandbox.writable,
                connect: self.settings.sandbox.connect.as_deref(),
            })
        });
        let inherit = command.inherited();
        let mut env = command.env;
        env.push(("TMPDIR".into(), tmp.to_string_lossy().into_owned()));
        let log = self.dir.join(format!("agent-{round}.log"));
        let spec = process::Spec {
            program: command.program.clone(),
            args: command.args,
            env,
            inherit: Some(inherit),
            cwd: self.worktree.clone(),
            timeout: self.settings.timeout,
            log: log.clone(),
            sandbox: rules.clone(),
        };
        let model_id = agent.model_id(request.model.as_deref());
        let mut usage = Usage::default();
        let outcome = process::run(
            &spec,
            |_| {},
            |line| {
                if let Some(activity) = agent.activity(line) {
                    usage.add(&activity, model_id.as_deref(), &self.settings);
                    on_activity(&activity);
                }
            },
            cancel,
        )
        .await;
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        let outcome = outcome.map_err(|error| {
            EngineError::Io(std::io::Error::other(format!(
                "the agent `{}` could not be started: {error}",
                command.program.display()
            )))
        })?;
        if outcome.success() {
            for activity in agent.finished(&request).unwrap_or_default() {
                usage.add(&activity, model_id.as_deref(), &self.settings);
                on_activity(&activity);
            }
        }
        let denials = match &rules {
            Some(rules) => sandbox::denials(&outcome.refusals, rules, &self.worktree, sandbox::user_may_write),
            None => Vec::new(),
        };
        let draft = tokio::fs::read_to_string(self.draft_path()).await.ok().filter(|text| !text.trim().is_empty());
        Ok(Round {
            outcome,
            draft,
            tokens_in: usage.tokens_in,
            tokens_out: usage.tokens_out,
            cost_usd: usage.cost_usd,
            log,
            denials,
        })
    }

    /// Ends the session: the worktree goes (the folder keeps the prompts and logs).
    pub async fn close(self) {
        let path = self.worktree.to_string_lossy().into_owned();
        if self.repo.run(&["worktree", "remove", "--force", &path]).await.is_err() {
            let _ = tokio::fs::remove_dir_all(&self.worktree).await;
            let _ = self.repo.run(&["worktree", "prune"]).await;
        }
    }
}

/// Tokens and cost of a round, summed as the run sums them.
#[derive(Default)]
struct Usage {
    tokens_in: u64,
    tokens_out: u64,
    cost_usd: Option<f64>,
}

impl Usage {
    fn add(&mut self, activity: &Activity, model_id: Option<&str>, settings: &Settings) {
        let Activity::Usage { input, output, cache_read, cache_write, cost_usd } = *activity else { return };
        self.tokens_in += input + cache_read + cache_write;
        self.tokens_out += output;
        let priced = cost_usd.or_else(|| {
            let tokens = crate::options::Tokens { input, output, cache_read, cache_write };
            crate::options::price(&settings.prices, &settings.cache_prices, model_id?, tokens)
        });
        if let Some(cost) = priced {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
    }
}
