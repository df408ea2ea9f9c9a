#!/bin/sh
# The master loses all its links at once (LAN, WAN and sync, as if its
# cables were pulled): the backup takes over and every established,
# NATed TCP connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

if lab_t_begin links; then
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost all its links"
	lab_t_settle
	lab_t_gap 1 "failover, fw1 lost its links"
	lab_t_end all "fw1 lost all its links"
fi
