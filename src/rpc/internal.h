/*
 * Internals shared by the rpc server's files (conn.c, io.c, worker.c,
 * server.c). Not for use outside src/rpc/.
 *
 * Threads and who touches what:
 *  - I/O threads (io.c): each owns an epoll set. I/O thread 0 also owns the
 *    listeners and hands each accepted connection to an I/O thread round
 *    robin. A connection's reading state (rec, stash, torn_down) belongs to
 *    its I/O thread, and after the I/O threads are joined, to the thread
 *    running rpc_server_stop().
 *  - Workers (worker.c) pop calls from one FIFO, run rpc_msg_process() and
 *    send the reply under the connection's send lock.
 *  - Workers talk back to an I/O thread through its mailbox (a list under
 *    mb_lock and an eventfd): "this connection may resume reading / may be
 *    torn down now".
 */
#ifndef NFS4D_RPC_INTERNAL_H
#define NFS4D_RPC_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "rpc/record.h"
#include "rpc/rpc.h"
#include "util/ref.h"

#define RPC_MODULE "rpc"
/* A reply that cannot be written for this long closes its connection. */
#define RPC_SEND_TIMEOUT_MS 10000
/* Bytes an I/O thread reads from one connection per readiness event. */
#define RPC_READ_CHUNK 65536
#define RPC_LISTEN_BACKLOG 1024

/* The first member of everything registered in an epoll set says what it is. */
enum rpc_poll_kind { RPC_POLL_LISTENER = 1, RPC_POLL_CONN, RPC_POLL_WAKE };

struct rpc_listener {
	int kind; /* RPC_POLL_LISTENER */
	int fd;
	uint16_t port;
};

/*
 * A TCP connection.
 * Lifetime: created by the accepting thread with one reference, the "I/O
 * reference", dropped when the connection is torn down (unregistered from
 * epoll and from srv->conns). Each queued call, each mailbox entry and each
 * rpc_conn_get() holds another. The last rpc_conn_put() closes the fd and
 * frees the struct at once: connections are never looked up under RCU, so no
 * call_rcu() is needed. The fd stays open until then, so a concurrent sender
 * never writes to a reused descriptor; rpc_conn_close() only shutdown()s it.
 */
struct rpc_conn {
	int kind; /* RPC_POLL_CONN */
	int fd;
	uint64_t id;
	struct ref ref;
	struct sockaddr_storage peer;
	char peer_str[INET6_ADDRSTRLEN + 8];
	struct rpc_server *srv; /* valid until torn down */
	struct rpc_io *io;	/* the I/O thread reading this connection */
	rpc_close_fn on_close;	/* copied from the config: usable after the server is gone */
	void *on_close_ctx;
	atomic_bool closed;

	pthread_mutex_t send_lock; /* one whole record at a time on the socket */

	pthread_mutex_t lock; /* protects the fields below up to the I/O-only ones */
	rpc_reply_fn reply_fn;
	void *reply_ctx;
	unsigned queued; /* calls queued or running */
	bool paused;	 /* reading stopped: queued reached RPC_MAX_QUEUED_PER_CONN */
	bool eof;	 /* the peer closed its side: tear down once queued is 0 */
	bool mb_posted;	 /* in its I/O thread's mailbox */

	/* Owned by the I/O thread (see the top of this file). */
	struct rpc_record rec;
	uint8_t *stash; /* bytes read but not consumed when reading paused */
	size_t stash_len;
	size_t stash_off;
	bool torn_down;

	struct rpc_conn *prev, *next; /* srv->conns, under srv->lock */
	struct rpc_conn *mb_next;     /* io->mb_head, under io->mb_lock */
	struct rpc_conn *dead_next;   /* io->dead, I/O thread only */
};

struct rpc_io {
	int kind; /* RPC_POLL_WAKE: the eventfd's epoll entry points here */
	int idx;
	int epfd;
	int wakefd;
	bool running;
	pthread_t thread;
	struct rpc_server *srv;
	uint8_t *readbuf; /* RPC_READ_CHUNK bytes */
	pthread_mutex_t mb_lock;
	struct rpc_conn *mb_head; /* each entry holds a reference */
	/*
	 * Torn down during the current epoll batch; their I/O reference is dropped
	 * after the batch, so a later event of the same batch never sees freed memory.
	 */
	struct rpc_conn *dead;
};

struct rpc_work {
	struct rpc_work *next;
	struct rpc_conn *conn; /* holds a reference */
	uint8_t *rec;	       /* malloc'ed record, freed by the worker */
	size_t len;
};

struct rpc_server {
	struct rpc_server_config cfg; /* addrs and progs point to the copies below */
	struct sockaddr_storage *addrs;
	struct rpc_program *progs;
	struct rpc_listener *listeners;
	int nlisteners;
	struct rpc_io *ios;
	int nio;
	int nworkers;
	pthread_t *workers;
	int workers_started;
	bool started;
	bool stopped;
	atomic_bool stopping; /* I/O threads leave their loop */
	atomic_uint rr;	      /* round robin over I/O threads for new connections */
	atomic_int nconns;

	pthread_mutex_t lock; /* conns */
	struct rpc_conn *conns;

	pthread_mutex_t wq_lock; /* the call queue */
	pthread_cond_t wq_cond;
	struct rpc_work *wq_head, *wq_tail;
	bool wq_stop; /* workers exit once the queue is empty */
};

/* conn.c */
struct rpc_conn *rpc_conn_new(struct rpc_server *srv, int fd, const struct sockaddr_storage *peer);
/* Sends iov (already holding the record mark); mutates iov. Closes the connection on failure. */
int rpc_conn_sendv(struct rpc_conn *conn, struct iovec *iov, int iovcnt);
/* A call of conn finished (worker side): may post conn to its I/O thread's mailbox. */
void rpc_conn_call_done(struct rpc_conn *conn);
/* Queue accounting for a new call (I/O side): false when reading must pause. */
bool rpc_conn_call_queued(struct rpc_conn *conn);

/* io.c */
void *rpc_io_main(void *arg);
void rpc_io_post(struct rpc_io *io, struct rpc_conn *conn);
/*
 * Closes and unregisters conn and queues its I/O reference on io->dead; I/O
 * thread (or the stopper) only. rpc_io_reap() drops those references.
 */
void rpc_conn_teardown(struct rpc_conn *conn);
void rpc_io_reap(struct rpc_io *io);

/* worker.c */
void rpc_work_push(struct rpc_server *srv, struct rpc_work *w);
void *rpc_worker_main(void *arg);

#endif
