#!/usr/bin/env bats
# The operator's verbs against the real replwatchd and real servers:
# skip-error (RDS's mysql.rds_skip_repl_error() as the sandbox emulates it,
# with its 2 s + 2 s sleeps; the skip counter natively) for every flavor
# the sandbox offers, on a real duplicate-key error; mute and unmute, their
# expiry, and a mute that outlives a daemon restart.

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
}

teardown() {
	daemon_stop_all
	[[ -n ${SB:-} ]] && sandbox_down "$SB"
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# broken_pair FLAVOR [DAEMON LINE...]: a replicating pair whose SQL thread
# stopped on a real duplicate key (1062): a row written on the replica alone,
# binlog off, then the same key on the master.
broken_pair() {
	local flavor=$1
	shift
	sandbox_up --flavor "$flavor" --replicate
	daemon_start "$@"
	wait_state main ok 15
	sql_replica "SET sql_log_bin = 0; INSERT INTO app.items (id, name, qty) VALUES (90001, 'replica-only', 1)"
	sql_master "INSERT INTO app.items (id, name, qty) VALUES (90001, 'from-master', 2)"
	wait_state main sql_error 10
	[[ $(replica_status Last_SQL_Errno) == 1062 ]]
}

statements_for() { # FLAVOR: what skip_error runs there, as a jq array
	case $1 in
	rds-*) echo '["CALL mysql.rds_skip_repl_error()"]' ;;
	mariadb) echo '["SET GLOBAL sql_slave_skip_counter = 1", "START REPLICA SQL_THREAD"]' ;;
	esac
}

skip_request() { # ERRNO: one raw skip_error request, its reply line
	rw_raw -t 60 "{\"id\": 1, \"cmd\": \"skip_error\", \"target\": \"main\", \"errno\": $1}"
}

check_skip_error() {
	local flavor=$1 pos
	broken_pair "$flavor"
	if [[ -n ${SKIP_GRANT:-} ]]; then
		sql_replica "SET sql_log_bin = 0; GRANT SUPER ON *.* TO 'admin'@'%'"
	fi
	pos=$(replica_status Exec_Master_Log_Pos)

	# Not on a terminal and no --yes: refused before anything is asked.
	run --separate-stderr ctl skip-error main </dev/null
	echo "no tty: $status $output $stderr"
	[[ $status == 64 && $stderr == *"needs --yes"* ]]

	# Another error number than the replica's: a structured refusal that
	# names both; nothing done.
	run -0 skip_request 1032
	echo "$output"
	jq -e '.ok == false and .error.code == "precondition_failed" and
	    (.error.message | test("1062") and test("not 1032") and test("Duplicate entry"))' <<<"$output"
	[[ $(replica_status Last_SQL_Errno) == 1062 && $(replica_status Exec_Master_Log_Pos) == "$pos" ]]

	# The right one: skipped, and the state afterwards in the reply.
	run --separate-stderr ctl --json skip-error main --yes
	echo "skip: $status $output $stderr"
	[[ $status == 0 && $stderr == *"stopped on error 1062: "*"Duplicate entry"* ]]
	jq -e --argjson s "$(statements_for "$flavor")" '.errno == 1062 and
	    (.error | test("Duplicate entry")) and .statements == $s and
	    .replication.sql_running == "Yes" and .replication.last_sql_errno == 0' <<<"$output"
	wait_state main ok 10
	# The master's row was the event skipped: the replica keeps its own,
	# and what the master writes next arrives.
	[[ $(sql_replica "SELECT name FROM app.items WHERE id = 90001") == replica-only ]]
	sql_master "INSERT INTO app.items (id, name, qty) VALUES (90002, 'after-skip', 3)"
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE id = 90002") == 1 ]]'

	# The event log says what was skipped, and who did it.
	run -0 ctl --json events main
	jq -e '[.events[] | select(.kind == "error_skipped")] | length == 1 and
	    (.[0] | .errno == 1062 and .by == "uid 0" and (.reason | test("Duplicate entry")))' <<<"$output"
	run -0 ctl events main
	[[ $output == *"main error_skipped 1062 by uid 0"*"Duplicate entry"* ]]
	grep -q "SQL error 1062 skipped by uid 0" "$DAEMON_LOG"

	# Nothing left to skip: the client says so, the daemon refuses.
	run --separate-stderr ctl skip-error main --yes
	[[ $status == 1 && $stderr == *"no SQL error to skip"* ]]
	run -0 skip_request 1062
	jq -e '.ok == false and .error.code == "precondition_failed" and (.error.message | test("running"))' <<<"$output"
}

