//! Imports per language, read from code with comments removed and found outside strings, and
//! resolved against the [`Project`] into [`Edge`]s.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::project::{Framework, Project, crate_used_as, package_named};
use super::{Edge, Files, Via, child, file_name, is_under, join, line_at, parent};
use crate::artifacts::expand_use_tree;
use crate::patterns::{Language, strip_comments};

/// Extensions a JS/TS import may leave out, in the order bundlers try them.
const JS_EXTENSIONS: &[&str] =
    &["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts", "svelte", "vue", "astro", "json", "d.ts"];
const CSS_EXTENSIONS: &[&str] = &["css", "scss", "sass", "less", "pcss"];

/// The edges that start in file `id`.
pub(super) fn edges_of(files: &Files, project: &Project, id: usize, text: &str, edges: &mut Vec<Edge>) {
    let path = files.paths[id];
    let name = file_name(path);
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext).to_ascii_lowercase();
    let mut push = |to: usize, line: u32, via: Via| edges.push(Edge { from: id, to, line, via });
    match extension.as_str() {
        "py" | "pyw" => python(files, project, path, text, &mut push),
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx" | "mts" | "cts" => {
            javascript(files, project, path, text, &mut push);
        }
        "svelte" | "vue" | "astro" => {
            let (script, style) = component_views(text, extension == "astro");
            javascript(files, project, path, &script, &mut push);
            css(files, project, path, &style, &mut push);
        }
        "css" | "scss" | "sass" | "less" | "pcss" => css(files, project, path, text, &mut push),
        "html" | "htm" => html(files, path, text, &mut push),
        "rs" => rust(files, project, path, text, &mut push),
        "c" | "h" | "cc" | "cpp" | "hpp" | "cxx" | "hh" => include(files, path, text, &mut push),
        _ => {}
    }
    if is_runner(path, &extension, text) {
        runner(files, project, path, text, &mut push);
    }
}

/// Files whose lines are commands a tool runs: Makefiles, CI configuration, Dockerfiles,
/// Procfiles, shell scripts.
fn is_runner(path: &str, extension: &str, text: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    matches!(extension, "sh" | "bash" | "zsh" | "mk")
        || matches!(name.as_str(), "makefile" | "gnumakefile" | "justfile" | "procfile" | "tox.ini" | ".gitlab-ci.yml")
        || name.starts_with("dockerfile")
        || name.starts_with("docker-compose")
        || name.starts_with("compose.")
        || (path.starts_with(".github/workflows/") && matches!(extension, "yml" | "yaml"))
        || path.starts_with(".circleci/")
        || (extension.is_empty() && text.starts_with("#!"))
}

/// Every line of a runner file that runs a file of the repository.
fn runner(files: &Files, project: &Project, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    let code = strip_comments(Language::Config, text, false);
    let dir = if path.starts_with(".github/") || path.starts_with(".circleci/") { "" } else { parent(path) };
    for (index, line) in code.lines().enumerate() {
        let command = line.trim().trim_start_matches("- ").trim();
        let command = ["run:", "script:", "command:", "entrypoint:", "CMD", "RUN", "ENTRYPOINT", "web:", "worker:"]
            .iter()
            .find_map(|prefix| command.strip_prefix(prefix))
            .unwrap_or(command)
            .trim();
        if command.is_empty() {
            continue;
        }
        // Dockerfile and compose exec forms: `CMD ["python", "app.py"]`.
        let command = if command.starts_with('[') {
            command
                .trim_matches(['[', ']'])
                .split(',')
                .map(|w| w.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            command.to_string()
        };
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for target in super::commands::targets(files, project, dir, &command) {
            push(target, line_number, Via::Runs { command: one_line(&command) });
        }
        if let Some(caps) = SETTINGS_MODULE.captures(&command)
            && let Some(target) = resolve_dotted(files, project, &child(dir, "__command__.py"), &caps[1])
        {
            push(target, line_number, Via::DottedPath { path: caps[1].to_string() });
        }
        if let Some(caps) = SHELL_SOURCE.captures(&command) {
            let sourced = caps[1].trim_matches(['"', '\'']);
            let sourced = LEADING_VARIABLE.replace(sourced, "");
            let target = [join(parent(path), &sourced), join("", &sourced)]
                .into_iter()
                .flatten()
                .find_map(|candidate| files.id(&candidate));
            if let Some(target) = target {
                push(target, line_number, Via::ShellSource);
            }
        }
    }
}

/// Django's settings module, named in an environment (`ENV DJANGO_SETTINGS_MODULE=a.settings.prod`).
static SETTINGS_MODULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"DJANGO_SETTINGS_MODULE["']?\s*[=:]\s*["']?([A-Za-z_][\w.]*)"#).expect("settings module")
});
static SHELL_SOURCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[;&|]\s*)(?:source|\.)\s+(\S+)").expect("shell source"));
static LEADING_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:(?:\$\{[^}]*\}|\$\([^)]*\)|\$\w+)/)+").expect("leading variable"));

