//! Files that run by a framework's or toolchain's convention, not by being imported: routes,
//! crate roots, `__main__.py`, test files, Django's per-app modules, config files.

use std::fmt;

use super::project::{Framework, Project};
use super::{Files, file_name, parent};

/// Why a file runs without anything importing it.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Convention {
    /// `src/routes/**/+page.svelte`, `+layout`, `+server`, `+error`.
    SvelteKitRoute,
    /// `src/hooks.server.ts` and friends.
    SvelteKitHooks,
    /// `src/app.html`.
    SvelteKitAppHtml,
    /// `src/params/x.ts`, used by a `[name=x]` route folder.
    SvelteKitParamMatcher(String),
    /// `src/service-worker.ts`.
    SvelteKitServiceWorker,
    /// Next.js `app/**/page.tsx`, `layout`, `route`, …
    NextAppRoute(String),
    /// Next.js `pages/**`.
    NextPage,
    /// Next.js `proxy.ts` (Next.js 16's name for middleware), `middleware.ts`,
    /// `instrumentation.ts`.
    NextMiddleware,
    /// Nuxt's `pages/`, `layouts/`, `server/api/`, `plugins/`, `middleware/`, `app.vue`.
    Nuxt(String),
    /// Astro's `src/pages/**`, `src/middleware.ts`.
    AstroPage,
    /// Remix / React Router `app/routes/**`, `app/root.tsx`, `app/entry.*`.
    RemixRoute,
    /// Vite's `index.html`.
    ViteIndexHtml,
    /// A TypeScript declaration file (`*.d.ts`), read by the compiler.
    TypeDeclarations,
    /// A config file its tool reads (`vite.config.ts`, `Cargo.toml`, a CI workflow).
    ToolConfig(String),
    /// A test file its runner collects (`test_*.py`, `*.test.ts`, `_test.go`, `tests.py`).
    TestFile(&'static str),
    /// `conftest.py`.
    PytestConftest,
    /// A package's `__main__.py`.
    PythonMain,
    /// A package's `__init__.py`, run when its module (named) is imported or run.
    PythonPackageInit(String),
    /// `manage.py`.
    DjangoManage,
    /// `admin.py`, `apps.py`, `models.py`, … of an installed app.
    DjangoApp { file: String, app: String },
    /// `migrations/0001_x.py`.
    DjangoMigration,
    /// `management/commands/x.py`.
    DjangoCommand,
    /// A Rust crate root.
    RustCrateRoot(&'static str),
    /// A Go `package main` with `func main`.
    GoMain,
    /// An executable in `bin/` (a `#!` line).
    Executable,
}

impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Convention::SvelteKitRoute => write!(f, "a SvelteKit route (src/routes)"),
            Convention::SvelteKitHooks => write!(f, "SvelteKit's hooks file"),
            Convention::SvelteKitAppHtml => write!(f, "SvelteKit's page template (src/app.html)"),
            Convention::SvelteKitParamMatcher(name) => {
                write!(f, "a SvelteKit param matcher used by a `[…={name}]` route")
            }
            Convention::SvelteKitServiceWorker => write!(f, "SvelteKit's service worker"),
            Convention::NextAppRoute(kind) => write!(f, "a Next.js app router `{kind}` file"),
            Convention::NextPage => write!(f, "a Next.js page (pages/)"),
            Convention::NextMiddleware => write!(f, "a Next.js proxy, middleware or instrumentation file"),
            Convention::Nuxt(dir) => write!(f, "a Nuxt `{dir}` file"),
            Convention::AstroPage => write!(f, "an Astro page (src/pages)"),
            Convention::RemixRoute => write!(f, "a Remix / React Router route module (app/)"),
            Convention::ViteIndexHtml => write!(f, "Vite's entry (index.html)"),
            Convention::TypeDeclarations => write!(f, "a TypeScript declaration file"),
            Convention::ToolConfig(tool) => write!(f, "a config file {tool} reads"),
            Convention::TestFile(runner) => write!(f, "a test file {runner} collects"),
            Convention::PytestConftest => write!(f, "pytest loads conftest.py"),
            Convention::PythonMain => write!(f, "`python -m` runs a package's __main__.py"),
            Convention::PythonPackageInit(module) => {
                write!(f, "the package's __init__.py, run when its module {module} is used")
            }
            Convention::DjangoManage => write!(f, "Django's manage.py"),
            Convention::DjangoApp { file, app } => write!(f, "Django loads `{file}` of the installed app `{app}`"),
            Convention::DjangoMigration => write!(f, "a Django migration"),
            Convention::DjangoCommand => write!(f, "a Django management command"),
            Convention::RustCrateRoot(kind) => write!(f, "a Rust crate root ({kind})"),
            Convention::GoMain => write!(f, "a Go program (package main)"),
            Convention::Executable => write!(f, "an executable in bin/"),
        }
    }
}

