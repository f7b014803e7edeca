/*
 * Clients (RFC 8881 §2.4, §18.35): the client tables, EXCHANGE_ID,
 * DESTROY_CLIENTID, RECLAIM_COMPLETE and lease expiry.
 *
 * A confirmed client whose lease runs out loses its state and sessions but
 * is kept, expired (revoke.h), so that it is told what happened when it
 * comes back: for NFS4_EXPIRED_KEEP_S at most, and only the newest
 * NFS4_MAX_EXPIRED_CLIENTS of them (knfsd keeps "courtesy" clients alike).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfs4/callback.h"
#include "nfs4/compound.h"
#include "nfs4/deleg_prev.h"
#include "nfs4/grace.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

/* Flags a client may send in eia_flags (CONFIRMED_R is reply-only). */
#define EXCHGID4_FLAG_MASK_A                                              \
	(EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR | \
	 EXCHGID4_FLAG_BIND_PRINC_STATEID | EXCHGID4_FLAG_USE_NON_PNFS |  \
	 EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS |         \
	 EXCHGID4_FLAG_UPD_CONFIRMED_REC_A)

struct nfs4_owner_key {
	const uint8_t *data;
	uint32_t len;
};

static int nfs4_client_id_match(struct cds_lfht_node *node, const void *key)
{
	struct nfs4_client *clp = caa_container_of(node, struct nfs4_client, id_node);

	rcu_hash_acquire(clp);
	return clp->clientid == *(const clientid4 *)key;
}

static int nfs4_client_owner_match(struct cds_lfht_node *node, const void *key)
{
	struct nfs4_client *clp = caa_container_of(node, struct nfs4_client, owner_node);
	const struct nfs4_owner_key *k = key;

	rcu_hash_acquire(clp);
	return clp->owner_len == k->len && memcmp(clp->owner, k->data, k->len) == 0;
}

struct nfs4_client *nfs4_client_find(struct nfs4_server *srv, clientid4 id)
{
	struct nfs4_client *clp = NULL;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	rcu_read_begin();
	cds_lfht_lookup(srv->clients_by_id, hash_u64(id), nfs4_client_id_match, &id, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node) {
		clp = caa_container_of(node, struct nfs4_client, id_node);
		if (atomic_load(&clp->dead) || !ref_get_unless_zero(&clp->ref))
			clp = NULL;
	}
	rcu_read_end();
	return clp;
}

static void nfs4_client_free_rcu(struct rcu_head *head)
{
	struct nfs4_client *clp = caa_container_of(head, struct nfs4_client, rcu);

	rcu_reclaim_begin(head);
	nfs4_revoked_set_free(&clp->revoked);
	pthread_mutex_destroy(&clp->state_lock);
	pthread_mutex_destroy(&clp->cb_lock);
	free(clp);
}

void nfs4_client_put(struct nfs4_client *clp)
{
	if (ref_put(&clp->ref))
		rcu_retire(&clp->rcu, nfs4_client_free_rcu);
}

void nfs4_client_renew(struct nfs4_client *clp)
{
	atomic_store_explicit(&clp->renewed_ns, time_mono_ns(), memory_order_relaxed);
}

void nfs4_principal_of(const struct rpc_call *call, struct nfs4_principal *p)
{
	p->flavor = call->cred.flavor;
	p->uid = call->cred.flavor == RPC_AUTH_SYS ? call->cred.uid : 65534;
}

bool nfs4_principal_eq(const struct nfs4_principal *a, const struct nfs4_principal *b)
{
	return a->flavor == b->flavor && a->uid == b->uid;
}

