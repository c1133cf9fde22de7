//! Wiring: which file of a repository uses which, resolved the way the project's own tools
//! resolve it, and whether a must_have artifact or key link is wired.
//!
//! [`Wiring::build`] reads the repository once: first a [`Project`] model from its config files
//! (tsconfig/jsconfig `paths` and `baseUrl` through `extends`, SvelteKit's `$lib` and `kit.alias`,
//! Vite's static `resolve.alias`, package.json names, entries, `imports`, `scripts`, Cargo.toml
//! crates and targets, go.mod module paths, Python roots and scripts), then every file's imports,
//! resolved into [`Edge`]s (from, to, line, and the rule that resolved it, [`Via`]). Files that
//! run by convention (routes, crate roots, `__main__.py`, tests, …) are [`Convention`]s; the
//! plan's own commands ([`PlanCommand`]) that run a file or import its module count as use too.
//!
//! What does not count: a name in a comment (HTML comments of components included), in a string
//! (a log line, an error message), in a Markdown file, a file naming itself, and a Rust file that
//! no `mod` declares on a path from a crate root (it is never compiled). Names count only where a
//! toolchain works by name: a Makefile, CI configuration, a Dockerfile or package.json script
//! running a file, Django's dotted paths and template names, pytest fixtures and `python_files`,
//! `{% load %}` of template tags, Nuxt's auto-imports (components, composables, utils, named
//! middleware), `//go:embed` and `//go:generate`, React Router's `app/routes.ts`.
//!
//! When a config file cannot be read (unparseable tsconfig, package.json, Cargo.toml, go.mod,
//! pyproject.toml), the model goes on without it, [`Wiring::unreadable`] says which, and a file
//! that resolution cannot place falls back to plain references ([`crate::artifacts::references`]),
//! saying so in its evidence. Nothing here reads the disk: the engine hands in the texts.
//!
//! ```
//! use evidence::wiring::{Wiring, Wired};
//!
//! let paths = ["svelte.config.js", "src/routes/+page.svelte", "src/lib/Panel.svelte"].map(String::from);
//! let texts = vec![
//!     ("svelte.config.js".to_string(), "export default { kit: {} };\n".to_string()),
//!     ("src/routes/+page.svelte".to_string(),
//!      "<script>\n  import Panel from '$lib/Panel.svelte';\n</script>\n<Panel />\n".to_string()),
//!     ("src/lib/Panel.svelte".to_string(), "<p>tasks</p>\n".to_string()),
//! ];
//! let wiring = Wiring::build(&paths, &texts, &[]);
//! let panel = wiring.artifact("src/lib/Panel.svelte").unwrap();
//! assert_eq!(panel.to_string(), "imported at src/routes/+page.svelte:2 through `$lib` (svelte.config.js)");
//! assert!(matches!(wiring.artifact("src/routes/+page.svelte"), Ok(Wired::EntryPoint(_))));
//! ```

mod commands;
mod conventions;
mod extract;
mod jsonc;
mod project;

use std::collections::{HashMap, VecDeque};

use rustc_hash::FxHashMap;
use std::fmt;

pub use commands::{CommandSource, PlanCommand};
pub use conventions::Convention;
pub use project::Project;

