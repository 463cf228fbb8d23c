#!/usr/bin/env bats
# The Prometheus endpoint: every series present from the start, parseable by
# the reference client library's parser and clean for `promtool check
# metrics`, values that follow real servers; and the shipped alert rules
# (conf/prometheus/replwatch.rules.yml) judged on real scrapes: each scrape
# becomes a promtool test (tests/prometheus/scrape-to-test) that says which
# alerts fire on what the daemon really exported.
#
# Two daemons, started in setup_file:
#   OFF  watches 127.0.0.1:1 (nothing listens), with an old master there too,
#        and a promotion journal left by a daemon that stopped mid-way
#   SB   watches a mariadb sandbox with its master (heartbeat off: the lag is
#        Seconds_Behind_Master, which a stopped SQL thread makes unknown)

bats_require_minimum_version 1.5.0

load lib
load daemon

RULES=conf/prometheus/replwatch.rules.yml

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

fetch() {
	/usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

# scrape OFF|SB FILE: the daemon's /metrics into FILE.
scrape() {
	local url
	[[ $1 == OFF ]] && url=$OFF_URL || url=$SB_URL
	fetch "$url" >"$2"
}

# metric FILE 'name{labels}': the sample's value.
metric() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}

# SB's sample now (a fresh scrape).
sb_metric() {
	scrape SB "$BATS_TEST_TMPDIR/now.txt" && metric "$BATS_TEST_TMPDIR/now.txt" "$1"
}

# SB's sample is a number above 0 (not NaN).
metric_positive() {
	local v
	v=$(sb_metric "$1") && [[ $v != NaN ]] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'
}

metric_known() {
	local v
	v=$(sb_metric "$1") && [[ $v != NaN ]]
}

metric_is() {
	[[ $(sb_metric "$1") == "$2" ]]
}

status_rate_positive() {
	status_json main | jq -e '.lag.apply_bytes_per_s > 0' >/dev/null
}

# Which alerts of the shipped rules fire on the scrape FILE (held 15 min).
alerts_fire() {
	local file=$1 t
	shift
	t=$BATS_TEST_TMPDIR/alerts.$RANDOM.yml
	"$REPO/tests/prometheus/scrape-to-test" "$REPO/$RULES" "$file" "$@" >"$t"
	promtool test rules "$t"
}

