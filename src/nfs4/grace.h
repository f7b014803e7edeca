/*
 * Reboot recovery (RFC 8881 §8.4.2, §8.4.3, §18.51): the stable client
 * records (store/) and the grace period after a restart. docs/recovery.md
 * states the rules as built.
 *
 * Records: a client's record is on disk before CREATE_SESSION confirms it,
 * removed by DESTROY_CLIENTID and lease expiry (not by a shutdown: a
 * restarted server must let its clients reclaim), marked by RECLAIM_COMPLETE.
 *
 * Grace: a start that finds records of an earlier instance is in grace for
 * cfg.grace_seconds, or until each of those clients has sent
 * RECLAIM_COMPLETE (or lost its record). In grace only reclaims create
 * state, and only clients with such a record may reclaim, each until its own
 * RECLAIM_COMPLETE, before which they get no new state either (not even
 * after grace). A start with no records has no grace period.
 *
 * The checks return an nfsstat4 for an op to return as it is (NFS4_OK: go on).
 * Locking: the grace state has its own lock, a leaf, which the checks do not
 * take; store writes happen with no lock held except in
 * nfs4_grace_client_confirming() (srv->state_lock).
 */
#ifndef NFS4D_NFS4_GRACE_H
#define NFS4D_NFS4_GRACE_H

#include <stdbool.h>

#include "nfs4/compound.h"

/* Loads the records of earlier instances and starts grace if there are any. 0 or -1. */
int nfs4_grace_start(struct nfs4_server *srv);
void nfs4_grace_free(struct nfs4_server *srv);
/* The laundromat's tick: ends grace at its deadline. */
void nfs4_grace_tick(struct nfs4_server *srv);
bool nfs4_in_grace(struct nfs4_server *srv);

/*
 * OPEN by claim (before anything else of OPEN): CLAIM_NULL and CLAIM_FH get
 * NFS4ERR_GRACE in grace; CLAIM_PREVIOUS is a reclaim (nfs4_grace_reclaim).
 * Every claim but the reclaims also gets NFS4ERR_GRACE, in grace or after,
 * from a client with a record of an earlier instance until its
 * RECLAIM_COMPLETE (§18.51.3).
 */
uint32_t nfs4_grace_check_open(struct nfs4_compound *c, uint32_t claim);
/* LOCK: the same rules, reclaim as CLAIM_PREVIOUS, else as CLAIM_NULL. */
uint32_t nfs4_grace_check_lock(struct nfs4_compound *c, bool reclaim);
/* LOCKT obtains no lock: NFS4ERR_GRACE in grace only (locks not yet reclaimed would not show). */
uint32_t nfs4_grace_check_lockt(struct nfs4_compound *c);
/*
 * Whether this COMPOUND's client may reclaim now: NFS4ERR_NO_GRACE outside
 * grace, after its RECLAIM_COMPLETE, or without a record of an earlier
 * instance (§15.1.9, NO_GRACE: none of its reclaims can succeed).
 */
uint32_t nfs4_grace_reclaim(struct nfs4_compound *c);
/* A reclaim that nfs4_grace_reclaim() let in succeeded (an open, or a lock): for the log. */
void nfs4_grace_reclaimed(struct nfs4_compound *c, bool lock);
/*
 * CLAIM_DELEGATE_PREV / CLAIM_DELEG_PREV_FH from a client without a window to
 * reclaim delegations kept since its own restart (deleg_prev.h): none
 * survives a restart of the server, so a reclaim grace allows still cannot
 * be honoured: NFS4ERR_RECLAIM_BAD (§15.1.9: this reclaim only), else
 * nfs4_grace_reclaim()'s answer.
 */
uint32_t nfs4_grace_reclaim_deleg_prev(struct nfs4_compound *c);
/*
 * READ/WRITE/SETATTR(size) with a special stateid in grace: it could hit a
 * share reservation not yet reclaimed, NFS4ERR_GRACE (§8.4.2). Stateids of
 * this instance are reclaimed state or (after grace) new state: allowed.
 */
uint32_t nfs4_grace_check_io(struct nfs4_compound *c, const struct stateid4 *sid, bool write);
/* REMOVE and RENAME in grace: the name may be that of a file whose opens are being reclaimed. */
uint32_t nfs4_grace_check_namespace(struct nfs4_compound *c);

/*
 * CREATE_SESSION is about to confirm clp: writes its record. NFS4ERR_SERVERFAULT
 * if it cannot be written (the client is then not confirmed). Caller holds
 * srv->state_lock.
 */
uint32_t nfs4_grace_client_confirming(struct nfs4_client *clp);
/* A confirmed clp was destroyed (DESTROY_CLIENTID) or expired: its record goes. No locks held. */
void nfs4_grace_client_gone(struct nfs4_client *clp);
/* clp's first RECLAIM_COMPLETE: marks its record; may end grace. No locks held. */
void nfs4_grace_reclaim_complete(struct nfs4_client *clp);

#endif