/// The convention that runs `path`, if any.
pub(crate) fn entry_point(files: &Files, project: &Project, path: &str) -> Option<Convention> {
    let name = file_name(path);
    let lower = name.to_ascii_lowercase();
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    let script = matches!(
        extension,
        "ts" | "js" | "tsx" | "jsx" | "mjs" | "cjs" | "mts" | "svelte" | "vue" | "astro" | "md" | "mdx"
    );

    // Rust: the crate roots Cargo.toml says (or finds by its layout).
    if extension == "rs" {
        let id = files.id(path)?;
        if !project.rust_roots.contains(&id) {
            return None;
        }
        let kind = if name == "build.rs" {
            "Cargo's build script"
        } else if path.contains("/bin/") || path.starts_with("src/bin/") {
            "a binary in src/bin"
        } else if name == "main.rs" && parent(path).ends_with("src") {
            "a binary's src/main.rs"
        } else if name == "lib.rs" {
            "a library's lib.rs"
        } else if path.split('/').any(|p| p == "tests") {
            "an integration test in tests/"
        } else if path.split('/').any(|p| p == "benches") {
            "a benchmark in benches/"
        } else if path.split('/').any(|p| p == "examples") {
            "an example in examples/"
        } else {
            "a target of Cargo.toml"
        };
        return Some(Convention::RustCrateRoot(kind));
    }

    // JS frameworks, relative to the package that uses them.
    let relative_to = |framework: Framework| {
        let package = project.uses(path, framework)?;
        Some(path.strip_prefix(package.dir.as_str()).map_or(path, |rest| rest.trim_start_matches('/')))
    };
    if let Some(rel) = relative_to(Framework::SvelteKit) {
        if rel.starts_with("src/routes/") && name.starts_with('+') && script {
            return Some(Convention::SvelteKitRoute);
        }
        if matches!(stem, "hooks" | "hooks.server" | "hooks.client" | "hooks.universal") && parent(rel) == "src" {
            return Some(Convention::SvelteKitHooks);
        }
        if rel == "src/app.html" {
            return Some(Convention::SvelteKitAppHtml);
        }
        if parent(rel) == "src/params" && script {
            let marker = format!("={stem}]");
            if project.dirs.iter().any(|dir| dir.contains(&marker)) {
                return Some(Convention::SvelteKitParamMatcher(stem.to_string()));
            }
        }
        if rel.starts_with("src/service-worker") {
            return Some(Convention::SvelteKitServiceWorker);
        }
    }
    if let Some(rel) = relative_to(Framework::Next) {
        let rel = rel.strip_prefix("src/").unwrap_or(rel);
        const APP_FILES: &[&str] = &[
            "page",
            "layout",
            "route",
            "loading",
            "error",
            "not-found",
            "template",
            "default",
            "global-error",
            "opengraph-image",
            "twitter-image",
            "icon",
            "apple-icon",
            "sitemap",
            "robots",
            "manifest",
        ];
        // `_private` folders are left out of routing.
        let private = rel.split('/').any(|segment| segment.starts_with('_'));
        if rel.starts_with("app/") && APP_FILES.contains(&stem) && script && !private {
            return Some(Convention::NextAppRoute(stem.to_string()));
        }
        if rel.starts_with("pages/") && script {
            return Some(Convention::NextPage);
        }
        // Next.js 16 renamed middleware.ts to proxy.ts; before 16 a proxy.ts is an ordinary file.
        let next_major = project.uses(path, Framework::Next).and_then(|package| package.next_major);
        let proxy = stem == "proxy" && next_major.is_none_or(|major| major >= 16);
        if (proxy || matches!(stem, "middleware" | "instrumentation" | "instrumentation-client"))
            && !rel.contains('/')
            && script
        {
            return Some(Convention::NextMiddleware);
        }
    }
    if let Some(rel) = relative_to(Framework::Nuxt) {
        let rel = rel.strip_prefix("app/").unwrap_or(rel);
        // Named middleware runs only where a page asks for it (an edge); global ones always.
        if rel.starts_with("middleware/") && stem.ends_with(".global") {
            return Some(Convention::Nuxt("middleware/ (global)".into()));
        }
        for dir in
            ["pages/", "layouts/", "server/api/", "server/routes/", "server/middleware/", "server/plugins/", "plugins/"]
        {
            if rel.starts_with(dir) {
                return Some(Convention::Nuxt(dir.to_string()));
            }
        }
        if matches!(rel, "app.vue" | "error.vue" | "app.config.ts") {
            return Some(Convention::Nuxt(rel.to_string()));
        }
    }
    if let Some(rel) = relative_to(Framework::Astro)
        && (rel.starts_with("src/pages/")
            || matches!(
                rel,
                "src/middleware.ts" | "src/middleware.js" | "src/content/config.ts" | "src/content.config.ts"
            ))
    {
        return Some(Convention::AstroPage);
    }
    if let Some(rel) = relative_to(Framework::Remix) {
        // With an `app/routes.ts`, only the routes it registers load (or all of `app/routes/`
        // through `flatRoutes()`).
        let package_dir = path[..path.len() - rel.len()].trim_end_matches('/');
        let config =
            ["app/routes.ts", "app/routes.js"].iter().find_map(|config| files.text(&super::child(package_dir, config)));
        let file_routes = config.is_none_or(|text| text.contains("flatRoutes"));
        if (rel.starts_with("app/routes/") && file_routes)
            || matches!(stem, "root" | "entry.client" | "entry.server" | "routes") && parent(rel) == "app" && script
        {
            return Some(Convention::RemixRoute);
        }
    }
    if let Some(rel) = relative_to(Framework::Vite)
        && rel == "index.html"
    {
        return Some(Convention::ViteIndexHtml);
    }
    if name.ends_with(".d.ts") {
        return Some(Convention::TypeDeclarations);
    }
    if let Some(tool) = tool_config(path, &lower) {
        return Some(Convention::ToolConfig(tool));
    }

    // Tests.
    if extension == "py" {
        let collected = if project.pytest_files.is_empty() {
            stem.starts_with("test_") || stem.ends_with("_test")
        } else {
            project.pytest_files.iter().any(|pattern| super::extract::segment_matches(pattern, name))
        };
        if collected {
            // `test_*.py` is also what `python -m unittest discover` looks for by default.
            let runner = if project.pytest_files.is_empty() { "pytest or unittest discovery" } else { "pytest" };
            return Some(Convention::TestFile(runner));
        }
    }
    if name.ends_with("_test.go") {
        return Some(Convention::TestFile("`go test`"));
    }
    if script
        && (stem.ends_with(".test")
            || stem.ends_with(".spec")
            || path.contains("/__tests__/")
            || path.starts_with("__tests__/"))
    {
        return Some(Convention::TestFile("the JS test runner"));
    }

    // Python and Django.
    match name {
        "conftest.py" => return Some(Convention::PytestConftest),
        "__main__.py" => return Some(Convention::PythonMain),
        "manage.py" => return Some(Convention::DjangoManage),
        _ => {}
    }
    if extension == "py" {
        if parent(path).ends_with("migrations")
            && (stem == "__init__" || stem.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Some(Convention::DjangoMigration);
        }
        if parent(path).ends_with("management/commands") {
            return Some(Convention::DjangoCommand);
        }
        let app = parent(path);
        if matches!(stem, "admin" | "apps" | "models" | "tests" | "wagtail_hooks") && project.django_apps.contains(app)
        {
            return Some(Convention::DjangoApp { file: name.to_string(), app: file_name(app).to_string() });
        }
    }

    // Go.
    if extension == "go"
        && let Some(text) = files.text(path)
        && !super::extract::go_ignored(text)
        && super::extract::go_package_name(text).as_deref() == Some("main")
        && text.contains("func main(")
    {
        return Some(Convention::GoMain);
    }
    if parent(path) == "bin" && files.text(path).is_some_and(|text| text.starts_with("#!")) {
        return Some(Convention::Executable);
    }
    None
}

