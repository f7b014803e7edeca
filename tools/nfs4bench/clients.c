/*
 * The clients workload: what an idle client and an idle session cost the
 * server in memory. It reads the server's resident set (VmRSS of --rss-pid in
 * /proc, so the server must run on this machine), creates cfg->clients clients
 * (EXCHANGE_ID + CREATE_SESSION with cfg->slots slots each), reads it again,
 * adds a second session to every client, reads it a third time, and reports
 *   per_session = (rss3 - rss2) / clients
 *   per_client  = (rss2 - rss1) / clients - per_session   (a client without its session)
 * then destroys everything. The work is spread over cfg->conns connections,
 * one thread each.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nb.h"

struct cl_one {
	uint64_t clientid;
	uint32_t seq; /* next CREATE_SESSION sequence id */
	uint8_t sessionid[2][16];
	int nsess;
};

struct cl_thread {
	const struct nb_config *cfg;
	struct nfs4clnt_conn *conn;
	struct cl_one *cl; /* this thread's clients */
	int n;
	int idx;
	int phase; /* 0: create clients + session, 1: second session, 2: destroy */
	int err;
	uint32_t granted;
};

static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int new_session(struct cl_thread *t, struct cl_one *c)
{
	struct nfs4clnt_cs_args ca = nfs4clnt_cs_default(c->clientid, c->seq);
	struct nfs4clnt_cs_res cr;
	int st;

	ca.fore.maxrequests = (uint32_t)t->cfg->slots;
	ca.flags = 0; /* idle clients: no back channel */
	st = nfs4clnt_create_session(t->conn, &ca, &cr);
	if (st)
		return st;
	c->seq++;
	memcpy(c->sessionid[c->nsess++], cr.sessionid, 16);
	if (cr.fore.maxrequests < t->granted)
		t->granted = cr.fore.maxrequests;
	return 0;
}

static int create_client(struct cl_thread *t, struct cl_one *c, int i)
{
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_exid_res er;
	char owner[96];
	int st;

	snprintf(owner, sizeof(owner), "nfs4bench-idle-%d-%d-%d", (int)getpid(), t->idx, i);
	ea.owner = xdr_opaque_str(owner);
	xdr_put_be32(ea.verifier, (uint32_t)getpid());
	xdr_put_be32(ea.verifier + 4, (uint32_t)i);
	st = nfs4clnt_exchange_id(t->conn, &ea, &er);
	if (st)
		return st;
	c->clientid = er.clientid;
	c->seq = er.sequenceid;
	return new_session(t, c);
}

static void *cl_main(void *arg)
{
	struct cl_thread *t = arg;

	if (!t->conn)
		return NULL;
	for (int i = 0; i < t->n && (t->phase == 2 || !t->err); i++) {
		struct cl_one *c = &t->cl[i];

		switch (t->phase) {
		case 0:
			t->err = create_client(t, c, i);
			break;
		case 1:
			t->err = new_session(t, c);
			break;
		default:
			for (int s = 0; s < c->nsess; s++)
				nfs4clnt_destroy_session(t->conn, c->sessionid[s]);
			if (c->clientid)
				nfs4clnt_destroy_clientid(t->conn, c->clientid);
			break;
		}
	}
	return NULL;
}

/* Runs phase on every thread; the first error, or 0. */
static int run_phase(struct cl_thread *ts, int nt, int phase)
{
	pthread_t tid[256];
	int err = 0, started = 0;

	for (; started < nt; started++) {
		ts[started].phase = phase;
		if (pthread_create(&tid[started], NULL, cl_main, &ts[started]))
			break;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (!err)
			err = ts[i].err;
	}
	return started < nt && !err ? -EAGAIN : err;
}

int nb_clients_run(const struct nb_config *cfg, FILE *out)
{
	int nt = cfg->conns < 256 ? cfg->conns : 256, err = 0;
	struct cl_one *all = calloc((size_t)cfg->clients, sizeof(*all));
	struct cl_thread *ts = calloc((size_t)nt, sizeof(*ts));
	long rss[3] = {-1, -1, -1};
	uint32_t granted = UINT32_MAX;
	double per_client, per_session;

	if (!all || !ts) {
		free(all);
		free(ts);
		return 2;
	}
	for (int i = 0, first = 0; i < nt; i++) {
		ts[i].cfg = cfg;
		ts[i].idx = i;
		ts[i].cl = &all[first];
		ts[i].n = cfg->clients / nt + (i < cfg->clients % nt);
		ts[i].granted = UINT32_MAX;
		first += ts[i].n;
		ts[i].conn = nfs4clnt_connect(cfg->host, cfg->port);
		if (!ts[i].conn && !err)
			err = -errno;
	}
	if (cfg->rss_pid)
		rss[0] = rss_kib(cfg->rss_pid);
	if (!err && !(err = run_phase(ts, nt, 0))) {
		if (cfg->rss_pid)
			rss[1] = rss_kib(cfg->rss_pid);
		err = run_phase(ts, nt, 1);
		if (cfg->rss_pid)
			rss[2] = rss_kib(cfg->rss_pid);
	}
	for (int i = 0; i < nt; i++)
		if (ts[i].granted < granted)
			granted = ts[i].granted;
	if (err)
		fprintf(stderr, "nfs4bench: clients: %s\n", nb_status_name(err));
	run_phase(ts, nt, 2);
	for (int i = 0; i < nt; i++)
		if (ts[i].conn)
			nfs4clnt_conn_close(ts[i].conn);

	per_session = (double)(rss[2] - rss[1]) * 1024 / cfg->clients;
	per_client = (double)(rss[1] - rss[0]) * 1024 / cfg->clients - per_session;
	fprintf(out,
		"{\"workload\": \"clients\", \"clients\": %d, \"slots\": %u, \"errors\": %d, "
		"\"rss_kib\": {\"before\": %ld, \"clients\": %ld, \"sessions\": %ld}, "
		"\"bytes_per_idle_client\": %.0f, \"bytes_per_session\": %.0f}\n",
		cfg->clients, granted == UINT32_MAX ? 0 : granted, err ? 1 : 0, rss[0], rss[1],
		rss[2], cfg->rss_pid ? per_client : 0, cfg->rss_pid ? per_session : 0);
	free(all);
	free(ts);
	return err ? 1 : 0;
}