pub(super) fn one_line(command: &str) -> String {
    let line = command.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

// ---------------------------------------------------------------------------------------------
// Python

/// One Python import statement.
pub(super) struct PyImport {
    pub(super) line: u32,
    /// Leading dots of a relative import.
    pub(super) dots: usize,
    pub(super) module: String,
    /// The names of `from … import a, b`; empty for `import a.b`.
    pub(super) names: Vec<String>,
}

pub(super) fn python_imports(text: &str) -> Vec<PyImport> {
    // Code without strings: `import` inside a string or a docstring is not an import.
    imports_in(&strip_comments(Language::Python, text, true))
}

/// The imports of Python code whose comments and strings are blanked: `import a.b, c as d`
/// and `from .x import (y, z)` (over several lines in brackets), at the start of a line.
fn imports_in(structure: &str) -> Vec<PyImport> {
    let lines: Vec<&str> = structure.lines().collect();
    let mut imports = Vec::new();
    let is_module = |word: &str| !word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(rest) = trimmed.strip_prefix("import").filter(|r| r.starts_with([' ', '\t'])) {
            for module in rest.split(',') {
                let module = module.split_whitespace().next().unwrap_or_default();
                if is_module(module) {
                    imports.push(PyImport { line: number, dots: 0, module: module.to_string(), names: Vec::new() });
                }
            }
        } else if let Some(rest) = trimmed.strip_prefix("from").filter(|r| r.starts_with([' ', '\t'])) {
            let mut words = rest.split_whitespace();
            let (Some(source), Some("import")) = (words.next(), words.next()) else { continue };
            let dots = source.len() - source.trim_start_matches('.').len();
            let module = &source[dots..];
            if !module.is_empty() && !is_module(module) {
                continue;
            }
            let mut names = rest.split_once("import").map_or("", |(_, names)| names).to_string();
            if names.contains('(') && !names.contains(')') {
                for more in lines.iter().skip(index + 1).take(200) {
                    names.push(',');
                    names.push_str(more);
                    if more.contains(')') {
                        break;
                    }
                }
            }
            let names = names
                .split([',', '(', ')', '\\'])
                .filter_map(|name| name.split_whitespace().next())
                .filter(|name| name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .map(str::to_owned)
                .collect();
            imports.push(PyImport { line: number, dots, module: module.to_string(), names });
        }
    }
    imports
}

/// The folders an absolute import in `from` is looked up in: the file's own folder (a script's
/// folder is on `sys.path`), the first folder above it that is not a package (pytest's rootdir
/// insertion), then the project's Python roots.
pub(super) fn python_roots(files: &Files, project: &Project, from: &str) -> Vec<String> {
    let mut roots = vec![parent(from).to_string()];
    let mut dir = parent(from).to_string();
    while !dir.is_empty() && files.exists(&child(&dir, "__init__.py")) {
        dir = parent(&dir).to_string();
    }
    roots.push(dir);
    for root in &project.python_roots {
        if !roots.contains(root) {
            roots.push(root.clone());
        }
    }
    roots.dedup();
    roots
}

/// The file of module `dotted` under `root`: `a/b.py` or `a/b/__init__.py`.
fn python_module_file(files: &Files, root: &str, dotted: &str) -> Option<usize> {
    let relative = dotted.replace('.', "/");
    let base = child(root, &relative);
    files.id(&format!("{base}.py")).or_else(|| files.id(&format!("{base}/__init__.py")))
}

/// The files `import` resolves to from `from`, with the rule, the module's packages'
/// `__init__.py` included.
pub(super) fn resolve_python(files: &Files, project: &Project, from: &str, import: &PyImport) -> Vec<(usize, Via)> {
    resolve_python_in(files, project, &python_roots(files, project, from), from, import)
}

/// [`resolve_python`] with the import roots of `from` already known.
fn resolve_python_in(
    files: &Files,
    project: &Project,
    roots: &[String],
    from: &str,
    import: &PyImport,
) -> Vec<(usize, Via)> {
    let mut out = Vec::new();
    if import.dots > 0 {
        let mut base = Some(parent(from).to_string());
        for _ in 1..import.dots {
            base = base.filter(|dir| !dir.is_empty()).map(|dir| parent(&dir).to_string());
        }
        let Some(base) = base else { return out };
        let package = if import.module.is_empty() { base } else { child(&base, &import.module.replace('.', "/")) };
        if let Some(id) = files.id(&format!("{package}.py")).or_else(|| files.id(&format!("{package}/__init__.py"))) {
            out.push((id, Via::Relative));
        }
        for name in &import.names {
            if let Some(id) =
                files.id(&format!("{package}/{name}.py")).or_else(|| files.id(&format!("{package}/{name}/__init__.py")))
            {
                out.push((id, Via::Relative));
            }
        }
        return out;
    }
    for root in roots {
        match python_module_file(files, root, &import.module) {
            Some(found) => out.push((found, Via::PythonImport { module: import.module.clone() })),
            // A namespace package: a folder without `__init__.py` whose modules are imported.
            None if !import.names.is_empty()
                && project.dirs.contains(&child(root, &import.module.replace('.', "/"))) => {}
            None => continue,
        }
        for name in &import.names {
            let dotted = format!("{}.{name}", import.module);
            if let Some(id) = python_module_file(files, root, &dotted) {
                out.push((id, Via::PythonImport { module: dotted }));
            }
        }
        // Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py`.
        let parts: Vec<&str> = import.module.split('.').collect();
        for end in 1..parts.len() {
            let package = parts[..end].join("/");
            if let Some(id) = files.id(&format!("{}/__init__.py", child(root, &package))) {
                out.push((id, Via::PythonPackage { module: import.module.clone() }));
            }
        }
        break;
    }
    out
}

/// The module a dotted path names, from the longest prefix that is a module
/// (`polls.apps.PollsConfig` → `polls/apps.py`).
pub(super) fn resolve_dotted(files: &Files, project: &Project, from: &str, dotted: &str) -> Option<usize> {
    let parts: Vec<&str> = dotted.split('.').collect();
    for root in python_roots(files, project, from) {
        for end in (1..=parts.len()).rev() {
            if let Some(id) = python_module_file(files, &root, &parts[..end].join(".")) {
                return Some(id);
            }
        }
    }
    None
}

fn python(files: &Files, project: &Project, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    let structure = strip_comments(Language::Python, text, true);
    let roots = python_roots(files, project, path);
    for import in imports_in(&structure) {
        for (target, via) in resolve_python_in(files, project, &roots, path, &import) {
            push(target, import.line, via);
        }
    }
    // Dotted paths in strings (Django settings, `include("app.urls")`, `import_module`):
    // a whole string of two words or more that resolves to a module of the project. One word
    // counts only in a settings file (`INSTALLED_APPS = ["polls"]`).
    static DOTTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)["']"#).expect("dotted"));
    let settings = text.contains("INSTALLED_APPS");
    if !text.contains('.') && !settings {
        return;
    }
    // A string literal: its quotes survive in the code without strings (where comments and
    // docstrings are blanked), at the same offsets.
    let code = text;
    for caps in DOTTED.captures_iter(code) {
        let Some(whole) = caps.get(0) else { continue };
        let real = |at: usize| matches!(structure.as_bytes().get(at), Some(b'"' | b'\''));
        if !real(whole.start()) || !real(whole.end() - 1) {
            continue;
        }
        let dotted = &caps[1];
        if !dotted.contains('.') && !settings {
            continue;
        }
        let Some(target) = resolve_dotted(files, project, path, dotted) else { continue };
        // The first word must name a module or package itself, not a variable.
        let head = dotted.split('.').next().unwrap_or_default();
        if !roots.iter().any(|root| python_module_file(files, root, head).is_some()) {
            continue;
        }
        push(target, line_at(code, whole.start()), Via::DottedPath { path: dotted.to_string() });
    }
}

/// The installed Django apps: the packages a settings file's `INSTALLED_APPS` names.
pub(super) fn django_apps(files: &Files, project: &Project) -> HashSet<String> {
    static STRING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)["']"#).expect("string"));
    let mut apps = HashSet::new();
    for (id, path) in files.paths.iter().enumerate() {
        let Some(text) = files.texts[id].filter(|t| path.ends_with(".py") && t.contains("INSTALLED_APPS")) else {
            continue;
        };
        for caps in STRING.captures_iter(text) {
            let parts: Vec<&str> = caps[1].split('.').collect();
            for root in python_roots(files, project, path) {
                // The longest prefix that is a package (a folder with `__init__.py` or `apps.py`).
                let found = (1..=parts.len()).rev().find_map(|end| {
                    let dir = child(&root, &parts[..end].join("/"));
                    (files.exists(&child(&dir, "__init__.py")) || files.exists(&child(&dir, "apps.py"))).then_some(dir)
                });
                if let Some(dir) = found {
                    apps.insert(dir);
                    break;
                }
            }
        }
    }
    apps
}

// ---------------------------------------------------------------------------------------------
// JavaScript and TypeScript

/// (line, specifier) of every `import … from "x"`, `import "x"`, `export … from "x"`,
/// `import("x")` and `require("x")` outside comments and strings.
pub(super) fn javascript_specifiers(text: &str) -> Vec<(u32, String)> {
    static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*["'`]"#).expect("js import keyword")
    });
    // Offsets are the same in both: a string's contents are read from the text itself.
    let structure = strip_comments(Language::JavaScript, text, true);
    let code = text;
    let mut out = Vec::new();
    for found in KEYWORD.find_iter(&structure) {
        // `.from("x")` and `x.import("y")` are method calls.
        if structure[..found.start()].trim_end().ends_with('.') {
            continue;
        }
        let quote_at = found.end() - 1;
        let quote = structure.as_bytes()[quote_at];
        let Some(rest) = code.get(quote_at + 1..) else { continue };
        let Some(end) = rest.find(quote as char) else { continue };
        let specifier = &rest[..end];
        if specifier.is_empty() || specifier.contains('\n') || specifier.contains("${") {
            continue;
        }
        out.push((line_at(&structure, found.start()), specifier.to_string()));
    }
    out
}

