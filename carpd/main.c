/*
 * main.c: carpd, the CARP daemon (placeholder until the daemon lands).
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "carpd: not built yet\n");
	return 1;
}
