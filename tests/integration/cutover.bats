#!/usr/bin/env bats
# The zero-downtime cut-over from the application's side, on every flavor
# with the real RDS timings: the application (tests/tools/appwriter: one
# INSERT per ms as the unprivileged app user, reconnecting on errors, every
# acknowledged row recorded) reaches the database only through a real
# HAProxy (sandbox up --proxy), and the promotion's on_switch moves it with
# conf/hooks/haproxy-switch.  On the RDS flavors the replica's read_only
# comes from its parameter group; the tests set it to 0 first, as a team
# must before the cut-over (preflight refuses otherwise: promote.bats).

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
	[[ -x $REPO/tests/tools/appwriter ]] || make -s -C "$REPO" tests/tools/appwriter
}

teardown() {
	[[ -n ${WRITER_PID:-} ]] && { kill "$WRITER_PID" 2>/dev/null; wait "$WRITER_PID" 2>/dev/null; }
	daemon_stop_all
	[[ -n ${SB:-} ]] && sandbox_down "$SB"
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# start_cutover FLAVOR [HOOK]: a replicating pair behind HAProxy, a daemon
# whose on_switch is HOOK (default: the HAProxy hook) with the proxy's
# socket, backend and servers, and the application writing.
start_cutover() {
	local flavor=$1 hook=${2:-$REPO/conf/hooks/haproxy-switch}
	sandbox_up --flavor "$flavor" --replicate --proxy
	# shellcheck disable=SC1091
	. "$SB/env"
	[[ $flavor == rds-* ]] && sql_replica "SET GLOBAL read_only = 0"
	daemon_start --master "on_switch = $hook $HAPROXY_SOCKET $HAPROXY_BACKEND $HAPROXY_OLD_SERVER $HAPROXY_NEW_SERVER"
	wait_state main ok 15
	W=$BATS_TEST_TMPDIR/writer.out
	"$REPO/tests/tools/appwriter" --defaults-file "$SB/proxy-app.cnf" \
		--table app.probe --create --out "$W" 2>"$W.err" 3>&- &
	WRITER_PID=$!
	wait_until 10 test -e "$W.ready"
	# Let it write a while before the cut-over (its file is flushed at exit,
	# so count on the server).
	wait_until 10 eval '(($(sql_master "SELECT COUNT(*) FROM app.probe") >= 300))'
}

stop_writer() {
	kill "$WRITER_PID"
	wait "$WRITER_PID" || true
	WRITER_PID=
	cat "$W.err"
	"$REPO/tests/tools/appwriter-report" "$W" >"$W.report"
	cat "$W.report"
}

# acked PORT: the seqs acknowledged by that server, sorted.
acked() { awk -v p="$1" '$1 == "a" && $4 == p { print $2 }' "$W" | sort; }
rows() { _sb_sql "$1" "SELECT seq FROM app.probe" | sort; }
# first_ack_ms PORT: when that server first acknowledged a row (Unix ms).
first_ack_ms() { awk -v p="$1" '$1 == "a" && $4 == p { print int($3 / 1000); exit }' "$W"; }
# event_ms STEP STATUS: when the daemon reported it (Unix ms).
event_ms() {
	jq -r --arg s "$1" --arg st "$2" 'select(.type == "step" and .step == $s and .status == $st) | .at_unix_ms | floor' <<<"$output"
}

# cutover_under_load FLAVOR: the checks shared by every flavor.
cutover_under_load() {
	start_cutover "$1"
	run --separate-stderr ctl --json promote main --yes
	echo "$output" | tail -n 1
	echo "$stderr"
	sleep 0.3
	stop_writer
	[[ $status == 0 ]]
	REPORT=$(tail -n 1 <<<"$output")
	jq -e '.outcome == "promoted" and .switched and .hooks.on_switch.ok == true' <<<"$REPORT"

	# The application wrote to both servers, never to the old one after
	# the switch, and lost nothing: every row either server acknowledged
	# is on the new master, and so is every row the old master holds.
	local old_acks new_acks
	old_acks=$(acked "$MASTER_PORT" | wc -l)
	new_acks=$(acked "$REPLICA_PORT" | wc -l)
	echo "acks: old $old_acks, new $new_acks"
	((old_acks > 0 && new_acks > 0))
	[[ -z $(comm -23 <(acked "$MASTER_PORT") <(rows master)) ]]
	[[ -z $(comm -23 <(rows master) <(rows replica)) ]]
	[[ -z $(comm -23 <(cat <(acked "$MASTER_PORT") <(acked "$REPLICA_PORT") | sort) <(rows replica)) ]]
	local switched last_old
	switched=$(jq -r '.switched_at_unix_ms' <<<"$REPORT")
	last_old=$(awk -v p="$MASTER_PORT" '$1 == "a" && $4 == p { t = $3 } END { print int(t / 1000) }' "$W")
	echo "last old ack $last_old, switched at $switched"
	((last_old <= switched))

	# The application wrote to the new master while replication was still
	# being stopped (RDS: 3 s and more), not only after it.
	local first_new stop_begin stop_end
	first_new=$(first_ack_ms "$REPLICA_PORT")
	stop_begin=$(event_ms stop running)
	stop_end=$(event_ms stop done)
	echo "first write on the new master at $first_new; stop from $stop_begin to $stop_end"
	((first_new < stop_end))
	jq -e '[.steps[] | select(.step == "stop")][0].duration_ms > 0' <<<"$REPORT"
	not_configured
}

not_configured() { [[ -z $(mariadb --defaults-file="$SB/replica-root.cnf" -N -B -e 'SHOW SLAVE STATUS') ]]; }

@test "cut-over through HAProxy under load, rds-mysql: nothing lost, the application on the new master before the stop ends" {
	cutover_under_load rds-mysql
	# The RDS stop takes its 3 s: all of it after the application moved.
	jq -e '[.steps[] | select(.step == "stop")][0].duration_ms >= 2900' <<<"$REPORT"
}

@test "cut-over through HAProxy under load, rds-mysql-84 (rds_stop_replication, rds_reset_external_source)" {
	cutover_under_load rds-mysql-84
	jq -e '[.steps[] | select(.step == "reset")][0].detail | test("rds_reset_external_source")' <<<"$REPORT"
}

@test "cut-over through HAProxy under load, rds-mariadb" {
	cutover_under_load rds-mariadb
}

@test "cut-over through HAProxy under load, self-managed mariadb: the switch makes the replica writable" {
	cutover_under_load mariadb
	jq -e '.replica_read_only == false' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "switch")][0].detail | test("writable")' <<<"$REPORT"
	[[ $(sql_replica "SELECT @@global.read_only") == 0 ]]
}

