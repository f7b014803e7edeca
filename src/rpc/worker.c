/*
 * The worker pool: one FIFO of calls for all connections. Each worker owns a
 * reply buffer (max_reply bytes plus the record mark) and an arena, reused
 * for every call it runs.
 */
#include <stdlib.h>

#include "rpc/internal.h"
#include "rpc/msg.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/rcu.h"

void rpc_work_push(struct rpc_server *srv, struct rpc_work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&srv->wq_lock);
	if (srv->wq_tail)
		srv->wq_tail->next = w;
	else
		srv->wq_head = w;
	srv->wq_tail = w;
	pthread_cond_signal(&srv->wq_cond);
	pthread_mutex_unlock(&srv->wq_lock);
}

/* The next call, or NULL once the pool stops and the queue is empty. */
static struct rpc_work *work_pop(struct rpc_server *srv)
{
	struct rpc_work *w;

	pthread_mutex_lock(&srv->wq_lock);
	while (!srv->wq_head && !srv->wq_stop)
		pthread_cond_wait(&srv->wq_cond, &srv->wq_lock);
	w = srv->wq_head;
	if (w) {
		srv->wq_head = w->next;
		if (!srv->wq_head)
			srv->wq_tail = NULL;
	}
	pthread_mutex_unlock(&srv->wq_lock);
	return w;
}

static void work_run(struct rpc_server *srv, struct rpc_work *w, uint8_t *buf, size_t cap,
		     struct arena *arena)
{
	struct rpc_conn *conn = w->conn;
	struct xdr_enc reply;
	struct iovec iov;
	uint32_t xid = 0;
	rpc_reply_fn fn;
	void *ctx;

	xdr_enc_init(&reply, buf, cap);
	switch (rpc_msg_process(srv->progs, srv->cfg.nprogs, conn, w->rec, w->len, arena, &reply,
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
			fn(ctx, conn, xid, w->rec, w->len);
		else
			log_debug(RPC_MODULE,
				  "conn=%llu peer=%s: reply xid=0x%08x dropped (no handler)",
				  (unsigned long long)conn->id, conn->peer_str, xid);
		break;
	case RPC_VERDICT_DROP:
		log_warn(RPC_MODULE, "conn=%llu peer=%s: not an RPC message (%zu bytes): closing",
			 (unsigned long long)conn->id, conn->peer_str, w->len);
		rpc_conn_close(conn);
		break;
	}
	arena_reset(arena);
}

void *rpc_worker_main(void *arg)
{
	struct rpc_server *srv = arg;
	size_t cap = (size_t)srv->cfg.max_reply + RPC_RECORD_MARK_LEN;
	uint8_t *buf = malloc(cap);
	struct arena arena;
	struct rpc_work *w;

	rcu_register_thread();
	arena_init(&arena, XDR_ARENA_LIMIT);
	while ((w = work_pop(srv))) {
		if (buf)
			work_run(srv, w, buf, cap, &arena);
		else
			rpc_conn_close(w->conn); /* no reply buffer: cannot answer */
		free(w->rec);
		rpc_conn_call_done(w->conn);
		rpc_conn_put(w->conn);
		free(w);
	}
	arena_reset(&arena);
	free(buf);
	rcu_unregister_thread();
	return NULL;
}
