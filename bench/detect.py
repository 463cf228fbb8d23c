#!/usr/bin/env python3
"""Detection latency of replwatchd: fault injected on a sandbox pair, time
until the `change` event arrives on a `watch` stream.

  detect.py run --socket S --target T --sandbox DIR --interval MS --n N
                --raw FILE [--key-base K] [--faults io,sql]
  detect.py report RAW...

`run` opens the control socket itself, sends a watch request, and
timestamps every line the moment a reader thread receives it
(time.monotonic(), CLOCK_MONOTONIC on Linux).  Faults go through one
long-lived `mariadb` client per server (so no process start sits inside the
measurement); t0 is taken right after the statement's reply came back.  A
random pause of up to one interval before each fault spreads the faults
over the poll phase.  Raw samples are appended to FILE as TSV:
interval_ms, kind, rep, latency_ms (or "timeout"), states seen.

Kinds: io_stop  (STOP SLAVE IO_THREAD as root on the replica -> first change)
       sql_error (duplicate key: row inserted on the replica with
                 sql_log_bin=0, then the same key on the master -> first
                 change; includes the replication of that insert)
       recover_io (START SLAVE IO_THREAD -> change to ok)
       recover_sql (conflicting row deleted, START SLAVE SQL_THREAD -> ok)
"""
import argparse
import json
import math
import queue
import random
import socket
import subprocess
import sys
import threading
import time

MARK = "@@replwatch-bench-mark@@"


