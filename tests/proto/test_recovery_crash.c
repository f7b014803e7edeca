/*
 * No lost writes: nfs4d on the vfs backend is killed with SIGKILL at random
 * moments while clients write, and restarted with the same state directory;
 * the clients recover as a client does (new client ID with the same owner,
 * OPEN CLAIM_PREVIOUS of their file, RECLAIM_COMPLETE, rewrite of what was
 * not yet known to be stable) and go on. At the end every byte a client was
 * told is stable must be in its file, read back from the exported directory.
 *
 * Each client writes fixed-size records in order to its own file, in batches
 * that are either FILE_SYNC4 writes (each stable when answered) or UNSTABLE4
 * writes followed by COMMIT (stable when COMMIT answers with the verifier the
 * writes got). A COMMIT after a restart must answer another verifier than the
 * writes before it (RFC 8881 §18.3.3): the client then writes the batch again.
 *
 * Bounded: NFS4D_CRASH_ITERATIONS kills (default 50) within
 * NFS4D_CRASH_SECONDS (default 40), whichever ends first. A kill waits until
 * every client has recovered from the previous one, except that one kill in
 * four comes right after a restart, in the middle of the clients' recovery
 * (and so during grace). SIGKILL loses nothing the kernel already has, so
 * this tests the protocol's promises (stable_how, verifiers, reclaim), not
 * the disk's; vfs's fsync calls are what carry them to the disk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state_helpers.h"

#define NCLIENTS 3
#define REC_SIZE 4096
#define MAX_RECS 12288 /* 48 MiB per file at most */
#define MAX_BATCH 8
#define RECOVER_WAIT_MS 20000

static struct fo_env env;

/* What the writers share with the thread that kills and restarts the server. */
struct crash {
	atomic_int port;       /* the server's port now */
	atomic_int generation; /* restarts so far */
	atomic_bool stop;
	atomic_int errors;
	pthread_mutex_t msg_lock;
	char msg[1024];
	struct fo_fh files[NCLIENTS];
};

struct writer {
	struct crash *cr;
	int id;
	char owner[64];
	uint8_t boot[8]; /* co_verifier: the same client instance all along */
	uint32_t rnd;
	/* The connection to the current server instance, if any. */
	struct nfs4clnt_conn *conn;
	struct nfs4clnt_session *sess;
	uint64_t clientid;
	struct stateid4 sid;
	bool opened; /* it holds an open (to reclaim after a restart) */
	/* Progress: records [0, stable) are acknowledged stable; [stable, written) are not. */
	uint64_t stable, written;
	uint8_t unstable_verf[8]; /* the verifier [stable, written) were written with */
	atomic_int recovered;	  /* the generation it has recovered from */
	/* Counts, for the summary. */
	uint64_t file_syncs, commits, rewrites, reclaims;
};

static void bad(struct writer *w, const char *what, int st)
{
	struct crash *cr = w->cr;

	if (atomic_fetch_add(&cr->errors, 1) < 4) {
		char line[200];

		snprintf(line, sizeof(line), "client %d: %s = %s (%d) at record %llu; ", w->id,
			 what, harness_status_name(st), st, (unsigned long long)w->stable);
		pthread_mutex_lock(&cr->msg_lock);
		strncat(cr->msg, line, sizeof(cr->msg) - strlen(cr->msg) - 1);
		pthread_mutex_unlock(&cr->msg_lock);
	}
}

/* Statuses that mean "the server went away": recover and go on. */
static bool server_gone(int st)
{
	return st < 0 || st == NFS4ERR_BADSESSION || st == NFS4ERR_DEADSESSION ||
	       st == NFS4ERR_STALE_CLIENTID || st == NFS4ERR_STALE_STATEID;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The content of record k of client id. */
static void record(int id, uint64_t k, uint8_t *buf)
{
	uint32_t s = (uint32_t)(k * 2654435761u) ^ (uint32_t)(id + 1) * 40503u ^ 0x9e3779b9u;

	for (size_t i = 0; i < REC_SIZE; i += 4) {
		uint32_t v = xorshift(&s);

		memcpy(buf + i, &v, 4);
	}
}

static int write_rec(struct writer *w, uint64_t k, uint32_t stable, uint32_t *committed,
		     uint8_t verf[8])
{
	uint8_t data[REC_SIZE];
	struct WRITE4args a = {.stateid = w->sid,
			       .offset = k * REC_SIZE,
			       .stable = (enum stable_how4)stable,
			       .data = {REC_SIZE, data}};
	struct WRITE4resok ok;
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, &w->cr->files[w->id], OP_WRITE);
	int st;

	record(w->id, k, data);
	if (!x || !xdr_enc_WRITE4args(x, &a)) {
		st_call_end(&c);
		return -ENOMEM;
	}
	st = st_call_run(w->sess, &c, OP_WRITE);
	if (st == NFS4_OK && (!xdr_dec_WRITE4resok(st_call_body(&c), &ok) || ok.count != REC_SIZE))
		st = -EPROTO;
	if (st == NFS4_OK) {
		*committed = ok.committed;
		memcpy(verf, ok.writeverf.data, 8);
	}
	st_call_end(&c);
	return st;
}

