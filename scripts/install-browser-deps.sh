#!/usr/bin/env bash
# Installs what the dashboard's browser tests drive Chromium with: playwright-core, at the
# version pinned in crates/server/tests/browser/package.json, into target/browser-deps/.
# Prints the folder (the tests read it from WAVECREW_BROWSER_DEPS). Chromium itself is
# Debian's `chromium` package, which scripts/install-test-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${WAVECREW_BROWSER_DEPS:-$PWD/target/browser-deps}"
version=$(node -p 'require("./crates/server/tests/browser/package.json").dependencies["playwright-core"]')
installed=$(node -p "try { require('$dir/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$installed" != "$version" ]; then
    echo "installing playwright-core@$version into $dir" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "playwright-core@$version" >&2
fi
echo "$dir"
