//! Provisioning lane worktrees with what git does not track: the ignored files a project
//! needs to build and test (`node_modules/`, `.venv/`, `.env`, generated code), and a setup
//! command.
//!
//! What to bring comes from `.worktreeinclude` (gitignore syntax: the ignored paths to bring
//! along, as Claude Code users already write it) and the configuration's `include`; without
//! them, common cases are detected from lockfiles. Files are cloned copy-on-write where the
//! filesystem can (reflink), hard-linked when configured, copied otherwise. Nothing is ever
//! written back to the main work tree, and included files never enter a commit.
//!
//! Build outputs (`target/`, `.next/`, `dist/`, ...) are only cloned: without reflink, a
//! Cargo lane builds into its own `CARGO_TARGET_DIR` (kept between the lane's tasks) and
//! other lanes rebuild theirs, rather than copying gigabytes into every worktree. What each
//! worktree gets is accounted per top-level item ([`Item`]), in bytes, so that `run` can say
//! what it costs and stop above `max_copy_bytes` ([`Provision::copy_bytes`]).

use crate::git::Git;
use ignore::gitignore::GitignoreBuilder;
use sha2::Digest;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Lockfiles wavecrew recognises, the folder each fills, the command that fills it, and whether
/// a lane without that folder needs a person's setup. Cargo's `target/` does not: each lane
/// builds in its own `CARGO_TARGET_DIR`, and cargo fetches what the build needs by itself.
const LOCKFILES: &[(&str, &str, &str, bool)] = &[
    ("package-lock.json", "node_modules", "npm ci", true),
    ("pnpm-lock.yaml", "node_modules", "pnpm install --frozen-lockfile", true),
    ("yarn.lock", "node_modules", "yarn install --frozen-lockfile", true),
    ("uv.lock", ".venv", "uv sync --frozen", true),
    ("poetry.lock", ".venv", "poetry install --no-root", true),
    ("Cargo.lock", "target", "cargo fetch", false),
];

/// What the configuration says about worktrees (`[worktree]` in `wavecrew.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Bytes of copies each worktree may get without asking (`max_copy_bytes`).
    pub max_copy_bytes: u64,
}

/// `max_copy_bytes` when the configuration names none: 1 GiB.
pub const DEFAULT_MAX_COPY_BYTES: u64 = 1 << 30;

impl Default for WorktreeSettings {
    fn default() -> Self {
        WorktreeSettings {
            include: Vec::new(),
            setup: None,
            setup_inputs: Vec::new(),
            hardlink: false,
            max_copy_bytes: DEFAULT_MAX_COPY_BYTES,
        }
    }
}

/// Top-level ignored folders of installed dependencies: copied (or hard-linked) when they
/// cannot be cloned, since installing them again needs the network and takes longer.
const DEPENDENCY_FOLDERS: &[&str] = &["node_modules", ".venv", "venv"];

/// Top-level ignored folders that builds write: only cloned, never copied, since a build in
/// the lane makes them again and they are often the largest thing in a repository.
const BUILD_OUTPUT_FOLDERS: &[&str] =
    &["target", ".next", ".nuxt", ".svelte-kit", "dist", "build", "out", "__pycache__", ".turbo", ".parcel-cache"];

/// What a top-level ignored item holds, which decides how lanes get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Installed dependencies (`node_modules/`, `.venv/`).
    Dependencies,
    /// What a build writes (`target/`, `.next/`, `dist/`, ...).
    BuildOutput,
    /// Anything else a project asked for (`.env`, `generated/`).
    Other,
}

impl Kind {
    /// The kind of the top-level item `name` (a folder when `folder`).
    pub fn of(name: &str, folder: bool) -> Kind {
        if !folder {
            Kind::Other
        } else if DEPENDENCY_FOLDERS.contains(&name) {
            Kind::Dependencies
        } else if BUILD_OUTPUT_FOLDERS.contains(&name) {
            Kind::BuildOutput
        } else {
            Kind::Other
        }
    }
}

/// How a lane gets one top-level item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// Its files are brought into the worktree this way.
    Brought(Method),
    /// Not brought: the lane builds into its own `CARGO_TARGET_DIR`, warm across its tasks.
    LaneTargetDir,
    /// Not brought: a build output the lane's own builds make again.
    Rebuilt,
}

