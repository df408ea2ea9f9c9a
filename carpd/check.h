/*
 * check.h: health checks (carpd.conf "check NAME { ... }"): a failed check
 * adds its weight to the node's demotion (DEM_CHECK).
 */
#ifndef CARPD_CHECK_H
#define CARPD_CHECK_H

#include <net/if.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define CHECK_MAXARGS 32
#define CHECK_LASTLEN 64

struct ev_timer;
struct iface;
struct sbuf;

enum check_kind {
	CHECK_NONE,
	CHECK_EXEC,
	CHECK_IFACE,
	CHECK_PING,
	CHECK_KIND_MAX
};

extern const char *const check_kind_names[CHECK_KIND_MAX];

struct carpd_check {
	/* Configuration (check_conf.c). */
	char name[64];
	enum check_kind kind;
	char **argv;		  /* exec: NULL-terminated */
	char ifname[IF_NAMESIZE]; /* interface, or ping via */
	struct iface *ifp;	  /* interface */
	struct addr dst;	  /* ping */
	unsigned int interval_ms;
	unsigned int timeout_ms;
	unsigned int rise, fall; /* results in a row to change */
	unsigned int weight;

	/* Running (check.c). */
	int failed; /* counted in the demotion */
	unsigned int ok_run, fail_run;
	char last[CHECK_LASTLEN]; /* the last result */
	uint64_t last_change;	  /* monotonic ns */
	uint64_t runs, failures, timeouts;
	int busy;	  /* a run is under way */
	uint64_t started; /* of the run */
	pid_t pid;	  /* exec: until reaped */
	int killed;	  /* exec: timed out, group killed */
	int fd;		  /* ping: socket of the run */
	int raw;	  /* ping: a raw socket */
	uint16_t ident, seq;
	struct ev_timer *timer;
};

/* check_conf.c */
struct carpd_conf;
struct carpd_check *check_new(const struct carpd_conf *, const char *name,
    char *err, size_t errlen);
int check_conf_words(struct carpd_check *, int argc, char **argv, char *err,
    size_t errlen);
int check_finish(struct carpd_conf *, struct carpd_check *, char *err,
    size_t errlen);
int check_split(const char *, char ***out, char *err, size_t errlen);
struct carpd_check *
check_find(struct carpd_check *const *, int n, const char *name);
int check_same_target(const struct carpd_check *, const struct carpd_check *);
void check_free(struct carpd_check *);
void check_free_all(void);

/* check.c */
unsigned int check_demotion(void);
void check_start(void);
/* One check of a reload: it runs from now, counted as failed or as
 * working until its results say otherwise. */
void check_start_one(struct carpd_check *, int failed);
/* One check of a reload goes: its run stopped, an exec's process group
 * killed (reaped on SIGCHLD); the check itself is not freed. */
void check_stop_one(struct carpd_check *);
void check_stop(void);
int check_reaped(pid_t, int status);
void check_link(const struct iface *);
void check_status_json(struct sbuf *, uint64_t now);
void check_status_text(struct sbuf *, uint64_t now);

#endif
