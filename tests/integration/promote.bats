#!/usr/bin/env bats
# The promotion (cut-over) end to end: the real replwatchd against a sandbox
# master + replica pair, driven through replwatchctl, with RDS's real
# procedure timings (the stop takes its 3 s).  Each test starts its own pair
# (about 6 s) and daemon, because a promotion consumes the pair.
#
# The steps (daemon/promote.c): preflight -> freeze -> catchup -> switch ->
# stop -> reset -> verify -> done.  The freeze is the default when a master is
# configured; the switch (replica writable, on_switch) is the point of no
# return: before it a failure rolls back, after it the promotion is left
# interrupted for --resume.  After "promoted" the old master stays fenced
# (read_only plus a global read lock held by the daemon) until unfence.
#
# The old master is configured (master_host, master_option_file = the
# sandbox's master-root.cnf); interval 250 ms.  Writers that must be refused
# by read_only run as the unprivileged app user (root bypasses read_only);
# root's writes are held back only by the fence's global read lock.

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
	# The crash tests' daemon: rebuilt if promote.c changed since (make
	# integration does it too; a lone bats run must not test old code).
	make -s -C "$REPO" tests/replwatchd-faults >/dev/null ||
		skip "cannot build tests/replwatchd-faults"
}

teardown() {
	[[ -n ${WRITER_PID:-} ]] && { kill "$WRITER_PID" 2>/dev/null; wait "$WRITER_PID" 2>/dev/null; }
	[[ -n ${BG_PID:-} ]] && { kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; }
	daemon_stop_all
	[[ -n ${SB:-} ]] && sandbox_down "$SB"
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# Extra lines for every daemon_start of the current test (hooks...).
DAEMON_EXTRA=()

# pair_up [FLAVOR]: a replicating sandbox (seeded: app.items 300 rows).
#
# On the RDS flavors the replica's read_only comes from its DB parameter
# group: SQL cannot change it, and the sandbox starts every replica with
# read_only=ON, as RDS does with a read replica's default group.  The
# preflight refuses that (the application could not write after the switch).
# Before a cut-over the team sets read_only=0 in the replica's parameter
# group; root emulates that here (admin, the RDS master user, gets 1227).
# KEEP_REPLICA_RO=1 leaves it ON (the test of that refusal).  The self-managed
# `mariadb` flavor keeps read_only=ON: the switch turns it off by SQL.
pair_up() {
	local flavor=${1:-rds-mysql}
	sandbox_up --flavor "$flavor" --replicate
	if [[ $flavor == rds-* && ${KEEP_REPLICA_RO:-0} != 1 ]]; then
		sql_replica "SET GLOBAL read_only = 0"
	fi
}

# start_pair [FLAVOR]: pair_up, and a daemon watching it with the master
# configured; waits for "ok".
start_pair() {
	pair_up "$@"
	watch_pair
}
# watch_pair: the daemon (with DAEMON_EXTRA) on the current pair; waits for "ok"
watch_pair() {
	daemon_start --master "${DAEMON_EXTRA[@]}"
	wait_state main ok 15
}

# restart_daemon: a new daemon on the same state directory (the old one must
# have exited, or is stopped here); REPLWATCH_TEST_CRASH is never passed on.
# STATE_DIR: the state directory of the first daemon, kept by every restart.
restart_daemon() {
	STATE_DIR=$(state_dir)
	if daemon_alive; then daemon_stop; fi
	REPLWATCH_TEST_CRASH= daemon_start --master "${DAEMON_EXTRA[@]}" '[daemon]' "state_dir = $STATE_DIR"
}
state_dir() { echo "${STATE_DIR:-$DAEMON_DIR/state}"; }
# journal: the promotion journal of target main
journal() { echo "$(state_dir)/promotion-main.json"; }

# crash_daemon_start POINT [FLAVOR]: a sandbox pair and a daemon (the test
# build, tests/replwatchd-faults) that SIGKILLs itself at POINT of a
# promotion (REPLWATCH_TEST_CRASH=begin:STEP|end:STEP).
crash_daemon_start() {
	pair_up "${2:-rds-mysql}"
	REPLWATCH_TEST_CRASH=$1 DAEMON_BIN=$REPO/tests/replwatchd-faults \
	    daemon_start --master "${DAEMON_EXTRA[@]}"
	wait_state main ok 15
}

master_ro() { sql_master "SELECT @@global.read_only"; }
replica_ro() { sql_replica "SELECT @@global.read_only"; }
replicating() {
	[[ $(replica_status Slave_IO_Running) == Yes && $(replica_status Slave_SQL_Running) == Yes ]]
}
not_configured() { [[ -z $(mariadb --defaults-file="$SB/replica-root.cnf" -N -B -e 'SHOW SLAVE STATUS') ]]; }
# "COUNT CHECKSUM" of app.items on master|replica
items_sig() {
	local n c
	n=$(_sb_sql "$1" "SELECT COUNT(*) FROM app.items") || return 1
	c=$(_sb_sql "$1" "CHECKSUM TABLE app.items" | cut -f2) || return 1
	echo "$n $c"
}
same_items() { [[ $(items_sig master) == "$(items_sig replica)" ]]; }
# set_delay N: MASTER_DELAY on the replica, natively as root
set_delay() {
	sql_replica "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=$1; START SLAVE"
	wait_until 10 replicating
}
insert_master() { sql_master app "INSERT INTO app.items (name, qty) VALUES ('${1:-x}', 1)"; }
lag_over() { (($(status_json main | jq '.lag.ms // 0') > $1)); }

# root_commit NAME: as root on the old master, INSERT (autocommit) with
# lock_wait_timeout=1.  Root passes read_only; only a global read lock (the
# fence) stops it, with error 1205 after 1 s.
root_commit() {
	sql_master "SET SESSION lock_wait_timeout = 1; INSERT INTO app.items (name, qty) VALUES ('${1:-root}', 1)"
}
# fenced: root cannot commit on the old master (1205), and the row is not there
fenced() {
	run -1 --separate-stderr root_commit fenced-probe
	[[ $stderr == *"ERROR 1205"* ]] || { echo "root_commit: $stderr" >&2; return 1; }
	[[ $(sql_master "SELECT COUNT(*) FROM app.items WHERE name = 'fenced-probe'") == 0 ]]
}
app_sessions() { sql_master "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'"; }
# fence_held: the daemon says it holds the fence's lock
fence_held() { [[ $(status_json main | jq -r '.promotion.fence.lock.held') == true ]]; }

# start_writer LOG: the application, in the background (WRITER_PID): one
# INSERT per connection as the unprivileged app user on the old master,
# each outcome logged ("ok N" or "err N <message>"); returns once 20 rows
# were written.
start_writer() {
	local log=$1
	(
		i=0
		while :; do
			i=$((i + 1))
			if out=$(mariadb --defaults-file="$SB/master-app.cnf" -N -B \
				-e "INSERT INTO app.items (name, qty) VALUES ('w$i', $i)" 2>&1); then
				echo "ok $i"
			else
				echo "err $i ${out//$'\n'/ }"
			fi
		done >"$log"
	) 3>&- &
	WRITER_PID=$!
	wait_until 10 eval '(($(grep -c "^ok" "$log") >= 20))'
}
stop_writer() {
	kill "$WRITER_PID"
	wait "$WRITER_PID" 2>/dev/null || true
	WRITER_PID=
}

# promote ARGS: run `replwatchctl --json promote main ARGS --yes`; REPORT is
# the last JSON line of stdout (the result, or the report event), EVENTS the
# step events (a JSON array).
promote() {
	run --separate-stderr ctl --json promote main "$@" --yes
	REPORT=$(grep '^{' <<<"$output" | tail -n 1)
	EVENTS=$(grep '^{"type":"step"' <<<"$output" | jq -s .)
}
# step_at STEP STATUS: at_unix_ms of that step event (fails if there is none)
step_at() {
	jq -e --arg s "$1" --arg st "$2" \
		'[.[] | select(.step == $s and .status == $st)][0].at_unix_ms' <<<"$EVENTS"
}
# step_status STEP: its status in REPORT
step_status() { jq -r --arg s "$1" '[.steps[] | select(.step == $s)][0].status' <<<"$REPORT"; }

# Print what a failed assertion needs.
show() {
	printf 'status=%s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$output" "${stderr:-}"
}

# write_hook [EXIT]: $BATS_TEST_TMPDIR/hook.sh writes its REPLWATCH_*
# environment to $BATS_TEST_TMPDIR/$REPLWATCH_EVENT.env, prints a line and
# exits EXIT (default 0).
write_hook() {
	{
		echo '#!/bin/sh'
		echo 'env | grep "^REPLWATCH_" | sort >"$(dirname "$0")/$REPLWATCH_EVENT.env.tmp"'
		echo 'mv "$(dirname "$0")/$REPLWATCH_EVENT.env.tmp" "$(dirname "$0")/$REPLWATCH_EVENT.env"'
		echo "echo \"hook \$REPLWATCH_EVENT: exit ${1:-0}\""
		echo "exit ${1:-0}"
	} >"$BATS_TEST_TMPDIR/hook.sh"
	chmod 0755 "$BATS_TEST_TMPDIR/hook.sh"
}

# write_switch_hook [FORWARD_EXIT]: the on_switch command
# $BATS_TEST_TMPDIR/switch.sh (written once the sandbox is up, as it reads
# both servers as root, and before the daemon starts, which checks that the
# command is an executable).  Each run appends one line to $BATS_TEST_TMPDIR/switch.log,
# read at its start:
#   DIRECTION AT_UNIX_MS new=HOST:PORT old=HOST:PORT replica_ro=0|1
#   replica_sql=Yes|No|none master_ro=0|1
# (replica_sql none: no replication configured), then exits FORWARD_EXIT
# (default 0) on a forward run, 0 on a back run.
write_switch_hook() {
	local r=$SB/replica-root.cnf m=$SB/master-root.cnf log=$BATS_TEST_TMPDIR/switch.log
	cat >"$BATS_TEST_TMPDIR/switch.sh" <<-SCRIPT
		#!/bin/sh
		now=\$(date +%s%3N)
		r_ro=\$(mariadb --defaults-file=$r -N -B -e 'SELECT @@global.read_only')
		r_sql=\$(mariadb --defaults-file=$r -e 'SHOW SLAVE STATUS\\G' | awk '\$1 == "Slave_SQL_Running:" { print \$2 }')
		m_ro=\$(mariadb --defaults-file=$m -N -B -e 'SELECT @@global.read_only')
		echo "\$REPLWATCH_SWITCH_DIRECTION \$now new=\$REPLWATCH_NEW_MASTER_HOST:\$REPLWATCH_NEW_MASTER_PORT old=\$REPLWATCH_OLD_MASTER_HOST:\$REPLWATCH_OLD_MASTER_PORT replica_ro=\$r_ro replica_sql=\${r_sql:-none} master_ro=\$m_ro" >>$log
		echo "switch \$REPLWATCH_SWITCH_DIRECTION"
		[ "\$REPLWATCH_SWITCH_DIRECTION" = back ] && exit 0
		exit ${1:-0}
	SCRIPT
	chmod 0755 "$BATS_TEST_TMPDIR/switch.sh"
}

@test "promote --no-freeze: an idle master's replica is promoted, the old master untouched; status, journal and restart agree" {
	start_pair
	insert_master a
	wait_until 10 same_items
	promote --no-freeze
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms == null and .switched == true' <<<"$REPORT"
	# Without a freeze the final coordinates are the master's position
	# before the catch-up: here, everything the master had written.
	[[ $(jq -r '.final.log_file + ":" + .final.log_pos' <<<"$REPORT") == \
		"$(sql_master 'SHOW MASTER STATUS' | cut -f1,2 --output-delimiter=:)" ]]
	jq -e '.final.source | test("not frozen")' <<<"$REPORT"
	[[ $(step_status freeze) == skipped ]]
	# Nothing fenced, and the report says who can still write: everyone.
	jq -e '.fence.frozen == false and .fence.locked == false and .fence.sessions_killed == 0' <<<"$REPORT"
	jq -e '.fence.can_still_write | map(test("everyone")) | any' <<<"$REPORT"
	jq -e '.todo | map(test("not frozen \\(--no-freeze\\)")) | any' <<<"$REPORT"
	jq -e '.todo | map(test("no on_switch command")) | any' <<<"$REPORT"
	jq -e '.hooks.on_switch == null and .hooks.on_promoted == null' <<<"$REPORT"
	# No replication left on the replica; the old master was not frozen.
	not_configured
	[[ $(master_ro) == 0 ]]
	same_items
	local st
	st=$(status_json main)
	jq -e '.state == "promoted" and .promotion.state == "promoted"' <<<"$st"
	jq -e --argjson r "$REPORT" '.promotion.final.log_file == $r.final.log_file and .promotion.final.log_pos == $r.final.log_pos' <<<"$st"
	[[ -f $(journal) ]]
	jq -e '.state == "promoted" and (.changed | index("reset_done")) and (.changed | index("master_read_only") | not)' \
		"$(journal)"
	# A promoted target is not promoted twice.
	promote
	[[ $status == 1 && $stderr == *precondition_failed*already\ promoted* ]]
	restart_daemon
	wait_state main promoted 5
	jq -e '.promotion.state == "promoted"' <<<"$(status_json main)"
	[[ $(master_ro) == 0 ]]
	daemon_stop
}

@test "promote (freeze by default) under a writer: nothing lost, writes refused from the freeze on" {
	start_pair
	local log=$BATS_TEST_TMPDIR/writer.log
	start_writer "$log"
	promote --max-lag 5
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0 and .final.log_file != null' <<<"$REPORT"
	jq -e '.final.source == "master at the freeze" and .fence.frozen == true and .fence.locked == true' <<<"$REPORT"
	[[ $(step_status freeze) == done ]]
	# The writer keeps trying after the cut-over: it must see read_only.
	wait_until 10 grep -q 'ERROR 1290' "$log"
	local n1 n2
	n1=$(sql_master "SELECT COUNT(*) FROM app.items")
	sleep 0.5
	n2=$(sql_master "SELECT COUNT(*) FROM app.items")
	stop_writer
	[[ $n1 == "$n2" ]]
	# No success after the first refusal.
	local first_err last_ok
	first_err=$(grep -n '^err' "$log" | head -n 1 | cut -d: -f1)
	last_ok=$(grep -n '^ok' "$log" | tail -n 1 | cut -d: -f1)
	echo "first refused at line $first_err, last success at line $last_ok"
	((last_ok < first_err))
	# Every committed row (and nothing else) is on the promoted replica.
	((n1 > 300))
	echo "master $(items_sig master) replica $(items_sig replica)"
	same_items
	[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name LIKE 'w%'") == $(grep -c '^ok' "$log") ]]
	[[ $(master_ro) == 1 ]]
	not_configured
	# The final position is the master's.
	[[ $(jq -r '.final.log_pos' <<<"$REPORT") == "$(sql_master 'SHOW MASTER STATUS' | cut -f2)" ]]
}

@test "promote: preflight refuses lag over --max-lag (--force passes), an SQL error (even forced), stopped replication" {
	start_pair
	# 1. Lag.
	set_delay 30
	insert_master lagging
	wait_until 10 lag_over 1500
	promote --max-lag 1
	show
	[[ $status == 1 && $stderr == *precondition_failed*over\ --max-lag* ]]
	replicating
	[[ $(master_ro) == 0 ]]
	[[ $(replica_status SQL_Delay) == 30 ]]
	# --force gets past the lag (a dry run shows it).
	promote --max-lag 1 --force --dry-run
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "dry_run" and (.todo | map(test("forced past")) | any)' <<<"$REPORT"
	replicating
	[[ $(master_ro) == 0 ]]
	# 2. An SQL error: duplicate key.
	set_delay 0
	wait_until 15 same_items
	sql_replica "SET sql_log_bin = 0; INSERT INTO app.items (id, name, qty) VALUES (100000, 'replica-only', 1)"
	sql_master "INSERT INTO app.items (id, name, qty) VALUES (100000, 'master', 1)"
	wait_state main sql_error 10
	for force in "" --force; do
		promote $force
		show
		[[ $status == 1 && $stderr == *precondition_failed*1062* ]]
	done
	[[ $(replica_status Last_SQL_Errno) == 1062 ]]
	[[ $(replica_status Slave_IO_Running) == Yes ]]
	[[ $(master_ro) == 0 ]]
	# 3. Replication stopped (the duplicate skipped first, then a clean stop).
	sql_replica "SET sql_log_bin = 0; DELETE FROM app.items WHERE id = 100000"
	sql_replica "START SLAVE SQL_THREAD"
	wait_state main ok 10
	run ctl stop main
	[[ $status == 0 ]]
	wait_until 10 eval '[[ $(replica_status Slave_SQL_Running) == No ]]'
	promote
	show
	[[ $status == 1 && $stderr == *precondition_failed* ]]
	[[ $(replica_status Master_Host) == 127.0.0.1 ]]
	[[ $(master_ro) == 0 ]]
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('still-writable', 1)"
}

@test "promote: a catch-up time-out rolls back (master writable, replication running) and runs on_promote_failed" {
	DAEMON_EXTRA=("on_promote_failed = $BATS_TEST_TMPDIR/hook.sh")
	write_hook
	start_pair
	set_delay 10
	insert_master delayed
	promote --freeze-master --max-lag 100 --timeout 2
	show
	[[ $status == 1 && $stderr == *aborted*catch-up\ timed\ out* ]]
	jq -e '.type == "report" and .outcome == "aborted" and .switched == false' <<<"$REPORT"
	[[ $(step_status catchup) == failed && $(step_status switch) == pending ]]
	[[ $(master_ro) == 0 ]]
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after-rollback', 1)"
	# The rollback released the freeze's lock: root commits at once.
	root_commit after-rollback-root
	replicating
	[[ $(replica_status Master_Host) == 127.0.0.1 ]]
	wait_until 10 eval '[[ $(state_of main) == @(ok|lagging|lag_critical) ]]'
	jq -e '.promotion.state == "aborted"' <<<"$(status_json main)"
	# The way out of "promoting" is a published change like any other:
	# promoting -> unknown (with the promotion's reason), then the samples.
	run -0 ctl --json events main
	jq -e '[.events[] | [.from, .to]] as $e | ($e | rindex([["promoting", "unknown"]])) as $i
		| $i != null and ($e[$i - 1][1] == "promoting") and ($e[$i + 1][0] == "unknown")' <<<"$output"
	jq -e '[.events[] | select(.from == "promoting")][-1].reason | test("catch-up timed out")' <<<"$output"
	# The hook saw the failure.
	wait_until 5 test -s "$BATS_TEST_TMPDIR/promote_failed.env"
	cat "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -qx 'REPLWATCH_TARGET=main' "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -qx 'REPLWATCH_OUTCOME=aborted' "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -q '^REPLWATCH_REASON=.*catch-up timed out' "$BATS_TEST_TMPDIR/promote_failed.env"
	# After the delay everything arrives.
	wait_until 15 same_items
}

@test "promote: SIGKILL at the start of the catch-up, restart: promotion_interrupted; --resume finishes" {
	crash_daemon_start begin:catchup
	insert_master before-crash
	promote
	show
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=begin:catchup: killing myself' "$DAEMON_LOG"
	jq -e '.state == "running" and .step == "catchup" and .fence.frozen == true and .switched == false' \
		"$(journal)"
	[[ $(master_ro) == 1 ]]
	local frozen
	frozen=$(jq '.frozen_at_unix_ms' "$(journal)")
	restart_daemon
	wait_state main promotion_interrupted 5
	jq -e '.promotion.state == "interrupted" and (.reason | test("or abort"))' <<<"$(status_json main)"
	# A new promotion is refused while one is interrupted.
	promote
	[[ $status == 1 && $stderr == *precondition_failed*resume* ]]
	local resumed
	resumed=$(date +%s%3N)
	promote --resume
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .final.log_file != null' <<<"$REPORT"
	# Writes were blocked from the journaled freeze, before the crash, to
	# the switch after the resume: not from the resume.
	jq -e --argjson f "$frozen" --argjson r "$resumed" '.frozen_at_unix_ms == $f and
		.write_blocked_ms == .switched_at_unix_ms - $f and .write_blocked_ms >= $r - $f' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: SIGKILL in the preflight, restart: nothing changed, so --resume starts again with the preflight's checks" {
	crash_daemon_start begin:preflight
	promote
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	jq -e '.state == "running" and .step == "preflight" and .changed == []' "$(journal)"
	restart_daemon
	wait_state main promotion_interrupted 5
	jq -e '.reason | test("nothing was changed yet")' <<<"$(status_json main)"
	# A check the preflight would fail: the replica's SQL thread stopped.
	sql_replica "STOP SLAVE SQL_THREAD"
	promote --resume
	show
	[[ $status == 1 && $stderr == *precondition_failed*"SQL thread is not running"* ]]
	[[ $(master_ro) == 0 ]]
	sql_replica "START SLAVE SQL_THREAD"
	wait_until 10 replicating
	wait_state main ok 10
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted"' <<<"$REPORT"
	[[ $(step_status preflight) == done ]]
}

@test "promote: SIGKILL after the reset: abort refused, --resume verifies and finishes" {
	crash_daemon_start end:reset
	promote
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=end:reset: killing myself' "$DAEMON_LOG"
	jq -e '(.changed | index("reset_done")) and .state == "running"' "$(journal)"
	not_configured
	restart_daemon
	wait_state main promotion_interrupted 5
	run --separate-stderr ctl abort main
	show
	[[ $status == 1 && $stderr == *precondition_failed*point\ of\ no\ return* ]]
	promote --resume
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted"' <<<"$REPORT"
	[[ $(step_status verify) == done ]]
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: abort of a promotion interrupted before the switch rolls back from the journal" {
	crash_daemon_start begin:switch
	insert_master before-crash
	promote
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=begin:switch: killing myself' "$DAEMON_LOG"
	jq -e '.step == "switch" and .switched == false' "$(journal)"
	[[ $(master_ro) == 1 ]]
	restart_daemon
	wait_state main promotion_interrupted 5
	run --separate-stderr ctl --json abort main
	show
	[[ $status == 0 ]]
	jq -e '.aborted == true' <<<"$output"
	wait_until 10 eval '[[ $(master_ro) == 0 ]]'
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after-abort', 1)"
	root_commit after-abort-root
	# Replication was never stopped.
	replicating
	wait_state main ok 10
	wait_until 10 same_items
	jq -e '.promotion.state == "aborted"' <<<"$(status_json main)"
	# Nothing left to resume.
	promote --resume
	[[ $status == 1 && $stderr == *not_found* ]]
}

@test "promote: a second request is busy, in this daemon and in another one (GET_LOCK); abort cancels" {
	start_pair
	set_delay 10
	insert_master delayed
	ctl --json promote main --max-lag 100 --timeout 60 --yes \
		>"$BATS_TEST_TMPDIR/p1.out" 2>"$BATS_TEST_TMPDIR/p1.err" 3>&- &
	BG_PID=$!
	wait_until 10 eval '[[ $(status_json main | jq -r ".promotion.step") == catchup ]]'
	wait_state main promoting 1
	promote
	show
	[[ $status == 1 && $stderr == *busy* ]]
	# Another daemon, same replica.
	local s1=$SOCK d1=$DAEMON_DIR p1=$DAEMON_PID l1=$DAEMON_LOG
	daemon_start --master
	promote --max-lag 100
	show
	[[ $status == 1 && $stderr == *busy*lock* ]]
	daemon_stop
	SOCK=$s1 DAEMON_DIR=$d1 DAEMON_PID=$p1 DAEMON_LOG=$l1
	# The first is still running; cancel it.
	jq -e '.promotion.state == "running"' <<<"$(status_json main)"
	run ctl abort main
	show
	[[ $status == 0 ]]
	local rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	cat "$BATS_TEST_TMPDIR/p1.out" "$BATS_TEST_TMPDIR/p1.err"
	[[ $rc == 1 ]]
	grep -q 'aborted' "$BATS_TEST_TMPDIR/p1.err"
	[[ $(master_ro) == 0 ]]
	replicating
}

# as_nobody CMD...: run CMD as nobody:nogroup, no supplementary groups
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

@test "promote, setup, stop, unfence: permission_denied for a uid that is not admin" {
	start_pair
	chmod 0755 "$DAEMON_DIR"
	chmod 0666 "$SOCK"
	# It can connect and read...
	run as_nobody "$CTL_BIN" -s "$SOCK" --json hello
	show
	[[ $status == 0 ]]
	jq -e '.admin == false' <<<"$output"
	local -a client=("$CTL_BIN" -s "$SOCK")
	run --separate-stderr as_nobody "${client[@]}" promote main --yes
	show
	[[ $status == 1 && $stderr == *permission_denied* ]]
	run --separate-stderr as_nobody "${client[@]}" stop main
	show
	[[ $status == 1 && $stderr == *permission_denied* ]]
	run --separate-stderr as_nobody "${client[@]}" setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user repl --repl-password-stdin \
		--binlog-file master-bin.000001 --binlog-pos 4 <<<"not-the-password"
	show
	[[ $status == 1 && $stderr == *permission_denied* ]]
	run --separate-stderr as_nobody "${client[@]}" abort main
	[[ $status == 1 && $stderr == *permission_denied* ]]
	run --separate-stderr as_nobody "${client[@]}" unfence main
	[[ $status == 1 && $stderr == *permission_denied* ]]
	# ...and nothing changed.
	replicating
	[[ $(master_ro) == 0 ]]
	[[ $(state_of main) == ok ]]
}

@test "promote --dry-run changes nothing and prints the plan (the freeze by default, none with --no-freeze)" {
	start_pair
	promote --dry-run
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "dry_run"' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "master" and (.sql | test("read_only = ON")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "master" and (.sql | test("KILL CONNECTION")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "master" and (.sql | test("fence until replwatchctl unfence")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "replica" and (.sql | test("rds_reset_external_master")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.sql | test("rds_stop_replication"))] | length == 1' <<<"$REPORT"
	# No secret in the output.
	local pw
	for f in "$SB/repl.password" "$SB/master-root.cnf" "$SB/replica-admin.cnf"; do
		pw=$(sed -n 's/^password=//p' "$f")
		[[ -n $pw ]] || pw=$(<"$f")
		[[ $output != *"$pw"* && $stderr != *"$pw"* ]]
	done
	# --no-freeze: nothing planned on the master.
	promote --dry-run --no-freeze
	show
	[[ $status == 0 ]]
	jq -e '[.plan[] | select(.on == "master")] | length == 0' <<<"$REPORT"
	[[ $(master_ro) == 0 ]]
	replicating
	[[ ! -e $(journal) ]]
	[[ $(state_of main) == ok ]]
}

@test "promote on the RDS MySQL 8.4 flavor (rds_reset_external_source)" {
	start_pair rds-mysql-84
	insert_master eightfour
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "reset")][0].detail | test("rds_reset_external_source")' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote --freeze-master (the default, still accepted) on the RDS MariaDB flavor (status through rds_replica_status)" {
	start_pair rds-mariadb
	jq -e '.server.status_sql | test("rds_replica_status")' <<<"$(status_json main)"
	insert_master mariadb-rds
	promote --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0 and .fence.locked == true' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: on_promoted runs after success with the target and the final coordinates" {
	DAEMON_EXTRA=("on_promoted = $BATS_TEST_TMPDIR/hook.sh" "on_promote_failed = $BATS_TEST_TMPDIR/hook.sh")
	write_hook
	start_pair
	promote
	show
	[[ $status == 0 ]]
	jq -e '.hooks.on_promoted.ok == true and .hooks.on_switch == null' <<<"$REPORT"
	# The report comes once the hook has finished.
	[[ -s $BATS_TEST_TMPDIR/promoted.env ]]
	local env=$BATS_TEST_TMPDIR/promoted.env
	cat "$env"
	grep -qx 'REPLWATCH_TARGET=main' "$env"
	grep -qx 'REPLWATCH_EVENT=promoted' "$env"
	grep -qx "REPLWATCH_FINAL_FILE=$(jq -r .final.log_file <<<"$REPORT")" "$env"
	grep -qx "REPLWATCH_FINAL_POS=$(jq -r .final.log_pos <<<"$REPORT")" "$env"
	grep -qx "REPLWATCH_FINAL_POS=$(sql_master 'SHOW MASTER STATUS' | cut -f2)" "$env"
	grep -qx "REPLWATCH_NEW_MASTER_PORT=$REPLICA_PORT" "$env"
	[[ ! -e $BATS_TEST_TMPDIR/promote_failed.env ]]
}

