#!/usr/bin/env bats
# Tests of tests/sandbox/sandbox itself: real mariadbd pairs, one replicating
# sandbox per flavor, a fresh (not replicating) one, one for faults (its
# master is shut down), one for the test-speed options and one with haproxy
# in front (--proxy), all started in parallel in setup_file. Tests that change replication run last per flavor.
#
# The emulated RDS procedures keep RDS's real sleeps here (start and stop take
# >= 3 s): they are what is tested. Only the "fast" sandbox scales them, to
# test --rds-sleep-scale itself.

# shellcheck disable=SC2030,SC2031 # (bats' run sets status/output per test)

load lib

bats_require_minimum_version 1.5.0

setup_file() {
	local name dir i rc=0
	local -a names=(rds-mysql rds-mysql-84 rds-mariadb mariadb fresh faults fast proxy) pids=() args
	for name in "${names[@]}"; do
		dir=$(sandbox_new_dir)
		printf '%s\n' "$dir" >"$BATS_FILE_TMPDIR/sb.$name"
		case $name in
		fresh) args=(--flavor rds-mysql) ;;
		faults) args=(--flavor rds-mysql --replicate) ;;
		# (scaled sleeps: this sandbox tests the options themselves)
		fast) args=(--flavor rds-mysql --replicate --fast-reconnect --rds-sleep-scale 0.1) ;;
		proxy) args=(--flavor mariadb --proxy) ;;
		*) args=(--flavor "$name" --replicate) ;;
		esac
		"$SANDBOX" up "$dir" "${args[@]}" >"$BATS_FILE_TMPDIR/up.$name.log" 2>&1 &
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

# admin_call SQL: the mariadb client as admin on the replica (-B: a header
# line, then the rows), through bats' run; ELAPSED_MS: how long it took.
admin_call() {
	local t0=${EPOCHREALTIME/./}
	run "$SANDBOX" sql "$SB" replica admin -B "$1"
	ELAPSED_MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
	printf 'admin: %s -> status %s in %s ms: %s\n' "$1" "$status" "$ELAPSED_MS" "$output"
}

# The RDS service state, as admin may read it.
state() { sql_replica admin "SELECT mysql.rds_replication_service_state_for_channel('')"; }
state_is() { [[ $(state) == "$1" ]]; }

# The replica's own binlog position (file, pos, GTID): the procedures' writes
# must not move it.
replica_binlog() {
	sql_replica "SHOW MASTER STATUS" | cut -f1,2
	sql_replica "SELECT @@gtid_binlog_pos"
}

# Every action logged in mysql.rds_history, in order, joined by '|'.
history() { sql_replica admin "SELECT action FROM mysql.rds_history" | paste -sd '|'; }
history_rows() { sql_replica admin "SELECT COUNT(*) FROM mysql.rds_history"; }

# Shut a sandbox server down (SIGTERM, wait until gone); start it again as
# `sandbox up` does (same option file, own session, no bats descriptors;
# recorded in DIR/pids so that `sandbox down` finds it).
stop_server() {
	local pid
	pid=$(tr -dc 0-9 <"$SB/$1.pid")
	kill -TERM "$pid"
	wait_until 20 process_gone "$pid"
}
server_answers() { mariadb --defaults-file="$SB/$1-root.cnf" -N -B -e 'SELECT 1' >/dev/null 2>&1; }
start_server() {
	local bin=${REPLWATCH_MARIADBD:-/usr/sbin/mariadbd}
	(
		exec setsid "$bin" --defaults-file="$SB/$1.cnf" </dev/null >>"$SB/$1.err" 2>&1 3>&- 4>&-
	) &
	printf '%s %s\n' "$1" "$!" >>"$SB/pids"
	wait_until 30 server_answers "$1"
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
	# RDS's real sleeps and connect retry, unless asked otherwise
	[ "$RDS_SLEEP_SCALE" = 1 ]
	[ "$FAST_RECONNECT" = 0 ]
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
	# (performance_schema: the RDS emulation reads the replication
	# configuration there)
	[ "$(sql_master "SELECT @@skip_name_resolve, @@performance_schema")" = "$(printf '1\t1')" ]
	[ "$(sql_replica "SELECT @@performance_schema")" = 1 ]
}

