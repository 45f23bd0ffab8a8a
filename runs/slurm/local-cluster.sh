#!/usr/bin/env bash
# A single-node SLURM cluster on loopback, for tests and for trying `mcsgd scan run --executor
# slurm` on a workstation. Needs root and the Debian packages
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
#
#   eval "$(runs/slurm/local-cluster.sh start)"   # start munged, slurmctld, slurmd; prints
#                                                 # export lines (MCSGD_SLURM_DIR, SLURM_CONF)
#   eval "$(runs/slurm/local-cluster.sh env)"   # export SLURM_CONF for sbatch/squeue/scancel
#   runs/slurm/local-cluster.sh status
#   runs/slurm/local-cluster.sh stop     # scancel everything, stop the daemons by pid file
#   runs/slurm/local-cluster.sh check    # only check that $MCSGD_SLURM_DIR is safe to use
#
# State lives in $MCSGD_SLURM_DIR; without it, `start` makes a private one with mktemp -d and
# prints it (the other commands then need it exported). The directory is refused if it is a
# symbolic link, is not owned by the caller (or, under sudo, by the user who ran sudo), is
# group/world-writable, or if one of the files used here (munge.key, pid files, slurm.conf,
# state directories) is a symbolic link, another user's, or group/world-writable; a pid read
# from a pid file is signalled only if that process has the daemon's name. Partition: "debug" (default).
# No cgroups (proctrack/linuxproc, task/none): jobs get no CPU/memory limits.
set -euo pipefail

DIR="${MCSGD_SLURM_DIR:-}"

die() { echo "local-cluster: $*" >&2; exit 1; }

# owners we accept: the caller, and under sudo the user who ran it
owners() { id -u; if [[ "$(id -u)" == 0 && -n "${SUDO_UID:-}" ]]; then echo "$SUDO_UID"; fi; }

owned() {  # is path $1 owned by an accepted user?
    local u o
    u="$(stat -c %u -- "$1")" || return 1
    for o in $(owners); do [[ "$u" == "$o" ]] && return 0; done
    return 1
}

