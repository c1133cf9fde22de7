//! Unit tests of the wiring rules, one small repository each.

use super::*;

/// A repository of (path, text) files.
fn repo(files: &[(&str, &str)]) -> (Vec<String>, Vec<(String, String)>) {
    let paths = files.iter().map(|(p, _)| p.to_string()).collect();
    let texts = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    (paths, texts)
}

fn verdict(files: &[(&str, &str)], commands: &[PlanCommand], path: &str) -> Result<String, String> {
    let (paths, texts) = repo(files);
    let wiring = Wiring::build(&paths, &texts, commands);
    wiring.artifact(path).map(|w| w.to_string()).map_err(|e| e.to_string())
}

fn automated(command: &str) -> PlanCommand {
    PlanCommand { source: CommandSource::Automated, command: command.into() }
}

const SVELTE_CONFIG: &str =
    "import adapter from '@sveltejs/adapter-auto';\nexport default { kit: { adapter: adapter() } };\n";
const SVELTE_PACKAGE: &str = r#"{"name": "app", "devDependencies": {"@sveltejs/kit": "^2.0.0", "vite": "^5"}}"#;

fn sveltekit(page: &str) -> Vec<(&'static str, String)> {
    vec![
        ("package.json", SVELTE_PACKAGE.to_string()),
        ("svelte.config.js", SVELTE_CONFIG.to_string()),
        ("src/routes/room/[id]/+page.svelte", page.to_string()),
        ("src/lib/components/TaskPanel.svelte", "<script lang=\"ts\">\n  export let tasks: string[] = [];\n</script>\n<ul>{#each tasks as t}<li>{t}</li>{/each}</ul>\n".to_string()),
        ("src/lib/store.ts", "import { writable } from 'svelte/store';\nexport const tasks = writable<string[]>([]);\n".to_string()),
    ]
}

fn owned<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    files.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

#[test]
fn sveltekit_routes_and_lib_imports_are_wired() {
    let page = "<script lang=\"ts\">\n  import TaskPanel from '$lib/components/TaskPanel.svelte';\n  import { tasks } from \"$lib/store\";\n</script>\n<TaskPanel tasks={$tasks} />\n";
    let files = sveltekit(page);
    let files = owned(&files);
    assert_eq!(
        verdict(&files, &[], "src/routes/room/[id]/+page.svelte").unwrap(),
        "an entry point: a SvelteKit route (src/routes)"
    );
    assert_eq!(
        verdict(&files, &[], "src/lib/components/TaskPanel.svelte").unwrap(),
        "imported at src/routes/room/[id]/+page.svelte:2 through `$lib` (svelte.config.js)"
    );
    assert_eq!(
        verdict(&files, &[], "src/lib/store.ts").unwrap(),
        "imported at src/routes/room/[id]/+page.svelte:3 through `$lib` (svelte.config.js)"
    );
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    assert_eq!(wiring.files_named("+page.svelte"), ["src/routes/room/[id]/+page.svelte"]);
    assert!(wiring.uses("src/routes/room/[id]/+page.svelte", "src/lib/components/TaskPanel.svelte").is_some());
}

#[test]
fn an_import_in_an_html_comment_of_a_component_is_not_wiring() {
    let page = "<!-- <script>import TaskPanel from '$lib/components/TaskPanel.svelte';</script> -->\n<script>\n  // import { tasks } from '$lib/store';\n  console.log(\"see $lib/store.ts\");\n</script>\n<p>TaskPanel.svelte</p>\n";
    let files = sveltekit(page);
    let files = owned(&files);
    assert!(verdict(&files, &[], "src/lib/components/TaskPanel.svelte").is_err());
    assert!(verdict(&files, &[], "src/lib/store.ts").is_err());
}

const LEDGER: &[(&str, &str)] = &[
    ("ledger/__init__.py", ""),
    ("ledger/entries.py", "ENTRIES = [(\"rent\", -900), (\"pay\", 2500)]\n"),
    (
        "ledger/balance.py",
        "from ledger.entries import ENTRIES\n\n\ndef balance():\n    return sum(amount for _, amount in ENTRIES)\n",
    ),
    (
        "ledger/report.py",
        "from .balance import balance\nfrom . import entries\n\n\ndef report():\n    return f\"{len(entries.ENTRIES)} entries, balance {balance()}\"\n",
    ),
    ("README.md", "Run `python3 -c \"import ledger.report\"`; see ledger/report.py.\n"),
];

