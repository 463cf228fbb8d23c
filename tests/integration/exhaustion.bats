#!/usr/bin/env bats
# Resource exhaustion by a local user (issue 14, items 2 and 3): floods of
# connections to the metrics port and to the control socket, from uid nobody
# where it matters, against the real daemon watching a real replica.  Each
# test shows what an admin still gets: answers on the control socket, a
# target that keeps polling and reads ok, a log and a memory use that stay
# bounded.  Raw clients are the system's python3 (so that they run as nobody).

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	sandbox_up --flavor mariadb --replicate
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

teardown() {
	local pid
	for pid in ${FLOOD_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	daemon_stop || true
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

polls_ok() {
	ctl --json status main | jq -r .polls.ok
}

# polls_rose_past N: the target's successful polls are now above N.
polls_rose_past() {
	local n
	n=$(polls_ok 2>/dev/null) && [[ $n =~ ^[0-9]+$ ]] && ((n > $1))
}

# rss_bounded KB MAX_KB: the peak RSS is under MAX_KB, unless the daemon is
# built with AddressSanitizer (make asan), whose quarantine keeps freed memory
# and makes RSS say nothing about ours.
rss_bounded() {
	if grep -qa __asan_init "$DAEMON_BIN"; then
		echo "# (AddressSanitizer build: peak RSS $1 kB not compared)" >&3
		return 0
	fi
	(($1 < $2))
}

daemon_sessions() {
	local user
	user=$(sed -n 's/^user *= *//p' "$SB/replica-admin.cnf")
	[[ -n $user ]]
	sql_replica "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '$user' ORDER BY ID"
}

# KILL every session the daemon has on the replica (its option file's user);
# KILLED holds the highest id killed.
kill_daemon_sessions() {
	local id
	KILLED=0
	for id in $(daemon_sessions); do
		sql_replica "KILL CONNECTION $id" || true
		KILLED=$id
	done
	((KILLED > 0))
}

# The daemon has a session on the replica opened after kill_daemon_sessions.
new_daemon_session() {
	local id
	for id in $(daemon_sessions); do
		((id > KILLED)) && return 0
	done
	return 1
}

# The daemon with 1024 descriptors and no room to raise them (systemd's soft
# default, without LimitNOFILE=): a flood must be refused, not outgrown.
tight_daemon_bin() {
	local w=$BATS_TEST_TMPDIR/replwatchd-1024
	printf '#!/bin/sh\nexec prlimit --nofile=1024:1024 %s "$@"\n' "$DAEMON_BIN" >"$w"
	chmod 0755 "$w"
	DAEMON_BIN=$w
}

@test "1,100 metrics connections from nobody: control answers, the target stays ok and polls on, the log stays small" {
	local port before after n0 size0 size1
	port=$(free_port)
	tight_daemon_bin
	daemon_start "[daemon]" "metrics_listen = 127.0.0.1:$port"
	[ "$(cat /proc/"$DAEMON_PID"/limits | awk '/Max open files/ { print $4 }')" = 1024 ]
	wait_state main ok 30
	size0=$(stat -c %s "$DAEMON_LOG")
	# 1,100 connections held open, each sending a byte a second and never
	# a whole request (the ones refused are counted, not retried).
	as_nobody /usr/bin/python3 -c '
import socket, sys, time
port, hold = int(sys.argv[1]), float(sys.argv[2])
conns, refused = [], 0
for _ in range(1100):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        conns.append(s)
    except OSError:
        refused += 1
end = time.time() + hold
while time.time() < end:
    for s in conns:
        try:
            s.send(b"G")
        except OSError:
            pass
    time.sleep(1)
print("held", len(conns), "refused at connect", refused)
' "$port" 20 >"$BATS_TEST_TMPDIR/flood.out" 2>&1 &
	FLOOD_PIDS=$!
	sleep 2
	n0=$(polls_ok)
	# While it lasts: the control socket answers, polls go on, still ok.
	for _ in 1 2 3; do
		run -0 ctl --json hello
		jq -e '.admin == true' <<<"$output"
		sleep 1
	done
	wait_until 10 polls_rose_past "$n0"
	[ "$(state_of main)" = ok ]
	# The replica drops the daemon's session: reconnecting needs a new
	# descriptor, which the flood must not have taken.
	kill_daemon_sessions
	n0=$(polls_ok)
	wait_until 10 polls_rose_past "$n0"
	wait_state main ok 10
	run ! grep -q 'Too many open files' "$DAEMON_LOG"
	# A scraper that comes now is told to come back (503), not left hanging.
	run /usr/bin/python3 -c '
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
    print("200")
except urllib.error.HTTPError as e:
    print(e.code)
' "http://127.0.0.1:$port/metrics"
	[[ $output == 503 || $output == 200 ]]
	wait "$FLOOD_PIDS"
	cat "$BATS_TEST_TMPDIR/flood.out"
	[ "$(state_of main)" = ok ]
	daemon_alive
	# The trickling connections were cut at their deadline; the refused
	# ones cost one log line, then a count.
	size1=$(stat -c %s "$DAEMON_LOG")
	echo "# log grew by $((size1 - size0)) bytes during the flood" >&3
	((size1 - size0 < 65536))
	grep -q 'metrics: .* connections open, refusing one' "$DAEMON_LOG"
	grep -q 'last message repeated [0-9]* times' "$DAEMON_LOG"
	# And the port serves again.
	run -0 /usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"http://127.0.0.1:$port/metrics"
	grep -q '^replwatch_state{target="main",state="ok"} 1$' <<<"$output"
}

@test "1,100 control connections from root with 1024 descriptors: the rest are refused, the database link still reconnects" {
	local n0
	tight_daemon_bin
	daemon_start "[daemon]" "max_clients = 4096"
	wait_state main ok 30
	/usr/bin/python3 -c '
import json, socket, sys, time
conns = []
for _ in range(1100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(1)
refused = 0
for s in conns:
    s.setblocking(False)
    try:
        d = s.recv(65536)
        refused += b"too_many_clients" in d
    except BlockingIOError:
        pass
print(json.dumps({"refused": refused}), flush=True)
time.sleep(float(sys.argv[2]))
' "$SOCK" 12 >"$BATS_TEST_TMPDIR/ctl-flood.out" 2>&1 &
	FLOOD_PIDS=$!
	wait_until 10 grep -q refused "$BATS_TEST_TMPDIR/ctl-flood.out"
	cat "$BATS_TEST_TMPDIR/ctl-flood.out"
	jq -e '.refused > 0' "$BATS_TEST_TMPDIR/ctl-flood.out"
	# Even admins leave the last descriptors to the databases: the replica
	# drops the daemon's session and a new one comes (the control socket
	# cannot tell us now: it is full).
	kill_daemon_sessions
	wait_until 10 new_daemon_session
	wait "$FLOOD_PIDS"
	run -0 ctl --json hello
	wait_state main ok 10
	run ! grep -q 'Too many open files' "$DAEMON_LOG"
}

@test "64 slow readers from nobody: root's hello, abort and reload are served; the readers are timed out" {
	daemon_start "[daemon]" "socket_group = nogroup"
	chmod 0711 "$DAEMON_DIR"
	wait_state main ok 30
	# 64 clients, each sending a byte of a request every 2 s, never a newline.
	as_nobody /usr/bin/python3 -c '
import json, socket, sys, time, selectors
path = sys.argv[1]
req = b"{\"id\": 1, \"cmd\": \"status\"}"
conns, replies = [], {}
for i in range(64):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    conns.append(s)
    replies[s] = b""
sel = selectors.DefaultSelector()
for s in conns:
    sel.register(s, selectors.EVENT_READ)
open_ = set(conns)
pos, end, next_byte = 0, time.time() + 40, 0
while open_ and time.time() < end:
    if time.time() >= next_byte:
        for s in list(open_):
            try:
                s.send(req[pos % len(req):pos % len(req) + 1])
            except OSError:
                pass
        pos += 1
        next_byte = time.time() + 2
    for key, _ in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if d:
            replies[s] += d
        else:
            sel.unregister(s)
            open_.discard(s)
codes = {}
for s in conns:
    line = replies[s].split(b"\n")[0]
    code = json.loads(line)["error"]["code"] if line else "none"
    codes[code] = codes.get(code, 0) + 1
print(json.dumps({"codes": codes, "still_open": len(open_)}))
' "$SOCK" >"$BATS_TEST_TMPDIR/slow.out" 2>&1 &
	FLOOD_PIDS=$!
	sleep 3
	# Every slot a reader may take is taken; root still gets in.
	run -0 ctl --json hello
	jq -e '.admin == true' <<<"$output"
	run -0 rw_raw '{"id": 7, "cmd": "abort", "target": "main"}'
	echo "$output"
	jq -e '.id == 7 and .error.code != "too_many_clients"' <<<"$output"
	run -0 ctl --json reload
	# A reader is refused meanwhile (told at once, before any request).
	run -0 as_nobody /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(5)
print(s.recv(65536).decode())
' "$SOCK"
	jq -e '.error.code == "too_many_clients"' <<<"$output"
	wait "$FLOOD_PIDS"
	cat "$BATS_TEST_TMPDIR/slow.out"
	# 8 of 64 slots are kept for admins; the 56 readers were cut off, none
	# was left open.
	jq -e '.still_open == 0 and .codes.too_many_clients == 8 and .codes.idle_timeout == 56' \
		"$BATS_TEST_TMPDIR/slow.out"
	grep -q 'request line incomplete, closing' "$DAEMON_LOG"
	[ "$(state_of main)" = ok ]
}

@test "63 clients that never read (watch with samples, then status requests): the daemon's memory stays bounded" {
	daemon_start "interval_ms = 100"
	wait_state main ok 30
	pid=$DAEMON_PID
	/usr/bin/python3 -c '
import socket, sys, threading, time
path = sys.argv[1]
reqs = b"".join(b"{\"id\": %d, \"cmd\": \"status\"}\n" % i for i in range(4000))
watch = b"{\"id\": 0, \"cmd\": \"watch\", \"samples\": true}\n"
def flood(i):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.settimeout(30)
    try:
        s.sendall((watch + reqs) if i % 2 else (reqs + watch))
    except OSError:
        pass
    time.sleep(8)
    s.close()
ts = [threading.Thread(target=flood, args=(i,)) for i in range(63)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("done")
' "$SOCK" &
	FLOOD_PIDS=$!
	sleep 4
	run -0 ctl --json hello
	wait "$FLOOD_PIDS"
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	echo "# peak RSS ${hwm} kB" >&3
	# 16 MiB of queued replies at most (plus the daemon's own few MiB);
	# without the bound it reached 271 MB.
	rss_bounded "$hwm" 65536
	grep -q 'not reading (.* queued, .* for all clients), closing' "$DAEMON_LOG"
	run -0 ctl --json status main
	jq -e '.state == "ok"' <<<"$output"
}

@test "1,000 clients from nobody parking 60 KiB of unfinished request each: refused past the input bound, memory bounded" {
	daemon_start "[daemon]" "socket_group = nogroup" "max_clients = 4096"
	chmod 0711 "$DAEMON_DIR"
	wait_state main ok 30
	pid=$DAEMON_PID
	as_nobody /usr/bin/python3 -c '
import json, socket, sys, time
path = sys.argv[1]
part = b"{\"id\": 1, \"cmd\": \"hello\", \"pad\": \"" + b"x" * 60000
conns = []
for _ in range(1000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    s.sendall(part)
    conns.append(s)
time.sleep(3)
codes = {}
for s in conns:
    s.setblocking(False)
    try:
        d = s.recv(65536)
        code = json.loads(d.split(b"\n")[0])["error"]["code"] if d else "eof"
    except BlockingIOError:
        code = "none"
    except OSError:
        code = "reset"
    codes[code] = codes.get(code, 0) + 1
print(json.dumps(codes))
' "$SOCK" >"$BATS_TEST_TMPDIR/park.out" 2>&1 &
	FLOOD_PIDS=$!
	sleep 2
	run -0 ctl --json hello
	wait "$FLOOD_PIDS"
	cat "$BATS_TEST_TMPDIR/park.out"
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	echo "# peak RSS ${hwm} kB" >&3
	# Some were refused (too_long: how many depends on how fast the daemon
	# read); 60 MB would have been held without the bound.
	jq -e '.too_long > 0' "$BATS_TEST_TMPDIR/park.out"
	rss_bounded "$hwm" 49152
	grep -q 'unfinished request of .* bytes while .* are buffered, closing' "$DAEMON_LOG"
	[ "$(state_of main)" = ok ]
}

@test "an empty request line gets bad_request, and the connection goes on" {
	daemon_start --offline
	run -0 rw_raw '' '{"id": 2, "cmd": "hello"}'
	echo "$output"
	[ "${#lines[@]}" -eq 2 ]
	jq -e '.id == 0 and .ok == false and .error.code == "bad_request" and
	    (.error.message | test("empty"))' <<<"${lines[0]}"
	jq -e '.id == 2 and .ok == true' <<<"${lines[1]}"
}
