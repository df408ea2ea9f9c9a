/*
 * buf.h: bounded cursors for reading and writing wire formats.
 * Every read checks the remaining length first and returns -1 when short;
 * every write checks the space left. Multi-byte values are big-endian.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t len; /* bytes left */
};

struct wr {
	uint8_t *p;
	size_t len; /* space left */
	size_t off; /* bytes written */
	int err;    /* set once a write did not fit */
};

static inline void
rd_init(struct rd *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
}

static inline int
rd_bytes(struct rd *c, void *dst, size_t n)
{
	if (c->len < n)
		return -1;
	if (n > 0)
		memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
	return 0;
}

static inline int
rd_skip(struct rd *c, size_t n)
{
	if (c->len < n)
		return -1;
	c->p += n;
	c->len -= n;
	return 0;
}

static inline int
rd_u8(struct rd *c, uint8_t *v)
{
	if (c->len < 1)
		return -1;
	*v = c->p[0];
	c->p++;
	c->len--;
	return 0;
}

static inline int
rd_u16(struct rd *c, uint16_t *v)
{
	if (c->len < 2)
		return -1;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return 0;
}

static inline int
rd_u32(struct rd *c, uint32_t *v)
{
	if (c->len < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->len -= 4;
	return 0;
}

static inline int
rd_u64(struct rd *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (c->len < 8)
		return -1;
	rd_u32(c, &hi);
	rd_u32(c, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static inline void
wr_init(struct wr *c, void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->err = 0;
}

static inline int
wr_bytes(struct wr *c, const void *src, size_t n)
{
	if (c->err || c->len < n) {
		c->err = 1;
		return -1;
	}
	if (n > 0)
		memcpy(c->p + c->off, src, n);
	c->off += n;
	c->len -= n;
	return 0;
}

static inline int
wr_u8(struct wr *c, uint8_t v)
{
	return wr_bytes(c, &v, 1);
}

static inline int
wr_u16(struct wr *c, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(c, b, 2);
}

static inline int
wr_u32(struct wr *c, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(c, b, 4);
}

static inline int
wr_u64(struct wr *c, uint64_t v)
{
	if (wr_u32(c, (uint32_t)(v >> 32)) == -1)
		return -1;
	return wr_u32(c, (uint32_t)v);
}

/*
 * Take back what was written since mark (an earlier c->off), e.g. a record
 * that did not fit: the cursor is as it was then, with err cleared.
 */
static inline void
wr_rewind(struct wr *c, size_t mark)
{
	if (mark > c->off)
		return;
	c->len += c->off - mark;
	c->off = mark;
	c->err = 0;
}

/* Reserve n bytes to fill in later (e.g. a length); NULL when full. */
static inline uint8_t *
wr_reserve(struct wr *c, size_t n)
{
	uint8_t *p;

	if (c->err || c->len < n) {
		c->err = 1;
		return NULL;
	}
	p = c->p + c->off;
	c->off += n;
	c->len -= n;
	return p;
}

static inline void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif
