/*
 * Byte-range locks (RFC 8881 §9, §18.10-18.12): LOCK, LOCKT, LOCKU. Locks
 * live in memory per file (lockrange.c); the owner of a range is the lock
 * stateid of its (lock owner, file).
 */
#include <errno.h>
#include <string.h>

#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "nfs4/status.h"

static uint32_t nfs4_lock_type(uint32_t lt, enum nfs4_lock_type *out)
{
	switch (lt) {
	case READ_LT:
	case READW_LT: /* blocking requests are answered at once: the client polls */
		*out = NFS4_LOCK_READ;
		return NFS4_OK;
	case WRITE_LT:
	case WRITEW_LT:
		*out = NFS4_LOCK_WRITE;
		return NFS4_OK;
	default:
		return NFS4ERR_INVAL;
	}
}

/* The conflicting lock, as LOCK4denied. Caller holds the file's lock (so the owner is alive). */
static void nfs4_lock_denied(struct nfs4_compound *c, const struct nfs4_lock_range *r,
			     struct LOCK4denied *d)
{
	const struct nfs4_lockstid *lk = r->owner;
	const struct nfs4_owner *o = lk->stid.owner;
	uint8_t *name = arena_alloc(c->call->arena, o->len ? o->len : 1);

	d->offset = r->start;
	d->length = nfs4_lock_range_length(r->start, r->end);
	d->locktype = r->type == NFS4_LOCK_WRITE ? WRITE_LT : READ_LT;
	d->owner.clientid = lk->stid.client->clientid;
	if (name) {
		memcpy(name, o->data, o->len);
		d->owner.owner.len = o->len;
		d->owner.owner.data = name;
	}
}

/* A conflict with a lock held outside NFS (a local process): its owner has no NFS name. */
static void nfs4_lock_denied_local(uint64_t start, uint64_t end, enum nfs4_lock_type type,
				   struct LOCK4denied *d)
{
	static const char local[] = "nfs4d:local-lock";

	d->offset = start;
	d->length = nfs4_lock_range_length(start, end);
	d->locktype = type == NFS4_LOCK_WRITE ? WRITE_LT : READ_LT;
	d->owner.clientid = 0;
	d->owner.owner = xdr_opaque_str(local);
}

/* Mirrors a lock change onto the backend; returns an nfsstat4 (NFS4ERR_DENIED: held locally). */
static uint32_t nfs4_lock_mirror(struct nfs4_lockstid *lk, bool set, enum nfs4_lock_type type,
				 uint64_t start, uint64_t end)
{
	struct backend *be = lk->stid.file->exp->be;
	int rc;

	if (!lk->be_ctx)
		return NFS4_OK;
	rc = set ? be->ops->lock(be, lk->be_ctx, type == NFS4_LOCK_WRITE, start, end)
		 : be->ops->unlock(be, lk->be_ctx, start, end);
	if (rc == -EAGAIN)
		return NFS4ERR_DENIED;
	if (rc == -ERANGE)
		return NFS4ERR_BAD_RANGE; /* offsets the storage cannot express (RFC 8881 §15.1.8.3)
					   */
	return nfs4_status_from_errno(rc);
}

/* The current filehandle must be the regular file the stateid is for. */
static uint32_t nfs4_lock_file_check(struct nfs4_compound *c, const struct nfs4_stid *stid,
				     struct be_cred *cred)
{
	struct nfs4_fh *fh;
	uint32_t status = nfs4_cur_fh(c, &fh, NULL, cred);

	if (status != NFS4_OK)
		return status;
	return nfs4_file_is(stid->file, fh) ? NFS4_OK : NFS4ERR_BAD_STATEID;
}

/*
 * The lock stateid of owner on op's file (*lkp), made on first use. Out of
 * memory is NFS4ERR_DELAY (NFSv4.1 has no NFS4ERR_RESOURCE for it); the
 * backend's lock description says its own error (-EAGAIN: a delegation's
 * lease would break, DELAY too). Caller holds state_lock.
 */
