#!/usr/bin/env bats
# heartbeat = read: lag from a pt-heartbeat table that something else writes
# on the master (here a loop standing in for pt-heartbeat --update).

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	sandbox_up --flavor rds-mysql --replicate
	sql_master "CREATE DATABASE percona;
	    CREATE TABLE percona.heartbeat (ts VARCHAR(26) NOT NULL,
	      server_id INT UNSIGNED NOT NULL PRIMARY KEY, file VARCHAR(255),
	      position BIGINT UNSIGNED, relay_master_log_file VARCHAR(255),
	      exec_master_log_pos BIGINT UNSIGNED)"
	# The admin user may read it on the replica, as on RDS a monitor would.
	sql_replica "GRANT SELECT ON percona.* TO admin"
}

teardown() {
	[[ -n ${BEAT_PID:-} ]] && { kill "$BEAT_PID" 2>/dev/null; wait "$BEAT_PID" 2>/dev/null; }
	daemon_stop_all
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# pt-heartbeat's row: its own timestamp format, keyed by the master's server_id.
beat() {
	while :; do
		sql_master "REPLACE INTO percona.heartbeat (ts, server_id)
		    VALUES (DATE_FORMAT(NOW(6), '%Y-%m-%dT%H:%i:%s.%f'), 1)" || true
		sleep 0.2
	done
}

hb_ms() { status_json main | jq '.lag.heartbeat_ms // -1'; }
from_heartbeat() { [[ $(status_json main | jq -r .lag.source) == heartbeat ]]; }
hb_at_least() { (($(hb_ms) >= $1)); }

@test "heartbeat = read follows a pt-heartbeat table, and grows when its writer stops" {
	beat &
	BEAT_PID=$!
	daemon_start 'heartbeat = read' 'heartbeat_table = percona.heartbeat' \
	    'heartbeat_server_id = 1' 'interval_ms = 250'
	wait_until 10 from_heartbeat
	local json
	json=$(status_json main)
	jq -e '.state == "ok" and .lag.heartbeat_ms < 2000' <<<"$json"
	kill "$BEAT_PID"; wait "$BEAT_PID" 2>/dev/null || true; BEAT_PID=
	# No writer: the newest row ages, whatever Seconds_Behind_Master says.
	wait_until 10 hb_at_least 2000
	jq -e '.lag.seconds_behind_master == 0' <<<"$(status_json main)"
}
