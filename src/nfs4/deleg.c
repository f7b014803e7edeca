/*
 * Delegations: grant, recall on conflict, DELEGRETURN, CB_GETATTR answers and
 * revocation (RFC 8881 §10.2-10.4, §18.6). The locks are those of state.h: a
 * delegation's place on its file and its recall state are under file->lock,
 * its stateid under the client's state_lock, the list of recalled ones under
 * srv->recall_lock.
 */
#include "nfs4/deleg.h"

#include <errno.h>
#include <string.h>
#include <sys/param.h>

#include "nfs4/callback.h"
#include "nfs4/deleg_prev.h"
#include "nfs4/fh.h"
#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "nfs4/status.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/trace.h"

#define NFS4_CB_ATTR_FRESH_MS 2000 /* a CB_GETATTR answer serves GETATTRs this long */
#define NFS4_RECALL_ANY_PCT 90 /* CB_RECALL_ANY once delegations reach this share of the limit */

static uint64_t nfs4_lease_ns(const struct nfs4_server *srv)
{
	return (uint64_t)srv->cfg.lease_seconds * 1000000000u;
}

/* No delegation: say so the way the client asked (RFC 8881 §18.16.3). */
static void nfs4_deleg_none(uint32_t mask, uint32_t why, struct open_delegation4 *d)
{
	memset(d, 0, sizeof(*d));
	if (mask == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE) {
		d->delegation_type = OPEN_DELEGATE_NONE;
		return;
	}
	d->delegation_type = OPEN_DELEGATE_NONE_EXT;
	d->u.od_whynone.ond_why = why;
}

/* Asks the clients holding delegations to give some back: we are near the limit. */
static void nfs4_deleg_recall_any(struct nfs4_server *srv)
{
	uint64_t now = time_mono_ns(), last = atomic_load(&srv->recall_any_ns);
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	/* At most once a lease: clients need time to return what they can. */
	if ((last && now - last < nfs4_lease_ns(srv)) ||
	    !atomic_compare_exchange_strong(&srv->recall_any_ns, &last, now))
		return;
	rcu_read_begin();
	cds_lfht_for_each(srv->clients_by_id, &iter, node)
	{
		struct nfs4_client *clp = caa_container_of(node, struct nfs4_client, id_node);
		uint32_t n = atomic_load(&clp->ndelegs);

		if (n > 0 && !atomic_load(&clp->dead))
			nfs4_cb_recall_any(clp, n / 2);
	}
	rcu_read_end();
}

/*
 * Whether file cannot be delegated to clp as type now; *why says why (a
 * WND4_* reason, of which WND4_NOT_WANTED is 0); reclaim: one the client held
 * before a restart (CLAIM_PREVIOUS). Caller holds clp->state_lock and
 * file->lock.
 */
static bool nfs4_deleg_refused_locked(struct nfs4_client *clp, struct nfs4_file *file,
				      uint32_t type, uint64_t now, bool reclaim, uint32_t *why)
{
	struct nfs4_deleg *dp;
	struct nfs4_open *op;

	*why = WND4_CONTENTION;
	cds_list_for_each_entry(dp, &file->delegs, file_link)
	{
		if (dp->stid.client == clp) {
			if (dp->type == type)
				*why = WND4_NOT_WANTED; /* it has this one already */
			else
				*why = type == OPEN_DELEGATE_WRITE ? WND4_NOT_SUPP_UPGRADE
								   : WND4_NOT_SUPP_DOWNGRADE;
			return true;
		}
		if (type == OPEN_DELEGATE_WRITE || dp->type == OPEN_DELEGATE_WRITE)
			return true;
	}
	if (nfs4_deleg_prev_blocks_locked(file, clp, type))
		return true;
	/* Recalled lately: whoever made us recall it is likely to come back (a reclaim is owed). */
	if (!reclaim && file->recalled_ns && now - file->recalled_ns < nfs4_lease_ns(clp->srv))
		return true;
	cds_list_for_each_entry(op, &file->opens, file_link)
	{
		if (type == OPEN_DELEGATE_WRITE && op->stid.client != clp)
			return true;
		/* A read delegation needs a file nobody writes, this client included. */
		if (type == OPEN_DELEGATE_READ && (op->access & OPEN4_SHARE_ACCESS_WRITE))
			return true;
	}
	return false;
}

/* Whether nothing but nfs4d reaches the backend's data (mem). */
static bool nfs4_deleg_private(struct backend *be)
{
	return be->ops->private_data && be->ops->private_data(be);
}

