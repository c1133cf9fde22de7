//! Repository-aware checks: what a plan says against what the repository holds.
//!
//! A plan may name a package script, a make target, a crate, a test file or a program that the
//! repository does not have; may name a key file nobody makes; may say "create" a file that is
//! already there. Finding that needs the repository, and this crate reads no files: the caller
//! gathers a [`RepoFacts`] (tracked files, scripts, targets, crates, which programs exist) and
//! [`repo_checks`] judges the plan against it. [`programs_needed`] says which programs to look
//! up first.
//!
//! Every rule errs on the side of silence: a command it cannot read with certainty (control
//! flow, `sudo`, options that pick another folder or workspace), a manifest the plan itself
//! edits, or a file a task lists, is never reported.

use crate::command::{is_variable, parts};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Plan, Task};
use crate::span::Span;
use std::collections::{BTreeSet, HashMap, HashSet};

/// What `check` knows about the repository a plan lives in. Paths are relative to its top,
/// with `/` separators; a folder is `""` for the top, else `web` or `apps/api`.
#[derive(Clone, Debug, Default)]
pub struct RepoFacts {
    files: HashSet<String>,
    dirs: HashSet<String>,
    /// The scripts of each folder's `package.json`; `None` when it could not be read.
    pub package_scripts: HashMap<String, Option<BTreeSet<String>>>,
    /// The targets of each folder's Makefile (see [`make_targets`]); `None` when they cannot
    /// all be known (an `include`, a computed name).
    pub make_targets: HashMap<String, Option<BTreeSet<String>>>,
    /// The names of the repository's Cargo packages (every `Cargo.toml`'s `package.name`).
    pub crates: BTreeSet<String>,
    /// Programs of [`programs_needed`] that were found (on `PATH`, in a `node_modules/.bin`, in
    /// a virtual environment), or that might be there (dependencies not installed yet).
    pub programs: HashSet<String>,
}

impl RepoFacts {
    /// Facts about a repository holding `files` (tracked and untracked, not ignored).
    pub fn new(files: impl IntoIterator<Item = String>) -> Self {
        let files: HashSet<String> = files.into_iter().collect();
        let mut dirs = HashSet::default();
        dirs.insert(String::new());
        for file in &files {
            let mut rest = file.as_str();
            while let Some((parent, _)) = rest.rsplit_once('/') {
                if !dirs.insert(parent.to_owned()) {
                    break;
                }
                rest = parent;
            }
        }
        RepoFacts { files, dirs, ..RepoFacts::default() }
    }

    /// Whether `path` is a file or a folder of the repository (a trailing `/` is allowed).
    pub fn exists(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        self.files.contains(path) || self.dirs.contains(path)
    }
}

/// Shell words that are not programs to look up: builtins and keywords.
const BUILTINS: &str = ". : [ [[ alias bg break builtin cd command continue declare echo eval exec exit export \
    false fg getopts hash jobs kill let local popd printf pushd pwd read readonly return set \
    shift source test times trap true type ulimit umask unalias unset wait";

/// Words that open shell control flow: a command holding one is not read further.
const KEYWORDS: &str = "if then else elif fi for while until do done case esac function select { } ! ]]";

/// Options of npm, pnpm, yarn and bun that run a script elsewhere than the nearest
/// `package.json` (workspaces, another folder) or tolerate a missing one.
const ELSEWHERE: &str = "-w --workspace -ws --workspaces --prefix -C --dir --cwd --filter -F -r --recursive \
    --if-present -g --global --include-workspace-root";

/// pnpm and yarn commands that are not scripts.
const PM_COMMANDS: &str = "add audit autoclean bin cache cat-file cat-index check ci config c constraints create \
    dedupe deploy dlx doctor env exec explain fetch generate-lock-entry global help i import \
    info init install install-test it licenses link list ln login logout ls node npm outdated \
    owner pack patch patch-commit plugin policies prune publish rb rebuild recursive remove rm \
    root server set setup stage store tag team un uninstall unlink unplug up update upgrade \
    upgrade-interactive version versions why workspace workspaces";

/// Whether `word` is one of the white-space separated words of `list`.
fn one_of(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|item| item == word)
}

/// Manifests through which a plan may install programs: when a task edits one, a program
/// missing today may be there when the command runs.
const DEPENDENCY_MANIFESTS: &[&str] =
    &["package.json", "pyproject.toml", "requirements.txt", "requirements-dev.txt", "Pipfile", "Gemfile", "go.mod"];

/// One simple command, with the folder it runs in and the words from the program on.
struct Step {
    /// Repository-relative folder.
    cwd: String,
    words: Vec<String>,
    /// False when a runner (`npx`, `uv run`) provides the program: it need not be installed.
    look_up: bool,
}

