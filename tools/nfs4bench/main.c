/*
 * nfs4bench: command line, connections/clients/sessions, and the timed run of
 * each workload (see nb.h for the model and workloads.c for what an op is).
 * Exit status: 0 when every op of every workload succeeded, 1 when any failed,
 * 2 on a usage error or when the server could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nb.h"

#define NB_MAX_ERRORS_SHOWN 10

struct nb_conn {
	struct nfs4clnt_conn *conn;
	uint64_t clientid;
	struct nfs4clnt_session **sess; /* cfg->sessions of them */
};

/* What the workers of one workload share. */
struct nb_run {
	const struct nb_workload *wl;
	struct nb_fixture fx;
	pthread_barrier_t go;
	atomic_bool stop;
	atomic_uint_fast64_t claimed; /* ops handed out, with cfg->ops */
	atomic_int shown;	      /* errors printed */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *nb_status_name(int st)
{
	static const struct {
		int st;
		const char *name;
	} names[] = {
		{NFS4ERR_PERM, "NFS4ERR_PERM"},
		{NFS4ERR_NOENT, "NFS4ERR_NOENT"},
		{NFS4ERR_IO, "NFS4ERR_IO"},
		{NFS4ERR_ACCESS, "NFS4ERR_ACCESS"},
		{NFS4ERR_EXIST, "NFS4ERR_EXIST"},
		{NFS4ERR_NOTDIR, "NFS4ERR_NOTDIR"},
		{NFS4ERR_ISDIR, "NFS4ERR_ISDIR"},
		{NFS4ERR_INVAL, "NFS4ERR_INVAL"},
		{NFS4ERR_NOSPC, "NFS4ERR_NOSPC"},
		{NFS4ERR_STALE, "NFS4ERR_STALE"},
		{NFS4ERR_BADHANDLE, "NFS4ERR_BADHANDLE"},
		{NFS4ERR_NOTSUPP, "NFS4ERR_NOTSUPP"},
		{NFS4ERR_SERVERFAULT, "NFS4ERR_SERVERFAULT"},
		{NFS4ERR_DELAY, "NFS4ERR_DELAY"},
		{NFS4ERR_DENIED, "NFS4ERR_DENIED"},
		{NFS4ERR_GRACE, "NFS4ERR_GRACE"},
		{NFS4ERR_SHARE_DENIED, "NFS4ERR_SHARE_DENIED"},
		{NFS4ERR_BAD_STATEID, "NFS4ERR_BAD_STATEID"},
		{NFS4ERR_OLD_STATEID, "NFS4ERR_OLD_STATEID"},
		{NFS4ERR_EXPIRED, "NFS4ERR_EXPIRED"},
		{NFS4ERR_RESOURCE, "NFS4ERR_RESOURCE"},
		{NFS4ERR_BADXDR, "NFS4ERR_BADXDR"},
		{NFS4ERR_BADSESSION, "NFS4ERR_BADSESSION"},
		{NFS4ERR_BADSLOT, "NFS4ERR_BADSLOT"},
		{NFS4ERR_SEQ_MISORDERED, "NFS4ERR_SEQ_MISORDERED"},
		{NFS4ERR_REP_TOO_BIG, "NFS4ERR_REP_TOO_BIG"},
		{NFS4ERR_REQ_TOO_BIG, "NFS4ERR_REQ_TOO_BIG"},
		{NFS4ERR_TOO_MANY_OPS, "NFS4ERR_TOO_MANY_OPS"},
		{NFS4ERR_STALE_CLIENTID, "NFS4ERR_STALE_CLIENTID"},
	};
	static _Thread_local char buf[64];

	if (st < 0)
		return strerror(-st);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].st == st)
			return names[i].name;
	snprintf(buf, sizeof(buf), "nfsstat4 %d", st);
	return buf;
}

void nb_error(struct nb_worker *w, const char *what, int status)
{
	w->errors++;
	if (atomic_fetch_add(&w->run->shown, 1) < NB_MAX_ERRORS_SHOWN)
		fprintf(stderr, "nfs4bench: %s: thread %d: %s: %s\n", w->run->wl->name, w->id, what,
			nb_status_name(status));
}

/* ------------------------------------------------------- the timed run */

bool nb_claim(struct nb_worker *w)
{
	struct nb_run *run = w->run;

	if (atomic_load_explicit(&run->stop, memory_order_relaxed))
		return false;
	return !w->cfg->ops ||
	       atomic_fetch_add_explicit(&run->claimed, 1, memory_order_relaxed) < w->cfg->ops;
}

