/*
 * File handles and the pseudo-filesystem.
 *
 * An nfs_fh4 on the wire (≤ NFS4_FHSIZE = 128 bytes):
 *   byte 0     format version (1)
 *   byte 1     kind: NFS4_FH_PSEUDO or NFS4_FH_EXPORT
 *   bytes 2-5  pseudo node index, or export id (big-endian)
 *   bytes 6-   the backend's handle (export kind only, ≤ BE_FH_MAX)
 * Export ids come from fsid= or a hash of the export path, so handles stay
 * valid across restarts when the backend's handles do.
 *
 * The pseudo-filesystem joins the exports under one root: a tree of
 * read-only directories, one node per path component of each export path.
 * A node where an export is mounted leads into that export's root. A client
 * sees only the nodes that lead to exports it may use.
 */
#ifndef NFS4D_NFS4_FH_H
#define NFS4D_NFS4_FH_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "nfs4/export.h"
#include "xdr/xdr.h"

#define NFS4_FH_VERSION 1
#define NFS4_FH_HDR 6

enum nfs4_fh_kind { NFS4_FH_NONE = 0, NFS4_FH_PSEUDO = 1, NFS4_FH_EXPORT = 2 };

struct nfs4_pseudo_node {
	char name[BE_NAME_MAX + 1];
	uint32_t parent;	 /* index; the root is its own parent */
	struct nfs4_export *exp; /* mounted here, or NULL */
};

struct nfs4_pseudo {
	struct nfs4_pseudo_node *nodes; /* [0] is the root */
	uint32_t n;
};

/* A decoded filehandle: the COMPOUND's current or saved filehandle. */
struct nfs4_fh {
	enum nfs4_fh_kind kind;
	uint32_t node;		 /* NFS4_FH_PSEUDO */
	struct nfs4_export *exp; /* NFS4_FH_EXPORT */
	struct be_fh bfh;	 /* NFS4_FH_EXPORT */
};

/*
 * What the server serves now: published with rcu_publish, read with rcu_fetch
 * inside an RCU read-side section (a COMPOUND holds one for its whole run),
 * retired after a reload publishes the next. The exports are the server's
 * (exports_live.c): they outlive every table.
 */
struct nfs4_export_table {
	struct nfs4_pseudo pseudo;
	struct nfs4_export **v;
	int n;
	struct rcu_head rcu;
};

/*
 * Builds the pseudo tree of exports v[0..n). prev, if not NULL, is the tree
 * served until now: its nodes keep their numbers (they are in pseudo file
 * handles), unmounted; the tree only grows. Returns 0, or -1 with a reason
 * (nested exports are not supported yet).
 */
int nfs4_pseudo_build(struct nfs4_pseudo *ps, const struct nfs4_pseudo *prev,
		      struct nfs4_export *const *v, int n, char *err, size_t errlen);
void nfs4_pseudo_free(struct nfs4_pseudo *ps);
/* The child of node called name, or UINT32_MAX. */
uint32_t nfs4_pseudo_child(const struct nfs4_pseudo *ps, uint32_t node, const char *name);
/* Whether node leads to an export the peer may use. */
bool nfs4_pseudo_visible(const struct nfs4_pseudo *ps, uint32_t node,
			 const struct sockaddr_storage *peer);
/* The pseudo node at which exp is mounted. */
uint32_t nfs4_pseudo_node_of(const struct nfs4_pseudo *ps, const struct nfs4_export *exp);

/* Encodes fh into buf (NFS4_FHSIZE bytes); returns its length. */
uint32_t nfs4_fh_encode(const struct nfs4_fh *fh, uint8_t *buf);
/*
 * Decodes a handle from the wire: NFS4_OK, NFS4ERR_BADHANDLE or NFS4ERR_STALE
 * (an export that is not in tab: removed by a reload, or never was).
 */
uint32_t nfs4_fh_decode(const struct xdr_opaque *wire, const struct nfs4_export_table *tab,
			struct nfs4_fh *out);
/*
 * The handle of a pseudo node: the root of the export mounted there if any
 * (returns its backend's -errno on failure), else the node itself.
 */
int nfs4_fh_of_node(const struct nfs4_pseudo *ps, uint32_t node, struct nfs4_fh *out);

#endif
