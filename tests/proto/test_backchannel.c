/*
 * The back channel (RFC 8881 §2.10.3.1, §18.46.3): nfs4d probes a new back
 * channel with CB_NULL on the callback program the client named, reports a
 * failed one through SEQ4_STATUS_CB_PATH_DOWN, takes a repaired one
 * (BIND_CONN_TO_SESSION) back into use, and survives sessions and
 * connections that vanish while a probe is in flight.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CB_PROGRAM 0x40000123

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

/* How a test's client answers CB_NULL. */
struct cb_peer {
	atomic_int calls;
	atomic_uint prog;
	atomic_int accept_stat; /* 0 SUCCESS; 1 PROG_UNAVAIL */
	int delay_ms;		/* before answering */
};

static int cb_answer(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc, struct xdr_dec *args,
		     struct xdr_enc *res)
{
	struct cb_peer *p = ctx;

	atomic_store(&p->prog, prog);
	atomic_fetch_add(&p->calls, 1);
	if (p->delay_ms)
		harness_sleep_ms(p->delay_ms);
	return proc == 0 ? atomic_load(&p->accept_stat) : 3 /* PROC_UNAVAIL */;
}

/* A client whose connection answers callbacks through peer, with a back channel on it. */
static void client_new(struct harness_client *cl, const char *owner, struct cb_peer *peer)
{
	struct nfs4clnt_exid_args ea = {.owner = xdr_opaque_str(owner)};
	struct nfs4clnt_cs_args ca;
	struct timespec ts;

	memset(cl, 0, sizeof(*cl));
	cl->conn = harness_connect(srv);
	nfs4clnt_conn_set_cb(cl->conn, cb_answer, peer);
	clock_gettime(CLOCK_REALTIME, &ts);
	xdr_put_be32(ea.verifier, (uint32_t)ts.tv_nsec);
	assert_status(nfs4clnt_exchange_id(cl->conn, &ea, &cl->exid), NFS4_OK);
	cl->clientid = cl->exid.clientid;
	ca = nfs4clnt_cs_default(cl->clientid, cl->exid.sequenceid);
	ca.cb_program = CB_PROGRAM;
	assert_status(nfs4clnt_create_session(cl->conn, &ca, &cl->cs), NFS4_OK);
	assert_true(cl->cs.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
	cl->sess = nfs4clnt_session_new(cl->conn, &cl->cs);
	assert_non_null(cl->sess);
}

/* SEQUENCE until (flags & mask) == want, for up to ms; returns the last flags. */
static uint32_t wait_flags(struct harness_client *cl, uint32_t mask, uint32_t want, int ms)
{
	struct nfs4clnt_seq_res seq;

	for (int waited = 0;; waited += 100) {
		assert_status(nfs4clnt_session_sequence(cl->sess, &seq), NFS4_OK);
		if ((seq.status_flags & mask) == want || waited >= ms)
			return seq.status_flags;
		harness_sleep_ms(100);
	}
}

static void answered_probe_uses_the_callback_program_and_leaves_flags_clear(void **state)
{
	struct cb_peer peer = {0};
	struct harness_client cl;
	char owner[64];

	client_new(&cl, harness_owner(owner, sizeof(owner), "cb-ok"), &peer);
	for (int i = 0; i < 50 && atomic_load(&peer.calls) == 0; i++)
		harness_sleep_ms(100);
	assert_int_equal(atomic_load(&peer.calls), 1);
	assert_int_equal(atomic_load(&peer.prog), CB_PROGRAM);
	assert_int_equal(wait_flags(&cl, SEQ4_STATUS_CB_PATH_DOWN, 0, 0) &
				 (SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION),
			 0);
	harness_client_free(&cl, false);
}

static void refused_probe_reports_path_down_until_a_new_back_channel_is_bound(void **state)
{
	struct cb_peer bad = {.accept_stat = 1}, good = {0};
	struct harness_client cl;
	struct nfs4clnt_conn *c2;
	char owner[64];
	uint32_t dir;

	client_new(&cl, harness_owner(owner, sizeof(owner), "cb-bad"), &bad);
	assert_true(wait_flags(&cl, SEQ4_STATUS_CB_PATH_DOWN, SEQ4_STATUS_CB_PATH_DOWN, 3000) &
		    SEQ4_STATUS_CB_PATH_DOWN);

	/* The repair: a second connection that answers, bound as the back channel. */
	c2 = harness_connect(srv);
	nfs4clnt_conn_set_cb(c2, cb_answer, &good);
	assert_status(nfs4clnt_bind_conn(c2, nfs4clnt_session_id(cl.sess), CDFC4_BACK, &dir),
		      NFS4_OK);
	assert_int_equal(dir, CDFS4_BACK);
	assert_int_equal(
		wait_flags(&cl, SEQ4_STATUS_CB_PATH_DOWN, 0, 3000) & SEQ4_STATUS_CB_PATH_DOWN, 0);
	assert_int_equal(atomic_load(&good.calls), 1);
	harness_client_free(&cl, false);
	nfs4clnt_conn_close(c2);
}

static void backchannel_ctl_sets_a_new_program_and_reprobes(void **state)
{
	struct cb_peer peer = {.accept_stat = 1};
	struct callback_sec_parms4 sec = {.cb_secflavor = AUTH_NONE};
	struct BACKCHANNEL_CTL4args a = {.bca_cb_program = CB_PROGRAM + 1};
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct harness_client cl;
	struct nfs4clnt_res res;
	char owner[64];

	client_new(&cl, harness_owner(owner, sizeof(owner), "cb-ctl"), &peer);
	assert_true(wait_flags(&cl, SEQ4_STATUS_CB_PATH_DOWN, SEQ4_STATUS_CB_PATH_DOWN, 3000) &
		    SEQ4_STATUS_CB_PATH_DOWN);
	atomic_store(&peer.accept_stat, 0);
	a.bca_sec_parms.len = 1;
	a.bca_sec_parms.val = &sec;
	assert_true(
		xdr_enc_BACKCHANNEL_CTL4args(nfs4clnt_compound_add(cmp, OP_BACKCHANNEL_CTL), &a));
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(
		wait_flags(&cl, SEQ4_STATUS_CB_PATH_DOWN, 0, 3000) & SEQ4_STATUS_CB_PATH_DOWN, 0);
	assert_int_equal(atomic_load(&peer.prog), CB_PROGRAM + 1);
	harness_client_free(&cl, false);
}

/*
 * knfsd's window in miniature: the session (and then the client) goes away
 * while a CB_NULL on it waits for an answer that comes after the server gave
 * up. The server must neither crash nor leak (checked at its exit), and must
 * go on serving.
 */
static void session_destroyed_while_probe_is_unanswered(void **state)
{
	struct cb_peer slow = {.delay_ms = 6000};
	struct harness_client cl, other;
	char owner[64];

	client_new(&cl, harness_owner(owner, sizeof(owner), "cb-slow"), &slow);
	for (int i = 0; i < 50 && atomic_load(&slow.calls) == 0; i++)
		harness_sleep_ms(100);
	assert_int_equal(atomic_load(&slow.calls), 1);
	assert_status(nfs4clnt_destroy_session(cl.conn, nfs4clnt_session_id(cl.sess)), NFS4_OK);
	assert_status(nfs4clnt_destroy_clientid(cl.conn, cl.clientid), NFS4_OK);
	harness_sleep_ms(6500); /* past the server's timeout and the late answer */
	harness_client_new(srv, &other, harness_owner(owner, sizeof(owner), "cb-after"), 4);
	harness_client_free(&other, false);
	harness_client_free(&cl, true);
}

static void connection_dropped_while_probe_is_unanswered(void **state)
{
	struct cb_peer slow = {.delay_ms = 3000};
	struct harness_client cl, other;
	char owner[64];

	client_new(&cl, harness_owner(owner, sizeof(owner), "cb-drop"), &slow);
	for (int i = 0; i < 50 && atomic_load(&slow.calls) == 0; i++)
		harness_sleep_ms(100);
	harness_client_free(&cl, true); /* closes the only connection, with the probe pending */
	harness_client_new(srv, &other, harness_owner(owner, sizeof(owner), "cb-after2"), 4);
	harness_client_free(&other, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answered_probe_uses_the_callback_program_and_leaves_flags_clear),
		cmocka_unit_test(refused_probe_reports_path_down_until_a_new_back_channel_is_bound),
		cmocka_unit_test(backchannel_ctl_sets_a_new_program_and_reprobes),
		cmocka_unit_test(session_destroyed_while_probe_is_unanswered),
		cmocka_unit_test(connection_dropped_while_probe_is_unanswered),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
