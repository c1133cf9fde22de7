//! The lanes' worktrees: [`Pool`] lends them to tasks (at most one per task running at once),
//! [`prepare`] makes one a clean checkout of an attempt's base (made and provisioned the first
//! time, reset after, its setup run when its inputs changed), [`remove_all`] takes a run's away.

use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::Event;
use crate::git::Git;
use crate::process;
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;

/// Worktrees shared by the run's tasks: at most one per task running at once, so `-j`
/// bounds them (not the number of lanes). A task takes the worktree its lane used last when it
/// is free (its ignored build outputs are warm), else any free one, else a new one.
#[derive(Default)]
pub(crate) struct Pool {
    free: Mutex<Vec<(String, PathBuf)>>,
    made: std::sync::atomic::AtomicUsize,
}

impl Pool {
    pub(crate) async fn take(&self, lane: &str, dir: &Path) -> PathBuf {
        let mut free = self.free.lock().await;
        let index = free.iter().position(|(last, _)| last == lane).or(if free.is_empty() { None } else { Some(0) });
        match index {
            Some(index) => free.swap_remove(index).1,
            None => dir.join(format!("slot-{}", self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed))),
        }
    }

    pub(crate) async fn give_back(&self, lane: &str, worktree: PathBuf) {
        self.free.lock().await.push((lane.to_owned(), worktree));
    }
}

/// Makes `worktree` a clean checkout of `base`: created (and provisioned) the first time,
/// reset after; the setup command runs in a new worktree and again when its inputs changed.
/// Returns why the lane cannot be used, if it cannot (a failed setup): no agent starts then.
pub(crate) async fn prepare(
    env: &AttemptEnv,
    task: &str,
    lane: &str,
    worktree: &Path,
    base: &str,
) -> Result<Option<String>, EngineError> {
    let started = std::time::Instant::now();
    let provision = &env.options.provision;
    let mut detail = Vec::new();
    if worktree.join(".git").exists() {
        Git::new(worktree).reset_to(base).await?;
    } else {
        {
            let _one_at_a_time = env.lanes.add_worktree.lock().await;
            if let Some(parent) = worktree.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            env.repo.add_worktree(worktree, base).await?;
        }
        env.lanes.setup_done.lock().await.remove(worktree);
        let seeded = if provision.files.is_empty() { None } else { Some(provision.seed(&env.root, worktree).await?) };
        detail.extend(provision.seeded(seeded.as_ref()));
    }
    // A pooled worktree may have served another lane: it takes this lane's variables.
    provision.link_lane_target(&env.lanes.dir, lane, worktree)?;
    let lane_env = provision.lane_env(&env.lanes.dir, lane);
    if let Some((_, dir)) = lane_env.iter().find(|(name, _)| name == "CARGO_TARGET_DIR")
        && env.env_in(worktree) != lane_env
    {
        detail.push(format!("CARGO_TARGET_DIR is {dir}"));
    }
    env.lanes.set_env(worktree, lane_env);
    if let Some(setup) = &provision.setup {
        let hash = provision.inputs_hash(worktree);
        let done = env.lanes.setup_done.lock().await.get(worktree) == Some(&hash);
        if !done {
            let slot = worktree.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let log = env.layout.setup_log(&slot, task);
            let spec = process::Spec::shell(setup, worktree, env.env_in(worktree), env.options.setup_timeout, log);
            let result = process::run(&spec, |_| {}, |_| {}, env.cancel.clone()).await?;
            if !result.success() {
                let why = result.ended();
                return Ok(Some(format!(
                    "setup `{setup}` {why} in lane {lane}, so no agent was started\n{}",
                    result.tail
                )));
            }
            env.lanes.setup_done.lock().await.insert(worktree.to_owned(), hash);
            detail.push(format!("ran setup `{setup}` ({:.1}s)", result.duration.as_secs_f64()));
        }
    }
    if !detail.is_empty() {
        env.emitter.emit(Event::LanePrepared {
            task: task.to_owned(),
            lane: lane.to_owned(),
            detail: detail.join("; "),
            duration_ms: started.elapsed().as_millis() as u64,
        })?;
    }
    Ok(None)
}

/// Removes a run's worktrees (their folders at once, in parallel) and lets git forget them.
pub(crate) async fn remove_all(repo: &Git, dir: &Path) {
    let mut removals = tokio::task::JoinSet::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            removals.spawn(async move { tokio::fs::remove_dir_all(entry.path()).await });
        }
    }
    while removals.join_next().await.is_some() {}
    let _ = tokio::fs::remove_dir_all(dir).await;
    let _ = repo.prune_worktrees().await;
}
