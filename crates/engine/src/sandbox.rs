//! The sandbox of an attempt (Linux Landlock): its agent and Verify commands may read and run
//! everything, but write only to the attempt's worktree, its private `TMPDIR`, the agent CLI's
//! own state folders, the toolchains' caches and the folders the user adds (`[sandbox]
//! writable`). The run's journal, the user's work tree, other lanes' worktrees and the rest of
//! the home folder stay read-only to them.
//!
//! [`Rules`] is the list of writable paths (built by [`Rules::for_attempt`], a pure choice);
//! [`confine`] turns it into a Landlock ruleset before the fork and applies it in the child
//! right before `exec`, so the process is confined from its first instruction, and so is
//! everything it starts. On by default ([`Mode::Landlock`]): every real agent CLI's end-to-end
//! test passes confined. docs/sandbox.md says what is allowed and how to widen it.

use landlock::{
    ABI, Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, RulesetStatus,
};
use std::path::{Path, PathBuf};

/// The Landlock ABI whose filesystem rights wavecrew handles (v5: every filesystem right up to
/// `ioctl` on devices). A kernel that knows fewer enforces those it knows (best effort).
const FS_ABI: ABI = ABI::V5;

/// The first Landlock ABI with TCP port rules (`[sandbox] connect`).
pub const NET_ABI: i32 = 4;

/// Whether attempts run in a sandbox (`[sandbox] mode`, `--sandbox`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No sandbox: agents and Verify commands run with the user's rights.
    Off,
    /// Landlock where the kernel offers it; where it does not, a warning and no sandbox. The
    /// default.
    #[default]
    Landlock,
    /// Landlock, and a run does not start where the kernel does not offer it.
    Required,
}

impl Mode {
    /// The mode spelled `text` (`off`, `landlock`, `required`).
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "off" => Some(Mode::Off),
            "landlock" => Some(Mode::Landlock),
            "required" => Some(Mode::Required),
            _ => None,
        }
    }

    /// Its spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Landlock => "landlock",
            Mode::Required => "required",
        }
    }
}

/// The sandbox a run was started with (the run record keeps it, so `resume` goes on with it).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Whether attempts run sandboxed.
    pub mode: Mode,
    /// More paths agents may write to, absolute (checked by [`check_writable`]).
    pub writable: Vec<PathBuf>,
    /// The only TCP ports agents and Verify commands may connect to (`[sandbox] connect`);
    /// `None` leaves the network alone. Needs Landlock ABI [`NET_ABI`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<Vec<u16>>,
}

/// Whether this machine's kernel can sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// Landlock is there, at this ABI version.
    Available {
        /// The kernel's Landlock ABI.
        abi: i32,
    },
    /// It is not, for this reason.
    Unavailable(String),
}

/// Asks the kernel whether it offers Landlock, and at which ABI.
pub fn support() -> Support {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: with this flag and no attributes the call only returns the ABI version (or an
    // error); it touches no memory of ours.
    #[allow(unsafe_code)]
    let abi = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if abi > 0 {
        return Support::Available { abi: abi as i32 };
    }
    Support::Unavailable(match std::io::Error::last_os_error().raw_os_error() {
        Some(nix::libc::EOPNOTSUPP) => {
            "the kernel has Landlock but it is not enabled (add `landlock` to the `lsm=` boot parameter)".to_owned()
        }
        _ => "the kernel has no Landlock (it needs Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK)".to_owned(),
    })
}

/// What the sandbox does for a run, given its mode and the machine: `wavecrew agents` shows it,
/// and a run decides with it whether its attempts are confined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// `--sandbox off`.
    Off,
    /// Attempts are confined (Landlock at this ABI).
    On {
        /// The kernel's Landlock ABI.
        abi: i32,
    },
    /// The sandbox was asked for where the kernel cannot give it: attempts run unconfined.
    Unavailable {
        /// Why it cannot apply.
        reason: String,
    },
}

impl State {
    /// The state for `mode` on a machine with `support`; `--sandbox required` without support
    /// is an error.
    pub fn of(mode: Mode, support: Support) -> Result<State, SandboxError> {
        match (mode, support) {
            (Mode::Off, _) => Ok(State::Off),
            (_, Support::Available { abi }) => Ok(State::On { abi }),
            (Mode::Landlock, Support::Unavailable(reason)) => Ok(State::Unavailable { reason }),
            (Mode::Required, Support::Unavailable(reason)) => Err(SandboxError::Unavailable { reason }),
        }
    }

