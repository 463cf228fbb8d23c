#!/usr/bin/env bats
# replwatchd's side of the systemd contract (Type=notify, WatchdogSec=,
# ExecReload=replwatchctl reload, ExecStartPre=replwatchd -n), with a Unix datagram
# socket of ours standing in for systemd's $NOTIFY_SOCKET.  No database is
# needed: the target points at a closed port and stays unreachable.

bats_require_minimum_version 1.5.0

load lib

DAEMON_PID=
LISTENER_PID=

# The stand-in for systemd: append every datagram to $NOTES, one assignment
# per line.  When a datagram holds READY=1 it also notes whether the control
# socket existed at that moment (SOCKET_EXISTED=yes|no).
start_listener() {
	cat >"$T/listener.py" <<'EOF'
import os, signal, socket, stat, sys
path, out, ctl = sys.argv[1], sys.argv[2], sys.argv[3]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a") as f:
    f.write("LISTENING\n")
    f.flush()
    while True:
        msg = s.recv(65536).decode("utf-8", "replace")
        f.write(msg if msg.endswith("\n") else msg + "\n")
        if "READY=1" in msg.split("\n"):
            try:
                ok = stat.S_ISSOCK(os.stat(ctl).st_mode)
            except OSError:
                ok = False
            f.write("SOCKET_EXISTED=%s\n" % ("yes" if ok else "no"))
        f.flush()
EOF
	/usr/bin/python3 "$T/listener.py" "$T/notify" "$NOTES" "$SOCK" 3>&- &
	LISTENER_PID=$!
	wait_until 10 grep -qx LISTENING "$NOTES"
}

write_conf() { # write_conf FILE TARGET...
	local file=$1 name
	shift
	{
		printf '[daemon]\nsocket = %s\nstate_dir = %s\nlog_level = info\n' \
			"$SOCK" "$T/state"
		for name in "$@"; do
			printf '\n[target %s]\nhost = 127.0.0.1\nport = 1\n' "$name"
			printf 'option_file = %s\ninterval_ms = 200\n' "$T/t.cnf"
			printf 'connect_timeout_ms = 500\nquery_timeout_ms = 500\n'
		done
	} >"$file.tmp"
	mv "$file.tmp" "$file"
}

# start_daemon [ENV=VALUE...]: the real daemon, as systemd would start it.
start_daemon() {
	env -u JOURNAL_STREAM -u WATCHDOG_PID -u WATCHDOG_USEC \
		NOTIFY_SOCKET="$T/notify" "$@" \
		"$REPO/daemon/replwatchd" -c "$CONF" >"$T/stdout" 2>"$T/stderr" 3>&- &
	DAEMON_PID=$!
}

# The notes after line $1.
notes_after() { tail -n +"$(($1 + 1))" "$NOTES"; }
note_count() { wc -l <"$NOTES"; }
# has_after N LINE...: the lines appear after line N, in this order.
has_after() {
	local n=$1
	shift
	notes_after "$n" | awk -v want="$(printf '%s\n' "$@")" '
		BEGIN { k = split(want, w, "\n"); i = 1 }
		i <= k && $0 == w[i] { i++ }
		END { exit !(i > k) }'
}
count_of() { grep -cx "$1" "$NOTES" || true; }
# at_least N LINE: LINE has been noted N times or more.
at_least() { (($(count_of "$2") >= $1)); }

