//! Commands that do not exit by themselves: dev servers, watch modes, `tail -f`.
//!
//! A Verify or Automated command must end for its check to pass or fail; a dev server or a
//! watcher runs until it is killed, so the check can only time out. [`long_running`] spots the
//! usual ones from the command line alone (it cannot read `package.json`: an `npm run` script is
//! judged by its name). `check` reports them as `long-running-verify`, and `run` names the same
//! reason when such a command times out.

/// Why a command does not exit by itself, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongRunning {
    /// The simple command that does not exit, as written (runners and `VAR=value` included),
    /// e.g. `npx vite --port 5173`.
    pub part: String,
    /// What it is: `a dev server`, `a watch mode`, ...
    pub what: &'static str,
    /// What to use in a check instead.
    pub instead: String,
}

/// Whether `command` (a shell command line) runs until it is killed, and why.
///
/// The command is cut at `&&`, `||`, `;`, `|` and line breaks; a part sent to the background
/// with `&`, or run under `timeout`, ends (or is not waited for), so it does not count. Leading
/// `VAR=value` assignments and runners (`npx`, `pnpm exec`, `poetry run`, `python -m`, ...) are
/// looked through.
///
/// ```
/// assert!(plan::long_running("npm run dev").is_some());
/// assert!(plan::long_running("npm run build && npm test").is_none());
/// assert!(plan::long_running("vitest").is_some());
/// assert!(plan::long_running("vitest run").is_none());
/// ```
pub fn long_running(command: &str) -> Option<LongRunning> {
    parts(command).into_iter().filter(|part| !part.background).find_map(|part| judge(&part.words))
}

/// One simple command of a command line.
pub(crate) struct Part {
    pub(crate) words: Vec<String>,
    /// Followed by a lone `&`: the shell does not wait for it.
    pub(crate) background: bool,
}

/// Cuts a command line into simple commands, splitting words at white space outside quotes.
pub(crate) fn parts(command: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    let end = |words: &mut Vec<String>, background: bool, parts: &mut Vec<Part>| {
        if !words.is_empty() {
            parts.push(Part { words: std::mem::take(words), background });
        }
    };
    while let Some(c) = chars.next() {
        let operator = matches!(c, '&' | '|' | ';' | '\n' | '(' | ')');
        if (c.is_whitespace() && c != '\n') || operator {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            if operator {
                // `&&` and `||` join commands; a lone `&` backgrounds the one before it.
                let doubled = (c == '&' || c == '|') && chars.next_if_eq(&c).is_some();
                end(&mut words, c == '&' && !doubled, &mut parts);
            }
            continue;
        }
        in_word = true;
        match c {
            '\'' | '"' => {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                    word.push(inner);
                }
            }
            '\\' => word.extend(chars.next()),
            _ => word.push(c),
        }
    }
    if in_word {
        words.push(word);
    }
    end(&mut words, false, &mut parts);
    parts
}

/// `npm run <script>` scripts that serve or watch, by name: `dev`, `start`, `serve`, `watch`,
/// `preview`, and names made of them (`dev:api`, `test:watch`).
fn script_runs_on(script: &str) -> bool {
    let long = |name: &str| matches!(name, "dev" | "develop" | "start" | "serve" | "server" | "watch" | "preview");
    let mut pieces = script.split(':');
    pieces.next().is_some_and(long) || script.rsplit(':').next().is_some_and(|last| last == "watch")
}

/// A server: `written` is the simple command as written, runners and variables included.
fn server(written: &[String], instead: &str) -> Option<LongRunning> {
    Some(LongRunning { part: written.join(" "), what: "a server", instead: instead.to_owned() })
}

/// A watch mode: `written` as for [`server`].
fn watcher(written: &[String], instead: &str) -> Option<LongRunning> {
    Some(LongRunning { part: written.join(" "), what: "a watch mode", instead: instead.to_owned() })
}

