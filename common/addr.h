/*
 * addr.h: IPv4/IPv6 addresses as values: parse, format, compare.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <netinet/in.h>
#include <stdint.h>

struct addr {
	int family; /* AF_INET or AF_INET6, 0 = unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	};
};

#define ADDR_STRLEN (INET6_ADDRSTRLEN + 4) /* with "/128" */

/* "192.0.2.1", "2001:db8::1", optionally "/plen". plen is set to -1 when
 * absent (pass NULL to refuse a prefix). Returns 0 or -1. */
int addr_parse(const char *, struct addr *, int *plen);
/* Format into buf (ADDR_STRLEN), with "/plen" when plen >= 0. */
const char *addr_fmt(const struct addr *, int plen, char *buf, size_t len);
/* Total order: family first, then address bytes (network order). */
int addr_cmp(const struct addr *, const struct addr *);
int addr_len(const struct addr *); /* 4, 16 or 0 */
int addr_is_linklocal(const struct addr *);

#endif
