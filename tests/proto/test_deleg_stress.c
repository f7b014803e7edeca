/*
 * Delegation churn: threads of holders (clients answering callbacks well,
 * with NFS4ERR_DELAY, or not at all) and writers (clients without a back
 * channel) over a few shared files, randomly mixing delegation grants,
 * conflicting opens, DELEGRETURN, DESTROY_SESSION, DESTROY_CLIENTID,
 * dropped connections and clients left to expire. nfs4d must keep serving,
 * answer only what the RFC allows, and once every client is gone hold no
 * client, session, stateid, delegation, callback or file: its log says so at
 * exit, and the sanitizer builds check nothing was leaked or touched after
 * free. Bounded by iterations and time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

#define THREADS 4
#define NFILES 24
#define HOLDERS 4      /* per thread at once */
#define SECONDS 40     /* per run; STRESS_SECONDS overrides */
#define SECONDS_VFS 15 /* the vfs run: the same paths, plus a lease per delegation */
#define MAX_ITER 2500  /* per thread */
#define LEASE_S 2

static struct fo_env env;
static struct fo_fh dir, files[NFILES];
static char logpath[256];
static atomic_int errors, iterations, grants, recalls, holders;
static int run_seconds;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

static void stress_error(const char *what, int st)
{
	pthread_mutex_lock(&msg_lock);
	if (atomic_fetch_add(&errors, 1) == 0)
		snprintf(first_error, sizeof(first_error), "%s: %d", what, st);
	pthread_mutex_unlock(&msg_lock);
}

/* A holder and what it holds. */
struct holder {
	bool live;
	struct cb_client c;
	int file; /* -1: holds nothing */
	char name[2];
	struct st_open o;
};

/* The holder's lease ran out (it was idle too long): the server forgot it. */
static bool holder_expired(int st)
{
	return st == NFS4ERR_BADSESSION || st == NFS4ERR_EXPIRED || st == NFS4ERR_STALE_CLIENTID;
}

struct worker {
	unsigned seed;
	struct harness_client writer;
	struct holder h[HOLDERS];
};

static enum cba_mode random_mode(unsigned *seed)
{
	int r = rand_r(seed) % 10;

	return r < 6 ? CBA_OK : r < 7 ? CBA_DELAY : r < 8 ? CBA_OP_DELAY : CBA_SILENT;
}

static void holder_start(struct worker *w, struct holder *h)
{
	cbc_new(env.srv->hs, &h->c, "stress-h", random_mode(&w->seed));
	atomic_fetch_add(&holders, 1);
	h->live = true;
	h->file = -1;
}

/* Ends a holder the way a client might: orderly, abruptly, or by going silent. */
static void holder_end(struct worker *w, struct holder *h)
{
	int st, how = rand_r(&w->seed) % 4;

	switch (how) {
	case 0: /* orderly: return, close, destroy */
		if (h->file >= 0) {
			st = st_delegreturn(h->c.cl.sess, &files[h->file], &h->o.dsid);
			if (st != NFS4_OK && st != NFS4ERR_DELEG_REVOKED && st != NFS4ERR_EXPIRED &&
			    st != NFS4ERR_BAD_STATEID)
				stress_error("DELEGRETURN", st);
			if (st == NFS4ERR_DELEG_REVOKED)
				st_free_stateid(h->c.cl.sess, &h->o.dsid);
			st_close(h->c.cl.sess, &files[h->file], &h->o.sid, NULL);
		}
		st = nfs4clnt_destroy_session(h->c.cl.conn, nfs4clnt_session_id(h->c.cl.sess));
		if (st == NFS4_OK)
			nfs4clnt_destroy_clientid(h->c.cl.conn, h->c.cl.clientid);
		break;
	case 1: /* DESTROY_SESSION with state held, then DESTROY_CLIENTID (BUSY if held) */
		nfs4clnt_destroy_session(h->c.cl.conn, nfs4clnt_session_id(h->c.cl.sess));
		st = nfs4clnt_destroy_clientid(h->c.cl.conn, h->c.cl.clientid);
		if (st != NFS4_OK && st != NFS4ERR_CLIENTID_BUSY && st != NFS4ERR_STALE_CLIENTID)
			stress_error("DESTROY_CLIENTID", st);
		break;
	case 2: /* the connection drops; the lease runs out */
	case 3: /* it just goes quiet (same for the server) */
		break;
	}
	/* Closing the connection waits for its callback thread: the agent outlives its calls. */
	nfs4clnt_conn_close(h->c.cl.conn);
	h->c.cl.conn = NULL;
	cbc_free(&h->c, true);
	h->live = false;
}

