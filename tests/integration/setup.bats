#!/usr/bin/env bats
# replwatchctl setup / start / stop against the real replwatchd and a sandbox
# pair started WITHOUT replication: the test does the seed itself (fill the
# master, mariadb-dump --master-data=2, load into the replica as root), then
# configures replication through the daemon, from explicit coordinates or the
# dump file, for each flavor.  The replication password must never show up in
# the daemon's log (debug level), its status, or the client's output.

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

# seeded_pair FLAVOR: a sandbox pair without replication; the manual seed:
# app.t filled on the master, dumped with --master-data=2 into $DUMP, loaded
# into the replica as root; a daemon watching the replica (as admin).
seeded_pair() {
	sandbox_up --flavor "$1"
	sql_master "USE app; CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32) NOT NULL);
		INSERT INTO t (v) SELECT CONCAT('seed', seq) FROM seq_1_to_50"
	DUMP=$BATS_TEST_TMPDIR/dump.sql
	mariadb-dump --defaults-file="$SB/master-root.cnf" --master-data=2 \
		--single-transaction --databases app >"$DUMP"
	{
		echo 'SET sql_log_bin = 0;'
		cat "$DUMP"
	} | mariadb --defaults-file="$SB/replica-root.cnf"
	[[ $(sql_replica "SELECT COUNT(*) FROM app.t") == 50 ]]
	PW=$(<"$SB/repl.password")
	daemon_start
	wait_state main not_replicating 10
}

# setup_main ARGS: replwatchctl --json setup main --master-host ... ARGS
setup_main() {
	run --separate-stderr ctl --json setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user repl "$@"
	printf 'setup: status=%s\nstdout: %s\nstderr: %s\n' "$status" "$output" "$stderr"
	no_secret "$output" "$stderr"
}

# no_secret TEXT...: none contains the replication password
no_secret() {
	local t
	for t in "$@"; do
		if [[ $t == *"$PW"* ]]; then
			echo "the replication password appears in: $t"
			return 1
		fi
	done
}

# no_secret_anywhere: not in the daemon's log (debug level), its status or
# its events either.
no_secret_anywhere() {
	if grep -qF -- "$PW" "$DAEMON_LOG"; then
		echo "the replication password is in the daemon's log:"
		grep -F -- "$PW" "$DAEMON_LOG"
		return 1
	fi
	no_secret "$(status_json main)" "$(ctl --json events main)"
}

rows_arrive() { # VALUE: insert on the master, wait for it on the replica
	sql_master "INSERT INTO app.t (v) VALUES ('$1')"
	wait_until 10 eval "[[ \$(sql_replica \"SELECT COUNT(*) FROM app.t WHERE v = '$1'\") == 1 ]]"
}

statement_for() { # FLAVOR: what set-up runs there
	case $1 in
	rds-mysql | rds-mariadb) echo 'CALL mysql.rds_set_external_master(' ;;
	rds-mysql-84) echo 'CALL mysql.rds_set_external_source(' ;;
	mariadb) echo 'CHANGE MASTER TO' ;;
	esac
}

# From SHOW MASTER STATUS taken after the load (no writes since the dump).
check_setup_coordinates() {
	local flavor=$1 file pos
	seeded_pair "$flavor"
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	setup_main --repl-password-file "$SB/repl.password" --binlog-file "$file" \
		--binlog-pos "$pos" --start
	[[ $status == 0 ]]
	jq -e '.started == true' <<<"$output"
	jq -e --arg s "$(statement_for "$flavor")" --arg f "$file" \
		'(.statement | startswith($s)) and (.statement | contains("***")) and (.statement | contains($f))' <<<"$output"
	wait_state main ok 10
	rows_arrive after-setup
	[[ $(replica_status Exec_Master_Log_Pos) -gt $pos ]]
	[[ $(replica_status Master_User) == repl ]]
	no_secret_anywhere
}

# From the dump file, then the life cycle: set-up refused while running,
# stop, start.
check_setup_from_dump() {
	local flavor=$1 file pos
	seeded_pair "$flavor"
	# Rows written after the dump must arrive too.
	sql_master "INSERT INTO app.t (v) VALUES ('after-dump')"
	setup_main --repl-password-file "$SB/repl.password" --from-dump "$DUMP" --start
	[[ $status == 0 ]]
	read -r file pos < <(sed -n "s/^-- CHANGE MASTER TO MASTER_LOG_FILE='\([^']*\)', MASTER_LOG_POS=\([0-9]*\);.*/\1 \2/p" "$DUMP")
	jq -e --arg f "$file" --arg p "$pos" '(.statement | contains($f)) and (.statement | contains($p))' <<<"$output"
	wait_state main ok 10
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM app.t WHERE v = '"'after-dump'"'") == 1 ]]'
	[[ $(sql_replica "SELECT COUNT(*) FROM app.t") == 51 ]]
	rows_arrive from-dump

	# Set-up again while it runs: refused, replication untouched.
	setup_main --repl-password-file "$SB/repl.password" --from-dump "$DUMP"
	[[ $status == 1 && $stderr == *precondition_failed*"stop it first"* ]]
	[[ $(replica_status Slave_IO_Running) == Yes && $(replica_status Slave_SQL_Running) == Yes ]]

	run --separate-stderr ctl --json stop main
	echo "stop: $status $output $stderr"
	[[ $status == 0 ]]
	wait_until 10 eval '[[ $(state_of main) == @(sql_stopped|io_stopped) ]]'
	[[ $(replica_status Slave_IO_Running) == No && $(replica_status Slave_SQL_Running) == No ]]
	sql_master "INSERT INTO app.t (v) VALUES ('while-stopped')"

	run --separate-stderr ctl --json start main
	echo "start: $status $output $stderr"
	[[ $status == 0 ]]
	wait_state main ok 10
	[[ $(replica_status Slave_IO_Running) == Yes && $(replica_status Slave_SQL_Running) == Yes ]]
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM app.t WHERE v = '"'while-stopped'"'") == 1 ]]'
	rows_arrive after-start
	no_secret_anywhere
}

