#!/usr/bin/env bash
# A throw-away one-node SLURM cluster (with accounting) on this machine, for tests.
#
#   scripts/slurm-test-cluster.sh start [STATE_DIR]   # last stdout line: export SLURM_CONF=...
#   scripts/slurm-test-cluster.sh stop  [STATE_DIR]
#
# STATE_DIR defaults to ${NEURODYN_SLURM_DIR:-/tmp/neurodyn-slurm}. Every config file, socket,
# database, log and PID file lives in it (nothing is written to /etc except a missing munge
# key). Daemons: munged (own socket), mariadbd (own datadir, 127.0.0.1 on a free port),
# slurmdbd, slurmctld, slurmd (node "localhost"); their PIDs are in STATE_DIR/pids/NAME.pid.
# STATE_DIR must be short (UNIX socket paths < 108 bytes) and reachable by the munge user.
# All ports are picked free, so several clusters can run side by side. `stop` cancels the
# jobs, kills the daemons by recorded PID (TERM, then KILL) and removes the PID files and
# sockets; configs, logs and the database stay (a later `start` reuses them).
# Needs root on Linux; installs the Debian/Ubuntu packages where missing. Exit status 3: cannot
# run here (reason on stderr); 1: a daemon failed (the tail of its log on stderr). On a disk
# with slow fsync, a tmpfs STATE_DIR (/dev/shm) starts in ~3 s instead of ~10 s (MariaDB).
set -euo pipefail

cmd=${1:-}
S=${2:-${NEURODYN_SLURM_DIR:-/tmp/neurodyn-slurm}}
DAEMONS=(munged mariadb slurmdbd slurmctld slurmd)        # start order; stop is the reverse
export SLURM_CONF=$S/slurm.conf PATH=$PATH:/usr/sbin:/sbin

