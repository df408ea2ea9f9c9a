/*
 * cachedump_client.c: the command line of "syncd dump": checks its
 * arguments (a bad one is a usage error, exit 2) and streams the answer
 * to stdout as it arrives (common/ctl_client.c).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "syncd.h"

static void
dump_usage(const char *why, const char *arg)
{
	if (why != NULL)
		fprintf(stderr, "syncd: dump: %s%s%s\n", why,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	fprintf(stderr,
	    "usage: syncd dump internal|external [--peer addr]"
	    " [--json] [--control socket]\n");
	exit(2);
}

int
cachedump_client(int argc, char **argv)
{
	const char *path = SYNCD_CONTROL, *peer = NULL;
	char *words[6];
	uint8_t a[16];
	int n = 0, json = 0;

	if (argc < 2)
		dump_usage("internal or external?", NULL);
	if (strcmp(argv[1], "internal") != 0 &&
	    strcmp(argv[1], "external") != 0)
		dump_usage("not internal or external:", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--control=", 10) == 0)
			path = argv[i] + 10;
		else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc)
			peer = argv[++i];
		else if (strncmp(argv[i], "--peer=", 7) == 0)
			peer = argv[i] + 7;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			dump_usage("bad argument", argv[i]);
	}
	if (peer != NULL && strcmp(argv[1], "external") != 0)
		dump_usage("--peer goes with external", NULL);
	if (peer != NULL && inet_pton(AF_INET, peer, a) != 1 &&
	    inet_pton(AF_INET6, peer, a) != 1)
		dump_usage("not an IPv4 or IPv6 address:", peer);
	words[n++] = "dump";
	words[n++] = argv[1];
	if (peer != NULL) {
		words[n++] = "peer";
		words[n++] = (char *)peer;
	}
	if (json)
		words[n++] = "json";
	return ctl_client_main("syncd", path, n, words);
}