/// The simple commands of `command` that can be read with certainty, in order. Reading stops
/// at control flow, at a `cd` it cannot follow, and at `sudo`.
fn steps(command: &str) -> Vec<Step> {
    let mut out = Vec::new();
    if has_subshell(command) {
        return out;
    }
    let mut cwd = String::new();
    for part in parts(command) {
        let mut words: &[String] = &part.words;
        // `VAR=value cmd`, `env VAR=value cmd`, `time cmd`, `timeout 60 cmd`.
        loop {
            match words.first().map(String::as_str) {
                Some(word) if word.split_once('=').is_some_and(|(name, _)| is_variable(name)) => words = &words[1..],
                Some("env" | "time" | "nohup" | "command" | "exec" | "nice")
                    if words.get(1).is_some_and(|w| !w.starts_with('-')) =>
                {
                    words = &words[1..]
                }
                Some("timeout") if words.get(1).is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit())) => {
                    words = words.get(2..).unwrap_or_default()
                }
                _ => break,
            }
        }
        let Some(first) = words.first().map(String::as_str) else { continue };
        if one_of(KEYWORDS, first) || first == "sudo" {
            break;
        }
        if first == "cd" {
            match words.get(1).and_then(|dir| join(&cwd, dir)) {
                Some(dir) if words.len() == 2 => cwd = dir,
                _ => break,
            }
            continue;
        }
        // A word the shell does not run as a program: `2>` and `1` of a split `2>&1`, a
        // redirection, a substitution.
        let plausible = first.chars().all(|c| c.is_ascii_alphanumeric() || "._-+/@".contains(c))
            && !first.chars().all(|c| c.is_ascii_digit());
        if !plausible {
            continue;
        }
        let (words, look_up) = through_runner(words);
        out.push(Step { cwd: cwd.clone(), words: words.to_vec(), look_up });
    }
    out
}

/// Whether `command` runs something in a subshell or a substitution (`(cd web && …)`,
/// `$(…)`, backticks): where it runs, and whether its failure matters, is beyond a word list.
fn has_subshell(command: &str) -> bool {
    if command.contains("$(") || command.contains('`') {
        return true;
    }
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '(' | ')') => return true,
            _ => {}
        }
    }
    false
}

/// `npx vitest run` → (`vitest run`, not looked up); runners fetch or provide the program.
/// Anything else is returned as it is.
fn through_runner(words: &[String]) -> (&[String], bool) {
    let second = words.get(1).map(String::as_str);
    let skip = match (words[0].as_str(), second) {
        ("npx" | "pnpx" | "bunx" | "uvx", _) => 1,
        ("pnpm" | "yarn" | "npm", Some("exec" | "dlx")) | ("pipx", Some("run")) => 2,
        ("uv" | "poetry" | "pdm" | "pipenv" | "hatch" | "rye" | "bundle", Some("run" | "exec")) => 2,
        _ => return (words, true),
    };
    match words.get(skip..) {
        // Runner options (`npx -y vitest`, `uv run --with x pytest`) are not followed.
        Some(rest) if rest.first().is_some_and(|w| !w.starts_with('-')) => (rest, false),
        _ => (&words[..0], false),
    }
}

/// `dir` joined to the folder `cwd`, or `None` when it is not a plain relative path.
fn join(cwd: &str, dir: &str) -> Option<String> {
    if dir.is_empty() || dir.starts_with(['/', '~', '-', '$']) || dir.contains(['$', '`', '*', '?']) {
        return None;
    }
    let mut parts: Vec<&str> = cwd.split('/').filter(|p| !p.is_empty()).collect();
    for piece in dir.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            piece => parts.push(piece),
        }
    }
    Some(parts.join("/"))
}

/// `path` relative to `cwd`, as a repository path (`None` when it leaves the repository or is
/// not a plain path).
fn in_repo(cwd: &str, path: &str) -> Option<String> {
    join(cwd, path).filter(|p| !p.is_empty())
}

/// The folders from `cwd` up to the top: `apps/web`, `apps`, ``.
fn up_from(cwd: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(cwd), |dir| (!dir.is_empty()).then(|| dir.rsplit_once('/').map_or("", |(p, _)| p)))
}

