#!/usr/bin/env bash
# Starts and stops a real single-node Slurm cluster in a folder, for tests.
# No systemd, no munge: auth/none, every daemon's state, spool, pid and log file under the folder,
# ports picked free at start, so several clusters can run side by side in different folders.
#
#   scripts/slurm-cluster.sh install      installs Debian's slurmctld, slurmd and slurm-client if slurmctld is missing
#   scripts/slurm-cluster.sh start DIR    writes DIR/slurm.conf, starts slurmctld and slurmd, waits for the node to be idle;
#                                         the last line on stdout is `export SLURM_CONF=DIR/slurm.conf` (for eval)
#   scripts/slurm-cluster.sh stop DIR     cancels the cluster's jobs, stops both daemons and waits for them to exit
#
# Everything but that export line goes to stderr. What it is for and the facts it rests on: docs/scale-out.md.
set -euo pipefail

log() { echo "slurm-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

cmd_install() {
    if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1; then
        return 0
    fi
    log "installing slurmctld, slurmd and slurm-client"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client >/dev/null
    command -v slurmctld >/dev/null 2>&1 || die "slurmctld still missing after apt-get install"
}

# A TCP port that no socket uses now (listening or connected, IPv4 or IPv6), from a random high range.
free_port() {
    local p hex tries=0 avoid="${1:-0}" f tables=()
    for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && tables+=("$f"); done
    while [ $tries -lt 200 ]; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        tries=$((tries + 1))
        [ "$p" -eq "$avoid" ] && continue
        hex=$(printf '%04X' "$p")
        if ! awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (a[length(a)] == h) found = 1 } END { exit !found }' \
            "${tables[@]}"; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# True while the process exists and is not a zombie (pid 1 may be slow to reap daemons' exited parents).
pid_alive() {
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    local st
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
    [ "$st" != "Z" ]
}

read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

dump_logs() {
    local dir=$1 f
    for f in "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
        if [ -f "$f" ]; then
            echo "===== $f (last 60 lines) =====" >&2
            tail -n 60 "$f" >&2
        fi
    done
}

cmd_start() {
    local dir=$1
    command -v slurmctld >/dev/null 2>&1 || die "slurmctld not installed: run '$0 install' first"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    case "$dir" in *[[:space:]]*) die "the folder's path must have no white space (slurm.conf cannot quote it): $dir" ;; esac
    if [ -f "$dir/slurmctld.pid" ] && pid_alive "$(read_pid "$dir/slurmctld.pid")"; then
        die "a slurmctld from $dir is already running; stop it first"
    fi
    rm -rf "$dir/state" "$dir/spool" "$dir/log" "$dir/cgroup.conf"
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"

    local host cpus mem_kb mem_mb ctld_port slurmd_port cluster
    host=$(hostname -s)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    # Leave some memory out so slurmd's own measure is never below the configured RealMemory.
    mem_mb=$(( mem_kb / 1024 * 9 / 10 ))
    ctld_port=$(free_port)
    slurmd_port=$(free_port "$ctld_port")
    # ClusterName must be lowercase; unique per folder so that two clusters never share a name.
    cluster="wc$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"

    cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-cluster.sh: a single-node test cluster, no munge, no systemd.