/* Whether a delegation on this backend must hold a lease against local users (vfs). */
static bool nfs4_deleg_needs_lease(struct backend *be)
{
	return !nfs4_deleg_private(be) && be->ops->deleg_get;
}

/* Whether a delegation on this backend can be kept: nobody else, or the backend tells us. */
static bool nfs4_deleg_protectable(struct backend *be)
{
	return nfs4_deleg_private(be) || nfs4_deleg_needs_lease(be);
}

static void nfs4_deleg_recall_locked(struct nfs4_deleg *dp, uint64_t now);

struct nfs4_deleg *nfs4_deleg_new_locked(struct nfs4_compound *c, struct nfs4_file *file,
					 uint32_t type, uint64_t change, void *lease)
{
	struct nfs4_client *clp = c->session->client;
	struct backend *be = file->exp->be;
	struct nfs4_deleg *dp;

	dp = (struct nfs4_deleg *)nfs4_stid_new_locked(c->srv, clp, NFS4_STID_DELEG, sizeof(*dp),
						       file, NULL);
	if (!dp)
		return NULL;
	dp->lease = lease;
	dp->type = type;
	dp->grant_session = c->session->sessionid;
	dp->grant_slot = c->slotid;
	dp->grant_seqid = c->seqid;
	dp->grant_ns = time_mono_ns();
	dp->change = change;
	dp->cb_change = change;
	CDS_INIT_LIST_HEAD(&dp->recall_link);
	cds_list_add_tail(&dp->file_link, &file->delegs);
	atomic_fetch_add(&clp->ndelegs, 1);
	atomic_fetch_add(&c->srv->ndelegs, 1);
	/*
	 * A local open between deleg_get and here found no delegation to
	 * recall; the backend marked its break before looking, so either it
	 * sees dp now (it waits for file->lock) or we see the break here.
	 */
	if (dp->lease && be->ops->deleg_broken(be, dp->lease))
		nfs4_deleg_recall_locked(dp, dp->grant_ns);
	TRACE3(deleg_grant, clp->clientid, xdr_get_be32(dp->stid.other + 8), (int)type);
	nfs4_stats_inc(&c->srv->stats.deleg_granted);
	return dp;
}

void nfs4_deleg_result(const struct nfs4_deleg *dp, struct open_delegation4 *out)
{
	memset(out, 0, sizeof(*out));
	out->delegation_type = dp->type;
	if (dp->type == OPEN_DELEGATE_READ) {
		struct open_read_delegation4 *r = &out->u.read;

		memcpy(r->stateid.other, dp->stid.other, 12);
		r->stateid.seqid = 1;
		r->permissions.who = xdr_opaque_str("EVERYONE@");
	} else {
		struct open_write_delegation4 *w = &out->u.write;

		memcpy(w->stateid.other, dp->stid.other, 12);
		w->stateid.seqid = 1;
		/* No space limit: the backend's own limits answer the writes it flushes. */
		w->space_limit.limitby = NFS_LIMIT_SIZE;
		w->space_limit.u.filesize = UINT64_MAX;
		w->permissions.who = xdr_opaque_str("EVERYONE@");
	}
}

/*
 * Grants a delegation of type on file to this COMPOUND's client unless the
 * file stands in the way now; out says which, or why not (as mask asked).
 * reclaim: the client held it before a restart.
 */
static void nfs4_deleg_grant(struct nfs4_compound *c, struct nfs4_file *file, uint32_t type,
			     uint32_t mask, uint64_t change, bool reclaim,
			     struct open_delegation4 *out)
{
	struct nfs4_server *srv = c->srv;
	struct nfs4_client *clp = c->session->client;
	struct backend *be = file->exp->be;
	struct nfs4_deleg *dp = NULL;
	void *lease = NULL;
	uint32_t why = WND4_RESOURCE;
	bool refused = false;
	uint64_t now = time_mono_ns();