cannot() { echo "slurm-test-cluster: $*" >&2; exit 3; }
fail() { # fail MESSAGE [LOG]: report (with the log's tail), stop what was started, exit 1
  echo "slurm-test-cluster: $1" >&2
  local f log=${2:-}
  for f in "$log" "${log%.log}.out"; do # the daemon's log and its stdout/stderr
    if [ -s "$f" ]; then echo "--- tail of $f:" >&2; tail -n 20 "$f" >&2; fi
  done
  stop_all >/dev/null 2>&1 || true
  exit 1
}
pid_of() { cat "$S/pids/$1.pid" 2>/dev/null || true; }
ours() { grep -qszxF "NEURODYN_SLURM_OWNER=$S" "/proc/$1/environ"; } # live and of this cluster
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && ours "$p"; }
tree() { # a process and all its descendants
  local c; echo "$1"
  for c in $(grep -lsx "PPid:[[:space:]]*$1" /proc/[0-9]*/status | cut -d/ -f3); do tree "$c"; done
}
wait_for() { # wait_for SECONDS DAEMON LOG COMMAND...: poll COMMAND; fail if DAEMON dies
  local end=$((SECONDS + $1)) name=$2 log=$3; shift 3
  while ((SECONDS < end)); do
    timeout 5 "$@" >/dev/null 2>&1 && return 0
    alive "$name" || fail "$name exited during start-up" "$log"
    sleep 0.2
  done
  fail "timed out waiting for $name ($*)" "$log"
}
port() { # port VAR FROM: VAR= the first port from FROM up that is free and not yet taken
  local p=$2
  while [[ " $used " == *" $p "* ]] || (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  used+=" $p"; printf -v "$1" %s "$p"
}

stop_all() {
  if alive slurmctld; then # cancel jobs first, so that no slurmstepd outlives slurmd
    timeout 10 scancel --full --quiet $(timeout 10 squeue -h -o %A) >/dev/null 2>&1 || true
    for _ in $(seq 50); do [ -z "$(timeout 5 squeue -h -t R,CG -o %A)" ] && break; sleep 0.2; done
  fi
  local i p left pids=()
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do # TERM in reverse start order
    p=$(pid_of "${DAEMONS[i]}")
    [ -n "$p" ] && ours "$p" && kill -TERM "$p" 2>/dev/null && pids+=("$p")
  done
  for _ in $(seq 50); do # up to 10 s, then KILL
    left=0; for p in "${pids[@]}"; do ours "$p" && left=1; done
    ((left)) || break; sleep 0.2
  done
  # KILL the stragglers and what they left behind (a slurmstepd also carries our marker) with
  # all their descendants (a job's processes).
  for p in $(grep -lszxF "NEURODYN_SLURM_OWNER=$S" /proc/[0-9]*/environ | cut -d/ -f3); do
    kill -KILL $(tree "$p") 2>/dev/null || true
  done
  rm -f "$S"/pids/*.pid "$S"/munge/munge.socket* "$S/mysql.sock"
}

case $cmd in
  stop) stop_all; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2 ;;
esac

# Already running: a no-op.
if alive munged && alive mariadb && alive slurmdbd && alive slurmctld && alive slurmd \
  && sinfo -h >/dev/null 2>&1; then
  echo "export SLURM_CONF=$SLURM_CONF"; exit 0
fi

# --- Install the packages where missing (Debian/Ubuntu, as root).
[ "$(uname -s)" = Linux ] || cannot "needs Linux"
[ "$(id -u)" = 0 ] || cannot "needs root (daemons run as root/munge)"
PKGS="slurmctld slurmd slurm-client slurmdbd munge mariadb-server"
missing=$(compgen -G "/usr/lib/*/slurm*/accounting_storage_mysql.so" >/dev/null || echo plugin)
for c in slurmctld slurmd sbatch sacctmgr slurmdbd munged mariadb-install-db; do
  command -v "$c" >/dev/null || missing+=" $c"
done
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null || cannot "missing$missing, and no apt-get to install $PKGS"
  echo "slurm-test-cluster: installing $PKGS" >&2
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends $PKGS; } >&2 || cannot "cannot install $PKGS"
fi
MARIADBD=$(command -v mariadbd || command -v mysqld || echo /usr/sbin/mariadbd)
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create 2>/dev/null || create-munge-key -f || cannot "cannot create a munge key"
  chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key
fi

stop_all >/dev/null 2>&1 # leftovers of a half-running cluster in the same STATE_DIR
mkdir -p "$S"/{pids,log,ctld,spool,munge}
chmod 755 "$S" # munged (user munge) must reach its socket in $S/munge
chown munge:munge "$S/munge" && chmod 755 "$S/munge"
touch "$S/log/munged.log" && chown munge:munge "$S/log/munged.log" && chmod 640 "$S/log/munged.log"
used=""; port P_CTLD 16817; port P_SLURMD 16818; port P_DBD 16819; port P_SQL 16830
MSOCK=$S/munge/munge.socket
CPUS=$(nproc)
MEM=$(( $(awk '/^MemTotal/ {print $2}' /proc/meminfo) * 9 / 10240 )) # MB, 90% of RAM
# cred_expire=10: a requeued job waits ~cred_expire+10 s instead of ~130 s before rerunning.
AUTH="AuthType=auth/munge
AuthInfo=socket=$MSOCK,cred_expire=10"

cat >"$S/slurm.conf" <<EOF
ClusterName=neurodyn
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$P_CTLD
SlurmdPort=$P_SLURMD
SlurmUser=root
SlurmdUser=root
$AUTH
CredType=cred/munge
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/pids/slurmctld.pid
SlurmdPidFile=$S/pids/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
# No cgroups (containers, no systemd): track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
MailProg=/bin/true
# Accounting: without it, jobs killed by a signal never reach a final state for submitit.
# AccountingStoragePass: the munge socket for talking to slurmdbd (AuthInfo's is not used).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$P_DBD
AccountingStoragePass=$MSOCK
JobAcctGatherType=jobacct_gather/linux
# Short delays: scan pending jobs every second, keep finished jobs 30 s, kill 5 s after TERM.
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=30
KillWait=5
ReturnToService=2
JobRequeue=1
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
install -m 600 /dev/null "$S/slurmdbd.conf" # it holds the database password
cat >"$S/slurmdbd.conf" <<EOF
$AUTH
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$P_DBD
SlurmUser=root
PidFile=$S/pids/slurmdbd.pid
LogFile=$S/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$P_SQL
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF

# --- Daemons, each in the foreground in its own session; its PID is recorded right away.
# NEURODYN_SLURM_OWNER marks the daemons and their children as this cluster's (see stop).
launch() { # launch NAME COMMAND...: stdout/stderr go to log/NAME.out
  setsid env NEURODYN_SLURM_OWNER="$S" "${@:2}" </dev/null >>"$S/log/$1.out" 2>&1 &
  echo $! >"$S/pids/$1.pid"
  for _ in {1..100}; do ours $! && break; sleep 0.01; done # until env has set the marker
}
launch munged setpriv --reuid=munge --regid=munge --init-groups munged -F --socket="$MSOCK" \
  --pid-file="$S/munge/munged.pid" --log-file="$S/log/munged.log" --seed-file="$S/munge/munged.seed"
wait_for 10 munged "$S/log/munged.log" bash -c "munge -n -S '$MSOCK' | unmunge -S '$MSOCK'"

# MariaDB: own datadir and socket, TCP on 127.0.0.1 only; holds the accounting database.
DB="--no-defaults --user=root --datadir=$S/mysql --innodb-log-file-size=8M"
if [ ! -d "$S/mysql/mysql" ]; then
  mariadb-install-db $DB --auth-root-authentication-method=normal --skip-test-db \
    >"$S/log/mariadb.out" 2>&1 || fail "mariadb-install-db failed" "$S/log/mariadb.out"
fi
launch mariadb "$MARIADBD" $DB --socket="$S/mysql.sock" --port="$P_SQL" --bind-address=127.0.0.1 \
  --skip-name-resolve --log-error="$S/log/mariadb.log" --innodb-lock-wait-timeout=900 \
  --innodb-autoextend-increment=4
SQL=(mariadb --no-defaults -uroot -S "$S/mysql.sock")
wait_for 30 mariadb "$S/log/mariadb.log" "${SQL[@]}" -e 'SELECT 1'
"${SQL[@]}" -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" || fail "cannot create the database"

# SLURM daemons (slurmdbd reads slurmdbd.conf next to $SLURM_CONF).
launch slurmdbd slurmdbd -D
wait_for 30 slurmdbd "$S/log/slurmdbd.log" sacctmgr -n list cluster
sacctmgr -n list cluster format=cluster | grep -qw neurodyn || sacctmgr -i add cluster neurodyn \
  >/dev/null || fail "cannot register the cluster" "$S/log/slurmdbd.log"
launch slurmctld slurmctld -D
wait_for 30 slurmctld "$S/log/slurmctld.log" scontrol ping
launch slurmd slurmd -D -N localhost
wait_for 30 slurmd "$S/log/slurmd.log" bash -c '[[ $(sinfo -h -n localhost -o %t) == idle* ]]'
echo "export SLURM_CONF=$SLURM_CONF"
