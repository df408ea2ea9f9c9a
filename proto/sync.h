/*
 * sync.h: syncd's wire format: frame header, records (states, updates,
 * deletes, expectations, control), sealing with XChaCha20-Poly1305 and the
 * replay window. Pure code: no I/O, no logging. docs/sync-protocol.md.
 */
#ifndef PROTO_SYNC_H
#define PROTO_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sync_state.h"

/*
 * A frame (UDP payload), all fields big-endian:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Magic 'S'   |   Magic 'y'   |    Version    |     Flags     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Session (64 bits)                          |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Sequence number                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Length (body)          |  Body: records, or when SEALED:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  nonce (24) | ciphertext | tag (16)
 *
 * Flags: SYNC_F_SEALED (body encrypted, header authenticated as
 * associated data), SYNC_F_RELIABLE (sequence number in the reliable,
 * acknowledged space; otherwise in the control space).
 *
 * A record:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - -
 *   |     Type      |    Length     |  Value (Length bytes)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - -
 * Receivers skip record types they do not know.
 */
#define SYNC_MAGIC0		0x53	/* 'S' */
#define SYNC_MAGIC1		0x79	/* 'y' */
#define SYNC_VERSION		1
#define SYNC_HDRLEN		18
#define SYNC_NONCELEN		24
#define SYNC_TAGLEN		16
#define SYNC_SEALOVERHEAD	(SYNC_NONCELEN + SYNC_TAGLEN)
#define SYNC_KEYLEN		32
#define SYNC_FRAME_MAX		65507	/* largest UDP payload */
#define SYNC_PORT		7475	/* default UDP port */

#define SYNC_F_SEALED		0x01
#define SYNC_F_RELIABLE		0x02

/* Record types. */
enum sync_rec_type {
	SYNC_R_STATE = 1,	/* full state (new, changed, bulk) */
	SYNC_R_UPDATE = 2,	/* key + changed fields */
	SYNC_R_DELETE = 3,	/* key */
	SYNC_R_EXPECT = 4,	/* full expectation */
	SYNC_R_EXPECT_DEL = 5,	/* expectation key */
	SYNC_R_HELLO = 16,	/* liveness */
	SYNC_R_ACK = 17,	/* cumulative ack + missing ranges */
	SYNC_R_BULK_REQ = 18,	/* send me your whole table */
	SYNC_R_BULK_BEGIN = 19,
	SYNC_R_BULK_END = 20,
	SYNC_R_SKIP = 21,	/* frames before seq are gone */
	SYNC_R_DIFF_REQ = 22,	/* send me what you hold for me */
	SYNC_R_DIFF_STATE = 23,	/* as STATE: one of the asker's states */
	SYNC_R_DIFF_END = 24,
};

/* SYNC_R_UPDATE field mask. */
#define SYNC_U_STATUS		0x01
#define SYNC_U_TIMEOUT		0x02
#define SYNC_U_TCP		0x04	/* tcp state + flags */
#define SYNC_U_MARK		0x08
#define SYNC_U_LABELS		0x10
#define SYNC_U_ALL		0x1f

/* HELLO flags. */
#define SYNC_H_BULK_DONE	0x01	/* sender's first bulk is complete */

#define SYNC_ACK_MAXRANGES	16

struct sync_hdr {
	uint8_t		 version;
	uint8_t		 flags;
	uint64_t	 session;
	uint32_t	 seq;
	uint16_t	 len;
};

/* The compact update: which fields of the state changed. */
struct sync_update {
	uint8_t		 mask;		/* SYNC_U_* */
	struct ct_state	 st;		/* key + the fields in mask */
};

struct sync_hello {
	uint8_t		 flags;
	uint32_t	 internal;	/* sender's own states */
};

struct sync_range {
	uint32_t	 from;		/* inclusive */
	uint32_t	 to;		/* inclusive */
};

struct sync_ack {
	uint64_t	 session;	/* the session being acknowledged */
	uint32_t	 next;		/* every seq before this arrived */
	uint8_t		 nranges;
	struct sync_range range[SYNC_ACK_MAXRANGES];	/* missing */
};

/* BULK_REQ, BULK_BEGIN, BULK_END, DIFF_REQ, DIFF_END, SKIP. */
struct sync_ctl {
	uint32_t	 id;		/* request id; SKIP: next seq */
	uint32_t	 count;		/* BULK_END, DIFF_END */
};

