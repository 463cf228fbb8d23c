#!/usr/bin/env bash
# bench/cutover.sh [--quick]: the cut-over as the application sees it
# through HAProxy: the longest gap between its acknowledged writes, the
# errors it got, and the rows lost, for replwatch's switch at caught-up,
# the same promotion with the switch in on_promoted (what users had
# before), and the manual runbook, side by side, with RDS's real timings.
#
# Every run gets a fresh sandbox (`sandbox up --flavor rds-mysql
# --replicate --proxy`: real mariadbds, RDS's procedures with their real
# sleeps, so rds_stop_replication takes >= 3 s; a real HAProxy in TCP mode
# in front, server "old" = the master, "new" = the replica in maintenance).
# The replica starts read_only=ON, as an RDS instance whose parameter group
# sets it; the team changes the parameter group before the window, which
# the benchmark emulates with root's `SET GLOBAL read_only = 0` on the
# replica (preflight refuses to switch the application into a read-only
# RDS replica otherwise).  Schema sbtest on the old master (`app` gets ALL
# on it), 4 x 10,000 rows from sysbench, then, all through HAProxy as
# `app`, the load:
#   - sysbench oltp_write_only (bench/cutover-oltp.lua: the stock script,
#     a refused transaction retried after 1 ms instead of at once), 4
#     threads, --rate=300 (CUTOVER_RATE), --mysql-ignore-errors=all.  A
#     throttled load: the replica keeps up with it on this machine (the
#     unthrottled rate through HAProxy, about 800 tps, makes the replica
#     lag, and 2 cores spent on sysbench starve what is measured).
#     sysbench 1.0.20 segfaults when it reconnects after a killed session
#     (the freeze's KILL, HAProxy's shutdown sessions), so
#     bench/cutover-sysbench.bash starts it again at once each time, like a
#     supervisor: the load goes on through the freeze and the switch, on
#     whichever server HAProxy sends new connections to.
#   - tests/tools/appwriter, THE measured application: one autocommit
#     INSERT into sbtest.probe every 1 ms, reconnecting on errors, every
#     acknowledged row recorded with the port of the server that acked it.
# After 2 s of load and a 2 s throughput sample, one cut-over:
#   switch-at-caught-up    replwatchd with `on_switch = conf/hooks/
#                          haproxy-switch SOCKET app old new`, then
#                          `replwatchctl --json promote rds1 --max-lag 1
#                          --timeout 60 --yes` (the README's cut-over day;
#                          the freeze of the old master is the default)
#   switch-after-promoted  the same daemon and command, the same hook run
#                          as `on_promoted` instead (after stop, reset and
#                          verify), no on_switch
#   manual                 bench/cutover-manual.bash: read_only ON on the
#                          old master, poll the replica every 0.1 s
#                          (CUTOVER_MANUAL_POLL) until it executed the final
#                          position, rds_stop_replication,
#                          rds_reset_external_master, then the same HAProxy
#                          hook (AWS's runbook order)
# then 1 s more of load on the new master, and the checks: appwriter's
# longest gap between two acks (tests/tools/appwriter-report), its errors
# by errno; lost rows: every seq acked by either server must be in the new
# master's sbtest.probe, every row the old master has too; every old
# master's transaction applied on the new one (its gtid_binlog_pos = the
# new one's gtid_slave_pos); sbtest1..4 compared row by row (CRC32 of every
# column) between the old master and the new one, leaving out the rows the
# application wrote on the new master after the switch (read from the new
# master's own binary log); the daemon's write_blocked_ms, each step's
# duration, and where the stop step lies against the application's gap.
# N = 20 runs of each (--quick: 3; CUTOVER_RUNS=N overrides), interleaved
# so that noise hits all three alike; a promotion refused for lag is
# retried after another wait, as an operator would.  The target
# (switch-at-caught-up: median gap <= 150 ms, worst <= 1 s, 0 lost rows) is
# reported as met or not, never asserted.  Tables on stdout and in
# bench/out/cutover.txt; one JSON line per run in
# bench/out/cutover-runs.jsonl; each run's raw files (events, appwriter's
# record, logs) in bench/out/cutover-raw/.  CUTOVER_VARIANTS="a b" runs only
# those.  About 20 s per run here (most of it the sandbox's start): full
# run (60 runs) about 20 minutes, --quick (9 runs) about 3.  The previous version's forced lock-wait cycle
# (one run each, the manual one a 50 s stall) and its throttled supplement
# are gone, to keep 60 runs under 30 minutes: the load is throttled now,
# and the cycle measured the freeze's lock-wait retries, not the
# application's gap.
set -u
source "$(dirname "$0")/common.bash"
bench_init cutover "$@"
need sysbench haproxy socat mariadb-binlog

