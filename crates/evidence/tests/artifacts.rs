//! Stub verdicts and references between files, on realistic files.

use evidence::artifacts::{Substance, references, stem_mentions, substance};
use proptest::prelude::*;

/// The line of a stub, or a panic naming the verdict when it is not a stub.
fn stub_line(verdict: Substance) -> Option<u32> {
    match verdict {
        Substance::Stub { line, .. } => line,
        other => panic!("expected a stub, got {other:?}"),
    }
}

fn stub_reason(verdict: Substance) -> String {
    match verdict {
        Substance::Stub { reason, .. } => reason,
        other => panic!("expected a stub, got {other:?}"),
    }
}

#[test]
fn whitespace_is_empty() {
    assert_eq!(substance("src/lib.rs", ""), Substance::Empty);
    assert_eq!(substance("README.md", "  \n\n\t\n"), Substance::Empty);
}

#[test]
fn rust_function_that_is_only_todo_is_a_stub() {
    let text = "//! Login.\n\n/// Checks the password.\npub fn login(user: &str, password: &str) -> bool {\n    \
                todo!(\"check {user}\")\n}\n";
    let verdict = substance("src/login.rs", text);
    assert_eq!(stub_reason(verdict.clone()), "every function only says it is not implemented (1 function)");
    assert_eq!(stub_line(verdict), Some(4));
}

#[test]
fn rust_module_with_one_todo_is_substantive() {
    let text = r#"use std::collections::HashMap;

/// A cache of parsed plans.
pub struct Cache {
    entries: HashMap<String, String>,
}

impl Cache {
    pub fn new() -> Self {
        Cache { entries: HashMap::new() }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.entries.get(key)
    }

    pub fn insert(&mut self, key: String, value: String) {
        // TODO: evict old entries
        self.entries.insert(key, value);
    }

    pub fn clear(&mut self) {
        todo!()
    }
}
"#;
    assert_eq!(substance("src/cache.rs", text), Substance::Substantive);
}

#[test]
fn rust_module_of_mostly_unimplemented_functions_is_a_stub() {
    let text = "pub fn parse(text: &str) -> usize {\n    text.len()\n}\n\npub fn check() {\n    unimplemented!()\n}\n\n\
                pub fn render() -> String {\n    panic!(\"not implemented yet\")\n}\n";
    let verdict = substance("src/plan.rs", text);
    assert_eq!(stub_reason(verdict.clone()), "most functions only say they are not implemented (2 of 3)");
    assert_eq!(stub_line(verdict), Some(5));
}

#[test]
fn a_file_with_substance_outside_its_functions_is_not_judged_by_them() {
    let text = r#"/// Exit codes of the CLI.
pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const USAGE: i32 = 2;
pub const INTERRUPTED: i32 = 130;

/// One row of the report.
pub struct Row {
    pub task: String,
    pub status: String,
    pub seconds: f64,
    pub attempts: u32,
    pub agent: String,
}

pub fn render(rows: &[Row]) -> String {
    todo!()
}
"#;
    assert_eq!(substance("src/report.rs", text), Substance::Substantive);
}

#[test]
fn nested_functions_belong_to_their_outer_function() {
    let generator = r#"pub fn dummy_impl(name: &Ident) -> TokenStream {
    quote! {
        impl Command for #name {
            fn command() -> Command {
                unimplemented!()
            }
            fn update() -> Command {
                unimplemented!()
            }
        }
    }
}
"#;
    assert_eq!(substance("src/dummies.rs", generator), Substance::Substantive);

    let python =
        "def handler(event):\n    def not_yet():\n        raise NotImplementedError\n\n    return process(event)\n";
    assert_eq!(substance("app/handler.py", python), Substance::Substantive);
}

#[test]
fn rust_declarations_without_bodies_are_not_stubs() {
    let text = "/// What a gate needs.\npub trait Gate {\n    fn name(&self) -> &str;\n    fn check(&self, evidence: &str) -> bool;\n}\n\n\
                pub struct Always;\n";
    assert_eq!(substance("src/gate.rs", text), Substance::Substantive);
}

#[test]
fn python_functions_that_only_pass_are_a_stub() {
    let text = r#""""Exports reports."""
import csv


def export_csv(rows, path):
    """Writes rows to path."""
    pass


def export_json(rows, path): ...
"#;
    let verdict = substance("app/export.py", text);
    assert_eq!(stub_reason(verdict.clone()), "every function body is empty (2 functions)");
    assert_eq!(stub_line(verdict), Some(7));
}

