/*
 * CREATE_SESSION (RFC 8881 §18.36): client confirmation, the csa_sequence
 * replay cache, channel attribute negotiation against the server's limits
 * (src/util/limits.h), flags and the callback program.
 */
#include "harness.h"

#include <pthread.h>
#include <string.h>

#include "util/limits.h"

static struct harness_srv *srv;
static struct nfs4clnt_conn *conn;

static int setup(void **state)
{
	srv = harness_start(NULL);
	conn = harness_connect(srv);
	return 0;
}

static int teardown(void **state)
{
	nfs4clnt_conn_close(conn);
	harness_stop(srv);
	return 0;
}

static void new_client(const char *prefix, struct nfs4clnt_exid_res *r)
{
	struct nfs4clnt_exid_args a = {.flags = 0};
	char owner[64];

	a.owner = xdr_opaque_str(harness_owner(owner, sizeof(owner), prefix));
	memcpy(a.verifier, "verifier", 8);
	assert_status(nfs4clnt_exchange_id(conn, &a, r), NFS4_OK);
}

/* A new client's default CREATE_SESSION arguments, for a test to change. */
static struct nfs4clnt_cs_args new_client_args(const char *prefix)
{
	struct nfs4clnt_exid_res r;

	new_client(prefix, &r);
	return nfs4clnt_cs_default(r.clientid, r.sequenceid);
}

static void create_session_confirms_the_client(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct nfs4clnt_exid_args a = {.flags = 0};
	char owner[64];

	a.owner = xdr_opaque_str(harness_owner(owner, sizeof(owner), "confirm"));
	memcpy(a.verifier, "verifier", 8);
	assert_status(nfs4clnt_exchange_id(conn, &a, &r), NFS4_OK);
	assert_int_equal(r.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
	ca = nfs4clnt_cs_default(r.clientid, r.sequenceid);
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_int_equal(cr.sequence, r.sequenceid);
	assert_status(nfs4clnt_exchange_id(conn, &a, &r2), NFS4_OK);
	assert_true(r2.clientid == r.clientid);
	assert_true(r2.flags & EXCHGID4_FLAG_CONFIRMED_R);
}

static void same_csa_sequence_replays_the_same_reply(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr1, cr2, cr3;

	ca = new_client_args("replay");
	assert_status(nfs4clnt_create_session(conn, &ca, &cr1), NFS4_OK);
	assert_status(nfs4clnt_create_session(conn, &ca, &cr2), NFS4_OK);
	assert_memory_equal(&cr1, &cr2, sizeof(cr1));
	/* the next sequence creates a second, different session */
	ca.sequence++;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr3), NFS4_OK);
	assert_memory_not_equal(cr3.sessionid, cr1.sessionid, 16);
	assert_int_equal(cr3.sequence, ca.sequence);
	/* both sessions exist */
	assert_status(nfs4clnt_destroy_session(conn, cr1.sessionid), NFS4_OK);
	assert_status(nfs4clnt_destroy_session(conn, cr3.sessionid), NFS4_OK);
}

static void wrong_csa_sequence_gets_seq_misordered(void **state)
{
	struct nfs4clnt_exid_res r;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	new_client("misordered", &r);
	ca = nfs4clnt_cs_default(r.clientid, r.sequenceid);
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	ca.sequence = r.sequenceid + 2;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_SEQ_MISORDERED);
	ca.sequence = r.sequenceid - 1;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_SEQ_MISORDERED);
}

static void unknown_clientid_gets_stale_clientid(void **state)
{
	struct nfs4clnt_cs_args ca = nfs4clnt_cs_default(0xdeadbeefcafef00dull, 1);
	struct nfs4clnt_cs_res cr;

	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_STALE_CLIENTID);
}

static void channel_attributes_are_negotiated_down_to_server_limits(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("limits");
	ca.fore.maxoperations = 1000;
	ca.fore.maxrequests = 100000;
	ca.fore.maxrequestsize = 0xffffffffu;
	ca.fore.maxresponsesize = 0xffffffffu;
	ca.fore.maxresponsesize_cached = 0xffffffffu;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_true(cr.fore.maxoperations >= 1 && cr.fore.maxoperations <= NFS4_MAX_OPS);
	assert_true(cr.fore.maxrequests >= 1 && cr.fore.maxrequests <= NFS4_MAX_SLOTS);
	assert_true(cr.fore.maxrequestsize >= NFS4_MIN_CHANNEL_SIZE);
	assert_true(cr.fore.maxrequestsize <= NFS4_MAX_REQ_SIZE);
	assert_true(cr.fore.maxresponsesize >= NFS4_MIN_CHANNEL_SIZE);
	assert_true(cr.fore.maxresponsesize <= NFS4_MAX_RESP_SIZE);
	assert_true(cr.fore.maxresponsesize_cached <= NFS4_MAX_RESP_CACHED);
	assert_int_equal(cr.fore.nrdma_ird, 0);
}

