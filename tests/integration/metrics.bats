#!/usr/bin/env bats
# The Prometheus endpoint: every series present from the start, parseable by
# the reference client library's parser, values that follow the target.

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	D=$(mktemp -d)
	chmod 700 "$D"
	printf '[client]\nuser=nobody\npassword=nothing\n' > "$D/o.cnf"
	chmod 600 "$D/o.cnf"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat > "$D/c.conf" <<EOF
[daemon]
socket = $D/s.sock
state_dir = $D/state
metrics_listen = 127.0.0.1:$PORT
[target down1]
host = 127.0.0.1
port = 1
option_file = $D/o.cnf
interval_ms = 200
EOF
	"$REPO/daemon/replwatchd" -c "$D/c.conf" 2> "$D/log" &
	PID=$!
	for _ in $(seq 50); do [ -S "$D/s.sock" ] && break; sleep 0.1; done
}

teardown() {
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	rm -rf "$D"
}

fetch() {
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

@test "metrics parse and report an unreachable target with NaN lag" {
	sleep 0.5
	run fetch "http://127.0.0.1:$PORT/metrics"
	[ "$status" -eq 0 ]
	echo "$output" > "$D/m.txt"
	grep -qx 'replwatch_state{target="down1",state="unreachable"} 1' "$D/m.txt"
	grep -qx 'replwatch_state{target="down1",state="ok"} 0' "$D/m.txt"
	grep -qx 'replwatch_lag_seconds{target="down1"} NaN' "$D/m.txt"
	grep -qx 'replwatch_up{target="down1"} 0' "$D/m.txt"
	# Debian's python3 has the parser (python3-prometheus-client).
	run /usr/bin/python3 - "$D/m.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["replwatch_polls"].type == "counter", fams.keys()
failed = [s.value for s in fams["replwatch_polls"].samples if s.labels["result"] == "failed"]
assert failed and failed[0] >= 1, failed
print("families:", len(fams))
PY
	[ "$status" -eq 0 ]
	[[ "$output" == *"families: 8"* ]]
}

@test "anything but /metrics is a 404, and POST is refused" {
	run python3 -c 'import urllib.request, urllib.error, sys
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$PORT/"
	[ "$output" = 404 ]
	run python3 -c 'import urllib.request, urllib.error, sys
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"x"), timeout=5)
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$PORT/metrics"
	[ "$output" = 405 ]
}