#[test]
fn python_not_implemented_and_real_code() {
    let stub =
        "class Exporter:\n    def export(self, rows):\n        # TODO\n        raise NotImplementedError(\"later\")\n";
    assert_eq!(stub_line(substance("app/exporter.py", stub)), Some(4));

    let real = r#"import csv


def export_csv(rows, path):
    # TODO: stream large exports instead of building the list
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(row)
    return len(rows)
"#;
    assert_eq!(substance("app/export.py", real), Substance::Substantive);
}

#[test]
fn python_interfaces_are_not_stubs() {
    let abstract_base = r#"from abc import ABC, abstractmethod


class Store(ABC):
    @abstractmethod
    def get(self, key):
        raise NotImplementedError

    @abstractmethod
    def put(self, key, value):
        raise NotImplementedError

    def get_or(self, key, default):
        value = self.get(key)
        return default if value is None else value
"#;
    assert_eq!(substance("app/store.py", abstract_base), Substance::Substantive);
    let type_stub = "def get(key: str) -> bytes: ...\ndef put(key: str, value: bytes) -> None: ...\n";
    assert_eq!(substance("typings/store.pyi", type_stub), Substance::Substantive);

    let protocol = "from typing import Protocol\n\n\nclass Store(Protocol):\n    def get(self, key: str) -> bytes: ...\n\n    \
                    def put(self, key: str, value: bytes) -> None: ...\n";
    assert_eq!(substance("app/ports.py", protocol), Substance::Substantive);

    let base_class = "class BaseTransport:\n    def close(self):\n        raise NotImplementedError\n\n    \
                      def is_closing(self):\n        raise NotImplementedError\n";
    assert_eq!(substance("app/transports.py", base_class), Substance::Substantive);
}

#[test]
fn package_markers_may_be_tiny() {
    assert_eq!(substance("app/__init__.py", "# The app package.\n"), Substance::Substantive);
    assert_eq!(substance("app/__init__.py", ""), Substance::Empty);
    assert!(matches!(substance("app/__init__.py", "# TODO: export the API\n"), Substance::Stub { .. }));
}

#[test]
fn javascript_stubs_and_components() {
    let stub = "export function handler(event) {\n  throw new Error('Not implemented');\n}\n";
    assert_eq!(stub_line(substance("api/handler.js", stub)), Some(1));

    let empty_methods = "export class Cart {\n  add(item) {}\n  remove(item) {\n  }\n}\n";
    assert_eq!(stub_reason(substance("web/src/cart.ts", empty_methods)), "every function body is empty (2 functions)");

    let component = r#"import { useState } from 'react';

export function LoginForm({ onSubmit }: Props) {
  const [email, setEmail] = useState('');
  // TODO: validate the address
  return (
    <form onSubmit={() => onSubmit(email)}>
      <input value={email} onChange={(e) => setEmail(e.target.value)} />
    </form>
  );
}

const noop = () => {};
"#;
    assert_eq!(substance("web/src/LoginForm.tsx", component), Substance::Substantive);
}

#[test]
fn go_panic_stub() {
    let text = "package auth\n\n// Verify checks a token.\nfunc Verify(token string) (string, error) {\n\tpanic(\"not implemented\")\n}\n";
    assert_eq!(stub_line(substance("internal/auth/verify.go", text)), Some(4));
}

#[test]
fn todo_as_the_body() {
    let only_todo = "# TODO: implement the nightly export\n# FIXME: decide on the format\n";
    let verdict = substance("jobs/nightly.py", only_todo);
    assert!(stub_reason(verdict.clone()).starts_with("stub markers outnumber code"));
    assert_eq!(stub_line(verdict), Some(1));

    let mostly_todo = "// TODO: routes\n// TODO: middleware\n// TODO: error handling\nexport const app = express();\n";
    assert_eq!(stub_line(substance("server/app.js", mostly_todo)), Some(1));

    let only_comments = "// Copyright 2025 Acme\n// Licensed under MIT\n";
    assert_eq!(
        substance("src/empty.js", only_comments),
        Substance::Stub { reason: "no content besides comments".to_string(), line: None }
    );
}

