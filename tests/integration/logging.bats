#!/usr/bin/env bats
# Where the daemon logs outside systemd: log = auto | syslog | stderr (or
# replwatchd -l).  stderr lines carry the time with its UTC offset.  syslog
# is received for real: the daemon runs in a private mount namespace whose
# /dev/log is a socat UNIX-RECV socket (glibc's syslog(3) knows no other
# path), so what syslogd would get is what the test reads.  No database:
# the target points at a closed port.

bats_require_minimum_version 1.5.0

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	DAEMON=$REPO/daemon/replwatchd
	[ -x "$DAEMON" ] || skip "daemon/replwatchd is not built (make all)"
	# Short: socket paths are limited to 107 bytes.
	D=$(mktemp -d /tmp/rwlog.XXXXXX)
	chmod 700 "$D"
	printf '[client]\nuser=nobody\npassword=nothing\n' >"$D/o.cnf"
	chmod 600 "$D/o.cnf"
	PID= SOCAT_PID=
}

teardown() {
	local p
	for p in $PID $SOCAT_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$D"
}

conf() {
	cat >"$D/c.conf" <<EOF2
[daemon]
socket = $D/s.sock
state_dir = $D/state
$*
[target t1]
host = 127.0.0.1
port = 1
option_file = $D/o.cnf
EOF2
}

# Up (its socket answers) and its first poll logged somewhere, then stopped.
run_daemon_briefly() {
	PID=$!
	run timeout 10 bash -c 'until [ -S "$1" ]; do sleep 0.1; done' _ "$D/s.sock"
	[ "$status" -eq 0 ]
	run timeout 10 bash -c 'until "$1" -s "$2" --json status t1 |
	    jq -e ".state == \"unreachable\"" >/dev/null; do sleep 0.1; done' \
	    _ "$REPO/ctl/replwatchctl" "$D/s.sock"
	[ "$status" -eq 0 ]
	kill -TERM "$PID"
	wait "$PID"
	PID=
}

# A datagram socket standing in for syslogd's /dev/log.
syslogd_start() {
	socat -u UNIX-RECV:"$D/log.sock" OPEN:"$D/syslog.out",creat,append &
	SOCAT_PID=$!
	run timeout 10 bash -c 'until [ -S "$1" ]; do sleep 0.1; done' _ "$D/log.sock"
	[ "$status" -eq 0 ]
}

# unshare "${DEVLOG[@]}" CMD... &: CMD in a private mount namespace where
# /dev/log is our socket (and /dev keeps null, zero, urandom, ... from the
# real one).  unshare and bash exec, so $! is CMD's pid.
devlog_prepare() {
	mkdir "$D/olddev"
	DEVLOG=(--mount --propagation private bash -c '
		set -e
		d=$1; shift
		mount --bind /dev "$d/olddev"
		mount -t tmpfs -o mode=755 none /dev
		for f in null zero full random urandom tty; do
			[ -e "$d/olddev/$f" ] || continue
			touch "/dev/$f"
			mount --bind "$d/olddev/$f" "/dev/$f"
		done
		ln -s "$d/log.sock" /dev/log
		exec "$@"' _ "$D")
}

# STAMP: 2026-12-02T11:41:02.401-05:00
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}'

@test "-l stderr and log = stderr write to stderr even when it is the journal's stream, with the UTC offset" {
	conf ""
	: >"$D/err"
	# stderr is "the journal" for auto: nothing reaches the file then.
	JOURNAL_STREAM=$(stat -c '%d:%i' "$D/err") "$DAEMON" -c "$D/c.conf" 2>>"$D/err" &
	run_daemon_briefly
	run ! grep started "$D/err"

	JOURNAL_STREAM=$(stat -c '%d:%i' "$D/err") TZ=EST5 "$DAEMON" -l stderr \
	    -c "$D/c.conf" 2>>"$D/err" &
	run_daemon_briefly
	grep -E "^$STAMP-05:00 replwatchd info: replwatchd .* started: 1 target" "$D/err"
	grep -E "^$STAMP-05:00 replwatchd warning: \[t1\] unknown -> unreachable" "$D/err"

	: >"$D/err"
	conf "log = stderr"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$D/err") TZ=IST-5:30 "$DAEMON" \
	    -c "$D/c.conf" 2>>"$D/err" &
	run_daemon_briefly
	grep -E "^$STAMP\+05:30 replwatchd info: replwatchd .* started" "$D/err"
}

@test "log = syslog sends every line to /dev/log with its priority, none to stderr" {
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	syslogd_start
	devlog_prepare
	conf "log = syslog"
	unshare "${DEVLOG[@]}" "$DAEMON" -c "$D/c.conf" 2>"$D/err" &
	run_daemon_briefly
	# daemon.info is <30>, daemon.warning <28>; the pid is the daemon's.
	grep -E '<30>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} replwatchd\[[0-9]+\]: replwatchd .* started: 1 target' "$D/syslog.out"
	grep -E '<28>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} replwatchd\[[0-9]+\]: \[t1\] unknown -> unreachable' "$D/syslog.out"
	grep -E 'replwatchd\[[0-9]+\]: Terminated: stopping' "$D/syslog.out"
	run ! grep started "$D/err"
}

@test "log = auto: stderr to /dev/null (a plain init script) means syslog; -l stderr overrides the file" {
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	syslogd_start
	devlog_prepare
	conf ""
	unshare "${DEVLOG[@]}" "$DAEMON" -c "$D/c.conf" 2>/dev/null &
	run_daemon_briefly
	grep -E 'replwatchd\[[0-9]+\]: replwatchd .* started' "$D/syslog.out"

	: >"$D/syslog.out"
	conf "log = syslog"
	unshare "${DEVLOG[@]}" "$DAEMON" -l stderr -c "$D/c.conf" 2>"$D/err" &
	run_daemon_briefly
	grep -E "^$STAMP[-+][0-9]{2}:[0-9]{2} replwatchd info: replwatchd .* started" "$D/err"
	run ! grep started "$D/syslog.out"
}

@test "-l takes auto, syslog or stderr; log = is checked at -n" {
	conf ""
	run "$DAEMON" -l journal -c "$D/c.conf"
	[ "$status" -eq 64 ]
	[[ "$output" == *"-l journal: not one of auto, syslog, stderr"* ]]
	conf "log = file"
	run "$DAEMON" -n -c "$D/c.conf"
	[ "$status" -eq 1 ]
	[ "$output" = "$D/c.conf:4: log: \"file\" is not one of auto | syslog | stderr" ]
}