if ((QUICK)); then N=3; else N=20; fi
N=${CUTOVER_RUNS:-$N}
RATE=${CUTOVER_RATE:-300}
POLL=${CUTOVER_MANUAL_POLL:-0.1}
read -r -a VARIANTS <<<"${CUTOVER_VARIANTS:-switch-at-caught-up switch-after-promoted manual}"
for v in "${VARIANTS[@]}"; do
	case $v in
	switch-at-caught-up | switch-after-promoted | manual) ;;
	*) die "unknown variant $v in CUTOVER_VARIANTS" ;;
	esac
done
APPWRITER=$REPO/tests/tools/appwriter
AWREPORT=$REPO/tests/tools/appwriter-report
HOOK=$REPO/conf/hooks/haproxy-switch
if [[ ! -x $APPWRITER ]]; then
	make -C "$REPO" tests/tools/appwriter >&2 || die "cannot build tests/tools/appwriter"
fi
[[ -x $AWREPORT && -x $HOOK ]] || die "$AWREPORT or $HOOK missing"
# Every run uses the binaries and the hook as they were at the start (the
# tree may be rebuilt or changed during a 25-minute run).
mkdir -p "$BENCH_TMP/bin" && cp "$DAEMON" "$CTL" "$APPWRITER" "$HOOK" "$BENCH_TMP/bin/" ||
	die "cannot copy the binaries"
DAEMON=$BENCH_TMP/bin/replwatchd CTL=$BENCH_TMP/bin/replwatchctl APPWRITER=$BENCH_TMP/bin/appwriter
HOOK=$BENCH_TMP/bin/haproxy-switch
export CUTOVER_HOOK=$HOOK # bench/cutover-manual.bash's
BUILD="commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n $(git -C "$REPO" status --porcelain -- daemon lib ctl conf/hooks 2>/dev/null) ]]; then
	BUILD+=" (daemon/ lib/ ctl/ conf/hooks/ with uncommitted changes)"
fi
# Work files stay private until the end (another run of this script must
# not truncate them); then the runs' JSON lines go to
# bench/out/cutover-runs.jsonl and their raw files to bench/out/cutover-raw/.
RUNS_JSONL=$BENCH_TMP/cutover-runs.jsonl
: >"$RUNS_JSONL"
LOAD_PID=
WRITER_PID=

bench_header "Cut-over through HAProxy under write load, from the application's side: replwatch's switch at caught-up, the switch after the promotion, the manual runbook"
{
	printf 'sandbox: rds-mysql flavor, real RDS timings (rds_stop_replication >= 3 s), HAProxy %s in TCP mode in front; replica read_only set to 0 by root first (the parameter-group change)\n' \
		"$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')"
	printf 'load, through HAProxy as app: sysbench oltp_write_only 4 threads --rate=%s --mysql-ignore-errors=all (restarted at once when it exits), 4 x 10,000 rows; appwriter: one INSERT every 1 ms (the measured application)\n' "$RATE"
	printf 'build: %s; binaries and hook copied at the start\n' "$BUILD"
	printf 'runs: %s of each variant, interleaved; promote --max-lag 1 --timeout 60 --yes (freeze by default); daemon interval_ms 250, heartbeat write; manual: polls every %s s\n\n' "$N" "$POLL"
} | bench_out

sql() { mariadb --defaults-file="$SB/$1-$2.cnf" -N -B -e "$3"; }
cnf_password() { sed -n 's/^password *= *//p' "$1" | head -1; }