/* Header. decode checks magic, version and that len matches what is left
 * (rd holds the whole datagram). 0 or -1. */
int	sync_hdr_encode(struct wr *, const struct sync_hdr *);
int	sync_hdr_decode(struct rd *, struct sync_hdr *);

/* Records. Each encoder writes type, length and value, or sets w->err
 * and returns -1 when it does not fit (the caller rewinds). */
int	sync_state_encode(struct wr *, int type, const struct ct_state *);
/* The same record from a value sync_state_encode wrote without timeout
 * (what caches keep), with the timeout added when timed. */
int	sync_state_encode_value(struct wr *, int type, const uint8_t *val,
	    size_t vlen, int timed, uint32_t timeout);
int	sync_update_encode(struct wr *, const struct sync_update *);
int	sync_delete_encode(struct wr *, const struct ct_state *);
int	sync_expect_encode(struct wr *, int type, const struct ct_expect *);
int	sync_hello_encode(struct wr *, const struct sync_hello *);
int	sync_ack_encode(struct wr *, const struct sync_ack *);
int	sync_ctl_encode(struct wr *, int type, const struct sync_ctl *);

/* Walk the records of a body: 1 with type and value cursor, 0 at the
 * end, -1 when a record overruns the body. */
int	sync_rec_next(struct rd *body, uint8_t *type, struct rd *val);

/* Value decoders: 0 or -1 when the value is too short or invalid. Bytes
 * after the fields a decoder knows are ignored (room for extensions). */
int	sync_state_decode(struct rd *, struct ct_state *);
int	sync_update_decode(struct rd *, struct sync_update *);
int	sync_delete_decode(struct rd *, struct ct_state *);
int	sync_expect_decode(struct rd *, struct ct_expect *);
int	sync_hello_decode(struct rd *, struct sync_hello *);
int	sync_ack_decode(struct rd *, struct sync_ack *);
int	sync_ctl_decode(struct rd *, int type, struct sync_ctl *);

/* The state key (family, proto, zone, original addresses and ports) in
 * its canonical wire encoding; states are the same when keys are equal.
 * Returns the length (at most SYNC_KEY_MAX). */
#define SYNC_KEY_MAX	40
size_t	sync_key_encode(uint8_t *, const struct ct_state *);
/* Length of the key at the start of an encoded STATE value, 0 if bad. */
size_t	sync_key_len(const uint8_t *, size_t);

/*
 * Frames. buf holds SYNC_HDRLEN (+ SYNC_NONCELEN when sealed) bytes of
 * room, then the records; sync_frame_finish writes the header and, with
 * a key, seals the body in place (buf needs SYNC_TAGLEN more bytes).
 * Returns the datagram length.
 */
size_t	sync_frame_body_off(int sealed);
size_t	sync_frame_finish(uint8_t *buf, size_t body_len, uint8_t flags,
	    uint64_t session, uint32_t seq, const uint8_t *key);
/* Check the header and, with a key, authenticate and decrypt in place.
 * Returns 0 with body and blen set, SYNC_E_* on rejection. A frame sealed
 * when we have no key, or plain when we have one, is rejected. */
#define SYNC_E_MALFORMED	-1
#define SYNC_E_AUTH		-2
#define SYNC_E_SEALING		-3
int	sync_frame_open(uint8_t *buf, size_t len, const uint8_t *key,
	    struct sync_hdr *, uint8_t **body, size_t *blen);

/* A 64-frame replay window for one sender and session (control space).
 * Returns 0 and records seq if new, -1 for a replay or a frame too old,
 * or from an older session. A newer session resets the window. */
struct sync_replay {
	uint64_t	 session;
	uint32_t	 top;
	uint64_t	 bits;
	int		 valid;
};
int	sync_replay_check(struct sync_replay *, uint64_t session,
	    uint32_t seq);

/* Keys: generate (random), print as hex, parse hex (64 digits, blanks
 * and a trailing newline allowed). 0 or -1. */
void	sync_key_generate(uint8_t key[SYNC_KEYLEN]);
void	sync_key_format(const uint8_t key[SYNC_KEYLEN], char out[65]);
int	sync_key_parse(const char *, uint8_t key[SYNC_KEYLEN]);

#endif
