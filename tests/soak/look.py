#!/usr/bin/env python3
# tests/soak/look.py: the soak's looks at the pair (tests/soak/soak.sh).
#
# usage: look.py agree T0 FULL   look until the pair agrees (bounded: 60 s
#                                after T0, 400 looks); prints
#                                "OK<tab>MS<tab>LOOK_MS<tab>WHY"
#        look.py exact           with the load stopped: look once a second
#                                until `syncd diff` is identical on both
#                                members (bounded: 60 s); prints
#                                "FIN<tab>MS<tab>WHY"
# The lab comes from the environment: LOOK_TDIR (the lab's directory:
# control sockets, pids/, down-FW), LOOK_PREFIX (namespace prefix),
# LOOK_PORT (the long-lived flows' port), LOOK_AGREE_S, LOOK_LOG (one line
# per look is appended), CARPD and SYNCD (the binaries).
#
# A look asks every member everything at once, straight through the
# control sockets (no `ip netns exec`), and judges in this one process:
# on a loaded two-core machine each process start costs tens of
# milliseconds, and a look's length is the resolution of the agreement
# time (a shell look of some twenty processes took 2 to 3 s).
#
# Agreed (FULL=0: carp only): exactly one member is MASTER on every vhid
# and holds every virtual address; any other member whose carpd runs is
# BACKUP and holds none. With FULL=1 also: fw1, which preempts with the
# lower advskew, is master unless it is demoted for something else than
# syncd (a failback is part of the event that brings it back); both
# syncds run with their first bulk done; and `syncd diff` is clean on each.
#
# Clean under a steady stream of short connections: a diff is never empty
# then (states born, changed or deleted while the diff runs differ for a
# moment), so it counts as clean when every peer answered and no listed
# difference concerns a long-lived flow (destination port LOOK_PORT). With
# the load stopped ("exact") nothing may differ at all.
import json
import os
import re
import subprocess
import sys
import time

MEMBERS = ("fw1", "fw2")
VIPS = ("10.0.1.1", "10.0.2.1")
CMD_TIMEOUT = 20


def env(name):
    v = os.environ.get(name)
    if v is None:
        sys.exit("look.py: %s is not set" % name)
    return v


TDIR = env("LOOK_TDIR")
PREFIX = env("LOOK_PREFIX")
CARPD = env("CARPD")
SYNCD = env("SYNCD")
LONGPORT = ":%s " % env("LOOK_PORT")