#[test]
fn markdown_placeholders() {
    let todo = "# Design\n\nTODO\n";
    assert_eq!(stub_line(substance("docs/design.md", todo)), Some(3));

    let coming_soon = "---\ntitle: API\n---\n# API\n\nComing soon.\n";
    assert_eq!(stub_line(substance("docs/api.md", coming_soon)), Some(6));

    let headings = "# Runbook\n\n## Deploy\n\n## Roll back\n";
    assert_eq!(stub_reason(substance("docs/runbook.md", headings)), "only headings (3), no content");

    let real = "# Runbook\n\n## Deploy\n\nRun `make deploy` from a clean checkout; it tags the release.\n\n\
                ## Roll back\n\nRun `make rollback VERSION=x`. TODO: add a diagram.\n";
    assert_eq!(substance("docs/runbook.md", real), Substance::Substantive);
}

#[test]
fn size_alone_never_makes_a_stub() {
    // Small complete modules, a config constant, a one-line re-export.
    assert_eq!(substance("app/settings.py", "# Settings\n\nDEBUG = False\n"), Substance::Substantive);
    assert_eq!(substance("app/consts.py", "def a():\n    return 1\n\nVALUE = a()\n"), Substance::Substantive);
    assert_eq!(substance("ledger/currency.py", "DEFAULT = \"EUR\"\n"), Substance::Substantive);
    assert_eq!(substance("src/lib/index.ts", "export * from './store';\n"), Substance::Substantive);
    assert_eq!(substance("src/index.js", "module.exports = require('./lib');\n"), Substance::Substantive);
    assert_eq!(substance("src/lib.rs", "pub mod api;\n"), Substance::Substantive);
}

#[test]
fn components_with_only_placeholder_markup_are_stubs() {
    let coming_soon =
        "<script lang=\"ts\">\n</script>\n\n<!-- TODO: notification preferences form -->\n<p>Coming soon</p>\n";
    let verdict = substance("src/lib/components/SettingsForm.svelte", coming_soon);
    assert_eq!(stub_reason(verdict.clone()), "placeholder component: 2 placeholder lines, 0 lines of code and markup");
    assert_eq!(stub_line(verdict), Some(4));

    let todo_template = "<script setup lang=\"ts\">\n// TODO: load the settings\n</script>\n\n<template>\n  <div>TODO: settings form</div>\n</template>\n";
    assert_eq!(stub_line(substance("src/views/SettingsView.vue", todo_template)), Some(2));

    let empty_vue = "<script setup lang=\"ts\">\n</script>\n\n<template>\n</template>\n";
    assert_eq!(
        stub_reason(substance("src/components/UserMenu.vue", empty_vue)),
        "an empty component: no code and no markup besides bare tags"
    );
    assert_eq!(stub_line(substance("src/components/Empty.vue", "<template></template>\n")), None);

    let astro = "---\n// TODO: fetch the posts\n---\n\n<section>\n  <p>Lorem ipsum dolor sit amet.</p>\n</section>\n";
    assert_eq!(stub_line(substance("src/components/Posts.astro", astro)), Some(2));

    // A page that only wraps "Coming soon" in its layout shows nothing but a placeholder.
    let about = "---\nimport Layout from '../layouts/Layout.astro';\n---\n\n<Layout title=\"About\">\n\t<p>Coming soon</p>\n</Layout>\n";
    assert_eq!(
        stub_reason(substance("src/pages/about.astro", about)),
        "placeholder component: the only text it shows is placeholder text"
    );
}

