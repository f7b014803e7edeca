/*
 * Filehandle operations (RFC 8881 §18): PUTFH, PUTROOTFH/PUTPUBFH, GETFH,
 * SAVEFH, RESTOREFH, LOOKUP, LOOKUPP, SECINFO, SECINFO_NO_NAME, and the
 * export checks every operation on a filehandle goes through.
 */
#include <errno.h>
#include <string.h>

#include "nfs4/compound.h"
#include "nfs4/status.h"

const struct sockaddr_storage *nfs4_peer(const struct nfs4_compound *c)
{
	/* No connection only in the fuzzer: an address that matches nothing but "*". */
	static const struct sockaddr_storage none = {.ss_family = AF_UNSPEC};

	return c->call->conn ? rpc_conn_peer(c->call->conn) : &none;
}

/* The export rule this caller gets on fh: NFS4ERR_ACCESS when its host is not allowed. */
static uint32_t nfs4_fh_rule(const struct nfs4_compound *c, const struct nfs4_fh *fh,
			     const struct nfs4_export_rule **rule)
{
	*rule = NULL;
	if (fh->kind == NFS4_FH_PSEUDO)
		return NFS4_OK;
	*rule = nfs4_export_match(fh->exp, nfs4_peer(c));
	return *rule ? NFS4_OK : NFS4ERR_ACCESS;
}

uint32_t nfs4_fh_check(const struct nfs4_compound *c, const struct nfs4_fh *fh,
		       const struct nfs4_export_rule **rule, struct be_cred *cred)
{
	const struct nfs4_export_rule *r;
	uint32_t status = nfs4_fh_rule(c, fh, &r);

	if (status != NFS4_OK)
		return status;
	if (r && !nfs4_export_admits(r, &c->call->cred, nfs4_peer(c)))
		return NFS4ERR_WRONGSEC;
	if (rule)
		*rule = r;
	if (cred && r) {
		nfs4_export_cred(r, &c->call->cred, cred);
	} else if (cred) {
		/* The pseudo-fs needs no identity; never leave one undefined. */
		memset(cred, 0, sizeof(*cred));
		cred->uid = cred->gid = 65534;
	}
	return NFS4_OK;
}

uint32_t nfs4_cur_fh(struct nfs4_compound *c, struct nfs4_fh **fh,
		     const struct nfs4_export_rule **rule, struct be_cred *cred)
{
	if (c->cur.kind == NFS4_FH_NONE)
		return NFS4ERR_NOFILEHANDLE;
	*fh = &c->cur;
	return nfs4_fh_check(c, &c->cur, rule, cred);
}

uint32_t nfs4_cur_fh_writable(struct nfs4_compound *c, struct nfs4_fh **fh, struct be_cred *cred)
{
	const struct nfs4_export_rule *rule;
	uint32_t status = nfs4_cur_fh(c, fh, &rule, cred);

	if (status == NFS4_OK && (!rule || !rule->rw))
		status = NFS4ERR_ROFS; /* a read-only export, or the pseudo-filesystem */
	return status;
}

uint32_t nfs4_saved_fh_writable(struct nfs4_compound *c, struct nfs4_fh **fh)
{
	const struct nfs4_export_rule *rule;
	uint32_t status;

	if (c->saved.kind == NFS4_FH_NONE)
		return NFS4ERR_NOFILEHANDLE;
	*fh = &c->saved;
	status = nfs4_fh_check(c, &c->saved, &rule, NULL);
	if (status == NFS4_OK && (!rule || !rule->rw))
		status = NFS4ERR_ROFS;
	return status;
}

uint32_t nfs4_component(const struct xdr_opaque *name, char *out)
{
	if (name->len == 0)
		return NFS4ERR_INVAL;
	if (name->len > BE_NAME_MAX)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(name->data, '/', name->len) || memchr(name->data, '\0', name->len))
		return NFS4ERR_BADNAME;
	memcpy(out, name->data, name->len);
	out[name->len] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return NFS4ERR_BADNAME;
	return NFS4_OK;
}

uint32_t nfs4_op_putfh(struct nfs4_compound *c, void *args, void *res)
{
	const struct PUTFH4args *a = args;
	struct nfs4_fh fh;
	uint32_t status = nfs4_fh_decode(&a->object, c->tab, &fh);

	if (status == NFS4_OK)
		c->cur = fh;
	return status;
}

uint32_t nfs4_op_putrootfh(struct nfs4_compound *c, void *args, void *res)
{
	int rc = nfs4_fh_of_node(&c->tab->pseudo, 0, &c->cur);

	if (rc < 0)
		c->cur.kind = NFS4_FH_NONE;
	return nfs4_status_from_errno(rc);
}

