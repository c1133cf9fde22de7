#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (the real binary), property and doc tests.
# First installs what the tests drive (system packages, agent CLIs, the browser driver), so that a
# fresh machine needs nothing else; exits non-zero if anything could not be installed or any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || {
    echo "scripts/test.sh: cargo not found: install Rust (https://rustup.rs), then run scripts/test.sh again" >&2
    exit 1
}
# Git, Node, Python, Chromium, Slurm: from Debian's packages (as root, or through sudo).
scripts/install-test-deps.sh
# The agent adapters are tested end to end against the real CLIs, installed from npm and PyPI.
WAVECREW_AGENT_CLIS="$(scripts/install-agent-clis.sh)" || {
    echo "scripts/test.sh: could not install the agent CLIs from npm and PyPI into target/agent-clis (npm's or pip's error is above); run scripts/install-agent-clis.sh again once they are reachable" >&2
    exit 1
}
export WAVECREW_AGENT_CLIS
# The dashboard is tested in Debian's Chromium, driven by playwright-core from npm.
WAVECREW_BROWSER_DEPS="$(scripts/install-browser-deps.sh)" || {
    echo "scripts/test.sh: could not install playwright-core from npm into target/browser-deps (npm's error is above)" >&2
    exit 1
}
export WAVECREW_BROWSER_DEPS

# Every suite runs, whatever the one before it did; the exit status says whether all passed.
failed=()
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast || failed+=("tests")
else
    echo "cargo-nextest not found; running the tests with cargo test" >&2
    cargo test --workspace --locked --no-fail-fast --lib --bins --tests || failed+=("tests")
fi
# nextest does not run doc tests.
cargo test --workspace --locked --no-fail-fast --doc || failed+=("doc tests")

if [ ${#failed[@]} -gt 0 ]; then
    echo "scripts/test.sh: failed: ${failed[*]} (see above)" >&2
    exit 1
fi
