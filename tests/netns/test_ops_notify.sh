#!/bin/sh
# test_ops_notify.sh: systemd readiness (Type=notify) without systemd: a
# unix datagram socket stands in for NOTIFY_SOCKET. carpd sends READY=1
# once its control socket exists and its vhid started, STATUS= lines with
# the vhid's state and WATCHDOG=1 at half of WATCHDOG_USEC; syncd sends
# READY=1 once its sockets are bound and the first table dump is in,
# with its peers and state counts as STATUS=, and pings too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"
. "$(dirname "$0")/syncd_lib.sh"

# listen SOCKET OUT WATCH SECONDS: record every datagram on SOCKET as
# "time message" lines in OUT; READY=1 is followed by "sock=yes|no",
# whether the file WATCH existed when it came.
listen() {
	python3 - "$@" <<'PY' &
import os, socket, sys, time
path, out, watch, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
end = time.time() + secs
with open(out, "w", buffering=1) as f:
    while time.time() < end:
        try:
            m = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            continue
        for line in m.split("\n"):
            extra = ""
            if line == "READY=1":
                extra = " sock=" + ("yes" if os.path.exists(watch) else "no")
            f.write("%.3f %s%s\n" % (time.time(), line, extra))
os.unlink(path)
PY
	T_PIDS="$T_PIDS $!"
	wait_for 5 test -S "$1"
}

count() { grep -c " $2" "$1" 2>/dev/null || echo 0; }

# ---- carpd
topo a || { not_ok "topology"; exit 1; }
listen "$T_DIR/a.notify" "$T_DIR/a.msgs" "$T_DIR/a.sock" 30 ||
    { not_ok "listener"; exit 1; }
NOTIFY_SOCKET=$T_DIR/a.notify WATCHDOG_USEC=2000000 \
    carpd_bg a -i eth0 -v 9 -p s -a 10.0.0.109/24 -b 0 -k 10
if wait_for 5 grep -q "READY=1" "$T_DIR/a.msgs"; then
	ok "carpd: READY=1"
else
	not_ok "carpd: READY=1"
	dump "$T_DIR/a.log" "$T_DIR/a.msgs"
fi
check "carpd: READY=1 came after the control socket existed" \
    grep -q "READY=1 sock=yes" "$T_DIR/a.msgs"
check "carpd: STATUS= names the vhid" \
    grep -q "STATUS=vhid 9 [A-Z]*, demote [0-9]*$" "$T_DIR/a.msgs"
check "carpd: STATUS= follows the takeover (vhid 9 MASTER, demote 0)" \
    wait_for 5 grep -q "STATUS=vhid 9 MASTER, demote 0" "$T_DIR/a.msgs"
sleep 3
n=$(count "$T_DIR/a.msgs" WATCHDOG=1)
check "carpd: WATCHDOG=1 pings every second with WATCHDOG_USEC=2 s ($n)" \
    [ "$n" -ge 3 ]
ns_=$(count "$T_DIR/a.msgs" STATUS=)
check "carpd: STATUS= only when it changes ($ns_ lines)" [ "$ns_" -le 4 ]
kill "$(carpd_pid a)"
check "carpd: STOPPING=1 on SIGTERM" \
    wait_for 5 grep -q "STOPPING=1" "$T_DIR/a.msgs"

# ---- syncd: two nodes, the second one watched
ns_add sa sb || { not_ok "namespaces"; exit 1; }
link sa 10.9.0.1 sb 10.9.0.2 || { not_ok "link"; exit 1; }
listen "$T_DIR/sb.notify" "$T_DIR/sb.msgs" "$T_DIR/sb.sock" 60 ||
    { not_ok "listener"; exit 1; }
start_syncd sa 10.9.0.1 10.9.0.2
NOTIFY_SOCKET=$T_DIR/sb.notify WATCHDOG_USEC=1000000 \
    start_syncd sb 10.9.0.2 10.9.0.1
if wait_for 40 grep -q "READY=1" "$T_DIR/sb.msgs"; then
	ok "syncd: READY=1"
else
	not_ok "syncd: READY=1"
	dump "$T_DIR/sb.log" "$T_DIR/sb.msgs"
fi
check "syncd: READY=1 came after the control socket existed" \
    grep -q "READY=1 sock=yes" "$T_DIR/sb.msgs"
check "syncd: READY=1 after the first table dump" \
    grep -q "initial table dump" "$T_DIR/sb.log"
check "syncd: STATUS= names peers in sync and the state counts" \
    wait_for 5 grep -q "STATUS=1 of 1 peers in sync, [0-9]* internal, [0-9]* external states$" \
    "$T_DIR/sb.msgs"
sleep 2
n=$(count "$T_DIR/sb.msgs" WATCHDOG=1)
check "syncd: WATCHDOG=1 pings ($n)" [ "$n" -ge 3 ]
check "syncd: at most one STATUS= line a second" \
    awk '/STATUS=/ { if (t != "" && $1 - t < 0.9) bad = 1; t = $1 }
    END { exit bad }' "$T_DIR/sb.msgs"
