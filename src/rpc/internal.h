/*
 * Internals shared by the rpc server's files (buf.c, conn.c, io.c, pool.c,
 * server.c, watchdog.c). Not for use outside src/rpc/.
 *
 * Threads: one pool (pool.c). Every pool thread waits in epoll_wait() on the
 * server's one epoll set, one event at a time, and does whatever the event
 * asks: accept (io.c), or read the next record of a connection (io.c) and
 * then run that call and send its reply itself (pool.c). No call crosses a
 * thread. Connections and listeners are registered EPOLLONESHOT: an event
 * goes to one thread and the fd stays quiet until it is re-armed. A record
 * is read only when a thread is free to run it; until then the socket
 * holds it.
 *
 * Inline first: the thread that read a call stays its connection's reader
 * while it runs it, and then reads the connection's next record itself
 * (at most RPC_INLINE_BATCH in a row, for at most RPC_CALL_SLOW_US), as a
 * thread per connection would: no epoll round trip and no other thread
 * woken per call. Only as many pool threads are active as there are cores
 * (the rest are parked, pool.c), so idle ones do not take events from busy
 * ones at the price of a wake-up.
 *
 * Replies held back: when the reader already has the next record's header
 * (record.h: read with the last bytes of the call) and it announces a short
 * call, that call is on its way, so a short reply goes out with MSG_MORE
 * and leaves with the next one in one segment: one loopback delivery and
 * one wake-up of the client for two replies (short: RPC_HOLD_MAX; a long
 * call takes long to arrive, a long reply fills segments of its own).
 * Whatever ends the run of inline calls pushes what is held
 * (rpc_conn_push): the reader finding nothing more to read, the batch's
 * end, the connection pausing, and the next call becoming slow (the
 * watchdog, or the call's "about to block" hint). So a reply waits at most
 * for the next call's first RPC_CALL_SLOW_US or two, never for a slow call.
 *
 * Slow calls: a call that runs longer than RPC_CALL_SLOW_US, or says it is
 * about to block (util/blockhint.h), loses its connection, if it still
 * holds it, and lends its place among the active threads: the watchdog
 * (watchdog.c) re-arms the connection, so its next calls go to other
 * threads while the slow one goes on, and unparks a thread. So a slow call
 * (fsync, a blocked backend) holds its own thread only — never another
 * connection, never the accept loop, and its own connection for at most
 * about two RPC_CALL_SLOW_US — as long as the pool has threads to spare.
 *
 * A connection's reading state (rec, torn_down) belongs to whoever holds its
 * read_lock: its reader, the thread that tears it down after its last call,
 * or rpc_server_stop() once the pool is joined. One-shot events mean it is
 * hardly ever contended (only when EOF and a connection's last call meet);
 * it is there to say (and to show ThreadSanitizer) that the state passes
 * from thread to thread.
 */
#ifndef NFS4D_RPC_INTERNAL_H
#define NFS4D_RPC_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "rpc/buf.h"
#include "rpc/pipe.h"
#include "rpc/record.h"
#include "rpc/rpc.h"
#include "util/ref.h"

#define RPC_MODULE "rpc"
/* A reply that cannot be written for this long closes its connection. */
#define RPC_SEND_TIMEOUT_MS 10000
#define RPC_LISTEN_BACKLOG 1024

/* Records a thread reads and runs in a row from one connection before it returns to epoll. */
#define RPC_INLINE_BATCH 64
/* Only replies and next calls this short are held back for (see above). */
#define RPC_HOLD_MAX 8192
/* A call running longer than this is slow (and the watchdog's period). */
#define RPC_CALL_SLOW_US 1000
/* Pool threads per core by default: the active ones plus spares for slow calls. */
#define RPC_POOL_PER_CORE 4

/*
 * Where a connection's record in the making stands as to bulk data (bulk.c;
 * part of the reading state). A single-fragment record of at least
 * RPC_BULK_MIN bytes is read RPC_BULK_PREFIX bytes first (PREFIX); if its
 * program's find_bulk names bulk data and a pipe is to be had, the bytes
 * before the hole are read into the buffer (HEAD), the hole's are spliced
 * into the pipe (PIPE), and the rest into the buffer again (TAIL).
 */
enum rpc_bulk_state {
	RPC_BULK_AT_NONE, /* no body byte of the record read yet */
	RPC_BULK_AT_OFF,  /* decided: the record has no hole */
	RPC_BULK_AT_PREFIX,
	RPC_BULK_AT_HEAD,
	RPC_BULK_AT_PIPE,
	RPC_BULK_AT_TAIL,
};

