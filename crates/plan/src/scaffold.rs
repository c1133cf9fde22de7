//! `wavecrew new`: a fresh plan in the shape of the reference template.
//!
//! The result passes `check` except for `unfilled-placeholder` warnings: every `{...}` is a
//! question for its author.

use std::fmt::Write;

/// What to scaffold.
#[derive(Clone, Debug)]
pub struct ScaffoldOptions {
    /// The milestone id, e.g. `M4`.
    pub milestone: String,
    /// The plan's title.
    pub title: String,
    /// How many waves, the last one being the quality gates (at least 1).
    pub waves: u32,
}

/// Writes a new plan with `options.waves` waves: work waves of two parallel tasks each,
/// then, when there are two waves or more, a quality-gate wave that must pass before shipping.
pub fn scaffold(options: &ScaffoldOptions) -> String {
    let waves = options.waves.max(1);
    let work_waves = if waves >= 2 { waves - 1 } else { 1 };
    let m = options.milestone.trim();
    let mut out = String::new();
    let mut agents = String::new();
    let mut commits = String::new();

    let _ = write!(
        out,
        "# {m} Implementation Plan: {title}\n\n\
         ## Context\n\n\
         {{Why this milestone exists. What problem it solves. What's already built that it builds on.}}\n\n\
         ## must_haves\n\n\
         ### truths (observable outcomes)\n\
         - {{User-visible outcome 1}}\n\n\
         ### artifacts (files produced)\n\
         - `src/{{module}}`\n\n\
         ### key_links (where breakage cascades)\n\
         - {{Critical connection}}\n\n\
         ## Waves\n",
        title = options.title.trim(),
    );
    for w in 1..=work_waves {
        let clause = if w == 1 { "No dependencies.".to_owned() } else { format!("Depends on: Wave {}.", w - 1) };
        let _ = write!(out, "\n### Wave {w}: {{Wave name}}\n> {clause} All tasks run in parallel.\n");
        for k in 1..=2 {
            let _ = write!(
                out,
                "\n**Task {w}.{k}** (type: auto)\n\
                 - **Files**: `src/{{file {w}.{k}}}`\n\
                 - **Action**: {{What to implement}}\n\
                 - **Verify**: {{How to verify it works, with commands in backticks}}\n\
                 - **Done**: {{Definition of done}}\n"
            );
            let worker = if k == 1 { "Worker A" } else { "Worker B" };
            let _ = writeln!(agents, "| {w} | {worker} | sonnet | {w}.{k} |");
            let _ = writeln!(commits, "feat({m}): {{task {w}.{k} description}}");
        }
    }
    if waves >= 2 {
        let _ = write!(
            out,
            "\n### Wave {waves}: Quality Gates\n\
             > Depends on: Wave {work_waves}. Both tasks run in parallel. Must pass before shipping.\n\n\
             **Task {waves}.1: Production Engineer Review** (type: checkpoint:gate)\n\
             - **Skill**: `production-engineer`\n\
             - **Action**: Run all quality gates: unit tests with coverage, type check\n\
             - **Verify**: All gates pass. Fix any failures, re-run until green.\n\
             - **Done**: 0 test failures, 80%+ coverage on new code, 0 type errors\n\n\
             **Task {waves}.2: Security Audit** (type: checkpoint:gate)\n\
             - **Skill**: `security-auditor`\n\
             - **Action**: Audit all changed and new source files\n\
             - **Verify**: No findings. Fix any violations, re-audit until clean.\n\
             - **Done**: 0 vulnerabilities\n"
        );
        let _ = writeln!(agents, "| {waves} | Prod Engineer | sonnet | {waves}.1 |");
        let _ = writeln!(agents, "| {waves} | Security Auditor | sonnet | {waves}.2 |");
    }
    let _ = write!(
        out,
        "\n## Agent Strategy\n\n\
         | Wave | Agent | Model | Tasks |\n\
         |------|-------|-------|-------|\n\
         {agents}\n\
         ## Commit Strategy\n\n\
         ```\n{commits}```\n\n\
         ## Verification\n\n\
         ### Automated\n\
         ```bash\n{{command}}    # {{expected result}}\n```\n\n\
         ### Manual\n\
         1. {{Smoke test step 1}}\n"
    );
    crate::format(&out)
}
