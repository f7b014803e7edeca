/* Directory operations (RFC 8881 §18): READDIR, READLINK, CREATE, REMOVE, RENAME, LINK. */
#include <errno.h>
#include <string.h>
#include <sys/param.h>

#include "nfs4/compound.h"
#include "nfs4/deleg.h"
#include "nfs4/grace.h"
#include "nfs4/status.h"

/* READDIR's walk: encodes entries into c->res until the budget is spent. */
struct nfs4_readdir {
	struct nfs4_compound *c;
	const struct nfs4_fh *dir;
	const struct be_cred *cred;
	const bitmap4 *request;
	uint32_t dircount; /* the client's dircount hint; 0 = none */
	uint32_t dirbytes; /* what dircount counts so far */
	uint32_t nentries;
	uint32_t status; /* an error that ends READDIR */
	bool full;	 /* stopped because the budget was spent */
};

/*
 * Attributes of one entry (known: from the backend's readdir, or NULL):
 * rdattr_error set (and attr NULL) when they cannot be had.
 */
static void nfs4_readdir_entry_attrs(struct nfs4_readdir *rd, const struct nfs4_fh *child,
				     const struct be_attr *known, uint32_t lookup_status,
				     struct nfs4_obj_attrs *oa)
{
	uint32_t status = lookup_status;

	if (status == NFS4_OK)
		status = nfs4_obj_attrs_known(rd->c, child, known, rd->request, oa);
	if (status != NFS4_OK) {
		memset(&oa->src, 0, sizeof(oa->src));
		oa->src.rdattr_error = status;
	}
}

/* Encodes one entry; false when it does not fit (nothing of it is left in the reply). */
static bool nfs4_readdir_put(struct nfs4_readdir *rd, uint64_t cookie, const char *name,
			     uint32_t namelen, const struct nfs4_obj_attrs *oa)
{
	struct xdr_enc *res = rd->c->res;
	struct xdr_opaque n = {namelen, (const uint8_t *)name};
	size_t mark = res->len;
	uint32_t cost = 8 + 4 + (uint32_t)XDR_PAD(namelen);
	uint32_t status;

	if (rd->dircount && rd->nentries > 0 && rd->dirbytes + cost > rd->dircount)
		goto full;
	xdr_enc_bool(res, true);
	xdr_enc_u64(res, cookie);
	xdr_enc_opaque(res, &n, XDR_UNLIMITED);
	status = nfs4_attr_encode(res, rd->request, &oa->src);
	if (res->overflow)
		goto full;
	if (status != NFS4_OK) {
		/* rdattr_error was not requested: the entry's error fails READDIR. */
		res->len = mark;
		rd->status = status;
		return false;
	}
	rd->dirbytes += cost;
	rd->nentries++;
	return true;
full:
	res->len = mark;
	res->overflow = false;
	rd->full = true;
	return false;
}

/*
 * True when request asks only for what a directory entry itself tells (type
 * and fileid, as ls and find ask): then no entry is looked up. A child of a
 * directory inside an export is never an export's root, so its
 * mounted_on_fileid is its fileid.
 */
static bool nfs4_readdir_dirent_only(const bitmap4 *request)
{
	static const uint32_t only[2] = {
		(1u << FATTR4_TYPE) | (1u << FATTR4_FILEID) | (1u << FATTR4_RDATTR_ERROR),
		1u << (FATTR4_MOUNTED_ON_FILEID - 32),
	};

	for (uint32_t i = 0; i < request->len; i++)
		if (request->val[i] & ~(i < 2 ? only[i] : 0))
			return false;
	return true;
}

static void nfs4_readdir_dirent_attrs(const struct be_dirent *ent, struct nfs4_obj_attrs *oa)
{
	memset(&oa->src, 0, sizeof(oa->src));
	memset(&oa->attr, 0, sizeof(oa->attr));
	oa->attr.type = ent->type;
	oa->attr.fileid = ent->fileid;
	oa->src.attr = &oa->attr;
	oa->src.mounted_on_fileid = ent->fileid;
}

