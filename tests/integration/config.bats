#!/usr/bin/env bats
# replwatchd -n -c FILE: check a configuration and exit.  The contract:
# "FILE: configuration OK" (maybe followed by detail) on stdout and status 0, or config_load's
# "FILE:LINE: KEY: why" on stderr and status 1.  No database needed.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd -P)
DAEMON=$REPO/daemon/replwatchd
SECRET=not-in-any-message-7f3a

setup() {
	[ -x "$DAEMON" ] || skip "daemon/replwatchd is not built (make all)"
	T=$BATS_TEST_TMPDIR
	printf '[client]\nuser = rw\npassword = %s\n' "$SECRET" >"$T/ok.cnf"
	chmod 600 "$T/ok.cnf"
}

# check FILE: run the check with stdout and stderr apart.
check() {
	run --separate-stderr "$DAEMON" -n -c "$1"
}

# conf TEXT: write $T/rw.conf.
conf() {
	printf '%s\n' "$1" >"$T/rw.conf"
}

@test "the example configuration is valid once its option files exist" {
	cp "$REPO/conf/replwatch.conf" "$T/replwatch.conf"
	install -m 600 "$REPO/conf/rds1.cnf.example" "$T/rds1.cnf"
	install -m 600 "$REPO/conf/old-master.cnf.example" "$T/old-master.cnf"
	check "$T/replwatch.conf"
	[ "$status" -eq 0 ]
	# The daemon may add detail after "OK", e.g. " (1 target)".
	[[ "$output" = "$T/replwatch.conf: configuration OK"* ]]
	[ -z "$stderr" ]
}

@test "every commented-out default in the example is itself valid" {
	# Uncomment '#key = value' lines that have a value and no file or hook
	# behind them: the documented defaults must load as written.
	sed -E '/^#(tls_|master_tls_|on_|socket_group|admin_group|include)/d; s/^#([a-z_]+ = .+)$/\1/' \
	    "$REPO/conf/replwatch.conf" >"$T/replwatch.conf"
	install -m 600 "$REPO/conf/rds1.cnf.example" "$T/rds1.cnf"
	install -m 600 "$REPO/conf/old-master.cnf.example" "$T/old-master.cnf"
	grep -q '^interval_ms = 1000$' "$T/replwatch.conf"
	check "$T/replwatch.conf"
	[ "$status" -eq 0 ]
}

@test "a group-readable option file with a password is refused, without the password" {
	cp "$REPO/conf/replwatch.conf" "$T/replwatch.conf"
	install -m 644 "$REPO/conf/rds1.cnf.example" "$T/rds1.cnf"
	install -m 600 "$REPO/conf/old-master.cnf.example" "$T/old-master.cnf"
	line=$(grep -n '^option_file' "$T/replwatch.conf" | cut -d: -f1)
	check "$T/replwatch.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/replwatch.conf:$line: option_file: $T/rds1.cnf: holds a password but is readable by group or others (mode 0644); chmod 600 it" ]
	[[ "$stderr" != *change-me* ]]
	[[ "$output" != *"configuration OK"* ]]
}

@test "an option file without a password may be world-readable" {
	printf '[client]\nuser = rw\n' >"$T/nopw.cnf"
	chmod 644 "$T/nopw.cnf"
	conf "[target a]
host = 127.0.0.1
option_file = nopw.cnf"
	check "$T/rw.conf"
	[ "$status" -eq 0 ]
}

@test "out of range: file:line: key: why" {
	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
interval_ms = 50"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: interval_ms: 50 is out of range (100..3600000)" ]
}

@test "unknown key, bad word, duplicate key, duplicate target" {
	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
colour = blue"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: colour: unknown key in [target a]" ]

	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
flavor = oracle"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: flavor: \"oracle\" is not one of auto | rds-mysql | rds-mariadb | mysql | mariadb" ]

	conf "[target a]
host = 127.0.0.1
host = 127.0.0.2"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:3: host: duplicate key (first on line 2)" ]

	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
[target a]"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: duplicate target \"a\" (first on line 1)" ]
}

@test "missing host and option_file name the target's header line" {
	conf "[daemon]
log_level = debug

[target a]
option_file = ok.cnf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: host: required in [target a]" ]

	conf "[target a]
host = 127.0.0.1"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:1: option_file: required in [target a] (the credentials)" ]
}

@test "libinih traps: indented and over-long lines are refused; long hook command lines are not" {
	conf "[target a]
host = 127.0.0.1
    port = 3307
option_file = ok.cnf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" = "$T/rw.conf:3: host: indented line: "* ]]

	conf "[target a]
host = $(printf '%05000d' 0)
option_file = ok.cnf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:2: line too long (max 4096 bytes)" ]

	# A hook command of 3 KiB, far over libinih's 200-byte buffer: taken
	# whole, and still checked (its program must exist).
	local args
	args=$(printf ' --flag-%04d' $(seq 1 250))
	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
on_promoted = /bin/true$args ; a comment
on_switch = /bin/nonexistent$args"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:5: on_switch: /bin/nonexistent: No such file or directory" ]
	sed -i '/on_switch/d' "$T/rw.conf"
	check "$T/rw.conf"
	[ "$status" -eq 0 ]
}