static int commit(struct writer *w, uint64_t off, uint32_t count, uint8_t verf[8])
{
	struct COMMIT4args a = {off, count};
	struct COMMIT4resok ok;
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, &w->cr->files[w->id], OP_COMMIT);
	int st;

	if (!x || !xdr_enc_COMMIT4args(x, &a)) {
		st_call_end(&c);
		return -ENOMEM;
	}
	st = st_call_run(w->sess, &c, OP_COMMIT);
	if (st == NFS4_OK && !xdr_dec_COMMIT4resok(st_call_body(&c), &ok))
		st = -EPROTO;
	if (st == NFS4_OK)
		memcpy(verf, ok.writeverf.data, 8);
	st_call_end(&c);
	return st;
}

static void disconnect(struct writer *w)
{
	nfs4clnt_session_free(w->sess);
	if (w->conn)
		nfs4clnt_conn_close(w->conn);
	w->sess = NULL;
	w->conn = NULL;
}

/*
 * A client ID and session on the current server, its open back (reclaimed
 * after a restart, made with CLAIM_FH the first time) and RECLAIM_COMPLETE.
 * false: no server (yet); try again.
 */
static bool establish(struct writer *w)
{
	struct crash *cr = w->cr;
	int gen = atomic_load(&cr->generation);
	struct nfs4clnt_exid_args ea = {.owner = xdr_opaque_str(w->owner)};
	struct nfs4clnt_exid_res er;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cs;
	struct st_open o;
	int st;

	disconnect(w);
	w->conn = nfs4clnt_connect("127.0.0.1", (uint16_t)atomic_load(&cr->port));
	if (!w->conn)
		return false;
	memcpy(ea.verifier, w->boot, 8);
	st = nfs4clnt_exchange_id(w->conn, &ea, &er);
	if (st != NFS4_OK)
		goto fail;
	ca = nfs4clnt_cs_default(er.clientid, er.sequenceid);
	ca.fore.maxrequests = 2;
	st = nfs4clnt_create_session(w->conn, &ca, &cs);
	if (st != NFS4_OK)
		goto fail;
	w->clientid = er.clientid;
	w->sess = nfs4clnt_session_new(w->conn, &cs);
	if (!w->sess) {
		st = -ENOMEM;
		goto fail;
	}
	memset(&o, 0, sizeof(o));
	o.fh = &cr->files[w->id];
	o.clientid = w->clientid;
	o.owner = "writer";
	o.access = OPEN4_SHARE_ACCESS_BOTH;
	if (w->opened) {
		/* Its record was written before its last client ID was confirmed: it may reclaim.
		 */
		o.claim = CLAIM_PREVIOUS;
		o.deleg_type = OPEN_DELEGATE_NONE;
		st = st_open(w->sess, &o);
		if (st != NFS4_OK)
			goto fail;
		w->sid = o.sid;
		w->reclaims++;
	}
	st = nfs4clnt_reclaim_complete(w->sess);
	if (st != NFS4_OK)
		goto fail;
	if (!w->opened) {
		/* A first open in grace waits for the other clients' RECLAIM_COMPLETE. */
		o.claim = CLAIM_FH;
		while ((st = st_open(w->sess, &o)) == NFS4ERR_GRACE && !atomic_load(&cr->stop))
			harness_sleep_ms(10);
		if (st != NFS4_OK)
			goto fail;
		w->sid = o.sid;
		w->opened = true;
	}
	atomic_store(&w->recovered, gen);
	return true;
fail:
	if (!server_gone(st))
		bad(w, "recovery", st);
	disconnect(w);
	return false;
}

/*
 * After a restart, records written unstable may be gone: COMMIT must say so
 * with a new verifier (never the old one), and they are written again.
 */
static bool check_unstable_after_restart(struct writer *w)
{
	uint8_t verf[8];
	int st;

	if (w->written == w->stable)
		return true;
	st = commit(w, w->stable * REC_SIZE, (uint32_t)((w->written - w->stable) * REC_SIZE), verf);
	if (st != NFS4_OK) {
		if (!server_gone(st))
			bad(w, "COMMIT after restart", st);
		return false;
	}
	if (memcmp(verf, w->unstable_verf, 8) == 0)
		bad(w, "COMMIT after restart kept the verifier", 0);
	w->rewrites += w->written - w->stable;
	w->written = w->stable;
	return true;
}

