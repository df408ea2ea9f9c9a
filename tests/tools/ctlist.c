/*
 * ctlist.c: print the conntrack table of the current namespace one state
 * per line with every attribute syncd carries except the timeout, sorted
 * by the caller, so two tables can be compared attribute by attribute.
 * usage: ctlist [-x port]   (-x: leave out UDP flows on that port)
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct.h"

static unsigned long skip_port;

static void
tuple(const char *tag, const struct ct_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = t->family == AF_INET6 ? AF_INET6 : AF_INET;

	inet_ntop(af, t->src, s, sizeof(s));
	inet_ntop(af, t->dst, d, sizeof(d));
	printf(" %s=%u/%s/%u/%s/%u", tag, t->proto, s, t->sport, d, t->dport);
}

static void
print_state(const struct ct_state *st, void *arg)
{
	if (skip_port != 0 && st->orig.proto == IPPROTO_UDP &&
	    (st->orig.sport == skip_port || st->orig.dport == skip_port))
		return;
	tuple("orig", &st->orig);
	tuple("reply", &st->reply);
	/* Bits the kernel keeps on an import: SEEN_REPLY, ASSURED, the NAT
	 * bits; not CONFIRMED/DYING/offload and the like. */
	printf(" status=0x%x", st->status & 0x36);
	printf(" mark=%u", (st->fields & CT_F_MARK) ? st->mark : 0);
	printf(" zone=%u", (st->fields & CT_F_ZONE) ? (unsigned)st->zone : 0);
	printf(" labels=");
	for (int i = 0; i < CT_LABELS_LEN; i++)
		printf("%02x", (st->fields & CT_F_LABELS) ? st->labels[i] : 0);
	if (st->fields & CT_F_TCP)
		printf(" tcp=%u", st->tcp_state);
	if ((st->fields & CT_F_HELPER) && st->helper[0] != '\0')
		printf(" helper=%s", st->helper);
	if (st->fields & CT_F_MASTER)
		tuple("master", &st->master);
	printf("\n");
}

int
main(int argc, char *argv[])
{
	struct ct_handle *ct;
	int ch;

	while ((ch = getopt(argc, argv, "x:")) != -1) {
		switch (ch) {
		case 'x':
			skip_port = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: ctlist [-x port]\n");
			return 2;
		}
	}
	if ((ct = ct_open(NULL, NULL, NULL, 0)) == NULL)
		err(1, "ct_open");
	if (ct_dump_sync(ct, print_state, NULL) == -1)
		err(1, "dump");
	ct_close(ct);
	return 0;
}