fn in_folder(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// The programs the plan's Verify and Automated commands run, to look up before
/// [`repo_checks`]: builtins, paths (`./x.sh`) and what runners provide are left out.
pub fn programs_needed(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (command, ..) in commands(plan) {
        for step in steps(command) {
            let Some(program) = step.words.first() else { continue };
            if step.look_up && !program.contains('/') && !one_of(BUILTINS, program) {
                out.insert(program.clone());
            }
            // `pnpm vitest`, `yarn vitest` and `yarn run vitest` run a binary when there is no
            // such script.
            if matches!(program.as_str(), "pnpm" | "yarn" | "bun") {
                let at = if step.words.get(1).is_some_and(|w| w == "run") { 2 } else { 1 };
                out.extend(step.words.get(at).cloned());
            }
        }
    }
    out
}

/// Every command wavecrew runs, with its span, whose it is, and whether it is a Verify span.
fn commands(plan: &Plan) -> impl Iterator<Item = (&str, Span, String, bool)> {
    let verify = plan.tasks.iter().flat_map(|task| {
        task.verify_commands
            .iter()
            .map(move |c| (c.value.as_str(), c.span, format!("task {}'s Verify command", task.id), true))
    });
    let automated = plan
        .verification
        .automated
        .iter()
        .map(|c| (c.command.as_str(), c.span, "the Automated check".to_owned(), false));
    verify.chain(automated)
}

/// The repository-aware diagnostics of `plan` (`unrunnable-command`, `dangling-key-link`,
/// `file-state-mismatch`), in source order.
pub fn repo_checks(plan: &Plan, facts: &RepoFacts) -> Vec<Diagnostic> {
    let judge = Judge { plan, facts };
    let mut out = Vec::new();
    for (command, span, whose, verify) in commands(plan) {
        for mut problem in steps(command).iter().filter_map(|step| judge.step(step)) {
            if verify && problem.no_program {
                // `GET /rooms` returns 200`: prose in backticks is run as a command too.
                problem.help.push_str(
                    "; if the span is not a command, write it without backticks: wavecrew runs every backticked \
                     span of Verify",
                );
            }
            out.push(
                Diagnostic::new(
                    Code::UnrunnableCommand,
                    span,
                    format!("{whose} `{command}` cannot run here: {}", problem.what),
                )
                .with_label(problem.label)
                .with_help(problem.help),
            );
        }
    }
    // `npm run a && npm run b` without a package.json: one finding, not two.
    out.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    key_links(&judge, &mut out);
    for task in &plan.tasks {
        file_states(task, facts, &mut out);
    }
    out.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    out
}

/// Why a command cannot run.
struct Problem {
    /// What is missing, after "cannot run here: ".
    what: String,
    /// The label under the command.
    label: String,
    /// The fix.
    help: String,
    /// Whether it is the program itself that is missing.
    no_program: bool,
}

impl Problem {
    fn new(what: String, label: impl Into<String>, help: impl Into<String>) -> Self {
        Problem { what, label: label.into(), help: help.into(), no_program: false }
    }
}

struct Judge<'a> {
    plan: &'a Plan,
    facts: &'a RepoFacts,
}

