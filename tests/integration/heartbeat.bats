#!/usr/bin/env bats
# heartbeat = read: lag from the table that the real pt-heartbeat --update
# (Debian's percona-toolkit) writes on the master, in UTC (--utc, what its
# documentation recommends) or in the local time of the host it runs on.
# heartbeat = write, the other way round: the table the daemon writes is
# read by the real pt-heartbeat --check and mysqld_exporter's heartbeat
# collector (Debian's prometheus-mysqld-exporter).
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
	exporter_stop
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

# --- heartbeat = write, read by the peers' tools --------------------------------

# The daemon's table, gone from both servers: each test starts without it.
hb_table_gone() { [[ -z $(sql_replica "SHOW TABLES FROM replwatch LIKE 'heartbeat'") ]]; }
drop_hb_table() {
	sql_master "DROP TABLE IF EXISTS replwatch.heartbeat"
	wait_until 10 hb_table_gone
}

# prometheus-mysqld-exporter on the replica, as the admin user, with the
# heartbeat collector on replwatch.heartbeat; extra flags in "$@".
exporter_start() {
	command -v prometheus-mysqld-exporter >/dev/null ||
		skip "prometheus-mysqld-exporter not installed (make deps)"
	EXP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	prometheus-mysqld-exporter --config.my-cnf="$(sandbox_cnf replica admin)" \
	    --web.listen-address="127.0.0.1:$EXP_PORT" --collect.heartbeat \
	    --collect.heartbeat.database=replwatch \
	    --collect.heartbeat.table=heartbeat "$@" \
	    >"$BATS_TEST_TMPDIR/exporter.log" 2>&1 &
	EXP_PID=$!
	wait_until 10 scrape
}

exporter_stop() {
	[[ -n ${EXP_PID:-} ]] || return 0
	kill "$EXP_PID" 2>/dev/null || true
	wait "$EXP_PID" 2>/dev/null || true
	EXP_PID=
}

scrape() { curl -sf "http://127.0.0.1:$EXP_PORT/metrics" >"$BATS_TEST_TMPDIR/scrape"; }
# A sample's value from the last scrape.
sample() { awk -v m="$1" '$1 == m { print $2 }' "$BATS_TEST_TMPDIR/scrape"; }

@test "heartbeat = write fills pt-heartbeat's table: pt-heartbeat --check and mysqld_exporter read it" {
	drop_hb_table
	daemon_start --master 'heartbeat = write' 'interval_ms = 250'
	wait_until 15 from_heartbeat
	jq -e '.state == "ok" and .lag.heartbeat_ms >= 0 and .lag.heartbeat_ms < 2000' <<<"$(status_json main)"
	# pt-heartbeat's columns, replicated; the row is the master's server_id.
	run -0 sql_replica "SELECT column_name FROM information_schema.columns
	    WHERE table_schema = 'replwatch' AND table_name = 'heartbeat' ORDER BY ordinal_position"
	[ "$(tr '\n' ' ' <<<"$output")" = "ts server_id file position relay_master_log_file exec_master_log_pos " ]
	run -0 sql_replica "SELECT server_id, ts, file, position FROM replwatch.heartbeat"
	[ "${#lines[@]}" -eq 1 ]
	[[ $output =~ ^1$'\t'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$'\t'master-bin\.[0-9]+$'\t'[0-9]+$ ]]
	# ts is UTC (pt-heartbeat --utc's form): within a minute of our clock.
	local ts
	ts=$(cut -f2 <<<"$output")
	(( ${EPOCHSECONDS} - $(TZ=UTC0 date -d "${ts/T/ }" +%s) < 60 ))

	# pt-heartbeat finds the master's server_id itself, or is told.
	run -0 pt-heartbeat --defaults-file="$(sandbox_cnf replica root)" \
	    --database replwatch --check --utc --master-server-id 1
	[[ $output =~ ^[0-9]+\.[0-9]{2}$ ]]
	awk -v l="$output" 'BEGIN { exit !(l >= 0 && l < 5) }'

	# mysqld_exporter, as the replica (UTC, as RDS) is: both flag settings
	# agree there, and the stored time is the real one.
	local flag now stored
	for flag in "" --collect.heartbeat.utc; do
		exporter_start ${flag:+"$flag"}
		scrape
		[ "$(sample mysql_up)" = 1 ]
		[ "$(sample mysql_exporter_last_scrape_error)" = 0 ]
		now=$(sample 'mysql_heartbeat_now_timestamp_seconds{server_id="1"}')
		stored=$(sample 'mysql_heartbeat_stored_timestamp_seconds{server_id="1"}')
		[ -n "$now" ]
		[ -n "$stored" ]
		awk -v n="$now" -v s="$stored" -v e="$EPOCHSECONDS" \
		    'BEGIN { exit !(n - s >= 0 && n - s < 5 && e - s < 60 && s - e < 60) }'
		exporter_stop
	done
	run ! grep -i 'level=error' "$BATS_TEST_TMPDIR/exporter.log"
}

