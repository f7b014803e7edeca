/*
 * The callback engine, first part: one thread per server sends queued
 * CB_NULL probes on a session's back-channel connection and expires calls
 * that got no reply; replies arrive on rpc workers through the connection's
 * reply handler. See callback.h for the lifetime rules.
 */
#include "nfs4/callback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

#define NFS4_CB_VERSION 1	/* NFS4_CALLBACK program version of NFSv4.1 */
#define NFS4_CB_TIMEOUT_MS 5000 /* a back channel that does not answer a probe is down */

/* One callback call: queued, then in flight until its reply, timeout or connection loss. */
struct nfs4_cb {
	struct cds_list_head link; /* srv->cb_queue or srv->cb_pending, under srv->cb_lock */
	struct nfs4_client *clp;   /* holds a reference */
	struct nfs4_session *ses;  /* holds a reference: the session probed */
	struct rpc_conn *conn;	   /* holds a reference once sent */
	uint32_t xid;
	uint64_t deadline_ns;
};

static void nfs4_cb_free(struct nfs4_cb *cb)
{
	if (cb->conn)
		rpc_conn_put(cb->conn);
	nfs4_session_put(cb->ses);
	nfs4_client_put(cb->clp);
	free(cb);
}

enum nfs4_cb_state nfs4_cb_state(struct nfs4_client *clp)
{
	return atomic_load(&clp->cb_state);
}

void nfs4_cb_set_session(struct nfs4_client *clp, struct nfs4_session *ses,
			 enum nfs4_cb_state state)
{
	struct nfs4_session *old;

	pthread_mutex_lock(&clp->cb_lock);
	if (ses && (atomic_load(&ses->dead) || atomic_load(&clp->dead))) {
		ses = NULL; /* never publish a session that is going away */
		state = NFS4_CB_DOWN;
	}
	old = rcu_fetch(clp->cb_session);
	if (ses)
		nfs4_session_get(ses);
	rcu_publish(clp->cb_session, ses);
	atomic_store(&clp->cb_state, state);
	pthread_mutex_unlock(&clp->cb_lock);
	/* Readers that fetched old inside a read section keep it until the grace period ends. */
	if (old)
		nfs4_session_put(old);
}

/*
 * ses is dying (already marked dead). Checked under cb_lock, like every
 * publish: a probe completing concurrently either published ses before us
 * (and we clear it) or sees ses dead after us (and publishes nothing).
 */
void nfs4_cb_session_gone(struct nfs4_session *ses)
{
	struct nfs4_client *clp = ses->client;
	struct nfs4_session *old = NULL;

	pthread_mutex_lock(&clp->cb_lock);
	if (rcu_fetch(clp->cb_session) == ses) {
		old = ses;
		rcu_publish(clp->cb_session, NULL);
		atomic_store(&clp->cb_state, NFS4_CB_DOWN);
	}
	pthread_mutex_unlock(&clp->cb_lock);
	if (old)
		nfs4_session_put(old);
}

/* A probe finished: publish or withdraw its session (the pinned one, not cb_session). */
static void nfs4_cb_complete(struct nfs4_cb *cb, int err)
{
	struct nfs4_client *clp = cb->clp;

	if (err == 0) {
		log_debug("nfs4", "cb probe ok clientid=%016llx",
			  (unsigned long long)clp->clientid);
		nfs4_cb_set_session(clp, cb->ses, NFS4_CB_UP);
	} else {
		struct nfs4_session *cur;
		bool withdraw;

		log_info("nfs4", "cb probe failed clientid=%016llx: %s",
			 (unsigned long long)clp->clientid, strerror(-err));
		/* A failed probe of an older session must not take down a newer working one. */
		rcu_read_begin();
		cur = rcu_fetch(clp->cb_session);
		withdraw = !cur || cur == cb->ses;
		rcu_read_end();
		if (withdraw)
			nfs4_cb_set_session(clp, NULL, NFS4_CB_DOWN);
	}
	nfs4_cb_free(cb);
}

void nfs4_cb_probe(struct nfs4_session *ses)
{
	struct nfs4_server *srv = ses->client->srv;
	struct nfs4_cb *cb = calloc(1, sizeof(*cb));

	if (!cb)
		return;
	ref_get(&ses->client->ref);
	cb->clp = ses->client;
	nfs4_session_get(ses);
	cb->ses = ses;
	pthread_mutex_lock(&srv->cb_lock);
	if (srv->cb_stopping) {
		pthread_mutex_unlock(&srv->cb_lock);
		nfs4_cb_free(cb);
		return;
	}
	cds_list_add_tail(&cb->link, &srv->cb_queue);
	pthread_cond_signal(&srv->cb_cond);
	pthread_mutex_unlock(&srv->cb_lock);
}

