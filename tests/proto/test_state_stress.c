/*
 * Open/lock state under concurrency: 8 clients × 2 threads open, lock, do I/O
 * under their locks, unlock, downgrade and close 4 shared files for ~15 s,
 * against nfs4d --lease 3. One client ("doomed") stops in the middle with
 * opens and locks in place and never speaks again: its lease expires while
 * the others keep going, which must release its state (RFC 8881 §8.3).
 *
 * Every status must be one the workload makes possible: NFS4ERR_SHARE_DENIED
 * from OPEN (deny modes are used) and NFS4ERR_DENIED from LOCK; anything else
 * fails the test. At the end the live clients destroy their state and client
 * IDs, and the server must exit with status 0 (its sanitizers and leak
 * checks included). Worker threads never call cmocka: they count and record.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "state_helpers.h"

#define NCLIENTS 8
#define NTHREADS 2 /* per client */
#define NFILES 4
#define RUN_MS 15000
#define DOOMED (NCLIENTS - 1)
#define DOOMED_MS 3000 /* the doomed client stops after this */

static struct fo_env env;

struct stress {
	struct fo_fh dir;
	struct fo_fh files[NFILES];
	struct fo_fh sentinel;
	struct harness_client cl[NCLIENTS];
	struct timespec start;
	atomic_uint_fast64_t ops, share_denied, denied, locks, opens;
	atomic_int errors;
	pthread_mutex_t msg_lock;
	char msg[512];
};

struct worker {
	struct stress *s;
	int client, thread;
	uint32_t rnd;
};

static int64_t elapsed_ms(const struct stress *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - s->start.tv_sec) * 1000 + (now.tv_nsec - s->start.tv_nsec) / 1000000;
}

static uint32_t rnd(struct worker *w)
{
	w->rnd ^= w->rnd << 13;
	w->rnd ^= w->rnd >> 17;
	w->rnd ^= w->rnd << 5;
	return w->rnd;
}

/* Records an unexpected status (the first few are kept for the failure message). */
static void bad(struct worker *w, const char *what, int st)
{
	struct stress *s = w->s;

	if (atomic_fetch_add(&s->errors, 1) < 4) {
		char line[160];

		snprintf(line, sizeof(line), "client %d thread %d: %s = %s (%d) at %lld ms; ",
			 w->client, w->thread, what, harness_status_name(st), st,
			 (long long)elapsed_ms(s));
		pthread_mutex_lock(&s->msg_lock);
		strncat(s->msg, line, sizeof(s->msg) - strlen(s->msg) - 1);
		pthread_mutex_unlock(&s->msg_lock);
	}
}