static void small_requests_are_granted_as_asked_or_less(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("small");
	ca.fore.maxoperations = 8;
	ca.fore.maxrequests = 3;
	ca.fore.maxrequestsize = 4096;
	ca.fore.maxresponsesize = 4096;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_true(cr.fore.maxoperations >= 1 && cr.fore.maxoperations <= 8);
	assert_true(cr.fore.maxrequests >= 1 && cr.fore.maxrequests <= 3);
	assert_true(cr.fore.maxrequestsize <= 4096);
	assert_true(cr.fore.maxresponsesize <= 4096);
}

static void maxrequestsize_below_1024_gets_toosmall(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("toosmall");
	ca.fore.maxrequestsize = 512;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_TOOSMALL);
}

static void maxresponsesize_below_1024_gets_toosmall(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("toosmall-resp");
	ca.fore.maxresponsesize = 100;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_TOOSMALL);
}

static void conn_back_chan_is_granted_and_persist_is_cleared(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("flags");
	ca.flags = CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_true(cr.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
	assert_int_equal(cr.flags & CREATE_SESSION4_FLAG_PERSIST, 0);
	assert_int_equal(cr.flags & CREATE_SESSION4_FLAG_CONN_RDMA, 0);
}

static void no_back_chan_requested_is_not_granted(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("noback");
	ca.flags = 0;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_int_equal(cr.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN, 0);
}

static void back_channel_attributes_are_negotiated(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("backattrs");
	ca.back.maxrequests = 1000;
	ca.back.maxoperations = 1000;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
	assert_true(cr.back.maxrequests >= 1 && cr.back.maxrequests <= 1000);
	assert_true(cr.back.maxrequests <= NFS4_MAX_CB_SLOTS);
	assert_true(cr.back.maxoperations >= 1 && cr.back.maxoperations <= 1000);
	assert_true(cr.back.maxrequestsize <= ca.back.maxrequestsize);
	assert_true(cr.back.maxresponsesize <= ca.back.maxresponsesize);
	assert_int_equal(cr.back.nrdma_ird, 0);
}

static void auth_none_callback_security_is_accepted(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;

	ca = new_client_args("cbnone");
	ca.sec_flavor = 0;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
}

struct cb_seen {
	pthread_mutex_t lock;
	uint32_t prog;
	int calls;
};

static int cb_hook(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc, struct xdr_dec *args,
		   struct xdr_enc *res)
{
	struct cb_seen *seen = ctx;

	pthread_mutex_lock(&seen->lock);
	seen->prog = prog;
	seen->calls++;
	pthread_mutex_unlock(&seen->lock);
	return proc == 0 ? 0 : 3;
}

/*
 * The server need not call back at all here; if it does (e.g. a CB_NULL
 * probe), the call must use the program number the client gave.
 */
static void callbacks_if_any_use_csa_cb_program(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	struct cb_seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
	struct nfs4clnt_session *s;
	struct nfs4clnt_seq_res seq;
	uint64_t clientid;
	char owner[64];

	nfs4clnt_conn_set_cb(c, cb_hook, &seen);
	assert_status(nfs4clnt_client_setup(c, harness_owner(owner, sizeof(owner), "cbprog"), 4,
					    &clientid, &s),
		      NFS4_OK);
	harness_sleep_ms(500);
	assert_status(nfs4clnt_session_sequence(s, &seq), NFS4_OK);
	pthread_mutex_lock(&seen.lock);
	if (seen.calls)
		assert_int_equal(seen.prog, NFS4CLNT_CB_PROG_DEFAULT);
	pthread_mutex_unlock(&seen.lock);
	assert_status(nfs4clnt_destroy_session(c, nfs4clnt_session_id(s)), NFS4_OK);
	nfs4clnt_session_free(s);
	nfs4clnt_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_session_confirms_the_client),
		cmocka_unit_test(same_csa_sequence_replays_the_same_reply),
		cmocka_unit_test(wrong_csa_sequence_gets_seq_misordered),
		cmocka_unit_test(unknown_clientid_gets_stale_clientid),
		cmocka_unit_test(channel_attributes_are_negotiated_down_to_server_limits),
		cmocka_unit_test(small_requests_are_granted_as_asked_or_less),
		cmocka_unit_test(maxrequestsize_below_1024_gets_toosmall),
		cmocka_unit_test(maxresponsesize_below_1024_gets_toosmall),
		cmocka_unit_test(conn_back_chan_is_granted_and_persist_is_cleared),
		cmocka_unit_test(no_back_chan_requested_is_not_granted),
		cmocka_unit_test(back_channel_attributes_are_negotiated),
		cmocka_unit_test(auth_none_callback_security_is_accepted),
		cmocka_unit_test(callbacks_if_any_use_csa_cb_program),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
