/* Delegations kept across a client's restart, and their reclaim (deleg_prev.h). */
#include "nfs4/deleg_prev.h"

#include <stdlib.h>
#include <string.h>

#include "nfs4/deleg.h"
#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "util/clock.h"
#include "util/log.h"

/* e leaves its file: it conflicts no more, and its lease goes. Caller holds e->file->lock. */
static void nfs4_kept_unlink_locked(struct nfs4_kept_deleg *e)
{
	struct nfs4_server *srv = e->file->srv;

	cds_list_del(&e->file_link);
	if (e->lease) {
		struct backend *be = e->file->exp->be;

		be->ops->deleg_put(be, e->lease); /* never blocks */
		e->lease = NULL;
	}
	atomic_fetch_sub(&srv->nkept, 1);
	atomic_fetch_sub(&srv->ndelegs, 1);
}

/* Keeps dp, in force, for clp: it takes over dp's place and lease. Caller holds dp's file lock. */
static struct nfs4_kept_deleg *nfs4_kept_new_locked(struct nfs4_deleg *dp, struct nfs4_client *clp)
{
	struct nfs4_file *f = dp->stid.file;
	struct nfs4_kept_deleg *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	ref_get(&f->ref);
	e->file = f;
	e->client = clp;
	e->type = dp->type;
	e->lease = dp->lease;
	dp->lease = NULL; /* its release now leaves the lease alone */
	cds_list_add_tail(&e->file_link, &f->kept);
	atomic_fetch_add(&clp->srv->ndelegs, 1);
	atomic_fetch_add(&clp->srv->nkept, 1);
	return e;
}

void nfs4_deleg_prev_keep_locked(struct nfs4_client *old, struct nfs4_client *clp)
{
	uint64_t lease = (uint64_t)clp->srv->cfg.lease_seconds * 1000000000u;
	struct nfs4_kept_deleg *e, *tmp;
	struct cds_list_head moved;
	struct nfs4_stid *stid;
	uint32_t n = 0;

	/* An expired incarnation's state was revoked (NFS4ERR_EXPIRED): nothing to reclaim. */
	if (atomic_load(&old->expired))
		return;
	CDS_INIT_LIST_HEAD(&moved);
	pthread_mutex_lock(&old->state_lock);
	cds_list_for_each_entry(stid, &old->stateids, client_link)
	{
		struct nfs4_deleg *dp = caa_container_of(stid, struct nfs4_deleg, stid);

		if (stid->kind != NFS4_STID_DELEG)
			continue;
		pthread_mutex_lock(&stid->file->lock);
		/*
		 * Both on the file for a moment, so no conflict slips between. A
		 * recalled one is not kept: someone waits for it, and the next
		 * try of that someone would release it anyway.
		 */
		e = dp->gone || dp->recalled ? NULL : nfs4_kept_new_locked(dp, clp);
		pthread_mutex_unlock(&stid->file->lock);
		if (e) {
			cds_list_add_tail(&e->client_link, &moved);
			n++;
		}
	}
	/* What old still kept from an incarnation before it is clp's now. */
	cds_list_for_each_entry_safe(e, tmp, &old->kept, client_link)
	{
		pthread_mutex_lock(&e->file->lock);
		e->client = clp;
		n += !e->lost;
		pthread_mutex_unlock(&e->file->lock);
		cds_list_move(&e->client_link, &moved);
	}
	atomic_store(&old->kept_until_ns, 0);
	pthread_mutex_unlock(&old->state_lock);

	pthread_mutex_lock(&clp->state_lock);
	cds_list_splice(&moved, &clp->kept);
	/* One lease: §10.2.1 asks for no less than lease_time. */
	atomic_store(&clp->kept_until_ns, time_mono_ns() + lease);
	pthread_mutex_unlock(&clp->state_lock);
	log_info("nfs4",
		 "clientid=%016llx restarted as clientid=%016llx: %u delegations kept for it to "
		 "reclaim for %u s",
		 (unsigned long long)old->clientid, (unsigned long long)clp->clientid, n,
		 clp->srv->cfg.lease_seconds);
}

void nfs4_deleg_prev_end(struct nfs4_client *clp, const char *why)
{
	struct nfs4_kept_deleg *e, *tmp;
	struct cds_list_head gone;
	uint32_t n = 0;
	bool had;

	CDS_INIT_LIST_HEAD(&gone);
	pthread_mutex_lock(&clp->state_lock);
	had = atomic_exchange(&clp->kept_until_ns, 0) != 0;
	cds_list_splice(&clp->kept, &gone);
	CDS_INIT_LIST_HEAD(&clp->kept);
	pthread_mutex_unlock(&clp->state_lock);
	/* Off the client's list, each is this thread's alone but for its place on its file. */
	cds_list_for_each_entry_safe(e, tmp, &gone, client_link)
	{
		pthread_mutex_lock(&e->file->lock);
		if (!e->lost) {
			nfs4_kept_unlink_locked(e);
			n++;
		}
		pthread_mutex_unlock(&e->file->lock);
		nfs4_file_put(e->file);
		free(e);
	}
	if (had && why)
		log_info("nfs4", "clientid=%016llx: delegation reclaim over (%s), %u not reclaimed",
			 (unsigned long long)clp->clientid, why, n);
}