static void holder_take(struct worker *w, struct holder *h)
{
	int f = rand_r(&w->seed) % NFILES, st;
	uint32_t access = rand_r(&w->seed) % 2 ? OPEN4_SHARE_ACCESS_READ : OPEN4_SHARE_ACCESS_BOTH;

	if (h->file >= 0)
		return;
	memset(&h->o, 0, sizeof(h->o));
	h->o.dir = &dir;
	h->name[0] = (char)('a' + f);
	h->name[1] = 0;
	h->o.name = h->name;
	h->o.clientid = h->c.cl.clientid;
	h->o.owner = "holder";
	h->o.access = access;
	st = st_open(h->c.cl.sess, &h->o);
	if (st == NFS4ERR_DELAY || holder_expired(st))
		return; /* someone else's delegation is being recalled; or it is gone */
	if (st != NFS4_OK) {
		stress_error("holder OPEN", st);
		return;
	}
	if (h->o.deleg == OPEN_DELEGATE_READ || h->o.deleg == OPEN_DELEGATE_WRITE) {
		h->file = f;
		atomic_fetch_add(&grants, 1);
	} else {
		st_close(h->c.cl.sess, &files[f], &h->o.sid, NULL);
	}
}

static void writer_conflict(struct worker *w)
{
	int f = rand_r(&w->seed) % NFILES, st;
	char name[2] = {(char)('a' + f), 0};
	struct stateid4 sid;

	st = cbc_plain_open(&w->writer, &dir, name, OPEN4_SHARE_ACCESS_WRITE, &sid);
	if (st == NFS4_OK) {
		st = st_write(w->writer.sess, &files[f], &sid, 0, "w", 1);
		if (st != NFS4_OK && st != NFS4ERR_DELAY)
			stress_error("writer WRITE", st);
		st_close(w->writer.sess, &files[f], &sid, NULL);
	} else if (st == NFS4ERR_DELAY) {
		atomic_fetch_add(&recalls, 1);
	} else {
		stress_error("writer OPEN", st);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const char *env_s = getenv("STRESS_SECONDS");
	time_t end = time(NULL) + (env_s ? atoi(env_s) : run_seconds);

	cbc_new_plain(env.srv->hs, &w->writer, "stress-w");
	for (int i = 0; i < MAX_ITER && time(NULL) < end && atomic_load(&errors) == 0; i++) {
		struct holder *h = &w->h[rand_r(&w->seed) % HOLDERS];
		int r = rand_r(&w->seed) % 10;

		atomic_fetch_add(&iterations, 1);
		if (!h->live) {
			holder_start(w, h);
			holder_take(w, h);
		} else if (r < 2) {
			writer_conflict(w);
		} else if (r < 6) {
			holder_take(w, h);
		} else if (r < 7) {
			cba_set_mode(&h->c.ag, random_mode(&w->seed));
		} else if (r < 8) {
			holder_end(w, h);
		} else if (h->file >= 0) {
			int st = st_delegreturn(h->c.cl.sess, &files[h->file], &h->o.dsid);

			if (st == NFS4ERR_DELEG_REVOKED)
				st = st_free_stateid(h->c.cl.sess, &h->o.dsid);
			if (st != NFS4_OK && !holder_expired(st))
				stress_error("DELEGRETURN/FREE_STATEID", st);
			st_close(h->c.cl.sess, &files[h->file], &h->o.sid, NULL);
			h->file = -1;
		} else {
			struct nfs4clnt_seq_res seq;
			int st = nfs4clnt_session_sequence(h->c.cl.sess, &seq);

			if (st != NFS4_OK && !holder_expired(st))
				stress_error("SEQUENCE", st);
		}
	}
	for (int i = 0; i < HOLDERS; i++)
		if (w->h[i].live)
			holder_end(w, &w->h[i]);
	harness_client_free(&w->writer, false);
	return NULL;
}

/* The counts nfs4d logged at exit; false if it logged none. */
static bool exit_counts(long *v)
{
	FILE *f = fopen(logpath, "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "state at exit: ");

		if (p && sscanf(p,
				"state at exit: clients=%ld sessions=%ld stateids=%ld "
				"delegations=%ld callbacks=%ld files=%ld",
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6)
			found = true;
	}
	fclose(f);
	return found;
}

/* One run against a server exporting expath (a fresh directory on vfs) with backend. */
static void stress_run(const char *backend, const char *expath, int seconds)
{
	char line[400];
	const char *args[] = {"--backend", backend, "--export", line, "--lease", "2", NULL};
	static const char *const names[] = {"clients",	   "sessions",	"stateids",
					    "delegations", "callbacks", "files"};
	struct worker *w = calloc(THREADS, sizeof(*w));
	struct fo_srv *srv;
	pthread_t t[THREADS];
	long counts[6];
	const char *why;

	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", expath);
	run_seconds = seconds;
	atomic_store(&iterations, 0);
	atomic_store(&grants, 0);
	atomic_store(&recalls, 0);
	atomic_store(&holders, 0);
	snprintf(logpath, sizeof(logpath), "%s/nfs4d-deleg-stress-%d.log", harness_tmpdir(),
		 (int)getpid());
	unlink(logpath);
	srv = calloc(1, sizeof(*srv));
	assert_non_null(w);
	assert_non_null(srv);
	srv->hs = harness_start_logged(args, logpath);
	snprintf(srv->expath, sizeof(srv->expath), "%s", expath);
	fo_env_attach(&env, srv, expath);
	harness_client_free(&env.cl, false);
	cbc_new_plain(env.srv->hs, &env.cl, "stress-setup");
	fo_testdir(&env, "stress", &dir, NULL, 0);
	for (int i = 0; i < NFILES; i++) {
		char name[2] = {(char)('a' + i), 0};

		assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &dir, name, "x", 1, &files[i]),
			   NFS4_OK);
	}
	harness_client_free(&env.cl, false);

	for (int i = 0; i < THREADS; i++) {
		w[i].seed = (unsigned)time(NULL) * 31u + (unsigned)i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	free(w);
	print_message("%d iterations, %d delegations granted, %d conflicting opens delayed\n",
		      atomic_load(&iterations), atomic_load(&grants), atomic_load(&recalls));
	if (atomic_load(&errors))
		fail_msg("%d unexpected answers, first: %s", atomic_load(&errors), first_error);

	/*
	 * Clients left behind expire after a lease, at most 64 a second (each
	 * removes its durable record: client.c); then nothing may be left.
	 */
	harness_sleep_ms((LEASE_S * 2 + 3 + atomic_load(&holders) / 64) * 1000);
	why = harness_stop_status(env.srv->hs);
	free(env.srv);
	env.srv = NULL;
	if (why)
		fail_msg("%s (log: %s)", why, logpath);
	if (!exit_counts(counts))
		fail_msg("nfs4d logged no state at exit (log: %s)", logpath);
	for (int i = 0; i < 6; i++)
		if (counts[i] != 0)
			fail_msg("%ld %s left after every client went (log: %s)", counts[i],
				 names[i], logpath);
	assert_true(atomic_load(&grants) > 0);
	unlink(logpath);
}

static void stress_delegations(void **state)
{
	(void)state;
	stress_run("mem", "/", SECONDS);
}

/* The same on vfs, where each delegation is an fcntl lease and each writer's OPEN breaks one. */
static void stress_delegations_vfs(void **state)
{
	char tmp[256];
	const char *rm[] = {"rm", "-rf", tmp, NULL};
	char out[256];

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/nfs4d-dstress-XXXXXX", harness_tmpdir());
	assert_non_null(mkdtemp(tmp));
	stress_run("vfs", tmp, SECONDS_VFS);
	harness_run_capture(rm, true, out, sizeof(out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stress_delegations),
		cmocka_unit_test(stress_delegations_vfs),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
