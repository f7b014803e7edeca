/*
 * The callback engine: one thread per server starts queued callbacks, resends
 * delayed ones and expires calls that got no reply; replies arrive on rpc
 * workers through the connection's reply handler. A callback is a small state
 * machine (DESIGN §4):
 *
 *   queued → [session from cb_session, a back-channel slot] → sent → reply:
 *     OK                      → done (slot's sequence advances)
 *     DELAY (CB_SEQUENCE)     → resent later on the same slot and sequence id
 *     DELAY (the op)          → resent later as a new request
 *     MISORDERED/BADSLOT/...  → slot fixed, resent at once (a few times)
 *     BADSESSION, connection lost, timeout, no back channel
 *                             → channel FAULT (client told CB_PATH_DOWN),
 *                               parked until the client repairs it
 *   and parked callbacks resume when a back channel is published or a slot
 *   frees. Nothing is retried forever: a recall ends when its delegation is
 *   returned or revoked (one lease after the recall), everything ends when
 *   its client goes.
 *
 * Every list a callback sits on is under srv->cb_lock; a callback on no list
 * belongs to the thread handling it. See callback.h for the lifetime rules.
 */
#include "nfs4/cb_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <time.h>

#include "nfs4/deleg.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/trace.h"

#define NFS4_CB_TIMEOUT_MS 5000 /* a back channel that does not answer is faulty */
#define NFS4_CB_MAX_DELAYS 30	/* NFS4ERR_DELAY answers before a callback gives up */
#define NFS4_CB_MAX_FIXES 4	/* slot repairs (MISORDERED, BADSLOT, ...) in a row */
#define NFS4_CB_BACKOFF_MS 100	/* first DELAY backoff; doubles up to ... */
#define NFS4_CB_BACKOFF_MAX_MS 2000

static const char *const nfs4_cb_kind_names[] = {"probe", "recall", "getattr", "recall_any"};

enum nfs4_cb_state nfs4_cb_state(struct nfs4_client *clp)
{
	return atomic_load(&clp->cb_state);
}

const char *nfs4_cb_state_name(enum nfs4_cb_state state)
{
	static const char *const names[] = {"UNKNOWN", "UP", "DOWN", "FAULT"};

	return (unsigned)state < 4 ? names[state] : "?";
}

static uint32_t nfs4_ses_num(const struct nfs4_session *ses)
{
	return ses ? xdr_get_be32(ses->sessionid.data + 8) : 0;
}

/* ---- the callback session: the only writers of client->cb_session ---- */

/* Moves clp's parked callbacks back to the queue (its channel or a slot may be usable now). */
static void nfs4_cb_unpark(struct nfs4_client *clp)
{
	struct nfs4_server *srv = clp->srv;
	struct nfs4_cb *cb, *tmp;
	bool any = false;

	pthread_mutex_lock(&srv->cb_lock);
	atomic_fetch_add(&srv->cb_wakes, 1);
	cds_list_for_each_entry_safe(cb, tmp, &srv->cb_parked, link)
	{
		if (cb->clp != clp)
			continue;
		cds_list_del(&cb->link);
		cds_list_add_tail(&cb->link, &srv->cb_queue);
		any = true;
	}
	if (any)
		pthread_cond_signal(&srv->cb_cond);
	pthread_mutex_unlock(&srv->cb_lock);
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
	TRACE3(cb_state, clp->clientid, nfs4_ses_num(ses), (int)state);
	/* Readers that fetched old inside a read section keep it until the grace period ends. */
	if (old)
		nfs4_session_put(old);
	if (ses)
		nfs4_cb_unpark(clp);
}

/*
 * Withdraws ses as clp's callback session if it still is, with state: a
 * failure on an older session must not take down a newer working one.
 */
static void nfs4_cb_withdraw(struct nfs4_client *clp, struct nfs4_session *ses,
			     enum nfs4_cb_state state)
{
	struct nfs4_session *old = NULL;

