//! The project model: what the repository's config files say about resolution, read once.
//!
//! - JS/TS: tsconfig/jsconfig `paths` and `baseUrl` through `extends` (relative files of the
//!   repository), `outDir`/`rootDir`; SvelteKit's `$lib` and `kit.alias` (svelte.config.js, or
//!   `sveltekit({…})` in vite.config.ts when there is none);
//!   Vite's `resolve.alias` in its static object and array forms; package.json `name`,
//!   entries (`main`, `module`, `bin`, `exports`, `svelte`, `types`), `imports` and `scripts`;
//!   the frameworks a package uses (from its dependencies and config files).
//! - Rust: each Cargo.toml's crate name, library and targets.
//! - Go: each go.mod's module path.
//! - Python: the import roots (the repository, `src/`, every folder with a pyproject.toml,
//!   setup.py or setup.cfg and its `src/`).
//!
//! JS config files are read with a careful scan of their static forms, never run.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Files, child, file_name, join, parent};

/// A framework whose conventions wire files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framework {
    /// SvelteKit (`@sveltejs/kit`, svelte.config.js).
    SvelteKit,
    /// Next.js.
    Next,
    /// Nuxt.
    Nuxt,
    /// Astro.
    Astro,
    /// Remix or React Router's framework mode.
    Remix,
    /// Vite.
    Vite,
}

/// A module alias: `$lib` → `src/lib`, `@/*` → `src/*`.
#[derive(Clone, Debug)]
pub(crate) struct Alias {
    /// Files under this folder use it.
    pub(crate) scope: String,
    pub(crate) pattern: String,
    /// Repo-relative targets, `*` where the pattern's `*` goes.
    pub(crate) targets: Vec<String>,
    /// The config file that says so.
    pub(crate) config: String,
    /// Vite/SvelteKit style: `pattern` also matches `pattern/…`.
    pub(crate) prefix: bool,
}

impl Alias {
    /// The paths `specifier` stands for through this alias, if it matches.
    pub(crate) fn apply(&self, specifier: &str) -> Option<Vec<String>> {
        if let Some((before, after)) = self.pattern.split_once('*') {
            let middle = specifier.strip_prefix(before)?.strip_suffix(after)?;
            return Some(self.targets.iter().map(|t| t.replacen('*', middle, 1)).collect());
        }
        if specifier == self.pattern {
            return Some(self.targets.clone());
        }
        let rest = specifier.strip_prefix(&self.pattern)?.strip_prefix('/').filter(|_| self.prefix)?;
        Some(self.targets.iter().map(|t| child(t, rest)).collect())
    }
}

/// A JS package of the repository.
#[derive(Clone, Debug, Default)]
pub(crate) struct Package {
    pub(crate) dir: String,
    pub(crate) manifest: String,
    pub(crate) name: Option<String>,
    /// (field, path relative to the package) of `main`, `module`, `bin`, `exports`, …
    pub(crate) entries: Vec<(String, String)>,
    /// `exports` subpaths: `./button` → `./dist/button.js`.
    pub(crate) subpaths: Vec<(String, String)>,
    pub(crate) scripts: Vec<(String, String)>,
    pub(crate) frameworks: HashSet<Framework>,
    /// The major version of `next` its dependencies ask for, when they name one
    /// (`16.0.1`, `^16`, `~15.4.0`; not `latest` or `canary`).
    pub(crate) next_major: Option<u32>,
}

/// A Rust crate.
#[derive(Clone, Debug)]
pub(crate) struct Crate {
    /// The name other crates use it by: its `[lib] name`, else its package name, `-` as `_`.
    pub(crate) name: String,
    /// Its package name, as `cargo -p` takes it.
    pub(crate) package: String,
    /// Dependencies it renames: (the name its code uses, `-` as `_`; the package name).
    pub(crate) renamed: Vec<(String, String)>,
    pub(crate) manifest: String,
    pub(crate) dir: String,
    /// The library root, when there is one.
    pub(crate) lib: Option<String>,
    /// Binaries: (name, root file).
    pub(crate) bins: Vec<(String, String)>,
}