/// Files larger than this are not read for imports (the engine skips them and says so).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// How an edge was resolved: the rule, rendered into the evidence.
// The variants' fields are what their names say; the variant docs tell the rule.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A relative import (`./x`, `../x`, `from . import x`).
    Relative,
    /// A path from the project's root (`/src/main.ts` in Vite's `index.html`).
    RootRelative,
    /// An alias: `$lib` (svelte.config.js), `@/*` (tsconfig.json), `#db` (package.json `imports`).
    Alias { alias: String, config: String },
    /// A bare specifier resolved from tsconfig's `baseUrl`.
    BaseUrl { config: String },
    /// A package of the repository imported by its name (`@acme/ui`).
    Package { name: String, manifest: String },
    /// A Python import (`import ledger.entries`), absolute from a Python root.
    PythonImport { module: String },
    /// A submodule's import runs its packages' `__init__.py`.
    PythonPackage { module: String },
    /// Rust `mod name;` (or `#[path]`).
    RustMod,
    /// A Rust path: `use crate::…`, `self::`, `super::`, or `crate::x::f()`.
    RustPath,
    /// A crate of the workspace used by its name.
    RustCrate { name: String, manifest: String },
    /// A Go import by module path, using an identifier the file declares.
    GoImport { path: String },
    /// An identifier declared in another file of the same Go package.
    GoPackage { identifier: String },
    /// CSS `@import` or `url()`.
    CssImport,
    /// HTML `src=` / `href=`.
    HtmlLink,
    /// Shell `source` / `.`.
    ShellSource,
    /// C `#include`.
    Include,
    /// A command that runs the file: a Makefile recipe, a CI step, a package.json script.
    Runs { command: String },
    /// A manifest names the file: package.json `main`, Cargo.toml `[[bin]]`, `[project.scripts]`.
    Manifest { field: String },
    /// A Django-style dotted path in a string (`"polls.apps.PollsConfig"`).
    DottedPath { path: String },
    /// A pytest fixture of a `conftest.py` used by name.
    Fixture { name: String },
    /// `{% load name %}` of a Django template tag library.
    TemplateLoad { name: String },
    /// A file a Go binary embeds (`//go:embed templates/*.html`).
    GoEmbed { pattern: String },
    /// A route registered in React Router's `app/routes.ts`.
    RouteConfig,
    /// A Nuxt auto-import used by name (a component as `<TodoList />`, a composable called).
    AutoImport { name: String },
    /// A file served as it is (`public/`, `static/`), used by its URL.
    Served { url: String },
    /// A template named in code or another template (`render(request, "polls/results.html")`,
    /// `{% extends "base.html" %}`), found in a `templates/` folder.
    Template { name: String },
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Relative => write!(f, "by a relative path"),
            Via::RootRelative => write!(f, "by a path from the project root"),
            Via::Alias { alias, config } => write!(f, "through `{alias}` ({config})"),
            Via::BaseUrl { config } => write!(f, "through `baseUrl` ({config})"),
            Via::Package { name, manifest } => write!(f, "as the package `{name}` ({manifest})"),
            Via::PythonImport { module } => write!(f, "as the module `{module}`"),
            Via::PythonPackage { module } => write!(f, "as the package of `{module}`"),
            Via::RustMod => write!(f, "by `mod`"),
            Via::RustPath => write!(f, "by a Rust path"),
            Via::RustCrate { name, manifest } => write!(f, "as the crate `{name}` ({manifest})"),
            Via::GoImport { path } => write!(f, "by the Go import `{path}`"),
            Via::GoPackage { identifier } => write!(f, "using `{identifier}` of the same Go package"),
            Via::CssImport => write!(f, "by a CSS import"),
            Via::HtmlLink => write!(f, "by an HTML link"),
            Via::ShellSource => write!(f, "by `source`"),
            Via::Include => write!(f, "by `#include`"),
            Via::Runs { command } => write!(f, "run by `{command}`"),
            Via::Manifest { field } => write!(f, "as its {field}"),
            Via::DottedPath { path } => write!(f, "by the dotted path `{path}`"),
            Via::Fixture { name } => write!(f, "using the pytest fixture `{name}`"),
            Via::TemplateLoad { name } => write!(f, "by `{{% load {name} %}}`"),
            Via::Template { name } => write!(f, "rendered as the template `{name}`"),
            Via::Served { url } => write!(f, "served and used by its URL `{url}`"),
            Via::GoEmbed { pattern } => write!(f, "embedded by `//go:embed {pattern}`"),
            Via::RouteConfig => write!(f, "registered as a route"),
            Via::AutoImport { name } => write!(f, "auto-imported by Nuxt and used as `{name}`"),
        }
    }
}

/// One file using another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Index of the using file in [`Wiring::paths`].
    pub from: usize,
    /// Index of the used file.
    pub to: usize,
    /// 1-based line of the use in `from`.
    pub line: u32,
    /// The rule that resolved it.
    pub via: Via,
}

