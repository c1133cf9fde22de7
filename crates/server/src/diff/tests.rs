use super::*;
use proptest::prelude::*;
use std::process::Command;

#[test]
fn the_file_list_reads_statuses_renames_counts_and_binary_files() {
    let output = b":100644 100644 aaa bbb M\0src/main.rs\0:000000 100644 000 ccc A\0new file.txt\0\
:100644 000000 ddd 000 D\0gone.rs\0:100644 100644 eee fff R087\0old/name.rs\0new/name.rs\0\
:000000 100644 000 ggg A\0logo.png\0\
3\t1\tsrc/main.rs\x002\t0\tnew file.txt\x000\t7\tgone.rs\x001\t1\t\0old/name.rs\0new/name.rs\0-\t-\tlogo.png\0";
    let files = parse_file_list(output).unwrap();
    let entry = |path: &str, old: Option<&str>, status, binary, added, deleted| FileEntry {
        path: path.into(),
        old_path: old.map(Into::into),
        status,
        binary,
        added,
        deleted,
    };
    assert_eq!(
        files,
        vec![
            entry("src/main.rs", None, FileStatus::Modified, false, 3, 1),
            entry("new file.txt", None, FileStatus::Added, false, 2, 0),
            entry("gone.rs", None, FileStatus::Deleted, false, 0, 7),
            entry("new/name.rs", Some("old/name.rs"), FileStatus::Renamed, false, 1, 1),
            entry("logo.png", None, FileStatus::Added, true, 0, 0),
        ]
    );
}

#[test]
fn a_file_list_git_would_not_print_is_an_error_not_a_panic() {
    assert!(parse_file_list(b":100644 100644 a b Z\0x\0").is_err());
    assert!(parse_file_list(b":100644 100644 a b M\0").is_err());
    assert!(parse_file_list(b":100644 100644 a b M\0x\0one\ttwo\tx\0").is_err());
    assert_eq!(parse_file_list(b"").unwrap(), vec![]);
}

const PATCH: &str = "diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -10,4 +10,5 @@ fn main() {
 keep
--- a line that looks like a header
+diff --git a/not b/a header
+added
 end
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/logo.png differ
diff --git a/short.txt b/short.txt
--- a/short.txt
+++ b/short.txt
@@ -1 +1 @@
-old
\\ No newline at end of file
+new
";

#[test]
fn hunks_carry_old_and_new_line_numbers_and_lines_that_read_like_headers_stay_lines() {
    let files = parse_patch(PATCH.as_bytes(), 100);
    assert_eq!(files.len(), 3);
    let hunk = &files[0].hunks[0];
    assert_eq!((hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines), (10, 4, 10, 5));
    assert_eq!(hunk.section, "fn main() {");
    let numbered: Vec<_> = hunk.lines.iter().map(|l| (l.kind, l.old, l.new, l.text.as_str())).collect();
    assert_eq!(
        numbered,
        vec![
            (LineKind::Context, Some(10), Some(10), "keep"),
            (LineKind::Deleted, Some(11), None, "-- a line that looks like a header"),
            (LineKind::Added, None, Some(11), "diff --git a/not b/a header"),
            (LineKind::Added, None, Some(12), "added"),
            (LineKind::Context, Some(12), Some(13), "end"),
        ]
    );
    assert!(files[1].binary && files[1].hunks.is_empty());
    let short = &files[2].hunks[0].lines;
    assert_eq!((short[0].kind, short[0].no_newline), (LineKind::Deleted, true));
    assert_eq!((short[1].kind, short[1].no_newline, short[1].new), (LineKind::Added, false, Some(1)));
}

#[test]
fn a_file_keeps_its_first_lines_and_counts_them_all() {
    let files = parse_patch(PATCH.as_bytes(), 2);
    assert_eq!((files[0].lines_shown, files[0].lines_total), (2, 5));
    assert_eq!(files[0].hunks[0].lines.len(), 2);
    assert_eq!((files[2].lines_shown, files[2].lines_total), (2, 2));
}

proptest! {
    #[test]
    fn the_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), limit in 0usize..50) {
        let _ = parse_file_list(&bytes);
        let _ = parse_patch(&bytes, limit);
    }

    #[test]
    fn patch_like_text_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("diff --git a/x b/x".to_owned()),
            "@@ -[0-9]{1,3}(,[0-9]{1,2})? \\+[0-9]{1,3}(,[0-9]{1,2})? @@.{0,5}",
            "[ +\\-\\\\].{0,10}",
            Just("Binary files a/x and b/x differ".to_owned()),
            ".{0,12}",
        ], 0..80), limit in 0usize..20) {
        let text = lines.join("\n");
        for file in parse_patch(text.as_bytes(), limit) {
            prop_assert!(file.lines_shown <= limit);
            prop_assert!(file.lines_shown <= file.lines_total);
        }
    }
}