struct rpc_bulk_rd {
	enum rpc_bulk_state st;
	size_t start;	      /* the hole: record bytes [start, end), from HEAD on */
	size_t end;	      /* the pipe holds [start, record len) of them while in PIPE */
	struct rpc_pipe pipe; /* held from HEAD on */
};

/* The first member of everything registered in the epoll set says what it is. */
enum rpc_poll_kind { RPC_POLL_LISTENER = 1, RPC_POLL_CONN, RPC_POLL_STOP };

struct rpc_listener {
	int kind; /* RPC_POLL_LISTENER */
	int fd;
	uint16_t port;
};

/*
 * A TCP connection.
 * Lifetime: created by the accepting thread with one reference, the "I/O
 * reference", dropped when the connection is torn down (unregistered from
 * epoll and from srv->conns). Each running call and each rpc_conn_get()
 * holds another. The last rpc_conn_put() closes the fd and frees the struct
 * at once: connections are never looked up under RCU, so no call_rcu() is
 * needed. The fd stays open until then, so a concurrent sender never writes
 * to a reused descriptor; rpc_conn_close() only shutdown()s it.
 */
struct rpc_conn {
	int kind; /* RPC_POLL_CONN */
	int fd;
	uint64_t id;
	struct ref ref;
	struct sockaddr_storage peer;
	char peer_str[INET6_ADDRSTRLEN + 8];
	struct rpc_server *srv; /* valid until torn down */
	rpc_close_fn on_close;	/* copied from the config: usable after the server is gone */
	void *on_close_ctx;
	atomic_bool closed;

	pthread_mutex_t send_lock; /* one whole record at a time on the socket */

	pthread_mutex_t lock; /* protects the fields below up to read_lock */
	rpc_reply_fn reply_fn;
	void *reply_ctx;
	unsigned inflight; /* calls read and not yet finished */
	bool paused;	   /* not re-armed: inflight reached srv->max_inflight */
	bool eof;	   /* the peer closed its side: tear down once inflight is 0 */

	pthread_mutex_t read_lock; /* the reading state below (see the top of this file) */
	struct rpc_record rec;	   /* its buffer, while attached, is owned by the conn */
	struct rpc_bulk_rd bulk;   /* and its pipe */
	bool torn_down;

	struct rpc_conn *prev, *next; /* srv->conns, under srv->lock */
};

/* A pool thread's call, as the watchdog sees it; under lock. */
struct rpc_slot {
	struct rpc_server *srv;
	pthread_mutex_t lock;
	bool running;	       /* a call runs on this thread */
	bool slow;	       /* ...longer than RPC_CALL_SLOW_US: it counts in srv->allowed */
	struct rpc_conn *conn; /* the call's connection while the thread is still its reader */
	bool held;	       /* conn holds a reply of this thread's back (MSG_MORE) */
	uint64_t since;	       /* time_mono_ns() when the call started */
};

struct rpc_server {
	struct rpc_server_config cfg; /* addrs and progs point to the copies below */
	struct sockaddr_storage *addrs;
	struct rpc_program *progs;
	struct rpc_listener *listeners;
	int nlisteners;
	int epfd;
	int stopfd;		/* eventfd, level-triggered in epfd: written once to stop */
	int stop_kind;		/* RPC_POLL_STOP: what stopfd's epoll entry points to */
	int nthreads;		/* the pool */
	struct rpc_slot *slots; /* one per pool thread */
	pthread_mutex_t
		pool_lock; /* changes of active and allowed; parked threads wait on pool_cond */
	pthread_cond_t pool_cond;
	atomic_int active;  /* pool threads not parked */
	atomic_int allowed; /* active threads wanted: the cores, plus one per slow call */
	int cores;
	int watchdogfd;	      /* timerfd the watchdog thread reads, ticking while watching */
	atomic_bool watching; /* the watchdog ticks (some call runs, or did at the last tick) */
	pthread_t watchdog;
	bool watchdog_started;
	unsigned max_inflight; /* calls of one connection at once: leaves a thread for others */
	pthread_t *threads;
	int threads_started;
	bool started;
	bool stopped;
	atomic_bool stopping; /* pool threads leave their loop after the current event */
	atomic_int nconns;
	struct rpc_bufs bufs;
	struct rpc_pipes pipes;
	bool bulk; /* some program has find_bulk */

	pthread_mutex_t lock; /* conns */
	struct rpc_conn *conns;
};