/// Judges one simple command.
fn judge(words: &[String]) -> Option<LongRunning> {
    // Look through `VAR=value` assignments and runners to the program that runs.
    let mut ci = false;
    let mut at = 0;
    loop {
        let word = words.get(at)?.as_str();
        if let Some((name, value)) = word.split_once('=').filter(|(name, _)| is_variable(name)) {
            ci |= name == "CI" && !matches!(value, "" | "0" | "false");
            at += 1;
            continue;
        }
        let next = words.get(at + 1).map(String::as_str);
        at += match (base(word), next) {
            ("timeout" | "gtimeout", _) => return None, // it is killed on time: it ends
            ("npx" | "pnpx" | "bunx" | "env" | "cross-env" | "sudo" | "exec" | "time" | "nice" | "nohup", _) => 1,
            ("pnpm" | "yarn" | "npm", Some("exec" | "dlx")) => 2,
            ("bundle" | "poetry" | "uv" | "pipenv" | "pdm" | "hatch", Some("exec" | "run")) => 2,
            (program, Some("-m")) if program.starts_with("python") => 2,
            _ => break,
        };
    }
    let part = &words[at..];
    let program = base(&part[0]);
    let args: Vec<&str> = part[1..].iter().map(String::as_str).collect();
    let first = args.first().copied().unwrap_or_default();
    let has = |flag: &str| args.iter().any(|a| *a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')));
    let watch_flag = args.iter().any(|a| {
        (*a == "--watch" || *a == "--watchAll" || a.starts_with("--watch=") || a.starts_with("--watchAll="))
            && !a.ends_with("=false")
    });

    match program {
        // Package scripts: judged by name, as `package.json` is not at hand.
        "npm" | "pnpm" | "yarn" | "bun" => {
            let script = match first {
                "run" | "run-script" => args.get(1).copied().unwrap_or_default(),
                "start" => "start",
                // `yarn dev`, `pnpm dev`, `bun dev` run the script of that name.
                other if program != "npm" => other,
                _ => "",
            };
            if script_runs_on(script) {
                return server(words, "a script that ends, such as `npm run build` or `npm test`");
            }
        }
        "vite" => match first {
            "build" if !has("--watch") && !has("-w") => {}
            "build" => return watcher(words, "`vite build` without `--watch`"),
            "optimize" => {}
            _ => return server(words, "`vite build` (it ends), then check its output"),
        },
        "vitest" => {
            let runs_once = ci || matches!(first, "run" | "bench" | "list" | "related") || has("--run");
            if !runs_once || watch_flag || first == "watch" || first == "dev" {
                return watcher(words, "`vitest run` (plain `vitest` watches unless `CI` is set)");
            }
            return None;
        }
        "next" | "nuxt" | "nuxi" | "astro" | "remix" | "gatsby" | "docusaurus" | "expo" | "storybook"
        | "svelte-kit"
            if matches!(first, "dev" | "develop" | "start" | "serve" | "preview") =>
        {
            return server(words, &format!("`{program} build` (it ends), then check its output"));
        }
        "ng" if matches!(first, "serve" | "s") => return server(words, "`ng build` or `ng test --watch=false`"),
        "react-scripts" if first == "start" => return server(words, "`react-scripts build`"),
        "webpack" if first == "serve" || has("-w") => return server(words, "`webpack` without `serve` or `--watch`"),
        "parcel" if !matches!(first, "build") => return server(words, "`parcel build`"),
        "webpack-dev-server" | "start-storybook" | "http-server" | "live-server" | "serve" | "nodemon"
        | "ts-node-dev" | "browser-sync" | "json-server" | "air" | "ptw" | "pytest-watch" => {
            return server(words, "a command that ends, such as the project's build or test command");
        }
        "tsc" | "mocha" | "rollup" | "sass" | "tailwindcss" | "babel" | "esbuild" if watch_flag || has("-w") => {
            return watcher(words, &format!("`{program}` without `--watch`"));
        }
        "tsx" | "node" if first == "watch" || watch_flag => {
            return watcher(words, &format!("`{program}` without watch"));
        }
        "cargo" if matches!(first, "watch" | "leptos") => return watcher(words, "`cargo build` or `cargo test`"),
        "trunk" | "hugo" | "jekyll" | "mkdocs" | "zola" | "mdbook" if matches!(first, "serve" | "server" | "watch") => {
            return server(words, &format!("`{program} build`"));
        }
        "http.server" | "uvicorn" | "gunicorn" | "hypercorn" | "daphne" | "waitress-serve" => {
            return server(words, "the tests (`pytest`), or a request to a server started in the background");
        }
        "flask" | "streamlit" | "fastapi" if matches!(first, "run" | "dev") => {
            return server(words, "the tests (`pytest`), or a request to a server started in the background");
        }
        "jupyter" if matches!(first, "notebook" | "lab" | "server") => {
            return server(words, "`jupyter nbconvert --execute`");
        }
        "manage.py" if matches!(first, "runserver" | "runserver_plus") => {
            return server(words, "`python manage.py test` or `python manage.py check`");
        }
        "rails" if matches!(first, "server" | "s") => return server(words, "`rails test`"),
        "artisan" if first == "serve" => return server(words, "`php artisan test`"),
        "php" if first == "-S" => return server(words, "`phpunit`"),
        "python" | "python3"
            if first.ends_with("manage.py") && args.get(1).is_some_and(|a| a.starts_with("runserver")) =>
        {
            return server(words, "`python manage.py test` or `python manage.py check`");
        }
        "php" if first == "artisan" && args.get(1) == Some(&"serve") => return server(words, "`php artisan test`"),
        "docker" | "docker-compose" => {
            let up = if program == "docker" { first == "compose" && args.get(1) == Some(&"up") } else { first == "up" };
            let ends = has("-d") || has("--detach") || has("--abort-on-container-exit") || has("--exit-code-from");
            if up && !ends {
                return server(words, "`docker compose up -d` then a check, or `--abort-on-container-exit`");
            }
        }
        "tail" if has("-f") || has("-F") || has("--follow") => return watcher(words, "`tail -n 50`"),
        "watch" => return watcher(words, "the command without `watch`"),
        "sleep" if first == "infinity" => return server(words, "a check that ends"),
        _ => {}
    }
    if watch_flag {
        return watcher(words, &format!("`{}` without `--watch`", part[0]));
    }
    None
}

/// The file name of a program path (`./node_modules/.bin/vite` → `vite`).
fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

pub(crate) fn is_variable(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The help line of `long-running-verify` for `found`; `for_a_person` says where a step for a
/// person goes instead (a human-verify task's Verify, or `### Manual`).
pub(crate) fn help(found: &LongRunning, for_a_person: &str) -> String {
    format!(
        "`{}` runs {} that never exits, so the check can only time out: use {}, or make it a step for a person in {for_a_person}",
        found.part, found.what, found.instead
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_watchers_are_long_running() {
        for command in [
            "npm run dev",
            "npm start",
            "pnpm dev",
            "yarn dev",
            "yarn run serve",
            "bun run dev:api",
            "npm run test:watch",
            "npm run preview",
            "cd web && npm run dev",
            "npm ci && npm run dev",
            "vite",
            "npx vite --port 5173",
            "vite preview",
            "vite build --watch",
            "next dev",
            "next start",
            "nuxt dev",
            "astro dev",
            "python -m http.server 8000",
            "python3 -m http.server",
            "flask run",
            "python -m flask run",
            "python manage.py runserver",
            "./manage.py runserver 0.0.0.0:8000",
            "uvicorn app:app",
            "poetry run uvicorn app.main:app --reload",
            "vitest",
            "npx vitest --coverage",
            "vitest watch",
            "jest --watch",
            "jest --watchAll",
            "cargo watch -x test",
            "tsc --watch",
            "tsc -w",
            "tail -f log.txt",
            "docker compose up",
            "FOO=1 npm run dev",
            "npm test -- --watch",
            "ng serve",
            "hugo server",
        ] {
            assert!(long_running(command).is_some(), "{command} should be long-running");
        }
    }

    #[test]
    fn commands_that_end_are_not() {
        for command in [
            "npm run build",
            "npm test",
            "npm run test:unit && npm run test:e2e",
            "pnpm build",
            "yarn test",
            "vite build",
            "vitest run",
            "vitest run --coverage",
            "npx vitest --run",
            "CI=true vitest",
            "next build",
            "next lint",
            "cargo test",
            "cargo build --release",
            "tsc --noEmit",
            "tsc -p .",
            "python -m pytest",
            "python manage.py test",
            "python3 -m unittest",
            "jest",
            "jest --watch=false",
            "wc -w README.md",
            "grep -w foo src/a.rs",
            "docker compose up -d",
            "docker compose up --abort-on-container-exit",
            "timeout 10 npm run dev",
            "npm run dev & sleep 5; curl -f localhost:5173",
            "echo 'npm run dev'",
            "tail -n 20 log.txt",
            "",
            "&& ; |",
        ] {
            assert_eq!(long_running(command), None, "{command} should end");
        }
    }

    #[test]
    fn the_part_that_does_not_end_is_named() {
        let found = long_running("npm ci && FOO=1 npm run dev -- --host").unwrap();
        assert_eq!(found.part, "FOO=1 npm run dev -- --host");
        assert_eq!(found.what, "a server");
        assert!(help(&found, "`### Manual`").contains("`npm run build`"), "{}", help(&found, "`### Manual`"));
        assert_eq!(long_running("npx vitest --coverage").unwrap().part, "npx vitest --coverage");
    }
}