@test "time zones: the replica in UTC (as RDS), the master at -05:00, in every flavor" {
	local f
	for f in rds-mysql rds-mysql-84 rds-mariadb mariadb fresh; do
		use "$f"
		[ "$(sql_master "SELECT @@global.time_zone, @@session.time_zone")" = "$(printf -- '-05:00\t-05:00')" ]
		[ "$(sql_replica "SELECT @@global.time_zone")" = "+00:00" ]
		[ "$(sql_replica admin "SELECT @@session.time_zone")" = "+00:00" ]
		# the same instant, five hours apart on the wall clock
		[ "$(sql_master "SELECT TIMESTAMPDIFF(MINUTE, NOW(), UTC_TIMESTAMP())")" = 300 ]
		[ "$(sql_replica admin "SELECT TIMESTAMPDIFF(MINUTE, NOW(), UTC_TIMESTAMP())")" = 0 ]
	done
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

@test "fresh sandbox (NOT_EXIST): start, stop, reset and skip refuse at once: the replica isn't configured" {
	use fresh
	[ "$(state)" = NOT_EXIST ]
	[ "$(sql_replica admin "SELECT mysql.rds_replication_service_state()")" = OFF ] # (RDS's older function)
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"You can't start replication because the replica isn't configured. First call mysql.rds_set_external_master."* ]]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"You can't stop replication because the replica isn't configured."* ]]
	admin_call "CALL mysql.rds_reset_external_master()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"You can't reset replication because replication isn't configured."* ]]
	admin_call "CALL mysql.rds_skip_repl_error()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"isn't configured"* ]]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	# the refused calls were logged too, as on RDS
	[[ $(history) == *"Starting: start slave|Starting: stop slave|Starting: reset slave|Starting: skip_repl_error" ]]
}