/* One batch of records from w->stable on. false: the server went away. */
static bool batch(struct writer *w, bool file_sync, uint32_t n)
{
	uint8_t verf[8];
	uint32_t committed;
	int st;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t k = w->written;

		st = write_rec(w, k, file_sync ? FILE_SYNC4 : UNSTABLE4, &committed, verf);
		if (st != NFS4_OK)
			goto gone;
		if (file_sync) {
			if (committed != FILE_SYNC4) {
				bad(w, "FILE_SYNC4 WRITE answered less", (int)committed);
				return false;
			}
			w->stable = w->written = k + 1;
			w->file_syncs++;
			continue;
		}
		/* One instance answers every write of a batch with one verifier. */
		if (w->written > w->stable && memcmp(verf, w->unstable_verf, 8) != 0) {
			bad(w, "write verifier changed within one connection", 0);
			return false;
		}
		memcpy(w->unstable_verf, verf, 8);
		w->written = k + 1;
	}
	if (file_sync)
		return true;
	st = commit(w, w->stable * REC_SIZE, n * REC_SIZE, verf);
	if (st != NFS4_OK)
		goto gone;
	if (memcmp(verf, w->unstable_verf, 8) != 0) {
		bad(w, "COMMIT verifier differs from its writes' on one connection", 0);
		return false;
	}
	w->stable = w->written;
	w->commits++;
	return true;
gone:
	if (!server_gone(st))
		bad(w, file_sync ? "WRITE FILE_SYNC4" : "WRITE/COMMIT", st);
	return false;
}

