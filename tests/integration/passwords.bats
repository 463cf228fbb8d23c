#!/usr/bin/env bats
# Replication passwords with every character that matters to an SQL literal
# (' \ " ; space, UTF-8), set up through the real daemon and client on every
# flavor the sandbox has, under the default sql_mode and with
# NO_BACKSLASH_ESCAPES set globally on the replica (new sessions, the
# daemon's set-up session among them, pick it up).  For each password: the
# replication account has it on the master, setup --start succeeds, the IO
# thread connects with it (Slave_IO_Running Yes), and no piece of it shows
# up in the client's output, the daemon's log (debug level), its status or
# events, or either server's error log.  Also: a user name with ' and \ on
# both servers, GTID set-ups, and server errors that quote the statement
# (1470, 1366), whose quote is withheld.  Issue 14, item 6.
#
# The RDS procedures' sleeps are scaled down (--rds-sleep-scale 0.1): the
# start and stop run 2 x 8 times per flavor here, and their timing is not
# what these tests are about (setup.bats runs them at RDS's real pace).

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

# The passwords: each special character (or all of them) between a head
# and a tail that occur nowhere else, so that a piece of a password (the
# tail a broken statement quotes back) is looked for as well as the whole.
# No leading or trailing space: RDS's procedures trim their arguments.
make_passwords() {
	local specials=("'" '\' '"' ';' ' ' 'ü€' "\\'" "a'b\\c\"d;e f ü€\\") i
	PWS=() HEADS=() TAILS=() DONE=()
	for i in "${!specials[@]}"; do
		HEADS+=("Hd${i}x$RANDOM")
		TAILS+=("Tl${i}y$RANDOM")
		PWS+=("${HEADS[i]}${specials[i]}${TAILS[i]}")
	done
}

# pair FLAVOR: a sandbox pair without replication, the account rpw on the
# master (kept out of its binary log), a daemon watching the replica.
pair() {
	sandbox_up --flavor "$1" --rds-sleep-scale 0.1
	sql_master "SET sql_log_bin = 0; CREATE USER rpw@'%' IDENTIFIED BY 'unused';
		GRANT REPLICATION SLAVE ON *.* TO rpw@'%'"
	daemon_start
	wait_state main not_replicating 10
	PWFILE=$BATS_TEST_TMPDIR/repl.password
	: >"$PWFILE"
	chmod 600 "$PWFILE"
	make_passwords
}

# master_password PW: rpw's password on the master, spelled in hex so that
# the test's own SQL needs no quoting of it.
master_password() {
	local hex hash
	hex=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
	hash=$(sql_master "SELECT PASSWORD(CONVERT(UNHEX('$hex') USING utf8mb4))")
	[[ $hash == \** ]]
	sql_master "SET sql_log_bin = 0; ALTER USER rpw@'%' IDENTIFIED BY PASSWORD '$hash'"
}

# nowhere TEXT...: no password, head or tail of this run in any TEXT.
nowhere() {
	local t s
	for t in "$@"; do
		for s in "${PWS[@]}" "${HEADS[@]}" "${TAILS[@]}"; do
			if [[ $t == *"$s"* ]]; then
				echo "\"$s\" (of a replication password) appears in: $t"
				return 1
			fi
		done
	done
}

# nowhere_at_all: not in the daemon's log, status, events, nor the servers'
# error logs.
nowhere_at_all() {
	nowhere "$(<"$DAEMON_LOG")" "$(status_json main)" \
		"$(ctl --json events main)" "$(<"$SB/replica.err")" \
		"$(<"$SB/master.err")"
}

# setup_pw USER SETUP-ARGS...: `run` the set-up with the password in PWFILE
setup_pw() {
	local user=$1
	shift
	run --separate-stderr ctl --json setup main --master-host 127.0.0.1 \
		--master-port "$MASTER_PORT" --repl-user "$user" \
		--repl-password-file "$PWFILE" "$@"
}