@test "fresh sandbox: the service state is read from the server: root's native CHANGE MASTER, RESET SLAVE, RESET SLAVE ALL" {
	use fresh
	sql_replica "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MASTER_PORT, MASTER_USER='repl',
		MASTER_PASSWORD='$(<"$SB/repl.password")', MASTER_USE_GTID=no"
	[ "$(state)" = OFF ]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Slave is already stopped or may not be configured."* ]]
	# RESET SLAVE (not ALL) keeps the connection settings: still configured
	sql_replica "RESET SLAVE"
	[[ $(replica_status Master_Host) == 127.0.0.1 ]]
	[ "$(state)" = OFF ]
	sql_replica "RESET SLAVE ALL"
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	[ "$(state)" = NOT_EXIST ]
	admin_call "CALL mysql.rds_start_replication()"
	[[ $output == *"ERROR 1644 (45000)"*"isn't configured"* ]]
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

# check_routines FLAVOR EMULATED ABSENT_PATTERN: the emulated procedures are
# there among RDS's long routine list; none matches ABSENT_PATTERN (ERE).
check_routines() {
	use "$1"
	local emulated=$2 absent=$3 admin_sees root_sees p
	# what admin sees in information_schema.ROUTINES (per-routine EXECUTE)
	# (exactly the granted rds_* routines: not AddGeometryColumn & co., nor
	# the sandbox's logging helper, which root sees)
	admin_sees=$(sql_replica admin "SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = 'mysql' ORDER BY 1")
	root_sees=$(sql_replica "SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds%' ORDER BY 1")
	[ "$admin_sees" = "$root_sees" ]
	sql_replica "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql'" |
		grep -qx replwatch_sandbox_history
	for p in $emulated rds_replication_service_state_for_channel rds_replication_service_state rds_is_semi_sync; do
		grep -qx "$p" <<<"$admin_sees" || { echo "admin does not see $p"; false; }
	done
	refute grep -E "$absent" <<<"$admin_sees"
	# RDS's long list: about 50 routines
	(($(wc -l <<<"$admin_sees") >= 45))
	[ "$(sql_replica "SELECT DISTINCT CONCAT(SECURITY_TYPE, ' ', DEFINER) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds%'")" = "DEFINER rdsadmin@localhost" ]
	# the others exist for the list only
	run sql_replica admin "CALL mysql.rds_kill_query(1)"
	[ "$status" -ne 0 ]
	run sql_replica admin "CALL mysql.rds_kill_query()"
	[[ $output == *"ERROR 1644 (45000)"*"not emulated by the replwatch sandbox"* ]]
}
@test "rds-mysql: RDS's long routine list, with only the *master* set-up/reset names" {
	check_routines rds-mysql "rds_reset_external_master rds_set_external_master rds_set_external_master_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication rds_next_master_log" \
		'^rds_(set|reset)_external_source|^rds_replica_status$|^rds_set_external_master_gtid$'
}
@test "rds-mysql-84: RDS's long routine list, with only *source* names" {
	check_routines rds-mysql-84 "rds_reset_external_source rds_set_external_source rds_set_external_source_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication rds_next_source_log" \
		'master|^rds_replica_status$'
}
@test "rds-mariadb: the *master* names plus rds_set_external_master_gtid and rds_replica_status" {
	check_routines rds-mariadb "rds_replica_status rds_reset_external_master rds_set_external_master rds_set_external_master_gtid rds_set_external_master_with_delay rds_skip_repl_error rds_start_replication rds_stop_replication" \
		'^rds_(set|reset)_external_source'
}
@test "mariadb: no rds routines, no rds tables" {
	use mariadb
	[ -z "$(sql_replica "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds%'")" ]
	[ -z "$(sql_replica "SHOW TABLES FROM mysql LIKE 'rds%'")" ]
}

# The list of the rds_* routine names, as admin's GROUP_CONCAT gives it.
GC_SQL="SELECT GROUP_CONCAT(ROUTINE_NAME ORDER BY ROUTINE_NAME) FROM information_schema.ROUTINES
	WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds\\_%'"
check_group_concat_trap() {
	use "$1"
	local list full
	[ "$(sql_replica admin "SELECT @@group_concat_max_len")" = 1024 ]
	[ "$(sql_master "SELECT @@global.group_concat_max_len")" = 1024 ]
	# the whole list is longer than 1 KiB ...
	full=$(sql_replica admin "SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds\\_%' ORDER BY 1" | paste -sd,)
	echo "full list: ${#full} bytes"
	((${#full} > 1200))
	[[ ,$full, == *,rds_start_replication,* && ,$full, == *,rds_stop_replication,* ]]
	# ... so GROUP_CONCAT cuts it at 1024 bytes, with a warning, before
	# rds_start_replication and rds_stop_replication (late in the alphabet)
	run "$SANDBOX" sql "$SB" replica admin -N -B "$GC_SQL; SHOW WARNINGS"
	[ "$status" -eq 0 ]
	list=${lines[0]}
	[ "${#list}" -eq 1024 ]
	[[ ${lines[1]} == *"1260"*"was cut by GROUP_CONCAT()"* ]]
	[[ ,$list, != *,rds_start_replication,* ]]
	[[ ,$list, != *,rds_stop_replication,* ]]
	[[ $list == rds_* ]]
}
@test "rds-mysql: group_concat_max_len is MySQL's 1024: a GROUP_CONCAT of the rds_* routines is cut before rds_start_replication" {
	check_group_concat_trap rds-mysql
}
@test "rds-mysql-84: group_concat_max_len is MySQL's 1024: a GROUP_CONCAT of the rds_* routines is cut before rds_start_replication" {
	check_group_concat_trap rds-mysql-84
}
@test "rds-mariadb: MariaDB's 1 MiB group_concat_max_len: the GROUP_CONCAT of its long list is whole" {
	use rds-mariadb
	[ "$(sql_replica admin "SELECT @@group_concat_max_len")" = 1048576 ]
	run "$SANDBOX" sql "$SB" replica admin -N -B "$GC_SQL; SHOW WARNINGS"
	[ "${#lines[@]}" -eq 1 ]
	[[ ,${lines[0]}, == *,rds_start_replication,*,rds_stop_replication,* ]]
	((${#lines[0]} > 1200))
}

check_replicating() {
	use "$1"
	[ "$REPLICATED" = 1 ]
	running
	[ "$(replica_status Master_Port)" = "$MASTER_PORT" ]
	[ "$(replica_status Master_User)" = repl ]
	# the server's defaults, as on RDS: connect retry 60 s, heartbeat period
	# half of slave_net_timeout (4 s here)
	[ "$(replica_status Connect_Retry)" = 60 ]
	[ "$(sql_replica "SHOW STATUS LIKE 'Slave_heartbeat_period'" | cut -f2)" = 2.000 ]
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
	[[ $output == *"ERROR 1644 (45000)"*"You can't modify replication because replication is running. First call mysql.rds_stop_replication."* ]]
	run sql_replica admin "CALL mysql.${proc}_with_delay('127.0.0.1', 1, 'repl', 'x', 'other-bin.000001', 4, 0, 5)"
	[[ $output == *"ERROR 1644 (45000)"*"because replication is running"* ]]
	[ "$(replica_status Master_Port)" = "$MASTER_PORT" ]
	[ "$(replica_status Master_Log_File)" = "$before" ]
	running
}
@test "rds-mysql: rds_set_external_master refuses while replication runs" { check_set_refused_while_running rds-mysql; }
@test "rds-mysql-84: rds_set_external_source refuses while replication runs" { check_set_refused_while_running rds-mysql-84; }
@test "rds-mariadb: rds_set_external_master(_gtid) refuses while replication runs" {
	check_set_refused_while_running rds-mariadb
	run sql_replica admin "CALL mysql.rds_set_external_master_gtid('127.0.0.1', 1, 'repl', 'x', '0-1-1', 0)"
	[[ $output == *"ERROR 1644 (45000)"*"because replication is running"* ]]
	[ "$(replica_status Using_Gtid)" = No ]
}

# ON: start refused; BROKEN (the IO thread stopped natively as root): start
# and set-up refused; back to ON.
check_start_refused() {
	use "$1"
	wait_until 10 running
	[ "$(state)" = ON ]
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Replication may already be running"* ]]
	sql_replica "STOP SLAVE IO_THREAD"
	[ "$(replica_status Slave_IO_Running)" = No ]
	[ "$(state)" = BROKEN ]
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Replication might be running. First call mysql.rds_stop_replication."* ]]
	run sql_replica admin "CALL mysql.$(set_proc "$1")('127.0.0.1', 1, 'repl', 'x', 'other-bin.000001', 4, 0)"
	[[ $output == *"ERROR 1644 (45000)"*"because replication is running"* ]]
	[ "$(replica_status Slave_SQL_Running)" = Yes ]
	[ "$(replica_status Slave_IO_Running)" = No ]
	sql_replica "START SLAVE IO_THREAD"
	wait_until 10 running
	wait_until 10 state_is ON
}
@test "rds-mysql: rds_start_replication refused when ON and when BROKEN (IO thread stopped)" { check_start_refused rds-mysql; }
@test "rds-mysql-84: rds_start_replication refused when ON and when BROKEN (IO thread stopped)" { check_start_refused rds-mysql-84; }
@test "rds-mariadb: rds_start_replication refused when ON and when BROKEN (IO thread stopped)" { check_start_refused rds-mariadb; }

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
	[ "$(state)" = BROKEN ]
	admin_call "CALL mysql.rds_skip_repl_error()"
	[ "$status" -eq 0 ]
	[[ $output == *"Statement in error has been skipped"* ]]
	((ELAPSED_MS >= 4000)) # two 2 s sleeps
	wait_until 10 running
	[ "$(replica_status Last_SQL_Errno)" = 0 ]
	[ "$(sql_replica "SELECT qty FROM app.items WHERE id = 900001")" = 0 ]
	assert_replicates after-skip
}

# check_lifecycle FLAVOR RESET_FROM(on/off), with RDS's timings:
# start refused (ON) -> stop (>= 3 s, message row) -> stop refused (OFF) ->
# set up again while stopped (trimmed arguments, the server's defaults) ->
# start (>= 3 s, message row) -> rows flow -> reset from ON (>= 2 s) or from
# OFF -> nothing configured: start, stop, reset refused. Every call is in
# mysql.rds_history, none in the replica's binlog.
check_lifecycle() {
	local flavor=$1 from=$2 proc reset file pos binlog n0 pw
	use "$flavor"
	proc=$(set_proc "$flavor")
	reset=$(reset_proc "$flavor")
	pw=$(<"$SB/repl.password")
	wait_until 10 caught_up
	wait_until 10 state_is ON
	binlog=$(replica_binlog)
	n0=$(history_rows)
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Replication may already be running"* ]]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = Message ]
	[ "${lines[1]}" = "Slave is now down or disabled" ]
	[ "${#lines[@]}" -eq 2 ]
	((ELAPSED_MS >= 3000))
	[ "$(replica_status Slave_IO_Running)" = No ]
	[ "$(replica_status Slave_SQL_Running)" = No ]
	[ "$(state)" = OFF ]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Slave is already stopped or may not be configured."* ]]
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	# the delayed variant sets SQL_Delay
	sql_replica admin "CALL mysql.${proc}_with_delay('127.0.0.1', $MASTER_PORT, 'repl', '$pw', '$file', $pos, 0, 7)"
	[ "$(replica_status SQL_Delay)" = 7 ]
	# string arguments are trimmed
	sql_replica admin "CALL mysql.$proc(' 127.0.0.1  ', $MASTER_PORT, ' repl', '$pw ', ' $file ', $pos, 0)"
	[ "$(replica_status Master_Host)" = 127.0.0.1 ]
	[ "$(replica_status Master_User)" = repl ]
	[ "$(replica_status Master_Log_File)" = "$file" ]
	[ "$(replica_status SQL_Delay)" = 0 ]
	[ "$(replica_status Exec_Master_Log_Pos)" = "$pos" ]
	[ "$(replica_status Connect_Retry)" = 60 ]
	[ "$(state)" = OFF ]
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = Message ]
	[ "${lines[1]}" = "Slave running normally." ]
	((ELAPSED_MS >= 3000))
	[ "$(state)" = ON ]
	wait_until 10 running
	assert_replicates "restarted-$flavor"
	if [[ $from == off ]]; then
		admin_call "CALL mysql.rds_stop_replication()"
		[ "$status" -eq 0 ]
		admin_call "CALL mysql.$reset()"
	else
		admin_call "CALL mysql.$reset()"
		((ELAPSED_MS >= 2000)) # STOP SLAVE, SLEEP(2), RESET SLAVE ALL
	fi
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = message ]
	[ "${lines[1]}" = "Slave has been reset" ]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	[ "$(state)" = NOT_EXIST ]
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"You can't start replication because the replica isn't configured. First call mysql.$proc."* ]]
	admin_call "CALL mysql.rds_stop_replication()"
	[[ $output == *"ERROR 1644 (45000)"*"isn't configured"* ]]
	admin_call "CALL mysql.$reset()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"You can't reset replication because replication isn't configured. First run mysql.$proc."* ]]
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]

	# the history of all this, logged without binlogging
	local expected="Starting: start slave|Starting: stop slave|stop slave|Starting: stop slave"
	expected+="|Starting: set master|set master|Starting: set master|set master|Starting: start slave|start slave"
	[[ $from == off ]] && expected+="|Starting: stop slave|stop slave"
	expected+="|Starting: reset slave|reset slave|Starting: start slave|Starting: stop slave|Starting: reset slave"
	[ "$(sql_replica admin "SELECT action FROM mysql.rds_history LIMIT $n0, 1000" | paste -sd '|')" = "$expected" ]
	[ "$(sql_replica admin "SELECT DISTINCT called_by_user FROM mysql.rds_history WHERE action = 'set master'")" = admin@127.0.0.1 ]
	# (the trimmed values; the delayed variant's row has its delay)
	[ "$(sql_replica admin "SELECT master_host, master_port, master_user, master_log_file, master_ssl, master_delay
		FROM (SELECT * FROM mysql.rds_history LIMIT $n0, 1000) h
		WHERE action = 'set master' AND master_log_pos = '$pos' ORDER BY master_delay")" = \
		"$(printf '127.0.0.1\t%s\trepl\t%s\t0\t0\n127.0.0.1\t%s\trepl\t%s\t0\t7' "$MASTER_PORT" "$file" "$MASTER_PORT" "$file")" ]
	[ "$(sql_replica admin "SELECT COUNT(*), MAX(action), COALESCE(MAX(master_host), 'none') FROM mysql.rds_replication_status")" = "$(printf '1\treset slave\tnone')" ]
	[ "$(replica_binlog)" = "$binlog" ]
	refute grep -q rds_ < <(sql_replica "SHOW BINLOG EVENTS")
}
@test "rds-mysql: start refused when ON; stop, set, start take >= 3 s and answer message rows; stop + reset (from OFF)" { check_lifecycle rds-mysql off; }
@test "rds-mysql-84: start refused when ON; stop, set, start take >= 3 s and answer message rows; reset from ON" { check_lifecycle rds-mysql-84 on; }
@test "rds-mariadb: start refused when ON; stop, set, start take >= 3 s and answer message rows; reset from ON" { check_lifecycle rds-mariadb on; }

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
	sql_replica admin "CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 3"
	sql_replica admin "START SLAVE"
	wait_until 10 running
	[ "$(sql_replica admin "SHOW STATUS LIKE 'Slave_heartbeat_period'" | cut -f2)" = 3.000 ]
	[[ $(sql_replica admin "SHOW SLAVE STATUS") == *"127.0.0.1"* ]]
	assert_replicates native
}

# --- faults: the master goes away (the "faults" sandbox, rds-mysql) -------------------

@test "master down: BROKEN; stop works; start fails after >= 3 s with the threads left running; reset from BROKEN" {
	use faults
	wait_until 10 running
	stop_server master
	wait_until 10 status_is Slave_IO_Running Connecting
	[ "$(state)" = BROKEN ]
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Replication might be running. First call mysql.rds_stop_replication."* ]]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "Slave is now down or disabled" ]
	[ "$(state)" = OFF ]
	# RDS starts, waits 2 s, and finds the IO thread not connected: an
	# error, but the threads keep running (and keep trying, every 60 s)
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -ne 0 ]
	[[ $output == *"ERROR 1644 (45000)"*"Slave has encountered an error. Run SHOW SLAVE STATUS\G; to see the error."* ]]
	((ELAPSED_MS >= 3000))
	[ "$(replica_status Slave_IO_Running)" = Connecting ]
	[ "$(replica_status Slave_SQL_Running)" = Yes ]
	[ "$(replica_status Last_IO_Errno)" = 2003 ]
	[ "$(replica_status Connect_Retry)" = 60 ]
	[ "$(state)" = BROKEN ]
	[[ $(history) == *"|Starting: start slave|start slave|Starting: start slave|Starting: stop slave|stop slave|Starting: start slave" ]]
	admin_call "CALL mysql.rds_reset_external_master()"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "Slave has been reset" ]
	((ELAPSED_MS >= 2000))
	[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]
	[ "$(state)" = NOT_EXIST ]
}

