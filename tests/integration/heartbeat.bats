#!/usr/bin/env bats
# heartbeat = read: lag from the table that the real pt-heartbeat --update
# (Debian's percona-toolkit) writes on the master, in UTC (--utc, what its
# documentation recommends) or in the local time of the host it runs on.
# The sandbox's master runs at UTC-5 and the replica in UTC, as RDS does:
# neither server's clock or zone may enter the figure.

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	command -v pt-heartbeat >/dev/null || skip "pt-heartbeat not installed (make deps)"
	sandbox_up --flavor rds-mysql --replicate
	# Replicates, so the table pt-heartbeat creates exists on both.
	sql_master "CREATE DATABASE percona"
	# The admin user may read it on the replica, as on RDS a monitor would.
	sql_replica "GRANT SELECT ON percona.* TO admin"
}

teardown() {
	beat_stop
	daemon_stop_all
	unset TZ
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# pt-heartbeat --update [--utc] on the master, every 0.2 s, as master root.
beat() {
	local cnf
	cnf=$(sandbox_cnf master root)
	# A fresh table each test: no row of an earlier writer may be read.
	sql_master "DROP TABLE IF EXISTS percona.heartbeat"
	wait_until 10 table_gone
	rm -f "$BATS_TEST_TMPDIR/sentinel"
	pt-heartbeat --defaults-file="$cnf" --database percona --create-table \
	    --update --interval 0.2 --sentinel "$BATS_TEST_TMPDIR/sentinel" "$@" \
	    >"$BATS_TEST_TMPDIR/pt-heartbeat.log" 2>&1 &
	BEAT_PID=$!
}

beat_stop() {
	[[ -n ${BEAT_PID:-} ]] || return 0
	kill "$BEAT_PID" 2>/dev/null || true
	wait "$BEAT_PID" 2>/dev/null || true
	BEAT_PID=
}

hb_ms() { status_json main | jq '.lag.heartbeat_ms // -1'; }
from_heartbeat() { [[ $(status_json main | jq -r .lag.source) == heartbeat ]]; }
hb_at_least() { (($(hb_ms) >= $1)); }
table_gone() { [[ -z $(sql_replica "SHOW TABLES FROM percona LIKE 'heartbeat'") ]]; }
# The row pt-heartbeat wrote has reached the replica.
row_replicated() { [[ -n $(sql_replica "SELECT ts FROM percona.heartbeat WHERE server_id = 1") ]]; }

@test "heartbeat = read follows pt-heartbeat --utc, and grows when its writer stops" {
	beat --utc
	wait_until 10 row_replicated
	daemon_start 'heartbeat = read' 'heartbeat_table = percona.heartbeat' \
	    'heartbeat_server_id = 1' 'interval_ms = 250'
	wait_until 10 from_heartbeat
	local json
	json=$(status_json main)
	jq -e '.state == "ok" and .lag.heartbeat_ms >= 0 and .lag.heartbeat_ms < 2000' <<<"$json"
	beat_stop
	# No writer: the newest row ages, whatever Seconds_Behind_Master says.
	wait_until 10 hb_at_least 2000
	jq -e '.lag.seconds_behind_master == 0' <<<"$(status_json main)"
}

@test "heartbeat_time_zone = local reads pt-heartbeat without --utc in the writer's zone" {
	# The writer and the daemon share the ops host's zone, 5 h west of
	# UTC: read as UTC, the row would look 5 h old.
	export TZ=EST5
	beat
	wait_until 10 row_replicated
	local ts
	ts=$(sql_replica "SELECT ts FROM percona.heartbeat WHERE server_id = 1")
	(( $(date +%s) - $(TZ=UTC0 date -d "${ts/T/ }" +%s) > 4 * 3600 ))
	daemon_start 'heartbeat = read' 'heartbeat_table = percona.heartbeat' \
	    'heartbeat_server_id = 1' 'heartbeat_time_zone = local' 'interval_ms = 250'
	wait_until 10 from_heartbeat
	jq -e '.state == "ok" and .lag.heartbeat_ms >= 0 and .lag.heartbeat_ms < 2000' <<<"$(status_json main)"
}

@test "heartbeat_time_zone = utc (the default) on that local-time table reports its 5 h" {
	export TZ=EST5
	beat
	wait_until 10 row_replicated
	daemon_start 'heartbeat = read' 'heartbeat_table = percona.heartbeat' \
	    'heartbeat_server_id = 1' 'interval_ms = 250'
	wait_until 10 from_heartbeat
	jq -e '.lag.heartbeat_ms > 4 * 3600 * 1000' <<<"$(status_json main)"
}
