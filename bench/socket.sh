#!/usr/bin/env bash
# bench/socket.sh [--quick]: control-socket round trips of replwatchd.
#
# replwatchd watching one sandbox replica (1 s interval); bench/sockload.c
# (compiled here with cc) opens 1 or 50 connections in as many threads,
# each sending requests one after another on a plain blocking socket and
# timing each round trip with clock_gettime(CLOCK_MONOTONIC).  Requests:
# `hello` (tiny reply), `lag` (small), `status main` (the full target
# snapshot, ~3 KB), interleaved and repeated (4 rounds; --quick 2) so noise
# hits them alike; latencies are pooled over the rounds.  Daemon CPU per
# request is its schedstat run time over the run divided by the requests
# it answered (warm-up included; the 1 s polling adds ~0.1 ms/s).  Target:
# p99 under 1 ms at 50 clients, reported as met or not (never asserted).
# Then `status` of every target of a daemon with 50 targets, and
# bench/ringcost.c: the history windows that every `status` computes, with
# a full 15-minute lag ring (the daemon here is too young to have one).
# Tables on stdout and in bench/out/socket.txt.
set -u
source "$(dirname "$0")/common.bash"
bench_init socket "$@"
need pkg-config

if ((QUICK)); then
	ROUNDS=2 N1=500 N50=40 NTHINK=50 NALL=10 WARM=20 RINGK=50
else
	ROUNDS=4 N1=2000 N50=200 NTHINK=200 NALL=40 WARM=50 RINGK=200
fi

LOAD=$BENCH_TMP/sockload
RING=$BENCH_TMP/ringcost
cc -O2 -g -Wall -pthread -o "$LOAD" "$BENCH_DIR/sockload.c" -lm ||
	die "cannot compile bench/sockload.c (needs cc: build-essential)"
# shellcheck disable=SC2046
cc -O2 -g -Wall -std=c11 -I"$REPO/lib" -o "$RING" "$BENCH_DIR/ringcost.c" \
	"$REPO/lib/libreplwatch.a" $(pkg-config --libs libmariadb libevent libsystemd libcjson inih) -lm ||
	die "cannot compile bench/ringcost.c against lib/libreplwatch.a (make all first)"

RES=$BENCH_TMP/results.tsv
: >"$RES"

# one LABEL CLIENTS N REQUEST [THINK_US]: one sockload run, raw latencies kept.
one() {
	local label=$1 clients=$2 n=$3 req=$4 think=${5:-0} c0 c1 q0 q1 w0 w1 line rawf
	rawf=$BENCH_TMP/raw.$label.$clients.$round
	q0=$(wait_ns_schedstat "$DAEMON_PID")
	w0=$(now_ns)
	c0=$(cpu_ns_schedstat "$DAEMON_PID")
	bench_run "$LOAD" -s "$SOCK" -c "$clients" -n "$n" -w "$WARM" -r "$req" \
		-t "$think" -o "$rawf" >"$BENCH_TMP/line" ||
		die "sockload failed ($label, $clients clients)"
	line=$(<"$BENCH_TMP/line")
	c1=$(cpu_ns_schedstat "$DAEMON_PID")
	w1=$(now_ns)
	q1=$(wait_ns_schedstat "$DAEMON_PID")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$clients" "$round" "$line" \
		"$(((c1 - c0) / (clients * (n + WARM))))" \
		"$(((q1 - q0) * 1000 / (w1 - w0)))" >>"$RES"
}

bench_header "Control-socket latency (sockload: blocking Unix-socket clients, one thread each)"
bench_sandbox