	/*
	 * Local users kept off first (a backend call: outside the locks; -EAGAIN:
	 * one has it open), once the file looks delegable: taking a lease opens
	 * the file, which would break a lease we hold on it already.
	 */
	if (nfs4_deleg_needs_lease(be)) {
		pthread_mutex_lock(&clp->state_lock);
		pthread_mutex_lock(&file->lock);
		refused = nfs4_deleg_refused_locked(clp, file, type, now, reclaim, &why);
		pthread_mutex_unlock(&file->lock);
		pthread_mutex_unlock(&clp->state_lock);
	}
	if (!refused && nfs4_deleg_needs_lease(be)) {
		struct be_attr attr;
		int rc = be->ops->deleg_get(be, &file->bfh, type == OPEN_DELEGATE_WRITE, &lease,
					    &attr);

		refused = rc < 0;
		why = rc == -EAGAIN ? WND4_CONTENTION : WND4_RESOURCE;
		/*
		 * The change OPEN read came before the lease: a local write in
		 * between would be missed for the delegation's life. The
		 * backend's, read under the lease, is the delegation's.
		 */
		if (!refused)
			change = attr.change;
	}
	if (refused) {
		nfs4_deleg_none(mask, why, out);
		return;
	}
	pthread_mutex_lock(&clp->state_lock);
	pthread_mutex_lock(&file->lock);
	if (!nfs4_deleg_refused_locked(clp, file, type, now, reclaim, &why)) {
		dp = nfs4_deleg_new_locked(c, file, type, change, lease);
		why = WND4_RESOURCE;
	}
	if (dp) {
		lease = NULL;
		nfs4_deleg_result(dp, out);
	}
	pthread_mutex_unlock(&file->lock);
	pthread_mutex_unlock(&clp->state_lock);
	if (lease)
		be->ops->deleg_put(be, lease); /* refused after all */
	if (!dp) {
		nfs4_deleg_none(mask, why, out);
		return;
	}
	if (atomic_load(&srv->ndelegs) * 100 >= (long)srv->cfg.max_delegs * NFS4_RECALL_ANY_PCT)
		nfs4_deleg_recall_any(srv);
}

void nfs4_deleg_offer(struct nfs4_compound *c, struct nfs4_file *file, uint32_t access,
		      uint32_t want, uint64_t change, struct open_delegation4 *out)
{
	struct nfs4_server *srv = c->srv;
	struct nfs4_client *clp = c->session->client;
	uint32_t mask = want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
	struct backend *be = file->exp->be;
	uint32_t type, why = WND4_RESOURCE;
	bool refused = true;

	switch (mask) {
	case OPEN4_SHARE_ACCESS_WANT_NO_DELEG:
		nfs4_deleg_none(mask, WND4_NOT_WANTED, out);
		return;
	case OPEN4_SHARE_ACCESS_WANT_CANCEL:
		nfs4_deleg_none(mask, WND4_CANCELLED, out);
		return;
	case OPEN4_SHARE_ACCESS_WANT_READ_DELEG:
		type = OPEN_DELEGATE_READ;
		break;
	case OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG:
		type = OPEN_DELEGATE_WRITE;
		break;
	default:
		type = (access & OPEN4_SHARE_ACCESS_WRITE) ? OPEN_DELEGATE_WRITE
							   : OPEN_DELEGATE_READ;
		break;
	}
	/*
	 * Only where every change to the file goes through nfs4d or the backend
	 * tells us of the others (vfs: leases), with a working back channel,
	 * within the limit, and not in grace, where a delegation could stand in
	 * the way of another client's reclaim.
	 */
	if (!nfs4_deleg_protectable(be) || srv->cfg.max_delegs == 0 ||
	    nfs4_cb_state(clp) != NFS4_CB_UP || nfs4_in_grace(srv)) {
		why = WND4_RESOURCE;
	} else if (atomic_load(&srv->ndelegs) >= (long)srv->cfg.max_delegs) {
		why = WND4_RESOURCE;
		nfs4_deleg_recall_any(srv);
	} else if ((type == OPEN_DELEGATE_READ) == !!(access & OPEN4_SHARE_ACCESS_WRITE)) {
		why = WND4_CONTENTION; /* a read delegation for a writer, or the reverse */
	} else {
		refused = false;
	}
	if (refused) {
		nfs4_deleg_none(mask, why, out);
		return;
	}
	nfs4_deleg_grant(c, file, type, mask, change, false, out);
}

