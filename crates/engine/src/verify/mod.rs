//! The end of a run: the plan's must_haves checked on the finished run branch.
//!
//! - **artifacts**: each path exists, is substantive (not empty, not a stub) and is wired, as
//!   the project's own tools resolve it ([`evidence::wiring`]): another file imports it (through
//!   tsconfig paths, `$lib`, Vite aliases, workspace packages, Python roots, `mod`, Go module
//!   paths, …), a convention runs it (a SvelteKit or Next.js route, a crate root, `__main__.py`,
//!   a test file, Django's per-app modules, …), a command of the plan runs it or imports its
//!   module, or it is the file a key link names as importing the others and that link holds.
//!   Names in comments, strings and Markdown never count. Verdicts `VERIFIED`, `STUB`,
//!   `ORPHANED`, `MISSING`, each with evidence that says which rule proved it.
//! - **key_links**: the paths or components a link names exist and use each other (an import,
//!   a `mod`, a command, a fixture…), one after the other as the link reads; else `NOT_WIRED`.
//!   A bare file name (`+page.svelte`) stands for the files that end with it.
//! - **truths**: observable outcomes. [`must_haves`] leaves them to a person (`MANUAL`); when
//!   the verifier is on, [`run`] asks an agent to prove each one ([`TruthsPrompt`]) and
//!   [`truth_verdicts`] keeps only what its evidence shows: a truth is `VERIFIED` when the
//!   verifier says `PROVEN` and at least one place it cites exists or one command it cites,
//!   run again by wavecrew, exits 0 and prints what it cited. Anything else stays `MANUAL`, with
//!   why.
//!
//! The plan's Verification / Automated commands are run by [`run`] in the same worktree; this
//! module is pure reading, [`run`] is the part that runs things.

use crate::events::{AutomatedResult, MustHaveKind, MustHaveStatus, MustHaveVerdict};
use evidence::artifacts::Substance;
use evidence::review::{Evidence, TruthAnswer, TruthVerdict};
use evidence::wiring::{CommandSource, PlanCommand, Wiring};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

mod hold;
pub(crate) mod run;

/// The repository's tracked files at the worktree's commit: every path, the text of those
/// that can be read, and those skipped, with why.
#[derive(Debug, Default)]
pub struct Tracked {
    /// Every tracked path.
    pub paths: Vec<String>,
    /// (path, text) of the text files read.
    pub texts: Vec<(String, String)>,
    /// (path, why) of the files not read: symbolic links, files over 1 MiB.
    pub skipped: Vec<(String, String)>,
}

/// Reads the tracked files `paths` of `worktree` once: what the must_haves are judged on.
/// Binary files are left out; symbolic links (a loop would never end) and files over 1 MiB are
/// skipped with a note.
pub fn tracked_texts(worktree: &Path, paths: &[String]) -> Tracked {
    // Read on every core: most of the time is the file system's, not ours.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = paths.len().div_ceil(threads).max(1);
    let parts: Vec<Tracked> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            paths.chunks(chunk).map(|paths| scope.spawn(move || read_some(worktree, paths))).collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_default()).collect()
    });
    let mut tracked = Tracked { paths: paths.to_vec(), ..Tracked::default() };
    for part in parts {
        tracked.texts.extend(part.texts);
        tracked.skipped.extend(part.skipped);
    }
    tracked
}

