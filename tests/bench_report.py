#!/usr/bin/env python3
# tests/bench_report.py: the end of `make bench`: turns the run's record
# of figures (tests/bench_lib.sh) into one JSON file per run, prints the
# figures against their targets (pass/miss, with the top of the profile
# of a figure that misses), and draws one PNG per failover kind from the
# UDP probe's receive times and one of the replication lag over time
# (gnuplot).
#
# usage: bench_report.py --dir RUNDIR --json FILE [--meta KEY=VALUE ...]
import argparse
import json
import math
import os
import subprocess
import sys

KINDS = [
    ("crash", "slow", "crash, 1 s timers"),
    ("crash", "fast", "crash, sub-second timers (advbase 0, advskew 1/1)"),
    ("crash", "pref", "crash, sub-second timers with a preference "
     "(advbase 0, advskew 1/2)"),
    ("failback", "slow", "failback (preemption)"),
    ("graceful", "slow", "graceful handover (SIGTERM)"),
]
STACKS = [("carp", "carpd + syncd"), ("ka", "keepalived + conntrackd")]


def num(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def read_records(path):
    figs, notes, profiles = [], [], {}
    if not os.path.exists(path):
        return figs, notes, profiles
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "note" and len(p) > 1:
                notes.append(p[1])
            elif p[0] == "profile" and len(p) > 2:
                profiles.setdefault(p[1], []).append(p[2])
            elif len(p) >= 3:
                p += [""] * (6 - len(p))
                figs.append({"name": p[0], "raw": p[1], "unit": p[2],
                             "op": p[3], "target": p[4], "note": p[5]})
    return figs, notes, profiles


def judge(figs):
    by = {f["name"]: f for f in figs}
    for f in figs:
        f["value"] = num(f["raw"])
        if f["value"] is None and f["raw"] not in ("", "nan"):
            f["value"] = f["raw"]		# a word (e.g. "failed")
    for f in figs:
        t = f["target"]
        if not f["op"]:
            f["pass"] = None
            f["target_value"] = None
            continue
        if t.startswith("@"):
            ref = by.get(t[1:])
            tv = ref["value"] if ref and isinstance(ref.get("value"),
                                                    float) else None
            f["target_ref"] = t[1:]
        else:
            tv = num(t)
        f["target_value"] = tv
        v = f["value"]
        if not isinstance(v, float) or tv is None:
            f["pass"] = False if not isinstance(v, float) else None
            continue
        f["pass"] = {"<=": v <= tv, "<": v < tv, ">=": v >= tv,
                     "==": v == tv}.get(f["op"])


def attach_profiles(figs, profiles, rundir):
    for f in figs:
        tags = profiles.get(f["name"], [])
        for tag in tags:
            path = os.path.join(rundir, "perf-%s.txt" % tag)
            if not os.path.exists(path):
                continue
            with open(path) as fp:
                lines = [l.rstrip() for l in fp if l.strip()]
            f.setdefault("profile", {})[tag] = lines[:15]


def fmt(v):
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return "%.4g" % v
        return ("%.3f" % v).rstrip("0").rstrip(".")
    return str(v)


def summary(figs, notes):
    print()
    print("== figures (value, target, pass/miss)")
    w = max([len(f["name"]) for f in figs] + [10])
    for f in figs:
        tgt = ""
        if f["op"]:
            tv = f.get("target_value")
            tgt = "%s %s" % (f["op"], fmt(tv) if tv is not None else "?")
            if f.get("target_ref"):
                tgt += " (%s)" % f["target_ref"]
        verdict = {True: "pass", False: "MISS", None: ""}[f["pass"]]
        if f["op"] and f["pass"] is None:
            verdict = "n/a"
        print("%-*s %14s %-16s %-28s %s%s" % (
            w, f["name"], fmt(f["value"]), f["unit"], tgt, verdict,
            ("  (" + f["note"] + ")") if f["note"] else ""))
    for f in figs:
        if f["pass"] is False and f.get("profile"):
            for tag, lines in f["profile"].items():
                print()
                print("where the time goes for %s (perf, %s):" %
                      (f["name"], tag))
                for l in lines[:10]:
                    print("    " + l)
    for n in notes:
        print("note: " + n)


def read_rx(path):
    t = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if p:
                    t.append(int(p[0]))
    except (OSError, ValueError):
        return []
    return t


def outage(rx, t0, t1):
    """The longest pause between echoes whose end falls in [t0, t1] (us):
    (start, length)."""
    best = (None, 0)
    for a, b in zip(rx, rx[1:]):
        if b < t0 or a > t1:
            continue
        if b - a > best[1]:
            best = (a, b - a)
    return best


def read_events(rundir):
    ev = []
    path = os.path.join(rundir, "events.tsv")
    if not os.path.exists(path):
        return ev
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 7:
                ev.append({"stack": p[0], "timers": p[1], "event": p[2],
                           "run": p[3], "t0": int(p[4]) // 1000,
                           "t1": int(p[5]) // 1000, "rx": p[6]})
    return ev


def gnuplot(script, png):
    """Run a gnuplot script that draws png; png, or None when it fails."""
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n",
                       text=True, capture_output=True)
    if r.returncode != 0:
        print("bench: gnuplot failed for %s: %s" % (png, r.stderr.strip()),
              file=sys.stderr)
        return None
    return png


def plot_kind(rundir, events, kind):
    ev_name, timers, title = kind
    series = []
    for stack, label in STACKS:
        es = [e for e in events if e["stack"] == stack and
              e["event"] == ev_name and e["timers"] == timers]
        if not es:
            continue
        e = es[0]			# the first run
        rx = read_rx(e["rx"])
        start, gap = outage(rx, e["t0"], e["t1"])
        if start is None:
            continue
        series.append((stack, label, rx, start, gap,
                       (e["t0"] - start) / 1000.0))
    if not series:
        return None
    longest = max(s[4] for s in series) / 1000.0
    lo = -max(20.0, 0.15 * longest)
    hi = longest + max(30.0, 0.2 * longest)
    files = []
    for stack, label, rx, start, gap, _ in series:
        dat = os.path.join(rundir, "plot-%s-%s-%s.dat" %
                           (ev_name, timers, stack))
        with open(dat, "w") as f:
            for a, b in zip(rx, rx[1:]):
                x = (b - start) / 1000.0
                if lo <= x <= hi:
                    f.write("%.3f %.3f\n" % (x, max((b - a) / 1000.0,
                                                    0.1)))
        files.append((dat, "%s (gap %.1f ms)" % (label, gap / 1000.0)))
    png = os.path.join(rundir, "failover-%s-%s.png" % (ev_name, timers))
    gp = ['set terminal pngcairo size 1100,600 font ",11"',
          'set output "%s"' % png,
          'set title "%s: UDP probe through the pair (one every 1 ms), '
          'first run"' % title,
          'set xlabel "time from the last echo before the outage (ms)"',
          'set ylabel "interval since the previous echo (ms, log scale)"',
          'set logscale y', 'set yrange [0.1:*]',
          'set xrange [%.1f:%.1f]' % (lo, hi), 'set grid',
          'set key top left box opaque']
    plots = []
    colors = ["#1f77b4", "#d62728"]
    for (dat, label), color, sr in zip(files, colors, series):
        # each echo: a step over the interval it ends, as high as it is
        plots.append('"%s" using 1:2 with fsteps lw 2 lc rgb "%s" '
                     'title "%s"' % (dat, color, label))
        if lo <= sr[5] <= hi:		# the event itself, when in view
            gp.append('set arrow from %.3f, graph 0 to %.3f, graph 1 '
                      'nohead dt 2 lw 1.5 lc rgb "%s"' % (sr[5], sr[5],
                                                         color))
            plots.append('NaN with lines dt 2 lw 1.5 lc rgb "%s" '
                         'title "%s: %s"' % (color, sr[1], ev_name))
    gp.append("plot " + ", ".join(plots))
    return gnuplot(gp, png)


LAG_BIN_S = 0.25


def plot_lag(rundir):
    """Replication lag over the steady load (ctlag --trace files): per
    quarter second, the median and the slowest state, syncd beside
    conntrackd."""
    files = []
    for name, label in (("syncd", "syncd"), ("conntrackd", "conntrackd")):
        src = os.path.join(rundir, "lag-%s.txt" % name)
        dat = os.path.join(rundir, "plot-lag-%s.dat" % name)
        if not os.path.exists(src):
            if os.path.exists(dat):	# binned by an earlier report
                files.append((dat, label))
            continue
        bins = {}
        with open(src) as f:
            for line in f:
                p = line.split()
                if len(p) == 2 and num(p[0]) is not None and \
                        num(p[1]) is not None:
                    bins.setdefault(int(float(p[0]) / LAG_BIN_S),
                                    []).append(max(float(p[1]), 0.01))
        os.remove(src)		# a line per state: the bins are kept
        if not bins:
            continue
        with open(dat, "w") as f:
            for b in sorted(bins):
                v = sorted(bins[b])
                f.write("%.2f %.3f %.3f\n" % (b * LAG_BIN_S,
                                              v[len(v) // 2], v[-1]))
        files.append((dat, label))
    if not files:
        return None
    png = os.path.join(rundir, "lag.png")
    gp = ['set terminal pngcairo size 1100,600 font ",11"',
          'set output "%s"' % png,
          'set title "replication lag at a steady load, per %.2f s of '
          'states made"' % LAG_BIN_S,
          'set xlabel "time the state was made (s from the first)"',
          'set ylabel "lag, sender kernel to peer kernel (ms, log scale)"',
          'set logscale y', 'set grid', 'set key top left box opaque']
    plots = []
    colors = ["#1f77b4", "#d62728"]
    for (dat, label), color in zip(files, colors):
        plots.append('"%s" using 1:2 with lines lw 2 lc rgb "%s" '
                     'title "%s median"' % (dat, color, label))
        plots.append('"%s" using 1:3 with lines lw 1 dt 2 lc rgb "%s" '
                     'title "%s slowest"' % (dat, color, label))
    gp.append("plot " + ", ".join(plots))
    return gnuplot(gp, png)


def pictures(rundir):
    events = read_events(rundir)
    out = []
    try:
        subprocess.run(["gnuplot", "--version"], capture_output=True)
    except OSError:
        print("bench: gnuplot not installed: no pictures", file=sys.stderr)
        return out
    for k in KINDS if events else []:
        p = plot_kind(rundir, events, k)
        if p:
            out.append(p)
    p = plot_lag(rundir)
    if p:
        out.append(p)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    figs, notes, profiles = read_records(os.path.join(a.dir, "records.tsv"))
    judge(figs)
    attach_profiles(figs, profiles, a.dir)
    pics = pictures(a.dir)
    meta = dict(m.split("=", 1) for m in a.meta if "=" in m)
    doc = {"meta": meta, "notes": notes, "pictures": pics,
           "figures": [{k: f.get(k) for k in
                        ("name", "value", "unit", "op", "target_value",
                         "target_ref", "pass", "note", "profile")
                        if f.get(k) not in (None, "")} |
                       {"pass": f["pass"]} for f in figs]}
    doc["passed"] = sum(1 for f in figs if f["pass"] is True)
    doc["missed"] = sum(1 for f in figs if f["pass"] is False)
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    summary(figs, notes)
    print()
    print("%d figures with a target: %d pass, %d miss" % (
        doc["passed"] + doc["missed"], doc["passed"], doc["missed"]))
    for p in pics:
        print("picture: " + p)
    print("bench: results in " + a.json)


if __name__ == "__main__":
    main()