static uint32_t nfs4_lockstid_get_locked(struct nfs4_compound *c, struct nfs4_open *op,
					 const struct xdr_opaque *owner_name,
					 const struct be_cred *cred, struct nfs4_lockstid **lkp,
					 bool *created)
{
	struct backend *be = op->stid.file->exp->be;
	struct nfs4_client *clp = op->stid.client;
	struct nfs4_lockstid *lk;
	struct nfs4_owner *owner;
	struct nfs4_stid *stid;
	int err;

	*created = false;
	owner = nfs4_owner_get_locked(clp, true, owner_name);
	if (!owner)
		return NFS4ERR_DELAY;
	cds_list_for_each_entry(stid, &clp->stateids, client_link)
	{
		if (stid->kind == NFS4_STID_LOCK && stid->owner == owner &&
		    stid->file == op->stid.file) {
			*lkp = caa_container_of(stid, struct nfs4_lockstid, stid);
			return NFS4_OK;
		}
	}
	lk = (struct nfs4_lockstid *)nfs4_stid_new_locked(c->srv, clp, NFS4_STID_LOCK, sizeof(*lk),
							  op->stid.file, owner);
	if (!lk) {
		nfs4_owner_put_unused_locked(owner);
		return NFS4ERR_DELAY;
	}
	lk->open = op;
	cds_list_add_tail(&lk->open_link, &op->locks);
	if (be->ops->lock_open &&
	    (err = be->ops->lock_open(be, cred, &op->stid.file->bfh, &lk->be_ctx)) < 0) {
		nfs4_lockstid_release_locked(lk);
		return nfs4_status_from_errno(err);
	}
	*created = true;
	*lkp = lk;
	return NFS4_OK;
}

uint32_t nfs4_op_lock(struct nfs4_compound *c, void *args, void *res)
{
	const struct LOCK4args *a = args;
	struct LOCK4res *r = res;
	const struct nfs4_lock_range *conflict;
	struct nfs4_stateid_ref ref;
	struct nfs4_lockstid *lk = NULL;
	struct nfs4_client *clp;
	struct nfs4_open *op;
	struct nfs4_file *f;
	enum nfs4_lock_type type;
	uint64_t start, end;
	struct be_cred cred;
	bool created = false;
	uint32_t status;

	status = nfs4_lock_type(a->locktype, &type);
	if (status == NFS4_OK)
		status = nfs4_lock_range_from(a->offset, a->length, &start, &end);
	if (status == NFS4_OK)
		status = nfs4_grace_check_lock(c, a->reclaim);
	if (status != NFS4_OK)
		return status;
	if (a->locker.new_lock_owner)
		status = nfs4_stateid_resolve(c, &a->locker.u.open_owner.open_stateid,
					      1u << NFS4_STID_OPEN, false, &ref);
	else
		status = nfs4_stateid_resolve(c, &a->locker.u.lock_owner.lock_stateid,
					      1u << NFS4_STID_LOCK, false, &ref);
	if (status == NFS4_OK)
		status = nfs4_lock_file_check(c, ref.stid, &cred);
	if (status != NFS4_OK) {
		nfs4_stateid_ref_put(&ref);
		return status;
	}

	clp = ref.stid->client;
	f = ref.stid->file;
	pthread_mutex_lock(&clp->state_lock);
	status = nfs4_stid_status_locked(ref.stid);
	if (status != NFS4_OK)
		goto out;
	if (a->locker.new_lock_owner) {
		op = caa_container_of(ref.stid, struct nfs4_open, stid);
		status = nfs4_lockstid_get_locked(c, op, &a->locker.u.open_owner.lock_owner.owner,
						  &cred, &lk, &created);
		if (status != NFS4_OK)
			goto out;
	} else {
		lk = caa_container_of(ref.stid, struct nfs4_lockstid, stid);
		op = lk->open;
	}
	pthread_mutex_lock(&f->lock);
	if (type == NFS4_LOCK_WRITE && !(op->access & OPEN4_SHARE_ACCESS_WRITE)) {
		status = NFS4ERR_OPENMODE;
	} else if ((conflict = nfs4_lock_conflict(&f->locks, lk, type, start, end))) {
		status = NFS4ERR_DENIED;
		nfs4_lock_denied(c, conflict, &r->u.denied);
	} else if ((status = nfs4_lock_mirror(lk, true, type, start, end)) != NFS4_OK) {
		if (status == NFS4ERR_DENIED)
			nfs4_lock_denied_local(start, end, type, &r->u.denied);
	} else if (nfs4_lock_set(&f->locks, lk, type, start, end) < 0) {
		status = NFS4ERR_DELAY;
	}
	pthread_mutex_unlock(&f->lock);
	if (status == NFS4ERR_DENIED && a->reclaim)
		status = NFS4ERR_RECLAIM_CONFLICT; /* no LOCK4denied with it */
	if (status == NFS4_OK) {
		if (!created)
			lk->stid.seqid++; /* a new stateid starts at 1 (RFC 8881 §8.2.2) */
		nfs4_stid_to_wire(&lk->stid, &r->u.resok4.lock_stateid);
	} else if (created) {
		nfs4_lockstid_release_locked(
			lk); /* a lock owner that got nothing keeps no stateid */
	}
out:
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&ref);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(c, &r->u.resok4.lock_stateid);
	if (status == NFS4_OK && a->reclaim)
		nfs4_grace_reclaimed(c, true);
	return status;
}

