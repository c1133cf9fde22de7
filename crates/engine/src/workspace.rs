//! [`Workspace`]: a repository wavecrew runs plans in (its work tree, git directory, journal and
//! worktrees folder), and the names derived from it: run ids, run branches, plan hashes.

use crate::error::EngineError;
use crate::events::RunState;
use crate::git::Git;
use crate::journal::{Journal, RunRecord, now_ms};
use crate::layout::RunLayout;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A repository wavecrew runs plans in: its work tree, its git directory and its journal.
pub struct Workspace {
    /// The top of the user's work tree.
    pub root: PathBuf,
    /// `<git dir>/wavecrew`: journal, run folders, worktrees.
    pub state_dir: PathBuf,
    /// The journal.
    pub journal: Arc<Journal>,
    /// `$XDG_STATE_HOME/wavecrew/worktrees/<repository>-<hash>`: the runs' worktrees.
    pub worktree_root: PathBuf,
    pub(crate) git: Git,
}

/// `$XDG_STATE_HOME/wavecrew/worktrees/<repository>-<hash>` for the repository at `root`
/// whose git directory is `common`.
fn worktree_root(root: &Path, common: &Path) -> PathBuf {
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "repo".into());
    let id: String = plan_hash(common.to_string_lossy().as_bytes()).chars().take(10).collect();
    let base = xdg_dir("XDG_STATE_HOME", ".local/state").unwrap_or_else(|| common.join("wavecrew"));
    base.join("worktrees").join(format!("{name}-{id}"))
}

impl Workspace {
    /// Opens the repository that holds `dir`.
    pub async fn open(dir: &Path) -> Result<Workspace, EngineError> {
        let probe = Git::new(dir);
        let root = probe.toplevel().await.map_err(|_| EngineError::NotARepo(dir.to_owned()))?;
        let git = Git::new(&root);
        let common = git.common_dir().await?;
        let state_dir = common.join("wavecrew");
        let journal = Arc::new(Journal::open(&state_dir.join("journal.sqlite"))?);
        let worktree_root = worktree_root(&root, &common);
        Ok(Workspace { root, state_dir, journal, worktree_root, git })
    }

    /// The worktrees folder of the repository that holds `dir` (see [`Workspace::worktree_root`]),
    /// found without opening (or making) its journal: for `run --dry-run`.
    pub async fn worktree_root_of(dir: &Path) -> Result<PathBuf, EngineError> {
        let root = Git::new(dir).toplevel().await.map_err(|_| EngineError::NotARepo(dir.to_owned()))?;
        let common = Git::new(&root).common_dir().await?;
        Ok(worktree_root(&root, &common))
    }

    /// The folder of a run: logs, prompts, reports.
    pub fn run_dir(&self, run: &str) -> PathBuf {
        self.layout(run).dir().to_owned()
    }

    /// The paths of a run's folder.
    pub fn layout(&self, run: &str) -> RunLayout {
        RunLayout::new(&self.state_dir, run)
    }

    /// Where a run's worktrees go: wavecrew's state folder, outside the repository's `.git`
    /// (agent CLIs refuse to edit files under a `.git` folder) and outside its work tree.
    pub fn worktrees_dir(&self, run: &str) -> PathBuf {
        self.worktree_root.join(run)
    }
    /// A run of this repository that is active: marked running, and its process alive.
    pub fn active_run(&self) -> Result<Option<RunRecord>, EngineError> {
        let me = std::process::id();
        Ok(self.journal.runs()?.into_iter().find(|r| r.state == RunState::Running && r.pid != me && pid_alive(r.pid)))
    }
}

/// wavecrew's folder of an XDG kind: `$<var>/wavecrew`, else `~/<fallback>/wavecrew`.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    let base = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(fallback)))?;
    Some(base.join("wavecrew"))
}

/// Whether process `pid` exists.
pub fn pid_alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

/// The branch a milestone's run works on: `wavecrew/<milestone>`, made safe for a ref name.
pub fn branch_name(milestone: &str) -> String {
    let safe: String = milestone
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    let safe = safe.trim_matches(['.', '-']).replace("..", ".");
    format!("wavecrew/{}", if safe.is_empty() { "plan" } else { &safe })
}

/// A new run id: UTC time and 4 hex digits, e.g. `20261127-041502-3f9a`.
pub(crate) fn new_run_id() -> String {
    let noise = (now_ms() as u32 ^ std::process::id().wrapping_mul(2_654_435_761)) & 0xffff;
    format!("{}-{noise:04x}", chrono::Utc::now().format("%Y%m%d-%H%M%S"))
}

/// SHA-256 of a plan's bytes, hex.
pub fn plan_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_safe_refs() {
        assert_eq!(branch_name("M3"), "wavecrew/M3");
        assert_eq!(branch_name("v2 beta/x"), "wavecrew/v2-beta-x");
        assert_eq!(branch_name("..lock.."), "wavecrew/lock");
        assert_eq!(branch_name("{}"), "wavecrew/plan");
    }

    #[test]
    fn run_ids_are_dated() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261127-041502-3f9a".len(), "{id}");
        assert!(id.starts_with("20"), "{id}");
    }
}