uint32_t nfs4_op_getfh(struct nfs4_compound *c, void *args, void *res)
{
	struct GETFH4resok *ok = &((struct GETFH4res *)res)->u.resok4;
	struct nfs4_fh *fh;
	uint32_t status = nfs4_cur_fh(c, &fh, NULL, NULL);
	uint8_t *buf;

	if (status != NFS4_OK)
		return status;
	buf = arena_alloc(c->call->arena, NFS4_FHSIZE);
	if (!buf)
		return NFS4ERR_RESOURCE;
	ok->object.len = nfs4_fh_encode(fh, buf);
	ok->object.data = buf;
	return NFS4_OK;
}

uint32_t nfs4_op_savefh(struct nfs4_compound *c, void *args, void *res)
{
	if (c->cur.kind == NFS4_FH_NONE)
		return NFS4ERR_NOFILEHANDLE;
	c->saved = c->cur;
	return NFS4_OK;
}

uint32_t nfs4_op_restorefh(struct nfs4_compound *c, void *args, void *res)
{
	if (c->saved.kind == NFS4_FH_NONE)
		return NFS4ERR_NOFILEHANDLE;
	c->cur = c->saved;
	return NFS4_OK;
}

/* The error for a name operation on something that is not a directory. */
static uint32_t nfs4_notdir_status(struct nfs4_compound *c, const struct nfs4_fh *fh,
				   const struct be_cred *cred)
{
	struct be_attr attr;

	if (fh->kind == NFS4_FH_EXPORT &&
	    fh->exp->be->ops->getattr(fh->exp->be, cred, &fh->bfh, &attr) == 0 &&
	    attr.type == BE_LNK)
		return NFS4ERR_SYMLINK;
	return NFS4ERR_NOTDIR;
}

/* Looks name up under fh into out: the pseudo tree, the mount point of an export, or a backend. */
static uint32_t nfs4_lookup_name(struct nfs4_compound *c, const struct nfs4_fh *fh,
				 const struct be_cred *cred, const char *name, struct nfs4_fh *out)
{
	const struct nfs4_pseudo *ps = &c->tab->pseudo;
	uint32_t child;
	int rc;

	if (fh->kind == NFS4_FH_PSEUDO) {
		child = nfs4_pseudo_child(ps, fh->node, name);
		if (child == UINT32_MAX || !nfs4_pseudo_visible(ps, child, nfs4_peer(c)))
			return NFS4ERR_NOENT;
		return nfs4_status_from_errno(nfs4_fh_of_node(ps, child, out));
	}
	*out = *fh;
	/* Only the handle: a backend may answer that from its name cache. */
	rc = fh->exp->be->ops->lookup(fh->exp->be, cred, &fh->bfh, name, &out->bfh, NULL);
	if (rc == -ENOTDIR)
		return nfs4_notdir_status(c, fh, cred);
	return nfs4_status_from_errno(rc);
}

uint32_t nfs4_op_lookup(struct nfs4_compound *c, void *args, void *res)
{
	const struct LOOKUP4args *a = args;
	char name[BE_NAME_MAX + 1];
	struct be_cred cred;
	struct nfs4_fh *fh, out;
	uint32_t status;

	status = nfs4_cur_fh(c, &fh, NULL, &cred);
	if (status == NFS4_OK)
		status = nfs4_component(&a->objname, name);
	if (status == NFS4_OK)
		status = nfs4_lookup_name(c, fh, &cred, name, &out);
	/* Crossing into an export this caller may not use is refused at the crossing. */
	if (status == NFS4_OK && fh->kind == NFS4_FH_PSEUDO)
		status = nfs4_fh_check(c, &out, NULL, NULL);
	if (status == NFS4_OK)
		c->cur = out;
	return status;
}

/* The parent of fh into out: within a backend, or up from an export root into the pseudo tree. */
static uint32_t nfs4_lookup_parent(struct nfs4_compound *c, const struct nfs4_fh *fh,
				   const struct be_cred *cred, struct nfs4_fh *out)
{
	const struct nfs4_pseudo *ps = &c->tab->pseudo;
	struct be_attr attr;
	uint32_t node;
	int rc;

	if (fh->kind == NFS4_FH_EXPORT) {
		*out = *fh;
		rc = fh->exp->be->ops->lookupp(fh->exp->be, cred, &fh->bfh, &out->bfh, &attr);
		if (rc == -ENOTDIR)
			return nfs4_notdir_status(c, fh, cred);
		if (rc != -ENOENT)
			return nfs4_status_from_errno(rc);
		node = nfs4_pseudo_node_of(ps, fh->exp); /* at the export's root */
	} else {
		node = fh->node;
	}
	if (node == 0)
		return NFS4ERR_NOENT;
	memset(out, 0, sizeof(*out));
	out->kind = NFS4_FH_PSEUDO;
	out->node = ps->nodes[node].parent;
	return NFS4_OK;
}

