//! Provisioning lane worktrees with what git does not track: the ignored files a project
//! needs to build and test (`node_modules/`, `.venv/`, `.env`, generated code), and a setup
//! command.
//!
//! What to bring comes from `.worktreeinclude` (gitignore syntax: the ignored paths to bring
//! along, as Claude Code users already write it) and the configuration's `include`; without
//! them, common cases are detected from lockfiles. Files are cloned copy-on-write where the
//! filesystem can (reflink), hard-linked when configured, copied otherwise. Nothing is ever
//! written back to the main work tree, and included files never enter a commit.

use crate::git::Git;
use ignore::gitignore::GitignoreBuilder;
use sha2::Digest;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Lockfiles wavecrew recognises, the folder each fills, and the command that fills it.
const LOCKFILES: &[(&str, &str, &str)] = &[
    ("package-lock.json", "node_modules", "npm ci"),
    ("pnpm-lock.yaml", "node_modules", "pnpm install --frozen-lockfile"),
    ("yarn.lock", "node_modules", "yarn install --frozen-lockfile"),
    ("uv.lock", ".venv", "uv sync --frozen"),
    ("poetry.lock", ".venv", "poetry install --no-root"),
    ("Cargo.lock", "target", "cargo fetch"),
];

/// What the configuration says about worktrees (`[worktree]` in `wavecrew.toml`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorktreeSettings {
    /// Ignored paths to bring along, gitignore syntax, besides `.worktreeinclude`.
    pub include: Vec<String>,
    /// A command run in each new worktree, and again when `setup_inputs` change.
    pub setup: Option<String>,
    /// Files whose content decides whether `setup` must run again (default: detected lockfiles).
    pub setup_inputs: Vec<String>,
    /// Hard-link included files instead of copying them when reflinks are not available.
    /// Fast, but an agent that writes into such a file in place changes your copy too.
    pub hardlink: bool,
}

/// How files are brought into a worktree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Copy-on-write clones (btrfs, xfs, APFS): instant, no extra space.
    Reflink,
    /// Hard links (configured): instant, shared with the main tree.
    Hardlink,
    /// Plain copies.
    #[default]
    Copy,
}

impl Method {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Reflink => "reflink",
            Method::Hardlink => "hardlink",
            Method::Copy => "copy",
        }
    }
}

/// The provisioning of a run's lanes, worked out once at the start.
#[derive(Clone, Debug, Default)]
pub struct Provision {
    /// Ignored files (and symlinks) of the main tree to bring into each new worktree, relative.
    pub files: Vec<PathBuf>,
    /// The top-level entries those files are under, for messages (`node_modules/`, `.env`).
    pub entries: Vec<String>,
    /// The setup command, if any.
    pub setup: Option<String>,
    /// Files whose content decides whether setup runs again.
    pub setup_inputs: Vec<String>,
    /// How files are brought in.
    pub method: Method,
    /// Things a person should know, said once (e.g. a lockfile without its folder).
    pub advice: Vec<String>,
    /// Folders a worktree should have, with the command that makes them: a failed Verify
    /// names them when they are missing.
    pub expected: Vec<(String, String)>,
}

impl Provision {
    /// Works out what to bring into worktrees of the repository at `root`. It writes nothing
    /// (the reflink probe's two files in the git directory are removed at once).
    pub async fn plan(root: &Path, settings: &WorktreeSettings) -> std::io::Result<Provision> {
        let mut patterns: Vec<String> = settings.include.clone();
        if let Ok(text) = tokio::fs::read_to_string(root.join(".worktreeinclude")).await {
            patterns.extend(text.lines().map(str::to_owned));
        }
        let mut provision = Provision { setup: settings.setup.clone(), ..Provision::default() };
        let ignored = ignored_files(root).await;

        // Lockfiles: seed their folder from the main tree, or say how to configure a setup.
        let mut detected_inputs = Vec::new();
        for &(lockfile, folder, command) in LOCKFILES {
            if !root.join(lockfile).is_file() {
                continue;
            }
            detected_inputs.push(lockfile.to_owned());
            provision.expected.push((folder.to_owned(), command.to_owned()));
            if settings.setup.is_some() {
                continue;
            }
            let present = ignored.iter().any(|f| f.starts_with(folder));
            if present {
                patterns.push(format!("/{folder}/"));
            } else {
                provision.advice.push(format!(
                    "{lockfile} is here but {folder}/ is not: lanes will not have it; set `setup = \"{command}\"` under [worktree] in wavecrew.toml"
                ));
            }
        }
        provision.setup_inputs =
            if settings.setup_inputs.is_empty() { detected_inputs } else { settings.setup_inputs.clone() };

        let mut builder = GitignoreBuilder::new(root);
        for pattern in &patterns {
            let _ = builder.add_line(None, pattern);
        }
        let matcher = builder.build().map_err(std::io::Error::other)?;
        let mut entries: Vec<String> = Vec::new();
        for file in ignored {
            if matcher.matched_path_or_any_parents(&file, false).is_ignore() {
                let top =
                    file.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
                let top = if file.components().count() > 1 { format!("{top}/") } else { top };
                if !entries.contains(&top) {
                    entries.push(top);
                }
                provision.files.push(file);
            }
        }
        provision.entries = entries;
        provision.method = if settings.hardlink {
            Method::Hardlink
        } else if Git::new(root).common_dir().await.is_ok_and(|dir| reflink_supported(&dir)) {
            Method::Reflink
        } else {
            Method::Copy
        };
        Ok(provision)
    }