setup() {
	[[ -x $REPO/daemon/replwatchd ]] || skip "daemon/replwatchd is not built (make all)"
	T=$BATS_TEST_TMPDIR
	SOCK=$T/run/replwatch.sock
	NOTES=$T/notes
	CONF=$T/replwatch.conf
	((${#SOCK} < 100)) || skip "temporary directory too long for a socket path: $T"
	: >"$NOTES"
	printf '[client]\nuser = nobody\npassword = none\n' >"$T/t.cnf"
	chmod 0600 "$T/t.cnf"
	write_conf "$CONF" t1
	start_listener
}

teardown() {
	local pid
	for pid in $DAEMON_PID $LISTENER_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $DAEMON_PID $LISTENER_PID; do
		wait_until 5 process_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
	if [[ -n ${BATS_TEST_COMPLETED:-} ]]; then
		return 0
	fi
	echo "--- notifications:"
	cat "$NOTES" 2>/dev/null || true
	echo "--- daemon stderr:"
	cat "$T/stderr" 2>/dev/null || true
}

@test "READY=1 is sent once the control socket exists, then STATUS= names the target" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	run grep -x 'SOCKET_EXISTED=.*' "$NOTES"
	[[ ${lines[0]} == SOCKET_EXISTED=yes ]]
	[[ -S $SOCK ]]
	# One STATUS= line about every target, updated once it is unreachable.
	wait_until 10 grep -q '^STATUS=.*t1.*unreachable' "$NOTES"
	# READY=1 came before any STATUS=.
	run grep -n -m1 -x READY=1 "$NOTES"
	ready_line=${output%%:*}
	run grep -n -m1 '^STATUS=' "$NOTES"
	((${output%%:*} > ready_line))
}

@test "the socket is 0660 in a directory made 0750" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	[[ $(stat -c %a "$SOCK") == 660 ]]
	[[ $(stat -c %a "$T/run") == 750 ]]
}

@test "WATCHDOG=1 comes repeatedly, at half of WATCHDOG_USEC" {
	start_daemon WATCHDOG_USEC=400000
	wait_until 10 grep -qx READY=1 "$NOTES"
	sleep 1.5
	n=$(count_of WATCHDOG=1)
	# Every 200 ms: about 8 in 1.5 s; a loop that stalled would send few.
	((n >= 5)) || { echo "only $n WATCHDOG=1 in 1.5 s"; false; }
	# And it keeps coming.
	sleep 0.6
	(($(count_of WATCHDOG=1) > n))
}

@test "no WATCHDOG=1 without WATCHDOG_USEC, nor when WATCHDOG_PID is another process" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	start_daemon WATCHDOG_USEC=200000 WATCHDOG_PID=1
	wait_until 10 at_least 2 READY=1
	sleep 1
	[[ $(count_of WATCHDOG=1) == 0 ]]
}

@test "SIGHUP with a valid new configuration: RELOADING=1, READY=1, new target live" {
	start_daemon
	wait_until 10 grep -q '^STATUS=.*t1' "$NOTES"
	write_conf "$CONF" t1 t2
	n=$(note_count)
	kill -HUP "$DAEMON_PID"
	wait_until 10 has_after "$n" RELOADING=1 READY=1
	wait_until 10 grep -q '^STATUS=.*t2' <(notes_after "$n")
	grep -q 'reloaded: 2 target' "$T/stderr"
	run "$REPO/ctl/replwatchctl" -s "$SOCK" --json status
	[[ $status -le 2 ]]
	echo "$output" | jq -e '[.targets[].target] | sort == ["t1", "t2"]' || {
		echo "$output"
		false
	}
}

@test "SIGHUP with a broken configuration: refused, old one kept, daemon stays up" {
	start_daemon
	wait_until 10 grep -q '^STATUS=.*t1' "$NOTES"
	write_conf "$CONF" t1 t2
	printf 'lag_warn_s = soon\n' >>"$CONF"
	n=$(note_count)
	kill -HUP "$DAEMON_PID"
	wait_until 10 has_after "$n" RELOADING=1 READY=1
	# Logged why, naming the file and the key.
	wait_until 5 grep -q "reload refused, old configuration kept: $CONF:[0-9]*: lag_warn_s" "$T/stderr"
	run ! process_gone "$DAEMON_PID"
	[[ -S $SOCK ]]
	run "$REPO/ctl/replwatchctl" -s "$SOCK" --json status
	echo "$output" | jq -e '[.targets[].target] == ["t1"]' || {
		echo "$output"
		false
	}
	# And a later good configuration still reloads.
	write_conf "$CONF" t1 t3
	n=$(note_count)
	kill -HUP "$DAEMON_PID"
	wait_until 10 has_after "$n" RELOADING=1 READY=1
	wait_until 5 grep -q 'reloaded: 2 target' "$T/stderr"
}

@test "SIGTERM: STOPPING=1, exit status 0, socket removed" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	[[ -S $SOCK ]]
	kill -TERM "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	[[ $rc == 0 ]]
	grep -qx STOPPING=1 "$NOTES"
	[[ ! -e $SOCK ]]
	grep -q stopped "$T/stderr"
}

