//! The typed model of a plan, as `wavecrew show --json` prints it.
//!
//! Text values are cleaned (line endings normalized to `\n`, mojibake repaired) but otherwise
//! kept as written, Markdown included. Every element keeps its [`Span`]; plain values are
//! [`Spanned`], which serializes as the bare value.

use crate::span::{Span, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A parsed implementation plan.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Plan {
    /// The milestone id from the title (`M3`), or the file stem when the title is missing.
    pub milestone: String,
    /// The title after `Implementation Plan:`.
    pub title: String,
    /// The `## Context` section, as Markdown.
    pub context: String,
    /// The `## must_haves` section.
    pub must_haves: MustHaves,
    /// Waves in document order.
    pub waves: Vec<Wave>,
    /// Every task in document order; `waves[].tasks` holds their ids.
    pub tasks: Vec<Task>,
    /// Rows of the `## Agent Strategy` table.
    pub agents: Vec<AgentRow>,
    /// Lines of the `## Commit Strategy` block.
    pub commits: Vec<CommitLine>,
    /// The `## Verification` section.
    pub verification: Verification,
    /// Content wavecrew does not interpret (unknown sections, stray paragraphs), kept as written.
    pub extra: Vec<Block>,
}

/// The three lists of `## must_haves`.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct MustHaves {
    /// Observable outcomes.
    pub truths: Vec<Spanned<String>>,
    /// Files the milestone must produce.
    pub artifacts: Vec<Artifact>,
    /// Connections where breakage cascades.
    pub key_links: Vec<KeyLink>,
}

/// A file that the milestone must produce.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Artifact {
    /// The path in backticks, if the item has one.
    pub path: Option<String>,
    /// The whole item as written.
    pub text: String,
    /// Where the item is.
    pub span: Span,
}

/// A connection where breakage cascades.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct KeyLink {
    /// The item as written.
    pub text: String,
    /// Backticked paths or component names in it.
    pub references: Vec<String>,
    /// Where the item is.
    pub span: Span,
}

/// A `### Wave <n>: <name>` section.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Wave {
    /// The wave's number.
    pub number: u32,
    /// The name after the number, if any.
    pub name: Option<String>,
    /// Numbers of the waves that must finish first.
    pub depends_on: Vec<Spanned<u32>>,
    /// Whether `depends_on` was inferred because the wave did not say (`implicit-dependency`).
    pub implicit_dependency: bool,
    /// False when the wave says its tasks run sequentially.
    pub parallel: bool,
    /// `Must pass before shipping.`: the run cannot finish green unless this wave passes.
    pub ship_gate: bool,
    /// Sentences of the wave's clauses that are not instructions.
    pub notes: Vec<Spanned<String>>,
    /// Ids of the wave's tasks in document order.
    pub tasks: Vec<TaskId>,
    /// The heading.
    pub span: Span,
}

/// A task id `<wave>.<index>`, e.g. `2.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[schemars(with = "String")]
pub struct TaskId {
    /// The wave number the id names.
    pub wave: u32,
    /// The task's number within its wave.
    pub index: u32,
}

impl TaskId {
    /// Parses `2.1` (surrounding whitespace and a leading `Task ` are allowed).
    pub fn parse(text: &str) -> Option<TaskId> {
        let text = text.trim();
        let text = strip_prefix_ignore_case(text, "task").map_or(text, str::trim_start);
        let (wave, index) = text.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(wave) || !digits(index) {
            return None;
        }
        Some(TaskId { wave: wave.parse().ok()?, index: index.parse().ok()? })
    }
}

pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wave, self.index)
    }
}

impl Serialize for TaskId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What kind of task it is, which decides how it runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[schemars(with = "String")]
pub enum TaskType {
    /// An agent implements it; wavecrew verifies and commits it.
    Auto,
    /// A person checks the result before dependents go on.
    HumanVerify,
    /// A quality gate run with a Skill until it is green.
    Gate,
    /// A person picks one of the options.
    Decision,
    /// A person does something by hand.
    HumanAction,
    /// A type wavecrew does not know (`unknown-task-type`), as written.
    Unknown(String),
}

impl TaskType {
    /// Parses a type as written after `type:` (case and spaces around `:` do not matter).
    pub fn parse(text: &str) -> TaskType {
        let normalized: String = text.split(':').map(str::trim).collect::<Vec<_>>().join(":").to_ascii_lowercase();
        match normalized.as_str() {
            "auto" => TaskType::Auto,
            "checkpoint:human-verify" => TaskType::HumanVerify,
            "checkpoint:gate" => TaskType::Gate,
            "checkpoint:decision" => TaskType::Decision,
            "checkpoint:human-action" => TaskType::HumanAction,
            _ => TaskType::Unknown(text.trim().to_owned()),
        }
    }

    /// The canonical spelling, e.g. `checkpoint:gate`.
    pub fn as_str(&self) -> &str {
        match self {
            TaskType::Auto => "auto",
            TaskType::HumanVerify => "checkpoint:human-verify",
            TaskType::Gate => "checkpoint:gate",
            TaskType::Decision => "checkpoint:decision",
            TaskType::HumanAction => "checkpoint:human-action",
            TaskType::Unknown(text) => text,
        }
    }

