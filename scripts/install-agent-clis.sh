#!/usr/bin/env bash
# Installs the real agent CLIs (and tools) the end-to-end tests drive (against the scripted LLM server,
# never a real model) into target/agent-clis/, from the npm registry and PyPI, at versions known
# to work. Prints the folder; each CLI's program is <folder>/<name>/{node_modules/.bin,bin}/<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${WAVECREW_AGENT_CLIS:-$PWD/target/agent-clis}"
install() { # name package@version
    local name=$1 package=$2
    if [ -x "$dir/$name/node_modules/.bin/$name" ]; then
        return
    fi
    echo "installing $package into $dir/$name" >&2
    mkdir -p "$dir/$name"
    npm install --prefix "$dir/$name" --no-audit --no-fund --loglevel=error "$package" >&2
}
install_python() { # name package==version
    local name=$1 package=$2
    if [ -x "$dir/$name/bin/$name" ]; then
        return
    fi
    echo "installing $package into $dir/$name" >&2
    rm -rf "$dir/$name"
    python3 -m venv "$dir/$name" >&2
    "$dir/$name/bin/pip" install --quiet --disable-pip-version-check "$package" >&2
}
install claude @anthropic-ai/claude-code@2.1.197
install codex @openai/codex@0.171.0
install gemini @google/gemini-cli@0.61.0
install opencode opencode-ai@1.18.33
# The MCP Inspector (its CLI mode), the client the `wavecrew mcp` tests drive.
install mcp-inspector @modelcontextprotocol/inspector@2.12.0
install_python aider aider-chat==0.86.2
# A real coverage tool, for the gate tests that compute coverage of changed lines.
install_python coverage coverage==7.6.1
echo "$dir"