/// Why an artifact is wired: the evidence of its verdict.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wired<'w> {
    /// Another file uses it.
    Used { by: &'w str, line: u32, via: &'w Via },
    /// It runs by a framework's or toolchain's convention.
    EntryPoint(Convention),
    /// A command of the plan runs it or imports its module.
    RunByPlan(&'w PlanCommand),
    /// Only plain references found it, because a config file could not be read.
    PlainReference { by: &'w str, line: u32, unreadable: &'w str },
}

impl fmt::Display for Wired<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wired::Used {
                by,
                line,
                via:
                    via @ (Via::Runs { .. }
                    | Via::Template { .. }
                    | Via::GoEmbed { .. }
                    | Via::RouteConfig
                    | Via::AutoImport { .. }
                    | Via::Served { .. }),
            } => {
                write!(f, "{via} at {by}:{line}")
            }
            Wired::Used { by, line, via: Via::Manifest { field } } => {
                write!(f, "an entry point: {field} at {by}:{line}")
            }
            Wired::Used { by, line, via: Via::Fixture { name } } => {
                write!(f, "its pytest fixture `{name}` is used at {by}:{line}")
            }
            Wired::Used { by, line, via: Via::RustMod } => write!(f, "declared by `mod` at {by}:{line}"),
            Wired::Used { by, line, via } => write!(f, "imported at {by}:{line} {via}"),
            Wired::EntryPoint(convention) => write!(f, "an entry point: {convention}"),
            Wired::RunByPlan(command) => write!(f, "run by the plan's {}: `{}`", command.source, command.command),
            Wired::PlainReference { by, line, unreadable } => {
                write!(f, "referenced at {by}:{line} (a plain reference: {unreadable} could not be read)")
            }
        }
    }
}

/// Why an artifact is not wired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotWired {
    /// Nothing uses it.
    Unused,
    /// A Rust file that no `mod` on a path from a crate root declares: never compiled.
    RustUndeclared,
}

impl fmt::Display for NotWired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotWired::Unused => write!(
                f,
                "no file imports it, runs it or names it where a tool would (names in comments, strings and Markdown do not count), no convention runs it and no command of the plan does"
            ),
            NotWired::RustUndeclared => {
                write!(f, "no `mod` on a path from a crate root declares it: cargo never compiles it")
            }
        }
    }
}

/// The edge index of a repository: built once, asked per artifact and key link.
pub struct Wiring<'a> {
    paths: Vec<&'a str>,
    ids: FxHashMap<&'a str, usize>,
    texts: Vec<Option<&'a str>>,
    edges: Vec<Edge>,
    incoming: Vec<Vec<usize>>,
    outgoing: Vec<Vec<usize>>,
    entries: HashMap<usize, Convention>,
    commands: Vec<PlanCommand>,
    run_by_plan: HashMap<usize, usize>,
    /// Rust files reachable by `mod` from a crate root, with the edge that declared each.
    rust_declared: HashMap<usize, Option<usize>>,
    project: Project,
}