impl Mechanism {
    /// How a lane gets an item of `kind` named `name`: the one place that decides. `reflink`:
    /// the filesystem clones files; `hardlink`: configured; `cargo`: a Cargo project.
    pub fn choose(name: &str, kind: Kind, reflink: bool, hardlink: bool, cargo: bool) -> Mechanism {
        match kind {
            _ if reflink => Mechanism::Brought(Method::Reflink),
            Kind::BuildOutput if cargo && name == "target" => Mechanism::LaneTargetDir,
            Kind::BuildOutput => Mechanism::Rebuilt,
            Kind::Dependencies | Kind::Other if hardlink => Mechanism::Brought(Method::Hardlink),
            Kind::Dependencies | Kind::Other => Mechanism::Brought(Method::Copy),
        }
    }

    /// What it says in the dry run and the progress lines.
    pub fn describe(self) -> &'static str {
        match self {
            Mechanism::Brought(method) => method.as_str(),
            Mechanism::LaneTargetDir => "not copied: each lane builds in its own CARGO_TARGET_DIR",
            Mechanism::Rebuilt => "not copied: a build output, the lane's builds make it",
        }
    }
}

/// One top-level ignored item of the main tree (`node_modules/`, `.env`) and what it costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Its name, with `/` for a folder.
    pub entry: String,
    /// What it holds.
    pub kind: Kind,
    /// How lanes get it.
    pub mechanism: Mechanism,
    /// Its files (and symlinks).
    pub files: usize,
    /// Their size in the main tree.
    pub bytes: u64,
}

impl Item {
    /// Bytes each worktree that gets it has written: its size when copied, else nothing.
    pub fn copy_bytes(&self) -> u64 {
        if self.mechanism == Mechanism::Brought(Method::Copy) { self.bytes } else { 0 }
    }
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
    /// Every top-level item that matched, brought or not, with its size.
    pub items: Vec<Item>,
    /// Whether the filesystem clones files from the main tree into the worktrees folder.
    pub reflink: bool,
    /// Whether each lane builds into its own `CARGO_TARGET_DIR` (a Cargo project whose
    /// `target/` is not cloned into worktrees).
    pub lane_target_dir: bool,
    /// Bytes of copies each worktree may get without asking.
    pub max_copy_bytes: u64,
}

/// The folder of the lanes' `CARGO_TARGET_DIR`s, in a run's worktrees folder.
const LANE_TARGETS: &str = "cargo-target";

