#!/usr/bin/env bats
# The control socket of the real replwatchd: framing, limits, errors,
# permissions and start-up rules (doc/PROTOCOL.md).  No database needed:
# the daemon watches 127.0.0.1:1, where nothing listens.  Raw clients are
# python3 (the system one, so that it also runs as nobody).

bats_require_minimum_version 1.5.0

load lib
load daemon

setup() {
	SB=""
	unset DAEMON_PID DAEMON_DIR
}

teardown() {
	daemon_stop || true
}

teardown_file() {
	daemon_stop_all
}

# py SCRIPT [ARGS]: run a python3 snippet with the socket path as argv[1].
py() {
	local script=$1
	shift
	/usr/bin/python3 -c "$script" "$SOCK" "$@"
}

# Shared python: connect(), lines(sock, n) reading n lines (or fewer at EOF),
# at_eof(sock) true when the daemon has closed the connection.
PY_LIB='
import json, os, socket, sys, time
path = sys.argv[1]
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    return s
def lines(s, n):
    buf, out = b"", []
    while len(out) < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while b"\n" in buf and len(out) < n:
            l, buf = buf.split(b"\n", 1)
            out.append(json.loads(l))
    return out
def at_eof(s):
    # Closed: EOF, or a reset (closed with our input unread).
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
def hello_ok():
    s = connect()
    s.sendall(b"{\"id\": 1, \"cmd\": \"hello\"}\n")
    r = lines(s, 1)
    s.close()
    return len(r) == 1 and r[0]["ok"] is True
'

@test "the socket is mode 0660, hello answers, root is an admin" {
	daemon_start --offline
	[ "$(stat -c %a "$SOCK")" = 660 ]
	[ "$(stat -c %F "$SOCK")" = socket ]
	run -0 ctl --json hello
	jq -e --argjson pid "$DAEMON_PID" '.name == "replwatchd" and .protocol == 1 and
	    .pid == $pid and .targets == ["main"] and .admin == true' <<<"$output"
	run -0 rw_raw '{"id": 42, "cmd": "hello", "protocol": 1}'
	jq -e '.id == 42 and .ok == true' <<<"$output"
	run -0 rw_raw '{"id": 43, "cmd": "hello", "protocol": 2}'
	jq -e '.id == 43 and .ok == false and .error.code == "version_mismatch"' <<<"$output"
}

@test "a request over 64 KiB gets too_long and the connection is closed; others are served" {
	daemon_start --offline
	run py "$PY_LIB"'
for newline in (False, True):
    s = connect()
    other = connect()      # an innocent client, connected all along
    body = b"{\"id\": 3, \"cmd\": \"hello\", \"pad\": \"" + b"x" * 70000 + b"\"}"
    s.sendall(body + (b"\n" if newline else b""))
    r = lines(s, 1)
    assert len(r) == 1, r
    assert r[0]["ok"] is False and r[0]["error"]["code"] == "too_long", r
    assert "65536" in r[0]["error"]["message"], r
    assert at_eof(s), "connection not closed"
    other.sendall(b"{\"id\": 4, \"cmd\": \"hello\"}\n")
    r = lines(other, 1)
    assert r[0]["id"] == 4 and r[0]["ok"] is True, r
    print("newline" if newline else "no newline", "-> too_long, closed")
# Exactly 65536 bytes is still a request (an unknown command, then).
s = connect()
line = b"{\"id\": 5, \"cmd\": \"nosuch\", \"pad\": \""
line += b"x" * (65536 - len(line) - 2) + b"\"}"
assert len(line) == 65536
s.sendall(line + b"\n")
r = lines(s, 1)
assert r[0]["id"] == 5 and r[0]["error"]["code"] == "unknown_command", r
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	daemon_alive
	run -0 ctl hello
}

@test "malformed requests: bad_request, with the id when it can be read" {
	daemon_start --offline
	run -0 rw_raw '{"id": 5, "cmd": 3}' 'not json' '[1, 2]' '{"id": 9}' \
		'{"id": 7, "cmd": "hello"' '{"id": "x", "cmd": "hello"}' \
		'{"id": 13, "cmd": "status", "target": 5}' '{"id": 15, "cmd": "hello"} trailing' \
		'{"id": 16, "cmd": "hello"}'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 9 ]
	jq -se 'map(.error.code) == ["bad_request", "bad_request", "bad_request",
	    "bad_request", "bad_request", "bad_request", "bad_request",
	    "bad_request", null]' <<<"$output"
	jq -se 'map(.id) == [5, 0, 0, 9, 0, 0, 13, 0, 16]' <<<"$output"
	jq -se '.[0].error.message == "cmd must be a string" and
	    .[3].error.message == "cmd is missing" and .[8].ok == true' <<<"$output"
	jq -se 'all(.[]; (.error.message // "x") | length > 0)' <<<"$output"
}