uint32_t nfs4_op_lookupp(struct nfs4_compound *c, void *args, void *res)
{
	struct be_cred cred;
	struct nfs4_fh *fh, out;
	uint32_t status = nfs4_cur_fh(c, &fh, NULL, &cred);

	if (status == NFS4_OK)
		status = nfs4_lookup_parent(c, fh, &cred, &out);
	if (status == NFS4_OK)
		c->cur = out;
	return status;
}

/*
 * The flavors a caller may use on fh, in our order of preference. The
 * pseudo-filesystem takes whatever any export takes.
 */
static uint32_t nfs4_secinfo_of(struct nfs4_compound *c, const struct nfs4_fh *fh,
				SECINFO4resok *ok)
{
	const struct nfs4_export_rule *rule;
	uint32_t flavors = 1u << RPC_AUTH_SYS | 1u << RPC_AUTH_NONE;
	uint32_t status = nfs4_fh_rule(c, fh, &rule);
	struct secinfo4 *v;

	if (status != NFS4_OK)
		return status;
	if (rule)
		flavors = rule->sec_flavors;
	v = arena_alloc(c->call->arena, 2 * sizeof(*v));
	if (!v)
		return NFS4ERR_RESOURCE;
	ok->len = 0;
	ok->val = v;
	if (flavors & (1u << RPC_AUTH_SYS))
		v[ok->len++].flavor = RPC_AUTH_SYS;
	if (flavors & (1u << RPC_AUTH_NONE))
		v[ok->len++].flavor = RPC_AUTH_NONE;
	return NFS4_OK;
}

/*
 * The current filehandle for SECINFO: checked for the host only, since
 * SECINFO is how a client learns which flavor to use (RFC 8881 §2.6.3.1.1),
 * with the caller's credentials on its export (anonymous on the pseudo-fs).
 */
static uint32_t nfs4_secinfo_fh(struct nfs4_compound *c, struct nfs4_fh **fh, struct be_cred *cred)
{
	const struct nfs4_export_rule *rule;
	uint32_t status;

	if (c->cur.kind == NFS4_FH_NONE)
		return NFS4ERR_NOFILEHANDLE;
	*fh = &c->cur;
	memset(cred, 0, sizeof(*cred));
	status = nfs4_fh_rule(c, *fh, &rule);
	if (status == NFS4_OK && rule)
		nfs4_export_cred(rule, &c->call->cred, cred);
	return status;
}

/* Both SECINFO ops consume the current filehandle (RFC 8881 §2.6.3.1.1.8). */
uint32_t nfs4_op_secinfo(struct nfs4_compound *c, void *args, void *res)
{
	const struct SECINFO4args *a = args;
	SECINFO4resok *ok = &((struct SECINFO4res *)res)->u.resok4;
	char name[BE_NAME_MAX + 1];
	struct be_cred cred;
	struct nfs4_fh *fh, out;
	uint32_t status;

	status = nfs4_secinfo_fh(c, &fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_component(&a->name, name);
	if (status == NFS4_OK)
		status = nfs4_lookup_name(c, fh, &cred, name, &out);
	if (status == NFS4_OK)
		status = nfs4_secinfo_of(c, &out, ok);
	if (status == NFS4_OK)
		c->cur.kind = NFS4_FH_NONE;
	return status;
}

uint32_t nfs4_op_secinfo_no_name(struct nfs4_compound *c, void *args, void *res)
{
	const SECINFO_NO_NAME4args *style = args;
	SECINFO4resok *ok = &((struct SECINFO4res *)res)->u.resok4;
	struct be_cred cred;
	struct nfs4_fh *fh, out;
	uint32_t status;

	status = nfs4_secinfo_fh(c, &fh, &cred);
	if (status != NFS4_OK)
		return status;
	if (*style == SECINFO_STYLE4_PARENT)
		status = nfs4_lookup_parent(c, fh, &cred, &out);
	else
		out = *fh;
	if (status == NFS4_OK)
		status = nfs4_secinfo_of(c, &out, ok);
	if (status == NFS4_OK)
		c->cur.kind = NFS4_FH_NONE;
	return status;
}
