/*
 * The pool: threads that each wait for one epoll event and run the calls a
 * connection's event yields themselves, inline (see internal.h), and the
 * watchdog that takes a connection away from a call running too long. Each
 * thread owns a reply buffer (max_reply bytes plus the record mark), an
 * arena and a record buffer (buf.h), reused for every call it runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "rpc/msg.h"
#include "util/clock.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/rcu.h"

struct pool_thread {
	struct rpc_server *srv;
	struct rpc_slot *slot;
	uint8_t *reply; /* NULL if it could not be allocated: calls are then refused */
	size_t reply_cap;
	struct arena arena;
	uint8_t *own; /* this thread's record buffer; NULL while lent to a connection */
};

static void watchdog_set(struct rpc_server *srv, bool on)
{
	struct itimerspec its = {0};

	if (on) {
		its.it_value.tv_nsec = RPC_INLINE_MAX_US * 1000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(srv->watchdogfd, 0, &its, NULL) < 0)
		log_warn(RPC_MODULE, "watchdog timer: %s", strerror(errno));
}

/* Called with a call running inline: the watchdog must be ticking. */
static void watchdog_ensure(struct rpc_server *srv)
{
	if (!atomic_load_explicit(&srv->watching, memory_order_relaxed) &&
	    !atomic_exchange(&srv->watching, true))
		watchdog_set(srv, true);
}

/*
 * Takes the connection from every call that has run inline for
 * RPC_INLINE_MAX_US (re-arming it hands its next calls to the pool); true if
 * some call still runs inline.
 */
static bool watchdog_scan(struct rpc_server *srv)
{
	uint64_t now = time_mono_ns();
	bool busy = false;

	for (int i = 0; i < srv->nthreads; i++) {
		struct rpc_slot *s = &srv->slots[i];

		pthread_mutex_lock(&s->lock);
		if (s->conn && now - s->since >= RPC_INLINE_MAX_US * 1000ull) {
			log_debug(RPC_MODULE,
				  "conn=%llu: a call runs long: its connection goes to the pool",
				  (unsigned long long)s->conn->id);
			rpc_io_rearm(s->conn);
			s->conn = NULL;
		} else if (s->conn) {
			busy = true;
		}
		pthread_mutex_unlock(&s->lock);
	}
	return busy;
}

/*
 * Stops the timer once nothing runs inline. A call that starts meanwhile
 * either sees watching false and starts the timer itself, or is seen by the
 * second scan (its slot is set before it looks at watching, under the same
 * lock the scan takes); the timer is stopped before watching is cleared, so
 * a start is never undone.
 */
