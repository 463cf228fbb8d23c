#!/usr/bin/env bats
# After a promotion the target is watched as the new primary: the real
# replwatchd promotes a sandbox replica, then the new primary is made
# read-only, killed, restarted and the daemon restarted, and `status`,
# `check`, the event log and the on_state_change hook must follow
# (promoted <-> primary_read_only, promoted <-> primary_unreachable).  On
# every flavor the promote tests use; each test starts its own pair,
# because a promotion consumes it.
#
# Root changes read_only on the new primary: on RDS the admin user cannot
# (the DB parameter group decides), root emulates the group.  The sandbox
# starts its replica with read_only=ON in its option file, so a restarted
# new primary comes back read-only, as a server whose configuration still
# says "replica" does.

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
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

# start_promoted FLAVOR: a replicating pair, a daemon watching it (master
# configured, hysteresis 3, on_state_change appending "FROM TO" to
# $HOOK_LOG), promoted; STATE_DIR kept for restarts.
start_promoted() {
	local flavor=$1
	HOOK_LOG=$BATS_TEST_TMPDIR/hook.log
	printf '#!/bin/sh\necho "$REPLWATCH_FROM $REPLWATCH_TO" >>%s\n' "$HOOK_LOG" \
		>"$BATS_TEST_TMPDIR/hook.sh"
	chmod 0755 "$BATS_TEST_TMPDIR/hook.sh"
	sandbox_up --flavor "$flavor" --replicate
	# The RDS flavors' replica is read-only by its parameter group; the
	# team turns it off before a cut-over (root emulates the group).
	[[ $flavor == rds-* ]] && sql_replica "SET GLOBAL read_only = 0"
	DAEMON_LINES=('hysteresis = 3' "on_state_change = $BATS_TEST_TMPDIR/hook.sh")
	daemon_start --master "${DAEMON_LINES[@]}"
	STATE_DIR=$DAEMON_DIR/state
	wait_state main ok 15
	# Not promoted: no primary to speak of.
	jq -e '.primary == null' <<<"$(status_json main)"
	run --separate-stderr ctl --json promote main --yes
	[[ $status == 0 ]] || { printf '%s\n%s\n' "$output" "$stderr"; return 1; }
	wait_state main promoted 5
}

restart_daemon() {
	daemon_stop
	daemon_start --master "${DAEMON_LINES[@]}" '[daemon]' "state_dir = $STATE_DIR"
}

primary() { status_json main | jq -c .primary; }
primary_is() { jq -e "$1" <<<"$(primary)" >/dev/null; }
# state_reason STATE REGEX: both in one status (the state moves on its own)
state_reason() {
	status_json main | jq -e --arg s "$1" --arg re "$2" \
		'.state == $s and (.reason | test($re))' >/dev/null
}
# start_app / stop_app: the application writing on the new primary, a row
# every 50 ms, in the background (WRITER_PID): every poll sees the binlog move.
start_app() {
	(
		while :; do
			sql_replica app "INSERT INTO app.items (name, qty) VALUES ('on-new-primary', 1)"
			sleep 0.05
		done
	) 3>&- &
	WRITER_PID=$!
}
stop_app() {
	kill "$WRITER_PID"
	wait "$WRITER_PID" 2>/dev/null || true
	WRITER_PID=
}
# The transitions recorded in the event log, "FROM>TO" one a line.
transitions() { ctl --json events main | jq -r '.events[] | "\(.from)>\(.to)"'; }
hooked() { grep -qx "$1 $2" "$HOOK_LOG" 2>/dev/null; }

# The new primary's mariadbd: killed (SIGKILL, a crash) and started again
# as `sandbox up` does, from its own option file (read_only=ON in it).
kill_new_primary() {
	local pid
	pid=$(tr -dc 0-9 <"$SB/replica.pid")
	kill -KILL "$pid"
	wait_until 20 process_gone "$pid"
}
new_primary_answers() { sql_replica "SELECT 1" >/dev/null 2>&1; }
start_new_primary() {
	(
		exec setsid /usr/sbin/mariadbd --defaults-file="$SB/replica.cnf" \
			</dev/null >>"$SB/replica.err" 2>&1 3>&- 4>&-
	) &
	printf 'replica %s\n' "$!" >>"$SB/pids"
	wait_until 30 new_primary_answers
}

