#!/usr/bin/env bash
# make demo: the seed procedure of an RDS migration, done by replwatch, on a
# sandbox (an "old master" and an RDS-like replica, real mariadbd on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SANDBOX=$REPO/tests/sandbox/sandbox
DIR=$(mktemp -d /tmp/replwatch-demo.XXXXXX)
CTL="$REPO/ctl/replwatchctl -s $DIR/run/replwatch.sock"
DAEMON_PID= WRITER_PID=

cleanup() {
	[ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null && wait "$WRITER_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	"$SANDBOX" down "$DIR" >/dev/null 2>&1 || true
	echo "(demo files kept in $DIR; the daemon's log is $DIR/replwatchd.log)"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sql() { "$SANDBOX" sql "$DIR" "$@"; }

say "1. an old master and an empty RDS-like replica (rds-mysql emulation)"
"$SANDBOX" up "$DIR" --flavor rds-mysql
. "$DIR/env"
echo "master 127.0.0.1:$MASTER_PORT, replica 127.0.0.1:$REPLICA_PORT ($MARIADB_VERSION)"

say "2. the application's data on the old master"
sql master root "CREATE TABLE app.orders (id INT AUTO_INCREMENT PRIMARY KEY,
    item VARCHAR(40) NOT NULL, qty INT NOT NULL, at TIMESTAMP(6) DEFAULT NOW(6));
    INSERT INTO app.orders (item, qty) SELECT CONCAT('item-', seq), seq % 7
    FROM app.seq_1_to_5000;"
sql master root -N "SELECT CONCAT(COUNT(*), ' orders') FROM app.orders"

say "3. dump it with its binlog coordinates and load it into the replica"
mariadb-dump --defaults-file="$DIR/master-root.cnf" --master-data=2 \
    --single-transaction --databases app > "$DIR/seed.sql"
grep -m1 'CHANGE MASTER TO' "$DIR/seed.sql"
mariadb --defaults-file="$DIR/replica-root.cnf" < "$DIR/seed.sql"

say "4. replwatchd watching the replica (and the old master, for freeze and heartbeat)"
mkdir -m 0700 "$DIR/run" "$DIR/state"
cat > "$DIR/replwatch.conf" <<CONF
[daemon]
socket    = $DIR/run/replwatch.sock
state_dir = $DIR/state

[target rds1]
host        = 127.0.0.1
port        = $REPLICA_PORT
option_file = $DIR/replica-admin.cnf
interval_ms = 250
lag_warn_s  = 2
lag_crit_s  = 10
hysteresis  = 2
heartbeat   = write
master_host = 127.0.0.1
master_port = $MASTER_PORT
master_option_file = $DIR/master-root.cnf
CONF
"$REPO/daemon/replwatchd" -c "$DIR/replwatch.conf" 2> "$DIR/replwatchd.log" &
DAEMON_PID=$!
for _ in $(seq 50); do $CTL hello >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5
$CTL status rds1

say "5. the application keeps writing to the old master (as a non-privileged user)"
(
	i=0
	while :; do
		i=$((i + 1))
		if mariadb --defaults-file="$DIR/master-app.cnf" -e \
		    "INSERT INTO app.orders (item, qty) VALUES ('live-$i', 1)" 2>/dev/null
		then echo ok; else echo refused; fi
		sleep 0.02
	done > "$DIR/writer.log"
) &
WRITER_PID=$!
sleep 1

say "6. set up replication from the dump's coordinates, through the RDS procedure"
$CTL setup rds1 --master-host 127.0.0.1 --master-port "$MASTER_PORT" \
    --repl-user repl --repl-password-file "$DIR/repl.password" \
    --from-dump "$DIR/seed.sql" --start

say "7. watching it catch up"
timeout 3 $CTL watch rds1 --samples || true
$CTL status rds1

say "8. the runbook's gate: wait until lag <= 1 s"
$CTL wait rds1 --max-lag 1 --timeout 60

say "9. cut-over: rehearse, then promote with the old master frozen"
$CTL promote rds1 --freeze-master --dry-run
$CTL promote rds1 --freeze-master --max-lag 1 --timeout 30 --yes
sleep 0.5
kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true; WRITER_PID=

say "10. proof: every row committed on the old master is on the promoted replica"
m=$(sql master root -N "SELECT COUNT(*) FROM app.orders; CHECKSUM TABLE app.orders" | tr '\n\t' '  ')
r=$(sql replica root -N "SELECT COUNT(*) FROM app.orders; CHECKSUM TABLE app.orders" | tr '\n\t' '  ')
echo "old master: $m"
echo "new master: $r"
echo "application writes: $(grep -c '^ok' "$DIR/writer.log") committed, $(grep -c refused "$DIR/writer.log") refused after the freeze"
[ "$m" = "$r" ] && echo "identical: no transaction lost" || { echo "MISMATCH"; exit 1; }
$CTL status rds1