void nfs4_client_expire_locked(struct nfs4_client *clp)
{
	struct nfs4_server *srv = clp->srv;
	struct nfs4_session *ses, *tmp;

	if (atomic_exchange(&clp->dead, true))
		return;
	cds_lfht_del(srv->clients_by_id, &clp->id_node);
	cds_lfht_del(srv->clients_by_owner, &clp->owner_node);
	cds_list_for_each_entry_safe(ses, tmp, &clp->sessions, client_link)
		nfs4_session_destroy_locked(ses);
	nfs4_client_release_state(clp);
	nfs4_deleg_prev_end(clp, NULL);
	nfs4_cb_client_gone(clp);
	atomic_fetch_sub(atomic_load(&clp->expired) ? &srv->nexpired : &srv->nclients, 1);
	/* What is left tells whether expiry cleaned up (tests/vm's scenario 6 asserts on it). */
	log_info("nfs4", "client gone clientid=%016llx: %ld clients, %ld sessions left",
		 (unsigned long long)clp->clientid, atomic_load(&srv->nclients),
		 atomic_load(&srv->nsessions));
	nfs4_client_put(clp); /* the tables' reference */
}

/* The confirmed and unconfirmed records of an owner (at most one of each). Caller holds state_lock.
 */
static void nfs4_client_find_owner_locked(struct nfs4_server *srv, const struct xdr_opaque *owner,
					  struct nfs4_client **conf, struct nfs4_client **unconf)
{
	struct nfs4_owner_key key = {owner->data, owner->len};
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	*conf = *unconf = NULL;
	rcu_read_begin();
	cds_lfht_lookup(srv->clients_by_owner, hash_bytes(owner->data, owner->len, 0),
			nfs4_client_owner_match, &key, &iter);
	while ((node = cds_lfht_iter_get_node(&iter))) {
		struct nfs4_client *clp = caa_container_of(node, struct nfs4_client, owner_node);

		if (clp->confirmed)
			*conf = clp;
		else
			*unconf = clp;
		cds_lfht_next_duplicate(srv->clients_by_owner, nfs4_client_owner_match, &key,
					&iter);
	}
	rcu_read_end();
}

void nfs4_client_retire_other_confirmed_locked(struct nfs4_client *clp)
{
	struct xdr_opaque owner = {clp->owner_len, clp->owner};
	struct nfs4_client *conf, *unconf;

	nfs4_client_find_owner_locked(clp->srv, &owner, &conf, &unconf);
	if (conf && conf != clp) {
		/* Its delegations outlive it, for clp to reclaim (§10.2.1). */
		nfs4_deleg_prev_keep_locked(conf, clp);
		nfs4_client_expire_locked(conf);
	}
}

static struct nfs4_client *nfs4_client_new_locked(struct nfs4_server *srv,
						  const struct client_owner4 *owner,
						  const struct nfs4_principal *princ)
{
	struct nfs4_client *clp;

	if (atomic_load(&srv->nclients) >= NFS4_MAX_CLIENTS)
		return NULL;
	clp = calloc(1, sizeof(*clp));
	if (!clp)
		return NULL;
	ref_init(&clp->ref);
	atomic_init(&clp->dead, false);
	atomic_init(&clp->expired, false);
	clp->srv = srv;
	clp->clientid =
		(uint64_t)srv->boot_epoch << 32 | (atomic_fetch_add(&srv->next_clientid, 1) + 1);
	clp->verifier = owner->co_verifier;
	clp->principal = *princ;
	clp->owner_len = owner->co_ownerid.len;
	memcpy(clp->owner, owner->co_ownerid.data, owner->co_ownerid.len);
	CDS_INIT_LIST_HEAD(&clp->sessions);
	CDS_INIT_LIST_HEAD(&clp->owners);
	CDS_INIT_LIST_HEAD(&clp->stateids);
	CDS_INIT_LIST_HEAD(&clp->kept);
	atomic_init(&clp->kept_until_ns, 0);
	pthread_mutex_init(&clp->state_lock, NULL);
	pthread_mutex_init(&clp->cb_lock, NULL);
	nfs4_client_renew(clp);
	atomic_fetch_add(&srv->nclients, 1);
	rcu_hash_release(clp);
	cds_lfht_add(srv->clients_by_id, hash_u64(clp->clientid), &clp->id_node);
	cds_lfht_add(srv->clients_by_owner, hash_bytes(clp->owner, clp->owner_len, 0),
		     &clp->owner_node);
	return clp;
}

static bool nfs4_client_has_state(struct nfs4_client *clp)
{
	return clp->nsessions > 0 || nfs4_client_has_opens(clp);
}

