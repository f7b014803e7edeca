/*
 * The pool: threads that each wait for one epoll event, and run the call a
 * connection's event yields themselves. Each thread owns a reply buffer
 * (max_reply bytes plus the record mark), an arena and a record buffer
 * (buf.h), reused for every call it runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "rpc/internal.h"
#include "rpc/msg.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/rcu.h"

struct pool_thread {
	struct rpc_server *srv;
	uint8_t *reply; /* NULL if it could not be allocated: calls are then refused */
	size_t reply_cap;
	struct arena arena;
	uint8_t *own; /* this thread's record buffer; NULL while lent to a connection */
};

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

static void pool_conn_event(struct pool_thread *th, struct rpc_conn *conn, uint32_t events)
{
	struct rpc_bufs *bufs = &th->srv->bufs;
	uint8_t *rec = NULL;
	size_t len = 0;

	if (!rpc_io_read(conn, events, &th->own, &rec, &len))
		return;
	if (th->reply)
		pool_run(th, conn, rec, len);
	else
		rpc_conn_close(conn); /* no reply buffer: cannot answer */
	/* The record's buffer becomes this thread's own, or a spare. */
	if (rec && !th->own) {
		rpc_buf_trim(bufs, rec, len);
		th->own = rec;
	} else {
		rpc_buf_put(bufs, rec, len);
	}
	rpc_conn_call_done(conn);
	rpc_conn_put(conn);
}

void *rpc_pool_main(void *arg)
{
	struct pool_thread th = {.srv = arg};
	struct rpc_server *srv = th.srv;

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