	pthread_mutex_lock(&clp->cb_lock);
	old = rcu_fetch(clp->cb_session);
	if (old == ses || !old) {
		rcu_publish(clp->cb_session, NULL);
		atomic_store(&clp->cb_state, state);
	} else {
		old = NULL;
	}
	pthread_mutex_unlock(&clp->cb_lock);
	TRACE3(cb_state, clp->clientid, nfs4_ses_num(ses), (int)state);
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
	if (old) {
		TRACE3(cb_state, clp->clientid, nfs4_ses_num(ses), (int)NFS4_CB_DOWN);
		nfs4_session_put(old);
	}
	/* Callbacks holding a slot of ses move to another session, or park. */
	nfs4_cb_unpark(clp);
}

/* ---- back-channel slots (ses->cb_slots, under ses->lock) ---- */

static bool nfs4_cb_slot_get(struct nfs4_cb *cb)
{
	struct nfs4_cb_slots *t = &cb->ses->cb_slots;
	bool got = false;

	pthread_mutex_lock(&cb->ses->lock);
	for (uint32_t i = 0; i < t->nslots && !got; i++) {
		if (t->busy & (1u << i))
			continue;
		t->busy |= 1u << i;
		cb->slot = (int)i;
		cb->seqid = t->seqid[i] + 1;
		got = true;
	}
	pthread_mutex_unlock(&cb->ses->lock);
	return got;
}

/*
 * Gives cb's slot back; used records that the client processed cb->seqid.
 * Waiting callbacks of the client are woken: one of them can have it.
 */
static void nfs4_cb_slot_put(struct nfs4_cb *cb, bool used)
{
	struct nfs4_cb_slots *t = &cb->ses->cb_slots;

	if (cb->slot < 0)
		return;
	pthread_mutex_lock(&cb->ses->lock);
	if (used)
		t->seqid[cb->slot] = cb->seqid;
	t->busy &= ~(1u << cb->slot);
	pthread_mutex_unlock(&cb->ses->lock);
	cb->slot = -1;
	nfs4_cb_unpark(cb->clp);
}

/* Lets go of cb's session (and its slot there, whose outcome is unknown). */
static void nfs4_cb_drop_session(struct nfs4_cb *cb)
{
	if (!cb->ses)
		return;
	nfs4_cb_slot_put(cb, false);
	nfs4_session_put(cb->ses);
	cb->ses = NULL;
}

/* ---- creating and ending callbacks ---- */

static struct nfs4_cb *nfs4_cb_new(struct nfs4_client *clp, enum nfs4_cb_kind kind)
{
	struct nfs4_cb *cb = calloc(1, sizeof(*cb));

	if (!cb)
		return NULL;
	cb->kind = kind;
	cb->slot = -1;
	ref_get(&clp->ref);
	cb->clp = clp;
	atomic_fetch_add(&clp->srv->ncallbacks, 1);
	atomic_fetch_add(&clp->ncallbacks, 1);
	return cb;
}

/* The end of every callback: drops what it pinned. It is on no list. */
static void nfs4_cb_free(struct nfs4_cb *cb)
{
	struct nfs4_server *srv = cb->clp->srv;

	TRACE3(cb_done, cb->clp->clientid, nfs4_ses_num(cb->ses), (int)cb->kind);
	if (cb->conn)
		rpc_conn_put(cb->conn);
	nfs4_cb_drop_session(cb);
	if (cb->dp)
		nfs4_stid_put(&cb->dp->stid);
	atomic_fetch_sub(&cb->clp->ncallbacks, 1);
	nfs4_client_put(cb->clp);
	free(cb);
	atomic_fetch_sub(&srv->ncallbacks, 1);
}

