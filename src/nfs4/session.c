/*
 * Sessions (RFC 8881 §2.10): the session table, CREATE_SESSION,
 * DESTROY_SESSION, BIND_CONN_TO_SESSION and connection association.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>

#include "nfs4/callback.h"
#include "nfs4/compound.h"
#include "nfs4/grace.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/trace.h"

static uint64_t nfs4_sessionid_hash(const sessionid4 *id)
{
	return hash_bytes(id->data, sizeof(id->data), 0);
}

static int nfs4_session_match(struct cds_lfht_node *node, const void *key)
{
	struct nfs4_session *ses = caa_container_of(node, struct nfs4_session, node);

	rcu_hash_acquire(ses);
	return memcmp(ses->sessionid.data, key, sizeof(ses->sessionid.data)) == 0;
}

struct nfs4_session *nfs4_session_find(struct nfs4_server *srv, const sessionid4 *id)
{
	struct nfs4_session *ses = NULL;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	rcu_read_begin();
	cds_lfht_lookup(srv->sessions, nfs4_sessionid_hash(id), nfs4_session_match, id->data,
			&iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node) {
		ses = caa_container_of(node, struct nfs4_session, node);
		if (atomic_load(&ses->dead) || !ref_get_unless_zero(&ses->ref))
			ses = NULL;
	}
	rcu_read_end();
	return ses;
}

void nfs4_session_get(struct nfs4_session *ses)
{
	ref_get(&ses->ref);
}

static void nfs4_session_free_rcu(struct rcu_head *head)
{
	struct nfs4_session *ses = caa_container_of(head, struct nfs4_session, rcu);

	rcu_reclaim_begin(head);
	nfs4_slot_table_free(&ses->slots);
	pthread_mutex_destroy(&ses->lock);
	nfs4_client_put(ses->client);
	free(ses);
}

void nfs4_session_put(struct nfs4_session *ses)
{
	if (ref_put(&ses->ref))
		rcu_retire(&ses->rcu, nfs4_session_free_rcu);
}

/* Drops every connection of ses; they are put outside the lock. */
static void nfs4_session_drop_conns(struct nfs4_session *ses)
{
	struct nfs4_session_conn conns[NFS4_MAX_CONNS_PER_SESSION];
	uint32_t n;

	pthread_mutex_lock(&ses->lock);
	n = ses->nconns;
	memcpy(conns, ses->conns, n * sizeof(conns[0]));
	ses->nconns = 0;
	pthread_mutex_unlock(&ses->lock);
	for (uint32_t i = 0; i < n; i++)
		rpc_conn_put(conns[i].conn);
}

void nfs4_session_destroy_locked(struct nfs4_session *ses)
{
	struct nfs4_server *srv = ses->client->srv;

	if (atomic_exchange(&ses->dead, true))
		return;
	cds_lfht_del(srv->sessions, &ses->node);
	nfs4_cb_session_gone(ses); /* the client must not keep pointing at a dead session */
	cds_list_del(&ses->client_link);
	ses->client->nsessions--;
	atomic_fetch_sub(&srv->nsessions, 1);
	log_debug("nfs4", "session destroyed clientid=%016llx",
		  (unsigned long long)ses->client->clientid);
	TRACE2(session_destroy, ses->client->clientid, xdr_get_be32(ses->sessionid.data + 8));
	nfs4_session_drop_conns(ses);
	nfs4_session_put(ses); /* the table's reference */
}

uint32_t nfs4_session_bind_conn(struct nfs4_session *ses, struct rpc_conn *conn, uint32_t dir,
				bool only_if_new)
{
	uint32_t status = NFS4_OK;
	uint32_t i;

	pthread_mutex_lock(&ses->lock);
	for (i = 0; i < ses->nconns; i++)
		if (ses->conns[i].conn == conn)
			break;
	if (i < ses->nconns) {
		if (!only_if_new)
			ses->conns[i].dir = dir;
	} else if (ses->nconns == NFS4_MAX_CONNS_PER_SESSION) {
		status = NFS4ERR_RESOURCE;
	} else {
		rpc_conn_get(conn);
		ses->conns[ses->nconns].conn = conn;
		ses->conns[ses->nconns].dir = dir;
		ses->nconns++;
	}
	if (status == NFS4_OK && (dir & CDFS4_BACK))
		ses->had_back_conn = true;
	pthread_mutex_unlock(&ses->lock);
	return status;
}

