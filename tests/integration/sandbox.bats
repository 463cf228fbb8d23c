#!/usr/bin/env bats
# Tests of tests/sandbox/sandbox itself: real mariadbd pairs, one replicating
# sandbox per flavor plus a fresh (not replicating) one, all started in
# parallel in setup_file. Tests that change replication run last per flavor.

# shellcheck disable=SC2030,SC2031 # (bats' run sets status/output per test)

load lib

bats_require_minimum_version 1.5.0

setup_file() {
	local name dir i rc=0
	local -a names=(rds-mysql rds-mysql-84 rds-mariadb mariadb fresh) pids=()
	for name in "${names[@]}"; do
		dir=$(sandbox_new_dir)
		printf '%s\n' "$dir" >"$BATS_FILE_TMPDIR/sb.$name"
		if [[ $name == fresh ]]; then
			"$SANDBOX" up "$dir" --flavor rds-mysql >"$BATS_FILE_TMPDIR/up.$name.log" 2>&1 &
		else
			"$SANDBOX" up "$dir" --flavor "$name" --replicate >"$BATS_FILE_TMPDIR/up.$name.log" 2>&1 &
		fi
		pids+=($!)
	done
	for i in "${!names[@]}"; do
		if ! wait "${pids[$i]}"; then
			echo "sandbox up (${names[$i]}) failed:" >&2
			cat "$BATS_FILE_TMPDIR/up.${names[$i]}.log" >&2
			rc=1
		fi
	done
	return "$rc"
}

teardown_file() {
	sandbox_down_all
}

# use NAME: make that sandbox current (SB, MASTER_PORT, ...).
use() {
	sandbox_use "$(<"$BATS_FILE_TMPDIR/sb.$1")"
}

set_proc() { [[ $1 == rds-mysql-84 ]] && echo rds_set_external_source || echo rds_set_external_master; }
reset_proc() { [[ $1 == rds-mysql-84 ]] && echo rds_reset_external_source || echo rds_reset_external_master; }

status_is() { [[ $(replica_status "$1") == "$2" ]]; }
running() { status_is Slave_IO_Running Yes && status_is Slave_SQL_Running Yes; }
# refute CMD...: fail when CMD succeeds (a bare `! cmd` never fails a bats test).
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}
replica_returns() { [[ $(sql_replica "$1") == "$2" ]]; }

# The replica has executed everything the master has binlogged.
caught_up() {
	local file pos
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	status_is Relay_Master_Log_File "$file" && status_is Exec_Master_Log_Pos "$pos"
}

# A row written by app on the master shows up on the replica.
assert_replicates() {
	local tag=$1
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('$tag', 1)"
	wait_until 10 replica_returns "SELECT COUNT(*) FROM app.items WHERE name = '$tag'" 1
}

# --- the interface -------------------------------------------------------------