    /// Whether a person takes part (every `checkpoint:*` type but gates).
    pub fn is_human(&self) -> bool {
        matches!(self, TaskType::HumanVerify | TaskType::Decision | TaskType::HumanAction)
    }
}

impl fmt::Display for TaskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Reads what [`TaskType::as_str`] writes (wavecrew's events hold it). Any other text is
/// [`TaskType::Unknown`], exactly as written, so that it is written back unchanged.
impl<'de> Deserialize<'de> for TaskType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match TaskType::parse(&text) {
            known if known.as_str() == text => known,
            _ => TaskType::Unknown(text),
        })
    }
}

/// A task: `**Task <w>.<k>: <title>** (type: <type>)` and its field list.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Task {
    /// The id as written.
    pub id: TaskId,
    /// The number of the wave the task is written in.
    pub wave: u32,
    /// The title after the id, if any.
    pub title: Option<String>,
    /// The type; `auto` when the task does not say.
    #[serde(rename = "type")]
    pub kind: TaskType,
    /// The model it runs on: its own Agent Strategy row's, else its agent's (see
    /// [`crate::Schedule::model_of`]); `None` when the plan names none for it.
    pub model: Option<String>,
    /// **Files** as written, annotations such as `(new)` included.
    pub files_text: Option<Spanned<String>>,
    /// Backticked paths and globs of **Files** (a glob has `*` or `?`; a directory ends in `/`).
    pub files: Vec<Spanned<String>>,
    /// Parts of **Files** that are prose, not paths (e.g. `UI components`).
    pub files_prose: Vec<Spanned<String>>,
    /// **Action**, as Markdown.
    pub action: Option<Spanned<String>>,
    /// **Verify**, as Markdown: the criterion for a person or an agent.
    pub verify: Option<Spanned<String>>,
    /// The backticked commands of **Verify** that wavecrew runs, in order.
    pub verify_commands: Vec<Spanned<String>>,
    /// Sentences of a human-verify task's **Verify** that tell a person to run or open
    /// something ("Run `npm run dev` and open `/room/1`"): shown to the person, not run. Their
    /// backticked spans are not in `verify_commands`.
    pub verify_steps: Vec<Spanned<String>>,
    /// **Done**, as Markdown.
    pub done: Option<Spanned<String>>,
    /// Skill names of **Skill**.
    pub skills: Vec<Spanned<String>>,
    /// **Attempts**, when given and valid: how many attempts, and whether at once.
    pub attempts: Option<Spanned<Attempts>>,
    /// Fields wavecrew does not know, kept in order.
    pub other_fields: Vec<Field>,
    /// Text after the header and list items that are not fields.
    pub notes: Vec<Spanned<String>>,
    /// The header paragraph.
    pub span: Span,
}

impl Task {
    /// The title, else the first clause of Action, else `Task <id>`.
    pub fn summary(&self) -> String {
        if let Some(title) = &self.title {
            return title.clone();
        }
        if let Some(action) = &self.action {
            // The first clause: up to a `.`, `;` or `:` that ends a word (not the dot of `1.1`).
            let first_line = action.lines().next().unwrap_or_default();
            let end = first_line
                .char_indices()
                .find(|&(i, c)| {
                    matches!(c, '.' | ';' | ':') && first_line[i + 1..].chars().next().is_none_or(char::is_whitespace)
                })
                .map_or(first_line.len(), |(i, _)| i);
            let clause = first_line[..end].trim();
            if !clause.is_empty() {
                return clause.to_owned();
            }
        }
        format!("Task {}", self.id)
    }
}

/// **Attempts**: `3` (up to three attempts, one after another) or `3 parallel` (best of three
/// attempts at once, the winner chosen by evidence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Attempts {
    /// How many attempts, from 1 to [`Attempts::MAX`].
    pub count: u8,
    /// Whether they run at the same time (best of N) rather than one after another.
    pub parallel: bool,
}

impl Attempts {
    /// The most attempts a task may ask for.
    pub const MAX: u8 = 8;

    /// Parses `3`, `3 parallel` or `3 sequential` (case-insensitive, a trailing `.` allowed).
    /// `None` when the text has another shape or the count is not 1 to [`Attempts::MAX`].
    pub fn parse(text: &str) -> Option<Attempts> {
        let text = text.trim().trim_end_matches('.').trim_matches('`');
        let mut words = text.split_whitespace();
        let count: u8 = words.next()?.parse().ok().filter(|n| (1..=Attempts::MAX).contains(n))?;
        let parallel = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("sequential" | "sequentially") => false,
            Some("parallel") => true,
            Some(_) => return None,
        };
        words.next().is_none().then_some(Attempts { count, parallel })
    }
}

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.count)?;
        if self.parallel { f.write_str(" parallel") } else { Ok(()) }
    }
}

/// A task field wavecrew does not know.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Field {
    /// The field name between `**`.
    pub name: String,
    /// The value, as Markdown.
    pub value: String,
    /// The whole list item.
    pub span: Span,
}

