#!/usr/bin/env bats
# replwatchctl on its own: usage, exit statuses, and its reading and
# formatting of replies, against no daemon or a fake one that answers
# canned lines.  The real daemon is exercised end to end elsewhere.

bats_require_minimum_version 1.5.0

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
# REPLWATCHCTL: another build of the client, e.g. under AddressSanitizer.
CTL="${REPLWATCHCTL:-$REPO/ctl/replwatchctl}"

setup_file() {
	[ -x "$CTL" ] || skip "build ctl/replwatchctl first"
}

setup() {
	# Short: a Unix socket path must fit in 108 bytes.
	TMP="$(mktemp -d /tmp/rwctl.XXXXXX)"
	SOCK="$TMP/sock"
	FAKE_PID=""
	# Times are shown in the local zone with its offset: make it UTC.
	export NO_COLOR=1 LC_ALL=C TZ=UTC0
	unset REPLWATCH_SOCKET
}

teardown() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

# fake_daemon SCRIPT: answer each request with the steps listed for its
# command in SCRIPT (JSON): {"cmd": [step, ...]} where a step is
#   {"reply": {...}}   a reply line, the request's id added
#   {"raw": "text"}    a line sent as is
#   {"sleep": S}       a pause
#   {"hold": true}     keep the connection open until the client closes it
# After the last step the connection is closed.  Requests are appended to
# $TMP/requests, one JSON line each.
fake_daemon() {
	printf '%s\n' "$1" >"$TMP/script.json"
	python3 - "$SOCK" "$TMP/script.json" "$TMP/requests" <<'EOF' &
import json, os, socket, sys, threading, time
path, script_file, log = sys.argv[1:4]
script = json.load(open(script_file))
lock = threading.Lock()

def serve(conn):
    f = conn.makefile("rb")
    line = f.readline()
    if not line:
        conn.close()
        return
    req = json.loads(line)
    with lock, open(log, "a") as lf:
        lf.write(json.dumps(req) + "\n")
    for step in script.get(req.get("cmd"), []):
        if "sleep" in step:
            time.sleep(step["sleep"])
        elif "raw" in step:
            conn.sendall(step["raw"].encode() + b"\n")
        elif "reply" in step:
            out = {"id": req.get("id", 0)}
            out.update(step["reply"])
            conn.sendall(json.dumps(out).encode() + b"\n")
        elif step.get("hold"):
            while f.readline():
                pass
    conn.close()

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)  # ready once it exists
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	FAKE_PID=$!
	local _
	for _ in $(seq 50); do
		[ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	echo "fake daemon did not start" >&2
	return 1
}

# A target object as PROTOCOL.md describes it; $1 state, $2 lag ms or null,
# $3 reason.
target_json() {
	cat <<EOF
{"target": "rds1", "state": "$1", "reason": "$3",
 "since": "2026-11-18T11:06:40.123Z", "since_unix_ms": 1795000000123,
 "lag": {"ms": $2, "source": "heartbeat", "seconds_behind_master": 0,
         "heartbeat_ms": $2, "position_bytes": null},
 "replication": {"configured": true, "io_running": "Yes", "sql_running": "Yes",
   "seconds_behind_master": 0, "master_host": "127.0.0.1", "master_port": "3306",
   "master_log_file": "mariadb-bin.000001", "read_master_log_pos": "1234",
   "relay_master_log_file": "mariadb-bin.000001", "exec_master_log_pos": "1234",
   "last_io_errno": 0, "last_io_error": "", "last_sql_errno": 1062,
   "last_sql_error": "Duplicate entry '1' for key 'PRIMARY'", "columns": {}},
 "server": {"host": "127.0.0.1", "port": 3307, "connected": true,
   "encrypted": false, "cipher": null, "flavor": "rds-mysql",
   "version": "10.11.6-MariaDB", "status_sql": "SHOW SLAVE STATUS",
   "read_only": true},
 "master": null,
 "polls": {"ok": 120, "failed": 0, "interval_ms": 1000, "last_ms": 1.8,
   "last_unix_ms": 1795000000123, "consecutive_failures": 0},
 "history": {"1m": {"samples": 60, "unknown": 0, "min_ms": 0, "max_ms": 2,
   "avg_ms": 0.4, "p95_ms": 1}, "5m": {"samples": 300, "unknown": 0,
   "min_ms": null, "max_ms": null, "avg_ms": null, "p95_ms": null}},
 "thresholds": {"lag_warn_ms": 30000, "lag_crit_ms": 300000, "hysteresis": 3},
 "promotion": null}
EOF
}

status_script() {
	echo "{\"status\": [{\"reply\": {\"ok\": true, \"result\": $(target_json "$@")}}]}"
}

# -- usage, no daemon needed --

@test "--help lists every command and exits 0" {
	run -0 "$CTL" --help
	for c in hello status lag history events watch check wait setup start stop promote abort unfence reload; do
		[[ "$output" == *"  $c"* ]]
	done
	run -0 "$CTL" -h
}

@test "COMMAND --help for every command exits 0 with its usage" {
	for c in hello status lag history events watch check wait setup start stop promote abort unfence reload; do
		run -0 "$CTL" "$c" --help
		[[ "${lines[0]}" == "usage: replwatchctl "*" $c"* ]]
	done
}

@test "--version" {
	run -0 "$CTL" --version
	[[ "$output" == "replwatchctl "*"(protocol 1)" ]]
}

@test "no command is a usage error" {
	run -64 "$CTL"
}

@test "unknown command exits 64 and names it" {
	run -64 --separate-stderr "$CTL" frobnicate
	[[ "$stderr" == *"unknown command 'frobnicate'"* ]]
}

@test "bad options and arguments exit 64" {
	run -64 "$CTL" --bogus status
	[[ "$output" == *"unknown option '--bogus'"* ]]
	run -64 "$CTL" status --bogus
	run -64 "$CTL" --timeout 0 status
	run -64 "$CTL" --timeout
	run -64 "$CTL" status rds1 extra
	run -64 "$CTL" history
	[[ "$output" == *"TARGET is required"* ]]
	run -64 "$CTL" history rds1 --samples many
	[[ "$output" == *"--samples 'many'"* ]]
	run -64 "$CTL" events --max 0
	run -64 "$CTL" wait rds1 --timeout 5
	[[ "$output" == *"--max-lag is required"* ]]
	run -64 "$CTL" wait rds1 --max-lag 1
	run -64 "$CTL" wait rds1 --max-lag -1 --timeout 5
}

@test "a global option after the command gets a hint" {
	run -64 "$CTL" status --socket /x
	[[ "$output" == *"global options go before the command"* ]]
}

@test "no daemon: exit 69, the message names the socket" {
	run -69 --separate-stderr "$CTL" -s "$TMP/none.sock" status
	[ "$stderr" = "replwatchctl: cannot connect to $TMP/none.sock: No such file or directory (is replwatchd running?)" ]
	[ -z "$output" ]
}

@test "REPLWATCH_SOCKET is the default socket, -s overrides it" {
	REPLWATCH_SOCKET="$TMP/env.sock" run -69 "$CTL" lag
	[[ "$output" == *"$TMP/env.sock"* ]]
	REPLWATCH_SOCKET="$TMP/env.sock" run -69 "$CTL" -s "$TMP/opt.sock" lag
	[[ "$output" == *"$TMP/opt.sock"* ]]
}

@test "the default socket is /run/replwatch/replwatch.sock" {
	[ -e /run/replwatch/replwatch.sock ] && skip "a daemon runs here"
	run -69 "$CTL" hello
	[[ "$output" == *"/run/replwatch/replwatch.sock"* ]]
}

@test "check with no daemon: UNKNOWN, exit 3" {
	run -3 --separate-stderr "$CTL" -s "$TMP/none.sock" check rds1
	[[ "$output" == "REPLWATCH UNKNOWN: cannot connect to $TMP/none.sock"* ]]
}

@test "check usage mistakes are UNKNOWN, exit 3" {
	run -3 --separate-stderr "$CTL" check rds1 rds2
	[[ "$output" == "REPLWATCH UNKNOWN: usage: "* ]]
	run -3 --separate-stderr "$CTL" check rds1 --warn x
	[[ "$output" == "REPLWATCH UNKNOWN: usage: --warn 'x': not a range"* ]]
	run -3 --separate-stderr "$CTL" --bogus check rds1
	[ "$output" = "REPLWATCH UNKNOWN: usage: unknown option '--bogus'" ]
	run -0 "$CTL" check --help
}