impl Judge<'_> {
    /// Whether some task's Files names `path`, so the plan itself makes or edits it.
    fn listed(&self, path: &str) -> bool {
        self.plan.tasks.iter().any(|task| crate::files_name(&task.files, path))
    }

    /// Whether `path` exists or a task will write it (or something in it, for a folder).
    fn will_exist(&self, path: &str) -> bool {
        let folder = format!("{}/", path.trim_end_matches('/'));
        self.facts.exists(path)
            || self.listed(path)
            || self.plan.tasks.iter().flat_map(|t| &t.files).any(|f| f.value.starts_with(&folder))
    }

    fn step(&self, step: &Step) -> Option<Problem> {
        let program = base(step.words.first()?);
        let args: Vec<&str> = step.words[1..].iter().map(String::as_str).collect();
        let from_script = match program {
            "npm" | "pnpm" | "yarn" | "bun" => self.package_script(step, program, &args),
            "make" | "gmake" => self.make(step, &args),
            "cargo" => self.cargo(&args),
            "pytest" | "py.test" => self.pytest(step, &args),
            "python" | "python3" if args.first() == Some(&"-m") && args.get(1) == Some(&"pytest") => {
                self.pytest(step, &args[2..])
            }
            _ => None,
        };
        from_script.or_else(|| self.program(step))
    }

    /// A program that is nowhere to be found.
    fn program(&self, step: &Step) -> Option<Problem> {
        let program = step.words.first()?;
        if !step.look_up || program.contains('/') || one_of(BUILTINS, program) {
            return None;
        }
        if self.facts.programs.contains(program) || self.installs_dependencies() {
            return None;
        }
        let mut problem = Problem::new(
            format!("`{program}` is not installed"),
            format!("`{program}` is on no PATH and in no `node_modules/.bin`"),
            format!(
                "install `{program}` (or add it to the project's dependencies in the task that needs it), or run it \
                 the way this repository does: through a package script, `npx {program}`, or `uv run {program}`"
            ),
        );
        problem.no_program = true;
        Some(problem)
    }

    /// Whether a task edits a dependency manifest, so programs may be added by the plan.
    fn installs_dependencies(&self) -> bool {
        self.plan.tasks.iter().flat_map(|t| &t.files).any(|file| {
            let name = base(file.value.trim_end_matches('/'));
            DEPENDENCY_MANIFESTS.contains(&name) || name.starts_with("requirements") || file.contains('*')
        })
    }

    fn package_script(&self, step: &Step, program: &str, args: &[&str]) -> Option<Problem> {
        if args.iter().any(|a| one_of(ELSEWHERE, a.split('=').next().unwrap_or(a))) {
            return None;
        }
        let first = *args.first()?;
        // (script, whether a binary of that name will do instead)
        let (script, or_binary) = match (program, first) {
            (_, "run" | "run-script") => {
                let name = *args.get(1)?;
                (name, program == "yarn" || program == "bun")
            }
            // `bun test` is bun's own test runner, and `bun x` may run a file.
            ("bun", _) => return None,
            (_, "test" | "t" | "tst") => ("test", false),
            ("npm", "start") => return None, // runs `node server.js` without a script
            (_, "start") => ("start", false),
            ("npm", _) => return None,
            (_, command) if one_of(PM_COMMANDS, command) => return None,
            (_, name) => (name, true),
        };
        if script.starts_with('-') || script.contains(['/', '.', '$']) {
            return None;
        }
        if or_binary && self.facts.programs.contains(script) {
            return None;
        }
        // The nearest `package.json`, from the folder the command runs in up to the top.
        for dir in up_from(&step.cwd) {
            let manifest = in_folder(dir, "package.json");
            if self.listed(&manifest) {
                return None; // the plan writes it: the script may be one it adds
            }
            let Some(scripts) = self.facts.package_scripts.get(dir) else { continue };
            let scripts = scripts.as_ref()?;
            if scripts.contains(script) {
                return None;
            }
            let help = match self.package_with(script) {
                Some(other) => format!(
                    "`{script}` is a script of `{}`: run it there, `cd {other} && …`",
                    in_folder(&other, "package.json")
                ),
                None if scripts.is_empty() => format!(
                    "`{manifest}` has no scripts: add `{script}` (then list `{manifest}` in the Files of the task that adds it)"
                ),
                None => format!(
                    "the scripts of `{manifest}` are {}: use one of them, or add `{script}` to its scripts (then \
                     list `{manifest}` in the Files of the task that adds it)",
                    list(scripts)
                ),
            };
            return Some(Problem::new(format!("`{manifest}` has no script `{script}`"), "no such script", help));
        }
        let folder =
            if step.cwd.is_empty() { "the top of the repository".to_owned() } else { format!("`{}`", step.cwd) };
        let help = match self.package_with(script) {
            Some(other) => format!(
                "`{script}` is a script of `{}`: run it there, `cd {other} && …`",
                in_folder(&other, "package.json")
            ),
            None => "run the command where the package is (`cd <folder> && …`), or list the `package.json` in the \
                     Files of the task that creates it"
                .to_owned(),
        };
        Some(Problem::new(format!("there is no `package.json` in {folder} or above"), "no package.json", help))
    }

    /// A folder below the top whose `package.json` has `script`, the first in path order.
    fn package_with(&self, script: &str) -> Option<String> {
        let mut folders: Vec<&String> = self
            .facts
            .package_scripts
            .iter()
            .filter(|(folder, scripts)| !folder.is_empty() && scripts.as_ref().is_some_and(|s| s.contains(script)))
            .map(|(folder, _)| folder)
            .collect();
        folders.sort();
        folders.first().map(|folder| (*folder).clone())
    }

    fn make(&self, step: &Step, args: &[&str]) -> Option<Problem> {
        // Options may pick another Makefile or folder; only flags that do not are followed.
        if args.iter().any(|a| {
            a.starts_with('-') && !matches!(*a, "-s" | "-k" | "-B" | "-n" | "--silent") && !a.starts_with("-j")
        }) {
            return None;
        }
        let targets: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-') && !a.contains('=')).collect();
        let names = ["GNUmakefile", "makefile", "Makefile"];
        if names.iter().any(|name| self.listed(&in_folder(&step.cwd, name))) {
            return None;
        }
        let Some(known) = self.facts.make_targets.get(&step.cwd) else {
            let folder =
                if step.cwd.is_empty() { "the top of the repository".to_owned() } else { format!("`{}`", step.cwd) };
            return Some(Problem::new(
                format!("there is no Makefile in {folder}"),
                "no Makefile".to_owned(),
                "run the command where the Makefile is (`make -C <folder> …`), or list the Makefile in the Files of \
                 the task that creates it"
                    .to_owned(),
            ));
        };
        let known = known.as_ref()?;
        let makefile = in_folder(&step.cwd, "Makefile");
        // `make foo` also succeeds when `foo` is a file that is already there.
        let missing =
            targets.into_iter().find(|t| !known.contains(*t) && !self.facts.exists(&in_folder(&step.cwd, t)))?;
        Some(Problem::new(
            format!("the Makefile has no target `{missing}`"),
            "no such target".to_owned(),
            format!(
                "the targets of `{makefile}` are {}: use one of them, or add `{missing}` (then list the Makefile in \
                 the Files of the task that adds it)",
                list(known)
            ),
        ))
    }

    fn cargo(&self, args: &[&str]) -> Option<Problem> {
        let mut at = 0;
        let mut named = None;
        while let Some(&arg) = args.get(at) {
            if arg == "--" {
                break;
            }
            if let Some(value) = arg.strip_prefix("--package=") {
                named = Some(value);
            } else if arg == "-p" || arg == "--package" {
                named = args.get(at + 1).copied();
            }
            at += 1;
        }
        let name = named?.split('@').next()?;
        if name.is_empty() || name.contains(['*', '?', '$', '/']) || self.facts.crates.contains(name) {
            return None;
        }
        // A task may add the crate: a Files entry naming its folder or any Cargo.toml.
        let adds_crate = self.plan.tasks.iter().flat_map(|t| &t.files).any(|f| {
            f.value.ends_with("Cargo.toml") || f.value.split('/').any(|piece| piece == name) || f.contains('*')
        });
        if adds_crate {
            return None;
        }
        let help = if self.facts.crates.is_empty() {
            "the repository has no Cargo package: list the `Cargo.toml` that the plan adds in its task's Files"
                .to_owned()
        } else {
            format!("the packages are {}: use one of them", list(&self.facts.crates))
        };
        Some(Problem::new(format!("no Cargo package is named `{name}`"), "no such package".to_owned(), help))
    }

    fn pytest(&self, step: &Step, args: &[&str]) -> Option<Problem> {
        // Options of pytest that take no value; after any other option, the next word may be
        // its value rather than a path.
        const BOOLEAN: &str = "-q -v -vv -vvv -x -s -l -qq --quiet --verbose --exitfirst \
            --lf --ff --nf --sw --no-header --strict-markers --collect-only --co";
        let mut previous: Option<&str> = None;
        for &arg in args {
            let after_option = previous.is_some_and(|p| p.starts_with('-') && !p.contains('=') && !one_of(BOOLEAN, p));
            previous = Some(arg);
            if arg.starts_with('-') || after_option || arg.contains(['*', '?', '$', '[', '{']) {
                continue;
            }
            let path = arg.split("::").next().unwrap_or(arg);
            if !(path.contains('/') || path.ends_with(".py")) {
                continue;
            }
            let Some(repo_path) = in_repo(&step.cwd, path) else { continue };
            if !self.will_exist(&repo_path) {
                return Some(Problem::new(
                    format!("`{path}` does not exist"),
                    "no such test path".to_owned(),
                    format!("correct the path, or list `{repo_path}` in the Files of the task that writes it"),
                ));
            }
        }
        None
    }
}

