#!/usr/bin/env bash
# A single-node SLURM cluster on loopback, for tests and for trying `mcsgd scan run --executor
# slurm` on a workstation. Needs root and the Debian packages
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
#
#   runs/slurm/local-cluster.sh start    # start munged, slurmctld, slurmd; prints the env line
#   eval "$(runs/slurm/local-cluster.sh env)"   # export SLURM_CONF for sbatch/squeue/scancel
#   runs/slurm/local-cluster.sh status
#   runs/slurm/local-cluster.sh stop     # scancel everything, stop the daemons by pid file
#
# State lives in $MCSGD_SLURM_DIR (default /tmp/mcsgd-slurm). Partition: "debug" (default).
# No cgroups (proctrack/linuxproc, task/none): jobs get no CPU/memory limits.
set -euo pipefail

DIR="${MCSGD_SLURM_DIR:-/tmp/mcsgd-slurm}"
CONF="$DIR/slurm.conf"

die() { echo "local-cluster: $*" >&2; exit 1; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    for b in munged slurmctld slurmd sbatch squeue; do
        command -v "$b" >/dev/null || die "$b not found; install: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
    done
    [[ "$(id -u)" == 0 ]] || die "must run as root (SlurmUser=root)"
    if pid_alive "$DIR/slurmctld.pid" && pid_alive "$DIR/slurmd.pid"; then
        echo "local-cluster: already running ($CONF)" >&2
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    umask 022
    mkdir -p "$DIR"/{munge,state,spool,log}
    chmod 0755 "$DIR" "$DIR/munge"
    if [[ ! -s "$DIR/munge/munge.key" ]]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 0600 "$DIR/munge/munge.key"
    if ! pid_alive "$DIR/munge/munged.pid"; then
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
            echo "export SLURM_CONF=$CONF"
            return 0
        fi
        sleep 0.2
    done
    sinfo -N >&2 || true
    die "node did not become idle; logs in $DIR/log"
}

stop() {
    export SLURM_CONF="$CONF"
    if [[ -f "$CONF" ]] && pid_alive "$DIR/slurmctld.pid"; then
        scancel --full -u "$(id -un)" 2>/dev/null || true
        sleep 0.5
    fi
    local f
    for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
        if pid_alive "$f"; then
            kill "$(cat "$f")" 2>/dev/null || true
        fi
    done
    for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
        local i
        for i in $(seq 1 50); do pid_alive "$f" || break; sleep 0.1; done
        if pid_alive "$f"; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
        rm -f "$f"
    done
    echo "local-cluster: stopped" >&2
}

status() {
    export SLURM_CONF="$CONF"
    local f ok=0
    for f in "$DIR/munge/munged.pid" "$DIR/slurmctld.pid" "$DIR/slurmd.pid"; do
        if pid_alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))";
        else echo "$(basename "$f" .pid): not running"; ok=1; fi
    done
    [[ $ok == 0 ]] && sinfo -N
    return $ok
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