hb_aged() { (( $(hb_ms) >= 3000 )); }
hb_fresh() { local ms; ms=$(hb_ms); (( ms >= 0 && ms < 2000 )); }

@test "heartbeat = write refused by the master: the applied row ages (no false 'caught up'), said once; fresh again after" {
	drop_hb_table
	daemon_start --master 'heartbeat = write' 'interval_ms = 250'
	wait_until 15 from_heartbeat
	wait_until 10 hb_fresh
	# REPLACE runs BEFORE INSERT triggers: every write of the row fails
	# (1644) and nothing reaches the binlog, as a dropped grant would.
	sql_master "CREATE TRIGGER replwatch.hb_refuse BEFORE INSERT ON replwatch.heartbeat
	    FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'"
	wait_until 20 hb_aged
	jq -e '.lag.source == "heartbeat" and .master.connected' <<<"$(status_json main)"
	run -0 grep -c 'heartbeat write on the old master failed: .*refused by the test' "$DAEMON_LOG"
	[ "$output" = 1 ]
	sql_master "DROP TRIGGER replwatch.hb_refuse"
	wait_until 20 hb_fresh
}

@test "heartbeat_time_zone = local writes the local time, as pt-heartbeat without --utc" {
	drop_hb_table
	export TZ=EST5
	daemon_start --master 'heartbeat = write' 'heartbeat_time_zone = local' \
	    'interval_ms = 250'
	wait_until 15 from_heartbeat
	jq -e '.lag.heartbeat_ms >= 0 and .lag.heartbeat_ms < 2000' <<<"$(status_json main)"
	local ts
	ts=$(sql_replica "SELECT ts FROM replwatch.heartbeat WHERE server_id = 1")
	(( ${EPOCHSECONDS} - $(TZ=UTC0 date -d "${ts/T/ }" +%s) > 4 * 3600 ))
	# pt-heartbeat without --utc reads it in its (the same) local time.
	run -0 pt-heartbeat --defaults-file="$(sandbox_cnf replica root)" \
	    --database replwatch --check --master-server-id 1
	awk -v l="$output" 'BEGIN { exit !(l >= 0 && l < 5) }'
}

@test "heartbeat = write on a table of replwatch's old layout: an event that names the fix, and heartbeat_layout = replwatch still uses it" {
	drop_hb_table
	sql_master "CREATE TABLE replwatch.heartbeat (source VARCHAR(64) NOT NULL
	    PRIMARY KEY, ts_us BIGINT NOT NULL, written DATETIME(6) NOT NULL) ENGINE=InnoDB"
	wait_until 10 bash -c '[[ -n $(mariadb --defaults-file="$1" -N -B -e "SHOW TABLES FROM replwatch LIKE '"'heartbeat'"'") ]]' _ "$(sandbox_cnf replica root)"
	daemon_start --master 'heartbeat = write' 'interval_ms = 250'
	wait_log 15 "heartbeat table replwatch.heartbeat is not in pt-heartbeat's layout"
	run -0 grep -c "not in pt-heartbeat's layout" "$DAEMON_LOG"
	[ "$output" = 1 ]
	grep -F "drop it on the master (DROP TABLE replwatch.heartbeat, which replicates)" "$DAEMON_LOG"
	grep -F "or set heartbeat_layout = replwatch" "$DAEMON_LOG"
	# No heartbeat, so the lag comes from Seconds_Behind_Master.
	wait_state main ok 10
	jq -e '.lag.source == "seconds_behind_master" and .lag.heartbeat_ms == null' <<<"$(status_json main)"
	daemon_stop

	daemon_start --master 'heartbeat = write' 'heartbeat_layout = replwatch' 'interval_ms = 250'
	wait_until 15 from_heartbeat
	[ "$(sql_replica "SELECT source FROM replwatch.heartbeat")" = main ]
	run ! grep "layout" "$DAEMON_LOG"
}
