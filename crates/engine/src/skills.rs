//! Skill texts: what a task's **Skill** names tells its agent. Found in the repository's
//! `.claude/skills/<name>/SKILL.md` (the convention Claude Code users already have), then
//! `.wavecrew/skills/<name>.md`, then the built-in ones.

use std::path::Path;

/// The built-in skills, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("production-engineer", include_str!("../skills/production-engineer.md")),
    ("security-auditor", include_str!("../skills/security-auditor.md")),
];

/// The text of skill `name` for the repository at `root`, if there is one.
pub fn text(root: &Path, name: &str) -> Option<String> {
    from_repository(root, name).or_else(|| built_in(name).map(str::to_owned))
}

/// The text the repository at `root` gives skill `name` (`.claude/skills/<name>/SKILL.md`, then
/// `.wavecrew/skills/<name>.md`), if it gives one.
pub fn from_repository(root: &Path, name: &str) -> Option<String> {
    // A skill name is a single word: it must not reach outside the skills folders.
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return None;
    }
    let candidates = [
        root.join(".claude/skills").join(name).join("SKILL.md"),
        root.join(".wavecrew/skills").join(format!("{name}.md")),
    ];
    candidates.iter().find_map(|path| std::fs::read_to_string(path).ok())
}

/// The built-in text of skill `name`, if wavecrew has one.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// The texts of a task's skills, `(name, text)`; unknown skills are left out.
pub fn for_task(root: &Path, task: &plan::Task) -> Vec<(String, String)> {
    task.skills.iter().filter_map(|skill| text(root, &skill.value).map(|t| (skill.value.clone(), t))).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn repository_skills_come_before_built_in_ones_and_names_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::text(dir.path(), "security-auditor").unwrap().contains("security auditor"));
        std::fs::create_dir_all(dir.path().join(".claude/skills/security-auditor")).unwrap();
        std::fs::write(dir.path().join(".claude/skills/security-auditor/SKILL.md"), "ours").unwrap();
        assert_eq!(super::text(dir.path(), "security-auditor").as_deref(), Some("ours"));
        assert_eq!(super::text(dir.path(), "../../etc/passwd"), None);
        assert_eq!(super::text(dir.path(), "unknown"), None);
        assert_eq!(super::from_repository(dir.path(), "production-engineer"), None, "built in, not the repository's");
        std::fs::create_dir_all(dir.path().join(".wavecrew/skills")).unwrap();
        std::fs::write(dir.path().join(".wavecrew/skills/house-style.md"), "tabs").unwrap();
        assert_eq!(super::from_repository(dir.path(), "house-style").as_deref(), Some("tabs"));
        assert_eq!(super::built_in("house-style"), None);
    }

    #[test]
    fn the_security_auditor_names_every_principle_and_threat_a_review_answers() {
        let text = super::built_in("security-auditor").unwrap();
        for (id, name) in evidence::review::PRINCIPLES.iter().chain(&evidence::review::THREATS) {
            assert!(text.contains(&format!("{id} {name}")), "{id} {name} is not in the skill's text");
        }
    }
}