#[test]
fn real_components_are_substantive_however_small() {
    // Markup alone is real work, and so is a component that only places another one.
    assert_eq!(
        substance("src/routes/+page.svelte", "<h1>Taskboard</h1>\n<a href=\"/room/1\">Room 1</a>\n"),
        Substance::Substantive
    );
    assert_eq!(substance("src/routes/+layout.svelte", "<Nav />\n<slot />\n"), Substance::Substantive);
    let avatar = "<script lang=\"ts\">\n\tlet { initials }: { initials: string } = $props();\n</script>\n\n\
                  <span class=\"avatar\">{initials}</span>\n\n<style>\n\t.avatar { border-radius: 50%; }\n</style>\n";
    assert_eq!(substance("src/lib/components/Avatar.svelte", avatar), Substance::Substantive);
    // A TODO beside real markup, or an input's placeholder attribute, is not a placeholder component.
    let form = "<script>\n  let draft = $state('');\n</script>\n\n<!-- TODO: emoji picker -->\n\
                <input bind:value={draft} placeholder=\"Say something\" />\n<button disabled={!draft}>Send</button>\n";
    assert_eq!(substance("src/routes/chat/+page.svelte", form), Substance::Substantive);
    let astro = "---\nimport Layout from '../layouts/Layout.astro';\n---\n\n<Layout title=\"Notes\">\n\t<h1>Notes</h1>\n</Layout>\n";
    assert_eq!(substance("src/pages/index.astro", astro), Substance::Substantive);
    let vue = "<script setup lang=\"ts\">\nimport { RouterView } from 'vue-router'\n</script>\n\n<template>\n  <RouterView />\n</template>\n";
    assert_eq!(substance("src/App.vue", vue), Substance::Substantive);
    // Markup is not prose: a component of headings is real.
    let headings = "---\nconst { title } = Astro.props;\n---\n\n<h1>{title}</h1>\n";
    assert_eq!(substance("src/components/Title.astro", headings), Substance::Substantive);
    assert_eq!(substance("src/components/Title.svelte", "<h2>Tasks</h2>\n"), Substance::Substantive);
}

#[test]
fn a_react_component_returning_null_renders_nothing() {
    let banner = "type Props = { message: string };\n\nexport default function PromoBanner({ message }: Props) {\n  return null;\n}\n";
    let verdict = substance("src/components/PromoBanner.tsx", banner);
    assert_eq!(stub_reason(verdict.clone()), "the component renders nothing: it returns null (1 function)");
    assert_eq!(stub_line(verdict), Some(3));
    let arrow = "export const Banner = ({ message }: Props) => null;\n";
    assert_eq!(stub_line(substance("src/components/Banner.tsx", arrow)), Some(1));
    // Outside components, returning null is an answer.
    let lookup = "export function find(id: string) {\n  return null;\n}\n";
    assert_eq!(substance("src/lookup.ts", lookup), Substance::Substantive);
    // A component that renders nothing only sometimes is real.
    let guard =
        "export function Banner({ show }: { show: boolean }) {\n  if (!show) return null;\n  return <p>Sale</p>;\n}\n";
    assert_eq!(substance("src/Banner.tsx", guard), Substance::Substantive);
}

#[test]
fn a_lone_trivial_return_next_to_a_todo_is_a_placeholder() {
    let passthrough = "\"\"\"Reconcile.\"\"\"\n\n\ndef reconcile(entries, statement):\n    # TODO: match by date and amount\n    return entries\n";
    let verdict = substance("ledger/reconcile.py", passthrough);
    assert_eq!(
        stub_reason(verdict.clone()),
        "every function is a placeholder: it hands back nothing new next to a TODO (1 function)"
    );
    assert_eq!(stub_line(verdict), Some(6));
    let js = "export function render(rows) {\n  // TODO: the table\n  return '';\n}\n";
    assert!(matches!(substance("src/render.js", js), Substance::Stub { .. }));
    let go = "package cache\n\n// Get returns the cached value.\nfunc Get(key string) (string, bool) {\n\t// TODO: LRU\n\treturn \"\", false\n}\n";
    assert!(matches!(substance("internal/cache/get.go", go), Substance::Stub { .. }));
    // Without a TODO the same return is a decision; with real work beside it, the TODO is a note.
    assert_eq!(substance("ledger/identity.py", "def identity(entries):\n    return entries\n"), Substance::Substantive);
    let noted = "def total(entries):\n    # TODO: currencies\n    return sum(e.cents for e in entries)\n";
    assert_eq!(substance("ledger/total.py", noted), Substance::Substantive);
    // A value that is not the function's own argument is a decision, TODO or not.
    let constant = "def timeout():\n    # TODO: read it from the settings\n    return 30\n";
    assert_eq!(substance("app/timeouts.py", constant), Substance::Substantive);
    let named = "export function region(user) {\n  // TODO: from the profile\n  return DEFAULT_REGION;\n}\n";
    assert_eq!(substance("src/region.js", named), Substance::Substantive);
    let rust = "pub fn find(&self, id: u32) -> Option<&Item> {\n    // TODO: the index\n    None\n}\n";
    assert!(matches!(substance("src/index.rs", rust), Substance::Stub { .. }));
}

