#!/usr/bin/env bats
# The promotion (cut-over) end to end: the real replwatchd against a sandbox
# master + replica pair, driven through replwatchctl.  Each test starts its
# own pair (about 1 s) and daemon, because a promotion consumes the pair.
#
# The old master is configured (master_host, master_option_file = the
# sandbox's master-root.cnf); interval 250 ms.  Writers that must be refused
# by read_only run as the unprivileged app user (root bypasses read_only).

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
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

# start_pair [FLAVOR]: a replicating sandbox (seeded: app.items 300 rows) and
# a daemon watching it with the master configured; waits for "ok".
start_pair() {
	sandbox_up --flavor "${1:-rds-mysql}" --replicate
	daemon_start --master "${DAEMON_EXTRA[@]}"
	wait_state main ok 15
}

# restart_daemon: a new daemon on the same state directory (the old one must
# have exited, or is stopped here); REPLWATCH_TEST_CRASH is never passed on.
restart_daemon() {
	local state=$DAEMON_DIR/state
	if daemon_alive; then daemon_stop; fi
	REPLWATCH_TEST_CRASH= daemon_start --master "${DAEMON_EXTRA[@]}" '[daemon]' "state_dir = $state"
}

# crash_daemon_start POINT: a sandbox pair and a daemon that SIGKILLs itself
# at POINT of a promotion (REPLWATCH_TEST_CRASH=begin:STEP|end:STEP).
crash_daemon_start() {
	sandbox_up --replicate
	REPLWATCH_TEST_CRASH=$1 DAEMON_BIN=$REPO/tests/replwatchd-faults \
	    daemon_start --master "${DAEMON_EXTRA[@]}"
	wait_state main ok 15
}

master_ro() { sql_master "SELECT @@global.read_only"; }
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

# promote ARGS: run `replwatchctl --json promote main ARGS --yes`; REPORT is
# the last JSON line of stdout (the result, or the report event).
promote() {
	run --separate-stderr ctl --json promote main "$@" --yes
	REPORT=$(grep '^{' <<<"$output" | tail -n 1)
}

# Print what a failed assertion needs.
show() {
	printf 'status=%s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$output" "${stderr:-}"
}

@test "promote: a healthy replica (no freeze) is promoted; status, journal and restart agree" {
	start_pair
	insert_master a
	wait_until 10 same_items
	promote
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms == null' <<<"$REPORT"
	# Without a freeze the final coordinates are where the replica stopped:
	# here, everything the master had written.
	[[ $(jq -r '.final.log_file + ":" + .final.log_pos' <<<"$REPORT") == \
		"$(sql_master 'SHOW MASTER STATUS' | cut -f1,2 --output-delimiter=:)" ]]
	jq -e '[.steps[] | select(.step == "freeze")][0].status == "skipped"' <<<"$REPORT"
	# No replication left on the replica; the old master was not frozen.
	not_configured
	[[ $(master_ro) == 0 ]]
	same_items
	local st
	st=$(status_json main)
	jq -e '.state == "promoted" and .promotion.state == "promoted"' <<<"$st"
	jq -e --argjson r "$REPORT" '.promotion.final.log_file == $r.final.log_file and .promotion.final.log_pos == $r.final.log_pos' <<<"$st"
	[[ -f $DAEMON_DIR/state/promotion-main.json ]]
	jq -e '.state == "promoted" and .reset_done == true' "$DAEMON_DIR/state/promotion-main.json"
	# A promoted target is not promoted twice.
	promote
	[[ $status == 1 && $stderr == *precondition_failed*already\ promoted* ]]
	restart_daemon
	wait_state main promoted 5
	jq -e '.promotion.state == "promoted"' <<<"$(status_json main)"
	daemon_stop
}

@test "promote --freeze-master under a writer: nothing lost, writes refused after the freeze" {
	start_pair
	local log=$BATS_TEST_TMPDIR/writer.log
	# The application: one INSERT per connection as the unprivileged app
	# user, each outcome logged ("ok N" or "err N <message>").
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
	promote --freeze-master --max-lag 5
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0 and .final.log_file != null' <<<"$REPORT"
	# The writer keeps trying after the cut-over: it must see read_only.
	wait_until 10 grep -q 'ERROR 1290' "$log"
	local n1 n2
	n1=$(sql_master "SELECT COUNT(*) FROM app.items")
	sleep 0.5
	n2=$(sql_master "SELECT COUNT(*) FROM app.items")
	kill "$WRITER_PID"
	wait "$WRITER_PID" 2>/dev/null || true
	WRITER_PID=
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
	promote --max-lag 1 --force --dry-run --freeze-master
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
	jq -e '.type == "report" and .outcome == "aborted"' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "catchup")][0].status == "failed"' <<<"$REPORT"
	[[ $(master_ro) == 0 ]]
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after-rollback', 1)"
	replicating
	[[ $(replica_status Master_Host) == 127.0.0.1 ]]
	wait_until 10 eval '[[ $(state_of main) == @(ok|lagging|lag_critical) ]]'
	jq -e '.promotion.state == "aborted"' <<<"$(status_json main)"
	# The hook saw the failure.
	wait_until 5 test -s "$BATS_TEST_TMPDIR/promote_failed.env"
	cat "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -qx 'REPLWATCH_TARGET=main' "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -qx 'REPLWATCH_OUTCOME=aborted' "$BATS_TEST_TMPDIR/promote_failed.env"
	grep -q '^REPLWATCH_REASON=.*catch-up timed out' "$BATS_TEST_TMPDIR/promote_failed.env"
	# After the delay everything arrives.
	wait_until 15 same_items
}

