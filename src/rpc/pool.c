/*
 * The pool: threads that each wait for one epoll event and run the calls a
 * connection's event yields themselves, inline (see internal.h); only as
 * many of them active at once as there are cores, plus one per slow call.
 * Each thread owns a reply buffer (max_reply bytes plus the record mark), an
 * arena and a record buffer (buf.h), reused for every call it runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "rpc/internal.h"
#include "rpc/msg.h"
#include "util/blockhint.h"
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

/*
 * Parks this thread while more pool threads are active than allowed (the
 * cores, plus one per slow call: watchdog.c). Threads waiting in
 * epoll_wait() cost a wake-up whenever one of them takes an event another
 * would have taken a moment later, so only as many wait as can run.
 */
static void pool_park(struct rpc_server *srv)
{
	if (atomic_load(&srv->active) <= atomic_load(&srv->allowed))
		return;
	pthread_mutex_lock(&srv->pool_lock);
	if (atomic_load(&srv->active) > atomic_load(&srv->allowed)) {
		atomic_fetch_sub(&srv->active, 1);
		while (atomic_load(&srv->active) >= atomic_load(&srv->allowed) &&
		       !atomic_load(&srv->stopping))
			pthread_cond_wait(&srv->pool_cond, &srv->pool_lock);
		atomic_fetch_add(&srv->active, 1);
	}
	pthread_mutex_unlock(&srv->pool_lock);
}

/*
 * Runs a call (bulk: its record's hole) and sends its reply, if it has one:
 * held back if more (a short call is on its way) and it is short,
 * internal.h. *held: whether conn holds a reply back now (a send without
 * MSG_MORE sends what was held too).
 */
static void pool_run(struct pool_thread *th, struct rpc_conn *conn, const uint8_t *rec, size_t len,
		     const struct rpc_bulk *bulk, bool more, bool *held)
{
	struct rpc_server *srv = th->srv;
	struct xdr_enc reply;
	struct iovec iov;
	uint32_t xid = 0;
	rpc_reply_fn fn;
	void *ctx;

	xdr_enc_init(&reply, th->reply, th->reply_cap);
	switch (rpc_msg_process(srv->progs, srv->cfg.nprogs, conn, rec, len, bulk, &th->arena,
				&reply, &xid)) {
	case RPC_VERDICT_SEND:
		iov.iov_base = reply.base;
		iov.iov_len = reply.len;
		*held = more && reply.len <= RPC_HOLD_MAX;
		rpc_conn_sendv(conn, &iov, 1, *held);
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
 * the next one — for RPC_INLINE_BATCH calls or RPC_CALL_SLOW_US at most, so
 * other connections get their turn with few active threads — holding short
 * replies back while a short call is on its way. A reference is
 * held throughout: once conn is re-armed (by rpc_io_read() finding nothing
 * more, or at the end here) another thread may tear it down at once.
 */
static void pool_conn_event(struct pool_thread *th, struct rpc_conn *conn, uint32_t events)
{
	struct rpc_bufs *bufs = &th->srv->bufs;
	uint64_t end = time_mono_ns() + RPC_CALL_SLOW_US * 1000ull;
	bool reader = true, held = false;

	rpc_conn_get(conn);
	for (int n = 0; reader && n < RPC_INLINE_BATCH && time_mono_ns() < end; n++) {
		struct rpc_bulk bulk;
		struct rpc_pipe pipe;
		uint8_t *rec = NULL;
		size_t len = 0;
		bool next = false;

		if (!rpc_io_read(conn, events, &th->own, &rec, &len, &bulk, &pipe, &reader,
				 &next)) {
			reader = false; /* conn re-armed, or gone */
			break;
		}
		if (held && !reader) { /* paused: no watchdog would push it if this call is slow */
			rpc_conn_push(conn);
			held = false;
		}
		rpc_slot_begin(th->slot, reader ? conn : NULL, held);
		/* Not for the batch's last call: the loop's end would push at once. */
		next = next && n + 1 < RPC_INLINE_BATCH;
		if (th->reply)
			pool_run(th, conn, rec, len, &bulk, next, &held);
		else
			rpc_conn_close(conn); /* no reply buffer: cannot answer */
		reader = rpc_slot_end(th->slot);
		/* Emptied by the call, or closed with what it left (pipe.h). */
		if (bulk.fd >= 0)
			rpc_pipe_put(&th->srv->pipes, &pipe);
		/* The record's buffer becomes this thread's own, or a spare. */
		if (rec && !th->own) {
			rpc_buf_trim(bufs, rec, len);
			th->own = rec;
		} else {
			rpc_buf_put(bufs, rec, len);
		}
		rpc_conn_call_done(conn);
		rpc_conn_put(conn); /* the call's */
		events = EPOLLIN;
	}
	if (held)
		rpc_conn_push(conn);
	if (reader)
		rpc_io_rearm(conn); /* enough in a row: back to the pool */
	rpc_conn_put(conn);
}

void *rpc_pool_main(void *arg)
{
	struct pool_thread th = {.slot = arg};
	struct rpc_server *srv = th.slot->srv;

	th.srv = srv;
	rcu_register_thread();
	block_hint_set(rpc_slot_blocking, th.slot);
	th.reply_cap = (size_t)srv->cfg.max_reply + RPC_RECORD_MARK_LEN;
	th.reply = malloc(th.reply_cap);
	arena_init(&th.arena, XDR_ARENA_LIMIT);
	while (!atomic_load(&srv->stopping)) {
		struct epoll_event ev;
		int n;

		pool_park(srv);
		if (atomic_load(&srv->stopping))
			break;
		n = epoll_wait(srv->epfd, &ev, 1, -1);

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
		default: /* RPC_POLL_STOP */
			break;
		}
	}
	rpc_buf_put(&srv->bufs, th.own, 0);
	arena_reset(&th.arena);
	free(th.reply);
	block_hint_set(NULL, NULL);
	rcu_unregister_thread();
	return NULL;
}