static bool nfs4_readdir_backend_entry(void *ctx, const struct be_dirent *ent)
{
	struct nfs4_readdir *rd = ctx;
	struct nfs4_obj_attrs oa;
	struct nfs4_fh child = *rd->dir;
	struct be_attr attr;
	uint32_t status = NFS4_OK;
	char name[BE_NAME_MAX + 1];
	int rc;

	if (ent->namelen > BE_NAME_MAX)
		return true;
	memcpy(name, ent->name, ent->namelen);
	name[ent->namelen] = '\0';
	if (rd->request->len > 0 && nfs4_readdir_dirent_only(rd->request)) {
		nfs4_readdir_dirent_attrs(ent, &oa);
	} else if (rd->request->len > 0 && ent->fh && ent->attr) {
		child.bfh = *ent->fh;
		nfs4_readdir_entry_attrs(rd, &child, ent->attr, NFS4_OK, &oa);
	} else if (rd->request->len > 0) {
		/* The backend's own way to the entry, else a lookup; either gives the attributes.
		 */
		if (ent->lookup)
			rc = ent->lookup(ent, &child.bfh, &attr);
		else
			rc = rd->dir->exp->be->ops->lookup(rd->dir->exp->be, rd->cred,
							   &rd->dir->bfh, name, &child.bfh, &attr);
		status = nfs4_status_from_errno(rc);
		nfs4_readdir_entry_attrs(rd, &child, rc == 0 ? &attr : NULL, status, &oa);
	} else {
		memset(&oa.src, 0, sizeof(oa.src));
		oa.src.attr = &oa.attr;
	}
	return nfs4_readdir_put(rd, ent->cookie, name, ent->namelen, &oa);
}

/* A pseudo-fs directory lists the child nodes this client may see; cookie = node + 3. */
static void nfs4_readdir_pseudo(struct nfs4_readdir *rd, uint64_t cookie, bool *eof)
{
	const struct nfs4_pseudo *ps = &rd->c->tab->pseudo;
	const struct sockaddr_storage *peer = nfs4_peer(rd->c);

	*eof = true;
	for (uint32_t i = cookie ? (uint32_t)(cookie - 2) : 1; i < ps->n; i++) {
		struct nfs4_obj_attrs oa;
		struct nfs4_fh child;
		uint32_t status;

		if (ps->nodes[i].parent != rd->dir->node || !nfs4_pseudo_visible(ps, i, peer))
			continue;
		status = nfs4_status_from_errno(nfs4_fh_of_node(ps, i, &child));
		nfs4_readdir_entry_attrs(rd, &child, NULL, status, &oa);
		if (!nfs4_readdir_put(rd, (uint64_t)i + 3, ps->nodes[i].name,
				      (uint32_t)strlen(ps->nodes[i].name), &oa)) {
			*eof = false;
			return;
		}
	}
}

uint32_t nfs4_op_readdir(struct nfs4_compound *c, void *args, void *res)
{
	const struct READDIR4args *a = args;
	struct nfs4_readdir rd = {.c = c, .request = &a->attr_request, .dircount = a->dircount};
	struct xdr_enc *out = c->res;
	struct be_cred cred;
	struct nfs4_fh *fh;
	size_t verf_pos, cap = out->cap;
	uint64_t verifier = 0;
	bool eof = false;
	uint32_t status;
	int rc = 0;

	status = nfs4_cur_fh(c, &fh, NULL, &cred);
	if (status != NFS4_OK)
		return status;
	if (a->cookie == 1 || a->cookie == 2)
		return NFS4ERR_BAD_COOKIE;
	if (nfs4_attr_wants_writeonly(&a->attr_request))
		return NFS4ERR_INVAL;
	/* The reply body is the verifier, the entries, and 8 bytes of list end and eof. */
	if (a->maxcount < 8 + 8)
		return NFS4ERR_TOOSMALL;
	rd.dir = fh;
	rd.cred = &cred;
	verf_pos = out->len;
	xdr_enc_u64(out, 0);
	/* Entries end where maxcount or the reply buffer says, less the 8 bytes of list end. */
	out->cap = MIN(out->len + a->maxcount - 16, cap - 8);
	if (fh->kind == NFS4_FH_PSEUDO) {
		verifier = c->srv->boot_epoch;
		nfs4_readdir_pseudo(&rd, a->cookie, &eof);
	} else {
		rc = fh->exp->be->ops->readdir(fh->exp->be, &cred, &fh->bfh, a->cookie,
					       nfs4_readdir_backend_entry, &rd, &verifier, &eof);
	}
	out->cap = cap;
	if (rc < 0)
		return rc == -ENOTDIR ? NFS4ERR_NOTDIR : nfs4_status_from_errno(rc);
	if (rd.status != NFS4_OK)
		return rd.status;
	if (a->cookie != 0 && memcmp(&verifier, a->cookieverf.data, 8) != 0) {
		uint64_t zero = 0;

		/* Linux sends a zero verifier with a cookie now and then; accept that. */
		if (memcmp(&zero, a->cookieverf.data, 8) != 0)
			return NFS4ERR_NOT_SAME;
	}
	if (rd.nentries == 0 && rd.full)
		return NFS4ERR_TOOSMALL;
	memcpy(out->base + verf_pos, &verifier, 8);
	xdr_enc_bool(out, false);
	xdr_enc_bool(out, eof && !rd.full);
	return NFS4_OK;
}