impl Provision {
    /// Works out what to bring into worktrees of the repository at `root`, made under
    /// `worktrees` (wavecrew's worktrees folder for the repository). It writes nothing but the
    /// reflink probe's two files, removed at once.
    pub async fn plan(root: &Path, worktrees: &Path, settings: &WorktreeSettings) -> std::io::Result<Provision> {
        let mut patterns: Vec<String> = settings.include.clone();
        if let Ok(text) = tokio::fs::read_to_string(root.join(".worktreeinclude")).await {
            patterns.extend(text.lines().map(str::to_owned));
        }
        let mut provision = Provision { setup: settings.setup.clone(), ..Provision::default() };
        let ignored = ignored_files(root).await;

        // Lockfiles: seed their folder from the main tree, or say how to configure a setup.
        let mut detected_inputs = Vec::new();
        for &(lockfile, folder, command, needs_setup) in LOCKFILES {
            if !root.join(lockfile).is_file() {
                continue;
            }
            detected_inputs.push(lockfile.to_owned());
            if needs_setup {
                provision.expected.push((folder.to_owned(), command.to_owned()));
            }
            if settings.setup.is_some() {
                continue;
            }
            let present = ignored.iter().any(|f| f.starts_with(folder));
            if present {
                patterns.push(format!("/{folder}/"));
            } else if needs_setup {
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
        let mut matched: Vec<PathBuf> = Vec::new();
        for file in ignored {
            if matcher.matched_path_or_any_parents(&file, false).is_ignore() {
                matched.push(file);
            }
        }
        provision.reflink = match Git::new(root).common_dir().await {
            Ok(dir) => reflink_supported(&dir, worktrees),
            Err(_) => false,
        };
        provision.max_copy_bytes = settings.max_copy_bytes;
        let cargo = root.join("Cargo.toml").is_file();
        let root = root.to_owned();
        let (hardlink, reflink) = (settings.hardlink, provision.reflink);
        let (items, brought) = tokio::task::spawn_blocking(move || account(&root, matched, reflink, hardlink, cargo))
            .await
            .map_err(std::io::Error::other)?;
        provision.lane_target_dir =
            cargo && !items.iter().any(|i| i.entry == "target/" && matches!(i.mechanism, Mechanism::Brought(_)));
        provision.items = items;
        provision.files = brought;
        provision.method = if reflink {
            Method::Reflink
        } else if hardlink {
            Method::Hardlink
        } else {
            Method::Copy
        };
        Ok(provision)
    }

    /// Bytes of copies each new worktree gets (cloned and hard-linked files cost none).
    pub fn copy_bytes(&self) -> u64 {
        self.items.iter().map(Item::copy_bytes).sum()
    }

    /// Whether the copies each worktree gets are above `max_copy_bytes`: `run` asks first.
    pub fn over_limit(&self) -> bool {
        self.copy_bytes() > self.max_copy_bytes
    }

    /// What each new worktree gets, a line per item, then the setup and the bytes written into
    /// each of at most `worktrees` worktrees: for `--dry-run`.
    pub fn describe(&self, worktrees: usize) -> String {
        let mut lines = Vec::new();
        let width = self.items.iter().map(|i| i.entry.chars().count()).max().unwrap_or(0);
        for item in &self.items {
            let files = if item.files == 1 { "1 file".to_owned() } else { format!("{} files", item.files) };
            lines.push(format!(
                "  {:<width$}  {:>10}  {:>12}  {}",
                item.entry,
                human_bytes(item.bytes),
                files,
                item.mechanism.describe()
            ));
        }
        if let Some(setup) = &self.setup {
            lines.push(format!("  setup `{setup}` (again when {} change)", self.setup_inputs.join(", ")));
        }
        if lines.is_empty() {
            return "  nothing beyond the tracked files".to_owned();
        }
        let copied = self.copy_bytes();
        let clones =
            if self.reflink { "the filesystem clones files (reflink)" } else { "no reflink on this filesystem" };
        let worktrees = worktrees.max(1);
        let total = copied.saturating_mul(worktrees as u64);
        lines.push(format!(
            "  = {} written into each worktree ({clones}); {worktrees} worktree{} at most: {}",
            human_bytes(copied),
            if worktrees == 1 { "" } else { "s" },
            human_bytes(total)
        ));
        lines.join("\n")
    }

    /// What a new worktree got, for its progress line: the brought items with their sizes,
    /// how, the bytes written (`seeded`, when files were brought), and the items not brought.
    pub fn seeded(&self, seeded: Option<&Seeded>) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(seeded) = seeded {
            let items: Vec<String> = self
                .items
                .iter()
                .filter(|i| matches!(i.mechanism, Mechanism::Brought(_)))
                .map(|i| format!("{} {}", i.entry, human_bytes(i.bytes)))
                .collect();
            parts.push(format!(
                "brought {} ignored files ({}) by {}, {} written",
                seeded.files,
                items.join(", "),
                seeded.method.as_str(),
                human_bytes(seeded.bytes_written)
            ));
        }
        for item in self.items.iter().filter(|i| !matches!(i.mechanism, Mechanism::Brought(_))) {
            parts.push(format!("{} ({}) {}", item.entry, human_bytes(item.bytes), item.mechanism.describe()));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The variables commands of `lane` get, with `worktrees` the run's worktrees folder: its
    /// own `CARGO_TARGET_DIR` when lanes build there.
    pub fn lane_env(&self, worktrees: &Path, lane: &str) -> Vec<(String, String)> {
        if !self.lane_target_dir {
            return Vec::new();
        }
        let dir = lane_target_dir(worktrees, lane);
        vec![("CARGO_TARGET_DIR".to_owned(), dir.to_string_lossy().into_owned())]
    }

    /// Makes `lane`'s `CARGO_TARGET_DIR` and points the worktree's `target` at it, so that a
    /// Verify command naming `target/debug/app` finds what the lane built. A `target` folder
    /// already in the worktree is left as it is.
    pub fn link_lane_target(&self, worktrees: &Path, lane: &str, worktree: &Path) -> std::io::Result<()> {
        if !self.lane_target_dir {
            return Ok(());
        }
        let dir = lane_target_dir(worktrees, lane);
        std::fs::create_dir_all(&dir)?;
        let link = worktree.join("target");
        match std::fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if std::fs::read_link(&link)? == dir {
                    return Ok(());
                }
                std::fs::remove_file(&link)?;
            }
            Ok(_) => return Ok(()),
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&dir, &link)
    }

    /// Brings the included files of `root` into `worktree`; says how many were brought, how
    /// (the method actually used: a failed reflink falls back to a copy) and the bytes copied.
    pub async fn seed(&self, root: &Path, worktree: &Path) -> std::io::Result<Seeded> {
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

    /// Whether `path` (relative) was brought in (or is the link to the lane's
    /// `CARGO_TARGET_DIR`), so that it must never be committed.
    pub fn includes(&self, path: &Path) -> bool {
        (self.lane_target_dir && path == Path::new("target")) || self.files.iter().any(|f| f == path)
    }
}

/// What [`Provision::seed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeded {
    /// Files (and symlinks) brought.
    pub files: usize,
    /// How (copy when a clone failed).
    pub method: Method,
    /// Bytes written by copies.
    pub bytes_written: u64,
}

/// `lane`'s `CARGO_TARGET_DIR` in the run's worktrees folder (a name safe as a folder).
fn lane_target_dir(worktrees: &Path, lane: &str) -> PathBuf {
    let name: String =
        lane.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    worktrees.join(LANE_TARGETS).join(if name.is_empty() { "lane".to_owned() } else { name })
}

/// Groups `files` (relative to `root`) by their top-level item, sizes each, and picks how
/// lanes get it; returns the items and the files to bring.
fn account(root: &Path, files: Vec<PathBuf>, reflink: bool, hardlink: bool, cargo: bool) -> (Vec<Item>, Vec<PathBuf>) {
    let mut items: Vec<Item> = Vec::new();
    let mut brought = Vec::new();
    for file in files {
        let mut components = file.components();
        let top = components.next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
        let folder = components.next().is_some();
        let entry = if folder { format!("{top}/") } else { top.clone() };
        // A symlink costs nothing: it is made again, not copied.
        let bytes = std::fs::symlink_metadata(root.join(&file)).map_or(0, |m| if m.is_file() { m.len() } else { 0 });
        let index = match items.iter().position(|i| i.entry == entry) {
            Some(index) => index,
            None => {
                let kind = Kind::of(&top, folder);
                let mechanism = Mechanism::choose(&top, kind, reflink, hardlink, cargo);
                items.push(Item { entry, kind, mechanism, files: 0, bytes: 0 });
                items.len() - 1
            }
        };
        let item = &mut items[index];
        item.files += 1;
        item.bytes += bytes;
        if matches!(item.mechanism, Mechanism::Brought(_)) {
            brought.push(file);
        }
    }
    (items, brought)
}

/// `bytes` for people: `15 B`, `2.1 MiB`, `4.6 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Ignored files of the main work tree (relative paths), symlinks included.
async fn ignored_files(root: &Path) -> Vec<PathBuf> {
    let out = Git::new(root)
        .run(&["ls-files", "-z", "--others", "--ignored", "--exclude-standard"])
        .await
        .unwrap_or_default();
    out.split('\0').filter(|p| !p.is_empty() && !p.starts_with(".git/")).map(PathBuf::from).collect()
}

/// Whether files can be cloned copy-on-write from the git directory `source` (the main
/// tree's filesystem) into `worktrees` (or the nearest folder above it that exists).
fn reflink_supported(source: &Path, worktrees: &Path) -> bool {
    let Some(target_dir) = worktrees.ancestors().find(|dir| dir.is_dir()) else { return false };
    let name = format!("wavecrew-reflink-probe-{}", std::process::id());
    let source = source.join(&name);
    let target = target_dir.join(format!("{name}-clone"));
    let supported = std::fs::write(&source, b"probe").is_ok() && reflink_copy::reflink(&source, &target).is_ok();
    let _ = std::fs::remove_file(&source);
    let _ = std::fs::remove_file(&target);
    supported
}

fn seed_files(files: &[PathBuf], method: Method, root: &Path, worktree: &Path) -> std::io::Result<Seeded> {
    let mut seeded = Seeded { files: files.len(), method, bytes_written: 0 };
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
                if let Some(copied) = reflink_copy::reflink_or_copy(&source, &target)? {
                    seeded.method = Method::Copy;
                    seeded.bytes_written += copied;
                }
            }
            Method::Copy => seeded.bytes_written += std::fs::copy(&source, &target)?,
        }
    }
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outputs_are_only_cloned_and_a_cargo_target_becomes_the_lane_s_own() {
        use Mechanism::{Brought, LaneTargetDir, Rebuilt};
        let choose = |name: &str, folder: bool, reflink: bool, hardlink: bool, cargo: bool| {
            Mechanism::choose(name, Kind::of(name, folder), reflink, hardlink, cargo)
        };
        // With reflink everything is cloned: it costs no bytes.
        for name in ["target", "node_modules", ".env", "dist"] {
            assert_eq!(choose(name, true, true, false, true), Brought(Method::Reflink), "{name}");
        }
        // Without: dependencies and other files are copied, or hard-linked when configured.
        assert_eq!(choose("node_modules", true, false, false, false), Brought(Method::Copy));
        assert_eq!(choose(".venv", true, false, true, false), Brought(Method::Hardlink));
        assert_eq!(choose(".env", false, false, false, true), Brought(Method::Copy));
        assert_eq!(choose("generated", true, false, false, false), Brought(Method::Copy));
        // Build outputs are never copied, nor hard-linked (builds write into them in place).
        assert_eq!(choose("target", true, false, false, true), LaneTargetDir);
        assert_eq!(choose("target", true, false, true, true), LaneTargetDir);
        assert_eq!(choose("target", true, false, false, false), Rebuilt, "a Maven target/ is rebuilt");
        for name in [".next", "dist", "build", ".svelte-kit", "__pycache__"] {
            assert_eq!(choose(name, true, false, true, false), Rebuilt, "{name}");
        }
        // A file named like a build folder is just a file.
        assert_eq!(choose("build", false, false, false, false), Brought(Method::Copy));
    }

    fn tree(files: &[(&str, usize)]) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        for (path, size) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, vec![b'x'; *size]).unwrap();
        }
        (dir, files.iter().map(|(p, _)| PathBuf::from(p)).collect())
    }

    #[test]
    fn items_are_sized_and_only_copies_count_as_bytes_written() {
        let (dir, files) = tree(&[
            (".env", 15),
            ("node_modules/a/index.js", 1000),
            ("node_modules/b/index.js", 24),
            ("target/debug/app", 5000),
            ("target/debug/deps/app.d", 120),
        ]);
        std::os::unix::fs::symlink("a", dir.path().join("node_modules/link")).unwrap();
        let mut files = files;
        files.push(PathBuf::from("node_modules/link"));
        let (items, brought) = account(dir.path(), files, false, false, true);
        let summary: Vec<(&str, Kind, usize, u64, u64)> =
            items.iter().map(|i| (i.entry.as_str(), i.kind, i.files, i.bytes, i.copy_bytes())).collect();
        assert_eq!(
            summary,
            [
                (".env", Kind::Other, 1, 15, 15),
                ("node_modules/", Kind::Dependencies, 3, 1024, 1024),
                ("target/", Kind::BuildOutput, 2, 5120, 0),
            ]
        );
        assert!(brought.iter().all(|f| !f.starts_with("target")), "{brought:?}");
        assert_eq!(brought.len(), 4);

        let provision = Provision { items, max_copy_bytes: 1039, lane_target_dir: true, ..Provision::default() };
        assert_eq!(provision.copy_bytes(), 1039);
        assert!(!provision.over_limit(), "at the limit is not above it");
        assert!(Provision { max_copy_bytes: 1038, ..provision.clone() }.over_limit());
        let described = provision.describe(4);
        assert!(
            described.ends_with(
                "= 1.0 KiB written into each worktree (no reflink on this filesystem); 4 worktrees at most: 4.1 KiB"
            ),
            "{described}"
        );
        let target: Vec<&str> = described.lines().nth(2).unwrap().split_whitespace().take(5).collect();
        assert_eq!(target, ["target/", "5.0", "KiB", "2", "files"], "{described}");
        assert!(
            described.lines().nth(2).unwrap().ends_with("  not copied: each lane builds in its own CARGO_TARGET_DIR")
        );

        // Hard links and clones write nothing.
        let (items, _) = account(dir.path(), vec![PathBuf::from(".env")], false, true, true);
        assert_eq!(items[0].copy_bytes(), 0);
    }

    #[test]
    fn each_lane_has_its_own_target_dir_named_safely_and_linked_from_its_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let (worktrees, worktree) = (dir.path().join("run"), dir.path().join("run/slot-0"));
        std::fs::create_dir_all(&worktree).unwrap();
        let provision = Provision { lane_target_dir: true, ..Provision::default() };
        let env = provision.lane_env(&worktrees, "Worker A/../x");
        let expected = worktrees.join("cargo-target/Worker-A----x");
        assert_eq!(env, [("CARGO_TARGET_DIR".to_owned(), expected.to_string_lossy().into_owned())]);
        provision.link_lane_target(&worktrees, "Worker A/../x", &worktree).unwrap();
        assert_eq!(std::fs::read_link(worktree.join("target")).unwrap(), expected);
        // Another lane takes the pooled worktree: the link follows it.
        provision.link_lane_target(&worktrees, "B", &worktree).unwrap();
        assert_eq!(std::fs::read_link(worktree.join("target")).unwrap(), worktrees.join("cargo-target/B"));
        assert!(provision.includes(Path::new("target")), "the link is never committed");
        assert!(Provision::default().lane_env(&worktrees, "B").is_empty());
    }

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(human_bytes(15), "15 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(4_939_212_390), "4.6 GiB");
    }
}
