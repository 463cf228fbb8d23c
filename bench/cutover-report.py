#!/usr/bin/env python3
"""bench/cutover-report.py: analysis for bench/cutover.sh (not a benchmark).

  cutover-report.py run --variant V --run I --dir RUNDIR --rc RC --tps T
      --tps-after T --lag-ms L --behind-bytes B --refusals N --rate R
      --master-port P --replica-port P --run-s S
      one JSON line for one run, from RUNDIR's files: events (the cut-over's
      output, each line stamped on arrival), appwriter.out and
      appwriter.report (tests/tools/appwriter, -report), {master,replica}.rows
      and .probe (row images after the run), gtid, touched (the new master's
      own binlog rows), sysbench (bench/cutover-sysbench.bash's log), cut
  cutover-report.py report RUNS.jsonl [--elapsed S]
      the Markdown tables

All times are CLOCK_REALTIME on this machine: appwriter's and the stamps in
microseconds, the daemon's at_unix_ms / frozen_at_unix_ms in milliseconds.
"""
import json
import math
import os
import sys

TARGET_MEDIAN_MS = 150.0
TARGET_MAX_MS = 1000.0
VARIANTS = ["switch-at-caught-up", "switch-after-promoted", "manual"]
LABEL = {
    "switch-at-caught-up": "switch-at-caught-up (on_switch)",
    "switch-after-promoted": "switch-after-promoted (on_promoted)",
    "manual": "manual runbook",
}


def lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f]
    except OSError:
        return None


def overlap_ms(a0, a1, b0, b1):
    if None in (a0, a1, b0, b1):
        return None
    return max(0.0, (min(a1, b1) - max(a0, b0)) / 1000.0)


def ms(a, b):
    return None if a is None or b is None else (b - a) / 1000.0


def analyse_daemon(d, res):
    """The promotion's JSON lines, each stamped on arrival."""
    report = None
    at = {}
    for line in lines(os.path.join(d, "events")) or []:
        t, _, rest = line.partition(" ")
        try:
            o = json.loads(rest)
        except ValueError:
            continue
        if o.get("type") == "step":
            if isinstance(o.get("at_unix_ms"), (int, float)):
                at[(o.get("step"), o.get("status"))] = o["at_unix_ms"] * 1000
        elif "outcome" in o:
            report = o
    if report is None:
        res["outcome"] = "no report"
        res["reason"] = " ".join((lines(os.path.join(d, "promote.err")) or [])[-2:])[:300]
        return
    res["outcome"] = report.get("outcome")
    res["reason"] = report.get("reason")
    res["write_blocked_ms"] = report.get("write_blocked_ms")
    res["steps_ms"] = {s["step"]: s.get("duration_ms") for s in report.get("steps", [])
                       if s.get("status") in ("done", "failed")}
    res["steps_detail"] = {s["step"]: s.get("detail") for s in report.get("steps", [])}
    if report.get("frozen_at_unix_ms"):
        res["freeze_us"] = report["frozen_at_unix_ms"] * 1000
    if report.get("switched_at_unix_ms"):
        res["switched_us"] = report["switched_at_unix_ms"] * 1000
    hooks = report.get("hooks") or {}
    res["hooks"] = {k: v for k, v in hooks.items() if v is not None}
    res["stop_start_us"] = at.get(("stop", "running"))
    res["stop_end_us"] = at.get(("stop", "done")) or at.get(("stop", "failed"))
    res["switch_start_us"] = at.get(("switch", "running"))
    if res["variant"] == "switch-after-promoted":
        # The application is moved by on_promoted, in the done step.
        res["switch_start_us"] = at.get(("done", "running"))
        res["switched_us"] = at.get(("done", "done")) or at.get(("done", "failed"))
        if res.get("freeze_us") and res.get("switched_us"):
            res["app_blocked_ms"] = ms(res["freeze_us"], res["switched_us"])
    elif res.get("write_blocked_ms") is not None:
        res["app_blocked_ms"] = res["write_blocked_ms"]


