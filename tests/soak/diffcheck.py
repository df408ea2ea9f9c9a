#!/usr/bin/env python3
# tests/soak/diffcheck.py: judges one `syncd diff --json` answer for the
# soak (tests/soak/soak.sh) while new connections churn through the pair.
#
# usage: diffcheck.py LONGPORT [--exact] < diff.json
#        diffcheck.py LONGPORT [--exact] NAME=FILE...
#                    (several answers at once, one python start: each
#                    judged, the lines joined as "NAME: line; ...")
#
# Under a steady stream of short connections a diff is never empty: states
# born, changed or deleted while the diff runs differ for a moment. So
# during the run an answer counts as clean when every peer answered and no
# listed difference concerns a long-lived flow (destination port LONGPORT):
# whatever differs is traffic in flight on the churned port. (The long-lived
# connections surviving every failover is the other half of the proof.)
# With --exact (the load stopped) nothing may differ at all. Prints one line
# (counts, or why not); exit 0 when clean.
import json
import sys


def judge(f, longport, exact):
    """One answer: (line, clean)."""
    try:
        d = json.load(f)
    except ValueError:
        return "no answer (not JSON)", False
    why = []
    counts = []
    for p in d.get("peers", []):
        if not p.get("answered"):
            why.append("peer %s did not answer" % p.get("address"))
            continue
        n = p["missing"] + p["extra"] + p["mismatched"]
        counts.append("peer %s: kernel %d held %d, %d differ" %
                      (p.get("address"), p["kernel"], p["held"], n))
        if exact and n:
            why.append("peer %s: kernel %d held %d: missing %d extra %d "
                       "mismatched %d" % (p.get("address"), p["kernel"],
                                          p["held"], p["missing"],
                                          p["extra"], p["mismatched"]))
        for x in p.get("differences", []):
            if longport in x["state"] + " ":
                why.append("long-lived flow differs: %s %s %s" %
                           (x["kind"], x["state"], x.get("attribute", "")))
    if not d.get("peers"):
        why.append("no peer")
    if why:
        return "; ".join(why[:3]), False
    return "; ".join(counts), True


def main():
    longport = ":%s " % sys.argv[1]
    exact = "--exact" in sys.argv[2:]
    files = [a for a in sys.argv[2:] if a != "--exact"]
    if not files:
        line, clean = judge(sys.stdin, longport, exact)
        print(line)
        return 0 if clean else 1
    lines, bad = [], 0
    for a in files:
        name, _, path = a.partition("=")
        try:
            with open(path) as f:
                line, clean = judge(f, longport, exact)
        except OSError as e:
            line, clean = "no answer (%s)" % e.strerror, False
        lines.append("%s: %s" % (name, line))
        bad += not clean
    print("; ".join(lines))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
