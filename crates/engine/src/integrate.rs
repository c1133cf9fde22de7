//! The one landing path: every way a commit reaches the run branch goes through [`Landing`] (a
//! task's change, a gate's fix, a gate's verdict, a checkpoint's answer, a change approved after
//! a resume), one at a time, with a compare-and-swap of the branch. Next to it, the trailers
//! that mark the run's commits (`Wavecrew-Task`, `Wavecrew-Fix`, `Wavecrew-Run`): written by
//! [`message`], read back by [`Landing::landed_tasks`] (what `resume` trusts) and [`read_log`].

use crate::emitter::Emitter;
use crate::error::EngineError;
use crate::events::Event;
use crate::git::{Git, GitError, Merge};
use tokio::sync::Mutex;

/// What a run's commit is about: a task (`Wavecrew-Task`), or a gate's fix (`Wavecrew-Fix`),
/// which is not the gate's own commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trailer<'a> {
    Task(&'a str),
    Fix(&'a str),
}

/// A commit message of run `run`: `subject`, then the trailers that say what it is.
pub(crate) fn message(subject: &str, trailer: Trailer<'_>, run: &str) -> String {
    let (key, task) = match trailer {
        Trailer::Task(task) => ("Wavecrew-Task", task),
        Trailer::Fix(task) => ("Wavecrew-Fix", task),
    };
    format!("{subject}\n\n{key}: {task}\nWavecrew-Run: {run}\n")
}

/// The `git log` format whose entries [`read_log`] reads: each entry starts with `\x01`, then
/// the hash, the subject, the `Wavecrew-Task` and the `Wavecrew-Run` trailers, `\0`-separated.
pub(crate) const LOG_FORMAT: &str = "--format=%x01%H%x00%s%x00%(trailers:key=Wavecrew-Task,valueonly,separator=%x2C)%x00%(trailers:key=Wavecrew-Run,valueonly,separator=%x2C)";

/// One commit of a `git log` in [`LOG_FORMAT`] (with `--name-only`: its files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Logged {
    pub(crate) commit: String,
    pub(crate) subject: String,
    /// Its `Wavecrew-Task` trailer: empty for a gate's fix and commits not made by a run.
    pub(crate) task: String,
    pub(crate) run: String,
    pub(crate) files: Vec<String>,
}

/// The commits of a `git log` in [`LOG_FORMAT`], in the log's order.
pub(crate) fn read_log(log: &str) -> Vec<Logged> {
    log.split('\u{1}')
        .filter(|entry| !entry.trim().is_empty())
        .filter_map(|entry| {
            let mut parts = entry.splitn(4, '\0');
            let (commit, subject, task, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let mut lines = rest.lines();
            let run = lines.next().unwrap_or_default().trim().to_owned();
            let files = lines.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
            Some(Logged {
                commit: commit.trim().to_owned(),
                subject: subject.to_owned(),
                task: task.trim().to_owned(),
                run,
                files,
            })
        })
        .collect()
}

/// How putting a commit on the run branch came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Landed {
    /// This commit is now the branch's head.
    Committed(String),
    /// The change conflicts with what landed since its base, in these paths.
    Conflict(Vec<String>),
}

/// The run branch, and the lock that lets one commit at a time onto it.
pub(crate) struct Landing {
    repo: Git,
    branch: String,
    lock: Mutex<()>,
    /// The branch's head as the run last read or moved it. Only the run moves its branch, so this
    /// is the head but for someone moving it by hand: what is built on it lands with a
    /// compare-and-swap, which then fails, and the head is read again.
    known: std::sync::Mutex<Option<String>>,
}

