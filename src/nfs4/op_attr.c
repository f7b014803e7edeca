/* Attribute operations (RFC 8881 §18): GETATTR, SETATTR, VERIFY, NVERIFY, ACCESS. */
#include <string.h>
#include <unistd.h>

#include "nfs4/deleg.h"
#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "nfs4/status.h"

/* A pseudo-fs directory: read-only, owned by root, as old as the server. */
static void nfs4_pseudo_attr(const struct nfs4_server *srv, uint32_t node, struct be_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = BE_DIR;
	a->mode = 0555;
	a->nlink = 2;
	a->size = 4096;
	a->space_used = 4096;
	a->fileid = (uint64_t)node + 1;
	a->change = srv->boot_epoch;
	a->atime.tv_sec = a->mtime.tv_sec = a->ctime.tv_sec = srv->start_time;
	/* fsid (0, 0) is the pseudo-filesystem's; exports use (export id, 0). */
}

static bool nfs4_is_export_root(const struct nfs4_fh *fh)
{
	struct be_fh root;

	return fh->exp->be->ops->root(fh->exp->be, &root) == 0 && root.len == fh->bfh.len &&
	       memcmp(root.data, fh->bfh.data, root.len) == 0;
}

uint32_t nfs4_obj_attrs(struct nfs4_compound *c, const struct nfs4_fh *fh, const bitmap4 *request,
			struct nfs4_obj_attrs *out)
{
	return nfs4_obj_attrs_known(c, fh, NULL, request, out);
}

uint32_t nfs4_obj_attrs_known(struct nfs4_compound *c, const struct nfs4_fh *fh,
			      const struct be_attr *known, const bitmap4 *request,
			      struct nfs4_obj_attrs *out)
{
	struct nfs4_attr_src *src = &out->src;
	struct be_cred cred;
	uint32_t status;
	uint32_t node;
	int rc;

	memset(src, 0, sizeof(*src));
	src->attr = &out->attr;
	src->lease_time = c->srv->cfg.lease_seconds;
	src->maxread = NFS4_MAX_IO;
	src->maxwrite = NFS4_MAX_IO;
	src->idmap = &c->srv->idmap;
	src->fh.data = out->fh;
	src->fh.len = nfs4_fh_encode(fh, out->fh);
	if (fh->kind == NFS4_FH_PSEUDO) {
		nfs4_pseudo_attr(c->srv, fh->node, &out->attr);
		src->mounted_on_fileid = out->attr.fileid;
		src->fh_expire_type = FH4_PERSISTENT;
		if (nfs4_attr_needs_statfs(request)) {
			memset(&out->fs, 0, sizeof(out->fs));
			out->fs.name_max = BE_NAME_MAX;
			out->fs.max_link = 1;
			src->fs = &out->fs;
		}
		return NFS4_OK;
	}

	status = nfs4_fh_check(c, fh, NULL, &cred);
	if (status != NFS4_OK)
		return status;
	if (known)
		out->attr = *known;
	else if ((rc = fh->exp->be->ops->getattr(fh->exp->be, &cred, &fh->bfh, &out->attr)) < 0)
		return nfs4_status_from_errno(rc);
	out->attr.fsid_major = fh->exp->id;
	out->attr.fsid_minor = 0;
	src->mounted_on_fileid = out->attr.fileid;
	/* An export root sits on a pseudo-fs directory, except an export of "/" itself. */
	if (out->attr.type == BE_DIR && nfs4_is_export_root(fh)) {
		node = nfs4_pseudo_node_of(&c->tab->pseudo, fh->exp);
		if (node != 0)
			src->mounted_on_fileid = (uint64_t)node + 1;
	}
	src->fh_expire_type = fh->exp->be->ops->persistent_handles(fh->exp->be) ? FH4_PERSISTENT
										: FH4_VOLATILE_ANY;
	if (nfs4_attr_needs_statfs(request)) {
		rc = fh->exp->be->ops->statfs(fh->exp->be, &cred, &fh->bfh, &out->fs);
		if (rc < 0)
			return nfs4_status_from_errno(rc);
		src->fs = &out->fs;
	}
	return NFS4_OK;
}

uint32_t nfs4_op_getattr(struct nfs4_compound *c, void *args, void *res)
{
	const struct GETATTR4args *a = args;
	struct nfs4_obj_attrs oa;
	struct nfs4_fh *fh;
	uint32_t status;

	status = nfs4_cur_fh(c, &fh, NULL, NULL);
	if (status == NFS4_OK && nfs4_attr_wants_writeonly(&a->attr_request))
		status = NFS4ERR_INVAL; /* time_access_set/time_modify_set cannot be read */
	if (status == NFS4_OK)
		status = nfs4_obj_attrs(c, fh, &a->attr_request, &oa);
	/* Size and change of a file another client writes under a delegation: ask it. */
	if (status == NFS4_OK && a->attr_request.len > 0 &&
	    (a->attr_request.val[0] & (1u << FATTR4_SIZE | 1u << FATTR4_CHANGE)))
		status = nfs4_deleg_getattr(c, fh, &oa.attr);
	if (status == NFS4_OK)
		status = nfs4_attr_encode(c->res, &a->attr_request, &oa.src);
	return status;
}