fn javascript(files: &Files, project: &Project, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    for (line, specifier) in javascript_specifiers(text) {
        if let Some((target, via)) = resolve_js(files, project, path, &specifier, JS_EXTENSIONS) {
            push(target, line, via);
        }
    }
}

/// The file a module specifier in `from` names, with the rule that resolved it.
pub(super) fn resolve_js(
    files: &Files,
    project: &Project,
    from: &str,
    specifier: &str,
    extensions: &[&str],
) -> Option<(usize, Via)> {
    let specifier = specifier.split(['?', '#']).next().filter(|s| !s.is_empty()).unwrap_or(specifier);
    if specifier.contains("://") || specifier.starts_with("data:") || specifier.starts_with("node:") {
        return None;
    }
    if specifier.starts_with("./") || specifier.starts_with("../") || specifier == "." || specifier == ".." {
        return with_extensions(files, &join(parent(from), specifier)?, extensions).map(|id| (id, Via::Relative));
    }
    if let Some(rooted) = specifier.strip_prefix('/') {
        let root = project.package_of(from).map_or("", |package| package.dir.as_str());
        return with_extensions(files, &child(root, rooted), extensions).map(|id| (id, Via::RootRelative));
    }
    for alias in project.aliases.iter().filter(|alias| is_under(from, &alias.scope)) {
        let Some(targets) = alias.apply(specifier) else { continue };
        if let Some(id) = targets.iter().find_map(|target| with_extensions(files, target, extensions)) {
            return Some((id, Via::Alias { alias: alias.pattern.clone(), config: alias.config.clone() }));
        }
    }
    let (name, subpath) = package_parts(specifier);
    if let Some(package) = package_named(project, name) {
        let via = Via::Package { name: name.to_string(), manifest: package.manifest.clone() };
        let wanted = if subpath.is_empty() { ".".to_string() } else { format!("./{subpath}") };
        let mut targets: Vec<&str> =
            package.subpaths.iter().filter(|(sub, _)| *sub == wanted).map(|(_, target)| target.as_str()).collect();
        if subpath.is_empty() {
            targets.extend(package.entries.iter().map(|(_, target)| target.as_str()));
        }
        for target in targets {
            if let Some(id) = package_target(files, project, &package.dir, target) {
                return Some((id, via));
            }
        }
        let fallback = if subpath.is_empty() {
            ["src/index", "index"].map(|s| child(&package.dir, s)).to_vec()
        } else {
            vec![child(&package.dir, subpath), child(&package.dir, &format!("src/{subpath}"))]
        };
        return fallback.iter().find_map(|p| with_extensions(files, p, extensions)).map(|id| (id, via));
    }
    for (_, base, config) in project.base_urls.iter().filter(|(scope, _, _)| is_under(from, scope)) {
        if let Some(id) = with_extensions(files, &child(base, specifier), extensions) {
            return Some((id, Via::BaseUrl { config: config.clone() }));
        }
    }
    None
}

/// `@scope/name/sub` → (`@scope/name`, `sub`); `name/sub` → (`name`, `sub`).
fn package_parts(specifier: &str) -> (&str, &str) {
    let cut = if specifier.starts_with('@') { 2 } else { 1 };
    match specifier.match_indices('/').nth(cut - 1) {
        Some((at, _)) => (&specifier[..at], &specifier[at + 1..]),
        None => (specifier, ""),
    }
}

/// The source file behind a package's entry (`./dist/index.js`): the file itself, or, for
/// build output, its source through tsconfig's `outDir`/`rootDir` (else a SvelteKit library's
/// `dist/` read as `src/lib/`, as svelte-package builds it, and `dist/`, `build/`, `lib/`,
/// `out/` read as `src/`).
pub(super) fn package_target(files: &Files, project: &Project, dir: &str, target: &str) -> Option<usize> {
    let path = join(dir, target)?;
    if let Some(id) = with_extensions(files, &path, JS_EXTENSIONS) {
        return Some(id);
    }
    let stem = strip_js_extension(&path);
    for (scope, out, root) in &project.out_dirs {
        if is_under(&path, scope)
            && let Some(rest) = stem.strip_prefix(out.as_str()).and_then(|r| r.strip_prefix('/'))
            && let Some(id) = with_extensions(files, &child(root, rest), JS_EXTENSIONS)
        {
            return Some(id);
        }
    }
    let relative = stem.strip_prefix(dir).map_or(stem, |r| r.trim_start_matches('/'));
    let (first, rest) = relative.split_once('/')?;
    if first == "dist" && project.uses(&path, Framework::SvelteKit).is_some() {
        // svelte-package builds a SvelteKit library's `$lib` folder (src/lib) into dist/.
        let lib = project
            .aliases
            .iter()
            .find(|alias| alias.pattern == "$lib" && alias.scope == dir)
            .and_then(|alias| alias.targets.first().cloned())
            .unwrap_or_else(|| child(dir, "src/lib"));
        if let Some(id) = with_extensions(files, &child(&lib, rest), JS_EXTENSIONS) {
            return Some(id);
        }
    }
    ["dist", "build", "lib", "out"]
        .contains(&first)
        .then(|| with_extensions(files, &child(dir, &format!("src/{rest}")), JS_EXTENSIONS))
        .flatten()
}

fn strip_js_extension(path: &str) -> &str {
    for ext in [".d.ts", ".d.mts", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"] {
        if let Some(stem) = path.strip_suffix(ext) {
            return stem;
        }
    }
    path
}

/// The file `path` names as a bundler finds it: itself, with an extension, its `index`, or the
/// TypeScript source of a `.js` path.
pub(super) fn with_extensions(files: &Files, path: &str, extensions: &[&str]) -> Option<usize> {
    if let Some(id) = files.id(path) {
        return Some(id);
    }
    let path = path.trim_end_matches('/');
    for ext in extensions {
        if let Some(id) = files.id(&format!("{path}.{ext}")) {
            return Some(id);
        }
    }
    for ext in extensions {
        if let Some(id) = files.id(&format!("{path}/index.{ext}")) {
            return Some(id);
        }
    }
    for (js, ts) in [(".js", ".ts"), (".js", ".tsx"), (".jsx", ".tsx"), (".mjs", ".mts"), (".cjs", ".cts")] {
        if let Some(stem) = path.strip_suffix(js)
            && let Some(id) = files.id(&format!("{stem}{ts}"))
        {
            return Some(id);
        }
    }
    if extensions == CSS_EXTENSIONS {
        let (dir, name) = (parent(path), file_name(path));
        let partial = child(dir, &format!("_{name}"));
        for ext in [""].iter().chain(CSS_EXTENSIONS) {
            let candidate = if ext.is_empty() { partial.clone() } else { format!("{partial}.{ext}") };
            if let Some(id) = files.id(&candidate) {
                return Some(id);
            }
        }
    }
    None
}

/// A component's `<script>` blocks (or Astro's frontmatter) and `<style>` blocks, everything
/// else blanked (markup, HTML comments), byte for byte so lines stay.
pub(super) fn component_views(text: &str, astro: bool) -> (String, String) {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<!--.*?-->|<(script|style)\b[^>]*>(.*?)</(?:script|style)\s*>").expect("component block")
    });
    let blank = |s: &str| s.bytes().map(|b| if b == b'\n' { '\n' } else { ' ' }).collect::<String>();
    let mut script = blank(text);
    let mut style = script.clone();
    let keep = |view: &mut String, start: usize, end: usize| view.replace_range(start..end, &text[start..end]);
    if astro
        && text.starts_with("---")
        && let Some(end) = text[3..].find("\n---")
    {
        keep(&mut script, 3, 3 + end);
    }
    for caps in BLOCK.captures_iter(text) {
        let (Some(kind), Some(body)) = (caps.get(1), caps.get(2)) else { continue };
        let view = if kind.as_str().eq_ignore_ascii_case("script") { &mut script } else { &mut style };
        keep(view, body.start(), body.end());
    }
    (script, style)
}

// ---------------------------------------------------------------------------------------------
// CSS and HTML

fn css(files: &Files, project: &Project, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"@(?:import|use|forward)\s+(?:url\(\s*)?["']?([^"')\s;]+)|\burl\(\s*["']?([^"')\s]+)"#)
            .expect("css import")
    });
    let code = strip_comments(Language::Css, text, false);
    for caps in IMPORT.captures_iter(&code) {
        let Some(target) = caps.get(1).or_else(|| caps.get(2)) else { continue };
        let line = line_at(&code, target.start());
        let target = target.as_str().trim_start_matches('~');
        let resolved =
            if target.starts_with('.') || target.starts_with('/') || target.starts_with('$') || target.starts_with('@')
            {
                resolve_js(files, project, path, target, CSS_EXTENSIONS)
                    .or_else(|| resolve_js(files, project, path, target, JS_EXTENSIONS))
            } else {
                // `@import "theme.css"` is relative without `./`.
                resolve_js(files, project, path, &format!("./{target}"), CSS_EXTENSIONS)
            };
        if let Some((id, via)) = resolved {
            push(id, line, if via == Via::Relative { Via::CssImport } else { via });
        }
    }
}