    /// Whether attempts are confined.
    pub fn confines(&self) -> bool {
        matches!(self, State::On { .. })
    }

    /// One line for people: `on (Landlock ABI 7)`, `off`, `unavailable: <why>`.
    pub fn describe(&self) -> String {
        match self {
            State::Off => "off".to_owned(),
            State::On { abi } => format!("on (Landlock ABI {abi})"),
            State::Unavailable { reason } => format!("unavailable, agents run unconfined: {reason}"),
        }
    }
}

/// Why the sandbox cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// `--sandbox required` where the kernel has no Landlock.
    #[error(
        "the sandbox is required but cannot apply here: {reason}\nhint: run with `--sandbox off` to run agents unconfined"
    )]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// A `[sandbox] writable` entry that cannot be used.
    #[error("`[sandbox] writable` entry `{entry}`: {problem}")]
    Writable {
        /// The entry as written.
        entry: String,
        /// What is wrong with it and how to fix it.
        problem: String,
    },
    /// A `[sandbox] connect` entry that is no port.
    #[error("`[sandbox] connect`: {problem}")]
    Connect {
        /// What is wrong.
        problem: String,
    },
    /// A writable path that cannot be opened for its rule.
    #[error("the sandbox cannot open {}: {source}", path.display())]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        source: landlock::PathFdError,
    },
    /// The kernel refused the ruleset.
    #[error("the sandbox's rules could not be made: {0}")]
    Ruleset(#[from] landlock::RulesetError),
}

/// A `[sandbox] writable` entry made a path: `~/` is the home folder, a relative path is
/// resolved against the repository `root` (the second value says so, for the user). A path
/// that does not exist is an error (the sandbox does not create folders), and so are `/` and
/// the home folder itself, which would leave nothing confined.
pub fn check_writable(
    entry: &str,
    root: &Path,
    home: Option<&Path>,
) -> Result<(PathBuf, Option<String>), SandboxError> {
    let problem = |problem: String| SandboxError::Writable { entry: entry.to_owned(), problem };
    let (path, note) = match (entry.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => (home.join(rest), None),
        (Some(_), None) => return Err(problem("`~` is the home folder, but HOME is not set".into())),
        (None, _) if entry == "~" => (home.map(Path::to_owned).unwrap_or_default(), None),
        (None, _) if Path::new(entry).is_absolute() => (PathBuf::from(entry), None),
        (None, _) => {
            let path = root.join(entry);
            let note = format!("`[sandbox] writable` entry `{entry}` is relative: it means {}", path.display());
            (path, Some(note))
        }
    };
    let path = std::fs::canonicalize(&path).map_err(|error| {
        problem(format!(
            "{} cannot be used ({error}); the sandbox does not create folders: create it, or remove the entry",
            path.display()
        ))
    })?;
    let home = home.and_then(|home| std::fs::canonicalize(home).ok());
    if path == Path::new("/") || home.as_deref() == Some(path.as_path()) {
        return Err(problem(format!(
            "{} would let agents write almost anywhere, which leaves nothing sandboxed; name the folders inside it, or use `--sandbox off`",
            path.display()
        )));
    }
    Ok((path, note))
}

/// `[sandbox] connect` checked: every entry a port (1 to 65535; port 0 is no port a program
/// connects to), each once, in order.
pub fn check_connect(ports: &[i64]) -> Result<Vec<u16>, SandboxError> {
    let mut checked: Vec<u16> = Vec::new();
    for &port in ports {
        let port = u16::try_from(port).ok().filter(|port| *port > 0).ok_or_else(|| SandboxError::Connect {
            problem: format!("{port} is not a TCP port: ports go from 1 to 65535"),
        })?;
        if !checked.contains(&port) {
            checked.push(port);
        }
    }
    Ok(checked)
}