# The whole watch on one flavor; RO_WHY is the why_not of read_only=ON.
watch_cycle() {
	local flavor=$1 ro_why=$2 st

	start_promoted "$flavor"

	# Writable: reachable, read_only OFF, a binlog position; OK.
	wait_until 5 primary_is '.checked_unix_ms != null'
	st=$(status_json main)
	jq -e '.state == "promoted" and .reason == "new primary writable"' <<<"$st"
	jq -e '.primary | .reachable == true and .writable == true and .read_only == false and .why_not == null' <<<"$st"
	jq -e '.primary | (.binlog_file | type) == "string" and (.binlog_pos | type) == "number"' <<<"$st"
	jq -e '.replication == null' <<<"$st"
	run -0 ctl check main
	# binlog_moving: the application writes, then idles (no fault).
	start_app
	wait_until 10 primary_is '.binlog_moving == true'
	stop_app
	wait_until 5 primary_is '.binlog_moving == false'
	[[ $(state_of main) == promoted ]]

	# Read-only: at once, with why_not; CRITICAL.  Nothing of ours wrote.
	sql_replica "SET GLOBAL read_only = 1"
	wait_state main primary_read_only 5
	st=$(status_json main)
	jq -e --arg why "$ro_why" '.primary | .reachable == true and .writable == false and .read_only == true and .why_not == $why' <<<"$st"
	jq -e --arg why "$ro_why" '.reason == "new primary refuses writes: " + $why' <<<"$st"
	run -2 ctl check main
	[[ $output == *primary_read_only* ]]
	sql_replica "SET GLOBAL read_only = 0"
	wait_state main promoted 5
	run -0 ctl check main

	# Down: one failed poll does not page (hysteresis 3), then
	# primary_unreachable with the connect error (no password); CRITICAL.
	kill_new_primary
	wait_until 10 state_reason promoted 'did not answer.*\(primary_unreachable for [12] of 3 samples\)'
	wait_state main primary_unreachable 15
	st=$(status_json main)
	jq -e '.primary | .reachable == false and .writable == false and .read_only == null and .binlog_file == null and .binlog_moving == null' <<<"$st"
	jq -e '.primary.why_not | test("connect|Lost connection|gone away"; "i")' <<<"$st"
	jq -e '.reason | test("^new primary unreachable: ")' <<<"$st"
	jq -e '.polls.consecutive_failures >= 3' <<<"$st"
	run -2 ctl check main
	[[ $output == *primary_unreachable* ]]
	[[ $st != *"$(sed -n 's/^password=//p' "$SB/replica-admin.cnf")"* ]]

	# Back, read-only as its option file says: primary_read_only; made
	# writable again: promoted.
	start_new_primary
	wait_state main primary_read_only 20
	sql_replica "SET GLOBAL read_only = 0"
	wait_state main promoted 5
	run -0 ctl check main

	# Every change is an event and ran the hook.
	run -0 transitions
	printf '%s\n' "$output"
	[[ $output == *$'promoted>primary_read_only\nprimary_read_only>promoted\npromoted>primary_unreachable\nprimary_unreachable>primary_read_only\nprimary_read_only>promoted'* ]]
	wait_until 5 hooked promoted primary_read_only
	wait_until 5 hooked primary_unreachable primary_read_only
	hooked promoted primary_unreachable

	# A daemon restarted on the promoted journal still watches it.
	restart_daemon
	wait_state main promoted 5
	wait_until 5 primary_is '.writable == true'
	sql_replica "SET GLOBAL read_only = 1"
	wait_state main primary_read_only 5
	run -2 ctl check main
	sql_replica "SET GLOBAL read_only = 0"
	wait_state main promoted 5
	# A promoted target is not promoted twice, whatever its primary does.
	run -1 ctl promote main --yes
	[[ $output == *"already promoted"* ]]
}

@test "primary watch, rds-mysql: writable, read_only, killed, restarted, daemon restarted" {
	watch_cycle rds-mysql "read_only is ON (set by the DB parameter group)"
}

@test "primary watch, rds-mysql-84 (SHOW BINLOG STATUS)" {
	watch_cycle rds-mysql-84 "read_only is ON (set by the DB parameter group)"
}

@test "primary watch, rds-mariadb (status through rds_replica_status)" {
	watch_cycle rds-mariadb "read_only is ON (set by the DB parameter group)"
}

@test "primary watch, self-managed mariadb: read_only with no parameter-group note" {
	watch_cycle mariadb "read_only is ON"
}

@test "setup after a promotion whose new primary is read-only: a replica again, no longer watched as a primary" {
	local file pos st
	start_promoted rds-mysql
	sql_replica "SET GLOBAL read_only = 1"
	wait_state main primary_read_only 5
	# Replication from the old master again (not started): setup forgets
	# the promotion, and the replica's samples decide once more.
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	run --separate-stderr ctl --json setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user repl \
		--repl-password-file "$SB/repl.password" --binlog-file "$file" --binlog-pos "$pos"
	[[ $status == 0 ]] || { printf '%s\n%s\n' "$output" "$stderr"; return 1; }
	wait_until 10 eval '[[ $(state_of main) != @(promoted|primary_read_only|primary_unreachable|unknown) ]]'
	st=$(status_json main)
	jq -c '{state, reason}' <<<"$st"
	jq -e '.primary == null and .replication.configured == true' <<<"$st"
}