uint32_t nfs4_op_setattr(struct nfs4_compound *c, void *args, void *res)
{
	const struct SETATTR4args *a = args;
	struct SETATTR4res *r = res;
	struct be_sattr sattr;
	struct be_attr attr;
	struct be_cred cred;
	struct nfs4_fh *fh;
	bitmap4 set = {0};
	uint32_t status;
	int rc;

	status = nfs4_cur_fh_writable(c, &fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_attr_decode_set(&a->obj_attributes, &c->srv->idmap, &sattr, &set,
					      c->call->arena);
	/* The stateid matters for a size change, which is a write (RFC 8881 §18.30.3). */
	if (status == NFS4_OK && (sattr.mask & BE_SET_SIZE))
		status = nfs4_grace_check_io(c, &a->stateid, true);
	if (status == NFS4_OK)
		status = nfs4_stateid_check_io(c, &a->stateid, fh, (sattr.mask & BE_SET_SIZE) != 0);
	/* What another client caches under a delegation: its size, mode and owners. */
	if (status == NFS4_OK &&
	    (sattr.mask & (BE_SET_SIZE | BE_SET_MODE | BE_SET_UID | BE_SET_GID)))
		status = nfs4_deleg_break_fh(c, fh, true);
	if (status != NFS4_OK) {
		memset(&r->attrsset, 0, sizeof(r->attrsset));
		return status;
	}
	rc = fh->exp->be->ops->setattr(fh->exp->be, &cred, &fh->bfh, &sattr, &attr);
	if (rc < 0)
		return nfs4_status_from_errno(rc); /* nothing was set: attrsset stays empty */
	r->attrsset = set;
	return NFS4_OK;
}

static uint32_t nfs4_verify_common(struct nfs4_compound *c, const struct fattr4 *want)
{
	struct nfs4_obj_attrs oa;
	struct nfs4_attrmask m;
	struct nfs4_fh *fh;
	bitmap4 request;
	uint32_t status;

	status = nfs4_cur_fh(c, &fh, NULL, NULL);
	if (status != NFS4_OK)
		return status;
	nfs4_attrmask_from_bitmap(&m, &want->attrmask);
	nfs4_attrmask_to_bitmap(&m, &request);
	status = nfs4_obj_attrs(c, fh, &request, &oa);
	if (status != NFS4_OK)
		return status;
	return nfs4_attr_compare(want, &oa.src);
}

uint32_t nfs4_op_verify(struct nfs4_compound *c, void *args, void *res)
{
	uint32_t status = nfs4_verify_common(c, &((struct VERIFY4args *)args)->obj_attributes);

	return status == NFS4ERR_SAME ? NFS4_OK : status;
}

uint32_t nfs4_op_nverify(struct nfs4_compound *c, void *args, void *res)
{
	uint32_t status = nfs4_verify_common(c, &((struct NVERIFY4args *)args)->obj_attributes);

	return status == NFS4ERR_NOT_SAME ? NFS4_OK : status;
}

#define ACCESS4_ALL                                                                         \
	(ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE | \
	 ACCESS4_EXECUTE)

uint32_t nfs4_op_access(struct nfs4_compound *c, void *args, void *res)
{
	const struct ACCESS4args *a = args;
	struct ACCESS4resok *ok = &((struct ACCESS4res *)res)->u.resok4;
	static const struct {
		uint32_t bit;
		int mode;
	} checks[] = {
		{ACCESS4_READ, R_OK},	{ACCESS4_LOOKUP, X_OK}, {ACCESS4_MODIFY, W_OK},
		{ACCESS4_EXTEND, W_OK}, {ACCESS4_DELETE, W_OK}, {ACCESS4_EXECUTE, X_OK},
	};
	const struct nfs4_export_rule *rule;
	struct be_cred cred;
	struct be_attr attr;
	struct nfs4_fh *fh;
	uint32_t status, applicable;

	if (a->access & ~(uint32_t)ACCESS4_ALL)
		return NFS4ERR_INVAL;
	status = nfs4_cur_fh(c, &fh, &rule, &cred);
	if (status != NFS4_OK)
		return status;
	if (fh->kind == NFS4_FH_PSEUDO) {
		ok->supported = a->access & (ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY |
					     ACCESS4_EXTEND | ACCESS4_DELETE);
		ok->access = ok->supported & (ACCESS4_READ | ACCESS4_LOOKUP);
		return NFS4_OK;
	}
	if (fh->exp->be->ops->getattr(fh->exp->be, &cred, &fh->bfh, &attr) == 0 &&
	    attr.type == BE_DIR)
		applicable = ACCESS4_ALL & ~(uint32_t)ACCESS4_EXECUTE;
	else
		applicable = ACCESS4_ALL & ~(uint32_t)(ACCESS4_LOOKUP | ACCESS4_DELETE);
	ok->supported = a->access & applicable;
	ok->access = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		uint32_t bit = checks[i].bit;

		if (!(ok->supported & bit))
			continue;
		if (checks[i].mode == W_OK && !rule->rw)
			continue;
		if (fh->exp->be->ops->access(fh->exp->be, &cred, &fh->bfh, checks[i].mode) == 0)
			ok->access |= bit;
	}
	return NFS4_OK;
}
