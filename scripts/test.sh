#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (the real binary), property and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# The agent adapters are tested end to end against the real CLIs, installed from npm.
WAVECREW_AGENT_CLIS="$(scripts/install-agent-clis.sh)"
export WAVECREW_AGENT_CLIS
# The dashboard is tested in Debian's Chromium, driven by playwright-core from npm.
WAVECREW_BROWSER_DEPS="$(scripts/install-browser-deps.sh)"
export WAVECREW_BROWSER_DEPS

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    echo "cargo-nextest not found; running the tests with cargo test" >&2
    cargo test --workspace --locked --no-fail-fast --lib --bins --tests
fi
# nextest does not run doc tests.
cargo test --workspace --locked --doc