impl Landing {
    pub(crate) fn new(repo: Git, branch: &str) -> Landing {
        Landing { repo, branch: branch.to_owned(), lock: Mutex::new(()), known: std::sync::Mutex::new(None) }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The run branch's head, read from git.
    pub(crate) async fn head(&self) -> Result<String, GitError> {
        let head = self.repo.rev_parse(&format!("refs/heads/{}", self.branch)).await?;
        *self.known() = Some(head.clone());
        Ok(head)
    }

    /// The run branch's head as the run last read or moved it (read from git the first time):
    /// the base of a task's attempt, without a `git rev-parse` each time.
    pub(crate) async fn base(&self) -> Result<String, GitError> {
        let known = self.known().clone();
        match known {
            Some(head) => Ok(head),
            None => self.head().await,
        }
    }

    /// Moves the branch from `old` to `new` if it is still at `old`.
    async fn swap(&self, new: &str, old: &str) -> Result<(), GitError> {
        self.repo.compare_and_swap(&self.branch, new, old).await?;
        *self.known() = Some(new.to_owned());
        Ok(())
    }

    /// Lands a task's `commit` (made on `base`, attempt `attempt`): journals `Integrating`,
    /// puts it on the branch ([`Landing::land`]) and journals `TaskCommitted` with the commit that
    /// landed; a conflict lands nothing.
    pub(crate) async fn task(
        &self,
        emitter: &Emitter,
        id: &str,
        attempt: u32,
        base: &str,
        commit: &str,
        message: &str,
    ) -> Result<Landed, EngineError> {
        let _one_at_a_time = self.lock.lock().await;
        emitter.emit(Event::Integrating { task: id.to_owned(), attempt, commit: commit.to_owned() })?;
        let landed = self.land(base, commit, message).await?;
        if let Landed::Committed(landed) = &landed {
            emitter.emit(Event::TaskCommitted {
                task: id.to_owned(),
                attempt,
                commit: landed.clone(),
                message: message.lines().next().unwrap_or_default().to_owned(),
            })?;
        }
        Ok(landed)
    }

    /// Lands a gate's fix of `round` (made on `base`): a conflict drops it, and the gate's next
    /// round checks the new head and finds what is left.
    pub(crate) async fn fix(
        &self,
        emitter: &Emitter,
        id: &str,
        round: u32,
        base: &str,
        commit: &str,
        message: &str,
    ) -> Result<(), EngineError> {
        let _one_at_a_time = self.lock.lock().await;
        if let Landed::Committed(commit) = self.land(base, commit, message).await? {
            emitter.emit(Event::GateFixCommitted { task: id.to_owned(), round, commit })?;
        }
        Ok(())
    }

    /// Lands a gate's verdict, `commit` made on `head` (the commit the gate checked): only
    /// while the branch is still there. `false` when something landed since: the verdict is
    /// about an older head, and the gate must check again.
    pub(crate) async fn verdict(
        &self,
        emitter: &Emitter,
        id: &str,
        round: u32,
        head: &str,
        commit: &str,
        subject: &str,
    ) -> Result<bool, EngineError> {
        let _one_at_a_time = self.lock.lock().await;
        if self.head().await? != head {
            return Ok(false);
        }
        emitter.emit(Event::Integrating { task: id.to_owned(), attempt: round, commit: commit.to_owned() })?;
        self.swap(commit, head).await?;
        emitter.emit(Event::TaskCommitted {
            task: id.to_owned(),
            attempt: round,
            commit: commit.to_owned(),
            message: subject.to_owned(),
        })?;
        Ok(true)
    }

    /// Moves the branch to `commit` (made on `base`): a compare-and-swap when the branch is
    /// still at `base`, else `commit` merged without checkout onto the branch's head. The caller
    /// holds the lock.
    async fn land(&self, base: &str, commit: &str, message: &str) -> Result<Landed, EngineError> {
        // The usual case, one git process: nothing landed since `base`, as far as the run knows,
        // and the swap proves it. When it fails (the branch was moved by hand), read the head.
        let known = self.known().clone();
        if known.as_deref() == Some(base) && self.swap(commit, base).await.is_ok() {
            return Ok(Landed::Committed(commit.to_owned()));
        }
        let head = self.head().await?;
        if head == base {
            self.swap(commit, base).await?;
            return Ok(Landed::Committed(commit.to_owned()));
        }
        Ok(match self.repo.merge_tree(base, &head, commit).await? {
            Merge::Clean(merged) => {
                let rebased = self.repo.commit_tree(&merged, &head, message).await?;
                self.swap(&rebased, &head).await?;
                Landed::Committed(rebased)
            }
            Merge::Conflict(paths) => Landed::Conflict(paths),
        })
    }

    /// The tasks of run `run` on the branch since `base`, `(task, commit)`, oldest first: git is
    /// the truth about what landed, whatever the journal heard before a crash.
    pub(crate) async fn landed_tasks(&self, base: &str, run: &str) -> Result<Vec<(String, String)>, GitError> {
        let range = format!("{base}..refs/heads/{}", self.branch);
        let log = self.repo.run(&["log", "--reverse", LOG_FORMAT, &range]).await?;
        Ok(read_log(&log)
            .into_iter()
            .filter(|c| c.run == run && !c.task.is_empty())
            .map(|c| (c.task, c.commit))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_trailers_the_log_reader_reads() {
        let task = message("feat(M1): add the room", Trailer::Task("1.2"), "20261203-1200-ab12");
        assert_eq!(task, "feat(M1): add the room\n\nWavecrew-Task: 1.2\nWavecrew-Run: 20261203-1200-ab12\n");
        let fix = message("fix(M1): gate (gate round 1)", Trailer::Fix("3.1"), "r");
        assert!(fix.ends_with("\n\nWavecrew-Fix: 3.1\nWavecrew-Run: r\n"), "{fix}");
        // What `git log --name-only` in LOG_FORMAT prints for a task's commit and a fix.
        let log = "\u{1}aaaa\0feat(M1): add the room\x001.2\0r\n\nsrc/a.rs\nsrc/b.rs\n\u{1}bbbb\0fix(M1): gate\0\0r\n";
        let read = read_log(log);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].task, "1.2");
        assert_eq!(read[0].files, ["src/a.rs", "src/b.rs"]);
        assert_eq!((read[1].task.as_str(), read[1].run.as_str()), ("", "r"));
    }
}