/// What a confined process that failed is told when the sandbox refused it something: which
/// setting would allow it. `denials` are what [`denials`] read from its output (the first of
/// each kind is named); without any, a refusal the `output` shows still gets the general hint.
/// `None` when nothing was refused.
pub fn denial_hint(denials: &[Denial], output: &str) -> Option<String> {
    use crate::events::SandboxOperation;
    let write = denials.iter().find(|d| d.operation == SandboxOperation::Write);
    let connect = denials.iter().find(|d| d.operation == SandboxOperation::Connect);
    let mut hints = Vec::new();
    if let Some(write) = write {
        hints.push(format!(
            "hint: the sandbox refused a write to {}: agents write only in their worktree and the folders \
             docs/sandbox.md lists; if the task must write there, add its folder to `[sandbox] writable` in \
             wavecrew.toml, or run with `--sandbox off`",
            write.path
        ));
    }
    if let Some(connect) = connect {
        let to = if connect.path.is_empty() { String::new() } else { format!(" to {}", connect.path) };
        hints.push(format!(
            "hint: the sandbox refused a TCP connect{to}: add its port to `[sandbox] connect` in wavecrew.toml, or \
             remove that setting to leave the network alone"
        ));
    }
    if hints.is_empty() && shows_refusal(output) {
        hints.push(
            "hint: the sandbox lets it write only in its worktree and the folders docs/sandbox.md lists; if the task \
             must write elsewhere, add that folder to `[sandbox] writable` in wavecrew.toml, or run with `--sandbox off`"
                .to_owned(),
        );
    }
    (!hints.is_empty()).then(|| hints.join("\n"))
}

/// How many refusal lines of one process's output [`crate::process::run`] keeps.
pub const REFUSALS_KEPT: usize = 32;

/// The error texts of a refused operation: Landlock refuses with EACCES (some calls, EPERM or
/// EXDEV for a rename out of a writable folder); each runtime words it its own way.
const REFUSED: [&str; 6] =
    ["Permission denied", "permission denied", "EACCES", "EPERM", "Operation not permitted", "EXDEV"];

/// Whether an output line shows a refused operation: what [`crate::process::run`] keeps of a
/// sandboxed process's output, for [`denials`].
pub fn shows_refusal(line: &str) -> bool {
    REFUSED.iter().any(|refused| line.contains(refused))
}

/// An operation the sandbox refused, as a process's output shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// A write or a connect.
    pub operation: crate::events::SandboxOperation,
    /// The path it tried to write, or the `host:port` it tried to reach (`port N` when the
    /// output names no host; empty when it names neither).
    pub path: String,
}

/// The denials that `lines` (the refusal lines of a process confined by `rules`, see
/// [`shows_refusal`]) show: a refused write (a relative `./x` or `../x` is resolved against
/// the process's `cwd`) to a path outside the writable folders, and, when
/// `rules` restrict connects, a refused TCP connect. The path a line names nearest to its
/// error text counts (`sh: cannot create /home/u/x: Permission denied`, `EACCES: permission
/// denied, mkdir '/home/u/.local'`). A write the user's own rights would refuse too
/// (`user_may_write` says no) is not the sandbox's doing, and neither is a path inside a
/// writable folder. Each denial once, in the order of the output.
pub fn denials(lines: &[String], rules: &Rules, cwd: &Path, user_may_write: impl Fn(&Path) -> bool) -> Vec<Denial> {
    use crate::events::SandboxOperation;
    static PATH: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r#"(?:^|[\s'"`(\[=,])(\.{0,2}/[^\s'"`:,;()\[\]\\]+)"#).unwrap());
    static TCP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"/dev/tcp/([^/\s]+)/(\d+)|(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):(\d+)")
            .unwrap()
    });
    static ATOMIC: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\.tmp[.-]\d+[.-][0-9a-f]{6,}$").unwrap());
    let mut found: Vec<Denial> = Vec::new();
    for line in lines {
        // An output line of an agent CLI is often JSON: its `\n` are lines of the tool's output.
        for line in line.split("\\n") {
            let Some(at) = REFUSED.iter().filter_map(|refused| line.find(refused)).min() else { continue };
            let connect = line.to_ascii_lowercase().contains("connect") || line.contains("/dev/tcp/");
            let denial = if connect {
                if rules.connect.is_none() {
                    continue;
                }
                let path = TCP.captures(line).map_or_else(String::new, |found| match (found.get(1), found.get(3)) {
                    (Some(host), _) => format!("{}:{}", host.as_str(), &found[2]),
                    (None, Some(host)) => format!("{}:{}", host.as_str(), &found[4]),
                    (None, None) => String::new(),
                });
                Denial { operation: SandboxOperation::Connect, path }
            } else {
                let nearest = PATH
                    .captures_iter(line)
                    .filter_map(|found| found.get(1))
                    .map(|path| (path.start().abs_diff(at).min(path.end().abs_diff(at)), absolute(cwd, path.as_str())))
                    .filter(|(_, path)| {
                        !rules.writable.iter().any(|writable| path.starts_with(writable)) && user_may_write(path)
                    })
                    .min_by_key(|(distance, _)| *distance);
                let Some((_, path)) = nearest else { continue };
                let path = path.to_string_lossy();
                // Atomic writes go through a temporary sibling (`x.txt.tmp.<pid>.<hex>`, as
                // Claude Code's Write tool does): the file meant is the one named.
                let path = ATOMIC.replace(path.trim_end_matches('.'), "").into_owned();
                Denial { operation: SandboxOperation::Write, path }
            };
            if !found.contains(&denial) {
                found.push(denial);
            }
        }
    }
    found
}

