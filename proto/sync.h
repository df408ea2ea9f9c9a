/*
 * sync.h: syncd's wire format, version 2: frame header, handshake
 * messages, key derivation, records (states, updates, deletes,
 * expectations, control), sealing with ChaCha20-Poly1305, serial-number
 * arithmetic and the replay window. Pure code: no I/O, no logging.
 * docs/sync-protocol.md.
 */
#ifndef PROTO_SYNC_H
#define PROTO_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sync_state.h"

/*
 * Version 2. A frame (UDP payload), all fields big-endian:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Magic 'S'   |   Magic 'y'   |  Version (2)  |     Type      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      Session id (32)                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                   Sequence number (64)                        |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Body: ciphertext of the records ... | tag (16)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
 *
 * Types: INIT and RESP (handshake, session id and sequence 0, body in
 * clear and authenticated by a tag under the direction's handshake key),
 * DATA (reliable space), CTRL (control space), both from a session's
 * sender under the session's forward key, and REPLY (from the session's
 * receiver, under its reverse key). The AEAD is ChaCha20-Poly1305 (IETF)
 * with the header as associated data and the nonce built from the type
 * and the sequence number: unique per key because each session's keys
 * are fresh and its counters never repeat (rekey long before).
 *
 * A record:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - -
 *   |     Type      |    Length     |  Value (Length bytes)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - -
 * Receivers skip record types they do not know.
 */
#define SYNC_MAGIC0	  0x53 /* 'S' */
#define SYNC_MAGIC1	  0x79 /* 'y' */
#define SYNC_VERSION	  2
#define SYNC_HDRLEN	  16
#define SYNC_TAGLEN	  16
#define SYNC_SEALOVERHEAD SYNC_TAGLEN
#define SYNC_KEYLEN	  32
#define SYNC_HSNONCE	  32	/* handshake nonce */
#define SYNC_IDLEN	  18	/* member identity */
#define SYNC_FRAME_MAX	  65507 /* largest UDP payload */
#define SYNC_PORT	  7475	/* default UDP port */

/* Frame types. */
enum sync_ftype {
	SYNC_T_INIT = 1,  /* sender: start a session */
	SYNC_T_RESP = 2,  /* receiver: answer to INIT */
	SYNC_T_DATA = 3,  /* sender: reliable space */
	SYNC_T_CTRL = 4,  /* sender: control space */
	SYNC_T_REPLY = 5, /* receiver: acks and requests */
};

/* Record types. */
enum sync_rec_type {
	SYNC_R_STATE = 1,      /* full state (new, changed, bulk) */
	SYNC_R_UPDATE = 2,     /* key + changed fields */
	SYNC_R_DELETE = 3,     /* key */
	SYNC_R_EXPECT = 4,     /* full expectation */
	SYNC_R_EXPECT_DEL = 5, /* expectation key */
	SYNC_R_HELLO = 16,     /* liveness */
	SYNC_R_ACK = 17,       /* cumulative ack + missing ranges */
	SYNC_R_BULK_REQ = 18,  /* send me your whole table */
	SYNC_R_BULK_BEGIN = 19,
	SYNC_R_BULK_END = 20,
	SYNC_R_SKIP = 21,	/* frames before seq are gone */
	SYNC_R_DIFF_REQ = 22,	/* send me what you hold for me */
	SYNC_R_DIFF_STATE = 23, /* as STATE: one of the asker's states */
	SYNC_R_DIFF_END = 24,
	SYNC_R_TAKEOVER = 25, /* the states just sent are the sender's own */
};

/* SYNC_R_UPDATE field mask. */
#define SYNC_U_STATUS  0x01
#define SYNC_U_TIMEOUT 0x02
#define SYNC_U_TCP     0x04 /* tcp state + flags */
#define SYNC_U_MARK    0x08
#define SYNC_U_LABELS  0x10
#define SYNC_U_ALL     0x1f

/* HELLO flags. */
#define SYNC_H_BULK_DONE 0x01 /* sender's first bulk is complete */
#define SYNC_H_PATHS	 0x02 /* a path report follows */

#define SYNC_ACK_MAXRANGES 16

struct sync_hdr {
	uint8_t version;
	uint8_t type; /* SYNC_T_* */
	uint32_t sid; /* 0 in handshake frames */
	uint64_t seq;
};

/* The compact update: which fields of the state changed. */
struct sync_update {
	uint8_t mask;	    /* SYNC_U_* */
	struct ct_state st; /* key + the fields in mask */
};

struct sync_hello {
	uint8_t flags;
	uint32_t internal; /* sender's own states */
	/* With SYNC_H_PATHS: bit i set when the sender heard the receiver
	 * on the receiver's path i (its i-th address) lately. */
	uint8_t paths;
};

