/*
 * Back-channel churn: many clients whose back channels answer, refuse,
 * answer late or disappear, while their sessions are destroyed, rebound,
 * replaced and their connections dropped, all at once. Whatever the
 * interleaving, nfs4d must keep serving, and at its exit (checked by the
 * harness, with ASan/LSan/TSan in their builds) nothing may be leaked or
 * touched after free: every probe in flight pinned what it used.
 * Bounded by iterations and time.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define THREADS 6
#define SECONDS 15
#define MAX_ITER 400

static struct harness_srv *srv;
static atomic_int errors;
static atomic_int iterations;

static int setup(void **state)
{
	srv = harness_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	harness_stop(srv);
	return 0;
}

struct peer {
	atomic_int mode; /* 0 answer, 1 refuse, 2 answer after a delay */
};

static int cb_answer(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc, struct xdr_dec *args,
		     struct xdr_enc *res)
{
	struct peer *p = ctx;

	switch (atomic_load(&p->mode)) {
	case 1:
		return 1; /* PROG_UNAVAIL */
	case 2:
		harness_sleep_ms(50 + rand() % 200);
		return 0;
	default:
		return 0;
	}
}

static bool ok_or(int st, int also)
{
	return st == NFS4_OK || st == also;
}

static void note(bool ok)
{
	if (!ok)
		atomic_fetch_add(&errors, 1);
}

/* One round: a client, a session with a back channel, and something done to it. */
static void churn_once(unsigned *seed, int id, int round)
{
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_exid_res er;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct nfs4clnt_conn *c, *c2 = NULL;
	struct nfs4clnt_session *sess = NULL;
	struct nfs4clnt_seq_res seq;
	struct peer peer = {0}, peer2 = {0};
	char owner[64];
	uint32_t dir;
	int st;

	snprintf(owner, sizeof(owner), "churn-%d-%d-%d", getpid(), id, round);
	ea.owner = xdr_opaque_str(owner);
	xdr_put_be32(ea.verifier, (uint32_t)round);
	c = harness_connect(srv);
	atomic_store(&peer.mode, (int)(rand_r(seed) % 3));
	nfs4clnt_conn_set_cb(c, cb_answer, &peer);
	st = nfs4clnt_exchange_id(c, &ea, &er);
	note(st == NFS4_OK);
	if (st != NFS4_OK)
		goto out;
	ca = nfs4clnt_cs_default(er.clientid, er.sequenceid);
	st = nfs4clnt_create_session(c, &ca, &cr);
	note(st == NFS4_OK);
	if (st != NFS4_OK)
		goto out;
	sess = nfs4clnt_session_new(c, &cr);

	switch (rand_r(seed) % 5) {
	case 0: /* destroy at once, probe likely in flight */
		note(nfs4clnt_destroy_session(c, cr.sessionid) == NFS4_OK);
		note(nfs4clnt_destroy_clientid(c, er.clientid) == NFS4_OK);
		break;
	case 1: /* drop the connection with everything in place */
		goto out_drop;
	case 2: /* bind a second back channel, then destroy */
		c2 = harness_connect(srv);
		atomic_store(&peer2.mode, (int)(rand_r(seed) % 3));
		nfs4clnt_conn_set_cb(c2, cb_answer, &peer2);
		note(nfs4clnt_bind_conn(c2, cr.sessionid, CDFC4_BACK_OR_BOTH, &dir) == NFS4_OK);
		note(ok_or(nfs4clnt_session_sequence(sess, &seq), NFS4ERR_BADSESSION));
		note(nfs4clnt_destroy_session(c, cr.sessionid) == NFS4_OK);
		note(nfs4clnt_destroy_clientid(c, er.clientid) == NFS4_OK);
		break;
	case 3: /* a second session replaces the first */
		ca = nfs4clnt_cs_default(er.clientid, cr.sequence + 1);
		st = nfs4clnt_create_session(c, &ca, &cr);
		note(st == NFS4_OK);
		harness_sleep_ms(rand_r(seed) % 100);
		note(nfs4clnt_destroy_session(c, cr.sessionid) == NFS4_OK);
		goto out_drop;
	default: /* use it a little, flip how the back channel answers */
		for (int i = 0; i < 5; i++) {
			note(nfs4clnt_session_sequence(sess, &seq) == NFS4_OK);
			atomic_store(&peer.mode, (int)(rand_r(seed) % 3));
		}
		note(nfs4clnt_destroy_session(c, cr.sessionid) == NFS4_OK);
		note(nfs4clnt_destroy_clientid(c, er.clientid) == NFS4_OK);
		break;
	}
out_drop:
out:
	/* Closing waits for the connection's callback thread: peers outlive their calls. */
	if (sess)
		nfs4clnt_session_free(sess);
	nfs4clnt_conn_close(c);
	if (c2)
		nfs4clnt_conn_close(c2);
}

static void *churn_thread(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 7919u + (unsigned)time(NULL);
	time_t end = time(NULL) + SECONDS;

	for (int round = 0; round < MAX_ITER && time(NULL) < end; round++) {
		churn_once(&seed, id, round);
		atomic_fetch_add(&iterations, 1);
	}
	return NULL;
}

static void back_channels_churn_without_crash_or_leak(void **state)
{
	pthread_t t[THREADS];
	struct harness_client cl;
	char owner[64];

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	print_message("%d rounds, %d unexpected statuses\n", atomic_load(&iterations),
		      atomic_load(&errors));
	assert_int_equal(atomic_load(&errors), 0);
	assert_true(atomic_load(&iterations) >= THREADS);
	/* Still serving. */
	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "after-churn"), 4);
	harness_client_free(&cl, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(back_channels_churn_without_crash_or_leak),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
