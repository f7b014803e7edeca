/* The NFSv4.1 server object: tables, the laundromat, and start/stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "backend/mem.h"
#include "nfs4/callback.h"
#include "nfs4/compound.h"
#include "nfs4/deleg.h"
#include "nfs4/grace.h"
#include "util/log.h"

static struct cds_lfht *nfs4_table_new(void)
{
	return cds_lfht_new(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
}

/* Expires idle clients about every second, until the server stops. */
static void *nfs4_laundromat(void *arg)
{
	struct nfs4_server *srv = arg;

	rcu_register_thread();
	pthread_mutex_lock(&srv->laundromat_lock);
	while (!srv->stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&srv->laundromat_cond, &srv->laundromat_lock, &ts);
		if (srv->stopping)
			break;
		pthread_mutex_unlock(&srv->laundromat_lock);
		nfs4_clients_expire_idle(srv);
		nfs4_delegs_revoke_overdue(srv);
		nfs4_grace_tick(srv);
		pthread_mutex_lock(&srv->laundromat_lock);
	}
	pthread_mutex_unlock(&srv->laundromat_lock);
	rcu_unregister_thread();
	return NULL;
}

/*
 * A value that tells this server instance from every earlier one: it is in
 * every clientid, sessionid and stateid, so ids of an earlier instance are
 * recognised as stale. Random rather than the start time, which a quick
 * restart would repeat.
 */
static uint32_t nfs4_new_boot_epoch(void)
{
	uint32_t v = 0;

	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	return v;
}

struct nfs4_server *nfs4_server_create(struct nfs4_config *cfg)
{
	struct nfs4_server *srv = calloc(1, sizeof(*srv));
	char host[64] = "localhost";
	pthread_condattr_t ca;

	char err[512];

	if (!srv) {
		nfs4_exports_free(&cfg->exports);
		return NULL;
	}
	srv->cfg = *cfg;
	srv->cfg.exports = (struct nfs4_exports){0};
	srv->idmap.names = cfg->idmap_domain != NULL;
	srv->idmap.domain = cfg->idmap_domain;
	srv->boot_epoch = cfg->boot_epoch ? cfg->boot_epoch : nfs4_new_boot_epoch();
	/* A verifier that differs at every start tells clients to resend uncommitted writes. */
	xdr_put_be32(srv->write_verf.data, srv->boot_epoch);
	xdr_put_be32(srv->write_verf.data + 4, nfs4_new_boot_epoch());
	srv->start_time = time(NULL);
	gethostname(host, sizeof(host) - 1);
	snprintf(srv->owner_major, sizeof(srv->owner_major), "nfs4d:%s", host);
	pthread_mutex_init(&srv->state_lock, NULL);
	pthread_mutex_init(&srv->laundromat_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->laundromat_cond, &ca);
	pthread_condattr_destroy(&ca);
	srv->clients_by_id = nfs4_table_new();
	srv->clients_by_owner = nfs4_table_new();
	srv->sessions = nfs4_table_new();
	srv->stateids = nfs4_table_new();
	srv->files = nfs4_table_new();
	pthread_mutex_init(&srv->files_lock, NULL);
	pthread_mutex_init(&srv->reload_lock, NULL);
	pthread_mutex_init(&srv->recall_lock, NULL);
	CDS_INIT_LIST_HEAD(&srv->recalls);
	if (!srv->clients_by_id || !srv->clients_by_owner || !srv->sessions || !srv->stateids ||
	    !srv->files)
		goto fail;
	if (nfs4_exports_publish(srv, &cfg->exports, err, sizeof(err)) < 0) {
		log_err("nfs4", "%s", err);
		goto fail;
	}
	if (nfs4_grace_start(srv) < 0)
		goto fail;
	if (nfs4_cb_start(srv) < 0)
		goto fail;
	if (cfg->laundromat) {
		if (pthread_create(&srv->laundromat, NULL, nfs4_laundromat, srv) != 0)
			goto fail;
		srv->laundromat_running = true;
	}
	return srv;
fail:
	log_err("nfs4", "cannot create server state");
	nfs4_server_destroy(srv);
	return NULL;
}

