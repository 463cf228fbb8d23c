#!/usr/bin/env bash
# bench/footprint.sh [--quick]: memory and CPU of replwatchd while it polls.
#
# replwatchd watching a sandbox replica (rds-mysql, --replicate) as the RDS
# master user, in turn: 1 target at 1 s for 60 s (--quick 15 s); 1, 10 and
# 50 targets (the same replica under different names) at 100 ms, and 50 at
# 1 s, for 15 s each (--quick 6 s).  Per run: VmRSS and VmHWM from
# /proc/PID/status at the end; daemon CPU over the window from
# /proc/PID/task/*/schedstat (ns) and from utime+stime in /proc/PID/stat
# (clock ticks, coarse); polls (ok + failed) from `status`; CPU per poll =
# CPU / polls, per sub-window of 5 s (median and range); targets per core
# at 1 s = 1 s / CPU per poll.  The replica mariadbd's extra CPU per poll
# (schedstat over the window minus its idle rate measured first) shows what
# the polling costs the server.  Machine busy % (/proc/stat) shows how much
# else ran.  Then
# valgrind --tool=callgrind: instructions per poll, per `status` and per
# `hello` request, and where a poll's instructions go.  The field's tools
# are quoted from shared/REFERENCE.md §7 (not measured here).  Tables on
# stdout and in bench/out/footprint.txt.
set -u
source "$(dirname "$0")/common.bash"
bench_init footprint "$@"

if ((QUICK)); then
	T_LONG=15 T_SHORT=6 T_IDLE=3 T_CG=5 SUB=3
else
	T_LONG=60 T_SHORT=15 T_IDLE=5 T_CG=8 SUB=5
fi
HZ=$(getconf CLK_TCK)

bench_header "Footprint (replwatchd polling one sandbox replica)"
bench_sandbox

# Replica mariadbd idle CPU (ns/s, schedstat of its threads) with nobody
# polling it.
r0=$(cpu_ns_schedstat "$REPLICA_PID")
w0=$(now_ns)
bench_sleep "$T_IDLE"
r1=$(cpu_ns_schedstat "$REPLICA_PID")
w1=$(now_ns)
IDLE_NSPS=$(awk -v t=$((r1 - r0)) -v w=$((w1 - w0)) 'BEGIN { printf "%.1f", t / (w / 1e9) }')

RES=$BENCH_TMP/footprint.tsv
: >"$RES"

# polls_now: polls (ok + failed) of every target, and the daemon's schedstat
# CPU just before and just after asking, so that the status request's own
# cost can be left out: "CPU_BEFORE POLLS CPU_AFTER".
polls_now() {
	local ca cb p
	ca=$(cpu_ns_schedstat "$DAEMON_PID")
	p=$("$CTL" -s "$SOCK" --json status | jq '[.targets[].polls | .ok + .failed] | add')
	cb=$(cpu_ns_schedstat "$DAEMON_PID")
	echo "$ca $p $cb"
}

# measure TARGETS INTERVAL_MS SECONDS: the window is cut into sub-windows of
# $SUB s; CPU per poll is given for each (median and range reported).
measure() {
	local ntargets=$1 interval=$2 secs=$3 names=() i k1 k2 r1 r2 w1 w2
	local ca p cb pca pp pcb subs=() cpu=0 polls=0 m1 m2
	for ((i = 1; i <= ntargets; i++)); do names+=("$(printf 't%02d' "$i")"); done
	bench_conf "$BENCH_TMP/fp.conf" "$interval" "${names[@]}"
	bench_daemon "$BENCH_TMP/fp.conf"
	bench_wait_polls 2
	note "$ntargets target(s) at $interval ms for $secs s"
	k1=$(cpu_ticks_stat "$DAEMON_PID")
	r1=$(cpu_ns_schedstat "$REPLICA_PID")
	m1=$(machine_jiffies)
	w1=$(now_ns)
	read -r pca pp pcb < <(polls_now)
	for ((i = 0; i < secs / SUB; i++)); do
		bench_sleep "$SUB"
		read -r ca p cb < <(polls_now)
		subs+=("$((ca - pcb)):$((p - pp))")
		cpu=$((cpu + ca - pcb))
		polls=$((polls + p - pp))
		pcb=$cb pp=$p
	done
	w2=$(now_ns)
	k2=$(cpu_ticks_stat "$DAEMON_PID")
	r2=$(cpu_ns_schedstat "$REPLICA_PID")
	m2=$(machine_jiffies)
	failed=$("$CTL" -s "$SOCK" --json status | jq '[.targets[].polls.failed] | add')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ntargets" "$interval" \
		"$((w2 - w1))" "$polls" "$cpu" "$((k2 - k1))" \
		"$((r2 - r1))" "$(status_kb "$DAEMON_PID" VmRSS)" \
		"$(status_kb "$DAEMON_PID" VmHWM)" "$failed" "$(IFS=,; echo "${subs[*]}")" \
		"$(awk -v a="$m1" -v b="$m2" 'BEGIN { split(a, x, " "); split(b, y, " ")
			printf "%.0f", (y[1] - x[1]) / (y[2] - x[2]) * 100 }')" >>"$RES"
	bench_daemon_stop
}