    /// A line describing what each new worktree gets, for `--dry-run` and the log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.files.is_empty() {
            parts.push(format!(
                "{} ignored files ({}) by {}",
                self.files.len(),
                self.entries.join(", "),
                self.method.as_str()
            ));
        }
        if let Some(setup) = &self.setup {
            parts.push(format!("setup `{setup}` (again when {} change)", self.setup_inputs.join(", ")));
        }
        if parts.is_empty() { "nothing beyond the tracked files".to_owned() } else { parts.join("; ") }
    }

    /// Brings the included files of `root` into `worktree`; returns how many were brought and
    /// how they were (the method actually used: a failed reflink falls back to a copy).
    pub async fn seed(&self, root: &Path, worktree: &Path) -> std::io::Result<(usize, Method)> {
        let (files, method, root, worktree) = (self.files.clone(), self.method, root.to_owned(), worktree.to_owned());
        tokio::task::spawn_blocking(move || seed_files(&files, method, &root, &worktree))
            .await
            .map_err(std::io::Error::other)?
    }

    /// The hash of the setup inputs in `worktree` (missing files count as empty).
    pub fn inputs_hash(&self, worktree: &Path) -> String {
        let mut hasher = sha2::Sha256::new();
        for input in &self.setup_inputs {
            hasher.update(input.as_bytes());
            hasher.update(std::fs::read(worktree.join(input)).unwrap_or_default());
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A hint for a failed attempt: folders the worktree should have but lacks.
    pub fn missing_hint(&self, worktree: &Path) -> Option<String> {
        let missing: Vec<String> = self
            .expected
            .iter()
            .filter(|(folder, _)| !worktree.join(folder).exists())
            .map(|(folder, command)| {
                format!("{folder}/ (add it to .worktreeinclude, or set `setup = \"{command}\"` under [worktree])")
            })
            .collect();
        (!missing.is_empty()).then(|| format!("hint: this lane's worktree has no {}", missing.join(", no ")))
    }

    /// Whether `path` (relative) was brought in, so that it must never be committed.
    pub fn includes(&self, path: &Path) -> bool {
        self.files.iter().any(|f| f == path)
    }
}

/// Ignored files of the main work tree (relative paths), symlinks included.
async fn ignored_files(root: &Path) -> Vec<PathBuf> {
    let out = Git::new(root)
        .run(&["ls-files", "-z", "--others", "--ignored", "--exclude-standard"])
        .await
        .unwrap_or_default();
    out.split('\0').filter(|p| !p.is_empty() && !p.starts_with(".git/")).map(PathBuf::from).collect()
}

/// Whether the filesystem under `dir` can clone files copy-on-write.
fn reflink_supported(dir: &Path) -> bool {
    let source = dir.join(format!("wavecrew-reflink-probe-{}", std::process::id()));
    let target = dir.join(format!("wavecrew-reflink-probe-{}-clone", std::process::id()));
    let supported = std::fs::write(&source, b"probe").is_ok() && reflink_copy::reflink(&source, &target).is_ok();
    let _ = std::fs::remove_file(&source);
    let _ = std::fs::remove_file(&target);
    supported
}

fn seed_files(files: &[PathBuf], method: Method, root: &Path, worktree: &Path) -> std::io::Result<(usize, Method)> {
    let mut used = method;
    let mut made: HashSet<PathBuf> = HashSet::new();
    for file in files {
        let (source, target) = (root.join(file), worktree.join(file));
        if let Some(parent) = target.parent()
            && made.insert(parent.to_owned())
        {
            std::fs::create_dir_all(parent)?;
        }
        let meta = std::fs::symlink_metadata(&source)?;
        if target.symlink_metadata().is_ok() {
            std::fs::remove_file(&target)?;
        }
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
            continue;
        }
        match method {
            Method::Hardlink => std::fs::hard_link(&source, &target)?,
            Method::Reflink => {
                if reflink_copy::reflink_or_copy(&source, &target)?.is_some() {
                    used = Method::Copy;
                }
            }
            Method::Copy => {
                std::fs::copy(&source, &target)?;
            }
        }
    }
    Ok((files.len(), used))
}
