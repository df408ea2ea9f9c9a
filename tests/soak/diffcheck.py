#!/usr/bin/env python3
# tests/soak/diffcheck.py: judges one `syncd diff --json` answer for the
# soak (tests/soak/soak.sh) while new connections churn through the pair.
#
# usage: diffcheck.py LONGPORT [--exact] < diff.json
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


def main():
    longport = ":%s " % sys.argv[1]
    exact = "--exact" in sys.argv[2:]
    try:
        d = json.load(sys.stdin)
    except ValueError:
        print("no answer (not JSON)")
        return 1
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
        print("; ".join(why[:3]))
        return 1
    print("; ".join(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