@test "a stale socket (nobody listening) is 'not running' too" {
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
	run -69 "$CTL" -s "$SOCK" status
	[[ "$output" == *"Connection refused (is replwatchd running?)" ]]
}

# -- against a fake daemon --

@test "--json status prints the result object on one line" {
	fake_daemon "$(status_script ok 0 'replicating, lag 0 ms (heartbeat)')"
	run -0 --separate-stderr "$CTL" -s "$SOCK" --json status rds1
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -c . <<<"$output")" = "$(target_json ok 0 'replicating, lag 0 ms (heartbeat)' | jq -c .)" ]
	jq -e '.cmd == "status" and .target == "rds1" and .id == 1' "$TMP/requests"
}

@test "--json is also accepted after the command" {
	fake_daemon "$(status_script ok 0 fine)"
	run -0 "$CTL" -s "$SOCK" status rds1 --json
	jq -e '.state == "ok"' <<<"$output"
}

@test "human status shows state, reason and the details" {
	fake_daemon "$(status_script lagging 45000 'lag 45 s over lag_warn_s')"
	run -0 --separate-stderr "$CTL" -s "$SOCK" status rds1
	[[ "${lines[0]}" == "rds1: lagging - lag 45 s over lag_warn_s   (since "* ]]
	[[ "$output" == *"lag        45000 ms (heartbeat)"* ]]
	[[ "$output" == *"threads    io Yes   sql Yes"* ]]
	[[ "$output" == *"master     127.0.0.1:3306   read mariadb-bin.000001:1234   exec mariadb-bin.000001:1234"* ]]
	[[ "$output" == *"errors     sql 1062: Duplicate entry '1' for key 'PRIMARY'"* ]]
	[[ "$output" == *"server     127.0.0.1:3307 rds-mysql 10.11.6-MariaDB, connected, TLS off, read_only ON"* ]]
	[[ "$output" == *"history    1m min/avg/p95/max 0/0.4/1/2 ms   5m -"* ]]
	[[ "$output" == *"polls      120 ok, 0 failed, last 1.8 ms"* ]]
}

@test "human status uses the em dash in a UTF-8 locale, no colour off a TTY" {
	fake_daemon "$(status_script ok 0 fine)"
	LC_ALL=C.UTF-8 run -0 "$CTL" -s "$SOCK" status rds1
	[[ "${lines[0]}" == "rds1: ok — fine"* ]]
	[[ "$output" != *$'\033'* ]]
}

@test "status of every target is a table" {
	fake_daemon "{\"status\": [{\"reply\": {\"ok\": true, \"result\": {\"targets\": [$(target_json ok 0 fine), {\"target\": \"rds-two\", \"state\": \"io_stopped\", \"reason\": \"Slave_IO_Running No\", \"lag\": {\"ms\": null, \"source\": \"none\"}, \"replication\": null}]}}}]}"
	run -0 "$CTL" -s "$SOCK" status
	[[ "${lines[0]}" == "TARGET   STATE       LAG   SOURCE     IO   SQL  SINCE"*"REASON" ]]
	[[ "${lines[1]}" == "rds1     ok          0 ms  heartbeat  Yes  Yes  "*"fine" ]]
	[[ "${lines[2]}" == "rds-two  io_stopped  -     none       -    -    -"*"Slave_IO_Running No" ]]
	jq -e '.cmd == "status" and (has("target") | not)' "$TMP/requests"
}

@test "lag, one line per target" {
	fake_daemon '{"lag": [{"reply": {"ok": true, "result": {"targets": [
	  {"target": "rds1", "state": "ok", "lag": {"ms": 120, "source": "heartbeat", "seconds_behind_master": 0, "heartbeat_ms": 120, "position_bytes": "4096"}},
	  {"target": "r2", "state": "lag_critical", "lag": {"ms": 3723000, "source": "seconds_behind_master", "seconds_behind_master": 3723, "heartbeat_ms": null, "position_bytes": null}}]}}}]}'
	run -0 "$CTL" -s "$SOCK" lag
	[ "${lines[0]}" = "rds1  ok            lag 120 ms (heartbeat)   seconds_behind_master 0   heartbeat 120 ms   position 4096 bytes" ]
	[ "${lines[1]}" = "r2    lag_critical  lag 3723000 ms (1h02m) (seconds_behind_master)   seconds_behind_master 3723" ]
}

@test "history: windows and samples; --samples is passed on" {
	fake_daemon '{"history": [{"reply": {"ok": true, "result": {"target": "rds1", "interval_ms": 1000,
	  "windows": {"1m": {"samples": 3, "unknown": 1, "min_ms": 0, "max_ms": 5, "avg_ms": 2.5, "p95_ms": 5}},
	  "samples": [{"t_ms": 1, "age_ms": 2000, "lag_ms": 0}, {"t_ms": 2, "age_ms": 1000, "lag_ms": null}, {"t_ms": 3, "age_ms": 0, "lag_ms": 5}]}}}]}'
	run -0 "$CTL" -s "$SOCK" history rds1 --samples 3
	[ "${lines[0]}" = "rds1: polled every 1000 ms" ]
	[[ "${lines[1]}" == "  1m       3 samples (1 unknown)   min/avg/p95/max 0/2.5/5/5 ms" ]]
	[ "${lines[3]}" = "    0 - 5" ]
	jq -e '.samples == 3' "$TMP/requests"
}

@test "events: one line per event" {
	fake_daemon '{"events": [{"reply": {"ok": true, "result": {"events": [
	  {"seq": 5, "ts": "2026-11-18T11:06:40.123Z", "ts_unix_ms": 1795000000123, "target": "rds1", "from": "ok", "to": "io_stopped", "reason": "Slave_IO_Running No"}]}}}]}'
	run -0 "$CTL" -s "$SOCK" events --max 5
	[ "$output" = "2026-11-18T11:06:40.123+00:00 rds1 ok -> io_stopped: Slave_IO_Running No" ]
	jq -e '.max == 5' "$TMP/requests"
	# The local time, with its offset.
	TZ=IST-5:30 run -0 "$CTL" -s "$SOCK" events
	[ "$output" = "2026-11-18T16:36:40.123+05:30 rds1 ok -> io_stopped: Slave_IO_Running No" ]
}

@test "hello sends the protocol version and shows the targets" {
	fake_daemon '{"hello": [{"reply": {"ok": true, "result": {"name": "replwatchd", "version": "0.1.0", "protocol": 1, "pid": 123, "uptime_s": 75.5, "targets": ["rds1", "rds2"], "admin": false}}}]}'
	run -0 "$CTL" -s "$SOCK" hello
	[ "${lines[0]}" = "replwatchd 0.1.0, protocol 1, pid 123, up 1m15s" ]
	[ "${lines[1]}" = "targets: rds1 rds2" ]
	jq -e '.protocol == 1' "$TMP/requests"
}

@test "an ok:false reply: exit 1, code: message on stderr" {
	fake_daemon '{"status": [{"reply": {"ok": false, "error": {"code": "unknown_target", "message": "no target named \"nope\""}}}]}'
	run -1 --separate-stderr "$CTL" -s "$SOCK" status nope
	[ "$stderr" = 'replwatchctl: unknown_target: no target named "nope"' ]
	[ -z "$output" ]
}

@test "a garbage reply line is a clear protocol error" {
	fake_daemon '{"status": [{"raw": "<html>hello</html>"}]}'
	run -76 --separate-stderr "$CTL" -s "$SOCK" status
	[ "$stderr" = "replwatchctl: cannot understand the daemon's reply: reply is not a protocol reply line" ]
}

@test "a reply without a result object is a protocol error" {
	fake_daemon '{"status": [{"reply": {"ok": true, "result": 5}}]}'
	run -76 "$CTL" -s "$SOCK" status
}

@test "the daemon closing without a reply: exit 69" {
	fake_daemon '{}'
	run -69 --separate-stderr "$CTL" -s "$SOCK" status
	[[ "$stderr" == *"closed the connection before replying"* ]]
}

@test "no reply within --timeout: exit 69" {
	fake_daemon '{"status": [{"sleep": 5}]}'
	SECONDS=0
	run -69 --separate-stderr "$CTL" -s "$SOCK" --timeout 0.5 status
	[[ "$stderr" == *"no reply from the daemon within 0.5 s"* ]]
	[ "$SECONDS" -lt 3 ]
}

