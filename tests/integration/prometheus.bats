#!/usr/bin/env bats
# The Prometheus rules and the Grafana dashboard that replwatch ships, held
# to what the real daemon exports: promtool checks and unit-tests the rules
# (tests/prometheus/replwatch.rules.test.yml), and every series those tests
# feed in, every metric a rule or an annotation queries and every query of
# the dashboard is looked up in a live scrape of replwatchd
# (tests/prometheus/check-names).  The daemon watches nothing reachable:
# which series exist does not depend on the state (metrics.bats tests the
# values against real servers).

bats_require_minimum_version 1.5.0

load lib
load daemon

RULES=conf/prometheus/replwatch.rules.yml
RULE_TESTS=tests/prometheus/replwatch.rules.test.yml
DASHBOARD=conf/grafana/replwatch.json

scrape() {
	/usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

setup_file() {
	local port cnf=$BATS_FILE_TMPDIR/nobody.cnf
	printf '[client]\nuser=nobody\npassword=nothing\n' >"$cnf"
	chmod 600 "$cnf"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# main has an old master, so that its series are in the scrape too.
	daemon_start --offline 'master_host = 127.0.0.1' 'master_port = 1' \
		"master_option_file = $cnf" '[daemon]' "metrics_listen = 127.0.0.1:$port"
	METRICS=$BATS_FILE_TMPDIR/metrics.txt
	scrape "http://127.0.0.1:$port/metrics" >"$METRICS"
	export METRICS
}

teardown_file() {
	daemon_stop_all
}

# Every PromQL query of the rules: expressions, and the queries that the
# annotations' templates run (printf `...` | query).
rule_queries() {
	/usr/bin/python3 - "$REPO/$RULES" <<'PY'
import json, re, sys, yaml
out = []
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        out.append(r["expr"])
        for text in r.get("annotations", {}).values():
            out += [q.replace("%q", '"x"') for q in
                    re.findall(r"printf `([^`]*)`", text)]
print(json.dumps(out))
PY
}

@test "the alert rules pass promtool check rules" {
	run -0 promtool check rules "$REPO/$RULES"
	[[ $output == *"SUCCESS: 8 rules found"* ]]
}

@test "promtool test rules: each alert fires and resolves; NaN lag silences lag > X, LagUnknown fires" {
	run -0 promtool test rules "$REPO/$RULE_TESTS"
	[[ $output == *SUCCESS* ]]
	# Every alert of the file is tested firing and resolving (exp_alerts: []).
	local a
	for a in $(grep -oE 'alert: Replwatch[A-Za-z]+' "$REPO/$RULES" | cut -d' ' -f2); do
		grep -A2 "alertname: $a\$" "$REPO/$RULE_TESTS" | grep -q 'exp_labels' ||
			{ echo "$a never fires in the tests"; return 1; }
		grep -A1 "alertname: $a\$" "$REPO/$RULE_TESTS" | grep -q 'exp_alerts: \[\]' ||
			{ echo "$a never resolves in the tests"; return 1; }
	done
}

@test "the rule tests feed in only series the daemon exports (names, labels, values)" {
	run -0 "$REPO/tests/prometheus/check-names" "$METRICS" series "$REPO/$RULE_TESTS"
	[[ $output =~ checked\ ([0-9]+)\ references,\ 0\ missing ]]
	((BASH_REMATCH[1] >= 30))
	# The series the NaN case rests on are among them.
	[[ $output == *"series replwatch_lag_known "* ]]
	[[ $output == *"series replwatch_lag_seconds "* ]]
}

@test "every metric the rules and their annotations query is exported" {
	run -0 rule_queries
	local q=$output
	run -0 "$REPO/tests/prometheus/check-names" "$METRICS" exprs <<<"$q"
	[[ $output == *"expr replwatch_last_errno "* ]]
	[[ $output == *"expr replwatch_promotion_step "* ]]
}

@test "every query of the Grafana dashboard names metrics the daemon exports" {
	local exprs
	exprs=$(jq -c '[(.. | objects | .expr? // empty),
	    (.templating.list[] | select(.type == "query") | .query |
	     if type == "object" then .query else . end)]' "$REPO/$DASHBOARD")
	(($(jq length <<<"$exprs") >= 20))
	run -0 "$REPO/tests/prometheus/check-names" "$METRICS" exprs <<<"$exprs"
	echo "$output"
	# What the dashboard is for: each of these has a panel.
	local m
	for m in replwatch_state replwatch_lag_seconds replwatch_lag_known \
	    replwatch_position_lag_bytes replwatch_apply_bytes_per_second \
	    replwatch_thread_running replwatch_last_errno replwatch_polls_total \
	    replwatch_master_up replwatch_promotion_step replwatch_promotion_outcome; do
		[[ $output == *"expr $m "* ]] || { echo "no panel queries $m"; return 1; }
	done
}

@test "the dashboard: every panel has queries on the datasource variable, ids unique" {
	jq -e '.uid == "replwatch" and .title == "replwatch" and
	    ([.templating.list[].name] | index("datasource") != null)' "$REPO/$DASHBOARD"
	jq -e '[.panels[] | select(.type != "row")] | length >= 15 and
	    all(.targets | length > 0 and all(.expr | length > 0)) and
	    all(.datasource.uid == "${datasource}")' "$REPO/$DASHBOARD"
	jq -e '[.panels[].id] | length == (unique | length)' "$REPO/$DASHBOARD"
}

@test "check-names fails on what the daemon does not export" {
	local bad='["replwatch_lag_secondz", "replwatch_state{state=\"sql_eror\"}",
	    "replwatch_up{thread=\"io\"}", "sum by (target) (replwatch_state{state=~\"ok|lag\"})"]'
	run -1 "$REPO/tests/prometheus/check-names" "$METRICS" exprs <<<"$bad"
	[[ $output == *"FAIL replwatch_lag_secondz: replwatch_lag_secondz is not exported"* ]]
	[[ $output == *"replwatch_state{state='sql_eror'} is never exported"* ]]
	[[ $output == *"replwatch_up has no label thread"* ]]
	[[ $output == *"replwatch_state{state='lag'} is never exported"* ]]
	[[ $output == *"4 missing"* ]]
	printf "  - series: 'replwatch_lag_unknown{target=\"x\"}'\n" >"$BATS_TEST_TMPDIR/t.yml"
	run -1 "$REPO/tests/prometheus/check-names" "$METRICS" series "$BATS_TEST_TMPDIR/t.yml"
	[[ $output == *"replwatch_lag_unknown is not exported"* ]]
}