# write_hook: $BATS_TEST_TMPDIR/hook.sh writes its REPLWATCH_* environment to
# $BATS_TEST_TMPDIR/$REPLWATCH_EVENT.env
write_hook() {
	cat >"$BATS_TEST_TMPDIR/hook.sh" <<'EOF'
#!/bin/sh
env | grep '^REPLWATCH_' | sort >"$(dirname "$0")/$REPLWATCH_EVENT.env.tmp"
mv "$(dirname "$0")/$REPLWATCH_EVENT.env.tmp" "$(dirname "$0")/$REPLWATCH_EVENT.env"
EOF
	chmod 0755 "$BATS_TEST_TMPDIR/hook.sh"
}

@test "promote: SIGKILL at the start of the catch-up, restart: promotion_interrupted; --resume finishes" {
	crash_daemon_start begin:catchup
	insert_master before-crash
	promote --freeze-master
	show
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=begin:catchup: killing myself' "$DAEMON_LOG"
	jq -e '.state == "running" and .step == "catchup" and .frozen == true' "$DAEMON_DIR/state/promotion-main.json"
	[[ $(master_ro) == 1 ]]
	restart_daemon
	wait_state main promotion_interrupted 5
	jq -e '.promotion.state == "interrupted"' <<<"$(status_json main)"
	# A new promotion is refused while one is interrupted.
	promote --freeze-master
	[[ $status == 1 && $stderr == *precondition_failed*resume* ]]
	promote --resume
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .final.log_file != null' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: SIGKILL after the reset: abort refused, --resume verifies and finishes" {
	crash_daemon_start end:reset
	promote --freeze-master
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	grep -q 'REPLWATCH_TEST_CRASH=end:reset: killing myself' "$DAEMON_LOG"
	jq -e '.reset_done == true and .state == "running"' "$DAEMON_DIR/state/promotion-main.json"
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
	jq -e '[.steps[] | select(.step == "verify")][0].status == "done"' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: abort of a promotion interrupted before the reset rolls back from the journal" {
	crash_daemon_start begin:catchup
	promote --freeze-master
	[[ $status != 0 ]]
	wait_until 5 process_gone "$DAEMON_PID"
	[[ $(master_ro) == 1 ]]
	restart_daemon
	wait_state main promotion_interrupted 5
	run --separate-stderr ctl --json abort main
	show
	[[ $status == 0 ]]
	jq -e '.aborted == true' <<<"$output"
	wait_until 10 eval '[[ $(master_ro) == 0 ]]'
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after-abort', 1)"
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
	ctl --json promote main --freeze-master --max-lag 100 --timeout 60 --yes \
		>"$BATS_TEST_TMPDIR/p1.out" 2>"$BATS_TEST_TMPDIR/p1.err" 3>&- &
	BG_PID=$!
	wait_until 10 eval '[[ $(status_json main | jq -r ".promotion.step") == catchup ]]'
	wait_state main promoting 1
	promote --freeze-master
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

@test "promote, setup, stop: permission_denied for a uid that is not admin" {
	start_pair
	chmod 0755 "$DAEMON_DIR"
	chmod 0666 "$SOCK"
	# It can connect and read...
	run as_nobody "$CTL_BIN" -s "$SOCK" --json hello
	show
	[[ $status == 0 ]]
	jq -e '.admin == false' <<<"$output"
	local -a client=("$CTL_BIN" -s "$SOCK")
	run --separate-stderr as_nobody "${client[@]}" promote main --freeze-master --yes
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
	# ...and nothing changed.
	replicating
	[[ $(master_ro) == 0 ]]
	[[ $(state_of main) == ok ]]
}

@test "promote --dry-run changes nothing and prints the plan" {
	start_pair
	promote --dry-run --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "dry_run"' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "master" and (.sql | test("read_only = ON")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.on == "replica" and (.sql | test("rds_reset_external_master")))] | length == 1' <<<"$REPORT"
	jq -e '[.plan[] | select(.sql | test("rds_stop_replication"))] | length == 1' <<<"$REPORT"
	# No secret in the output.
	local pw
	for f in "$SB/repl.password" "$SB/master-root.cnf" "$SB/replica-admin.cnf"; do
		pw=$(sed -n 's/^password=//p' "$f")
		[[ -n $pw ]] || pw=$(<"$f")
		[[ $output != *"$pw"* && $stderr != *"$pw"* ]]
	done
	[[ $(master_ro) == 0 ]]
	replicating
	[[ ! -e $DAEMON_DIR/state/promotion-main.json ]]
	[[ $(state_of main) == ok ]]
}

@test "promote --freeze-master on the RDS MySQL 8.4 flavor (rds_reset_external_source)" {
	start_pair rds-mysql-84
	insert_master eightfour
	promote --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "reset")][0].detail | test("rds_reset_external_source")' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote --freeze-master on the RDS MariaDB flavor (status through rds_replica_status)" {
	start_pair rds-mariadb
	jq -e '.server.status_sql | test("rds_replica_status")' <<<"$(status_json main)"
	insert_master mariadb-rds
	promote --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms > 0' <<<"$REPORT"
	not_configured
	same_items
	[[ $(master_ro) == 1 ]]
	wait_state main promoted 5
}

