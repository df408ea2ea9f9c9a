#!/bin/sh
# The master loses all its links at once (LAN, WAN and sync, as if its
# cables were pulled; its daemons keep running): the backup takes over, its
# LAN and WAN addresses together, and every established, NATed TCP
# connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

if lab_t_begin links; then
	lab_watch_start fw2 "$T_DIR/watch"
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost all its links"
	sleep 1
	lab_watch_stop fw2
	if lab_together "$T_DIR/watch"; then
		ok "fw2's LAN and WAN vhids moved together"
	else
		not_ok "fw2's LAN and WAN vhids moved together (samples:" \
		    "$(sort "$T_DIR/watch" | uniq -c | tr -s ' \n' ' '))"
	fi
	lab_t_settle
	lab_t_gap 1 "failover, fw1 lost its links"
	lab_t_end all "fw1 lost all its links"
fi
