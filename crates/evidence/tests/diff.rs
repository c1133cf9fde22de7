//! Changed lines read from realistic `git diff` output, and a property over generated diffs.

use std::collections::{BTreeMap, BTreeSet};

use evidence::diff::{ChangedLines, changed_lines};
use proptest::prelude::*;

fn lines_of(changed: &ChangedLines, path: &str) -> Vec<u32> {
    changed.lines(path).map(|set| set.iter().copied().collect()).unwrap_or_default()
}

/// `git diff -U0 --no-color --no-renames main HEAD` with `core.quotePath` on (git's default):
/// a modified file, a deleted file, a new file, a binary file, a quoted non-ASCII name with a
/// space, an unquoted name with a space (git appends a tab), and a last line without newline.
const GIT_DIFF_U0: &str = "diff --git a/src/shop/cart.py b/src/shop/cart.py
index 3b18e51..a9c2f4e 100644
--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -12 +12 @@ def total(items, discount=0):
-    return sum(items)
+    return sum(items) - discount
@@ -20,0 +21,3 @@ def total(items, discount=0):
+def clear(cart):
+    cart.items = []
+    return cart
@@ -30,2 +33,0 @@ class Cart:
-    # TODO: remove
-    pass
diff --git a/docs/old.md b/docs/old.md
deleted file mode 100644
index 8b13789..0000000
--- a/docs/old.md
+++ /dev/null
@@ -1,2 +0,0 @@
-# Old
-text
diff --git a/tests/test_cart.py b/tests/test_cart.py
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/tests/test_cart.py
@@ -0,0 +1,4 @@
+from shop.cart import Cart, clear
+
+def test_clear():
+    assert clear(Cart()).items == []
diff --git a/assets/logo.png b/assets/logo.png
index 1a2b3c4..5d6e7f8 100644
Binary files a/assets/logo.png and b/assets/logo.png differ
diff --git \"a/docs/caf\\303\\251 menu.md\" \"b/docs/caf\\303\\251 menu.md\"
index 0c1d2e3..4f5a6b7 100644
--- \"a/docs/caf\\303\\251 menu.md\"
+++ \"b/docs/caf\\303\\251 menu.md\"
@@ -3 +3,2 @@
-Espresso
+Espresso 2.50
+Latte 3.10
diff --git a/notes/read me.txt b/notes/read me.txt
index 9daeafb..3b18e51 100644
--- a/notes/read me.txt\t
+++ b/notes/read me.txt\t
@@ -1 +1 @@
-hello
\\ No newline at end of file
+hello world
\\ No newline at end of file
";

#[test]
fn git_diff_u0() {
    let changed = changed_lines(GIT_DIFF_U0);
    assert_eq!(lines_of(&changed, "src/shop/cart.py"), [12, 21, 22, 23]);
    assert_eq!(lines_of(&changed, "tests/test_cart.py"), [1, 2, 3, 4]);
    assert_eq!(lines_of(&changed, "docs/café menu.md"), [3, 4]);
    assert_eq!(lines_of(&changed, "notes/read me.txt"), [1]);
    assert_eq!(changed.lines("docs/old.md"), None, "deleted");
    assert_eq!(changed.lines("assets/logo.png"), None, "binary");
    assert_eq!(
        changed.files().collect::<Vec<_>>(),
        ["docs/café menu.md", "notes/read me.txt", "src/shop/cart.py", "tests/test_cart.py"]
    );
    assert_eq!(changed.total(), 11);
    assert!(!changed.is_empty());
}

