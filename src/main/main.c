/*
 * nfs4d: start order is options → RCU → protocol state → RPC transport →
 * serve until SIGTERM/SIGINT; stop order is the reverse, so that every
 * in-flight call finishes before the state it uses is destroyed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/metrics.h"
#include "main/options.h"
#include "nfs4/nfs4.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "util/log.h"
#include "util/rcu.h"

static int nfs4d_write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	/* Written under a temporary name and renamed, so a reader never sees half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* cfg.load_exports: the same --export and --exports as at start, read again. */
static int nfs4d_load_exports(void *ctx, struct nfs4_exports *out, char *err, size_t errlen)
{
	return nfs4d_options_exports(ctx, out, err, errlen);
}

/* Serves until SIGTERM or SIGINT; SIGHUP reloads the exports (as nfs4ctl reload). */
static int nfs4d_wait_for_stop(struct nfs4_server *nfs)
{
	char err[4200];

	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			return -1;
		if (sig == SIGHUP) {
			log_info("main", "SIGHUP: reloading the exports");
			nfs4_server_reload(nfs, err, sizeof(err)); /* logs the outcome */
			continue;
		}
		log_info("main", "signal %d: stopping", sig);
		return 0;
	}
}

/*
 * Connections and the vfs handle cache (a quarter of the soft limit) are
 * file descriptors; the soft limit is 1024 under systemd and most shells,
 * whatever the hard limit allows.
 */
static void nfs4d_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("main", "cannot raise the open file limit: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct nfs4d_options opts;
	struct nfs4_config cfg;
	struct nfs4_server *nfs;
	struct rpc_server *rpc;
	struct ctl_server *ctl;
	struct ctl_metrics *metrics = NULL;
	struct rpc_program prog;
	struct rpc_server_config rcfg = {0};
	char err[4200];
	sigset_t set;
	int rc;

	rc = nfs4d_options_parse(argc, argv, &opts);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	log_set_level(opts.log_level);
	nfs4d_raise_nofile();
	cfg = (struct nfs4_config){.lease_seconds = opts.lease,
				   .grace_seconds = opts.grace,
				   .max_delegs = opts.max_delegs,
				   .laundromat = true,
				   .backend = opts.backend == NFS4D_BACKEND_MEM ? "mem" : "vfs",
				   .mem_limit = opts.mem_limit,
				   .idmap_domain = opts.idmap_domain,
				   .load_exports = nfs4d_load_exports,
				   .load_ctx = &opts};
	if (nfs4d_options_exports(&opts, &cfg.exports, err, sizeof(err)) < 0) {
		fprintf(stderr, "nfs4d: %s\n", err);
		return 2;
	}
	if (opts.check_config) {
		nfs4_exports_free(&cfg.exports);
		printf("nfs4d: configuration OK\n");
		return 0;
	}
	/* Client records: a store that cannot be used stops the start, it is never replaced. */
	if (store_sqlite_open(opts.state_dir, &cfg.store, err, sizeof(err)) < 0) {
		fprintf(stderr, "nfs4d: %s\n", err);
		nfs4_exports_free(&cfg.exports);
		return 1;
	}

	/* Signals are taken by sigwait() in this thread only: block them before any thread starts.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rcu_register_thread();
	nfs = nfs4_server_create(&cfg);
	if (!nfs) {
		rc = 1;
		goto out_rcu;
	}
	prog = nfs4_server_program(nfs);
	rcfg.addrs = opts.listen;
	rcfg.naddrs = opts.nlisten;
	rcfg.workers = opts.threads;
	rcfg.progs = &prog;
	rcfg.nprogs = 1;
	rcfg.on_close = nfs4_server_conn_closed;
	rcfg.on_close_ctx = nfs;
	rpc = rpc_server_create(&rcfg);
	if (!rpc) {
		rc = 1;
		goto out_nfs;
	}
	if (rpc_server_start(rpc) < 0) {
		rc = 1;
		goto out_rpc;
	}
	log_info("main", "nfs4d serving on port %u, lease %us", rpc_server_port(rpc, 0),
		 opts.lease);
	/* Before the port file: whoever waits for it can use nfs4ctl at once. */
	ctl = ctl_start(opts.state_dir, nfs);
	if (opts.metrics && !(metrics = ctl_metrics_start(&opts.metrics_addr, nfs))) {
		rc = 1; /* asked for, so not optional: the reason is logged */
	} else if (opts.port_file &&
		   nfs4d_write_port_file(opts.port_file, rpc_server_port(rpc, 0)) < 0) {
		log_err("main", "cannot write port file %s: %s", opts.port_file, strerror(errno));
		rc = 1;
	} else {
		rc = nfs4d_wait_for_stop(nfs) < 0 ? 1 : 0;
	}
	ctl_metrics_stop(metrics);
	ctl_stop(ctl);
	rpc_server_stop(rpc);
out_rpc:
	rpc_server_destroy(rpc);
out_nfs:
	nfs4_server_destroy(nfs);
	nfs4_reclaim_wait();
out_rcu:
	rcu_unregister_thread();
	cfg.store->ops->close(cfg.store);
	return rc;
}
