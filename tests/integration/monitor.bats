#!/usr/bin/env bats
# Monitoring end to end: the real replwatchd and replwatchctl against real
# sandbox servers (tests/sandbox), one pair per flavor, faults made for real
# (threads stopped as root, duplicate keys, servers shut down, SIGSTOP).
#
# One daemon (D1, started in setup_file) watches four sandboxes:
#   main          rds-mysql sandbox, with its master and heartbeat = write
#   rds-mysql-84  rds-mysql-84 sandbox
#   rds-mariadb   rds-mariadb sandbox (status only through the procedure)
#   mariadb       mariadb sandbox (native statements)
# Tests that need other thresholds start their own daemon (stopped in
# teardown).  Faults on a shared sandbox are undone by the test and again
# in teardown; the ones that cannot be undone cheaply (RESET SLAVE ALL)
# come last for their sandbox.  Every stopped server is SIGCONTed in
# teardown, whatever happened.

bats_require_minimum_version 1.5.0

load lib
load daemon

FLAVOR_LIST="rds-mysql rds-mysql-84 rds-mariadb mariadb"

setup_file() {
	local f dir rc=0
	local -A dirs=() pids=()
	for f in $FLAVOR_LIST; do
		dir=$(sandbox_new_dir)
		dirs[$f]=$dir
		# --fast-reconnect (connect retry and heartbeat 1 s, not RDS's 60 s
		# and slave_net_timeout/2): these tests stop and restart the
		# masters to see the daemon notice the failure and the recovery;
		# RDS's 60 s retry would only add a minute of idle waiting each.
		"$SANDBOX" up "$dir" --flavor "$f" --replicate --fast-reconnect >"$dir.up.log" 2>&1 3>&- &
		pids[$f]=$!
	done
	for f in $FLAVOR_LIST; do
		if ! wait "${pids[$f]}"; then
			echo "sandbox up --flavor $f failed:" >&2
			cat "${dirs[$f]}.up.log" >&2
			rc=1
		fi
	done
	((rc == 0)) || return 1
	S_MYSQL=${dirs[rds-mysql]} S_84=${dirs[rds-mysql-84]}
	S_MDB=${dirs[rds-mariadb]} S_MARIA=${dirs[mariadb]}
	export S_MYSQL S_84 S_MDB S_MARIA

	sandbox_use "$S_MYSQL"
	local -a extra=('heartbeat = write' 'connect_timeout_ms = 500'
		'query_timeout_ms = 500')
	for f in rds-mysql-84:$S_84 rds-mariadb:$S_MDB mariadb:$S_MARIA; do
		extra+=("[target ${f%%:*}]")
		mapfile -t -O "${#extra[@]}" extra < <(daemon_target_lines "${f#*:}")
		extra+=('interval_ms = 250' 'connect_timeout_ms = 500'
			'query_timeout_ms = 500')
	done
	daemon_start --master "${extra[@]}"
	D1_DIR=$DAEMON_DIR D1_SOCK=$SOCK D1_PID=$DAEMON_PID D1_LOG=$DAEMON_LOG
	export D1_DIR D1_SOCK D1_PID D1_LOG
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

setup() {
	# Every test starts with D1 as "the" daemon of the helpers.
	DAEMON_DIR=$D1_DIR SOCK=$D1_SOCK DAEMON_PID=$D1_PID DAEMON_LOG=$D1_LOG
	CONF=$D1_DIR/replwatch.conf
	WATCH_PID=""
}

teardown() {
	local dir name pid
	[[ -z $WATCH_PID ]] || kill "$WATCH_PID" 2>/dev/null || true
	for dir in $S_MYSQL $S_84 $S_MDB $S_MARIA; do
		for name in master replica; do
			pid=$(sb_pid "$dir" "$name")
			[[ -z $pid ]] || kill -CONT "$pid" 2>/dev/null || true
		done
	done
	# A daemon of the test's own.
	if [[ $DAEMON_DIR != "$D1_DIR" ]]; then
		daemon_stop || true
	fi
	# Undo thread faults on the shared mariadb sandbox (the password test
	# restores the binlog position itself, before the wrong password).
	if [[ $(slave_col "$S_MARIA" Last_IO_Errno) == 1045 ]]; then
		sqlr "$S_MARIA" "STOP SLAVE; CHANGE MASTER TO MASTER_PASSWORD='$(<"$S_MARIA/repl.password")'" || true
	fi
	sqlr "$S_MARIA" "START SLAVE" >/dev/null 2>&1 || true
	# The file's daemon must have survived the test.
	if [[ -s $D1_DIR/rc ]]; then
		echo "replwatchd (D1) died during this test, status $(<"$D1_DIR/rc"); log:" >&2
		tail -n 20 "$D1_LOG" >&2
		return 1
	fi
}

# --- helpers ------------------------------------------------------------------

# The running pid of a sandbox server (from its pid file: it changes when a
# test restarts the server).
sb_pid() {
	tr -dc 0-9 2>/dev/null <"$1/$2.pid" || true
}

sqlr() { mariadb --defaults-file="$1/replica-root.cnf" -N -B -e "$2"; }
sqlm() { mariadb --defaults-file="$1/master-root.cnf" -N -B -e "$2"; }

# One SHOW SLAVE STATUS column of the sandbox in DIR.
slave_col() {
	mariadb --defaults-file="$1/replica-root.cnf" -B -e 'SHOW SLAVE STATUS' |
		awk -F '\t' -v col="$2" '
			NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
			NR == 2 && c { print $c }'
}

server_answers() { mariadb --defaults-file="$1/$2-root.cnf" -N -B -e 'SELECT 1' >/dev/null 2>&1; }

# Shut a sandbox server down (SIGTERM, wait until gone).
stop_server() {
	local pid
	pid=$(sb_pid "$1" "$2")
	[[ -n $pid ]]
	kill -TERM "$pid"
	wait_until 20 process_gone "$pid"
}

# Start a sandbox server again as `sandbox up` does (same option file, own
# session, no bats descriptors); `sandbox down` finds it by its pid file.
start_server() {
	local dir=$1 name=$2
	(
		exec setsid /usr/sbin/mariadbd --defaults-file="$dir/$name.cnf" \
			</dev/null >>"$dir/$name.err" 2>&1 3>&- 4>&-
	) &
	printf '%s %s\n' "$name" "$!" >>"$dir/pids"
	wait_until 30 server_answers "$dir" "$name"
}

# A field of target T's status (jq filter F).
st() { status_json "$1" | jq -r "$2"; }

# watch_start FILE [ARGS]: stream `replwatchctl --json watch ARGS` to FILE.
watch_start() {
	local file=$1
	shift
	"$CTL_BIN" -s "$SOCK" --json watch "$@" >"$file" 2>&1 3>&- &
	WATCH_PID=$!
	# The first line is the current state: the watch is registered.
	wait_until 5 test -s "$file"
}

watch_stop() {
	kill -TERM "$WATCH_PID"
	wait "$WATCH_PID" || true
	WATCH_PID=""
}

# --- healthy replication, one test per flavor -----------------------------------

@test "rds-mysql: ok, lag 0, MariaDB with RDS procedures detected as rds-mariadb" {
	wait_state main ok 10
	# (read_only is null until the heartbeat table has reached the replica)
	wait_until 10 bash -c '[[ $("$CTL_BIN" -s "$SOCK" --json status main | jq -r .lag.source) == heartbeat ]]'
	run -0 status_json main
	jq -e '.state == "ok" and .target == "main"' <<<"$output"
	jq -e '.lag.ms != null and .lag.ms < 1000' <<<"$output"
	jq -e '.replication.configured and .replication.io_running == "Yes" and
	    .replication.sql_running == "Yes"' <<<"$output"
	jq -e '.replication.last_io_errno == 0 and .replication.last_sql_errno == 0' <<<"$output"
	jq -e '.server.flavor == "rds-mariadb" and .server.connected and
	    (.server.version | test("MariaDB"))' <<<"$output"
	jq -e '.server.status_sql == "SHOW REPLICA STATUS"' <<<"$output"
	jq -e --argjson p "$REPLICA_PORT" '.server.port == $p and .server.read_only == true' <<<"$output"
	jq -e --arg p "$MASTER_PORT" '.replication.master_port == $p' <<<"$output"
	# The master is configured: its position and a position lag.
	jq -e '.master.connected and (.master.log_file | test("^master-bin\\.")) and
	    (.master.log_pos | test("^[0-9]+$")) and .master.read_only == false' <<<"$output"
}

@test "rds-mysql-84: ok, lag 0, detected as rds-mariadb" {
	wait_state rds-mysql-84 ok 10
	run -0 status_json rds-mysql-84
	jq -e '.state == "ok" and .lag.ms == 0 and .lag.source == "seconds_behind_master"' <<<"$output"
	jq -e '.lag.seconds_behind_master == 0 and .lag.heartbeat_ms == null and .master == null' <<<"$output"
	jq -e '.replication.io_running == "Yes" and .replication.sql_running == "Yes"' <<<"$output"
	jq -e '.server.flavor == "rds-mariadb" and .server.status_sql == "SHOW REPLICA STATUS"' <<<"$output"
}

@test "rds-mariadb: ok through CALL mysql.rds_replica_status(), the admin's only way" {
	# The emulation is right: the admin user may not SHOW SLAVE STATUS there.
	run mariadb --defaults-file="$S_MDB/replica-admin.cnf" -e 'SHOW SLAVE STATUS'
	[ "$status" -ne 0 ]
	[[ $output == *1227* ]]
	wait_state rds-mariadb ok 10
	run -0 status_json rds-mariadb
	jq -e '.state == "ok" and .lag.ms == 0' <<<"$output"
	jq -e '.server.flavor == "rds-mariadb" and
	    .server.status_sql == "CALL mysql.rds_replica_status()"' <<<"$output"
	jq -e '.replication.io_running == "Yes" and .replication.sql_running == "Yes" and
	    .replication.master_host == "127.0.0.1"' <<<"$output"
}

@test "mariadb: ok, lag 0, detected as mariadb" {
	wait_state mariadb ok 10
	run -0 status_json mariadb
	jq -e '.state == "ok" and .lag.ms == 0 and .reason == "replicating, lag 0 ms (seconds_behind_master)"' <<<"$output"
	jq -e '.server.flavor == "mariadb" and .server.status_sql == "SHOW REPLICA STATUS"' <<<"$output"
	jq -e '.replication.io_running == "Yes" and .replication.sql_running == "Yes"' <<<"$output"
	jq -e '.polls.ok > 0 and .polls.interval_ms == 250 and .polls.consecutive_failures == 0' <<<"$output"
}

# --- the read commands -----------------------------------------------------------

@test "heartbeat = write: lag from the heartbeat, position lag from the master" {
	wait_until 10 bash -c '[[ $("$CTL_BIN" -s "$SOCK" --json status main | jq -r .lag.source) == heartbeat ]]'
	run -0 status_json main
	jq -e '.lag.source == "heartbeat" and .lag.heartbeat_ms != null and
	    .lag.heartbeat_ms < 1000 and .lag.ms == .lag.heartbeat_ms' <<<"$output"
	jq -e '.reason | test("\\(heartbeat\\)")' <<<"$output"
	jq -e '.lag.position_bytes | test("^[0-9]+$")' <<<"$output"
	# The daemon's table on the master, replicated: pt-heartbeat's row of
	# the master's server_id.
	run -0 sqlr "$S_MYSQL" "SELECT server_id FROM replwatch.heartbeat"
	[ "$output" = 1 ]
}

@test "lag, history and events answer as doc/PROTOCOL.md says" {
	wait_state main ok 10
	# At least 8 samples in the ring (2 s at 250 ms).
	wait_until 10 bash -c '(( $("$CTL_BIN" -s "$SOCK" --json status main | jq .polls.ok) >= 8 ))'
	run -0 ctl --json lag main
	jq -e 'keys == ["lag", "state", "target"] and .target == "main" and .state == "ok"' <<<"$output"
	jq -e '.lag | keys == ["apply_bytes_per_s", "heartbeat_ms", "ms", "position_bytes", "seconds_behind_master", "source"]' <<<"$output"
	run -0 ctl --json lag
	jq -e '[.targets[].target] == ["main", "rds-mysql-84", "rds-mariadb", "mariadb"]' <<<"$output"
	jq -e 'all(.targets[]; .lag.ms != null)' <<<"$output"

	run -0 ctl --json history main --samples 5
	jq -e '.target == "main" and .interval_ms == 250' <<<"$output"
	jq -c .windows <<<"$output"
	jq -e '.windows | keys == ["15m", "1m", "5m"]' <<<"$output"
	jq -e '.windows["1m"].samples > 4 and .windows["1m"].unknown == 0 and
	    .windows["1m"].max_ms < 1000 and .windows["1m"].min_ms <= .windows["1m"].p95_ms' <<<"$output"
	jq -e '.samples | length == 5' <<<"$output"
	# Oldest first: time goes up, age goes down.
	jq -e '[.samples[].t_ms] | . == sort' <<<"$output"
	jq -e '[.samples[].age_ms] | . == (sort | reverse)' <<<"$output"
	jq -e 'all(.samples[]; (.lag_ms | type) == "number" and .age_ms >= 0)' <<<"$output"
	run -0 ctl --json history main --samples 1000000
	jq -e '(.samples | length) >= 8 and (.samples | length) <= .windows["15m"].samples + 1' <<<"$output"
	run -0 rw_raw '{"id": 1, "cmd": "history", "target": "main", "samples": 0}'
	jq -e '.result.samples == [] and .result.target == "main"' <<<"$output"

	run -0 ctl --json events main
	jq -e '.events[0] | .seq == 1 and .from == "unknown" and .to == "ok" and
	    .target == "main" and (.ts | test("^20[0-9-]+T[0-9:.]+Z$")) and
	    (.ts_unix_ms | type) == "number"' <<<"$output"
	run -0 ctl --json events
	jq -e '[.events[] | select(.from == "unknown") | .target] | sort ==
	    ["main", "mariadb", "rds-mariadb", "rds-mysql-84"]' <<<"$output"
	jq -e '[.events[].ts_unix_ms] | . == sort' <<<"$output"
	run -0 ctl --json events --max 1
	jq -e '.events | length == 1' <<<"$output"
}

# --- faults on the mariadb sandbox (each undone at the end) -----------------------

@test "IO thread stopped: io_stopped for that target only, and watch streams the change" {
	local f=$BATS_TEST_TMPDIR/watch t
	for t in main rds-mysql-84 rds-mariadb mariadb; do
		wait_state "$t" ok 10
	done
	watch_start "$f" mariadb
	sqlr "$S_MARIA" "STOP SLAVE IO_THREAD"
	wait_state mariadb io_stopped 5
	run -0 status_json mariadb
	jq -e '.reason == "IO thread stopped" and .replication.io_running == "No" and
	    .replication.sql_running == "Yes" and .lag.ms == null and .lag.source == "none"' <<<"$output"
	# The other targets did not move.
	for t in main rds-mysql-84 rds-mariadb; do
		[ "$(state_of "$t")" = ok ]
	done
	run -0 ctl --json events rds-mariadb
	jq -e '[.events[].to] == ["ok"]' <<<"$output"
	wait_until 5 grep -q '"change"' "$f"
	watch_stop
	# The first event: the current state (a whole target object); then
	# the change.
	cat "$f"
	jq -se '.[0] | .type == "state" and .target == "mariadb" and .state == "ok" and
	    .replication.io_running == "Yes"' "$f"
	jq -se '[.[] | select(.type == "change")] | length == 1' "$f"
	jq -se '[.[] | select(.type == "change")][0] |
	    .from == "ok" and .to == "io_stopped" and .target == "mariadb" and
	    .reason == "IO thread stopped" and (.seq | type) == "number" and
	    (.ts_unix_ms | type) == "number"' "$f"
	# Only the watched target, and no samples unless asked for.
	jq -se 'all(.[]; .target == "mariadb" and .type != "sample")' "$f"

	sqlr "$S_MARIA" "START SLAVE IO_THREAD"
	wait_state mariadb ok 10
}

@test "check exits 0 on ok and 2 on io_stopped; with --json it still answers" {
	wait_state mariadb ok 10
	run -0 ctl check mariadb
	[[ $output == *"OK"* ]]
	sqlr "$S_MARIA" "STOP SLAVE IO_THREAD"
	wait_state mariadb io_stopped 5
	run -2 ctl check mariadb
	[[ $output == *CRITICAL* && $output == *io_stopped* ]]
	sqlr "$S_MARIA" "START SLAVE IO_THREAD"
	wait_state mariadb ok 10
	run -0 ctl check mariadb
}

@test "SQL thread stopped: sql_stopped; wait --max-lag exits 0 when healthy, 2 when stopped" {
	wait_state mariadb ok 10
	run -0 timeout 15 "$CTL_BIN" -s "$SOCK" wait mariadb --max-lag 1 --timeout 10
	sqlr "$S_MARIA" "STOP SLAVE SQL_THREAD"
	wait_state mariadb sql_stopped 5
	run -0 status_json mariadb
	jq -e '.reason == "SQL thread stopped" and .replication.sql_running == "No" and
	    .replication.io_running == "Yes" and .lag.seconds_behind_master == null' <<<"$output"
	run -2 timeout 10 "$CTL_BIN" -s "$SOCK" wait mariadb --max-lag 1 --timeout 2
	sqlr "$S_MARIA" "START SLAVE SQL_THREAD"
	wait_state mariadb ok 10
}

@test "duplicate key on the replica: sql_error with 1062 and the server's text" {
	wait_state mariadb ok 10
	sqlr "$S_MARIA" "SET sql_log_bin = 0; INSERT INTO app.items (id, name, qty) VALUES (90001, 'replica-only', 1)"
	sqlm "$S_MARIA" "INSERT INTO app.items (id, name, qty) VALUES (90001, 'from-master', 2)"
	wait_state mariadb sql_error 10
	run -0 status_json mariadb
	jq -e '.replication.last_sql_errno == 1062 and .replication.sql_running == "No"' <<<"$output"
	jq -e '.reason | test("1062") and test("Duplicate entry")' <<<"$output"
	run -0 ctl --json events mariadb
	jq -e '.events[-1].to == "sql_error" and (.events[-1].reason | test("1062"))' <<<"$output"
	# Undo: the master's row wins.
	sqlr "$S_MARIA" "SET sql_log_bin = 0; DELETE FROM app.items WHERE id = 90001; START SLAVE SQL_THREAD"
	wait_state mariadb ok 10
	[ "$(sqlr "$S_MARIA" "SELECT name FROM app.items WHERE id = 90001")" = from-master ]
}

@test "IO thread gives up (binlog gone, 1236): io_error; wrong password retries (io_connecting, 1045)" {
	wait_state mariadb ok 10
	local file pos
	file=$(slave_col "$S_MARIA" Relay_Master_Log_File)
	pos=$(slave_col "$S_MARIA" Exec_Master_Log_Pos)
	sqlr "$S_MARIA" "STOP SLAVE; CHANGE MASTER TO MASTER_LOG_FILE='master-bin.000999', MASTER_LOG_POS=4; START SLAVE"
	wait_state mariadb io_error 10
	run -0 status_json mariadb
	jq -e '.replication.io_running == "No" and .replication.last_io_errno == 1236' <<<"$output"
	jq -e '.reason | test("^IO thread: error 1236: ")' <<<"$output"

	# MariaDB keeps retrying a refused login: the thread says Connecting.
	sqlr "$S_MARIA" "STOP SLAVE; CHANGE MASTER TO MASTER_LOG_FILE='$file', MASTER_LOG_POS=$pos, MASTER_PASSWORD='wrong-$RANDOM'; START SLAVE"
	# (Connecting without an error first, then with 1045.)
	wait_until 10 bash -c '[[ $("$CTL_BIN" -s "$SOCK" --json status mariadb | jq .replication.last_io_errno) == 1045 ]]'
	run -0 status_json mariadb
	jq -e '.state == "io_connecting"' <<<"$output"
	jq -e '.replication.io_running == "Connecting" and .replication.last_io_errno == 1045' <<<"$output"
	jq -e '.reason | test("error 1045") and test("Access denied")' <<<"$output"

	sqlr "$S_MARIA" "STOP SLAVE; CHANGE MASTER TO MASTER_PASSWORD='$(<"$S_MARIA/repl.password")'; START SLAVE"
	wait_state mariadb ok 10
}

# --- heartbeat against a frozen master (rds-mysql sandbox, target main) ----------

@test "master SIGSTOPped: heartbeat lag grows while seconds_behind_master stays 0" {
	wait_until 10 bash -c '[[ $("$CTL_BIN" -s "$SOCK" --json status main | jq -r .lag.source) == heartbeat ]]'
	kill -STOP "$(sb_pid "$S_MYSQL" master)"
	local json="" i
	for ((i = 0; i < 40; i++)); do
		json=$(status_json main)
		jq -e '.lag.heartbeat_ms >= 1000' <<<"$json" >/dev/null && break
		sleep 0.1
	done
	# The replica has not noticed (its IO thread still says Yes): only
	# the heartbeat shows the master is gone quiet.
	jq -e '.lag.source == "heartbeat" and .lag.heartbeat_ms >= 1000 and .lag.ms >= 1000' <<<"$json"
	jq -e '.lag.seconds_behind_master == 0 and .replication.io_running == "Yes"' <<<"$json"
	sleep 1
	run -0 status_json main
	jq -e --argjson before "$(jq .lag.heartbeat_ms <<<"$json")" '.lag.heartbeat_ms > $before' <<<"$output"
	kill -CONT "$(sb_pid "$S_MYSQL" master)"
	wait_until 15 bash -c '(( $("$CTL_BIN" -s "$SOCK" --json status main | jq ".lag.heartbeat_ms // 99999") < 1000 ))'
}

# --- lag with MASTER_DELAY, thresholds and hysteresis (rds-mysql-84 sandbox) ------

@test "MASTER_DELAY: lagging then lag_critical, each only after hysteresis samples" {
	local f=$BATS_TEST_TMPDIR/watch
	sandbox_use "$S_84"
	daemon_start --master 'heartbeat = write' 'lag_warn_s = 1' 'lag_crit_s = 4' 'hysteresis = 3'
	wait_until 10 bash -c '[[ $("$CTL_BIN" -s "$SOCK" --json status main | jq -r .lag.source) == heartbeat ]]'
	wait_state main ok 5
	watch_start "$f" --samples main
	sqlr "$S_84" "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 8; START SLAVE"
	# The heartbeat written every 250 ms now lands 8 s late: the lag
	# climbs, one interval per sample, past 1 s (warn) and 4 s (crit).
	wait_state main lag_critical 15
	run -0 status_json main
	jq -e '.lag.ms >= 4000 and .lag.source == "heartbeat" and .replication.sql_delay == 8' <<<"$output"
	jq -e '.reason | test("critical at 4000 ms") and test("delayed replica: SQL_Delay 8 s")' <<<"$output"
	jq -e '.thresholds == {"lag_warn_ms": 1000, "lag_crit_ms": 4000, "hysteresis": 3}' <<<"$output"
	watch_stop
	jq -c '[.type, .state // "\(.from)->\(.to)", .lag_ms]' "$f"

	# Both states were reached, lagging first.
	run -0 jq -se '[.[] | select(.type == "change") | .to]' "$f"
	jq -e 'index("lagging") != null and index("lag_critical") != null and
	    index("lagging") < index("lag_critical")' <<<"$output"
	# A move between lag states waits for 3 agreeing samples: before the
	# change event the stream holds at least 2 samples of the old state
	# whose lag already met the new threshold (the third one made the
	# change; it follows the event).  The move to lagging may come from
	# the restart's sql_stopped/io_connecting (such moves are immediate):
	# only a move from ok is judged.
	run -0 jq -se '
	    def before($to; $min):
	      reduce .[] as $e ({n: 0, res: null};
	        if .res != null then .
	        elif $e.type == "change" and $e.to == $to then
	          .res = {from: $e.from, n: .n}
	        elif $e.type == "sample" and ($e.lag_ms // -1) >= $min then .n += 1
	        elif $e.type == "sample" then .n = 0
	        else .n = 0 end) | .res;
	    [before("lagging"; 1000), before("lag_critical"; 4000)]' "$f"
	echo "$output"
	jq -e '.[1].from == "lagging" and .[1].n >= 2' <<<"$output"
	jq -e '.[0].from != "ok" or .[0].n >= 2' <<<"$output"

	sqlr "$S_84" "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE"
	wait_state main ok 15
}

# --- servers going away (rds-mariadb sandbox, target rds-mariadb of D1) ------------

@test "master shut down: io_connecting with error 2003; back to ok once it returns" {
	wait_state rds-mariadb ok 10
	stop_server "$S_MDB" master
	wait_state rds-mariadb io_connecting 10
	run -0 status_json rds-mariadb
	jq -e '.replication.io_running == "Connecting" and .replication.last_io_errno == 2003' <<<"$output"
	jq -e '.reason | test("^IO thread connecting to master 127\\.0\\.0\\.1:[0-9]+: error 2003")' <<<"$output"
	start_server "$S_MDB" master
	wait_state rds-mariadb ok 15
}

@test "replica SIGSTOPped: unresponsive within the deadlines, while status answers at once" {
	wait_state rds-mariadb ok 10
	kill -STOP "$(sb_pid "$S_MDB" replica)"
	wait_state rds-mariadb unresponsive 5
	run -0 timeout 2 "$CTL_BIN" -s "$SOCK" --timeout 1 --json status rds-mariadb
	jq -e '.state == "unresponsive" and (.reason | test("timed out after 500 ms"))' <<<"$output"
	jq -e '.polls.consecutive_failures >= 1 and .lag.ms == null' <<<"$output"
	# Every other target is still polled.
	run -0 timeout 2 "$CTL_BIN" -s "$SOCK" --timeout 1 --json status
	jq -c '[.targets[] | {target, state}]' <<<"$output"
	jq -e '[.targets[] | select(.target != "rds-mariadb") | .state] | all(. == "ok")' <<<"$output"
	local before
	before=$(st main .polls.ok)
	sleep 1
	(($(st main .polls.ok) >= before + 2))
	kill -CONT "$(sb_pid "$S_MDB" replica)"
	wait_state rds-mariadb ok 15
}

@test "replica shut down: unreachable; restarted: ok again" {
	wait_state rds-mariadb ok 10
	stop_server "$S_MDB" replica
	wait_state rds-mariadb unreachable 5
	run -0 status_json rds-mariadb
	jq -e '.reason | test("^cannot connect")' <<<"$output"
	jq -e '.server.connected == false and .replication != null' <<<"$output"
	start_server "$S_MDB" replica
	# The daemon backs off up to 5 s between failed polls.
	wait_state rds-mariadb ok 15
	run -0 ctl --json events rds-mariadb
	# From the shutdown on: ok -> unreachable, then a chain back to ok.  A
	# restarted replica may pass through a state on the way (its IO thread
	# still connecting when the first poll succeeds): the chain may have
	# more than one link, but each starts where the last ended.
	jq -e '[.events[] | [.from, .to]] as $e
		| ($e | rindex([["ok", "unreachable"]])) as $i
		| $i != null and ($e[$i + 1:] | length > 0
		  and .[0][0] == "unreachable" and .[-1][1] == "ok"
		  and ([range(1; length) as $k | .[$k][0] == .[$k - 1][1]] | all))' <<<"$output"
	jq -e '.events[-1].reason | test("^replicating")' <<<"$output"
}

@test "replication reset (STOP SLAVE; RESET SLAVE ALL): not_replicating" {
	wait_state rds-mariadb ok 10
	sqlr "$S_MDB" "STOP SLAVE; RESET SLAVE ALL"
	wait_state rds-mariadb not_replicating 5
	run -0 status_json rds-mariadb
	jq -e '.reason == "no replication configured" and .replication.configured == false' <<<"$output"
	jq -e '.lag.ms == null and .lag.source == "none"' <<<"$output"
	run -2 ctl check rds-mariadb
}

# --- configuration --------------------------------------------------------------

# conf_err NAME CONTENT: replwatchd -n on a file holding CONTENT must exit 1
# with "FILE:LINE: KEY: why"; prints the message.
bad_conf() {
	local file=$BATS_TEST_TMPDIR/$1.conf
	printf '%s\n' "$2" >"$file"
	run -1 "$DAEMON_BIN" -n -c "$file"
	echo "$output"
}

@test "replwatchd -n: broken files give file:line: key: why and exit 1" {
	local cnf=$BATS_TEST_TMPDIR/ok.cnf f=$BATS_TEST_TMPDIR
	printf '[client]\nuser=x\npassword=y\n' >"$cnf"
	chmod 600 "$cnf"
	local head="[daemon]
socket = $f/s
[target a]
host = 127.0.0.1
option_file = $cnf"
	# The good one first, so the failures below are the lines we broke.
	printf '%s\n' "$head" >"$f/good.conf"
	run -0 "$DAEMON_BIN" -n -c "$f/good.conf"
	[[ $output == *"configuration OK (1 target)"* ]]

	bad_conf port "$head
port = 70000"
	[[ $output == "$f/port.conf:6: port: 70000 is out of range (1..65535)" ]]
	bad_conf interval "$head
interval_ms = fast"
	[[ $output == "$f/interval.conf:6: interval_ms: \"fast\" is not a whole number" ]]
	bad_conf flavor "$head
flavor = oracle"
	[[ $output == "$f/flavor.conf:6: flavor: \"oracle\" is not one of "* ]]
	bad_conf unknownkey "$head
colour = blue"
	[[ $output == "$f/unknownkey.conf:6: colour: "* ]]
	bad_conf dup "$head
host = 127.0.0.2"
	[[ $output == "$f/dup.conf:6: host: duplicate key (first on line 4)" ]]
	bad_conf socket "[daemon]
socket = relative/path"
	[[ $output == "$f/socket.conf:2: socket: \"relative/path\" is not an absolute path" ]]
	bad_conf lag "$head
lag_warn_s = 10
lag_crit_s = 5"
	[[ $output == "$f/lag.conf:"[0-9]*": lag_crit_s: "* ]]
}

@test "an option file holding a password readable by its group is refused" {
	local cnf=$BATS_TEST_TMPDIR/grp.cnf
	printf '[client]\nuser=admin\npassword=secret\n' >"$cnf"
	chmod 640 "$cnf"
	bad_conf grp "[daemon]
socket = $BATS_TEST_TMPDIR/s
[target a]
host = 127.0.0.1
option_file = $cnf"
	[[ $output == "$BATS_TEST_TMPDIR/grp.conf:5: option_file: $cnf: holds a password but is readable by group or others (mode 0640); chmod 600 it" ]]
	# And the daemon will not start on it either.
	run -1 "$DAEMON_BIN" -c "$BATS_TEST_TMPDIR/grp.conf"
	[[ $output == *"holds a password"* ]]
	chmod 600 "$cnf"
	run -0 "$DAEMON_BIN" -n -c "$BATS_TEST_TMPDIR/grp.conf"
}

@test "SIGHUP with a broken file: the reason is logged and the old configuration kept" {
	sandbox_use "$S_MARIA"
	daemon_start 'lag_warn_s = 7'
	wait_state main ok 10
	cp "$CONF" "$DAEMON_DIR/good.conf"
	printf '[target extra]\nhost = 127.0.0.1\nport = nope\n' >>"$CONF"
	daemon_reload
	grep -E "reload refused, old configuration kept: $CONF:[0-9]+: port: \"nope\" is not a whole number" "$DAEMON_LOG"
	daemon_alive
	run -0 ctl --json hello
	jq -e '.targets == ["main"]' <<<"$output"
	run -0 status_json main
	jq -e '.state == "ok" and .thresholds.lag_warn_ms == 7000' <<<"$output"
	# Still polling.
	local before
	before=$(st main .polls.ok)
	wait_until 5 bash -c "(( \$(\"\$CTL_BIN\" -s \"\$SOCK\" --json status main | jq .polls.ok) > $before ))"
	# A good file is taken.
	sed 's/^lag_warn_s = 7$/lag_warn_s = 8/' "$DAEMON_DIR/good.conf" >"$CONF"
	daemon_reload
	wait_log 5 'reloaded: 1 target'
	run -0 status_json main
	jq -e '.thresholds.lag_warn_ms == 8000' <<<"$output"
	daemon_stop
}

@test "events of every target merge by time after many changes" {
	local t total=0 n
	for t in main rds-mysql-84 rds-mariadb mariadb; do
		n=$(ctl --json events "$t" | jq '.events | length')
		total=$((total + n))
	done
	# Enough changes, on several targets, to need a real merge.
	((total >= 12))
	run -0 ctl --json events
	jq -e --argjson n "$total" '.events | length == $n' <<<"$output"
	jq -e '[.events[].ts_unix_ms] | . == sort' <<<"$output"
	jq -e '[.events[].target] | unique | length == 4' <<<"$output"
	# Each target's events keep their order (seq rising).
	jq -e '[group_by(.target)[] | map(.seq) | . == sort] | all' <<<"$(jq .events <<<"$output")"
	run -0 ctl --json events --max 3
	jq -e --argjson all "$output" '.events | length == 3' <<<"$output"
	daemon_alive
}

# --- secrets -----------------------------------------------------------------------

@test "no password in the debug log, the status JSON or ps" {
	local dir f pw json ps n=0
	json=$(status_json; ctl --json events; ctl --json history main)
	ps=$(ps -eo args)
	[ -s "$D1_LOG" ]
	grep -q 'debug' "$D1_LOG"
	for dir in $S_MYSQL $S_84 $S_MDB $S_MARIA; do
		for f in "$dir"/*.cnf "$dir/repl.password"; do
			[[ $f == */master.cnf || $f == */replica.cnf ]] && continue
			if [[ $f == *.password ]]; then
				pw=$(<"$f")
			else
				pw=$(sed -n 's/^password=//p' "$f")
			fi
			[ -n "$pw" ]
			n=$((n + 1))
			if grep -rqF -- "$pw" "$D1_LOG" "$D1_DIR"/*.conf; then
				echo "password of $f found in the daemon's log or config" >&2
				return 1
			fi
			[[ $json != *"$pw"* ]] || { echo "password of $f in status JSON" >&2; return 1; }
			[[ $ps != *"$pw"* ]] || { echo "password of $f in ps output" >&2; return 1; }
		done
	done
	# 4 sandboxes x (6 option files of users + repl.password + repl-replica)
	((n >= 28))
}

@test "MYSQL_PWD given to the daemon is wiped from its environment (/proc/PID/environ)" {
	local pw="env-secret-$RANDOM$RANDOM" saved_pid=$DAEMON_PID saved_dir=$DAEMON_DIR saved_sock=$SOCK saved_conf=$CONF saved_log=$DAEMON_LOG
	export MYSQL_PWD=$pw
	daemon_start --offline
	unset MYSQL_PWD
	[[ -r /proc/$DAEMON_PID/environ ]]
	run ! grep -qF -- "$pw" "/proc/$DAEMON_PID/environ"
	run ! grep -q 'MYSQL_PWD=' <(tr '\0' '\n' <"/proc/$DAEMON_PID/environ")
	daemon_stop
	DAEMON_PID=$saved_pid DAEMON_DIR=$saved_dir SOCK=$saved_sock CONF=$saved_conf DAEMON_LOG=$saved_log
}