@test "usage: --help, unknown command, missing DIR, bad flavor, bad option" {
	run "$SANDBOX" --help
	[ "$status" -eq 0 ]
	[[ $output == *"usage: sandbox up DIR"* ]]
	run "$SANDBOX"
	[ "$status" -eq 2 ]
	[[ $output == *"a command is required"* ]]
	run "$SANDBOX" frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown command 'frobnicate'"* ]]
	run "$SANDBOX" up
	[ "$status" -eq 2 ]
	[[ $output == *"DIR is required"* ]]
	run "$SANDBOX" up "$BATS_TEST_TMPDIR/x" --flavor rds-oracle
	[ "$status" -eq 2 ]
	[[ $output == *"unknown flavor 'rds-oracle'"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
	run "$SANDBOX" up "$BATS_TEST_TMPDIR/x" --bogus
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--bogus'"* ]]
	run "$SANDBOX" sql "$BATS_TEST_TMPDIR" primary
	[ "$status" -eq 2 ]
	[[ $output == *"master or replica"* ]]
}

@test "env has the documented variables and no password; option files are 0600" {
	use fresh
	local v f pw
	for v in SANDBOX_DIR MASTER_PORT REPLICA_PORT MASTER_PID REPLICA_PID FLAVOR MASTER_SOCKET REPLICA_SOCKET; do
		[ -n "${!v}" ]
	done
	[ "$SANDBOX_DIR" = "$SB" ]
	# shellcheck disable=SC2153 # FLAVOR comes from $SB/env
	[ "$FLAVOR" = rds-mysql ]
	[ "$MASTER_PORT" != "$REPLICA_PORT" ]
	[ -S "$MASTER_SOCKET" ]
	[ -S "$REPLICA_SOCKET" ]
	for f in master-root replica-root replica-admin master-admin master-app replica-app repl repl-replica; do
		[ "$(stat -c %a "$SB/$f.cnf")" = 600 ]
		grep -qx '\[client\]' "$SB/$f.cnf"
		grep -qx 'host=127.0.0.1' "$SB/$f.cnf"
		pw=$(sed -n 's/^password=//p' "$SB/$f.cnf")
		[[ $pw =~ ^[A-Za-z0-9]{20,}$ ]]
		refute grep -qF "$pw" "$SB/env"
	done
	[ "$(stat -c %a "$SB/repl.password")" = 600 ]
	[ "$(cat "$SB/repl.password")" = "$(sed -n 's/^password=//p' "$SB/repl.cnf")" ]
	[ "$(wc -l <"$SB/repl.password")" -eq 0 ] # one line, no trailing newline
	# passwords are random per sandbox
	local other
	other=$(<"$BATS_FILE_TMPDIR/sb.rds-mysql")
	[ "$(sed -n 's/^password=//p' "$SB/master-root.cnf")" != "$(sed -n 's/^password=//p' "$other/master-root.cnf")" ]
	[ "$(sed -n 's/^password=//p' "$SB/repl.cnf")" != "$(sed -n 's/^password=//p' "$SB/master-root.cnf")" ]
}

@test "servers: ids, binlog, read_only on the replica only, own tmpdir, slave_net_timeout" {
	use fresh
	[ "$(sql_master "SELECT @@server_id, @@read_only, @@log_bin, @@binlog_format, @@gtid_strict_mode")" = "$(printf '1\t0\t1\tROW\t0')" ]
	[ "$(sql_replica "SELECT @@server_id, @@read_only, @@log_bin, @@binlog_format, @@slave_net_timeout")" = "$(printf '2\t1\t1\tROW\t4')" ]
	[ "$(sql_master "SELECT @@tmpdir")" = "$SB/master.tmp" ]
	[ "$(sql_replica "SELECT @@tmpdir")" = "$SB/replica.tmp" ]
	[ "$(sql_master "SELECT @@port, @@bind_address")" = "$(printf '%s\t127.0.0.1' "$MASTER_PORT")" ]
	[ "$(sql_master "SELECT @@skip_name_resolve, @@performance_schema")" = "$(printf '1\t0')" ]
}

@test "sql command: users, flags and stdin" {
	use fresh
	run "$SANDBOX" sql "$SB" replica admin -N -B "SELECT CURRENT_USER()"
	[ "$status" -eq 0 ]
	[ "$output" = "admin@%" ]
	run "$SANDBOX" sql "$SB" master app -N "SELECT CURRENT_USER()"
	[ "$output" = "app@%" ]
	run "$SANDBOX" sql "$SB" master repl -N "SELECT CURRENT_USER()"
	[ "$output" = "repl@%" ]
	run bash -c 'echo "SELECT 6 * 7" | "$1" sql "$2" master -N' _ "$SANDBOX" "$SB"
	[ "$output" = 42 ]
	[ "$("$SANDBOX" cnf "$SB" replica admin)" = "$SB/replica-admin.cnf" ]
}

@test "fresh sandbox: nothing configured, empty app schema, replwatch schema, repl user on the master" {
	use fresh
	[ "$REPLICATED" = 0 ]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	[ -z "$(sql_master "SHOW SLAVE STATUS")" ]
	[ "$(sql_replica "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app'")" = 0 ]
	sql_master "SHOW DATABASES" | grep -qx replwatch
	sql_replica "SHOW DATABASES" | grep -qx replwatch
	# repl: REPLICATION SLAVE + BINLOG MONITOR (SHOW MASTER STATUS works)
	[[ $(sql_master repl "SHOW MASTER STATUS") == master-bin.* ]]
	sql_master repl "SHOW GRANTS" | grep -q 'REPLICATION SLAVE, BINLOG MONITOR'
	# the locked definer cannot log in
	run mariadb --no-defaults --socket="$REPLICA_SOCKET" -urdsadmin -e "SELECT 1"
	[ "$status" -ne 0 ]
	sql_replica "SHOW CREATE USER 'rdsadmin'@'localhost'" | grep -q 'ACCOUNT LOCK'
}

@test "fresh sandbox: rds_start_replication refuses when nothing is configured" {
	use fresh
	run sql_replica admin "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"not configured"* ]]
	run "$SANDBOX" sql "$SB" replica admin -B "CALL mysql.rds_stop_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = Message ]
	[ "${lines[1]}" = "Slave is down or disabled" ]
}

# --- per flavor ------------------------------------------------------------------

check_admin_refused() {
	use "$1"
	local stmt
	for stmt in "CHANGE MASTER TO MASTER_HOST='127.0.0.1'" "STOP SLAVE" "START SLAVE" "RESET SLAVE ALL" \
		"SET GLOBAL read_only = 0" "SET GLOBAL gtid_slave_pos = ''"; do
		run sql_replica admin "$stmt"
		[ "$status" -ne 0 ]
		[[ $output == *"ERROR 1227 (42000)"* ]] || { echo "$stmt: $output"; false; }
	done
	local grants
	grants=$(sql_replica admin "SHOW GRANTS")
	refute grep -Eq 'SUPER|REPLICATION SLAVE ADMIN|READ_ONLY ADMIN|RELOAD|ALL PRIVILEGES ON \*\.\*' <<<"$grants"
	# replication is untouched
	running
}
@test "rds-mysql: admin's native CHANGE MASTER/STOP/START/RESET SLAVE are refused with 1227" { check_admin_refused rds-mysql; }
@test "rds-mysql-84: admin's native CHANGE MASTER/STOP/START/RESET SLAVE are refused with 1227" { check_admin_refused rds-mysql-84; }
@test "rds-mariadb: admin's native CHANGE MASTER/STOP/START/RESET SLAVE are refused with 1227" { check_admin_refused rds-mariadb; }

check_routines() {
	use "$1"
	local expected=$2 got
	# what admin sees in information_schema.ROUTINES (per-procedure EXECUTE)
	# (exactly the granted procedures: not AddGeometryColumn & co., which root sees)
	got=$(sql_replica admin "SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = 'mysql' ORDER BY 1" | tr '\n' ' ')
	[ "$got" = "$expected" ] || { echo "admin sees: '$got', expected '$expected'"; false; }
	# and root sees no others (no helper procedures)
	got=$(sql_replica "SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds%' ORDER BY 1" | tr '\n' ' ')
	[ "$got" = "$expected" ]
	if [[ -n $expected ]]; then
		[ "$(sql_replica "SELECT DISTINCT CONCAT(SECURITY_TYPE, ' ', DEFINER) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds%'")" = "DEFINER rdsadmin@localhost" ]
	fi
}
@test "rds-mysql: only the *master* procedure names exist" {
	check_routines rds-mysql "rds_reset_external_master rds_set_external_master rds_set_external_master_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication "
}
@test "rds-mysql-84: only the *source* procedure names exist" {
	check_routines rds-mysql-84 "rds_reset_external_source rds_set_external_source rds_set_external_source_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication "
}
@test "rds-mariadb: the *master* names plus rds_set_external_master_gtid and rds_replica_status" {
	check_routines rds-mariadb "rds_replica_status rds_reset_external_master rds_set_external_master rds_set_external_master_gtid rds_set_external_master_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication "
}
@test "mariadb: no rds procedures" {
	check_routines mariadb ""
}

check_replicating() {
	use "$1"
	[ "$REPLICATED" = 1 ]
	running
	[ "$(replica_status Master_Port)" = "$MASTER_PORT" ]
	[ "$(replica_status Master_User)" = repl ]
	[ "$(replica_status Connect_Retry)" = 1 ]
	[ "$(sql_replica "SHOW STATUS LIKE 'Slave_heartbeat_period'" | cut -f2)" = 1.000 ]
	[ "$(replica_status Using_Gtid)" = No ]
	# the seed arrived through the dump
	[ "$(sql_replica "SELECT COUNT(*) FROM app.items")" = "$(sql_master "SELECT COUNT(*) FROM app.items")" ]
	[ "$(sql_replica "SELECT COUNT(*) FROM app.events")" = 200 ]
	grep -q "^-- CHANGE MASTER TO MASTER_LOG_FILE='$SEED_LOG_FILE', MASTER_LOG_POS=$SEED_LOG_POS;" "$SB/seed.sql"
	assert_replicates "new-row-$1"
	# the app user cannot write on the read-only replica
	run sql_replica app "INSERT INTO app.items (name, qty) VALUES ('on-replica', 1)"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1290 (HY000)"*"read-only"* ]]
	if [[ $1 == rds-* ]]; then
		# nor can admin (no READ_ONLY ADMIN, as on RDS)
		run sql_replica admin "CREATE TABLE replwatch.t (id INT PRIMARY KEY)"
		[[ $output == *"ERROR 1290 (HY000)"* ]]
	else
		# a self-managed admin may (READ_ONLY ADMIN)
		sql_replica admin "SHOW GRANTS" | grep -q 'READ_ONLY ADMIN'
	fi
	[ "$(sql_replica "SELECT COUNT(*) FROM app.items WHERE name = 'on-replica'")" = 0 ]
}
@test "rds-mysql: --replicate set up through the procedures carries new rows; app's write on the replica fails 1290" { check_replicating rds-mysql; }
@test "rds-mysql-84: --replicate set up through the procedures carries new rows; app's write on the replica fails 1290" { check_replicating rds-mysql-84; }
@test "rds-mariadb: --replicate set up through the procedures carries new rows; app's write on the replica fails 1290" { check_replicating rds-mariadb; }
@test "mariadb: --replicate set up natively carries new rows; app's write on the replica fails 1290" { check_replicating mariadb; }

check_set_refused_while_running() {
	use "$1"
	local proc before
	proc=$(set_proc "$1")
	running
	before=$(replica_status Master_Log_File)
	run sql_replica admin "CALL mysql.$proc('127.0.0.1', 1, 'repl', 'x', 'other-bin.000001', 4, 0)"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Replication is running: call mysql.rds_stop_replication first"* ]]
	run sql_replica admin "CALL mysql.${proc}_with_delay('127.0.0.1', 1, 'repl', 'x', 'other-bin.000001', 4, 0, 5)"
	[[ $output == *"ERROR 1644 (45000)"*"Replication is running"* ]]
	[ "$(replica_status Master_Port)" = "$MASTER_PORT" ]
	[ "$(replica_status Master_Log_File)" = "$before" ]
	running
}
@test "rds-mysql: rds_set_external_master refuses while replication runs" { check_set_refused_while_running rds-mysql; }
@test "rds-mysql-84: rds_set_external_source refuses while replication runs" { check_set_refused_while_running rds-mysql-84; }
@test "rds-mariadb: rds_set_external_master(_gtid) refuses while replication runs" {
	check_set_refused_while_running rds-mariadb
	run sql_replica admin "CALL mysql.rds_set_external_master_gtid('127.0.0.1', 1, 'repl', 'x', '0-1-1', 0)"
	[[ $output == *"ERROR 1644 (45000)"*"Replication is running"* ]]
	[ "$(replica_status Using_Gtid)" = No ]
}

@test "rds-mysql, rds-mysql-84: admin may SHOW SLAVE STATUS (SLAVE MONITOR)" {
	use rds-mysql
	[[ $(sql_replica admin "SHOW SLAVE STATUS") == *"127.0.0.1"* ]]
	use rds-mysql-84
	[[ $(sql_replica admin "SHOW REPLICA STATUS") == *"127.0.0.1"* ]]
}

@test "rds-mariadb: admin's SHOW SLAVE STATUS fails 1227, CALL mysql.rds_replica_status() works" {
	use rds-mariadb
	run sql_replica admin "SHOW SLAVE STATUS"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1227 (42000)"* ]]
	run sql_replica admin "SHOW REPLICA STATUS"
	[[ $output == *"ERROR 1227 (42000)"* ]]
	run "$SANDBOX" sql "$SB" replica admin -B "CALL mysql.rds_replica_status()"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	local -A row=()
	local -a h v
	mapfile -t h < <(tr '\t' '\n' <<<"${lines[0]}")
	mapfile -t v < <(tr '\t' '\n' <<<"${lines[1]}")
	local i
	for i in "${!h[@]}"; do row[${h[$i]}]=${v[$i]}; done
	[ "${row[Slave_IO_Running]}" = Yes ]
	[ "${row[Slave_SQL_Running]}" = Yes ]
	[ "${row[Master_Port]}" = "$MASTER_PORT" ]
}

@test "rds-mysql: rds_skip_repl_error skips a duplicate-key error" {
	use rds-mysql
	run sql_replica admin "CALL mysql.rds_skip_repl_error()"
	[ "$status" -eq 0 ]
	[[ $output == *"No errors to skip"* ]]
	# root may write on the read-only replica: make a row the master will collide with
	sql_replica "INSERT INTO app.items (id, name, qty) VALUES (900001, 'conflict', 0)"
	sql_master app "INSERT INTO app.items (id, name, qty) VALUES (900001, 'conflict', 1)"
	wait_until 10 status_is Slave_SQL_Running No
	[ "$(replica_status Last_SQL_Errno)" = 1062 ]
	run sql_replica admin "CALL mysql.rds_skip_repl_error()"
	[ "$status" -eq 0 ]
	[[ $output == *"skipped"* ]]
	wait_until 10 running
	[ "$(replica_status Last_SQL_Errno)" = 0 ]
	[ "$(sql_replica "SELECT qty FROM app.items WHERE id = 900001")" = 0 ]
	assert_replicates after-skip
}

# stop (message row) -> set up again while stopped -> start (message row) ->
# rows flow -> stop + reset -> nothing configured -> start refuses
check_lifecycle() {
	local flavor=$1 proc reset file pos
	use "$flavor"
	proc=$(set_proc "$flavor")
	reset=$(reset_proc "$flavor")
	wait_until 10 caught_up
	run "$SANDBOX" sql "$SB" replica admin -B "CALL mysql.rds_stop_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = Message ]
	[ "${lines[1]}" = "Slave is down or disabled" ]
	[ "$(replica_status Slave_IO_Running)" = No ]
	[ "$(replica_status Slave_SQL_Running)" = No ]
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	# the delayed variant sets SQL_Delay
	sql_replica admin "CALL mysql.${proc}_with_delay('127.0.0.1', $MASTER_PORT, 'repl', '$(<"$SB/repl.password")', '$file', $pos, 0, 7)"
	[ "$(replica_status SQL_Delay)" = 7 ]
	sql_replica admin "CALL mysql.$proc('127.0.0.1', $MASTER_PORT, 'repl', '$(<"$SB/repl.password")', '$file', $pos, 0)"
	[ "$(replica_status SQL_Delay)" = 0 ]
	[ "$(replica_status Exec_Master_Log_Pos)" = "$pos" ]
	run "$SANDBOX" sql "$SB" replica admin -B "CALL mysql.rds_start_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = Message ]
	[ "${lines[1]}" = "Slave running normally." ]
	wait_until 10 running
	assert_replicates "restarted-$flavor"
	run "$SANDBOX" sql "$SB" replica admin -B "CALL mysql.rds_stop_replication(); CALL mysql.$reset()"
	[ "$status" -eq 0 ]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	run sql_replica admin "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"not configured: call mysql.$proc first"* ]]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	# reset again is harmless
	sql_replica admin "CALL mysql.$reset()"
}
@test "rds-mysql: stop/set/start answer message rows; stop + reset leaves nothing configured" { check_lifecycle rds-mysql; }
@test "rds-mysql-84: stop/set/start answer message rows; stop + reset leaves nothing configured" { check_lifecycle rds-mysql-84; }
@test "rds-mariadb: stop/set/start answer message rows; stop + reset leaves nothing configured" { check_lifecycle rds-mariadb; }

@test "rds-mariadb: rds_set_external_master_gtid replicates with MASTER_USE_GTID=slave_pos" {
	use rds-mariadb
	# (the lifecycle test left it reset and caught up with the master)
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	local gtid
	gtid=$(sql_master "SELECT @@gtid_binlog_pos")
	sql_replica admin "CALL mysql.rds_set_external_master_gtid('127.0.0.1', $MASTER_PORT, 'repl', '$(<"$SB/repl.password")', '$gtid', 0)"
	[ "$(replica_status Using_Gtid)" = Slave_Pos ]
	[ "$(sql_replica "SELECT @@gtid_slave_pos")" = "$gtid" ]
	sql_replica admin "CALL mysql.rds_start_replication()"
	wait_until 10 running
	assert_replicates via-gtid
}

@test "mariadb: admin runs the native CHANGE MASTER / START / STOP SLAVE" {
	use mariadb
	sql_replica admin "STOP SLAVE"
	[ "$(replica_status Slave_IO_Running)" = No ]
	sql_replica admin "CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 2"
	sql_replica admin "START SLAVE"
	wait_until 10 running
	[ "$(sql_replica admin "SHOW STATUS LIKE 'Slave_heartbeat_period'" | cut -f2)" = 2.000 ]
	[[ $(sql_replica admin "SHOW SLAVE STATUS") == *"127.0.0.1"* ]]
	assert_replicates native
}

# --- lib.bash ------------------------------------------------------------------------

@test "lib: sandbox_up exports the sandbox, sql_* read stdin, sandbox_down stops it" {
	sandbox_up --flavor mariadb
	[ -n "$SB" ]
	[ "$SANDBOX_DIR" = "$SB" ]
	[ "$FLAVOR" = mariadb ]
	grep -qx "$SB" "$BATS_FILE_TMPDIR/replwatch-sandboxes.list"
	[ "$(bash -c 'echo "$MASTER_PORT"')" = "$MASTER_PORT" ] # exported
	[ "$(echo "SELECT @@port" | sql_replica)" = "$REPLICA_PORT" ]
	[ "$(echo "SELECT CURRENT_USER()" | sql_master app)" = "app@%" ]
	[ "$(sql_master repl "SELECT CURRENT_USER()")" = "repl@%" ]
	[ -z "$(replica_status Slave_IO_Running)" ]
	sandbox_down
	process_gone "$MASTER_PID"
	process_gone "$REPLICA_PID"
}

@test "lib: wait_until polls until success and gives up after the timeout" {
	local start f=$BATS_TEST_TMPDIR/flag
	(sleep 0.3 && touch "$f") &
	wait_until 5 test -e "$f"
	start=${EPOCHREALTIME/./}
	run wait_until 0.5 false
	[ "$status" -eq 1 ]
	[[ $output == *"timed out after 0.5s: false"* ]]
	(((${EPOCHREALTIME/./} - start) >= 500000))
	(((${EPOCHREALTIME/./} - start) < 3000000))
}

# --- start-up failures and shutting down ------------------------------------------

@test "up refuses a directory that holds a sandbox, and leaves that one running" {
	use fresh
	run "$SANDBOX" up "$SB"
	[ "$status" -eq 1 ]
	[[ $output == *"is not empty"* ]]
	refute process_gone "$MASTER_PID"
	refute process_gone "$REPLICA_PID"
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "master: running (pid $MASTER_PID, port $MASTER_PORT)" ]]
}

@test "up failing half-way (replica does not start) stops the master it started" {
	local dir pid
	dir=$(sandbox_new_dir)
	run "$SANDBOX" up "$dir" --replica-opt no-such-option=1
	[ "$status" -eq 1 ]
	[[ $output == *"replica: mariadbd exited during start-up"* ]]
	[[ $output == *"stopping what was started"* ]]
	[ ! -e "$dir/env" ]
	[ "$(wc -l <"$dir/pids")" -eq 2 ]
	while read -r _ pid; do
		process_gone "$pid"
	done <"$dir/pids"
	run "$SANDBOX" status "$dir"
	[ "$status" -eq 3 ]
	run "$SANDBOX" down "$dir"
	[ "$status" -eq 0 ]
}

@test "up failing late (--replicate without a master binlog) stops both servers" {
	local dir pid
	dir=$(sandbox_new_dir)
	run "$SANDBOX" up "$dir" --replicate --master-opt skip-log-bin
	[ "$status" -eq 1 ]
	[[ $output == *"stopping what was started"* ]]
	[ -f "$dir/master-root.cnf" ] # it got as far as the set-up
	[ "$(wc -l <"$dir/pids")" -eq 2 ]
	while read -r _ pid; do
		process_gone "$pid"
	done <"$dir/pids"
}

@test "a cold cache is built once, even by two sandboxes starting at the same time" {
	local cache=$BATS_TEST_TMPDIR/cache d1 d2 p1 p2
	d1=$(sandbox_new_dir)
	d2=$(sandbox_new_dir)
	REPLWATCH_SANDBOX_CACHE=$cache "$SANDBOX" up "$d1" >"$BATS_TEST_TMPDIR/1.log" 2>&1 &
	p1=$!
	REPLWATCH_SANDBOX_CACHE=$cache "$SANDBOX" up "$d2" >"$BATS_TEST_TMPDIR/2.log" 2>&1 &
	p2=$!
	wait "$p1"
	wait "$p2"
	[ "$(grep -c 'building the cached datadir' "$BATS_TEST_TMPDIR/1.log" "$BATS_TEST_TMPDIR/2.log" | awk -F: '{ s += $2 } END { print s }')" -eq 1 ]
	[ "$(find "$cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
	[ -d "$(find "$cache" -mindepth 1 -maxdepth 1 -type d)/data/mysql" ]
	sandbox_use "$d1"
	[ "$(sql_master "SELECT 1")" = 1 ]
	"$SANDBOX" down "$d1"
	"$SANDBOX" down "$d2"
	process_gone "$MASTER_PID"
	process_gone "$REPLICA_PID"
}

@test "down stops both servers, waits until they are gone, and is idempotent" {
	use fresh
	refute process_gone "$MASTER_PID"
	refute process_gone "$REPLICA_PID"
	# a SIGSTOPped server is stopped too
	kill -STOP "$MASTER_PID"
	run "$SANDBOX" down "$SB"
	[ "$status" -eq 0 ]
	process_gone "$MASTER_PID"
	process_gone "$REPLICA_PID"
	[ ! -S "$MASTER_SOCKET" ]
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "master: not running" ]
	[ "${lines[1]}" = "replica: not running" ]
	run "$SANDBOX" down "$SB"
	[ "$status" -eq 0 ]
	run "$SANDBOX" down "$BATS_TEST_TMPDIR/no-such-dir"
	[ "$status" -eq 0 ]
}
