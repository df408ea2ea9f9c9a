# prom_check.py: checks of a Prometheus text exposition against the status
# JSON of the same daemon, with the reference parser (python3-prometheus-
# client), for tests/netns/test_metrics.sh.
#
#   prom_check.py lint PROM              HELP and TYPE for every family,
#                                        counters named *_total, no
#                                        duplicate series, prefix
#   prom_check.py eval PROM JSON EXPR    print EXPR; v(name, **labels) is
#                                        one sample, total(name, **labels)
#                                        the sum, s the JSON
#   prom_check.py carpd PROM JSON1 JSON2 every counter of status within
#   prom_check.py syncd PROM JSON1 JSON2 the two JSON snapshots around it
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in out:
                raise SystemExit("duplicate series %s %s" % key)
            out[key] = s.value
    return out


def lint(text):
    errs = []
    fams = list(text_string_to_metric_families(text))
    prefix = None
    for f in fams:
        if not f.documentation:
            errs.append("%s: no HELP" % f.name)
        if f.type not in ("counter", "gauge"):
            errs.append("%s: type %s" % (f.name, f.type))
        p = f.name.split("_")[0]
        if prefix is None:
            prefix = p
        if p != prefix or p not in ("carpd", "syncd"):
            errs.append("%s: prefix" % f.name)
        for s in f.samples:
            if f.type == "counter" and not s.name.endswith("_total"):
                errs.append("%s: counter not *_total" % s.name)
            if f.type != "counter" and s.name.endswith("_total"):
                errs.append("%s: gauge named *_total" % s.name)
    # The raw text: a HELP and a TYPE line before the first sample of each
    # name, and every family's samples together.
    seen, typed, helped = set(), set(), set()
    last = None
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+)", line)
        if m:
            (helped if m.group(1) == "HELP" else typed).add(m.group(2))
            if line.endswith(" counter") and \
                    not m.group(2).endswith("_total"):
                errs.append("%s: counter not *_total" % m.group(2))
            continue
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        if name not in typed or name not in helped:
            errs.append("%s: sample before HELP/TYPE" % name)
        if name != last and name in seen:
            errs.append("%s: samples apart" % name)
        seen.add(name)
        last = name
    samples(text)
    if not fams:
        errs.append("no family")
    return errs


class Q:
    def __init__(self, text):
        self.s = samples(text)

    def match(self, name, labels):
        return [v for (n, ls), v in self.s.items() if n == name and
                all(dict(ls).get(k) == str(x) for k, x in labels.items())]

    def v(self, name, **labels):
        m = self.match(name, labels)
        if len(m) != 1:
            raise SystemExit("%s %s: %d samples" % (name, labels, len(m)))
        return m[0]

    def total(self, name, **labels):
        return sum(self.match(name, labels))


CARPD_FIXED = {
    "ipackets": ("carpd_rx_packets_total", {"family": "ipv4"}),
    "ipackets6": ("carpd_rx_packets_total", {"family": "ipv6"}),
    "opackets": ("carpd_tx_packets_total", {"family": "ipv4"}),
    "opackets6": ("carpd_tx_packets_total", {"family": "ipv6"}),
    "oerrors": ("carpd_tx_errors_total", {}),
    "garp": ("carpd_tx_gratuitous_arp_total", {}),
    "na": ("carpd_tx_neighbor_advertisements_total", {}),
}

SYNCD_PEER = {
    "tx_frames": ("syncd_peer_tx_frames_total", {}),
    "rx_frames": ("syncd_peer_rx_frames_total", {}),
    "tx_bytes": ("syncd_peer_tx_bytes_total", {}),
    "rx_bytes": ("syncd_peer_rx_bytes_total", {}),
    "tx_states": ("syncd_peer_tx_states_total", {}),
    "rx_states": ("syncd_peer_rx_states_total", {}),
    "resent": ("syncd_peer_resent_frames_total", {}),
    "lost": ("syncd_peer_lost_frames_total", {}),
    "duplicates": ("syncd_peer_duplicate_frames_total", {}),
    "rx_rejected": ("syncd_peer_rx_rejected_frames_total", {}),
    "rx_forged": ("syncd_peer_rx_rejected_total", {"reason": "forged"}),
    "rx_replayed": ("syncd_peer_rx_rejected_total", {"reason": "replayed"}),
    "rx_malformed": ("syncd_peer_rx_rejected_total",
                     {"reason": "malformed"}),
    "rx_stale": ("syncd_peer_rx_rejected_total", {"reason": "stale"}),
    "unknown_updates": ("syncd_peer_unknown_updates_total", {}),
    "skips": ("syncd_peer_skips_total", {}),
    "bulks_sent": ("syncd_peer_bulks_sent_total", {}),
    "bulks_received": ("syncd_peer_bulks_received_total", {}),
}