#[test]
fn the_plans_own_command_wires_the_module_it_imports() {
    let command =
        automated("python3 -c \"import ledger.report; print(ledger.report.report())\"    # prints the balance");
    assert_eq!(
        verdict(LEDGER, std::slice::from_ref(&command), "ledger/report.py").unwrap(),
        "run by the plan's Verification: `python3 -c \"import ledger.report; print(ledger.report.report())\"    # prints the balance`"
    );
    assert!(verdict(LEDGER, &[], "ledger/report.py").is_err(), "the README's mention is not wiring");
    assert_eq!(
        verdict(LEDGER, &[], "ledger/entries.py").unwrap(),
        "imported at ledger/balance.py:1 as the module `ledger.entries`"
    );
    assert_eq!(verdict(LEDGER, &[], "ledger/balance.py").unwrap(), "imported at ledger/report.py:1 by a relative path");
    for command in ["python3 -m ledger.report", "cd . && uv run python ledger/report.py"] {
        assert!(verdict(LEDGER, &[automated(command)], "ledger/report.py").is_ok(), "{command}");
    }
    for command in ["cat ledger/report.py", "grep -q report ledger/report.py", "echo import ledger.report"] {
        assert!(verdict(LEDGER, &[automated(command)], "ledger/report.py").is_err(), "{command}");
    }
}

#[test]
fn names_in_logs_strings_comments_and_self_references_are_not_wiring() {
    let files = [
        (
            "app/main.py",
            "import logging\n# from app import helpers\nlogging.info(\"import app.helpers failed\")\nprint('app/helpers.py')\n",
        ),
        ("app/helpers.py", "def helper():\n    return 1\n\n# helpers.py is used by helper()\nimport app.helpers\n"),
        ("app/__init__.py", ""),
    ];
    assert_eq!(verdict(&files, &[], "app/helpers.py").unwrap_err(), NotWired::Unused.to_string());
}

#[test]
fn rust_files_are_wired_by_mod_from_a_crate_root_only() {
    let files = [
        ("Cargo.toml", "[package]\nname = \"tool\"\nversion = \"0.1.0\"\n"),
        (
            "src/main.rs",
            "mod store;\nuse store::Store;\n\nfn main() {\n    eprintln!(\"see src/orphan.rs\");\n    Store::open();\n}\n",
        ),
        ("src/store.rs", "pub struct Store;\nimpl Store { pub fn open() {} }\n"),
        ("src/orphan.rs", "mod deeper;\npub fn unused() {}\n"),
        ("src/orphan/deeper.rs", "pub fn x() {}\n"),
        ("src/bin/admin.rs", "fn main() {}\n"),
        ("README.md", "src/orphan.rs holds the helpers.\n"),
    ];
    assert_eq!(verdict(&files, &[], "src/store.rs").unwrap(), "declared by `mod` at src/main.rs:1");
    assert_eq!(verdict(&files, &[], "src/orphan.rs").unwrap_err(), NotWired::RustUndeclared.to_string());
    assert!(verdict(&files, &[], "src/orphan/deeper.rs").is_err(), "declared only by a file never compiled");
    assert_eq!(
        verdict(&files, &[], "src/bin/admin.rs").unwrap(),
        "an entry point: a Rust crate root (a binary in src/bin)"
    );
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    assert!(wiring.uses("src/main.rs", "src/store.rs").is_some());
    let run = automated("cargo run --bin admin");
    let wiring = Wiring::build(&paths, &texts, std::slice::from_ref(&run));
    assert_eq!(wiring.run_by_plan("src/bin/admin.rs"), Some(&run));
}

#[test]
fn workspace_crates_are_resolved_by_name() {
    let files = [
        ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
        ("crates/core/Cargo.toml", "[package]\nname = \"ledger-core\"\n"),
        ("crates/core/src/lib.rs", "pub mod money;\n"),
        ("crates/core/src/money.rs", "pub struct Money(pub i64);\n"),
        ("crates/cli/Cargo.toml", "[package]\nname = \"cli\"\n[dependencies]\nledger-core = { path = \"../core\" }\n"),
        ("crates/cli/src/main.rs", "use ledger_core::money::Money;\nfn main() { let _ = Money(1); }\n"),
    ];
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    let (line, via) = wiring.uses("crates/cli/src/main.rs", "crates/core/src/money.rs").unwrap();
    assert_eq!((line, via.as_str()), (1, "as the crate `ledger_core` (crates/core/Cargo.toml)"));
}