def analyse_manual(d, res, rc):
    at = {}
    polls = 0
    for line in lines(os.path.join(d, "events")) or []:
        w = line.split()
        if len(w) < 2:
            continue
        try:
            t = int(w[0])
        except ValueError:
            continue
        at.setdefault(w[1], t)
        if w[1] == "poll":
            polls += 1
        if w[1] == "error":
            res["reason"] = " ".join(w[2:])
    res["polls"] = polls
    res["outcome"] = "promoted" if rc == 0 and "switched" in at else "failed"
    res["freeze_us"] = at.get("freeze_start")
    res["switched_us"] = at.get("switched")
    res["write_blocked_ms"] = ms(at.get("freeze_start"), at.get("switched"))
    res["app_blocked_ms"] = res["write_blocked_ms"]
    res["steps_ms"] = {
        "freeze": ms(at.get("freeze_start"), at.get("final")),
        "catchup": ms(at.get("final"), at.get("caught")),
        "stop": ms(at.get("caught"), at.get("stopped")),
        "reset": ms(at.get("stopped"), at.get("reset")),
        "switch": ms(at.get("switch_start"), at.get("switched")),
    }
    res["stop_start_us"] = at.get("caught")
    res["stop_end_us"] = at.get("stopped")
    res["switch_start_us"] = at.get("switch_start")


def analyse_app(d, res, mport, rport):
    """appwriter's record: gap, errors, acks per server; lost rows."""
    rep = {}
    errnos = {}
    ports = {}
    for line in lines(os.path.join(d, "appwriter.report")) or []:
        w = line.split()
        if not w:
            continue
        if w[0] == "errno" and len(w) == 3:
            errnos[w[1]] = int(w[2])
        elif w[0] == "port" and len(w) >= 8:
            ports[w[1]] = {"acks": int(w[3]), "first_us": int(w[5]), "last_us": int(w[7])}
        elif w[0] == "gap_ms" and len(w) == 4:
            rep["gap_ms"], rep["gap_from_us"], rep["gap_to_us"] = float(w[1]), int(w[2]), int(w[3])
        elif len(w) == 2:
            rep[w[0]] = int(w[1])
    res["gap_ms"] = rep.get("gap_ms")
    res["gap_from_us"] = rep.get("gap_from_us")
    res["gap_to_us"] = rep.get("gap_to_us")
    res["acks"] = rep.get("acks")
    res["errors"] = rep.get("errors")
    res["connects"] = rep.get("connects")
    res["errnos"] = errnos
    res["acks_old"] = (ports.get(str(mport)) or {}).get("acks", 0)
    res["acks_new"] = (ports.get(str(rport)) or {}).get("acks", 0)
    res["other_ports"] = sorted(p for p in ports if p not in (str(mport), str(rport)))
    res["last_old_ack_us"] = (ports.get(str(mport)) or {}).get("last_us")
    res["first_new_ack_us"] = (ports.get(str(rport)) or {}).get("first_us")

    acked = {"old": set(), "new": set()}
    acks_t = []
    for line in lines(os.path.join(d, "appwriter.out")) or []:
        w = line.split()
        if len(w) == 4 and w[0] == "a":
            acks_t.append(int(w[2]))
            if w[3] == str(mport):
                acked["old"].add(w[1])
            elif w[3] == str(rport):
                acked["new"].add(w[1])
    # The longest gap before the cut-over began: the machine's own noise.
    cut = (lines(os.path.join(d, "cut")) or [""])[0].split()
    if len(cut) == 2:
        c0 = int(cut[0])
        res["cut_start_us"], res["cut_end_us"] = c0, int(cut[1])
        before = [t for t in acks_t if t <= c0]
        res["gap_before_ms"] = max((b - a for a, b in zip(before, before[1:])), default=0) / 1000.0
        # The cut-over's gap: the longest one that ends after the cut-over
        # began (one that straddles its start included).
        cut_gaps = [(b - a, a, b) for a, b in zip(acks_t, acks_t[1:]) if b > c0]
        if cut_gaps:
            g, a0, b0 = max(cut_gaps)
            res["cut_gap_ms"], res["cut_gap_from_us"], res["cut_gap_to_us"] = g / 1000.0, a0, b0
            res["cut_gap_began_after_cut_ms"] = ms(c0, a0)
    old_rows = lines(os.path.join(d, "master.probe"))
    new_rows = lines(os.path.join(d, "replica.probe"))
    if old_rows is None or new_rows is None:
        res["lost_acked"] = None
        return
    old_rows, new_rows = set(old_rows), set(new_rows)
    res["lost_acked_old"] = len(acked["old"] - new_rows)
    res["lost_acked_new"] = len(acked["new"] - new_rows)
    res["lost_acked"] = res["lost_acked_old"] + res["lost_acked_new"]
    res["acked_old_not_on_old"] = len(acked["old"] - old_rows)
    # Rows the old master committed (acked or not: a killed connection hides
    # the ack) that the new one lacks.
    res["old_probe_rows_missing_on_new"] = len(old_rows - new_rows)
    res["probe_rows_old"] = len(old_rows)