@test "skip-error rds-mysql (mysql.rds_skip_repl_error): wrong errno refused, right one skips, event logged" {
	check_skip_error rds-mysql
}

@test "skip-error rds-mysql-84: wrong errno refused, right one skips, event logged" {
	check_skip_error rds-mysql-84
}

@test "skip-error rds-mariadb (status through rds_replica_status): wrong errno refused, right one skips" {
	check_skip_error rds-mariadb
}

@test "skip-error mariadb (skip counter, START REPLICA SQL_THREAD): wrong errno refused, right one skips" {
	# MariaDB 10.11 wants SUPER for sql_slave_skip_counter: the sandbox's
	# admin has REPLICATION SLAVE ADMIN only, so it is given SUPER here
	# (the test below shows the refusal without it).
	SKIP_GRANT=1 check_skip_error mariadb
}

@test "skip-error mariadb without SUPER: the server's refusal and what is missing; nothing skipped" {
	broken_pair mariadb
	run --separate-stderr ctl skip-error main --yes
	echo "$status $output $stderr"
	[[ $status == 1 && $stderr == *"server_error: SET GLOBAL sql_slave_skip_counter = 1: Access denied"*"needs SUPER"*"nothing was skipped"* ]]
	[[ $(replica_status Last_SQL_Errno) == 1062 && $(replica_status Skip_Counter) == 0 ]]
	run -0 ctl --json events main
	jq -e '[.events[] | select(.kind == "error_skipped")] | length == 0' <<<"$output"
}

@test "skip_error: one at a time; a second while RDS's procedure runs is busy, and only one event goes" {
	broken_pair rds-mysql
	# The next event fails too: if the second request went through, it
	# would skip this one as well.
	sql_replica "SET sql_log_bin = 0; INSERT INTO app.items (id, name, qty) VALUES (90003, 'replica-only', 1)"
	sql_master "INSERT INTO app.items (id, name, qty) VALUES (90003, 'from-master', 2)"
	local first=$BATS_TEST_TMPDIR/first
	skip_request 1062 >"$first" &
	local pid=$!
	wait_log 10 'control: skip_error main by uid'
	run -0 skip_request 1062
	echo "$output"
	jq -e '.error.code == "busy"' <<<"$output"
	# Nor a promotion: it would stop threads the skip is restarting.
	run -0 rw_raw '{"id": 1, "cmd": "promote", "target": "main"}'
	echo "$output"
	jq -e '.error.code == "busy" and (.error.message | test("promote once it is done"))' <<<"$output"
	wait "$pid"
	cat "$first"
	jq -e '.ok == true and .result.errno == 1062' "$first"
	# The first skipped one event; the replica stopped on the next.
	wait_state main sql_error 15
	[[ $(replica_status Last_SQL_Errno) == 1062 ]]
	jq -e '.result.note | test("stopped again")' "$first" ||
		jq -e '.result.replication.sql_running == "Yes"' "$first"
	run -0 ctl --json events main
	jq -e '[.events[] | select(.kind == "error_skipped")] | length == 1' <<<"$output"
}

@test "skip_error refused while a promotion is interrupted: resume or abort it first" {
	daemon_conf --offline
	# What a daemon killed during the catch-up leaves.
	mkdir -m 0750 "$DAEMON_DIR/state"
	printf '{"target": "main", "state": "running", "step": "catchup", "changed": []}\n' \
		>"$DAEMON_DIR/state/promotion-main.json"
	daemon_launch
	wait_state main promotion_interrupted 10
	run -0 skip_request 1062
	echo "$output"
	jq -e '.error.code == "precondition_failed" and (.error.message | test("interrupted: promote --resume or abort it first"))' <<<"$output"
}