class Sql:
    """A long-lived mariadb client: one statement batch at a time."""

    def __init__(self, cnf):
        self.p = subprocess.Popen(
            ["mariadb", "--defaults-file=" + cnf, "-N", "-B", "-n", "--force"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)

    def run(self, sql):
        """Returns monotonic time right after the reply came back."""
        self.p.stdin.write(sql.rstrip().rstrip(";") + f"; SELECT '{MARK}';\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise RuntimeError("mariadb client exited: " + "".join(out))
            if line.strip() == MARK:
                t = time.monotonic()
                break
            out.append(line)
        errs = [l for l in out if l.startswith("ERROR")]
        if errs:
            raise RuntimeError(f"{sql}: {''.join(errs).strip()}")
        return t

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(5)
        except Exception:
            self.p.kill()


class Watch:
    def __init__(self, path, target):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.sendall((json.dumps({"id": 1, "cmd": "watch",
                                    "target": target}) + "\n").encode())
        self.q = queue.Queue()
        self.state = None
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                data = self.s.recv(65536)
            except OSError:
                data = b""
            ts = time.monotonic()
            if not data:
                self.q.put((ts, None))
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.q.put((ts, json.loads(line)))

    def next_event(self, timeout):
        """(ts, event) or (None, None) on timeout."""
        try:
            ts, msg = self.q.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None, None
        if msg is None:
            raise RuntimeError("daemon closed the watch stream")
        if "event" not in msg:
            raise RuntimeError(f"unexpected reply: {msg}")
        ev = msg["event"]
        if ev.get("type") == "state":
            self.state = ev["state"]
        elif ev.get("type") == "change":
            self.state = ev["to"]
        return ts, ev

    def wait(self, pred, timeout):
        """First change event satisfying pred: (ts, event, states seen)."""
        end = time.monotonic() + timeout
        seen = []
        while True:
            ts, ev = self.next_event(end - time.monotonic())
            if ev is None:
                return None, None, seen
            if ev.get("type") != "change":
                continue
            seen.append(ev["to"])
            if pred(ev):
                return ts, ev, seen

    def drain(self):
        while True:
            ts, ev = self.next_event(0)
            if ev is None:
                return

    def wait_state(self, state, timeout):
        end = time.monotonic() + timeout
        self.drain()
        while self.state != state:
            ts, ev = self.next_event(end - time.monotonic())
            if ev is None:
                raise RuntimeError(f"state {self.state}, not {state}, "
                                   f"after {timeout} s")


def cmd_run(a):
    w = Watch(a.socket, a.target)
    ts, ev = w.next_event(10)
    if ev is None or ev.get("type") != "state":
        sys.exit("detect.py: no initial state event on the watch stream")
    replica = Sql(f"{a.sandbox}/replica-root.cnf")
    master = Sql(f"{a.sandbox}/master-root.cnf")
    iv = a.interval / 1000.0
    jitter = lambda: time.sleep(random.uniform(0, iv))
    raw = open(a.raw, "a")
    timeout = max(10.0, 10 * iv)

    def record(kind, rep, t0, ts, seen):
        lat = "timeout" if ts is None else f"{(ts - t0) * 1000:.3f}"
        raw.write(f"{a.interval}\t{kind}\t{rep}\t{lat}\t{'>'.join(seen)}\n")
        raw.flush()
        return ts is not None

    not_ok = lambda ev: ev["to"] != "ok"
    to_ok = lambda ev: ev["to"] == "ok"
    faults = a.faults.split(",")
    for rep in range(a.n):
        if "io" in faults:
            w.wait_state("ok", timeout)
            jitter()
            t0 = replica.run("STOP SLAVE IO_THREAD")
            ts, ev, seen = w.wait(not_ok, timeout)
            record("io_stop", rep, t0, ts, seen)
            jitter()
            t0 = replica.run("START SLAVE IO_THREAD")
            ts, ev, seen = w.wait(to_ok, timeout)
            record("recover_io", rep, t0, ts, seen)
        if "sql" in faults:
            key = a.key_base + rep
            w.wait_state("ok", timeout)
            replica.run("SET sql_log_bin=0; INSERT INTO app.items (id, name, "
                        f"qty) VALUES ({key}, 'replica-only', 0); "
                        "SET sql_log_bin=1")
            jitter()
            t0 = master.run("INSERT INTO app.items (id, name, qty) VALUES "
                            f"({key}, 'bench', 1)")
            ts, ev, seen = w.wait(not_ok, timeout)
            record("sql_error", rep, t0, ts, seen)
            jitter()
            t0 = replica.run("SET sql_log_bin=0; DELETE FROM app.items WHERE "
                             f"id = {key}; SET sql_log_bin=1; "
                             "START SLAVE SQL_THREAD")
            ts, ev, seen = w.wait(to_ok, timeout)
            record("recover_sql", rep, t0, ts, seen)
    w.wait_state("ok", timeout)
    replica.close()
    master.close()
    raw.close()


def pct(sorted_xs, q):
    """Nearest rank: the smallest value with q of the samples at or below."""
    return sorted_xs[max(1, math.ceil(q * len(sorted_xs))) - 1]


KINDS = [("io_stop", "(a) STOP SLAVE IO_THREAD"),
         ("sql_error", "(b) SQL error (dup key)"),
         ("recover_io", "(c) IO thread restarted -> ok"),
         ("recover_sql", "(c) SQL error cleared -> ok")]


def cmd_report(a):
    rows = {}
    for path in a.raw:
        for line in open(path):
            iv, kind, rep, lat, seen = line.rstrip("\n").split("\t")
            r = rows.setdefault((int(iv), kind), {"lat": [], "miss": 0,
                                                  "seen": {}})
            if lat == "timeout":
                r["miss"] += 1
            else:
                r["lat"].append(float(lat))
            r["seen"][seen] = r["seen"].get(seen, 0) + 1
    print("| fault | interval | N | min ms | median ms | p95 ms | max ms "
          "| target p95 <= interval+50 ms | states (count) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for iv in sorted({k[0] for k in rows}):
        for kind, label in KINDS:
            r = rows.get((iv, kind))
            if r is None:
                continue
            xs = sorted(r["lat"])
            n = len(xs) + r["miss"]
            seen = ", ".join(f"{s or '-'} {c}" for s, c in
                             sorted(r["seen"].items(), key=lambda x: -x[1]))
            if not xs:
                print(f"| {label} | {iv} ms | {n} | - | - | - | - | not met "
                      f"({r['miss']} timeouts) | {seen} |")
                continue
            p95 = pct(xs, 0.95)
            target = iv + 50
            verdict = ("met" if p95 <= target and r["miss"] == 0 else
                       "NOT met") + f" ({target} ms)"
            if r["miss"]:
                verdict += f", {r['miss']} timeouts"
            print(f"| {label} | {iv} ms | {n} | {xs[0]:.1f} | "
                  f"{pct(xs, 0.5):.1f} | {p95:.1f} | {xs[-1]:.1f} | {verdict} "
                  f"| {seen} |")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--socket", required=True)
    r.add_argument("--target", default="main")
    r.add_argument("--sandbox", required=True)
    r.add_argument("--interval", type=int, required=True)
    r.add_argument("--n", type=int, default=20)
    r.add_argument("--raw", required=True)
    r.add_argument("--key-base", type=int, default=1000000)
    r.add_argument("--faults", default="io,sql")
    rp = sub.add_parser("report")
    rp.add_argument("raw", nargs="+")
    a = p.parse_args()
    {"run": cmd_run, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