/* One open → lock → I/O → unlock → (downgrade) → close round. false: stop. */
static bool round_once(struct worker *w, bool doomed_last)
{
	struct stress *s = w->s;
	struct harness_client *cl = &s->cl[w->client];
	struct nfs4clnt_session *ss = cl->sess;
	int k = (int)(rnd(w) % NFILES);
	const struct fo_fh *f = &s->files[k];
	static const uint32_t accs[] = {OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WRITE,
					OPEN4_SHARE_ACCESS_BOTH};
	uint32_t acc = accs[rnd(w) % 3];
	uint32_t deny = rnd(w) % 8 == 0	   ? OPEN4_SHARE_DENY_WRITE
			: rnd(w) % 16 == 0 ? OPEN4_SHARE_DENY_READ
					   : OPEN4_SHARE_DENY_NONE;
	char owner[64], lowner[64], name[16];
	struct stateid4 os, ls;
	bool locked = false, downgrade;
	uint32_t type = READ_LT;
	int st;

	snprintf(owner, sizeof(owner), "c%d-t%d", w->client, w->thread);
	snprintf(lowner, sizeof(lowner), "c%d-t%d-l", w->client, w->thread);
	snprintf(name, sizeof(name), "f%d", k);
	/*
	 * OPEN_DOWNGRADE may only return to modes the owner opened with
	 * (§18.18.3), so a BOTH open that will be downgraded is made of READ
	 * then an upgrade to BOTH.
	 */
	downgrade = acc == OPEN4_SHARE_ACCESS_BOTH && deny == OPEN4_SHARE_DENY_NONE && rnd(w) % 2;
	st = st_open_simple(ss, cl->clientid, &s->dir, name, owner,
			    downgrade ? OPEN4_SHARE_ACCESS_READ : acc, deny, false, &os, NULL);
	atomic_fetch_add(&s->ops, 1);
	if (st == NFS4ERR_SHARE_DENIED) {
		atomic_fetch_add(&s->share_denied, 1);
		return true;
	}
	if (st != NFS4_OK) {
		bad(w, "OPEN", st);
		return false;
	}
	atomic_fetch_add(&s->opens, 1);
	if (downgrade) {
		st = st_open_simple(ss, cl->clientid, &s->dir, name, owner, acc, deny, false, &os,
				    NULL);
		atomic_fetch_add(&s->ops, 1);
		if (st == NFS4ERR_SHARE_DENIED) {
			atomic_fetch_add(&s->share_denied, 1);
			acc = OPEN4_SHARE_ACCESS_READ; /* the READ open stands */
			downgrade = false;
		} else if (st != NFS4_OK) {
			bad(w, "OPEN(upgrade)", st);
			return false;
		}
	}
	{
		bool wr = (acc & OPEN4_SHARE_ACCESS_WRITE) &&
			  (!(acc & OPEN4_SHARE_ACCESS_READ) || rnd(w) % 2);

		uint64_t off = (uint64_t)(rnd(w) % 64) * 16, len = 16 + rnd(w) % 48;
		uint8_t buf[64];

		type = wr ? WRITE_LT : READ_LT;
		st = st_lock_new(ss, f, type, off, len, &os, cl->clientid, lowner, &ls, NULL);
		atomic_fetch_add(&s->ops, 1);
		if (st == NFS4ERR_DENIED) {
			atomic_fetch_add(&s->denied, 1);
		} else if (st != NFS4_OK) {
			bad(w, "LOCK(new owner)", st);
			return false;
		} else {
			locked = true;
			atomic_fetch_add(&s->locks, 1);
			memset(buf, 'a' + w->client, sizeof(buf));
			if (wr)
				st = st_write(ss, f, &ls, off, buf, (uint32_t)len);
			else
				st = st_read(ss, f, &ls, off, (uint32_t)len, buf, NULL);
			atomic_fetch_add(&s->ops, 1);
			if (st != NFS4_OK) {
				bad(w, wr ? "WRITE(lock stateid)" : "READ(lock stateid)", st);
				return false;
			}
			/* Grow the range through the existing lock owner. */
			st = st_lock_exist(ss, f, type, off + len, 16, &ls, &ls, NULL);
			atomic_fetch_add(&s->ops, 1);
			if (st == NFS4ERR_DENIED) {
				atomic_fetch_add(&s->denied, 1);
			} else if (st != NFS4_OK) {
				bad(w, "LOCK(existing owner)", st);
				return false;
			}
		}
	}
	if (doomed_last)
		return false; /* leave the open and its lock for the lease to clean up */
	if (locked) {
		st = st_locku(ss, f, type, &ls, 0, ST_ALL_ONES, &ls);
		atomic_fetch_add(&s->ops, 1);
		if (st != NFS4_OK) {
			bad(w, "LOCKU", st);
			return false;
		}
	}
	if (downgrade) {
		st = st_downgrade(ss, f, &os, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &os);
		atomic_fetch_add(&s->ops, 1);
		if (st != NFS4_OK) {
			bad(w, "OPEN_DOWNGRADE", st);
			return false;
		}
	}
	st = st_close(ss, f, &os, NULL);
	atomic_fetch_add(&s->ops, 1);
	if (st != NFS4_OK) {
		bad(w, "CLOSE", st);
		return false;
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t until = w->client == DOOMED ? DOOMED_MS : RUN_MS;

	while (elapsed_ms(w->s) < until) {
		bool last = w->client == DOOMED && elapsed_ms(w->s) >= until - 300;

		if (!round_once(w, last))
			break;
	}
	return NULL;
}

static void stress_open_lock_close(void **state)
{
	static struct stress s;
	struct worker w[NCLIENTS * NTHREADS];
	pthread_t th[NCLIENTS * NTHREADS];
	struct stateid4 sent_open, sent_lock;
	struct nfs4clnt_seq_res seq;
	char owner[64];

	(void)state;
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.msg_lock, NULL);
	fo_testdir(&env, "stress", &s.dir, NULL, 0);
	for (int k = 0; k < NFILES; k++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", k);
		assert_nfs(
			st_mkfile(env.cl.sess, env.cl.clientid, &s.dir, name, NULL, 0, &s.files[k]),
			NFS4_OK);
	}
	assert_nfs(
		st_mkfile(env.cl.sess, env.cl.clientid, &s.dir, "sentinel", NULL, 0, &s.sentinel),
		NFS4_OK);
	for (int i = 0; i < NCLIENTS; i++)
		harness_client_new(env.srv->hs, &s.cl[i],
				   harness_owner(owner, sizeof(owner), "stress"), 8);
	/* The doomed client also holds the sentinel exclusively. */
	assert_nfs(st_open_simple(s.cl[DOOMED].sess, s.cl[DOOMED].clientid, &s.dir, "sentinel",
				  "sent", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_BOTH, false,
				  &sent_open, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(s.cl[DOOMED].sess, &s.sentinel, WRITE_LT, 0, ST_ALL_ONES, &sent_open,
			       s.cl[DOOMED].clientid, "sent-l", &sent_lock, NULL),
		   NFS4_OK);

	clock_gettime(CLOCK_MONOTONIC, &s.start);
	for (int i = 0; i < NCLIENTS * NTHREADS; i++) {
		w[i].s = &s;
		w[i].client = i / NTHREADS;
		w[i].thread = i % NTHREADS;
		w[i].rnd = 0x9e3779b9u * (uint32_t)(i + 1);
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	/* Meanwhile the env client renews its own lease. */
	while (elapsed_ms(&s) < RUN_MS) {
		harness_sleep_ms(500);
		assert_nfs(nfs4clnt_session_sequence(env.cl.sess, &seq), NFS4_OK);
	}
	for (int i = 0; i < NCLIENTS * NTHREADS; i++)
		pthread_join(th[i], NULL);
	print_message("stress: %llu ops, %llu opens, %llu locks, %llu SHARE_DENIED, %llu "
		      "DENIED, %d unexpected\n",
		      (unsigned long long)s.ops, (unsigned long long)s.opens,
		      (unsigned long long)s.locks, (unsigned long long)s.share_denied,
		      (unsigned long long)s.denied, (int)s.errors);
	if (s.errors)
		fail_msg("unexpected statuses: %s", s.msg);
	assert_true(s.opens > 100);
	assert_true(s.locks > 50);

	/* The doomed client's lease ran out mid-run: its session and state are gone. */
	assert_nfs(nfs4clnt_session_sequence(s.cl[DOOMED].sess, &seq), NFS4ERR_BADSESSION);
	{
		struct stateid4 o2, l2;

		assert_nfs(st_open_simple(env.cl.sess, env.cl.clientid, &s.dir, "sentinel", "chk",
					  OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_BOTH, false,
					  &o2, NULL),
			   NFS4_OK);
		assert_nfs(st_lock_new(env.cl.sess, &s.sentinel, WRITE_LT, 0, ST_ALL_ONES, &o2,
				       env.cl.clientid, "chk-l", &l2, NULL),
			   NFS4_OK);
		assert_nfs(st_locku(env.cl.sess, &s.sentinel, WRITE_LT, &l2, 0, ST_ALL_ONES, NULL),
			   NFS4_OK);
		assert_nfs(st_close(env.cl.sess, &s.sentinel, &o2, NULL), NFS4_OK);
		/* And every file is free of opens and locks now. */
		for (int k = 0; k < NFILES; k++) {
			struct st_denied dn;

			assert_nfs(st_lockt(env.cl.sess, &s.files[k], WRITE_LT, 0, ST_ALL_ONES,
					    env.cl.clientid, "chk-l", &dn),
				   NFS4_OK);
			assert_nfs(st_open_simple(env.cl.sess, env.cl.clientid, &s.dir,
						  k == 0   ? "f0"
						  : k == 1 ? "f1"
						  : k == 2 ? "f2"
							   : "f3",
						  "chk", OPEN4_SHARE_ACCESS_BOTH,
						  OPEN4_SHARE_DENY_BOTH, false, &o2, NULL),
				   NFS4_OK);
			assert_nfs(st_close(env.cl.sess, &s.files[k], &o2, NULL), NFS4_OK);
		}
	}
	/* Live clients leave cleanly: DESTROY_SESSION and DESTROY_CLIENTID must succeed. */
	for (int i = 0; i < NCLIENTS; i++)
		harness_client_free(&s.cl[i], i == DOOMED);
	pthread_mutex_destroy(&s.msg_lock);
}

static int setup(void **state)
{
	const char *args[] = {"--backend", "mem",      "--max-delegations",
			      "0",	   "--export", "/ *(rw,no_root_squash)",
			      "--lease",   "3",	       NULL};

	(void)state;
	fo_env_attach(&env, fo_srv_start(args), "/");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env); /* asserts nfs4d exits with status 0 */
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stress_open_lock_close),
	};

	return cmocka_run_group_tests_name("state_stress[mem]", tests, setup, teardown);
}