#[test]
fn issue_stubs_on_the_common_stacks() {
    let cases = [
        ("app/export.py", "def to_csv(entries):\n    pass\n"),
        ("app/parse.py", "def parse(text):\n    ...\n"),
        ("src/import.rs", "pub fn from_csv(text: &str) -> Vec<u8> {\n    todo!()\n}\n"),
        ("src/limits.rs", "impl Limit {\n    pub fn allows(&self) -> bool {\n        unimplemented!()\n    }\n}\n"),
        ("src/api/client.ts", "export async function fetchTodos() {\n  throw new Error(\"not implemented\");\n}\n"),
        ("src/jobs.js", "// TODO: the nightly job\n"),
        ("src/components/Empty.vue", ""),
    ];
    for (path, text) in cases {
        assert_ne!(substance(path, text), Substance::Substantive, "{path}: {text}");
    }
}

#[test]
fn python_imports() {
    let views = "import os\nfrom app.auth import login\nimport app.models as models\nfrom . import utils\n\
                 from .forms import (\n    LoginForm,\n    signup,\n)\n";
    assert_eq!(references("app/views.py", views, "app/auth.py"), Some(2));
    assert_eq!(references("app/views.py", views, "src/app/auth.py"), Some(2));
    assert_eq!(references("app/views.py", views, "app/auth/__init__.py"), Some(2));
    assert_eq!(references("app/views.py", views, "app/models.py"), Some(3));
    assert_eq!(references("app/views.py", views, "app/utils.py"), Some(4));
    assert_eq!(references("app/views.py", views, "app/forms.py"), Some(5));
    assert_eq!(references("app/views.py", views, "app/forms/signup.py"), Some(5));
    assert_eq!(references("app/views.py", views, "lib/utils.py"), None);

    let nested = "from ..core.db import session\n";
    assert_eq!(references("app/api/views.py", nested, "app/core/db.py"), Some(1));

    let near_miss = "# import app.billing\nfrom app.authz import check\n";
    assert_eq!(references("app/views.py", near_miss, "app/auth.py"), None);
    assert_eq!(references("app/views.py", near_miss, "app/billing.py"), None);
}

#[test]
fn javascript_imports() {
    let app = r#"import React from 'react';
// import { Old } from './components/Old';
import { LoginForm } from './components/LoginForm';
const db = require('../lib/db');
const Settings = lazy(() => import('./pages/Settings.js'));
import '@/styles/main.css';
export * from "./api/client";
"#;
    let referrer = "web/src/App.tsx";
    assert_eq!(references(referrer, app, "web/src/components/LoginForm.tsx"), Some(3));
    assert_eq!(references(referrer, app, "web/lib/db/index.js"), Some(4));
    assert_eq!(references(referrer, app, "web/src/pages/Settings.ts"), Some(5));
    assert_eq!(references(referrer, app, "web/src/styles/main.css"), Some(6));
    assert_eq!(references(referrer, app, "web/src/api/client.ts"), Some(7));
    assert_eq!(references(referrer, app, "web/src/components/Old.tsx"), None);
    assert_eq!(references(referrer, app, "web/src/components/LoginFormTest.tsx"), None);
}

#[test]
fn rust_modules_and_use_paths() {
    let lib = "//! The crate.\npub mod secrets;\nmod patterns;\n// mod old;\n";
    assert_eq!(references("crates/evidence/src/lib.rs", lib, "crates/evidence/src/secrets.rs"), Some(2));
    assert_eq!(references("crates/evidence/src/lib.rs", lib, "crates/evidence/src/patterns/mod.rs"), Some(3));
    assert_eq!(references("crates/evidence/src/lib.rs", lib, "crates/evidence/src/old.rs"), None);

    // `mod b;` in `a.rs` is `a/b.rs`, not the sibling `b.rs`.
    assert_eq!(references("src/a.rs", "mod b;\n", "src/a/b.rs"), Some(1));
    assert_eq!(references("src/a.rs", "mod b;\n", "src/b.rs"), None);
    // Test crates are roots.
    assert_eq!(references("tests/cli.rs", "mod common;\n", "tests/common/mod.rs"), Some(1));

    let cli =
        "use std::fmt;\n\nuse crate::engine::{\n    run,\n    gate::{Gate, Verdict},\n};\nuse super::model::Plan;\n";
    assert_eq!(references("src/parse/mod.rs", cli, "src/engine/gate.rs"), Some(3));
    assert_eq!(references("src/parse/mod.rs", cli, "src/engine.rs"), Some(3));
    assert_eq!(references("src/parse/mod.rs", cli, "src/model.rs"), Some(7));
    assert_eq!(references("src/parse/mod.rs", cli, "src/fmt.rs"), None);
}