/// "`a`, `b`, `c`" for a help line, at most 12 names.
fn list(names: &BTreeSet<String>) -> String {
    let shown: Vec<String> = names.iter().take(12).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 12 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// Whether a backticked key_link reference is a file path rather than a symbol or a sentence.
fn as_file(reference: &str) -> Option<&str> {
    let reference = reference.trim().strip_prefix("./").unwrap_or(reference.trim());
    // `src/a.rs:12`, `src/a.rs#L3`: the file part.
    let path = reference.split([':', '#']).next()?;
    let plain = path.chars().all(|c| c.is_alphanumeric() || "._-/+@[]()".contains(c));
    let (stem, extension) = path.rsplit_once('.')?;
    let looks_like_file = plain
        && !stem.is_empty()
        && (path.contains('/') || !stem.contains('.'))
        && (1..=6).contains(&extension.len())
        && extension.chars().all(|c| c.is_ascii_alphanumeric())
        && extension.chars().any(|c| c.is_ascii_lowercase())
        && !path.contains(['(', ')']);
    // `app.listen` or `store.ts` alone is ambiguous without a folder: only known extensions.
    const EXTENSIONS: &[&str] = &[
        "rs", "ts", "tsx", "js", "jsx", "mjs", "cjs", "svelte", "vue", "py", "go", "rb", "java", "kt", "swift", "c",
        "h", "cc", "cpp", "hpp", "cs", "php", "md", "toml", "json", "yaml", "yml", "css", "scss", "html", "sql", "sh",
    ];
    (looks_like_file && (path.contains('/') || EXTENSIONS.contains(&extension))).then_some(path)
}

/// `dangling-key-link`: a key_link naming a file that is neither an artifact, nor in a task's
/// Files, nor in the repository.
fn key_links(judge: &Judge, out: &mut Vec<Diagnostic>) {
    let artifacts: HashSet<&str> = judge
        .plan
        .must_haves
        .artifacts
        .iter()
        .filter_map(|a| a.path.as_deref())
        .map(|p| p.strip_prefix("./").unwrap_or(p))
        .collect();
    for link in &judge.plan.must_haves.key_links {
        for reference in &link.references {
            let Some(path) = as_file(reference) else { continue };
            if artifacts.contains(path) || judge.will_exist(path) {
                continue;
            }
            // A file name alone (`store.ts`) may be anywhere in the repository.
            if !path.contains('/') && judge.facts.files.iter().any(|f| f.rsplit('/').next() == Some(path)) {
                continue;
            }
            // The reference itself, when nothing before it in the item was cleaned (a line
            // ending or mojibake would shift offsets: neither is in one line of ASCII text).
            let quoted = format!("`{reference}`");
            let span = match link.text.find(&quoted) {
                Some(at) if link.text[..at + quoted.len()].is_ascii() && !link.text[..at].contains('\n') => {
                    Span::new(link.span.start + at, link.span.start + at + quoted.len())
                }
                _ => link.span,
            };
            out.push(
                Diagnostic::new(
                    Code::DanglingKeyLink,
                    span,
                    format!("the key_link names `{path}`, which is neither an artifact nor in the repository"),
                )
                .with_label("no such file, and no task makes it")
                .with_help(format!(
                    "correct the path, or add `{path}` to the Files of the task that writes it (and to the artifacts)"
                )),
            );
        }
    }
}

/// What a task's Action (or its Files annotation) says it does to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intent {
    Create,
    Edit,
}