/// The tool that reads `path` by its name, if it is a config file.
fn tool_config(path: &str, lower: &str) -> Option<String> {
    let stem = lower.split('.').next().unwrap_or(lower);
    let config_js = lower.contains(".config.") || lower.starts_with(".eslintrc") || lower.starts_with(".prettierrc");
    let tool = match stem {
        "vite" | "vitest" | "svelte" | "next" | "nuxt" | "astro" | "tailwind" | "postcss" | "eslint" | "prettier"
        | "playwright" | "jest" | "babel" | "webpack" | "rollup" | "remix" | "react-router" | "drizzle" | "tsup"
        | "contentlayer"
            if config_js =>
        {
            stem
        }
        _ => match lower {
            "package.json" => "npm",
            "cargo.toml" => "cargo",
            "go.mod" => "go",
            "pyproject.toml" | "setup.py" | "setup.cfg" | "requirements.txt" => "pip",
            "makefile" | "gnumakefile" => "make",
            "dockerfile" | "docker-compose.yml" | "docker-compose.yaml" | "compose.yaml" | "compose.yml" => "docker",
            "justfile" => "just",
            "procfile" => "the process manager",
            "doc.go" => "`go doc`",
            "schema.prisma" => "prisma",
            "pnpm-lock.yaml" | "package-lock.json" | "yarn.lock" | "bun.lockb" | "pnpm-workspace.yaml" => {
                "the package manager"
            }
            "cargo.lock" | "go.sum" | "poetry.lock" | "uv.lock" | "pipfile" | "pipfile.lock" => "the package manager",
            ".python-version" | ".nvmrc" | ".node-version" | ".tool-versions" => "the version manager",
            "conf.py" if path.starts_with("docs/") || path.contains("/docs/") => "Sphinx",
            _ if (lower.starts_with("tsconfig") || lower.starts_with("jsconfig")) && lower.ends_with(".json") => "tsc",
            "robots.txt"
            | "favicon.ico"
            | "favicon.png"
            | "favicon.svg"
            | "site.webmanifest"
            | "manifest.webmanifest"
                if parent(path).ends_with("public") || parent(path).ends_with("static") =>
            {
                "browsers and crawlers at a well-known URL"
            }
            _ if path.starts_with(".github/workflows/") => "GitHub Actions",
            _ => return None,
        },
    };
    // A program is named as code; a description (`the package manager`) as it is.
    Some(if tool.contains(' ') { tool.to_string() } else { format!("`{tool}`") })
}