def load_rows(path):
    rows = {}
    for line in lines(path) or []:
        p = line.split("\t")
        if len(p) == 3:
            rows[(p[0], p[1])] = p[2]
    return rows


def analyse_sysbench(d, res):
    m = lines(os.path.join(d, "master.rows"))
    n = lines(os.path.join(d, "replica.rows"))
    if m is None or n is None:
        res["sb_lost"] = None
    else:
        m, n = load_rows(os.path.join(d, "master.rows")), load_rows(os.path.join(d, "replica.rows"))
        touched = set()
        for line in lines(os.path.join(d, "touched")) or []:
            p = line.split("\t")
            if len(p) == 2:
                touched.add((p[0], p[1]))
        keys = [k for k in m if k not in touched]
        res["sb_rows_compared"] = len(keys)
        res["sb_rows_left_out"] = len(touched)
        res["sb_lost"] = sum(1 for k in keys if n.get(k) != m[k])
        res["sb_extra"] = sum(1 for k in n if k not in m and k not in touched)
    g = {}
    for line in lines(os.path.join(d, "gtid")) or []:
        p = line.split("\t")
        if len(p) == 2:
            g[p[0]] = p[1]
    res["gtid_old"] = g.get("old_binlog_pos")
    res["gtid_new_slave"] = g.get("new_slave_pos")
    res["gtid_applied"] = (res["gtid_old"] is not None and res["gtid_old"] == res["gtid_new_slave"])
    # sysbench restarts (each after a segfault, a failed connect, ...)
    starts, exits = 0, {}
    for line in lines(os.path.join(d, "sysbench")) or []:
        w = line.split()
        if w and w[0] == "start":
            starts += 1
        elif len(w) == 4 and w[0] == "exit":
            exits[w[3]] = exits.get(w[3], 0) + 1
    res["sysbench_starts"] = starts
    res["sysbench_exits"] = exits


def cmd_run(a):
    d = a["dir"]
    variant = a["variant"]
    rc = int(a["rc"])

    def num(k):
        v = a.get(k)
        return float(v) if v not in (None, "", "null") else None
    res = {"variant": variant, "run": a["run"], "rc": rc, "rate": int(a.get("rate") or 0),
           "lag_refusals": int(a.get("refusals") or 0), "tps_before": num("tps"),
           "tps_after": num("tps_after"), "lag_before_ms": num("lag_ms"),
           "behind_bytes": num("behind_bytes"), "run_s": num("run_s")}
    if variant == "manual":
        analyse_manual(d, res, rc)
    else:
        analyse_daemon(d, res)
    analyse_app(d, res, a["master_port"], a["replica_port"])
    analyse_sysbench(d, res)
    st = res.get("stop_start_us")
    en = res.get("stop_end_us")
    res["stop_ms"] = ms(st, en)
    # Where the gap goes.
    res["last_old_ack_to_freeze_ms"] = ms(res.get("last_old_ack_us"), res.get("freeze_us"))
    res["freeze_to_switch_start_ms"] = ms(res.get("freeze_us"), res.get("switch_start_us"))
    res["switch_start_to_new_ack_ms"] = ms(res.get("switch_start_us"), res.get("first_new_ack_us"))
    res["stop_in_gap_ms"] = overlap_ms(st, en, res.get("cut_gap_from_us"), res.get("cut_gap_to_us"))
    # The freeze's statements that waited lock_wait_timeout and were tried
    # again (promote.c: "... waited N s for a lock; retrying").
    log = lines(os.path.join(d, "replwatchd.log")) or []
    res["freeze_lock_retries"] = [l.split(" ", 3)[-1] for l in log if "for a lock; retrying" in l]
    print(json.dumps(res, sort_keys=True))


# ---- report -----------------------------------------------------------------

def vals(rs, k):
    return [r.get(k) for r in rs if r.get(k) is not None]


def pct(v, p):
    """Nearest-rank percentile."""
    v = sorted(v)
    if not v:
        return None
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def median(v):
    v = sorted(v)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def f(x, nd=0):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}"


