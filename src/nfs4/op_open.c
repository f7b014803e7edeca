/* Opens (RFC 8881 §18.16, §18.2, §18.18): OPEN, CLOSE, OPEN_DOWNGRADE, and share reservations. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nfs4/deleg.h"
#include "nfs4/deleg_prev.h"
#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "nfs4/status.h"

#define NFS4_SHARE_WANT_BITS                                     \
	(OPEN4_SHARE_ACCESS_WANT_DELEG_MASK |                    \
	 OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | \
	 OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED)

/* EXCLUSIVE4 keeps the client's verifier in the new file's atime/mtime seconds, as knfsd does. */
static void nfs4_verf_to_times(const verifier4 *v, struct be_sattr *s)
{
	uint32_t a, m;

	memcpy(&a, v->data, 4);
	memcpy(&m, v->data + 4, 4);
	s->mask |= BE_SET_ATIME | BE_SET_MTIME;
	s->atime.tv_sec = a;
	s->atime.tv_nsec = 0;
	s->mtime.tv_sec = m;
	s->mtime.tv_nsec = 0;
}

static bool nfs4_verf_matches(const verifier4 *v, const struct be_attr *attr)
{
	uint32_t a, m;

	memcpy(&a, v->data, 4);
	memcpy(&m, v->data + 4, 4);
	return (uint32_t)attr->atime.tv_sec == a && (uint32_t)attr->mtime.tv_sec == m;
}

/* What OPEN found or made. */
struct nfs4_open_target {
	struct nfs4_fh fh;
	struct be_attr attr;
	struct be_dirchange dc;
	bool created;
	bitmap4 attrset;
};