@test "setup rds-mysql: coordinates from SHOW MASTER STATUS, --start" {
	check_setup_coordinates rds-mysql
}

@test "setup rds-mysql: --from-dump --start; refused while running; stop; start" {
	check_setup_from_dump rds-mysql
}

@test "setup rds-mysql-84 (rds_set_external_source only): coordinates, --start" {
	check_setup_coordinates rds-mysql-84
}

@test "setup rds-mysql-84: --from-dump --start; refused while running; stop; start" {
	check_setup_from_dump rds-mysql-84
}

@test "setup rds-mariadb: coordinates, --start" {
	check_setup_coordinates rds-mariadb
}

@test "setup rds-mariadb: --from-dump --start; refused while running; stop; start" {
	check_setup_from_dump rds-mariadb
}

@test "setup mariadb (native CHANGE MASTER): coordinates, --start" {
	check_setup_coordinates mariadb
}

@test "setup mariadb: --from-dump --start; refused while running; stop; start" {
	check_setup_from_dump mariadb
}

@test "setup with a wrong replication password: the IO thread fails with 1045, no password anywhere" {
	seeded_pair rds-mysql
	local wrong=$BATS_TEST_TMPDIR/wrong.password
	printf 'Wr0ngPassw0rdForRepl%s' "$RANDOM" >"$wrong"
	setup_main --repl-password-file "$wrong" --from-dump "$DUMP" --start
	[[ $status == 0 ]]
	wait_until 15 eval '[[ $(state_of main) == @(io_error|io_connecting) ]] && status_json main | jq -e ".reason | test(\"1045\")" >/dev/null'
	local st reason
	st=$(status_json main)
	reason=$(jq -r .reason <<<"$st")
	echo "reason: $reason"
	[[ $(replica_status Last_IO_Errno) == 1045 ]]
	[[ $st != *"$(<"$wrong")"* ]]
	run grep -qF -- "$(<"$wrong")" "$DAEMON_LOG"
	[[ $status == 1 ]]
	no_secret_anywhere
	# Fixed by stopping and setting up again with the right one.
	run ctl stop main
	[[ $status == 0 ]]
	setup_main --repl-password-file "$SB/repl.password" --from-dump "$DUMP" --start
	[[ $status == 0 ]]
	wait_state main ok 10
	rows_arrive fixed
	no_secret_anywhere
}