# A background child tracked for the EXIT trap; its pid in $!.
bg_start() {
	"$@" &
	BENCH_PIDS+=("$!")
}

bg_stop() {
	local pid=$1
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_bench_forget "$pid"
}

sysbench_args() {
	printf '%s\n' "$BENCH_DIR/cutover-oltp.lua" --db-driver=mysql --mysql-host=127.0.0.1 \
		--mysql-port="$PROXY_PORT" --mysql-user=app \
		--mysql-password="$(cnf_password "$SB/proxy-app.cnf")" \
		--mysql-db=sbtest --tables=4 --table-size=10000
}

# daemon_conf FILE STATE_DIR VARIANT
daemon_conf() {
	local switch="$HOOK $HAPROXY_SOCKET $HAPROXY_BACKEND $HAPROXY_OLD_SERVER $HAPROXY_NEW_SERVER"
	cat >"$1" <<-CONF
	[daemon]
	socket = $BENCH_TMP/rw.sock
	state_dir = $2
	log_level = info

	[target rds1]
	host = 127.0.0.1
	port = $REPLICA_PORT
	option_file = $SB/replica-admin.cnf
	flavor = rds-mysql
	interval_ms = 250
	lag_warn_s = 2
	lag_crit_s = 10
	hysteresis = 2
	heartbeat = write
	master_host = 127.0.0.1
	master_port = $MASTER_PORT
	master_option_file = $SB/master-root.cnf
	CONF
	case $3 in
	switch-at-caught-up) printf 'on_switch = %s\n' "$switch" >>"$1" ;;
	# The hook refuses to run as anything but an on_switch hook
	# (REPLWATCH_EVENT=promoted) and needs a direction: give it what an
	# on_switch hook gets.
	switch-after-promoted)
		printf 'on_promoted = /usr/bin/env REPLWATCH_EVENT= REPLWATCH_SWITCH_DIRECTION=forward %s\n' \
			"$switch" >>"$1"
		;;
	esac
}

# Until the replica has executed everything the master wrote, at most 60 s.
settle_replica() {
	local m r i
	for ((i = 0; i < 600; i++)); do
		m=$(sql master root "SHOW MASTER STATUS" | awk '{ print $1 ":" $2 }')
		r=$(mariadb --defaults-file="$SB/replica-root.cnf" -e 'SHOW SLAVE STATUS\G' |
			awk '$1 == "Relay_Master_Log_File:" { f = $2 } $1 == "Exec_Master_Log_Pos:" { p = $2 } END { print f ":" p }')
		[[ $m == "$r" ]] && return 0
		sleep 0.1
	done
	note "replica did not catch up with $m (at $r)"
}

# How far the replica's executed position is behind the master's, in bytes
# (same binlog file; empty otherwise).
behind_bytes() {
	local mf mp rf rp
	# The replica first: the master can only have moved on since.
	read -r rf rp < <(mariadb --defaults-file="$SB/replica-root.cnf" -e 'SHOW SLAVE STATUS\G' |
		awk '$1 == "Relay_Master_Log_File:" { f = $2 } $1 == "Exec_Master_Log_Pos:" { p = $2 } END { print f, p }')
	read -r mf mp _ < <(sql master root "SHOW MASTER STATUS")
	[[ $mf == "$rf" ]] && echo $((mp - rp))
}

com_commit() { sql "$1" root "SHOW GLOBAL STATUS LIKE 'Com_commit'" | awk '{ print $2 }'; }

# tps_of SERVER SECONDS: COMMITs per second there (sysbench's transactions;
# appwriter's autocommit inserts are not counted).
tps_of() {
	local c0 c1 t0 t1
	c0=$(com_commit "$1") t0=$EPOCHREALTIME
	bench_sleep "$2"
	c1=$(com_commit "$1") t1=$EPOCHREALTIME
	awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }'
}