/// A row of the Agent Strategy table.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AgentRow {
    /// The agent's name; tasks of one agent run one after another.
    pub name: String,
    /// A model alias (`sonnet`) or a concrete model id, if given.
    pub model: Option<String>,
    /// The wave number of the row, if given.
    pub wave: Option<u32>,
    /// Task ids in the order the agent runs them.
    pub tasks: Vec<Spanned<TaskId>>,
    /// The parenthetical note of the Tasks cell, e.g. `fast, sequential`.
    pub note: Option<String>,
    /// Cells of columns wavecrew does not know, as `(header, value)`.
    pub other_columns: Vec<(String, String)>,
    /// The row.
    pub span: Span,
}

/// A line of the Commit Strategy block.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CommitLine {
    /// The task the line names, if any.
    pub task: Option<Spanned<TaskId>>,
    /// The line as written; `{task N description}` and `M{N}` are filled at commit time.
    pub message: String,
    /// The line.
    pub span: Span,
}

/// The `## Verification` section.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Verification {
    /// Commands of `### Automated`.
    pub automated: Vec<AutomatedCheck>,
    /// Steps of `### Manual`, shown to a person as a checklist.
    pub manual: Vec<Spanned<String>>,
}

/// A command of `### Automated`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AutomatedCheck {
    /// The shell command.
    pub command: String,
    /// The trailing `# comment`: what the command is expected to show.
    pub expectation: Option<String>,
    /// The line(s).
    pub span: Span,
}

/// Content that wavecrew keeps but does not interpret.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Block {
    /// Where it is, e.g. `Waves / Wave 2` or `Risks`.
    pub section: String,
    /// The text as written.
    pub text: String,
    /// Where the text is.
    pub span: Span,
}

impl Plan {
    /// The task with `id` (the first one, if the id is duplicated).
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }

    /// The wave numbered `number` (the first one, if the number is duplicated).
    pub fn wave(&self, number: u32) -> Option<&Wave> {
        self.waves.iter().find(|wave| wave.number == number)
    }

    /// The Agent Strategy row that runs `id`, if any.
    pub fn agent_of(&self, id: TaskId) -> Option<&AgentRow> {
        self.agents.iter().find(|row| row.tasks.iter().any(|task| task.value == id))
    }

    /// The Commit Strategy line of `id`, if any.
    pub fn commit_of(&self, id: TaskId) -> Option<&CommitLine> {
        self.commits.iter().find(|line| line.task.as_ref().is_some_and(|task| task.value == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_parse_with_or_without_prefix() {
        assert_eq!(TaskId::parse(" 2.10 "), Some(TaskId { wave: 2, index: 10 }));
        assert_eq!(TaskId::parse("Task 1.1"), Some(TaskId { wave: 1, index: 1 }));
        for bad in ["1", "1.", ".1", "a.b", "1.1.1", "99999999999.1", ""] {
            assert_eq!(TaskId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_summary_is_the_title_or_the_first_clause_of_action() {
        let mut task = crate::parse("# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n\n**Task 1.1** (type: auto)\n- **Action**: Bump to 1.2.3: then more. And more\n", "x").plan.tasks.remove(0);
        assert_eq!(task.summary(), "Bump to 1.2.3");
        task.title = Some("Titled".into());
        assert_eq!(task.summary(), "Titled");
    }

    #[test]
    fn attempts_are_a_count_from_one_to_eight_and_maybe_parallel() {
        assert_eq!(Attempts::parse("3 parallel"), Some(Attempts { count: 3, parallel: true }));
        assert_eq!(Attempts::parse(" 2 Parallel. "), Some(Attempts { count: 2, parallel: true }));
        assert_eq!(Attempts::parse("8"), Some(Attempts { count: 8, parallel: false }));
        assert_eq!(Attempts::parse("4 sequential"), Some(Attempts { count: 4, parallel: false }));
        for bad in ["0 parallel", "9 parallel", "-1", "three", "3 parallel please", "", "parallel", "300"] {
            assert_eq!(Attempts::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Attempts { count: 3, parallel: true }.to_string(), "3 parallel");
    }

    #[test]
    fn task_types_are_case_and_space_insensitive() {
        assert_eq!(TaskType::parse("Checkpoint : Gate"), TaskType::Gate);
        assert_eq!(TaskType::parse("sometimes"), TaskType::Unknown("sometimes".into()));
    }

    #[test]
    fn task_types_read_back_from_json_as_written() {
        for kind in [TaskType::Auto, TaskType::HumanVerify, TaskType::Gate, TaskType::Decision, TaskType::HumanAction] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<TaskType>(&json).unwrap(), kind, "{json}");
        }
        // Only the canonical spelling is a known type: anything else is kept verbatim, so that
        // it is written back unchanged.
        for other in [r#""Checkpoint:Gate""#, r#""checkpoint:vote""#, r#"" auto""#] {
            let read: TaskType = serde_json::from_str(other).unwrap();
            assert!(matches!(read, TaskType::Unknown(_)), "{other}");
            assert_eq!(serde_json::to_string(&read).unwrap(), other);
        }
    }
}