static void nfs4_cb_queue(struct nfs4_cb *cb)
{
	struct nfs4_server *srv = cb->clp->srv;

	TRACE3(cb_queue, cb->clp->clientid, nfs4_ses_num(cb->ses), (int)cb->kind);
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

void nfs4_cb_probe(struct nfs4_session *ses)
{
	struct nfs4_cb *cb = nfs4_cb_new(ses->client, NFS4_CB_PROBE);

	if (!cb)
		return;
	nfs4_session_get(ses);
	cb->ses = ses;
	nfs4_cb_queue(cb);
}

static void nfs4_cb_deleg(struct nfs4_deleg *dp, enum nfs4_cb_kind kind)
{
	struct nfs4_cb *cb = nfs4_cb_new(dp->stid.client, kind);

	if (!cb)
		return; /* an unsent recall ends in revocation, an unsent getattr in DELAY */
	ref_get(&dp->stid.ref);
	cb->dp = dp;
	nfs4_cb_queue(cb);
}

void nfs4_cb_recall(struct nfs4_deleg *dp)
{
	nfs4_cb_deleg(dp, NFS4_CB_RECALL);
}

void nfs4_cb_getattr(struct nfs4_deleg *dp)
{
	nfs4_cb_deleg(dp, NFS4_CB_GETATTR);
}

void nfs4_cb_recall_any(struct nfs4_client *clp, uint32_t keep)
{
	struct nfs4_cb *cb = nfs4_cb_new(clp, NFS4_CB_RECALL_ANY);

	if (!cb)
		return;
	cb->keep = keep;
	nfs4_cb_queue(cb);
}

/*
 * A client that is gone, or expired (kept without sessions until it comes
 * back), repairs no channel: its callbacks end instead of waiting.
 */
static bool nfs4_cb_client_away(const struct nfs4_client *clp)
{
	return atomic_load(&clp->dead) || atomic_load(&clp->expired);
}

/* Whether cb still has a purpose: its client is here, its delegation still needs it. */

static bool nfs4_cb_wanted(struct nfs4_cb *cb)
{
	if (nfs4_cb_client_away(cb->clp))
		return false;
	if (cb->dp)
		return nfs4_deleg_needs_callback(cb->dp);
	return true;
}

/*
 * Parks cb until its client's channel is repaired or a slot frees
 * (nfs4_cb_unpark). wakes is srv->cb_wakes from before cb found it could not
 * go on: if an unpark happened since, what it waits for may already be
 * there, so it goes back to the queue instead of waiting for nothing.
 */
static void nfs4_cb_park(struct nfs4_server *srv, struct nfs4_cb *cb, uint64_t wakes)
{
	TRACE3(cb_requeue, cb->clp->clientid, nfs4_ses_num(cb->ses), (int)cb->kind);
	pthread_mutex_lock(&srv->cb_lock);
	/* A client that went while the call was out never repairs anything. */
	if (srv->cb_stopping || nfs4_cb_client_away(cb->clp)) {
		pthread_mutex_unlock(&srv->cb_lock);
		nfs4_cb_free(cb);
		return;
	}
	if (atomic_load(&srv->cb_wakes) != wakes) {
		cds_list_add_tail(&cb->link, &srv->cb_queue);
		pthread_cond_signal(&srv->cb_cond);
	} else {
		cds_list_add_tail(&cb->link, &srv->cb_parked);
	}
	pthread_mutex_unlock(&srv->cb_lock);
}

/* Resends cb after a backoff; false when it has been told DELAY too often. */
static bool nfs4_cb_delay(struct nfs4_server *srv, struct nfs4_cb *cb)
{
	uint64_t ms;

	if (++cb->delays > NFS4_CB_MAX_DELAYS)
		return false;
	ms = (uint64_t)NFS4_CB_BACKOFF_MS << MIN(cb->delays - 1, 5u);
	ms = MIN(ms, (uint64_t)NFS4_CB_BACKOFF_MAX_MS);
	TRACE4(cb_retry, cb->clp->clientid, nfs4_ses_num(cb->ses), (int)cb->kind, cb->delays);
	nfs4_stats_inc(&srv->stats.cb_retried);
	pthread_mutex_lock(&srv->cb_lock);
	if (srv->cb_stopping) {
		pthread_mutex_unlock(&srv->cb_lock);
		nfs4_cb_free(cb);
		return true;
	}
	cb->due_ns = time_mono_ns() + ms * 1000000u;
	cds_list_add_tail(&cb->link, &srv->cb_delayed);
	pthread_mutex_unlock(&srv->cb_lock);
	return true;
}

/* ---- completion ---- */

/* The channel failed under cb: FAULT (CB_PATH_DOWN for the client), park until repaired. */
static void nfs4_cb_fault(struct nfs4_server *srv, struct nfs4_cb *cb, const char *why,
			  uint32_t code)
{
	uint64_t wakes = atomic_load(&srv->cb_wakes);

	log_info("nfs4", "callback %s to clientid=%016llx failed (%s %u): back channel faulty",
		 nfs4_cb_kind_names[cb->kind], (unsigned long long)cb->clp->clientid, why, code);
	nfs4_stats_inc(&srv->stats.cb_failed);
	nfs4_cb_withdraw(cb->clp, cb->ses, NFS4_CB_FAULT);
	if (nfs4_cb_state(cb->clp) == NFS4_CB_UP)
		nfs4_cb_queue(cb); /* a newer channel is already up */
	else
		nfs4_cb_park(srv, cb, wakes);
}

static void nfs4_cb_probe_done(struct nfs4_cb *cb, const struct nfs4_cb_reply *r)
{
	struct nfs4_client *clp = cb->clp;

	if (r->err == 0) {
		log_debug("nfs4", "cb probe ok clientid=%016llx",
			  (unsigned long long)clp->clientid);
		nfs4_cb_set_session(clp, cb->ses, NFS4_CB_UP);
	} else {
		log_info("nfs4", "cb probe failed clientid=%016llx: %s",
			 (unsigned long long)clp->clientid, strerror(-r->err));
		nfs4_cb_withdraw(clp, cb->ses, NFS4_CB_DOWN);
	}
	nfs4_cb_free(cb);
}

/* CB_SEQUENCE succeeded: what the op's own status means. */
static void nfs4_cb_op_done(struct nfs4_server *srv, struct nfs4_cb *cb,
			    const struct nfs4_cb_reply *r)
{
	switch (r->op_status) {
	case NFS4_OK:
		if (cb->kind == NFS4_CB_GETATTR)
			nfs4_deleg_getattr_done(cb->dp, r->has_size, r->size, r->has_change,
						r->change);
		nfs4_cb_free(cb);
		return;
	case NFS4ERR_DELAY:
	/* A recall racing the OPEN reply that granted it: the client knows it soon. */
	case NFS4ERR_BAD_STATEID:
	case NFS4ERR_BADHANDLE:
		if (nfs4_cb_delay(srv, cb))
			return;
		break;
	default:
		break;
	}
	log_info("nfs4", "callback %s to clientid=%016llx: status %u, giving up",
		 nfs4_cb_kind_names[cb->kind], (unsigned long long)cb->clp->clientid, r->op_status);
	/* An unanswered recall is revoked after a lease; an unanswered getattr recalls. */
	if (cb->kind == NFS4_CB_GETATTR)
		nfs4_deleg_getattr_done(cb->dp, false, 0, false, 0);
	nfs4_cb_free(cb);
}

/* Repairs cb's slot after MISORDERED and friends and sends again at once, a few times. */
static void nfs4_cb_fix_slot(struct nfs4_server *srv, struct nfs4_cb *cb, uint32_t status)
{
	struct nfs4_cb_slots *t = &cb->ses->cb_slots;

	if (++cb->fixes > NFS4_CB_MAX_FIXES) {
		nfs4_cb_fault(srv, cb, "slot keeps failing", status);
		return;
	}
	pthread_mutex_lock(&cb->ses->lock);
	switch (status) {
	case NFS4ERR_SEQ_MISORDERED:
		/* Either the client saw our last request (go one on) or it lost all (start over).
		 */
		t->seqid[cb->slot] = cb->fixes == 1 ? cb->seqid : 0;
		break;
	case NFS4ERR_RETRY_UNCACHED_REP:
		t->seqid[cb->slot] = cb->seqid; /* it did run this one: the next is new */
		break;
	case NFS4ERR_BADSLOT:
		t->nslots = MAX(1u, (uint32_t)cb->slot);
		break;
	}
	t->busy &= ~(1u << cb->slot);
	pthread_mutex_unlock(&cb->ses->lock);
	cb->slot = -1;
	nfs4_cb_queue(cb);
}

/* Where a sent callback goes once its reply (or its failure) is known. */
static void nfs4_cb_done(struct nfs4_server *srv, struct nfs4_cb *cb, const struct nfs4_cb_reply *r)
{
	if (cb->conn) {
		rpc_conn_put(cb->conn);
		cb->conn = NULL;
	}
	if (cb->kind == NFS4_CB_PROBE) {
		nfs4_cb_probe_done(cb, r);
		return;
	}
	if (r->err < 0) {
		/* Unknown outcome: keep slot and sequence id, resend as a retry once repaired. */
		nfs4_cb_fault(srv, cb, "no reply", (uint32_t)-r->err);
		return;
	}
	switch (r->seq_status) {
	case NFS4_OK:
		cb->fixes = 0;
		pthread_mutex_lock(&cb->ses->lock);
		/* The client may ask for fewer slots (csr_target_highest_slotid). */
		if (r->target_highest < cb->ses->cb_slots.nslots)
			cb->ses->cb_slots.nslots = r->target_highest + 1;
		pthread_mutex_unlock(&cb->ses->lock);
		nfs4_cb_slot_put(cb, true);
		nfs4_cb_op_done(srv, cb, r);
		return;
	case NFS4ERR_DELAY:
		/* Not run: the same slot and sequence id, later. */
		if (nfs4_cb_delay(srv, cb))
			return;
		log_info("nfs4", "callback to clientid=%016llx: DELAY for too long, giving up",
			 (unsigned long long)cb->clp->clientid);
		if (cb->kind == NFS4_CB_GETATTR)
			nfs4_deleg_getattr_done(cb->dp, false, 0, false, 0);
		nfs4_cb_free(cb);
		return;
	case NFS4ERR_SEQ_MISORDERED:
	case NFS4ERR_RETRY_UNCACHED_REP:
	case NFS4ERR_BADSLOT:
		nfs4_cb_fix_slot(srv, cb, r->seq_status);
		return;
	default:
		/* BADSESSION, DEADSESSION, CONN_NOT_BOUND_TO_SESSION, ...: the session is no good.
		 */
		nfs4_cb_slot_put(cb, false);
		nfs4_cb_fault(srv, cb, "CB_SEQUENCE status", r->seq_status);
		return;
	}
}

/* ---- sending and replies ---- */

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
	struct nfs4_cb_reply r = {.err = -EPROTO};
	uint32_t v, mtype, stat, flavor, accept;
	struct xdr_opaque verf;
	struct xdr_dec x;
	struct nfs4_cb *cb;

	pthread_mutex_lock(&srv->cb_lock);
	cb = nfs4_cb_take_locked(srv, conn, xid);
	pthread_mutex_unlock(&srv->cb_lock);
	if (!cb)
		return; /* late (timed out) or unknown: nothing waits for it */
	xdr_dec_init(&x, rec, len, NULL);
	if (xdr_dec_u32(&x, &v) && xdr_dec_u32(&x, &mtype) && xdr_dec_u32(&x, &stat) &&
	    stat == RPC_MSG_ACCEPTED && xdr_dec_u32(&x, &flavor) &&
	    xdr_dec_opaque(&x, &verf, RPC_MAX_AUTH_BYTES) && xdr_dec_u32(&x, &accept) &&
	    accept == RPC_SUCCESS) {
		if (cb->kind == NFS4_CB_PROBE)
			r.err = 0;
		else
			nfs4_cb_dec_compound(&x, &r);
	}
	nfs4_cb_done(srv, cb, &r);
}