# (This sandbox is up with --fast-reconnect --rds-sleep-scale 0.1: the test
# is of these options.)
@test "--fast-reconnect, --rds-sleep-scale 0.1: retry and heartbeat 1 s, sleeps scaled; back soon after a master restart" {
	use fast
	# Scaled sleeps on purpose: this tests the opt-out itself; every other
	# test, the demo and the benchmarks keep RDS's real 1 s + 2 s.
	[ "$RDS_SLEEP_SCALE" = 0.1 ]
	[ "$FAST_RECONNECT" = 1 ]
	wait_until 10 running
	[ "$(replica_status Connect_Retry)" = 1 ]
	[ "$(sql_replica "SHOW STATUS LIKE 'Slave_heartbeat_period'" | cut -f2)" = 1.000 ]
	admin_call "CALL mysql.rds_stop_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "Slave is now down or disabled" ]
	((ELAPSED_MS >= 300 && ELAPSED_MS < 2900))
	admin_call "CALL mysql.rds_start_replication()"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "Slave running normally." ]
	((ELAPSED_MS >= 300 && ELAPSED_MS < 2900))
	wait_until 10 running
	stop_server master
	wait_until 10 status_is Slave_IO_Running Connecting
	start_server master
	# a retry every second: connected again within seconds (not 60)
	wait_until 15 running
	wait_until 10 state_is ON
	assert_replicates after-master-restart
}

