//! `import`: other tools' plans in wavecrew's plan format.
//!
//! [`import`] turns the text of task-master's `tasks.json` (tagged or legacy), of GSD's phase
//! plans (`*-PLAN.md`) or of spec-kit's `tasks.md` into a plan (see
//! `docs/authoring.md`, "Import", for every mapping). It is pure: text in, the plan's text and
//! the list of what could not be mapped out; the caller reads and writes files and checks the
//! result with [`plan::parse`].
//!
//! ```
//! let json = r#"{"master": {"tasks": [
//!   {"id": 1, "title": "Schema", "description": "Tables", "details": "Write the SQL",
//!    "testStrategy": "`npm test`", "priority": "high", "dependencies": [], "status": "pending"},
//!   {"id": 2, "title": "API", "description": "Routes", "details": "Serve them",
//!    "testStrategy": "`npm test`", "priority": "medium", "dependencies": [1], "status": "pending"}
//! ]}}"#;
//! let imported = import::import(&[import::Source { name: "tasks.json", text: json }], &Default::default()).unwrap();
//! assert_eq!(imported.format, import::Format::TaskMaster);
//! let parsed = plan::parse(&imported.text, "M1");
//! assert!(!parsed.has_errors());
//! assert_eq!(parsed.plan.waves.len(), 2);
//! ```

mod draft;
mod gsd;
mod speckit;
mod taskmaster;

use std::fmt;

/// A format `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// task-master's `tasks.json` (eyaltoledano/claude-task-master), tagged or legacy.
    TaskMaster,
    /// GSD (get-shit-done) phase plans, `*-PLAN.md`: YAML frontmatter and `<tasks>`.
    Gsd,
    /// spec-kit's `tasks.md`: `## Phase N` sections of `- [ ] T001 [P] [US1] ...` tasks.
    SpecKit,
}

impl Format {
    /// Every format, in the order they are tried.
    pub const ALL: &[Format] = &[Format::TaskMaster, Format::Gsd, Format::SpecKit];

    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            Format::TaskMaster => "task-master tasks.json",
            Format::Gsd => "GSD *-PLAN.md",
            Format::SpecKit => "spec-kit tasks.md",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One input file.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The file's name as the user gave it (used in messages and to recognize the format).
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// What the caller may choose.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The plan's milestone id; each format has a default (task-master: the tag, `M1` for
    /// `master`; GSD: the phase; spec-kit: the feature's folder).
    pub milestone: Option<String>,
    /// task-master: the tag to import (default: `master`, or the only tag).
    pub tag: Option<String>,
}

/// A plan made from other tools' files.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The format the files were in.
    pub format: Format,
    /// The plan's milestone id.
    pub milestone: String,
    /// The plan, in wavecrew's format.
    pub text: String,
    /// What had no place in the plan and how it was carried (into a task's notes, the Context)
    /// or why it was left out, one sentence each.
    pub unmapped: Vec<String>,
}

/// Why files could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is in none of the formats.
    #[error("{file}: not a plan `wavecrew import` knows (tried: {})", list(Format::ALL))]
    Unrecognized {
        /// The file.
        file: String,
    },
    /// The file is in a format but cannot be read as it.
    #[error("{file}:{line}:{column}: malformed {format}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// The format it looked like.
        format: Format,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Tasks wait for each other in a circle.
    #[error("{file}: tasks depend on each other in a cycle: {}", ids.join(" → "))]
    Cycle {
        /// The file.
        file: String,
        /// The ids along the cycle, the first repeated at the end.
        ids: Vec<String>,
    },
    /// The file is well formed but its content cannot make a plan.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

impl ImportError {
    /// The diagnostic code `check` uses for the same problem in a plan, if there is one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ImportError::Cycle { .. } => Some("dependency-cycle"),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ImportError::Unrecognized { .. } => "pass task-master's `.taskmaster/tasks/tasks.json`, GSD's \
                                                 `.planning/phases/*/*-PLAN.md` or spec-kit's `specs/*/tasks.md`"
                .to_owned(),
            ImportError::Malformed { .. } => "fix the file at that place, then import it again".to_owned(),
            ImportError::Cycle { ids, .. } => match ids.as_slice() {
                [task, dependency, ..] => format!(
                    "remove one of these dependencies (e.g. `task-master remove-dependency --id={task} \
                     --depends-on={dependency}`)"
                ),
                _ => "remove one of these dependencies".to_owned(),
            },
            ImportError::Invalid { hint, .. } => hint.clone(),
        }
    }
}

fn list(formats: &[Format]) -> String {
    formats.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
}

/// Turns `sources` into one plan. All sources must be in the same format.
pub fn import(sources: &[Source<'_>], options: &Options) -> Result<Imported, ImportError> {
    let Some(first) = sources.first() else {
        return Err(ImportError::Invalid {
            file: String::new(),
            message: "no file to import".into(),
            hint: "name a file".into(),
        });
    };
    match detect(first)? {
        Format::TaskMaster => {
            if let Some(extra) = sources.get(1) {
                return Err(ImportError::Invalid {
                    file: extra.name.to_owned(),
                    message: "task-master plans are imported one tasks.json at a time".into(),
                    hint: "import each tasks.json (or each tag, with --tag) into its own plan".into(),
                });
            }
            taskmaster::import(first, options)
        }
        Format::Gsd => {
            for other in &sources[1..] {
                if detect(other)? != Format::Gsd {
                    return Err(ImportError::Invalid {
                        file: other.name.to_owned(),
                        message: format!("not a GSD plan, unlike `{}`", first.name),
                        hint: "import the plans of one tool at a time".into(),
                    });
                }
            }
            gsd::import(sources, options)
        }
        Format::SpecKit => {
            if let Some(extra) = sources.get(1) {
                return Err(ImportError::Invalid {
                    file: extra.name.to_owned(),
                    message: "spec-kit plans are imported one tasks.md at a time".into(),
                    hint: "import each feature's tasks.md into its own plan".into(),
                });
            }
            speckit::import(first, options)
        }
    }
}

/// Which format `source` is in, from its name and first bytes.
fn detect(source: &Source<'_>) -> Result<Format, ImportError> {
    let head = source.text.trim_start_matches('\u{feff}').trim_start();
    if source.name.ends_with(".json") || head.starts_with('{') || head.starts_with('[') {
        return Ok(Format::TaskMaster);
    }
    if head.starts_with("---") && (head.contains("<tasks>") || source.name.ends_with("PLAN.md")) {
        return Ok(Format::Gsd);
    }
    if speckit::looks_like(head) {
        return Ok(Format::SpecKit);
    }
    Err(ImportError::Unrecognized { file: source.name.to_owned() })
}

/// A milestone id: one word.
fn check_milestone(file: &str, milestone: String) -> Result<String, ImportError> {
    if milestone.is_empty() || milestone.contains(char::is_whitespace) {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            message: format!("milestone id `{milestone}` must be one word"),
            hint: "pass --milestone, e.g. `--milestone M4`".into(),
        });
    }
    Ok(milestone)
}