/// What the repository's config files say, read once.
#[derive(Debug, Default)]
pub struct Project {
    pub(crate) unreadable: Vec<(String, String)>,
    pub(crate) aliases: Vec<Alias>,
    /// (scope, base folder, config).
    pub(crate) base_urls: Vec<(String, String, String)>,
    /// (scope, outDir, rootDir) of tsconfigs.
    pub(crate) out_dirs: Vec<(String, String, String)>,
    pub(crate) packages: Vec<Package>,
    pub(crate) crates: Vec<Crate>,
    pub(crate) rust_roots: Vec<usize>,
    /// Renamed dependencies of `[workspace.dependencies]`: (the name code uses, package name).
    pub(crate) workspace_renames: Vec<(String, String)>,
    /// (folder, module path).
    pub(crate) go_modules: Vec<(String, String)>,
    pub(crate) python_roots: Vec<String>,
    /// `[project.scripts]`-style entries: (manifest, field, dotted module).
    pub(crate) python_scripts: Vec<(String, String, String)>,
    /// Every folder that holds a file.
    pub(crate) dirs: HashSet<String>,
    /// The folders of the Django apps `INSTALLED_APPS` names.
    pub(crate) django_apps: HashSet<String>,
    /// pytest's `python_files` patterns, when configured (else `test_*.py`, `*_test.py`).
    pub(crate) pytest_files: Vec<String>,
}