@test "promote --no-freeze never stops short of the master's position" {
	start_pair
	# The replica has not received the master's newest row: its IO thread is
	# stopped.  Everything it received is applied, which alone would look
	# "caught up"; the master's position says otherwise.
	sql_replica "STOP SLAVE IO_THREAD"
	insert_master unseen
	promote --no-freeze --force --max-lag 100 --timeout 2
	show
	[[ $status == 1 ]]
	[[ $stderr == *aborted* ]]
	[[ $(step_status freeze) == skipped && $(step_status catchup) == failed ]]
	jq -e '.switched == false' <<<"$REPORT"
	# Nothing was stopped or reset: the replica can still get the row.
	run ! not_configured
	[[ $(master_ro) == 0 ]]
	sql_replica "START SLAVE IO_THREAD"
	wait_until 10 same_items
}

@test "promote on self-managed MariaDB: the switch makes the new master writable natively" {
	start_pair mariadb
	insert_master a
	wait_until 10 same_items
	[[ $(replica_ro) == 1 ]]
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .replica_read_only == false' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "switch")][0].detail | test("replica made writable")' <<<"$REPORT"
	# No parameter-group note: SQL could do it here.
	jq -e '[.todo[] | select(test("parameter group"))] | length == 0' <<<"$REPORT"
	[[ $(replica_ro) == 0 ]]
	not_configured
	[[ $(master_ro) == 1 ]]
	same_items
	# The application may write on the new master.
	sql_replica app "INSERT INTO app.items (name, qty) VALUES ('after', 1)"
}