uint32_t nfs4_op_lockt(struct nfs4_compound *c, void *args, void *res)
{
	const struct LOCKT4args *a = args;
	struct LOCKT4res *r = res;
	struct nfs4_client *clp = c->session->client;
	const struct nfs4_lock_range *conflict;
	const void *self = NULL;
	struct nfs4_owner *owner;
	struct nfs4_stid *stid;
	struct be_cred cred;
	struct be_attr attr;
	struct nfs4_fh *fh;
	struct nfs4_file *f;
	enum nfs4_lock_type type;
	uint64_t start, end;
	uint32_t status;
	int rc;

	status = nfs4_lock_type(a->locktype, &type);
	if (status == NFS4_OK)
		status = nfs4_lock_range_from(a->offset, a->length, &start, &end);
	if (status == NFS4_OK)
		status = nfs4_cur_fh(c, &fh, NULL, &cred);
	/* In grace, locks not yet reclaimed would not show. */
	if (status == NFS4_OK)
		status = nfs4_grace_check_lockt(c);
	if (status != NFS4_OK)
		return status;
	if (fh->kind != NFS4_FH_EXPORT)
		return NFS4ERR_ISDIR;
	rc = fh->exp->be->ops->getattr(fh->exp->be, &cred, &fh->bfh, &attr);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	/* §18.11.3: ISDIR, SYMLINK, else WRONG_TYPE for what is not a regular file. */
	if (attr.type != BE_REG)
		return nfs4_status_regular(attr.type);
	f = nfs4_file_find(c->srv, fh->exp, &fh->bfh);
	if (!f)
		return NFS4_OK; /* nobody has state on it: nothing can conflict */
	pthread_mutex_lock(&clp->state_lock);
	cds_list_for_each_entry(owner, &clp->owners, client_link)
	{
		if (!owner->is_lock || owner->len != a->owner.owner.len ||
		    memcmp(owner->data, a->owner.owner.data, owner->len) != 0)
			continue;
		cds_list_for_each_entry(stid, &clp->stateids,
					client_link) if (stid->kind == NFS4_STID_LOCK &&
							 stid->owner == owner && stid->file == f)
			self = stid;
	}
	pthread_mutex_lock(&f->lock);
	conflict = nfs4_lock_conflict(&f->locks, self, type, start, end);
	if (conflict) {
		status = NFS4ERR_DENIED;
		nfs4_lock_denied(c, conflict, &r->u.denied);
	}
	pthread_mutex_unlock(&f->lock);
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_file_put(f);
	return status;
}

uint32_t nfs4_op_locku(struct nfs4_compound *c, void *args, void *res)
{
	const struct LOCKU4args *a = args;
	struct LOCKU4res *r = res;
	struct nfs4_stateid_ref ref;
	struct nfs4_lockstid *lk;
	struct nfs4_client *clp;
	enum nfs4_lock_type type;
	uint64_t start, end;
	struct be_cred cred;
	uint32_t status;

	status = nfs4_lock_type(a->locktype, &type);
	if (status == NFS4_OK)
		status = nfs4_lock_range_from(a->offset, a->length, &start, &end);
	if (status == NFS4_OK)
		status = nfs4_stateid_resolve(c, &a->lock_stateid, 1u << NFS4_STID_LOCK, false,
					      &ref);
	if (status != NFS4_OK)
		return status;
	status = nfs4_lock_file_check(c, ref.stid, &cred);
	lk = caa_container_of(ref.stid, struct nfs4_lockstid, stid);
	clp = lk->stid.client;
	pthread_mutex_lock(&clp->state_lock);
	if (status == NFS4_OK)
		status = nfs4_stid_status_locked(&lk->stid);
	if (status == NFS4_OK) {
		pthread_mutex_lock(&lk->stid.file->lock);
		status = nfs4_lock_mirror(lk, false, type, start, end);
		if (status == NFS4_OK && nfs4_lock_clear(&lk->stid.file->locks, lk, start, end) < 0)
			status = NFS4ERR_DELAY;
		pthread_mutex_unlock(&lk->stid.file->lock);
	}
	if (status == NFS4_OK) {
		lk->stid.seqid++;
		nfs4_stid_to_wire(&lk->stid, &r->u.lock_stateid);
	}
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&ref);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(c, &r->u.lock_stateid);
	return status;
}