# Row images of sbtest1..4 and the probe's seqs on one server.
dump_tables() {
	local who=$1 rd=$2 t
	for t in sbtest1 sbtest2 sbtest3 sbtest4; do
		sql "$who" root "SELECT '$t', id, CRC32(CONCAT_WS('#', k, c, pad)) FROM sbtest.$t"
	done >"$rd/$who.rows"
	sql "$who" root "SELECT seq FROM sbtest.probe" >"$rd/$who.probe"
}

# The (table, id) of every sbtest row the new master's own binary log
# changed: the application's writes after the switch (log_slave_updates is
# off, so nothing replicated is in it).
touched_on_new_master() {
	mariadb-binlog -v --base64-output=decode-rows "$SB"/replica.data/replica-bin.[0-9]* 2>/dev/null |
		awk '/^### (INSERT INTO|UPDATE|DELETE FROM) / {
				t = ""
				if (match($0, /`sbtest`\.`sbtest[0-9]+`/))
					t = substr($0, RSTART + 10, RLENGTH - 11)
				next
			}
			t != "" && /^###   @1=/ { sub(/^###   @1=/, ""); print t "\t" $1 }' | sort -u
}

# The promotion, each streamed line stamped on arrival (CLOCK_REALTIME, us).
promote_stamped() {
	bench_run bash -c '
		"$@" | while IFS= read -r line; do
			t=$EPOCHREALTIME; printf "%s %s\n" "${t/./}" "$line"
		done; exit "${PIPESTATUS[0]}"' _ \
		"$CTL" -s "$SOCK" --json promote rds1 --max-lag 1 --timeout 60 --yes
}

