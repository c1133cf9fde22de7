//! Wiring judged as the project's tools resolve it, end to end: the two cases of issue 14 run
//! through `wavecrew run` with the scripted agent (a test double) writing real-stack files, and
//! `wavecrew gaps` afterwards. Before, both runs exited 1 with every task landed: the SvelteKit
//! page, its `$lib` imports and the ledger module the plan's own command imports were ORPHANED.

use crate::common::*;
use serde_json::{Value, json};

/// A one-wave plan with these must_haves, task files and Verification.
fn plan(title: &str, must_haves: &str, files: &str, verify: &str, automated: &str) -> String {
    format!(
        "# M1 Implementation Plan: {title}

## Context

A test of how must_haves are judged on a real stack.

## must_haves

{must_haves}

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: {files}
- **Action**: Build it
- **Verify**: {verify}
- **Done**: it is built

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Dev | haiku | 1.1 |

## Commit Strategy

```
feat(M1): {{task 1.1 description}}
```

## Verification

### Automated
```bash
{automated}
```
"
    )
}

/// The `run_verified` event's must_haves, as (item, verdict, evidence).
fn verdicts(output: &std::process::Output) -> Vec<(String, String, String)> {
    let verified = events(output).into_iter().find(|e| e["event"] == "run_verified").expect("run_verified");
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    verified["must_haves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (text(&m["item"]), text(&m["verdict"]), text(&m["evidence"])))
        .collect()
}

fn nothing_to_close(repo: &Repo) {
    let gaps = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert_eq!(gaps.status.code(), Some(0), "{}", stderr(&gaps));
    assert!(stderr(&gaps).contains("nothing to close"), "no junk \"wire X\" task: {}", stderr(&gaps));
    assert!(!repo.root().join("gaps.plan.md").exists());
}

const PAGE: &str = r#"<script lang="ts">
  import TaskPanel from '$lib/components/TaskPanel.svelte';
  import { tasks } from "$lib/store";
  export let data;
</script>

<h1>Room {data.id}</h1>
<TaskPanel tasks={$tasks} />
"#;
const PANEL: &str = r#"<script lang="ts">
  export let tasks: string[] = [];
</script>

<ul>
  {#each tasks as task}
    <li>{task}</li>
  {/each}
</ul>
"#;
const STORE: &str = "import { writable } from 'svelte/store';\n\nexport const tasks = writable<string[]>([]);\n\nexport function add(task: string) {\n  tasks.update((all) => [...all, task]);\n}\n";
const PACKAGE: &str = r#"{
  "name": "room",
  "private": true,
  "type": "module",
  "scripts": { "dev": "vite dev", "build": "vite build", "check": "svelte-kit sync && svelte-check" },
  "devDependencies": { "@sveltejs/adapter-auto": "^3.0.0", "@sveltejs/kit": "^2.0.0", "svelte": "^4.2.7", "vite": "^5.0.3" }
}
"#;
const SVELTE_CONFIG: &str = "import adapter from '@sveltejs/adapter-auto';\nimport { vitePreprocess } from '@sveltejs/vite-plugin-svelte';\n\n/** @type {import('@sveltejs/kit').Config} */\nconst config = {\n  preprocess: vitePreprocess(),\n  kit: { adapter: adapter() }\n};\n\nexport default config;\n";
const TSCONFIG: &str = "{\n  \"extends\": \"./.svelte-kit/tsconfig.json\",\n  \"compilerOptions\": {\n    \"strict\": true, // as the template\n  },\n}\n";

#[test]
fn a_sveltekit_route_and_its_lib_imports_are_wired_and_the_run_exits_0() {
    let must_haves = "### artifacts (files produced)\n- `src/routes/room/[id]/+page.svelte`\n- `src/lib/components/TaskPanel.svelte`\n- `src/lib/store.ts`\n\n\
                      ### key_links (where breakage cascades)\n- `+page.svelte` renders `TaskPanel.svelte`\n- store changes reach the page: `src/lib/store.ts` → `src/routes/room/[id]/+page.svelte`\n";
    let plan = plan(
        "Room page",
        must_haves,
        "`src/routes/room/[id]/+page.svelte`, `src/lib/components/TaskPanel.svelte`, `src/lib/store.ts`",
        "`test -f src/lib/store.ts`",
        "test -f src/routes/room/[id]/+page.svelte    # the page exists",
    );
    let script = json!({"tasks": {"1.1": [[
        write("package.json", PACKAGE), write("svelte.config.js", SVELTE_CONFIG), write("tsconfig.json", TSCONFIG),
        write("src/app.html", "<!doctype html>\n<html><head>%sveltekit.head%</head><body>%sveltekit.body%</body></html>\n"),
        write("src/routes/room/[id]/+page.svelte", PAGE), write("src/lib/components/TaskPanel.svelte", PANEL),
        write("src/lib/store.ts", STORE),
    ]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}\n{:#?}", stderr(&output), verdicts(&output));
    let got = verdicts(&output);
    let expected = [
        (
            "src/routes/room/[id]/+page.svelte",
            "VERIFIED",
            "substantive, an entry point: a SvelteKit route (src/routes)",
        ),
        (
            "src/lib/components/TaskPanel.svelte",
            "VERIFIED",
            "substantive, imported at src/routes/room/[id]/+page.svelte:2 through `$lib` (svelte.config.js)",
        ),
        (
            "src/lib/store.ts",
            "VERIFIED",
            "substantive, imported at src/routes/room/[id]/+page.svelte:3 through `$lib` (svelte.config.js)",
        ),
        (
            "`+page.svelte` renders `TaskPanel.svelte`",
            "VERIFIED",
            "`+page.svelte` ↔ `TaskPanel.svelte`: src/routes/room/[id]/+page.svelte:2 through `$lib` (svelte.config.js)",
        ),
    ];
    for (item, verdict, evidence) in expected {
        let found = got.iter().find(|(i, _, _)| i == item).unwrap_or_else(|| panic!("{item}: {got:#?}"));
        assert_eq!((found.1.as_str(), found.2.as_str()), (verdict, evidence), "{item}");
    }
    let store_link = got.iter().find(|(i, _, _)| i.starts_with("store changes")).unwrap();
    assert_eq!(store_link.1, "VERIFIED", "{store_link:?}");
    // The evidence reaches the report as it is.
    let report = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(report.contains("through `$lib` (svelte.config.js)"), "{report}");
    nothing_to_close(&repo);
}

#[test]
fn a_sveltekit_component_named_only_in_an_html_comment_stays_orphaned() {
    let must_haves = "### artifacts (files produced)\n- `src/lib/components/TaskPanel.svelte`\n";
    let plan = plan("Room page", must_haves, "`src/lib/components/TaskPanel.svelte`", "`true`", "true");
    let page = "<!-- TODO: <script>import TaskPanel from '$lib/components/TaskPanel.svelte';</script> -->\n<h1>Room</h1>\n<p>TaskPanel.svelte comes later</p>\n";
    let script = json!({"tasks": {"1.1": [[
        write("package.json", PACKAGE), write("svelte.config.js", SVELTE_CONFIG),
        write("src/routes/room/[id]/+page.svelte", page), write("src/lib/components/TaskPanel.svelte", PANEL),
        write("README.md", "The panel is `src/lib/components/TaskPanel.svelte`.\n"),
    ]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let got = verdicts(&output);
    assert_eq!(got[0].1, "ORPHANED", "{got:#?}");
    assert!(got[0].2.contains("names in comments, strings and Markdown do not count"), "{got:#?}");
}

const ENTRIES: &str = "\"\"\"The ledger's entries.\"\"\"\n\nENTRIES = [\n    (\"rent\", -900),\n    (\"salary\", 2500),\n    (\"food\", -300),\n]\n";
const BALANCE: &str = "from ledger.entries import ENTRIES\n\n\ndef balance(entries=ENTRIES):\n    return sum(amount for _, amount in entries)\n";
const REPORT: &str = "from ledger.balance import balance\nfrom ledger.entries import ENTRIES\n\n\ndef report():\n    lines = [f\"{name}: {amount}\" for name, amount in ENTRIES]\n    lines.append(f\"balance: {balance()}\")\n    return \"\\n\".join(lines)\n";

#[test]
fn the_ledger_module_the_plans_own_command_imports_is_wired_and_the_run_exits_0() {
    let command = "python3 -c \"import ledger.report; print(ledger.report.report())\"";
    let must_haves = format!(
        "### truths (observable outcomes)\n- `{command}` prints every entry and the balance\n\n\
         ### artifacts (files produced)\n- `ledger/entries.py`\n- `ledger/balance.py`\n- `ledger/report.py`\n\n\
         ### key_links (where breakage cascades)\n- `ledger/report.py` imports `ledger/entries.py` and `ledger/balance.py`\n"
    );
    let plan = plan(
        "Ledger",
        &must_haves,
        "`ledger/__init__.py`, `ledger/entries.py`, `ledger/balance.py`, `ledger/report.py`",
        "`python3 -c \"import ledger.balance\"`",
        &format!("{command}    # prints the balance"),
    );
    let script = json!({"tasks": {"1.1": [[
        write("ledger/__init__.py", ""), write("ledger/entries.py", ENTRIES), write("ledger/balance.py", BALANCE),
        write("ledger/report.py", REPORT),
    ]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}\n{:#?}", stderr(&output), verdicts(&output));
    let got = verdicts(&output);
    let of = |item: &str| got.iter().find(|(i, _, _)| i == item).unwrap_or_else(|| panic!("{item}: {got:#?}")).clone();
    assert_eq!(of("ledger/report.py").2, format!("substantive, run by the plan's Verification: `{command}`"));
    assert_eq!(
        of("ledger/entries.py").2,
        "substantive, imported at ledger/balance.py:1 as the module `ledger.entries`"
    );
    assert_eq!(of("ledger/balance.py").2, "substantive, imported at ledger/report.py:1 as the module `ledger.balance`");
    let link = of("`ledger/report.py` imports `ledger/entries.py` and `ledger/balance.py`");
    assert_eq!(link.1, "VERIFIED", "{link:?}");
    assert!(got.iter().all(|(_, verdict, _)| verdict == "VERIFIED" || verdict == "MANUAL"), "{got:#?}");
    nothing_to_close(&repo);
}