impl Project {
    pub(crate) fn read(files: &Files) -> Project {
        let mut project = Project::default();
        for path in files.paths {
            let mut dir = parent(path);
            while !dir.is_empty() && project.dirs.insert(dir.to_string()) {
                dir = parent(dir);
            }
        }
        project.dirs.insert(String::new());
        for path in files.paths.iter().copied() {
            if path.split('/').any(|part| part == "node_modules") {
                continue;
            }
            let name = file_name(path);
            match name {
                "package.json" => project.read_package(files, path),
                "Cargo.toml" => project.read_cargo(files, path),
                "go.mod" => project.read_go_mod(files, path),
                "pyproject.toml" | "setup.py" | "setup.cfg" => project.read_python(files, path),
                "pytest.ini" | "tox.ini" => project.read_pytest_ini(files, path),
                _ if is_tsconfig(name) => project.read_tsconfig(files, path),
                _ if name.starts_with("svelte.config.") => project.read_svelte_config(files, path),
                _ if name.starts_with("vite.config.") || name.starts_with("vitest.config.") => {
                    project.read_vite_config(files, path);
                }
                _ => {}
            }
        }
        for (path, framework) in files.paths.iter().filter_map(|path| Some((*path, framework_of_config(path)?))) {
            let dir = parent(path);
            match project.packages.iter_mut().find(|package| package.dir == dir) {
                Some(package) => {
                    package.frameworks.insert(framework);
                }
                None => project.packages.push(Package {
                    dir: dir.to_string(),
                    frameworks: HashSet::from([framework]),
                    ..Package::default()
                }),
            }
        }
        if !project.python_roots.iter().any(String::is_empty) {
            project.python_roots.push(String::new());
        }
        if project.dirs.contains("src") && !project.python_roots.iter().any(|r| r == "src") {
            project.python_roots.push("src".into());
        }
        // Deepest scopes first: the nearest config wins.
        project.aliases.sort_by_key(|alias| std::cmp::Reverse(alias.scope.len()));
        project.base_urls.sort_by_key(|(scope, _, _)| std::cmp::Reverse(scope.len()));
        project.packages.sort_by_key(|package| std::cmp::Reverse(package.dir.len()));
        project.go_modules.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.len()));
        project.rust_roots.sort_unstable();
        project.rust_roots.dedup();
        project
    }

    /// The nearest package of `path` (the deepest folder with a package.json or a framework's
    /// config above it).
    pub(crate) fn package_of(&self, path: &str) -> Option<&Package> {
        self.packages.iter().find(|package| super::is_under(path, &package.dir))
    }

    /// Whether `framework` governs the package of `path`.
    pub(crate) fn uses(&self, path: &str, framework: Framework) -> Option<&Package> {
        self.packages
            .iter()
            .filter(|package| super::is_under(path, &package.dir))
            .find(|package| package.frameworks.contains(&framework))
    }

    fn unreadable(&mut self, path: &str, why: impl Into<String>) {
        self.unreadable.push((path.to_string(), why.into()));
    }

    fn read_package(&mut self, files: &Files, path: &str) {
        let Some(text) = files.text(path) else { return };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => return self.unreadable(path, format!("line {}: {error}", error.line())),
        };
        let dir = parent(path).to_string();
        let mut package = Package { dir: dir.clone(), manifest: path.to_string(), ..Package::default() };
        package.name = value["name"].as_str().map(str::to_owned);
        for field in ["main", "module", "svelte", "types", "typings", "source", "browser"] {
            if let Some(entry) = value[field].as_str() {
                package.entries.push((format!("package.json `{field}`"), entry.to_string()));
            }
        }
        match &value["bin"] {
            serde_json::Value::String(bin) => package.entries.push(("package.json `bin`".into(), bin.clone())),
            serde_json::Value::Object(bins) => {
                for (name, bin) in bins {
                    if let Some(bin) = bin.as_str() {
                        package.entries.push((format!("package.json `bin` `{name}`"), bin.to_string()));
                    }
                }
            }
            _ => {}
        }
        let mut exports = Vec::new();
        collect_exports(&value["exports"], ".", &mut exports);
        for (subpath, target) in exports {
            if subpath == "." {
                package.entries.push(("package.json `exports`".into(), target.clone()));
            }
            package.subpaths.push((subpath, target));
        }
        if let Some(imports) = value["imports"].as_object() {
            for (pattern, target) in imports {
                let mut targets = Vec::new();
                collect_exports(target, pattern, &mut targets);
                let targets: Vec<String> = targets.into_iter().filter_map(|(_, target)| join(&dir, &target)).collect();
                if !targets.is_empty() {
                    self.aliases.push(Alias {
                        scope: dir.clone(),
                        pattern: pattern.clone(),
                        targets,
                        config: path.to_string(),
                        prefix: false,
                    });
                }
            }
        }
        if let Some(scripts) = value["scripts"].as_object() {
            for (name, command) in scripts {
                if let Some(command) = command.as_str() {
                    package.scripts.push((name.clone(), command.to_string()));
                }
            }
        }
        for field in ["dependencies", "devDependencies", "peerDependencies"] {
            let Some(dependencies) = value[field].as_object() else { continue };
            for (name, version) in dependencies {
                if name == "next" {
                    package.next_major = version.as_str().and_then(major_version);
                }
                let framework = match name.as_str() {
                    "@sveltejs/kit" => Framework::SvelteKit,
                    "next" => Framework::Next,
                    "nuxt" => Framework::Nuxt,
                    "astro" => Framework::Astro,
                    "@remix-run/react" | "@remix-run/dev" | "@react-router/dev" => Framework::Remix,
                    "vite" => Framework::Vite,
                    _ => continue,
                };
                package.frameworks.insert(framework);
            }
        }
        self.packages.push(package);
    }

    /// One tsconfig/jsconfig: its `paths`, `baseUrl`, `outDir` and `rootDir`, with those it
    /// extends (files of the repository; a package's or a generated config is left out).
    fn read_tsconfig(&mut self, files: &Files, path: &str) {
        let scope = parent(path).to_string();
        let mut current = path.to_string();
        let (mut paths, mut base_url, mut out_dir, mut root_dir) = (None, None, None, None);
        let mut seen = HashSet::new();
        while seen.insert(current.clone()) {
            let Some(text) = files.text(&current) else { break };
            let value = match super::jsonc::parse(text) {
                Ok(value) => value,
                Err(error) => return self.unreadable(&current, format!("line {}: {error}", error.line())),
            };
            let dir = parent(&current).to_string();
            let options = &value["compilerOptions"];
            if paths.is_none()
                && let Some(map) = options["paths"].as_object()
            {
                paths = Some((map.clone(), dir.clone(), current.clone()));
            }
            if base_url.is_none()
                && let Some(base) = options["baseUrl"].as_str()
            {
                base_url = join(&dir, base).map(|base| (base, current.clone()));
            }
            if out_dir.is_none() {
                out_dir = options["outDir"].as_str().and_then(|out| join(&dir, out));
            }
            if root_dir.is_none() {
                root_dir = options["rootDir"].as_str().and_then(|root| join(&dir, root));
            }
            let extends = match &value["extends"] {
                serde_json::Value::String(one) => vec![one.clone()],
                serde_json::Value::Array(many) => many.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            };
            let next = extends.iter().filter(|e| e.starts_with('.')).find_map(|e| {
                let joined = join(&dir, e)?;
                [joined.clone(), format!("{joined}.json")].into_iter().find(|p| files.exists(p))
            });
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        if let Some((map, dir, config)) = paths {
            let base = base_url.as_ref().map_or(dir, |(base, _)| base.clone());
            for (pattern, targets) in map {
                let targets: Vec<String> = targets
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .filter_map(|t| join(&base, t))
                    .collect();
                self.aliases.push(Alias {
                    scope: scope.clone(),
                    pattern,
                    targets,
                    config: config.clone(),
                    prefix: false,
                });
            }
        }
        if let Some((base, config)) = base_url {
            self.base_urls.push((scope.clone(), base, config));
        }
        if let Some(out) = out_dir {
            let root = root_dir.unwrap_or_else(|| child(&scope, "src"));
            self.out_dirs.push((scope, out, root));
        }
    }

    /// svelte.config.js: `$lib` (or `kit.files.lib`) and `kit.alias`.
    fn read_svelte_config(&mut self, files: &Files, path: &str) {
        let text = files.text(path).unwrap_or("");
        let code = crate::patterns::strip_comments(crate::patterns::Language::JavaScript, text, false);
        self.add_kit_aliases(path, &code);
    }

    /// `$lib` (or `files.lib`) and `alias` of a SvelteKit config, read from svelte.config.js
    /// or from the options of `sveltekit({…})` in vite.config.ts.
    fn add_kit_aliases(&mut self, path: &str, code: &str) {
        let dir = parent(path).to_string();
        static LIB: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"\blib\s*:\s*["']([^"']+)["']"#).expect("kit.files.lib"));
        let lib = LIB.captures(code).map_or("src/lib".to_string(), |caps| caps[1].trim_start_matches("./").to_string());
        let lib = join(&dir, &lib).unwrap_or(lib);
        self.aliases.push(Alias {
            scope: dir.clone(),
            pattern: "$lib".into(),
            targets: vec![lib],
            config: path.to_string(),
            prefix: true,
        });
        for (pattern, target) in static_aliases(code) {
            if let Some(target) = join(&dir, &target) {
                let prefix = !pattern.contains('*');
                self.aliases.push(Alias {
                    scope: dir.clone(),
                    pattern,
                    targets: vec![target],
                    config: path.to_string(),
                    prefix,
                });
            }
        }
    }

    /// vite.config.*: `resolve.alias` in its static forms. Without a svelte.config.* beside it
    /// (`sv create` no longer writes one), `sveltekit({…})` here holds the SvelteKit config.
    fn read_vite_config(&mut self, files: &Files, path: &str) {
        let dir = parent(path).to_string();
        let text = files.text(path).unwrap_or("");
        let code = crate::patterns::strip_comments(crate::patterns::Language::JavaScript, text, false);
        let svelte_config_beside =
            files.paths.iter().any(|other| parent(other) == dir && file_name(other).starts_with("svelte.config."));
        if code.contains("sveltekit(") && !svelte_config_beside {
            return self.add_kit_aliases(path, &code);
        }
        for (pattern, target) in static_aliases(&code) {
            if let Some(target) = join(&dir, &target) {
                self.aliases.push(Alias {
                    scope: dir.clone(),
                    pattern,
                    targets: vec![target],
                    config: path.to_string(),
                    prefix: true,
                });
            }
        }
    }

    fn read_cargo(&mut self, files: &Files, path: &str) {
        let Some(text) = files.text(path) else { return };
        let value: toml::Table = match toml::from_str(text) {
            Ok(value) => value,
            Err(error) => return self.unreadable(path, error.message().to_string()),
        };
        // `alias = { package = "real-name", … }`: code uses the crate as `alias`. Renames in
        // `[workspace.dependencies]` hold for every member that inherits them.
        let renames = |table: Option<&toml::Value>| -> Vec<(String, String)> {
            let dependencies = table.and_then(|t| t.as_table()).into_iter().flatten();
            dependencies
                .filter_map(|(alias, dependency)| {
                    let package = dependency.get("package")?.as_str()?;
                    Some((alias.replace('-', "_"), package.to_string()))
                })
                .collect()
        };
        let workspace_dependencies = value.get("workspace").and_then(|w| w.get("dependencies"));
        self.workspace_renames.extend(renames(workspace_dependencies));
        let Some(package) = value.get("package").and_then(|p| p.as_table()) else { return };
        let dir = parent(path).to_string();
        let name = package.get("name").and_then(|n| n.as_str()).unwrap_or(file_name(&dir)).to_string();
        let root = |relative: &str| child(&dir, relative);
        let lib_path = value
            .get("lib")
            .and_then(|lib| lib.get("path"))
            .and_then(|p| p.as_str())
            .map_or_else(|| root("src/lib.rs"), root);
        let lib = files.exists(&lib_path).then_some(lib_path);
        let mut bins = Vec::new();
        if files.exists(&root("src/main.rs")) {
            bins.push((name.clone(), root("src/main.rs")));
        }
        for target in ["bin", "example", "test", "bench"] {
            for entry in value.get(target).and_then(|t| t.as_array()).into_iter().flatten() {
                let target_name = entry.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                if let Some(target_path) = entry.get("path").and_then(|p| p.as_str()).map(root) {
                    if target == "bin" {
                        bins.push((target_name.to_string(), target_path.clone()));
                    }
                    if let Some(id) = files.id(&target_path) {
                        self.rust_roots.push(id);
                    }
                }
            }
        }
        // Cargo's auto-discovered targets (a crate nested inside has its own).
        let nested_crates: Vec<&str> = files
            .paths
            .iter()
            .filter(|p| file_name(p) == "Cargo.toml")
            .map(|p| parent(p))
            .filter(|nested| *nested != dir && super::is_under(nested, &dir))
            .collect();
        for file in files.paths.iter().copied().filter(|p| super::is_under(p, &dir) && p.ends_with(".rs")) {
            let relative = file.strip_prefix(&dir).map_or(file, |r| r.trim_start_matches('/'));
            let parts: Vec<&str> = relative.split('/').collect();
            let root_file = match parts.as_slice() {
                ["src", "main.rs"] | ["build.rs"] => true,
                ["src", "bin", name] => {
                    bins.push((name.trim_end_matches(".rs").to_string(), file.to_string()));
                    true
                }
                ["src", "bin", bin, "main.rs"] => {
                    bins.push(((*bin).to_string(), file.to_string()));
                    true
                }
                ["benches" | "examples" | "tests", _] => true,
                ["benches" | "examples" | "tests", _, "main.rs"] => true,
                _ => false,
            };
            let nested = nested_crates.iter().any(|nested| super::is_under(file, nested));
            if root_file
                && !nested
                && let Some(id) = files.id(file)
            {
                self.rust_roots.push(id);
            }
        }
        if let Some(lib) = &lib
            && let Some(id) = files.id(lib)
        {
            self.rust_roots.push(id);
        }
        bins.sort();
        bins.dedup();
        // Other crates use the library by its `[lib] name` when it has one.
        let lib_name = value.get("lib").and_then(|lib| lib.get("name")).and_then(|n| n.as_str()).unwrap_or(&name);
        let renamed = ["dependencies", "dev-dependencies", "build-dependencies"]
            .into_iter()
            .flat_map(|section| renames(value.get(section)))
            .collect();
        self.crates.push(Crate {
            name: lib_name.replace('-', "_"),
            package: name,
            renamed,
            manifest: path.to_string(),
            dir,
            lib,
            bins,
        });
    }

    fn read_go_mod(&mut self, files: &Files, path: &str) {
        let Some(text) = files.text(path) else { return };
        static MODULE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"(?m)^\s*module\s+"?([^\s"]+)"?\s*$"#).expect("go module"));
        match MODULE.captures(text) {
            Some(caps) => self.go_modules.push((parent(path).to_string(), caps[1].to_string())),
            None => self.unreadable(path, "no `module` line"),
        }
    }

    fn read_python(&mut self, files: &Files, path: &str) {
        let dir = parent(path).to_string();
        for root in [dir.clone(), child(&dir, "src")] {
            if self.dirs.contains(&root) && !self.python_roots.contains(&root) {
                self.python_roots.push(root);
            }
        }
        let Some(text) = files.text(path) else { return };
        if path.ends_with("pyproject.toml") {
            let value: toml::Table = match toml::from_str(text) {
                Ok(value) => value,
                Err(error) => return self.unreadable(path, error.message().to_string()),
            };
            let tables = [
                ("[project.scripts]", value.get("project").and_then(|p| p.get("scripts"))),
                ("[project.gui-scripts]", value.get("project").and_then(|p| p.get("gui-scripts"))),
                (
                    "[tool.poetry.scripts]",
                    value.get("tool").and_then(|t| t.get("poetry")).and_then(|p| p.get("scripts")),
                ),
            ];
            let mut entries: Vec<(String, String)> = Vec::new();
            for (field, table) in tables {
                for (name, target) in table.and_then(|t| t.as_table()).into_iter().flatten() {
                    if let Some(target) = target.as_str() {
                        entries.push((format!("pyproject.toml {field} `{name}`"), target.to_string()));
                    }
                }
            }
            if let Some(groups) = value.get("project").and_then(|p| p.get("entry-points")).and_then(|e| e.as_table()) {
                for (group, table) in groups {
                    for (name, target) in table.as_table().into_iter().flatten() {
                        if let Some(target) = target.as_str() {
                            entries.push((format!("pyproject.toml entry point `{group}.{name}`"), target.to_string()));
                        }
                    }
                }
            }
            for (field, target) in entries {
                let module = target.split(':').next().unwrap_or_default().trim().to_string();
                self.python_scripts.push((path.to_string(), field, module));
            }
            let pytest = value.get("tool").and_then(|t| t.get("pytest")).and_then(|p| p.get("ini_options"));
            match pytest.and_then(|p| p.get("python_files")) {
                Some(toml::Value::String(patterns)) => {
                    self.pytest_files.extend(patterns.split_whitespace().map(str::to_owned));
                }
                Some(toml::Value::Array(patterns)) => {
                    self.pytest_files.extend(patterns.iter().filter_map(|p| p.as_str()).map(str::to_owned));
                }
                _ => {}
            }
        } else {
            if path.ends_with("setup.cfg") {
                self.read_pytest_ini(files, path);
            }
            // setup.py / setup.cfg console_scripts: `name = package.module:function`.
            static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"[\w.-]+\s*=\s*([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_][\w.]*"#).expect("console script")
            });
            for caps in ENTRY.captures_iter(text) {
                self.python_scripts.push((path.to_string(), "console_scripts".into(), caps[1].to_string()));
            }
        }
    }
}