@test "a reply line of a few MiB is read whole" {
	big=$(python3 -c 'print("x" * 3000000)')
	fake_daemon "$(status_script ok 0 "$big")"
	run -0 "$CTL" -s "$SOCK" --json status rds1
	[ "$(jq -r '.reason | length' <<<"$output")" -eq 3000000 ]
}

# -- check --

@test "check ok: OK, exit 0, perfdata with the daemon's thresholds" {
	fake_daemon "$(status_script ok 0 'replicating, lag 0 ms (heartbeat)')"
	run -0 "$CTL" -s "$SOCK" check rds1
	[ "$output" = "REPLWATCH OK: rds1 ok, lag 0.000s (heartbeat) | lag=0.000s;30;300;0 state=0" ]
}

@test "check: lag over --warn is WARNING, over --crit CRITICAL (the old names of -w, -c)" {
	fake_daemon "$(status_script ok 12345 fine)"
	run -1 "$CTL" -s "$SOCK" check rds1 --warn 10 --crit 20
	[ "$output" = "REPLWATCH WARNING: rds1 ok, lag 12.345s (heartbeat), outside the warning range 10 | lag=12.345s;10;20;0 state=1" ]
	run -2 "$CTL" -s "$SOCK" check rds1 --warn 5 --crit 12.3
	[[ "$output" == "REPLWATCH CRITICAL: rds1 ok, lag 12.345s (heartbeat), outside the critical range 12.3 | "* ]]
	# The end of a range is inside it.
	run -1 "$CTL" -s "$SOCK" check rds1 --warn 5 --crit 12.345
}

@test "check: lagging is WARNING with the reason" {
	fake_daemon "$(status_script lagging 45000 'lag 45 s over lag_warn_s')"
	run -1 "$CTL" -s "$SOCK" check rds1
	[ "$output" = "REPLWATCH WARNING: rds1 lagging, lag 45.000s (heartbeat): lag 45 s over lag_warn_s | lag=45.000s;30;300;0 state=1" ]
}

@test "check: errors and stopped threads are CRITICAL" {
	for s in io_stopped sql_error unreachable unresponsive not_replicating lag_critical promotion_interrupted; do
		fake_daemon "$(status_script "$s" null 'it | broke')"
		run -2 "$CTL" -s "$SOCK" check rds1
		[ "$output" = "REPLWATCH CRITICAL: rds1 $s, lag unknown: it / broke | lag=U;30;300;0 state=2" ]
		kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"
	done
	FAKE_PID=""
}

@test "check: no sample yet or a state it does not know is UNKNOWN" {
	fake_daemon "$(status_script unknown null 'no sample yet')"
	run -3 "$CTL" -s "$SOCK" check rds1
	[[ "$output" == "REPLWATCH UNKNOWN: rds1 unknown, lag unknown: no sample yet | lag=U;30;300;0 state=3" ]]
}

@test "check: ok with an unknown lag is OK and says so" {
	fake_daemon "$(status_script ok null 'replicating')"
	run -0 "$CTL" -s "$SOCK" check rds1
	[ "$output" = "REPLWATCH OK: rds1 ok, lag unknown | lag=U;30;300;0 state=0" ]
}

@test "check: promoted is OK, promoting WARNING" {
	fake_daemon "$(status_script promoted null 'promoted at 12:00')"
	run -0 "$CTL" -s "$SOCK" check rds1
	[[ "$output" == "REPLWATCH OK: rds1 promoted, no longer a replica: promoted at 12:00 | "* ]]
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"
	fake_daemon "$(status_script promoting 0 'step 3 of 7: catch-up')"
	run -1 "$CTL" -s "$SOCK" check rds1
}

@test "check: an error reply is UNKNOWN with the code" {
	fake_daemon '{"status": [{"reply": {"ok": false, "error": {"code": "not_ready", "message": "no sample of rds1 yet"}}}]}'
	run -3 --separate-stderr "$CTL" -s "$SOCK" check rds1
	[ "$output" = "REPLWATCH UNKNOWN: not_ready: no sample of rds1 yet" ]
}

@test "check --json: the verdict as one object" {
	fake_daemon "$(status_script ok 250 fine)"
	run -0 "$CTL" -s "$SOCK" --json check rds1
	jq -e '.status == "OK" and .code == 0 and .lag_s == 0.25 and .warning == "30" and .critical == "300"' <<<"$output"
}

# -- wait --

sample() { echo "{\"reply\": {\"event\": {\"type\": \"sample\", \"target\": \"rds1\", \"state\": \"$1\", \"lag_ms\": $2, \"ts_unix_ms\": 1795000000123}}}"; }
state_ev() { echo "{\"reply\": {\"event\": {\"type\": \"state\", $(target_json "$1" "$2" "$3" | sed '1s/^{//; $s/}$//')}}}"; }

@test "wait: exits 0 once a sample with a low enough lag arrives" {
	fake_daemon "{\"watch\": [$(state_ev lagging 5000 behind), {\"sleep\": 0.2}, $(sample lagging 3000), {\"sleep\": 0.2}, $(sample ok 120), {\"hold\": true}]}"
	run -0 --separate-stderr "$CTL" -s "$SOCK" wait rds1 --max-lag 0.5 --timeout 10
	[ "$output" = "rds1: caught up, lag 120 ms" ]
	jq -e '.cmd == "watch" and .target == "rds1" and .samples == true' "$TMP/requests"
}

@test "wait: the current state is enough when it is already caught up" {
	fake_daemon "{\"watch\": [$(state_ev ok 0 fine), {\"hold\": true}]}"
	run -0 "$CTL" -s "$SOCK" wait rds1 --max-lag 0 --timeout 10
	[ "$output" = "rds1: caught up, lag 0 ms" ]
}

@test "wait: exits 2 on timeout with the last state and reason" {
	fake_daemon "{\"watch\": [$(state_ev lagging 12000 'lag 12 s'), {\"hold\": true}]}"
	SECONDS=0
	run -2 "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 1
	[ "$output" = "rds1: timed out after 1 s: lagging, lag 12000 ms (lag 12 s)" ]
	[ "$SECONDS" -lt 4 ]
}

@test "wait: a low lag in a stopped state does not count" {
	fake_daemon "{\"watch\": [$(state_ev io_stopped 0 'Slave_IO_Running No'), {\"hold\": true}]}"
	run -2 "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 0.5
	[[ "$output" == "rds1: timed out after 0.5 s: io_stopped, lag 0 ms"* ]]
}

@test "wait: after a state change the next sample decides" {
	fake_daemon "{\"watch\": [$(state_ev io_stopped 0 stopped), {\"reply\": {\"event\": {\"type\": \"change\", \"seq\": 9, \"target\": \"rds1\", \"from\": \"io_stopped\", \"to\": \"ok\", \"reason\": \"replicating\"}}}, {\"hold\": true}]}"
	run -2 "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 0.5
	[ "$output" = "rds1: timed out after 0.5 s: ok, lag unknown (replicating)" ]
}

@test "wait: unknown target exits 1, no daemon 69" {
	fake_daemon '{"watch": [{"reply": {"ok": false, "error": {"code": "unknown_target", "message": "no target named \"x\""}}}]}'
	run -1 --separate-stderr "$CTL" -s "$SOCK" wait x --max-lag 1 --timeout 5
	[ "$stderr" = 'replwatchctl: unknown_target: no target named "x"' ]
	run -69 "$CTL" -s "$TMP/none.sock" wait x --max-lag 1 --timeout 5
}

@test "wait --json: the outcome as one object" {
	fake_daemon "{\"watch\": [$(state_ev ok 40 fine), {\"hold\": true}]}"
	run -0 "$CTL" -s "$SOCK" --json wait rds1 --max-lag 0.05 --timeout 5
	jq -e '.caught_up == true and .lag_ms == 40 and .max_lag_ms == 50' <<<"$output"
}

@test "wait: SIGTERM exits 143" {
	fake_daemon "{\"watch\": [$(state_ev lagging 9000 behind), {\"hold\": true}]}"
	"$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 30 2>/dev/null &
	pid=$!
	sleep 0.5
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
}

# -- watch --