#[test]
fn c_go_and_shell_references() {
    let main_c = "#include <stdio.h>\n#include \"util.h\"\n#include <acme/net.h>\n";
    assert_eq!(references("src/main.c", main_c, "src/util.h"), Some(2));
    assert_eq!(references("src/main.c", main_c, "include/acme/net.h"), Some(3));

    let main_go = "package main\n\nimport (\n\t\"fmt\"\n\n\tauthpkg \"github.com/acme/shop/internal/auth\"\n)\n";
    assert_eq!(references("cmd/server/main.go", main_go, "internal/auth/token.go"), Some(6));
    assert_eq!(references("cmd/server/main.go", main_go, "internal/authz/token.go"), None);
    let single = "package main\n\nimport \"github.com/acme/shop/internal/db\"\n";
    assert_eq!(references("cmd/server/main.go", single, "internal/db/pool.go"), Some(3));

    let deploy = "#!/usr/bin/env bash\nset -e\nsource \"$(dirname \"$0\")/lib/common.sh\"\n. ./env.sh\n";
    assert_eq!(references("scripts/deploy.sh", deploy, "scripts/lib/common.sh"), Some(3));
    assert_eq!(references("scripts/deploy.sh", deploy, "scripts/env.sh"), Some(4));
}

#[test]
fn links_in_markdown_html_and_css() {
    let readme = "# Shop\n\nSee [the architecture](docs/architecture.md#layers) and the [guide][g].\n\
                  Visit [our site](https://example.org/docs/plan.md).\n\n[g]: docs/guide/\n";
    assert_eq!(references("README.md", readme, "docs/architecture.md"), Some(3));
    assert_eq!(references("README.md", readme, "docs/guide/README.md"), Some(6));
    assert_eq!(references("README.md", readme, "docs/plan.md"), None);
    assert_eq!(references("docs/a.md", "Back to [the start](../README.md#intro).\n", "README.md"), Some(1));
    assert_eq!(references("docs/a.md", "![diagram](img/flow%20chart.png)\n", "docs/img/flow chart.png"), Some(1));

    let html =
        "<!doctype html>\n<link rel=\"stylesheet\" href=\"css/site.css\">\n<script src=\"/js/app.js\"></script>\n";
    assert_eq!(references("public/index.html", html, "public/css/site.css"), Some(2));
    assert_eq!(references("public/index.html", html, "js/app.js"), Some(3));

    let scss = "/* @import 'old'; */\n@import 'variables';\nbody { background: url(\"../img/bg.png\"); }\n";
    assert_eq!(references("styles/main.scss", scss, "styles/_variables.scss"), Some(2));
    assert_eq!(references("styles/main.scss", scss, "img/bg.png"), Some(3));
    assert_eq!(references("styles/main.scss", scss, "styles/_old.scss"), None);
}

#[test]
fn file_name_fallback() {
    let makefile = "seed:\n\tpython scripts/seed.py --env dev\n# reseed.py is gone\n";
    assert_eq!(references("Makefile", makefile, "scripts/seed.py"), Some(2));
    assert_eq!(references("Makefile", makefile, "scripts/reseed.py"), None);

    let dockerfile = "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n";
    assert_eq!(references("Dockerfile", dockerfile, "requirements.txt"), Some(2));

    // Generic names need their directory.
    let package = "{\n  \"name\": \"shop\",\n  \"main\": \"dist/index.js\"\n}\n";
    assert_eq!(references("package.json", package, "dist/index.js"), Some(3));
    assert_eq!(references("package.json", package, "src/index.js"), None);

    // A generic name written as a path resolves from the referrer: this crate's main.rs only.
    let manifest = "[package]\nname = \"cli\"\n\n[[bin]]\nname = \"wavecrew\"\npath = \"src/main.rs\"\n";
    assert_eq!(references("crates/cli/Cargo.toml", manifest, "crates/cli/src/main.rs"), Some(6));
    assert_eq!(references("crates/llm-double/Cargo.toml", manifest, "crates/cli/src/main.rs"), None);
    let docs = "The handlers live in `auth/index.js`; see also src/index.js.\n";
    assert_eq!(references("docs/web.md", docs, "web/auth/index.js"), Some(1));
    assert_eq!(references("docs/web.md", docs, "web/src/index.js"), None);

    let test = "def test_export(tmp_path):\n    rows = load_fixture(\"orders.csv\")\n";
    assert_eq!(references("tests/test_export.py", test, "tests/fixtures/orders.csv"), Some(2));
}

