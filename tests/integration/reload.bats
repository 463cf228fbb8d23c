#!/usr/bin/env bats
# SIGHUP reloads that change a target's shape while its timers are pending.

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	D=$(mktemp -d)
	chmod 700 "$D"
	printf '[client]\nuser=nobody\npassword=nothing\n' > "$D/o.cnf"
	chmod 600 "$D/o.cnf"
}

teardown() {
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	rm -rf "$D"
}

conf() {
	cat > "$D/c.conf" <<EOF
[daemon]
socket = $D/s.sock
state_dir = $D/state
[target t1]
host = 127.0.0.1
port = 1
option_file = $D/o.cnf
interval_ms = 100
$*
EOF
}

@test "a reload that drops master_host while the master's retry timer is pending" {
	conf "master_host = 127.0.0.1
master_port = 2
master_option_file = $D/o.cnf"
	"$REPO/daemon/replwatchd" -c "$D/c.conf" 2> "$D/log" &
	PID=$!
	# Let the master fail twice, so its next try is several seconds away.
	sleep 0.5
	conf ""
	kill -HUP "$PID"
	# Past the master's back-off (5 s): its timer must not fire on nothing.
	sleep 5.5
	kill -0 "$PID"
	run "$REPO/ctl/replwatchctl" -s "$D/s.sock" --json status t1
	[ "$status" -eq 0 ]
	[ "$(jq -r .master <<<"$output")" = null ]
	grep -q "reloaded" "$D/log"
}