@test "unknown command and unknown target" {
	daemon_start --offline
	run -0 rw_raw '{"id": 1, "cmd": "frobnicate"}' \
		'{"id": 2, "cmd": "status", "target": "nope"}' \
		'{"id": 3, "cmd": "history", "target": "nope"}' \
		'{"id": 4, "cmd": "events", "target": "nope"}'
	echo "$output"
	[ "$status" -eq 0 ]
	jq -se '.[0] == {"id": 1, "ok": false, "error": {"code": "unknown_command",
	    "message": "unknown command \"frobnicate\""}}' <<<"$output"
	jq -se '.[1:] | map(.error.code) == ["unknown_target", "unknown_target", "unknown_target"]' <<<"$output"
	jq -se '.[1].error.message == "no target named \"nope\""' <<<"$output"
	# The client reports it the documented way, too.
	run -1 ctl status nope
	[[ $output == *"no target named"* ]]
}

@test "pipelined requests on one connection are all answered, in order" {
	daemon_start --offline
	local -a reqs=()
	local i
	for ((i = 1; i <= 30; i++)); do
		case $((i % 5)) in
		0) reqs+=("{\"id\": $i, \"cmd\": \"status\", \"target\": \"main\"}") ;;
		1) reqs+=("{\"id\": $i, \"cmd\": \"hello\"}") ;;
		2) reqs+=("{\"id\": $i, \"cmd\": \"nope\"}") ;;
		3) reqs+=("{\"id\": $i, \"cmd\": \"lag\"}") ;;
		4) reqs+=("{\"id\": $i, \"cmd\": \"events\", \"max\": 2}") ;;
		esac
	done
	# rw_raw writes them all in one go, then reads.
	run -0 rw_raw "${reqs[@]}"
	[ "${#lines[@]}" -eq 30 ]
	jq -se 'map(.id) == [range(1; 31)]' <<<"$output"
	jq -se '[.[] | select(.id % 5 == 2) | .error.code] | unique == ["unknown_command"]' <<<"$output"
	jq -se '[.[] | select(.id % 5 == 0) | .result.target] | unique == ["main"]' <<<"$output"
	# Split across writes, with CRLF: still one reply each; an empty line
	# between them is not a request and says so.
	run py "$PY_LIB"'
s = connect()
for chunk in (b"{\"id\": 1, \"cm", b"d\": \"hello\"}\r\n\n{\"id\": 2, ", b"\"cmd\": \"lag\"}\n"):
    s.sendall(chunk); time.sleep(0.05)
print([(r["id"], r["ok"] or r["error"]["code"]) for r in lines(s, 3)])
'
	[ "$output" = "[(1, True), (0, 'bad_request'), (2, True)]" ]
}