#[test]
fn a_renamed_dependency_is_resolved_by_the_name_its_user_gives_it() {
    let files = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\nmodel = { package = \"ledger-core\", path = \"crates/core\" }\n",
        ),
        ("crates/core/Cargo.toml", "[package]\nname = \"ledger-core\"\n"),
        ("crates/core/src/lib.rs", "pub mod money;\n"),
        ("crates/core/src/money.rs", "pub struct Money(pub i64);\n"),
        (
            "crates/cli/Cargo.toml",
            "[package]\nname = \"cli\"\n[dependencies]\nbooks = { package = \"ledger-core\", path = \"../core\" }\n",
        ),
        ("crates/cli/src/main.rs", "use books::money::Money;\nfn main() { let _ = Money(1); }\n"),
        ("crates/web/Cargo.toml", "[package]\nname = \"web\"\n[dependencies]\nmodel.workspace = true\n"),
        ("crates/web/src/main.rs", "fn main() { let _ = model::money::Money(1); }\n"),
    ];
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    let (line, via) = wiring.uses("crates/cli/src/main.rs", "crates/core/src/money.rs").unwrap();
    assert_eq!((line, via.as_str()), (1, "as the crate `ledger_core` (crates/core/Cargo.toml)"));
    assert!(wiring.uses("crates/web/src/main.rs", "crates/core/src/money.rs").is_some());
}

#[test]
fn a_library_renamed_by_lib_name_is_used_by_that_name_and_run_by_its_package_name() {
    let files = [
        ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
        ("crates/core/Cargo.toml", "[package]\nname = \"ledger-core\"\n[lib]\nname = \"ledger\"\n"),
        ("crates/core/src/lib.rs", "pub mod money;\n"),
        ("crates/core/src/money.rs", "pub struct Money(pub i64);\n"),
        ("crates/core/src/bin/seed.rs", "fn main() {}\n"),
        ("crates/cli/Cargo.toml", "[package]\nname = \"cli\"\n[dependencies]\nledger-core = { path = \"../core\" }\n"),
        ("crates/cli/src/main.rs", "use ledger::money::Money;\nfn main() { let _ = Money(1); }\n"),
    ];
    let (paths, texts) = repo(&files);
    let run = automated("cargo run -p ledger-core --bin seed");
    let wiring = Wiring::build(&paths, &texts, std::slice::from_ref(&run));
    let (line, via) = wiring.uses("crates/cli/src/main.rs", "crates/core/src/money.rs").unwrap();
    assert_eq!((line, via.as_str()), (1, "as the crate `ledger` (crates/core/Cargo.toml)"));
    assert_eq!(wiring.run_by_plan("crates/core/src/bin/seed.rs"), Some(&run));
}

#[test]
fn go_files_are_wired_by_module_imports_and_by_their_package() {
    let files = [
        ("go.mod", "module example.com/shop\n\ngo 1.22\n"),
        (
            "cmd/shop/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/shop/internal/cart\"\n)\n\nfunc main() {\n\tfmt.Println(cart.Total(nil))\n}\n",
        ),
        ("internal/cart/cart.go", "package cart\n\nfunc Total(items []Item) int {\n\treturn sum(items)\n}\n"),
        (
            "internal/cart/item.go",
            "package cart\n\ntype Item struct{ Price int }\n\nfunc sum(items []Item) int {\n\tn := 0\n\tfor _, i := range items {\n\t\tn += i.Price\n\t}\n\treturn n\n}\n",
        ),
        ("internal/cart/unused.go", "package cart\n\n// Total is elsewhere\nfunc discount() int { return 0 }\n"),
        (
            "internal/cart/cart_test.go",
            "package cart\n\nimport \"testing\"\n\nfunc TestTotal(t *testing.T) { _ = Total(nil) }\n",
        ),
    ];
    assert_eq!(verdict(&files, &[], "cmd/shop/main.go").unwrap(), "an entry point: a Go program (package main)");
    assert_eq!(
        verdict(&files, &[], "internal/cart/cart.go").unwrap(),
        "imported at cmd/shop/main.go:9 by the Go import `example.com/shop/internal/cart`"
    );
    assert_eq!(
        verdict(&files, &[], "internal/cart/item.go").unwrap(),
        "imported at internal/cart/cart.go:3 using `Item` of the same Go package"
    );
    assert!(verdict(&files, &[], "internal/cart/unused.go").is_err());
    assert_eq!(
        verdict(&files, &[], "internal/cart/cart_test.go").unwrap(),
        "an entry point: a test file `go test` collects"
    );
}