void nfs4_sessions_unbind_conn(struct nfs4_server *srv, struct rpc_conn *conn)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	rcu_read_begin();
	for (cds_lfht_first(srv->sessions, &iter); (node = cds_lfht_iter_get_node(&iter));
	     cds_lfht_next(srv->sessions, &iter)) {
		struct nfs4_session *ses = caa_container_of(node, struct nfs4_session, node);
		bool found = false;

		rcu_hash_acquire(ses);
		pthread_mutex_lock(&ses->lock);
		for (uint32_t i = 0; i < ses->nconns; i++) {
			if (ses->conns[i].conn != conn)
				continue;
			/* Keep binding order: the callback path prefers the newest back channel. */
			memmove(&ses->conns[i], &ses->conns[i + 1],
				(ses->nconns - i - 1) * sizeof(ses->conns[0]));
			ses->nconns--;
			found = true;
			break;
		}
		pthread_mutex_unlock(&ses->lock);
		if (found)
			rpc_conn_put(conn);
	}
	rcu_read_end();
}

uint32_t nfs4_session_status_flags(struct nfs4_session *ses)
{
	uint32_t flags = 0;
	bool back = false;

	pthread_mutex_lock(&ses->lock);
	for (uint32_t i = 0; i < ses->nconns; i++)
		if ((ses->conns[i].dir & CDFS4_BACK) && !rpc_conn_is_closed(ses->conns[i].conn))
			back = true;
	if (ses->had_back_conn && !back)
		flags |= SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION;
	pthread_mutex_unlock(&ses->lock);
	/* The client's back channel failed (a probe or a callback): it should bind a working one.
	 */
	if (nfs4_cb_state(ses->client) == NFS4_CB_DOWN ||
	    nfs4_cb_state(ses->client) == NFS4_CB_FAULT)
		flags |= SEQ4_STATUS_CB_PATH_DOWN;
	/* Until the client frees them (FREE_STATEID), it has revoked stateids. */
	return flags | nfs4_revoked_seq_flags(ses->client);
}

/* Fore channel: what we grant is the client's request capped by our limits. */
static uint32_t nfs4_negotiate_fore(const struct channel_attrs4 *in, struct channel_attrs4 *out)
{
	if (in->ca_maxrequestsize < NFS4_MIN_CHANNEL_SIZE ||
	    in->ca_maxresponsesize < NFS4_MIN_CHANNEL_SIZE || in->ca_maxoperations < 1 ||
	    in->ca_maxrequests < 1)
		return NFS4ERR_TOOSMALL;
	memset(out, 0, sizeof(*out));
	out->ca_headerpadsize = 0;
	out->ca_maxrequestsize = MIN(in->ca_maxrequestsize, NFS4_MAX_REQ_SIZE);
	out->ca_maxresponsesize = MIN(in->ca_maxresponsesize, NFS4_MAX_RESP_SIZE);
	out->ca_maxresponsesize_cached = MIN(in->ca_maxresponsesize_cached, NFS4_MAX_RESP_CACHED);
	out->ca_maxoperations = MIN(in->ca_maxoperations, NFS4_MAX_OPS);
	out->ca_maxrequests = MIN(in->ca_maxrequests, NFS4_MAX_SLOTS);
	return NFS4_OK;
}

/*
 * Back channel: the client is the replier, so its attributes are limits we
 * must respect; we use at most NFS4_MAX_CB_SLOTS of its slots. A callback
 * needs CB_SEQUENCE plus one op.
 */
static uint32_t nfs4_negotiate_back(const struct channel_attrs4 *in, struct channel_attrs4 *out)
{
	if (in->ca_maxrequestsize < NFS4_MIN_CHANNEL_SIZE / 2 ||
	    in->ca_maxresponsesize < NFS4_MIN_CHANNEL_SIZE / 4 || in->ca_maxoperations < 2 ||
	    in->ca_maxrequests < 1)
		return NFS4ERR_TOOSMALL;
	memset(out, 0, sizeof(*out));
	out->ca_headerpadsize = 0;
	out->ca_maxrequestsize = in->ca_maxrequestsize;
	out->ca_maxresponsesize = in->ca_maxresponsesize;
	out->ca_maxresponsesize_cached = in->ca_maxresponsesize_cached;
	out->ca_maxoperations = in->ca_maxoperations;
	out->ca_maxrequests = MIN(in->ca_maxrequests, NFS4_MAX_CB_SLOTS);
	return NFS4_OK;
}

/*
 * The first of the client's callback security choices we can use: AUTH_NONE
 * or AUTH_SYS (no GSS). False when there is none.
 */
static bool nfs4_cb_sec_pick(const struct callback_sec_parms4 *v, uint32_t n,
			     struct nfs4_cb_sec *out)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct authsys_parms *sys = &v[i].u.cbsp_sys_cred;

		if (v[i].cb_secflavor != RPC_AUTH_NONE && v[i].cb_secflavor != RPC_AUTH_SYS)
			continue;
		memset(out, 0, sizeof(*out));
		out->flavor = v[i].cb_secflavor;
		if (out->flavor == RPC_AUTH_SYS) {
			out->uid = sys->uid;
			out->gid = sys->gid;
			out->machine_len = MIN(sys->machinename.len, sizeof(out->machine));
			memcpy(out->machine, sys->machinename.data, out->machine_len);
		}
		return true;
	}
	return false;
}