@test "a failing switch through HAProxy rolls back: the application back on the old master, nothing lost" {
	# The hook moves the traffic, then fails (as a half-done switch would):
	# the rollback must run it back and leave the old master serving.
	local hook=$BATS_TEST_TMPDIR/switch-then-fail
	cat >"$hook" <<-EOF
	#!/bin/sh
	"$REPO/conf/hooks/haproxy-switch" "\$@" || exit \$?
	[ "\$REPLWATCH_SWITCH_DIRECTION" = back ] && exit 0
	echo "switched, then failed on purpose"
	exit 1
	EOF
	chmod +x "$hook"
	start_cutover mariadb "$hook"
	run --separate-stderr ctl --json promote main --yes
	echo "$output" | tail -n 2
	echo "$stderr"
	[[ $status == 1 && $stderr == *aborted* ]]
	# The application writes to the old master again.
	local n
	n=$(sql_master "SELECT COUNT(*) FROM app.probe")
	wait_until 10 eval '(($(sql_master "SELECT COUNT(*) FROM app.probe") > n + 100))'
	sleep 0.3
	stop_writer
	REPORT=$(jq -c 'select(.type == "report")' <<<"$output")
	jq -e '.outcome == "aborted" and (.switched | not) and .hooks.on_switch.ok == false and .hooks.on_switch_back.ok == true' <<<"$REPORT"
	grep -q 'hook on_switch: .*back: traffic to' "$DAEMON_LOG"
	jq -e '.todo | any(test("may have written to the replica"))' <<<"$REPORT"
	# Rolled back: the replica read-only and replicating, the old master
	# writable and unlocked.
	[[ $(sql_replica "SELECT @@global.read_only") == 1 ]]
	[[ $(sql_master "SELECT @@global.read_only") == 0 ]]
	[[ $(replica_status Slave_SQL_Running) == Yes ]]
	# Rows the application wrote to the replica in the moment it was
	# writable are not on the old master (the todo above says so); nothing
	# acknowledged may be missing from the server that acknowledged it.
	[[ -z $(comm -23 <(acked "$MASTER_PORT") <(rows master)) ]]
	[[ -z $(comm -23 <(acked "$REPLICA_PORT") <(rows replica)) ]]
	wait_until 10 eval '[[ -z $(comm -23 <(rows master) <(rows replica)) ]]'
}

@test "a freeze caught in a lock-wait cycle with the application ends its sessions instead of waiting out the lock wait" {
	# REFERENCE §4's trap: T2 holds a row lock and sleeps; S1 waits for
	# that row lock; the freeze's read_only waits for S1's statement; T2's
	# next statement would wait for read_only.  InnoDB sees no cycle.
	sandbox_up --flavor rds-mysql --replicate
	sql_replica "SET GLOBAL read_only = 0"
	daemon_start --master
	wait_state main ok 15
	local app=$SB/master-app.cnf
	mariadb --defaults-file="$app" -N -B -e "BEGIN;
		UPDATE app.items SET qty = qty + 1 WHERE id = 1; SELECT SLEEP(3);
		UPDATE app.items SET qty = qty + 1 WHERE id = 2; COMMIT" \
		>"$BATS_TEST_TMPDIR/t2.out" 2>&1 3>&- &
	local t2=$!
	sleep 0.3
	mariadb --defaults-file="$app" -N -B -e "UPDATE app.items SET qty = qty + 1 WHERE id = 1" \
		>"$BATS_TEST_TMPDIR/s1.out" 2>&1 3>&- &
	local s1=$!
	sleep 0.3
	run --separate-stderr ctl --json promote main --yes
	echo "$output" | tail -n 1
	wait "$t2" || true
	wait "$s1" || true
	cat "$BATS_TEST_TMPDIR/t2.out" "$BATS_TEST_TMPDIR/s1.out"
	grep 'freeze\|waited\|ending' "$DAEMON_LOG" || true
	[[ $status == 0 ]]
	REPORT=$(tail -n 1 <<<"$output")
	jq -e '.outcome == "promoted" and .fence.sessions_killed >= 2' <<<"$REPORT"
	# Unblocked by ending the sessions, not by the lock wait's time-out.
	grep -q 'SET GLOBAL read_only has waited 250 ms: ending the old master' "$DAEMON_LOG"
	run ! grep -q 'waited 2 s for a lock; retrying' "$DAEMON_LOG"
	# T2 never committed: its first update is on neither server.
	[[ $(sql_master "SELECT qty FROM app.items WHERE id = 2") == \
		"$(sql_replica "SELECT qty FROM app.items WHERE id = 2")" ]]
	[[ $(sql_master "CHECKSUM TABLE app.items" | cut -f2) == \
		"$(sql_replica "CHECKSUM TABLE app.items" | cut -f2)" ]]
	grep -q 'ERROR' "$BATS_TEST_TMPDIR/t2.out"
}