void nfs4_deleg_reclaim(struct nfs4_compound *c, struct nfs4_file *file, uint32_t type,
			uint64_t change, struct open_delegation4 *out)
{
	struct nfs4_server *srv = c->srv;
	struct backend *be = file->exp->be;

	/*
	 * In grace, where only reclaims open files: the file is as the client
	 * left it if nobody else reclaimed it and (vfs) the lease can be taken.
	 * Its back channel may not be probed yet; a recall waits for it.
	 */
	if (!nfs4_deleg_protectable(be) || srv->cfg.max_delegs == 0 ||
	    atomic_load(&srv->ndelegs) >= (long)srv->cfg.max_delegs ||
	    (type != OPEN_DELEGATE_READ && type != OPEN_DELEGATE_WRITE)) {
		nfs4_deleg_none(OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, WND4_RESOURCE, out);
		return;
	}
	nfs4_deleg_grant(c, file, type, OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, change, true, out);
}

/* Marks dp recalled and sends CB_RECALL. Caller holds its file's lock; dp is in force. */
static void nfs4_deleg_recall_locked(struct nfs4_deleg *dp, uint64_t now)
{
	struct nfs4_server *srv = dp->stid.client->srv;

	if (dp->recalled)
		return;
	dp->recalled = true;
	dp->recall_ns = now;
	dp->stid.file->recalled_ns = now;
	pthread_mutex_lock(&srv->recall_lock);
	cds_list_add_tail(&dp->recall_link, &srv->recalls);
	pthread_mutex_unlock(&srv->recall_lock);
	TRACE2(deleg_recall, dp->stid.client->clientid, xdr_get_be32(dp->stid.other + 8));
	nfs4_stats_inc(&srv->stats.deleg_recalled);
	nfs4_cb_recall(dp); /* takes srv->cb_lock, a leaf */
}

uint32_t nfs4_deleg_break(struct nfs4_compound *c, struct nfs4_file *file, bool modify)
{
	struct nfs4_client *me = c->session ? c->session->client : NULL;
	uint64_t now = time_mono_ns();
	struct nfs4_deleg *dp;
	bool conflict = false;

	pthread_mutex_lock(&file->lock);
	cds_list_for_each_entry(dp, &file->delegs, file_link)
	{
		if (dp->stid.client == me || (!modify && dp->type != OPEN_DELEGATE_WRITE))
			continue;
		conflict = true;
		nfs4_deleg_recall_locked(dp, now);
	}
	nfs4_deleg_prev_break_locked(file, me, modify);
	pthread_mutex_unlock(&file->lock);
	return conflict ? NFS4ERR_DELAY : NFS4_OK;
}

uint32_t nfs4_deleg_break_fh(struct nfs4_compound *c, const struct nfs4_fh *fh, bool modify)
{
	struct nfs4_file *f;
	uint32_t status;

	if (atomic_load(&c->srv->ndelegs) == 0 || fh->kind != NFS4_FH_EXPORT)
		return NFS4_OK;
	f = nfs4_file_find(c->srv, fh->exp, &fh->bfh);
	if (!f)
		return NFS4_OK;
	status = nfs4_deleg_break(c, f, modify);
	nfs4_file_put(f);
	return status;
}

uint32_t nfs4_deleg_break_name(struct nfs4_compound *c, const struct nfs4_fh *dir,
			       const struct be_cred *cred, const char *name)
{
	struct nfs4_fh fh = *dir;

	if (atomic_load(&c->srv->ndelegs) == 0 || dir->kind != NFS4_FH_EXPORT)
		return NFS4_OK;
	/* The handle only: vfs may then answer from its name cache without a statx. */
	if (dir->exp->be->ops->lookup(dir->exp->be, cred, &dir->bfh, name, &fh.bfh, NULL) < 0)
		return NFS4_OK; /* nothing there to conflict with: the operation says what is wrong
				 */
	return nfs4_deleg_break_fh(c, &fh, true);
}

uint32_t nfs4_deleg_getattr(struct nfs4_compound *c, const struct nfs4_fh *fh, struct be_attr *attr)
{
	struct nfs4_client *me = c->session ? c->session->client : NULL;
	uint64_t now = time_mono_ns();
	uint32_t status = NFS4_OK;
	struct nfs4_deleg *dp;
	struct nfs4_file *f;

	if (atomic_load(&c->srv->ndelegs) == 0 || fh->kind != NFS4_FH_EXPORT)
		return NFS4_OK;
	f = nfs4_file_find(c->srv, fh->exp, &fh->bfh);
	if (!f)
		return NFS4_OK;
	pthread_mutex_lock(&f->lock);
	cds_list_for_each_entry(dp, &f->delegs, file_link)
	{
		if (dp->type != OPEN_DELEGATE_WRITE || dp->stid.client == me)
			continue;
		if (dp->cb_attr_ns && now - dp->cb_attr_ns < NFS4_CB_ATTR_FRESH_MS * 1000000ull) {
			attr->size = dp->cb_size;
			attr->change = MAX(attr->change, dp->change);
		} else {
			status = NFS4ERR_DELAY;
			if (!dp->getattr_queued && !dp->recalled) {
				dp->getattr_queued = true;
				nfs4_cb_getattr(dp);
			}
		}
		break; /* a write delegation is the only one on its file */
	}
	pthread_mutex_unlock(&f->lock);
	nfs4_file_put(f);
	return status;
}

