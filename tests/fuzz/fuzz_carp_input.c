/*
 * fuzz_carp_input.c: carpd's whole receive path (Ethernet, VLAN, IPv4,
 * IPv6, CARP, vhid lookup, loop checks, HMAC) on arbitrary frames.
 */
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "../../carpd/carpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct carpd *carpd;

void
carpd_rx_adv(struct vh *v, const struct carp_hdr *h, int af)
{
	(void)af;
	if (h->vhid != v->fsm.cfg.vhid)
		__builtin_trap();
}

void
carpd_send_result(int ok)
{
	(void)ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct carpd c;
	static struct vh v1, v2;
	static int init;

	if (!init) {
		carpd = &c;
		c.nifs = 1;
		strcpy(c.ifs[0].name, "eth0");
		addr_parse("192.168.1.2", &c.ifs[0].src4, NULL);
		addr_parse("fe80::1", &c.ifs[0].src6, NULL);
		v1.ifp = v2.ifp = &c.ifs[0];
		v1.fsm.cfg.vhid = 1;
		inet_pton(AF_INET, "192.168.1.10", &v1.v4[0]);
		v1.n4 = 1;
		carp_key_from_pass("mekmitasdigoat", v1.key);
		v2.fsm.cfg.vhid = 3;
		inet_pton(AF_INET6, "2001:db8::10", &v2.v6[0]);
		v2.n6 = 1;
		carp_key_from_pass("v6pass", v2.key);
		c.vh[0] = &v1;
		c.vh[1] = &v2;
		c.nvh = 2;
		init = 1;
	}
	net_input_frame(&c.ifs[0], data, len);
	return 0;
}