fn html(files: &Files, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    static ATTRIBUTE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\b(?:src|href)\s*=\s*["']([^"']+)["']"#).expect("html attribute"));
    let code = strip_comments(Language::Html, text, false);
    for caps in ATTRIBUTE.captures_iter(&code) {
        let link = &caps[1];
        if link.contains("://")
            || link.starts_with('#')
            || link.starts_with("//")
            || link.contains('%')
            || link.contains("{{")
        {
            continue;
        }
        let line = line_at(&code, caps.get(0).map_or(0, |m| m.start()));
        let target = if let Some(rooted) = link.strip_prefix('/') {
            child(parent(path), rooted)
        } else {
            join(parent(path), link).unwrap_or_default()
        };
        if let Some(id) = with_extensions(files, &target, JS_EXTENSIONS) {
            push(id, line, Via::HtmlLink);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rust

fn rust(files: &Files, project: &Project, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    static MOD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?mod[ \t]+(?:r#)?(\w+)[ \t]*;").expect("rust mod")
    });
    static PATH_ATTRIBUTE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"#\[path\s*=\s*"([^"]+)"\s*\]\s*$"#).expect("rust path attribute"));
    static USE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use[ \t]+([^;]*);").expect("rust use"));
    static PATH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b([A-Za-z_]\w*)((?:::[A-Za-z_]\w*)+)").expect("rust path"));
    let structure = strip_comments(Language::Rust, text, true);
    let code = strip_comments(Language::Rust, text, false);
    let module_dir = rust_module_dir(files, project, path);
    for caps in MOD.captures_iter(&structure) {
        let Some(whole) = caps.get(0) else { continue };
        let line = line_at(&structure, whole.start());
        // A `#[path = "…"]` right above.
        let above = code[..whole.start()].trim_end();
        let attribute = PATH_ATTRIBUTE.captures(above.lines().last().unwrap_or_default());
        let target = match attribute {
            Some(attribute) => join(parent(path), &attribute[1]).and_then(|p| files.id(&p)),
            None => {
                let name = &caps[1];
                files
                    .id(&child(&module_dir, &format!("{name}.rs")))
                    .or_else(|| files.id(&child(&module_dir, &format!("{name}/mod.rs"))))
            }
        };
        if let Some(target) = target {
            push(target, line, Via::RustMod);
        }
    }
    let mut paths: Vec<(u32, String)> = Vec::new();
    for caps in USE.captures_iter(&structure) {
        let line = line_at(&structure, caps.get(0).map_or(0, |m| m.start()));
        let tree: String = caps[1].split_whitespace().collect::<Vec<_>>().join(" ");
        for used in expand_use_tree(&tree.replace(' ', "")) {
            paths.push((line, used));
        }
    }
    for caps in PATH.captures_iter(&structure) {
        let line = line_at(&structure, caps.get(0).map_or(0, |m| m.start()));
        paths.push((line, format!("{}{}", &caps[1], &caps[2])));
    }
    let (root, module) = rust_position(files, project, path);
    for (line, used) in paths {
        let segments: Vec<&str> = used.split("::").filter(|s| !s.is_empty() && *s != "self" && *s != "*").collect();
        let Some(first) = segments.first() else { continue };
        let (base_root, mut base, rest, via) = match *first {
            "crate" => (root.clone(), Vec::new(), &segments[1..], Via::RustPath),
            "super" => {
                let supers = segments.iter().take_while(|s| **s == "super").count();
                let mut base = module.clone();
                if base.len() < supers {
                    continue;
                }
                base.truncate(base.len() - supers);
                (root.clone(), base, &segments[supers..], Via::RustPath)
            }
            name => match crate_used_as(project, path, name).filter(|c| c.lib.is_some() && !is_under(path, &c.dir)) {
                Some(found) => {
                    let lib = found.lib.clone().unwrap_or_default();
                    if let Some(id) = files.id(&lib) {
                        push(id, line, Via::RustCrate { name: found.name.clone(), manifest: found.manifest.clone() });
                    }
                    let via = Via::RustCrate { name: found.name.clone(), manifest: found.manifest.clone() };
                    (parent(&lib).to_string(), Vec::new(), &segments[1..], via)
                }
                // A child module of the current one (`use store::Store;` beside `mod store;`).
                None => (root.clone(), module.clone(), &segments[..], Via::RustPath),
            },
        };
        let mut deepest = None;
        for segment in rest {
            base.push(segment);
            let joined = base.join("/");
            let found = files
                .id(&child(&base_root, &format!("{joined}.rs")))
                .or_else(|| files.id(&child(&base_root, &format!("{joined}/mod.rs"))));
            match found {
                Some(id) => deepest = Some(id),
                None => break,
            }
        }
        if let Some(id) = deepest {
            push(id, line, via);
        }
    }
}

/// Whether `path` is a crate root: its `mod x;` looks beside it.
fn is_rust_root(files: &Files, project: &Project, path: &str) -> bool {
    files.id(path).is_some_and(|id| project.rust_roots.contains(&id))
}

/// Where `mod x;` in `path` looks for `x.rs`.
fn rust_module_dir(files: &Files, project: &Project, path: &str) -> String {
    let name = file_name(path);
    if matches!(name, "mod.rs" | "lib.rs" | "main.rs") || is_rust_root(files, project, path) {
        parent(path).to_string()
    } else {
        path.strip_suffix(".rs").unwrap_or(path).to_string()
    }
}

/// The folder of `path`'s crate root and `path`'s module path under it.
fn rust_position<'p>(files: &Files, project: &Project, path: &'p str) -> (String, Vec<&'p str>) {
    let owner = project.crates.iter().filter(|c| is_under(path, &c.dir)).max_by_key(|c| c.dir.len());
    let src = owner.map(|c| child(&c.dir, "src"));
    let root = match src {
        Some(src) if is_under(path, &src) && !path.starts_with(&child(&src, "bin/")) => src,
        _ => parent(path).to_string(),
    };
    let relative = path.strip_prefix(root.as_str()).map_or(path, |r| r.trim_start_matches('/'));
    let mut module: Vec<&str> = relative.split('/').collect();
    if let Some(last) = module.pop() {
        let is_root = module.is_empty() && is_rust_root(files, project, path);
        if last != "mod.rs" && !is_root {
            module.push(last.strip_suffix(".rs").unwrap_or(last));
        }
    }
    (root, module)
}

// ---------------------------------------------------------------------------------------------
// C

fn include(files: &Files, path: &str, text: &str, push: &mut impl FnMut(usize, u32, Via)) {
    static INCLUDE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?m)^[ \t]*#[ \t]*include[ \t]*"([^"]+)""#).expect("include"));
    let code = strip_comments(Language::CFamily, text, false);
    for caps in INCLUDE.captures_iter(&code) {
        let line = line_at(&code, caps.get(0).map_or(0, |m| m.start()));
        if let Some(id) = join(parent(path), &caps[1]).and_then(|p| files.id(&p)) {
            push(id, line, Via::Include);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Edges that need several files at once: Go packages, manifests, fixtures, template tags.

pub(super) fn cross_file_edges(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    go(files, project, edges);
    manifests(files, project, edges);
    fixtures(files, edges);
    template_tags(files, edges);
    templates(files, edges);
    route_configs(files, project, edges);
    nuxt(files, project, edges);
    public_assets(files, project, edges);
}

/// Files a web server serves as they are (`public/`, SvelteKit's `static/`), used by their URL
/// in code, markup or a manifest (`"/og.jpg"`, `href="/favicon.ico"`).
fn public_assets(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"["'`(](/[^"'`()\s?#]+)"#).expect("url"));
    // URL → (package folder, file).
    let mut served: HashMap<(String, String), usize> = HashMap::new();
    for package in &project.packages {
        for folder in ["public", "static"] {
            let base = child(&package.dir, folder);
            if !project.dirs.contains(&base) {
                continue;
            }
            for (id, path) in files.paths.iter().enumerate() {
                if let Some(rest) = path.strip_prefix(base.as_str()).filter(|r| r.starts_with('/')) {
                    served.insert((package.dir.clone(), rest.to_string()), id);
                }
            }
        }
    }
    if served.is_empty() {
        return;
    }
    for (id, path) in files.paths.iter().enumerate() {
        let Some(text) = files.texts[id] else { continue };
        if super::is_prose(path) {
            continue;
        }
        let Some(package) = project.package_of(path) else { continue };
        let code = if path.ends_with(".svelte") || path.ends_with(".vue") || path.ends_with(".astro") {
            strip_comments(Language::JavaScript, &strip_comments(Language::Html, text, false), false)
        } else {
            strip_comments(Language::of(path, text), text, false)
        };
        for caps in URL.captures_iter(&code) {
            let Some(url) = caps.get(1) else { continue };
            if let Some(&to) = served.get(&(package.dir.clone(), url.as_str().to_string())) {
                let name = url.as_str().to_string();
                edges.push(Edge { from: id, to, line: line_at(&code, url.start()), via: Via::Served { url: name } });
            }
        }
    }
}

/// React Router's `app/routes.ts`: `route("recipes/:slug", "routes/recipe.tsx")` registers a
/// module relative to `app/`.
fn route_configs(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    static MODULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["'`]([\w./\[\]$()+-]+\.(?:tsx|ts|jsx|js|mdx))["'`]"#).expect("route module"));
    for package in project.packages.iter().filter(|p| p.frameworks.contains(&Framework::Remix)) {
        let app = child(&package.dir, "app");
        for config in ["routes.ts", "routes.js"].map(|name| child(&app, name)) {
            let (Some(from), Some(text)) = (files.id(&config), files.text(&config)) else { continue };
            let code = strip_comments(Language::JavaScript, text, false);
            for caps in MODULE.captures_iter(&code) {
                let line = line_at(&code, caps.get(0).map_or(0, |m| m.start()));
                if let Some(to) = join(&app, &caps[1]).and_then(|p| files.id(&p)) {
                    edges.push(Edge { from, to, line, via: Via::RouteConfig });
                }
            }
        }
    }
}

/// `components/todo/List.vue` → `TodoList`, as Nuxt names an auto-imported component.
fn nuxt_component_name(inner: &str) -> String {
    let mut pascal = String::new();
    for part in inner.split('/') {
        let part = part.split('.').next().unwrap_or(part);
        for word in part.split(['-', '_']) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                pascal.extend(first.to_uppercase());
                pascal.push_str(chars.as_str());
            }
        }
    }
    pascal
}

/// `TodoList` → `todo-list`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (index, c) in name.chars().enumerate() {
        if index > 0 && c.is_uppercase() {
            out.push('-');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Where `word` appears in `text` as a whole word.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    text.match_indices(word)
        .map(|(at, _)| at)
        .find(|&at| !is_word(text[..at].chars().next_back()) && !is_word(text[at + word.len()..].chars().next()))
}

/// What a Nuxt project provides by name: a component, an exported composable or util, a named
/// route middleware.
enum Provided {
    Component(String),
    Export(String),
    Middleware(String),
}

/// Nuxt's auto-imports: components used by name in templates (`<TodoList />`), composables and
/// utils called by name, named route middleware asked for by `definePageMeta`.
fn nuxt(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    static EXPORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\bexport\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)").expect("export")
    });
    for package in project.packages.iter().filter(|p| p.frameworks.contains(&Framework::Nuxt)) {
        let in_package: Vec<usize> = (0..files.paths.len())
            .filter(|&id| is_under(files.paths[id], &package.dir) && !files.paths[id].contains("node_modules/"))
            .collect();
        let mut provided: Vec<(usize, Provided)> = Vec::new();
        for &id in &in_package {
            let path = files.paths[id];
            let rel = path.strip_prefix(package.dir.as_str()).map_or(path, |r| r.trim_start_matches('/'));
            let rel = rel.strip_prefix("app/").unwrap_or(rel);
            let stem = file_name(path).split('.').next().unwrap_or_default();
            if let Some(inner) = rel.strip_prefix("components/") {
                provided.push((id, Provided::Component(nuxt_component_name(inner))));
            } else if rel.starts_with("composables/") || rel.starts_with("utils/") || rel.starts_with("server/utils/") {
                for caps in files.texts[id].map(|text| EXPORT.captures_iter(text)).into_iter().flatten() {
                    provided.push((id, Provided::Export(caps[1].to_string())));
                }
            } else if rel.starts_with("middleware/") && !file_name(path).contains(".global.") {
                provided.push((id, Provided::Middleware(stem.to_string())));
            }
        }
        if provided.is_empty() {
            continue;
        }
        for &id in &in_package {
            let Some(text) = files.texts[id] else { continue };
            let vue = files.paths[id].ends_with(".vue");
            let markup = if vue { strip_comments(Language::Html, text, false) } else { String::new() };
            let script = if vue { component_views(text, false).0 } else { text.to_string() };
            let structure = strip_comments(Language::JavaScript, &script, true);
            for (to, what) in &provided {
                if *to == id {
                    continue;
                }
                let (found, name) = match what {
                    Provided::Component(name) => {
                        let tags = [format!("<{name}"), format!("<{}", kebab(name)), format!("<Lazy{name}")];
                        let at = tags.iter().find_map(|tag| {
                            markup.match_indices(tag.as_str()).map(|(at, _)| at).find(|&at| {
                                let next = markup[at + tag.len()..].chars().next();
                                next.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
                            })
                        });
                        (at, format!("<{name}>"))
                    }
                    Provided::Export(name) => (find_word(&structure, name), name.clone()),
                    Provided::Middleware(name) => {
                        let asked = structure.contains("middleware") || structure.contains("definePageMeta");
                        let at = asked
                            .then(|| [format!("'{name}'"), format!("\"{name}\"")])
                            .and_then(|quoted| quoted.iter().find_map(|q| script.find(q.as_str())));
                        (at, format!("middleware '{name}'"))
                    }
                };
                if let Some(at) = found {
                    edges.push(Edge { from: id, to: *to, line: line_at(text, at), via: Via::AutoImport { name } });
                }
            }
        }
    }
}

