#!/usr/bin/env bash
# bench/cutover.sh [--quick]: how long a cut-over blocks writes, under load,
# and whether it loses any: replwatch's promote against the seed's manual
# procedure scripted with the mariadb client.
#
# Every run gets a fresh sandbox pair (rds-mysql flavor, --replicate), a
# schema sbtest on the old master (the application user `app` gets ALL on
# it, so read_only refuses its writes), 4 x 10,000 rows from sysbench, then
# a steady write load: sysbench oltp_write_only as `app`, 4 threads,
# unthrottled, --mysql-ignore-errors=all (it keeps going through the
# freeze), plus bench/cutover-probe.c, an independent witness that inserts a
# row into sbtest.probe on the old master every 2 ms as `app` and reads the
# replica's copy every 5 ms.  Once replication settles (replwatchctl wait
# --max-lag 1), one of three cut-overs:
#   replwatch    replwatchd (interval 250 ms, heartbeat written to the old
#                master) and `replwatchctl --json promote rds1
#                --freeze-master --max-lag 2 --timeout 30 --yes`
#   manual       bench/cutover-manual.bash: read_only ON, SHOW MASTER STATUS,
#                SHOW SLAVE STATUS every 1 s until the final position is
#                executed, rds_stop_replication, rds_reset_external_master
#   manual-fast  the same script polling every 100 ms
# Then the load stops and every sbtest table and the probe table are
# compared row by row between the old master and the promoted replica:
# rows committed on the old master that the new one lacks are lost.
# N = 7 runs of each (--quick: 3), interleaved so that noise hits all
# three alike; a promotion refused for lag is retried after another wait,
# as an operator would.  Then REFERENCE §4's lock-wait trap made to happen
# (a row-lock wait and a backup-lock wait in a cycle that InnoDB cannot
# see) once for replwatch and once for the manual script (which waits the
# server's innodb_lock_wait_timeout, 50 s; left out with --quick).  The
# target (median write freeze under 150 ms, at least 5x faster than the
# manual procedure, nothing lost) is reported as met or not, never
# asserted.  Tables on stdout and in bench/out/cutover.txt; one JSON line
# per run in bench/out/cutover-runs.jsonl, each run's stamped events,
# probe samples and logs in bench/out/cutover-raw/.  CUTOVER_RUNS=N
# overrides the number of runs, CUTOVER_NO_CYCLE=1 leaves the trap out,
# CUTOVER_RATE=TPS throttles sysbench (default 0: unthrottled).  Without
# --quick a supplement follows: 3 runs of each at --rate=1000, a load the
# replica keeps up with here (CUTOVER_NO_LIGHT=1 leaves it out).
# Full run about 6 minutes, --quick about 2.
set -u
source "$(dirname "$0")/common.bash"
bench_init cutover "$@"
need sysbench pkg-config

if ((QUICK)); then N=3; else N=7; fi
N=${CUTOVER_RUNS:-$N}
RATE=${CUTOVER_RATE:-0}
VARIANTS=(replwatch manual manual-fast)
# Work files stay private until the end (another run of this script must
# not truncate them); then the runs' JSON lines go to
# bench/out/cutover-runs.jsonl and their raw files (stamped events, probe
# samples, logs) to bench/out/cutover-raw/.
RUNS_JSONL=$BENCH_TMP/cutover-runs.jsonl
: >"$RUNS_JSONL"
PROBE=$BENCH_TMP/cutover-probe
SYSBENCH_PID=
PROBE_PID=

# shellcheck disable=SC2046
cc -O2 -Wall -pthread $(pkg-config --cflags libmariadb) \
	"$BENCH_DIR/cutover-probe.c" -o "$PROBE" $(pkg-config --libs libmariadb) ||
	die "cannot compile bench/cutover-probe.c (libmariadb-dev)"

bench_header "Cut-over under write load: write freeze and lost transactions, replwatch vs the manual procedure"
{
	printf 'load: sysbench oltp_write_only as app, 4 threads, --rate=%s%s, 4 x 10,000 rows; probe every 2 ms\n' \
		"$RATE" "$( ((RATE)) || echo ' (unthrottled)')"
	printf 'runs: %s of each variant, interleaved; promote --freeze-master --max-lag 2 --timeout 30; daemon interval_ms 250\n\n' "$N"
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
	local user=$1
	printf '%s\n' oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 \
		--mysql-port="$MASTER_PORT" --mysql-user="$user" \
		--mysql-password="$(cnf_password "$SB/master-$user.cnf")" \
		--mysql-db=sbtest --tables=4 --table-size=10000
}

daemon_conf() {
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
}