# kill_stop_call WHEN: in the background, KILL CONNECTION the daemon's
# CALL mysql.rds_stop_replication() on the replica (the only procedure that
# sleeps during the promotion: its stop step, after the switch), either
# "before" the procedure stopped anything (in its first 1 s sleep) or
# "after" (once replication is down, in its last 2 s sleep).  Sets BG_PID.
kill_stop_call() {
	(
		local id deadline=$((SECONDS + 30))
		while ((SECONDS < deadline)); do
			# Inside the procedure the connection shows its definer
			# and the statement it is at.
			id=$(sql_replica "SELECT ID FROM information_schema.PROCESSLIST
				WHERE USER = 'rdsadmin' AND INFO LIKE 'DO SLEEP%' LIMIT 1")
			if [[ -n $id ]]; then
				if [[ $1 == after ]]; then
					until [[ $(replica_status Slave_SQL_Running) == No ]]; do
						((SECONDS < deadline)) || exit 1
						sleep 0.05
					done
				fi
				# (KILL QUERY would only cut the SLEEP short: the
				# procedure goes on.)
				sql_replica "KILL CONNECTION $id"
				echo "killed $id ($1)" >"$BATS_TEST_TMPDIR/killed"
				exit 0
			fi
			sleep 0.05
		done
		exit 1
	) &
	BG_PID=$!
}

@test "promote: the stop call killed before it stopped anything (after the switch): interrupted, --resume finishes, nothing lost" {
	start_pair
	insert_master before
	kill_stop_call before
	promote
	show
	wait "$BG_PID"
	BG_PID=
	grep -q before "$BATS_TEST_TMPDIR/killed"
	[[ $status == 1 && $stderr == *server_error*resume* ]]
	jq -e '.outcome == "interrupted" and .switched == true' <<<"$REPORT"
	jq -e '.reason | test("failed after the switch \\(stop\\).*promote --resume")' <<<"$REPORT"
	[[ $(step_status switch) == done && $(step_status stop) == failed ]]
	wait_state main promotion_interrupted 5
	# Past the point of no return: no rollback, no abort; the old master
	# stays read-only and fenced, the replica still replicates.
	run --separate-stderr ctl abort main
	[[ $status == 1 && $stderr == *precondition_failed*point\ of\ no\ return* ]]
	[[ $(master_ro) == 1 ]]
	replicating
	run -1 insert_master refused-while-interrupted
	wait_until 5 fence_held
	fenced
	promote --resume
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted"' <<<"$REPORT"
	[[ $(step_status stop) == done && $(step_status verify) == done ]]
	not_configured
	same_items
	[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name = 'before'") == 1 ]]
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
	# Promoted through --resume in the same daemon: fenced all the same.
	wait_until 5 fence_held
	fenced
}

@test "promote: the stop call killed after replication stopped still counts: promoted, never a false failure" {
	start_pair
	kill_stop_call after
	promote
	show
	wait "$BG_PID"
	BG_PID=
	grep -q after "$BATS_TEST_TMPDIR/killed"
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted"' <<<"$REPORT"
	grep -q 'answered.*but the stop took effect' "$DAEMON_LOG"
	not_configured
	same_items
}

@test "promote with the real RDS timings reports each step; the write freeze ends at the switch, before the 3 s stop" {
	start_pair
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms != null' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "stop")][0].duration_ms >= 3000' <<<"$REPORT"
	jq -e '[.steps[].status] == ["done","done","done","done","done","done","done","done"]' <<<"$REPORT"
	# write_blocked_ms is freeze -> switch; the stop runs after the switch.
	jq -e '.write_blocked_ms == .switched_at_unix_ms - .frozen_at_unix_ms' <<<"$REPORT"
	local switched stop_running
	switched=$(jq -r .switched_at_unix_ms <<<"$REPORT")
	stop_running=$(step_at stop running)
	echo "switched at $switched, stop running at $stop_running"
	((switched <= stop_running))
	(($(step_at freeze done) <= $(step_at catchup running)))
	(($(step_at catchup done) <= $(step_at switch running)))
	not_configured
	same_items
}

@test "promote --no-freeze is refused while the application writes to the master (nothing changed); --force goes on" {
	start_pair
	local log=$BATS_TEST_TMPDIR/writer.log
	start_writer "$log"
	promote --no-freeze
	show
	[[ $status == 1 && $stderr == *precondition_failed*no-freeze\ while\ the\ old\ master*moves* ]]
	jq -e '.outcome == "aborted" and .switched == false and .fence.frozen == false' <<<"$REPORT"
	[[ $(step_status preflight) == failed && $(step_status freeze) == pending ]]
	# Nothing was changed: the master writable (the writer still commits),
	# replication running, no journal of a running promotion.
	[[ $(master_ro) == 0 ]]
	replicating
	local n
	n=$(grep -c '^ok' "$log")
	wait_until 10 eval '(($(grep -c "^ok" "$log") > n + 5))'
	wait_until 10 eval '[[ $(state_of main) == @(ok|lagging) ]]'
	jq -e '.promotion.state == "aborted"' <<<"$(status_json main)"
	# --force: promoted, the old master left as it was, and the report says
	# what that costs.
	promote --no-freeze --force --max-lag 5
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .fence.frozen == false and .fence.locked == false' <<<"$REPORT"
	jq -e '.todo | map(test("forced past: --no-freeze while the old master.s binary log moved")) | any' <<<"$REPORT"
	jq -e '.fence.can_still_write | map(test("everyone")) | any' <<<"$REPORT"
	not_configured
	[[ $(master_ro) == 0 ]]
	# The writer still commits on the old master: rows the new master lacks.
	n=$(grep -c '^ok' "$log")
	wait_until 10 eval '(($(grep -c "^ok" "$log") > n + 5))'
	stop_writer
	run ! same_items
}

@test "promote: afterwards the old master is fenced (root cannot commit: 1205); the report names who could; unfence releases it" {
	start_pair
	# Two application sessions on the old master, which the freeze ends: one
	# in a long statement, one idle in a transaction that has written a row
	# and would commit 8 s later.
	mariadb --defaults-file="$SB/master-app.cnf" -N -B -e "SELECT SLEEP(600)" \
		>"$BATS_TEST_TMPDIR/busy.out" 2>&1 3>&- &
	BG_PID=$!
	{
		echo "BEGIN; INSERT INTO app.items (name, qty) VALUES ('open-trx', 1);"
		sleep 8
		echo "COMMIT;"
	} | mariadb --defaults-file="$SB/master-app.cnf" >"$BATS_TEST_TMPDIR/trx.out" 2>&1 3>&- &
	WRITER_PID=$!
	wait_until 10 eval '[[ $(app_sessions) == 2 ]]'
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .fence.frozen == true and .fence.locked == true and .fence.released == false' <<<"$REPORT"
	jq -e '.fence.sessions_killed >= 2' <<<"$REPORT"
	local rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	cat "$BATS_TEST_TMPDIR/busy.out"
	((rc != 0))
	[[ $(app_sessions) == 0 ]]
	# The open transaction was rolled back, never acknowledged: its row is
	# on neither server, and its COMMIT fails.
	[[ $(sql_master "SELECT COUNT(*) FROM app.items WHERE name = 'open-trx'") == 0 ]]
	[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name = 'open-trx'") == 0 ]]
	same_items
	# Who read_only does not stop: the root accounts (SUPER), held back only
	# by the daemon's global read lock.
	jq -r '.fence.can_still_write[]' <<<"$REPORT"
	jq -e --arg a "'root'@'localhost'" --arg b "'root'@'127.0.0.1'" \
		'.fence.can_still_write | map(contains($a) and contains($b) and contains("unfence")) | any' <<<"$REPORT"
	jq -e '.todo | map(test("fenced.*unfence")) | any' <<<"$REPORT"
	jq -e '.promotion.fence.locked == true and .promotion.fence.lock.held == true' <<<"$(status_json main)"
	# The fence: read_only for the application, the lock for root.
	[[ $(master_ro) == 1 ]]
	run -1 --separate-stderr insert_master app-after
	[[ $stderr == *"ERROR 1290"* ]]
	fenced
	# Still held a few pings later (the daemon pings it every second).
	sleep 2.5
	fence_held
	fenced
	# unfence: the lock goes, read_only stays.
	run --separate-stderr ctl --json unfence main
	show
	[[ $status == 0 ]]
	jq -e '.target == "main" and .released == true' <<<"$output"
	root_commit root-after-unfence
	[[ $(sql_master "SELECT COUNT(*) FROM app.items WHERE name = 'root-after-unfence'") == 1 ]]
	[[ $(master_ro) == 1 ]]
	run -1 insert_master app-after-unfence
	jq -e '.promotion.fence.released == true and (.promotion.fence | has("lock") | not)' <<<"$(status_json main)"
	jq -e '.changed | index("fence_released")' "$(journal)"
	# Nothing left to release.
	run --separate-stderr ctl unfence main
	show
	[[ $status == 1 && $stderr == *not_found* ]]
	# The transaction's client, at its COMMIT: the connection is gone.
	rc=0
	wait "$WRITER_PID" || rc=$?
	WRITER_PID=
	cat "$BATS_TEST_TMPDIR/trx.out"
	((rc != 0))
	[[ $(sql_master "SELECT COUNT(*) FROM app.items WHERE name = 'open-trx'") == 0 ]]
}

@test "promote: the fence survives a daemon restart; after unfence a restart does not take it again" {
	start_pair
	promote
	show
	[[ $status == 0 ]]
	fenced
	restart_daemon
	wait_state main promoted 5
	wait_log 10 'fencing the old master again'
	wait_until 10 fence_held
	fenced
	[[ $(master_ro) == 1 ]]
	# Lost while held (an operator kills the daemon's sessions there, the
	# fence's and the monitor's): taken again.
	local id
	id=$(sql_master "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'root' AND ID <> CONNECTION_ID() ORDER BY ID")
	echo "root sessions on the old master: $id"
	for i in $id; do sql_master "KILL CONNECTION $i" || true; done
	wait_log 10 'fence on the old master is lost'
	wait_until 10 fence_held
	fenced
	# Released, then restarted: not taken again.
	run ctl unfence main
	[[ $status == 0 ]]
	restart_daemon
	wait_state main promoted 5
	jq -e '.promotion.fence.released == true' <<<"$(status_json main)"
	root_commit after-unfence-restart
}

@test "promote: on_switch runs forward once, after the catch-up and before the stop, with the new and old master" {
	DAEMON_EXTRA=("on_switch = $BATS_TEST_TMPDIR/switch.sh")
	pair_up
	write_switch_hook 0
	watch_pair
	insert_master before
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .switched == true and .hooks.on_switch.ok == true' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "switch")][0].detail | test("moved by on_switch")' <<<"$REPORT"
	jq -e '.todo | map(test("no on_switch")) | any | not' <<<"$REPORT"
	local log=$BATS_TEST_TMPDIR/switch.log
	cat "$log"
	[[ $(wc -l <"$log") == 1 ]]
	local dir at new old r_ro r_sql m_ro
	read -r dir at new old r_ro r_sql m_ro <"$log"
	[[ $dir == forward ]]
	[[ $new == "new=127.0.0.1:$REPLICA_PORT" && $old == "old=127.0.0.1:$MASTER_PORT" ]]
	# At the switch: the old master frozen, the replica writable and still
	# replicating (the stop comes after).
	[[ $m_ro == master_ro=1 && $r_ro == replica_ro=0 && $r_sql == replica_sql=Yes ]]
	# The order: catch-up done <= the hook <= the stop begins.
	local caught stop
	caught=$(step_at catchup done)
	stop=$(step_at stop running)
	echo "catchup done $caught, hook $at, stop running $stop"
	((caught <= at && at <= stop))
	(($(jq -r .switched_at_unix_ms <<<"$REPORT") >= at))
	not_configured
	same_items
}

@test "promote: a failing on_switch rolls back: hook run back, replica read-only again, master writable, replication running" {
	DAEMON_EXTRA=("on_switch = $BATS_TEST_TMPDIR/switch.sh")
	pair_up mariadb
	write_switch_hook 1
	watch_pair
	[[ $(replica_ro) == 1 ]]
	insert_master before
	promote
	show
	[[ $status == 1 && $stderr == *aborted*switch\ failed*rolled\ back* ]]
	jq -e '.outcome == "aborted" and .switched == false' <<<"$REPORT"
	[[ $(step_status switch) == failed && $(step_status stop) == pending ]]
	jq -e '[.steps[] | select(.step == "switch")][0].detail | test("exited with status 1")' <<<"$REPORT"
	jq -e '.reason | test("switch failed.*exited with status 1.*rolled back")' <<<"$REPORT"
	jq -e '.fence.frozen == false and .fence.locked == false' <<<"$REPORT"
	# Both runs of the hook: forward failed, back succeeded.
	jq -e '.hooks.on_switch.ok == false and (.hooks.on_switch.detail | test("exited with status 1"))' <<<"$REPORT"
	jq -e '.hooks.on_switch_back.ok == true and (.hooks.on_switch_back.detail | test("^exited 0"))' <<<"$REPORT"
	# Rows the application may have written on the replica meanwhile: said.
	jq -e '.todo | map(test("written to the replica after on_switch started")) | any' <<<"$REPORT"
	local log=$BATS_TEST_TMPDIR/switch.log
	cat "$log"
	[[ $(wc -l <"$log") == 2 ]]
	local dir at new old r_ro r_sql m_ro
	{ read -r dir at new old r_ro r_sql m_ro; } < <(sed -n 1p "$log")
	[[ $dir == forward && $r_ro == replica_ro=0 ]]
	{ read -r dir at new old r_ro r_sql m_ro; } < <(sed -n 2p "$log")
	# Back: the traffic to the old master, the replica already read-only again.
	[[ $dir == back ]]
	[[ $new == "new=127.0.0.1:$MASTER_PORT" && $old == "old=127.0.0.1:$REPLICA_PORT" ]]
	[[ $r_ro == replica_ro=1 && $r_sql == replica_sql=Yes ]]
	# Everything as before.
	[[ $(replica_ro) == 1 ]]
	[[ $(master_ro) == 0 ]]
	replicating
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after-rollback', 1)"
	root_commit after-rollback-root
	run -1 sql_replica app "INSERT INTO app.items (name, qty) VALUES ('replica-write', 1)"
	wait_until 10 same_items
	[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name IN ('before', 'after-rollback')") == 2 ]]
	wait_until 10 eval '[[ $(state_of main) == ok ]]'
	jq -e '.promotion.state == "aborted"' <<<"$(status_json main)"
}

@test "promote: SIGKILL right after the switch: interrupted and still fenced, abort refused, --resume finishes promoted and fenced" {
	crash_daemon_start end:switch
	insert_master before-crash
	promote
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=end:switch: killing myself' "$DAEMON_LOG"
	jq -e '.state == "running" and .switched == true and (.changed | index("switched"))' \
		"$(journal)"
	# Nothing after the switch happened: replication still configured.
	[[ $(replica_status Master_Host) == 127.0.0.1 ]]
	[[ $(master_ro) == 1 ]]
	restart_daemon
	wait_state main promotion_interrupted 5
	jq -e '.promotion.state == "interrupted" and (.reason | test("no way back"))' <<<"$(status_json main)"
	# The application has moved: the restarted daemon fences the old master
	# again while the promotion waits for --resume.
	wait_until 10 fence_held
	fenced
	run --separate-stderr ctl abort main
	show
	[[ $status == 1 && $stderr == *precondition_failed*point\ of\ no\ return* ]]
	promote --resume
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .fence.locked == true' <<<"$REPORT"
	[[ $(step_status stop) == done && $(step_status reset) == done && $(step_status verify) == done ]]
	not_configured
	same_items
	[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name = 'before-crash'") == 1 ]]
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
	# Promoted through a resume by another daemon: fenced like any other.
	# (A resumed promotion once took the fence as MySQL's, with
	# super_read_only, and never held it on MariaDB: fixed in 2250fc0.)
	fence_held
	fenced
}

@test "promote: on_promoted failing: still promoted, exit status 3, the report says so" {
	DAEMON_EXTRA=("on_promoted = $BATS_TEST_TMPDIR/hook.sh" "on_promote_failed = $BATS_TEST_TMPDIR/hook.sh")
	write_hook 7
	start_pair
	promote
	show
	[[ $status == 3 ]]
	jq -e '.outcome == "promoted" and .hooks.on_promoted.ok == false' <<<"$REPORT"
	jq -e '.hooks.on_promoted.detail | test("exited with status 7")' <<<"$REPORT"
	jq -e '.todo | map(test("on_promoted hook failed")) | any' <<<"$REPORT"
	[[ -s $BATS_TEST_TMPDIR/promoted.env ]]
	# A failed on_promoted is not a failed promotion.
	[[ ! -e $BATS_TEST_TMPDIR/promote_failed.env ]]
	not_configured
	same_items
	wait_state main promoted 5
	jq -e '.promotion.hooks.on_promoted.ok == false' <<<"$(status_json main)"
	# The fence is held all the same.
	fenced
}

@test "promote: an RDS replica with read_only ON (parameter group) is refused by preflight; --force promotes and says what to do" {
	KEEP_REPLICA_RO=1 start_pair
	[[ $(replica_ro) == 1 ]]
	promote
	show
	[[ $status == 1 && $stderr == *precondition_failed*read_only\ is\ ON\ on\ the\ RDS\ replica* ]]
	jq -e '.outcome == "aborted" and .switched == false and .fence.frozen == false' <<<"$REPORT"
	[[ $(step_status preflight) == failed && $(step_status freeze) == pending ]]
	# Nothing was changed.
	[[ $(master_ro) == 0 ]]
	replicating
	insert_master after-refusal
	wait_until 10 same_items
	wait_until 10 eval '[[ $(state_of main) == ok ]]'
	promote --force
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .replica_read_only == true' <<<"$REPORT"
	jq -e '.todo | map(test("forced past: read_only is ON on the RDS replica")) | any' <<<"$REPORT"
	jq -e '.todo | map(test("read_only = 0 in its DB parameter group")) | any' <<<"$REPORT"
	# SQL did not touch it (RDS: the parameter group decides): the
	# application is refused on the new master until it is changed there.
	[[ $(replica_ro) == 1 ]]
	run -1 --separate-stderr sql_replica app "INSERT INTO app.items (name, qty) VALUES ('refused', 1)"
	[[ $stderr == *"ERROR 1290"* ]]
	not_configured
	same_items
}