# one_run VARIANT RUN
one_run() {
	local variant=$1 i=$2 rd rc tps tps_after lag behind refusals=0 t0 t1 t_cut0 t_cut1
	rd=$BENCH_TMP/run-$i-$variant
	mkdir -p "$rd"
	t0=$EPOCHREALTIME
	note "run $i: $variant"
	bench_sandbox --proxy
	sql master root "CREATE DATABASE sbtest;
		GRANT ALL PRIVILEGES ON sbtest.* TO 'app'@'%';
		CREATE TABLE sbtest.probe (seq BIGINT PRIMARY KEY, t_us BIGINT NOT NULL) ENGINE=InnoDB" ||
		die "cannot create sbtest"
	# The parameter-group change (read_only = 0), made before the window.
	sql replica root "SET GLOBAL read_only = 0" || die "cannot clear the replica's read_only"
	mapfile -t sb_args < <(sysbench_args)
	bench_run sysbench "${sb_args[@]}" --threads=4 prepare >"$rd/prepare.log" 2>&1 ||
		{ cat "$rd/prepare.log" >&2; die "sysbench prepare failed"; }
	settle_replica

	if [[ $variant != manual ]]; then
		daemon_conf "$rd/rw.conf" "$rd/state" "$variant"
		mkdir -p "$rd/state"
		bench_daemon "$rd/rw.conf"
		bench_run "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 60 >/dev/null ||
			die "replica did not settle after the prepare"
	fi

	bg_start "$BENCH_DIR/cutover-sysbench.bash" "$rd/sysbench" "${sb_args[@]}" --threads=4 \
		--time=0 --events=0 --rate="$RATE" --mysql-ignore-errors=all --report-interval=1 \
		run 2>"$rd/sysbench.err"
	LOAD_PID=$!
	bg_start "$APPWRITER" --defaults-file "$SB/proxy-app.cnf" --table sbtest.probe \
		--out "$rd/appwriter.out" --interval-us 1000 2>"$rd/appwriter.err"
	WRITER_PID=$!
	for _ in $(seq 100); do [[ -e $rd/appwriter.out.ready ]] && break; bench_sleep 0.05; done
	[[ -e $rd/appwriter.out.ready ]] || die "appwriter did not connect ($(cat "$rd/appwriter.err"))"
	bench_sleep 2
	tps=$(tps_of master 2)
	if [[ $variant != manual ]]; then
		bench_run "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 30 >/dev/null ||
			note "run $i $variant: lag did not come under 1 s in 30 s; cutting over anyway"
		lag=$("$CTL" -s "$SOCK" --json status rds1 | jq '.lag.ms')
	else
		lag=
	fi
	behind=$(behind_bytes)

	t_cut0=$EPOCHREALTIME
	case $variant in
	switch-*)
		# A preflight refused for lag is what an operator retries, after
		# waiting for the replica again (twice at most).
		while :; do
			rc=0
			promote_stamped >"$rd/events" 2>"$rd/promote.err" || rc=$?
			((rc != 0 && refusals < 2)) && grep -q 'preflight refused: lag' "$rd/events" || break
			refusals=$((refusals + 1))
			note "run $i $variant: promotion refused for lag ($(grep -o 'lag [0-9]* ms' "$rd/events" | head -1)); waiting and trying again"
			bench_run "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 15 >/dev/null
		done
		;;
	manual)
		rc=0
		bench_run "$BENCH_DIR/cutover-manual.bash" "$SB" "$POLL" \
			>"$rd/events" 2>"$rd/promote.err" || rc=$?
		;;
	esac
	t_cut1=$EPOCHREALTIME
	((rc == 0)) || note "run $i $variant: cut-over exited $rc: $(tail -q -n 2 "$rd/promote.err" "$rd/events" | cut -c1-300 | tr '\n' ' ')"
	# The load goes on on the new master for a second.
	tps_after=$(tps_of replica 1)
	bg_stop "$WRITER_PID"
	WRITER_PID=
	bg_stop "$LOAD_PID"
	LOAD_PID=
	printf '%s %s\n' "${t_cut0/./}" "${t_cut1/./}" >"$rd/cut"
	"$AWREPORT" "$rd/appwriter.out" >"$rd/appwriter.report" 2>&1 ||
		note "run $i $variant: appwriter-report failed: $(tail -1 "$rd/appwriter.report")"
	dump_tables master "$rd"
	dump_tables replica "$rd"
	{
		sql master root "SELECT 'old_binlog_pos', @@gtid_binlog_pos"
		sql replica root "SELECT 'new_slave_pos', @@gtid_slave_pos"
	} >"$rd/gtid"
	touched_on_new_master >"$rd/touched"
	bench_daemon_stop
	[[ -f $BENCH_TMP/replwatchd.log ]] && mv "$BENCH_TMP/replwatchd.log" "$rd/replwatchd.log"
	cp "$SB/haproxy.log" "$rd/haproxy.log" 2>/dev/null
	"$SANDBOX" down "$SB" >/dev/null 2>&1 || note "sandbox down $SB failed"
	t1=$EPOCHREALTIME
	python3 "$BENCH_DIR/cutover-report.py" run --variant "$variant" --run "$i" \
		--dir "$rd" --rc "$rc" --tps "$tps" --tps-after "$tps_after" --lag-ms "${lag:-}" \
		--behind-bytes "${behind:-}" --refusals "$refusals" --rate "$RATE" \
		--master-port "$MASTER_PORT" --replica-port "$REPLICA_PORT" \
		--run-s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$RUNS_JSONL" ||
		die "cannot analyse run $i $variant"
	tail -1 "$RUNS_JSONL" | jq -c '{variant, run, outcome, gap_ms, errors, lost_acked, sb_lost, write_blocked_ms, stop_in_gap_ms, run_s}' >&2
	rm -rf "$SB" "$rd"/{master,replica}.rows
}

started=$EPOCHSECONDS
for ((i = 1; i <= N; i++)); do
	for v in "${VARIANTS[@]}"; do
		one_run "$v" "$i"
	done
done
python3 "$BENCH_DIR/cutover-report.py" report "$RUNS_JSONL" --elapsed $((EPOCHSECONDS - started)) | bench_out ||
	die "cannot write the report"
bench_footer
cp "$RUNS_JSONL" "$OUT_DIR/cutover-runs.jsonl"
rm -rf "$OUT_DIR/cutover-raw"
mkdir -p "$OUT_DIR/cutover-raw" && cp -r "$BENCH_TMP"/run-* "$OUT_DIR/cutover-raw/" ||
	note "cannot copy the raw files to $OUT_DIR/cutover-raw"
