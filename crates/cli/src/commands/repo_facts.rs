//! Gathers the [`plan::RepoFacts`] that `check`'s repository-aware checks judge a plan by:
//! the repository's files (`git ls-files`), its `package.json` scripts, Makefile targets, Cargo
//! packages, and which of the programs the plan runs can be found.

use engine::git::Git;
use plan::{Plan, RepoFacts};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The names make looks for, in its order.
const MAKEFILES: &[&str] = &["GNUmakefile", "makefile", "Makefile"];

/// Dependencies a project declares for itself, and where they are installed.
const INSTALLS: &[(&str, &[&str])] = &[
    ("package.json", &["node_modules/.bin"]),
    ("pyproject.toml", &[".venv/bin", "venv/bin"]),
    ("requirements.txt", &[".venv/bin", "venv/bin"]),
];

/// The facts about the git work tree at `root` that `plan` needs; `None` when git cannot list
/// its files (then the checks are skipped, as for a plan outside any repository).
pub fn gather(root: &Path, plan: &Plan) -> Option<RepoFacts> {
    let listed = Git::new(root).run_blocking(&["ls-files", "-z", "--cached", "--others", "--exclude-standard"]).ok()?;
    // A set: an unmerged path is listed once per stage. (A file deleted but still in the index
    // stays listed; reading it fails, which makes its facts unknown, so nothing is reported.)
    let files: BTreeSet<String> = listed.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect();
    let mut facts = RepoFacts::new(files.iter().cloned());
    let mut project_folders: Vec<(String, &str)> = Vec::new();
    let mut makefiles: HashMap<&str, &str> = HashMap::new();
    for file in &files {
        let (folder, name) = file.rsplit_once('/').unwrap_or(("", file));
        let read = || read_manifest(&root.join(file));
        match name {
            "package.json" => {
                let scripts = read().and_then(|text| package_scripts(&text));
                facts.package_scripts.insert(folder.to_owned(), scripts);
            }
            // make reads GNUmakefile, then makefile, then Makefile: the first one there wins.
            "GNUmakefile" | "makefile" | "Makefile" => {
                let rank = |name: &str| MAKEFILES.iter().position(|m| *m == name);
                if makefiles.get(folder).is_none_or(|&best| rank(name) < rank(best)) {
                    makefiles.insert(folder, name);
                }
            }
            "Cargo.toml" => {
                let name = read()
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .and_then(|table| table.get("package")?.get("name")?.as_str().map(str::to_owned));
                facts.crates.extend(name);
            }
            _ => {}
        }
        if let Some((manifest, _)) = INSTALLS.iter().find(|(manifest, _)| *manifest == name) {
            project_folders.push((folder.to_owned(), manifest));
        }
    }
    for (folder, name) in makefiles {
        let text = read_manifest(&root.join(folder).join(name));
        facts.make_targets.insert(folder.to_owned(), text.and_then(|text| plan::make_targets(&text)));
    }
    facts.programs = found_programs(root, &project_folders, plan::programs_needed(plan));
    Some(facts)
}

/// The most of a manifest that is read: a bigger one (or a link to a device) is not a
/// manifest anyone writes by hand, and is treated as unreadable.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// A manifest's text; `None` when it cannot be read, is not UTF-8, or is too big.
fn read_manifest(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    let file = std::fs::File::open(path).ok()?;
    file.take(MAX_MANIFEST_BYTES + 1).read_to_string(&mut text).ok()?;
    (text.len() as u64 <= MAX_MANIFEST_BYTES).then_some(text)
}

/// The names of a `package.json`'s scripts; `None` when it is not a JSON object.
fn package_scripts(text: &str) -> Option<BTreeSet<String>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    Some(object.get("scripts").and_then(|s| s.as_object()).map(|s| s.keys().cloned().collect()).unwrap_or_default())
}

/// Which of `needed` can be run: found on `PATH`, or in the `node_modules/.bin` or virtual
/// environment of one of the repository's projects. When a project's dependencies are not
/// installed, nobody can tell what they would provide: every program counts as found.
fn found_programs(root: &Path, projects: &[(String, &str)], needed: BTreeSet<String>) -> HashSet<String> {
    let mut places: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    for (folder, manifest) in projects {
        let (_, installs) = INSTALLS.iter().find(|(m, _)| m == manifest).expect("a manifest of INSTALLS");
        let mut installed = false;
        for bin in *installs {
            let place = root.join(folder).join(bin);
            if place.is_dir() {
                installed = true;
                places.push(place);
            }
        }
        if !installed && declares_dependencies(&root.join(folder).join(manifest)) {
            return needed.into_iter().collect();
        }
    }
    needed.into_iter().filter(|program| places.iter().any(|place| is_executable(&place.join(program)))).collect()
}

/// Whether a manifest lists dependencies to install (a `package.json` without any, such as one
/// holding only scripts, installs nothing).
fn declares_dependencies(manifest: &Path) -> bool {
    let Some(text) = read_manifest(manifest) else { return false };
    if manifest.ends_with("package.json") {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return true };
        ["dependencies", "devDependencies", "optionalDependencies"]
            .iter()
            .any(|key| value.get(key).and_then(|d| d.as_object()).is_some_and(|d| !d.is_empty()))
    } else {
        true
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file() || path.with_extension("cmd").is_file()
    }
}