@test "include: conf.d files add targets, file:line in their errors, a target in two files names both" {
	mkdir -m 755 "$T/conf.d"
	conf "[daemon]
include = conf.d/*.conf
[target a]
host = 127.0.0.1
option_file = ok.cnf"
	# Nothing matches yet: fine, and said.
	check "$T/rw.conf"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$T/rw.conf:2: include $T/conf.d/*.conf: no file matches" ]
	[ "${lines[1]}" = "$T/rw.conf: configuration OK (1 target)" ]

	printf '[target b]\nhost = 127.0.0.2\noption_file = ../ok.cnf\n' >"$T/conf.d/b.conf"
	printf '[target c]\nhost = 127.0.0.3\noption_file = ../ok.cnf\n' >"$T/conf.d/c.conf"
	printf 'not a configuration\n' >"$T/conf.d/README"
	check "$T/rw.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "$T/conf.d/b.conf: included
$T/conf.d/c.conf: included
$T/rw.conf: configuration OK (3 targets)" ]

	printf '[target c]\nhost = 127.0.0.3\nport = 99999\noption_file = ../ok.cnf\n' >"$T/conf.d/c.conf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/conf.d/c.conf:3: port: 99999 is out of range (1..65535)" ]

	printf '\n[target a]\nhost = 127.0.0.3\noption_file = ../ok.cnf\n' >"$T/conf.d/c.conf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/conf.d/c.conf:2: duplicate target \"a\" (first in $T/rw.conf:3)" ]

	# Hooks are named there too: trusted as the main file is.
	printf '[target c]\nhost = 127.0.0.3\noption_file = ../ok.cnf\n' >"$T/conf.d/c.conf"
	chmod 666 "$T/conf.d/c.conf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/conf.d/c.conf: writable by others (mode 0666); chmod go-w it" ]
}

@test "inline comments: ' ;' starts one, '#' after a value does not" {
	conf "[target a] ; the replica
host = 127.0.0.1   ; comment
option_file = ok.cnf;not-a-comment"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" = "$T/rw.conf:3: option_file: $T/ok.cnf;not-a-comment: No such file or directory" ]]

	conf "[target a]
host = 127.0.0.1 # comment"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" = "$T/rw.conf:2: host: \"127.0.0.1 # comment\" contains blanks"* ]]
}

@test "heartbeat = write without master_host" {
	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf
heartbeat = write"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf:4: heartbeat: write needs master_host (the heartbeat is written on the master)" ]
}

@test "option files: \$CREDENTIALS_DIRECTORY first, then next to the configuration" {
	mkdir "$T/creds" "$T/etc"
	printf '[client]\npassword = %s\n' "$SECRET" >"$T/creds/rds1.cnf"
	chmod 400 "$T/creds/rds1.cnf"
	printf '[target a]\nhost = 127.0.0.1\noption_file = rds1.cnf\n' >"$T/etc/rw.conf"
	run --separate-stderr env CREDENTIALS_DIRECTORY="$T/creds" "$DAEMON" -n -c "$T/etc/rw.conf"
	[ "$status" -eq 0 ]
	check "$T/etc/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/etc/rw.conf:3: option_file: $T/etc/rds1.cnf: No such file or directory" ]
	# A relative configuration path: the error names it as given.
	cd "$T"
	run --separate-stderr "$DAEMON" -n -c etc/rw.conf
	[ "$status" -eq 1 ]
	[ "$stderr" = "etc/rw.conf:3: option_file: $T/etc/rds1.cnf: No such file or directory" ]
}

@test "file-level errors: missing file, no target" {
	check "$T/nope.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/nope.conf: No such file or directory" ]

	conf "[daemon]"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf: no target defined ([target NAME])" ]
}

@test "a configuration others may change is refused: it names the hooks the daemon runs" {
	conf "[target a]
host = 127.0.0.1
option_file = ok.cnf"
	chmod 0666 "$T/rw.conf"
	check "$T/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/rw.conf: writable by others (mode 0666); chmod go-w it" ]
	chmod 0640 "$T/rw.conf"
	check "$T/rw.conf"
	[ "$status" -eq 0 ]
	if [[ $(id -u) == 0 ]]; then
		chown nobody "$T/rw.conf"
		check "$T/rw.conf"
		[ "$status" -eq 1 ]
		[ "$stderr" = "$T/rw.conf: owned by nobody (uid $(id -u nobody)), not by root; chown it" ]
		chown root "$T/rw.conf"
	fi
	# Through a directory others may write, the file could be replaced.
	mkdir "$T/open"
	cp "$T/rw.conf" "$T/ok.cnf" "$T/open/"
	chmod 0777 "$T/open"
	check "$T/open/rw.conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$T/open/rw.conf: directory $T/open is writable by others (mode 0777) and not sticky, so the file can be replaced; chmod go-w it" ]
}
