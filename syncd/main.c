/*
 * main.c: syncd, the state sync daemon (placeholder until the daemon lands).
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "syncd: not built yet\n");
	return 1;
}