/* Sends cb on its session's back channel. On failure completes it. */
static void nfs4_cb_send(struct nfs4_server *srv, struct nfs4_cb *cb)
{
	struct nfs4_cb_reply fail = {.err = -ENOTCONN};
	struct rpc_conn *conn;
	struct nfs4_cb_sec sec;
	uint8_t buf[NFS4_CB_REC_MAX];
	struct xdr_enc x;
	struct iovec iov;
	uint32_t prog, xid;

	cb->conn = nfs4_cb_conn(cb->ses);
	if (!cb->conn) {
		nfs4_cb_done(srv, cb, &fail);
		return;
	}
	pthread_mutex_lock(&cb->ses->lock);
	prog = cb->ses->cb_program;
	sec = cb->ses->cb_sec;
	pthread_mutex_unlock(&cb->ses->lock);
	cb->xid = atomic_fetch_add(&srv->cb_xid, 1);
	xdr_enc_init(&x, buf, sizeof(buf));
	nfs4_cb_enc_header(&x, cb->xid, prog, cb->kind == NFS4_CB_PROBE ? 0 : 1, &sec);
	if (cb->kind != NFS4_CB_PROBE && !nfs4_cb_enc_compound(cb, &x)) {
		log_err("nfs4", "callback %s does not fit a record", nfs4_cb_kind_names[cb->kind]);
		rpc_conn_put(cb->conn);
		cb->conn = NULL;
		nfs4_cb_free(cb);
		return;
	}
	rpc_conn_set_reply_handler(cb->conn, nfs4_cb_reply, srv);
	TRACE4(cb_send, cb->clp->clientid, nfs4_ses_num(cb->ses), (int)cb->kind, cb->seqid);
	nfs4_stats_inc(&srv->stats.cb_sent);

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
	cb->due_ns = time_mono_ns() + (uint64_t)NFS4_CB_TIMEOUT_MS * 1000000u;
	pthread_mutex_lock(&srv->cb_lock);
	cds_list_add_tail(&cb->link, &srv->cb_pending);
	pthread_mutex_unlock(&srv->cb_lock);
	iov.iov_base = buf;
	iov.iov_len = x.len;
	if (rpc_conn_send_record(conn, &iov, 1) < 0) {
		pthread_mutex_lock(&srv->cb_lock);
		cb = nfs4_cb_take_locked(srv, conn, xid);
		pthread_mutex_unlock(&srv->cb_lock);
		if (cb) {
			fail.err = -EPIPE;
			nfs4_cb_done(srv, cb, &fail);
		}
	}
	rpc_conn_put(conn);
}

