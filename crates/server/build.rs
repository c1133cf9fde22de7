//! Embeds every file of `assets/` (and of its folders, e.g. `room/`) in the binary, so the
//! dashboard works offline and from any folder: writes `$OUT_DIR/assets.rs`, a table of
//! `(name, bytes)` where a name is the path under `assets/` with `/` between folders.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The files under `dir`, as (name relative to `root`, path), hidden ones left out.
fn files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => files(root, &path, out),
            Ok(t) if t.is_file() => {
                let name = path.strip_prefix(root).expect("under the root").components();
                let name: Vec<String> = name.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push((name.join("/"), path));
            }
            _ => {}
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut found = Vec::new();
    files(&dir, &dir, &mut found);
    found.sort();
    let mut table =
        String::from("/// The dashboard's files, by name.\npub(crate) static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &found {
        println!("cargo::rerun-if-changed={}", path.display());
        let _ = writeln!(table, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(out, table).expect("could not write assets.rs");
}