/// `path` made absolute against `cwd`, `.` and `..` taken out as written (the path need not
/// exist).
fn absolute(cwd: &Path, path: &str) -> PathBuf {
    use std::path::Component;
    let mut made = PathBuf::new();
    for part in cwd.join(path).components() {
        match part {
            Component::ParentDir => {
                made.pop();
            }
            Component::CurDir => {}
            other => made.push(other),
        }
    }
    made
}

/// Whether the user could write `path` without the sandbox: the nearest folder that exists on
/// its way lets them (a refusal those rights give too is not the sandbox's).
pub fn user_may_write(path: &Path) -> bool {
    let existing = path.ancestors().find(|ancestor| ancestor.exists());
    existing.is_some_and(|existing| nix::unistd::access(existing, nix::unistd::AccessFlags::W_OK).is_ok())
}

/// The toolchains' caches agents and Verify commands write to (package downloads, compiler
/// caches), in the home folder `home`; `var` reads the environment. Missing ones are left out
/// by [`Rules`].
pub fn caches(home: &Path, var: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let cache = var("XDG_CACHE_HOME").map_or_else(|| home.join(".cache"), PathBuf::from);
    vec![cache, home.join(".npm")]
}

/// [`caches`] of the user's home folder (`HOME`, `XDG_CACHE_HOME`); none without a home.
pub fn user_caches() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    home.map(|home| caches(&home, |var| std::env::var(var).ok())).unwrap_or_default()
}

/// The paths an attempt's processes may write to; reading and running stays allowed
/// everywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    writable: Vec<PathBuf>,
    connect: Option<Vec<u16>>,
}

/// What an attempt's rules are made of.
pub struct Parts<'a> {
    /// The attempt's worktree (and, through its `.git` file, what git writes for it: see
    /// [`git_dirs`]).
    pub worktree: &'a Path,
    /// Its private temporary folder.
    pub tmp: &'a Path,
    /// The agent CLI's state folders and files ([`crate::agent::Agent::writable`]).
    pub agent: Vec<PathBuf>,
    /// The lane's own folders outside the worktree (its `CARGO_TARGET_DIR`).
    pub lane: Vec<PathBuf>,
    /// The toolchains' caches ([`caches`]).
    pub caches: Vec<PathBuf>,
    /// `[sandbox] writable`.
    pub user: &'a [PathBuf],
    /// `[sandbox] connect`.
    pub connect: Option<&'a [u16]>,
}

impl Rules {
    /// The rules of one attempt: its worktree, the worktree's own git folder, its temporary
    /// folder, `/dev` (terminals, `/dev/null`), and the other parts; paths that do not exist are
    /// left out.
    pub fn for_attempt(parts: Parts<'_>) -> Rules {
        let git_dirs = git_dirs(parts.worktree);
        let fixed = [parts.worktree.to_owned(), parts.tmp.to_owned(), PathBuf::from("/dev")];
        let all = fixed.into_iter().chain(git_dirs).chain(parts.agent).chain(parts.lane).chain(parts.caches);
        let rules = Rules::new(all.chain(parts.user.iter().cloned()), |path| path.exists());
        Rules { connect: parts.connect.map(<[u16]>::to_vec), ..rules }
    }

    /// Rules allowing writes under `candidates` that `exists` says are there (absolute paths
    /// only; one beneath another adds nothing and is left out).
    pub fn new(candidates: impl IntoIterator<Item = PathBuf>, exists: impl Fn(&Path) -> bool) -> Rules {
        let mut paths: Vec<PathBuf> = candidates.into_iter().filter(|p| p.is_absolute() && exists(p)).collect();
        paths.sort();
        paths.dedup();
        let mut writable: Vec<PathBuf> = Vec::new();
        for path in paths {
            if !writable.iter().any(|kept| path.starts_with(kept)) {
                writable.push(path);
            }
        }
        Rules { writable, connect: None }
    }

