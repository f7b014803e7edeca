#include "nfs4/fh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdr/nfs4_xdr.h"

static uint32_t nfs4_pseudo_add(struct nfs4_pseudo *ps, uint32_t parent, const char *name,
				size_t len)
{
	struct nfs4_pseudo_node *nodes = realloc(ps->nodes, (ps->n + 1) * sizeof(*nodes));

	if (!nodes)
		return UINT32_MAX;
	ps->nodes = nodes;
	memset(&nodes[ps->n], 0, sizeof(nodes[0]));
	memcpy(nodes[ps->n].name, name, len);
	nodes[ps->n].parent = parent;
	return ps->n++;
}

uint32_t nfs4_pseudo_child(const struct nfs4_pseudo *ps, uint32_t node, const char *name)
{
	for (uint32_t i = 1; i < ps->n; i++)
		if (ps->nodes[i].parent == node && strcmp(ps->nodes[i].name, name) == 0)
			return i;
	return UINT32_MAX;
}

/* Whether an export is mounted on a proper ancestor of node. */
static bool nfs4_pseudo_under_export(const struct nfs4_pseudo *ps, uint32_t node)
{
	while (node != 0) {
		node = ps->nodes[node].parent;
		if (ps->nodes[node].exp)
			return true;
	}
	return false;
}

int nfs4_pseudo_build(struct nfs4_pseudo *ps, const struct nfs4_pseudo *prev,
		      struct nfs4_export *const *v, int n, char *err, size_t errlen)
{
	memset(ps, 0, sizeof(*ps));
	if (prev) {
		ps->nodes = malloc(prev->n * sizeof(*ps->nodes));
		if (!ps->nodes)
			goto nomem;
		memcpy(ps->nodes, prev->nodes, prev->n * sizeof(*ps->nodes));
		ps->n = prev->n;
		for (uint32_t i = 0; i < ps->n; i++)
			ps->nodes[i].exp = NULL;
	} else if (nfs4_pseudo_add(ps, 0, "", 0) == UINT32_MAX) {
		goto nomem;
	}
	for (int i = 0; i < n; i++) {
		struct nfs4_export *exp = v[i];
		const char *p = exp->path;
		uint32_t node = 0;

		/* Export paths are normalised: "/" itself, or "/a/b" without empty components. */
		while (*p && p[1]) {
			const char *start = p + 1;
			size_t len = strcspn(start, "/");
			char name[BE_NAME_MAX + 1];
			uint32_t child;

			if (len > BE_NAME_MAX) {
				snprintf(err, errlen, "export %s: path component too long",
					 exp->path);
				goto fail;
			}
			memcpy(name, start, len);
			name[len] = '\0';
			child = nfs4_pseudo_child(ps, node, name);
			if (child == UINT32_MAX)
				child = nfs4_pseudo_add(ps, node, name, len);
			if (child == UINT32_MAX)
				goto nomem;
			node = child;
			p = start + len;
		}
		ps->nodes[node].exp = exp;
	}
	/* An export inside another would need crossing from one backend into another. */
	for (uint32_t i = 0; i < ps->n; i++) {
		if (ps->nodes[i].exp && nfs4_pseudo_under_export(ps, i)) {
			snprintf(err, errlen, "nested exports are not supported yet (%s)",
				 ps->nodes[i].exp->path);
			goto fail;
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	nfs4_pseudo_free(ps);
	return -1;
}

void nfs4_pseudo_free(struct nfs4_pseudo *ps)
{
	free(ps->nodes);
	ps->nodes = NULL;
	ps->n = 0;
}

bool nfs4_pseudo_visible(const struct nfs4_pseudo *ps, uint32_t node,
			 const struct sockaddr_storage *peer)
{
	for (uint32_t i = 0; i < ps->n; i++) {
		uint32_t a = i;

		if (!ps->nodes[i].exp || !nfs4_export_match(ps->nodes[i].exp, peer))
			continue;
		/* Is node an ancestor of (or equal to) i? */
		for (;;) {
			if (a == node)
				return true;
			if (a == 0)
				break;
			a = ps->nodes[a].parent;
		}
	}
	return false;
}

uint32_t nfs4_pseudo_node_of(const struct nfs4_pseudo *ps, const struct nfs4_export *exp)
{
	for (uint32_t i = 0; i < ps->n; i++)
		if (ps->nodes[i].exp == exp)
			return i;
	return 0;
}

int nfs4_fh_of_node(const struct nfs4_pseudo *ps, uint32_t node, struct nfs4_fh *out)
{
	struct nfs4_export *exp = ps->nodes[node].exp;

	memset(out, 0, sizeof(*out));
	if (!exp) {
		out->kind = NFS4_FH_PSEUDO;
		out->node = node;
		return 0;
	}
	out->kind = NFS4_FH_EXPORT;
	out->exp = exp;
	return exp->be->ops->root(exp->be, &out->bfh);
}

uint32_t nfs4_fh_encode(const struct nfs4_fh *fh, uint8_t *buf)
{
	uint32_t id = fh->kind == NFS4_FH_PSEUDO ? fh->node : fh->exp->id;

	buf[0] = NFS4_FH_VERSION;
	buf[1] = (uint8_t)fh->kind;
	xdr_put_be32(buf + 2, id);
	if (fh->kind != NFS4_FH_EXPORT)
		return NFS4_FH_HDR;
	memcpy(buf + NFS4_FH_HDR, fh->bfh.data, fh->bfh.len);
	return NFS4_FH_HDR + fh->bfh.len;
}

uint32_t nfs4_fh_decode(const struct xdr_opaque *wire, const struct nfs4_export_table *tab,
			struct nfs4_fh *out)
{
	const struct nfs4_pseudo *ps = &tab->pseudo;
	uint32_t id;

	memset(out, 0, sizeof(*out));
	if (wire->len < NFS4_FH_HDR || wire->len > NFS4_FH_HDR + BE_FH_MAX ||
	    wire->data[0] != NFS4_FH_VERSION)
		return NFS4ERR_BADHANDLE;
	id = xdr_get_be32(wire->data + 2);
	switch (wire->data[1]) {
	case NFS4_FH_PSEUDO:
		if (wire->len != NFS4_FH_HDR)
			return NFS4ERR_BADHANDLE;
		if (id >= ps->n)
			return NFS4ERR_STALE;
		out->kind = NFS4_FH_PSEUDO;
		out->node = id;
		return NFS4_OK;
	case NFS4_FH_EXPORT:
		if (wire->len == NFS4_FH_HDR)
			return NFS4ERR_BADHANDLE;
		for (int i = 0; i < tab->n; i++) {
			if (tab->v[i]->id != id)
				continue;
			out->kind = NFS4_FH_EXPORT;
			out->exp = tab->v[i];
			out->bfh.len = wire->len - NFS4_FH_HDR;
			memcpy(out->bfh.data, wire->data + NFS4_FH_HDR, out->bfh.len);
			return NFS4_OK;
		}
		return NFS4ERR_STALE; /* an export that is gone (or never was) */
	default:
		return NFS4ERR_BADHANDLE;
	}
}
