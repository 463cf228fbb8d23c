#!/usr/bin/env bash
# make demo: the seed procedure of an RDS migration, done by replwatch, on a
# sandbox (an "old master" and an RDS-like replica, real mariadbd on loopback,
# with the real RDS procedures' timings), the application reaching the
# database only through a real HAProxy that the promotion switches.
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

say "1. an old master, an empty RDS-like replica (rds-mysql emulation), HAProxy in front"
"$SANDBOX" up "$DIR" --flavor rds-mysql --proxy
. "$DIR/env"
echo "master 127.0.0.1:$MASTER_PORT, replica 127.0.0.1:$REPLICA_PORT ($MARIADB_VERSION)"
echo "the application's address: HAProxy 127.0.0.1:$PROXY_PORT (backend $HAPROXY_BACKEND: $HAPROXY_OLD_SERVER = the master, $HAPROXY_NEW_SERVER = the replica, disabled)"

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
# The switch: HAProxy's runtime API sends new connections to the replica
# and cuts those still open to the old master.
on_switch   = $REPO/conf/hooks/haproxy-switch $HAPROXY_SOCKET $HAPROXY_BACKEND $HAPROXY_OLD_SERVER $HAPROXY_NEW_SERVER
CONF
"$REPO/daemon/replwatchd" -c "$DIR/replwatch.conf" 2> "$DIR/replwatchd.log" &
DAEMON_PID=$!
for _ in $(seq 50); do $CTL hello >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5
$CTL status rds1

say "5. the application writes through HAProxy: one INSERT per ms as a non-privileged user"
"$REPO/tests/tools/appwriter" --defaults-file "$DIR/proxy-app.cnf" --table app.probe \
    --create --out "$DIR/writer.out" 2>"$DIR/writer.err" &
WRITER_PID=$!
for _ in $(seq 100); do [ -e "$DIR/writer.out.ready" ] && break; sleep 0.05; done
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

say "9. cut-over: read_only = 0 in the RDS parameter group (emulated), rehearse, promote"
# On RDS only the parameter group sets read_only; preflight refuses to
# switch the application into a read-only replica.
sql replica root "SET GLOBAL read_only = 0"
$CTL promote rds1 --dry-run
$CTL promote rds1 --max-lag 1 --timeout 30 --yes | tee "$DIR/promote.out"
$CTL --json status rds1 > "$DIR/status.json"
sleep 0.5
kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true; WRITER_PID=

say "10. proof: every row the application was told is committed is on the new master"
"$REPO/tests/tools/appwriter-report" "$DIR/writer.out" > "$DIR/writer.report"
awk '$1 == "a" { print $2 }' "$DIR/writer.out" | sort -n > "$DIR/acked"
sql replica root -N "SELECT seq FROM app.probe ORDER BY seq" > "$DIR/on-new"
lost=$(comm -23 "$DIR/acked" "$DIR/on-new" | wc -l)
read -r _ gap _ _ < <(grep '^gap_ms ' "$DIR/writer.report")
stop_end=$(jq -r '.promotion.steps[] | select(.step == "stop") | .duration_ms' "$DIR/status.json")
echo "application: $(grep '^acks ' "$DIR/writer.report" | cut -d' ' -f2) writes acknowledged," \
    "$(grep '^errors ' "$DIR/writer.report" | cut -d' ' -f2) refused or cut (it reconnects), $lost lost"
grep '^port ' "$DIR/writer.report" | while read -r _ port _ n _ first _ last; do
	[ "$port" = "$MASTER_PORT" ] && who="old master" || who="new master"
	echo "  $n acknowledged by the $who (port $port)"
done
echo "longest gap between two acknowledged writes: $gap ms (the stop step alone took $stop_end ms, after the switch)"
m=$(sql master root -N "SELECT COUNT(*) FROM app.orders; CHECKSUM TABLE app.orders" | tr '\n\t' '  ')
r=$(sql replica root -N "SELECT COUNT(*) FROM app.orders; CHECKSUM TABLE app.orders" | tr '\n\t' '  ')
echo "app.orders: old master $m / new master $r"
[ "$m" = "$r" ] && [ "$lost" = 0 ] && echo "identical: no transaction lost" || { echo "MISMATCH"; exit 1; }

say "11. the old master is fenced: even root cannot commit there"
if sql master root "SET SESSION lock_wait_timeout = 1; INSERT INTO app.orders (item, qty) VALUES ('late', 1)" 2>&1; then
	echo "root wrote to the old master: NOT fenced"; exit 1
fi
$CTL unfence rds1
$CTL status rds1