/*
 * Starts cb: finds its session (the published callback session — never a
 * session it does not hold) and a slot, or parks it. Callback thread only.
 */
static void nfs4_cb_run(struct nfs4_server *srv, struct nfs4_cb *cb)
{
	uint64_t wakes = atomic_load(&srv->cb_wakes);
	struct nfs4_session *cur;

	if (!nfs4_cb_wanted(cb)) {
		nfs4_cb_free(cb);
		return;
	}
	if (cb->kind == NFS4_CB_PROBE) {
		nfs4_cb_send(srv, cb);
		return;
	}
	/*
	 * The pointer comparison needs no reference: cb's own session is
	 * pinned, and cur is only compared, or pinned inside the read section.
	 */
	rcu_read_begin();
	cur = rcu_fetch(cb->clp->cb_session);
	if (cb->ses && cb->ses != cur) {
		rcu_read_end();
		nfs4_cb_drop_session(cb); /* the channel moved on: so does the callback */
		rcu_read_begin();
		cur = rcu_fetch(cb->clp->cb_session);
	}
	if (!cb->ses && cur && ref_get_unless_zero(&cur->ref))
		cb->ses = cur;
	rcu_read_end();
	if (!cb->ses) {
		nfs4_cb_park(srv, cb, wakes); /* no back channel: until the client repairs it */
		return;
	}
	if (cb->slot < 0 && !nfs4_cb_slot_get(cb)) {
		nfs4_cb_drop_session(cb);
		nfs4_cb_park(srv, cb, wakes); /* every slot busy: until one frees */
		return;
	}
	nfs4_cb_send(srv, cb);
}