impl Project {
    /// `python_files = check_*.py` in pytest.ini, tox.ini or setup.cfg.
    fn read_pytest_ini(&mut self, files: &Files, path: &str) {
        let Some(text) = files.text(path) else { return };
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=')
                && key.trim() == "python_files"
            {
                self.pytest_files.extend(value.split_whitespace().map(str::to_owned));
            }
        }
    }
}

/// The major version a dependency's range starts at: `^16.0.1`, `~15.4`, `>=16`, `16`.
fn major_version(range: &str) -> Option<u32> {
    let digits = range.trim_start_matches(['^', '~', '>', '=', 'v', ' ']);
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn is_tsconfig(name: &str) -> bool {
    (name.starts_with("tsconfig") || name.starts_with("jsconfig")) && name.ends_with(".json")
}

/// A framework's own config file.
fn framework_of_config(path: &str) -> Option<Framework> {
    let name = file_name(path);
    let stem = name.split('.').next().unwrap_or(name);
    let is_config = name.contains(".config.");
    match stem {
        "svelte" if is_config => Some(Framework::SvelteKit),
        "next" if is_config => Some(Framework::Next),
        "nuxt" if is_config => Some(Framework::Nuxt),
        "astro" if is_config => Some(Framework::Astro),
        "remix" | "react-router" if is_config => Some(Framework::Remix),
        "vite" if is_config => Some(Framework::Vite),
        _ => None,
    }
}

/// Every (subpath, target) of package.json `exports` (or one `imports` entry): strings, nested
/// conditions (`import`, `default`, `types`, `svelte`, …), subpath keys.
fn collect_exports(value: &serde_json::Value, subpath: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(target) => out.push((subpath.to_string(), target.clone())),
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_exports(item, subpath, out)),
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let subpath = if key.starts_with('.') { key.as_str() } else { subpath };
                collect_exports(value, subpath, out);
            }
        }
        _ => {}
    }
}