@test "watch prints one line per event and ends on the daemon's shutdown" {
	fake_daemon "{\"watch\": [$(state_ev ok 0 fine), {\"reply\": {\"event\": {\"type\": \"change\", \"seq\": 6, \"ts\": \"2026-11-25T11:40:00.000Z\", \"target\": \"rds1\", \"from\": \"ok\", \"to\": \"io_stopped\", \"reason\": \"Slave_IO_Running No\"}}}, $(sample io_stopped null), {\"reply\": {\"ok\": true, \"result\": {\"reason\": \"shutdown\"}}}]}"
	run -0 --separate-stderr "$CTL" -s "$SOCK" watch rds1 --samples
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == 20*"+00:00 rds1 is ok, lag 0 ms (heartbeat): fine" ]]
	[ "${lines[1]}" = "2026-11-25T11:40:00.000+00:00 rds1 ok -> io_stopped: Slave_IO_Running No" ]
	[ "${lines[2]}" = "2026-11-18T11:06:40.123+00:00 rds1 sample io_stopped, lag unknown" ]
	[[ "$stderr" == *"the daemon ended the watch (shutdown)"* ]]
	jq -e '.samples == true' "$TMP/requests"
}

@test "watch --json prints each event object on one line" {
	fake_daemon "{\"watch\": [$(sample ok 7), $(sample ok 8), {\"reply\": {\"ok\": true, \"result\": {\"reason\": \"shutdown\"}}}]}"
	run -0 --separate-stderr "$CTL" -s "$SOCK" --json watch
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -s -c 'map(.lag_ms)' <<<"$output")" = "[7,8]" ]
}

@test "watch: SIGINT is a clean end, exit 0" {
	fake_daemon "{\"watch\": [$(state_ev ok 0 fine), {\"hold\": true}]}"
	"$CTL" -s "$SOCK" watch >"$TMP/out" &
	pid=$!
	sleep 0.5
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q "rds1 is ok" "$TMP/out"
}

@test "watch: the connection dropping is an error, exit 69" {
	fake_daemon "{\"watch\": [$(sample ok 1)]}"
	run -69 --separate-stderr "$CTL" -s "$SOCK" watch
	[[ "$stderr" == *"closed the connection"* ]]
}

# -- bash completion --

# complete WORD...: what completion offers for the last word.
complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion 2>/dev/null
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_replwatchctl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		echo "${COMPREPLY[*]}"' _ "$REPO/completion/replwatchctl.bash" "$@"
}

@test "completion: commands and options" {
	run -0 complete_words "$CTL" ""
	[ "$output" = "hello status lag history events watch check wait setup start stop promote abort unfence skip-error mute unmute reload" ]
	run -0 complete_words "$CTL" wait rds1 --
	[ "$output" = "--help --json --format --max-lag --timeout" ]
	run -0 complete_words "$CTL" status --format ""
	[ "$output" = "text json tsv" ]
	run -0 complete_words "$CTL" --format t
	[ "$output" = "text tsv" ]
	run -0 complete_words "$CTL" --reply-timeout 5 st
	[ "$output" = "status start stop" ]
	run -0 complete_words "$CTL" check rds1 --warning ""
	[ -z "$output" ]
	run -0 complete_words "$CTL" check rds1 -c ""
	[ -z "$output" ]
}

@test "completion: target names from the daemon, nothing without one" {
	fake_daemon '{"hello": [{"reply": {"ok": true, "result": {"name": "replwatchd", "version": "0.1.0", "protocol": 1, "pid": 1, "uptime_s": 1, "targets": ["rds1", "rds-two"], "admin": false}}}]}'
	run -0 complete_words "$CTL" -s "$SOCK" status ""
	[ "$output" = "rds1 rds-two" ]
	run -0 complete_words "$CTL" -s "$SOCK" history --samples 5 rds-
	[ "$output" = "rds-two" ]
	run -0 complete_words "$CTL" -s "$SOCK" status rds1 ""
	[ -z "$output" ]
	run -0 complete_words "$CTL" -s "$TMP/none.sock" status ""
	[ -z "$output" ]
}

# -- admin commands --

# A password file (mode 0600 unless $2) holding $1 and a second line.
password_file() {
	printf '%s\nnot-the-password\n' "$1" >"$TMP/pw"
	chmod "${2:-0600}" "$TMP/pw"
}

setup_ok='{"setup": [{"reply": {"ok": true, "result": {"target": "rds1", "statement": "CALL mysql.rds_set_external_master(\u0027127.0.0.1\u0027, 3306, \u0027repl\u0027, \u0027***\u0027, \u0027mysql-bin.000042\u0027, 1234, 0)", "started": true, "messages": ["Slave running normally."]}}}]}'

@test "setup: usage mistakes exit 64 and send nothing" {
	fake_daemon "$setup_ok"
	password_file s3cret
	base=(-s "$SOCK" setup rds1 --master-host db1 --repl-user repl)
	run -64 "$CTL" "${base[@]}" --binlog-file b.1 --binlog-pos 4
	[[ "$output" == *"one of --repl-password-file or --repl-password-stdin"* ]]
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --repl-password-stdin --binlog-file b.1 --binlog-pos 4
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw"
	[[ "$output" == *"give one starting point"* ]]
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --binlog-file b.1
	[[ "$output" == *"--binlog-file and --binlog-pos go together"* ]]
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --binlog-file b.1 --binlog-pos 4 --gtid 0-1-1
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --binlog-file b.1 --binlog-pos 4x
	[[ "$output" == *"--binlog-pos '4x': not a binlog position"* ]]
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --gtid 0-1-1 --gtid-from-dump
	[[ "$output" == *"--gtid-from-dump needs --from-dump"* ]]
	run -64 "$CTL" "${base[@]}" --repl-password-file "$TMP/pw" --gtid 0-1-1 --master-port 70000
	run -64 "$CTL" -s "$SOCK" setup rds1 --repl-user repl --repl-password-file "$TMP/pw" --gtid 0-1-1
	[[ "$output" == *"--master-host is required"* ]]
	# There is no option that takes the password itself.
	run -64 "$CTL" "${base[@]}" --repl-password s3cret --gtid 0-1-1
	[[ "$output" == *"unknown option '--repl-password'"* ]]
	run -0 "$CTL" setup --help
	[[ "$output" != *"--repl-password "* && "$output" != *"--repl-password="* ]]
	[ ! -e "$TMP/requests" ]
}

@test "setup sends the password from the file, never prints it" {
	fake_daemon "$setup_ok"
	password_file 'p4ss "w0rd"\'
	printf 'p4ss "w0rd"\\\r\n' >"$TMP/pw"	# CRLF: the \r is no part of it
	run -0 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host 10.0.0.5 \
	    --master-port 3307 --repl-user repl --repl-password-file "$TMP/pw" \
	    --binlog-file mysql-bin.000042 --binlog-pos 1234 --ssl --start
	[ "${lines[0]}" = "rds1: CALL mysql.rds_set_external_master('127.0.0.1', 3306, 'repl', '***', 'mysql-bin.000042', 1234, 0)" ]
	[ "${lines[1]}" = "  Slave running normally." ]
	[ "${lines[2]}" = "replication started" ]
	[[ "$output$stderr" != *"p4ss"* ]]
	jq -e '.cmd == "setup" and .target == "rds1" and .master_host == "10.0.0.5"
	    and .master_port == 3307 and .repl_user == "repl"
	    and .repl_password == "p4ss \"w0rd\"\\" and .binlog_file == "mysql-bin.000042"
	    and .binlog_pos == "1234" and .ssl == true and .start == true
	    and (has("gtid") | not)' "$TMP/requests"
}

@test "setup --repl-password-stdin reads the first line of a pipe" {
	fake_daemon "$setup_ok"
	run -0 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-stdin --gtid 0-1-123 <<<$'from-stdin\nsecond'
	[[ "$output$stderr" != *"from-stdin"* ]]
	jq -e '.repl_password == "from-stdin" and .gtid == "0-1-123" and .master_port == 3306
	    and .ssl == false and .start == false and (has("binlog_file") | not)' "$TMP/requests"
	# An empty line is no password.
	run -64 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-stdin --gtid 0-1-123 <<<''
	[[ "$stderr" == *"no password"* ]]
}

@test "setup: a password file every user may read gets a warning, 0640 none" {
	fake_daemon "$setup_ok"
	password_file s3cret 0644
	run -0 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --gtid 0-1-1
	[[ "$stderr" == *"warning: $TMP/pw (mode 0644) is readable by every user"* ]]
	chmod 0640 "$TMP/pw"
	run -0 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --gtid 0-1-1
	[ -z "$stderr" ]
	run -64 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/nope" --gtid 0-1-1
	[ "$stderr" = "replwatchctl: $TMP/nope: No such file or directory" ]
}