/*
 * A live back-channel connection of ses, with a reference, or NULL: the one
 * bound last, since a client binds a new back channel to replace a bad one.
 */
static struct rpc_conn *nfs4_cb_conn(struct nfs4_session *ses)
{
	struct rpc_conn *conn = NULL;

	pthread_mutex_lock(&ses->lock);
	for (uint32_t i = ses->nconns; i-- > 0 && !conn;) {
		if ((ses->conns[i].dir & CDFS4_BACK) && !rpc_conn_is_closed(ses->conns[i].conn)) {
			conn = ses->conns[i].conn;
			rpc_conn_get(conn);
		}
	}
	pthread_mutex_unlock(&ses->lock);
	return conn;
}

/* The pending call for (conn, xid), unlinked, or NULL. Caller holds srv->cb_lock. */
static struct nfs4_cb *nfs4_cb_take_locked(struct nfs4_server *srv, struct rpc_conn *conn,
					   uint32_t xid)
{
	struct nfs4_cb *cb;

	cds_list_for_each_entry(cb, &srv->cb_pending, link)
	{
		if (cb->conn == conn && cb->xid == xid) {
			cds_list_del(&cb->link);
			return cb;
		}
	}
	return NULL;
}

/* rpc_reply_fn: a REPLY record on a back-channel connection. */
static void nfs4_cb_reply(void *ctx, struct rpc_conn *conn, uint32_t xid, const uint8_t *rec,
			  size_t len)
{
	struct nfs4_server *srv = ctx;
	uint32_t v, mtype, stat, flavor, accept;
	struct xdr_opaque verf;
	struct xdr_dec x;
	struct nfs4_cb *cb;
	int err = -EPROTO;

	pthread_mutex_lock(&srv->cb_lock);
	cb = nfs4_cb_take_locked(srv, conn, xid);
	pthread_mutex_unlock(&srv->cb_lock);
	if (!cb)
		return; /* late (timed out) or unknown: nothing waits for it */
	xdr_dec_init(&x, rec, len, NULL);
	if (xdr_dec_u32(&x, &v) && xdr_dec_u32(&x, &mtype) && xdr_dec_u32(&x, &stat) &&
	    stat == RPC_MSG_ACCEPTED && xdr_dec_u32(&x, &flavor) &&
	    xdr_dec_opaque(&x, &verf, RPC_MAX_AUTH_BYTES) && xdr_dec_u32(&x, &accept) &&
	    accept == RPC_SUCCESS)
		err = 0;
	nfs4_cb_complete(cb, err);
}

/* Sends cb's CB_NULL; on failure completes it. Called on the callback thread. */
static void nfs4_cb_send(struct nfs4_server *srv, struct nfs4_cb *cb)
{
	struct rpc_conn *conn;
	uint8_t buf[64];
	struct xdr_enc x;
	struct iovec iov;
	uint32_t prog, xid;

	cb->conn = nfs4_cb_conn(cb->ses);
	if (!cb->conn) {
		nfs4_cb_complete(cb, -ENOTCONN);
		return;
	}
	pthread_mutex_lock(&cb->ses->lock);
	prog = cb->ses->cb_program;
	pthread_mutex_unlock(&cb->ses->lock);
	cb->xid = atomic_fetch_add(&srv->cb_xid, 1);
	xdr_enc_init(&x, buf, sizeof(buf));
	xdr_enc_u32(&x, cb->xid);
	xdr_enc_u32(&x, RPC_MSG_CALL);
	xdr_enc_u32(&x, RPC_VERSION);
	xdr_enc_u32(&x, prog);
	xdr_enc_u32(&x, NFS4_CB_VERSION);
	xdr_enc_u32(&x, 0); /* CB_NULL */
	xdr_enc_u32(&x, RPC_AUTH_NONE);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, RPC_AUTH_NONE);
	xdr_enc_u32(&x, 0);
	rpc_conn_set_reply_handler(cb->conn, nfs4_cb_reply, srv);

	/*
	 * Pending before the send, since the reply may arrive before
	 * rpc_conn_send_record() returns. From then on the call belongs to
	 * whoever completes it (reply, timeout, connection close), which may free
	 * it at once: the send uses only its own reference on the connection and
	 * the xid, never cb.
	 */
	conn = cb->conn;
	rpc_conn_get(conn);
	xid = cb->xid;
	cb->deadline_ns = time_mono_ns() + (uint64_t)NFS4_CB_TIMEOUT_MS * 1000000u;
	pthread_mutex_lock(&srv->cb_lock);
	cds_list_add_tail(&cb->link, &srv->cb_pending);
	pthread_mutex_unlock(&srv->cb_lock);
	iov.iov_base = buf;
	iov.iov_len = x.len;
	if (rpc_conn_send_record(conn, &iov, 1) < 0) {
		pthread_mutex_lock(&srv->cb_lock);
		cb = nfs4_cb_take_locked(srv, conn, xid);
		pthread_mutex_unlock(&srv->cb_lock);
		if (cb)
			nfs4_cb_complete(cb, -EPIPE);
	}
	rpc_conn_put(conn);
}