static void watchdog_tick(struct rpc_server *srv)
{
	uint64_t ticks;

	if (read(srv->watchdogfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn(RPC_MODULE, "watchdog timer read: %s", strerror(errno));
	if (watchdog_scan(srv))
		return;
	watchdog_set(srv, false);
	atomic_store(&srv->watching, false);
	if (watchdog_scan(srv))
		watchdog_ensure(srv);
}

static void slot_hold(struct rpc_slot *s, struct rpc_conn *conn)
{
	pthread_mutex_lock(&s->lock);
	s->conn = conn;
	s->since = time_mono_ns();
	pthread_mutex_unlock(&s->lock);
	watchdog_ensure(s->srv);
}

/* True if the call kept its connection (the watchdog did not take it). */
static bool slot_release(struct rpc_slot *s)
{
	bool kept;

	pthread_mutex_lock(&s->lock);
	kept = s->conn != NULL;
	s->conn = NULL;
	pthread_mutex_unlock(&s->lock);
	return kept;
}

static void pool_run(struct pool_thread *th, struct rpc_conn *conn, const uint8_t *rec, size_t len)
{
	struct rpc_server *srv = th->srv;
	struct xdr_enc reply;
	struct iovec iov;
	uint32_t xid = 0;
	rpc_reply_fn fn;
	void *ctx;

	xdr_enc_init(&reply, th->reply, th->reply_cap);
	switch (rpc_msg_process(srv->progs, srv->cfg.nprogs, conn, rec, len, &th->arena, &reply,
				&xid)) {
	case RPC_VERDICT_SEND:
		iov.iov_base = reply.base;
		iov.iov_len = reply.len;
		rpc_conn_sendv(conn, &iov, 1);
		break;
	case RPC_VERDICT_REPLY:
		pthread_mutex_lock(&conn->lock);
		fn = conn->reply_fn;
		ctx = conn->reply_ctx;
		pthread_mutex_unlock(&conn->lock);
		if (fn)
			fn(ctx, conn, xid, rec, len);
		else
			log_debug(RPC_MODULE,
				  "conn=%llu peer=%s: reply xid=0x%08x dropped (no handler)",
				  (unsigned long long)conn->id, conn->peer_str, xid);
		break;
	case RPC_VERDICT_DROP:
		log_warn(RPC_MODULE, "conn=%llu peer=%s: not an RPC message (%zu bytes): closing",
			 (unsigned long long)conn->id, conn->peer_str, len);
		rpc_conn_close(conn);
		break;
	}
	arena_reset(&th->arena);
}

/*
 * conn's event: read a call, run it, and while conn stays ours, read and run
 * the next one. Between calls conn lives on its I/O reference: only its
 * reader (this thread) could tear it down.
 */
static void pool_conn_event(struct pool_thread *th, struct rpc_conn *conn, uint32_t events)
{
	struct rpc_bufs *bufs = &th->srv->bufs;

	for (int n = 0; n < RPC_INLINE_BATCH; n++) {
		uint8_t *rec = NULL;
		size_t len = 0;
		bool reader = false;

		if (!rpc_io_read(conn, events, &th->own, &rec, &len, &reader))
			return;
		if (reader)
			slot_hold(th->slot, conn);
		if (th->reply)
			pool_run(th, conn, rec, len);
		else
			rpc_conn_close(conn); /* no reply buffer: cannot answer */
		if (reader)
			reader = slot_release(th->slot);
		/* The record's buffer becomes this thread's own, or a spare. */
		if (rec && !th->own) {
			rpc_buf_trim(bufs, rec, len);
			th->own = rec;
		} else {
			rpc_buf_put(bufs, rec, len);
		}
		rpc_conn_call_done(conn);
		rpc_conn_put(conn);
		if (!reader)
			return;
		events = EPOLLIN;
	}
	rpc_io_rearm(conn); /* enough in a row: back to the pool */
}

void *rpc_pool_main(void *arg)
{
	struct pool_thread th = {.slot = arg};
	struct rpc_server *srv = th.slot->srv;

	th.srv = srv;
	rcu_register_thread();
	th.reply_cap = (size_t)srv->cfg.max_reply + RPC_RECORD_MARK_LEN;
	th.reply = malloc(th.reply_cap);
	arena_init(&th.arena, XDR_ARENA_LIMIT);
	while (!atomic_load(&srv->stopping)) {
		struct epoll_event ev;
		int n = epoll_wait(srv->epfd, &ev, 1, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err(RPC_MODULE, "epoll_wait: %s", strerror(errno));
			break;
		}
		/* Stopping: an event taken now is dropped; stop() tears its connection down. */
		if (n == 0 || atomic_load(&srv->stopping))
			continue;
		switch (*(int *)ev.data.ptr) {
		case RPC_POLL_LISTENER:
			rpc_io_accept(srv, ev.data.ptr);
			break;
		case RPC_POLL_CONN:
			pool_conn_event(&th, ev.data.ptr, ev.events);
			break;
		case RPC_POLL_WATCHDOG:
			watchdog_tick(srv);
			break;
		default: /* RPC_POLL_STOP */
			break;
		}
	}
	rpc_buf_put(&srv->bufs, th.own, 0);
	arena_reset(&th.arena);
	free(th.reply);
	rcu_unregister_thread();
	return NULL;
}