/// The texts and skipped files of `paths`, in order.
fn read_some(worktree: &Path, paths: &[String]) -> Tracked {
    let (mut texts, mut skipped) = (Vec::new(), Vec::new());
    for path in paths {
        let full = worktree.join(path);
        let Ok(metadata) = std::fs::symlink_metadata(&full) else { continue };
        if metadata.file_type().is_symlink() {
            skipped.push((path.clone(), "a symbolic link, not followed".into()));
            continue;
        }
        if !metadata.is_file() {
            continue;
        }
        if metadata.len() > evidence::wiring::MAX_FILE_BYTES {
            skipped.push((path.clone(), "over 1 MiB, not read".into()));
            continue;
        }
        let Ok(bytes) = std::fs::read(&full) else { continue };
        if !bytes.contains(&0) {
            texts.push((path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Tracked { paths: Vec::new(), texts, skipped }
}

/// The commands of `plan` that count as use of the files they run: each task's Verify, the
/// Verification / Automated commands, and the backticked commands of the truths.
pub fn plan_commands(plan: &plan::Plan) -> Vec<PlanCommand> {
    let mut commands = Vec::new();
    for task in &plan.tasks {
        for command in &task.verify_commands {
            commands.push(PlanCommand {
                source: CommandSource::Verify(task.id.to_string()),
                command: command.value.clone(),
            });
        }
    }
    for check in &plan.verification.automated {
        commands.push(PlanCommand { source: CommandSource::Automated, command: check.command.clone() });
    }
    for truth in &plan.must_haves.truths {
        let mut parts = truth.value.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            commands.push(PlanCommand { source: CommandSource::Truth, command: code.to_owned() });
        }
    }
    commands
}

/// Verdicts for `plan`'s must_haves on the repository `tracked` (read by [`tracked_texts`]);
/// `plan_path` (the plan itself, which names every artifact) never counts as a reference.
pub fn must_haves(
    worktree: &Path,
    plan: &plan::Plan,
    tracked: &Tracked,
    plan_path: Option<&str>,
) -> Vec<MustHaveVerdict> {
    let must_haves = &plan.must_haves;
    // The plan names every artifact, and wavecrew's own files (`.wavecrew/`) are not the
    // project's: neither counts as a reference.
    let own = |path: &str| Some(path) == plan_path || path.starts_with(".wavecrew/");
    let commands = plan_commands(plan);
    // One index of the whole repository, read once, asked for every artifact and link.
    let wiring = Wiring::build_without(&tracked.paths, &tracked.texts, &commands, own);
    let notes = Notes::of(&wiring, &tracked.skipped);
    let mut links = Vec::new();
    let mut importers: HashMap<String, String> = HashMap::new();
    for link in &must_haves.key_links {
        let (verdict, imports) = key_link_verdict(worktree, link, &wiring, &notes);
        if verdict.verdict == MustHaveStatus::Verified {
            for importer in imports {
                importers.entry(importer).or_insert_with(|| link.text.clone());
            }
        }
        links.push(verdict);
    }
    let mut verdicts = Vec::new();
    for artifact in &must_haves.artifacts {
        let Some(path) = &artifact.path else {
            verdicts.push(verdict(
                MustHaveKind::Artifact,
                &artifact.text,
                MustHaveStatus::Manual,
                "no backticked path: a person checks it",
            ));
            continue;
        };
        verdicts.push(artifact_verdict(worktree, path, &wiring, &importers, &notes));
    }
    verdicts.extend(links);
    for truth in &must_haves.truths {
        verdicts.push(verdict(MustHaveKind::Truth, &truth.value, MustHaveStatus::Manual, MANUAL_TRUTH));
    }
    verdicts
}

/// What the evidence of a verdict that found no wiring adds: the config files that could not
/// be read and the files skipped, so that a person knows what the verdict did not see.
struct Notes(String);

impl Notes {
    fn of(wiring: &Wiring, skipped: &[(String, String)]) -> Notes {
        let mut notes = Vec::new();
        for (path, why) in wiring.unreadable().iter().take(3) {
            notes.push(format!("{path} could not be read ({}), so plain references were used", one_line(why, 120)));
        }
        if !skipped.is_empty() {
            let shown: Vec<String> = skipped.iter().take(3).map(|(path, why)| format!("{path}: {why}")).collect();
            let more = if skipped.len() > 3 { format!(" and {} more", skipped.len() - 3) } else { String::new() };
            notes.push(format!("not read: {}{more}", shown.join("; ")));
        }
        Notes(if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) })
    }
}

/// Why a truth is `MANUAL` when no verifier was asked.
pub const MANUAL_TRUTH: &str = "an observable outcome: a person confirms it";

/// Commands of a verifier's answer wavecrew runs again, at most; the others prove nothing.
pub const MAX_RERUNS: usize = 10;

/// What a command a verifier cited did when wavecrew ran it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rerun {
    /// Whether it exited 0 in time.
    pub succeeded: bool,
    /// How it ended: `exited with code 1`, `timed out`.
    pub ended: String,
    /// What it printed.
    pub output: String,
}