@test "max_clients = 3: the 4th connection gets too_many_clients and is closed" {
	daemon_start --offline '[daemon]' 'max_clients = 3'
	run py "$PY_LIB"'
held = [connect() for _ in range(3)]
time.sleep(0.2)
s = connect()
r = lines(s, 1)
assert len(r) == 1 and r[0]["error"]["code"] == "too_many_clients", r
assert at_eof(s)
# The three are still served.
for i, h in enumerate(held):
    h.sendall(b"{\"id\": %d, \"cmd\": \"hello\"}\n" % i)
    assert lines(h, 1)[0]["ok"] is True
# One goes away: room for another.
held.pop().close()
time.sleep(0.2)
assert hello_ok()
print("ok")
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "client_idle_timeout_s = 1: an idle client gets idle_timeout and is closed; a watch is not idle" {
	daemon_start --offline '[daemon]' 'client_idle_timeout_s = 1'
	run py "$PY_LIB"'
s = connect()
w = connect()
w.sendall(b"{\"id\": 8, \"cmd\": \"watch\"}\n")
first = lines(w, 1)[0]
assert first["id"] == 8 and first["event"]["type"] == "state", first
t0 = time.time()
r = lines(s, 1)
took = time.time() - t0
assert r[0]["id"] == 0 and r[0]["error"]["code"] == "idle_timeout", r
assert 0.5 < took < 4, took
assert at_eof(s)
# The watcher was idle as long, and is still there.
w.settimeout(0.5)
try:
    d = w.recv(65536)
    assert d, "watch closed"
except socket.timeout:
    pass
print("ok")
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "a client that never reads its replies does not stall the daemon" {
	daemon_start --offline
	# Thousands of status requests, never a byte read: over 4 MiB of
	# replies pile up for it (doc/PROTOCOL.md: it is then closed).
	run py "$PY_LIB"'
import threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(path)
reqs = b"".join(b"{\"id\": %d, \"cmd\": \"status\"}\n" % i for i in range(6000))
def send():
    try:
        s.sendall(reqs)
    except OSError:
        pass
th = threading.Thread(target=send, daemon=True)
th.start()
time.sleep(0.5)
# Meanwhile: other clients are answered at once.
for _ in range(5):
    t0 = time.time()
    assert hello_ok()
    assert time.time() - t0 < 1
# And the non-reader was cut off: far fewer than 6000 replies reach it.
s.settimeout(5)
got = b""
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
except (ConnectionResetError, socket.timeout):
    pass
n = got.count(b"\n")
assert n < 6000, n
print("ok", n)
'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "ok "* ]]
	daemon_alive
	run -0 ctl --json status main
	grep -q 'not reading (.* queued, .* for all clients), closing' "$DAEMON_LOG"
}

@test "a non-admin peer gets permission_denied for reload and stop, and may read" {
	daemon_start --offline '[daemon]' 'socket_group = nogroup'
	chmod 0711 "$DAEMON_DIR"
	[ "$(stat -c %G "$SOCK")" = nogroup ]
	run -0 rw_raw -u nobody '{"id": 1, "cmd": "hello"}' '{"id": 2, "cmd": "status", "target": "main"}' \
		'{"id": 3, "cmd": "reload"}' '{"id": 4, "cmd": "stop", "target": "main"}' \
		'{"id": 5, "cmd": "promote", "target": "main", "dry_run": true}' \
		'{"id": 6, "cmd": "unfence", "target": "main"}'
	echo "$output"
	[ "$status" -eq 0 ]
	jq -se '.[0].result.admin == false and .[1].ok == true and .[1].result.target == "main"' <<<"$output"
	jq -se '.[2:] | map(.error.code) == ["permission_denied", "permission_denied", "permission_denied", "permission_denied"]' <<<"$output"
	# The client, as nobody, reads too.
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL_BIN" -s "$SOCK" --json status main
	jq -e '.target == "main"' <<<"$output"
	grep -q 'control: reload refused for uid 65534' "$DAEMON_LOG"
	# Root may reload.
	run -0 rw_raw '{"id": 6, "cmd": "reload"}'
	jq -e --arg c "$CONF" '.ok and .result.config == $c and .result.targets == 1' <<<"$output"
	daemon_alive
}

@test "a peer outside socket_group cannot connect at all" {
	daemon_start --offline
	chmod 0711 "$DAEMON_DIR"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL_BIN" -s "$SOCK" hello
	[ "$status" -eq 69 ]
	[[ $output == *"Permission denied"* ]]
}

@test "a second daemon on the same socket refuses to start; the first keeps serving" {
	daemon_start --offline
	run -1 timeout 10 "$DAEMON_BIN" -c "$CONF"
	echo "$output"
	[[ $output == *"$SOCK: another replwatchd is running"* ]]
	[ -S "$SOCK" ]
	run -0 ctl --json hello
	jq -e --argjson pid "$DAEMON_PID" '.pid == $pid' <<<"$output"
}

@test "a stale socket file is removed and the daemon starts" {
	daemon_conf --offline
	# A socket nobody listens on: bound, then the process is gone.
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])' "$SOCK"
	[ -S "$SOCK" ]
	run -69 ctl --timeout 1 hello
	daemon_launch
	grep -q "removing stale socket $SOCK" "$DAEMON_LOG"
	[ "$(stat -c %a "$SOCK")" = 660 ]
	run -0 ctl hello
	daemon_stop
	[ ! -e "$SOCK" ]
}

@test "a path that is not a socket is left alone and the daemon refuses to start" {
	daemon_conf --offline
	echo precious >"$SOCK"
	run -1 timeout 10 "$DAEMON_BIN" -c "$CONF"
	[[ $output == *"$SOCK: exists and is not a socket"* ]]
	[ "$(cat "$SOCK")" = precious ]
}

@test "the daemon stops: a watch gets its final line (reason shutdown) and replwatchctl watch exits 0" {
	daemon_start --offline
	"$CTL_BIN" -s "$SOCK" watch >"$BATS_TEST_TMPDIR/w.out" 2>"$BATS_TEST_TMPDIR/w.err" &
	wpid=$!
	wait_until 5 grep -q . "$BATS_TEST_TMPDIR/w.out"
	sleep 0.3
	daemon_stop
	rc=0
	wait "$wpid" || rc=$?
	cat "$BATS_TEST_TMPDIR/w.out" "$BATS_TEST_TMPDIR/w.err"
	[ "$rc" -eq 0 ]
	grep -q 'the daemon ended the watch (shutdown)' "$BATS_TEST_TMPDIR/w.err"
}

@test "a raw watcher gets {\"ok\": true, \"result\": {\"reason\": \"shutdown\"}} as its last line" {
	daemon_start --offline
	py "$PY_LIB"'
w = connect()
w.sendall(b"{\"id\": 5, \"cmd\": \"watch\"}\n")
assert lines(w, 1)[0]["event"]["type"] == "state"
open(sys.argv[2], "w").write("watching\n")
w.settimeout(15)
buf = b""
while True:
    d = w.recv(65536)
    if not d:
        break
    buf += d
final = [json.loads(l) for l in buf.split(b"\n") if l][-1]
open(sys.argv[2], "a").write(json.dumps(final) + "\n")
' "$BATS_TEST_TMPDIR/raw.out" &
	rpid=$!
	wait_until 5 grep -q watching "$BATS_TEST_TMPDIR/raw.out"
	daemon_stop
	wait "$rpid"
	tail -n 1 "$BATS_TEST_TMPDIR/raw.out" | jq -e '.id == 5 and .ok == true and .result.reason == "shutdown"'
}