@test "setup --from-dump: the dump's coordinates go as binlog_file and binlog_pos" {
	fake_daemon "$setup_ok"
	password_file s3cret
	{
		printf -- '-- MariaDB dump 10.19\r\n--\r\n'
		printf -- "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=1234;\r\n"
		for i in $(seq 200); do printf 'INSERT INTO t VALUES (%d,%0600d);\r\n' "$i" 0; done
		printf -- "-- SET GLOBAL gtid_slave_pos='0-1-123';\r\n"
	} >"$TMP/seed.sql"
	run -0 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --from-dump "$TMP/seed.sql" --start
	[[ "${lines[0]}" == "coordinates from seed.sql: mysql-bin.000042:1234"* ]]
	[ "${lines[-1]}" = "replication started" ]
	jq -e '.binlog_file == "mysql-bin.000042" and .binlog_pos == "1234"
	    and (has("gtid") | not)' "$TMP/requests"

	# --gtid-from-dump: the GTID at the dump's end instead.
	rm "$TMP/requests"
	run -0 --separate-stderr "$CTL" -s "$SOCK" --json setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --from-dump "$TMP/seed.sql" --gtid-from-dump
	[ "$stderr" = "coordinates from seed.sql: gtid 0-1-123 (gtid_slave_pos)" ]
	jq -e '.started == true' <<<"$output"
	jq -e '.gtid == "0-1-123" and (has("binlog_file") | not)' "$TMP/requests"
}

@test "setup --from-dump: MySQL's CHANGE REPLICATION SOURCE, uncommented" {
	fake_daemon "$setup_ok"
	password_file s3cret
	printf "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;\n" >"$TMP/my.sql"
	run -0 "$CTL" -s "$SOCK" setup rds1 --master-host db1 --repl-user repl \
	    --repl-password-file "$TMP/pw" --from-dump "$TMP/my.sql"
	[ "${lines[0]}" = "coordinates from my.sql: binlog.000002:157" ]
	jq -e '.binlog_file == "binlog.000002" and .binlog_pos == "157"' "$TMP/requests"
}

@test "setup --from-dump without coordinates: exit 64, nothing sent" {
	fake_daemon "$setup_ok"
	password_file s3cret
	printf -- '-- MariaDB dump\nINSERT INTO t VALUES (1);\n' >"$TMP/plain.sql"
	run -64 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --from-dump "$TMP/plain.sql"
	[[ "$stderr" == *"no binlog coordinates in the dump"*"--master-data=2"* ]]
	run -64 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --from-dump "$TMP/plain.sql" --gtid-from-dump
	[[ "$stderr" == *"no GTID position in the dump"* ]]
	[ ! -e "$TMP/requests" ]
}

@test "setup: a server error is exit 1 with the daemon's message" {
	fake_daemon '{"setup": [{"reply": {"ok": false, "error": {"code": "precondition_failed", "message": "replication is running on rds1: stop it first (replwatchctl stop rds1)"}}}]}'
	password_file s3cret
	run -1 --separate-stderr "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-file "$TMP/pw" --gtid 0-1-1
	[ "$stderr" = "replwatchctl: precondition_failed: replication is running on rds1: stop it first (replwatchctl stop rds1)" ]
	[ -z "$output" ]
}

@test "start and stop print the statement and the server's messages" {
	fake_daemon '{"start": [{"reply": {"ok": true, "result": {"target": "rds1", "statement": "CALL mysql.rds_start_replication()", "messages": ["Slave running normally."]}}}],
	  "stop": [{"reply": {"ok": true, "result": {"target": "rds1", "statement": "STOP SLAVE", "messages": []}}}]}'
	run -0 "$CTL" -s "$SOCK" start rds1
	[ "$output" = $'rds1: CALL mysql.rds_start_replication()\n  Slave running normally.\nreplication started' ]
	run -0 "$CTL" -s "$SOCK" stop rds1
	[ "$output" = $'rds1: STOP SLAVE\nreplication stopped' ]
	run -0 "$CTL" -s "$SOCK" --json stop rds1
	jq -e '.statement == "STOP SLAVE"' <<<"$output"
	[ "$(jq -r .cmd "$TMP/requests" | tr '\n' ' ')" = "start stop stop " ]
	run -64 "$CTL" -s "$SOCK" start
}

@test "abort and reload" {
	fake_daemon '{"abort": [{"reply": {"ok": true, "result": {"target": "rds1", "aborted": true}}}],
	  "reload": [{"reply": {"ok": true, "result": {"config": "/etc/replwatch/replwatch.conf", "targets": 2}}}]}'
	run -0 "$CTL" -s "$SOCK" abort rds1
	[[ "$output" == "rds1: abort requested: the promotion rolls back"*"replwatchctl status rds1"* ]]
	run -0 "$CTL" -s "$SOCK" reload
	[ "$output" = "configuration reloaded from /etc/replwatch/replwatch.conf: 2 target(s)" ]
	run -64 "$CTL" -s "$SOCK" reload rds1
	jq -s -e 'map(.cmd) == ["abort", "reload"] and .[0].target == "rds1" and (.[1] | has("target") | not)' "$TMP/requests"
}

@test "admin commands refused by the daemon: exit 1, permission_denied" {
	fake_daemon '{"abort": [{"reply": {"ok": false, "error": {"code": "permission_denied", "message": "abort is an admin command"}}}]}'
	run -1 --separate-stderr "$CTL" -s "$SOCK" abort rds1
	[ "$stderr" = "replwatchctl: permission_denied: abort is an admin command" ]
}

# -- promote --

step() { # STEP STATUS DETAIL [DURATION]
	if [ -n "${4:-}" ]; then
		echo "{\"reply\": {\"event\": {\"type\": \"step\", \"step\": \"$1\", \"status\": \"$2\", \"elapsed_ms\": 1.5, \"duration_ms\": $4, \"detail\": \"$3\"}}}"
	else
		echo "{\"reply\": {\"event\": {\"type\": \"step\", \"step\": \"$1\", \"status\": \"$2\", \"elapsed_ms\": 1.5, \"detail\": \"$3\"}}}"
	fi
}

report_json() { # OUTCOME REASON
	cat <<EOF
{"target": "rds1", "outcome": "$1", "started": "2026-11-25T12:00:00.000Z",
 "finished": "2026-11-25T12:00:00.100Z",
 "steps": [{"step": "preflight", "status": "done", "duration_ms": 3.2, "detail": "lag 0 ms"},
   {"step": "freeze", "status": "done", "duration_ms": 13.8, "detail": "old master read-only"},
   {"step": "catchup", "status": "$( [ "$1" = aborted ] && echo failed || echo done)", "duration_ms": 1500, "detail": ""},
   {"step": "stop", "status": "$( [ "$1" = aborted ] && echo pending || echo done)", "duration_ms": 0, "detail": ""},
   {"step": "reset", "status": "pending", "duration_ms": 0, "detail": ""},
   {"step": "verify", "status": "pending", "duration_ms": 0, "detail": ""},
   {"step": "done", "status": "pending", "duration_ms": 0, "detail": ""}],
 "final": {"log_file": "master-bin.000001", "log_pos": "31015", "gtid": "0-1-49"},
 "write_blocked_ms": 84.2, "replica_read_only": true, "reason": "$2",
 "todo": ["read_only is ON on the RDS instance: set read_only=0 in its DB parameter group"]}
EOF
}

@test "promote without --yes and without a terminal: exit 64, nothing sent" {
	fake_daemon '{}'
	run -64 --separate-stderr "$CTL" -s "$SOCK" promote rds1 </dev/null
	[ "$stderr" = "replwatchctl: promote rds1: non-interactive use needs --yes" ]
	[ ! -e "$TMP/requests" ]
	run -64 "$CTL" -s "$SOCK" promote
	run -64 "$CTL" -s "$SOCK" promote rds1 --yes --timeout 0
	run -64 "$CTL" -s "$SOCK" promote rds1 --yes --max-lag x
}