# one_password N [SETUP-ARGS]: set PWS[N] on the master, set up with it and
# start, see the IO thread connect, stop.  (Not "i": bats' run uses it.)
one_password() {
	local pwn=$1 file pos
	shift
	master_password "${PWS[pwn]}"
	printf '%s\n' "${PWS[pwn]}" >"$PWFILE"
	if (($# == 0)); then
		read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
		set -- --binlog-file "$file" --binlog-pos "$pos"
	fi
	setup_pw rpw "$@" --start
	printf 'password %s (%s): status=%s\nstdout: %s\nstderr: %s\n' "$pwn" \
		"$MODE" "$status" "$output" "$stderr"
	nowhere "$output" "$stderr"
	[[ $status == 0 ]]
	jq -e '.started == true and (.statement | contains("***"))' <<<"$output"
	wait_until 15 eval '[[ $(replica_status Slave_IO_Running) == Yes ]]'
	[[ $(replica_status Master_User) == rpw && $(replica_status Last_IO_Errno) == 0 ]]
	run --separate-stderr ctl --json stop main
	[[ $status == 0 ]]
	wait_until 15 eval '[[ $(replica_status Slave_IO_Running) == No ]]'
	DONE+=("$MODE/$pwn")
}

# every_password [SETUP-ARGS]: one_password for each, in the current mode.
every_password() {
	local pwk
	for pwk in "${!PWS[@]}"; do
		one_password "$pwk" "$@"
	done
	nowhere_at_all
}

no_backslash_escapes() {
	sql_replica "SET GLOBAL sql_mode = CONCAT(@@global.sql_mode, ',NO_BACKSLASH_ESCAPES')"
	# New sessions have it, as the daemon's next set-up session will.
	[[ $(sql_replica admin "SELECT @@session.sql_mode") == *NO_BACKSLASH_ESCAPES* ]]
	MODE=no_backslash_escapes
}

# both_modes FLAVOR: every password under the default sql_mode, then with
# NO_BACKSLASH_ESCAPES.
both_modes() {
	pair "$1"
	MODE=default
	[[ $(sql_replica admin "SELECT @@session.sql_mode") != *NO_BACKSLASH_ESCAPES* ]]
	every_password
	no_backslash_escapes
	every_password
	# Every password went through in both modes.
	[[ ${#DONE[@]} == $((2 * ${#PWS[@]})) ]]
	[[ $1 == rds-* ]] || return 0
	# RDS's procedures trim their arguments: a space at an end is refused
	# rather than lost (the IO thread would fail with 1045 much later).
	printf ' %s\n' "${PWS[0]}" >"$PWFILE"
	setup_pw rpw --binlog-file master-bin.000001 --binlog-pos 4
	echo "leading space: status=$status stderr=$stderr"
	[[ $status == 1 && $stderr == *invalid_argument*"begins or ends with a space"* ]]
	nowhere "$output" "$stderr"
}

@test "passwords with ' \\ \" ; space and UTF-8, both sql_modes: mariadb (CHANGE MASTER)" {
	both_modes mariadb
}

@test "passwords with ' \\ \" ; space and UTF-8, both sql_modes: rds-mysql (rds_set_external_master)" {
	both_modes rds-mysql
}

@test "passwords with ' \\ \" ; space and UTF-8, both sql_modes: rds-mysql-84 (rds_set_external_source)" {
	both_modes rds-mysql-84
}

@test "passwords with ' \\ \" ; space and UTF-8, both sql_modes: rds-mariadb (rds_set_external_master)" {
	both_modes rds-mariadb
}

@test "passwords with GTID set-up under NO_BACKSLASH_ESCAPES: mariadb (gtid_slave_pos) and rds-mariadb" {
	local flavor gtid
	for flavor in mariadb rds-mariadb; do
		pair "$flavor"
		no_backslash_escapes
		sql_master "CREATE DATABASE gtid_seed"	# a GTID to start after
		gtid=$(sql_master "SELECT @@global.gtid_binlog_pos")
		[[ -n $gtid ]]
		one_password 0 --gtid "$gtid"
		one_password 7 --gtid "$gtid"
		[[ $(replica_status Using_Gtid) == Slave_Pos ]]
		nowhere_at_all
		daemon_stop
		sandbox_down "$SB"
	done
}

# withheld FLAVOR PASSWORD ERRNO WORDS: set-up with PASSWORD fails with
# ERRNO; the reply and the log keep the words before the error's quote,
# never the quote (a piece of the password).
withheld() {
	pair "$1"
	no_backslash_escapes
	PWS=("$2") HEADS=("${2:0:20}") TAILS=("${2: -20}")
	printf '%s\n' "$2" >"$PWFILE"
	setup_pw rpw --binlog-file master-bin.000001 --binlog-pos 4
	echo "$1: status=$status stdout=$output stderr=$stderr"
	[[ $status == 1 && $stderr == *server_error*"error $3: $4 ... (the rest is withheld"* ]]
	nowhere "$output" "$stderr"
	grep -qF "setup failed: error $3: $4 ... (the rest is withheld" "$DAEMON_LOG"
	nowhere_at_all
	daemon_stop
	sandbox_down "$SB"
}

# MariaDB refuses a MASTER_PASSWORD over 96 bytes with 1470, which quotes
# the first 64 of them.  The RDS emulation's procedure takes the password
# as latin1 (cp1252): a character outside it is 1366, which quotes the
# password from that character on.
@test "server errors that quote the set-up statement are withheld: 1470 (too long), 1366 (not latin1)" {
	withheld mariadb "Lh$RANDOM'$(printf 'p%.0s' {1..100})\\Lt$RANDOM" 1470 "String"
	withheld rds-mysql "Lh$RANDOM'x\\y$(printf '\xf0\x9f\x98\x80')Lt${RANDOM}qqqqqqqqqqqqqqqqqqqq" \
		1366 "Incorrect string value:"
}

# The user name is a literal twice: in the set-up statement on the replica
# and in the plugin check on the old master (flavor_user_plugin_sql), each
# escaped by its own session.  Had either been read wrongly, the check
# would say "could not be checked" or "has no user", or the IO thread would
# not connect.
@test "a user name with ' and \\, checked on the master, both servers with NO_BACKSLASH_ESCAPES" {
	local user="r'pw\\x" st
	sandbox_up --flavor mariadb
	make_passwords
	sql_master "SET sql_log_bin = 0; CREATE USER 'r\\'pw\\\\x'@'%' IDENTIFIED BY 'unused';
		GRANT REPLICATION SLAVE ON *.* TO 'r\\'pw\\\\x'@'%'"
	[[ $(sql_master "SELECT COUNT(*) FROM mysql.user WHERE user = CONCAT('r', CHAR(39), 'pw', CHAR(92), 'x')") == 1 ]]
	local hex hash
	hex=$(printf '%s' "${PWS[7]}" | od -An -tx1 | tr -d ' \n')
	hash=$(sql_master "SELECT PASSWORD(CONVERT(UNHEX('$hex') USING utf8mb4))")
	sql_master "SET sql_log_bin = 0; ALTER USER 'r\\'pw\\\\x'@'%' IDENTIFIED BY PASSWORD '$hash'"
	for st in master replica; do
		_sb_sql "$st" "SET GLOBAL sql_mode = CONCAT(@@global.sql_mode, ',NO_BACKSLASH_ESCAPES')"
	done
	daemon_start --master
	wait_state main not_replicating 10
	PWFILE=$BATS_TEST_TMPDIR/repl.password
	: >"$PWFILE"
	chmod 600 "$PWFILE"
	printf '%s\n' "${PWS[7]}" >"$PWFILE"
	local file pos
	read -r file pos _ < <(sql_master "SHOW MASTER STATUS")
	setup_pw "$user" --binlog-file "$file" --binlog-pos "$pos" --start
	echo "status=$status stdout=$output stderr=$stderr"
	[[ $status == 0 ]]
	jq -e '.started == true and (.note | test("could not be checked|has no user") | not)' <<<"$output"
	wait_until 15 eval '[[ $(replica_status Slave_IO_Running) == Yes ]]'
	# (The client's batch output doubles a backslash.)
	[[ $(replica_status Master_User) == "r'pw\\\\x" ]]
	nowhere "$output" "$stderr"
	nowhere_at_all
}