static struct nfs4_session *nfs4_session_alloc(struct nfs4_client *clp,
					       const struct channel_attrs4 *fore,
					       const struct channel_attrs4 *back)
{
	struct nfs4_server *srv = clp->srv;
	struct nfs4_session *ses = calloc(1, sizeof(*ses));
	uint32_t n;

	if (!ses)
		return NULL;
	if (nfs4_slot_table_init(&ses->slots, fore->ca_maxrequests,
				 fore->ca_maxresponsesize_cached) < 0) {
		free(ses);
		return NULL;
	}
	ref_init(&ses->ref);
	atomic_init(&ses->dead, false);
	pthread_mutex_init(&ses->lock, NULL);
	ses->fore = *fore;
	ses->back = *back;
	ses->cb_slots.nslots = back->ca_maxrequests;
	/* sessionid: clientid, a per-boot counter, and the boot epoch. */
	n = atomic_fetch_add(&srv->next_session, 1) + 1;
	for (int i = 0; i < 8; i++)
		ses->sessionid.data[i] = (uint8_t)(clp->clientid >> (56 - 8 * i));
	xdr_put_be32(ses->sessionid.data + 8, n);
	xdr_put_be32(ses->sessionid.data + 12, srv->boot_epoch);
	ref_get(&clp->ref);
	ses->client = clp;
	return ses;
}

