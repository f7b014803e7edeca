/*
 * Delegations kept across a client's restart (RFC 8881 §10.2.1, §18.16.3,
 * §18.5): when CREATE_SESSION confirms a new incarnation of a client (same
 * owner, new verifier), the old incarnation's delegations are not released
 * with the rest of its state but kept for the new one (file and type; the
 * old stateids die with the old incarnation), which may reclaim them with
 * OPEN CLAIM_DELEGATE_PREV or CLAIM_DELEG_PREV_FH during its reclaim window:
 * one lease from the confirmation, ended early by its RECLAIM_COMPLETE or
 * DELEGPURGE. What it has not reclaimed by then is released.
 *
 * While kept, a delegation still keeps other clients from delegations that
 * would conflict with it (and, on vfs, holds its lease), but nobody can be
 * recalled for it: the first access of another client (or local process)
 * that would recall it releases it instead, and the access goes on. Its
 * reclaim then gets NFS4ERR_RECLAIM_CONFLICT. docs/callbacks.md says why.
 *
 * Locks (state.h): a client's kept list under its state_lock, a file's under
 * its lock.
 */
#ifndef NFS4D_NFS4_DELEG_PREV_H
#define NFS4D_NFS4_DELEG_PREV_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4/compound.h"

/*
 * CREATE_SESSION confirms clp, a restart of old (confirmed, about to be
 * expired): old's delegations in force, and those it still kept from an
 * incarnation before it, are kept for clp, whose reclaim window opens.
 * Recalled ones are not kept (someone waits for them). Caller holds
 * srv->state_lock.
 */
void nfs4_deleg_prev_keep_locked(struct nfs4_client *old, struct nfs4_client *clp);
/*
 * Closes clp's reclaim window (RECLAIM_COMPLETE, DELEGPURGE, its time, the
 * client going; why names which for the log, NULL: no log line) and releases
 * what it did not reclaim. Takes clp->state_lock.
 */
void nfs4_deleg_prev_end(struct nfs4_client *clp, const char *why);
/* The laundromat's tick for clp: closes its window when its time is over. */
void nfs4_deleg_prev_tick(struct nfs4_client *clp, uint64_t now);

/*
 * OPEN CLAIM_DELEGATE_PREV or CLAIM_DELEG_PREV_FH, before it looks for the
 * file: NFS4_OK while this COMPOUND's client has a reclaim window, else what
 * such a claim gets without one (nfs4_grace_reclaim_deleg_prev()).
 */
uint32_t nfs4_deleg_prev_check(struct nfs4_compound *c);
/*
 * The same once the file is known: NFS4_OK if a delegation of it is kept for
 * the client, NFS4ERR_RECLAIM_CONFLICT if one was but another's access
 * released it, NFS4ERR_RECLAIM_BAD if none was.
 */
uint32_t nfs4_deleg_prev_find(struct nfs4_compound *c, struct nfs4_file *file);
/*
 * The claim's OPEN succeeded: the kept delegation of file becomes the
 * client's delegation, with a new stateid, and out says so. If it was
 * released since nfs4_deleg_prev_find() (a race with a conflicting access),
 * the open stands without it.
 */
void nfs4_deleg_prev_reclaim(struct nfs4_compound *c, struct nfs4_file *file, uint64_t change,
			     struct open_delegation4 *out);

/*
 * Whether a delegation of file kept for another client (or for clp itself,
 * which should reclaim it instead) keeps clp from a delegation of type.
 * Caller holds file->lock.
 */
bool nfs4_deleg_prev_blocks_locked(struct nfs4_file *file, struct nfs4_client *clp, uint32_t type);
/*
 * An access to file by me (NULL: a local process) that conflicts with a
 * delegation (modify: with any; else with a write one): the delegations of
 * file kept for other clients go at once. Caller holds file->lock.
 */
void nfs4_deleg_prev_break_locked(struct nfs4_file *file, struct nfs4_client *me, bool modify);

/* DELEGPURGE (§18.5): the client will reclaim nothing more; its window closes. */
uint32_t nfs4_op_delegpurge(struct nfs4_compound *c, void *args, void *res);

#endif
