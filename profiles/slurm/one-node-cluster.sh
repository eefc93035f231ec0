#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, from Debian's slurm-wlm and munge, to try the
# SLURM profile (profiles/slurm) without a real cluster. Needs root on Debian or Ubuntu.
#
#   profiles/slurm/one-node-cluster.sh          # install if missing, configure, start, wait
#   profiles/slurm/one-node-cluster.sh status   # sinfo and the daemons' process ids
#   profiles/slurm/one-node-cluster.sh stop     # stop slurmd, slurmctld and munged
#
# Idempotent: running it again with the cluster up changes nothing. The node is this
# host (hostname -s, at 127.0.0.1), its CPUs come from nproc and its memory from free;
# one partition, `debug`, is the default. No accounting (no slurmdbd): the profile asks
# squeue for job states, and MinJobAge keeps finished jobs visible to squeue long enough.
# The daemons are started directly (no systemd needed); their logs are in /var/log/slurm.
# It writes /etc/slurm/slurm.conf only when that file is missing or was written by this
# script; a slurm.conf from anywhere else is left alone and the script stops.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by trialreport profiles/slurm/one-node-cluster.sh"
LOGDIR=/var/log/slurm
PARTITION=debug

say() { printf 'one-node-cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
            && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    [[ $(id -u) == 0 ]] || die "slurm-wlm and munge are missing; run as root to install them"
    command -v apt-get >/dev/null || die "no apt-get: install slurm-wlm and munge yourself"
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_config() {
    if [[ -e $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; not touching it"
    fi
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # RealMemory a little under what free reports, so slurmd never finds less than configured.
    mem=$(free -m | awk '/^Mem:/ {print int($2 * 0.95)}')
    local new
    new=$(cat <<EOF
$MARK
ClusterName=trialreport
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# squeue shows a finished job for MinJobAge seconds; the executor plugin uses squeue for
# job states only when this is at least 120 s (else it falls back to sacct).
MinJobAge=600
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
    if [[ -e $CONF ]] && [[ "$(cat "$CONF")" == "$new" ]]; then
        return 1  # unchanged
    fi
    mkdir -p /etc/slurm
    printf '%s\n' "$new" >"$CONF"
    say "wrote $CONF (node $host, $cpus CPUs, $mem MB, partition $PARTITION)"
    return 0
}

start_munge() {
    if pid_alive /run/munge/munged.pid; then
        return
    fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating the munge key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
        fi
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    munge -n | unmunge >/dev/null || die "munge does not work; see /var/log/munge/munged.log"
}

start_slurm() {
    local changed=$1
    mkdir -p /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
    if pid_alive /run/slurmctld.pid; then
        if [[ $changed == yes ]]; then
            say "slurm.conf changed: scontrol reconfigure"
            scontrol reconfigure
        fi
    else
        say "starting slurmctld"
        /usr/sbin/slurmctld
    fi
    if ! pid_alive /run/slurmd.pid; then
        say "starting slurmd"
        /usr/sbin/slurmd
    fi
}

wait_idle() {
    local host state
    host=$(hostname -s)
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -1 || true)
        case $state in
            idle|mix|alloc) say "node $host is $state in partition $PARTITION"; return 0 ;;
            down*|drain*|fail*)
                scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
        esac
        sleep 1
    done
    sinfo -N -l >&2 || true
    die "node $host did not come up; see $LOGDIR/slurmctld.log and $LOGDIR/slurmd.log"
}

stop_all() {
    local pidfile
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        if pid_alive "$pidfile"; then
            say "stopping $(basename "$pidfile" .pid) ($(cat "$pidfile"))"
            kill "$(cat "$pidfile")"
            for _ in $(seq 20); do pid_alive "$pidfile" || break; sleep 0.5; done
        fi
    done
}

case ${1:-start} in
    start)
        install_packages
        changed=no
        if write_config; then changed=yes; fi
        start_munge
        start_slurm "$changed"
        wait_idle
        ;;
    stop) stop_all ;;
    status)
        sinfo || true
        for pidfile in /run/munge/munged.pid /run/slurmctld.pid /run/slurmd.pid; do
            if pid_alive "$pidfile"; then echo "$pidfile: $(cat "$pidfile")"
            else echo "$pidfile: not running"; fi
        done
        ;;
    *) die "usage: $0 [start|stop|status]" ;;
esac
