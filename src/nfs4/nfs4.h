/*
 * The NFSv4.1 server: what src/main sees. One struct nfs4_server holds all
 * protocol state (client and session tables, the laundromat thread); it
 * registers as RPC program 100003 version 4 through nfs4_server_program().
 */
#ifndef NFS4D_NFS4_NFS4_H
#define NFS4D_NFS4_NFS4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4/export.h"
#include "rpc/rpc.h"

#define NFS4_PROGRAM 100003
#define NFS4_VERSION 4

struct nfs4_config {
	uint32_t lease_seconds; /* lease time granted to clients */
	uint32_t grace_seconds; /* grace period after restart (issue: recovery) */
	uint32_t max_delegs;	/* delegations granted at most at once; 0: none */
	bool laundromat;	/* run the lease-expiry thread (off in the fuzzer) */
	uint32_t boot_epoch;	/* 0: the start time; fixed by the fuzzer so ids are predictable */
	const char *backend;	/* "vfs" or "mem": opened for every export */
	uint64_t mem_limit;	/* mem: each export's byte limit (be_mem_set_limit); 0 = default */
	const char *idmap_domain;    /* NULL: numeric owners; else "name@domain" owners */
	struct store *store;	     /* client records (store/store.h); NULL: none kept, no grace */
	struct nfs4_exports exports; /* moved into the server, which frees it */
	/* What a reload serves: fills out (0) or says why not in err (-1). NULL: no reload. */
	int (*load_exports)(void *ctx, struct nfs4_exports *out, char *err, size_t errlen);
	void *load_ctx;
};

struct nfs4_server;
struct store;

/*
 * Creates the server state: opens a backend for every export, builds the
 * pseudo-filesystem and starts the laundromat. The caller's thread must be an
 * RCU reader. On failure, logs the reason and returns NULL; cfg->exports is
 * consumed either way.
 */
struct nfs4_server *nfs4_server_create(struct nfs4_config *cfg);
/*
 * Stops the laundromat and destroys every client, session and stateid. Files
 * with state refer back to srv, so this waits for their reclamation; clients
 * and sessions are reclaimed by call_rcu later: before the process exits, call
 * nfs4_reclaim_wait().
 */
void nfs4_server_destroy(struct nfs4_server *srv);
/* Waits until every retired client and session has been freed. */
void nfs4_reclaim_wait(void);
/*
 * Reloads the exports (cfg.load_exports) while serving: exports with the same
 * path and id keep their handles and open state, removed ones answer
 * NFS4ERR_STALE, new ones become reachable, changed rules apply to the next
 * COMPOUND. Returns the number of exports served, or -1 with the reason in
 * err (also logged) and the old exports still served.
 */
int nfs4_server_reload(struct nfs4_server *srv, char *err, size_t errlen);
/* The rpc_program to register (dispatcher context is srv). */
struct rpc_program nfs4_server_program(struct nfs4_server *srv);
/* rpc_close_fn: unbinds a closed connection from every session it served. */
void nfs4_server_conn_closed(void *srv, struct rpc_conn *conn);

#endif