/// Templates named by their path under a `templates/` folder: in Python code
/// (`render(request, "polls/results.html")`, `template_name = "…"`) and in other templates
/// (`{% extends "base.html" %}`, `{% include "…" %}`).
fn templates(files: &Files, edges: &mut Vec<Edge>) {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["']([\w./-]+\.(?:html|txt|xml|jinja|jinja2|j2))["']"#).expect("template name"));
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (id, path) in files.paths.iter().enumerate() {
        if let Some(at) = path.find("templates/").filter(|&at| at == 0 || path.as_bytes()[at - 1] == b'/') {
            by_name.entry(&path[at + "templates/".len()..]).or_default().push(id);
        }
    }
    if by_name.is_empty() {
        return;
    }
    let template_ids: HashSet<usize> = by_name.values().flatten().copied().collect();
    for (id, path) in files.paths.iter().enumerate() {
        let Some(text) = files.texts[id] else { continue };
        let code = if path.ends_with(".py") {
            strip_comments(Language::Python, text, false)
        } else if template_ids.contains(&id) {
            text.to_string()
        } else {
            continue;
        };
        for caps in NAME.captures_iter(&code) {
            let line = line_at(&code, caps.get(0).map_or(0, |m| m.start()));
            for &to in by_name.get(&caps[1]).into_iter().flatten() {
                edges.push(Edge { from: id, to, line, via: Via::Template { name: caps[1].to_string() } });
            }
        }
    }
}

/// A Go file: its package, imports, top-level names and the words it uses.
struct GoFile<'a> {
    id: usize,
    package: String,
    imports: Vec<(u32, Option<String>, String)>,
    declared: Vec<String>,
    words: HashMap<&'a str, u32>,
    /// `qualifier.Name` uses.
    qualified: HashMap<(&'a str, &'a str), u32>,
}

pub(super) fn go_package_name(text: &str) -> Option<String> {
    static PACKAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^\s*package\s+(\w+)").expect("go package"));
    let structure = strip_comments(Language::Go, text, true);
    PACKAGE.captures(&structure).map(|caps| caps[1].to_string())
}