#[test]
fn diff_with_context_lines() {
    // Plain `git diff` (3 lines of context), as in `git show` after the commit message.
    let diff = "commit 5e1f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f
Author: Agent <agent@example.com>
Date:   Thu May 2 10:12:03 2024 +0000

    Clear carts

diff --git a/src/cart.js b/src/cart.js
index 3b18e51..a9c2f4e 100644
--- a/src/cart.js
+++ b/src/cart.js
@@ -8,9 +8,11 @@ export function cart(items = []) {
   return {
     items,
     total({ discount = 0 } = {}) {
-      return items.reduce((a, b) => a + b, 0);
+      const sum = items.reduce((a, b) => a + b, 0);
+      return sum - discount;
     },
+    clear() { items.length = 0; },

     size() {
       return items.length;
";
    let changed = changed_lines(diff);
    assert_eq!(lines_of(&changed, "src/cart.js"), [11, 12, 14]);
    assert_eq!(changed.total(), 3);
}

#[test]
fn nothing_to_cover() {
    assert!(changed_lines("").is_empty());
    // A mode change, a pure deletion and a binary patch.
    let diff = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n\
                diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -4,2 +3,0 @@\n-x\n-y\n\
                diff --git a/img.png b/img.png\nindex 1a2b3c4..5d6e7f8 100644\nGIT binary patch\nliteral 1234\nzcmV+@1zq~DiwFP!000001MK~A\n\nliteral 0\nHcmV?d00001\n\n";
    let changed = changed_lines(diff);
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(changed.total(), 0);
}

#[test]
fn plain_diff_u_with_timestamps() {
    let diff = "--- cart.py.orig\t2024-05-02 10:12:03.000000000 +0000\n\
                +++ cart.py\t2024-05-02 10:14:41.000000000 +0000\n\
                @@ -1,3 +1,4 @@\n import math\n+import os\n \n def total(items):\n";
    assert_eq!(lines_of(&changed_lines(diff), "cart.py"), [2]);
}

#[test]
fn crlf_diffs() {
    let diff = "diff --git a/a.txt b/a.txt\r\n--- a/a.txt\r\n+++ b/a.txt\r\n@@ -1 +1,2 @@\r\n-one\r\n+one\r\n+two\r\n";
    assert_eq!(lines_of(&changed_lines(diff), "a.txt"), [1, 2]);
}

/// Renders `files` as `git diff -U0` would: one hunk per run of consecutive lines.
fn render_u0(files: &BTreeMap<String, BTreeSet<u32>>) -> String {
    let mut out = String::new();
    for (path, lines) in files {
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        ));
        let lines: Vec<u32> = lines.iter().copied().collect();
        let mut i = 0;
        while i < lines.len() {
            let start = lines[i];
            let mut end = i;
            while end + 1 < lines.len() && lines[end + 1] == lines[end] + 1 {
                end += 1;
            }
            let count = end - i + 1;
            // Alternate between pure additions and replacements of one old line.
            if start.is_multiple_of(2) {
                out.push_str(&format!("@@ -{} +{start},{count} @@\n-old\n", start));
            } else {
                out.push_str(&format!("@@ -{},0 +{start},{count} @@\n", start - 1));
            }
            for n in 0..count {
                // Content that looks like headers must still read as content.
                let text = ["++ b/not-a-header", "-- a/nor-this", "@@ -1 +1 @@", "plain", ""][n % 5];
                out.push_str(&format!("+{text}\n"));
            }
            i = end + 1;
        }
    }
    out
}

/// Renders `files` as one whole-file hunk each, with context and removed lines between the
/// added ones, as `git diff -U99999` would.
fn render_whole_file(files: &BTreeMap<String, BTreeSet<u32>>) -> String {
    let mut out = String::new();
    for (path, lines) in files {
        let last = lines.iter().next_back().copied().unwrap_or(0) + 2;
        let mut body = String::new();
        let (mut old, mut new) = (0, 0);
        for n in 1..=last {
            if lines.contains(&n) {
                body.push_str("+added\n");
                if n.is_multiple_of(3) {
                    body.push_str("-removed\n");
                    old += 1;
                }
            } else {
                body.push_str(" context\n");
                old += 1;
            }
            new += 1;
        }
        out.push_str(&format!("--- a/{path}\n+++ b/{path}\n@@ -1,{old} +1,{new} @@\n{body}"));
    }
    out
}

fn files_strategy() -> impl Strategy<Value = BTreeMap<String, BTreeSet<u32>>> {
    let path = "[a-z]{1,6}(/[a-z ]{1,6}){0,2}\\.(rs|py|ts)".prop_filter("no trailing space", |p| !p.contains(" ."));
    let lines = prop::collection::btree_set(1u32..300, 1..40);
    prop::collection::btree_map(path, lines, 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn reads_back_the_lines_a_u0_diff_adds(files in files_strategy()) {
        let changed = changed_lines(&render_u0(&files));
        let read: BTreeMap<String, BTreeSet<u32>> =
            changed.iter().map(|(path, lines)| (path.to_owned(), lines.clone())).collect();
        prop_assert_eq!(&read, &files);
        prop_assert_eq!(changed.total(), files.values().map(BTreeSet::len).sum::<usize>());
    }

    #[test]
    fn reads_back_the_lines_a_context_diff_adds(files in files_strategy()) {
        let changed = changed_lines(&render_whole_file(&files));
        let read: BTreeMap<String, BTreeSet<u32>> =
            changed.iter().map(|(path, lines)| (path.to_owned(), lines.clone())).collect();
        prop_assert_eq!(read, files);
    }

    #[test]
    fn never_panics(text in "\\PC{0,400}") {
        let _ = changed_lines(&text);
    }

    #[test]
    fn never_panics_on_diff_like_text(parts in prop::collection::vec(prop_oneof![
        Just("diff --git a/x b/x\n"), Just("+++ b/x\n"), Just("+++ \"b/\\303"), Just("--- a/x\n"),
        Just("@@ -1,2 +3,4 @@\n"), Just("@@ -4294967295 +4294967295,3 @@\n"), Just("+line\n"),
        Just("-line\n"), Just(" ctx\n"), Just("\\ No newline at end of file\n"), Just("\n"),
    ], 0..60)) {
        let _ = changed_lines(&parts.concat());
    }
}