/// A repository with one commit that adds, changes, deletes, renames and adds a binary file.
fn repository() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().to_path_buf();
    let work = work.as_path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(work)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    std::fs::write(work.join("keep.rs"), "fn a() {}\nfn b() {}\n").unwrap();
    std::fs::write(work.join("gone.txt"), "bye\n").unwrap();
    let long: String = (0..60).map(|i| format!("line number {i} of a file that moves\n")).collect();
    std::fs::write(work.join("old.txt"), &long).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "first"]);
    std::fs::write(work.join("keep.rs"), "fn a() {}\nfn c() {}\n").unwrap();
    std::fs::remove_file(work.join("gone.txt")).unwrap();
    std::fs::rename(work.join("old.txt"), work.join("new.txt")).unwrap();
    std::fs::write(work.join("logo.png"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    let big: String = (0..1000).map(|i| format!("{i}\n")).collect();
    std::fs::write(work.join("big.txt"), big).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "second"]);
    let commit = git(&["rev-parse", "HEAD"]);
    let git_dir = work.join(".git");
    (dir, git_dir, commit)
}

#[test]
fn a_commit_s_diff_is_read_from_git_paged_and_cut() {
    let (_dir, git_dir, commit) = repository();
    let page = read(&git_dir, &commit, &Want { page: 0, file: None, lines: 10 }).unwrap();
    assert_eq!(page.commit, commit);
    assert!(page.base.is_some());
    let summary: Vec<_> =
        page.files.iter().map(|f| (f.entry.path.as_str(), f.entry.status, f.entry.binary, f.truncated)).collect();
    assert_eq!(
        summary,
        vec![
            ("big.txt", FileStatus::Added, false, true),
            ("gone.txt", FileStatus::Deleted, false, false),
            ("keep.rs", FileStatus::Modified, false, false),
            ("logo.png", FileStatus::Added, true, false),
            ("new.txt", FileStatus::Renamed, false, false),
        ]
    );
    let big = &page.files[0];
    assert_eq!((big.lines_shown, big.lines_total), (10, 1000));
    assert_eq!(page.files[4].entry.old_path.as_deref(), Some("old.txt"));
    let keep = &page.files[2].hunks[0].lines;
    assert!(keep.iter().any(|l| l.kind == LineKind::Added && l.text == "fn c() {}" && l.new == Some(2)));

    // "Show more": one file, more lines.
    let more = read(&git_dir, &commit, &Want { page: 0, file: Some("big.txt".into()), lines: 5000 }).unwrap();
    assert_eq!(more.files.len(), 1);
    assert_eq!((more.files[0].lines_shown, more.files[0].truncated), (1000, false));

    assert!(matches!(
        read(&git_dir, &commit, &Want { page: 0, file: Some("nope".into()), lines: 5 }),
        Err(DiffError::NoFile(_))
    ));
    assert!(matches!(
        read(&git_dir, "--output=x", &Want { page: 0, file: None, lines: 5 }),
        Err(DiffError::NoCommit(_))
    ));
    assert!(matches!(read(&git_dir, "abcdef12", &Want { page: 0, file: None, lines: 5 }), Err(DiffError::NoCommit(_))));
}

#[test]
fn a_20_mb_file_is_cut_to_the_lines_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(work)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    // 400,000 lines of 50 bytes: 20 MB, more than the patch a request reads.
    let line = format!("{}\n", "x".repeat(49));
    std::fs::write(work.join("huge.txt"), line.repeat(400_000)).unwrap();
    std::fs::write(work.join("small.rs"), "fn main() {}\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "huge"]);
    let commit = git(&["rev-parse", "HEAD"]);
    let page = read(&work.join(".git"), &commit, &Want { page: 0, file: None, lines: FILE_LINES }).unwrap();
    let huge = &page.files[0];
    assert_eq!(huge.entry.path, "huge.txt");
    assert_eq!((huge.lines_shown, huge.lines_total, huge.truncated), (FILE_LINES, 400_000, true));
    // The byte cap stopped the read inside the huge file: the next file is listed, uncut-able.
    let small = &page.files[1];
    assert_eq!((small.entry.path.as_str(), small.entry.added), ("small.rs", 1));
    assert!(small.truncated && small.hunks.is_empty(), "{small:?}");
    let alone = read(&work.join(".git"), &commit, &Want { page: 0, file: Some("small.rs".into()), lines: 10 }).unwrap();
    assert_eq!(alone.files[0].hunks[0].lines[0].text, "fn main() {}");
}
