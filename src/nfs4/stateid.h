/*
 * Open and lock state shared by the OPEN/CLOSE/LOCK operations and by every
 * operation that takes a stateid (RFC 8881 §8.2). See state.h for the
 * objects and their locks.
 */
#ifndef NFS4D_NFS4_STATEID_H
#define NFS4D_NFS4_STATEID_H

#include "nfs4/compound.h"

/* Kinds for nfs4_stateid_resolve(): bits 1 << NFS4_STID_*, and */
#define NFS4_STID_ANY (1u << NFS4_STID_OPEN | 1u << NFS4_STID_LOCK | 1u << NFS4_STID_DELEG)
/*
 * FREE_STATEID: a revoked stateid (revoke.h) is forgotten, and resolves to
 * NFS4_OK with no stid, instead of answering its reason's error.
 */
#define NFS4_STID_FREE_REVOKED (1u << 31)

/* The result of resolving a stateid argument. */
struct nfs4_stateid_ref {
	struct nfs4_stid *stid; /* holds a reference; NULL for a special stateid */
	bool anonymous;		/* all-zero: no state, subject to share reservations */
	bool bypass;		/* all-ones: READ bypassing share reservations */
};

/*
 * Resolves sid for an operation of this COMPOUND's client: the special
 * stateids, the current stateid, the seqid rules (0 = current; older:
 * NFS4ERR_OLD_STATEID; newer: NFS4ERR_BAD_STATEID), NFS4ERR_STALE_STATEID
 * for an earlier server instance, NFS4ERR_EXPIRED for a client that is gone,
 * the reason's error for a revoked stateid of this client (revoke.h),
 * NFS4ERR_BAD_STATEID for anything else that is not a live stateid of one of
 * the kinds in kinds (bits 1 << NFS4_STID_*). Specials are refused unless
 * allow_special. Release with nfs4_stateid_ref_put().
 */
uint32_t nfs4_stateid_resolve(struct nfs4_compound *c, const struct stateid4 *sid, uint32_t kinds,
			      bool allow_special, struct nfs4_stateid_ref *out);
void nfs4_stateid_ref_put(struct nfs4_stateid_ref *r);
/* nfs4_stateid_resolve() of a non-special stateid that must be for the current filehandle's file.
 */
uint32_t nfs4_stateid_resolve_cur(struct nfs4_compound *c, const struct stateid4 *sid,
				  uint32_t kinds, struct nfs4_stateid_ref *out);
/*
 * Whether a resolved stid is still in force: NFS4_OK, or the error its use
 * answers once it is gone (closed: NFS4ERR_BAD_STATEID; revoked meanwhile:
 * the reason's). Caller holds the client's state_lock.
 */
uint32_t nfs4_stid_status_locked(const struct nfs4_stid *stid);
/* The wire form of stid (its current seqid). Caller holds the client's state_lock. */
void nfs4_stid_to_wire(const struct nfs4_stid *stid, struct stateid4 *out);
/* Sets the COMPOUND's current stateid (RFC 8881 §16.2.3.1.2). */
void nfs4_set_current_stateid(struct nfs4_compound *c, const struct stateid4 *sid);

/*
 * Checks that an I/O on fh with this stateid is allowed: the stateid is for
 * fh's file, and its open grants write for a write; an anonymous I/O must not
 * hit another open's share deny (NFS4ERR_LOCKED).
 */
uint32_t nfs4_stateid_check_io(struct nfs4_compound *c, const struct stateid4 *sid,
			       const struct nfs4_fh *fh, bool write);

/* Whether fh is f (a stateid for another file gets NFS4ERR_BAD_STATEID). */
bool nfs4_file_is(const struct nfs4_file *f, const struct nfs4_fh *fh);
/* Frees owner if no stateid uses it any more. Caller holds the client's state_lock. */
void nfs4_owner_put_unused_locked(struct nfs4_owner *owner);

/* Files with state. nfs4_file_get() returns a new reference. */
struct nfs4_file *nfs4_file_get(struct nfs4_server *srv, struct nfs4_export *exp,
				const struct be_fh *bfh);
struct nfs4_file *nfs4_file_find(struct nfs4_server *srv, struct nfs4_export *exp,
				 const struct be_fh *bfh);
void nfs4_file_put(struct nfs4_file *f);

/* Owners of clp, created on first use. Caller holds clp->state_lock. NULL on ENOMEM. */
struct nfs4_owner *nfs4_owner_get_locked(struct nfs4_client *clp, bool is_lock,
					 const struct xdr_opaque *name);
/*
 * A new stateid of clp on file for owner, hashed, with seqid 1 (size: of
 * the containing struct). Caller holds clp->state_lock. NULL on ENOMEM.
 */
struct nfs4_stid *nfs4_stid_new_locked(struct nfs4_server *srv, struct nfs4_client *clp,
				       enum nfs4_stid_kind kind, size_t size,
				       struct nfs4_file *file, struct nfs4_owner *owner);
/* Unhashes stid and unlinks it from its client (not from its file). Caller holds state_lock. */
void nfs4_stid_unhash_locked(struct nfs4_stid *stid);

uint32_t nfs4_op_test_stateid(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_free_stateid(struct nfs4_compound *c, void *args, void *res);

#endif