@test "promote: on_promoted runs after success with the target and the final coordinates" {
	DAEMON_EXTRA=("on_promoted = $BATS_TEST_TMPDIR/hook.sh" "on_promote_failed = $BATS_TEST_TMPDIR/hook.sh")
	write_hook
	start_pair
	promote --freeze-master
	show
	[[ $status == 0 ]]
	wait_until 5 test -s "$BATS_TEST_TMPDIR/promoted.env"
	local env=$BATS_TEST_TMPDIR/promoted.env
	cat "$env"
	grep -qx 'REPLWATCH_TARGET=main' "$env"
	grep -qx 'REPLWATCH_EVENT=promoted' "$env"
	grep -qx "REPLWATCH_FINAL_FILE=$(jq -r .final.log_file <<<"$REPORT")" "$env"
	grep -qx "REPLWATCH_FINAL_POS=$(jq -r .final.log_pos <<<"$REPORT")" "$env"
	grep -qx "REPLWATCH_FINAL_POS=$(sql_master 'SHOW MASTER STATUS' | cut -f2)" "$env"
	[[ ! -e $BATS_TEST_TMPDIR/promote_failed.env ]]
}

@test "promote without a freeze never stops short of the master's position" {
	start_pair
	# The replica has not received the master's newest row: its IO thread is
	# stopped.  Everything it received is applied, which alone would look
	# "caught up"; the master's position says otherwise.
	sql_replica "STOP SLAVE IO_THREAD"
	insert_master unseen
	promote --force --max-lag 100 --timeout 2
	show
	[[ $status == 1 ]]
	[[ $stderr == *aborted* ]]
	jq -e '[.steps[] | select(.step == "catchup")][0].status == "failed"' <<<"$REPORT"
	# Nothing was stopped or reset: the replica can still get the row.
	run ! not_configured
	sql_replica "START SLAVE IO_THREAD"
	wait_until 10 same_items
}

@test "promote --freeze-master on self-managed MariaDB: the new master is made writable natively" {
	start_pair mariadb
	insert_master a
	wait_until 10 same_items
	promote --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .replica_read_only == false' <<<"$REPORT"
	# No parameter-group note: SQL could do it here.
	jq -e '[.todo[] | select(test("parameter group"))] | length == 0' <<<"$REPORT"
	[[ $(sql_replica "SELECT @@global.read_only") == 0 ]]
	not_configured
	[[ $(master_ro) == 1 ]]
	same_items
	# The application may write on the new master.
	sql_replica app "INSERT INTO app.items (name, qty) VALUES ('after', 1)"
}

# kill_stop_call WHEN: in the background, KILL CONNECTION the daemon's
# CALL mysql.rds_stop_replication() on the replica (the only procedure that
# runs during the promotion's stop step), either "before" the
# procedure stopped anything (in its first 1 s sleep) or "after" (once
# replication is down, in its last 2 s sleep).  Sets BG_PID.
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

@test "promote: the stop call killed before it stopped anything rolls back; replication runs again" {
	start_pair
	kill_stop_call before
	promote --freeze-master
	show
	wait "$BG_PID"
	BG_PID=
	grep -q before "$BATS_TEST_TMPDIR/killed"
	[[ $status != 0 ]]
	jq -e '.outcome == "aborted" and (.reason | test("stop failed.*replication still runs.*rolled back; replication runs again"))' <<<"$REPORT"
	replicating
	[[ $(master_ro) == 0 ]]
	insert_master after-rollback
	wait_until 10 same_items
}

@test "promote: the stop call killed after replication stopped still counts: promoted, never a false failure" {
	start_pair
	kill_stop_call after
	promote --freeze-master
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

@test "promote --freeze-master with the real RDS timings reports each step; the stop takes its 3 s" {
	start_pair
	promote --freeze-master
	show
	[[ $status == 0 ]]
	jq -e '.outcome == "promoted" and .write_blocked_ms != null' <<<"$REPORT"
	jq -e '[.steps[] | select(.step == "stop")][0].duration_ms >= 3000' <<<"$REPORT"
	not_configured
	same_items
}