@test "SIGINT stops it the same way" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	kill -INT "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	[[ $rc == 0 ]]
	grep -qx STOPPING=1 "$NOTES"
	[[ ! -e $SOCK ]]
}

@test "-n (ExecStartPre): a bad configuration fails with file:line, notifies nothing" {
	printf 'lag_warn_s = soon\n' >>"$CONF"
	n=$(note_count)
	run env NOTIFY_SOCKET="$T/notify" "$REPO/daemon/replwatchd" -n -c "$CONF"
	[[ $status -ne 0 ]]
	[[ $output == *"$CONF:"[0-9]*": lag_warn_s"* ]]
	[[ ! -e $SOCK ]]
	sleep 0.2
	[[ -z $(notes_after "$n") ]]
}

@test "-n with a good configuration says OK and starts nothing" {
	run env NOTIFY_SOCKET="$T/notify" "$REPO/daemon/replwatchd" -n -c "$CONF"
	[[ $status -eq 0 ]]
	[[ $output == *"configuration OK (1 target)"* ]]
	[[ ! -e $SOCK ]]
	[[ $(note_count) == 1 ]] # only LISTENING
}

@test "a second daemon on the same socket refuses to start and leaves the first alone" {
	start_daemon
	wait_until 10 grep -qx READY=1 "$NOTES"
	first=$DAEMON_PID
	run env -u JOURNAL_STREAM NOTIFY_SOCKET="$T/notify2" "$REPO/daemon/replwatchd" -c "$CONF"
	[[ $status -ne 0 ]]
	[[ $output == *"another replwatchd is running"* ]]
	run ! process_gone "$first"
	[[ -S $SOCK ]]
}

# The unit as `make install` writes it, into a DESTDIR of this file's.
installed_unit() {
	local dest=$BATS_FILE_TMPDIR/root
	if [[ ! -f $dest/usr/lib/systemd/system/replwatchd.service ]]; then
		make -s -C "$REPO" install PREFIX=/usr DESTDIR="$dest" >"$dest.log" 2>&1 || {
			cat "$dest.log"
			return 1
		}
	fi
	UNIT=$dest/usr/lib/systemd/system/replwatchd.service
	DEST=$dest
}

# The installed unit's ExecReload= command line, run as systemd would (with
# the binary and the socket of this test).
exec_reload() {
	local cmd
	cmd=$(sed -n 's/^ExecReload=//p' "$UNIT")
	[[ $cmd == /usr/bin/replwatchctl\ * ]] || {
		echo "ExecReload=$cmd"
		return 1
	}
	cmd=${cmd/#\/usr\/bin\/replwatchctl/$DEST/usr/bin/replwatchctl}
	cmd=${cmd//\/run\/replwatch\/replwatch.sock/$SOCK}
	# shellcheck disable=SC2086 # word splitting as systemd does it
	env -u REPLWATCH_SOCKET $cmd
}

@test "ExecReload= of the installed unit fails when the daemon refuses the new file, succeeds when it takes it" {
	installed_unit
	start_daemon
	wait_until 10 grep -q '^STATUS=.*t1' "$NOTES"
	write_conf "$CONF" t1 t2
	printf 'lag_warn_s = soon\n' >>"$CONF"
	run exec_reload
	echo "$output"
	[[ $status -ne 0 ]]
	[[ $output == *"refused"*"$CONF:"[0-9]*": lag_warn_s"* ]]
	run ! process_gone "$DAEMON_PID"
	write_conf "$CONF" t1 t2
	run exec_reload
	echo "$output"
	[[ $status -eq 0 ]]
	[[ $output == *"reloaded"*"2 target"* ]]
}

@test "the installed unit: systemd-analyze security rates it 1.2 at most, with LimitNOFILE=" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze missing: make deps"
	installed_unit
	grep -qx 'LimitNOFILE=[0-9]*' "$UNIT"
	run env LC_ALL=C systemd-analyze security --offline=true --no-pager "$UNIT"
	line=$(grep -o 'Overall exposure level for replwatchd.service: [0-9.]*' <<<"$output")
	echo "# $line" >&3
	awk -v l="${line##* }" 'BEGIN { exit !(l != "" && l <= 1.2) }' || {
		echo "$output"
		false
	}
}