/// The answers that say `PROVEN` about one of `truths`, with the truth's index: the only ones
/// whose evidence is worth checking.
fn proven<'a>(truths: &'a [String], answers: &'a [TruthAnswer]) -> impl Iterator<Item = &'a TruthAnswer> {
    truths.iter().enumerate().filter_map(move |(index, truth)| {
        evidence::review::answer_for(answers, index, truth).filter(|a| a.verdict == TruthVerdict::Proven)
    })
}

/// The commands the answers cite for truths they say are `PROVEN`, once each, in order: what
/// wavecrew runs again (at most [`MAX_RERUNS`]).
pub fn commands_to_rerun(truths: &[String], answers: &[TruthAnswer]) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    for answer in proven(truths, answers) {
        for evidence in &answer.evidence {
            if let Evidence::Command { command, .. } = evidence
                && !commands.contains(command)
                && commands.len() < MAX_RERUNS
            {
                commands.push(command.clone());
            }
        }
    }
    commands
}

/// The files the answers cite for truths they say are `PROVEN`: those whose lines are counted.
pub fn places_to_check(truths: &[String], answers: &[TruthAnswer]) -> BTreeSet<String> {
    evidence::review::cited_files(proven(truths, answers).flat_map(|a| &a.evidence))
}

/// The verdict of each of `truths` from the verifier's `answer` (or why there is none): `VERIFIED`
/// with the evidence that holds, or `MANUAL` with why not. Places are checked with `lines_of`
/// (the line counts at the verified commit), commands by what they did when wavecrew ran them
/// again (`reruns`, by command line).
pub fn truth_verdicts(
    truths: &[String],
    answer: &Result<Vec<TruthAnswer>, String>,
    lines_of: impl Fn(&str) -> Option<usize>,
    reruns: &HashMap<String, Rerun>,
) -> Vec<MustHaveVerdict> {
    truths
        .iter()
        .enumerate()
        .map(|(index, truth)| {
            let answers = match answer {
                Ok(answers) => answers,
                Err(why) => return verdict(MustHaveKind::Truth, truth, MustHaveStatus::Manual, why.clone()),
            };
            let Some(answer) = evidence::review::answer_for(answers, index, truth) else {
                return verdict(
                    MustHaveKind::Truth,
                    truth,
                    MustHaveStatus::Manual,
                    format!("no answer: the verifier's answer says nothing about T{}", index + 1),
                );
            };
            let note =
                if answer.note.is_empty() { String::new() } else { format!(": {}", one_line(&answer.note, 300)) };
            if answer.verdict == TruthVerdict::Unproven {
                return verdict(
                    MustHaveKind::Truth,
                    truth,
                    MustHaveStatus::Manual,
                    format!("UNPROVEN by the verifier{note}"),
                );
            }
            let (mut held, mut failed) = (Vec::new(), Vec::new());
            for evidence in &answer.evidence {
                let checked = match evidence {
                    Evidence::Place { file, line } => evidence::review::check_place(file, *line, &lines_of),
                    Evidence::Command { command, output } => match reruns.get(command) {
                        Some(rerun) => evidence::review::check_command(
                            command,
                            output,
                            &evidence::review::Rerun {
                                succeeded: rerun.succeeded,
                                ended: &rerun.ended,
                                output: &rerun.output,
                            },
                        ),
                        None => Err(format!(
                            "cited command `{}` was not run again: wavecrew runs at most {MAX_RERUNS} cited commands",
                            one_line(command, 120)
                        )),
                    },
                    Evidence::Malformed(why) => Err(why.clone()),
                };
                match checked {
                    Ok(text) => held.push(text),
                    Err(why) => failed.push(why),
                }
            }
            if held.is_empty() {
                let why = if failed.is_empty() { "it cites no evidence".to_owned() } else { failed.join("; ") };
                return verdict(
                    MustHaveKind::Truth,
                    truth,
                    MustHaveStatus::Manual,
                    format!("PROVEN by the verifier without valid evidence: {why}"),
                );
            }
            verdict(
                MustHaveKind::Truth,
                truth,
                MustHaveStatus::Verified,
                format!("proven by the verifier, checked by wavecrew: {}", held.join("; ")),
            )
        })
        .collect()
}

