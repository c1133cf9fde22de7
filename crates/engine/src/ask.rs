//! Asking the run's agent for an answer in JSON about the run's change (a gate's review, the
//! verifier of the truths): the change as its prompt shows it, the answer file read safely and
//! kept in the run's folder, and the cited files' line counts that the answer is checked against.

use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::git::Git;
use crate::launch::{Launch, start_agent};
use std::collections::HashMap;
use std::path::Path;

/// What an agent asked for an answer left.
pub(crate) enum Answered {
    /// The answer file's text.
    Text(String),
    /// Why there is none, as a predicate of the agent: `wrote nothing to …`, `did not finish: …`.
    Not(String),
    /// The agent ended on its account's usage or rate limit: the call does not count, the
    /// caller holds and asks again (or fails as limited, with `--on-limit fail`).
    Limited(crate::limits::Limit),
}

/// Starts the agent of `launch`, whose prompt asks for an answer in `answer_path` (relative to
/// `worktree`), and reads the answer. The answer is kept in the run's folder
/// (`answers/<launch name>.json`); the worktree is reset to `head` afterwards, so that nothing the
/// agent changed stays. [`EngineError::Cancelled`] when the run was cancelled.
pub(crate) async fn ask_for_answer(
    env: &AttemptEnv,
    worktree: &Path,
    head: &str,
    answer_path: &str,
    launch: Launch,
) -> Result<Answered, EngineError> {
    let answer_file = worktree.join(answer_path);
    // An answer left from an earlier round (an ignored file survives a reset) must not count.
    let _ = tokio::fs::remove_file(&answer_file).await;
    if let Some(parent) = answer_file.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let name = launch.name.clone();
    let ended = start_agent(env, worktree, launch).await;
    let read = read_answer(&answer_file).await;
    Git::new(worktree).reset_to(head).await?;
    let _ = tokio::fs::remove_file(&answer_file).await;
    if let Err(reason) = ended? {
        if let Some(limit) = env.agent.limit(&reason) {
            return Ok(Answered::Limited(limit));
        }
        return Ok(Answered::Not(format!("did not finish: {}", reason.trim_end())));
    }
    Ok(match read {
        Ok(Some(text)) => {
            let kept = env.layout.answers().join(format!("{name}.json"));
            tokio::fs::create_dir_all(env.layout.answers()).await?;
            tokio::fs::write(&kept, &text).await?;
            Answered::Text(text)
        }
        Ok(None) => Answered::Not(format!("wrote nothing to `{answer_path}`")),
        Err(why) => Answered::Not(format!("left `{answer_path}`, which cannot be read: {why}")),
    })
}

/// The text of an answer file: `None` when there is none; an error when it is not a regular file
/// or too large to be an answer.
async fn read_answer(path: &Path) -> Result<Option<String>, String> {
    let metadata = match tokio::fs::symlink_metadata(path).await {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    if !metadata.is_file() {
        return Err("it is not a regular file".into());
    }
    if metadata.len() > evidence::review::MAX_ANSWER_BYTES as u64 {
        return Err(format!("it is larger than {} KiB", evidence::review::MAX_ANSWER_BYTES >> 10));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// The run's change `base..head` for an agent's prompt: its `git diff --stat`, and its diff cut
/// to [`crate::prompt::DIFF_EXCERPT_BYTES`] with the lines that hold a secret redacted.
pub(crate) async fn change_for_prompt(
    worktree: &Path,
    base: &str,
    head: &str,
) -> Result<(String, String), EngineError> {
    let git = Git::new(worktree);
    let stat = git.run(&["diff", "--stat", "--no-color", base, head]).await?;
    let diff = git.run(&["diff", "--no-color", "--no-ext-diff", base, head]).await?;
    Ok((stat, crate::prompt::prompt_excerpt(&diff, crate::prompt::DIFF_EXCERPT_BYTES)))
}

/// Files cited as evidence whose lines are counted, at most.
const MAX_CITED_FILES: usize = 200;

/// The number of lines of each of `paths` at `commit`; paths that are not files there are left
/// out.
pub(crate) async fn line_counts(
    repo: &Git,
    commit: &str,
    paths: &std::collections::BTreeSet<String>,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for path in paths.iter().take(MAX_CITED_FILES) {
        if let Ok(text) = repo.run(&["cat-file", "blob", &format!("{commit}:{path}")]).await {
            // `run` drops the final newline: a text of n lines has n - 1 newlines left.
            counts.insert(path.clone(), if text.is_empty() { 0 } else { text.matches('\n').count() + 1 });
        }
    }
    counts
}