uint32_t nfs4_op_create_session(struct nfs4_compound *c, void *args, void *res)
{
	const struct CREATE_SESSION4args *a = args;
	struct CREATE_SESSION4resok *ok = &((struct CREATE_SESSION4res *)res)->u.csr_resok4;
	struct nfs4_server *srv = c->srv;
	struct nfs4_principal princ;
	struct channel_attrs4 fore, back;
	struct nfs4_cb_sec sec;
	struct nfs4_session *ses;
	struct nfs4_client *clp;
	uint32_t status;

	clp = nfs4_client_find(srv, a->csa_clientid);
	if (!clp)
		return NFS4ERR_STALE_CLIENTID;
	nfs4_principal_of(c->call, &princ);

	pthread_mutex_lock(&srv->state_lock);
	if (atomic_load(&clp->dead)) {
		status = NFS4ERR_STALE_CLIENTID;
		goto out_unlock;
	}
	if (a->csa_sequence == clp->cs_seqid && clp->cs_cached) {
		*ok = clp->cs_reply; /* a replay of the CREATE_SESSION we last executed */
		status = NFS4_OK;
		goto out_unlock;
	}
	if (a->csa_sequence != clp->cs_seqid + 1) {
		status = NFS4ERR_SEQ_MISORDERED;
		goto out_unlock;
	}
	if (!clp->confirmed && !nfs4_principal_eq(&princ, &clp->principal)) {
		status = NFS4ERR_CLID_INUSE;
		goto out_unlock;
	}
	status = nfs4_negotiate_fore(&a->csa_fore_chan_attrs, &fore);
	if (status == NFS4_OK)
		status = nfs4_negotiate_back(&a->csa_back_chan_attrs, &back);
	if (status != NFS4_OK)
		goto out_unlock;
	if (!nfs4_cb_sec_pick(a->csa_sec_parms.val, a->csa_sec_parms.len, &sec)) {
		status = NFS4ERR_ENCR_ALG_UNSUPP;
		goto out_unlock;
	}
	if (clp->nsessions >= NFS4_MAX_SESSIONS_PER_CLIENT) {
		status = NFS4ERR_NOSPC;
		goto out_unlock;
	}
	/*
	 * Reboot recovery: the client's record is on disk before the client is
	 * confirmed, and again before an expired client (whose record went with
	 * its lease) is back.
	 */
	if ((!clp->confirmed || atomic_load(&clp->expired)) &&
	    (status = nfs4_grace_client_confirming(clp)) != NFS4_OK)
		goto out_unlock;
	if (atomic_load(&clp->expired))
		nfs4_client_returned_locked(clp);
	ses = nfs4_session_alloc(clp, &fore, &back);
	if (!ses) {
		status = NFS4ERR_DELAY;
		goto out_unlock;
	}
	ses->cb_program = a->csa_cb_program;
	ses->cb_sec = sec;
	/* No persistent reply cache and no RDMA: only the back channel flag can be granted. */
	ses->flags = a->csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	if (c->call->conn)
		nfs4_session_bind_conn(ses, c->call->conn,
				       (ses->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
					       ? CDFS4_BOTH
					       : CDFS4_FORE,
				       false);

	if (!clp->confirmed) {
		/* Confirming a restarted client's new record retires its old one (§18.35.5). */
		nfs4_client_retire_other_confirmed_locked(clp);
		clp->confirmed = true;
	}
	cds_list_add_tail(&ses->client_link, &clp->sessions);
	clp->nsessions++;
	atomic_fetch_add(&srv->nsessions, 1);
	rcu_hash_release(ses);
	cds_lfht_add(srv->sessions, nfs4_sessionid_hash(&ses->sessionid), &ses->node);

	ok->csr_sessionid = ses->sessionid;
	ok->csr_sequence = a->csa_sequence;
	ok->csr_flags = ses->flags;
	ok->csr_fore_chan_attrs = fore;
	ok->csr_back_chan_attrs = back;
	clp->cs_seqid = a->csa_sequence;
	clp->cs_reply = *ok;
	clp->cs_cached = true;
	if (ses->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
		nfs4_cb_probe(ses);
	log_debug("nfs4", "session created clientid=%016llx slots=%u",
		  (unsigned long long)clp->clientid, fore.ca_maxrequests);
	TRACE2(session_create, clp->clientid, xdr_get_be32(ses->sessionid.data + 8));
	status = NFS4_OK;
out_unlock:
	pthread_mutex_unlock(&srv->state_lock);
	nfs4_client_put(clp);
	return status;
}

uint32_t nfs4_op_destroy_session(struct nfs4_compound *c, void *args, void *res)
{
	const struct DESTROY_SESSION4args *a = args;
	struct nfs4_server *srv = c->srv;
	struct nfs4_session *ses;
	uint32_t status = NFS4_OK;

	ses = nfs4_session_find(srv, &a->dsa_sessionid);
	if (!ses)
		return NFS4ERR_BADSESSION;
	/* Destroying the session this COMPOUND runs in: it must be the last op (§18.37.3). */
	if (ses == c->session && c->opidx != c->numops - 1) {
		status = NFS4ERR_NOT_ONLY_OP;
		goto out;
	}
	pthread_mutex_lock(&srv->state_lock);
	if (atomic_load(&ses->dead))
		status = NFS4ERR_BADSESSION;
	else
		nfs4_session_destroy_locked(ses);
	pthread_mutex_unlock(&srv->state_lock);
out:
	nfs4_session_put(ses);
	return status;
}

/*
 * BACKCHANNEL_CTL (RFC 8881 §18.33): a new callback program and security for
 * the session of this COMPOUND; the back channel is probed again with them.
 */
uint32_t nfs4_op_backchannel_ctl(struct nfs4_compound *c, void *args, void *res)
{
	const struct BACKCHANNEL_CTL4args *a = args;
	struct nfs4_session *ses = c->session;
	struct nfs4_cb_sec sec;

	if (!nfs4_cb_sec_pick(a->bca_sec_parms.val, a->bca_sec_parms.len, &sec))
		return NFS4ERR_ENCR_ALG_UNSUPP;
	pthread_mutex_lock(&ses->lock);
	ses->cb_program = a->bca_cb_program;
	ses->cb_sec = sec;
	pthread_mutex_unlock(&ses->lock);
	nfs4_cb_probe(ses);
	return NFS4_OK;
}

uint32_t nfs4_op_bind_conn_to_session(struct nfs4_compound *c, void *args, void *res)
{
	const struct BIND_CONN_TO_SESSION4args *a = args;
	struct BIND_CONN_TO_SESSION4resok *ok =
		&((struct BIND_CONN_TO_SESSION4res *)res)->u.bctsr_resok4;
	struct nfs4_session *ses;
	uint32_t dir, status;

	switch (a->bctsa_dir) {
	case CDFC4_FORE:
		dir = CDFS4_FORE;
		break;
	case CDFC4_BACK:
		dir = CDFS4_BACK;
		break;
	case CDFC4_FORE_OR_BOTH:
	case CDFC4_BACK_OR_BOTH:
		dir = CDFS4_BOTH;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	ses = nfs4_session_find(c->srv, &a->bctsa_sessid);
	if (!ses)
		return NFS4ERR_BADSESSION;
	if (!c->call->conn)
		status = NFS4ERR_SERVERFAULT; /* only without a transport, i.e. in the fuzzer */
	else
		status = nfs4_session_bind_conn(ses, c->call->conn, dir, false);
	if (status == NFS4_OK && (dir & CDFS4_BACK))
		nfs4_cb_probe(ses); /* a new back channel: probe it before using it */
	if (status == NFS4_OK) {
		ok->bctsr_sessid = a->bctsa_sessid;
		ok->bctsr_dir = dir;
		ok->bctsr_use_conn_in_rdma_mode = false;
	}
	nfs4_session_put(ses);
	return status;
}
