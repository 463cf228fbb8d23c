#!/usr/bin/env python3
"""bench/cutover-report.py: analysis for bench/cutover.sh (not a benchmark).

  cutover-report.py run --variant V --run I --dir RUNDIR --rc RC --tps T --lag-ms L
      one JSON line for one run, from RUNDIR/events (the cut-over's stamped
      output), RUNDIR/probe.tsv (bench/cutover-probe.c), RUNDIR/{master,
      replica}.rows(.checksum) and RUNDIR/replwatchd.log
  cutover-report.py report RUNS.jsonl [--elapsed S]
      the Markdown tables

All times are CLOCK_REALTIME microseconds taken on this machine (the probe,
the stamps on the promotion's streamed events, the manual script's stamps).
"""
import json
import math
import os
import re
import sys

TARGET_MS = 150.0
TARGET_RATIO = 5.0
STALL_MS = 1000.0
GAP_MS = 50.0


def load_events(path, variant):
    """[(t_us, payload)]: payload a dict (replwatch JSON) or a list of words."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            t, _, rest = line.partition(" ")
            try:
                t = int(t)
            except ValueError:
                continue
            if variant == "replwatch":
                try:
                    out.append((t, json.loads(rest)))
                except ValueError:
                    out.append((t, {"raw": rest}))
            else:
                out.append((t, rest.split()))
    return out


def load_probe(path):
    w, r = [], []
    if not os.path.exists(path):
        return w, r
    with open(path) as f:
        for line in f:
            p = line.split("\t")
            if p[0] == "w":
                w.append((int(p[1]), int(p[2]), int(p[3]), int(p[4])))
            elif p[0] == "r":
                r.append((int(p[1]), int(p[2]), int(p[3])))
    return w, r


def load_rows(path):
    rows = {}
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 3:
                rows[(p[0], p[1])] = p[2]
    return rows


def ms(a, b):
    return None if a is None or b is None else (b - a) / 1000.0


def analyse_replwatch(ev, res):
    report = None
    base = None
    lag = []
    for t, o in ev:
        if o.get("type") == "step" and isinstance(o.get("elapsed_ms"), (int, float)):
            # Arrival time against the daemon's own clock: how late the
            # client got each event (a starved client, not the promotion).
            if base is None:
                base = t - o["elapsed_ms"] * 1000
            lag.append((t - base) / 1000.0 - o["elapsed_ms"])
        if o.get("type") == "step":
            if o.get("step") == "freeze" and o.get("status") == "running":
                res.setdefault("freeze_start_us", t)
            if o.get("step") == "verify" and o.get("status") == "done":
                res["done_us"] = t
        elif "outcome" in o:
            report = o
            res.setdefault("done_us", t)
    res["event_delivery_late_ms"] = max(lag) if lag else None
    if report is None:
        res["outcome"] = "no report"
        return
    res["outcome"] = report.get("outcome")
    res["write_blocked_ms"] = report.get("write_blocked_ms")
    res["reason"] = report.get("reason")
    res["steps_ms"] = {s["step"]: s.get("duration_ms") for s in report.get("steps", [])
                       if s.get("status") in ("done", "failed")}
    res["steps_detail"] = {s["step"]: s.get("detail") for s in report.get("steps", [])}


def analyse_manual(ev, res, rc):
    at = {}
    polls = 0
    for t, words in ev:
        if not words:
            continue
        at.setdefault(words[0], t)
        if words[0] == "poll":
            polls += 1
        if words[0] == "error":
            res["reason"] = " ".join(words[1:])
    res["polls"] = polls
    res["freeze_start_us"] = at.get("freeze_start")
    res["done_us"] = at.get("reset")
    res["outcome"] = "promoted" if rc == 0 and "reset" in at else "failed"
    res["write_blocked_ms"] = ms(at.get("freeze_start"), at.get("reset"))
    res["steps_ms"] = {
        "freeze": ms(at.get("freeze_start"), at.get("final")),
        "catchup": ms(at.get("final"), at.get("caught")),
        "stop": ms(at.get("caught"), at.get("stopped")),
        "reset": ms(at.get("stopped"), at.get("reset")),
    }
    res["read_only_ms"] = ms(at.get("freeze_start"), at.get("frozen"))


def cmd_run(a):
    d = a["dir"]
    variant = a["variant"]
    rc = int(a["rc"])
    res = {"variant": variant, "run": a["run"], "kind": a.get("kind", "load"),
           "rate": int(a.get("rate") or 0),
           "rc": rc, "lag_refusals": int(a.get("refusals") or 0),
           "tps_before": float(a["tps"]) if a["tps"] else None,
           "lag_before_ms": float(a["lag_ms"]) if a["lag_ms"] not in ("", "null") else None}
    ev = load_events(os.path.join(d, "events"), variant)
    if variant == "replwatch":
        analyse_replwatch(ev, res)
    else:
        analyse_manual(ev, res, rc)

    # The probe on the old master.
    w, r = load_probe(os.path.join(d, "probe.tsv"))
    res["probe_attempts"] = len(w)
    res["probe_ok"] = sum(1 for x in w if x[3] == 0)
    res["probe_refused"] = sum(1 for x in w if x[3] == 1290)
    res["probe_other_errors"] = sorted({x[3] for x in w if x[3] not in (0, 1290)})
    refused = [x for x in w if x[3] == 1290]
    first_ref = min(refused, key=lambda x: x[2]) if refused else None
    oks = [x for x in w if x[3] == 0 and (first_ref is None or x[2] <= first_ref[2])]
    last_ok = max(oks, key=lambda x: x[2]) if oks else None
    res["probe_ok_after_first_refusal"] = sum(
        1 for x in w if x[3] == 0 and first_ref is not None and x[2] > first_ref[2])
    fs = res.get("freeze_start_us")
    done = res.get("done_us")
    res["probe_last_ok_to_done_ms"] = ms(last_ok[2] if last_ok else None, done)
    # Write unavailability as the probe saw it: every stretch of more than
    # GAP_MS without a commit that ends after the freeze began, the last
    # one ending when the promotion was done.  A freeze that fails, lets
    # writes through and tries again is counted in full this way.
    unavail = None
    if fs is not None and done is not None and last_ok is not None:
        ends = sorted(x[2] for x in oks)
        unavail = sum((b - a) / 1000.0 for a, b in zip(ends, ends[1:])
                      if b > fs and b - a > GAP_MS * 1000 and b <= done)
        unavail += max(0.0, (done - ends[-1]) / 1000.0)
        res["probe_commits_after_freeze_start"] = sum(1 for x in oks if x[2] > fs)
    res["probe_unavailable_ms"] = unavail
    res["probe_ok_to_refused_ms"] = ms(last_ok[2] if last_ok else None,
                                       first_ref[2] if first_ref else None)
    res["probe_last_ok_after_freeze_ms"] = ms(fs, last_ok[2] if last_ok else None)
    # The slowest insert that started within 5 s of the freeze: a blocked one.
    near = [x for x in w if fs is not None and abs(x[1] - fs) < 5_000_000]
    res["probe_slowest_insert_ms"] = max(((x[2] - x[1]) / 1000.0 for x in near), default=None)
    # The probe on the new master: when it held the last committed row.
    if last_ok is not None:
        seen = [t for t, v, e in r if e == 0 and v >= last_ok[0]]
        res["replica_has_all_ms"] = ms(last_ok[2], min(seen)) if seen else None
    # Lost rows: on the old master, not (or not the same) on the new one.
    m = load_rows(os.path.join(d, "master.rows"))
    n = load_rows(os.path.join(d, "replica.rows"))
    if m is None or n is None:
        res["lost"] = None
    else:
        res["lost"] = sum(1 for k, v in m.items() if n.get(k) != v)
        res["extra"] = sum(1 for k in n if k not in m)
        res["rows_compared"] = len(m)
        acked = {str(x[0]) for x in w if x[3] == 0}
        res["probe_acked_missing"] = sum(1 for s in acked if ("probe", s) not in n)
        try:
            with open(os.path.join(d, "master.rows.checksum")) as f1, \
                    open(os.path.join(d, "replica.rows.checksum")) as f2:
                res["checksums_equal"] = f1.read() == f2.read()
        except OSError:
            res["checksums_equal"] = None
    # The freeze in the daemon's log: lock waits and retries.
    log = os.path.join(d, "replwatchd.log")
    res["lock_wait_retries"] = 0
    if variant == "replwatch" and os.path.exists(log):
        with open(log, errors="replace") as f:
            text = f.read()
        res["lock_wait_retries"] = len(re.findall(r"waited \d+ s for a lock", text))
    fr = (res.get("steps_ms") or {}).get("freeze")
    res["stalled"] = bool(res["lock_wait_retries"]) or (fr is not None and fr > STALL_MS)
    # The forced lock cycle: how its two sessions ended.
    cyc = os.path.join(d, "cycle-status.txt")
    if os.path.exists(cyc):
        res["cycle_status"] = open(cyc).read().split("\n")[:2]
        for who in ("t2", "s1"):
            try:
                res[f"cycle_{who}_out"] = open(os.path.join(d, f"cycle-{who}.out")).read().strip()[-200:]
            except OSError:
                pass
        try:
            pl = open(os.path.join(d, "cycle-processlist.txt")).read()
            res["cycle_backup_lock_waits"] = pl.count("Waiting for backup lock")
            res["cycle_row_lock_waits"] = pl.count("LOCK WAIT")
        except OSError:
            pass
    print(json.dumps(res, sort_keys=True))


def pct(v, p):
    """Nearest-rank percentile of the non-None values."""
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def f(x, nd=0):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}"


def trio(v):
    return f"{f(median(v))} / {f(pct(v, 90))} / {f(max((x for x in v if x is not None), default=None))}"


def cmd_report(path, elapsed):
    allruns = [json.loads(l) for l in open(path) if l.strip()]
    runs = [r for r in allruns if r.get("kind", "load") == "load"]
    cycles = [r for r in allruns if r.get("kind") == "cycle"]
    light = [r for r in allruns if r.get("kind") == "light"]
    order = ["replwatch", "manual", "manual-fast"]
    by = {v: [r for r in runs if r["variant"] == v] for v in order}
    ok = {v: [r for r in by[v] if r.get("outcome") == "promoted"] for v in order}
    label = {"replwatch": "replwatch promote --freeze-master",
             "manual": "manual script, 1 s polls",
             "manual-fast": "manual script, 0.1 s polls"}
    out = []
    p = out.append
    p("| variant | runs promoted | write_blocked ms, the tool's own: median / p90 / max "
      "| write unavailability ms, probe: median / p90 / max "
      "| last ok commit -> first refused ms: median / max "
      "| lost rows (sum) | sysbench tps before (median) | lag before ms (median) |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        rs, g = by[v], ok[v]
        if not rs:
            continue
        lost = [r.get("lost") for r in rs]
        lost_s = "?" if any(x is None for x in lost) else str(sum(lost))
        refused = sum(r.get("lag_refusals") or 0 for r in rs)
        p(f"| {label[v]} | {len(g)}/{len(rs)}"
          f"{f' ({refused} lag refusals, retried)' if refused else ''} "
          f"| {trio([r.get('write_blocked_ms') for r in g])} "
          f"| {trio([r.get('probe_unavailable_ms') for r in g])} "
          f"| {f(median([r.get('probe_ok_to_refused_ms') for r in g]), 1)} / "
          f"{f(max((r.get('probe_ok_to_refused_ms') for r in g if r.get('probe_ok_to_refused_ms') is not None), default=None), 1)} "
          f"| {lost_s} | {f(median([r.get('tps_before') for r in rs]))} "
          f"| {f(median([r.get('lag_before_ms') for r in rs]))} |")
    p("")
    p("- write_blocked (the tool's own number): replwatch: the report's "
      "`write_blocked_ms`, from the start of the freeze to the verified promoted "
      "replica (before the old master's UNLOCK TABLES); manual: the script's "
      "clock from just before `SET GLOBAL read_only = ON` to the return of "
      "`rds_reset_external_master`.")
    p("- write unavailability (independent): the probe (application user, "
      "old master, one insert every 2 ms) measures every stretch of more than "
      f"{GAP_MS:.0f} ms in which none of its inserts committed and that ends after "
      "the freeze began, the last one from its last commit to the moment the "
      "cut-over was done (replwatch: the `verify done` event read by the "
      "client; manual: the reset returned); normally that last stretch alone.  "
      "The RDS emulation keeps "
      "read_only ON on the promoted replica (a parameter-group setting), so the "
      "application's first write there is not measured: the new master is "
      "counted available when the promotion is done.")
    p("- last ok commit -> first refused: how fast the freeze bites (the probe's "
      "last committed insert to its first one refused with 1290).")
    p("- lost rows: rows of sbtest1..4 and sbtest.probe on the old master that "
      "the promoted replica lacks or holds differently, compared row by row "
      "(CRC32 of every column) after the load stopped; CHECKSUM TABLE "
      "compared too.  Must be 0.")
    p("- tps before: the old master's Com_commit per second over 2 s, under "
      "load, just before the cut-over (sysbench's transactions; the probe's "
      "autocommit inserts are not counted).  lag before: replwatchd's "
      "heartbeat lag just before it.")
    p("")

    # Steps.
    p("| variant | freeze ms | catch-up ms | stop ms | reset ms | verify ms | new master has every committed row, ms after the last commit | manual polls |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in order:
        g = ok[v]
        if not by[v]:
            continue
        st = lambda s: f(median([(r.get("steps_ms") or {}).get(s) for r in g]), 1)
        polls = "-" if v == "replwatch" else f(median([r.get("polls") for r in g]))
        p(f"| {label[v]} | {st('freeze')} | {st('catchup')} | {st('stop')} | {st('reset')} "
          f"| {st('verify') if v == 'replwatch' else '-'} "
          f"| {f(median([r.get('replica_has_all_ms') for r in g]), 1)} | {polls} |")
    p("")
    p("Medians over the promoted runs.  manual: freeze = read_only + SHOW MASTER "
      "STATUS (two client runs), catch-up = the SHOW SLAVE STATUS polls, each "
      "step one `mariadb` client run.")
    p("")

    # Ratios and target.
    med = {v: median([r.get("write_blocked_ms") for r in ok[v]]) for v in order}
    medp = {v: median([r.get("probe_unavailable_ms") for r in ok[v]]) for v in order}
    lost_total = sum((r.get("lost") or 0) + (r.get("probe_acked_missing") or 0) for r in runs)
    lost_unknown = any(r.get("lost") is None for r in runs)

    def ratio(a, b):
        return None if a is None or b in (None, 0) else a / b

    rw, rwp = med["replwatch"], medp["replwatch"]
    for v in ("manual", "manual-fast"):
        p(f"- ratio {v} / replwatch of the medians: {f(ratio(med[v], rw), 1)}x "
          f"(tool's own numbers), {f(ratio(medp[v], rwp), 1)}x (probe)")
    met_ms = rw is not None and rwp is not None and rw < TARGET_MS and rwp < TARGET_MS
    r1, r1p = ratio(med["manual"], rw), ratio(medp["manual"], rwp)
    met_ratio = r1 is not None and r1p is not None and r1 >= TARGET_RATIO and r1p >= TARGET_RATIO
    r2, r2p = ratio(med["manual-fast"], rw), ratio(medp["manual-fast"], rwp)
    met_lost = not lost_unknown and lost_total == 0
    all_promoted = len(ok["replwatch"]) == len(by["replwatch"]) > 0
    p(f"- target: median write freeze under {TARGET_MS:.0f} ms: "
      f"{'met' if met_ms else 'NOT met'} ({f(rw, 1)} ms own, {f(rwp, 1)} ms probe)")
    p(f"- target: at least {TARGET_RATIO:.0f}x faster than the scripted manual "
      f"procedure (1 s polls): {'met' if met_ratio else 'NOT met'} "
      f"({f(r1, 1)}x own, {f(r1p, 1)}x probe); against the 0.1 s-poll script "
      f"{f(r2, 1)}x / {f(r2p, 1)}x ({'met' if r2 and r2p and min(r2, r2p) >= TARGET_RATIO else 'not met'} there)")
    p(f"- target: zero lost transactions: {'met' if met_lost else 'NOT met'} "
      f"({'unknown' if lost_unknown else lost_total} rows lost over {len(runs)} runs, "
      f"{sum(r.get('rows_compared') or 0 for r in runs):,} rows compared; "
      f"checksums equal in {sum(1 for r in runs if r.get('checksums_equal'))}/{len(runs)} runs)")
    p(f"- every replwatch promotion succeeded: {'yes' if all_promoted else 'NO'}")
    overall = met_ms and met_ratio and met_lost and all_promoted
    p(f"- **target met: {'yes' if overall else 'no'}**")
    p("")

    # Stalls, failures, anomalies.
    notes = []
    for r in runs:
        tag = f"run {r['run']} {r['variant']}"
        if r.get("outcome") != "promoted":
            notes.append(f"{tag}: not promoted ({r.get('outcome')}): {r.get('reason')}")
        if r.get("stalled"):
            notes.append(f"{tag}: freeze stalled: freeze step "
                         f"{f((r.get('steps_ms') or {}).get('freeze'))} ms, "
                         f"{r.get('lock_wait_retries', 0)} lock-wait retries of read_only "
                         f"(lock_wait_timeout 2 s)")
        if r.get("probe_ok_after_first_refusal"):
            notes.append(f"{tag}: the probe committed {r['probe_ok_after_first_refusal']} "
                         f"inserts after its first refusal (freeze rolled back?)")
        if r.get("probe_other_errors"):
            notes.append(f"{tag}: probe errors other than 1290: {r['probe_other_errors']}")
        if r.get("extra"):
            notes.append(f"{tag}: {r['extra']} rows on the new master that the old lacks")
        if r.get("probe_acked_missing"):
            notes.append(f"{tag}: {r['probe_acked_missing']} acknowledged probe inserts missing on the new master")
    late = [r.get("event_delivery_late_ms") for r in ok["replwatch"]]
    if any(x is not None for x in late):
        p(f"- replwatch's step events reached the client late by up to "
          f"{f(median(late))} ms (median over runs) / {f(max(x for x in late if x is not None))} ms "
          f"(max) against the daemon's own clock (a CPU-starved client: sysbench "
          f"retries refused writes at once); the probe's number includes that.")
        p("")
    p("Stalls, failures and anomalies: " + ("none." if not notes else ""))
    for n in notes:
        p(f"- {n}")
    p("")
    if cycles:
        p("Forced lock cycle (REFERENCE §4's trap made to happen, same load): T2 "
          "holds a row lock and writes again 1.5 s later, S1 waits for that row, "
          "the freeze starts in between:")
        p("")
        p("| variant | outcome | write_blocked ms, own | write unavailability ms, probe "
          "| freeze ms (read_only part) | read_only lock-wait retries | lost rows "
          "| backup-lock / row-lock waits seen | T2, S1 |")
        p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in cycles:
            fz = (r.get("steps_ms") or {}).get("freeze")
            ro = r.get("read_only_ms")
            sess = "; ".join(x for x in (r.get("cycle_status") or []) if x)
            promoted = r.get("outcome") == "promoted"
            p(f"| {label[r['variant']]} | {r.get('outcome')} | {f(r.get('write_blocked_ms'))} "
              f"| {f(r.get('probe_unavailable_ms')) if promoted else '-'} | {f(fz)}{f' ({f(ro)})' if ro is not None else ''} "
              f"| {r.get('lock_wait_retries', 0) if r['variant'] == 'replwatch' else 'n/a (no timeout)'} "
              f"| {r.get('lost')} | {r.get('cycle_backup_lock_waits', '?')} / "
              f"{r.get('cycle_row_lock_waits', '?')} | {sess} |")
        p("")
        for r in cycles:
            if r.get("outcome") != "promoted":
                p(f"- {label[r['variant']]}: {r.get('reason')}")
        p("")
        p("replwatch sets lock_wait_timeout = 2 s on its freeze session and retries "
          "read_only (3 tries); the manual script's read_only has the server's "
          "default (lock_wait_timeout 1 day), so it waits until InnoDB's "
          "innodb_lock_wait_timeout (50 s) fails S1.  T2's and S1's exit statuses "
          "show who was refused.")
        p("")
    if light:
        rate = light[0].get("rate")
        p(f"Supplement: the same cut-overs with sysbench throttled to --rate={rate} "
          "(a load the replica keeps up with on this machine, so the catch-up is "
          "short and the procedures' own costs show):")
        p("")
        p("| variant | runs promoted | write_blocked ms, own: median / p90 / max "
          "| write unavailability ms, probe: median / p90 / max | lost rows "
          "| tps before | freeze / catch-up / stop / reset ms (medians) |")
        p("| --- | --- | --- | --- | --- | --- | --- |")
        lm = {}
        for v in order:
            rs = [r for r in light if r["variant"] == v]
            if not rs:
                continue
            g = [r for r in rs if r.get("outcome") == "promoted"]
            lm[v] = (median([r.get("write_blocked_ms") for r in g]),
                     median([r.get("probe_unavailable_ms") for r in g]))
            lost = [r.get("lost") for r in rs]
            st = " / ".join(f(median([(r.get("steps_ms") or {}).get(x) for r in g]), 1)
                            for x in ("freeze", "catchup", "stop", "reset"))
            p(f"| {label[v]} | {len(g)}/{len(rs)} | {trio([r.get('write_blocked_ms') for r in g])} "
              f"| {trio([r.get('probe_unavailable_ms') for r in g])} "
              f"| {'?' if any(x is None for x in lost) else sum(lost)} "
              f"| {f(median([r.get('tps_before') for r in rs]))} | {st} |")
        p("")
        if "replwatch" in lm:
            for v in ("manual", "manual-fast"):
                if v in lm:
                    p(f"- ratio {v} / replwatch of the medians here: "
                      f"{f(ratio(lm[v][0], lm['replwatch'][0]), 1)}x own, "
                      f"{f(ratio(lm[v][1], lm['replwatch'][1]), 1)}x probe")
            p("")
    p("Per run (write_blocked own / probe ms, lost):")
    p("")
    p("| run | " + " | ".join(label[v] for v in order if by[v]) + " |")
    p("| --- |" + " --- |" * len([v for v in order if by[v]]))
    for i in sorted({r["run"] for r in runs}, key=lambda x: (len(str(x)), str(x))):
        cells = []
        for v in order:
            if not by[v]:
                continue
            r = next((x for x in by[v] if x["run"] == i), None)
            if r is None:
                cells.append("-")
            elif r.get("outcome") != "promoted":
                cells.append(f"{r.get('outcome')}")
            else:
                cells.append(f"{f(r.get('write_blocked_ms'), 1)} / "
                             f"{f(r.get('probe_unavailable_ms'), 1)}, lost {r.get('lost')}")
        p(f"| {i} | " + " | ".join(cells) + " |")
    p("")
    if elapsed is not None:
        p(f"benchmark time: {elapsed} s for {len(runs)} runs")
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