/* One op at a time, timed one by one. */
static void op_loop(struct nb_worker *w)
{
	const struct nb_workload *wl = w->run->wl;

	while (nb_claim(w)) {
		uint64_t t0 = now_ns();
		int st = wl->op(w, &w->run->fx);

		nb_hist_add(&w->hist, now_ns() - t0);
		w->ops++;
		if (st != 0)
			nb_error(w,
				 w->call.out.failed_op ? nb_op_name(w->call.out.failed_op) : "op",
				 st);
	}
}

static void *worker_main(void *arg)
{
	struct nb_worker *w = arg;
	struct nb_run *run = w->run;
	const struct nb_workload *wl = run->wl;
	bool ok = true;
	int st;

	if (wl->start && (st = wl->start(w, &run->fx)) != 0) {
		nb_error(w, "start", st);
		ok = false;
	}
	pthread_barrier_wait(&run->go);
	if (ok && wl->conn_loop)
		wl->conn_loop(w);
	else if (ok)
		op_loop(w);
	if (wl->stop)
		wl->stop(w, &run->fx);
	return NULL;
}

static void reset_worker(struct nb_worker *w, struct nb_run *run)
{
	w->run = run;
	memset(&w->hist, 0, sizeof(w->hist));
	w->ops = w->bytes = w->errors = 0;
	w->iter = w->off = 0;
	w->opened = false;
}

static void run_workload(const struct nb_workload *wl, struct nb_worker *ws, int nw,
			 struct nb_result *r)
{
	struct nb_run *run = calloc(1, sizeof(*run));
	pthread_t *tids = calloc((size_t)nw, sizeof(*tids));
	struct nb_hist *all = calloc(1, sizeof(*all));
	const struct nb_config *cfg = ws[0].cfg;
	/* Threads: one per worker, or with conn_loop one per connection (its first worker). */
	int per = wl->conn_loop ? cfg->sessions * cfg->slots : 1, nt = nw / per;
	uint64_t t0, t1;
	int st, started = 0;

