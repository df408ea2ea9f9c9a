#!/bin/sh
# The control: the same pair without syncd (carpd alone). The ruleset is
# strict, so when the master loses its links every established connection
# dies, although the backup takes over. This is what proves the other
# failover tests measure the state sync and not a lax firewall.
. "$(dirname "$0")/lib.sh"
LAB_NOSYNC=1
. "$TOP/tests/lab.sh"

if lab_t_begin control; then
	check "fw2 has no state of the connections (no sync)" \
	    sh -c "[ \$(ip netns exec $(ns fw2) conntrack -L -p tcp \
	    --dport $LAB_PORT 2>/dev/null | wc -l) -eq 0 ]"
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost all its links"
	lab_t_settle 8
	lab_t_gap 1 "failover without state sync"
	lab_t_end none "fw1 lost all its links"
fi
