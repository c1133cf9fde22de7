//! The docs show what wavecrew prints: every `console` block of README.md and docs/*.md is run
//! (trycmd), each `$ wavecrew ...` line from the repository's root with colours off, and its
//! output (stdout and stderr together) and exit status must be what the block shows (`...` on a
//! line of its own stands for lines left out, `? N` for a non-zero exit status).
//! `TRYCMD=overwrite cargo test -p wavecrew --test cli docs::` rewrites the blocks after an
//! intended change of output.

#[test]
fn the_docs_console_examples_print_what_they_show() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The examples name files from the repository's root, as a reader runs them there. No other
    // test of this binary reads a relative path or starts a program without naming its folder
    // (and nextest runs each test in a process of its own), so changing the directory affects
    // no other.
    std::env::set_current_dir(&root).unwrap();
    let cases = trycmd::TestCases::new();
    cases.register_bin("wavecrew", trycmd::cargo::cargo_bin!("wavecrew")).env("NO_COLOR", "1").case("README.md");
    for doc in std::fs::read_dir("docs").unwrap() {
        let path = doc.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            cases.case(path);
        }
    }
}