	memset(r, 0, sizeof(*r));
	r->workload = wl->name;
	if (!run || !tids || !all) {
		r->errors = 1;
		goto out;
	}
	run->wl = wl;
	for (int i = 0; i < nw; i++)
		reset_worker(&ws[i], run);
	if (wl->setup && (st = wl->setup(&ws[0], &run->fx)) != 0) {
		nb_error(&ws[0], "fixture set-up", st);
		r->errors = ws[0].errors;
		goto out;
	}
	pthread_barrier_init(&run->go, NULL, (unsigned)nt + 1);
	for (; started < nt; started++)
		if (pthread_create(&tids[started], NULL, worker_main, &ws[started * per]))
			break;
	if (started < nt) {
		/* Let the threads that did start finish at once. */
		fprintf(stderr, "nfs4bench: could not start thread %d\n", started);
		r->errors++;
		atomic_store(&run->stop, true);
		for (int i = started; i < nt; i++)
			pthread_barrier_wait(&run->go); /* stand in for the missing threads */
	}
	pthread_barrier_wait(&run->go);
	t0 = now_ns();
	if (!cfg->ops) {
		struct timespec d = {(time_t)cfg->duration,
				     (long)((cfg->duration - (double)(time_t)cfg->duration) * 1e9)};

		while (nanosleep(&d, &d) && errno == EINTR)
			;
		atomic_store(&run->stop, true);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	t1 = now_ns();
	pthread_barrier_destroy(&run->go);
	r->seconds = (double)(t1 - t0) / 1e9;
	for (int i = 0; i < nw; i++) {
		r->ops += ws[i].ops;
		r->bytes += ws[i].bytes;
		r->errors += ws[i].errors;
		nb_hist_merge(all, &ws[i].hist);
	}
	r->p50_ns = nb_hist_quantile(all, 0.5);
	r->p99_ns = nb_hist_quantile(all, 0.99);
	r->p999_ns = nb_hist_quantile(all, 0.999);
out:
	free(all);
	free(tids);
	free(run);
}

/* ----------------------------------------------------- clients/sessions */

/* A connection and, unless only RPC NULL is run (sessions false), its client and sessions. */
static int conn_open(const struct nb_config *cfg, int idx, bool sessions, struct nb_conn *nc,
		     uint32_t *granted)
{
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_exid_res er;
	char owner[128], host[64];
	struct timespec ts;
	uint32_t seq;
	int st;

	nc->conn = nfs4clnt_connect(cfg->host, cfg->port);
	if (!nc->conn)
		return -errno;
	if (!sessions)
		return 0;
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = 0;
	snprintf(owner, sizeof(owner), "nfs4bench-%s-%d-%d", host, (int)getpid(), idx);
	ea.owner = xdr_opaque_str(owner);
	clock_gettime(CLOCK_REALTIME, &ts);
	xdr_put_be32(ea.verifier, (uint32_t)ts.tv_sec);
	xdr_put_be32(ea.verifier + 4, (uint32_t)ts.tv_nsec);
	st = nfs4clnt_exchange_id(nc->conn, &ea, &er);
	if (st)
		return st;
	nc->clientid = er.clientid;
	seq = er.sequenceid;
	for (int s = 0; s < cfg->sessions; s++) {
		struct nfs4clnt_cs_args ca = nfs4clnt_cs_default(er.clientid, seq++);
		struct nfs4clnt_cs_res cr;

		ca.fore.maxrequests = (uint32_t)cfg->slots;
		st = nfs4clnt_create_session(nc->conn, &ca, &cr);
		if (st)
			return st;
		if (cr.fore.maxrequests < *granted)
			*granted = cr.fore.maxrequests;
		nc->sess[s] = nfs4clnt_session_new(nc->conn, &cr);
		if (!nc->sess[s])
			return -ENOMEM;
	}
	/* No state to reclaim: tell the server, so OPEN is allowed during a grace period. */
	return nfs4clnt_reclaim_complete(nc->sess[0]);
}

static void conn_close(const struct nb_config *cfg, struct nb_conn *nc)
{
	if (!nc->conn)
		return;
	for (int s = 0; s < cfg->sessions; s++) {
		if (nc->sess[s])
			nfs4clnt_destroy_session(nc->conn, nfs4clnt_session_id(nc->sess[s]));
		nfs4clnt_session_free(nc->sess[s]);
	}
	if (nc->clientid)
		nfs4clnt_destroy_clientid(nc->conn, nc->clientid);
	nfs4clnt_conn_close(nc->conn);
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nfs4bench [OPTION]...\n"
		"An NFSv4.1 load generator.\n\n"
		"  --server HOST[:PORT]   server (default 127.0.0.1:2049)\n"
		"  --path PATH            export path from the server's pseudo root (default /);\n"
		"                         fixtures go to PATH/nfs4bench[TAG]\n"
		"  --conns N              connections, one client each (default 1)\n"
		"  --sessions S           sessions per connection (default 1)\n"
		"  --slots D              slots (outstanding requests) per session (default 4)\n"
		"  --duration SECS        run time per workload (default 10)\n"
		"  --ops N                run N ops per workload instead of a duration\n"
		"  --workload LIST        comma-separated: null getattr lookup readdir open-close\n"
		"                         create read write mixed, or all (default), or clients\n"
		"  --file-size BYTES      read file size, and write's total file span (default "
		"1G)\n"
		"  --io-size BYTES        READ/WRITE size (default 1M)\n"
		"  --readdir-entries N    entries of the readdir directory (default 10000)\n"
		"  --commit-every BYTES   write: COMMIT after this much per thread (default 64M)\n"
		"  --clients N            clients workload: clients to create (default 10000)\n"
		"  --rss-pid PID          clients workload: the server process whose RSS to read\n"
		"  --tag STR              suffix of the fixture directory name\n"
		"  --json                 JSON on stdout (the table goes to stderr)\n"
		"Sizes take K, M or G (powers of 1024). Exit status 1 if any op failed.\n");
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10, end++;
		break;
	case 'M':
	case 'm':
		v <<= 20, end++;
		break;
	case 'G':
	case 'g':
		v <<= 30, end++;
		break;
	}
	*out = v;
	return end != s && *end == 0;
}

