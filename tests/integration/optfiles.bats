#!/usr/bin/env bats
# Permissions and option files (issue 14, items 4 and 7): whoever can write
# an option file can make libmariadb load a library inside the daemon
# (plugin-dir, default-auth); whoever can write replwatch.conf names the
# hooks it runs.  Each bad file is refused by `replwatchd -n`, at startup
# and on reload, with FILE:LINE: KEY: and the reason; the good ones really
# log in (so the rules guard what libmariadb actually reads).  A FIFO in
# place of a file is refused at once: every command that could hang runs
# under `timeout`, so a regression fails instead of stalling the suite.

load lib
load daemon

bats_require_minimum_version 1.5.0

setup_file() {
	sandbox_up --replicate
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

setup() {
	[[ -x $DAEMON_BIN ]] || skip "daemon/replwatchd is not built (make all)"
	# Option files in W; daemon_conf's directories there too, so that
	# bats removes them (paths stay short enough for the socket).
	W=$BATS_TEST_TMPDIR
	export TMPDIR=$W
	# The replica's admin account, as the sandbox wrote it (mode 0600).
	ADMIN_USER=$(sed -n 's/^user=//p' "$SB/replica-admin.cnf")
	ADMIN_PW=$(sed -n 's/^password=//p' "$SB/replica-admin.cnf")
	[[ -n $ADMIN_USER && -n $ADMIN_PW ]]
}

teardown() {
	daemon_stop || true
}

# optfile NAME MODE LINE...: write $W/NAME with these lines.
optfile() {
	local f=$W/$1 mode=$2
	shift 2
	printf '%s\n' "$@" >"$f"
	chmod "$mode" "$f"
}

# check_with OPTION_FILE: a configuration whose target main uses that option
# file, checked with -n (stdout and stderr apart); LINE is option_file's line.
check_with() {
	daemon_conf "option_file = $1"
	LINE=$(grep -n '^option_file' "$CONF" | cut -d: -f1)
	run --separate-stderr timeout 10 "$DAEMON_BIN" -n -c "$CONF"
	[ "$status" -ne 124 ] # not hung
}

# refused WHY: the last check failed with CONF:LINE: option_file: WHY.
refused() {
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "$CONF:$LINE: option_file: $1" ]
	[[ $stderr != *"$ADMIN_PW"* ]]
}

@test "a group-writable option file is refused, even without a password" {
	optfile evil.cnf 0664 '[client]' "user = $ADMIN_USER" 'plugin-dir = /tmp'
	check_with "$W/evil.cnf"
	refused "$W/evil.cnf: writable by group (mode 0664); chmod go-w it"
	chmod 0644 "$W/evil.cnf"
	check_with "$W/evil.cnf"
	[ "$status" -eq 0 ]
}

@test "a world-writable option file is refused, by -n and at startup" {
	optfile evil.cnf 0602 '[client]' "user = $ADMIN_USER" "password = $ADMIN_PW"
	check_with "$W/evil.cnf"
	refused "$W/evil.cnf: writable by others (mode 0602); chmod go-w it"
	run --separate-stderr timeout 10 "$DAEMON_BIN" -c "$CONF"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$CONF:$LINE: option_file: $W/evil.cnf: writable by others (mode 0602); chmod go-w it" ]
	[ ! -e "$SOCK" ]
}

@test "an option file owned by another user than root (the daemon's) is refused" {
	[[ $(id -u) == 0 ]] || skip "needs root to chown"
	optfile theirs.cnf 0600 '[client]' "user = $ADMIN_USER" "password = $ADMIN_PW"
	chown nobody "$W/theirs.cnf"
	check_with "$W/theirs.cnf"
	refused "$W/theirs.cnf: owned by nobody (uid $(id -u nobody)), not by root; chown it"
	chown root "$W/theirs.cnf"
	check_with "$W/theirs.cnf"
	[ "$status" -eq 0 ]
}

@test "an option file in a directory others may write (not sticky) is refused" {
	mkdir "$W/open"
	chmod 0777 "$W/open"
	optfile open/o.cnf 0600 '[client]' "user = $ADMIN_USER" "password = $ADMIN_PW"
	check_with "$W/open/o.cnf"
	refused "$W/open/o.cnf: directory $W/open is writable by others (mode 0777) and not sticky, so the file can be replaced; chmod go-w it"
	# Sticky, as /tmp: others cannot rename a file they do not own.
	chmod 1777 "$W/open"
	check_with "$W/open/o.cnf"
	[ "$status" -eq 0 ]
}

@test "passwd= is a password: refused at 0644, and at 0600 the daemon logs in with it" {
	optfile pw.cnf 0644 '[client]' "user = $ADMIN_USER" "passwd = $ADMIN_PW"
	check_with "$W/pw.cnf"
	refused "$W/pw.cnf: holds a password but is readable by group or others (mode 0644); chmod 600 it"
	# libmariadb really reads passwd: the daemon logs in with it alone.
	chmod 0600 "$W/pw.cnf"
	daemon_launch
	wait_state main ok 15
}