impl<'a> Wiring<'a> {
    /// Reads the repository: `paths` are all its tracked files, `texts` the readable text files
    /// among them (path, text), `commands` the plan's commands. Never fails: what cannot be read
    /// is in [`Wiring::unreadable`].
    pub fn build(paths: &'a [String], texts: &'a [(String, String)], commands: &[PlanCommand]) -> Wiring<'a> {
        Wiring::build_without(paths, texts, commands, |_| false)
    }

    /// [`Wiring::build`] as if the files `leave_out` says were not there (the plan itself,
    /// wavecrew's own files), without copying the others.
    pub fn build_without(
        paths: &'a [String],
        texts: &'a [(String, String)],
        commands: &[PlanCommand],
        leave_out: impl Fn(&str) -> bool,
    ) -> Wiring<'a> {
        let mut all: Vec<&'a str> = paths.iter().map(String::as_str).filter(|p| !leave_out(p)).collect();
        let texts: Vec<&'a (String, String)> = texts.iter().filter(|(p, _)| !leave_out(p)).collect();
        let mut ids: FxHashMap<&'a str, usize> = FxHashMap::default();
        ids.reserve(all.len());
        for (id, path) in all.iter().enumerate() {
            ids.entry(path).or_insert(id);
        }
        for (path, _) in &texts {
            if !ids.contains_key(path.as_str()) {
                ids.insert(path.as_str(), all.len());
                all.push(path.as_str());
            }
        }
        let mut file_texts = vec![None; all.len()];
        for (path, text) in &texts {
            file_texts[ids[path.as_str()]] = Some(text.as_str());
        }
        let files = Files { paths: &all, ids: &ids, texts: &file_texts };
        let mut project = Project::read(&files);
        project.django_apps = extract::django_apps(&files, &project);
        // Each file's imports on its own, on every core.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let chunk = all.len().div_ceil(threads).max(1);
        let mut edges: Vec<Edge> = std::thread::scope(|scope| {
            let (files, project) = (&files, &project);
            let handles: Vec<_> = (0..all.len())
                .step_by(chunk)
                .map(|start| {
                    scope.spawn(move || {
                        let mut edges = Vec::new();
                        for id in start..(start + chunk).min(files.paths.len()) {
                            if let Some(text) = files.texts[id] {
                                extract::edges_of(files, project, id, text, &mut edges);
                            }
                        }
                        edges
                    })
                })
                .collect();
            handles.into_iter().flat_map(|handle| handle.join().unwrap_or_default()).collect()
        });
        extract::cross_file_edges(&files, &project, &mut edges);
        edges.retain(|edge| edge.from != edge.to);
        let mut entries = HashMap::new();
        for (id, path) in all.iter().enumerate() {
            if let Some(convention) = conventions::entry_point(&files, &project, path) {
                entries.insert(id, convention);
            }
        }
        let mut run_by_plan = HashMap::new();
        for (index, command) in commands.iter().enumerate() {
            for target in commands::targets(&files, &project, "", &command.command) {
                run_by_plan.entry(target).or_insert(index);
            }
        }
        let mut incoming = vec![Vec::new(); all.len()];
        let mut outgoing = vec![Vec::new(); all.len()];
        for (index, edge) in edges.iter().enumerate() {
            incoming[edge.to].push(index);
            outgoing[edge.from].push(index);
        }
        let mut wiring = Wiring {
            paths: all,
            ids,
            texts: file_texts,
            edges,
            incoming,
            outgoing,
            entries,
            commands: commands.to_vec(),
            run_by_plan,
            rust_declared: HashMap::new(),
            project,
        };
        wiring.rust_declared = wiring.rust_reachable();
        wiring
    }

    /// Every path, in index order.
    pub fn paths(&self) -> &[&'a str] {
        &self.paths
    }

    /// Every edge.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The project model.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Config files that could not be read, with why (`tsconfig.json: line 3: …`).
    pub fn unreadable(&self) -> &[(String, String)] {
        &self.project.unreadable
    }

    /// Whether `path` is a file of the repository.
    pub fn contains(&self, path: &str) -> bool {
        self.ids.contains_key(path)
    }

    /// Why the artifact at `path` is wired, or why not.
    pub fn artifact(&self, path: &str) -> Result<Wired<'_>, NotWired> {
        let Some(&id) = self.ids.get(path) else { return Err(NotWired::Unused) };
        if path.ends_with(".rs") {
            if let Some(convention) = self.entries.get(&id) {
                return Ok(Wired::EntryPoint(convention.clone()));
            }
            return match self.rust_declared.get(&id) {
                Some(Some(edge)) => Ok(self.used(*edge)),
                _ => Err(NotWired::RustUndeclared),
            };
        }
        if let Some(&edge) = self.incoming[id].iter().min_by_key(|&&edge| self.rank(edge)) {
            return Ok(self.used(edge));
        }
        if let Some(convention) = self.entries.get(&id) {
            return Ok(Wired::EntryPoint(convention.clone()));
        }
        if let Some(&command) = self.run_by_plan.get(&id) {
            return Ok(Wired::RunByPlan(&self.commands[command]));
        }
        if let Some(plain) = self.plain_reference(path) {
            return Ok(plain);
        }
        // A package's `__init__.py` runs whenever one of its modules is imported.
        if file_name(path) == "__init__.py" {
            let dir = parent(path);
            let module = self.paths.iter().copied().find(|other| {
                is_under(other, dir) && other.ends_with(".py") && *other != path && self.artifact(other).is_ok()
            });
            if let Some(module) = module {
                return Ok(Wired::EntryPoint(Convention::PythonPackageInit(module.to_string())));
            }
        }
        Err(NotWired::Unused)
    }

    /// Whether a command of the plan runs `path` (or imports its module).
    pub fn run_by_plan(&self, path: &str) -> Option<&PlanCommand> {
        let id = self.ids.get(path)?;
        self.run_by_plan.get(id).map(|&index| &self.commands[index])
    }

    /// Where `from` uses `to`: `(line, how)`, directly or through modules that re-export it
    /// (a barrel `index.ts` with `export * from './tax'`, a package's `__init__.py`, `pub use`),
    /// or a plain reference when a config could not be read.
    pub fn uses(&self, from: &str, to: &str) -> Option<(u32, String)> {
        let (&a, &b) = (self.ids.get(from)?, self.ids.get(to)?);
        if let Some(edge) =
            self.outgoing[a].iter().map(|&e| &self.edges[e]).filter(|e| e.to == b).min_by_key(|e| e.line)
        {
            return Some((edge.line, edge.via.to_string()));
        }
        if let Some(found) = self.through_reexports(a, b) {
            return Some(found);
        }
        let (unreadable, _) = self.project.unreadable.first()?;
        let text = self.texts[a]?;
        let line = crate::artifacts::references(from, text, to)?;
        Some((line, format!("a plain reference ({unreadable} could not be read)")))
    }

    /// `a` imports a module that re-exports `b` (at most three re-exports deep).
    fn through_reexports(&self, a: usize, b: usize) -> Option<(u32, String)> {
        const DEPTH: usize = 3;
        for &first in &self.outgoing[a] {
            let first = &self.edges[first];
            let mut chain = vec![first.to];
            let mut seen = vec![a, first.to];
            while let Some(&current) = chain.last() {
                if chain.len() > DEPTH {
                    break;
                }
                let next = self.outgoing[current]
                    .iter()
                    .map(|&e| &self.edges[e])
                    .filter(|e| self.is_reexport(e) && !seen.contains(&e.to))
                    .find(|e| e.to == b)
                    .or_else(|| {
                        self.outgoing[current]
                            .iter()
                            .map(|&e| &self.edges[e])
                            .find(|e| self.is_reexport(e) && !seen.contains(&e.to))
                    });
                let Some(next) = next else { break };
                if next.to == b {
                    let path = self.paths[next.from];
                    return Some((first.line, format!("{}, re-exported at {path}:{}", first.via, next.line)));
                }
                seen.push(next.to);
                chain.push(next.to);
            }
        }
        None
    }

    /// Whether `edge` re-exports what it imports: `export … from` (JS/TS), `pub use` /
    /// `pub mod` (Rust), any import of a package's `__init__.py`.
    fn is_reexport(&self, edge: &Edge) -> bool {
        let path = self.paths[edge.from];
        if file_name(path) == "__init__.py" {
            return true;
        }
        let Some(text) = self.texts[edge.from] else { return false };
        let line = text.lines().nth(edge.line.saturating_sub(1) as usize).unwrap_or_default().trim_start();
        line.starts_with("export ")
            || line.starts_with("export*")
            || line.starts_with("pub use ")
            || line.starts_with("pub mod ")
    }

    /// The files whose path is `name` or ends with `/name`: what a key link's `+page.svelte`
    /// names.
    pub fn files_named(&self, name: &str) -> Vec<&'a str> {
        let name = name.trim_start_matches("./");
        if let Some((&path, _)) = self.ids.get_key_value(name) {
            return vec![path];
        }
        let suffix = format!("/{name}");
        self.paths.iter().copied().filter(|path| path.ends_with(&suffix)).collect()
    }

    /// The text of `path`, when it was read.
    pub fn text(&self, path: &str) -> Option<&'a str> {
        self.ids.get(path).and_then(|&id| self.texts[id])
    }

    fn used(&self, edge: usize) -> Wired<'_> {
        let edge = &self.edges[edge];
        Wired::Used { by: self.paths[edge.from], line: edge.line, via: &edge.via }
    }

    /// Which edge to show first: imports before manifests, commands and names.
    fn rank(&self, edge: usize) -> (u8, &str, u32) {
        let edge = &self.edges[edge];
        let kind = match edge.via {
            Via::Manifest { .. } | Via::Runs { .. } => 2,
            Via::PythonPackage { .. } | Via::DottedPath { .. } | Via::Fixture { .. } => 1,
            _ => 0,
        };
        (kind, self.paths[edge.from], edge.line)
    }

    /// The fallback when a config file could not be read: plain references, the way wavecrew
    /// judged wiring before resolution (Markdown never counts).
    fn plain_reference(&self, path: &str) -> Option<Wired<'_>> {
        let (unreadable, _) = self.project.unreadable.first()?;
        // The target's path without its extension: what an unresolved alias import ends with.
        let stem = path.rsplit_once('.').map_or(path, |(stem, _)| stem);
        let stem = stem.strip_suffix("/index").unwrap_or(stem);
        self.paths.iter().zip(&self.texts).find_map(|(other, text)| {
            let text = (*other != path && !is_prose(other)).then_some(*text).flatten()?;
            let line = crate::artifacts::references(other, text, path).or_else(|| {
                let script = [".ts", ".tsx", ".js", ".jsx", ".mjs", ".svelte", ".vue", ".astro"]
                    .iter()
                    .any(|e| other.ends_with(e));
                let specifiers = if script { extract::javascript_specifiers(text) } else { Vec::new() };
                specifiers.into_iter().find_map(|(line, specifier)| {
                    let last = specifier.rsplit('/').next().unwrap_or(&specifier);
                    let last = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
                    (!specifier.starts_with('.') && (stem == last || stem.ends_with(&format!("/{last}"))))
                        .then_some(line)
                })
            })?;
            Some(Wired::PlainReference { by: other, line, unreadable })
        })
    }

    /// Rust files compiled: reachable by `mod` from a crate root, each with the edge that
    /// declared it (`None` for the roots).
    fn rust_reachable(&self) -> HashMap<usize, Option<usize>> {
        let mut reached: HashMap<usize, Option<usize>> = HashMap::new();
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &root in &self.project.rust_roots {
            if reached.insert(root, None).is_none() {
                queue.push_back(root);
            }
        }
        while let Some(file) = queue.pop_front() {
            for &edge in &self.outgoing[file] {
                if self.edges[edge].via == Via::RustMod && !reached.contains_key(&self.edges[edge].to) {
                    reached.insert(self.edges[edge].to, Some(edge));
                    queue.push_back(self.edges[edge].to);
                }
            }
        }
        reached
    }
}

