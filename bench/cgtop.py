#!/usr/bin/env python3
"""cgtop.py N self|inclusive < callgrind_annotate output: the top ten
functions as a Markdown table, cost divided by N (polls or requests).
inclusive: replwatchd's own functions only (the callers' view)."""
import re
import sys

n, kind = float(sys.argv[1]), sys.argv[2]
print(f"\n| function ({kind}) | Ir per unit | share |\n| --- | ---: | ---: |")
k = 0
for line in sys.stdin:
    m = re.match(r"^ *([0-9,]+) \( *([0-9.]+%)\)  (.*?)(?: \[(.*)\])?$", line)
    if not m or "PROGRAM TOTALS" in line:
        continue
    ir, share, fn, obj = m.groups()
    if kind == "inclusive" and not (obj or "").endswith("replwatchd"):
        continue
    fn = re.sub(r"^.*/(?=[^/]*:)", "", fn)
    if obj and fn.startswith("???"):
        fn += " (" + obj.rsplit("/", 1)[-1] + ")"
    cost = int(ir.replace(",", "")) / n
    print(f"| {fn} | {cost:,.0f} | {share} |")
    k += 1
    if k == 10:
        break