/* Closes the open and destroys the session and client ID (the server stays up now). */
static void finish(struct writer *w)
{
	struct crash *cr = w->cr;
	int st;

	st = st_close(w->sess, &cr->files[w->id], &w->sid, NULL);
	if (st != NFS4_OK)
		bad(w, "CLOSE", st);
	st = nfs4clnt_destroy_session(w->conn, nfs4clnt_session_id(w->sess));
	if (st == NFS4_OK)
		st = nfs4clnt_destroy_clientid(w->conn, w->clientid);
	if (st != NFS4_OK)
		bad(w, "DESTROY", st);
	disconnect(w);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct crash *cr = w->cr;

	while (!atomic_load(&cr->stop) && atomic_load(&cr->errors) == 0) {
		uint32_t n;
		int st;

		if (!w->sess) {
			if (!establish(w) || !check_unstable_after_restart(w)) {
				harness_sleep_ms(10);
				continue;
			}
		}
		if (w->stable >= MAX_RECS) {
			/* A full file: only notice restarts (and recover) until the end. */
			st = nfs4clnt_session_sequence(w->sess, NULL);
			if (st != NFS4_OK) {
				if (!server_gone(st))
					bad(w, "SEQUENCE", st);
				disconnect(w);
			}
			harness_sleep_ms(10);
			continue;
		}
		n = 1 + xorshift(&w->rnd) % MAX_BATCH;
		if (w->written + n > MAX_RECS)
			n = (uint32_t)(MAX_RECS - w->written);
		if (!batch(w, xorshift(&w->rnd) % 2 == 0, n))
			disconnect(w);
	}
	/* The last kill is over: the server stays; make sure of a session on it. */
	while (!w->sess && atomic_load(&cr->errors) == 0)
		if (!establish(w) || !check_unstable_after_restart(w))
			harness_sleep_ms(10);
	if (w->sess)
		finish(w);
	return NULL;
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until every writer has recovered from the last restart (bounded). */
static bool wait_recovered(struct crash *cr, struct writer *ws)
{
	int gen = atomic_load(&cr->generation);

	for (int waited = 0; waited < RECOVER_WAIT_MS; waited += 10) {
		int done = 0;

		for (int i = 0; i < NCLIENTS; i++)
			done += atomic_load(&ws[i].recovered) >= gen;
		if (done == NCLIENTS || atomic_load(&cr->errors))
			return true;
		harness_sleep_ms(10);
	}
	return false;
}

/* Every acknowledged record is in the file on disk; returns a checksum of them. */
static uint64_t verify_file(const char *path, int id, uint64_t stable)
{
	static uint8_t want[REC_SIZE], got[REC_SIZE];
	FILE *f = fopen(path, "rb");
	uint64_t sum = 1469598103934665603ull;

	assert_non_null(f);
	for (uint64_t k = 0; k < stable; k++) {
		record(id, k, want);
		if (fread(got, 1, REC_SIZE, f) != REC_SIZE || memcmp(got, want, REC_SIZE) != 0) {
			fclose(f);
			fail_msg("%s: acknowledged record %llu of %llu is not on disk", path,
				 (unsigned long long)k, (unsigned long long)stable);
		}
		for (size_t i = 0; i < REC_SIZE; i++)
			sum = (sum ^ got[i]) * 1099511628211ull;
	}
	fclose(f);
	return sum;
}

static void acknowledged_writes_survive_kill_9(void **state)
{
	static struct crash cr;
	static struct writer ws[NCLIENTS];
	pthread_t th[NCLIENTS];
	long iterations = env_long("NFS4D_CRASH_ITERATIONS", 50);
	int64_t deadline = now_ms() + 1000 * env_long("NFS4D_CRASH_SECONDS", 40);
	uint32_t rnd = (uint32_t)time(NULL) | 1;
	char dname[64], path[512];
	struct fo_fh d;
	long kills = 0;

	(void)state;
	pthread_mutex_init(&cr.msg_lock, NULL);
	atomic_store(&cr.port, env.srv->hs->port);
	fo_testdir(&env, "crash", &d, dname, sizeof(dname));
	for (int i = 0; i < NCLIENTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%d", i);
		assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &d, name, NULL, 0, &cr.files[i]),
			   NFS4_OK);
		ws[i].cr = &cr;
		ws[i].id = i;
		atomic_init(&ws[i].recovered, -1);
		ws[i].rnd = rnd + (uint32_t)i * 7919u;
		harness_owner(ws[i].owner, sizeof(ws[i].owner), "crash");
		memcpy(ws[i].boot, &rnd, sizeof(rnd));
		ws[i].boot[7] = (uint8_t)i;
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &ws[i]), 0);
	}
	assert_true(wait_recovered(&cr, ws));

	while (kills < iterations && now_ms() < deadline && atomic_load(&cr.errors) == 0) {
		bool in_recovery = xorshift(&rnd) % 4 == 0 && kills > 0;

		if (!in_recovery && !wait_recovered(&cr, ws))
			break;
		harness_sleep_ms(in_recovery ? (int)(xorshift(&rnd) % 30)
					     : 20 + (int)(xorshift(&rnd) % 400));
		/* env's client goes with the server and comes back like the writers. */
		harness_client_free(&env.cl, true);
		harness_kill_restart(env.srv->hs);
		atomic_store(&cr.port, env.srv->hs->port);
		atomic_fetch_add(&cr.generation, 1);
		harness_client_new(env.srv->hs, &env.cl, env.owner, 4);
		assert_nfs(nfs4clnt_reclaim_complete(env.cl.sess), NFS4_OK);
		kills++;
	}
	assert_true(wait_recovered(&cr, ws));
	atomic_store(&cr.stop, true);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&cr.errors))
		fail_msg("%d errors: %s", atomic_load(&cr.errors), cr.msg);

	print_message("%ld kills of nfs4d\n", kills);
	for (int i = 0; i < NCLIENTS; i++) {
		snprintf(path, sizeof(path), "%s/%s/c%d", env.srv->tmpdir, dname, i);
		print_message("client %d: %llu records stable (%llu FILE_SYNC4, %llu commits), "
			      "%llu rewritten after restarts, %llu reclaims, checksum %016llx\n",
			      i, (unsigned long long)ws[i].stable,
			      (unsigned long long)ws[i].file_syncs,
			      (unsigned long long)ws[i].commits, (unsigned long long)ws[i].rewrites,
			      (unsigned long long)ws[i].reclaims,
			      (unsigned long long)verify_file(path, i, ws[i].stable));
		assert_true(ws[i].stable > 0);
	}
	assert_true(kills > 0);
	pthread_mutex_destroy(&cr.msg_lock);
}

static int setup(void **state)
{
	char dir[256], line[400];
	struct fo_srv *srv;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/nfs4d-crash-XXXXXX", harness_tmpdir());
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", dir);
	{
		/* Grace never runs out here: it must end by the clients' RECLAIM_COMPLETEs. */
		/* No delegations: the clients here reclaim opens only. */
		const char *args[] = {"--backend", "vfs", "--max-delegations", "0",
				      "--export",  line,  "--grace",	       "600",
				      "--lease",   "60",  "--log-level",       "warn",
				      NULL};

		srv = fo_srv_start(args);
	}
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", dir);
	snprintf(srv->expath, sizeof(srv->expath), "%s", dir);
	fo_env_attach(&env, srv, dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acknowledged_writes_survive_kill_9),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
