/* Revoked state: the client's set of revoked stateids (revoke.h). */
#include "nfs4/revoke.h"

#include <stdlib.h>
#include <string.h>

#include "nfs4/deleg.h"
#include "nfs4/stateid.h"
#include "util/log.h"

/* Per reason: what a use of the stateid answers, and the SEQUENCE flag while it is kept. */
static const struct {
	uint32_t status;
	uint32_t seq_flag;
} nfs4_revoke_reasons[NFS4_REVOKE_NREASONS] = {
	[NFS4_REVOKE_RECALL] = {NFS4ERR_DELEG_REVOKED, SEQ4_STATUS_RECALLABLE_STATE_REVOKED},
	[NFS4_REVOKE_ADMIN] = {NFS4ERR_ADMIN_REVOKED, SEQ4_STATUS_ADMIN_STATE_REVOKED},
	[NFS4_REVOKE_EXPIRED] = {NFS4ERR_EXPIRED, SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED},
};

/* Where id is in set, or where it would go. */
static uint32_t nfs4_revoked_pos(const struct nfs4_revoked_set *set, uint32_t id)
{
	uint32_t lo = 0, hi = set->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Remembers stid as revoked. Caller holds the client's state_lock. */
static void nfs4_revoked_add_locked(struct nfs4_client *clp, const struct nfs4_stid *stid,
				    enum nfs4_revoke_reason reason)
{
	struct nfs4_revoked_set *set = &clp->revoked;
	uint32_t id = xdr_get_be32(stid->other + 8);
	uint32_t pos = nfs4_revoked_pos(set, id);

	if (pos < set->n && set->v[pos].id == id)
		return;
	if (set->n == set->cap) {
		uint32_t cap = set->cap ? set->cap * 2 : 16;
		struct nfs4_revoked *v = realloc(set->v, cap * sizeof(*v));

		if (!v) {
			/* It is released all the same; its use then answers NFS4ERR_BAD_STATEID. */
			log_warn("nfs4",
				 "clientid=%016llx: no memory to remember a revoked stateid",
				 (unsigned long long)clp->clientid);
			return;
		}
		set->v = v;
		set->cap = cap;
	}
	memmove(&set->v[pos + 1], &set->v[pos], (set->n - pos) * sizeof(set->v[0]));
	set->v[pos].id = id;
	set->v[pos].reason = reason;
	set->n++;
	atomic_fetch_add(&clp->nrevoked[reason], 1);
}

void nfs4_stid_revoke_locked(struct nfs4_stid *stid, enum nfs4_revoke_reason reason)
{
	struct nfs4_client *clp = stid->client;

	nfs4_revoked_add_locked(clp, stid, reason);
	switch (stid->kind) {
	case NFS4_STID_OPEN: {
		struct nfs4_open *op = caa_container_of(stid, struct nfs4_open, stid);
		struct nfs4_lockstid *lk;

		/* CLOSE would refuse while locks are held; revocation takes them with the open. */
		cds_list_for_each_entry(lk, &op->locks, open_link)
			nfs4_revoked_add_locked(clp, &lk->stid, reason);
		nfs4_open_release_locked(op);
		break;
	}
	case NFS4_STID_LOCK:
		nfs4_lockstid_release_locked(caa_container_of(stid, struct nfs4_lockstid, stid));
		break;
	case NFS4_STID_DELEG:
		nfs4_deleg_release_locked(caa_container_of(stid, struct nfs4_deleg, stid));
		break;
	}
}

uint32_t nfs4_client_revoke_state(struct nfs4_client *clp, enum nfs4_revoke_reason reason)
{
	uint32_t before;

	pthread_mutex_lock(&clp->state_lock);
	before = clp->revoked.n;
	while (!cds_list_empty(&clp->stateids))
		nfs4_stid_revoke_locked(
			cds_list_first_entry(&clp->stateids, struct nfs4_stid, client_link),
			reason);
	before = clp->revoked.n - before;
	pthread_mutex_unlock(&clp->state_lock);
	return before;
}

uint32_t nfs4_revoked_status_locked(struct nfs4_client *clp, uint32_t id, bool forget)
{
	struct nfs4_revoked_set *set = &clp->revoked;
	uint32_t pos = nfs4_revoked_pos(set, id);
	uint32_t reason;

	if (pos == set->n || set->v[pos].id != id)
		return 0;
	reason = set->v[pos].reason;
	if (forget) {
		memmove(&set->v[pos], &set->v[pos + 1], (set->n - pos - 1) * sizeof(set->v[0]));
		set->n--;
		atomic_fetch_sub(&clp->nrevoked[reason], 1);
	}
	return nfs4_revoke_reasons[reason].status;
}

uint32_t nfs4_revoked_seq_flags(struct nfs4_client *clp)
{
	uint32_t flags = 0;

	for (int r = 0; r < NFS4_REVOKE_NREASONS; r++)
		if (atomic_load(&clp->nrevoked[r]) > 0)
			flags |= nfs4_revoke_reasons[r].seq_flag;
	return flags;
}

uint32_t nfs4_revoked_count(struct nfs4_client *clp)
{
	uint32_t n = 0;

	for (int r = 0; r < NFS4_REVOKE_NREASONS; r++)
		n += atomic_load(&clp->nrevoked[r]);
	return n;
}

void nfs4_revoked_set_free(struct nfs4_revoked_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}