ClusterName=$cluster
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Every finished job, one line each with JobState and ExitCode, kept after MinJobAge purges it from slurmctld.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
SelectType=select/cons_tres
# Cores are consumed, memory is not (with CR_Core_Memory a job without --mem would take the whole node);
# a --mem above RealMemory is still refused at submit.
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# A job that can never run here (more CPUs than the node has) is refused by sbatch, not left pending for ever.
EnforcePartLimits=ALL
# Try pending jobs every second (main and backfill scheduler) and at once on submit: a job starts
# 0.1-1 s after sbatch, a pending one within ~1 s of a CPU freeing up (defaults: ~1-3 s).
SchedulerParameters=batch_sched_delay=0,sched_interval=1,sched_min_interval=0,bf_interval=1
ReturnToService=2
# Finished jobs stay visible to 'scontrol show job' and 'squeue -t all' for MinJobAge seconds.
MinJobAge=600
KillWait=2
CompleteWait=0
OverTimeLimit=0
InactiveLimit=0
MessageTimeout=5
TCPTimeout=2
SlurmctldTimeout=30
SlurmdTimeout=30
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # No cgroup.conf: Slurm looks for one beside slurm.conf, and none is needed without cgroup plugins.

    export SLURM_CONF="$dir/slurm.conf"
    log "starting slurmctld (port $ctld_port) and slurmd (port $slurmd_port) in $dir"
    if ! slurmctld -i -c -f "$SLURM_CONF" >>"$dir/log/slurmctld.stderr" 2>&1; then
        dump_logs "$dir"; cat "$dir/log/slurmctld.stderr" >&2 || true
        die "slurmctld failed to start"
    fi
    if ! slurmd -c -f "$SLURM_CONF" >>"$dir/log/slurmd.stderr" 2>&1; then
        dump_logs "$dir"; cat "$dir/log/slurmd.stderr" >&2 || true
        cmd_stop "$dir"
        die "slurmd failed to start"
    fi

    local deadline=$((SECONDS + 30)) state=""
    while :; do
        state=$(timeout 5 sinfo -h -o %T 2>/dev/null | head -n 1 || true)
        [ "$state" = "idle" ] && break
        if [ $SECONDS -ge $deadline ]; then
            log "node never became idle within 30 s (last state: '${state:-none}')"
            dump_logs "$dir"
            cmd_stop "$dir" || true
            die "start failed"
        fi
        sleep 0.2
    done
    log "cluster $cluster is up: node $host idle, $cpus CPUs, ${mem_mb} MB"
    echo "export SLURM_CONF=$dir/slurm.conf"
}

# Waits up to $2 tenths of a second for pid $1 to exit.
wait_exit() {
    local pid=$1 n=$2
    while pid_alive "$pid" && [ "$n" -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    ! pid_alive "$pid"
}

# slurmstepd processes of this cluster: those holding a unix socket under DIR/spool.
stepd_pids() {
    local spool=$1/spool inodes pid fd link
    inodes=$(awk -v p="$spool/" 'index($8, p) == 1 { printf " %s ", $7 }' /proc/net/unix 2>/dev/null || true)
    [ -n "$inodes" ] || return 0
    for pid in /proc/[0-9]*; do
        [ "$(cat "$pid/comm" 2>/dev/null)" = slurmstepd ] || continue
        for fd in "$pid"/fd/*; do
            link=$(readlink "$fd" 2>/dev/null) || continue
            case "$link" in
                socket:\[*\])
                    link=${link#socket:[}
                    link=${link%]}
                    case "$inodes" in *" $link "*) echo "${pid#/proc/}"; break ;; esac
                    ;;
            esac
        done
    done
}

cmd_stop() {
    local dir=$1
    [ -d "$dir" ] || die "no such folder: $dir"
    dir=$(cd "$dir" && pwd -P)
    local ctld_pid slurmd_pid pid
    ctld_pid=$(read_pid "$dir/slurmctld.pid")
    slurmd_pid=$(read_pid "$dir/slurmd.pid")

    # Jobs first, while slurmctld can still cancel them, so that no job outlives the cluster.
    if pid_alive "$ctld_pid" && [ -f "$dir/slurm.conf" ]; then
        SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    local n=50
    while [ -n "$(stepd_pids "$dir")" ] && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done

    for pid in $slurmd_pid $ctld_pid; do
        if pid_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in $slurmd_pid $ctld_pid; do
        if pid_alive "$pid" && ! wait_exit "$pid" 150; then
            log "pid $pid did not exit on SIGTERM within 15 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_exit "$pid" 50 || die "pid $pid would not die"
        fi
    done
    # Any step daemon left over (a job slurmctld could not cancel) goes too.
    for pid in $(stepd_pids "$dir"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$dir/slurmctld.pid" "$dir/slurmd.pid"
    log "stopped the cluster in $dir"
}

case "${1:-}" in
    install) cmd_install ;;
    start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
    stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
    *) usage ;;
esac