static bool nfs4_client_lease_expired(const struct nfs4_client *clp)
{
	uint64_t renewed = atomic_load_explicit(&clp->renewed_ns, memory_order_relaxed);

	return time_mono_ns() - renewed > (uint64_t)clp->srv->cfg.lease_seconds * 1000000000u;
}

/* The cases of RFC 8881 §18.35.5, decided under state_lock. */
static uint32_t nfs4_exchange_id_locked(struct nfs4_server *srv, const struct EXCHANGE_ID4args *a,
					const struct nfs4_principal *princ,
					struct nfs4_client **out)
{
	const struct client_owner4 *owner = &a->eia_clientowner;
	struct nfs4_client *conf, *unconf;
	bool same_verf;

	nfs4_client_find_owner_locked(srv, &owner->co_ownerid, &conf, &unconf);
	same_verf = conf && memcmp(conf->verifier.data, owner->co_verifier.data,
				   sizeof(conf->verifier.data)) == 0;

	if (a->eia_flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A) {
		if (!conf)
			return NFS4ERR_NOENT;
		if (!nfs4_principal_eq(&conf->principal, princ))
			return NFS4ERR_PERM;
		if (!same_verf)
			return NFS4ERR_NOT_SAME;
		*out = conf; /* update: nothing we keep can change */
		return NFS4_OK;
	}
	if (conf) {
		if (!nfs4_principal_eq(&conf->principal, princ)) {
			/* Client collision: the owner is in use by someone else unless its state is
			 * gone. */
			if (nfs4_client_has_state(conf) && !nfs4_client_lease_expired(conf))
				return NFS4ERR_CLID_INUSE;
			nfs4_client_expire_locked(conf);
		} else if (same_verf) {
			*out = conf; /* non-update on an existing client ID */
			return NFS4_OK;
		}
		/* else: client restart; conf lives on until the new record is confirmed. */
	}
	if (unconf)
		nfs4_client_expire_locked(unconf); /* replaced by the new record */
	*out = nfs4_client_new_locked(srv, owner, princ);
	return *out ? NFS4_OK : NFS4ERR_RESOURCE;
}

uint32_t nfs4_op_exchange_id(struct nfs4_compound *c, void *args, void *res)
{
	const struct EXCHANGE_ID4args *a = args;
	struct EXCHANGE_ID4resok *ok = &((struct EXCHANGE_ID4res *)res)->u.eir_resok4;
	static const char impl_domain[] = "nfs4d.dev";
	static const char impl_name[] = "nfs4d 0.1";
	struct nfs4_server *srv = c->srv;
	struct nfs_impl_id4 *impl;
	struct nfs4_principal princ;
	struct nfs4_client *clp = NULL;
	uint32_t status;

	if (a->eia_flags & ~(uint32_t)EXCHGID4_FLAG_MASK_A)
		return NFS4ERR_INVAL;
	if (a->eia_clientowner.co_ownerid.len == 0 ||
	    a->eia_clientowner.co_ownerid.len > NFS4_MAX_OWNER)
		return NFS4ERR_INVAL;
	switch (a->eia_state_protect.spa_how) {
	case SP4_NONE:
		break;
	case SP4_MACH_CRED:
		return NFS4ERR_INVAL; /* needs RPCSEC_GSS integrity, which we do not offer */
	case SP4_SSV:
	default:
		return NFS4ERR_ENCR_ALG_UNSUPP;
	}
	nfs4_principal_of(c->call, &princ);

	pthread_mutex_lock(&srv->state_lock);
	status = nfs4_exchange_id_locked(srv, a, &princ, &clp);
	if (status == NFS4_OK) {
		ok->eir_clientid = clp->clientid;
		ok->eir_sequenceid = clp->cs_seqid + 1;
		ok->eir_flags = EXCHGID4_FLAG_USE_NON_PNFS;
		if (clp->confirmed)
			ok->eir_flags |= EXCHGID4_FLAG_CONFIRMED_R;
	}
	pthread_mutex_unlock(&srv->state_lock);
	if (status != NFS4_OK)
		return status;

	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 0;
	ok->eir_server_owner.so_major_id = xdr_opaque_str(srv->owner_major);
	ok->eir_server_scope = xdr_opaque_str(srv->owner_major);
	impl = arena_alloc(c->call->arena, sizeof(*impl));
	if (impl) {
		impl->nii_domain = xdr_opaque_str(impl_domain);
		impl->nii_name = xdr_opaque_str(impl_name);
		ok->eir_server_impl_id.len = 1;
		ok->eir_server_impl_id.val = impl;
	}
	return NFS4_OK;
}