/*
 * Moves the callbacks of from (a list under srv->cb_lock, which the caller
 * holds) into out: those sent on conn, or without conn those due by now
 * (pending: reply overdue; delayed: time to resend).
 */
static void nfs4_cb_collect_locked(struct cds_list_head *from, struct rpc_conn *conn, uint64_t now,
				   struct cds_list_head *out)
{
	struct nfs4_cb *cb, *tmp;

	cds_list_for_each_entry_safe(cb, tmp, from, link)
	{
		if ((conn && cb->conn == conn) || (!conn && cb->due_ns <= now)) {
			cds_list_del(&cb->link);
			cds_list_add_tail(&cb->link, out);
		}
	}
}

static void nfs4_cb_fail_all(struct nfs4_server *srv, struct cds_list_head *list, int err)
{
	struct nfs4_cb_reply r = {.err = err};
	struct nfs4_cb *cb, *tmp;

	cds_list_for_each_entry_safe(cb, tmp, list, link)
	{
		cds_list_del(&cb->link);
		nfs4_cb_done(srv, cb, &r);
	}
}

void nfs4_cb_conn_closed(struct nfs4_server *srv, struct rpc_conn *conn)
{
	CDS_LIST_HEAD(failed);

	pthread_mutex_lock(&srv->cb_lock);
	nfs4_cb_collect_locked(&srv->cb_pending, conn, 0, &failed);
	pthread_mutex_unlock(&srv->cb_lock);
	nfs4_cb_fail_all(srv, &failed, -ECONNRESET);
}