# --- up --proxy: haproxy in front of the servers (the "proxy" sandbox) ----------------

# api LINE: haproxy's runtime API answer to LINE (socat, as HAProxy documents).
api() { printf '%s\n' "$1" | socat -t 5 -T 5 - "UNIX-CONNECT:$HAPROXY_SOCKET"; }
# server_state NAME: "op_state admin_state" of app/NAME ("show servers state").
server_state() { api "show servers state app" | awk -v s="$1" '$2 == "app" && $4 == s { print $6, $7 }'; }
via_proxy() { "$SANDBOX" sql "$SB" proxy "$@"; }

@test "--proxy: env, option files, status; app and root through the proxy reach the master" {
	use proxy
	local f pw
	[ "$PROXY_HOST" = 127.0.0.1 ]
	[[ $PROXY_PORT =~ ^[0-9]+$ ]]
	[ "$PROXY_PORT" != "$MASTER_PORT" ]
	[ "$PROXY_PORT" != "$REPLICA_PORT" ]
	[ "$HAPROXY_SOCKET" = "$SB/haproxy.sock" ]
	[ "$HAPROXY_BACKEND/$HAPROXY_OLD_SERVER/$HAPROXY_NEW_SERVER" = app/old/new ]
	[ -S "$HAPROXY_SOCKET" ]
	[ "$(stat -c %a "$HAPROXY_SOCKET")" = 600 ]
	refute process_gone "$HAPROXY_PID"
	[ "$(cat "$SB/haproxy.pid")" = "$HAPROXY_PID" ]
	grep -qx "haproxy $HAPROXY_PID" "$SB/pids"
	for f in root admin app; do
		[ "$(stat -c %a "$SB/proxy-$f.cnf")" = 600 ]
		grep -qx "port=$PROXY_PORT" "$SB/proxy-$f.cnf"
		grep -qx 'host=127.0.0.1' "$SB/proxy-$f.cnf"
		grep -qx 'protocol=tcp' "$SB/proxy-$f.cnf"
		grep -qx "user=$f" "$SB/proxy-$f.cnf"
		pw=$(sed -n 's/^password=//p' "$SB/proxy-$f.cnf")
		[ "$pw" = "$(sed -n 's/^password=//p' "$SB/master-$f.cnf")" ]
		refute grep -qF "$pw" "$SB/env"
	done
	# "old" (the master) takes the traffic, "new" (the replica) is in
	# maintenance; the configuration says how
	[ "$(via_proxy app -N -B "SELECT @@port, @@server_id, CURRENT_USER()")" = "$(printf '%s\t1\tapp@%%' "$MASTER_PORT")" ]
	[ "$(via_proxy -N -B "SELECT @@port")" = "$MASTER_PORT" ]
	[ "$(echo "SELECT @@port" | via_proxy admin -N)" = "$MASTER_PORT" ]
	grep -q "server old 127.0.0.1:$MASTER_PORT\$" "$SB/haproxy.cfg"
	grep -q "server new 127.0.0.1:$REPLICA_PORT disabled\$" "$SB/haproxy.cfg"
	grep -q "stats socket $HAPROXY_SOCKET mode 600 level admin\$" "$SB/haproxy.cfg"
	haproxy -c -q -f "$SB/haproxy.cfg"
	[ "$(api "show cli level")" = admin ]
	[ "$(server_state old)" = "2 0" ]
	[ "$(server_state new | cut -d' ' -f1)" = 0 ]
	(($(server_state new | cut -d' ' -f2) & 1)) # forced maintenance
	# the connections above went to old, one tcplog line each
	grep -q ' app app/old ' "$SB/haproxy.log"
	refute grep -q ' app app/new ' "$SB/haproxy.log"
	[ "$("$SANDBOX" cnf "$SB" proxy app)" = "$SB/proxy-app.cnf" ]
	[ "$("$SANDBOX" cnf "$SB" proxy)" = "$SB/proxy-root.cnf" ]
	run "$SANDBOX" cnf "$SB" proxy repl
	[ "$status" -eq 2 ]
	[[ $output == *"the proxy has no repl option file"* ]]
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = "haproxy: running (pid $HAPROXY_PID, port $PROXY_PORT)" ]
	# without --proxy: empty variables, no proxy files, a clear refusal
	use fresh
	[ -z "$PROXY_PORT$HAPROXY_SOCKET$HAPROXY_PID" ]
	[ ! -e "$SB/haproxy.cfg" ]
	run "$SANDBOX" sql "$SB" proxy app "SELECT 1"
	[ "$status" -eq 1 ]
	[[ $output == *"started without --proxy"* ]]
	run "$SANDBOX" status "$SB"
	[ "${#lines[@]}" -eq 2 ]
}

