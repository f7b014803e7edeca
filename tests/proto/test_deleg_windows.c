/*
 * The two windows of the Linux knfsd bug that nfs4d was built around, and
 * back-channel repair:
 *
 * 1. A recall is being retried (the holder answers every CB_SEQUENCE with
 *    NFS4ERR_DELAY) when the holder destroys its session — or its client ID,
 *    or drops its connection. The callback must stop cleanly, never touching
 *    the session again (ASan/TSan builds check "never"), and the writer it
 *    was for must proceed once the delegation is gone.
 * 2. A back channel is being re-established (after CB_PATH_DOWN) while its
 *    session is destroyed: the client must not be left pointing at the dead
 *    session — its next session's back channel carries recalls.
 * 3. Repair: the back channel's connection drops, the holder is told
 *    CB_PATH_DOWN, binds a new connection, and the pending recall arrives.
 *
 * The server's exit status at teardown carries the sanitizers' verdict.
 */
#include <pthread.h>
#include <string.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;
#define B (&env.cl)

static int setup(void **state)
{
	(void)state;
	cbc_env_setup(&env, "3");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

enum holder_exit { DESTROY_SESSION, DESTROY_CLIENTID, DROP_CONNECTION };

static void window1(enum holder_exit how)
{
	static const char *const names[] = {"w1-session", "w1-clientid", "w1-drop"};
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;
	int st;

	cbc_new(env.srv->hs, &a, names[how], CBA_OK);
	fo_testdir(&env, names[how], &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
	cba_set_mode(&a.ag, CBA_DELAY);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);
	/* The recall sits in its retry backoff, holding its slot of the session... */
	assert_true(cba_wait(&a.ag, &a.ag.delays, 2, 5000) >= 2);

	/* ...when the session goes. */
	switch (how) {
	case DESTROY_SESSION:
		assert_status(nfs4clnt_destroy_session(a.cl.conn, nfs4clnt_session_id(a.cl.sess)),
			      NFS4_OK);
		break;
	case DESTROY_CLIENTID:
		assert_status(nfs4clnt_destroy_session(a.cl.conn, nfs4clnt_session_id(a.cl.sess)),
			      NFS4_OK);
		/* It still holds the delegation: BUSY (RFC 8881 §18.50.3), or gone already. */
		st = nfs4clnt_destroy_clientid(a.cl.conn, a.cl.clientid);
		if (st != NFS4_OK && st != NFS4ERR_CLIENTID_BUSY && st != NFS4ERR_STALE_CLIENTID)
			fail_msg("DESTROY_CLIENTID: %d", st);
		break;
	case DROP_CONNECTION:
		nfs4clnt_conn_close(a.cl.conn);
		a.cl.conn = NULL;
		break;
	}
	/* B proceeds once the delegation is revoked or its client expires. */
	assert_nfs(cbc_plain_open_retry(B, NULL, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	cbc_free(&a, true);
}

static void window1_destroy_session(void **state)
{
	(void)state;
	window1(DESTROY_SESSION);
}

static void window1_destroy_clientid(void **state)
{
	(void)state;
	window1(DESTROY_CLIENTID);
}

static void window1_drop_connection(void **state)
{
	(void)state;
	window1(DROP_CONNECTION);
}

/* Two things at once: a back-channel bind (and its probe) and DESTROY_SESSION. */
struct race {
	pthread_barrier_t go;
	struct nfs4clnt_conn *bind_conn, *destroy_conn;
	uint8_t sessionid[16];
	int bind_status, destroy_status;
};

static void *race_bind(void *arg)
{
	struct race *r = arg;
	uint32_t dir;

	pthread_barrier_wait(&r->go);
	r->bind_status = nfs4clnt_bind_conn(r->bind_conn, r->sessionid, CDFC4_BACK, &dir);
	return NULL;
}

static void *race_destroy(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->go);
	r->destroy_status = nfs4clnt_destroy_session(r->destroy_conn, r->sessionid);
	return NULL;
}

static void window2_rebind_races_destroy(void **state)
{
	struct fo_fh d, f;

	(void)state;
	fo_testdir(&env, "w2", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	for (int iter = 0; iter < 12; iter++) {
		struct cb_client a;
		struct nfs4clnt_conn *fore, *back, *conn2;
		struct nfs4clnt_session *s2;
		struct nfs4clnt_cs_args ca;
		struct nfs4clnt_cs_res cr;
		struct race r = {0};
		struct st_open ao;
		struct stateid4 bs;
		pthread_t t1, t2;
		uint32_t dir, flags = 0;

		cbc_new(env.srv->hs, &a, "w2", CBA_OK);
		/* The session's fore channel moves to a second connection; the first (the
		 * back channel) drops: CB_PATH_DOWN. */
		fore = harness_connect(env.srv->hs);
		assert_status(
			nfs4clnt_bind_conn(fore, nfs4clnt_session_id(a.cl.sess), CDFC4_FORE, &dir),
			NFS4_OK);
		nfs4clnt_session_set_conn(a.cl.sess, fore);
		nfs4clnt_conn_close(a.cl.conn);
		a.cl.conn = fore;
		for (int waited = 0; !(flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION); waited += 20) {
			assert_true(waited < 5000);
			flags = cbc_renew(&a.cl);
			harness_sleep_ms(20);
		}

		/* The repair and the destruction of the same session, at once. */
		back = harness_connect(env.srv->hs);
		cba_attach(&a.ag, back, nfs4clnt_session_id(a.cl.sess));
		pthread_barrier_init(&r.go, NULL, 2);
		r.bind_conn = back;
		r.destroy_conn = fore;
		memcpy(r.sessionid, nfs4clnt_session_id(a.cl.sess), 16);
		assert_int_equal(pthread_create(&t1, NULL, race_bind, &r), 0);
		assert_int_equal(pthread_create(&t2, NULL, race_destroy, &r), 0);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		pthread_barrier_destroy(&r.go);
		assert_status(r.destroy_status, NFS4_OK);
		if (r.bind_status != NFS4_OK && r.bind_status != NFS4ERR_BADSESSION)
			fail_msg("BIND_CONN_TO_SESSION: %d", r.bind_status);
		harness_sleep_ms(iter % 3 * 20); /* let a probe of the dead session land, or not */

		/* A new session with its own back channel: recalls must go there. */
		nfs4clnt_conn_close(back);
		nfs4clnt_conn_close(fore);
		conn2 = harness_connect(env.srv->hs);
		ca = nfs4clnt_cs_default(a.cl.clientid, a.cl.exid.sequenceid + 1);
		assert_status(nfs4clnt_create_session(conn2, &ca, &cr), NFS4_OK);
		s2 = nfs4clnt_session_new(conn2, &cr);
		assert_non_null(s2);
		cba_attach(&a.ag, conn2, cr.sessionid);
		nfs4clnt_session_free(a.cl.sess);
		a.cl.sess = s2;
		a.cl.conn = conn2;

		cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
		assert_int_equal(cbc_renew(&a.cl) & SEQ4_STATUS_CB_PATH_DOWN, 0);
		assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs),
			   NFS4ERR_DELAY);
		assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, 1, 5000), 1);
		assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
		assert_nfs(cbc_plain_open_retry(B, NULL, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs),
			   NFS4_OK);
		assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
		assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
		cbc_free(&a, false);
	}
}

