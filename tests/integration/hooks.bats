#!/usr/bin/env bats
# The on_switch hook conf/hooks/haproxy-switch and the application-like
# writer tests/tools/appwriter, against a real haproxy in front of a real
# replicating pair (tests/sandbox/sandbox up --proxy): "app" has server "old"
# (the master) and "new" (the replica, in maintenance). The hook runs as
# replwatchd runs it: through /bin/sh -c with the REPLWATCH_* variables.
# Then how the real replwatchd runs a hook (on_state_change, watching the
# same pair): what it may inherit, what it may leave, how much it may log.

# shellcheck disable=SC2030,SC2031,SC2154 # (bats' run sets status, output, stderr, stderr_lines per test)

load lib
load daemon

bats_require_minimum_version 1.5.0

setup_file() {
	# (built by make integration; here too, for a bats run after a plain make)
	make -C "$REPO" -s tests/tools/appwriter >&2
	# The mariadb flavor: nothing here calls the RDS procedures.
	sandbox_up --flavor mariadb --replicate --proxy
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

HOOK=$REPO/conf/hooks/haproxy-switch
APPWRITER=$REPO/tests/tools/appwriter
REPORT=$REPO/tests/tools/appwriter-report

# api LINE: haproxy's runtime API answer to LINE.
api() { printf '%s\n' "$1" | socat -t 5 -T 5 - "UNIX-CONNECT:$HAPROXY_SOCKET"; }

setup() {
	# Every test starts with the traffic on the master, the replica read-only.
	[ -z "$(api "set server app/new state maint; set server app/old state ready; shutdown sessions server app/new")" ]
	sql_replica "SET GLOBAL read_only = 1"
}

teardown() {
	if [[ -n ${SESSION_PID:-} ]]; then
		kill "$SESSION_PID" 2>/dev/null || true
	fi
	daemon_stop
}

# hook DIRECTION [ARG...]: the hook through /bin/sh -c as replwatchd runs it
# (ARGs: its arguments, default the sandbox's socket, backend and servers).
hook() {
	local direction=$1 new_port=$REPLICA_PORT old_port=$MASTER_PORT
	shift
	(($#)) || set -- "$HAPROXY_SOCKET" app old new
	if [[ $direction == back ]]; then
		new_port=$MASTER_PORT old_port=$REPLICA_PORT
	fi
	env REPLWATCH_EVENT=switch REPLWATCH_TARGET=rds1 REPLWATCH_SWITCH_DIRECTION="$direction" \
		REPLWATCH_NEW_MASTER_HOST=127.0.0.1 REPLWATCH_NEW_MASTER_PORT="$new_port" \
		REPLWATCH_OLD_MASTER_HOST=127.0.0.1 REPLWATCH_OLD_MASTER_PORT="$old_port" \
		REPLWATCH_REPLICA="127.0.0.1:$REPLICA_PORT" \
		/bin/sh -c "$HOOK $*"
}

replica_has_table() {
	[ "$(sql_replica "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = '$1'")" = 1 ]
}

# The port a new connection through the proxy reaches.
proxy_port() { mariadb --defaults-file="$SB/proxy-app.cnf" -N -B -e "SELECT @@port"; }

# "op_state admin_state" of app/NAME.
server_state() { api "show servers state app" | awk -v s="$1" '$2 == "app" && $4 == s { print $6, $7 }'; }
in_maint() { (($(server_state "$1" | cut -d' ' -f2) & 1)); }
# running, and out of maintenance (0x23) and drain (0x18)
is_ready() {
	local op adm
	read -r op adm < <(server_state "$1")
	((op == 2 && (adm & 0x3b) == 0))
}

# open_session PORT: a client session through the proxy, kept open (its
# statements come from a fifo on fd 5), that reached the server at PORT.
open_session() {
	local n=${SESSION_N:-0}
	SESSION_N=$((n + 1))
	SESSION_IN=$BATS_TEST_TMPDIR/session$n.in
	SESSION_OUT=$BATS_TEST_TMPDIR/session$n.out
	mkfifo "$SESSION_IN"
	mariadb --defaults-file="$SB/proxy-app.cnf" --skip-reconnect --unbuffered -N -B \
		<"$SESSION_IN" >"$SESSION_OUT" 2>&1 3>&- &
	SESSION_PID=$!
	exec 5>"$SESSION_IN"
	echo "SELECT @@port;" >&5
	wait_until 10 grep -qx "$1" "$SESSION_OUT"
}

# session_was_cut: the open session's next statement fails (2006 server gone
# away or 2013 lost connection) and the client ends with an error.
session_was_cut() {
	local rc=0
	echo "SELECT @@port;" >&5
	exec 5>&-
	wait "$SESSION_PID" || rc=$?
	SESSION_PID=
	cat "$SESSION_OUT"
	((rc != 0))
	grep -Eq '^ERROR (2006|2013) ' "$SESSION_OUT"
	[ "$(grep -cx '[0-9][0-9]*' "$SESSION_OUT")" -eq 1 ] # the first answer only
}

# --- haproxy-switch --------------------------------------------------------------------

@test "forward: new connections reach the replica at once, an open session to the old master is cut; back reverses" {
	local t0 ms
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	open_session "$MASTER_PORT"
	t0=${EPOCHREALTIME/./}
	run --separate-stderr hook forward
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "forward: status $status in $ms ms: $output $stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "haproxy-switch: forward: traffic to app/new (127.0.0.1:$REPLICA_PORT, for 127.0.0.1:$REPLICA_PORT) now; app/old (127.0.0.1:$MASTER_PORT) in maintenance, its sessions shut down" ]
	((ms < 2000)) # two socat calls; about 50 ms here
	# no wait for a health check: the very next connection
	[ "$(proxy_port)" = "$REPLICA_PORT" ]
	is_ready new
	in_maint old
	session_was_cut

	open_session "$REPLICA_PORT"
	run --separate-stderr hook back
	[ "$status" -eq 0 ]
	[ "$output" = "haproxy-switch: back: traffic to app/old (127.0.0.1:$MASTER_PORT, for 127.0.0.1:$MASTER_PORT) now; app/new (127.0.0.1:$REPLICA_PORT) in maintenance, its sessions shut down" ]
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	is_ready old
	in_maint new
	session_was_cut
}

@test "idempotent: forward twice, back twice, each succeeds and leaves the same state" {
	hook forward
	hook forward
	[ "$(proxy_port)" = "$REPLICA_PORT" ]
	is_ready new
	in_maint old
	hook back
	hook back
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	is_ready old
	in_maint new
}

@test "configured by the environment instead of arguments; arguments win" {
	HAPROXY_SWITCH_SOCKET=$HAPROXY_SOCKET HAPROXY_SWITCH_BACKEND=app \
		HAPROXY_SWITCH_OLD=old HAPROXY_SWITCH_NEW=new \
		REPLWATCH_SWITCH_DIRECTION=forward /bin/sh -c "$HOOK"
	[ "$(proxy_port)" = "$REPLICA_PORT" ]
	HAPROXY_SWITCH_SOCKET=/nonexistent HAPROXY_SWITCH_BACKEND=nope \
		HAPROXY_SWITCH_OLD=x HAPROXY_SWITCH_NEW=y hook back
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	# half an environment is a usage error
	HAPROXY_SWITCH_SOCKET=$HAPROXY_SOCKET REPLWATCH_SWITCH_DIRECTION=forward run -2 /bin/sh -c "$HOOK"
	[[ $output == *"HAPROXY_SWITCH_SOCKET, _BACKEND, _OLD and _NEW are not all set"* ]]
}

@test "--check changes nothing, prints both servers and the level; fails on a wrong name" {
	run "$HOOK" --check "$HAPROXY_SOCKET" app old new
	[ "$status" -eq 0 ]
	[ "$output" = "haproxy-switch: backend app: old old (127.0.0.1:$MASTER_PORT) ready; new new (127.0.0.1:$REPLICA_PORT) in maintenance; level admin" ]
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	run -1 "$HOOK" --check "$HAPROXY_SOCKET" app old rds
	[ "$output" = "haproxy-switch: no server 'rds' in backend 'app'" ]
	run -1 "$HOOK" --check "$HAPROXY_SOCKET" mysql old new
	[ "$output" = "haproxy-switch: no backend 'mysql' in haproxy ($HAPROXY_SOCKET)" ]
}

# run_hook_fails STATUS DIRECTION ARG...: exits STATUS, nothing on stdout,
# one line on stderr (in $stderr).
run_hook_fails() {
	local want=$1
	shift
	run --separate-stderr hook "$@"
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq "$want" ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "a wrong server name fails with HAProxy's answer and never leaves the backend without a server" {
	# NEW unknown: old went into maintenance, nothing became ready: old is
	# made ready again
	run_hook_fails 1 forward "$HAPROXY_SOCKET" app old rds
	[ "$stderr" = "haproxy-switch: forward: set server app/rds state ready: No such server. (so app/old was made ready again)" ]
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	is_ready old
	# OLD unknown: new became ready, but the old one is not known to have
	# left: an error (the rollback's back then takes new out again)
	run_hook_fails 1 forward "$HAPROXY_SOCKET" app master new
	[ "$stderr" = "haproxy-switch: forward: set server app/master state maint: No such server.; shutdown sessions server app/master: No such server." ]
	hook back
	[ "$(proxy_port)" = "$MASTER_PORT" ]
	in_maint new
	# unknown backend: nothing changed
	run_hook_fails 1 forward "$HAPROXY_SOCKET" mysql old new
	[[ $stderr == "haproxy-switch: forward: set server mysql/old state maint: No such backend.; "* ]]
	[ "$(proxy_port)" = "$MASTER_PORT" ]
}

@test "socket missing, not a socket, nobody listening; a bad direction or event: non-zero with one line" {
	run_hook_fails 1 forward "$BATS_TEST_TMPDIR/admin.sock" app old new
	[ "$stderr" = "haproxy-switch: $BATS_TEST_TMPDIR/admin.sock: no such socket (haproxy not running, or no 'stats socket $BATS_TEST_TMPDIR/admin.sock ... level admin' in its configuration?)" ]
	touch "$BATS_TEST_TMPDIR/file"
	run_hook_fails 1 forward "$BATS_TEST_TMPDIR/file" app old new
	[ "$stderr" = "haproxy-switch: $BATS_TEST_TMPDIR/file: not a socket" ]
	# a socket file left behind by a haproxy that is gone
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BATS_TEST_TMPDIR/stale.sock"
	run_hook_fails 1 forward "$BATS_TEST_TMPDIR/stale.sock" app old new
	[ "$stderr" = "haproxy-switch: cannot talk to haproxy on $BATS_TEST_TMPDIR/stale.sock: Connection refused" ]
	run_hook_fails 2 sideways
	[ "$stderr" = "haproxy-switch: REPLWATCH_SWITCH_DIRECTION=sideways: neither forward nor back" ]
	run -2 env -u REPLWATCH_SWITCH_DIRECTION /bin/sh -c "$HOOK $HAPROXY_SOCKET app old new"
	[[ $output == *"REPLWATCH_SWITCH_DIRECTION is not set"* ]]
	run -2 env REPLWATCH_EVENT=promoted REPLWATCH_SWITCH_DIRECTION=forward "$HOOK" "$HAPROXY_SOCKET" app old new
	[[ $output == *"REPLWATCH_EVENT=promoted: this is an on_switch hook"* ]]
	run -2 "$HOOK" "$HAPROXY_SOCKET" app old
	[[ $output == *"takes 4 arguments, not 3"* ]]
	run -2 "$HOOK" "$HAPROXY_SOCKET" app old old
	[[ $output == *"both 'old'"* ]]
	# and nothing moved
	[ "$(proxy_port)" = "$MASTER_PORT" ]
}

# --- how replwatchd runs a hook ----------------------------------------------------------
# The real daemon watching the sandbox, its on_state_change hook run on each
# change of state: at start (unknown -> ok) and on each toggle of the
# replica's SQL thread (ok -> sql_stopped -> ok).

# hook_daemon COMMAND [LINE...]: the daemon with COMMAND as on_state_change
# (and configuration LINEs), once it has run the hook for the first state (ok).
hook_daemon() {
	local command=$1
	shift
	daemon_start --master 'hysteresis = 1' "on_state_change = $command" "$@"
	wait_state main ok 10
	wait_until 10 hook_runs_are 1
}

# hook_runs_are N: N hook runs started, and N over.
hook_runs_are() {
	[ "$(grep -c 'hook on_state_change started' "$DAEMON_LOG")" -eq "$1" ]
	[ "$(grep -cE 'hook on_state_change (finished|exited|killed)' "$DAEMON_LOG")" -eq "$1" ]
}

# toggle_sql: two state changes, two more hook runs.
toggle_sql() {
	sql_replica "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 10
	sql_replica "START SLAVE SQL_THREAD"
	wait_state main ok 10
}

daemon_fds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 | wc -l; }
daemon_children() { ps --ppid "$DAEMON_PID" -o pid=,stat=,args= || true; }

@test "daemon hook: no descriptor of the daemon's reaches it, none of its database sessions" {
	hook_daemon "/bin/ls -l /proc/self/fd"
	# the daemon holds its control socket and both database sessions ...
	ls -l "/proc/$DAEMON_PID/fd"
	(($(find "/proc/$DAEMON_PID/fd" -mindepth 1 -lname 'socket:*' | wc -l) >= 3))
	toggle_sql
	wait_until 10 hook_runs_are 3
	# ... the hook (ls) has 0 to 2, and 3 (ls's own directory), in each run
	local fds
	fds=$(sed -n 's/.*hook on_state_change: l[-rwx]* .* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p' "$DAEMON_LOG")
	echo "$fds"
	[ "$(grep -c . <<<"$fds")" -eq 12 ]
	[ "$(grep -c '^0 /dev/null$' <<<"$fds")" -eq 3 ]
	[ "$(grep -cE '^[12] pipe:\[[0-9]+\]$' <<<"$fds")" -eq 6 ]
	[ "$(grep -cE '^3 /proc/[0-9]+/fd$' <<<"$fds")" -eq 3 ]
	run ! grep -E 'socket:|\.log|\.sock' <<<"$fds"
}

@test "daemon hook: what escapes with setsid, holding its output or not, is stopped and reaped; the daemon's descriptors do not grow" {
	local runs=5 fd0 fd1 pid
	# Two sleeps per run, each in a session of its own (out of the hook's
	# group: the hook exits once both are), one holding the hook's output, one
	# with its output closed (a daemon).
	cat >"$BATS_TEST_TMPDIR/escape.sh" <<-EOF
		#!/bin/sh
		f=$BATS_TEST_TMPDIR/escaped.\$\$
		setsid /bin/sh -c "echo \\\$\\\$ >\$f.a.new && mv \$f.a.new \$f.a && exec sleep 300" &
		setsid /bin/sh -c "echo \\\$\\\$ >\$f.b.new && mv \$f.b.new \$f.b && exec sleep 300" >/dev/null 2>&1 &
		while [ ! -e \$f.a ] || [ ! -e \$f.b ]; do sleep 0.05; done
		echo "left \$(cat \$f.a) \$(cat \$f.b)"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/escape.sh"
	hook_daemon "$BATS_TEST_TMPDIR/escape.sh"
	wait_until 10 test -z "$(daemon_children)"
	fd0=$(daemon_fds)
	toggle_sql
	toggle_sql
	wait_until 10 hook_runs_are "$runs"
	# each run was over (exit 0) although its sleep held the output, ...
	[ "$(grep -c 'hook on_state_change finished' "$DAEMON_LOG")" -eq "$runs" ]
	[ "$(grep -c 'hook on_state_change: its output is still open 500 ms after it exited' "$DAEMON_LOG")" -eq "$runs" ]
	# ... and its sleep, handed to the daemon, terminated and reaped
	wait_until 10 test -z "$(daemon_children)"
	cat "$BATS_TEST_TMPDIR"/escaped.* >"$BATS_TEST_TMPDIR/escaped"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/escaped")" -eq $((2 * runs)) ]
	while read -r pid; do
		process_gone "$pid"
		grep -q "process $pid (sleep) left running by a hook: terminated" "$DAEMON_LOG"
	done <"$BATS_TEST_TMPDIR/escaped"
	fd1=$(daemon_fds)
	echo "daemon descriptors: $fd0 before, $fd1 after $((runs - 1)) runs"
	((fd1 < fd0 + runs - 1))
	run ! pgrep -s "$(tr '\n' , <"$BATS_TEST_TMPDIR/escaped" | sed 's/,$//')"
}

@test "daemon hook: what it leaves in its group is stopped when it exits; past its timeout SIGTERM, then SIGKILL" {
	cat >"$BATS_TEST_TMPDIR/group.sh" <<-EOF
		#!/bin/sh
		sleep 300 &
		echo \$! >"$BATS_TEST_TMPDIR/group.\$\$"
		if [ "\$REPLWATCH_TO" = sql_stopped ]; then
			trap 'echo TERM >"$BATS_TEST_TMPDIR/termed"' TERM
			while :; do sleep 0.1; done
		fi
		echo done
	EOF
	chmod +x "$BATS_TEST_TMPDIR/group.sh"
	hook_daemon "$BATS_TEST_TMPDIR/group.sh" 'hook_timeout_ms = 1000'
	# exited 0 at once, its sleep (same group, holding the output) stopped
	grep -q 'hook on_state_change: done$' "$DAEMON_LOG"
	grep -q 'hook on_state_change finished' "$DAEMON_LOG"
	run ! grep -q 'no longer read' "$DAEMON_LOG"
	wait_until 10 process_gone "$(cat "$BATS_TEST_TMPDIR"/group.*)"
	# the second run traps SIGTERM and goes on: SIGKILL after the grace
	sql_replica "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 10
	wait_until 10 hook_runs_are 2
	sql_replica "START SLAVE SQL_THREAD"
	wait_state main ok 10
	[ "$(cat "$BATS_TEST_TMPDIR/termed")" = TERM ]
	grep -q 'hook on_state_change killed after its timeout' "$DAEMON_LOG"
	wait_until 10 hook_runs_are 3
	local pid
	while read -r pid; do
		process_gone "$pid"
	done < <(cat "$BATS_TEST_TMPDIR"/group.*)
	wait_until 10 test -z "$(daemon_children)"
}

@test "daemon hook: 20 MB of output: a line cut at 1 KiB, at most 256 lines logged, the rest counted; the hook not blocked" {
	cat >"$BATS_TEST_TMPDIR/chatty.sh" <<-'EOF'
		#!/bin/sh
		head -c 3000 /dev/zero | tr '\0' L
		echo
		yes 0123456789abcdef | head -c 20000000
		echo "the end"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/chatty.sh"
	hook_daemon "$BATS_TEST_TMPDIR/chatty.sh"
	grep -q 'hook on_state_change finished' "$DAEMON_LOG"
	# the long line: its first 1024 bytes, and what was dropped
	grep -qE "hook on_state_change: L{1024} \[line truncated, 1976 bytes dropped\]$" "$DAEMON_LOG"
	# 255 more lines, then only the count: 20000000 - 255 * 17 + 8.  The
	# 255 are the same line: the log writes it once and counts the rest.
	[ "$(grep -c 'hook on_state_change: 0123456789abcdef$' "$DAEMON_LOG")" -eq 1 ]
	grep -A1 'hook on_state_change: 0123456789abcdef$' "$DAEMON_LOG" |
		grep -q 'last message repeated 254 times$'
	grep -q 'hook on_state_change: output truncated, 19995673 bytes dropped (over 256 lines or 64 KiB)' "$DAEMON_LOG"
	run ! grep -q 'the end' "$DAEMON_LOG"
	local size
	size=$(stat -c %s "$DAEMON_LOG")
	echo "log: $size bytes"
	((size < 200000))
}

# --- appwriter -------------------------------------------------------------------------------

# acked PORT FILE: the seqs acknowledged by the server at PORT, sorted as text.
acked() { awk -v p="$1" '$1 == "a" && $4 == p { print $2 }' "$2" | sort; }
rows() { "sql_$1" "SELECT seq FROM $2" | sort; }
report() { "$REPORT" "$1" | awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
port_acks() { "$REPORT" "$1" | awk -v p="$2" '$1 == "port" && $2 == p { print $4 }'; }

@test "appwriter: usage errors, a refused first connection, --create, the ready file, the summary and the report" {
	local out=$BATS_TEST_TMPDIR/w.out pid
	run -2 "$APPWRITER" --defaults-file "$SB/master-app.cnf" --table app.w
	[[ $output == *"usage: appwriter"* ]]
	run -2 "$APPWRITER" --defaults-file "$SB/master-app.cnf" --table 'app.w;DROP' --out "$out"
	[[ $output == *"--table: SCHEMA.TABLE"* ]]
	run -2 "$APPWRITER" --defaults-file "$SB/master-app.cnf" --table app.w --out "$out" --interval-us x
	sed 's/^password=.*/password=wrong/' "$SB/master-app.cnf" >"$BATS_TEST_TMPDIR/wrong.cnf"
	run -1 "$APPWRITER" --defaults-file "$BATS_TEST_TMPDIR/wrong.cnf" --table app.w --out "$out"
	[[ $output == *"Access denied for user 'app'"* ]]

	"$APPWRITER" --defaults-file "$SB/master-app.cnf" --table app.direct --create --start-seq 100 \
		--out "$out" 2>"$BATS_TEST_TMPDIR/w.err" 3>&- &
	pid=$!
	wait_until 10 test -e "$out.ready"
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid"
	cat "$BATS_TEST_TMPDIR/w.err" "$out" | head -5
	"$REPORT" "$out"
	[[ $(cat "$BATS_TEST_TMPDIR/w.err") =~ ^appwriter:\ ([0-9]+)\ attempts,\ ([0-9]+)\ acks,\ 0\ errors,\ longest\ ack\ gap\ [0-9.]+\ ms,\ ports\ $MASTER_PORT$ ]]
	local attempts=${BASH_REMATCH[1]} acks=${BASH_REMATCH[2]}
	((acks > 10 && acks == attempts))
	# the file: one "c" line, then acks of seq 100, 101, ... in order
	[ "$(head -1 "$out" | cut -d' ' -f1,3,4)" = "c $MASTER_PORT 1" ]
	[ "$(awk '$1 == "a" { if ($2 != 100 + n++) bad = 1 } END { print n, bad + 0 }' "$out")" = "$acks 0" ]
	# the report
	[ "$(report "$out" acks)" = "$acks" ]
	[ "$(report "$out" attempts)" = "$acks" ]
	[ "$(report "$out" errors)" = 0 ]
	[ "$(report "$out" connects)" = 1 ]
	[[ $(report "$out" gap_ms) =~ ^[0-9]+\.[0-9]{3}\ [0-9]{16}\ [0-9]{16}$ ]]
	[[ $("$REPORT" "$out" | grep '^port ') =~ ^port\ $MASTER_PORT\ acks\ $acks\ first_us\ [0-9]{16}\ last_us\ [0-9]{16}$ ]]
	# exactly the acknowledged rows are in the table
	[ "$(acked "$MASTER_PORT" "$out")" = "$(rows master app.direct)" ]
	# the report refuses what appwriter did not write
	echo "x 1 2" >>"$out"
	run -1 "$REPORT" "$out"
	[[ $output == *"not an appwriter line: x 1 2"* ]]
}

@test "appwriter: a read-only server refuses every write (1290), and it drops each connection like a pool" {
	local out=$BATS_TEST_TMPDIR/ro.out pid
	sql_master "CREATE TABLE IF NOT EXISTS app.ro (seq BIGINT PRIMARY KEY, t_us BIGINT NOT NULL)"
	wait_until 10 replica_has_table ro
	"$APPWRITER" --defaults-file "$SB/replica-app.cnf" --table app.ro --out "$out" --retry-us 20000 2>/dev/null 3>&- &
	pid=$!
	wait_until 10 test -e "$out.ready"
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid"
	"$REPORT" "$out"
	[ "$(report "$out" acks)" = 0 ]
	local errors
	errors=$(report "$out" errors)
	((errors > 3))
	[ "$(report "$out" errno)" = "1290 $errors" ]
	# a new connection after each refusal
	(($(report "$out" connects) >= errors))
	[ "$(sql_replica "SELECT COUNT(*) FROM app.ro")" = 0 ]
}

@test "appwriter through the proxy across a forward switch: acks on both ports, each acked row on the server that acked it" {
	local out=$BATS_TEST_TMPDIR/cut.out pid t_start t_end
	# the new master takes the application's writes (replwatchd's switch
	# step does this on a real promotion)
	sql_replica "SET GLOBAL read_only = 0"
	"$APPWRITER" --defaults-file "$SB/proxy-app.cnf" --table app.cutover --create \
		--out "$out" 2>"$BATS_TEST_TMPDIR/cut.err" 3>&- &
	pid=$!
	wait_until 10 test -e "$out.ready"
	# the table has replicated: the replica can take the inserts
	wait_until 10 replica_has_table cutover
	sleep 0.3
	t_start=${EPOCHREALTIME/./}
	hook forward
	t_end=${EPOCHREALTIME/./}
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid"
	cat "$BATS_TEST_TMPDIR/cut.err"
	"$REPORT" "$out"
	grep '^[ce]' "$out"
	# both servers acknowledged writes
	local old_acks new_acks
	old_acks=$(port_acks "$out" "$MASTER_PORT")
	new_acks=$(port_acks "$out" "$REPLICA_PORT")
	((old_acks > 10 && new_acks > 10))
	# the sessions on the old master were cut: an error, then a connection to
	# the replica
	(($(report "$out" errors) >= 1))
	[ "$(report "$out" connects)" -ge 2 ]
	[ "$(awk '$1 == "c" { print $3 }' "$out" | tail -1)" = "$REPLICA_PORT" ]
	# no ack from the old master after the switch, none from the new before it
	local old_last new_first
	old_last=$("$REPORT" "$out" | awk -v p="$MASTER_PORT" '$1 == "port" && $2 == p { print $8 }')
	new_first=$("$REPORT" "$out" | awk -v p="$REPLICA_PORT" '$1 == "port" && $2 == p { print $6 }')
	((old_last <= t_end))
	((new_first >= t_start))
	# nothing acknowledged is missing: every row acked by the old master is in
	# its table, every row acked by the new one in the replica's (and not in
	# the master's: nothing replicates back)
	local missing
	missing=$(comm -23 <(acked "$MASTER_PORT" "$out") <(rows master app.cutover))
	[ -z "$missing" ]
	missing=$(comm -23 <(acked "$REPLICA_PORT" "$out") <(rows replica app.cutover))
	[ -z "$missing" ]
	[ -z "$(comm -12 <(acked "$REPLICA_PORT" "$out") <(rows master app.cutover))" ]
	# the application waited less than a second for the switch
	local gap
	gap=$(report "$out" gap_ms | cut -d' ' -f1)
	echo "longest ack gap: $gap ms"
	awk -v g="$gap" 'BEGIN { exit !(g < 1000) }'
}
