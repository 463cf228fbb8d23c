#!/usr/bin/env bats
# replwatchctl check as a monitoring plugin (the Monitoring Plugins
# Development Guidelines): the real replwatchd and replwatchctl against a
# real replicating sandbox.  One daemon watches it twice:
#   main  with its master, heartbeat = write, lag_warn_s 4, lag_crit_s 6
#   twin  the same replica, no heartbeat (lag from Seconds_Behind_Master),
#         the default thresholds 30/300
# Faults (a stopped SQL thread, MASTER_DELAY) are undone by the test and
# again in teardown.

# shellcheck disable=SC2030,SC2031,SC2154 # (bats' run sets status, output, stderr per test)

bats_require_minimum_version 1.5.0

load lib
load daemon

# A lag figure as check prints it: seconds with three decimals.
LAG='[0-9]+\.[0-9]{3}'

setup_file() {
	sandbox_up --flavor rds-mysql --replicate --fast-reconnect
	local -a twin
	mapfile -t twin < <(daemon_target_lines "$SB")
	daemon_start --master 'heartbeat = write' 'lag_warn_s = 4' \
		'lag_crit_s = 6' 'hysteresis = 2' \
		'[target twin]' "${twin[@]}" 'interval_ms = 250'
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

sqlr() { mariadb --defaults-file="$SB/replica-root.cnf" -N -B -e "$1"; }

# main and twin healthy, with the heartbeat's lag and the position lag.
healthy() {
	wait_state main ok 30
	wait_state twin ok 30
	wait_until 15 bash -c '"$CTL_BIN" -s "$SOCK" --json status main |
	    jq -e ".lag.source == \"heartbeat\" and .lag.position_bytes != null" >/dev/null'
}

setup() {
	STUB_PID=""
}

teardown() {
	if [[ -n $STUB_PID ]]; then
		kill "$STUB_PID" 2>/dev/null || true
		wait "$STUB_PID" 2>/dev/null || true
	fi
	# Undo the faults, whether or not the test got that far.
	ctl unmute main >/dev/null 2>&1 || true
	if [[ $(sqlr "SELECT @@hostname" 2>/dev/null) != "" ]]; then
		if [[ $(slave_delay) != 0 ]]; then
			sqlr "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE"
		fi
		sqlr "START SLAVE SQL_THREAD" 2>/dev/null || true
	fi
}

slave_delay() {
	mariadb --defaults-file="$SB/replica-root.cnf" -B -e 'SHOW SLAVE STATUS' |
		awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SQL_Delay") c = i } NR == 2 { print $c }'
}

# -- a healthy replica --

@test "healthy replica: OK, exit 0, one line with the lag, its perfdata and the position lag" {
	healthy
	run -0 --separate-stderr ctl check main
	[ "${#lines[@]}" -eq 1 ]
	[[ $output =~ ^REPLWATCH\ OK:\ main\ ok,\ lag\ ($LAG)s\ \(heartbeat\)\ \|\ lag=($LAG)s\;4\;6\;0\ position_lag=[0-9]+B\;\;\;0\ state=0$ ]]
	# The text and the perfdata give the same figure.
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	[ -z "$stderr" ]
}

@test "-H and --hostname name the target as TARGET does; two different ones are a usage error" {
	healthy
	run -0 ctl check -H main
	[[ $output == "REPLWATCH OK: main ok, lag "* ]]
	run -0 ctl check --hostname=twin
	[[ $output =~ ^REPLWATCH\ OK:\ twin\ ok,\ lag\ ${LAG}s\ \(seconds_behind_master\)\ \|\ lag=${LAG}s\;30\;300\;0\ state=0$ ]]
	run -0 ctl check -H main main
	run -3 --separate-stderr ctl check -H main twin
	[ "$output" = "REPLWATCH UNKNOWN: usage: two targets: -H main and twin" ]
	[[ $stderr == *"usage: replwatchctl check "* ]]
}

@test "-w/-c ranges: @ alerts inside, ~: and start: outside; the ranges as given go into the perfdata" {
	healthy
	# The lag is well under an hour: inside @0:3600.
	run -1 ctl check main -w @0:3600
	[[ $output =~ ^REPLWATCH\ WARNING:\ main\ ok,\ lag\ ${LAG}s\ \(heartbeat\),\ inside\ the\ warning\ range\ @0:3600\ \|\ lag=${LAG}s\;@0:3600\;6\;0\ position_lag=[0-9]+B\;\;\;0\ state=1$ ]]
	run -2 ctl check main --warning=@0:3600 --critical '@~:3600'
	[[ $output =~ ^REPLWATCH\ CRITICAL:\ main\ ok,\ lag\ ${LAG}s\ \(heartbeat\),\ inside\ the\ critical\ range\ @~:3600\ \|\ lag=${LAG}s\;@0:3600\;@~:3600\;0\  ]]
	# 3600: wants an hour of lag at least.
	run -2 ctl check main -c 3600:
	[[ $output == *", outside the critical range 3600: | lag="*";4;3600:;0 "* ]]
	run -0 ctl check main -w '~:3600' -c '~:7200.5'
	[[ $output =~ \|\ lag=${LAG}s\;~:3600\;~:7200.5\;0\  ]]
}

@test "the SQL thread stopped: CRITICAL, whatever the ranges" {
	healthy
	sqlr "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 15
	run -2 ctl check main
	[[ $output =~ ^REPLWATCH\ CRITICAL:\ main\ sql_stopped,\ lag\ [^:]+:\ .+\ \|\ lag=(${LAG}s|U)\;4\;6\;0\ .*state=2$ ]]
	run -2 ctl check main -w 100000 -c 100000
	[[ $output == "REPLWATCH CRITICAL: main sql_stopped, "* ]]
	wait_state twin sql_stopped 15
	run -2 ctl check
	[[ $output =~ ^REPLWATCH\ CRITICAL:\ main\ sql_stopped,.*\;\ twin\ sql_stopped,.*\;\ 0\ of\ 2\ targets\ OK\ \| ]]
	sqlr "START SLAVE SQL_THREAD"
	wait_state main ok 15
	run -0 ctl check main
}

# -- every target --

@test "no target: every target, one line, perfdata for each; -v lists the OK ones" {
	healthy
	run -0 --separate-stderr ctl check
	[ "${#lines[@]}" -eq 1 ]
	[[ $output =~ ^REPLWATCH\ OK:\ 2\ of\ 2\ targets\ OK\ \|\ main_lag=${LAG}s\;4\;6\;0\ main_position_lag=[0-9]+B\;\;\;0\ main_state=0\ twin_lag=${LAG}s\;30\;300\;0\ twin_state=0$ ]]
	run -0 ctl check -v
	[[ $output =~ ^REPLWATCH\ OK:\ main\ ok,\ lag\ ${LAG}s\ \(heartbeat\)\;\ twin\ ok,\ lag\ ${LAG}s\ \(seconds_behind_master\)\;\ 2\ of\ 2\ targets\ OK\ \| ]]
	run -0 ctl --json check
	jq -e '.status == "OK" and .code == 0 and (.targets | length) == 2 and
	    .targets[0].target == "main" and .targets[0].warning == "4" and
	    .targets[1].critical == "300" and .targets[1].position_bytes == null and
	    (.targets[0].position_bytes | test("^[0-9]+$")) and
	    .targets[0].muted == null' <<<"$output"
}

@test "MASTER_DELAY: the daemon's thresholds by default, -w/-c both ways, the worst target wins" {
	healthy
	sqlr "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 8; START SLAVE"
	wait_state main lag_critical 40
	run -2 ctl check main
	[[ $output =~ ^REPLWATCH\ CRITICAL:\ main\ lag_critical,\ lag\ ${LAG}s\ \(heartbeat\):\ .+\ \|\ lag=${LAG}s\;4\;6\;0\  ]]
	# Ranges judge the lag: stricter ...
	run -1 ctl check main -w '~:1' -c '~:3600'
	[[ $output == *", outside the warning range ~:1: "* ]]
	run -2 ctl check main -w '~:1' -c '~:2'
	[[ $output == *", outside the critical range ~:2: "* ]]
	# ... or looser than the daemon.
	run -0 ctl check main -w 3600 -c 7200
	[[ $output =~ ^REPLWATCH\ OK:\ main\ lag_critical,\ lag\ ${LAG}s\ \(heartbeat\):\ .+\ \|\ lag=${LAG}s\;3600\;7200\;0\  ]]
	# twin watches the same replica with 30/300: OK, so main decides.
	run -2 ctl check
	[[ $output =~ ^REPLWATCH\ CRITICAL:\ main\ lag_critical,.*\;\ 1\ of\ 2\ targets\ OK\ \| ]]
	sqlr "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE"
	wait_state main ok 40
}

# -- no verdict: UNKNOWN --

@test "no daemon socket: UNKNOWN, exit 3" {
	run -3 --separate-stderr "$CTL_BIN" -s "$BATS_TEST_TMPDIR/none.sock" check main
	[ "$output" = "REPLWATCH UNKNOWN: cannot connect to $BATS_TEST_TMPDIR/none.sock: No such file or directory (is replwatchd running?)" ]
	run -3 --separate-stderr "$CTL_BIN" -s "$BATS_TEST_TMPDIR/none.sock" --json check
	jq -e '.status == "UNKNOWN" and .code == 3 and (.text | startswith("cannot connect"))' <<<"$output"
}

@test "-t: a socket that accepts but never answers is UNKNOWN 'timed out', exit 3" {
	local stub=$BATS_TEST_TMPDIR/mute.sock
	# Reads the request, never writes a byte back.
	socat -u "UNIX-LISTEN:$stub,fork" OPEN:/dev/null 3>&- &
	STUB_PID=$!
	wait_until 5 test -S "$stub"
	run -3 "$CTL_BIN" -s "$stub" check main -t 0.5
	[ "$output" = "REPLWATCH UNKNOWN: timed out after 0.5 s (-t) waiting for the daemon on $stub" ]
	# The global reply timeout is longer: -t, the whole run, ends it.
	run -3 "$CTL_BIN" -s "$stub" --timeout 60 check --timeout=1 main
	[ "$output" = "REPLWATCH UNKNOWN: timed out after 1 s (-t) waiting for the daemon on $stub" ]
	run -3 "$CTL_BIN" -s "$stub" --json check -t 0.2
	jq -e '.status == "UNKNOWN" and .code == 3 and .perfdata == "" and (.text | startswith("timed out after 0.2 s"))' <<<"$output"
}

@test "-t does not fire on a check that answers in time" {
	healthy
	run -0 ctl check main -t 20
	[[ $output == "REPLWATCH OK: main ok, lag "* ]]
}

@test "a target the daemon does not watch: UNKNOWN with its error" {
	run -3 --separate-stderr ctl check nosuch
	[[ $output == "REPLWATCH UNKNOWN: "*"nosuch"* ]]
}

@test "malformed ranges and options: UNKNOWN, exit 3, with a usage message" {
	run -3 --separate-stderr ctl check main -w 10:5
	[ "$output" = "REPLWATCH UNKNOWN: usage: -w '10:5': the start 10 is above the end 5" ]
	[[ $stderr == *"usage: replwatchctl check [-H TARGET | TARGET] [-w RANGE] [-c RANGE] [-t S] [-v] [-V]"* ]]
	run -3 --separate-stderr ctl check main --critical abc
	[[ $output == "REPLWATCH UNKNOWN: usage: --critical 'abc': not a range "* ]]
	run -3 --separate-stderr ctl check main -c ''
	[ "$output" = "REPLWATCH UNKNOWN: usage: -c '': must be 1 to 255 characters" ]
	run -3 --separate-stderr ctl check main -w 1e3
	[[ $output == "REPLWATCH UNKNOWN: usage: -w '1e3': not a range "* ]]
	run -3 --separate-stderr ctl check main -t 0
	[ "$output" = "REPLWATCH UNKNOWN: usage: -t '0': not a number of seconds above 0 to 86400" ]
	run -3 --separate-stderr ctl check main -t 90000
	[ "$output" = "REPLWATCH UNKNOWN: usage: -t '90000': not a number of seconds above 0 to 86400" ]
	run -3 --separate-stderr ctl check main -w
	[ "$output" = "REPLWATCH UNKNOWN: usage: option '-w' needs a value" ]
	run -3 --separate-stderr ctl check main -x
	[ "$output" = "REPLWATCH UNKNOWN: usage: unknown option '-x'" ]
}

@test "-V and -h: version and help, exit 0" {
	run -0 ctl check -V
	[[ $output == "replwatchctl "*" (protocol "*")" ]]
	run -0 ctl check -h
	[[ $output == *"-w, --warning R"* && $output == *"-t, --timeout S"* ]]
}

# -- a muted target --

# replwatchctl mute on the real daemon: check answers OK and says what it
# would be; unmute, and the same target is CRITICAL again.
@test "muted: exit 0, 'muted until ...: would be STATUS: ...', the mute in --json; unmuted: CRITICAL" {
	healthy
	sqlr "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 15
	run -2 ctl check main
	run -0 ctl mute main --for 1h --reason maintenance
	local until_ms until_local
	until_ms=$(status_json main | jq -r '.muted.until_unix_ms')
	until_local=$(date -d "@$((until_ms / 1000)).$(printf %03d $((until_ms % 1000)))" '+%Y-%m-%dT%H:%M:%S.%3N%:z')
	run -0 ctl check main
	[[ $output =~ ^REPLWATCH\ OK:\ main\ muted\ until\ ${until_local//+/\\+}:\ would\ be\ CRITICAL:\ sql_stopped,\ lag\ [^|]+\|\ lag=(${LAG}s|U)\;4\;6\;0\ .*state=0$ ]]
	run -0 --separate-stderr ctl --json check main
	jq -e '.status == "OK" and .code == 0 and .severity == "CRITICAL" and
	    .muted.reason == "maintenance"' <<<"$output"
	# Every target: twin (the same replica, not muted) is CRITICAL alone.
	run -2 ctl check
	[[ $output == "REPLWATCH CRITICAL: "* && $output == *"main muted until"* &&
	    $output == *"twin sql_stopped"* && $output == *"0 of 2 targets OK"* ]]
	run -0 ctl unmute main
	run -2 ctl check main
	[[ $output == "REPLWATCH CRITICAL: main sql_stopped"* ]]
}
