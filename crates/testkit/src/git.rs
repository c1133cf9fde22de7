//! git, as the tests read what a run left in a repository: the run branch's head, its commits
//! with their `Wavecrew-Task` trailers, the files and contents of a revision.

use std::path::Path;
use std::process::Command;

/// `git -C dir ARGS`; its stdout without the final newline. Panics (failing the test) with
/// git's stderr when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("git prints UTF-8").trim_end().to_owned()
}

/// The commit `rev` (a branch, `HEAD`, …) names.
pub fn head(dir: &Path, rev: &str) -> String {
    git(dir, &["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
}

/// The commits of `range` (`main..wavecrew/M1`), oldest first, as (`Wavecrew-Task` trailer,
/// subject); the trailer is empty on commits without one.
pub fn commits(dir: &Path, range: &str) -> Vec<(String, String)> {
    let log =
        git(dir, &["log", "--reverse", "--format=%(trailers:key=Wavecrew-Task,valueonly,separator=%x2C)%x00%s", range]);
    log.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (task, subject) = l.split_once('\0').unwrap_or(("", l));
            (task.trim().to_owned(), subject.to_owned())
        })
        .collect()
}

/// The values of trailer `key` (`Wavecrew-Task`) of commit `rev`.
pub fn trailers(dir: &Path, rev: &str, key: &str) -> Vec<String> {
    let format = format!("--format=%(trailers:key={key},valueonly)");
    git(dir, &["log", "-1", &format, rev]).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The files of revision `rev`'s tree.
pub fn files(dir: &Path, rev: &str) -> Vec<String> {
    git(dir, &["ls-tree", "-r", "--name-only", rev]).lines().map(str::to_owned).collect()
}

/// The files commit `rev` changed.
pub fn changed(dir: &Path, rev: &str) -> Vec<String> {
    git(dir, &["diff-tree", "--no-commit-id", "--name-only", "-r", "--root", rev]).lines().map(str::to_owned).collect()
}

/// The content of `path` in revision `rev` (without its final newline).
pub fn show(dir: &Path, rev: &str, path: &str) -> String {
    git(dir, &["show", &format!("{rev}:{path}")])
}