/// The repository as the readers see it: paths by index, texts where read.
pub(crate) struct Files<'f, 'a> {
    pub(crate) paths: &'f [&'a str],
    pub(crate) ids: &'f FxHashMap<&'a str, usize>,
    pub(crate) texts: &'f [Option<&'a str>],
}

impl<'a> Files<'_, 'a> {
    pub(crate) fn id(&self, path: &str) -> Option<usize> {
        self.ids.get(path).copied()
    }

    pub(crate) fn exists(&self, path: &str) -> bool {
        self.ids.contains_key(path)
    }

    pub(crate) fn text(&self, path: &str) -> Option<&'a str> {
        self.id(path).and_then(|id| self.texts[id])
    }
}

/// Whether `path` is prose (Markdown, text, reStructuredText): never a use of anything.
pub fn is_prose(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".md", ".markdown", ".mdx", ".txt", ".rst"].iter().any(|ext| lower.ends_with(ext))
}

/// The directory of `path`, "" at the root.
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// `relative` resolved against `dir`; `None` above the root.
pub(crate) fn join(dir: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> =
        if relative.starts_with('/') { Vec::new() } else { dir.split('/').filter(|part| !part.is_empty()).collect() };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `dir/name`, or `name` at the root.
pub(crate) fn child(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// Whether `path` is inside `dir` ("" holds everything).
pub(crate) fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_at(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    u32::try_from(text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