/* conn.c */
struct rpc_conn *rpc_conn_new(struct rpc_server *srv, int fd, const struct sockaddr_storage *peer);
/*
 * Sends iov (already holding the record mark); mutates iov. Closes the
 * connection on failure. more: MSG_MORE, the record may wait in the socket
 * for the next send or rpc_conn_push().
 */
int rpc_conn_sendv(struct rpc_conn *conn, struct iovec *iov, int iovcnt, bool more);
/* Sends what replies sent with more wait for. */
void rpc_conn_push(struct rpc_conn *conn);
/*
 * A record of conn was read (its reader holds read_lock): counts the call;
 * true when conn may be read on, false when it must pause (too many calls).
 */
bool rpc_conn_call_started(struct rpc_conn *conn);
/* A call of conn finished: resumes a paused conn, or tears it down after EOF. */
void rpc_conn_call_done(struct rpc_conn *conn);

/* io.c */
/*
 * One-shot readiness for conn again: by its reader once done with the reading
 * state, by the watchdog taking it from an inline call, or by the call that
 * unpauses it. Never while conn may be torn down.
 */
void rpc_io_rearm(struct rpc_conn *conn);
void rpc_io_accept(struct rpc_server *srv, struct rpc_listener *l);
/*
 * conn is readable (events from epoll), or its reader reads on. Reads at
 * most one record. Returns true with *rec (a record buffer, now the
 * caller's) and *len when a call is to run: conn then counts it in flight
 * (rpc_conn_call_done() when it ends) and holds a reference for the caller,
 * and *reader says whether the caller is still conn's reader (conn stays
 * disarmed: the caller reads on, re-arms it, or the watchdog does), or not
 * (conn paused: the call that unpauses it re-arms it); *next, whether the
 * caller is still the reader and a short call is on its way (its header in).
 * False: nothing to run
 * (conn re-armed, waiting for its calls after EOF, or torn down). The
 * caller holds a reference on conn throughout. own is the
 * thread's record buffer, lent to conn when a record needs one (*own
 * becomes NULL). *bulk and *pipe: the record's hole, as rpc_bulk_take().
 */
bool rpc_io_read(struct rpc_conn *conn, uint32_t events, uint8_t **own, uint8_t **rec, size_t *len,
		 struct rpc_bulk *bulk, struct rpc_pipe *pipe, bool *reader, bool *next);
/*
 * Closes and unregisters conn; the caller holds read_lock, and drops the I/O
 * reference (rpc_conn_put) after releasing it. False if it was already torn
 * down (nothing to drop).
 */
bool rpc_conn_teardown(struct rpc_conn *conn);

/* bulk.c: the reading side, for io.c's reader (holding read_lock) */
/*
 * Before body bytes of conn's record are read (buffer attached): how many of
 * the want that rpc_record_next() allows may go into the buffer now; 0: none,
 * splice them (rpc_bulk_splice) instead.
 */
size_t rpc_bulk_want(struct rpc_conn *conn, size_t want);
/*
 * Moves the hole's next bytes from conn's socket into its pipe (they are not
 * advanced yet): as read(2) would, the count, 0 at EOF, or -1 with errno
 * (EAGAIN: the socket has nothing for now). A pipe that fills up while the
 * socket has more is copied into the buffer (the hole shrinks) and filled
 * again: slower, never stuck.
 */
ssize_t rpc_bulk_splice(struct rpc_conn *conn);
/*
 * The record just taken (rec, rpc_record_take()) is a call: its hole into
 * *bulk (hole NULL if none) and the pipe to give back once the call ended
 * (rpc_pipe_put(), when bulk->fd >= 0) into *pipe. conn starts afresh.
 */
void rpc_bulk_take(struct rpc_conn *conn, uint8_t *rec, struct rpc_bulk *bulk,
		   struct rpc_pipe *pipe);
/* For teardown: gives back (or closes) a pipe of a partial record. */
void rpc_bulk_drop(struct rpc_conn *conn);

/* pool.c */
void *rpc_pool_main(void *slot);

/* watchdog.c */
/*
 * This thread starts a call; reader_of: the connection it still reads (NULL
 * if paused); held: reader_of holds a reply of this thread back.
 */
void rpc_slot_begin(struct rpc_slot *s, struct rpc_conn *reader_of, bool held);
/* The call ended; true if the thread is still its connection's reader. */
bool rpc_slot_end(struct rpc_slot *s);
/* block_hint() of pool threads (ctx: the thread's slot): its call is slow from now on. */
void rpc_slot_blocking(void *slot);
void *rpc_watchdog_main(void *srv);
/* Makes the watchdog thread see srv->stopping (set before) and return. */
void rpc_watchdog_stop(struct rpc_server *srv);

#endif
