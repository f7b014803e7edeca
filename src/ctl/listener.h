/*
 * A thread that accepts connections on a listening socket and serves them one
 * at a time until stopped: the control socket (ctl.c) and the metrics
 * endpoint (metrics.c). One at a time keeps both simple and bounded; each
 * connection gets an I/O timeout so a slow peer cannot hold the thread long.
 */
#ifndef NFS4D_CTL_LISTENER_H
#define NFS4D_CTL_LISTENER_H

#include <pthread.h>

struct ctl_listener {
	int lfd;	  /* listening socket, closed by ctl_listener_stop() */
	int stop_pipe[2]; /* ctl_listener_stop() writes a byte: the thread's poll wakes */
	pthread_t thread;
	int io_timeout_s;
	void (*serve)(void *ctx, int fd);
	void *ctx;
	const char *name; /* for logs */
};

/*
 * Serves lfd (listening already) with serve(ctx, fd) for each connection,
 * on a thread of its own. 0, or -errno (lfd is then still the caller's).
 */
int ctl_listener_start(struct ctl_listener *l, int lfd, const char *name, int io_timeout_s,
		       void (*serve)(void *ctx, int fd), void *ctx);
/* Stops the thread and closes the socket. */
void ctl_listener_stop(struct ctl_listener *l);

#endif