uint32_t nfs4_op_readlink(struct nfs4_compound *c, void *args, void *res)
{
	struct READLINK4resok *ok = &((struct READLINK4res *)res)->u.resok4;
	struct be_cred cred;
	struct nfs4_fh *fh;
	size_t len = BE_PATH_MAX;
	uint32_t status;
	char *buf;
	int rc;

	status = nfs4_cur_fh(c, &fh, NULL, &cred);
	if (status != NFS4_OK)
		return status;
	if (fh->kind == NFS4_FH_PSEUDO)
		return NFS4ERR_INVAL;
	buf = arena_alloc(c->call->arena, BE_PATH_MAX);
	if (!buf)
		return NFS4ERR_RESOURCE;
	rc = fh->exp->be->ops->readlink(fh->exp->be, &cred, &fh->bfh, buf, &len);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	ok->link.len = (uint32_t)len;
	ok->link.data = (const uint8_t *)buf;
	return NFS4_OK;
}

static void nfs4_cinfo(struct change_info4 *ci, const struct be_dirchange *dc)
{
	ci->atomic = dc->atomic;
	ci->before = dc->before;
	ci->after = dc->after;
}

static bool nfs4_ftype_to_be(uint32_t type, enum be_ftype *out)
{
	switch (type) {
	case NF4DIR:
		*out = BE_DIR;
		return true;
	case NF4LNK:
		*out = BE_LNK;
		return true;
	case NF4BLK:
		*out = BE_BLK;
		return true;
	case NF4CHR:
		*out = BE_CHR;
		return true;
	case NF4SOCK:
		*out = BE_SOCK;
		return true;
	case NF4FIFO:
		*out = BE_FIFO;
		return true;
	default:
		return false; /* regular files are made by OPEN; named attributes are not supported
			       */
	}
}

uint32_t nfs4_op_create(struct nfs4_compound *c, void *args, void *res)
{
	const struct CREATE4args *a = args;
	struct CREATE4resok *ok = &((struct CREATE4res *)res)->u.resok4;
	char name[BE_NAME_MAX + 1], *target = NULL;
	uint32_t major = 0, minor = 0, status;
	struct be_sattr sattr;
	struct be_dirchange dc;
	struct be_attr attr;
	struct be_cred cred;
	struct nfs4_fh *fh, out;
	enum be_ftype type;
	bitmap4 set = {0};
	int rc;

	status = nfs4_cur_fh_writable(c, &fh, &cred);
	if (status != NFS4_OK)
		return status;
	if (!nfs4_ftype_to_be(a->objtype.type, &type))
		return NFS4ERR_BADTYPE;
	status = nfs4_component(&a->objname, name);
	if (status == NFS4_OK)
		status = nfs4_attr_decode_set(&a->createattrs, &c->srv->idmap, &sattr, &set,
					      c->call->arena);
	if (status != NFS4_OK)
		return status;
	if (!(sattr.mask & BE_SET_MODE)) {
		sattr.mask |= BE_SET_MODE;
		sattr.mode = type == BE_DIR ? 0755 : type == BE_LNK ? 0777 : 0644;
	}
	if (type == BE_LNK) {
		const struct xdr_opaque *l = &a->objtype.u.linkdata;

		if (l->len == 0 || l->len >= BE_PATH_MAX || memchr(l->data, '\0', l->len))
			return NFS4ERR_INVAL;
		target = arena_alloc(c->call->arena, l->len + 1);
		if (!target)
			return NFS4ERR_RESOURCE;
		memcpy(target, l->data, l->len);
		target[l->len] = '\0';
	} else if (type == BE_BLK || type == BE_CHR) {
		major = a->objtype.u.devdata.specdata1;
		minor = a->objtype.u.devdata.specdata2;
	}
	out = *fh;
	rc = fh->exp->be->ops->create(fh->exp->be, &cred, &fh->bfh, name, type, &sattr, target,
				      major, minor, &out.bfh, &attr, &dc);
	if (rc == -ENOTDIR)
		return NFS4ERR_NOTDIR;
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	nfs4_cinfo(&ok->cinfo, &dc);
	ok->attrset = set;
	c->cur = out;
	return NFS4_OK;
}

