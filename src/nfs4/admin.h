/*
 * What an administrator may see of the protocol state and do to it (the
 * control socket, src/ctl/): snapshots of clients, sessions, opens, locks and
 * delegations copied into plain structs, expiring a client, the export table,
 * and the per-operation counters.
 *
 * A snapshot walks the RCU tables inside read sections and takes the
 * documented locks of state.h one object at a time, briefly, in their order;
 * nothing is held once a function returns, so a slow control client never
 * holds up an NFS worker. A snapshot is a moment's view: a client may be gone
 * by the time it is printed.
 */
#ifndef NFS4D_NFS4_ADMIN_H
#define NFS4D_NFS4_ADMIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4/export.h"
#include "util/limits.h"
#include "xdr/nfs4_xdr.h"

struct nfs4_export_table;

struct nfs4_server;

/* ---- counters (kept by the COMPOUND loop, the callback engine and deleg.c) ---- */

#define NFS4_STATS_NOPS (OP_RECLAIM_COMPLETE + 1)
/*
 * Latency buckets of an op: bucket 0 counts ops under 1 µs, bucket i (i ≥ 1)
 * those of [2^(i-1), 2^i) µs, the last one everything slower.
 */
#define NFS4_STATS_LAT_BUCKETS 24

struct nfs4_op_counter {
	_Atomic uint64_t calls;	   /* times the op's handler ran */
	_Atomic uint64_t errors;   /* of which it returned an error */
	_Atomic uint64_t total_ns; /* decode, handler and encode, all calls together */
	_Atomic uint64_t lat[NFS4_STATS_LAT_BUCKETS];
};

/*
 * Relaxed atomic counters, embedded in struct nfs4_server: one add per event,
 * no lock; a reader sees each counter on its own (not a consistent set).
 */
struct nfs4_stats {
	struct nfs4_op_counter op[NFS4_STATS_NOPS];
	_Atomic uint64_t cb_sent;	 /* callbacks sent (each retry again) */
	_Atomic uint64_t cb_retried;	 /* NFS4ERR_DELAY answers resent after a backoff */
	_Atomic uint64_t cb_failed;	 /* callbacks that faulted their back channel */
	_Atomic uint64_t deleg_granted;	 /* delegations granted by OPEN */
	_Atomic uint64_t deleg_recalled; /* CB_RECALLs queued for a conflict */
	_Atomic uint64_t deleg_revoked;	 /* delegations not returned within a lease */
};