/// Aliases written statically in a JS config: `alias: { '@': './src', $components:
/// path.resolve('./src/components') }` or `alias: [{ find: '@', replacement: '/src' }]`.
/// Targets are relative to the config's folder; `__dirname`, `import.meta.url` and
/// `process.cwd()` mean that folder too.
fn static_aliases(code: &str) -> Vec<(String, String)> {
    static ALIAS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\balias\s*:\s*([\[{])").expect("alias"));
    static STRING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"["'`]([^"'`]*)["'`]"#).expect("string"));
    // The last string literal of a value is the path (`path.resolve(__dirname, './src')`).
    let target_of = |value: &str| {
        let path = STRING.captures_iter(value).last().map(|caps| caps[1].to_string())?;
        join("", path.trim_start_matches('/')).filter(|p| !p.contains("node_modules"))
    };
    let key_of = |key: &str| {
        let key = key.trim().trim_matches(['"', '\'', '`']);
        (!key.is_empty()).then(|| key.to_string())
    };
    let mut out = Vec::new();
    for found in ALIAS.captures_iter(code) {
        let Some(open) = found.get(1) else { continue };
        for entry in top_level_items(balanced(code, open.start())) {
            if open.as_str() == "[" {
                // `{ find: '@', replacement: … }`
                let fields = top_level_items(balanced(entry, entry.find('{').unwrap_or(0)));
                let field = |name: &str| {
                    fields.iter().find_map(|f| f.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v))
                };
                if let (Some(find), Some(replacement)) = (field("find"), field("replacement"))
                    && let (Some(key), Some(target)) = (key_of(find), target_of(replacement))
                {
                    out.push((key, target));
                }
            } else if let Some((key, value)) = entry.split_once(':')
                && let (Some(key), Some(target)) = (key_of(key), target_of(value))
            {
                out.push((key, target));
            }
        }
    }
    out
}

