#!/bin/sh
# test_syncd_empty_read.sh: a table read of a namespace without any
# conntrack entry is not asked of the kernel (whose dump would walk every
# bucket of the hash table all namespaces share, with softirqs off), and
# a namespace with entries is always read. Two sealed nodes, nothing in
# either table: both skip their first read, and a state made afterwards
# still arrives as an event and reaches the peer. A's syncd restarted: its
# table now holds that state, so it is read (none skipped) and the state is
# A's again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools

ns_add a b
link a 10.9.0.1 b 10.9.0.2

start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
if wait_for 10 has a demote 0 && wait_for 10 has b demote 0; then
	ok "both nodes finish their first bulk"
else
	not_ok "both nodes finish their first bulk"; dump "$T_DIR/a.log"
fi
check "A's empty table was not dumped" wait_for 5 ge a empty_reads 1
check "B's empty table was not dumped" wait_for 5 ge b empty_reads 1

nsx a conntrack -I -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1001 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
check "a state made after the skipped read is A's" wait_for 10 has a internal 1
check "and reaches B" wait_for 10 has b external 1

kill "$PID_a" 2>/dev/null
wait_for 5 gone "$PID_a"
start_syncd a 10.9.0.1 10.9.0.2
check "restarted A finishes its first bulk" wait_for 10 has a demote 0
check "restarted A finds its state in the table" wait_for 10 has a internal 1
check "a table with an entry is read from the kernel" has a empty_reads 0
check "B still holds A's state" has b external 1

[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"