@test "skip-error on a terminal: the error number must be typed; a wrong one skips nothing" {
	broken_pair mariadb
	sql_replica "SET sql_log_bin = 0; GRANT SUPER ON *.* TO 'admin'@'%'"
	# script(1) gives the client a terminal; what follows is typed on it.
	run script -qec "$CTL_BIN -s $SOCK skip-error main" /dev/null <<<"1032"
	echo "$output"
	[[ $status == 1 && $output == *"Type the error number (1062)"* && $output == *"'1032' is not 1062: nothing was skipped"* ]]
	[[ $(replica_status Last_SQL_Errno) == 1062 ]]
	run script -qec "$CTL_BIN -s $SOCK skip-error main" /dev/null <<<"1062"
	echo "$output"
	[[ $status == 0 && $output == *"main: skipped SQL error 1062"* && $output == *"now: IO Yes, SQL Yes"* ]]
	wait_state main ok 10
}

@test "skip-error: a SQL thread stopped by hand has no error to skip; not for a reader; bad errno" {
	sandbox_up --flavor mariadb --replicate
	daemon_start '[daemon]' 'socket_group = nogroup'
	chmod 0711 "$DAEMON_DIR"
	wait_state main ok 15
	sql_replica "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 10
	run -0 skip_request 1062
	jq -e '.ok == false and .error.code == "precondition_failed" and (.error.message | test("without an error"))' <<<"$output"
	[[ $(replica_status Slave_SQL_Running) == No ]]
	run -0 rw_raw -u nobody '{"id": 1, "cmd": "skip_error", "target": "main", "errno": 1062}'
	jq -e '.error.code == "permission_denied"' <<<"$output"
	for bad in 0 -1 1.5 '"1062"' 70000; do
		run -0 skip_request "$bad"
		jq -e '.error.code == "invalid_argument" and (.error.message | test("errno"))' <<<"$output"
	done
	run -0 rw_raw '{"id": 1, "cmd": "skip_error", "target": "main"}'
	jq -e '.error.code == "invalid_argument"' <<<"$output"
	[[ $(replica_status Slave_SQL_Running) == No ]]
}

@test "a muted target still polls and changes state; its hook runs with REPLWATCH_MUTED=1" {
	local hookout=$BATS_TEST_TMPDIR/hook.env hook=$BATS_TEST_TMPDIR/hook
	printf '#!/bin/sh\nenv | grep ^REPLWATCH_ >>%s\necho --- >>%s\n' "$hookout" "$hookout" >"$hook"
	chmod +x "$hook"
	sandbox_up --flavor mariadb --replicate
	daemon_start 'hysteresis = 1' "on_state_change = $hook"
	wait_state main ok 15
	run -0 ctl mute main --for 1h --reason "replica maintenance"
	sql_replica "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 10
	run -0 status_json main
	jq -e '.muted.reason == "replica maintenance" and .state == "sql_stopped"' <<<"$output"
	wait_until 10 grep -q 'REPLWATCH_TO=sql_stopped' "$hookout"
	# The environment of that run (one block per run, in env's order).
	local run_env
	run_env=$(awk -v RS='---\n' '/REPLWATCH_TO=sql_stopped/' "$hookout")
	echo "$run_env"
	grep -q '^REPLWATCH_MUTED=1$' <<<"$run_env"
	grep -qE '^REPLWATCH_MUTED_UNTIL=[0-9-]+T[0-9:.]+Z$' <<<"$run_env"
	# Before the mute, the first run said 0.
	awk -v RS='---\n' 'NR == 1' "$hookout" | grep -q '^REPLWATCH_MUTED=0$'
	sql_replica "START SLAVE SQL_THREAD"
	wait_state main ok 10
}

# -- mute: a target that does not answer is enough --

mute_file() { echo "$DAEMON_DIR/state/mute-main.json"; }