    /// The paths processes may write to.
    pub fn writable(&self) -> &[PathBuf] {
        &self.writable
    }

    /// The only TCP ports processes may connect to, when they are restricted.
    pub fn connect(&self) -> Option<&[u16]> {
        self.connect.as_deref()
    }

    /// The Landlock ruleset: every filesystem right handled, reading and running allowed
    /// beneath `/`, everything allowed beneath each writable path (a file gets a file's rights);
    /// with `connect`, TCP connects handled too and allowed to those ports only (a kernel
    /// below [`NET_ABI`] leaves them unrestricted: the run warns about it when it starts).
    fn ruleset(&self) -> Result<RulesetCreated, SandboxError> {
        let all = AccessFs::from_all(FS_ABI);
        let open =
            |path: &Path| PathFd::new(path).map_err(|source| SandboxError::Path { path: path.to_owned(), source });
        let mut ruleset = Ruleset::default().handle_access(all)?;
        if self.connect.is_some() {
            ruleset = ruleset.handle_access(AccessNet::ConnectTcp)?;
        }
        let mut ruleset =
            ruleset.create()?.add_rule(PathBeneath::new(open(Path::new("/"))?, AccessFs::from_read(FS_ABI)))?;
        for path in &self.writable {
            ruleset = ruleset.add_rule(PathBeneath::new(open(path)?, all))?;
        }
        for &port in self.connect.iter().flatten() {
            ruleset = ruleset.add_rule(NetPort::new(port, AccessNet::ConnectTcp))?;
        }
        Ok(ruleset)
    }
}

/// What git writes for a linked worktree: its own folder in the repository's git folder
/// (`.git/worktrees/<name>`, named by its `.git` file: its index and HEAD), and the repository's
/// object store (`git add` writes blobs there; the run's commits are made from them). The rest
/// of the git folder (refs, config, hooks, wavecrew's journal) stays read-only.
fn git_dirs(worktree: &Path) -> Vec<PathBuf> {
    let absolute = |base: &Path, path: &str| {
        let path = PathBuf::from(path.trim());
        if path.is_absolute() { path } else { base.join(path) }
    };
    let Some(own) = std::fs::read_to_string(worktree.join(".git"))
        .ok()
        .and_then(|text| text.strip_prefix("gitdir:").map(|dir| absolute(worktree, dir)))
    else {
        return Vec::new();
    };
    let common = std::fs::read_to_string(own.join("commondir")).ok().map(|dir| absolute(&own, &dir));
    let objects = common.and_then(|dir| std::fs::canonicalize(dir.join("objects")).ok());
    [Some(own)].into_iter().chain([objects]).flatten().collect()
}