/// `text` on one line, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// What the verifier of the plan's truths is told: the truths, the run's change, what
/// wavecrew ran, and the answer it expects, where.
pub struct TruthsPrompt<'a> {
    /// The plan.
    pub plan: &'a plan::Plan,
    /// The run's change is `base..head`.
    pub base: &'a str,
    /// The verified commit.
    pub head: &'a str,
    /// `git diff --stat base head`.
    pub stat: &'a str,
    /// The diff, cut and redacted ([`crate::gate::prompt_excerpt`]).
    pub diff: &'a str,
    /// The Verification / Automated commands wavecrew ran, with the end of their output.
    pub automated: &'a [(AutomatedResult, String)],
    /// Where the answer goes, relative to the worktree.
    pub answer_path: &'a str,
    /// Time each cited command gets when wavecrew runs it again.
    pub timeout_secs: u64,
}

impl TruthsPrompt<'_> {
    /// The prompt.
    pub fn build(&self) -> String {
        let plan = self.plan;
        let short = |c: &str| c[..c.len().min(10)].to_owned();
        let mut out = String::new();
        let _ = writeln!(out, "# Verify the truths of milestone {}: {}\n", plan.milestone, plan.title);
        let _ = writeln!(
            out,
            "Every task of the plan landed. The current directory is a git worktree at the finished run branch's head \
             `{}` (the run's change is `{}..{}`). For each truth below, find out whether the code makes it hold, and \
             cite evidence wavecrew can check itself:\n",
            short(self.head),
            short(self.base),
            short(self.head)
        );
        let _ = writeln!(
            out,
            "- a place: `{{\"file\": \"src/app.py\", \"line\": 12}}`: the file must exist at this commit and have that \
             line;\n- a command and what it prints: `{{\"command\": \"python3 -m pytest -k greet\", \"output\": \"1 \
             passed\"}}`: wavecrew runs the command again itself, in a clean checkout of this commit, with a timeout \
             of {}s and an environment as small as yours, and accepts it only if it exits 0 and its output \
             contains `output`.\n",
            self.timeout_secs
        );
        let _ = writeln!(
            out,
            "A truth is VERIFIED only when you say PROVEN and some of your evidence holds; everything else goes to a \
             person's checklist. Do not change any file: write only your answer. Whatever else you change is \
             discarded before wavecrew runs your commands.\n"
        );
        let _ = writeln!(out, "## Truths\n");
        for (index, truth) in plan.must_haves.truths.iter().enumerate() {
            let _ = writeln!(out, "- T{}: {}", index + 1, truth.value);
        }
        if !plan.context.trim().is_empty() {
            let _ = writeln!(out, "\n## Context\n\n{}", plan.context.trim());
        }
        if !self.automated.is_empty() {
            let _ = writeln!(out, "\n## What wavecrew ran on this commit\n");
            for (result, tail) in self.automated {
                let expected = result.expectation.as_deref().map(|e| format!(" (expected: {e})")).unwrap_or_default();
                let first = result.detail.lines().next().unwrap_or_default();
                let how = match result.status {
                    crate::events::AutomatedStatus::Passed => "passed".to_owned(),
                    crate::events::AutomatedStatus::Failed => format!("FAILED: {first}"),
                    crate::events::AutomatedStatus::Unchecked => format!("exited 0, expectation not checked: {first}"),
                };
                let _ = writeln!(out, "- `{}`{expected}: {how}", result.command);
                if !tail.trim().is_empty() {
                    let fence = crate::gate::fence_for(tail);
                    let _ = writeln!(out, "\n  Its output ends with:\n\n{fence}\n{}\n{fence}\n", tail.trim_end());
                }
            }
        }
        out.push('\n');
        crate::gate::change_and_answer(&mut out, self.stat, self.diff, self.answer_path);
        out.push_str(concat!(
            "```json\n",
            r#"{"truths": [{"truth": "T1", "verdict": "PROVEN", "evidence": [{"command": "python3 -m pytest -k greet", "output": "1 passed"}, {"file": "src/app.py", "line": 12}]},"#,
            "\n",
            r#"            {"truth": "T2", "verdict": "UNPROVEN", "note": "why it could not be shown", "evidence": []}]}"#,
            "\n```\n\n",
        ));
        let _ = writeln!(
            out,
            "One entry for each truth: `truth` is its id (T1, T2, …), `verdict` PROVEN or UNPROVEN, `note` optional."
        );
        out
    }
}