uint32_t nfs4_op_destroy_clientid(struct nfs4_compound *c, void *args, void *res)
{
	const struct DESTROY_CLIENTID4args *a = args;
	struct nfs4_server *srv = c->srv;
	struct nfs4_client *clp;
	uint32_t status = NFS4_OK;
	bool had_record = false;

	clp = nfs4_client_find(srv, a->dca_clientid);
	if (!clp)
		return NFS4ERR_STALE_CLIENTID;
	pthread_mutex_lock(&srv->state_lock);
	if (atomic_load(&clp->dead)) {
		status = NFS4ERR_STALE_CLIENTID;
	} else if (nfs4_client_has_state(clp)) {
		status = NFS4ERR_CLIENTID_BUSY;
	} else {
		had_record = clp->confirmed;
		nfs4_client_expire_locked(clp);
	}
	pthread_mutex_unlock(&srv->state_lock);
	if (had_record)
		nfs4_grace_client_gone(clp);
	nfs4_client_put(clp);
	return status;
}

uint32_t nfs4_op_reclaim_complete(struct nfs4_compound *c, void *args, void *res)
{
	const struct RECLAIM_COMPLETE4args *a = args;
	struct nfs4_client *clp = c->session->client;
	uint32_t status = NFS4_OK;

	/*
	 * Per file system (§18.51.3: the one of the current filehandle): with one
	 * grace period for the whole server it ends nothing, so it is accepted for
	 * that file system and the client's reclaim goes on until it sends the
	 * global one.
	 */
	if (a->rca_one_fs)
		return c->cur.kind == NFS4_FH_NONE ? NFS4ERR_NOFILEHANDLE : NFS4_OK;
	pthread_mutex_lock(&c->srv->state_lock);
	if (clp->reclaim_complete)
		status = NFS4ERR_COMPLETE_ALREADY;
	else
		clp->reclaim_complete = true;
	pthread_mutex_unlock(&c->srv->state_lock);
	if (status == NFS4_OK) {
		nfs4_grace_reclaim_complete(clp);
		/* It reclaims nothing more: what it kept since its restart goes too (§18.51.3). */
		nfs4_deleg_prev_end(clp, "RECLAIM_COMPLETE");
	}
	return status;
}

/*
 * clp's lease ran out (RFC 8881 §8.3): its opens, locks and delegations are
 * revoked (their stateids answer NFS4ERR_EXPIRED until freed), its sessions
 * and their reply caches go, and the client stays, expired, to be told so
 * if it returns. The caller removes its record. Caller holds srv->state_lock.
 */
static void nfs4_client_lapse_locked(struct nfs4_client *clp)
{
	struct nfs4_server *srv = clp->srv;
	struct nfs4_session *ses, *tmp;

	cds_list_for_each_entry_safe(ses, tmp, &clp->sessions, client_link)
		nfs4_session_destroy_locked(ses);
	nfs4_client_revoke_state(clp, NFS4_REVOKE_EXPIRED);
	nfs4_deleg_prev_end(clp, NULL);
	nfs4_cb_client_gone(clp);
	atomic_store(&clp->expired, true);
	clp->expired_ns = time_mono_ns();
	atomic_fetch_sub(&srv->nclients, 1);
	atomic_fetch_add(&srv->nexpired, 1);
	/* The counts say whether expiry cleaned up (tests/vm's scenario 6 asserts on them). */
	log_info("nfs4",
		 "lease expired clientid=%016llx, state revoked, client kept: "
		 "%ld clients, %ld sessions left",
		 (unsigned long long)clp->clientid, atomic_load(&srv->nclients),
		 atomic_load(&srv->nsessions));
}