static void repaired_back_channel_delivers_the_pending_recall(void **state)
{
	struct cb_client a;
	struct nfs4clnt_conn *conn2;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;
	uint32_t dir, flags = 0;

	(void)state;
	cbc_new(env.srv->hs, &a, "repair", CBA_OK);
	fo_testdir(&env, "repair", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);

	/* The connection (fore and back channel) drops; then B needs the file. */
	nfs4clnt_conn_close(a.cl.conn);
	a.cl.conn = NULL;
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);

	/* A reconnects; its SEQUENCE says the back channel is down... */
	conn2 = harness_connect(env.srv->hs);
	cba_attach(&a.ag, conn2, nfs4clnt_session_id(a.cl.sess));
	nfs4clnt_session_set_conn(a.cl.sess, conn2);
	a.cl.conn = conn2;
	for (int waited = 0; !(flags & SEQ4_STATUS_CB_PATH_DOWN); waited += 50) {
		assert_true(waited < 5000);
		flags = cbc_renew(&a.cl);
		harness_sleep_ms(50);
	}
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0);
	/* ...so it binds one, and the recall that waited for it arrives. */
	assert_status(
		nfs4clnt_bind_conn(conn2, nfs4clnt_session_id(a.cl.sess), CDFC4_BACK_OR_BOTH, &dir),
		NFS4_OK);
	assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, 1, 5000), 1);
	assert_true(st_sid_same_other(&a.ag.recall_sid, &ao.dsid));
	assert_int_equal(cbc_renew(&a.cl) & SEQ4_STATUS_CB_PATH_DOWN, 0);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(cbc_plain_open_retry(B, NULL, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window1_destroy_session),
		cmocka_unit_test(window1_destroy_clientid),
		cmocka_unit_test(window1_drop_connection),
		cmocka_unit_test(window2_rebind_races_destroy),
		cmocka_unit_test(repaired_back_channel_delivers_the_pending_recall),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
