/*
 * Revoked state (RFC 8881 §8.2.4, §15.1.5.1, §18.46.3). State the server
 * takes away — a delegation not returned within a lease of its recall, what
 * the administrator revokes (nfs4ctl revoke), everything of a client whose
 * lease ran out — is released exactly as CLOSE, LOCKU and DELEGRETURN
 * release it, so other clients can have it at once. Its stateids stay
 * known in the client's revoked set: their use answers the reason's error,
 * TEST_STATEID says so, FREE_STATEID forgets them, and until then every
 * SEQUENCE carries the reason's status flag.
 *
 * The set holds ids, not objects: a revoked stateid keeps no file, owner or
 * memory beyond its 8 bytes. It lives under the client's state_lock; the
 * per-reason counts are atomics so that SEQUENCE reads them without it.
 */
#ifndef NFS4D_NFS4_REVOKE_H
#define NFS4D_NFS4_REVOKE_H

#include <stdbool.h>
#include <stdint.h>

struct nfs4_client;
struct nfs4_stid;

enum nfs4_revoke_reason {
	NFS4_REVOKE_RECALL,  /* a recalled delegation not returned: NFS4ERR_DELEG_REVOKED */
	NFS4_REVOKE_ADMIN,   /* nfs4ctl revoke: NFS4ERR_ADMIN_REVOKED */
	NFS4_REVOKE_EXPIRED, /* the client's lease ran out: NFS4ERR_EXPIRED */
	NFS4_REVOKE_NREASONS
};

struct nfs4_revoked {
	uint32_t id; /* the stateid counter: bytes 8..11 of its "other" */
	uint32_t reason;
};

/* Sorted by id, so that a look-up is a binary search. */
struct nfs4_revoked_set {
	uint32_t n, cap;
	struct nfs4_revoked *v;
};

/*
 * Releases stid as CLOSE (an open, with its lock stateids), LOCKU+FREE_STATEID
 * (a lock stateid) or DELEGRETURN would, and remembers its id (and those of
 * an open's lock stateids) as revoked for reason. Caller holds the client's
 * state_lock; stid is hashed.
 */
void nfs4_stid_revoke_locked(struct nfs4_stid *stid, enum nfs4_revoke_reason reason);
/* Revokes every stateid clp holds; returns how many. Takes clp->state_lock. */
uint32_t nfs4_client_revoke_state(struct nfs4_client *clp, enum nfs4_revoke_reason reason);
/*
 * The error a use of clp's stateid with this counter answers if it was
 * revoked, else 0. With forget (FREE_STATEID), a revoked one is forgotten.
 * Caller holds clp->state_lock.
 */
uint32_t nfs4_revoked_status_locked(struct nfs4_client *clp, uint32_t id, bool forget);
/* The SEQ4_STATUS_*_REVOKED flags clp's revoked stateids call for. No lock. */
uint32_t nfs4_revoked_seq_flags(struct nfs4_client *clp);
/* How many revoked stateids clp has not freed. No lock. */
uint32_t nfs4_revoked_count(struct nfs4_client *clp);
/* Forgets them all (the client is freed). */
void nfs4_revoked_set_free(struct nfs4_revoked_set *set);

#endif