def ask_all(cmds):
    """Run every command at once; {key: stdout text ('' on failure)}."""
    procs = {}
    for key, argv in cmds.items():
        try:
            procs[key] = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL,
                                          text=True)
        except OSError:
            procs[key] = None
    out = {}
    for key, p in procs.items():
        if p is None:
            out[key] = ""
            continue
        try:
            out[key], _ = p.communicate(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            out[key] = ""
    return out


def parse(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def sock(f, daemon):
    return os.path.join(TDIR, "%s-%s.sock" % (f, daemon))


def running(f, daemon):
    return os.path.exists(os.path.join(TDIR, "pids", "%s-%s" % (f, daemon)))


def down(f):
    return os.path.exists(os.path.join(TDIR, "down-" + f))


def states(carp):
    if not carp:
        return ""
    return " ".join(v.get("state", "?") for v in carp.get("vhids", []))


def holds_vip(addr_text, vip):
    return re.search(r"inet %s/" % re.escape(vip), addr_text) is not None


def judge_diff(d, exact):
    """One `syncd diff --json` answer: (line, clean)."""
    if d is None:
        return "no answer (not JSON)", False
    why, counts = [], []
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
            if LONGPORT in x["state"] + " ":
                why.append("long-lived flow differs: %s %s %s" %
                           (x["kind"], x["state"], x.get("attribute", "")))
    if not d.get("peers"):
        why.append("no peer")
    if why:
        return "; ".join(why[:3]), False
    return "; ".join(counts), True


def diffs(members, exact):
    """`syncd diff --json` on each member at once (the answers are kept in
    LOOK_TDIR/diff-FW for a post-mortem): (line, clean)."""
    out = ask_all({f: [SYNCD, "diff", "--json", "--control",
                       sock(f, "syncd")] for f in members})
    lines, clean = [], True
    for f in members:
        with open(os.path.join(TDIR, "diff-" + f), "w") as fh:
            fh.write(out[f])
        line, ok = judge_diff(parse(out[f]), exact)
        lines.append("%s: %s" % (f, line))
        clean = clean and ok
    return "; ".join(lines), clean


def demote_other(carp):
    """A carpd's demotion but syncd's part."""
    d = (carp or {}).get("demote", {})
    return d.get("total", 0) - d.get("reasons", {}).get("sync", 0)


def look(full):
    """One look: (agreed, why)."""
    live = [f for f in MEMBERS if not down(f)]
    cmds = {}
    for f in live:
        cmds[(f, "carp")] = [CARPD, "status", "--json", "--control",
                             sock(f, "carpd")]
        cmds[(f, "addr")] = ["ip", "-n", PREFIX + f, "-4", "addr", "show"]
        if full:
            cmds[(f, "syncd")] = [SYNCD, "status", "--json", "--control",
                                  sock(f, "syncd")]
    out = ask_all(cmds)
    carp = {f: parse(out[(f, "carp")]) for f in live}
    masters = []
    for f in live:
        st = states(carp[f])
        if st == "MASTER MASTER":
            masters.append(f)
        elif "MASTER" in st:
            return False, "%s is MASTER on one vhid only (%s)" % (f, st)
    if not masters:
        return False, "no master"
    if len(masters) > 1:
        return False, "two masters"
    m = masters[0]
    if not all(holds_vip(out[(m, "addr")], v) for v in VIPS):
        return False, "master %s lacks an address" % m
    if (full and m == "fw2" and "fw1" in live and running("fw1", "carpd")
            and carp["fw1"] is not None and demote_other(carp["fw1"]) == 0):
        return False, "fw1 (not demoted but for syncd) is not master yet"
    for f in live:
        if f == m or not running(f, "carpd"):
            continue
        st = states(carp[f])
        # a vhid whose link is down is INIT: only during such a fault
        if st != "BACKUP BACKUP" and (full or st != "INIT BACKUP"):
            return False, "%s is %s" % (f, st or "silent")
        if any(holds_vip(out[(f, "addr")], v) for v in VIPS):
            return False, "backup %s holds a virtual address" % f
    if not full:
        return True, "carp agrees"
    for f in live:
        if not running(f, "syncd"):
            return False, "%s's syncd is not running" % f
    for f in live:
        s = parse(out[(f, "syncd")])
        if not s or s.get("bulk") != "done":
            return False, "%s's bulk is not done" % f
    return diffs(live, False)


def log(line):
    with open(env("LOOK_LOG"), "a") as fh:
        fh.write("%.3f %s\n" % (time.time(), line))


def agree(t0, full):
    limit_ms = float(env("LOOK_AGREE_S")) * 1000
    why = ""
    for _ in range(400):
        start = time.time()
        ok, why = look(full)
        took = (time.time() - start) * 1000
        log("%s: %s (look of %.0f ms)" % ("agreed" if ok else "not yet",
                                          why, took))
        if ok:
            # the time of a look is when it began: what it compares is
            # taken then (a diff on a busy machine may take a second)
            ms = max(0, (start - t0) * 1000)
            return "%d\t%d\t%d\t%s" % (ms <= limit_ms, ms, took, why)
        if time.time() - t0 > 60:
            break
        time.sleep(0.1)
    return "0\t%d\t0\t%s" % ((time.time() - t0) * 1000, why)


def exact():
    t0 = time.time()
    why = ""
    for _ in range(60):
        why, clean = diffs(list(MEMBERS), True)
        if clean:
            return "1\t%d\t%s" % ((time.time() - t0) * 1000, why)
        if time.time() - t0 > 60:
            break
        time.sleep(1)
    return "0\t%d\t%s" % ((time.time() - t0) * 1000, why)


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "agree" and a[2] in ("0", "1"):
        print(agree(float(a[1]), a[2] == "1"))
    elif a == ["exact"]:
        print(exact())
    else:
        sys.exit("usage: look.py agree T0 0|1 | look.py exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