#[test]
fn a_file_does_not_refer_to_itself() {
    assert_eq!(references("./src/auth.py", "# auth.py\nimport auth\n", "src/auth.py"), None);
}

#[test]
fn component_mentions() {
    let text = "export function LoginForm() {\n  return fetch(\"/api/auth\", { method: \"POST\" });\n}\n\
                // LoginFormTests live elsewhere; /api/auth/refresh is another route\n";
    assert_eq!(stem_mentions(text, "LoginForm"), Some(1));
    assert_eq!(stem_mentions(text, "/api/auth"), Some(2));
    assert_eq!(stem_mentions(text, "/api/auth/refresh"), Some(4));
    assert_eq!(stem_mentions(text, "loginform"), None);
    assert_eq!(stem_mentions(text, "Login"), None);
    assert_eq!(stem_mentions(text, ""), None);
    assert_eq!(stem_mentions("The form posts to /api/auth.\n", "/api/auth"), Some(1));
    assert_eq!(stem_mentions("See LoginForm.tsx\n", "LoginForm"), Some(1));
    assert_eq!(stem_mentions("auth-service calls billing\n", "auth-service"), Some(1));
    assert_eq!(stem_mentions("my-auth-service\n", "auth-service"), None);
}

fn text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("def f():\n    pass\n".to_string()),
        Just("fn f() {".to_string()),
        Just("}".to_string()),
        Just("todo!()".to_string()),
        Just("# TODO\n".to_string()),
        Just("import ".to_string()),
        Just("from . import ".to_string()),
        Just("use crate::{a, b::{".to_string()),
        Just("mod x;\n".to_string()),
        Just("require('./".to_string()),
        Just("](../".to_string()),
        Just("#include \"".to_string()),
        Just("import (\n".to_string()),
        Just("source ".to_string()),
        Just("%2".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\n".to_string()),
        Just("é💥".to_string()),
        Just("<script lang=\"ts\">".to_string()),
        Just("</script>\n".to_string()),
        Just("<style>".to_string()),
        Just("---\n".to_string()),
        Just("<!-- TODO -->\n".to_string()),
        Just("<p>Coming soon</p>".to_string()),
        Just("return null;".to_string()),
        "[a-z./_]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(fragment, 0..30).prop_map(|parts| parts.concat())
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("src/lib.rs".to_string()),
        Just("app/views.py".to_string()),
        Just("web/src/App.tsx".to_string()),
        Just("cmd/main.go".to_string()),
        Just("README.md".to_string()),
        Just("styles/a.scss".to_string()),
        Just("scripts/x.sh".to_string()),
        Just("src/main.c".to_string()),
        Just("src/lib/Panel.svelte".to_string()),
        Just("src/App.vue".to_string()),
        Just("src/pages/index.astro".to_string()),
        Just("src/Banner.tsx".to_string()),
        "[a-z./]{0,20}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn nothing_panics_and_lines_are_in_range(
        referrer in path(),
        target in path(),
        text in text(),
        component in "[A-Za-z/._-]{0,10}",
    ) {
        let line_count = text.lines().count() as u32;
        if let Substance::Stub { line: Some(line), .. } = substance(&referrer, &text) {
            prop_assert!(line >= 1 && line <= line_count);
        }
        if let Some(line) = references(&referrer, &text, &target) {
            prop_assert!(line >= 1 && line <= line_count);
        }
        if let Some(line) = stem_mentions(&text, &component) {
            prop_assert!(line >= 1 && line <= line_count);
        }
    }
}