setup_file() {
	local cnf=$BATS_FILE_TMPDIR/nobody.cnf port
	printf '[client]\nuser=nobody\npassword=nothing\n' >"$cnf"
	chmod 600 "$cnf"

	port=$(free_port)
	daemon_conf --offline 'master_host = 127.0.0.1' 'master_port = 1' \
		"master_option_file = $cnf" '[daemon]' "metrics_listen = 127.0.0.1:$port"
	# What a daemon killed during the catch-up leaves (changes: none yet).
	mkdir -m 0750 "$DAEMON_DIR/state"
	printf '{"target": "main", "state": "running", "step": "catchup", "changed": []}\n' \
		>"$DAEMON_DIR/state/promotion-main.json"
	daemon_launch
	OFF_URL=http://127.0.0.1:$port/metrics OFF_SOCK=$SOCK
	export OFF_URL OFF_SOCK

	sandbox_up --flavor mariadb --replicate
	port=$(free_port)
	daemon_start --master 'heartbeat = off' 'lag_warn_s = 5' 'lag_crit_s = 10' \
		'hysteresis = 1' '[daemon]' "metrics_listen = 127.0.0.1:$port"
	SB_URL=http://127.0.0.1:$port/metrics
	export SB_URL
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

teardown() {
	if [[ -n ${WRITER:-} ]]; then
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
	fi
	# Faults a failed test may have left on the shared sandbox.
	if [[ -n ${UNDO:-} ]]; then
		eval "$UNDO" || true
	fi
}

# Rows on the master, a few a second, until the test ends (teardown).
start_writer() {
	(
		for i in $(seq 600); do
			sql_master "INSERT INTO app.items (name, qty) VALUES ('mx-$i', $i)" || exit 1
			sleep 0.1
		done
	) 3>&- &
	WRITER=$!
}

@test "unreachable: every family from the first scrape, unknowns NaN beside replwatch_lag_known 0, promtool clean" {
	local m=$BATS_TEST_TMPDIR/m.txt version
	scrape OFF "$m"
	grep -qx 'replwatch_state{target="main",state="promotion_interrupted"} 1' "$m"
	grep -qx 'replwatch_state{target="main",state="ok"} 0' "$m"
	grep -qx 'replwatch_up{target="main"} 0' "$m"
	grep -qx 'replwatch_lag_seconds{target="main"} NaN' "$m"
	grep -qx 'replwatch_lag_known{target="main"} 0' "$m"
	grep -qx 'replwatch_position_lag_bytes{target="main"} NaN' "$m"
	grep -qx 'replwatch_apply_bytes_per_second{target="main"} NaN' "$m"
	grep -qx 'replwatch_master_up{target="main"} 0' "$m"
	grep -qx 'replwatch_master_read_only{target="main"} NaN' "$m"
	# The journal's promotion: interrupted in the catch-up.
	grep -qx 'replwatch_promotion_outcome{target="main",outcome="interrupted"} 1' "$m"
	grep -qx 'replwatch_promotion_outcome{target="main",outcome="none"} 0' "$m"
	grep -qx 'replwatch_promotion_step{target="main",step="catchup"} 1' "$m"
	grep -qx 'replwatch_promotion_step{target="main",step="none"} 0' "$m"
	version=$("$DAEMON_BIN" -V | awk '{ print $2 }')
	grep -qx "replwatch_build_info{version=\"$version\",protocol=\"1\"} 1" "$m"
	# Not muted; no new primary to watch: NaN, the series there all the same.
	grep -qx 'replwatch_muted{target="main"} 0' "$m"
	grep -qx 'replwatch_muted_until_timestamp_seconds{target="main"} 0' "$m"
	grep -qx 'replwatch_primary_reachable{target="main"} NaN' "$m"
	grep -qx 'replwatch_primary_writable{target="main"} NaN' "$m"
	grep -qx 'replwatch_primary_binlog_moving{target="main"} NaN' "$m"
	run -0 promtool check metrics <"$m"
	[ -z "$output" ]
	# Debian's python3 has the parser (python3-prometheus-client).
	run -0 /usr/bin/python3 - "$m" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["replwatch_polls"].type == "counter", fams.keys()
failed = [s.value for s in fams["replwatch_polls"].samples if s.labels["result"] == "failed"]
assert failed and failed[0] >= 1, failed
# one sample per state, step and outcome: a state set, exactly one at 1
for f in ("replwatch_state", "replwatch_promotion_step", "replwatch_promotion_outcome"):
    assert sum(s.value for s in fams[f].samples) == 1, f
print("families:", len(fams))
PY
	[[ $output == *"families: 25"* ]]
}

@test "unreachable, promotion interrupted: the rules fire TargetUnreachable and PromotionInterrupted, not LagUnknown" {
	local m=$BATS_TEST_TMPDIR/m.txt
	scrape OFF "$m"
	run -0 alerts_fire "$m" ReplwatchPromotionInterrupted ReplwatchTargetUnreachable
	# Against a wrong expectation the same test fails (it does judge).
	run -1 alerts_fire "$m" ReplwatchTargetUnreachable
}

@test "replicating: lag known, position lag and apply rate in bytes, the old master up and writable, no alert" {
	local m=$BATS_TEST_TMPDIR/m.txt
	wait_state main ok 20
	start_writer
	# The rate comes from positions over the last polls: both views.
	wait_until 20 status_rate_positive
	wait_until 10 metric_positive 'replwatch_apply_bytes_per_second{target="main"}'
	wait_until 10 metric_known 'replwatch_position_lag_bytes{target="main"}'
	scrape SB "$m"
	grep -qx 'replwatch_up{target="main"} 1' "$m"
	grep -qx 'replwatch_lag_known{target="main"} 1' "$m"
	grep -qx 'replwatch_lag_warning_threshold_seconds{target="main"} 5' "$m"
	grep -qx 'replwatch_lag_critical_threshold_seconds{target="main"} 10' "$m"
	grep -qx 'replwatch_master_up{target="main"} 1' "$m"
	grep -qx 'replwatch_master_read_only{target="main"} 0' "$m"
	grep -qx 'replwatch_thread_running{target="main",thread="sql"} 1' "$m"
	grep -qx 'replwatch_last_errno{target="main",thread="sql"} 0' "$m"
	grep -qx 'replwatch_promotion_outcome{target="main",outcome="none"} 1' "$m"
	run -0 metric "$m" 'replwatch_lag_seconds{target="main"}'
	[[ $output =~ ^[0-9.]+$ ]]
	run -0 metric "$m" 'replwatch_position_lag_bytes{target="main"}'
	[[ $output =~ ^[0-9]+$ ]]
	run -0 metric "$m" 'replwatch_apply_bytes_per_second{target="main"}'
	[[ $output =~ ^[0-9.e+-]+$ ]]
	run -0 promtool check metrics <"$m"
	[ -z "$output" ]
	run -0 alerts_fire "$m"
}

@test "SQL thread stopped by 1062: errno, unknown lag, a new state since, apply rate 0; the rules fire ReplicationBroken and LagUnknown, no lag alert" {
	local m=$BATS_TEST_TMPDIR/m.txt since
	wait_state main ok 20
	since=$(sb_metric 'replwatch_state_since_timestamp_seconds{target="main"}')
	start_writer
	wait_until 20 metric_positive 'replwatch_apply_bytes_per_second{target="main"}'
	UNDO="sql_replica root \"SET sql_log_bin = 0; DELETE FROM app.items WHERE id = 90001; START SLAVE SQL_THREAD\""
	sql_replica root "SET sql_log_bin = 0; INSERT INTO app.items (id, name, qty) VALUES (90001, 'replica-only', 1)"
	sql_master root "INSERT INTO app.items (id, name, qty) VALUES (90001, 'from-master', 2)"
	wait_state main sql_error 10
	# Rows keep coming, none is applied: 0, a known rate, not NaN.
	wait_until 10 metric_is 'replwatch_apply_bytes_per_second{target="main"}' 0
	scrape SB "$m"
	grep -qx 'replwatch_state{target="main",state="sql_error"} 1' "$m"
	grep -qx 'replwatch_last_errno{target="main",thread="sql"} 1062' "$m"
	grep -qx 'replwatch_last_errno{target="main",thread="io"} 0' "$m"
	grep -qx 'replwatch_thread_running{target="main",thread="sql"} 0' "$m"
	grep -qx 'replwatch_thread_running{target="main",thread="io"} 1' "$m"
	grep -qx 'replwatch_lag_seconds{target="main"} NaN' "$m"
	grep -qx 'replwatch_lag_known{target="main"} 0' "$m"
	grep -qx 'replwatch_up{target="main"} 1' "$m"
	run -0 metric "$m" 'replwatch_state_since_timestamp_seconds{target="main"}'
	awk -v a="$output" -v b="$since" 'BEGIN { exit !(a > b) }'
	run -0 promtool check metrics <"$m"
	[ -z "$output" ]
	# Lag thresholds of 5 and 10 s, a replica that applies nothing: only
	# the lag_known series lets a rule say so.
	run -0 alerts_fire "$m" ReplwatchLagUnknown ReplwatchReplicationBroken

	eval "$UNDO"
	UNDO=
	wait_state main ok 20
	wait_until 10 metric_is 'replwatch_last_errno{target="main",thread="sql"}' 0
	wait_until 10 metric_is 'replwatch_lag_known{target="main"}' 1
}

@test "the old master's read_only: 1 while set, 0 again" {
	wait_until 10 metric_is 'replwatch_master_read_only{target="main"}' 0
	UNDO='sql_master root "SET GLOBAL read_only = 0"'
	sql_master root "SET GLOBAL read_only = 1"
	wait_until 10 metric_is 'replwatch_master_read_only{target="main"}' 1
	metric_is 'replwatch_master_up{target="main"}' 1
	eval "$UNDO"
	UNDO=
	wait_until 10 metric_is 'replwatch_master_read_only{target="main"}' 0
}

@test "mute: replwatch_muted 1 and its end, 0 again at unmute; a muted broken replica fires no alert" {
	wait_state main ok 20
	local m=$BATS_TEST_TMPDIR/m.txt until
	UNDO='ctl unmute main; sql_replica "START SLAVE SQL_THREAD"'
	run -0 ctl mute main --for 2h --reason 'test'
	wait_until 10 metric_is 'replwatch_muted{target="main"}' 1
	until=$(sb_metric 'replwatch_muted_until_timestamp_seconds{target="main"}')
	(( ${until%.*} > EPOCHSECONDS + 7000 && ${until%.*} <= EPOCHSECONDS + 7200 ))
	sql_replica "STOP SLAVE SQL_THREAD"
	wait_state main sql_stopped 15
	scrape SB "$m"
	run -0 alerts_fire "$m"
	run -0 ctl unmute main
	wait_until 10 metric_is 'replwatch_muted{target="main"}' 0
	scrape SB "$m"
	run -0 alerts_fire "$m" ReplwatchLagUnknown ReplwatchReplicationBroken
	eval "$UNDO"
	UNDO=
	wait_state main ok 20
}

@test "a dry-run promotion: outcome dry_run and the step it ended at; no alert" {
	local m=$BATS_TEST_TMPDIR/m.txt step report
	wait_state main ok 20
	run -0 ctl --json promote main --dry-run
	report=$(grep '^{' <<<"$output" | tail -n 1)
	jq -e '.outcome == "dry_run"' <<<"$report"
	step=$(jq -r .step <<<"$report")
	scrape SB "$m"
	grep -qx 'replwatch_promotion_outcome{target="main",outcome="dry_run"} 1' "$m"
	grep -qx 'replwatch_promotion_outcome{target="main",outcome="none"} 0' "$m"
	grep -qx "replwatch_promotion_step{target=\"main\",step=\"$step\"} 1" "$m"
	run -0 alerts_fire "$m"
}