struct sync_range {
	uint64_t from; /* inclusive */
	uint64_t to;   /* inclusive */
};

/* Sent in REPLY frames of the session it acknowledges. On the wire the
 * ranges are 32-bit offsets from next (serial arithmetic). */
struct sync_ack {
	uint64_t next; /* every seq before this arrived */
	uint8_t nranges;
	struct sync_range range[SYNC_ACK_MAXRANGES]; /* missing */
};

/* BULK_REQ, BULK_BEGIN, BULK_END, DIFF_REQ, DIFF_END, SKIP, TAKEOVER. */
struct sync_ctl {
	uint32_t id;	/* request id */
	uint32_t count; /* BULK_END, DIFF_END, TAKEOVER */
	uint64_t seq;	/* SKIP: the sender's oldest seq */
	uint32_t flags; /* BULK_REQ: SYNC_BULK_* (0 when absent) */
};

/* BULK_REQ flags. HOLDS: the requester holds states of the answerer
 * (from before the answerer restarted): only the whole table will do,
 * since the requester drops what the bulk lacks. */
#define SYNC_BULK_HOLDS 0x01

/* Header. decode checks magic, version and type. 0 or -1. */
int sync_hdr_encode(struct wr *, const struct sync_hdr *);
int sync_hdr_decode(struct rd *, struct sync_hdr *);

/* Records. Each encoder writes type, length and value, or sets w->err
 * and returns -1 when it does not fit (the caller rewinds). */
int sync_state_encode(struct wr *, int type, const struct ct_state *);
/* The same record from a value sync_state_encode wrote without timeout
 * (what caches keep), with the timeout added when timed. */
int sync_state_encode_value(struct wr *, int type, const uint8_t *val,
    size_t vlen, int timed, uint32_t timeout);
int sync_update_encode(struct wr *, const struct sync_update *);
int sync_delete_encode(struct wr *, const struct ct_state *);
int sync_expect_encode(struct wr *, int type, const struct ct_expect *);
int sync_hello_encode(struct wr *, const struct sync_hello *);
int sync_ack_encode(struct wr *, const struct sync_ack *);
int sync_ctl_encode(struct wr *, int type, const struct sync_ctl *);

/* Walk the records of a body: 1 with type and value cursor, 0 at the
 * end, -1 when a record overruns the body. */
int sync_rec_next(struct rd *body, uint8_t *type, struct rd *val);

/* Value decoders: 0 or -1 when the value is too short or invalid. Bytes
 * after the fields a decoder knows are ignored (room for extensions). */
int sync_state_decode(struct rd *, struct ct_state *);
int sync_update_decode(struct rd *, struct sync_update *);
int sync_delete_decode(struct rd *, struct ct_state *);
int sync_expect_decode(struct rd *, struct ct_expect *);
int sync_hello_decode(struct rd *, struct sync_hello *);
int sync_ack_decode(struct rd *, struct sync_ack *);
int sync_ctl_decode(struct rd *, int type, struct sync_ctl *);

/* The state key (family, proto, zone, original addresses and ports) in
 * its canonical wire encoding; states are the same when keys are equal.
 * Returns the length (at most SYNC_KEY_MAX). */
#define SYNC_KEY_MAX 40
size_t sync_key_encode(uint8_t *, const struct ct_state *);
/* Length of the key at the start of an encoded STATE value, 0 if bad. */
size_t sync_key_len(const uint8_t *, size_t);

/*
 * Serial-number arithmetic on 64-bit sequence numbers (RFC 1982 style):
 * a is before b when b - a, modulo 2^64, is in (0, 2^63). Counters may
 * start anywhere and run through the wrap.
 */
static inline int
sync_seq_lt(uint64_t a, uint64_t b)
{
	return a != b && b - a < (1ULL << 63);
}

static inline int
sync_seq_le(uint64_t a, uint64_t b)
{
	return a == b || sync_seq_lt(a, b);
}

/*
 * Identities and keys. A member's identity is its sync endpoint: the
 * address (IPv4 as v4-mapped IPv6) and the port, 18 bytes. Keys derive
 * from the group key with keyed BLAKE2b (docs/sync-protocol.md, 3):
 *   handshake key (from -> to): H(group, "syncd2 handshake" | from | to)
 *   session keys: H(group, label | sender | receiver | nonce_s | nonce_r)
 *   with labels "syncd2 forward", "syncd2 reverse", "syncd2 session id".
 */
struct sync_id {
	uint8_t b[SYNC_IDLEN];
};

