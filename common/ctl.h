/*
 * ctl.h: the control socket of both daemons (unix stream).
 *
 * Every message in either direction is one frame:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     body length (bytes)                       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     type      |  body ...
 *   +-+-+-+-+-+-+-+-+
 *
 * A request body is one line of words ("status json", "commit"), at most
 * CTL_REQ_MAX bytes; the server answers each request with exactly one OK or
 * ERR frame, in order. A long answer may come first as DATA frames, parts
 * of it to print as they arrive, ended by the OK or ERR frame (whose body
 * is the rest, or why it stopped). A client that subscribed may also
 * receive EVENT frames at any time. Frames larger than the receiver's limit, or requests
 * that are not printable text, close the connection after an ERR answer.
 * A client that leaves answers unread is not read from until they drain.
 * With CTL_MAXCONN connections open, a new one takes the place of the
 * oldest that has not sent a whole request yet (which gets an ERR);
 * when there is none, the new one gets the ERR and is closed.
 */
#ifndef COMMON_CTL_H
#define COMMON_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ev.h"
#include "sbuf.h"

#define CTL_REQ	  0
#define CTL_OK	  1
#define CTL_ERR	  2
#define CTL_EVENT 3
#define CTL_DATA  4 /* part of the answer being streamed */

#define CTL_HDRLEN  5
#define CTL_REQ_MAX 4096	/* request body, server side */
#define CTL_MSG_MAX (16u << 20) /* any frame, client side */
#define CTL_MAXARGS 32
#define CTL_MAXCONN 64

struct ctl_server;
struct ctl_conn;

/* A request: argv[0] is the command. The handler answers with ctl_reply()
 * now or later (keep the conn; on_close tells when it went away). */
typedef void (
    *ctl_req_cb)(struct ctl_conn *, int argc, char **argv, void *arg);
typedef void (*ctl_close_cb)(struct ctl_conn *, void *arg);

/* Listen on path (an existing socket file is replaced), chmod mode. */
struct ctl_server *ctl_server_open(struct ev_loop *, const char *path,
    mode_t mode, ctl_req_cb, void *arg);
void ctl_server_set_close_cb(struct ctl_server *, ctl_close_cb);
void ctl_server_close(struct ctl_server *); /* closes, unlinks */
/* Send to every connection for which match returns non-zero. */
void ctl_server_broadcast(struct ctl_server *, int type, const char *body,
    size_t len, int (*match)(struct ctl_conn *, void *), void *arg);

/* Queue a frame (never blocks; output is buffered up to CTL_MSG_MAX per
 * connection, beyond which the connection is dropped). 0 or -1. */
int ctl_send(struct ctl_conn *, int type, const char *body, size_t len);
int ctl_reply(struct ctl_conn *, int ok, const char *body, size_t len);
int ctl_replyf(struct ctl_conn *, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Bytes queued on the connection and not yet sent. */
size_t ctl_conn_queued(const struct ctl_conn *);
/* Call cb once, when the client has read enough that at most lowat bytes
 * are queued: how a streamed answer waits for a slow reader. Returns -1
 * (and never calls) when at most lowat are queued already; a NULL cb
 * cancels. Dropping the connection cancels it too (see ctl_close_cb). */
typedef void (*ctl_drain_cb)(struct ctl_conn *, void *arg);
int
ctl_conn_on_drain(struct ctl_conn *, size_t lowat, ctl_drain_cb, void *arg);
void ctl_conn_set_data(struct ctl_conn *, void *);
void *ctl_conn_data(struct ctl_conn *);
/* Peer credentials (SO_PEERCRED): uid of the client. */
uid_t ctl_conn_uid(struct ctl_conn *);

/* Encode one frame header (pure, for tests and fuzzing). */
void ctl_frame_hdr(uint8_t hdr[CTL_HDRLEN], int type, uint32_t len);
/* Split a request body into words (in place, NUL-terminated body needed).
 * Returns argc or -1 when too many words or a non-printable byte. */
int ctl_split(char *body, char **argv, int maxargs);

/* Blocking client, for the command-line tools. */
int ctl_connect(const char *path); /* fd or -1 (errno) */
/* Send one request and wait for its answer (skipping EVENT frames).
 * out gets the body. Returns the frame type (CTL_OK/CTL_ERR) or -1 on an
 * I/O error or timeout (errno). */
int ctl_request(int fd, const char *req, int timeout_ms, struct sbuf *out);
/* The same for a streamed answer: every DATA frame's body is handed to
 * data_cb as it arrives (a return of -1 stops with that error), and
 * timeout_ms bounds the silence between frames instead of the whole
 * answer. Without data_cb a DATA frame is a protocol error (EPROTO). */
typedef int (*ctl_data_cb)(const char *body, size_t len, void *arg);
int ctl_request_stream(int fd, const char *req, int timeout_ms, ctl_data_cb,
    void *arg, struct sbuf *out);
/* The whole "carpd status --json" client: join argv with blanks, send to
 * path, print the answer (streamed parts and OK on stdout as they come,
 * ERR on stderr). Returns the exit
 * status: 0 OK, 1 error answer or failure to connect (message says why). */
int
ctl_client_main(const char *progname, const char *path, int argc, char **argv);

/* Non-blocking client inside an event loop (carpd talking to syncd). */
struct ctl_client;
typedef void (*ctl_msg_cb)(struct ctl_client *, int type, const char *body,
    size_t len, void *arg);
typedef void (*ctl_down_cb)(struct ctl_client *, void *arg);

struct ctl_client *ctl_client_new(struct ev_loop *, const char *path,
    ctl_msg_cb, ctl_down_cb, void *arg);
void ctl_client_free(struct ctl_client *);
/* Connect now (non-blocking). 0 when connected, -1 otherwise (errno). */
int ctl_client_connect(struct ctl_client *);
int ctl_client_connected(const struct ctl_client *);
/* Queue a request; answers arrive in order through ctl_msg_cb. */
int ctl_client_send(struct ctl_client *, const char *req);

#endif
