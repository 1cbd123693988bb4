#!/usr/bin/env bash
# A private single-node SLURM cluster for the tests: its own munge key and socket, its own slurm.conf, state, ports
# and logs, all under DIR (but the socket, in a /tmp/casum-munge.* folder that `stop` removes), so it neither needs
# nor touches a system SLURM or munge set-up.
#   bash tests/slurm_cluster.sh start DIR   start munged, slurmctld and slurmd; print `SLURM_CONF=DIR/slurm.conf`
#                                           (clients such as sbatch use the cluster when that is in their environment)
#   bash tests/slurm_cluster.sh stop DIR    cancel the cluster's jobs, then stop exactly the daemons `start` started
# Needs Debian's slurm-wlm and munge packages (apt-get install -y slurm-wlm munge). Exit status 3, with the reason
# on stderr, when the cluster cannot be started here (packages missing, a daemon that does not come up, ...).
set -euo pipefail

usage() { echo "usage: bash tests/slurm_cluster.sh start|stop DIR" >&2; exit 2; }
[ "$#" -eq 2 ] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf
pids=$dir/daemons.pid

cannot() { echo "cannot start a SLURM cluster here: $*" >&2; exit 3; }

stop() {
    [ -f "$pids" ] && stop_daemons
    if [ -f "$dir/socket_dir" ]; then
        rm -rf "$(cat "$dir/socket_dir")"
        rm -f "$dir/socket_dir"
    fi
}

stop_daemons() {
    ctld=$(awk '$2 == "slurmctld" {print $1}' "$pids")
    if [ -n "$ctld" ] && kill -0 "$ctld" 2>/dev/null; then
        SLURM_CONF=$conf scancel --quiet --full --user "$(id -un)" 2>/dev/null || true
        for _ in $(seq 50); do  # let slurmd finish the cancelled steps before it stops
            [ -z "$(SLURM_CONF=$conf squeue --noheader 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    tac "$pids" | while read -r pid name; do  # slurmd, slurmctld, then munged; never a process that reused a pid
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || continue
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -9 "$pid" 2>/dev/null
        echo "stopped $name ($pid)"
    done
    rm -f "$pids"
}

# Running, i.e. neither gone nor a zombie (without an init that reaps them, the daemons' exits stay zombies).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

started() { echo "$1 $2" >>"$pids"; }

start() {
    [ -f "$pids" ] && cannot "$pids exists: a cluster started in $dir is still running (stop it first)"
    PATH=$PATH:/usr/sbin:/sbin  # where Debian puts the daemons
    for cmd in munged slurmctld slurmd sbatch squeue scancel sinfo; do
        command -v "$cmd" >/dev/null || cannot "$cmd not found (apt-get install -y slurm-wlm munge)"
    done
    mkdir -p -m 700 "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    trap 'stop >/dev/null' EXIT  # a failed start leaves nothing behind
    # munged wants its socket reachable by every user, through world-searchable folders: not under a private DIR
    socket_dir=$(mktemp -d /tmp/casum-munge.XXXXXX)
    chmod 755 "$socket_dir"
    echo "$socket_dir" >"$dir/socket_dir"
    socket=$socket_dir/munge.socket
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chmod 400 "$dir/munge/munge.key"
    user=$(id -un)
    host=$(hostname -s)
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    cat >"$conf" <<EOF
ClusterName=casumtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pidfile
SlurmdPidFile=$dir/slurmd.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    munged --foreground --socket="$socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" >"$dir/log/munged.out" 2>&1 &
    started $! munged
    for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
    [ -S "$socket" ] || cannot "munged did not start: $(tail -n 1 "$dir/log/munged.out")"
    export SLURM_CONF=$conf
    slurmctld -D -f "$conf" >"$dir/log/slurmctld.out" 2>&1 &
    started $! slurmctld
    slurmd -D -f "$conf" -N "$host" >"$dir/log/slurmd.out" 2>&1 &
    started $! slurmd
    for _ in $(seq 150); do
        state=$(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null || true)
        [ "$state" = idle ] && break
        sleep 0.1
    done
    [ "$state" = idle ] || cannot "node $host is '${state:-unreachable}' after 15 s (logs in $dir/log)"
    trap - EXIT
    echo "SLURM_CONF=$conf"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