# Until the replica has executed everything the master wrote (replication
# still running: an aborted promotion rolled back), at most 60 s.
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

# Row-by-row images of every compared table on one server.
dump_tables() {
	local who=$1 out=$2 t
	{
		for t in sbtest1 sbtest2 sbtest3 sbtest4; do
			sql "$who" root "SELECT '$t', id, CRC32(CONCAT_WS('#', k, c, pad)) FROM sbtest.$t"
		done
		sql "$who" root "SELECT 'probe', seq, t_us FROM sbtest.probe"
	} >"$out"
	sql "$who" root "CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, sbtest.sbtest4, sbtest.probe" \
		>"$out.checksum"
}

com_commit() { sql master root "SHOW GLOBAL STATUS LIKE 'Com_commit'" | awk '{ print $2 }'; }

# The REFERENCE §4 trap, made to happen: T2 holds a row lock and, 1.5 s
# later, writes again; S1 waits for that row lock, so a freeze that starts
# in between waits for S1, and T2's second write waits for the freeze.
# InnoDB does not see the cycle: it lasts until someone's timeout.
start_lock_cycle() {
	local rd=$1
	bg_start mariadb --defaults-file="$SB/master-app.cnf" -N -B -e "BEGIN;
		UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id = 1; SELECT SLEEP(1.5);
		UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id = 2; COMMIT" >"$rd/cycle-t2.out" 2>&1
	CYCLE_PIDS=("$!")
	bench_sleep 0.3
	bg_start mariadb --defaults-file="$SB/master-app.cnf" -N -B -e \
		"UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id = 1" >"$rd/cycle-s1.out" 2>&1
	CYCLE_PIDS+=("$!")
	bench_sleep 0.5
	# Evidence: the server's view just after T2's second write began.
	bg_start bash -c 'sleep 1; mariadb --defaults-file="$1" -B -e "SHOW PROCESSLIST;
		SELECT trx_mysql_thread_id, trx_state, trx_query FROM information_schema.innodb_trx"' \
		_ "$SB/master-root.cnf" >"$rd/cycle-processlist.txt" 2>&1
	CYCLE_PIDS+=("$!")
}

finish_lock_cycle() {
	local rd=$1 pid n=0
	for pid in "${CYCLE_PIDS[@]}"; do
		wait "$pid"
		echo "${CYCLE_NAMES[n++]} exit $?" >>"$rd/cycle-status.txt"
		_bench_forget "$pid"
	done
	CYCLE_PIDS=()
}
CYCLE_NAMES=(t2 s1 processlist)
CYCLE_PIDS=()

# The promotion, each streamed line stamped on arrival (CLOCK_REALTIME, us).
promote_stamped() {
	bench_run bash -c '
		"$@" | while IFS= read -r line; do
			t=$EPOCHREALTIME; printf "%s %s\n" "${t/./}" "$line"
		done; exit "${PIPESTATUS[0]}"' _ \
		"$CTL" -s "$SOCK" --json promote rds1 --freeze-master --max-lag 2 \
		--timeout 30 --yes
}