/* Moves the calls of srv->cb_pending that match into out. Caller holds srv->cb_lock. */
static void nfs4_cb_collect_locked(struct nfs4_server *srv, struct rpc_conn *conn, uint64_t now,
				   struct cds_list_head *out)
{
	struct nfs4_cb *cb, *tmp;

	cds_list_for_each_entry_safe(cb, tmp, &srv->cb_pending, link)
	{
		if ((conn && cb->conn == conn) || (!conn && cb->deadline_ns <= now)) {
			cds_list_del(&cb->link);
			cds_list_add_tail(&cb->link, out);
		}
	}
}

static void nfs4_cb_fail_all(struct cds_list_head *list, int err)
{
	struct nfs4_cb *cb, *tmp;

	cds_list_for_each_entry_safe(cb, tmp, list, link)
	{
		cds_list_del(&cb->link);
		nfs4_cb_complete(cb, err);
	}
}

void nfs4_cb_conn_closed(struct nfs4_server *srv, struct rpc_conn *conn)
{
	CDS_LIST_HEAD(failed);

	pthread_mutex_lock(&srv->cb_lock);
	nfs4_cb_collect_locked(srv, conn, 0, &failed);
	pthread_mutex_unlock(&srv->cb_lock);
	nfs4_cb_fail_all(&failed, -ECONNRESET);
}

static void *nfs4_cb_thread(void *arg)
{
	struct nfs4_server *srv = arg;

	rcu_register_thread();
	pthread_mutex_lock(&srv->cb_lock);
	while (!srv->cb_stopping) {
		CDS_LIST_HEAD(todo);
		CDS_LIST_HEAD(expired);
		struct nfs4_cb *cb, *tmp;
		struct timespec ts;

		cds_list_splice(&srv->cb_queue, &todo);
		CDS_INIT_LIST_HEAD(&srv->cb_queue);
		nfs4_cb_collect_locked(srv, NULL, time_mono_ns(), &expired);
		pthread_mutex_unlock(&srv->cb_lock);
		nfs4_cb_fail_all(&expired, -ETIMEDOUT);
		cds_list_for_each_entry_safe(cb, tmp, &todo, link)
		{
			cds_list_del(&cb->link);
			nfs4_cb_send(srv, cb);
		}
		pthread_mutex_lock(&srv->cb_lock);
		if (!cds_list_empty(&srv->cb_queue) || srv->cb_stopping)
			continue;
		/* Wake for new work, or in time to expire overdue calls. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&srv->cb_cond, &srv->cb_lock, &ts);
	}
	pthread_mutex_unlock(&srv->cb_lock);
	rcu_unregister_thread();
	return NULL;
}

int nfs4_cb_start(struct nfs4_server *srv)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&srv->cb_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->cb_cond, &ca);
	pthread_condattr_destroy(&ca);
	CDS_INIT_LIST_HEAD(&srv->cb_queue);
	CDS_INIT_LIST_HEAD(&srv->cb_pending);
	atomic_init(&srv->cb_xid, (uint32_t)time_mono_ns());
	if (pthread_create(&srv->cb_thread, NULL, nfs4_cb_thread, srv) != 0)
		return -1;
	srv->cb_running = true;
	return 0;
}

void nfs4_cb_stop(struct nfs4_server *srv)
{
	CDS_LIST_HEAD(left);

	if (!srv->cb_running)
		return;
	pthread_mutex_lock(&srv->cb_lock);
	srv->cb_stopping = true;
	pthread_cond_signal(&srv->cb_cond);
	pthread_mutex_unlock(&srv->cb_lock);
	pthread_join(srv->cb_thread, NULL);
	srv->cb_running = false;
	pthread_mutex_lock(&srv->cb_lock);
	cds_list_splice(&srv->cb_queue, &left);
	CDS_INIT_LIST_HEAD(&srv->cb_queue);
	cds_list_splice(&srv->cb_pending, &left);
	CDS_INIT_LIST_HEAD(&srv->cb_pending);
	pthread_mutex_unlock(&srv->cb_lock);
	nfs4_cb_fail_all(&left, -ESHUTDOWN);
	pthread_cond_destroy(&srv->cb_cond);
	pthread_mutex_destroy(&srv->cb_lock);
}
