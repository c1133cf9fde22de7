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
    // A skill name is a single word: it must not reach outside the skills folders.
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return None;
    }
    let candidates = [
        root.join(".claude/skills").join(name).join("SKILL.md"),
        root.join(".wavecrew/skills").join(format!("{name}.md")),
    ];
    candidates
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .or_else(|| BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, text)| (*text).to_owned()))
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
    }
}