def bracket(q, pairs):
    """pairs: (what, value before, family, labels, value after); a family
    named "sum:NAME" is the sum of the samples of NAME that match."""
    errs = []
    for what, a, fam, labels, b in pairs:
        lo, hi = min(a, b), max(a, b)
        got = q.match(fam[4:] if fam.startswith("sum:") else fam, labels)
        if fam.startswith("sum:"):
            got = [sum(got)]
        if len(got) != 1:
            errs.append("%s: %d samples of %s %s" % (what, len(got), fam,
                                                      labels))
        elif not lo <= got[0] <= hi:
            errs.append("%s: %s not in [%s, %s]" % (what, got[0], lo, hi))
    return errs


def carpd_pairs(j1, j2):
    pairs = []
    for k, lo in j1["counters"].items():
        fam, labels = CARPD_FIXED.get(
            k, ("carpd_rx_rejected_total", {"reason": k}))
        pairs.append((k, lo, fam, labels, j2["counters"][k]))
    for a, b in zip(j1["vhids"], j2["vhids"]):
        lab = {"vhid": a["vhid"], "interface": a["interface"]}
        pairs.append(("transitions", a["transitions"],
                      "sum:carpd_transitions_total", lab, b["transitions"]))
        for k, fam in (("rx", "carpd_vhid_rx_advertisements_total"),
                       ("tx", "carpd_vhid_tx_advertisements_total"),
                       ("badauth", "carpd_vhid_rx_badauth_total"),
                       ("split_brain", "carpd_split_brain_total")):
            pairs.append((k, a[k], fam, lab, b[k]))
    for r, lo in j1["demote"]["reasons"].items():
        pairs.append(("demote " + r, lo, "carpd_demotion", {"reason": r},
                      j2["demote"]["reasons"][r]))
    return pairs


def syncd_pairs(j1, j2):
    pairs = []
    for p1, p2 in zip(j1["peers"], j2["peers"]):
        for k, (fam, labels) in SYNCD_PEER.items():
            lab = dict(labels, peer=p1["address"])
            pairs.append((p1["address"] + " " + k, p1[k], fam, lab, p2[k]))
    for k, fam in (("internal", "syncd_internal_states"),
                   ("external", "syncd_external_states"),
                   ("staged", "syncd_staged_total"),
                   ("commits", "syncd_commits_total"),
                   ("rx_unknown_source", "syncd_rx_unknown_source_total")):
        pairs.append((k, j1[k], fam, {}, j2[k]))
    for k, res in (("reloads", "ok"), ("reloads_refused", "refused")):
        pairs.append((k, j1[k], "syncd_reloads_total", {"result": res},
                      j2[k]))
    for k, v in j1.get("kernel", {}).items():
        pairs.append(("kernel " + k, v, "syncd_kernel_%s_total" % k, {},
                      j2["kernel"][k]))
    return pairs


def main():
    cmd = sys.argv[1]
    text = open(sys.argv[2]).read()
    if cmd == "lint":
        errs = lint(text)
    elif cmd == "eval":
        q = Q(text)
        s = json.load(open(sys.argv[3]))
        r = eval(sys.argv[4], {"v": q.v, "total": q.total, "s": s})
        print(int(r) if isinstance(r, float) and r.is_integer() else r)
        return 0
    else:
        j1 = json.load(open(sys.argv[3]))
        j2 = json.load(open(sys.argv[4]))
        pairs = carpd_pairs(j1, j2) if cmd == "carpd" else \
            syncd_pairs(j1, j2)
        errs = bracket(Q(text), pairs)
        print("%d figures compared" % len(pairs))
    for e in errs:
        print(e)
    return 1 if errs else 0


sys.exit(main())