/* OPEN4_CREATE under CLAIM_NULL: the four create modes of RFC 8881 §18.16.3. */
static uint32_t nfs4_open_create(struct nfs4_compound *c, const struct nfs4_fh *dir,
				 const struct be_cred *cred, const char *name,
				 const struct createhow4 *how, struct nfs4_open_target *t)
{
	struct backend *be = dir->exp->be;
	const verifier4 *verf = NULL;
	const struct fattr4 *attrs = NULL;
	struct be_sattr sattr = {0};
	uint32_t status;
	int rc;

	switch (how->mode) {
	case UNCHECKED4:
	case GUARDED4:
		attrs = &how->u.createattrs;
		break;
	case EXCLUSIVE4:
		verf = &how->u.createverf;
		break;
	case EXCLUSIVE4_1:
		verf = &how->u.ch_createboth.cva_verf;
		attrs = &how->u.ch_createboth.cva_attrs;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	if (attrs) {
		status = nfs4_attr_decode_set(attrs, &c->srv->idmap, &sattr, &t->attrset,
					      c->call->arena);
		if (status != NFS4_OK)
			return status;
		if (verf && (sattr.mask &
			     (BE_SET_ATIME | BE_SET_ATIME_NOW | BE_SET_MTIME | BE_SET_MTIME_NOW)))
			return NFS4ERR_INVAL; /* the verifier lives in the times */
	}
	if (!(sattr.mask & BE_SET_MODE)) {
		sattr.mask |= BE_SET_MODE;
		sattr.mode = verf && !attrs ? 0 : 0644;
	}
	if (verf)
		nfs4_verf_to_times(verf, &sattr);

	t->fh = *dir;
	rc = be->ops->create(be, cred, &dir->bfh, name, BE_REG, &sattr, NULL, 0, 0, &t->fh.bfh,
			     &t->attr, &t->dc);
	if (rc == 0) {
		t->created = true;
		return NFS4_OK;
	}
	if (rc != -EEXIST || how->mode == GUARDED4)
		return nfs4_status_from_errno(rc);

	/* It exists: UNCHECKED4 opens it; EXCLUSIVE4* succeed only as a retry of our create. */
	rc = be->ops->lookup(be, cred, &dir->bfh, name, &t->fh.bfh, &t->attr);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	if (verf) {
		memset(&t->attrset, 0, sizeof(t->attrset));
		return t->attr.type == BE_REG && nfs4_verf_matches(verf, &t->attr) ? NFS4_OK
										   : NFS4ERR_EXIST;
	}
	memset(&t->attrset, 0, sizeof(t->attrset));
	if (t->attr.type == BE_REG && (sattr.mask & BE_SET_SIZE)) {
		/* UNCHECKED4 on an existing file applies only the size (a truncate), as knfsd. */
		struct be_sattr trunc = {.mask = BE_SET_SIZE, .size = sattr.size};

		rc = be->ops->setattr(be, cred, &t->fh.bfh, &trunc, &t->attr);
		if (rc < 0)
			return nfs4_status_from_errno(rc);
	}
	return NFS4_OK;
}

/* OPEN by name: file in the current filehandle's directory, created as how says with create. */
static uint32_t nfs4_open_by_name(struct nfs4_compound *c, const struct OPEN4args *a,
				  const component4 *file, struct nfs4_open_target *t,
				  struct be_cred *cred)
{
	bool create = a->openhow.opentype == OPEN4_CREATE;
	char name[BE_NAME_MAX + 1];
	struct nfs4_fh *fh;
	struct be_attr dattr;
	uint32_t status;
	int rc;

	status = create ? nfs4_cur_fh_writable(c, &fh, cred) : nfs4_cur_fh(c, &fh, NULL, cred);
	if (status == NFS4_OK && fh->kind != NFS4_FH_EXPORT)
		status = create ? NFS4ERR_ROFS : NFS4ERR_NOENT;
	if (status == NFS4_OK)
		status = nfs4_component(file, name);
	if (status != NFS4_OK)
		return status;
	if (create)
		return nfs4_open_create(c, fh, cred, name, &a->openhow.u.how, t);
	t->fh = *fh;
	rc = fh->exp->be->ops->lookup(fh->exp->be, cred, &fh->bfh, name, &t->fh.bfh, &t->attr);
	if (rc == -ENOTDIR)
		return NFS4ERR_NOTDIR;
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	/* Nothing changed: before and after are the directory's change now. */
	if (fh->exp->be->ops->getattr(fh->exp->be, cred, &fh->bfh, &dattr) == 0)
		t->dc.before = t->dc.after = dattr.change;
	t->dc.atomic = true;
	return NFS4_OK;
}

/* OPEN of the current filehandle, which names nothing to create. */
static uint32_t nfs4_open_by_fh(struct nfs4_compound *c, bool create, struct nfs4_open_target *t,
				struct be_cred *cred)
{
	struct nfs4_fh *fh;
	uint32_t status;

	if (create)
		return NFS4ERR_INVAL;
	status = nfs4_cur_fh(c, &fh, NULL, cred);
	if (status == NFS4_OK && fh->kind != NFS4_FH_EXPORT)
		status = NFS4ERR_ISDIR;
	if (status != NFS4_OK)
		return status;
	t->fh = *fh;
	return nfs4_status_from_errno(
		fh->exp->be->ops->getattr(fh->exp->be, cred, &fh->bfh, &t->attr));
}

/* Finds or creates what OPEN opens, per its claim. */
static uint32_t nfs4_open_target(struct nfs4_compound *c, const struct OPEN4args *a,
				 struct nfs4_open_target *t, struct be_cred *cred)
{
	bool create = a->openhow.opentype == OPEN4_CREATE;
	uint32_t status;

	switch (a->claim.claim) {
	case CLAIM_NULL:
		return nfs4_open_by_name(c, a, &a->claim.u.file, t, cred);
	case CLAIM_DELEGATE_CUR:
		/* By name, a file this client holds a delegation of (checked by the caller). */
		if (create)
			return NFS4ERR_INVAL;
		return nfs4_open_by_name(c, a, &a->claim.u.delegate_cur_info.file, t, cred);
	case CLAIM_DELEGATE_PREV:
		/* By name, the file of a delegation kept since the client's restart. */
		if (create)
			return NFS4ERR_INVAL;
		status = nfs4_deleg_prev_check(c);
		return status != NFS4_OK
			       ? status
			       : nfs4_open_by_name(c, a, &a->claim.u.file_delegate_prev, t, cred);
	case CLAIM_PREVIOUS: /* a reclaim of the current filehandle, let in by grace.c */
		if (a->claim.u.delegate_type > OPEN_DELEGATE_WRITE)
			return NFS4ERR_INVAL;
		return nfs4_open_by_fh(c, create, t, cred);
	case CLAIM_DELEG_PREV_FH:
		if (create)
			return NFS4ERR_INVAL;
		status = nfs4_deleg_prev_check(c);
		return status != NFS4_OK ? status : nfs4_open_by_fh(c, false, t, cred);
	case CLAIM_FH:
	case CLAIM_DELEG_CUR_FH:
		return nfs4_open_by_fh(c, create, t, cred);
	default:
		return NFS4ERR_INVAL;
	}
}

/* An existing open of owner on file, or NULL. Caller holds clp->state_lock. */
static struct nfs4_open *nfs4_open_find_locked(struct nfs4_client *clp, struct nfs4_owner *owner,
					       struct nfs4_file *file)
{
	struct nfs4_stid *stid;

	cds_list_for_each_entry(
		stid, &clp->stateids,
		client_link) if (stid->kind == NFS4_STID_OPEN && stid->owner == owner &&
				 stid->file == file) return caa_container_of(stid, struct nfs4_open,
									     stid);
	return NULL;
}

/* Share reservations (RFC 8881 §9.7): another open's deny against our access, and the reverse. */
static bool nfs4_share_conflict_locked(struct nfs4_file *f, const struct nfs4_open *self,
				       uint32_t access, uint32_t deny)
{
	struct nfs4_open *op;

	cds_list_for_each_entry(op, &f->opens,
				file_link) if (op != self && ((access & op->deny) ||
							      (deny & op->access))) return true;
	return false;
}

/* Records the open of owner on file (new or upgraded); *sid is its stateid. */
static uint32_t nfs4_open_state(struct nfs4_compound *c, struct nfs4_file *file,
				const struct xdr_opaque *owner_name, uint32_t access, uint32_t deny,
				struct stateid4 *sid)
{
	struct nfs4_client *clp = c->session->client;
	struct nfs4_owner *owner;
	struct nfs4_open *op;
	uint32_t status = NFS4_OK;

	pthread_mutex_lock(&clp->state_lock);
	owner = nfs4_owner_get_locked(clp, false, owner_name);
	if (!owner) {
		status = NFS4ERR_RESOURCE;
		goto out;
	}
	op = nfs4_open_find_locked(clp, owner, file);
	pthread_mutex_lock(&file->lock);
	if (nfs4_share_conflict_locked(file, op, access, deny)) {
		status = NFS4ERR_SHARE_DENIED;
	} else if (op) {
		op->access |= access;
		op->deny |= deny;
		op->access_modes |= 1u << access;
		op->deny_modes |= 1u << deny;
		op->stid.seqid++;
	} else {
		op = (struct nfs4_open *)nfs4_stid_new_locked(c->srv, clp, NFS4_STID_OPEN,
							      sizeof(*op), file, owner);
		if (op) {
			op->access = access;
			op->deny = deny;
			op->access_modes = 1u << access;
			op->deny_modes = 1u << deny;
			CDS_INIT_LIST_HEAD(&op->locks);
			cds_list_add_tail(&op->file_link, &file->opens);
		} else {
			status = NFS4ERR_RESOURCE;
		}
	}
	pthread_mutex_unlock(&file->lock);
	if (status == NFS4_OK)
		nfs4_stid_to_wire(&op->stid, sid);
	else
		nfs4_owner_put_unused_locked(owner);
out:
	pthread_mutex_unlock(&clp->state_lock);
	return status;
}

/*
 * CLAIM_DELEGATE_CUR and CLAIM_DELEG_CUR_FH: the client opens under a
 * delegation it holds, which must be one of its delegations of that file.
 */
static uint32_t nfs4_open_deleg_claim(struct nfs4_compound *c, const struct OPEN4args *a,
				      const struct nfs4_fh *fh)
{
	const struct stateid4 *sid = a->claim.claim == CLAIM_DELEGATE_CUR
					     ? &a->claim.u.delegate_cur_info.delegate_stateid
					     : &a->claim.u.oc_delegate_stateid;
	struct nfs4_stateid_ref r;
	uint32_t status;

	status = nfs4_stateid_resolve(c, sid, 1u << NFS4_STID_DELEG, false, &r);
	if (status != NFS4_OK)
		return status;
	if (!nfs4_file_is(r.stid->file, fh))
		status = NFS4ERR_BAD_STATEID;
	nfs4_stateid_ref_put(&r);
	return status;
}

uint32_t nfs4_op_open(struct nfs4_compound *c, void *args, void *res)
{
	const struct OPEN4args *a = args;
	struct OPEN4resok *ok = &((struct OPEN4res *)res)->u.resok4;
	uint32_t access = a->share_access & OPEN4_SHARE_ACCESS_BOTH;
	uint32_t want = a->share_access & ~(uint32_t)OPEN4_SHARE_ACCESS_BOTH;
	struct nfs4_open_target t = {0};
	struct nfs4_file *file;
	struct be_cred cred;
	bool deleg_claim, prev_claim;
	uint32_t status;
	int rc = 0;

	if (access == 0 || (want & ~(uint32_t)NFS4_SHARE_WANT_BITS) ||
	    (want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK) > OPEN4_SHARE_ACCESS_WANT_CANCEL ||
	    a->share_deny > OPEN4_SHARE_DENY_BOTH)
		return NFS4ERR_INVAL;
	status = nfs4_grace_check_open(c, a->claim.claim);
	if (status == NFS4_OK)
		status = nfs4_open_target(c, a, &t, &cred);
	if (status == NFS4_OK)
		status = nfs4_status_regular(t.attr.type);
	if (status != NFS4_OK)
		return status;
	/* Permission to open: the creator of a new file may use it whatever its mode. */
	if (!t.created && (access & OPEN4_SHARE_ACCESS_READ))
		rc = t.fh.exp->be->ops->access(t.fh.exp->be, &cred, &t.fh.bfh, R_OK);
	if (!t.created && rc == 0 && (access & OPEN4_SHARE_ACCESS_WRITE)) {
		const struct nfs4_export_rule *rule;
		struct nfs4_fh *cur;

		if (nfs4_cur_fh(c, &cur, &rule, NULL) == NFS4_OK && rule && !rule->rw)
			return NFS4ERR_ROFS;
		rc = t.fh.exp->be->ops->access(t.fh.exp->be, &cred, &t.fh.bfh, W_OK);
	}
	if (rc < 0)
		return nfs4_status_from_errno(rc);

	deleg_claim = a->claim.claim == CLAIM_DELEGATE_CUR || a->claim.claim == CLAIM_DELEG_CUR_FH;
	prev_claim = a->claim.claim == CLAIM_DELEGATE_PREV || a->claim.claim == CLAIM_DELEG_PREV_FH;
	if (deleg_claim) {
		status = nfs4_open_deleg_claim(c, a, &t.fh);
		if (status != NFS4_OK)
			return status;
	}
	file = nfs4_file_get(c->srv, t.fh.exp, &t.fh.bfh);
	if (!file)
		return NFS4ERR_RESOURCE;
	if (prev_claim)
		status = nfs4_deleg_prev_find(c, file);
	/* Other clients' delegations this open conflicts with are recalled first. */
	if (status == NFS4_OK)
		status = nfs4_deleg_break(
			c, file, (access & OPEN4_SHARE_ACCESS_WRITE) || a->share_deny != 0);
	if (status == NFS4_OK)
		status = nfs4_open_state(c, file, &a->owner.owner, access, a->share_deny,
					 &ok->stateid);
	if (status == NFS4_OK && a->claim.claim == CLAIM_PREVIOUS &&
	    a->claim.u.delegate_type != OPEN_DELEGATE_NONE)
		nfs4_deleg_reclaim(c, file, a->claim.u.delegate_type, t.attr.change,
				   &ok->delegation);
	else if (status == NFS4_OK && prev_claim)
		nfs4_deleg_prev_reclaim(c, file, t.attr.change, &ok->delegation);
	else if (status == NFS4_OK && !deleg_claim)
		nfs4_deleg_offer(c, file, access, want, t.attr.change, &ok->delegation);
	else if (status == NFS4_OK)
		ok->delegation.delegation_type = OPEN_DELEGATE_NONE; /* it has one already */
	nfs4_file_put(file);
	if (status == NFS4ERR_SHARE_DENIED && a->claim.claim == CLAIM_PREVIOUS)
		status = NFS4ERR_RECLAIM_CONFLICT; /* another client's reclaim (§15.1.9) */
	if (status != NFS4_OK)
		return status;

	ok->cinfo.atomic = t.dc.atomic;
	ok->cinfo.before = t.dc.before;
	ok->cinfo.after = t.dc.after;
	ok->rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
	ok->attrset = t.attrset;
	c->cur = t.fh;
	nfs4_set_current_stateid(c, &ok->stateid);
	if (a->claim.claim == CLAIM_PREVIOUS)
		nfs4_grace_reclaimed(c, false);
	return NFS4_OK;
}

uint32_t nfs4_op_close(struct nfs4_compound *c, void *args, void *res)
{
	const struct CLOSE4args *a = args;
	struct CLOSE4res *r = res;
	struct nfs4_stateid_ref ref;
	struct nfs4_lockstid *lk;
	struct nfs4_client *clp;
	struct nfs4_open *op;
	uint32_t status;

	status = nfs4_stateid_resolve_cur(c, &a->open_stateid, 1u << NFS4_STID_OPEN, &ref);
	if (status != NFS4_OK)
		return status;
	op = caa_container_of(ref.stid, struct nfs4_open, stid);
	clp = op->stid.client;
	pthread_mutex_lock(&clp->state_lock);
	status = nfs4_stid_status_locked(&op->stid);
	if (status == NFS4_OK) {
		pthread_mutex_lock(&op->stid.file->lock);
		cds_list_for_each_entry(
			lk, &op->locks,
			open_link) if (nfs4_lock_owner_holds(&op->stid.file->locks, lk)) status =
			NFS4ERR_LOCKS_HELD;
		pthread_mutex_unlock(&op->stid.file->lock);
		if (status == NFS4_OK)
			nfs4_open_release_locked(op);
	}
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&ref);
	if (status != NFS4_OK)
		return status;
	/* A closed open's stateid is gone: answer with the invalid special stateid. */
	memset(&r->u.open_stateid, 0, sizeof(r->u.open_stateid));
	r->u.open_stateid.seqid = UINT32_MAX;
	nfs4_set_current_stateid(c, &r->u.open_stateid);
	return NFS4_OK;
}

