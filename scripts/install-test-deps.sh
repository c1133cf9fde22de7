#!/usr/bin/env bash
# Installs the system programs the tests drive, from Debian's packages, when some are missing:
# git (the run tests), node and npm (the provisioning tests, the agent CLIs, the dashboard's browser
# tests), python3 with venv (the demo project, aider and coverage), Chromium (the dashboard's browser
# tests, `$CHROMIUM` or /usr/bin/chromium) and Slurm's slurmctld, slurmd and sbatch (the scale-out
# tests start a single-node cluster with scripts/slurm-cluster.sh).
#
# Quick when everything is there; otherwise installs with apt-get as root, or through sudo. When it
# cannot, it says in one message what is missing and how to install it, and exits 1.
set -euo pipefail

missing=()  # Debian packages to install
need() { # package: add it unless already listed
    case " ${missing[*]:-} " in *" $1 "*) ;; *) missing+=("$1") ;; esac
}
command -v git >/dev/null || need git
command -v node >/dev/null || need nodejs
command -v npm >/dev/null || need npm
if ! command -v python3 >/dev/null; then
    need python3
    need python3-venv
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    need python3-venv
fi
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need chromium
command -v slurmctld >/dev/null || need slurmctld
command -v slurmd >/dev/null || need slurmd
command -v sbatch >/dev/null || need slurm-client

[ ${#missing[@]} -eq 0 ] && exit 0

# Says what is missing and how to install it, then stops: before anything is built.
cannot() { # why
    {
        echo "scripts/test.sh: the tests need these Debian packages, which are not installed: ${missing[*]}"
        echo "  $1."
        echo "  Install them (as root: apt-get install -y ${missing[*]}), then run scripts/test.sh again."
    } >&2
    exit 1
}

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    cannot "this script installs them as root or through sudo, and you are not root and have no sudo"
fi
command -v apt-get >/dev/null || cannot "this script installs them with apt-get, which this system does not have"

echo "installing: ${missing[*]}" >&2
if ! { "${as_root[@]}" apt-get update -qq &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    cannot "\`${as_root[*]:+${as_root[*]} }apt-get install\` failed (its error is above)"
fi