fn verdict(kind: MustHaveKind, item: &str, verdict: MustHaveStatus, evidence: impl Into<String>) -> MustHaveVerdict {
    MustHaveVerdict { kind, item: item.to_owned(), verdict, evidence: evidence.into() }
}

/// Whether `path` is a test by the usual conventions (`tests/`, `test_*.py`, `*_test.go`,
/// `*.test.ts`, `*.spec.js`…).
pub fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with("tests/")
        || path.contains("/tests/")
        || path.starts_with("test/")
        || name.starts_with("test_")
        || name.ends_with("_test.go")
        || name.ends_with("_test.py")
        || [".test.", ".spec."].iter().any(|marker| name.contains(marker))
}

fn artifact_verdict(
    worktree: &Path,
    path: &str,
    wiring: &Wiring,
    importers: &HashMap<String, String>,
    notes: &Notes,
) -> MustHaveVerdict {
    let full = worktree.join(path);
    if full.is_dir() {
        return verdict(MustHaveKind::Artifact, path, MustHaveStatus::Verified, "a folder that exists");
    }
    let Ok(bytes) = std::fs::read(&full) else {
        return verdict(
            MustHaveKind::Artifact,
            path,
            MustHaveStatus::Missing,
            format!("`{path}` is not on the run branch"),
        );
    };
    let text = String::from_utf8_lossy(&bytes);
    match evidence::artifacts::substance(path, &text) {
        Substance::Empty => return verdict(MustHaveKind::Artifact, path, MustHaveStatus::Stub, "the file is empty"),
        Substance::Stub { reason, line } => {
            let place = line.map(|l| format!("{path}:{l}: ")).unwrap_or_default();
            return verdict(MustHaveKind::Artifact, path, MustHaveStatus::Stub, format!("{place}{reason}"));
        }
        Substance::Substantive => {}
    }
    let not_wired = match wiring.artifact(path) {
        Ok(wired) => {
            return verdict(MustHaveKind::Artifact, path, MustHaveStatus::Verified, format!("substantive, {wired}"));
        }
        Err(why) => why,
    };
    if let Some(link) = importers.get(path) {
        return verdict(
            MustHaveKind::Artifact,
            path,
            MustHaveStatus::Verified,
            format!(
                "substantive, the file the key link “{}” names as importing the others, and that link holds",
                one_line(link, 120)
            ),
        );
    }
    verdict(MustHaveKind::Artifact, path, MustHaveStatus::Orphaned, format!("substantive, but {not_wired}{}", notes.0))
}