/* The mode values (0..3, as bits 1 << m) that are subsets of mode. */
static uint32_t nfs4_submodes(uint32_t mode)
{
	uint32_t set = 0;

	for (uint32_t m = 0; m <= 3; m++)
		if ((m & ~mode) == 0)
			set |= 1u << m;
	return set;
}

uint32_t nfs4_op_open_downgrade(struct nfs4_compound *c, void *args, void *res)
{
	const struct OPEN_DOWNGRADE4args *a = args;
	struct OPEN_DOWNGRADE4resok *ok = &((struct OPEN_DOWNGRADE4res *)res)->u.resok4;
	uint32_t access = a->share_access, deny = a->share_deny;
	struct nfs4_stateid_ref ref;
	struct nfs4_client *clp;
	struct nfs4_open *op;
	uint32_t status;

	/* Want bits are allowed and ignored (RFC 8881 §18.18.3). */
	access &= OPEN4_SHARE_ACCESS_BOTH;
	if (access == 0 || deny > OPEN4_SHARE_DENY_BOTH)
		return NFS4ERR_INVAL;
	status = nfs4_stateid_resolve_cur(c, &a->open_stateid, 1u << NFS4_STID_OPEN, &ref);
	if (status != NFS4_OK)
		return status;
	op = caa_container_of(ref.stid, struct nfs4_open, stid);
	clp = op->stid.client;
	pthread_mutex_lock(&clp->state_lock);
	pthread_mutex_lock(&op->stid.file->lock);
	/* Only down to modes this open was actually opened with. */
	status = nfs4_stid_status_locked(&op->stid);
	if (status == NFS4_OK &&
	    ((access & ~op->access) || (deny & ~op->deny) || !(op->access_modes & (1u << access)) ||
	     !(op->deny_modes & (1u << deny))))
		status = NFS4ERR_INVAL;
	if (status == NFS4_OK) {
		op->access = access;
		op->deny = deny;
		op->access_modes &= nfs4_submodes(access);
		op->deny_modes &= nfs4_submodes(deny);
		op->stid.seqid++;
		nfs4_stid_to_wire(&op->stid, &ok->open_stateid);
	}
	pthread_mutex_unlock(&op->stid.file->lock);
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&ref);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(c, &ok->open_stateid);
	return status;
}