void nfs4_server_destroy(struct nfs4_server *srv)
{
	if (!srv)
		return;
	if (srv->laundromat_running) {
		pthread_mutex_lock(&srv->laundromat_lock);
		srv->stopping = true;
		pthread_cond_signal(&srv->laundromat_cond);
		pthread_mutex_unlock(&srv->laundromat_lock);
		pthread_join(srv->laundromat, NULL);
	}
	/*
	 * What clients left behind: the delegation stress test expects nothing.
	 * Expired clients are kept on purpose and hold none of the rest.
	 */
	log_info("nfs4",
		 "state at exit: clients=%ld sessions=%ld stateids=%ld delegations=%ld "
		 "callbacks=%ld files=%ld expired_clients=%ld",
		 atomic_load(&srv->nclients), atomic_load(&srv->nsessions),
		 atomic_load(&srv->nstateids), atomic_load(&srv->ndelegs),
		 atomic_load(&srv->ncallbacks), atomic_load(&srv->nfiles),
		 atomic_load(&srv->nexpired));
	/* Local users' breaks recall through the callback engine: no more of them first. */
	nfs4_delegs_unwatch(srv);
	/* Calls in flight pin sessions and clients: drop them before tearing those down. */
	nfs4_cb_stop(srv);
	if (srv->clients_by_id)
		nfs4_clients_destroy_all(srv);
	/*
	 * Retired stateids put their files from the reclaim thread, and a file's
	 * last put unhashes it from srv->files: those must run before srv goes.
	 * Sessions and clients never refer back to srv, so nothing else waits.
	 */
	for (int i = 0; atomic_load(&srv->nfiles) > 0 && i < 100; i++)
		rcu_barrier();
	if (atomic_load(&srv->nfiles) > 0)
		log_err("nfs4", "%ld files with state still referenced at shutdown",
			atomic_load(&srv->nfiles));
	if (srv->clients_by_id)
		cds_lfht_destroy(srv->clients_by_id, NULL);
	if (srv->clients_by_owner)
		cds_lfht_destroy(srv->clients_by_owner, NULL);
	if (srv->sessions)
		cds_lfht_destroy(srv->sessions, NULL);
	if (srv->stateids)
		cds_lfht_destroy(srv->stateids, NULL);
	if (srv->files)
		cds_lfht_destroy(srv->files, NULL);
	pthread_mutex_destroy(&srv->files_lock);
	pthread_mutex_destroy(&srv->recall_lock);
	if (srv->cb_running || srv->cb_stopping)
		nfs4_cb_destroy(srv);
	nfs4_grace_free(srv);
	nfs4_exports_close_all(srv); /* and each export's backend */
	pthread_mutex_destroy(&srv->reload_lock);
	pthread_cond_destroy(&srv->laundromat_cond);
	pthread_mutex_destroy(&srv->laundromat_lock);
	pthread_mutex_destroy(&srv->state_lock);
	free(srv);
}

void nfs4_reclaim_wait(void)
{
	/* A session's reclamation puts its client, which queues one more call_rcu. */
	rcu_barrier();
	rcu_barrier();
}

struct rpc_program nfs4_server_program(struct nfs4_server *srv)
{
	struct rpc_program p = {
		.prog = NFS4_PROGRAM,
		.vers_low = NFS4_VERSION,
		.vers_high = NFS4_VERSION,
		.nprocs = 2, /* NULL and COMPOUND */
		.auth_flavors = 1u << RPC_AUTH_NONE | 1u << RPC_AUTH_SYS,
		.dispatch = nfs4_compound_dispatch,
		.ctx = srv,
		.find_bulk = nfs4_find_bulk,
	};

	return p;
}

void nfs4_server_conn_closed(void *ctx, struct rpc_conn *conn)
{
	nfs4_cb_conn_closed(ctx, conn);
	nfs4_sessions_unbind_conn(ctx, conn);
}
