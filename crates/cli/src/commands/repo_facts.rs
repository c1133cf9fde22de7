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
    // A file deleted in the work tree but still in the index is not there.
    let files: Vec<String> =
        listed.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect::<BTreeSet<_>>().into_iter().collect();
    let mut facts = RepoFacts::new(files.iter().cloned());
    let mut project_folders: Vec<(String, &str)> = Vec::new();
    let mut makefiles: HashMap<&str, &str> = HashMap::new();
    for file in &files {
        let (folder, name) = file.rsplit_once('/').unwrap_or(("", file));
        let read = || std::fs::read_to_string(root.join(file)).ok();
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
        let text = std::fs::read_to_string(root.join(folder).join(name)).ok();
        facts.make_targets.insert(folder.to_owned(), text.and_then(|text| plan::make_targets(&text)));
    }
    facts.programs = found_programs(root, &project_folders, plan::programs_needed(plan));
    Some(facts)
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
    let Ok(text) = std::fs::read_to_string(manifest) else { return false };
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
