#!/usr/bin/env bats
# replwatchctl's text output, command by command, for one target and for
# all of them, against the real replwatchd watching two targets: "main", a
# replicating rds-mysql sandbox replica, and "down", where nothing listens.
# The stable parts are matched exactly (the layout, words and units); only
# the figures that move (lags, pids, times) by pattern.

bats_require_minimum_version 1.5.0

load lib
load daemon

# Times: local, with the offset; TZ set so the offset is known.
TS='20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+05:30'
MS='[0-9]+ ms'

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
	sandbox_up --replicate
	printf '[client]\nuser=nobody\n' >"$BATS_FILE_TMPDIR/down.cnf"
	daemon_start --master 'lag_warn_s = 30' \
		'[target down]' 'host = 127.0.0.1' 'port = 1' \
		"option_file = $BATS_FILE_TMPDIR/down.cnf" 'interval_ms = 250' \
		'connect_timeout_ms = 500' 'query_timeout_ms = 500'
	wait_state main ok 20
	wait_state down unreachable 20
}

setup() {
	export NO_COLOR=1 LC_ALL=C TZ=IST-5:30
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# match REGEX TEXT: the whole of TEXT matches (with a message when not).
match() {
	[[ $2 =~ ^$1$ ]] || {
		printf 'no match:\n  want /%s/\n  got  %q\n' "$1" "$2" >&2
		return 1
	}
}

@test "hello" {
	run -0 --separate-stderr ctl hello
	[ "${#lines[@]}" -eq 3 ]
	match "replwatchd [0-9][^ ]*, protocol 1, pid $DAEMON_PID, up [0-9]+(s|m[0-9]{2}s)" "${lines[0]}"
	[ "${lines[1]}" = "targets: main down" ]
	[ "${lines[2]}" = "admin: yes, this user may run admin commands" ]
}

@test "status TARGET: every line, in order" {
	run -0 --separate-stderr ctl status main
	match "main: ok - replicating.*   \(since $TS, [0-9]+(s|m[0-9]{2}s)\)" "${lines[0]}"
	match "  lag        $MS \((heartbeat|seconds_behind_master|position)\)   seconds_behind_master [0-9]+(   heartbeat $MS)?   position ([0-9]+ bytes|-)" "${lines[1]}"
	[ "${lines[2]}" = "  threads    io Yes   sql Yes" ]
	match "  master     127\.0\.0\.1:$MASTER_PORT   read [^ ]+\.[0-9]{6}:[0-9]+   exec [^ ]+\.[0-9]{6}:[0-9]+.*" "${lines[3]}"
	[ "${lines[4]}" = "  errors     -" ]
	match "  server     127\.0\.0\.1:$REPLICA_PORT rds-[a-z]+ [^ ]+, connected, TLS (on \([^)]+\)|off), read_only ON" "${lines[5]}"
	match "  master db  127\.0\.0\.1:$MASTER_PORT, connected, at [^ ]+\.[0-9]{6}:[0-9]+(, gtid [^,]+)?, read_only OFF" "${lines[6]}"
	match "  history    1m min/avg/p95/max [0-9./]+ ms   5m .*   15m .*" "${lines[7]}"
	match "  polls      [0-9]+ ok, 0 failed, last [0-9.]+ ms \([0-9]+s ago\), every 250 ms" "${lines[8]}"
	[ "${#lines[@]}" -eq 9 ]

	run -0 --separate-stderr ctl status down
	match "down: unreachable - .*   \(since $TS, [0-9]+(s|m[0-9]{2}s)\)" "${lines[0]}"
	[ "${lines[1]}" = "  lag        unknown   seconds_behind_master -   position -" ]
	[ "${lines[2]}" = "  threads    -" ]
	match "  server     127\.0\.0\.1:1 [^ ]+ -, not connected, TLS off, read_only unknown, error: .*" "${lines[3]}"
}

@test "status: a table of every target" {
	run -0 --separate-stderr ctl status
	[ "${#lines[@]}" -eq 3 ]
	match "TARGET  STATE        LAG +SOURCE +IO   SQL  SINCE +REASON" "${lines[0]}"
	match "main    ok           $MS +[a-z_]+ +Yes  Yes  [0-9]+(s|m[0-9]{2}s) +replicating.*" "${lines[1]}"
	match "down    unreachable  - +none +-    -    [0-9]+(s|m[0-9]{2}s) +.+" "${lines[2]}"
}

@test "lag TARGET and lag: aligned columns, never run together" {
	run -0 --separate-stderr ctl lag main
	match "main  ok  lag $MS \([a-z_]+\)   seconds_behind_master [0-9]+(   heartbeat $MS)?(   position [0-9]+ bytes)?" "$output"
	run -0 --separate-stderr ctl lag down
	[ "$output" = "down  unreachable  lag unknown   seconds_behind_master -" ]
	run -0 --separate-stderr ctl lag
	[ "${#lines[@]}" -eq 2 ]
	match "main  ok           lag $MS \([a-z_]+\)   seconds_behind_master [0-9]+.*" "${lines[0]}"
	[ "${lines[1]}" = "down  unreachable  lag unknown   seconds_behind_master -" ]
}

@test "history TARGET" {
	run -0 --separate-stderr ctl history main --samples 5
	[ "${lines[0]}" = "main: polled every 250 ms" ]
	# The windows: samples, and the unknown ones (a stop and start) if any.
	match "  1m +[0-9]+ samples( \([0-9]+ unknown\))?   min/avg/p95/max [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms" "${lines[1]}"
	match "  5m +[0-9]+ samples( \([0-9]+ unknown\))?   min/avg/p95/max .* ms" "${lines[2]}"
	match "  15m +[0-9]+ samples( \([0-9]+ unknown\))?   min/avg/p95/max .* ms" "${lines[3]}"
	[ "${lines[4]}" = "  last 5 samples, oldest first, lag in ms (-: unknown):" ]
	match "    ([0-9]+|-) ([0-9]+|-) ([0-9]+|-) ([0-9]+|-) ([0-9]+|-)" "${lines[5]}"
	run -0 --separate-stderr ctl history down --samples 3
	match "  1m +[0-9]+ samples \([0-9]+ unknown\)   no known lag" "${lines[1]}"
	[ "${lines[5]}" = "    - - -" ]
}

@test "events TARGET and events: one line per change, local time with its offset" {
	run -0 --separate-stderr ctl events main
	match "$TS main unknown -> ok: replicating.*" "${lines[0]}"
	for l in "${lines[@]}"; do match "$TS main [a-z_]+ -> [a-z_]+(: .*)?" "$l"; done
	run -0 --separate-stderr ctl events
	[[ "$output" == *" main unknown -> ok"* && "$output" == *" down unknown -> unreachable"* ]]
	for l in "${lines[@]}"; do match "$TS (main|down) [a-z_]+ -> [a-z_]+(: .*)?" "$l"; done
}

@test "watch TARGET and watch: the current state, then samples" {
	run -124 --separate-stderr timeout 1.5 "$CTL_BIN" -s "$SOCK" watch main --samples
	match "$TS main is ok, lag $MS \([a-z_]+\): replicating.*" "${lines[0]}"
	match "$TS main sample ok, lag $MS" "${lines[1]}"
	run -124 --separate-stderr timeout 1.5 "$CTL_BIN" -s "$SOCK" watch
	[ "${#lines[@]}" -eq 2 ]
	match "$TS main is ok, lag $MS \([a-z_]+\): replicating.*" "${lines[0]}"
	match "$TS down is unreachable, lag unknown: .+" "${lines[1]}"
}

@test "check TARGET" {
	run -0 ctl check main
	match "REPLWATCH OK: main ok, lag [0-9.]+s \([a-z_]+\) \| lag=[0-9.]+s;30;[0-9]+;0 position_lag=[0-9]+B;;;0 state=0" "$output"
	run -2 ctl check down
	match "REPLWATCH CRITICAL: down unreachable, lag unknown: .* \| lag=U;30;[0-9]+;0 state=2" "$output"
}

@test "wait TARGET: caught up, or timed out with the state" {
	run -0 --separate-stderr ctl wait main --max-lag 60 --timeout 10
	match "main: caught up, lag $MS" "$output"
	run -2 --separate-stderr ctl wait down --max-lag 1 --timeout 0.5
	match "down: timed out after 0.5 s: unreachable, lag unknown \(.+\)" "$output"
}

@test "promote --dry-run TARGET: the steps, the report and the plan" {
	# The RDS replica's read_only is ON: preflight refuses...
	run -1 --separate-stderr ctl promote main --dry-run
	[ "${lines[0]}" = "  preflight  ..." ]
	match "  preflight  failed +[0-9.]+ (ms|s)  read_only is ON on the RDS replica .*" "${lines[1]}"
	match "main: aborted - preflight refused: read_only is ON on the RDS replica .*" "${lines[2]}"
	match "  steps           preflight failed after [0-9.]+ (ms|s)" "${lines[3]}"
	match "  time            $TS to $TS" "${lines[4]}"
	match "replwatchctl: precondition_failed: preflight refused: read_only is ON .*" "$stderr"
	# ...unless forced.
	run -0 --separate-stderr ctl promote main --dry-run --force
	match "  preflight  done +[0-9.]+ (ms|s)  .*" "${lines[1]}"
	[[ "$output" == *$'\nmain: dry run passed - '* ]]
	[[ "$output" == *$'\nplan (what a promotion would run):\n  on '* ]]
	[[ "$output" == *"  on replica  CALL mysql.rds_stop_replication()"* ]]
}

@test "abort and unfence TARGET with nothing to do: the daemon's refusal" {
	run -1 --separate-stderr ctl abort main
	match "replwatchctl: [a-z_]+: .+" "$stderr"
	[ -z "$output" ]
	run -1 --separate-stderr ctl unfence main
	match "replwatchctl: not_found: .+" "$stderr"
}

@test "stop, setup and start TARGET: the statement, the messages, the outcome" {
	run -0 --separate-stderr ctl stop main
	[ "${lines[0]}" = "main: CALL mysql.rds_stop_replication()" ]
	[ "${lines[-1]}" = "replication stopped" ]
	# The stop has returned: the threads are stopped, the position still.
	[ "$(replica_status Slave_SQL_Running)" = No ]
	file=$(replica_status Relay_Master_Log_File)
	pos=$(replica_status Exec_Master_Log_Pos)
	run -0 --separate-stderr ctl setup main --master-host 127.0.0.1 --master-port "$MASTER_PORT" \
		--repl-user repl --repl-password-file "$SB/repl.password" --binlog-file "$file" --binlog-pos "$pos"
	[ "${lines[0]}" = "main: CALL mysql.rds_set_external_master('127.0.0.1', $MASTER_PORT, 'repl', '***', '$file', $pos, 0)" ]
	[ "${lines[-1]}" = "replication configured, not started (replwatchctl start main)" ]
	[[ "$output$stderr" != *"$(<"$SB/repl.password")"* ]]
	run -0 --separate-stderr ctl start main
	[ "${lines[0]}" = "main: CALL mysql.rds_start_replication()" ]
	[ "${lines[-1]}" = "replication started" ]
	wait_state main ok 20
}

@test "reload" {
	run -0 --separate-stderr ctl reload
	[ "$output" = "configuration reloaded from $CONF: 2 target(s)" ]
}

@test "the same through --format tsv and --json, for both targets" {
	run -0 --separate-stderr ctl --format tsv status
	[ "${#lines[@]}" -eq 3 ]
	match $'main\tok\tOK\t[0-9]+\t[a-z_]+\tYes\tYes\t'"$TS"$'\treplicating.*' "${lines[1]}"
	match $'down\tunreachable\tCRITICAL\t\tnone\t\t\t'"$TS"$'\t.+' "${lines[2]}"
	run -0 --separate-stderr ctl --json lag
	jq -e '[.targets[].target] == ["main", "down"]' <<<"$output"
	run -1 --separate-stderr ctl --json status nope
	jq -e '.ok == false and .error.code == "unknown_target"' <<<"$stderr"
}