#[test]
fn tsconfig_paths_through_extends_vite_aliases_and_workspace_packages_resolve() {
    let files = [
        ("package.json", r#"{"name": "root", "private": true, "workspaces": ["packages/*", "web"]}"#),
        (
            "tsconfig.base.json",
            "{\n  // shared\n  \"compilerOptions\": {\"baseUrl\": \".\", \"paths\": {\"@core/*\": [\"packages/core/src/*\"],},},\n}\n",
        ),
        ("web/tsconfig.json", "{ \"extends\": \"../tsconfig.base.json\" }"),
        ("web/package.json", r#"{"name": "web", "dependencies": {"vite": "5", "@acme/ui": "workspace:*"}}"#),
        (
            "web/vite.config.ts",
            "import path from 'node:path';\nexport default { resolve: { alias: { '~': path.resolve(__dirname, './src') } } };\n",
        ),
        (
            "web/index.html",
            "<!doctype html>\n<!-- <script src=\"/src/old.ts\"></script> -->\n<script type=\"module\" src=\"/src/main.ts\"></script>\n",
        ),
        (
            "web/src/main.ts",
            "import { money } from '@core/money';\nimport { Button } from '@acme/ui';\nimport { App } from '~/App';\n",
        ),
        ("web/src/App.ts", "export const App = 1;\n"),
        ("web/src/old.ts", "export const old = 1;\n"),
        ("packages/core/src/money.ts", "export const money = 1;\n"),
        (
            "packages/ui/package.json",
            r#"{"name": "@acme/ui", "main": "./dist/index.js", "types": "./dist/index.d.ts"}"#,
        ),
        ("packages/ui/src/index.ts", "export const Button = 1;\n"),
    ];
    assert_eq!(verdict(&files, &[], "web/index.html").unwrap(), "an entry point: Vite's entry (index.html)");
    assert_eq!(verdict(&files, &[], "web/src/main.ts").unwrap(), "imported at web/index.html:3 by an HTML link");
    assert!(verdict(&files, &[], "web/src/old.ts").is_err());
    assert_eq!(
        verdict(&files, &[], "packages/core/src/money.ts").unwrap(),
        "imported at web/src/main.ts:1 through `@core/*` (tsconfig.base.json)"
    );
    assert_eq!(
        verdict(&files, &[], "packages/ui/src/index.ts").unwrap(),
        "imported at web/src/main.ts:2 as the package `@acme/ui` (packages/ui/package.json)"
    );
    assert_eq!(
        verdict(&files, &[], "web/src/App.ts").unwrap(),
        "imported at web/src/main.ts:3 through `~` (web/vite.config.ts)"
    );
}

#[test]
fn an_unreadable_config_falls_back_to_plain_references_and_says_so() {
    let files = [
        ("tsconfig.json", "{ \"compilerOptions\": { \"paths\": { \"@x/*\": [\"src/x/*\"] } "),
        ("src/main.ts", "import { a } from '@x/a';\n"),
        ("src/x/a.ts", "export const a = 1;\n"),
        ("package.json", r#"{"name": "p", "main": "src/main.ts"}"#),
    ];
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    assert_eq!(wiring.unreadable()[0].0, "tsconfig.json");
    let got = wiring.artifact("src/x/a.ts").unwrap().to_string();
    assert_eq!(got, "referenced at src/main.ts:1 (a plain reference: tsconfig.json could not be read)");
}

#[test]
fn django_conventions_and_dotted_paths_wire_an_app() {
    let files = [
        ("manage.py", "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n"),
        ("mysite/__init__.py", ""),
        (
            "mysite/settings.py",
            "INSTALLED_APPS = [\n    \"django.contrib.admin\",\n    \"polls.apps.PollsConfig\",\n]\nROOT_URLCONF = \"mysite.urls\"\n",
        ),
        (
            "mysite/urls.py",
            "from django.urls import include, path\nurlpatterns = [path(\"polls/\", include(\"polls.urls\"))]\n",
        ),
        ("polls/__init__.py", ""),
        ("polls/apps.py", "from django.apps import AppConfig\nclass PollsConfig(AppConfig):\n    name = \"polls\"\n"),
        (
            "polls/admin.py",
            "from django.contrib import admin\nfrom .models import Question\nadmin.site.register(Question)\n",
        ),
        (
            "polls/models.py",
            "from django.db import models\nclass Question(models.Model):\n    text = models.CharField(max_length=200)\n",
        ),
        (
            "polls/urls.py",
            "from django.urls import path\nfrom . import views\nurlpatterns = [path(\"\", views.index)]\n",
        ),
        ("polls/views.py", "def index(request):\n    return None\n"),
        ("polls/migrations/__init__.py", ""),
        ("polls/migrations/0001_initial.py", "operations = []\n"),
        ("polls/templatetags/__init__.py", ""),
        ("polls/templatetags/poll_extras.py", "from django import template\nregister = template.Library()\n"),
        ("polls/templates/polls/index.html", "{% load static poll_extras %}\n<p>hi</p>\n"),
        ("polls/management/commands/closepoll.py", "class Command:\n    pass\n"),
        ("polls/forms.py", "class Form:\n    pass\n"),
    ];
    assert_eq!(
        verdict(&files, &[], "polls/urls.py").unwrap(),
        "imported at mysite/urls.py:2 by the dotted path `polls.urls`"
    );
    assert_eq!(verdict(&files, &[], "polls/views.py").unwrap(), "imported at polls/urls.py:2 by a relative path");
    assert_eq!(
        verdict(&files, &[], "polls/apps.py").unwrap(),
        "imported at mysite/settings.py:3 by the dotted path `polls.apps.PollsConfig`"
    );
    assert_eq!(
        verdict(&files, &[], "polls/admin.py").unwrap(),
        "an entry point: Django loads `admin.py` of the installed app `polls`"
    );
    assert_eq!(
        verdict(&files, &[], "polls/templatetags/poll_extras.py").unwrap(),
        "imported at polls/templates/polls/index.html:1 by `{% load poll_extras %}`"
    );
    assert_eq!(verdict(&files, &[], "polls/migrations/0001_initial.py").unwrap(), "an entry point: a Django migration");
    assert_eq!(
        verdict(&files, &[], "polls/management/commands/closepoll.py").unwrap(),
        "an entry point: a Django management command"
    );
    assert_eq!(
        verdict(&files, &[], "mysite/settings.py").unwrap(),
        "imported at manage.py:2 by the dotted path `mysite.settings`"
    );
    assert!(verdict(&files, &[], "polls/forms.py").is_err());
}

#[test]
fn python_entry_points_scripts_and_fixtures() {
    let files = [
        ("pyproject.toml", "[project]\nname = \"tally\"\n[project.scripts]\ntally = \"tally.cli:main\"\n"),
        ("src/tally/__init__.py", ""),
        ("src/tally/cli.py", "def main():\n    print(1)\n"),
        ("src/tally/__main__.py", "from tally.cli import main\nmain()\n"),
        ("tests/conftest.py", "import pytest\n\n@pytest.fixture\ndef ledger():\n    return []\n"),
        ("tests/test_cli.py", "import json\n\n\ndef test_cli(ledger):\n    assert ledger == []\n"),
        ("tests/helpers.py", "def unused():\n    return 1\n"),
        ("Makefile", "seed:\n\tpython3 scripts/seed.py --fast\n"),
        ("scripts/seed.py", "print('seeded')\n"),
    ];
    assert_eq!(
        verdict(&files, &[], "src/tally/cli.py").unwrap(),
        "imported at src/tally/__main__.py:1 as the module `tally.cli`"
    );
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    assert_eq!(
        wiring.uses("pyproject.toml", "src/tally/cli.py").unwrap().1,
        "as its pyproject.toml [project.scripts] `tally`"
    );
    assert_eq!(wiring.uses("tests/test_cli.py", "tests/conftest.py").unwrap().1, "using the pytest fixture `ledger`");
    assert_eq!(
        verdict(&files, &[], "tests/conftest.py").unwrap(),
        "its pytest fixture `ledger` is used at tests/test_cli.py:4"
    );
    assert_eq!(
        verdict(&files, &[], "tests/test_cli.py").unwrap(),
        "an entry point: a test file pytest or unittest discovery collects"
    );
    assert!(verdict(&files, &[], "tests/helpers.py").is_err());
    assert_eq!(
        verdict(&files, &[], "scripts/seed.py").unwrap(),
        "run by `python3 scripts/seed.py --fast` at Makefile:2"
    );
}

#[test]
fn framework_routes_need_the_framework() {
    let next = [
        ("package.json", r#"{"dependencies": {"next": "15"}}"#),
        ("app/dashboard/page.tsx", "export default function Page() { return null }\n"),
        ("middleware.ts", "export function middleware() {}\n"),
        ("pages/api/hello.ts", "export default function h() {}\n"),
    ];
    assert_eq!(
        verdict(&next, &[], "app/dashboard/page.tsx").unwrap(),
        "an entry point: a Next.js app router `page` file"
    );
    assert!(verdict(&next, &[], "middleware.ts").is_ok());
    assert!(verdict(&next, &[], "pages/api/hello.ts").is_ok());
    let plain = [
        ("package.json", r#"{"dependencies": {"express": "4"}}"#),
        ("app/dashboard/page.tsx", "export const x = 1;\n"),
    ];
    assert!(verdict(&plain, &[], "app/dashboard/page.tsx").is_err(), "no Next.js, no convention");
}

#[test]
fn package_json_scripts_and_dist_entries_map_to_sources() {
    let files = [
        (
            "package.json",
            r#"{"name": "cli", "bin": {"cli": "./dist/cli.js"}, "scripts": {"seed": "tsx scripts/seed.ts"}}"#,
        ),
        ("tsconfig.json", r#"{"compilerOptions": {"outDir": "dist", "rootDir": "src"}}"#),
        ("src/cli.ts", "console.log('hi');\n"),
        ("scripts/seed.ts", "console.log('seed');\n"),
    ];
    assert_eq!(
        verdict(&files, &[], "src/cli.ts").unwrap(),
        "an entry point: package.json `bin` `cli` at package.json:1"
    );
    assert!(verdict(&files, &[], "scripts/seed.ts").unwrap().starts_with("run by `npm run seed"));
    assert!(verdict(&files, &[automated("npm run seed")], "scripts/seed.ts").is_ok());
}

#[test]
fn a_barrel_that_re_exports_connects_a_link_and_templates_are_rendered_by_name() {
    let files = [
        ("packages/utils/package.json", r#"{"name": "@acme/utils", "main": "./dist/index.js"}"#),
        ("packages/utils/tsconfig.json", r#"{"compilerOptions": {"rootDir": "src", "outDir": "dist"}}"#),
        ("packages/utils/src/index.ts", "export * from './tax.js';\n"),
        ("packages/utils/src/tax.ts", "export const withTax = (n: number) => n * 1.2;\n"),
        ("apps/web/src/index.ts", "import { withTax } from '@acme/utils';\nconsole.log(withTax(1));\n"),
        (
            "polls/views.py",
            "from django.shortcuts import render\n\ndef results(request):\n    return render(request, \"polls/results.html\", {})\n",
        ),
        ("polls/templates/polls/results.html", "{% extends \"polls/base.html\" %}\n"),
        ("polls/templates/polls/base.html", "<html></html>\n"),
    ];
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    let (line, how) = wiring.uses("apps/web/src/index.ts", "packages/utils/src/tax.ts").unwrap();
    assert_eq!(
        (line, how.as_str()),
        (1, "as the package `@acme/utils` (packages/utils/package.json), re-exported at packages/utils/src/index.ts:1")
    );
    assert_eq!(
        wiring.artifact("polls/templates/polls/results.html").unwrap().to_string(),
        "rendered as the template `polls/results.html` at polls/views.py:4"
    );
    assert!(wiring.artifact("polls/templates/polls/base.html").is_ok());
}

#[test]
fn a_check_that_only_parses_a_file_is_not_use() {
    let files = [("src/lib/slug.js", "export const slug = (s) => s.toLowerCase();\n")];
    for command in
        ["node --check src/lib/slug.js", "bash -n src/lib/slug.js", "node -e \"require('./src/lib/slug.js')\""]
    {
        assert!(verdict(&files, &[automated(command)], "src/lib/slug.js").is_err(), "{command}");
    }
    assert!(verdict(&files, &[automated("node src/lib/slug.js")], "src/lib/slug.js").is_ok());
}

#[test]
fn unreadable_manifests_are_named_and_never_panic() {
    let files = [
        ("package.json", "{ \"name\": \"web\", "),
        ("Cargo.toml", "[package\nname = \"x\""),
        ("go.mod", "go 1.22\n"),
        ("pyproject.toml", "[project\n"),
        ("src/a.ts", "export const a = 1;\n"),
    ];
    let (paths, texts) = repo(&files);
    let wiring = Wiring::build(&paths, &texts, &[]);
    let unreadable: Vec<&str> = wiring.unreadable().iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(unreadable, ["package.json", "Cargo.toml", "go.mod", "pyproject.toml"]);
    assert!(wiring.unreadable()[0].1.starts_with("line 1"), "{:?}", wiring.unreadable());
    assert_eq!(wiring.artifact("src/a.ts"), Err(NotWired::Unused), "no silent VERIFIED");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const NAMES: &[&str] = &[
        "package.json",
        "tsconfig.json",
        "svelte.config.js",
        "vite.config.ts",
        "Cargo.toml",
        "go.mod",
        "pyproject.toml",
        "setup.cfg",
        "src/lib.rs",
        "src/main.rs",
        "src/a.py",
        "src/__init__.py",
        "src/b.ts",
        "src/routes/+page.svelte",
        "cmd/x/main.go",
        "x/y.go",
        "index.html",
        "Makefile",
        "tests/conftest.py",
        "a/templates/a.html",
        "style.css",
    ];

    proptest! {
        #[test]
        fn building_the_index_never_panics(texts in proptest::collection::vec("\\PC{0,120}", NAMES.len()), command in "\\PC{0,80}") {
            let paths: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
            let texts: Vec<(String, String)> = paths.iter().cloned().zip(texts).collect();
            let commands = [automated(&command)];
            let wiring = Wiring::build(&paths, &texts, &commands);
            for path in NAMES {
                let _ = wiring.artifact(path).map(|w| w.to_string());
                let _ = wiring.uses(path, "src/a.py");
            }
        }
    }
}

#[test]
fn go_embed_generate_and_ignored_files() {
    let files = [
        ("go.mod", "module example.com/short\n"),
        ("web/web.go", "package web\n\nimport \"embed\"\n\n//go:embed templates/*.html\nvar files embed.FS\n"),
        ("web/templates/home.html", "<p>home</p>\n"),
        ("store/reserved.go", "package store\n\n//go:generate go run ../tools/reserved.go\n"),
        ("tools/reserved.go", "//go:build ignore\n\npackage main\n\nfunc main() {}\n"),
        ("tools/cleanup.go", "//go:build ignore\n\npackage main\n\nfunc main() {}\n"),
    ];
    assert_eq!(
        verdict(&files, &[], "web/templates/home.html").unwrap(),
        "embedded by `//go:embed web/templates/*.html` at web/web.go:5"
    );
    assert_eq!(
        verdict(&files, &[], "tools/reserved.go").unwrap(),
        "run by `go run ../tools/reserved.go` at store/reserved.go:3"
    );
    assert!(verdict(&files, &[], "tools/cleanup.go").is_err(), "//go:build ignore keeps it out of every build");
}

#[test]
fn namespace_packages_pytest_python_files_and_next_private_folders() {
    let files = [
        ("app.py", "from plugins import shout\n"),
        ("plugins/shout.py", "def shout(s):\n    return s.upper()\n"),
        ("pyproject.toml", "[tool.pytest.ini_options]\npython_files = [\"check_*.py\"]\n"),
        ("checks/check_entries.py", "def test_x():\n    assert True\n"),
        ("checks/test_other.py", "def test_y():\n    assert True\n"),
        ("package.json", r#"{"dependencies": {"next": "15"}}"#),
        ("src/app/_drafts/page.tsx", "export default function Page() { return <p/> }\n"),
        ("src/app/(shop)/cart/page.tsx", "export default function Page() { return <p/> }\n"),
    ];
    assert_eq!(verdict(&files, &[], "plugins/shout.py").unwrap(), "imported at app.py:1 as the module `plugins.shout`");
    assert!(verdict(&files, &[], "checks/check_entries.py").is_ok());
    assert!(verdict(&files, &[], "checks/test_other.py").is_err(), "python_files replaces the default patterns");
    assert!(verdict(&files, &[], "src/app/_drafts/page.tsx").is_err(), "a private folder is not routed");
    assert!(verdict(&files, &[], "src/app/(shop)/cart/page.tsx").is_ok());
}

#[test]
fn react_router_route_config_and_nuxt_auto_imports() {
    let files = [
        ("package.json", r#"{"dependencies": {"@react-router/dev": "7", "nuxt": "3"}}"#),
        (
            "app/routes.ts",
            "import { index, route } from \"@react-router/dev/routes\";\nexport default [\n  index(\"routes/home.tsx\"),\n];\n",
        ),
        ("app/routes/home.tsx", "export default function Home() { return null }\n"),
        ("app/routes/drafts.tsx", "export default function Drafts() { return null }\n"),
        (
            "app/pages/todos.vue",
            "<script setup>\nconst { todos } = useTodos();\ndefinePageMeta({ middleware: 'auth' });\n</script>\n<template>\n  <!-- <OldList /> -->\n  <TodoList :todos=\"todos\" />\n</template>\n",
        ),
        ("app/components/TodoList.vue", "<template><ul></ul></template>\n"),
        ("app/components/OldList.vue", "<template><ul></ul></template>\n"),
        ("app/composables/useTodos.ts", "export function useTodos() {\n  return { todos: [] };\n}\n"),
        ("app/middleware/auth.ts", "export default defineNuxtRouteMiddleware(() => {});\n"),
        ("app/middleware/admin.ts", "export default defineNuxtRouteMiddleware(() => {});\n"),
    ];
    assert_eq!(verdict(&files, &[], "app/routes/home.tsx").unwrap(), "registered as a route at app/routes.ts:3");
    assert!(verdict(&files, &[], "app/routes/drafts.tsx").is_err(), "routes.ts does not register it");
    assert_eq!(
        verdict(&files, &[], "app/components/TodoList.vue").unwrap(),
        "auto-imported by Nuxt and used as `<TodoList>` at app/pages/todos.vue:7"
    );
    assert!(verdict(&files, &[], "app/components/OldList.vue").is_err(), "only in an HTML comment");
    assert!(verdict(&files, &[], "app/composables/useTodos.ts").is_ok());
    assert!(verdict(&files, &[], "app/middleware/auth.ts").is_ok());
    assert!(verdict(&files, &[], "app/middleware/admin.ts").is_err(), "a named middleware no page asks for");
}

#[test]
fn package_inits_settings_in_the_environment_and_public_assets() {
    let files = [
        ("mysite/__init__.py", ""),
        ("mysite/settings/__init__.py", ""),
        ("mysite/settings/base.py", "INSTALLED_APPS = []\n"),
        ("mysite/settings/production.py", "from .base import *\n"),
        ("Dockerfile", "FROM python:3.12\nENV DJANGO_SETTINGS_MODULE=mysite.settings.production PORT=8000\n"),
        ("web/package.json", r#"{"dependencies": {"next": "15"}}"#),
        (
            "web/app/layout.tsx",
            "export const metadata = { icons: { icon: \"/favicon.ico\" } };\n// \"/old.png\" is gone\n",
        ),
        ("web/public/favicon.ico", ""),
        ("web/public/old.png", ""),
    ];
    assert_eq!(
        verdict(&files, &[], "mysite/settings/production.py").unwrap(),
        "imported at Dockerfile:2 by the dotted path `mysite.settings.production`"
    );
    assert_eq!(
        verdict(&files, &[], "mysite/settings/__init__.py").unwrap(),
        "an entry point: the package's __init__.py, run when its module mysite/settings/base.py is used"
    );
    assert_eq!(
        verdict(&files, &[], "web/public/favicon.ico").unwrap(),
        "served and used by its URL `/favicon.ico` at web/app/layout.tsx:1"
    );
    assert!(verdict(&files, &[], "web/public/old.png").is_err(), "named only in a comment");
}