bool nfs4_deleg_needs_callback(struct nfs4_deleg *dp)
{
	struct nfs4_client *clp = dp->stid.client;
	bool needed;

	pthread_mutex_lock(&clp->state_lock);
	needed = !dp->stid.closed; /* a revoked one is released too */
	pthread_mutex_unlock(&clp->state_lock);
	return needed;
}

void nfs4_deleg_getattr_done(struct nfs4_deleg *dp, bool has_size, uint64_t size, bool has_change,
			     uint64_t change)
{
	struct nfs4_file *f = dp->stid.file;

	pthread_mutex_lock(&f->lock);
	dp->getattr_queued = false;
	if (!dp->gone) {
		if (has_size && has_change) {
			/* A change we have not seen: the file moved on under the delegation
			 * (§10.4.3). */
			if (change != dp->cb_change)
				dp->change++;
			dp->cb_change = change;
			dp->cb_size = size;
			dp->cb_attr_ns = time_mono_ns();
		} else {
			nfs4_deleg_recall_locked(dp, time_mono_ns()); /* no answer: take it back */
		}
	}
	pthread_mutex_unlock(&f->lock);
}

/* dp leaves its file (returned or revoked): it no longer conflicts. Caller holds file->lock. */
static void nfs4_deleg_unlink_locked(struct nfs4_deleg *dp)
{
	struct nfs4_client *clp = dp->stid.client;

	dp->gone = true;
	cds_list_del(&dp->file_link);
	if (dp->lease) {
		struct backend *be = dp->stid.file->exp->be;

		/* Lets a waiting local opener in; a non-blocking fcntl and a close. */
		be->ops->deleg_put(be, dp->lease);
		dp->lease = NULL;
	}
	atomic_fetch_sub(&clp->ndelegs, 1);
	atomic_fetch_sub(&clp->srv->ndelegs, 1);
}

void nfs4_deleg_release_locked(struct nfs4_deleg *dp)
{
	struct nfs4_client *clp = dp->stid.client;
	struct nfs4_server *srv = clp->srv;
	struct nfs4_file *f = dp->stid.file;

	pthread_mutex_lock(&f->lock);
	nfs4_deleg_unlink_locked(dp);
	pthread_mutex_lock(&srv->recall_lock);
	if (!cds_list_empty(&dp->recall_link))
		cds_list_del_init(&dp->recall_link);
	pthread_mutex_unlock(&srv->recall_lock);
	pthread_mutex_unlock(&f->lock);
	TRACE2(deleg_return, clp->clientid, xdr_get_be32(dp->stid.other + 8));
	nfs4_stid_unhash_locked(&dp->stid);
}

/* Revokes dp: it no longer holds the file, and its client is told until it frees it. */
static void nfs4_deleg_revoke(struct nfs4_deleg *dp)
{
	struct nfs4_client *clp = dp->stid.client;
	bool revoked = false;

	pthread_mutex_lock(&clp->state_lock);
	if (!dp->stid.closed) {
		nfs4_stid_revoke_locked(&dp->stid, NFS4_REVOKE_RECALL);
		revoked = true;
	}
	pthread_mutex_unlock(&clp->state_lock);
	if (revoked) {
		log_info("nfs4",
			 "delegation of clientid=%016llx revoked: not returned within a lease",
			 (unsigned long long)clp->clientid);
		TRACE2(deleg_revoke, clp->clientid, xdr_get_be32(dp->stid.other + 8));
		nfs4_stats_inc(&clp->srv->stats.deleg_revoked);
	}
}