@test "setup rds-mariadb with GTID: --gtid from the dump" {
	seeded_pair rds-mariadb
	local gtid
	gtid=$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\([^']*\)';.*/\1/p" "$DUMP")
	[[ -n $gtid ]]
	setup_main --repl-password-file "$SB/repl.password" --gtid "$gtid" --start
	[[ $status == 0 ]]
	jq -e --arg g "$gtid" '(.statement | startswith("CALL mysql.rds_set_external_master_gtid(")) and (.statement | contains($g))' <<<"$output"
	wait_state main ok 10
	rows_arrive gtid
	[[ $(replica_status Using_Gtid) == Slave_Pos ]]
	no_secret_anywhere
}

@test "setup rds-mariadb with GTID: --from-dump --gtid-from-dump" {
	seeded_pair rds-mariadb
	sql_master "INSERT INTO app.t (v) VALUES ('after-dump')"
	setup_main --repl-password-stdin --from-dump "$DUMP" --gtid-from-dump --start <<<"$PW"
	[[ $status == 0 ]]
	jq -e '.statement | startswith("CALL mysql.rds_set_external_master_gtid(")' <<<"$output"
	wait_state main ok 10
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM app.t") == 51 ]]'
	rows_arrive gtid-dump
	[[ $(replica_status Using_Gtid) == Slave_Pos ]]
	no_secret_anywhere
}

@test "heartbeat = write creates its table on the master only once the replica replicates, so the table replicates" {
	seeded_pair rds-mysql
	daemon_stop
	daemon_start --master 'heartbeat = write'
	wait_state main not_replicating 10
	# Not replicating: a table made on the master now would be missing on
	# the replica, and the first heartbeat row would stop its SQL thread.
	local file pos
	sleep 2
	[[ -z $(sql_master "SHOW TABLES FROM replwatch LIKE 'heartbeat'") ]]
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	setup_main --repl-password-file "$SB/repl.password" --binlog-file "$file" \
		--binlog-pos "$pos" --start
	[[ $status == 0 ]]
	wait_until 20 eval '[[ $(status_json main | jq -r .lag.source) == heartbeat ]]'
	[[ -n $(sql_replica "SHOW TABLES FROM replwatch LIKE 'heartbeat'") ]]
	[[ $(replica_status Slave_SQL_Running) == Yes && $(replica_status Last_SQL_Errno) == 0 ]]
	wait_state main ok 10
}

@test "setup refuses a caching_sha2_password replication user without --ssl (the source's mysql.user as MySQL 8 answers)" {
	seeded_pair rds-mysql
	daemon_stop
	daemon_start --master
	wait_state main not_replicating 10
	# The sandbox's source is MariaDB, which has no caching_sha2_password:
	# its mysql.user is made to say what a MySQL 8 source's says for a
	# user created with IDENTIFIED BY (the default plugin there).
	sql_master "SET sql_log_bin = 0; CREATE USER repl8@'%' IDENTIFIED BY 'x';
		UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.plugin', 'caching_sha2_password')
		 WHERE User = 'repl8'"
	[[ $(sql_master "SELECT plugin FROM mysql.user WHERE user = 'repl8'") == caching_sha2_password ]]
	local file pos
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	run --separate-stderr ctl --json setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user repl8 --repl-password-file "$SB/repl.password" \
		--binlog-file "$file" --binlog-pos "$pos"
	echo "status=$status stderr=$stderr"
	[[ $status != 0 && $stderr == *precondition_failed*caching_sha2_password*2061*--ssl* ]]
	# Nothing was configured.
	[[ -z $(sql_replica "SHOW SLAVE STATUS") ]]
	# With TLS on the link it is allowed.
	run --separate-stderr ctl --json setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user repl8 --repl-password-file "$SB/repl.password" \
		--binlog-file "$file" --binlog-pos "$pos" --ssl
	echo "status=$status output=$output stderr=$stderr"
	[[ $status == 0 ]]
	[[ $(replica_status Master_User) == repl8 && $(replica_status Master_SSL_Allowed) == Yes ]]
}

# ctl_ok CMD: replwatchctl --json CMD main must succeed; OUT is its output.
ctl_ok() {
	run --separate-stderr ctl --json "$1" main
	echo "$1: status=$status output=$output stderr=$stderr"
	[[ $status == 0 ]]
	OUT=$output
}

# The state model of RDS's procedures, for a flavor: stop twice, start
# twice, start a half-running replica, start with the old master down.
check_state_model() {
	seeded_pair "$1"
	local file pos
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	setup_main --repl-password-file "$SB/repl.password" --binlog-file "$file" \
		--binlog-pos "$pos" --start
	[[ $status == 0 ]]
	wait_state main ok 10

	# Running: a start is success without a call (RDS would refuse it).
	ctl_ok start
	jq -e '.statement == "" and (.note | test("already running"))' <<<"$OUT"
	ctl_ok stop
	jq -e '.statement == "CALL mysql.rds_stop_replication()" and (.messages | index("Slave is now down or disabled"))' <<<"$OUT"
	# Stopped: a stop is success without a call (RDS would refuse it).
	ctl_ok stop
	jq -e '.statement == "" and (.note | test("already stopped"))' <<<"$OUT"
	ctl_ok start
	replicating_both

	# Half running (BROKEN): RDS refuses to start it, so it is stopped first.
	sql_replica "STOP SLAVE IO_THREAD"
	[[ $(replica_status Slave_IO_Running) == No && $(replica_status Slave_SQL_Running) == Yes ]]
	ctl_ok start
	replicating_both
	grep -q 'half running.*stopping it before the start' "$DAEMON_LOG"
	rows_arrive after-broken

	# The old master down: RDS's start errors after its 2 s sleep because
	# the IO thread is still connecting, although both threads run.
	ctl_ok stop
	sql_master "SHUTDOWN"
	wait_until 20 process_gone "$MASTER_PID"
	ctl_ok start
	jq -e '.note | test("answered.*but the start took effect.*still connecting")' <<<"$OUT"
	[[ $(replica_status Slave_IO_Running) == Connecting && $(replica_status Slave_SQL_Running) == Yes ]]
}

replicating_both() {
	[[ $(replica_status Slave_IO_Running) == Yes && $(replica_status Slave_SQL_Running) == Yes ]]
}

@test "start and stop follow RDS's state model on rds-mysql (real procedure timings)" {
	check_state_model rds-mysql
}

@test "start and stop follow RDS's state model on rds-mariadb (status through rds_replica_status)" {
	check_state_model rds-mariadb
}

@test "start and stop follow RDS's state model on rds-mysql-84 (the *source* names only)" {
	check_state_model rds-mysql-84
}