/// The intent of the words just before a path in an Action: a verb, maybe followed by words
/// that only describe the file (`Create the new file`, `Update the`). Anything else between
/// the verb and the path (`Create a helper in`) leaves the intent unknown.
fn intent_before(before: &str) -> Option<Intent> {
    const DESCRIBING: &[&str] =
        &["a", "an", "the", "new", "empty", "file", "files", "module", "component", "page", "script", "test", "tests"];
    let mut words =
        before.split_whitespace().rev().map(|w| w.trim_matches(|c: char| !c.is_alphabetic()).to_ascii_lowercase());
    let verb = words.find(|word| !DESCRIBING.contains(&word.as_str()))?;
    match verb.as_str() {
        "create" | "scaffold" => Some(Intent::Create),
        "edit" | "modify" | "update" | "change" | "extend" | "refactor" | "patch" | "fix" | "amend" => {
            Some(Intent::Edit)
        }
        _ => None,
    }
}

/// `file-state-mismatch`: a Files path that exists while the task says to create it, or that
/// does not while it says to edit it. The intent is read from the Files annotation after the
/// path (`(new)`, `(edit)`), else from the verb just before the path in the Action.
fn file_states(task: &Task, facts: &RepoFacts, out: &mut Vec<Diagnostic>) {
    let files_text = task.files_text.as_ref().map_or("", |t| t.value.as_str());
    let action = task.action.as_ref().map_or("", |a| a.value.as_str());
    for file in &task.files {
        let path = file.value.strip_prefix("./").unwrap_or(&file.value);
        if path.contains(['*', '?', '{']) || path.ends_with('/') {
            continue;
        }
        let quoted = format!("`{}`", file.value);
        let annotated = files_text.find(&quoted).and_then(|at| {
            let after = files_text[at + quoted.len()..].trim_start();
            let note = after.strip_prefix('(')?.split(')').next()?.trim().to_ascii_lowercase();
            match note.as_str() {
                "new" | "create" | "created" | "new file" => Some(Intent::Create),
                "edit" | "edited" | "modify" | "modified" | "update" | "updated" | "existing" | "changed" => {
                    Some(Intent::Edit)
                }
                _ => None,
            }
        });
        let from_action = || intent_before(&action[..action.find(&quoted)?]);
        let Some(intent) = annotated.or_else(from_action) else { continue };
        let exists = facts.exists(path);
        let message = match (intent, exists) {
            (Intent::Create, true) => format!("task {} says to create `{path}`, which already exists", task.id),
            (Intent::Edit, false) => format!("task {} says to edit `{path}`, which does not exist", task.id),
            _ => continue,
        };
        let help = match intent {
            Intent::Create => {
                "say what to change in the existing file, or name a new path, so the agent does not overwrite it"
            }
            Intent::Edit => "say to create it, or correct the path (is it a typo, or made by another task?)",
        };
        out.push(Diagnostic::new(Code::FileStateMismatch, file.span, message).with_help(help));
    }
}