@test "a password in an included file: refused at 0644 with the !include line, at 0600 the daemon logs in through it" {
	optfile pw.cnf 0644 '[client]' "password = $ADMIN_PW"
	optfile main.cnf 0644 '[client]' "user = $ADMIN_USER" "!include $W/pw.cnf"
	check_with "$W/main.cnf"
	refused "$W/main.cnf:3: !include: $W/pw.cnf: holds a password but is readable by group or others (mode 0644); chmod 600 it"
	# An included file that others may write is as bad as the file itself.
	chmod 0666 "$W/pw.cnf"
	check_with "$W/main.cnf"
	refused "$W/main.cnf:3: !include: $W/pw.cnf: writable by others (mode 0666); chmod go-w it"
	chmod 0600 "$W/pw.cnf"
	check_with "$W/main.cnf"
	[ "$status" -eq 0 ]
	daemon_launch
	wait_state main ok 15
}

@test "!includedir DIR: its my.cnf is held to the same rules, and so is DIR" {
	mkdir "$W/conf.d"
	optfile conf.d/my.cnf 0644 '[client]' "password = $ADMIN_PW"
	optfile main.cnf 0644 "!includedir $W/conf.d" '[client]' "user = $ADMIN_USER"
	check_with "$W/main.cnf"
	refused "$W/main.cnf:1: !includedir: $W/conf.d/my.cnf: holds a password but is readable by group or others (mode 0644); chmod 600 it"
	chmod 0600 "$W/conf.d/my.cnf"
	chmod 0757 "$W/conf.d"
	check_with "$W/main.cnf"
	refused "$W/main.cnf:1: !includedir: $W/conf.d: directory $W/conf.d is writable by others (mode 0757) and not sticky, so the file can be replaced; chmod go-w it"
	chmod 0755 "$W/conf.d"
	check_with "$W/main.cnf"
	[ "$status" -eq 0 ]
}

@test "includes libmariadb would resolve elsewhere or skip are refused: relative, empty, missing" {
	optfile main.cnf 0644 '[client]' '!include pw.cnf'
	check_with "$W/main.cnf"
	refused "$W/main.cnf:2: !include: \"pw.cnf\" is not an absolute path"
	# An empty path makes libmariadb read the system-wide option files.
	optfile main.cnf 0644 '[client]' '!include '
	check_with "$W/main.cnf"
	refused "$W/main.cnf:2: !include: \"\" is not an absolute path"
	optfile main.cnf 0644 '[client]' "!include $W/gone.cnf"
	check_with "$W/main.cnf"
	refused "$W/main.cnf:2: !include: $W/gone.cnf: No such file or directory"
}

@test "a FIFO as the configuration is refused at once by -n and at startup" {
	mkfifo "$W/fifo.conf"
	run --separate-stderr timeout 10 "$DAEMON_BIN" -n -c "$W/fifo.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$W/fifo.conf: not a regular file (a FIFO)" ]
	run --separate-stderr timeout 10 "$DAEMON_BIN" -c "$W/fifo.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$W/fifo.conf: not a regular file (a FIFO)" ]
}

@test "a FIFO as an option file is refused at once" {
	mkfifo -m 0600 "$W/fifo.cnf"
	check_with "$W/fifo.cnf"
	refused "$W/fifo.cnf: not a regular file (a FIFO)"
}

@test "reload: a FIFO in place of the configuration is refused at once, by SIGHUP and replwatchctl reload; the daemon keeps serving" {
	daemon_start
	wait_state main ok 15
	mv "$CONF" "$CONF.good"
	mkfifo -m 0600 "$CONF"
	daemon_reload
	grep -qF "reload refused, old configuration kept: $CONF: not a regular file (a FIFO)" "$DAEMON_LOG"
	run --separate-stderr timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 reload
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ $stderr == *"new configuration refused, old one kept: $CONF: not a regular file (a FIFO)"* ]]
	# Still serving, on the old configuration.
	run -0 timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 hello
	[ "$(state_of main)" = ok ]
	# An option file swapped for a FIFO: the same.
	mv -f "$CONF.good" "$CONF"
	mkfifo -m 0600 "$W/fifo.cnf"
	sed -i "s|^option_file = .*|option_file = $W/fifo.cnf|" "$CONF"
	run --separate-stderr timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 reload
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ $stderr == *"option_file: $W/fifo.cnf: not a regular file (a FIFO)"* ]]
	[ "$(state_of main)" = ok ]
}

@test "reload: an option file made world-writable is refused; the old configuration is kept" {
	optfile creds.cnf 0600 '[client]' "user = $ADMIN_USER" "password = $ADMIN_PW"
	daemon_conf "option_file = $W/creds.cnf"
	daemon_launch
	wait_state main ok 15
	chmod 0666 "$W/creds.cnf"
	run --separate-stderr timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 reload
	[ "$status" -ne 0 ]
	[[ $stderr == *"option_file: $W/creds.cnf: writable by others (mode 0666); chmod go-w it"* ]]
	[[ $stderr != *"$ADMIN_PW"* ]]
	run -0 timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 hello
	chmod 0600 "$W/creds.cnf"
	run -0 timeout 10 "$CTL_BIN" -s "$SOCK" --timeout 5 reload
}