void nfs4_delegs_revoke_overdue(struct nfs4_server *srv)
{
	uint64_t now = time_mono_ns(), lease = nfs4_lease_ns(srv);

	for (;;) {
		struct nfs4_deleg *dp = NULL;

		/* Oldest first; a listed delegation is hashed, so its reference is not zero. */
		pthread_mutex_lock(&srv->recall_lock);
		if (!cds_list_empty(&srv->recalls)) {
			dp = cds_list_first_entry(&srv->recalls, struct nfs4_deleg, recall_link);
			if (dp->recall_ns + lease <= now) {
				ref_get(&dp->stid.ref);
				cds_list_del_init(&dp->recall_link);
			} else {
				dp = NULL;
			}
		}
		pthread_mutex_unlock(&srv->recall_lock);
		if (!dp)
			return;
		nfs4_deleg_revoke(dp);
		nfs4_stid_put(&dp->stid);
	}
}

/* Revokes every delegation on f (each leaves it, so this ends). */
static void nfs4_deleg_revoke_file(struct nfs4_file *f)
{
	for (;;) {
		struct nfs4_deleg *dp = NULL;

		pthread_mutex_lock(&f->lock);
		if (!cds_list_empty(&f->delegs)) {
			dp = cds_list_first_entry(&f->delegs, struct nfs4_deleg, file_link);
			ref_get(&dp->stid.ref); /* on its file: hashed, its reference not zero */
		}
		pthread_mutex_unlock(&f->lock);
		if (!dp)
			return;
		log_info("nfs4", "clientid=%016llx: a local process waited lease-break-time",
			 (unsigned long long)dp->stid.client->clientid);
		nfs4_deleg_revoke(dp);
		nfs4_stid_put(&dp->stid);
	}
}

/*
 * The backend's watcher (backend_ops.deleg_watch): a local process wants fh,
 * delegated under a lease. Recall what is delegated on it; forced: the
 * kernel is about to let the process in, so revoke instead. Runs on the
 * backend's thread, which holds none of its locks.
 */
static void nfs4_deleg_backend_break(void *ctx, struct backend *be, const struct be_fh *fh,
				     bool forced)
{
	struct nfs4_server *srv = ctx;
	struct nfs4_export *exp = NULL;
	struct nfs4_export_table *tab;
	struct nfs4_deleg *dp;
	struct nfs4_file *f;

	rcu_read_begin();
	tab = rcu_fetch(srv->table);
	for (int i = 0; tab && i < tab->n && !exp; i++)
		if (tab->v[i]->be == be)
			exp = tab->v[i]; /* exports outlive the tables (fh.h) */
	rcu_read_end();
	f = exp ? nfs4_file_find(srv, exp, fh) : NULL;
	if (!f)
		return; /* returned meanwhile */
	/* Kept delegations have nobody to recall: they go at once (deleg_prev.h). */
	pthread_mutex_lock(&f->lock);
	nfs4_deleg_prev_break_locked(f, NULL, true);
	pthread_mutex_unlock(&f->lock);
	if (forced) {
		nfs4_deleg_revoke_file(f);
	} else {
		uint64_t now = time_mono_ns();

		pthread_mutex_lock(&f->lock);
		cds_list_for_each_entry(dp, &f->delegs, file_link)
			nfs4_deleg_recall_locked(dp, now);
		pthread_mutex_unlock(&f->lock);
	}
	nfs4_file_put(f);
}

void nfs4_deleg_watch(struct nfs4_server *srv, struct backend *be)
{
	if (be->ops->deleg_watch)
		be->ops->deleg_watch(be, nfs4_deleg_backend_break, srv);
}

void nfs4_delegs_unwatch(struct nfs4_server *srv)
{
	pthread_mutex_lock(&srv->reload_lock);
	for (int i = 0; i < srv->exports.n; i++) {
		struct backend *be = srv->exports.v[i]->be;

		if (be->ops->deleg_watch)
			be->ops->deleg_watch(be, NULL, NULL);
	}
	pthread_mutex_unlock(&srv->reload_lock);
}

uint32_t nfs4_op_delegreturn(struct nfs4_compound *c, void *args, void *res)
{
	const struct DELEGRETURN4args *a = args;
	struct nfs4_stateid_ref r;
	struct nfs4_client *clp;
	uint32_t status;

	(void)res;
	status = nfs4_stateid_resolve_cur(c, &a->deleg_stateid, 1u << NFS4_STID_DELEG, &r);
	if (status != NFS4_OK)
		return status;
	clp = r.stid->client;
	pthread_mutex_lock(&clp->state_lock);
	status = nfs4_stid_status_locked(r.stid);
	if (status == NFS4_OK)
		nfs4_deleg_release_locked(caa_container_of(r.stid, struct nfs4_deleg, stid));
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&r);
	return status;
}