fn go(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    static IMPORT_LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?m)^[ \t]*(?:import\s+)?([\w.]+\s+)?"([^"]+)"\s*$"#).expect("go import"));
    static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:func[ \t]+(\w+)|type[ \t]+(\w+)|var[ \t]+(\w+)|const[ \t]+(\w+))").expect("go declaration")
    });
    static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:(\w+)\.)?\b([A-Za-z_]\w*)").expect("go word"));
    static GROUP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?ms)^(?:var|const|type)[ \t]*\((.*?)^\)").expect("go group"));
    let mut parsed: Vec<GoFile> = Vec::new();
    let mut structures: Vec<(usize, String)> = Vec::new();
    for (id, path) in files.paths.iter().enumerate() {
        if !path.ends_with(".go") {
            continue;
        }
        if let Some(text) = files.texts[id] {
            structures.push((id, strip_comments(Language::Go, text, true)));
        }
    }
    for (id, structure) in &structures {
        let Some(text) = files.texts[*id] else { continue };
        if go_ignored(text) {
            continue;
        }
        go_directives(files, project, *id, text, edges);
        let code = strip_comments(Language::Go, text, false);
        let Some(package) = go_package_name(text) else { continue };
        let mut imports = Vec::new();
        let import_block = code.find("import").map(|start| {
            let end = code[start..].find(")\n").map_or(code.len(), |e| start + e);
            (start, end)
        });
        for caps in IMPORT_LINE.captures_iter(&code) {
            let at = caps.get(0).map_or(0, |m| m.start());
            let in_block = import_block.is_some_and(|(start, end)| at >= start && at <= end);
            if !in_block && !caps[0].trim_start().starts_with("import") {
                continue;
            }
            let alias = caps.get(1).map(|a| a.as_str().trim().to_string());
            imports.push((line_at(&code, at), alias, caps[2].to_string()));
        }
        let mut declared = Vec::new();
        let top_level: String = {
            // Declarations at the top level: outside every function body.
            let mut depth = 0i32;
            structure
                .chars()
                .map(|c| {
                    let keep = depth == 0 || c == '\n';
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if keep { c } else { ' ' }
                })
                .collect()
        };
        for caps in DECLARATION.captures_iter(&top_level) {
            let name = (1..=4).find_map(|i| caps.get(i)).map(|m| m.as_str());
            if let Some(name) = name.filter(|n| !matches!(*n, "main" | "init" | "_")) {
                declared.push(name.to_string());
            }
        }
        for caps in GROUP.captures_iter(&top_level) {
            for line in caps[1].lines() {
                if let Some(name) =
                    line.split_whitespace().next().filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))
                {
                    declared.push(name.to_string());
                }
            }
        }
        let mut words = HashMap::new();
        let mut qualified = HashMap::new();
        for caps in WORD.captures_iter(structure) {
            let line = line_at(structure, caps.get(0).map_or(0, |m| m.start()));
            let Some(word) = caps.get(2) else { continue };
            if let Some(qualifier) = caps.get(1) {
                qualified.entry((qualifier.as_str(), word.as_str())).or_insert(line);
            } else {
                words.entry(word.as_str()).or_insert(line);
            }
        }
        parsed.push(GoFile { id: *id, package, imports, declared, words, qualified });
    }
    let mut by_dir: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, file) in parsed.iter().enumerate() {
        by_dir.entry(parent(files.paths[file.id])).or_default().push(index);
    }
    for (index, file) in parsed.iter().enumerate() {
        let path = files.paths[file.id];
        // Same package: identifiers of the other files, no import needed.
        for &other in &by_dir[parent(path)] {
            let other_file = &parsed[other];
            if other == index
                || other_file.package != file.package.trim_end_matches("_test") && other_file.package != file.package
            {
                continue;
            }
            let own: HashSet<&str> = file.declared.iter().map(String::as_str).collect();
            if let Some((name, line)) = other_file
                .declared
                .iter()
                .filter(|name| !own.contains(name.as_str()))
                .find_map(|name| file.words.get(name.as_str()).map(|line| (name, *line)))
            {
                edges.push(Edge {
                    from: file.id,
                    to: other_file.id,
                    line,
                    via: Via::GoPackage { identifier: name.clone() },
                });
            }
        }
        // Imports by module path.
        for (line, alias, import) in &file.imports {
            let Some(dir) = project.go_modules.iter().find_map(|(dir, module)| {
                let rest = import.strip_prefix(module.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then(|| child(dir, rest.trim_start_matches('/')))
            }) else {
                continue;
            };
            let Some(targets) = by_dir.get(dir.as_str()) else { continue };
            for &target in targets {
                let target_file = &parsed[target];
                if files.paths[target_file.id].ends_with("_test.go") {
                    continue;
                }
                let qualifier = alias.as_deref().unwrap_or(&target_file.package);
                let exported: Vec<&String> =
                    target_file.declared.iter().filter(|n| n.starts_with(|c: char| c.is_uppercase())).collect();
                let used = exported
                    .iter()
                    .find_map(|name| file.qualified.get(&(qualifier, name.as_str())).map(|l| (*l).max(*line)));
                let blank = matches!(alias.as_deref(), Some("_" | "."));
                if used.is_some() || target_file.declared.is_empty() || blank {
                    let line = used.unwrap_or(*line);
                    edges.push(Edge {
                        from: file.id,
                        to: target_file.id,
                        line,
                        via: Via::GoImport { path: import.clone() },
                    });
                }
            }
        }
    }
}

/// Whether a `//go:build ignore` constraint keeps the file out of every build.
pub(super) fn go_ignored(text: &str) -> bool {
    text.lines()
        .take_while(|line| !line.trim_start().starts_with("package "))
        .any(|line| line.trim() == "//go:build ignore" || line.trim() == "// +build ignore")
}

/// `//go:embed` patterns (files the binary embeds) and `//go:generate` commands (run from the
/// file's folder).
fn go_directives(files: &Files, project: &Project, id: usize, text: &str, edges: &mut Vec<Edge>) {
    let dir = parent(files.paths[id]);
    for (index, line) in text.lines().enumerate() {
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(patterns) = line.trim_start().strip_prefix("//go:embed ") {
            for pattern in patterns.split_whitespace().map(|p| p.trim_matches(['"', '`'])) {
                let pattern = child(dir, pattern.trim_start_matches("all:"));
                for (to, path) in files.paths.iter().enumerate() {
                    if glob_matches(&pattern, path) || is_under(path, &pattern) {
                        edges.push(Edge {
                            from: id,
                            to,
                            line: line_number,
                            via: Via::GoEmbed { pattern: pattern.clone() },
                        });
                    }
                }
            }
        } else if let Some(command) = line.trim_start().strip_prefix("//go:generate ") {
            for to in super::commands::targets(files, project, dir, command) {
                edges.push(Edge { from: id, to, line: line_number, via: Via::Runs { command: one_line(command) } });
            }
        }
    }
}