/// Makes `command` start confined by `rules`: the ruleset is built here, before the fork (a
/// child between fork and exec may not allocate or lock), and only applied in the child. A
/// child that cannot be confined is not started: the spawn fails.
pub(crate) fn confine(command: &mut tokio::process::Command, rules: &Rules) -> Result<(), SandboxError> {
    let mut ruleset = Some(rules.ruleset()?);
    let refuse = || std::io::Error::from_raw_os_error(nix::libc::EPERM);
    // SAFETY: the hook runs in the child between fork and exec. It takes the ruleset built
    // before the fork and makes two system calls (prctl(PR_SET_NO_NEW_PRIVS) and
    // landlock_restrict_self); it allocates nothing and takes no lock.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            // A second spawn of the same command would find no ruleset: it is refused, never
            // run unconfined.
            let status = ruleset.take().ok_or_else(refuse)?.restrict_self().map_err(|_| refuse())?;
            if status.ruleset == RulesetStatus::NotEnforced {
                return Err(refuse());
            }
            Ok(())
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Spec, run};
    use std::time::Duration;

    fn rules(paths: &[&str], existing: &[&str]) -> Vec<PathBuf> {
        let existing: Vec<PathBuf> = existing.iter().map(PathBuf::from).collect();
        Rules::new(paths.iter().map(PathBuf::from), |p| existing.iter().any(|e| e == p)).writable().to_vec()
    }

    #[test]
    fn only_existing_absolute_paths_are_writable_and_nested_ones_fold_into_their_parent() {
        let all = ["/w/slot-0", "/w/slot-0/target", "/home/u/.claude", "/home/u/.codex", "relative", "/dev"];
        let existing = ["/w/slot-0", "/w/slot-0/target", "/home/u/.claude", "/dev", "relative"];
        assert_eq!(
            rules(&all, &existing),
            [PathBuf::from("/dev"), PathBuf::from("/home/u/.claude"), PathBuf::from("/w/slot-0")]
        );
        // A sibling whose name starts like a kept path is not beneath it.
        assert_eq!(rules(&["/w/slot-1", "/w/slot-10"], &["/w/slot-1", "/w/slot-10"]).len(), 2);
    }

    #[test]
    fn an_attempt_may_write_its_worktree_its_git_folder_its_tmp_and_what_its_parts_name() {
        let dir = tempfile::tempdir().unwrap();
        let (worktree, tmp, admin) =
            (dir.path().join("wt"), dir.path().join("tmp"), dir.path().join("repo/.git/worktrees/wt"));
        for folder in [&worktree, &tmp, &admin, &dir.path().join("home/.claude"), &dir.path().join("extra")] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(worktree.join(".git"), format!("gitdir: {}\n", admin.display())).unwrap();
        std::fs::write(admin.join("commondir"), "../..\n").unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git/objects")).unwrap();
        let user = [dir.path().join("extra")];
        let rules = Rules::for_attempt(Parts {
            worktree: &worktree,
            tmp: &tmp,
            agent: vec![dir.path().join("home/.claude"), dir.path().join("home/.gemini")],
            lane: vec![],
            caches: caches(&dir.path().join("home"), |_| None),
            user: &user,
            connect: None,
        });
        let mut expected = vec![
            PathBuf::from("/dev"),
            admin,
            dir.path().join("repo/.git/objects").canonicalize().unwrap(),
            dir.path().join("extra"),
            dir.path().join("home/.claude"),
            tmp,
            worktree,
        ];
        expected.sort();
        assert_eq!(rules.writable(), expected, "no missing folder (.gemini, .cache), never the home folder itself");
    }

    #[test]
    fn writable_entries_are_resolved_and_the_meaningless_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (root, home) = (dir.path().join("repo"), dir.path().join("home"));
        std::fs::create_dir_all(root.join("build")).unwrap();
        std::fs::create_dir_all(home.join(".m2")).unwrap();
        let check = |entry: &str| check_writable(entry, &root, Some(&home));

        let (path, note) = check("build").unwrap();
        assert_eq!(path, root.join("build").canonicalize().unwrap());
        assert!(note.unwrap().contains("is relative: it means"), "a relative entry says what it was resolved to");
        assert_eq!(check("~/.m2").unwrap(), (home.join(".m2").canonicalize().unwrap(), None));

        let missing = check("~/.gradle").unwrap_err().to_string();
        assert!(missing.contains("`~/.gradle`") && missing.contains("does not create folders"), "{missing}");
        for everything in ["/", "~", home.to_str().unwrap(), "../home"] {
            let refused = check(everything).unwrap_err().to_string();
            assert!(refused.contains("leaves nothing sandboxed"), "{everything}: {refused}");
        }
    }

    #[test]
    fn a_failure_that_shows_a_refused_write_names_the_setting_that_allows_it() {
        use crate::events::SandboxOperation::{Connect, Write};
        let output = "sh: 1: cannot create /home/u/x: Permission denied";
        let hint = denial_hint(&[], output).unwrap();
        assert!(hint.contains("[sandbox] writable") && hint.contains("--sandbox off"), "{hint}");
        assert!(denial_hint(&[], "Error: EACCES: permission denied, mkdir '/home/u/.local'").is_some());
        assert_eq!(denial_hint(&[], "AssertionError: 1 != 2"), None);
        let write = Denial { operation: Write, path: "/home/u/x".into() };
        let named = denial_hint(std::slice::from_ref(&write), output).unwrap();
        assert!(named.contains("refused a write to /home/u/x") && named.contains("[sandbox] writable"), "{named}");
        let connect = Denial { operation: Connect, path: "10.0.0.2:5432".into() };
        let both = denial_hint(&[write, connect], output).unwrap();
        assert!(both.contains("TCP connect to 10.0.0.2:5432") && both.contains("[sandbox] connect"), "{both}");
    }

    #[test]
    fn required_without_landlock_is_an_error_and_landlock_without_it_runs_unconfined() {
        let none = || Support::Unavailable("no Landlock here".into());
        assert!(matches!(State::of(Mode::Required, none()), Err(SandboxError::Unavailable { .. })));
        assert_eq!(
            State::of(Mode::Landlock, none()).unwrap(),
            State::Unavailable { reason: "no Landlock here".into() }
        );
        assert_eq!(State::of(Mode::Off, none()).unwrap(), State::Off);
        assert!(State::of(Mode::Required, Support::Available { abi: 7 }).unwrap().confines());
        for mode in [Mode::Off, Mode::Landlock, Mode::Required] {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
    }

    /// A shell confined to `worktree` and `tmp`, with `HOME` a folder of the test (so that a
    /// sandbox that failed to apply writes nothing of the user's).
    async fn confined_shell(script: &str, dir: &Path) -> (crate::process::Outcome, String) {
        confined_shell_connecting(script, dir, None).await
    }

    /// [`confined_shell`], its TCP connects allowed to `connect` only when given.
    async fn confined_shell_connecting(
        script: &str,
        dir: &Path,
        connect: Option<&[u16]>,
    ) -> (crate::process::Outcome, String) {
        let (worktree, tmp, home) = (dir.join("wt"), dir.join("tmp"), dir.join("home"));
        for folder in [&worktree, &tmp, &home] {
            std::fs::create_dir_all(folder).unwrap();
        }
        let rules = Rules::for_attempt(Parts {
            worktree: &worktree,
            tmp: &tmp,
            agent: vec![],
            lane: vec![],
            caches: vec![],
            user: &[],
            connect,
        });
        let env = vec![("HOME".into(), home.display().to_string()), ("TMPDIR".into(), tmp.display().to_string())];
        let mut spec = Spec::shell(script, &worktree, env, Duration::from_secs(30), dir.join("log"));
        spec.sandbox = Some(rules);
        let (_tx, cancel) = tokio::sync::watch::channel(false);
        let outcome = run(&spec, |_| {}, |_| {}, cancel).await.unwrap();
        let log = std::fs::read_to_string(dir.join("log")).unwrap();
        (outcome, log)
    }

    #[tokio::test]
    async fn a_confined_shell_writes_in_its_worktree_and_tmp_but_not_in_home() {
        if let Support::Unavailable(reason) = support() {
            eprintln!("SKIPPED: this kernel cannot sandbox ({reason})");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (outcome, log) = confined_shell(
            "echo in > inside; echo tmp > \"$TMPDIR/t\"; echo x > \"$HOME/x\" || echo refused; cat /etc/hostname >/dev/null && echo read",
            dir.path(),
        )
        .await;
        assert!(outcome.success(), "{log}");
        assert!(!dir.path().join("home/x").exists(), "the write to $HOME went through: {log}");
        assert!(log.contains("Permission denied") && log.contains("refused"), "the refusal shows in the log: {log}");
        assert!(log.contains("read"), "reading stays allowed: {log}");
        assert_eq!(std::fs::read_to_string(dir.path().join("wt/inside")).unwrap(), "in\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("tmp/t")).unwrap(), "tmp\n");
    }

    #[tokio::test]
    async fn a_confined_child_cannot_reach_a_sibling_folder_or_undo_the_sandbox() {
        if let Support::Unavailable(reason) = support() {
            eprintln!("SKIPPED: this kernel cannot sandbox ({reason})");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("other-lane")).unwrap();
        // Neither a write beside the worktree, nor a move out of it, nor a grandchild gets out.
        let (outcome, log) = confined_shell(
            "echo a > ../other-lane/a; echo b > b && mv b ../other-lane/b; sh -c 'echo c > ../other-lane/c'; true",
            dir.path(),
        )
        .await;
        assert!(outcome.success(), "{log}");
        let escaped: Vec<_> = std::fs::read_dir(dir.path().join("other-lane")).unwrap().collect();
        assert!(escaped.is_empty(), "{escaped:?}: {log}");
        assert!(dir.path().join("wt/b").exists(), "the refused move leaves the file where it was");
    }

    #[tokio::test]
    async fn connect_rules_let_tcp_reach_the_listed_ports_only() {
        match support() {
            Support::Available { abi } if abi >= NET_ABI => {}
            other => {
                eprintln!("SKIPPED: this kernel cannot restrict TCP connects ({other:?})");
                return;
            }
        }
        let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (allowed, other) = (allowed.local_addr().unwrap().port(), other.local_addr().unwrap().port());
        let script = format!(
            "bash -c 'echo > /dev/tcp/127.0.0.1/{allowed}' && echo reached-allowed; \
             bash -c 'echo > /dev/tcp/127.0.0.1/{other}' || echo refused-other"
        );
        let dir = tempfile::tempdir().unwrap();
        let (outcome, log) = confined_shell_connecting(&script, dir.path(), Some(&[allowed])).await;
        assert!(outcome.success(), "{log}");
        assert!(log.contains("reached-allowed"), "the listed port is reachable: {log}");
        assert!(log.contains("refused-other") && log.contains("Permission denied"), "{log}");
        // Without `connect`, the network is left alone.
        let dir = tempfile::tempdir().unwrap();
        let (_, log) = confined_shell_connecting(&script, dir.path(), None).await;
        assert!(!log.contains("refused-other"), "{log}");
    }

    #[test]
    fn connect_entries_are_ports() {
        assert_eq!(check_connect(&[443, 80, 443]).unwrap(), [443, 80]);
        for bad in [0, -1, 65536] {
            let error = check_connect(&[bad]).unwrap_err().to_string();
            assert!(error.contains(&format!("{bad} is not a TCP port")), "{error}");
        }
    }

    #[test]
    fn refusals_in_the_output_name_the_path_nearest_their_error_outside_the_writable_folders() {
        use crate::events::SandboxOperation::{Connect, Write};
        let rules = Rules::new([PathBuf::from("/w/slot-0"), PathBuf::from("/dev")], |_| true);
        let lines = |text: &[&str]| text.iter().map(|line| (*line).to_owned()).collect::<Vec<_>>();
        let read = |text: &[&str], rules: &Rules| {
            denials(&lines(text), rules, Path::new("/w/slot-0"), |path| !path.starts_with("/root"))
                .into_iter()
                .map(|d| (d.operation, d.path))
                .collect::<Vec<_>>()
        };
        let write = |path: &str| (Write, path.to_owned());
        assert_eq!(
            read(
                &[
                    "/bin/sh: 1: cannot create /home/u/x: Permission denied",
                    "Error: EACCES: permission denied, mkdir '/home/u/.local/share'",
                    "PermissionError: [Errno 13] Permission denied: '/etc/hosts'",
                    "touch: cannot touch '/w/slot-1/a': Permission denied",
                    "sh: 1: cannot create ../slot-2/b: Permission denied",
                    "Error: EACCES: permission denied, open '/home/u/y.txt.tmp.5483.65c54c8af463'",
                    // A tool's output inside an agent CLI's JSON line, twice: once.
                    r#"{"type":"user","content":"sh: 1: cannot create /home/u/x: Permission denied\nok"}"#,
                ],
                &rules
            ),
            [
                write("/home/u/x"),
                write("/home/u/.local/share"),
                write("/etc/hosts"),
                write("/w/slot-1/a"),
                write("/w/slot-2/b"),
                write("/home/u/y.txt"),
            ]
        );
        // Inside a writable folder, or where the user's own rights refuse too: not the sandbox.
        assert_eq!(read(&["cp: cannot create regular file '/w/slot-0/ro': Permission denied"], &rules), []);
        assert_eq!(read(&["sh: 1: cannot create /root/x: Permission denied"], &rules), []);
        assert_eq!(read(&["AssertionError: 1 != 2"], &rules), []);
        // Connects count only where the rules restrict them.
        let tcp = ["bash: connect: Permission denied", "bash: line 1: /dev/tcp/127.0.0.1/8080: Permission denied"];
        assert_eq!(read(&tcp, &rules), []);
        let restricted = Rules { connect: Some(vec![443]), ..rules.clone() };
        assert_eq!(read(&tcp, &restricted), [(Connect, String::new()), (Connect, "127.0.0.1:8080".to_owned())]);
        assert_eq!(read(&["Error: connect EACCES 10.0.0.2:5432"], &restricted), [(Connect, "10.0.0.2:5432".into())]);
    }

    proptest::proptest! {
        #[test]
        fn reading_refusals_never_panics(lines in proptest::collection::vec(".{0,200}", 0..8)) {
            let rules = Rules { connect: Some(vec![443]), ..Rules::new([PathBuf::from("/w")], |_| true) };
            let _ = denials(&lines, &rules, Path::new("/w"), |_| true);
        }
    }
}
