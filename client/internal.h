/* Private to client/: the connection internals shared by transport.c, rpc.c and backchannel.c. */
#ifndef NFS4CLNT_INTERNAL_H
#define NFS4CLNT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "client/nfs4clnt.h"

#define CLNT_MAX_RECORD (16u * 1024 * 1024) /* larger incoming records close the connection */
#define CLNT_MAX_UNCLAIMED 256		    /* unclaimed replies kept; older ones are dropped */
#define CLNT_CB_REPLY_MAX (1u * 1024 * 1024)

/* A received record waiting in a queue. */
struct clnt_rec {
	struct clnt_rec *next;
	uint8_t *buf;
	size_t len;
};

/* A caller waiting for the reply with its xid; lives on the caller's stack. */
struct clnt_pending {
	struct clnt_pending *next;
	uint32_t xid;
	bool done; /* rec set, or the connection closed (rec NULL) */
	uint8_t *rec;
	size_t len;
	pthread_cond_t cv;
};

/*
 * Lock rules: send_lock serialises whole records on the socket (never held
 * while waiting for anything else). lock protects everything below it; cond
 * is signalled on any change of the queues or of closed/stopping.
 */
struct nfs4clnt_conn {
	int fd;
	pthread_t rx_thread;
	pthread_t cb_thread;
	atomic_uint xid;
	atomic_ullong cb_count;
	pthread_mutex_t send_lock;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct clnt_pending *pending;
	struct clnt_rec *unclaimed, *unclaimed_tail;
	unsigned nunclaimed;
	struct clnt_rec *cbq, *cbq_tail;
	bool closed;   /* the receive thread saw EOF or an error */
	bool stopping; /* nfs4clnt_conn_close() runs */
	struct nfs4clnt_auth auth;
	nfs4clnt_cb_fn cb;
	void *cb_ctx;
	uint32_t frag;
};

/* Absolute CLOCK_MONOTONIC deadline timeout_ms from now (<= 0: the default). */
void clnt_deadline(struct timespec *ts, int timeout_ms);
void clnt_cond_init(pthread_cond_t *cv);
/* The callback thread's body (backchannel.c). */
void *clnt_cb_thread(void *arg);

#endif