/// The targets a Makefile defines, or `None` when they cannot all be known: it includes other
/// files, or computes target names (`$(BIN):`). Pattern rules (`%.o:`) are left out; recipe
/// lines, comments, assignments and `define` blocks are skipped.
pub fn make_targets(text: &str) -> Option<BTreeSet<String>> {
    let mut targets = BTreeSet::new();
    let mut in_define = false;
    let mut continued = false;
    for line in text.lines() {
        let was_continued = continued;
        continued = line.ends_with('\\');
        if was_continued || line.starts_with('\t') {
            continue;
        }
        let line = line.split('#').next().unwrap_or_default();
        let trimmed = line.trim();
        let first = trimmed.split_whitespace().next().unwrap_or_default();
        if in_define {
            in_define = first != "endef";
            continue;
        }
        match first {
            "define" => {
                in_define = true;
                continue;
            }
            "include" | "-include" | "sinclude" => return None,
            "ifeq" | "ifneq" | "ifdef" | "ifndef" | "else" | "endif" | "export" | "unexport" | "override" | "vpath" => {
                continue;
            }
            _ => {}
        }
        let Some(colon) = trimmed.find(':') else { continue };
        let (head, rest) = (&trimmed[..colon], &trimmed[colon..]);
        // An assignment: `A := b`, `A ::= b`, `A = b:c`, `A ?= b`.
        if rest.starts_with(":=") || rest.starts_with("::=") || head.contains('=') {
            continue;
        }
        // `.PHONY: lint` makes `make lint` succeed even without a rule for it.
        let names = if head == ".PHONY" { &rest[1..] } else { head };
        for name in names.split_whitespace() {
            if name.contains(['$', '(']) {
                return None;
            }
            // Special targets (`.PHONY`, `.SUFFIXES`) are not for `make <target>`.
            let special = name.starts_with('.') && name[1..].chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if !name.contains('%') && !special {
                targets.insert(name.to_owned());
            }
        }
    }
    Some(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A SvelteKit app in `web/` with a Python API at the top, and the programs of a machine
    /// that has node, Python and make.
    fn facts() -> RepoFacts {
        let files = [
            "Makefile",
            "pyproject.toml",
            "api/__init__.py",
            "tests/test_api.py",
            "tests/unit/test_models.py",
            "web/package.json",
            "web/src/routes/+page.svelte",
            "web/src/lib/store.ts",
            "crates/core/Cargo.toml",
            "scripts/seed.sh",
        ];
        let mut facts = RepoFacts::new(files.map(str::to_owned));
        let set = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<BTreeSet<_>>();
        facts.package_scripts.insert("web".into(), Some(set(&["dev", "build", "check", "test:unit", "lint"])));
        facts.make_targets.insert(String::new(), Some(set(&["test", "lint", "all"])));
        facts.crates = set(&["core"]);
        facts.programs = [
            "npm", "pnpm", "npx", "node", "python3", "python", "pytest", "make", "cargo", "git", "grep", "curl", "uv",
            "vitest", "sh", "tail", "bash", "bun",
        ]
        .map(str::to_owned)
        .into();
        facts
    }

    fn plan_with(commands: &[&str], files: &str) -> Plan {
        let automated: String = commands.iter().map(|c| format!("{c}\n")).collect();
        let text = format!(
            "# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n**Task 1.1** (type: auto)\n\
             - **Files**: {files}\n- **Action**: Write a\n- **Verify**: `true`\n- **Done**: ok\n\n\
             ## Verification\n\n### Automated\n```bash\n{automated}```\n"
        );
        crate::parse(&text, "x").plan
    }

    fn findings(command: &str, files: &str) -> Vec<String> {
        let plan = plan_with(&[command], files);
        repo_checks(&plan, &facts()).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn valid_commands_are_never_reported() {
        for command in [
            "cd web && npm run build",
            "cd web && npm run test:unit -- --run",
            "cd web && pnpm check",
            "cd web && pnpm run lint",
            "cd web && npm run lint -- --fix",
            "cd web && pnpm vitest run",
            "cd web && bun test",
            "cd web && npx svelte-kit sync && npm run check",
            "npm --prefix web run build",
            "npm run build --workspace=web",
            "pnpm --filter web build",
            "npm start",
            "make",
            "make test",
            "make -C docs html",
            "make lint -j4",
            "cargo test -p core",
            "cargo test --package=core@0.1.0",
            "cargo test --workspace",
            "cargo run -p core -- --help",
            "pytest",
            "pytest tests/test_api.py::test_get -q",
            "pytest -k 'slow and not db' tests/unit",
            "python -m pytest tests/",
            "uv run pytest tests/unit/test_models.py",
            "FOO=1 BAR=2 pytest -x tests",
            "env CI=1 npm --version",
            "timeout 60 make test",
            "time cargo build",
            "sh -c 'npm run nothing-here'",
            "bash scripts/seed.sh",
            "./scripts/seed.sh",
            "cargo test 2>&1 | tail -5",
            "test -f web/package.json && echo ok",
            "[ -d web ] || exit 1",
            "curl -fsS localhost:8000/health > /dev/null",
            "grep -q store web/src/lib/store.ts",
            "if [ -f x ]; then nothing-here; fi",
            "for f in tests/*.py; do python3 $f; done",
            "npx some-tool --check",
            "uvx ruff check .",
            "pnpm dlx create-thing",
            "python3 -m wordfreq README.md",
            "sudo nothing-here",
            "cd \"$HOME\" && nothing-here",
            "git diff --exit-code",
            "echo $(nothing-here)",
            "exit 0",
        ] {
            assert_eq!(findings(command, "`api/app.py`"), Vec::<String>::new(), "{command}");
        }
    }

    #[test]
    fn commands_that_cannot_run_are_reported() {
        for (command, finding) in [
            ("cd web && npm run test:e2e", "`web/package.json` has no script `test:e2e`"),
            ("cd web && pnpm run e2e", "`web/package.json` has no script `e2e`"),
            ("cd web && yarn e2e", "`web/package.json` has no script `e2e`"),
            ("npm run build", "there is no `package.json` in the top of the repository or above"),
            ("npm run lint", "there is no `package.json` in the top of the repository or above"),
            ("cd web/src && npm run deploy", "`web/package.json` has no script `deploy`"),
            ("make deploy", "the Makefile has no target `deploy`"),
            ("cd web && make", "there is no Makefile in `web`"),
            ("cargo test -p payments", "no Cargo package is named `payments`"),
            ("cargo run --package payments", "no Cargo package is named `payments`"),
            ("pytest tests/test_missing.py", "`tests/test_missing.py` does not exist"),
            ("python3 -m pytest -q tests/e2e/", "`tests/e2e/` does not exist"),
            ("uv run pytest tests/test_api.py::x tests/nope.py", "`tests/nope.py` does not exist"),
            ("ruff check .", "`ruff` is not installed"),
            ("CI=1 playwright test", "`playwright` is not installed"),
            ("make test && jest", "`jest` is not installed"),
        ] {
            let found = findings(command, "`api/app.py`");
            assert_eq!(found.len(), 1, "{command}: {found:?}");
            assert!(found[0].ends_with(finding), "{command}: {found:?}");
        }
    }

    #[test]
    fn a_verify_span_that_is_no_command_is_told_to_lose_its_backticks() {
        let text = "# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n- **Files**: `api/app.py`\n- **Action**: Write a\n\
                    - **Verify**: `GET /rooms` returns 200\n- **Done**: ok\n";
        let found = repo_checks(&crate::parse(text, "x").plan, &facts());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].message, "task 1.1's Verify command `GET /rooms` cannot run here: `GET` is not installed");
        assert!(found[0].help.as_deref().unwrap().ends_with("wavecrew runs every backticked span of Verify"));
    }

    #[test]
    fn a_script_of_another_package_is_pointed_at() {
        let found = repo_checks(&plan_with(&["npm run test:unit"], "`api/app.py`"), &facts());
        assert_eq!(
            found[0].help.as_deref(),
            Some("`test:unit` is a script of `web/package.json`: run it there, `cd web && …`")
        );
    }

    #[test]
    fn what_the_plan_itself_adds_is_not_reported() {
        // The plan writes the manifest, the test or the crate the command needs.
        for (command, files) in [
            ("cd web && npm run e2e", "`web/package.json`"),
            ("npm run build", "`package.json`"),
            ("make deploy", "`Makefile`"),
            ("pytest tests/test_new.py", "`tests/test_new.py`"),
            ("pytest tests/new/", "`tests/new/test_a.py`"),
            ("cargo test -p api", "`crates/api/Cargo.toml`, `crates/api/src/lib.rs`"),
            ("ruff check .", "`pyproject.toml`"),
        ] {
            assert_eq!(findings(command, files), Vec::<String>::new(), "{command} with {files}");
        }
    }

    #[test]
    fn key_links_name_files_that_exist_or_are_made() {
        let text = "# M1 Implementation Plan: x\n\n## must_haves\n\n### artifacts\n- `api/app.py`\n\n\
                    ### key_links\n- `web/src/lib/store.ts` feeds `api/app.py` via `fetch()`; `store.ts` too\n\
                    - `web/src/lib/gone.ts` feeds `Cart.total`\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n- **Files**: `api/app.py`\n- **Action**: Write a\n\
                    - **Verify**: `true`\n- **Done**: ok\n";
        let plan = crate::parse(text, "x").plan;
        let found = repo_checks(&plan, &facts());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::DanglingKeyLink);
        assert_eq!(&text[found[0].span.range()], "`web/src/lib/gone.ts`");
    }

    #[test]
    fn create_and_edit_are_read_from_the_files_note_or_the_action() {
        let text = "# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n- **Files**: `api/__init__.py` (new), `api/app.py` (new)\n\
                    - **Action**: Write a\n- **Verify**: `true`\n- **Done**: ok\n\n\
                    **Task 1.2** (type: auto)\n- **Files**: `web/src/lib/cart.ts`, `web/src/lib/store.ts`\n\
                    - **Action**: Create `web/src/lib/cart.ts`. Update `web/src/lib/store.ts` to use it.\n\
                    - **Verify**: `true`\n- **Done**: ok\n\n\
                    **Task 1.3** (type: auto)\n- **Files**: `web/src/lib/api.ts`\n\
                    - **Action**: Modify `web/src/lib/api.ts` to retry\n- **Verify**: `true`\n- **Done**: ok\n\n\
                    **Task 1.4** (type: auto)\n- **Files**: `web/src/lib/store.ts`, `api/__init__.py`\n\
                    - **Action**: Create a helper in `web/src/lib/store.ts`, then update the `api/__init__.py` module\n\
                    - **Verify**: `true`\n- **Done**: ok\n";
        let plan = crate::parse(text, "x").plan;
        let found: Vec<String> = repo_checks(&plan, &facts()).into_iter().map(|d| d.message).collect();
        assert_eq!(
            found,
            [
                "task 1.1 says to create `api/__init__.py`, which already exists",
                "task 1.3 says to edit `web/src/lib/api.ts`, which does not exist",
            ]
        );
    }

    #[test]
    fn make_targets_are_read_carefully() {
        let makefile = "CC := gcc\nURL = http://x:80\n.PHONY: all lint\n\nall: build test\n\tbuild: not a target\n\
                        build test:: deps ## comment\n\techo $(CC)\n%.o: %.c\n\t$(CC) -c $<\n\
                        define RECIPE\nfake: target\nendef\nlong: a \\\n  b: c\n";
        let targets = make_targets(makefile).unwrap();
        assert_eq!(targets.into_iter().collect::<Vec<_>>(), ["all", "build", "lint", "long", "test"]);
        assert_eq!(make_targets("include common.mk\nall:\n"), None);
        assert_eq!(make_targets("$(BIN): main.o\n"), None);
    }

    proptest! {
        #[test]
        fn any_command_and_makefile_are_judged_without_panicking(command in "\\PC{0,80}", makefile in "\\PC{0,200}") {
            let _ = make_targets(&makefile);
            let plan = plan_with(&[&command.replace('\n', " ")], "`a.rs`");
            let _ = programs_needed(&plan);
            let _ = repo_checks(&plan, &facts());
        }
    }
}