bench_conf "$BENCH_TMP/one.conf" 1000 main
bench_daemon "$BENCH_TMP/one.conf"
bench_wait_polls 2
HELLO='{"id":1,"cmd":"hello"}'
LAG='{"id":1,"cmd":"lag","target":"main"}'
STATUS='{"id":1,"cmd":"status","target":"main"}'
# Each round starts at a different configuration, so none is always first.
runs=(
	"hello 1 $N1 $HELLO"
	"lag 1 $N1 $LAG"
	"status 1 $N1 $STATUS"
	"hello 50 $N50 $HELLO"
	"lag 50 $N50 $LAG"
	"status 50 $N50 $STATUS"
	"status-think 50 $NTHINK $STATUS 10000"
)
for ((round = 1; round <= ROUNDS; round++)); do
	note "round $round of $ROUNDS"
	for ((i = 0; i < ${#runs[@]}; i++)); do
		# shellcheck disable=SC2086
		one ${runs[(i + round - 1) % ${#runs[@]}]}
	done
done
bench_daemon_stop

names=()
for i in $(seq -w 1 50); do names+=("t$i"); done
bench_conf "$BENCH_TMP/fifty.conf" 1000 "${names[@]}"
bench_daemon "$BENCH_TMP/fifty.conf"
bench_wait_polls 2
ALL='{"id":1,"cmd":"status"}'
ONE='{"id":1,"cmd":"status","target":"t01"}'
for ((round = 1; round <= ROUNDS; round++)); do
	note "50 targets: round $round of $ROUNDS"
	one "status-1-of-50" 1 "$N1" "$ONE"
	one "status-all-50" 1 "$((N1 / 10))" "$ALL"
	one "status-all-50" 50 "$NALL" "$ALL"
done
bench_daemon_stop

python3 - "$RES" "$BENCH_TMP" <<'EOF' | bench_out || die "report failed ($RES)"
import math, statistics, sys
res, tmp = sys.argv[1], sys.argv[2]
runs = {}
for line in open(res):
    label, clients, rnd, kv, cpu, waitpm = line.rstrip("\n").split("\t")
    d = dict(x.split("=") for x in kv.split())
    d["wait"] = int(waitpm) / 10
    runs.setdefault((label, int(clients)), []).append((rnd, d, int(cpu)))
def pct(xs, q):
    return xs[max(1, math.ceil(q * len(xs))) - 1]
desc = {"hello": "hello", "lag": "lag main", "status": "status main",
        "status-think": "status main, 0-20 ms pause between requests",
        "status-1-of-50": "status t01 (daemon with 50 targets)",
        "status-all-50": "status, all 50 targets"}
print("| request | clients | rounds x requests | p50 ms | p99 ms | max ms "
      "| p99 per round ms (min-max) | req/s (median round) | reply bytes "
      "| daemon CPU us/request (median) | daemon waiting for a CPU, % of "
      "run (median) | p99 < 1 ms at 50 clients |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
order = list(desc)
for (label, clients), rs in sorted(runs.items(),
                                   key=lambda kv: (order.index(kv[0][0]) if kv[0][0] != "status-think" else 2.5, kv[0][1])):
    lat = []
    for rnd, d, cpu in rs:
        lat += [float(x) for x in open(f"{tmp}/raw.{label}.{clients}.{rnd}")]
    lat.sort()
    p99s = sorted(float(d["p99_us"]) / 1000 for _, d, _ in rs)
    rps = statistics.median(float(d["rps"]) for _, d, _ in rs)
    cpu = statistics.median(c for _, _, c in rs) / 1000
    wait = statistics.median(d["wait"] for _, d, _ in rs)
    errs = sum(int(d["errors"]) for _, d, _ in rs)
    p99 = pct(lat, 0.99) / 1000
    verdict = ("met" if p99 < 1 else "NOT met") if clients == 50 else "-"
    print(f"| {desc[label]} | {clients} | {len(rs)} x {len(lat) // len(rs)} "
          f"| {pct(lat, 0.5) / 1000:.3f} | {p99:.3f} | {lat[-1] / 1000:.3f} "
          f"| {p99s[0]:.3f}-{p99s[-1]:.3f} | {rps:,.0f} | {rs[0][1]['reply_bytes']} "
          f"| {cpu:.1f} | {wait:.1f} | {verdict}{f', {errs} errors' if errs else ''} |")
EOF
{
	cat <<-EOF

	Latency: send() of the request to the reply's newline, per request, in
	the client thread (so it includes waking that thread: 50 client threads
	share $(nproc) CPUs with the daemon).  One daemon thread serves all
	clients in turn, so at 50 clients a request waits behind the others:
	p50 is about 50 x (daemon CPU per request) when the daemon is the
	bottleneck (clients send back to back).  The "pause" row has each of
	the 50 clients wait 0-20 ms (10 ms mean) between requests: concurrent
	clients that do not saturate the daemon.  "status - hello" CPU is the
	cost of building the snapshot.  "Waiting for a CPU" is the daemon's
	run-queue time (schedstat) over the run: with the clients' threads and
	everyone else's work on $(nproc) CPUs, it is what stretches the tails.

	History windows in every status, full 15-minute ring (bench/ringcost.c
	calling lib/lagring.c's lagring_window for 1m, 5m and 15m, $RINGK repeats).
	The daemons above are seconds old, so their rings hold few samples; once
	one has run 15 minutes, each status pays this per target on top, and
	the single event loop serves no poll and no other client meanwhile:

	EOF
	"$RING" -k "$RINGK"
} | bench_out
bench_footer
