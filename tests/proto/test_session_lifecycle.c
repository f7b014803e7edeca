/*
 * Session and client teardown and connection binding (RFC 8881 §18.37
 * DESTROY_SESSION, §18.50 DESTROY_CLIENTID, §18.34 BIND_CONN_TO_SESSION,
 * §18.51 RECLAIM_COMPLETE).
 */
#include "harness.h"

#include <string.h>

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

static void client(struct harness_client *cl, const char *prefix)
{
	char owner[64];

	harness_client_new(srv, cl, harness_owner(owner, sizeof(owner), prefix), 4);
}

static void destroyed_session_gets_badsession_on_sequence(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_seq_res seq;

	client(&cl, "destroy");
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
	assert_status(nfs4clnt_destroy_session(cl.conn, nfs4clnt_session_id(cl.sess)), NFS4_OK);
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4ERR_BADSESSION);
	assert_status(nfs4clnt_destroy_session(cl.conn, nfs4clnt_session_id(cl.sess)),
		      NFS4ERR_BADSESSION);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4_OK);
	nfs4clnt_session_free(cl.sess);
	cl.sess = NULL;
	harness_client_free(&cl, true);
}

static void destroy_unknown_session_gets_badsession(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	uint8_t sid[16];

	memset(sid, 0xa5, sizeof(sid));
	assert_status(nfs4clnt_destroy_session(c, sid), NFS4ERR_BADSESSION);
	nfs4clnt_conn_close(c);
}

static void destroy_session_as_last_op_of_its_own_session_is_ok(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;

	client(&cl, "destroy-in-session");
	x = nfs4clnt_compound_add(cmp, OP_DESTROY_SESSION);
	xdr_enc_opaque_fixed(x, nfs4clnt_session_id(cl.sess), 16);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL), NFS4_OK);
	assert_int_equal(res.numres, 2);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_status(nfs4clnt_destroy_session(cl.conn, nfs4clnt_session_id(cl.sess)),
		      NFS4ERR_BADSESSION);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4_OK);
	nfs4clnt_session_free(cl.sess);
	cl.sess = NULL;
	harness_client_free(&cl, true);
}

static void destroy_clientid_with_sessions_gets_clientid_busy_then_ok(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr2;

	client(&cl, "busy");
	/* a second session of the same client */
	ca = nfs4clnt_cs_default(cl.clientid, cl.exid.sequenceid + 1);
	assert_status(nfs4clnt_create_session(cl.conn, &ca, &cr2), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4ERR_CLIENTID_BUSY);
	assert_status(nfs4clnt_destroy_session(cl.conn, nfs4clnt_session_id(cl.sess)), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4ERR_CLIENTID_BUSY);
	assert_status(nfs4clnt_destroy_session(cl.conn, cr2.sessionid), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4_OK);
	/* the clientid is gone */
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4ERR_STALE_CLIENTID);
	ca.sequence++;
	assert_status(nfs4clnt_create_session(cl.conn, &ca, &cr2), NFS4ERR_STALE_CLIENTID);
	nfs4clnt_session_free(cl.sess);
	cl.sess = NULL;
	harness_client_free(&cl, true);
}

static void destroy_unknown_clientid_gets_stale_clientid(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);

	assert_status(nfs4clnt_destroy_clientid(c, 0x0123456789abcdefull), NFS4ERR_STALE_CLIENTID);
	nfs4clnt_conn_close(c);
}

static void destroy_unconfirmed_clientid_is_ok(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	struct nfs4clnt_exid_args a = {.flags = 0};
	struct nfs4clnt_exid_res r;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	char owner[64];

	a.owner = xdr_opaque_str(harness_owner(owner, sizeof(owner), "unconf"));
	assert_status(nfs4clnt_exchange_id(c, &a, &r), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(c, r.clientid), NFS4_OK);
	ca = nfs4clnt_cs_default(r.clientid, r.sequenceid);
	assert_status(nfs4clnt_create_session(c, &ca, &cr), NFS4ERR_STALE_CLIENTID);
	nfs4clnt_conn_close(c);
}