void nfs4_deleg_prev_tick(struct nfs4_client *clp, uint64_t now)
{
	uint64_t until = atomic_load(&clp->kept_until_ns);

	if (until && now >= until)
		nfs4_deleg_prev_end(clp, "its time is over");
}

/*
 * Whether clp may reclaim kept delegations now. A window found over is
 * closed here, so that what it kept is gone from the moment its reclaims get
 * NFS4ERR_NO_GRACE, not only from the laundromat's next tick.
 */
static bool nfs4_deleg_prev_open(struct nfs4_client *clp)
{
	uint64_t until = atomic_load(&clp->kept_until_ns);

	if (until && time_mono_ns() >= until)
		nfs4_deleg_prev_end(clp, "its time is over");
	return until && time_mono_ns() < until;
}

uint32_t nfs4_deleg_prev_check(struct nfs4_compound *c)
{
	return nfs4_deleg_prev_open(c->session->client) ? NFS4_OK
							: nfs4_grace_reclaim_deleg_prev(c);
}

/* The delegation of file kept for clp, or NULL. Caller holds clp->state_lock. */
static struct nfs4_kept_deleg *nfs4_kept_find_locked(struct nfs4_client *clp,
						     struct nfs4_file *file)
{
	struct nfs4_kept_deleg *e;

	cds_list_for_each_entry(e, &clp->kept, client_link)
	{
		if (e->file == file)
			return e;
	}
	return NULL;
}

uint32_t nfs4_deleg_prev_find(struct nfs4_compound *c, struct nfs4_file *file)
{
	struct nfs4_client *clp = c->session->client;
	struct nfs4_kept_deleg *e;
	uint32_t status;

	if (!nfs4_deleg_prev_open(clp))
		return nfs4_grace_reclaim_deleg_prev(c); /* it closed since the check */
	pthread_mutex_lock(&clp->state_lock);
	e = nfs4_kept_find_locked(clp, file);
	if (atomic_load(&clp->kept_until_ns) == 0) {
		status = nfs4_grace_reclaim_deleg_prev(c); /* it closed just now */
	} else if (!e) {
		status = NFS4ERR_RECLAIM_BAD; /* §15.1.9.4: we know it held none */
	} else {
		pthread_mutex_lock(&file->lock);
		status = e->lost ? NFS4ERR_RECLAIM_CONFLICT : NFS4_OK;
		pthread_mutex_unlock(&file->lock);
	}
	pthread_mutex_unlock(&clp->state_lock);
	return status;
}

void nfs4_deleg_prev_reclaim(struct nfs4_compound *c, struct nfs4_file *file, uint64_t change,
			     struct open_delegation4 *out)
{
	struct nfs4_client *clp = c->session->client;
	struct nfs4_deleg *dp = NULL;
	struct nfs4_kept_deleg *e;

	memset(out, 0, sizeof(*out));
	out->delegation_type = OPEN_DELEGATE_NONE;
	pthread_mutex_lock(&clp->state_lock);
	e = nfs4_kept_find_locked(clp, file);
	if (e) {
		cds_list_del(&e->client_link);
		pthread_mutex_lock(&file->lock);
		if (!e->lost) {
			/* The delegation first, so that the file is never without one. */
			dp = nfs4_deleg_new_locked(c, file, e->type, change, e->lease);
			if (dp) {
				e->lease = NULL;
				nfs4_deleg_result(dp, out);
			}
			nfs4_kept_unlink_locked(e);
		}
		pthread_mutex_unlock(&file->lock);
	}
	pthread_mutex_unlock(&clp->state_lock);
	if (e) {
		nfs4_file_put(e->file);
		free(e);
	}
	if (dp)
		log_debug("nfs4",
			  "clientid=%016llx reclaimed a delegation of its previous incarnation",
			  (unsigned long long)clp->clientid);
}

bool nfs4_deleg_prev_blocks_locked(struct nfs4_file *file, struct nfs4_client *clp, uint32_t type)
{
	struct nfs4_kept_deleg *e;

	cds_list_for_each_entry(e, &file->kept, file_link)
	{
		if (e->client == clp || type == OPEN_DELEGATE_WRITE ||
		    e->type == OPEN_DELEGATE_WRITE)
			return true;
	}
	return false;
}

void nfs4_deleg_prev_break_locked(struct nfs4_file *file, struct nfs4_client *me, bool modify)
{
	struct nfs4_kept_deleg *e, *tmp;

	cds_list_for_each_entry_safe(e, tmp, &file->kept, file_link)
	{
		if (e->client == me || (!modify && e->type != OPEN_DELEGATE_WRITE))
			continue;
		/* On the file, so its client is alive (the entry goes before it). */
		log_info("nfs4",
			 "clientid=%016llx: a delegation kept for its reclaim released for a "
			 "conflicting access",
			 (unsigned long long)e->client->clientid);
		e->lost = true;
		nfs4_kept_unlink_locked(e);
	}
}

uint32_t nfs4_op_delegpurge(struct nfs4_compound *c, void *args, void *res)
{
	(void)args; /* its clientid is ignored: the session's client is meant (§18.5.3) */
	(void)res;
	nfs4_deleg_prev_end(c->session->client, "DELEGPURGE");
	return NFS4_OK;
}
