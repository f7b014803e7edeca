/*
 * Delegations (RFC 8881 §10.2-10.4): granting them in OPEN, recalling them
 * when another client (or a conflicting operation) needs the file, DELEGRETURN,
 * CB_GETATTR for files under a write delegation, and revoking what is not
 * returned within a lease. The objects are in state.h; the calls go through
 * the callback engine (callback.h).
 */
#ifndef NFS4D_NFS4_DELEG_H
#define NFS4D_NFS4_DELEG_H

#include "nfs4/compound.h"

/*
 * OPEN just opened file (access: OPEN4_SHARE_ACCESS_*, want: the WANT bits)
 * for this COMPOUND's client: grants a delegation when it is safe and says
 * in out which one, or why none (§18.16.3). change: the file's change now.
 */
void nfs4_deleg_offer(struct nfs4_compound *c, struct nfs4_file *file, uint32_t access,
		      uint32_t want, uint64_t change, struct open_delegation4 *out);

/*
 * OPEN CLAIM_PREVIOUS (in grace) reclaimed file with a delegation of type the
 * client held before a restart (RFC 8881 §10.2.1): given back where it can
 * still be protected (vfs: the lease can be taken), else none.
 */
void nfs4_deleg_reclaim(struct nfs4_compound *c, struct nfs4_file *file, uint32_t type,
			uint64_t change, struct open_delegation4 *out);

/*
 * A delegation of type on file for this COMPOUND's client, in force from now
 * on, with lease (backend_ops.deleg_get's handle, or NULL) now its own; NULL
 * when out of memory. Nothing is checked: the caller knows it may. Caller
 * holds the client's state_lock and file->lock.
 */
struct nfs4_deleg *nfs4_deleg_new_locked(struct nfs4_compound *c, struct nfs4_file *file,
					 uint32_t type, uint64_t change, void *lease);
/* OPEN's answer for dp, just made. Caller holds its file's lock. */
void nfs4_deleg_result(const struct nfs4_deleg *dp, struct open_delegation4 *out);

/*
 * Before an operation of this COMPOUND's client on a file: delegations that
 * other clients hold and that it conflicts with are recalled, and it gets
 * NFS4ERR_DELAY until they are returned or revoked (kept ones, which nobody
 * could return, are released at once: deleg_prev.h). modify: the operation
 * changes the file (or opens it for write or with a deny): every delegation
 * conflicts; otherwise (a read) only write delegations do.
 */
uint32_t nfs4_deleg_break(struct nfs4_compound *c, struct nfs4_file *file, bool modify);
/* The same for the file fh names; NFS4_OK for anything that is not an export's file. */
uint32_t nfs4_deleg_break_fh(struct nfs4_compound *c, const struct nfs4_fh *fh, bool modify);
/* The same for name in directory dir (REMOVE, RENAME): NFS4_OK if it does not exist. */
uint32_t nfs4_deleg_break_name(struct nfs4_compound *c, const struct nfs4_fh *dir,
			       const struct be_cred *cred, const char *name);

/*
 * GETATTR of size or change by another client on a file under a write
 * delegation: the holder is asked with CB_GETATTR and the caller told
 * NFS4ERR_DELAY; once it answered, attr gets its size and change.
 */
uint32_t nfs4_deleg_getattr(struct nfs4_compound *c, const struct nfs4_fh *fh,
			    struct be_attr *attr);

/* The callback engine's questions and answers: is dp still in force (a recall or getattr has a
 * purpose)? */
bool nfs4_deleg_needs_callback(struct nfs4_deleg *dp);
void nfs4_deleg_getattr_done(struct nfs4_deleg *dp, bool has_size, uint64_t size, bool has_change,
			     uint64_t change);

/* Revokes delegations recalled more than a lease ago; called by the laundromat. */
void nfs4_delegs_revoke_overdue(struct nfs4_server *srv);
/* Ends dp (DELEGRETURN, FREE_STATEID of a revoked one, its client going). Caller holds the
 * client's state_lock. */
void nfs4_deleg_release_locked(struct nfs4_deleg *dp);

/*
 * Local users of a backend's files (vfs: fcntl leases) recall and, when they
 * are let in anyway, revoke the delegations on them: nfs4_deleg_watch when
 * an export's backend opens, nfs4_delegs_unwatch (all exports) before the
 * callback engine stops.
 */
void nfs4_deleg_watch(struct nfs4_server *srv, struct backend *be);
void nfs4_delegs_unwatch(struct nfs4_server *srv);

uint32_t nfs4_op_delegreturn(struct nfs4_compound *c, void *args, void *res);

#endif
