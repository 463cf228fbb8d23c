#!/usr/bin/env bats
# SIGHUP reloads that change a target's shape while its timers are pending,
# and reloads that re-read the files "include" names.

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

@test "a reload re-reads the included files: a new one adds its target, a broken one is refused by file:line" {
	mkdir -m 755 "$D/conf.d"
	conf ""
	printf 'include = conf.d/*.conf\n' >"$D/inc"
	sed -i "/^state_dir/r $D/inc" "$D/c.conf"
	"$REPO/daemon/replwatchd" -d -c "$D/c.conf" 2> "$D/log" &
	PID=$!
	run timeout 10 bash -c 'until [ -S "$1" ]; do sleep 0.1; done' _ "$D/s.sock"
	[ "$status" -eq 0 ]
	grep -q "include $D/conf.d/\*.conf: no file matches" "$D/log"

	printf '[target t2]\nhost = 127.0.0.1\nport = 1\noption_file = %s\n' \
	    "$D/o.cnf" >"$D/conf.d/t2.conf"
	kill -HUP "$PID"
	run timeout 10 bash -c 'until grep -q "reloaded: 2 target" "$1"; do sleep 0.1; done' _ "$D/log"
	[ "$status" -eq 0 ]
	grep -q "included $D/conf.d/t2.conf" "$D/log"
	run "$REPO/ctl/replwatchctl" -s "$D/s.sock" --json status t2
	[ "$status" -eq 0 ]
	[ "$(jq -r .target <<<"$output")" = t2 ]

	printf '[target t3]\nhost = 127.0.0.1\nport = x\n' >"$D/conf.d/t3.conf"
	kill -HUP "$PID"
	run timeout 10 bash -c 'until grep -q "reload refused" "$1"; do sleep 0.1; done' _ "$D/log"
	[ "$status" -eq 0 ]
	grep -qF "reload refused, old configuration kept: $D/conf.d/t3.conf:3: port: \"x\" is not a whole number" "$D/log"
	run "$REPO/ctl/replwatchctl" -s "$D/s.sock" --json status t2
	[ "$status" -eq 0 ]
}

@test "a hook command line of 3 KiB in an included file, added by a reload, runs whole" {
	mkdir -m 755 "$D/conf.d"
	conf ""
	printf 'include = conf.d/*.conf\n' >"$D/inc"
	sed -i "/^state_dir/r $D/inc" "$D/c.conf"
	"$REPO/daemon/replwatchd" -c "$D/c.conf" 2> "$D/log" &
	PID=$!
	run timeout 10 bash -c 'until [ -S "$1" ]; do sleep 0.1; done' _ "$D/s.sock"
	[ "$status" -eq 0 ]

	local arg
	arg=$(printf 'x%.0s' $(seq 1 3000))
	printf '[target t2]\nhost = 127.0.0.1\nport = 1\noption_file = %s\non_state_change = /bin/sh -c '"'"'echo "$#" "${#1}" "$REPLWATCH_TARGET" >>"$0"'"'"' %s %s\n' \
	    "$D/o.cnf" "$D/hook.out" "$arg" >"$D/conf.d/t2.conf"
	(( $(wc -c <"$D/conf.d/t2.conf") > 3000 ))
	kill -HUP "$PID"
	run timeout 10 bash -c 'until [ -s "$1" ]; do sleep 0.1; done' _ "$D/hook.out"
	[ "$status" -eq 0 ]
	[ "$(head -n 1 "$D/hook.out")" = "1 3000 t2" ]
}