struct sync_skeys {
	uint32_t sid;		  /* never 0 */
	uint8_t fwd[SYNC_KEYLEN]; /* sender -> receiver */
	uint8_t rev[SYNC_KEYLEN]; /* receiver -> sender */
};

void
sync_id_make(struct sync_id *, int family, const void *addr, uint16_t port);
void sync_hs_key(const uint8_t group[SYNC_KEYLEN], const struct sync_id *from,
    const struct sync_id *to, uint8_t out[SYNC_KEYLEN]);
void sync_session_keys(const uint8_t group[SYNC_KEYLEN],
    const struct sync_id *sender, const struct sync_id *receiver,
    const uint8_t nonce_s[SYNC_HSNONCE], const uint8_t nonce_r[SYNC_HSNONCE],
    struct sync_skeys *);

/*
 * Handshake. INIT (sender -> receiver, under hs(sender, receiver)):
 *   flags (1) | rx_sid (4) | seq0 (8) | nonce_s (32)     then tag (16)
 * rx_sid: the session the INIT's sender currently receives from the
 * receiver (0: none), so the receiver learns its own session was lost;
 * seq0: the first sequence number of the session's reliable space.
 * RESP (receiver -> sender, under hs(receiver, sender)):
 *   nonce_s (32) | nonce_r (32)               then tag (16)
 * The tag is keyed BLAKE2b-128 over the header and the payload.
 */
#define SYNC_INIT_LEN (SYNC_HDRLEN + 1 + 4 + 8 + SYNC_HSNONCE + SYNC_TAGLEN)
#define SYNC_RESP_LEN (SYNC_HDRLEN + 2 * SYNC_HSNONCE + SYNC_TAGLEN)
#define SYNC_I_REKEY                                                          \
	0x01 /* INIT flag: rekey, the sender did not
				 * restart (informational) */

struct sync_init {
	uint8_t flags;
	uint32_t rx_sid;
	uint64_t seq0;
	uint8_t nonce_s[SYNC_HSNONCE];
};

struct sync_resp {
	uint8_t nonce_s[SYNC_HSNONCE];
	uint8_t nonce_r[SYNC_HSNONCE];
};

/* Encoders write the whole datagram into buf (at least SYNC_*_LEN
 * bytes) and return its length; decoders take the whole datagram and
 * return 0, or SYNC_E_MALFORMED / SYNC_E_AUTH. */
size_t sync_init_encode(uint8_t *buf, const struct sync_init *,
    const uint8_t hskey[SYNC_KEYLEN]);
int sync_init_decode(const uint8_t *buf, size_t len,
    const uint8_t hskey[SYNC_KEYLEN], struct sync_init *);
size_t sync_resp_encode(uint8_t *buf, const struct sync_resp *,
    const uint8_t hskey[SYNC_KEYLEN]);
int sync_resp_decode(const uint8_t *buf, size_t len,
    const uint8_t hskey[SYNC_KEYLEN], struct sync_resp *);

/*
 * Session frames. The body (records) is written at buf + SYNC_HDRLEN;
 * sync_frame_seal writes the header and encrypts the body in place
 * (buf needs SYNC_TAGLEN more bytes). Returns the datagram length, 0 if
 * too long. sync_frame_peek decodes the header of any frame;
 * sync_frame_unseal authenticates and decrypts a DATA, CTRL or REPLY
 * frame in place under the key its session id selected.
 */
#define SYNC_E_MALFORMED -1
#define SYNC_E_AUTH	 -2
size_t sync_frame_seal(uint8_t *buf, size_t body_len, uint8_t type,
    uint32_t sid, uint64_t seq, const uint8_t key[SYNC_KEYLEN]);
int sync_frame_peek(const uint8_t *buf, size_t len, struct sync_hdr *);
int sync_frame_unseal(uint8_t *buf, size_t len, const uint8_t key[SYNC_KEYLEN],
    uint8_t **body, size_t *blen);

/* A 64-frame replay window over one sequence space of one session.
 * Returns 0 and records seq if new, -1 for a replay or a frame too old.
 * The first frame after a reset is taken as it comes. */
struct sync_replay {
	uint64_t top;
	uint64_t bits;
	int valid;
};
int sync_replay_check(struct sync_replay *, uint64_t seq);

/* Keys: generate (random), print as hex, parse hex (64 digits, blanks
 * and a trailing newline allowed). 0 or -1. */
void sync_key_generate(uint8_t key[SYNC_KEYLEN]);
void sync_key_format(const uint8_t key[SYNC_KEYLEN], char out[65]);
int sync_key_parse(const char *, uint8_t key[SYNC_KEYLEN]);

#endif
