/*
 * Leases (RFC 8881 §8.3, §18.46.3): a SEQUENCE renews the client's lease; a
 * client that stops renewing is expired once its lease has run out, its
 * sessions disappear (SEQUENCE → NFS4ERR_BADSESSION) and EXCHANGE_ID with the
 * same owner then starts a new client. The server runs with a 3 s lease.
 * Also: a server restart (mem backend) forgets every client and session.
 */
#include "harness.h"

#include <pthread.h>
#include <string.h>

#define LEASE_S 3

static struct harness_srv *srv;

static int setup(void **state)
{
	static const char *const args[] = {"--lease", "3", NULL};

	srv = harness_start(args);
	return 0;
}

static int teardown(void **state)
{
	harness_stop(srv);
	return 0;
}

static void renewing_client_survives_and_idle_client_expires(void **state)
{
	struct harness_client busy, idle;
	struct nfs4clnt_exid_args a = {.flags = 0};
	struct nfs4clnt_exid_res r;
	struct nfs4clnt_seq_res seq;
	char o1[64], o2[64];

	harness_client_new(srv, &busy, harness_owner(o1, sizeof(o1), "busy"), 2);
	harness_client_new(srv, &idle, harness_owner(o2, sizeof(o2), "idle"), 2);
	/* 8 s, more than two leases: one SEQUENCE a second keeps "busy" alive */
	for (int i = 0; i < 8; i++) {
		harness_sleep_ms(1000);
		assert_status(nfs4clnt_session_sequence(busy.sess, &seq), NFS4_OK);
		assert_int_equal(seq.status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, 0);
	}
	/* "idle" has been silent for 8 s > 2 leases: expired, session gone */
	assert_status(nfs4clnt_session_sequence(idle.sess, &seq), NFS4ERR_BADSESSION);
	/* a restarted client (new verifier) of the same owner: a new clientid, not confirmed */
	a.owner = xdr_opaque_str(o2);
	memcpy(a.verifier, "renewed!", 8);
	assert_status(nfs4clnt_exchange_id(idle.conn, &a, &r), NFS4_OK);
	assert_int_equal(r.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
	assert_true(r.clientid != idle.clientid);
	/* the expired one is kept (test_revoke.c) until then, and may be destroyed */
	assert_status(nfs4clnt_destroy_clientid(idle.conn, idle.clientid), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(idle.conn, idle.clientid), NFS4ERR_STALE_CLIENTID);
	harness_client_free(&idle, true);
	harness_client_free(&busy, false);
}

static void restart_forgets_sessions_and_clients(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_conn *c;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	uint8_t sid[16];
	uint32_t dir;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "restart"), 2);
	memcpy(sid, nfs4clnt_session_id(cl.sess), 16);
	harness_restart(srv);
	c = harness_connect(srv);
	assert_status(nfs4clnt_bind_conn(c, sid, CDFC4_FORE_OR_BOTH, &dir), NFS4ERR_BADSESSION);
	ca = nfs4clnt_cs_default(cl.clientid, cl.exid.sequenceid + 1);
	assert_status(nfs4clnt_create_session(c, &ca, &cr), NFS4ERR_STALE_CLIENTID);
	nfs4clnt_conn_close(c);
	harness_client_free(&cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(renewing_client_survives_and_idle_client_expires),
		cmocka_unit_test(restart_forgets_sessions_and_clients),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
