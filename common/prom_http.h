/*
 * prom_http.h: the optional HTTP listener that serves GET /metrics
 * (libmicrohttpd driven from the daemon's own event loop).
 */
#ifndef COMMON_PROM_HTTP_H
#define COMMON_PROM_HTTP_H

#include <sys/socket.h>

#include <stddef.h>

#include "ev.h"
#include "sbuf.h"

#define PROM_HTTP_MAXCONN    8	   /* connections at once */
#define PROM_HTTP_MAXCONN_IP 4	   /* from one address */
#define PROM_HTTP_TIMEOUT_S  10	   /* idle connection closed */
#define PROM_HTTP_MEMORY     16384 /* per connection: the request */

/* Renders the metrics into the buffer; 0 or -1. */
typedef int (*prom_http_render)(struct sbuf *, void *arg);

struct prom_http;

/* "ADDR:PORT" or "[ADDR6]:PORT" (numeric address, port 1..65535) into ss.
 * 0, or -1 with the reason in err. */
int prom_http_parse(const char *spec, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);
/* Listen on spec and serve from loop: GET (and HEAD) of /metrics; other
 * paths 404, other methods 405. NULL after logging why. */
struct prom_http *prom_http_open(struct ev_loop *, const char *spec,
    prom_http_render, void *arg);
void prom_http_close(struct prom_http *);

#endif
