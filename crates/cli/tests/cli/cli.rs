//! The real binary on fixture plans: exit codes, output formats, bad input, and every
//! subcommand. Human output is snapshotted with colours off.

use crate::common::wavecrew_bin;
use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `wavecrew ARGS` run from the repository root, colours off.
fn wavecrew(args: &[&str]) -> std::process::Output {
    Command::new(wavecrew_bin()).current_dir(root()).env("NO_COLOR", "1").args(args).output().unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn json_codes(output: &std::process::Output) -> Vec<String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout(output)).unwrap();
    items.iter().map(|d| d["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_filled_example_is_clean() {
    let output = wavecrew(&["check", "examples/wordfreq.plan.md"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "examples/wordfreq.plan.md: ok (no problems found)\n");
}

#[test]
fn the_template_has_only_placeholder_and_mojibake_warnings() {
    // `--no-repo`: the template's `npm run` commands are for a SvelteKit project, not for
    // wavecrew's repository, which holds it.
    let output = wavecrew(&["check", "--no-repo", "--format", "json", "examples/template.plan.md"]);
    assert_eq!(output.status.code(), Some(0));
    let codes = json_codes(&output);
    assert!(codes.contains(&"unfilled-placeholder".to_owned()));
    assert_eq!(codes.iter().filter(|c| *c == "mojibake").count(), 1);
    assert!(codes.iter().all(|c| c == "unfilled-placeholder" || c == "mojibake"), "{codes:?}");
}

#[test]
fn the_template_bytes_are_the_reference_ones() {
    // The template must stay byte for byte as users have it, mojibake included.
    let bytes = std::fs::read(root().join("examples/template.plan.md")).unwrap();
    assert!(bytes.windows(3).any(|w| w == "â€”".as_bytes().get(..3).unwrap()));
    assert!(String::from_utf8(bytes).unwrap().contains("â€”"));
}

#[test]
fn the_broken_example_raises_exactly_its_expected_errors() {
    let output = wavecrew(&["check", "--format", "json", "examples/broken.plan.md"]);
    assert_eq!(output.status.code(), Some(1));
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let mut errors: Vec<&str> =
        items.iter().filter(|d| d["severity"] == "error").map(|d| d["code"].as_str().unwrap()).collect();
    errors.sort_unstable();
    errors.dedup();
    let expected = std::fs::read_to_string(root().join("examples/broken.expected.txt")).unwrap();
    let mut expected: Vec<&str> = expected.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    expected.sort_unstable();
    assert_eq!(errors, expected);
}

#[test]
fn human_output_of_the_broken_example() {
    let output = wavecrew(&["check", "examples/broken.plan.md"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn json_has_the_documented_keys_and_positions() {
    let output = wavecrew(&["check", "--format", "json", "examples/broken.plan.md"]);
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    for item in &items {
        for key in ["code", "severity", "message", "file", "line", "column", "end_line", "end_column", "help"] {
            assert!(item.get(key).is_some(), "missing {key} in {item}");
        }
    }
    let path = items.iter().find(|d| d["code"] == "path-outside-repo").unwrap();
    // `- **Files**: `../outside.rs`` on line 25: the code span starts at column 14.
    assert_eq!((path["line"].as_u64(), path["column"].as_u64()), (Some(25), Some(14)));
    assert_eq!((path["end_line"].as_u64(), path["end_column"].as_u64()), (Some(25), Some(29)));
    assert_eq!(path["file"], "examples/broken.plan.md");
}

#[test]
fn sarif_is_a_2_1_0_log_with_rules_and_regions() {
    let output = wavecrew(&["check", "--format", "sarif", "examples/broken.plan.md", "examples/template.plan.md"]);
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "wavecrew");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), plan::Code::ALL.len());
    let results = run["results"].as_array().unwrap();
    let cycle = results.iter().find(|r| r["ruleId"] == "dependency-cycle").unwrap();
    assert_eq!(cycle["level"], "error");
    assert_eq!(rules[cycle["ruleIndex"].as_u64().unwrap() as usize]["id"], "dependency-cycle");
    let location = &cycle["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "examples/broken.plan.md");
    assert_eq!(location["region"]["startLine"], 30);
    let mojibake = results.iter().find(|r| r["ruleId"] == "mojibake").unwrap();
    assert_eq!(mojibake["level"], "warning");
    assert_eq!(mojibake["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"], "—");
}

#[test]
fn deny_warnings_turns_warnings_into_errors() {
    let plain = wavecrew(&["check", "examples/template.plan.md"]);
    assert_eq!(plain.status.code(), Some(0));
    let denied = wavecrew(&["check", "--deny", "warnings", "--format", "json", "examples/template.plan.md"]);
    assert_eq!(denied.status.code(), Some(1));
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout(&denied)).unwrap();
    assert!(items.iter().all(|d| d["severity"] == "error"));
}

#[test]
fn several_files_are_reported_each_with_its_own_path() {
    let output =
        wavecrew(&["check", "examples/wordfreq.plan.md", "examples/broken.plan.md", "examples/template.plan.md"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("examples/wordfreq.plan.md: ok"));
    assert!(text.contains("--> examples/broken.plan.md:18:1"));
    assert!(text.contains("--> examples/template.plan.md:81:37"));
    assert!(text.contains("examples/broken.plan.md: 11 errors"));
}

#[test]
fn a_missing_file_is_one_line_and_exit_2_and_the_others_are_still_checked() {
    let output = wavecrew(&["check", "no/such.plan.md", "examples/wordfreq.plan.md"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: `no/such.plan.md`: no such file\n"), "{}", stderr(&output));
    assert!(stdout(&output).contains("examples/wordfreq.plan.md: ok"));
}

#[test]
fn a_directory_is_refused_with_a_hint() {
    let output = wavecrew(&["check", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("error: `examples` is a directory, not a plan file"));
    assert!(stderr(&output).contains("hint: "));
}

#[test]
fn an_empty_file_has_diagnostics_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.plan.md");
    std::fs::write(&path, "").unwrap();
    let output = wavecrew(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let codes = json_codes(&output);
    assert!(codes.contains(&"missing-waves".to_owned()) && codes.contains(&"missing-title".to_owned()), "{codes:?}");
    let human = wavecrew(&["check", path.to_str().unwrap()]);
    assert_eq!(human.status.code(), Some(1));
    assert!(stdout(&human).contains("error[missing-waves]"));
}

#[test]
fn a_binary_file_is_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe").unwrap();
    let output = wavecrew(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("error[invalid-encoding]: byte 0 (0x89) is not UTF-8"), "{}", stdout(&output));
    assert!(stdout(&output).contains("this looks like a binary file"), "{}", stdout(&output));
    let nul = dir.path().join("nul.md");
    std::fs::write(&nul, b"# M1 Implementation Plan: x\n\0\n").unwrap();
    let output = wavecrew(&["check", nul.to_str().unwrap()]);
    assert!(stdout(&output).contains("is NUL: this looks like a binary file"), "{}", stdout(&output));
}

#[test]
fn a_bom_and_crlf_plan_is_read_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wordfreq.plan.md");
    let text = std::fs::read_to_string(root().join("examples/wordfreq.plan.md")).unwrap();
    std::fs::write(&path, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
    let output = wavecrew(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn a_50_mb_plan_is_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.plan.md");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap(); // sparse: no 50 MB written to disk
    let output = wavecrew(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("is 50 MiB; plans are limited to 16 MiB"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
}

#[test]
fn deeply_nested_lists_and_quotes_do_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    for (name, unit) in [("lists.plan.md", "- "), ("quotes.plan.md", "> "), ("mixed.plan.md", "> - ")] {
        let path = dir.path().join(name);
        let mut text = String::from("# M1 Implementation Plan: Deep\n\n## Waves\n\n");
        text.push_str(&unit.repeat(10_000));
        text.push_str("deep\n");
        std::fs::write(&path, text).unwrap();
        for args in [vec!["check"], vec!["show"], vec!["fmt", "--check"], vec!["graph"]] {
            let mut all = args.clone();
            all.push(path.to_str().unwrap());
            let output = wavecrew(&all);
            assert!(matches!(output.status.code(), Some(0..=1)), "{args:?} {name}: {}", stderr(&output));
        }
    }
}

#[test]
fn show_summarizes_the_example() {
    let output = wavecrew(&["show", "examples/wordfreq.plan.md"]);
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn show_json_has_the_model_keys() {
    let output = wavecrew(&["show", "--json", "examples/wordfreq.plan.md"]);
    assert_eq!(output.status.code(), Some(0));
    let model: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(model["milestone"], "M2");
    assert_eq!(model["title"], "Word frequency CLI");
    assert!(model["context"].as_str().unwrap().starts_with("`wordfreq` is a small Python"));
    for key in ["truths", "artifacts", "key_links"] {
        assert!(model["must_haves"][key].as_array().is_some_and(|a| !a.is_empty()), "{key}");
    }
    let wave = &model["waves"][3];
    assert_eq!(wave["number"], 4);
    assert_eq!(wave["name"], "Quality Gates");
    assert_eq!(wave["depends_on"], serde_json::json!([3]));
    assert_eq!(wave["parallel"], true);
    assert_eq!(wave["ship_gate"], true);
    assert_eq!(wave["tasks"], serde_json::json!(["4.1", "4.2"]));
    let task = &model["tasks"][0];
    assert_eq!(task["id"], "1.1");
    assert_eq!(task["type"], "auto");
    assert_eq!(task["files"], serde_json::json!(["wordfreq/tokenize.py"]));
    assert!(task["action"].as_str().unwrap().starts_with("Implement `tokenize"));
    assert_eq!(task["verify_commands"].as_array().unwrap().len(), 1);
    assert_eq!(task["done"], "tokenize handles punctuation, case and empty input");
    for key in ["title", "verify", "skills"] {
        assert!(task.get(key).is_some(), "{key}");
    }
    assert_eq!(model["tasks"][6]["skills"], serde_json::json!(["production-engineer"]));
    assert_eq!(model["tasks"][6]["action"], "Run all quality gates — unit tests with coverage");
    let agent = &model["agents"][0];
    assert_eq!(
        (agent["name"].as_str(), agent["model"].as_str(), agent["wave"].as_u64()),
        (Some("Worker A"), Some("haiku"), Some(1))
    );
    assert_eq!(agent["tasks"], serde_json::json!(["1.1"]));
    assert_eq!(
        model["commits"][1],
        serde_json::json!({"task": "1.2", "message": "test(M2): {task 1.2 description}", "span": model["commits"][1]["span"]})
    );
    assert_eq!(model["verification"]["automated"][0]["command"], "python3 -m unittest discover -s tests");
    assert_eq!(model["verification"]["automated"][0]["expectation"], "0 failures");
    assert_eq!(model["verification"]["manual"].as_array().unwrap().len(), 2);
}

#[test]
fn schema_describes_the_show_json_model() {
    let output = wavecrew(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    for key in ["milestone", "title", "context", "must_haves", "waves", "tasks", "agents", "commits", "verification"] {
        assert!(properties.contains_key(key), "{key}");
    }
    let task = &schema["$defs"]["Task"]["properties"];
    for key in ["id", "title", "type", "model", "files", "action", "verify", "verify_commands", "done", "skills"] {
        assert!(task.get(key).is_some(), "Task.{key}");
    }
}

#[test]
fn graph_in_mermaid_and_dot() {
    let mermaid = wavecrew(&["graph", "examples/wordfreq.plan.md"]);
    assert_eq!(mermaid.status.code(), Some(0));
    insta::assert_snapshot!("graph_mermaid", stdout(&mermaid));
    let dot = wavecrew(&["graph", "--format", "dot", "examples/wordfreq.plan.md"]);
    assert_eq!(dot.status.code(), Some(0));
    insta::assert_snapshot!("graph_dot", stdout(&dot));
}

#[test]
fn new_scaffolds_a_plan_that_only_lacks_its_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    for waves in ["1", "2", "3", "7"] {
        let path = dir.path().join(format!("m4-{waves}.plan.md"));
        let output = wavecrew(&["new", "Rooms", "--milestone", "M4", "--waves", waves, "-o", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let check = wavecrew(&["check", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(0));
        let codes = json_codes(&check);
        assert!(!codes.is_empty() && codes.iter().all(|c| c == "unfilled-placeholder"), "{waves} waves: {codes:?}");
        let model = wavecrew(&["show", "--json", path.to_str().unwrap()]);
        let model: serde_json::Value = serde_json::from_str(&stdout(&model)).unwrap();
        assert_eq!(model["waves"].as_array().unwrap().len(), waves.parse::<usize>().unwrap());
        assert_eq!(model["title"], "Rooms");
    }
    let again =
        wavecrew(&["new", "Rooms", "--milestone", "M4", "-o", dir.path().join("m4-3.plan.md").to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
}

#[test]
fn fmt_repairs_the_template_keeps_its_content_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.plan.md");
    let original = std::fs::read_to_string(root().join("examples/template.plan.md")).unwrap();
    std::fs::write(&path, &original).unwrap();
    let path = path.to_str().unwrap();

    let check = wavecrew(&["fmt", "--check", path]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("+- **Action**: Run all quality gates — unit tests"), "{}", stdout(&check));
    assert_eq!(std::fs::read_to_string(path).unwrap(), original, "--check must not write");

    assert_eq!(wavecrew(&["fmt", path]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(path).unwrap();
    assert!(!formatted.contains("â€”"));
    assert!(formatted.contains("| Wave | Agent            | Model  | Tasks                       |"), "{formatted}");
    let words = |s: &str| {
        s.split_whitespace()
            .filter(|w| !w.chars().all(|c| matches!(c, '|' | '-' | ':')))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(words(&formatted), words(&original.replace("â€”", "—")), "formatting keeps every word");

    let again = wavecrew(&["fmt", "--check", path]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let check = wavecrew(&["check", "--format", "json", path]);
    assert!(!json_codes(&check).contains(&"mojibake".to_owned()));
}

#[test]
fn the_bundled_plans_are_fmt_clean_but_the_template_whose_bytes_are_the_reference() {
    let examples = std::fs::read_dir(root().join("examples")).unwrap().map(|e| e.unwrap().file_name());
    let mut plans: Vec<String> = examples
        .map(|name| format!("examples/{}", name.to_string_lossy()))
        .filter(|path| path.ends_with(".plan.md"))
        .collect();
    assert_eq!(plans.len(), 3, "{plans:?}");
    plans.push("crates/cli/demo/demo.plan.md".into());
    for path in plans {
        let name = path.rsplit('/').next().unwrap();
        let fmt = wavecrew(&["fmt", "--check", &path]);
        if name == "template.plan.md" {
            // Users have it with its mojibake (the format contract keeps it byte for byte), so
            // fmt has something to repair, and check says so first: it never calls it clean.
            assert_eq!(fmt.status.code(), Some(1), "{}", stdout(&fmt));
            assert!(json_codes(&wavecrew(&["check", "--format", "json", &path])).contains(&"mojibake".to_owned()));
        } else {
            assert_eq!(fmt.status.code(), Some(0), "`wavecrew fmt {path}` would change it:\n{}", stdout(&fmt));
        }
    }
}

#[test]
fn fmt_keeps_crlf_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.plan.md");
    let text = std::fs::read_to_string(root().join("examples/template.plan.md")).unwrap().replace('\n', "\r\n");
    std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
    assert_eq!(wavecrew(&["fmt", path.to_str().unwrap()]).status.code(), Some(0));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "every line still ends in CRLF");
}

#[test]
fn help_lists_every_command() {
    let output = wavecrew(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for command in ["check", "show", "graph", "new", "fmt", "schema"] {
        assert!(text.contains(&format!("  {command} ")), "{command}");
    }
}

#[test]
fn agents_are_listed_in_aligned_columns() {
    // A PATH with git alone: no agent CLI and no Slurm client is found, whatever this machine has.
    let dir = tempfile::tempdir().unwrap();
    let (repo, bin) = (dir.path().join("repo"), dir.path().join("bin"));
    std::fs::create_dir_all(&bin).unwrap();
    let git = which("git");
    std::os::unix::fs::symlink(&git, bin.join("git")).unwrap();
    assert!(std::process::Command::new(&git).args(["init", "--quiet"]).arg(&repo).status().unwrap().success());
    std::fs::write(
        repo.join("wavecrew.toml"),
        "agent = \"a-long-agent-name\"\n[agents.a-long-agent-name]\ncommand = [\"my-agent\", \"{prompt_file}\"]\n\
         [sandbox]\nmode = \"off\"\n",
    )
    .unwrap();
    let output = Command::new(wavecrew_bin())
        .current_dir(&repo)
        .env("PATH", &bin)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .arg("agents")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // What this machine's kernel offers is its own, not the output's shape.
    let out: String = stdout(&output)
        .lines()
        .map(|line| match line.find("this kernel: ") {
            Some(at) => format!("{}this kernel: [its Landlock ABI, or why it has none]\n", &line[..at]),
            None => format!("{line}\n"),
        })
        .collect();
    insta::assert_snapshot!(out);
}

/// The full path of a program on PATH.
fn which(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no `{program}` on PATH"))
}

/// The subcommands `wavecrew --help` lists (without `help`).
fn subcommands_in_help() -> Vec<String> {
    let help = stdout(&wavecrew(&["--help"]));
    let listed = help.split("\nCommands:\n").nth(1).and_then(|rest| rest.split("\n\n").next()).unwrap();
    let names: Vec<String> = listed
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 20 && names.iter().any(|n| n == "run"), "{help}");
    names
}

/// Whether `word` is in `text` as a whole word (not inside a longer name like `runs`).
fn has_word(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word)
        .any(|(at, _)| !text[..at].ends_with(is_name) && !text[at + word.len()..].starts_with(is_name))
}

#[test]
fn completions_of_every_shell_offer_the_subcommands_help_lists_and_no_hidden_one() {
    let subcommands = subcommands_in_help();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = wavecrew(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for name in &subcommands {
            assert!(has_word(&script, name), "{shell} completes no `{name}`");
        }
        for hidden in ["agent-double", "worker"] {
            assert!(!has_word(&script, hidden), "{shell} offers the internal `{hidden}`");
        }
    }
    let bash = stdout(&wavecrew(&["completions", "bash"]));
    let top = bash.lines().find(|line| line.trim_start().starts_with("opts=\"-h -V --color")).unwrap().trim();
    insta::assert_snapshot!(top, @r#"opts="-h -V --color --help --version check show graph new fmt plan import schema run resume runs status logs cancel approve reject decide report gaps ship demo agents serve mcp completions man help""#);
    let syntax = std::process::Command::new("bash").arg("-n").arg("-c").arg(&bash).output().unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));
    let bad = wavecrew(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("[possible values: bash, elvish, fish, powershell, zsh]"), "{}", stderr(&bad));
}

#[test]
fn the_manual_page_is_printed_or_written_one_per_subcommand() {
    let printed = wavecrew(&["man"]);
    assert_eq!(printed.status.code(), Some(0), "{}", stderr(&printed));
    let page = stdout(&printed);
    insta::assert_snapshot!(page);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man/man1");
    let written = wavecrew(&["man", "--out", out.to_str().unwrap()]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert_eq!(std::fs::read_to_string(out.join("wavecrew.1")).unwrap(), page);
    let mut files: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    let mut expected: Vec<String> = subcommands_in_help().iter().map(|name| format!("wavecrew-{name}.1")).collect();
    expected.push("wavecrew.1".into());
    expected.sort();
    assert_eq!(files, expected);
    let run = std::fs::read_to_string(out.join("wavecrew-run.1")).unwrap();
    assert!(run.contains(".TH wavecrew-run 1") && run.contains("\\-\\-dry\\-run"), "{run}");
}

#[test]
fn the_test_script_says_in_one_message_what_it_cannot_install() {
    // A PATH without git, node, python3, Slurm, sudo and apt-get: whether root or not, the
    // installer cannot install, and says what is missing and how, in one message.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(which("id"), bin.path().join("id")).unwrap();
    let output = std::process::Command::new(which("bash"))
        .arg(root().join("scripts/install-test-deps.sh"))
        .env("PATH", bin.path())
        .env("CHROMIUM", bin.path().join("no-chromium"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let packages = "git nodejs npm python3 python3-venv chromium slurmctld slurmd slurm-client";
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "scripts/test.sh: the tests need these Debian packages, which are not installed: {packages}\n"
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "  Install them (as root: apt-get install -y {packages}), then run scripts/test.sh again.\n"
        )),
        "{message}"
    );
    assert_eq!(message.lines().count(), 3, "{message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn show_says_the_model_of_each_task_when_an_agent_switches_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m1.plan.md");
    std::fs::write(
        &path,
        "# M1 Implementation Plan: Models\n\n## Waves\n\n### Wave 1: A\n> No dependencies.\n\n\
         **Task 1.1** (type: auto)\n- **Action**: One\n\n### Wave 2: B\n> Depends on: Wave 1.\n\n\
         **Task 2.1** (type: auto)\n- **Action**: Two\n\n## Agent Strategy\n\n\
         | Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | Worker A | haiku | 1.1 |\n| 2 | Worker A | sonnet | 2.1 |\n",
    )
    .unwrap();
    let text = stdout(&wavecrew(&["show", path.to_str().unwrap()]));
    assert!(text.contains("Worker A  haiku, sonnet  1.1 (haiku) → 2.1 (sonnet)"), "{text}");
    assert!(text.contains("Two  [Worker A, sonnet]"), "{text}");
    let model: serde_json::Value =
        serde_json::from_str(&stdout(&wavecrew(&["show", "--json", path.to_str().unwrap()]))).unwrap();
    assert_eq!(model["tasks"][0]["model"], "haiku");
    assert_eq!(model["tasks"][1]["model"], "sonnet");
}