@test "mute --for 2h --reason: in status (JSON and text), the event log and state_dir; unmute" {
	daemon_start --offline
	local before after
	before=$(($(date +%s%3N) + 7200000))
	run --separate-stderr ctl mute main --for 2h --reason "kernel upgrade"
	echo "$status $output $stderr"
	after=$(($(date +%s%3N) + 7200000))
	[[ $status == 0 && $output =~ ^main:\ muted\ until\ [0-9-]+T[0-9:.]+[+-][0-9]{2}:[0-9]{2}\ \(in\ 1h59m\),\ by\ uid\ 0:\ kernel\ upgrade$ ]]
	run -0 status_json main
	jq -e --argjson lo "$before" --argjson hi "$after" '.muted.until_unix_ms >= $lo and
	    .muted.until_unix_ms <= $hi and .muted.reason == "kernel upgrade" and
	    .muted.by == "uid 0" and (.muted.until | test("Z$"))' <<<"$output"
	run -0 ctl status main
	[[ $output == *"  muted      until "*", by uid 0: kernel upgrade"* ]]
	run -0 ctl status
	[[ $output == *"[muted] "* ]]
	run -0 ctl --json events main
	jq -e '.events[-1] | .kind == "muted" and .by == "uid 0" and .reason == "kernel upgrade" and
	    (.until_unix_ms | type) == "number"' <<<"$output"
	jq -e '.target == "main" and .reason == "kernel upgrade"' "$(mute_file)"

	# Muting again replaces it.
	run -0 ctl --json mute main --for 90s
	jq -e '.muted.reason == null and .muted.until_unix_ms < '"$before" <<<"$output"

	run -0 ctl unmute main
	[[ $output == "main: unmuted" ]]
	run -0 status_json main
	jq -e '.muted == null' <<<"$output"
	[[ ! -e $(mute_file) ]]
	run -0 ctl --json events main
	jq -e '.events[-1] | .kind == "unmuted" and .by == "uid 0"' <<<"$output"
	run -0 ctl unmute main
	[[ $output == "main: was not muted" ]]
}

@test "mute: bad durations and arguments are refused, nothing muted" {
	daemon_start --offline '[daemon]' 'socket_group = nogroup'
	chmod 0711 "$DAEMON_DIR"
	for d in 2 0s 8d 7d1s 2x 1.5h -2h ''; do
		run --separate-stderr ctl mute main --for "$d"
		echo "--for '$d': $status $stderr"
		[[ $status == 64 && $stderr == *"--for"* ]]
	done
	run --separate-stderr ctl mute main
	[[ $status == 64 && $stderr == *"--for is required"* ]]
	for a in '"for_s": 0' '"for_s": 604801' '"for_s": 1.5' '"for_s": "2h"' '"reason": "x"' \
		'"for_s": 60, "reason": "two\nlines"' '"for_s": 60, "reason": 5'; do
		run -0 rw_raw "{\"id\": 1, \"cmd\": \"mute\", \"target\": \"main\", $a}"
		echo "$a: $output"
		jq -e '.error.code == "invalid_argument"' <<<"$output"
	done
	run -0 rw_raw -u nobody '{"id": 1, "cmd": "mute", "target": "main", "for_s": 60}'
	jq -e '.error.code == "permission_denied"' <<<"$output"
	run -0 status_json main
	jq -e '.muted == null' <<<"$output"
	[[ ! -e $(mute_file) ]]
}

@test "a mute ends by itself: the unmuted event is the daemon's, the file goes" {
	daemon_start --offline
	run -0 ctl mute main --for 2s
	wait_until 10 eval 'status_json main | jq -e ".muted == null" >/dev/null'
	run -0 ctl --json events main
	jq -e '.events[-1] | .kind == "unmuted" and .by == null and .reason == "expired"' <<<"$output"
	[[ ! -e $(mute_file) ]]
	grep -q 'unmuted: expired' "$DAEMON_LOG"
}

@test "a mute survives a daemon restart; one that ended while it was down is dropped" {
	daemon_start --offline
	run -0 ctl --json mute main --for 1d --reason "migration"
	local until
	until=$(jq .muted.until_unix_ms <<<"$output")
	daemon_stop
	[[ -s $(mute_file) ]]
	daemon_launch
	run -0 status_json main
	jq -e --argjson u "$until" '.muted.until_unix_ms == $u and .muted.reason == "migration" and .muted.by == "uid 0"' <<<"$output"
	grep -q 'still muted until' "$DAEMON_LOG"

	# Its end passes while the daemon is down.
	daemon_stop
	jq '.until_unix_ms = 1000' "$(mute_file)" >"$BATS_TEST_TMPDIR/m" && cp "$BATS_TEST_TMPDIR/m" "$(mute_file)"
	daemon_launch
	run -0 status_json main
	jq -e '.muted == null' <<<"$output"
	[[ ! -e $(mute_file) ]]
	grep -q 'ended while replwatchd was not running' "$DAEMON_LOG"

	# A file that is not a mute is reported, not obeyed.
	daemon_stop
	echo '{"version": 1, "target": "other"}' >"$(mute_file)"
	daemon_launch
	run -0 status_json main
	jq -e '.muted == null' <<<"$output"
	grep -q 'not the mute of main' "$DAEMON_LOG"
}