static inline void nfs4_stats_inc(_Atomic uint64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* An op's handler ran for ns nanoseconds and returned status. */
static inline void nfs4_stats_op(struct nfs4_stats *s, uint32_t opnum, uint32_t status, uint64_t ns)
{
	struct nfs4_op_counter *c = &s->op[opnum < NFS4_STATS_NOPS ? opnum : 0];
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us && b < NFS4_STATS_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	nfs4_stats_inc(&c->calls);
	if (status != 0)
		nfs4_stats_inc(&c->errors);
	nfs4_stats_inc(&c->lat[b]);
	atomic_fetch_add_explicit(&c->total_ns, ns, memory_order_relaxed);
}

/* The name of op opnum ("OPEN"), or NULL for one the server does not implement. */
const char *nfs4_op_name(uint32_t opnum);

/* ---- snapshots ---- */

#define NFS4_ADMIN_OWNER_MAX 128 /* owner bytes kept in a snapshot (the rest is cut) */
#define NFS4_ADMIN_ADDR_MAX 64	 /* "[v6addr]:port" */

struct nfs4_admin_client {
	uint64_t clientid;
	char addr[NFS4_ADMIN_ADDR_MAX]; /* peer of its newest session's first connection; "" none */
	uint32_t owner_len; /* full length; owner holds the first NFS4_ADMIN_OWNER_MAX */
	uint8_t owner[NFS4_ADMIN_OWNER_MAX];
	bool confirmed;
	bool expired;	       /* its lease ran out; kept until it returns (revoke.h) */
	int64_t lease_left_ms; /* negative: overdue, the laundromat expires it soon */
	uint32_t nsessions;
	const char *cb_state; /* nfs4_cb_state_name(): UNKNOWN, UP, DOWN, FAULT */
	uint32_t nopens, nlocks, ndelegs;
	uint32_t nrevoked;   /* revoked stateids it has not freed (revoke.h) */
	uint32_t ncallbacks; /* callbacks queued, in flight or waiting for a back channel */
};

struct nfs4_admin_conn {
	uint64_t id; /* rpc_conn_id() */
	char addr[NFS4_ADMIN_ADDR_MAX];
	uint32_t dir; /* CDFS4_FORE / CDFS4_BACK / CDFS4_BOTH */
	bool closed;
};

struct nfs4_admin_session {
	uint8_t sessionid[NFS4_SESSIONID_SIZE];
	uint32_t fore_slots, fore_busy; /* fore channel slots granted, and in use now */
	uint32_t back_slots, back_busy; /* back channel slots we use, and carrying a callback */
	uint32_t flags;			/* CREATE_SESSION4_FLAG_* */
	uint32_t nconns;
	struct nfs4_admin_conn conns[NFS4_MAX_CONNS_PER_SESSION];
};

/* A file with state: its export and backend handle (the server keeps no names). */
struct nfs4_admin_file {
	uint32_t export_id;
	const char *export_path; /* an export object and its path live until shutdown */
	uint32_t fh_len;
	uint8_t fh[128];
};

enum nfs4_admin_stid_kind { NFS4_ADMIN_OPEN = 1, NFS4_ADMIN_LOCK, NFS4_ADMIN_DELEG };

/* An open, a lock stateid or a delegation. */
struct nfs4_admin_stid {
	enum nfs4_admin_stid_kind kind;
	uint8_t other[12];
	uint32_t seqid;
	struct nfs4_admin_file file;
	uint32_t owner_len; /* opens and locks: the open or lock owner (cut as in a client) */
	uint8_t owner[NFS4_ADMIN_OWNER_MAX];
	uint32_t access, deny; /* opens: OPEN4_SHARE_* */
	uint32_t nranges;      /* locks: byte ranges it holds */
	uint32_t deleg_type;   /* delegations: OPEN_DELEGATE_READ/WRITE */
	uint64_t age_ms;       /* delegations: since granted */
	bool recalled;
};

struct nfs4_admin_client_detail {
	struct nfs4_admin_client client;
	uint32_t nsessions;
	struct nfs4_admin_session sessions[NFS4_MAX_SESSIONS_PER_CLIENT];
	size_t nstids;
	struct nfs4_admin_stid *stids; /* malloc'ed: free with nfs4_admin_client_detail_free() */
};

/* Every client: *out is malloc'ed (free() it), *n its length. Returns 0 or -ENOMEM. */
int nfs4_admin_clients(struct nfs4_server *srv, struct nfs4_admin_client **out, size_t *n);
/* One client and its sessions and state. Returns 0, -ENOENT or -ENOMEM. */
int nfs4_admin_client_detail(struct nfs4_server *srv, uint64_t clientid,
			     struct nfs4_admin_client_detail *out);
void nfs4_admin_client_detail_free(struct nfs4_admin_client_detail *d);
/*
 * Forgets a client altogether (knfsd's "expire"), expired or not: its
 * sessions, opens, locks and delegations go, and its stateids then answer
 * NFS4ERR_EXPIRED. Returns 0 or -ENOENT.
 */
int nfs4_admin_expire(struct nfs4_server *srv, uint64_t clientid);
/*
 * Revokes every open, lock and delegation of a client (RFC 8881 §8.2.4), or
 * only the one whose stateid "other" is other (an open with its locks):
 * released as CLOSE, LOCKU and DELEGRETURN would, while the client and its
 * sessions stay; their stateids answer NFS4ERR_ADMIN_REVOKED until it frees
 * them. Returns how many stateids were revoked, or -ENOENT (no such client,
 * or no such stateid of it).
 */
int nfs4_admin_revoke(struct nfs4_server *srv, uint64_t clientid, const uint8_t *other);
/* The exports served now: call and use inside an RCU read-side section. */
const struct nfs4_export_table *nfs4_admin_exports(struct nfs4_server *srv);
const struct nfs4_stats *nfs4_admin_stats(struct nfs4_server *srv);
/* Clients, sessions, stateids, delegations and callbacks alive now. */
struct nfs4_admin_totals {
	long clients, sessions, stateids, files, delegations, callbacks;
	long kept_delegations; /* of restarted clients, not yet reclaimed; in delegations */
	long expired_clients;  /* kept after their lease ran out; not in clients */
	uint32_t lease_seconds;
};
void nfs4_admin_totals(struct nfs4_server *srv, struct nfs4_admin_totals *out);

#endif