/// The comma-separated items of `body` at its top level (outside brackets and strings).
fn top_level_items(body: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0, None);
    for (at, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '{' | '[' | '(') => depth += 1,
            (None, '}' | ']' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(&body[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&body[start..]);
    items.into_iter().filter(|item| !item.trim().is_empty()).collect()
}

/// The text from the bracket at `open` to its match (or the end).
fn balanced(code: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (at, c) in code[open..].char_indices() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &code[open + 1..open + at];
                }
            }
            _ => {}
        }
    }
    &code[open..]
}

/// A crate by the name code uses for it (`my_crate`).
pub(crate) fn crate_named<'p>(project: &'p Project, name: &str) -> Option<&'p Crate> {
    project.crates.iter().find(|c| c.name == name)
}

/// The crate that the code of `from` means by `name`: a dependency its crate renames
/// (`alias = { package = "…" }`, also through `[workspace.dependencies]`), else the crate
/// named so.
pub(crate) fn crate_used_as<'p>(project: &'p Project, from: &str, name: &str) -> Option<&'p Crate> {
    let user = project.crates.iter().filter(|c| super::is_under(from, &c.dir)).max_by_key(|c| c.dir.len());
    let renamed = user.into_iter().flat_map(|c| &c.renamed).chain(&project.workspace_renames);
    match renamed.into_iter().find(|(alias, _)| alias == name) {
        Some((_, package)) => project.crates.iter().find(|c| &c.package == package),
        None => crate_named(project, name),
    }
}

