/*
 * prom_http.c: the metrics listener: a socket bound to the address the
 * administrator named, handed to libmicrohttpd, which runs in external
 * epoll mode from the daemon's one event loop (its epoll descriptor is
 * one more fd of the loop, its timeouts one more timer): the daemon stays
 * single-threaded, a scrape renders the metrics in the loop and the loop
 * never blocks on a client.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf.h"
#include "log.h"
#include "prom.h"
#include "prom_http.h"

#define TIMER_MAX_MS 60000ULL /* re-run MHD at least this often */

struct prom_http {
	struct MHD_Daemon *d;
	struct ev_loop *loop;
	struct ev_timer *timer;
	int epfd;
	prom_http_render render;
	void *arg;
};

int
prom_http_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *addr = spec, *port, *end;
	int v6 = spec[0] == '[';
	unsigned long n;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			goto bad;
		port = end + 2;
		addr++;
	} else {
		if ((end = strchr(spec, ':')) == NULL ||
		    strchr(end + 1, ':') != NULL)
			goto bad;
		port = end + 1;
	}
	if ((hl = (size_t)(end - addr)) == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (conf_uint(port, 1, 65535, &n) == -1)
		goto bad;
	if (!v6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)n);
		*len = sizeof(*s4);
		return 0;
	}
	if (v6 && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)n);
		*len = sizeof(*s6);
		return 0;
	}
bad:
	snprintf(err, errlen,
	    "bad metrics address \"%s\" (ADDR:PORT or "
	    "[ADDR6]:PORT, numeric, port 1..65535)",
	    spec);
	return -1;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status, const char *type,
    char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result rv;

	if ((r = MHD_create_response_from_buffer(len, body, mode)) == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rv = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rv;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", (char *)text,
	    strlen(text), MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **req_cls)
{
	struct prom_http *h = cls;
	struct sbuf b;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
		    "not found: the metrics are at /metrics\n");
	sbuf_init(&b);
	if (h->render(&b, h->arg) == -1 || b.err || b.p == NULL) {
		sbuf_free(&b);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	}
	/* MHD frees the body (malloc'd by sbuf) with the response. */
	return reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, b.p, b.len,
	    MHD_RESPMEM_MUST_FREE);
}

static unsigned int
nconn(struct prom_http *h)
{
	const union MHD_DaemonInfo *i;

	i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i != NULL ? i->num_connections : 0;
}

/*
 * Run MHD, then wake it again when it says (0: work left at once). At
 * the connection limit MHD takes the listening socket out of its epoll
 * set and puts it back at the start of a run: a run that closed
 * connections is followed by another, or clients waiting in the backlog
 * would wait for the next timer.
 */
static void
run(struct prom_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	unsigned int before = nconn(h);

	MHD_run(h->d);
	if (nconn(h) < before)
		MHD_run(h->d);
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		ms = TIMER_MAX_MS;
	if (ms > TIMER_MAX_MS)
		ms = TIMER_MAX_MS;
	ev_timer_arm(h->timer, (uint64_t)ms * 1000000ULL);
}

static void
on_ready(int fd, int events, void *arg)
{
	run(arg);
}

static void
on_timer(struct ev_timer *t, void *arg)
{
	run(arg);
}

/* The listening socket, ours so that a failure says exactly why. */
static int
listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	char why[256];
	socklen_t len;
	int fd, one = 1;

	if (prom_http_parse(spec, &ss, &len, why, sizeof(why)) == -1) {
		log_warnx("%s", why);
		return -1;
	}
	if ((fd = socket(ss.ss_family,
		 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("metrics listener %s: socket", spec);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, PROM_HTTP_MAXCONN) == -1) {
		log_warn("metrics listener %s", spec);
		close(fd);
		return -1;
	}
	return fd;
}

struct prom_http *
prom_http_open(struct ev_loop *loop, const char *spec, prom_http_render r,
    void *arg)
{
	const union MHD_DaemonInfo *info;
	struct prom_http *h;
	int fd;

	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
		log_warnx("metrics listener: libmicrohttpd without epoll");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_warn("metrics listener");
		return NULL;
	}
	h->loop = loop;
	h->render = r;
	h->arg = arg;
	h->epfd = -1;
	if ((fd = listen_on(spec)) == -1)
		goto fail;
	h->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)PROM_HTTP_MAXCONN,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)PROM_HTTP_MAXCONN_IP, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)PROM_HTTP_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PROM_HTTP_MEMORY,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_warnx("metrics listener %s: libmicrohttpd did not start",
		    spec);
		close(fd);
		goto fail;
	}
	if ((info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD)) ==
		NULL ||
	    (h->timer = ev_timer_new(loop, on_timer, h)) == NULL ||
	    ev_fd_add(loop, info->epoll_fd, EV_READ, on_ready, h) == -1) {
		log_warn("metrics listener %s", spec);
		goto fail;
	}
	h->epfd = info->epoll_fd;
	log_info("metrics on http://%s/metrics", spec);
	run(h);
	return h;
fail:
	prom_http_close(h);
	return NULL;
}

void
prom_http_close(struct prom_http *h)
{
	if (h == NULL)
		return;
	if (h->epfd != -1)
		ev_fd_del(h->loop, h->epfd);
	if (h->timer != NULL)
		ev_timer_free(h->timer);
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	free(h);
}