/*
 * A new client (owner prefix) binds a second connection to its session with
 * dir; the server must answer want1 or want2, and the session must then work
 * (from the new connection too when it got the fore channel).
 */
static void bind(const char *prefix, uint32_t dir, uint32_t want1, uint32_t want2)
{
	struct harness_client cl;
	struct nfs4clnt_conn *c2;
	struct nfs4clnt_seq_res seq;
	uint32_t got = 0;

	client(&cl, prefix);
	c2 = harness_connect(srv);
	assert_status(nfs4clnt_bind_conn(c2, nfs4clnt_session_id(cl.sess), dir, &got), NFS4_OK);
	assert_true(got == want1 || got == want2);
	if (got & CDFS4_FORE) {
		/* the new connection carries the session's requests */
		nfs4clnt_session_set_conn(cl.sess, c2);
		assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
		nfs4clnt_session_set_conn(cl.sess, cl.conn);
	}
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
	nfs4clnt_conn_close(c2);
	harness_client_free(&cl, false);
}

static void bind_conn_fore_from_second_connection_carries_sequence(void **state)
{
	bind("bind-fore", CDFC4_FORE, CDFS4_FORE, CDFS4_FORE);
}

static void bind_conn_back_gets_back(void **state)
{
	bind("bind-back", CDFC4_BACK, CDFS4_BACK, CDFS4_BACK);
}

static void bind_conn_fore_or_both_gets_both_or_fore(void **state)
{
	bind("bind-fob", CDFC4_FORE_OR_BOTH, CDFS4_BOTH, CDFS4_FORE);
}

static void bind_conn_back_or_both_gets_both_or_back(void **state)
{
	bind("bind-bob", CDFC4_BACK_OR_BOTH, CDFS4_BOTH, CDFS4_BACK);
}

static void bind_conn_unknown_session_gets_badsession(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	uint8_t sid[16];

	memset(sid, 0x3c, sizeof(sid));
	assert_status(nfs4clnt_bind_conn(c, sid, CDFC4_FORE, NULL), NFS4ERR_BADSESSION);
	nfs4clnt_conn_close(c);
}

static void session_survives_its_creating_connection_closing(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_conn *c2;
	struct nfs4clnt_seq_res seq;

	client(&cl, "rebind");
	c2 = harness_connect(srv);
	assert_status(
		nfs4clnt_bind_conn(c2, nfs4clnt_session_id(cl.sess), CDFC4_FORE_OR_BOTH, NULL),
		NFS4_OK);
	nfs4clnt_conn_close(cl.conn);
	cl.conn = c2;
	nfs4clnt_session_set_conn(cl.sess, c2);
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
	harness_client_free(&cl, false);
}

static void reclaim_complete_once_ok_twice_complete_already(void **state)
{
	struct harness_client cl;

	client(&cl, "reclaim");
	assert_status(nfs4clnt_reclaim_complete(cl.sess), NFS4_OK);
	assert_status(nfs4clnt_reclaim_complete(cl.sess), NFS4ERR_COMPLETE_ALREADY);
	harness_client_free(&cl, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(destroyed_session_gets_badsession_on_sequence),
		cmocka_unit_test(destroy_unknown_session_gets_badsession),
		cmocka_unit_test(destroy_session_as_last_op_of_its_own_session_is_ok),
		cmocka_unit_test(destroy_clientid_with_sessions_gets_clientid_busy_then_ok),
		cmocka_unit_test(destroy_unknown_clientid_gets_stale_clientid),
		cmocka_unit_test(destroy_unconfirmed_clientid_is_ok),
		cmocka_unit_test(bind_conn_fore_from_second_connection_carries_sequence),
		cmocka_unit_test(bind_conn_back_gets_back),
		cmocka_unit_test(bind_conn_fore_or_both_gets_both_or_fore),
		cmocka_unit_test(bind_conn_back_or_both_gets_both_or_back),
		cmocka_unit_test(bind_conn_unknown_session_gets_badsession),
		cmocka_unit_test(session_survives_its_creating_connection_closing),
		cmocka_unit_test(reclaim_complete_once_ok_twice_complete_already),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