@test "promote streams each step as it comes, then the report" {
	fake_daemon "{\"promote\": [$(step preflight running '') , $(step preflight done 'lag 0 ms' 3.2), {\"sleep\": 0.3},
	  $(step freeze done 'old master read-only at master-bin.000001:31015 gtid 0-1-49' 13.8),
	  $(step catchup running 'waiting') , {\"sleep\": 1.2}, $(step catchup done '' 1500),
	  {\"reply\": {\"ok\": true, \"result\": $(report_json promoted 'promoted at master-bin.000001:31015')}}]}"
	# The reply timeout is no limit for a promotion.
	run -0 --separate-stderr "$CTL" -s "$SOCK" --timeout 0.5 promote rds1 --freeze-master \
	    --max-lag 2 --timeout 30 --yes </dev/null
	[ "${lines[0]}" = "  preflight  ..." ]
	[ "${lines[1]}" = "  preflight  done       3.2 ms  lag 0 ms" ]
	[ "${lines[2]}" = "  freeze     done      13.8 ms  old master read-only at master-bin.000001:31015 gtid 0-1-49" ]
	[ "${lines[3]}" = "  catchup    ...  waiting" ]
	[ "${lines[4]}" = "  catchup    done       1.50 s" ]
	[ "${lines[5]}" = "rds1: promoted - promoted at master-bin.000001:31015" ]
	[ "${lines[6]}" = "  final           master-bin.000001:31015, gtid 0-1-49" ]
	[ "${lines[7]}" = "  writes blocked  84.2 ms, from the freeze to the switch" ]
	[ "${lines[8]}" = "  replica         read_only ON" ]
	[ "${lines[9]}" = "  steps           preflight 3.2 ms, freeze 13.8 ms, catchup 1.50 s, stop 0.0 ms" ]
	[[ "$output" == *$'you still must:\n  - read_only is ON on the RDS instance: set read_only=0 in its DB parameter group'* ]]
	jq -e '.cmd == "promote" and .target == "rds1" and .freeze_master == true
	    and .max_lag_s == 2 and .timeout_s == 30 and .dry_run == false
	    and .force == false and .resume == false' "$TMP/requests"
}

@test "promote: the switch hook, the fence and who can still write are in the report" {
	local r
	r=$(report_json promoted 'promoted at master-bin.000001:31015' | jq -c '. + {hooks: {on_switch: {ok: true, detail: "exited 0: moved"}, on_promoted: null},
	    fence: {frozen: true, locked: true, released: false, sessions_killed: 3, can_still_write: ["root@localhost, held back by the lock"]}}')
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": true, \"result\": $r}}]}"
	run -0 "$CTL" -s "$SOCK" promote rds1 --yes </dev/null
	[[ "$output" == *$'\n  on_switch       ok (exited 0: moved)\n'* ]]
	[[ "$output" == *$'\n  old master      read-only, fenced by a global read lock; 3 sessions ended at the freeze\n  can write there root@localhost, held back by the lock\n'* ]]
}

@test "promote: promoted but on_promoted failed: the report says so, exit 3" {
	local r
	r=$(report_json promoted 'promoted at master-bin.000001:31015' | jq -c '. + {hooks: {on_switch: null, on_promoted: {ok: false, detail: "exited with status 7: no route"}}}')
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": true, \"result\": $r}}]}"
	run -3 "$CTL" -s "$SOCK" promote rds1 --yes </dev/null
	[[ "$output" == *"rds1: promoted - promoted at master-bin.000001:31015"* ]]
	[[ "$output" == *$'\n  on_promoted     FAILED (exited with status 7: no route)\n'* ]]
}

@test "promote --no-freeze asks for no freeze; with --freeze-master it is a usage error" {
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": true, \"result\": $(report_json promoted done)}}]}"
	run -0 "$CTL" -s "$SOCK" promote rds1 --no-freeze --yes </dev/null
	jq -e '.freeze_master == false' "$TMP/requests"
	run -64 --separate-stderr "$CTL" -s "$SOCK" promote rds1 --no-freeze --freeze-master --yes </dev/null
	[ "${stderr_lines[0]}" = "replwatchctl promote: --no-freeze and --freeze-master contradict each other" ]
}

@test "unfence: the daemon's note; not_found exits 1" {
	fake_daemon '{"unfence": [{"reply": {"ok": true, "result": {"target": "rds1", "released": true, "note": "read_only stays ON"}}}]}'
	run -0 "$CTL" -s "$SOCK" unfence rds1
	[ "$output" = "rds1: the old master's fence is released: read_only stays ON" ]
	jq -e '.cmd == "unfence" and .target == "rds1"' "$TMP/requests"
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"
	fake_daemon '{"unfence": [{"reply": {"ok": false, "error": {"code": "not_found", "message": "no fence of rds1 is held"}}}]}'
	run -1 --separate-stderr "$CTL" -s "$SOCK" unfence rds1
	[ "$stderr" = "replwatchctl: not_found: no fence of rds1 is held" ]
	run -64 "$CTL" -s "$SOCK" unfence
}

@test "promote --dry-run needs no --yes and prints the plan" {
	fake_daemon "{\"promote\": [$(step preflight done ok 1), {\"reply\": {\"ok\": true, \"result\": {\"target\": \"rds1\", \"outcome\": \"dry_run\", \"steps\": [], \"final\": null, \"write_blocked_ms\": null, \"replica_read_only\": null, \"reason\": \"dry run: nothing changed\", \"todo\": [], \"plan\": [{\"on\": \"replica\", \"sql\": \"CALL mysql.rds_stop_replication()\"}, {\"on\": \"replica\", \"sql\": \"CALL mysql.rds_reset_external_master()\"}]}}}]}"
	run -0 "$CTL" -s "$SOCK" promote rds1 --dry-run </dev/null
	[ "${lines[1]}" = "rds1: dry run passed - dry run: nothing changed" ]
	[[ "$output" == *$'plan (what a promotion would run):\n  on replica  CALL mysql.rds_stop_replication()\n  on replica  CALL mysql.rds_reset_external_master()'* ]]
	[[ "$output" != *"you still must"* && "$output" != *"writes blocked"* ]]
	jq -e '.dry_run == true and (has("max_lag_s") | not) and (has("timeout_s") | not)' "$TMP/requests"
}

@test "promote aborted: the report, then 'aborted: message', exit 1" {
	fake_daemon "{\"promote\": [$(step preflight done ok 3.2), $(step catchup failed 'timed out after 1.5 s' 1500),
	  {\"reply\": {\"event\": $(report_json aborted 'catch-up timed out; rolled back' | jq -c '. + {type: "report"}')}},
	  {\"reply\": {\"ok\": false, \"error\": {\"code\": \"aborted\", \"message\": \"catch-up timed out; rolled back\"}}}]}"
	run -1 --separate-stderr "$CTL" -s "$SOCK" promote rds1 --yes
	[ "$stderr" = "replwatchctl: aborted: catch-up timed out; rolled back" ]
	[ "${lines[1]}" = "  catchup    failed     1.50 s  timed out after 1.5 s" ]
	[ "${lines[2]}" = "rds1: aborted - catch-up timed out; rolled back" ]
	[ "${lines[3]}" = "  frozen at       master-bin.000001:31015, gtid 0-1-49" ]
	[[ "$output" == *"  steps           preflight 3.2 ms, freeze 13.8 ms, catchup failed after 1.50 s"* ]]
}

@test "promote --json: one line per event, then the result; errors on stderr" {
	fake_daemon "{\"promote\": [$(step preflight done ok 3.2), {\"reply\": {\"ok\": true, \"result\": $(report_json promoted done)}}]}"
	run -0 --separate-stderr "$CTL" -s "$SOCK" --json promote rds1 --yes
	[ "${#lines[@]}" -eq 2 ]
	jq -e '.type == "step" and .step == "preflight"' <<<"${lines[0]}"
	jq -e '.outcome == "promoted" and .write_blocked_ms == 84.2' <<<"${lines[1]}"
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"

	fake_daemon "{\"promote\": [$(step preflight failed 'lag 5 s is over --max-lag 1 s' 3.2),
	  {\"reply\": {\"event\": $(report_json aborted 'lag 5 s' | jq -c '. + {type: "report"}')}},
	  {\"reply\": {\"ok\": false, \"error\": {\"code\": \"precondition_failed\", \"message\": \"lag 5 s is over --max-lag 1 s\"}}}]}"
	run -1 --separate-stderr "$CTL" -s "$SOCK" promote rds1 --yes --json
	[ "${#lines[@]}" -eq 2 ]
	jq -e '.type == "report" and .outcome == "aborted"' <<<"${lines[1]}"
	# The daemon's error, as it came, is the one line of stderr.
	[ "$(jq -c . <<<"$stderr")" = '{"ok":false,"error":{"code":"precondition_failed","message":"lag 5 s is over --max-lag 1 s"}}' ]
}

@test "promote: a failure past the point of no return says --resume" {
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": false, \"error\": {\"code\": \"server_error\", \"message\": \"verify: Lost connection\"}}}]}"
	run -1 --separate-stderr "$CTL" -s "$SOCK" promote rds1 --yes
	[[ "$stderr" == *"server_error: verify: Lost connection"*"replwatchctl promote rds1 --resume"* ]]
}

@test "promote: the connection dropping mid-way: exit 69, it continues in the daemon" {
	fake_daemon "{\"promote\": [$(step preflight done ok 3.2), $(step freeze running '')]}"
	run -69 --separate-stderr "$CTL" -s "$SOCK" promote rds1 --yes
	[ "${lines[0]}" = "  preflight  done       3.2 ms  ok" ]
	[[ "$stderr" == *"closed the connection"* ]]
	[[ "$stderr" == *"the promotion of rds1 continues in the daemon: check replwatchctl status rds1"* ]]
	run -69 "$CTL" -s "$TMP/none.sock" promote rds1 --yes
}

@test "promote: SIGINT leaves the promotion to the daemon, exit 130" {
	fake_daemon "{\"promote\": [$(step catchup running waiting), {\"hold\": true}]}"
	"$CTL" -s "$SOCK" promote rds1 --yes >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	sleep 0.5
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	grep -q "continues in the daemon" "$TMP/err"
}

# run under a pseudo-terminal, typing $1 once it asks (a password prompt
# flushes what was typed ahead, which the terminal had echoed)
on_tty() {
	local input=$1
	shift
	{ sleep 0.5; printf '%s\n' "$input"; } |
	    script -qec "$(printf '%q ' "$@")" /dev/null
}

@test "promote on a terminal: the target's name must be typed" {
	command -v script >/dev/null || skip "no script(1)"
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": true, \"result\": $(report_json promoted done)}}]}"
	run -1 on_tty yes "$CTL" -s "$SOCK" promote rds1
	[[ "$output" == *"Promote rds1? This stops replication and resets it (the point of no return). Type the target name to confirm: "* ]]
	[[ "$output" == *"'yes' is not 'rds1': rds1 was not promoted"* ]]
	[ ! -e "$TMP/requests" ]
	run -0 on_tty rds1 "$CTL" -s "$SOCK" promote rds1
	[[ "$output" == *"rds1: promoted"* ]]
	jq -e '.cmd == "promote"' "$TMP/requests"
}

@test "setup --repl-password-stdin on a terminal asks without echo" {
	command -v script >/dev/null || skip "no script(1)"
	fake_daemon "$setup_ok"
	run -0 on_tty typed-secret "$CTL" -s "$SOCK" setup rds1 --master-host db1 \
	    --repl-user repl --repl-password-stdin --gtid 0-1-1
	[[ "$output" == *"Password of repl on db1: "* ]]
	[[ "$output" != *"typed-secret"* ]]
	jq -e '.repl_password == "typed-secret"' "$TMP/requests"
}

# -- status: the promotion and the server's error --

@test "status shows the promotion, the server's error and the TLS cipher" {
	fake_daemon "{\"status\": [{\"reply\": {\"ok\": true, \"result\": $(target_json promoted null 'promoted at master-bin.000001:31015' | jq -c --argjson p "$(report_json promoted 'promoted at master-bin.000001:31015' | jq -c '. + {state: .outcome, step: "done"} | del(.outcome)')" '.promotion = $p | .server.encrypted = true | .server.cipher = "TLS_AES_256_GCM_SHA384" | .server.error = "Lost connection to server during query"')}}]}"
	run -0 "$CTL" -s "$SOCK" status rds1
	[[ "$output" == *"server     127.0.0.1:3307 rds-mysql 10.11.6-MariaDB, connected, TLS on (TLS_AES_256_GCM_SHA384), read_only ON, error: Lost connection to server during query"* ]]
	[[ "$output" == *$'  promotion  promoted (step done), started 2026-11-25T12:00:00.000+00:00, finished 2026-11-25T12:00:00.100+00:00\n             final master-bin.000001:31015, gtid 0-1-49, writes blocked 84.2 ms\n             promoted at master-bin.000001:31015'* ]]
	[[ "$output" != *'{"'* ]]
}

@test "completion: the admin commands and their options" {
	run -0 complete_words "$CTL" promote rds1 --
	[ "$output" = "--help --json --format --no-freeze --freeze-master --max-lag --timeout --dry-run --force --resume --yes" ]
	run -0 complete_words "$CTL" setup rds1 --repl-password-
	[ "$output" = "--repl-password-file --repl-password-stdin" ]
	run -0 complete_words "$CTL" reload --
	[ "$output" = "--help --json --format" ]
	run -0 complete_words "$CTL" mute rds1 --
	[ "$output" = "--help --json --format --for --reason" ]
	run -0 complete_words "$CTL" mute rds1 --for ""
	[ -z "$output" ]
	run -0 complete_words "$CTL" skip-error rds1 --
	[ "$output" = "--help --json --format --yes" ]
	run -0 complete_words "$CTL" unmute rds1 --
	[ "$output" = "--help --json --format" ]
}

# -- the command table: completion made from it --

@test "completion: the shipped file's table is the one replwatchctl makes (make completion)" {
	local shipped
	shipped=$(sed -n '/^# BEGIN replwatchctl --complete-table$/,/^# END replwatchctl --complete-table$/p' \
	    "$REPO/completion/replwatchctl.bash" | sed '1d;$d')
	[ -n "$shipped" ]
	diff <("$CTL" --complete-table) <(printf '%s\n' "$shipped")
	# Every command of the table, and only those.
	run -0 complete_words "$CTL" ""
	for c in $output; do
		run -0 "$CTL" "$c" --help
	done
}

# -- --format json: errors are JSON too, on stderr --

@test "--json: no daemon is one JSON object on stderr, code unavailable, exit 69" {
	run -69 --separate-stderr "$CTL" -s "$TMP/none.sock" --json status
	[ -z "$output" ]
	[ "$(jq -c . <<<"$stderr")" = "{\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"cannot connect to $TMP/none.sock: No such file or directory (is replwatchd running?)\"}}" ]
}

@test "--json: the daemon's error object as it came, exit 1" {
	fake_daemon '{"status": [{"reply": {"ok": false, "error": {"code": "unknown_target", "message": "no target named \"nope\"", "targets": ["rds1"]}}}]}'
	run -1 --separate-stderr "$CTL" -s "$SOCK" status nope --format json
	[ -z "$output" ]
	[ "$(jq -c . <<<"$stderr")" = '{"ok":false,"error":{"code":"unknown_target","message":"no target named \"nope\"","targets":["rds1"]}}' ]
}

@test "--json: usage, timeout and protocol failures are JSON with their codes" {
	run -64 --separate-stderr "$CTL" --json history
	jq -e '.ok == false and .error.code == "usage" and .error.message == "history: a TARGET is required"' <<<"$stderr"
	# --json after the mistake counts too.
	run -64 --separate-stderr "$CTL" status --bogus --json
	jq -e '.error.code == "usage" and (.error.message | contains("--bogus"))' <<<"$stderr"
	run -64 --separate-stderr "$CTL" --json frobnicate
	jq -e '.error.message == "unknown command '\''frobnicate'\''"' <<<"$stderr"

	fake_daemon '{"status": [{"sleep": 5}], "lag": [{"raw": "<html>"}]}'
	run -69 --separate-stderr "$CTL" -s "$SOCK" --reply-timeout 0.3 --json status
	jq -e '.error.code == "timeout" and (.error.message | startswith("no reply from the daemon within 0.3 s"))' <<<"$stderr"
	run -76 --separate-stderr "$CTL" -s "$SOCK" --json lag
	jq -e '.error.code == "protocol"' <<<"$stderr"
	[ -z "$output" ]
}

@test "--json: promote's --resume hint is a member of the error" {
	fake_daemon "{\"promote\": [{\"reply\": {\"ok\": false, \"error\": {\"code\": \"server_error\", \"message\": \"verify: Lost connection\"}}}]}"
	run -1 --separate-stderr "$CTL" -s "$SOCK" --json promote rds1 --yes
	jq -e '.error.code == "server_error" and (.error.hint | contains("replwatchctl promote rds1 --resume"))' <<<"$stderr"
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}

# -- --format tsv --

two_targets='{"targets": [
  {"target": "rds1", "state": "ok", "reason": "replicating", "since": "2026-11-18T11:06:40.123Z", "since_unix_ms": 1795000000123,
   "lag": {"ms": 120, "source": "heartbeat", "seconds_behind_master": 0, "heartbeat_ms": 120, "position_bytes": "4096"},
   "replication": {"io_running": "Yes", "sql_running": "Yes"}},
  {"target": "r2", "state": "sql_error", "reason": "Error\t1062:\nduplicate", "since": null,
   "lag": {"ms": null, "source": "none", "seconds_behind_master": null, "heartbeat_ms": null, "position_bytes": null},
   "replication": {"io_running": "Yes", "sql_running": "No"}}]}'

@test "--format tsv status: a header, a row per target, escapes, severity from the health table" {
	fake_daemon "{\"status\": [{\"reply\": {\"ok\": true, \"result\": $two_targets}}]}"
	run -0 --separate-stderr "$CTL" -s "$SOCK" --format tsv status
	[ "${lines[0]}" = $'target\tstate\tseverity\tlag_ms\tlag_source\tio_running\tsql_running\tsince\treason' ]
	[ "${lines[1]}" = $'rds1\tok\tOK\t120\theartbeat\tYes\tYes\t2026-11-18T11:06:40.123+00:00\treplicating' ]
	[ "${lines[2]}" = $'r2\tsql_error\tCRITICAL\t\tnone\tYes\tNo\t\tError\\t1062:\\nduplicate' ]
	[ "${#lines[@]}" -eq 3 ]
	# One target: the same header and one row.
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"
	fake_daemon "$(status_script lagging 45000 'lag 45 s')"
	run -0 "$CTL" -s "$SOCK" status rds1 --format tsv
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[1]}" = $'rds1\tlagging\tWARNING\t45000\theartbeat\tYes\tYes\t2026-11-18T11:06:40.123+00:00\tlag 45 s' ]
}

@test "--format tsv lag, events and history" {
	fake_daemon "{\"lag\": [{\"reply\": {\"ok\": true, \"result\": $two_targets}}],
	  \"events\": [{\"reply\": {\"ok\": true, \"result\": {\"events\": [{\"seq\": 5, \"ts\": \"2026-11-18T11:06:40.123Z\", \"ts_unix_ms\": 1795000000123, \"target\": \"rds1\", \"from\": \"ok\", \"to\": \"io_stopped\", \"reason\": \"Slave_IO_Running No\"}]}}}],
	  \"history\": [{\"reply\": {\"ok\": true, \"result\": {\"target\": \"rds1\", \"interval_ms\": 1000, \"windows\": {}, \"samples\": [{\"t_ms\": 1, \"age_ms\": 2000, \"lag_ms\": 0}, {\"t_ms\": 2, \"age_ms\": 1000, \"lag_ms\": null}]}}}]}"
	run -0 "$CTL" -s "$SOCK" --format tsv lag
	[ "$output" = $'target\tstate\tlag_ms\tlag_source\tseconds_behind_master\theartbeat_ms\tposition_bytes\nrds1\tok\t120\theartbeat\t0\t120\t4096\nr2\tsql_error\t\tnone\t\t\t' ]
	run -0 "$CTL" -s "$SOCK" --format tsv events
	[ "$output" = $'seq\tts\ttarget\tkind\tfrom\tto\treason\n5\t2026-11-18T11:06:40.123+00:00\trds1\t\tok\tio_stopped\tSlave_IO_Running No' ]
	run -0 "$CTL" -s "$SOCK" --format tsv history rds1
	[ "$output" = $'target\tage_ms\tlag_ms\nrds1\t2000\t0\nrds1\t1000\t' ]
	# Through a pipeline: awk reads the columns by name.
	[ "$("$CTL" -s "$SOCK" --format tsv lag | awk -F'\t' 'NR > 1 && $3 != "" { print $1 }')" = rds1 ]
}

@test "--format tsv where rows make no sense is a usage error" {
	for c in hello "watch" "wait rds1 --max-lag 1 --timeout 1" "promote rds1 --yes" "start rds1" "reload"; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr "$CTL" -s "$TMP/none.sock" --format tsv $c
		[[ "$stderr" == *"--format tsv: ${c%% *} has no rows to print (use text or json)"* ]]
	done
	run -64 --separate-stderr "$CTL" --format yaml status
	[[ "$stderr" == *"--format 'yaml': not one of text, json, tsv"* ]]
	run -3 --separate-stderr "$CTL" --format tsv check rds1
	[[ "$output" == "REPLWATCH UNKNOWN: usage: --format tsv: check has no rows"* ]]
}

# -- the reply timeout and wait's --timeout --

@test "--reply-timeout before the command; --timeout there is the same, after it the command's own" {
	fake_daemon "{\"status\": [{\"sleep\": 5}], \"watch\": [$(state_ev lagging 9000 behind), {\"hold\": true}]}"
	run -69 --separate-stderr "$CTL" -s "$SOCK" --reply-timeout 0.3 status
	[[ "$stderr" == *"no reply from the daemon within 0.3 s"* ]]
	run -69 --separate-stderr "$CTL" -s "$SOCK" --timeout 0.3 status
	[[ "$stderr" == *"no reply from the daemon within 0.3 s"* ]]
	# Both at once: wait's own 0.5 s is the bound, the reply timeout
	# (0.2 s) does not cut the watch short.
	run -2 "$CTL" -s "$SOCK" --reply-timeout 0.2 wait rds1 --max-lag 1 --timeout 0.5
	[ "$output" = "rds1: timed out after 0.5 s: lagging, lag 9000 ms (behind)" ]
	run -64 --separate-stderr "$CTL" -s "$SOCK" status --reply-timeout 1
	[[ "$stderr" == *"unknown option '--reply-timeout' (global options go before the command)"* ]]
	run -64 --separate-stderr "$CTL" --reply-timeout 0 status
	[[ "$stderr" == *"--reply-timeout '0': not a number of seconds above 0"* ]]
	run -0 "$CTL" wait --help
	[[ "$output" == *"--timeout T  give up after T seconds (this is wait's own"* ]]
}

@test "lag of one target: the columns are spaced, not run together" {
	fake_daemon '{"lag": [{"reply": {"ok": true, "result": {"target": "rds1", "state": "sql_error", "lag": {"ms": 4116, "source": "heartbeat", "seconds_behind_master": null, "heartbeat_ms": 4116, "position_bytes": null}}}}]}'
	run -0 "$CTL" -s "$SOCK" lag rds1
	[ "$output" = "rds1  sql_error  lag 4116 ms (heartbeat)   seconds_behind_master -   heartbeat 4116 ms" ]
}

@test "status colours a state by its severity in lib/health.c, also the newer ones" {
	command -v script >/dev/null || skip "no script(1)"
	fake_daemon "{\"status\": [{\"reply\": {\"ok\": true, \"result\": {\"targets\": [
	  {\"target\": \"a\", \"state\": \"primary_unreachable\", \"lag\": {}},
	  {\"target\": \"b\", \"state\": \"ok\", \"lag\": {}},
	  {\"target\": \"c\", \"state\": \"lagging\", \"lag\": {}}]}}}]}"
	run -0 script -qec "env -u NO_COLOR TERM=xterm $CTL -s $SOCK status" /dev/null
	[[ "$output" == *$'\033[31mprimary_unreachable\033[0m'* ]]
	[[ "$output" == *$'\033[32mok\033[0m'* ]]
	[[ "$output" == *$'\033[33mlagging\033[0m'* ]]
}

@test "status shows a mute and the watched new primary when the daemon has them" {
	local t
	t=$(target_json primary_read_only null 'the new primary refuses writes' | jq -c '.muted = {until: "2026-11-18T13:06:40.123Z", until_unix_ms: 1795007200123, reason: "disk swap", by: "alice"}
	    | .primary = {reachable: true, read_only: true, writable: false, why_not: "read_only is ON", binlog_file: "mysql-bin.000003", binlog_pos: 1234, binlog_moving: false, checked_unix_ms: 1795000000123}')
	fake_daemon "{\"status\": [{\"reply\": {\"ok\": true, \"result\": $t}}]}"
	run -0 "$CTL" -s "$SOCK" status rds1
	[[ "$output" == *$'\n  muted      until 2026-11-18T13:06:40.123+00:00, by alice: disk swap\n'* ]]
	[[ "$output" == *$'\n  primary    reachable, not writable (read_only is ON), read_only ON, binlog mysql-bin.000003:1234 still, checked 2026-11-18T11:06:40.123+00:00'* ]]
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; rm -f "$SOCK"
	# Absent or null: no line.
	fake_daemon "$(status_script ok 0 fine)"
	run -0 "$CTL" -s "$SOCK" status rds1
	[[ "$output" != *"muted"* && "$output" != *"primary "* ]]
}