check_dir() {
    [[ -n "$DIR" ]] || die "MCSGD_SLURM_DIR is not set (export the value printed by 'start')"
    [[ "$DIR" == /* ]] || die "MCSGD_SLURM_DIR=$DIR must be an absolute path"
    [[ ! -L "$DIR" ]] || die "refusing $DIR: it is a symbolic link"
    [[ -d "$DIR" ]] || die "refusing $DIR: not a directory"
    owned "$DIR" || die "refusing $DIR: owned by uid $(stat -c %u -- "$DIR"), not by $(owners | paste -sd/)"
    local mode
    mode="$(stat -c %a -- "$DIR")"
    (( (8#$mode & 8#022) == 0 )) || die "refusing $DIR: group/world-writable (mode $mode)"
    local f
    for f in munge munge/munge.key munge/munged.pid munge/munged.seed slurmctld.pid slurmd.pid \
             slurm.conf state spool log; do
        f="$DIR/$f"
        [[ ! -L "$f" ]] || die "refusing $DIR: $f is a symbolic link"
        [[ -e "$f" ]] || continue
        [[ -f "$f" || -d "$f" ]] || die "refusing $DIR: $f is not a file or directory"
        owned "$f" || die "refusing $DIR: $f is owned by uid $(stat -c %u -- "$f")"
        mode="$(stat -c %a -- "$f")"
        (( (8#$mode & 8#022) == 0 )) || die "refusing $DIR: $f is group/world-writable"
    done
}

CONF=""
set_conf() { CONF="$DIR/slurm.conf"; }

# the pid in file $1 if it is a live process named $2 (else nothing)
daemon_pid() {
    local pid
    [[ -f "$1" && ! -L "$1" ]] || return 1
    pid="$(head -c 32 -- "$1" | tr -d '[:space:]')"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]] || return 1
    echo "$pid"
}

pid_alive() { daemon_pid "$1" "$2" >/dev/null; }

start() {
    for b in munged slurmctld slurmd sbatch squeue; do
        command -v "$b" >/dev/null || die "$b not found; install: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
    done
    [[ "$(id -u)" == 0 ]] || die "must run as root (SlurmUser=root)"
    if [[ -z "$DIR" ]]; then
        DIR="$(mktemp -d /tmp/mcsgd-slurm.XXXXXX)"
    elif [[ ! -e "$DIR" && ! -L "$DIR" ]]; then
        mkdir -m 0700 -- "$DIR"
    fi
    check_dir
    set_conf
    if pid_alive "$DIR/slurmctld.pid" slurmctld && pid_alive "$DIR/slurmd.pid" slurmd; then
        echo "local-cluster: already running ($CONF)" >&2
        echo "export MCSGD_SLURM_DIR=$DIR"
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    umask 022
    mkdir -p "$DIR"/{munge,state,spool,log}
    chmod 0755 "$DIR" "$DIR/munge"
    check_dir
    if [[ ! -s "$DIR/munge/munge.key" ]]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 0600 "$DIR/munge/munge.key"
    if ! pid_alive "$DIR/munge/munged.pid" munged; then
        munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
            --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
            --seed-file="$DIR/munge/munged.seed" --force
    fi
    local cpus mem
    cpus="$(nproc)"
    # RealMemory must not exceed what slurmd detects (else the node drains)
    mem="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')"
    local free_mb
    free_mb="$(free -m | awk '/^Mem:/ {print $2}')"
    if [[ -n "$free_mb" && "$free_mb" -lt "${mem:-0}" ]]; then mem="$free_mb"; fi
    mem="${mem:-1024}"
    cat > "$CONF" <<EOF
ClusterName=local
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$CONF"
    slurmctld -f "$CONF" -c
    slurmd -f "$CONF" -N localhost
    # wait for an idle node
    local i
    for i in $(seq 1 100); do
        if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            echo "local-cluster: up ($cpus CPUs, ${mem} MB) — $CONF" >&2
            echo "export MCSGD_SLURM_DIR=$DIR"
            echo "export SLURM_CONF=$CONF"
            return 0
        fi
        sleep 0.2
    done
    sinfo -N >&2 || true
    die "node did not become idle; logs in $DIR/log"
}

DAEMONS=("slurmd.pid slurmd" "slurmctld.pid slurmctld" "munge/munged.pid munged")

stop() {
    check_dir
    set_conf
    export SLURM_CONF="$CONF"
    if [[ -f "$CONF" ]] && pid_alive "$DIR/slurmctld.pid" slurmctld; then
        scancel --full -u "$(id -un)" 2>/dev/null || true
        sleep 0.5
    fi
    local d f name pid
    for d in "${DAEMONS[@]}"; do
        read -r f name <<<"$d"
        if pid="$(daemon_pid "$DIR/$f" "$name")"; then kill "$pid" 2>/dev/null || true; fi
    done
    for d in "${DAEMONS[@]}"; do
        read -r f name <<<"$d"
        local i
        for i in $(seq 1 50); do pid_alive "$DIR/$f" "$name" || break; sleep 0.1; done
        if pid="$(daemon_pid "$DIR/$f" "$name")"; then kill -9 "$pid" 2>/dev/null || true; fi
        rm -f -- "$DIR/$f"
    done
    echo "local-cluster: stopped" >&2
}

status() {
    check_dir
    set_conf
    export SLURM_CONF="$CONF"
    local d f name ok=0
    for d in "munge/munged.pid munged" "slurmctld.pid slurmctld" "slurmd.pid slurmd"; do
        read -r f name <<<"$d"
        if pid_alive "$DIR/$f" "$name"; then
            echo "$name: running (pid $(daemon_pid "$DIR/$f" "$name"))"
        else echo "$name: not running"; ok=1; fi
    done
    [[ $ok == 0 ]] && sinfo -N
    return $ok
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) check_dir; set_conf; echo "export SLURM_CONF=$CONF" ;;
    check) check_dir; echo "local-cluster: $DIR is safe to use" >&2 ;;
    *) echo "usage: $0 start|stop|status|env|check" >&2; exit 2 ;;
esac