/* Moves clp's callbacks that wait (queued, delayed, parked) to out. Caller holds cb_lock. */
static void nfs4_cb_collect_client_locked(struct nfs4_server *srv, struct nfs4_client *clp,
					  struct cds_list_head *out)
{
	struct cds_list_head *lists[] = {&srv->cb_queue, &srv->cb_delayed, &srv->cb_parked};
	struct nfs4_cb *cb, *tmp;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		cds_list_for_each_entry_safe(cb, tmp, lists[i], link)
		{
			if (clp && cb->clp != clp)
				continue;
			cds_list_del(&cb->link);
			cds_list_add_tail(&cb->link, out);
		}
}

static void nfs4_cb_free_all(struct cds_list_head *list)
{
	struct nfs4_cb *cb, *tmp;

	cds_list_for_each_entry_safe(cb, tmp, list, link)
	{
		cds_list_del(&cb->link);
		nfs4_cb_free(cb);
	}
}

/*
 * clp is dead: its waiting callbacks end now. One in flight ends with its
 * reply, timeout or connection; nfs4_cb_run() drops any that comes back.
 */
void nfs4_cb_client_gone(struct nfs4_client *clp)
{
	struct nfs4_server *srv = clp->srv;
	CDS_LIST_HEAD(gone);

	pthread_mutex_lock(&srv->cb_lock);
	nfs4_cb_collect_client_locked(srv, clp, &gone);
	pthread_mutex_unlock(&srv->cb_lock);
	nfs4_cb_free_all(&gone);
}