/// Whether `path` matches `pattern`, `*` standing for any characters but `/`.
pub(super) fn glob_matches(pattern: &str, path: &str) -> bool {
    let (pattern_parts, path_parts): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    pattern_parts.len() == path_parts.len()
        && pattern_parts.iter().zip(&path_parts).all(|(pattern, part)| segment_matches(pattern, part))
}

/// One path segment against a pattern with `*`.
pub(super) fn segment_matches(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Edges from manifests: package.json entries and scripts, pyproject.toml scripts.
fn manifests(files: &Files, project: &Project, edges: &mut Vec<Edge>) {
    let line_of = |manifest: &str, needle: &str| {
        files.text(manifest).and_then(|text| text.find(needle).map(|at| line_at(text, at))).unwrap_or(1)
    };
    for package in &project.packages {
        let Some(from) = files.id(&package.manifest) else { continue };
        for (field, target) in &package.entries {
            if let Some(to) = package_target(files, project, &package.dir, target) {
                let line = line_of(&package.manifest, &format!("\"{target}\""));
                edges.push(Edge { from, to, line, via: Via::Manifest { field: field.clone() } });
            }
        }
        for (subpath, target) in &package.subpaths {
            if let Some(to) = package_target(files, project, &package.dir, target) {
                let line = line_of(&package.manifest, &format!("\"{target}\""));
                let field = format!("package.json `exports` `{subpath}`");
                edges.push(Edge { from, to, line, via: Via::Manifest { field } });
            }
        }
        for (name, command) in &package.scripts {
            for to in super::commands::targets(files, project, &package.dir, command) {
                let line = line_of(&package.manifest, &format!("\"{name}\""));
                edges.push(Edge {
                    from,
                    to,
                    line,
                    via: Via::Runs { command: format!("npm run {name}` (`{}", one_line(command)) },
                });
            }
        }
    }
    for (manifest, field, module) in &project.python_scripts {
        let Some(from) = files.id(manifest) else { continue };
        let import = PyImport { line: 1, dots: 0, module: module.clone(), names: Vec::new() };
        for (to, _) in resolve_python(files, project, manifest, &import).into_iter().take(1) {
            let line = line_of(manifest, module);
            edges.push(Edge { from, to, line, via: Via::Manifest { field: field.clone() } });
        }
    }
}

/// pytest fixtures of each `conftest.py`, used by name as parameters of tests below it.
fn fixtures(files: &Files, edges: &mut Vec<Edge>) {
    static FIXTURE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^@(?:pytest\.)?fixture\b[^\n]*\n(?:@[^\n]*\n)*(?:async\s+)?def\s+(\w+)").expect("fixture")
    });
    static TEST: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^[ \t]*(?:async\s+)?def\s+(\w+)\s*\(([^)]*)\)").expect("test function"));
    for (conftest, path) in files.paths.iter().enumerate().filter(|(_, p)| file_name(p) == "conftest.py") {
        let Some(text) = files.texts[conftest] else { continue };
        let names: HashSet<String> = FIXTURE.captures_iter(text).map(|caps| caps[1].to_string()).collect();
        if names.is_empty() {
            continue;
        }
        let dir = parent(path);
        for (id, test) in files.paths.iter().enumerate() {
            if id == conftest || !test.ends_with(".py") || !is_under(test, dir) {
                continue;
            }
            let Some(test_text) = files.texts[id] else { continue };
            let structure = strip_comments(Language::Python, test_text, true);
            let used = TEST.captures_iter(&structure).find_map(|caps| {
                let name = caps[2]
                    .split(',')
                    .map(|p| p.split([':', '=']).next().unwrap_or("").trim())
                    .find(|p| names.contains(*p))?;
                Some((name.to_string(), line_at(&structure, caps.get(0).map_or(0, |m| m.start()))))
            });
            if let Some((name, line)) = used {
                edges.push(Edge { from: id, to: conftest, line, via: Via::Fixture { name } });
            }
        }
    }
}

/// `{% load name %}` in templates → `templatetags/name.py`.
fn template_tags(files: &Files, edges: &mut Vec<Edge>) {
    static LOAD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{%-?\s*load\s+([^%]+?)\s*-?%\}").expect("load"));
    let mut libraries: HashMap<&str, Vec<usize>> = HashMap::new();
    for (id, path) in files.paths.iter().enumerate() {
        if parent(path).ends_with("templatetags") && path.ends_with(".py") {
            libraries.entry(file_name(path).trim_end_matches(".py")).or_default().push(id);
        }
    }
    if libraries.is_empty() {
        return;
    }
    for (id, path) in files.paths.iter().enumerate() {
        if !(path.ends_with(".html") || path.ends_with(".txt") || path.ends_with(".jinja")) {
            continue;
        }
        let Some(text) = files.texts[id] else { continue };
        for caps in LOAD.captures_iter(text) {
            let line = line_at(text, caps.get(0).map_or(0, |m| m.start()));
            for name in caps[1].split_whitespace().take_while(|w| *w != "from") {
                for &to in libraries.get(name).into_iter().flatten() {
                    edges.push(Edge { from: id, to, line, via: Via::TemplateLoad { name: name.to_string() } });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn javascript_specifiers_skip_comments_and_strings() {
        let text = "// import x from './commented'\nconsole.log(\"import y from './logged'\");\nimport {\n  a,\n} from './real';\nconst m = await import('./lazy');\n";
        let got = javascript_specifiers(text);
        assert_eq!(got, [(5, "./real".to_string()), (6, "./lazy".to_string())]);
    }

    #[test]
    fn python_imports_skip_strings_and_comments() {
        let text = "# import ghost\nimport a.b, c as d\nfrom .x import (y,\n    z)\nprint(\"import logged\")\n";
        let got: Vec<(u32, usize, String, Vec<String>)> =
            python_imports(text).into_iter().map(|i| (i.line, i.dots, i.module, i.names)).collect();
        assert_eq!(
            got,
            [
                (2, 0, "a.b".into(), vec![]),
                (2, 0, "c".into(), vec![]),
                (3, 1, "x".into(), vec!["y".to_string(), "z".to_string()])
            ]
        );
    }

    #[test]
    fn component_views_keep_scripts_and_drop_html_comments() {
        let text = "<!-- <script>import A from './a'</script> -->\n<script lang=\"ts\">\nimport B from './b';\n</script>\n<p>Don't</p>\n";
        let (script, _) = component_views(text, false);
        assert_eq!(javascript_specifiers(&script), [(3, "./b".to_string())]);
    }

    proptest! {
        #[test]
        fn extractors_never_panic(text in "\\PC{0,300}") {
            let _ = javascript_specifiers(&text);
            let _ = python_imports(&text);
            let _ = component_views(&text, true);
            let _ = go_package_name(&text);
            let _ = expand_use_tree(&text);
        }
    }
}