uint32_t nfs4_op_remove(struct nfs4_compound *c, void *args, void *res)
{
	const struct REMOVE4args *a = args;
	struct REMOVE4resok *ok = &((struct REMOVE4res *)res)->u.resok4;
	char name[BE_NAME_MAX + 1];
	struct be_dirchange dc;
	struct be_cred cred;
	struct nfs4_fh *fh;
	uint32_t status;
	int rc;

	status = nfs4_cur_fh_writable(c, &fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_component(&a->target, name);
	if (status == NFS4_OK)
		status = nfs4_grace_check_namespace(c);
	if (status == NFS4_OK)
		status = nfs4_deleg_break_name(c, fh, &cred, name);
	if (status != NFS4_OK)
		return status;
	rc = fh->exp->be->ops->remove(fh->exp->be, &cred, &fh->bfh, name, &dc);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	nfs4_cinfo(&ok->cinfo, &dc);
	return NFS4_OK;
}

uint32_t nfs4_op_rename(struct nfs4_compound *c, void *args, void *res)
{
	const struct RENAME4args *a = args;
	struct RENAME4resok *ok = &((struct RENAME4res *)res)->u.resok4;
	char oldname[BE_NAME_MAX + 1], newname[BE_NAME_MAX + 1];
	struct be_dirchange sdc, ddc;
	struct be_cred cred;
	struct nfs4_fh *src, *dst;
	uint32_t status;
	int rc;

	status = nfs4_saved_fh_writable(c, &src);
	if (status == NFS4_OK)
		status = nfs4_cur_fh_writable(c, &dst, &cred);
	if (status == NFS4_OK && src->exp != dst->exp)
		status = NFS4ERR_XDEV;
	if (status == NFS4_OK)
		status = nfs4_component(&a->oldname, oldname);
	if (status == NFS4_OK)
		status = nfs4_component(&a->newname, newname);
	if (status == NFS4_OK)
		status = nfs4_grace_check_namespace(c);
	/* The file renamed, and the one the new name replaces, if any. */
	if (status == NFS4_OK)
		status = nfs4_deleg_break_name(c, src, &cred, oldname);
	if (status == NFS4_OK)
		status = nfs4_deleg_break_name(c, dst, &cred, newname);
	if (status != NFS4_OK)
		return status;
	rc = dst->exp->be->ops->rename(dst->exp->be, &cred, &src->bfh, oldname, &dst->bfh, newname,
				       &sdc, &ddc);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	nfs4_cinfo(&ok->source_cinfo, &sdc);
	nfs4_cinfo(&ok->target_cinfo, &ddc);
	return NFS4_OK;
}

uint32_t nfs4_op_link(struct nfs4_compound *c, void *args, void *res)
{
	const struct LINK4args *a = args;
	struct LINK4resok *ok = &((struct LINK4res *)res)->u.resok4;
	char name[BE_NAME_MAX + 1];
	struct be_dirchange dc;
	struct be_attr attr;
	struct be_cred cred;
	struct nfs4_fh *obj, *dir;
	uint32_t status;
	int rc;

	status = nfs4_saved_fh_writable(c, &obj);
	if (status == NFS4_OK)
		status = nfs4_cur_fh_writable(c, &dir, &cred);
	if (status == NFS4_OK && obj->exp != dir->exp)
		status = NFS4ERR_XDEV;
	if (status == NFS4_OK)
		status = nfs4_component(&a->newname, name);
	if (status == NFS4_OK)
		status = nfs4_deleg_break_fh(c, obj, true);
	if (status != NFS4_OK)
		return status;
	rc = obj->exp->be->ops->getattr(obj->exp->be, &cred, &obj->bfh, &attr);
	if (rc == 0 && attr.type == BE_DIR)
		return NFS4ERR_ISDIR;
	if (rc == 0)
		rc = dir->exp->be->ops->link(dir->exp->be, &cred, &obj->bfh, &dir->bfh, name, &dc);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	nfs4_cinfo(&ok->cinfo, &dc);
	return NFS4_OK;
}
