//! The closed sets of names that events carry: must_have verdicts and kinds, the run's verdict,
//! checkpoint answers, agent activity kinds and gate checks. Each is an enum whose wire name
//! is written once, in its declaration: [`as_str`](MustHaveStatus::as_str), `Display` and serde
//! all read it from there, so the JSON is the text the journal always held.
//!
//! A name this version does not know reads as the enum's `Unknown`, kept as written: the
//! journal skips an event it cannot read, so a strict enum would lose whole events of a
//! journal written by a newer wavecrew (or edited by hand), and the text is written back as it
//! was.

/// Declares a vocabulary enum: the variants with their wire names, an `Unknown(String)` for
/// any other name, `as_str`, `parse`, `Display`, and serde as the plain string.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$doc:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$doc])* $variant, )+
            /// A name this version does not know (from a newer wavecrew, or written by hand),
            /// as written.
            Unknown(String),
        }

        impl $name {
            /// The name as the journal and the output spell it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Unknown(text) => text,
                }
            }

            /// The value `text` names: `Unknown` when it is none of the known names.
            pub fn parse(text: &str) -> $name {
                match text {
                    $( $text => $name::$variant, )+
                    _ => $name::Unknown(text.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::parse(&text))
            }
        }
    };
}

vocabulary! {
    /// What checking a must_have on the finished run branch found.
    pub enum MustHaveStatus {
        /// It holds: the artifact is there, substantive and used; the key link is wired; the
        /// verifier proved the truth with evidence wavecrew checked.
        Verified = "VERIFIED",
        /// The artifact is there but is a placeholder (empty, a `TODO`, a stub body).
        Stub = "STUB",
        /// The artifact is substantive, but nothing uses it.
        Orphaned = "ORPHANED",
        /// The artifact is not on the run branch.
        Missing = "MISSING",
        /// The key link does not hold: a file it names is missing, or does not refer to the
        /// other.
        NotWired = "NOT_WIRED",
        /// wavecrew cannot decide it: a person checks it (the Manual checklist).
        Manual = "MANUAL",
    }
}

vocabulary! {
    /// Which list of the plan's must_haves an item comes from.
    pub enum MustHaveKind {
        /// A file or folder that must exist and be used.
        Artifact = "artifact",
        /// A link between files (an import, a call) that must hold.
        KeyLink = "key_link",
        /// A sentence about behaviour, proved by a verifier or checked by a person.
        Truth = "truth",
    }
}

vocabulary! {
    /// The verdict on the finished run branch ([`crate::events::Event::RunVerified`]).
    pub enum RunVerdict {
        /// Every must_have and Automated command that could be checked holds, and something
        /// checkable proved the run.
        Passed = "passed",
        /// A must_have does not hold, or an Automated command failed.
        Failed = "failed",
        /// Nothing failed, but nothing checkable proved it either, or an Automated expectation
        /// could not be checked: a person decides.
        Unverified = "unverified",
    }
}

vocabulary! {
    /// How a checkpoint was answered, as events, the journal's answers table and the report
    /// hold it.
    pub enum AnswerKind {
        /// Let it go on (a human-verify change lands; a human action is done).
        Approved = "approved",
        /// A human-verify change goes back to its agent, with the reason.
        Rejected = "rejected",
        /// One of a decision's options was picked (the detail names it).
        Decided = "decided",
    }
}

vocabulary! {
    /// What an agent did, read from its machine-readable output
    /// ([`crate::events::Event::AgentActivity`]).
    pub enum ActivityKind {
        /// It said something (the detail).
        Text = "text",
        /// It called a tool (the detail: `Write hello.txt`, `shell cargo test`).
        Tool = "tool",
        /// It reported tokens and cost.
        Usage = "usage",
        /// It reported an error (an API error, a rate limit).
        Error = "error",
    }
}

vocabulary! {
    /// The check of a quality gate that found something ([`crate::events::GateFinding`]).
    pub enum GateCheck {
        /// A command of the gate failed.
        Command = "command",
        /// Tests failed.
        Tests = "tests",
        /// Coverage is below the gate's threshold.
        Coverage = "coverage",
        /// The type checker reported errors.
        TypeCheck = "type-check",
        /// A secret is in the change.
        Secret = "secret",
        /// A pattern the gate forbids is in the change.
        Pattern = "pattern",
        /// A dependency audit reported vulnerabilities.
        Dependency = "dependency",
        /// The gate agent's review found it (at a place that exists).
        Review = "review",
    }
}

vocabulary! {
    /// How long the lanes of a limited agent hold (`agent_limited`'s `hold`).
    pub enum LimitHold {
        /// Until the reset time its CLI gave.
        Reset = "reset",
        /// A backoff (1, 2, 4 … minutes, at most 15): its CLI gave no reset time that could be
        /// used (none, one wavecrew could not read, or one already past).
        Backoff = "backoff",
        /// Until `[run] max_hold`, short of a reset further away; then the task fails as
        /// limited.
        Capped = "capped",
        /// Not at all (`--on-limit fail`): the task fails as limited.
        Fail = "fail",
    }
}

vocabulary! {
    /// How a candidate of a best-of task ended ([`crate::events::Event::CandidateFinished`]).
    pub enum CandidateVerdict {
        /// Its agent finished and every Verify command passed: it may be chosen.
        Passed = "passed",
        /// Its agent or a Verify command failed: it is never chosen.
        Failed = "failed",
        /// A Verify command did not exit in time: it is never chosen.
        VerifyTimedOut = "verify_timed_out",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_this_version_does_not_know_reads_and_is_written_back_as_it_was() {
        let read: MustHaveStatus = serde_json::from_str(r#""PARTIAL""#).unwrap();
        assert_eq!(read, MustHaveStatus::Unknown("PARTIAL".into()));
        assert_eq!(serde_json::to_string(&read).unwrap(), r#""PARTIAL""#);
        assert_eq!(GateCheck::parse("type-check"), GateCheck::TypeCheck);
        assert_eq!(AnswerKind::parse("Approved"), AnswerKind::Unknown("Approved".into()), "names are exact");
    }

    #[test]
    fn a_name_that_is_not_a_string_is_an_error_not_a_guess() {
        assert!(serde_json::from_str::<RunVerdict>("1").is_err());
    }
}

vocabulary! {
    /// Why a checkpoint's preview stopped (`preview_stopped`).
    pub enum PreviewEnd {
        /// The checkpoint was answered (or its run ended): the change it showed is decided.
        Answered = "answered",
        /// A person stopped it, or the dashboard that ran it stopped.
        Stopped = "stopped",
        /// It never got ready (its worktree, setup or command failed, or it did not listen in
        /// time), or its command exited on its own.
        Failed = "failed",
    }
}

vocabulary! {
    /// What a sandboxed process was refused (`sandbox_denied`).
    pub enum SandboxOperation {
        /// Writing, making or removing a file or folder outside its writable folders.
        Write = "write",
        /// A TCP connect to a port `[sandbox] connect` does not list.
        Connect = "connect",
    }
}