# one_run VARIANT RUN [cycle]
one_run() {
	local variant=$1 i=$2 kind=${3:-load} rd rc c0 c1 t0 t1 tps lag refusals=0
	rd=$BENCH_TMP/run-$i-$variant
	mkdir -p "$rd"
	note "run $i: $variant${3:+ ($3)}"
	bench_sandbox
	sql master root "CREATE DATABASE sbtest;
		GRANT ALL PRIVILEGES ON sbtest.* TO 'app'@'%';
		CREATE TABLE sbtest.probe (seq BIGINT PRIMARY KEY, t_us BIGINT NOT NULL) ENGINE=InnoDB" ||
		die "cannot create sbtest"
	mapfile -t sb_app < <(sysbench_args app)
	bench_run sysbench "${sb_app[@]}" --threads=4 prepare >"$rd/prepare.log" 2>&1 ||
		{ cat "$rd/prepare.log" >&2; die "sysbench prepare failed"; }

	daemon_conf "$rd/rw.conf" "$rd/state"
	mkdir -p "$rd/state"
	bench_daemon "$rd/rw.conf"
	bench_run "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 60 >/dev/null ||
		die "replica did not settle after the prepare"

	bg_start sysbench "${sb_app[@]}" --threads=4 --time=0 --events=0 --rate="$RATE" \
		--mysql-ignore-errors=all --report-interval=0 run >"$rd/sysbench.log" 2>&1
	SYSBENCH_PID=$!
	rm -f "$rd/probe.tsv.ready"
	bg_start "$PROBE" --master-cnf "$SB/master-app.cnf" --replica-cnf "$SB/replica-app.cnf" \
		--out "$rd/probe.tsv" --interval-us 2000 --watch-us 5000 2>"$rd/probe.err"
	PROBE_PID=$!
	for _ in $(seq 100); do [[ -e $rd/probe.tsv.ready ]] && break; sleep 0.05; done
	[[ -e $rd/probe.tsv.ready ]] || die "the probe did not connect ($(cat "$rd/probe.err"))"
	bench_sleep 3
	c0=$(com_commit) t0=$EPOCHREALTIME
	bench_sleep 2
	c1=$(com_commit) t1=$EPOCHREALTIME
	tps=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
	bench_run "$CTL" -s "$SOCK" wait rds1 --max-lag 1 --timeout 30 >/dev/null ||
		note "run $i $variant: lag did not come under 1 s in 30 s; cutting over anyway"
	lag=$("$CTL" -s "$SOCK" --json status rds1 | jq '.lag.ms')

	if [[ $kind == cycle ]]; then start_lock_cycle "$rd"; fi
	case $variant in
	replwatch)
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
	manual | manual-fast)
		bench_daemon_stop
		rc=0
		bench_run "$BENCH_DIR/cutover-manual.bash" "$SB" \
			"$([[ $variant == manual ]] && echo 1 || echo 0.1)" \
			>"$rd/events" 2>"$rd/promote.err" || rc=$?
		;;
	esac
	((rc == 0)) || note "run $i $variant: cut-over exited $rc: $(tail -q -n 2 "$rd/promote.err" "$rd/events" | cut -c1-300 | tr '\n' ' ')"
	bench_sleep 0.3
	if [[ $kind == cycle ]]; then finish_lock_cycle "$rd"; fi
	bg_stop "$PROBE_PID"
	PROBE_PID=
	bg_stop "$SYSBENCH_PID"
	SYSBENCH_PID=
	# Not promoted: replication still runs; compare once it caught up.
	if ! grep -q '"outcome":"promoted"\|[0-9] reset$' "$rd/events"; then
		settle_replica
	fi
	dump_tables master "$rd/master.rows"
	dump_tables replica "$rd/replica.rows"
	bench_daemon_stop
	[[ -f $BENCH_TMP/replwatchd.log ]] && mv "$BENCH_TMP/replwatchd.log" "$rd/replwatchd.log"
	"$SANDBOX" down "$SB" >/dev/null 2>&1 || note "sandbox down $SB failed"
	python3 "$BENCH_DIR/cutover-report.py" run --variant "$variant" --run "$i" \
		--kind "$kind" --dir "$rd" --rc "$rc" --tps "$tps" --lag-ms "$lag" \
		--refusals "$refusals" --rate "$RATE" >>"$RUNS_JSONL" ||
		die "cannot analyse run $i $variant"
	tail -1 "$RUNS_JSONL" | jq -c '{variant, run, outcome, write_blocked_ms, probe_unavailable_ms, lost}' >&2
	rm -rf "$SB" "$rd/master.rows" "$rd/replica.rows"
}

started=$EPOCHSECONDS
for ((i = 1; i <= N; i++)); do
	for v in "${VARIANTS[@]}"; do
		one_run "$v" "$i"
	done
done
# The trap on purpose, once each: replwatch, and the manual script (which
# waits as long as the server's innodb_lock_wait_timeout, 50 s by default:
# not with --quick).
if [[ -z ${CUTOVER_NO_CYCLE:-} ]]; then
	one_run replwatch cycle cycle
	((QUICK)) || one_run manual cycle cycle
fi
# A supplement: the same at a load the replica keeps up with, so that the
# procedures' own costs show (not with --quick).
if ((!QUICK)) && [[ -z ${CUTOVER_NO_LIGHT:-} ]] && ((RATE == 0)); then
	RATE=1000
	for ((i = 1; i <= 3; i++)); do
		for v in "${VARIANTS[@]}"; do
			one_run "$v" "light$i" light
		done
	done
	RATE=0
fi
python3 "$BENCH_DIR/cutover-report.py" report "$RUNS_JSONL" --elapsed $((EPOCHSECONDS - started)) | bench_out ||
	die "cannot write the report"
bench_footer
cp "$RUNS_JSONL" "$OUT_DIR/cutover-runs.jsonl"
rm -rf "$OUT_DIR/cutover-raw"
mkdir -p "$OUT_DIR/cutover-raw" && cp -r "$BENCH_TMP"/run-* "$OUT_DIR/cutover-raw/" ||
	note "cannot copy the raw files to $OUT_DIR/cutover-raw"