static bool parse_server(const char *s, struct nb_config *cfg, char *hostbuf, size_t len)
{
	const char *colon = strrchr(s, ':');

	snprintf(hostbuf, len, "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	cfg->host = hostbuf;
	if (colon) {
		long p = strtol(colon + 1, NULL, 10);

		if (p <= 0 || p > 65535)
			return false;
		cfg->port = (uint16_t)p;
	}
	return true;
}

enum {
	O_SERVER = 256,
	O_PATH,
	O_CONNS,
	O_SESSIONS,
	O_SLOTS,
	O_DURATION,
	O_OPS,
	O_WORKLOAD,
	O_FILE_SIZE,
	O_IO_SIZE,
	O_READDIR,
	O_COMMIT,
	O_CLIENTS,
	O_RSS_PID,
	O_TAG,
	O_JSON,
	O_HELP,
};

static const struct option options[] = {
	{"server", required_argument, NULL, O_SERVER},
	{"path", required_argument, NULL, O_PATH},
	{"conns", required_argument, NULL, O_CONNS},
	{"sessions", required_argument, NULL, O_SESSIONS},
	{"slots", required_argument, NULL, O_SLOTS},
	{"duration", required_argument, NULL, O_DURATION},
	{"ops", required_argument, NULL, O_OPS},
	{"workload", required_argument, NULL, O_WORKLOAD},
	{"file-size", required_argument, NULL, O_FILE_SIZE},
	{"io-size", required_argument, NULL, O_IO_SIZE},
	{"readdir-entries", required_argument, NULL, O_READDIR},
	{"commit-every", required_argument, NULL, O_COMMIT},
	{"clients", required_argument, NULL, O_CLIENTS},
	{"rss-pid", required_argument, NULL, O_RSS_PID},
	{"tag", required_argument, NULL, O_TAG},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static bool parse_args(int argc, char **argv, struct nb_config *cfg, const char **workloads,
		       char *hostbuf, size_t hostlen)
{
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
		bool ok = true;

		switch (o) {
		case O_SERVER:
			ok = parse_server(optarg, cfg, hostbuf, hostlen);
			break;
		case O_PATH:
			cfg->path = optarg;
			break;
		case O_CONNS:
		case O_SESSIONS:
		case O_SLOTS:
		case O_CLIENTS:
		case O_RSS_PID:
			ok = parse_size(optarg, &v) && v >= 1 && v <= 1000000;
			*(o == O_CONNS	    ? &cfg->conns
			  : o == O_SESSIONS ? &cfg->sessions
			  : o == O_SLOTS    ? &cfg->slots
			  : o == O_CLIENTS  ? &cfg->clients
					    : &cfg->rss_pid) = (int)v;
			break;
		case O_DURATION:
			cfg->duration = strtod(optarg, NULL);
			ok = cfg->duration > 0;
			break;
		case O_OPS:
			ok = parse_size(optarg, &cfg->ops);
			break;
		case O_WORKLOAD:
			*workloads = optarg;
			break;
		case O_FILE_SIZE:
			ok = parse_size(optarg, &cfg->file_size) && cfg->file_size > 0;
			break;
		case O_IO_SIZE:
			ok = parse_size(optarg, &v) && v > 0 && v <= 4 * NB_MIB;
			cfg->io_size = (uint32_t)v;
			break;
		case O_READDIR:
			ok = parse_size(optarg, &v) && v <= 10000000;
			cfg->readdir_entries = (uint32_t)v;
			break;
		case O_COMMIT:
			ok = parse_size(optarg, &cfg->commit_every) && cfg->commit_every > 0;
			break;
		case O_TAG:
			cfg->tag = optarg;
			ok = strlen(optarg) < 32;
			break;
		case O_JSON:
			cfg->json = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			ok = false;
		}
		if (!ok) {
			if (o != '?')
				fprintf(stderr, "nfs4bench: bad value for --%s\n",
					options[o - O_SERVER].name);
			return false;
		}
	}
	return optind == argc;
}

/* The workloads named in list, in order, into wl (at most nb_nworkloads * 2). */
static int select_workloads(const char *list, const struct nb_workload **wl, int max)
{
	char *copy = strdup(list), *save = NULL;
	int n = 0;

	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "all") == 0) {
			for (int i = 0; i < nb_nworkloads && n < max; i++)
				wl[n++] = &nb_workloads[i];
			continue;
		}
		if (n == max || !(wl[n] = nb_workload_find(t))) {
			fprintf(stderr, "nfs4bench: unknown workload %s\n", t);
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

int main(int argc, char **argv)
{
	struct nb_config cfg = {.host = "127.0.0.1",
				.port = 2049,
				.path = "/",
				.conns = 1,
				.sessions = 1,
				.slots = 4,
				.duration = 10,
				.file_size = 1ull << 30,
				.io_size = NB_MIB,
				.readdir_entries = 10000,
				.commit_every = 64ull * NB_MIB,
				.clients = 10000,
				.tag = ""};
	const struct nb_workload *wl[64];
	const char *workloads = "all";
	struct nb_result res[64];
	struct nb_worker *ws = NULL;
	struct nb_conn *conns = NULL;
	uint32_t granted = UINT32_MAX;
	char hostbuf[256], config_json[1024];
	bool sessions = false;
	int nwl, nw, rc = 0, st = 0;

	if (!parse_args(argc, argv, &cfg, &workloads, hostbuf, sizeof(hostbuf))) {
		usage(stderr);
		return 2;
	}
	if (strcmp(workloads, "clients") == 0)
		return nb_clients_run(&cfg, stdout);
	nwl = select_workloads(workloads, wl, 64);
	nw = cfg.conns * cfg.sessions * cfg.slots;
	if (nwl <= 0 || nw > NB_MAX_THREADS) {
		if (nw > NB_MAX_THREADS)
			fprintf(stderr,
				"nfs4bench: at most %d threads (conns x sessions x slots)\n",
				NB_MAX_THREADS);
		return 2;
	}

	for (int i = 0; i < nwl; i++)
		sessions |= wl[i]->setup != NULL; /* everything but null */
	conns = calloc((size_t)cfg.conns, sizeof(*conns));
	ws = calloc((size_t)nw, sizeof(*ws));
	if (!conns || !ws) {
		rc = 2;
		goto out;
	}
	for (int i = 0; i < cfg.conns && !st; i++) {
		conns[i].sess = calloc((size_t)cfg.sessions, sizeof(*conns[i].sess));
		st = conns[i].sess ? conn_open(&cfg, i, sessions, &conns[i], &granted) : -ENOMEM;
	}
	if (st) {
		fprintf(stderr, "nfs4bench: %s:%u: client set-up: %s\n", cfg.host, cfg.port,
			nb_status_name(st));
		rc = 2;
		goto out;
	}
	if (granted < (uint32_t)cfg.slots)
		fprintf(stderr, "nfs4bench: the server granted %u slots per session (asked %d)\n",
			granted, cfg.slots);
	for (int i = 0; i < nw; i++) {
		struct nb_worker *w = &ws[i];
		struct nb_conn *nc = &conns[i / (cfg.sessions * cfg.slots)];

		w->id = i;
		w->cfg = &cfg;
		w->conn = nc->conn;
		w->sess = nc->sess[i / cfg.slots % cfg.sessions];
		w->clientid = nc->clientid;
		w->sock = -1;
		snprintf(w->owner, sizeof(w->owner), "nfs4bench-%d-%d", (int)getpid(), i);
		w->buf = malloc(cfg.io_size > 8192 ? cfg.io_size : 8192);
		if (!w->buf || (w->sess && !nb_call_init(&w->call, w->sess))) {
			rc = 2;
			goto out;
		}
		memset(w->buf, 'a' + i % 26, cfg.io_size > 8192 ? cfg.io_size : 8192);
	}

	if (!cfg.json)
		nb_report_header(stdout);
	for (int i = 0; i < nwl; i++) {
		run_workload(wl[i], ws, nw, &res[i]);
		if (res[i].errors)
			rc = 1;
		if (!cfg.json) {
			/* Progress as it comes: one line per workload. */
			nb_report_table(stdout, &res[i], 1);
			fflush(stdout);
		}
	}
	snprintf(config_json, sizeof(config_json),
		 "{\"server\": \"%s:%u\", \"path\": \"%s\", \"conns\": %d, \"sessions\": %d, "
		 "\"slots\": %d, \"granted_slots\": %u, \"duration\": %.3f, \"ops\": %" PRIu64
		 ", \"io_size\": %u, \"file_size\": %" PRIu64 ", \"readdir_entries\": %u}",
		 cfg.host, cfg.port, cfg.path, cfg.conns, cfg.sessions, cfg.slots,
		 granted == UINT32_MAX ? 0 : granted, cfg.ops ? 0 : cfg.duration, cfg.ops,
		 cfg.io_size, cfg.file_size, cfg.readdir_entries);
	if (cfg.json) {
		nb_report_header(stderr);
		nb_report_table(stderr, res, nwl);
		nb_report_json(stdout, res, nwl, config_json);
	}
out:
	for (int i = 0; ws && i < nw; i++) {
		nb_call_fini(&ws[i].call);
		free(ws[i].buf);
	}
	for (int i = 0; conns && i < cfg.conns; i++) {
		conn_close(&cfg, &conns[i]);
		free(conns[i].sess);
	}
	free(ws);
	free(conns);
	return rc;
}