measure 1 1000 "$T_LONG"
measure 1 100 "$T_SHORT"
measure 10 100 "$T_SHORT"
measure 50 100 "$T_SHORT"
measure 50 1000 "$T_SHORT"

python3 - "$RES" "$HZ" "$IDLE_NSPS" <<'EOF' | bench_out || die "report failed ($RES)"
import statistics, sys
res, hz, idle_nsps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
print("| config | window s | polls | polls/s (configured) | machine busy % | daemon CPU % | CPU/poll us "
      "(schedstat; median of sub-windows) | range over sub-windows | CPU/poll "
      f"us (utime+stime, 1/{hz} s ticks) | targets per core at 1 s | VmRSS MB "
      "| VmHWM MB | replica mariadbd extra CPU/poll us |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
best = None
for line in open(res):
    f = line.split()
    nt, iv, wall, polls, cns, ticks, rns, rss, hwm, failed = map(int, f[:10])
    subs = [tuple(map(int, x.split(":"))) for x in f[10].split(",")]
    busy = f[11]
    subper = sorted(c / 1e3 / p for c, p in subs if p > 0)
    w = wall / 1e9
    per = statistics.median(subper) if subper else float("nan")
    rng = f"{subper[0]:.1f}-{subper[-1]:.1f} ({len(subper)} x)" if subper else "-"
    per_t = (f"{ticks / hz * 1e6 / polls:.0f}" if ticks else
             f"< {1e6 / hz / polls:.0f} (0 ticks)") if polls else "-"
    rper = (rns - idle_nsps * w) / 1e3 / polls if polls else float("nan")
    label = f"{nt} target{'s' if nt > 1 else ''} x {iv} ms"
    if failed:
        label += f" ({failed} failed polls)"
    if nt == 50 and iv == 100:
        best = per
    print(f"| {label} | {w:.1f} | {polls} | {polls / w:.1f} ({nt * 1000 / iv:.0f}) | {busy} | "
          f"{cns / wall * 100:.2f} | {per:.1f} | {rng} | {per_t} | "
          f"{1e6 / per:,.0f} | {rss / 1024:.1f} | {hwm / 1024:.1f} | "
          + (f"{rper:.0f} |" if rper >= 0 else f"~0 (below idle noise: {rper:.0f}) |"))
print("| pt-heartbeat --monitor (quoted from REFERENCE.md §7, not measured here) "
      "| - | - | - | - | - | ~1000 per observation | - | - | - | 25 | - | - |")
print("| mysqld_exporter 0.14 (quoted from REFERENCE.md §7, not measured here) "
      "| - | - | - | - | - | ~5000 per scrape | - | - | - | 17.6 | - | - |")
if best:
    print(f"\nTargets per core: at 50 targets x 100 ms the daemon spends {best:.1f} us "
          f"of CPU per poll, so one core would poll about {1e6 / best:,.0f} "
          "targets at a 1 s interval (extrapolated: replwatchd is one thread, so "
          "one core is also its ceiling; the replica pays its own CPU, last "
          "column).")
print("Daemon CPU leaves out the `status` requests that count the polls (CPU "
      "read just before and after each).  RSS: the lag ring is 16 bytes per "
      "sample, 15 min / interval samples per target (14 KB at 1 s, 141 KB at "
      "100 ms), calloc'd, so its pages join RSS as it fills over the first "
      "15 minutes; these windows are shorter.")
print("machine busy %: all CPUs, everyone's work (this machine is shared); polls/s "
      "below the configured rate means the daemon was starved of CPU.")
print("The replica's extra CPU: the schedstat run time of its threads over the "
      f"window minus its idle rate ({idle_nsps / 1e3:.0f} us/s, measured first "
      "with nobody polling); threads that exit take their time with them.")
EOF

# ---- callgrind: instructions per poll, per status, per hello ----------------
if command -v perf >/dev/null; then
	if perf stat -x, -e instructions true 2>&1 | grep -q 'not supported'; then
		echo "perf stat -e instructions: not supported here (no hardware counters); instruction counts below are from callgrind."
	else
		echo "perf stat -e instructions works here, but callgrind below is used for repeatable counts."
	fi | bench_out
fi
if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
	echo "callgrind: skipped (valgrind not installed; apt-get install valgrind)" | bench_out
	bench_footer
	exit 0
fi
LOAD=$BENCH_TMP/sockload
cc -O2 -Wall -pthread -o "$LOAD" "$BENCH_DIR/sockload.c" -lm || die "cannot compile bench/sockload.c"
note "callgrind: 1 target at 100 ms, $T_CG s of polls"
bench_conf "$BENCH_TMP/cg.conf" 100 main
bench_daemon "$BENCH_TMP/cg.conf" valgrind --tool=callgrind --instr-atstart=no \
	--callgrind-out-file="$BENCH_TMP/cg.out" -q
bench_wait_polls 3
polls() { "$CTL" -s "$SOCK" --json status | jq '[.targets[].polls | .ok + .failed] | add'; }
cgdump() {
	callgrind_control -d "$DAEMON_PID" >/dev/null 2>&1 || die "callgrind_control failed"
	sleep 0.3
}
pa=$(polls)
callgrind_control -i on "$DAEMON_PID" >/dev/null 2>&1 || die "callgrind_control -i on failed"
bench_sleep "$T_CG"
cgdump # part 1: polls only
pb=$(polls)
bench_run "$LOAD" -s "$SOCK" -c 1 -n 100 -w 0 -r '{"id":1,"cmd":"status","target":"main"}' >/dev/null
cgdump # part 2: 100 status (+1 from polls()) and the polls meanwhile
pc=$(polls)
bench_run "$LOAD" -s "$SOCK" -c 1 -n 100 -w 0 -r '{"id":1,"cmd":"hello"}' >/dev/null
cgdump # part 3: 100 hello, 1 status, polls
pd=$(polls)
bench_daemon_stop
ir() { awk '/^totals:/ { print $2 }' "$BENCH_TMP/cg.out.$1"; }
# cg_top FILE DIVISOR self|inclusive: top ten functions as a table.
cg_top() {
	local opt=no
	[[ $3 == inclusive ]] && opt=yes
	callgrind_annotate --inclusive=$opt "$1" 2>/dev/null |
		python3 "$BENCH_DIR/cgtop.py" "$2" "$3"
}
{
	python3 - "$(ir 1)" "$(ir 2)" "$(ir 3)" "$pa" "$pb" "$pc" "$pd" <<-'EOF'
	import sys
	i1, i2, i3, pa, pb, pc, pd = map(int, sys.argv[1:])
	poll = i1 / (pb - pa)
	status = (i2 - (pc - pb) * poll) / 101
	hello = (i3 - (pd - pc) * poll - status) / 100
	print("\n| callgrind (1 target, 100 ms) | instructions (Ir) |")
	print("| --- | ---: |")
	print(f"| per poll ({pb - pa} polls: SHOW REPLICA STATUS + SELECT @@read_only, parse, health, ring) | {poll:,.0f} |")
	print(f"| per `status main` request (young ring) | {status:,.0f} |")
	print(f"| per `hello` request | {hello:,.0f} |")
	EOF
	echo
	echo "Where a poll's instructions go (callgrind_annotate of part 1, per poll;"
	echo "??? = libmariadb internals without symbols):"
	cg_top "$BENCH_TMP/cg.out.1" $((pb - pa)) self
	cg_top "$BENCH_TMP/cg.out.1" $((pb - pa)) inclusive
	echo
	echo "Where a status request's instructions go (part 2, per request, polls included):"
	cg_top "$BENCH_TMP/cg.out.2" 101 self
	cg_top "$BENCH_TMP/cg.out.2" 101 inclusive
	echo
	echo "CPU figures are the daemon's own (single thread); RSS includes the shared"
	echo "libraries it maps (libmariadb, libevent, libsystemd, libc)."
} | bench_out
bench_footer
