//! Commands that run files: the plan's Verify, Automated and truth commands, and the lines of
//! Makefiles, CI steps and package.json scripts. Only known runners count (`python x.py`,
//! `python -m a.b`, `python -c "import a.b"`, `node x`, `npx tsx x`, `pytest x`, `cargo run
//! --bin x`, `go run ./cmd/x`, `sh x`, `./x`, `npm run x` through its script); a path that is
//! only an argument (`cat x`, `grep y x`) is not a use.

use std::fmt;

use super::extract::{PyImport, python_imports, resolve_python, with_extensions};
use super::project::Project;
use super::{Files, child, file_name, join, parent};

/// Where a command of the plan comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandSource {
    /// A task's **Verify** (`1.2`).
    Verify(String),
    /// The plan's Verification / Automated block.
    Automated,
    /// A truth of the must_haves.
    Truth,
}

impl fmt::Display for CommandSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandSource::Verify(task) => write!(f, "Verify of task {task}"),
            CommandSource::Automated => write!(f, "Verification"),
            CommandSource::Truth => write!(f, "truth"),
        }
    }
}

/// A command of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanCommand {
    /// Where it is written.
    pub source: CommandSource,
    /// The command line.
    pub command: String,
}

/// The files of the repository that `command`, run in folder `cwd`, runs or imports.
pub(crate) fn targets(files: &Files, project: &Project, cwd: &str, command: &str) -> Vec<usize> {
    let mut out = Vec::new();
    run(files, project, cwd, command, 0, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

fn run(files: &Files, project: &Project, cwd: &str, command: &str, depth: usize, out: &mut Vec<usize>) {
    let mut cwd = cwd.to_string();
    for segment in segments(command) {
        let mut words: &[String] = &segment;
        // Environment, wrappers and launchers in front of the program.
        let mut launched = false;
        loop {
            let (first, second) = (words.first().map(String::as_str), words.get(1).map(String::as_str));
            let skip = match (first, second) {
                (Some(word), _) if is_assignment(word) => 1,
                (Some("env" | "sudo" | "time" | "exec" | "nohup" | "command" | "npx" | "bunx"), _) => 1,
                (Some("uv" | "poetry" | "pipenv" | "pdm" | "hatch" | "rye"), Some("run")) => 2,
                (Some("pnpm" | "yarn" | "npm"), Some("exec" | "dlx")) => 2,
                // A launcher's own flags (`npx -y tsx x`).
                (Some(flag), Some(_)) if launched && flag.starts_with('-') => 1,
                _ => break,
            };
            words = &words[skip..];
            launched = true;
        }
        let Some((program, args)) = words.split_first() else { continue };
        let name = file_name(program);
        let mut file = |path: &str, out: &mut Vec<usize>| {
            if let Some(id) = join(&cwd, path).and_then(|p| {
                files.id(&p).or_else(|| with_extensions(files, &p, &["ts", "js", "mjs", "cjs", "tsx", "mts"]))
            }) {
                out.push(id);
            }
        };
        match name {
            "cd" => {
                if let Some(dir) = args.first().and_then(|dir| join(&cwd, dir)) {
                    cwd = dir;
                }
            }
            _ if name.starts_with("python") || name == "py" || name.starts_with("pypy") => {
                python(files, project, &cwd, args, out, &mut file);
            }
            "pytest" | "py.test" => test_files(args, out, &mut file),
            "node" | "tsx" | "ts-node" | "ts-node-esm" | "esno" | "vite-node" | "ruby" | "perl" | "php" | "sh"
            | "bash" | "zsh" | "deno" | "bun" => {
                // `node --check x` and `bash -n x` only parse the file; `node -e` runs code
                // given inline.
                let check_only = ["--check", "-c", "-e", "--eval", "-p", "--print", "-n"];
                if matches!(name, "node" | "sh" | "bash" | "zsh" | "deno" | "bun")
                    && args.iter().any(|a| check_only.contains(&a.as_str()) || a == "check")
                {
                    continue;
                }
                let mut args = args.iter().filter(|a| !a.starts_with('-'));
                let mut first = args.next();
                if matches!(name, "deno" | "bun") && first.is_some_and(|f| matches!(f.as_str(), "run" | "test")) {
                    first = args.next();
                }
                if let Some(first) = first {
                    let before = out.len();
                    file(first, out);
                    if out.len() == before && name == "bun" && depth < 2 {
                        script(files, project, &cwd, first, depth, out);
                    }
                }
            }
            "vitest" | "jest" | "mocha" | "playwright" | "ava" | "tap" => test_files(args, out, &mut file),
            "cargo" => cargo(files, project, &cwd, args, out),
            "go" => go(files, &cwd, args, out),
            "npm" | "pnpm" | "yarn" if depth < 2 => {
                let script_name = match args.first().map(String::as_str) {
                    Some("run" | "run-script") => args.get(1),
                    Some("test" | "start") => args.first(),
                    Some(other) if name != "npm" && !matches!(other, "install" | "add" | "i" | "ci") => args.first(),
                    _ => None,
                };
                if let Some(script_name) = script_name {
                    script(files, project, &cwd, script_name, depth, out);
                }
            }
            _ if program.contains('/') => file(program, out),
            _ => {}
        }
    }
}

/// The package.json script `name` of the package at `cwd` (or above), run.
fn script(files: &Files, project: &Project, cwd: &str, name: &str, depth: usize, out: &mut Vec<usize>) {
    let probe = child(cwd, "package.json");
    let Some(package) = project.package_of(&probe) else { return };
    if let Some((_, command)) = package.scripts.iter().find(|(script, _)| script == name) {
        run(files, project, &package.dir, command, depth + 1, out);
    }
}

fn python(
    files: &Files,
    project: &Project,
    cwd: &str,
    args: &[String],
    out: &mut Vec<usize>,
    file: &mut impl FnMut(&str, &mut Vec<usize>),
) {
    let from = child(cwd, "__command__.py");
    let mut index = 0;
    while index < args.len() {
        let arg = args[index].as_str();
        match arg {
            "-m" => {
                let Some(module) = args.get(index + 1) else { return };
                if matches!(module.as_str(), "pytest" | "unittest") {
                    return test_files(&args[index + 2..], out, file);
                }
                let import = PyImport { line: 1, dots: 0, module: module.clone(), names: Vec::new() };
                let resolved = resolve_python(files, project, &from, &import);
                out.extend(resolved.iter().map(|(id, _)| *id));
                // `python -m package` runs its `__main__.py`.
                let main = PyImport { module: format!("{module}.__main__"), ..import };
                out.extend(resolve_python(files, project, &from, &main).into_iter().map(|(id, _)| id));
                return;
            }
            "-c" => {
                let Some(code) = args.get(index + 1) else { return };
                for import in python_imports(&code.replace(';', "\n")) {
                    out.extend(resolve_python(files, project, &from, &import).into_iter().map(|(id, _)| id));
                }
                return;
            }
            "-W" | "-X" => index += 2,
            _ if arg.starts_with('-') => index += 1,
            _ => return file(arg, out),
        }
    }
}

/// Test runners' file arguments (`tests/test_x.py::test_y` included).
fn test_files(args: &[String], out: &mut Vec<usize>, file: &mut impl FnMut(&str, &mut Vec<usize>)) {
    for arg in args.iter().filter(|a| !a.starts_with('-')) {
        file(arg.split("::").next().unwrap_or(arg), out);
    }
}

fn cargo(files: &Files, project: &Project, cwd: &str, args: &[String], out: &mut Vec<usize>) {
    let Some(subcommand) = args.first().map(String::as_str) else { return };
    if !matches!(subcommand, "run" | "test" | "bench" | "build" | "r" | "t") {
        return;
    }
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|at| args.get(at + 1)).map(String::as_str);
    let package = value("-p").or_else(|| value("--package"));
    let owner = project.crates.iter().filter(|c| match package {
        Some(name) => c.package.replace('-', "_") == name.replace('-', "_"),
        None => super::is_under(&child(cwd, "Cargo.toml"), &c.dir) || c.dir == cwd,
    });
    for found in owner {
        let target = |kind: &str, name: &str| {
            [format!("{kind}/{name}.rs"), format!("{kind}/{name}/main.rs")]
                .into_iter()
                .find_map(|p| files.id(&child(&found.dir, &p)))
        };
        if let Some(bin) = value("--bin") {
            out.extend(found.bins.iter().filter(|(name, _)| name == bin).filter_map(|(_, path)| files.id(path)));
        } else if let Some(example) = value("--example") {
            out.extend(target("examples", example));
        } else if let Some(test) = value("--test") {
            out.extend(target("tests", test));
        } else if let Some(bench) = value("--bench") {
            out.extend(target("benches", bench));
        } else if matches!(subcommand, "run" | "r") {
            out.extend(found.bins.first().and_then(|(_, path)| files.id(path)));
        }
        if package.is_none() {
            break;
        }
    }
}

fn go(files: &Files, cwd: &str, args: &[String], out: &mut Vec<usize>) {
    if args.first().map(String::as_str) != Some("run") {
        return;
    }
    for arg in args[1..].iter().filter(|a| !a.starts_with('-')) {
        let Some(path) = join(cwd, arg.trim_end_matches("/...")) else { continue };
        if let Some(id) = files.id(&path).filter(|_| path.ends_with(".go")) {
            out.push(id);
            continue;
        }
        let dir = path;
        out.extend(
            files
                .paths
                .iter()
                .enumerate()
                .filter(|(_, p)| parent(p) == dir && p.ends_with(".go") && !p.ends_with("_test.go"))
                .map(|(id, _)| id),
        );
        break;
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The simple commands of a shell line, as words: split at `&&`, `||`, `;`, `|`, `&` and line
/// breaks outside quotes; quotes removed. An unterminated quote takes the rest of the line.
pub(crate) fn segments(command: &str) -> Vec<Vec<String>> {
    let mut segments = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    let end_word = |word: &mut String, in_word: &mut bool, segments: &mut Vec<Vec<String>>| {
        if *in_word {
            if let Some(last) = segments.last_mut() {
                last.push(std::mem::take(word));
            }
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next().filter(|c| *c != '\n'));
            }
            '#' if !in_word => {
                // A comment to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut in_word, &mut segments);
                segments.push(Vec::new());
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                end_word(&mut word, &mut in_word, &mut segments);
                if segments.last().is_some_and(|s| !s.is_empty()) {
                    segments.push(Vec::new());
                }
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut segments),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut segments);
    segments.retain(|s| !s.is_empty());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn segments_respect_quotes() {
        let got = segments("cd web && python3 -c \"import a.b; print(a.b.x())\" | tee out # note\nnpm test");
        assert_eq!(
            got,
            [
                vec!["cd", "web"],
                vec!["python3", "-c", "import a.b; print(a.b.x())"],
                vec!["tee", "out"],
                vec!["npm", "test"]
            ]
        );
    }

    proptest! {
        #[test]
        fn segments_never_panic(text in "\\PC{0,200}") {
            let _ = segments(&text);
        }
    }
}