@test "--proxy: 'set server app/new state ready' takes effect at once (no health check to wait for); shutdown sessions cuts old ones" {
	use proxy
	local fifo=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out pid
	# a session through the proxy, open on the master
	mkfifo "$fifo"
	mariadb --defaults-file="$SB/proxy-app.cnf" --skip-reconnect --unbuffered -N -B <"$fifo" >"$out" 2>&1 3>&- &
	pid=$!
	exec 5>"$fifo"
	echo "SELECT @@port;" >&5
	wait_until 10 grep -qx "$MASTER_PORT" "$out"
	[ -z "$(api "set server app/old state maint; set server app/new state ready; shutdown sessions server app/old")" ]
	# the very next connection, without any wait, goes to the replica
	[ "$(via_proxy app -N -B "SELECT @@port")" = "$REPLICA_PORT" ]
	[ "$(server_state new)" = "2 4" ] # running; only "disabled in the configuration" left
	[ "$(cut -d' ' -f2 <<<"$(server_state old)")" = 1 ]
	# and the open session was cut: its next statement fails
	echo "SELECT @@port;" >&5
	exec 5>&-
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ]
	run cat "$out"
	[[ $output == *"ERROR 20"[01][0-9]* ]] # 2006 gone away or 2013 lost
	[[ $output != *"$REPLICA_PORT"* ]]
	# and back
	[ -z "$(api "set server app/new state maint; set server app/old state ready; shutdown sessions server app/new")" ]
	[ "$(via_proxy app -N -B "SELECT @@port")" = "$MASTER_PORT" ]
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