/// A JS package by name.
pub(crate) fn package_named<'p>(project: &'p Project, name: &str) -> Option<&'p Package> {
    project.packages.iter().find(|p| p.name.as_deref() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_aliases_read_object_and_array_forms() {
        let code = "export default defineConfig({ resolve: { alias: { '@': path.resolve(__dirname, './src'), $ui: '/src/ui' } } });\n\
                    const b = { alias: [{ find: '~', replacement: fileURLToPath(new URL('./app', import.meta.url)) }] };";
        let got = static_aliases(code);
        assert_eq!(
            got,
            [
                ("@".to_string(), "src".to_string()),
                ("$ui".to_string(), "src/ui".to_string()),
                ("~".into(), "app".into())
            ]
        );
    }

    #[test]
    fn an_alias_maps_its_pattern() {
        let alias = Alias {
            scope: String::new(),
            pattern: "@app/*".into(),
            targets: vec!["src/app/*".into()],
            config: "tsconfig.json".into(),
            prefix: false,
        };
        assert_eq!(alias.apply("@app/db/x"), Some(vec!["src/app/db/x".to_string()]));
        assert_eq!(alias.apply("@other/x"), None);
        let lib = Alias { pattern: "$lib".into(), targets: vec!["src/lib".into()], prefix: true, ..alias };
        assert_eq!(lib.apply("$lib/store"), Some(vec!["src/lib/store".to_string()]));
        assert_eq!(lib.apply("$library"), None);
    }
}
