//! Fuzzes the plan parser and formatter: any bytes that decode must parse and format without
//! panicking, and formatting must be idempotent.
//!
//! Run from `crates/plan`: `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none parse` (see the README).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(decoded) = plan::decode(bytes) else {
        return;
    };
    let text = decoded.text;
    let parsed = plan::parse(text, "fuzz");
    std::hint::black_box(&parsed);
    let once = plan::format(text);
    let twice = plan::format(&once);
    assert!(
        once == twice,
        "format is not idempotent\n--- format(text) ---\n{once:?}\n--- format(format(text)) ---\n{twice:?}"
    );
});