@test "up --proxy refusing haproxy's configuration (haproxy -c) fails with haproxy's message and stops the servers" {
	local dir pid wrapper=$BATS_TEST_TMPDIR/haproxy
	dir=$(sandbox_new_dir)
	# the real haproxy, given one more configuration file that it refuses
	printf 'global\n\tno-such-keyword 1\n' >"$BATS_TEST_TMPDIR/bad.cfg"
	printf '#!/bin/sh\nexec %s "$@" -f %s\n' "$(command -v haproxy)" "$BATS_TEST_TMPDIR/bad.cfg" >"$wrapper"
	chmod +x "$wrapper"
	REPLWATCH_HAPROXY=$wrapper run "$SANDBOX" up "$dir" --flavor mariadb --proxy
	[ "$status" -eq 1 ]
	[[ $output == *"refuses the configuration"* ]]
	[[ $output == *"no-such-keyword"* ]]
	[[ $output == *"stopping what was started"* ]]
	[ ! -e "$dir/env" ]
	[ "$(wc -l <"$dir/pids")" -eq 2 ] # the servers; haproxy never started
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

@test "down stops haproxy with the servers; status counts it" {
	use proxy
	refute process_gone "$HAPROXY_PID"
	# haproxy gone alone: status says so and exits 3
	kill -TERM "$HAPROXY_PID"
	wait_until 10 process_gone "$HAPROXY_PID"
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "master: running (pid $MASTER_PID, port $MASTER_PORT)" ]
	[ "${lines[2]}" = "haproxy: not running" ]
	# a new haproxy as up starts it (recorded in pids): down stops it too
	(exec setsid haproxy -db -f "$SB/haproxy.cfg" </dev/null >>"$SB/haproxy.log" 2>&1 3>&- 4>&-) &
	local pid=$!
	printf 'haproxy %s\n' "$pid" >>"$SB/pids"
	wait_until 10 test -S "$HAPROXY_SOCKET"
	wait_until 10 eval '[ "$(via_proxy app -N -B "SELECT @@port")" = "$MASTER_PORT" ]'
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = "haproxy: running (pid $pid, port $PROXY_PORT)" ]
	run "$SANDBOX" down "$SB"
	[ "$status" -eq 0 ]
	process_gone "$pid"
	process_gone "$MASTER_PID"
	process_gone "$REPLICA_PID"
	run "$SANDBOX" status "$SB"
	[ "$status" -eq 3 ]
	[ "${lines[2]}" = "haproxy: not running" ]
}
