/*
 * util.h: small process helpers shared by both daemons.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* libsodium initialisation; 0 or -1 (logged). Safe to call twice. */
int util_sodium_init(void);
/* Detach: fork, setsid, stdio to /dev/null. 0 in the child, -1 on error. */
int util_daemonize(void);
/* Send buf[*off..len) on a stream socket without blocking (no SIGPIPE),
 * advancing *off. 0 when all is sent or the socket is full, -1 on an
 * error (errno). */
int util_send_nb(int fd, const void *buf, size_t len, size_t *off);
/* Set O_NONBLOCK and FD_CLOEXEC. */
int util_nonblock(int fd);
/* Read a whole small file (at most max bytes) into a NUL-terminated
 * malloc'd buffer. -1 with errno on error (EFBIG when too large). */
int util_read_file(const char *path, size_t max, char **out, size_t *len);
/* Give the heap memory freed since back to the system, after dropping a
 * large transient (a copy of a whole table). Only where the C library
 * keeps it otherwise (glibc: malloc_trim); a no-op elsewhere. */
void util_heap_release(void);
/* Wall-clock and monotonic seconds, for status output. */
double util_wallclock(void);
/* Spawn argv[0] with argv and extra environment entries (NULL-terminated
 * "K=V"), without waiting, in a process group of its own whose id is its
 * pid. Returns the pid or -1. */
pid_t util_spawn(char *const argv[], char *const envp_extra[]);
/* The same with stdin, stdout and stderr on /dev/null. */
pid_t util_spawn_quiet(char *const argv[]);

#endif
