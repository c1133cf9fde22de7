//! A gate's review by its agent: the prompt (the change, cut and with secrets redacted, what
//! the checks found, the answer's shape and place) and what the answer adds to the verdict.

use super::checks::short;
use super::{ReviewShape, Verdict};
use crate::events::GateCheck;
use crate::prompt::fence_for;
use evidence::review::{Judgement, PRINCIPLES, Review, THREATS};
use std::fmt::Write as _;

/// The part of a reviewer's prompt that shows the change (`git diff --stat`, then the diff) and
/// says where the JSON answer goes; the shape follows.
pub(crate) fn change_and_answer(out: &mut String, stat: &str, diff: &str, answer_path: &str) {
    use std::fmt::Write as _;
    let (stat_fence, diff_fence) = (fence_for(stat), fence_for(diff));
    let _ = writeln!(
        out,
        "## The change\n\n{stat_fence}\n{}\n{stat_fence}\n\n{diff_fence}diff\n{diff}{diff_fence}\n",
        stat.trim_end(),
    );
    let _ = writeln!(
        out,
        "## Your answer\n\nWrite this JSON object, and nothing else, to `{answer_path}` (relative to the current \
         directory; make the folder if it is missing):\n"
    );
}

/// What a gate's reviewing agent is told: the change, what the checks found, and the answer
/// wavecrew expects, where.
pub struct ReviewPrompt<'a> {
    /// The plan's milestone id.
    pub milestone: &'a str,
    /// The plan's title.
    pub title: &'a str,
    /// The gate task.
    pub task: &'a plan::Task,
    /// The skill the change is reviewed by.
    pub skill: &'a str,
    /// The skill's text, when the prompt carries it (agents that take a system prompt get it
    /// there).
    pub skill_text: Option<&'a str>,
    /// The shape of the answer.
    pub shape: ReviewShape,
    /// The review round (1: before any fix).
    pub round: u32,
    /// The run's change is `base..head`.
    pub base: &'a str,
    /// The checked commit.
    pub head: &'a str,
    /// `git diff --stat base head`.
    pub stat: &'a str,
    /// The diff, cut and redacted ([`prompt_excerpt`]).
    pub diff: &'a str,
    /// What the skill's checks found this round.
    pub checked: &'a Verdict,
    /// Where the answer goes, relative to the worktree.
    pub answer_path: &'a str,
}

impl ReviewPrompt<'_> {
    /// The prompt.
    pub fn build(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Review of milestone {} as the {} (gate task {}: {}, round {})\n",
            self.milestone,
            self.skill,
            self.task.id,
            self.task.summary(),
            self.round
        );
        let _ = writeln!(
            out,
            "You review the change the run of \"{}\" made: `{}..{}`. The current directory is a git worktree at `{}`. \
             This is a review: do not change any file; write only your answer, as described below. Whatever else you \
             change is discarded.\n",
            self.title,
            short(self.base),
            short(self.head),
            short(self.head)
        );
        let _ = writeln!(
            out,
            "wavecrew does not take a review's word: for each FAIL, cite the places (file and line at this commit) that \
             show it. A FAIL that cites a line that exists becomes a finding the gate's agent must fix; a FAIL without \
             such a place is reported as unproven; PASS and N/A are shown, never trusted.\n"
        );
        if let Some(action) = &self.task.action {
            let _ = writeln!(out, "## The gate\n\n{}\n", action.value.trim());
        }
        if let Some(text) = self.skill_text {
            let _ = writeln!(out, "## Skill: {}\n\n{}\n", self.skill, text.trim_end());
        }
        let _ = writeln!(out, "## What wavecrew's own checks found\n");
        if self.checked.findings.is_empty() && self.checked.notes.is_empty() && self.checked.unverified.is_empty() {
            let _ = writeln!(out, "Nothing.\n");
        } else {
            for finding in &self.checked.findings {
                let place = finding.location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default();
                let first = finding.message.lines().next().unwrap_or_default();
                let _ = writeln!(out, "- [{}]{place}: {first}", finding.check);
            }
            for why in &self.checked.unverified {
                let _ = writeln!(out, "- not checked: {why}");
            }
            for note in &self.checked.notes {
                let _ = writeln!(out, "- note: {note}");
            }
            let _ = writeln!(out);
        }
        change_and_answer(&mut out, self.stat, self.diff, self.answer_path);
        match self.shape {
            ReviewShape::Security => {
                out.push_str(
                    "```json\n{\"principles\": [{\"principle\": \"P1\", \"verdict\": \"PASS\", \"message\": \"what you checked\", \"evidence\": []},\n\
                     \x20               {\"principle\": \"P2\", \"verdict\": \"FAIL\", \"message\": \"what is wrong\", \"evidence\": [{\"file\": \"src/app.py\", \"line\": 12}]}],\n\
                     \x20\"threats\": [{\"threat\": \"ASI01\", \"verdict\": \"N/A\", \"message\": \"why it does not apply\", \"evidence\": []}]}\n```\n\n",
                );
                let _ = writeln!(out, "One entry for each of the ten principles:\n");
                for (id, name) in PRINCIPLES {
                    let _ = writeln!(out, "- {id} {name}");
                }
                let _ = writeln!(out, "\nand one for each threat of the OWASP Top 10 for Agentic Applications:\n");
                for (id, name) in THREATS {
                    let _ = writeln!(out, "- {id} {name}");
                }
                let _ = writeln!(
                    out,
                    "\n`verdict` is PASS, FAIL or N/A (the principle or threat does not apply to this change)."
                );
            }
            ReviewShape::Findings => {
                out.push_str(
                    "```json\n{\"findings\": [{\"verdict\": \"FAIL\", \"message\": \"what is wrong and what to do\", \"evidence\": [{\"file\": \"src/app.py\", \"line\": 12}]}]}\n```\n\n",
                );
                let _ = writeln!(
                    out,
                    "One entry for each problem the skill's rules find in the change (`verdict` FAIL), and if you like \
                     for what you checked and found right (PASS); `\"findings\": []` when there is nothing to report."
                );
            }
        }
        let _ = writeln!(
            out,
            "`message` says what you found; `evidence` lists places as {{\"file\": path relative to the current directory, \
             \"line\": 1-based line at this commit}}."
        );
        out
    }
}

/// Reads a review's answer in `shape`.
pub fn parse_review(shape: ReviewShape, text: &str) -> Result<Review, evidence::review::AnswerError> {
    match shape {
        ReviewShape::Security => evidence::review::parse_security(text),
        ReviewShape::Findings => evidence::review::parse_findings(text),
    }
}

impl Verdict {
    /// Adds what the agent's review of `skill` showed: a finding (check `review`, at the place)
    /// for each FAIL with evidence that holds, a note for each FAIL without, and a note with the
    /// agent's verdicts counted.
    pub fn add_review(&mut self, skill: &str, judged: Judgement) {
        for finding in judged.findings {
            self.find(GateCheck::Review, finding.message, Some(finding.location));
        }
        self.notes.extend(judged.without_evidence);
        self.notes.push(format!("the agent's {skill} review (its word, not evidence): {}", judged.summary));
    }

    /// Adds a review that gave no usable answer, with `why`: a finding, for the answer is part
    /// of the gate's checks.
    pub fn add_unanswered_review(&mut self, why: &str) {
        self.find(
            GateCheck::Review,
            format!(
                "{}\n(Nothing to fix in the code for this finding: the next round's review writes its answer again, exactly in the shape its prompt gives.)",
                why.trim_end()
            ),
            None,
        );
    }
}