/// The verdict of a key link, and the files that import the others in it (when it holds).
fn key_link_verdict(
    worktree: &Path,
    link: &plan::KeyLink,
    wiring: &Wiring,
    notes: &Notes,
) -> (MustHaveVerdict, Vec<String>) {
    let names = &link.references;
    if names.len() < 2 {
        let why = "fewer than two backticked paths or components to connect";
        return (verdict(MustHaveKind::KeyLink, &link.text, MustHaveStatus::Manual, why), Vec::new());
    }
    let is_path = |name: &str| name.contains('/') || name.contains('.');
    // The files each name stands for: a path, a bare file name (`+page.svelte`), or a component
    // named like a file (`TaskPanel` for `TaskPanel.svelte`).
    let mut files: Vec<Vec<&str>> = Vec::new();
    for name in names {
        let named = if is_path(name) { wiring.files_named(name) } else { component_files(wiring, name) };
        if is_path(name) && named.is_empty() && !worktree.join(name).is_dir() {
            return (
                verdict(
                    MustHaveKind::KeyLink,
                    &link.text,
                    MustHaveStatus::NotWired,
                    format!("`{name}` does not exist"),
                ),
                Vec::new(),
            );
        }
        files.push(named);
    }
    let text_of = |path: &str| wiring.text(path);
    // Where the files of `a` use those of `b`: (importer, evidence).
    let uses = |a: usize, b: usize| -> Option<(String, String)> {
        files[a].iter().find_map(|from| {
            files[b].iter().find_map(|to| {
                let (line, via) = wiring.uses(from, to)?;
                Some(((*from).to_owned(), format!("{from}:{line} {via}")))
            })
        })
    };
    // A component named in prose (`/api/auth`, `LoginForm`) that no file is named after.
    let mentions = |a: usize, b: usize| -> Option<String> {
        (files[b].is_empty() && !is_path(&names[b])).then_some(())?;
        files[a].iter().find_map(|from| {
            let code = evidence::artifacts::code_of(from, text_of(from)?);
            evidence::artifacts::stem_mentions(&code, &names[b]).map(|line| format!("{from}:{line} names it"))
        })
    };
    // The link holds when its items are connected, in either direction: a tokenizer that
    // "feeds" a counter may do so through the module that imports both.
    let mut group: Vec<usize> = (0..names.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            i = group[i];
        }
        i
    }
    let mut evidence = Vec::new();
    let mut importers = Vec::new();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (a, b) = (&names[i], &names[j]);
            let place = if let Some((importer, place)) = uses(i, j).or_else(|| uses(j, i)) {
                importers.push(importer);
                Some(place)
            } else {
                mentions(i, j).or_else(|| mentions(j, i)).or_else(|| {
                    // Two components: some file names both.
                    (files[i].is_empty() && files[j].is_empty() && !is_path(a) && !is_path(b)).then_some(())?;
                    wiring.paths().iter().filter(|path| !evidence::wiring::is_prose(path)).find_map(|path| {
                        let code = evidence::artifacts::code_of(path, wiring.text(path)?);
                        let line = evidence::artifacts::stem_mentions(&code, a)?;
                        evidence::artifacts::stem_mentions(&code, b)?;
                        Some(format!("{path}:{line}"))
                    })
                })
            };
            if let Some(place) = place {
                evidence.push(format!("`{a}` ↔ `{b}`: {place}"));
                let (ra, rb) = (root(&mut group, i), root(&mut group, j));
                group[ra] = rb;
            }
        }
    }
    let first = root(&mut group, 0);
    if let Some(apart) = (1..names.len()).find(|&i| root(&mut group, i) != first) {
        let why = format!("nothing connects `{}` with `{}`{}", names[apart], names[0], notes.0);
        return (verdict(MustHaveKind::KeyLink, &link.text, MustHaveStatus::NotWired, why), Vec::new());
    }
    (verdict(MustHaveKind::KeyLink, &link.text, MustHaveStatus::Verified, evidence.join("; ")), importers)
}