/*
 * Ends parked callbacks that lost their purpose: their delegation was
 * returned or revoked, or their client went (it may never repair its
 * channel). Looked at outside cb_lock, which is a leaf: they leave the
 * parked list meanwhile, and go back through nfs4_cb_park() so that an
 * unpark in between is not lost.
 */
static void nfs4_cb_end_unwanted(struct nfs4_server *srv)
{
	uint64_t wakes = atomic_load(&srv->cb_wakes);
	struct nfs4_cb *cb, *tmp;
	CDS_LIST_HEAD(check);

	pthread_mutex_lock(&srv->cb_lock);
	cds_list_splice(&srv->cb_parked, &check);
	CDS_INIT_LIST_HEAD(&srv->cb_parked);
	pthread_mutex_unlock(&srv->cb_lock);
	cds_list_for_each_entry_safe(cb, tmp, &check, link)
	{
		cds_list_del(&cb->link);
		if (nfs4_cb_wanted(cb))
			nfs4_cb_park(srv, cb, wakes);
		else
			nfs4_cb_free(cb);
	}
}

static void *nfs4_cb_thread(void *arg)
{
	struct nfs4_server *srv = arg;

	uint64_t scanned = 0;

	rcu_register_thread();
	pthread_mutex_lock(&srv->cb_lock);
	while (!srv->cb_stopping) {
		CDS_LIST_HEAD(todo);
		CDS_LIST_HEAD(expired);
		struct nfs4_cb *cb, *tmp;
		struct timespec ts;
		uint64_t now = time_mono_ns();

		cds_list_splice(&srv->cb_queue, &todo);
		CDS_INIT_LIST_HEAD(&srv->cb_queue);
		nfs4_cb_collect_locked(&srv->cb_delayed, NULL, now, &todo);
		nfs4_cb_collect_locked(&srv->cb_pending, NULL, now, &expired);
		pthread_mutex_unlock(&srv->cb_lock);
		nfs4_cb_fail_all(srv, &expired, -ETIMEDOUT);
		if (now - scanned >= 1000000000u) {
			nfs4_cb_end_unwanted(srv);
			scanned = now;
		}
		cds_list_for_each_entry_safe(cb, tmp, &todo, link)
		{
			cds_list_del(&cb->link);
			nfs4_cb_run(srv, cb);
		}
		pthread_mutex_lock(&srv->cb_lock);
		if (!cds_list_empty(&srv->cb_queue) || srv->cb_stopping)
			continue;
		/* Wake for new work, or in time for delayed and overdue calls. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000;
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
	CDS_INIT_LIST_HEAD(&srv->cb_delayed);
	CDS_INIT_LIST_HEAD(&srv->cb_parked);
	atomic_init(&srv->cb_xid, (uint32_t)time_mono_ns());
	if (pthread_create(&srv->cb_thread, NULL, nfs4_cb_thread, srv) != 0)
		return -1;
	srv->cb_running = true;
	return 0;
}

void nfs4_cb_stop(struct nfs4_server *srv)
{
	CDS_LIST_HEAD(left);
	CDS_LIST_HEAD(sent);

	if (!srv->cb_running)
		return;
	pthread_mutex_lock(&srv->cb_lock);
	srv->cb_stopping = true;
	pthread_cond_signal(&srv->cb_cond);
	pthread_mutex_unlock(&srv->cb_lock);
	pthread_join(srv->cb_thread, NULL);
	srv->cb_running = false;
	pthread_mutex_lock(&srv->cb_lock);
	nfs4_cb_collect_client_locked(srv, NULL, &left);
	cds_list_splice(&srv->cb_pending, &sent);
	CDS_INIT_LIST_HEAD(&srv->cb_pending);
	pthread_mutex_unlock(&srv->cb_lock);
	nfs4_cb_free_all(&left);
	nfs4_cb_free_all(&sent);
}

void nfs4_cb_destroy(struct nfs4_server *srv)
{
	pthread_cond_destroy(&srv->cb_cond);
	pthread_mutex_destroy(&srv->cb_lock);
}