void nfs4_client_returned_locked(struct nfs4_client *clp)
{
	struct nfs4_server *srv = clp->srv;

	atomic_store(&clp->expired, false);
	nfs4_client_renew(clp);
	atomic_fetch_sub(&srv->nexpired, 1);
	atomic_fetch_add(&srv->nclients, 1);
	log_info("nfs4", "expired clientid=%016llx returned", (unsigned long long)clp->clientid);
}

/* Beyond NFS4_MAX_EXPIRED_CLIENTS, the longest expired go. Caller holds srv->state_lock. */
static void nfs4_clients_evict_expired_locked(struct nfs4_server *srv)
{
	while (atomic_load(&srv->nexpired) > NFS4_MAX_EXPIRED_CLIENTS) {
		struct nfs4_client *oldest = NULL;
		struct cds_lfht_iter iter;
		struct cds_lfht_node *node;

		rcu_read_begin();
		cds_lfht_for_each(srv->clients_by_id, &iter, node)
		{
			struct nfs4_client *clp =
				caa_container_of(node, struct nfs4_client, id_node);

			rcu_hash_acquire(clp);
			if (atomic_load(&clp->expired) &&
			    (!oldest || clp->expired_ns < oldest->expired_ns))
				oldest = clp;
		}
		if (oldest)
			nfs4_client_expire_locked(oldest);
		rcu_read_end();
		if (!oldest)
			return;
	}
}

/* Expired confirmed clients whose records go once state_lock is released (a store write). */
#define NFS4_EXPIRE_BATCH 64

void nfs4_clients_expire_idle(struct nfs4_server *srv)
{
	uint64_t now = time_mono_ns(), keep = (uint64_t)NFS4_EXPIRED_KEEP_S * 1000000000u;
	struct nfs4_client *gone[NFS4_EXPIRE_BATCH];
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct nfs4_client *clp;
	size_t n = 0;

	pthread_mutex_lock(&srv->state_lock);
	rcu_read_begin();
	for (cds_lfht_first(srv->clients_by_id, &iter); (node = cds_lfht_iter_get_node(&iter));
	     cds_lfht_next(srv->clients_by_id, &iter)) {
		clp = caa_container_of(node, struct nfs4_client, id_node);
		rcu_hash_acquire(clp);
		if (atomic_load(&clp->expired)) {
			if (now - clp->expired_ns > keep) {
				log_info("nfs4", "expired clientid=%016llx forgotten",
					 (unsigned long long)clp->clientid);
				nfs4_client_expire_locked(clp);
			}
			continue;
		}
		nfs4_deleg_prev_tick(clp, now);
		if (!nfs4_client_lease_expired(clp)) {
			continue;
		} else if (!clp->confirmed) {
			log_info("nfs4", "lease expired clientid=%016llx (unconfirmed)",
				 (unsigned long long)clp->clientid);
			nfs4_client_expire_locked(clp);
		} else if (n < NFS4_EXPIRE_BATCH) { /* a full batch waits for the next tick */
			ref_get(&clp->ref);
			gone[n++] = clp;
			nfs4_client_lapse_locked(clp);
		}
	}
	rcu_read_end();
	nfs4_clients_evict_expired_locked(srv);
	pthread_mutex_unlock(&srv->state_lock);
	for (size_t i = 0; i < n; i++) {
		nfs4_grace_client_gone(gone[i]); /* it may no longer reclaim */
		nfs4_client_put(gone[i]);
	}
}

void nfs4_clients_destroy_all(struct nfs4_server *srv)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	pthread_mutex_lock(&srv->state_lock);
	rcu_read_begin();
	for (cds_lfht_first(srv->clients_by_id, &iter); (node = cds_lfht_iter_get_node(&iter));
	     cds_lfht_next(srv->clients_by_id, &iter))
		nfs4_client_expire_locked(caa_container_of(node, struct nfs4_client, id_node));
	rcu_read_end();
	pthread_mutex_unlock(&srv->state_lock);
}
