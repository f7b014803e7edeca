/*
 * Concurrency: many threads sharing one session keep every slot busy (the
 * library's slot table must hand out each slot to one request at a time and
 * the server must track each slot's sequence id), and many clients are
 * created and destroyed in parallel.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "util/clock.h"

#define SLOTS 8
#define THREADS 16
#define CALLS_PER_THREAD 150
#define CLIENT_THREADS 10
#define CLIENTS_PER_THREAD 5

static struct harness_srv *srv;

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

struct shared {
	struct nfs4clnt_session *sess;
	uint32_t nslots;
	uint64_t until_ns; /* time_mono_ns() past which nobody waits for every slot to be used */
	atomic_int calls;
	atomic_int failures;
	atomic_int first_bad;
};

static void *hammer(void *arg)
{
	struct shared *sh = arg;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("hammer", 1);

	/*
	 * CALLS_PER_THREAD each, and on until every slot was busy at once: on a
	 * loaded machine the threads may be too few at a time at first.
	 */
	for (int i = 0; cmp; i++) {
		struct nfs4clnt_res res;
		struct nfs4clnt_seq_res seq;
		int st;

		if (i >= CALLS_PER_THREAD && (nfs4clnt_session_max_busy(sh->sess) >= sh->nslots ||
					      time_mono_ns() > sh->until_ns))
			break;
		atomic_fetch_add(&sh->calls, 1);

		/* SEQUENCE + LAYOUTGET (unsupported): the op fails, the slot still advances */
		nfs4clnt_compound_reset(cmp);
		if (i & 1)
			nfs4clnt_compound_add(cmp, OP_LAYOUTGET);
		st = nfs4clnt_session_compound(sh->sess, cmp, i % 3 == 0, 0, &res, &seq);
		nfs4clnt_res_free(&res);
		if (seq.status != NFS4_OK || st != ((i & 1) ? NFS4ERR_NOTSUPP : NFS4_OK)) {
			int zero = 0;

			atomic_fetch_add(&sh->failures, 1);
			atomic_compare_exchange_strong(&sh->first_bad, &zero,
						       seq.status ? (int)seq.status : st);
		}
	}
	nfs4clnt_compound_free(cmp);
	return NULL;
}

static void threads_sharing_one_session_use_every_slot_without_errors(void **state)
{
	struct harness_client cl;
	struct shared sh = {0};
	pthread_t t[THREADS];
	struct nfs4clnt_seq_res seq;
	char owner[64];
	uint32_t n;

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "hammer"), SLOTS);
	n = cl.cs.fore.maxrequests;
	assert_true(n >= 1 && n <= SLOTS);
	sh.sess = cl.sess;
	sh.nslots = n;
	sh.until_ns = time_mono_ns() + 30000000000ull;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &sh), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&sh.failures))
		fail_msg("%d failed compounds, first status %s (%d)", atomic_load(&sh.failures),
			 harness_status_name(atomic_load(&sh.first_bad)),
			 atomic_load(&sh.first_bad));
	assert_int_equal(nfs4clnt_session_max_busy(cl.sess), n);
	/* every slot's seqid advanced by the number of requests sent on it */
	uint32_t total = 0;
	for (uint32_t s = 0; s < n; s++)
		total += nfs4clnt_session_slot_seqid(cl.sess, s) - 1;
	assert_int_equal(total, atomic_load(&sh.calls));
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
	harness_client_free(&cl, false);
}

static void *churn(void *arg)
{
	atomic_int *failures = arg;

	for (int i = 0; i < CLIENTS_PER_THREAD; i++) {
		struct nfs4clnt_conn *c = nfs4clnt_connect("127.0.0.1", srv->port);
		struct nfs4clnt_session *s = NULL;
		struct nfs4clnt_seq_res seq;
		uint64_t clientid;
		char owner[64];
		int ok = 0;

		if (!c) {
			atomic_fetch_add(failures, 1);
			continue;
		}
		if (nfs4clnt_client_setup(c, harness_owner(owner, sizeof(owner), "churn"), 4,
					  &clientid, &s) == 0 &&
		    nfs4clnt_session_sequence(s, &seq) == 0 &&
		    nfs4clnt_destroy_session(c, nfs4clnt_session_id(s)) == 0 &&
		    nfs4clnt_destroy_clientid(c, clientid) == 0)
			ok = 1;
		if (!ok)
			atomic_fetch_add(failures, 1);
		nfs4clnt_session_free(s);
		nfs4clnt_conn_close(c);
	}
	return NULL;
}

static void fifty_clients_created_and_destroyed_in_parallel(void **state)
{
	pthread_t t[CLIENT_THREADS];
	atomic_int failures = 0;

	for (int i = 0; i < CLIENT_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, &failures), 0);
	for (int i = 0; i < CLIENT_THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
}

static void *conn_churn(void *arg)
{
	atomic_int *failures = arg;

	for (int i = 0; i < 20; i++) {
		struct nfs4clnt_conn *c = nfs4clnt_connect("127.0.0.1", srv->port);

		if (!c || nfs4clnt_null(c) != 0)
			atomic_fetch_add(failures, 1);
		nfs4clnt_conn_close(c);
	}
	return NULL;
}

static void connections_opened_and_closed_in_parallel_all_work(void **state)
{
	pthread_t t[8];
	atomic_int failures = 0;

	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, conn_churn, &failures), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_sharing_one_session_use_every_slot_without_errors),
		cmocka_unit_test(fifty_clients_created_and_destroyed_in_parallel),
		cmocka_unit_test(connections_opened_and_closed_in_parallel_all_work),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