def trio(v, nd=0):
    return f"{f(median(v), nd)} / {f(pct(v, 95), nd)} / {f(max(v) if v else None, nd)}"


def switch_gap(r):
    """The gap across the switch: the last ack on the old master to the
    first on the new one."""
    a, b = r.get("last_old_ack_us"), r.get("first_new_ack_us")
    return None if a is None or b is None else (b - a) / 1000.0


def where_gap(r):
    """Where the longest gap from the cut-over on lies."""
    a, b = r.get("cut_gap_from_us"), r.get("cut_gap_to_us")
    lo, fn = r.get("last_old_ack_us"), r.get("first_new_ack_us")
    if None in (a, b, lo, fn):
        return None
    if a == lo and b == fn:
        return "across the switch"
    if a >= fn:
        return "on the new master"
    return "on the old master"


def lost_of(r):
    """Lost rows of one run, or None when unknown."""
    parts = [r.get("lost_acked"), r.get("old_probe_rows_missing_on_new"), r.get("sb_lost")]
    if any(x is None for x in parts):
        return None
    return sum(parts)


def cmd_report(path, elapsed):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    order = [v for v in VARIANTS if any(r["variant"] == v for r in runs)]
    by = {v: [r for r in runs if r["variant"] == v] for v in order}
    ok = {v: [r for r in by[v] if r.get("outcome") == "promoted"] for v in order}
    out = []
    p = out.append

    p("| variant | runs promoted | app-visible longest write gap from the cut-over on, ms: median / p95 / max "
      "| the same over the whole run, ms: median / p95 / max "
      "| app errors: total (median per run) | errors by errno (total) "
      "| lost rows: acked app rows / other app rows / sysbench rows (sum) "
      "| old master's last GTID applied on the new | write_blocked_ms, median (daemon's) "
      "| stop step ms, median | stop inside the app's gap |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        rs, g = by[v], ok[v]
        errs = vals(rs, "errors")
        byerr = {}
        for r in rs:
            for e, n in (r.get("errnos") or {}).items():
                byerr[e] = byerr.get(e, 0) + n
        byerr_s = ", ".join(f"{e}: {n:,}" for e, n in sorted(byerr.items(), key=lambda x: int(x[0]))) or "none"

        def sumk(k):
            xs = [r.get(k) for r in rs]
            return "?" if any(x is None for x in xs) else f"{sum(xs):,}"
        wb = vals(g, "write_blocked_ms")
        inside = sum(1 for r in g if (r.get("stop_in_gap_ms") or 0) > 0)
        p(f"| {LABEL[v]} | {len(g)}/{len(rs)} | {trio(vals(rs, 'cut_gap_ms'))} | {trio(vals(rs, 'gap_ms'))} "
          f"| {f(sum(errs))} ({f(median(errs))}) | {byerr_s} "
          f"| {sumk('lost_acked')} / {sumk('old_probe_rows_missing_on_new')} / {sumk('sb_lost')} "
          f"| {sum(1 for r in rs if r.get('gtid_applied'))}/{len(rs)} "
          f"| {f(median(wb))}{' (its switch step moves nothing here)' if v == 'switch-after-promoted' else ''}{' (the script: read_only to switched)' if v == 'manual' else ''} "
          f"| {f(median(vals(g, 'stop_ms')))} "
          f"| {inside}/{len(g)} runs (median overlap {f(median(vals(g, 'stop_in_gap_ms')))} ms) |")
    p("")
    p("- app-visible longest write gap: tests/tools/appwriter (one autocommit INSERT "
      "every 1 ms as `app` through HAProxy, reconnecting on errors): the longest "
      "time between two consecutive acknowledged inserts.  From the cut-over on: "
      "the longest gap that ends after the cut-over began (promote or the manual "
      "script started), through the 1 s of load after it; over the whole run: "
      "tests/tools/appwriter-report's gap_ms, which also counts the 4 s of load "
      "before (the machine's own hiccups: see the longest gap before the cut-over "
      "below).  p95 nearest-rank.  Over every run, promoted or not.")
    p("- app errors: appwriter's failed inserts and connects (1290: read_only; "
      "1927/2013/2006: the connection killed by the freeze or cut by HAProxy's "
      "`shutdown sessions`; 2003/2013 at connect: no usable server for a moment).")
    p("- lost rows: acked app rows = rows appwriter got an OK for (from the old "
      "master or the new one) that the new master's sbtest.probe lacks; other "
      "app rows = rows in the old master's sbtest.probe the new one lacks "
      "(committed, ack lost); sysbench rows = rows of sbtest1..4 on the old "
      "master (frozen) that the new master lacks or holds differently (CRC32 of "
      "every column), leaving out the rows that the new master's own binary log "
      "shows written after the switch.  GTID: the old master's "
      "@@gtid_binlog_pos equals the new master's @@gtid_slave_pos: every "
      "transaction the old master committed was applied.")
    p("- write_blocked_ms: the daemon's report (from the freeze, read_only on the "
      "old master, to the end of the switch step); manual: the script's clock "
      "from `SET GLOBAL read_only = ON` to the hook's return.  stop: "
      "rds_stop_replication's step (the daemon's step events; manual: the "
      "script's stamps); inside the gap = it overlaps the application's longest "
      "gap from the cut-over on.")
    p("")

    # Steps.
    p("| variant | freeze | catchup | switch | stop | reset | verify | done (on_promoted) "
      "| app blocked: freeze to switched, ms | gap began, ms after the cut-over began |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        g = ok[v]

        def st(s):
            return f(median([x for x in ((r.get("steps_ms") or {}).get(s) for r in g) if x is not None]), 1)
        p(f"| {LABEL[v]} | {st('freeze')} | {st('catchup')} | {st('switch')} | {st('stop')} "
          f"| {st('reset')} | {st('verify')} | {st('done')} "
          f"| {trio(vals(g, 'app_blocked_ms'))} | {f(median(vals(by[v], 'cut_gap_began_after_cut_ms')))} |")
    p("")
    p("Step durations in ms, medians over the promoted runs (the daemon's report; "
      "manual: the script's stamps, one `mariadb` client run per step, freeze = "
      "read_only + SHOW MASTER STATUS, catchup = the SHOW SLAVE STATUS polls, "
      "switch = the hook).  The daemon's freeze includes waiting for the "
      "moment the replica is within 64 KiB.  app blocked: median / p95 / max.")
    p("")

    # Where the gap goes.
    p("| variant | runs whose longest gap is the one across the switch "
      "| gap across the switch: last ack on the old master -> first on the new "
      "| last ack on the old master -> the freeze begins | the freeze begins -> the switch begins "
      "| the switch begins -> first ack on the new master | the switch's hook, whole (ends after that ack) |")
    p("| --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        g = ok[v]
        hook = [x for x in ((r.get("steps_ms") or {}).get("done" if v == "switch-after-promoted" else "switch")
                            for r in g) if x is not None]
        sg = [x for x in (switch_gap(r) for r in g) if x is not None]
        across = sum(1 for r in g if where_gap(r) == "across the switch")
        p(f"| {LABEL[v]} | {across}/{len(g)} | {trio(sg)} | {trio(vals(g, 'last_old_ack_to_freeze_ms'))} "
          f"| {trio(vals(g, 'freeze_to_switch_start_ms'))} "
          f"| {trio(vals(g, 'switch_start_to_new_ack_ms'))} | {trio(hook)} |")
    p("")
    p("ms, median / p95 / max over the promoted runs.  The freeze begins: the daemon's "
      "frozen_at, taken as it sends read_only (ms resolution; an insert already "
      "past the read_only check still commits, so the first column may be "
      "negative); manual: the script's stamp before the client that runs `SET "
      "GLOBAL read_only = ON` starts.  The "
      "switch begins: the switch step's start (switch-after-promoted: the done "
      "step's, which runs on_promoted; manual: just before the hook).  The "
      "first ack on the new master needs the hook to have sent its one runtime "
      "API line and appwriter to reconnect; the hook then reads the state back "
      "and checks it, which the daemon's switch step (and write_blocked_ms) "
      "includes.")
    p("")

    # Context.
    p("| variant | longest gap before the cut-over, ms: median / max | sysbench tps "
      "before (old) / after (new), median | replica behind before, bytes (median) "
      "| sysbench starts per run (median) | rows compared: sysbench (median) / "
      "left out as rewritten | appwriter acks old / new (median) | run s (median) |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        rs = by[v]
        gb = vals(rs, "gap_before_ms")
        p(f"| {LABEL[v]} | {f(median(gb))} / {f(max(gb) if gb else None)} "
          f"| {f(median(vals(rs, 'tps_before')))} / {f(median(vals(rs, 'tps_after')))} "
          f"| {f(median(vals(rs, 'behind_bytes')))} | {f(median(vals(rs, 'sysbench_starts')))} "
          f"| {f(median(vals(rs, 'sb_rows_compared')))} / {f(median(vals(rs, 'sb_rows_left_out')))} "
          f"| {f(median(vals(rs, 'acks_old')))} / {f(median(vals(rs, 'acks_new')))} "
          f"| {f(median(vals(rs, 'run_s')), 1)} |")
    p("")
    p("- longest gap before the cut-over: the same measure over the acks before the "
      "cut-over began (2 s of load and the 2 s throughput sample): what this "
      "machine does to a 1 ms writer without any cut-over.")
    p("- tps: the server's Com_commit per second (sysbench's transactions), 2 s "
      "on the old master before, 1 s on the new master after the cut-over "
      "(the load reached it).  sysbench starts: 1 + its restarts (it segfaults "
      "when reconnecting after a killed session; bench/cutover-sysbench.bash "
      "starts it again).")
    p("")

    # Target.
    if "switch-at-caught-up" in by:
        rs, g = by["switch-at-caught-up"], ok["switch-at-caught-up"]
        gaps = vals(rs, "cut_gap_ms")
        med, worst = median(gaps), (max(gaps) if gaps else None)
        whole = vals(rs, "gap_ms")
        wmed, wworst = median(whole), (max(whole) if whole else None)
        lost = [lost_of(r) for r in rs]
        lost_unknown = any(x is None for x in lost)
        lost_total = sum(x for x in lost if x is not None)
        gtid_all = all(r.get("gtid_applied") for r in rs)
        all_promoted = len(g) == len(rs) > 0
        met_med = med is not None and med <= TARGET_MEDIAN_MS
        met_max = worst is not None and worst <= TARGET_MAX_MS
        met_lost = not lost_unknown and lost_total == 0 and gtid_all
        p(f"- target (switch-at-caught-up): app-visible write gap from the cut-over on, median <= "
          f"{TARGET_MEDIAN_MS:.0f} ms: {'met' if met_med else 'NOT met'} ({f(med, 1)} ms)")
        p(f"- target: worst <= {TARGET_MAX_MS:.0f} ms: {'met' if met_max else 'NOT met'} "
          f"({f(worst, 1)} ms)")
        sg = [x for x in (switch_gap(r) for r in rs) if x is not None]
        p(f"- the gap across the switch alone (last ack on the old master to the first on the "
          f"new): median {f(median(sg), 1)} ms, worst {f(max(sg) if sg else None, 1)} ms")
        p(f"- the same over the whole run, the load before the cut-over included: median "
          f"{f(wmed, 1)} ms ({'met' if wmed is not None and wmed <= TARGET_MEDIAN_MS else 'NOT met'}), "
          f"worst {f(wworst, 1)} ms ({'met' if wworst is not None and wworst <= TARGET_MAX_MS else 'NOT met'})")
        p(f"- target: 0 lost rows: {'met' if met_lost else 'NOT met'} "
          f"({'unknown' if lost_unknown else f'{lost_total:,}'} lost over {len(rs)} runs; "
          f"old master's last GTID applied in {sum(1 for r in rs if r.get('gtid_applied'))}/{len(rs)})")
        inside = [r for r in g if (r.get("stop_in_gap_ms") or 0) > 0]
        p(f"- the >= 3 s stop outside the application's gap: "
          f"{len(g) - len(inside)}/{len(g)} runs (stop step median {f(median(vals(g, 'stop_ms')))} ms)")
        p(f"- every promotion succeeded: {'yes' if all_promoted else 'NO'} ({len(g)}/{len(rs)})")
        p(f"- **target met: {'yes' if met_med and met_max and met_lost and all_promoted else 'no'}**")
        p("")

    # Notes: failures, anomalies.
    notes = []
    for r in runs:
        tag = f"run {r['run']} {r['variant']}"
        if r.get("outcome") != "promoted":
            notes.append(f"{tag}: not promoted ({r.get('outcome')}, exit {r.get('rc')}): {r.get('reason')}")
        elif r.get("rc") not in (0, None):
            notes.append(f"{tag}: promoted, exit {r.get('rc')}: {r.get('reason')}")
        for h, hv in (r.get("hooks") or {}).items():
            if isinstance(hv, dict) and not hv.get("ok", True):
                notes.append(f"{tag}: hook {h} failed: {hv.get('detail')}")
        if r.get("lag_refusals"):
            notes.append(f"{tag}: {r['lag_refusals']} preflight refusal(s) for lag, retried")
        for k, what in (("lost_acked_old", "rows acked by the old master missing on the new"),
                        ("lost_acked_new", "rows acked by the new master missing there"),
                        ("acked_old_not_on_old", "rows acked by the old master missing there"),
                        ("old_probe_rows_missing_on_new", "probe rows of the old master missing on the new"),
                        ("sb_lost", "sysbench rows lost"),
                        ("sb_extra", "sysbench rows on the new master the old lacks (not rewritten after the switch)")):
            if r.get(k):
                notes.append(f"{tag}: {r[k]} {what}")
        if r.get("gtid_applied") is False:
            notes.append(f"{tag}: old master {r.get('gtid_old')} vs new master's slave pos {r.get('gtid_new_slave')}")
        if r.get("other_ports"):
            notes.append(f"{tag}: acks from unexpected ports {r['other_ports']}")
        if r.get("acks_new") == 0 and r.get("outcome") == "promoted":
            notes.append(f"{tag}: the application never wrote to the new master")
        for l in r.get("freeze_lock_retries") or []:
            notes.append(f"{tag}: the freeze waited for a lock and tried again, replwatchd.log: "
                         f"\"{l}\" (freeze step {f((r.get('steps_ms') or {}).get('freeze'))} ms)")
        w = where_gap(r)
        if w and w != "across the switch" and (r.get("cut_gap_ms") or 0) > TARGET_MEDIAN_MS:
            into = ""
            if r.get("stop_in_gap_ms"):
                into = (f", {f((r['cut_gap_from_us'] - r['stop_start_us']) / 1000.0)} ms into "
                        f"the stop step, which it overlaps by {f(r['stop_in_gap_ms'])} ms")
            notes.append(f"{tag}: the longest gap from the cut-over on ({f(r['cut_gap_ms'])} ms) "
                         f"lies {w}{into}, not across the switch ({f(switch_gap(r))} ms); "
                         f"{sum((r.get('errnos') or {}).values())} app errors in the run")
    p("Failures and anomalies: " + ("none." if not notes else ""))
    for n in notes:
        p(f"- {n}")
    p("")

    # Per run.
    p("Per run: app-visible longest gap from the cut-over on, ms [over the whole run, when longer] "
      "(app errors; lost rows; stop inside the gap, ms):")
    p("")
    p("| run | " + " | ".join(LABEL[v] for v in order) + " |")
    p("| --- |" + " --- |" * len(order))
    for i in sorted({r["run"] for r in runs}, key=lambda x: (len(str(x)), str(x))):
        cells = []
        for v in order:
            r = next((x for x in by[v] if x["run"] == i), None)
            if r is None:
                cells.append("-")
                continue
            out_s = "" if r.get("outcome") == "promoted" else f"{r.get('outcome')}: "
            lost = lost_of(r)
            whole = r.get("gap_ms")
            cg = r.get("cut_gap_ms")
            w_s = f" [{f(whole, 1)}]" if whole is not None and cg is not None and whole > cg else ""
            cells.append(f"{out_s}{f(cg, 1)}{w_s} ({f(r.get('errors'))}; "
                         f"{'?' if lost is None else lost}; {f(r.get('stop_in_gap_ms'))})")
        p(f"| {i} | " + " | ".join(cells) + " |")
    p("")
    if elapsed is not None:
        p(f"benchmark time: {elapsed} s for {len(runs)} runs "
          f"({elapsed / max(1, len(runs)):.1f} s per run)")
    print("\n".join(out))


def main(argv):
    if len(argv) >= 2 and argv[1] == "run":
        a, i = {}, 2
        while i + 1 < len(argv):
            a[argv[i].lstrip("-").replace("-", "_")] = argv[i + 1]
            i += 2
        cmd_run(a)
    elif len(argv) >= 3 and argv[1] == "report":
        elapsed = None
        if "--elapsed" in argv:
            elapsed = int(argv[argv.index("--elapsed") + 1])
        cmd_report(argv[2], elapsed)
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
