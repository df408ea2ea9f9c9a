/*
 * addr.c: IPv4/IPv6 addresses as values.
 * Parsing with an optional "/plen", formatting, a total order.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int
addr_parse(const char *s, struct addr *a, int *plen)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash;
	char *end;
	size_t n;
	long l;
	int max;

	memset(a, 0, sizeof(*a));
	if (plen != NULL)
		*plen = -1;
	if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n + 1);
	slash = strchr(tmp, '/');
	if (slash != NULL) {
		if (plen == NULL)
			return -1;
		tmp[slash - tmp] = '\0';
	}
	if (inet_pton(AF_INET, tmp, &a->v4) == 1) {
		a->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, &a->v6) == 1) {
		a->family = AF_INET6;
		max = 128;
	} else
		goto bad;
	if (slash != NULL) {
		const char *p = slash + 1;

		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		l = strtol(p, &end, 10);
		if (errno != 0 || *end != '\0' || l < 0 || l > max)
			goto bad;
		*plen = (int)l;
	}
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	if (plen != NULL)
		*plen = -1;
	return -1;
}

const char *
addr_fmt(const struct addr *a, int plen, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	if (inet_ntop(a->family, a->b, tmp, sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	if (plen >= 0)
		snprintf(buf, len, "%s/%d", tmp, plen);
	else
		snprintf(buf, len, "%s", tmp);
	return buf;
}

int
addr_len(const struct addr *a)
{
	if (a->family == AF_INET)
		return 4;
	if (a->family == AF_INET6)
		return 16;
	return 0;
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->b, b->b, (size_t)addr_len(a));
	return r < 0 ? -1 : r > 0;
}

int
addr_is_linklocal(const struct addr *a)
{
	if (a->family == AF_INET6)
		return IN6_IS_ADDR_LINKLOCAL(&a->v6);
	if (a->family == AF_INET)
		return a->b[0] == 169 && a->b[1] == 254;
	return 0;
}