/// The files named after a component (`TaskPanel` → `src/lib/TaskPanel.svelte`).
fn component_files<'a>(wiring: &Wiring<'a>, component: &str) -> Vec<&'a str> {
    if !component.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Vec::new();
    }
    wiring
        .paths()
        .iter()
        .copied()
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            name.split('.').next() == Some(component) && name.contains('.') && !evidence::wiring::is_prose(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(json: &str) -> Result<Vec<TruthAnswer>, String> {
        evidence::review::parse_truths(json).map_err(|e| e.to_string())
    }

    fn rerun(succeeded: bool, ended: &str, output: &str) -> Rerun {
        Rerun { succeeded, ended: ended.into(), output: output.into() }
    }

    #[test]
    fn only_evidence_that_holds_verifies_a_truth() {
        let truths: Vec<String> =
            ["It greets", "It counts", "It sorts", "It is fast", "It is quiet"].map(String::from).into();
        let answer = answers(
            r#"{"truths": [
                {"truth": "T1", "verdict": "PROVEN", "evidence": [{"command": "make greet", "output": "hello"}, {"file": "app.py", "line": 3}]},
                {"truth": "it counts.", "verdict": "PROVEN", "evidence": [{"command": "make count", "output": "3"}]},
                {"truth": "T3", "verdict": "PROVEN", "evidence": [{"file": "app.py", "line": 30}]},
                {"truth": "T4", "verdict": "UNPROVEN", "note": "no benchmark", "evidence": [{"command": "make greet", "output": "hello"}]}
            ]}"#,
        );
        let reruns = HashMap::from([
            ("make greet".to_owned(), rerun(true, "exited with code 0", "hello, world\n")),
            ("make count".to_owned(), rerun(false, "exited with code 2", "3")),
        ]);
        let lines_of = |path: &str| (path == "app.py").then_some(10);
        let verdicts = truth_verdicts(&truths, &answer, lines_of, &reruns);
        let got: Vec<(MustHaveStatus, &str)> =
            verdicts.iter().map(|v| (v.verdict.clone(), v.evidence.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    MustHaveStatus::Verified,
                    "proven by the verifier, checked by wavecrew: `make greet` exited 0 and printed `hello`; app.py:3"
                ),
                (
                    MustHaveStatus::Manual,
                    "PROVEN by the verifier without valid evidence: cited command `make count` exited with code 2"
                ),
                (
                    MustHaveStatus::Manual,
                    "PROVEN by the verifier without valid evidence: cited app.py:30 does not exist (app.py has 10 lines)"
                ),
                (MustHaveStatus::Manual, "UNPROVEN by the verifier: no benchmark"),
                (MustHaveStatus::Manual, "no answer: the verifier's answer says nothing about T5"),
            ]
        );
        assert!(verdicts.iter().all(|v| v.kind == MustHaveKind::Truth));
    }

    #[test]
    fn only_commands_of_proven_truths_are_run_again_once_each_and_not_too_many() {
        let truths: Vec<String> = ["A", "B"].map(String::from).into();
        let many: Vec<String> = (0..15).map(|i| format!(r#"{{"command": "c{i}", "output": "x"}}"#)).collect::<Vec<_>>();
        let text = format!(
            r#"{{"truths": [{{"truth": "T1", "verdict": "PROVEN", "evidence": [{{"command": "c0", "output": "x"}}, {}]}},
                            {{"truth": "T2", "verdict": "UNPROVEN", "evidence": [{{"command": "never", "output": "x"}}, {{"file": "b.py", "line": 1}}]}}]}}"#,
            many.join(", ")
        );
        let answers = answers(&text).unwrap();
        let commands = commands_to_rerun(&truths, &answers);
        assert_eq!(commands.len(), MAX_RERUNS);
        assert_eq!(commands[..3], ["c0", "c1", "c2"]);
        assert!(!commands.contains(&"never".to_owned()));
        assert!(places_to_check(&truths, &answers).is_empty(), "places of an UNPROVEN truth are not looked up");
        let verdicts = truth_verdicts(&truths[..1], &Ok(answers), |_| None, &HashMap::new());
        assert!(verdicts[0].evidence.contains("cited command `c0` was not run again"), "{}", verdicts[0].evidence);
    }

    #[test]
    fn symbolic_links_and_files_over_1_mib_are_skipped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.py"), "import b\n").unwrap();
        std::fs::write(root.join("big.txt"), vec![b'x'; (1 << 20) + 1]).unwrap();
        std::os::unix::fs::symlink("loop2", root.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
        let paths: Vec<String> = ["a.py", "big.txt", "loop1", "loop2", "gone.py"].map(String::from).into();
        let tracked = tracked_texts(root, &paths);
        assert_eq!(tracked.texts, [("a.py".to_string(), "import b\n".to_string())]);
        let skipped: Vec<(&str, &str)> = tracked.skipped.iter().map(|(p, why)| (p.as_str(), why.as_str())).collect();
        assert_eq!(
            skipped,
            [
                ("big.txt", "over 1 MiB, not read"),
                ("loop1", "a symbolic link, not followed"),
                ("loop2", "a symbolic link, not followed")
            ]
        );
    }

    #[test]
    fn no_usable_answer_leaves_every_truth_to_a_person_with_why() {
        let truths: Vec<String> = vec!["It greets".into()];
        let verdicts =
            truth_verdicts(&truths, &Err("no answer: the verifier wrote nothing".into()), |_| None, &HashMap::new());
        assert_eq!(
            (verdicts[0].verdict.clone(), verdicts[0].evidence.as_str()),
            (MustHaveStatus::Manual, "no answer: the verifier wrote nothing")
        );
    }
}
