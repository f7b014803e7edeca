/*
 * COMPOUND processing (RFC 8881 §2.10.6.3, §15.2, §16.2.3): tag echo, minor
 * version, op count limits, OP_ILLEGAL, session ordering rules (SEQUENCE
 * first, sessionless ops alone) and op argument decoding errors.
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

/* Sends cmp on a fresh connection. */
static void send_once(struct nfs4clnt_compound *cmp, struct nfs4clnt_res *res)
{
	struct nfs4clnt_conn *c = harness_connect(srv);

	assert_int_equal(nfs4clnt_compound_send(c, cmp, 0, res), 0);
	nfs4clnt_conn_close(c);
}

/* Asserts the next result is opnum with status want. */
static void expect_result(struct nfs4clnt_res *res, uint32_t opnum, int want)
{
	uint32_t op, st;

	assert_true(nfs4clnt_res_next(res, &op, &st));
	assert_int_equal(op, opnum);
	assert_status(st, want);
}

static void empty_compound_is_ok_with_no_results_and_tag_echoed(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("my tag \xc3\xa9", 1);
	struct nfs4clnt_res res;

	send_once(cmp, &res);
	assert_status(res.status, NFS4_OK);
	assert_int_equal(res.numres, 0);
	assert_int_equal(res.tag.len, strlen("my tag \xc3\xa9"));
	assert_memory_equal(res.tag.data, "my tag \xc3\xa9", res.tag.len);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void minor_version(uint32_t minor)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("mv", minor);
	struct nfs4clnt_res res;

	nfs4clnt_compound_add(cmp, OP_PUTROOTFH);
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_MINOR_VERS_MISMATCH);
	assert_int_equal(res.numres, 0);
	assert_int_equal(res.tag.len, 2);
	assert_memory_equal(res.tag.data, "mv", 2);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void minorversion_0_gets_minor_vers_mismatch_and_no_results(void **state)
{
	minor_version(0);
}

static void minorversion_3_gets_minor_vers_mismatch_and_no_results(void **state)
{
	minor_version(3);
}

static void more_than_256_ops_get_resource(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;

	for (int i = 0; i < 257; i++)
		nfs4clnt_compound_add(cmp, OP_PUTROOTFH);
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_RESOURCE);
	assert_true(res.numres <= 1);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void unknown_opnum_gets_op_illegal_with_resop_illegal(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;

	nfs4clnt_compound_add(cmp, 9999);
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_OP_ILLEGAL);
	assert_int_equal(res.numres, 1);
	expect_result(&res, OP_ILLEGAL, NFS4ERR_OP_ILLEGAL);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void opnum_0_1_2_get_op_illegal(void **state)
{
	for (uint32_t opnum = 0; opnum < 3; opnum++) {
		struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
		struct nfs4clnt_res res;

		nfs4clnt_compound_add(cmp, opnum);
		send_once(cmp, &res);
		assert_status(res.status, NFS4ERR_OP_ILLEGAL);
		expect_result(&res, OP_ILLEGAL, NFS4ERR_OP_ILLEGAL);
		nfs4clnt_res_free(&res);
		nfs4clnt_compound_free(cmp);
	}
}

static void non_session_op_first_gets_op_not_in_session(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;

	nfs4clnt_compound_add(cmp, OP_PUTROOTFH);
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_OP_NOT_IN_SESSION);
	assert_int_equal(res.numres, 1);
	expect_result(&res, OP_PUTROOTFH, NFS4ERR_OP_NOT_IN_SESSION);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void unimplemented_op_in_session_gets_notsupp(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	struct nfs4clnt_seq_res seq;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "notsupp"), 4);
	/* nfs4d serves no pNFS layouts: LAYOUTGET stays unimplemented. */
	nfs4clnt_compound_add(cmp, OP_LAYOUTGET);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, &seq),
		      NFS4ERR_NOTSUPP);
	assert_status(seq.status, NFS4_OK);
	assert_int_equal(res.numres, 2);
	expect_result(&res, OP_LAYOUTGET, NFS4ERR_NOTSUPP);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void sequence_not_first_gets_sequence_pos(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "seqpos"), 4);
	/* the library puts a valid SEQUENCE first; ours is the second op */
	nfs4clnt_compound_add_sequence(cmp, nfs4clnt_session_id(cl.sess), 1, 1, 1, false);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL),
		      NFS4ERR_SEQUENCE_POS);
	assert_int_equal(res.numres, 2);
	expect_result(&res, OP_SEQUENCE, NFS4ERR_SEQUENCE_POS);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void sessionless_op_followed_by_another(uint32_t opnum, const uint8_t *args, size_t len)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;

	x = nfs4clnt_compound_add(cmp, opnum);
	xdr_enc_opaque_fixed(x, args, len);
	nfs4clnt_compound_add(cmp, OP_PUTROOTFH);
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_NOT_ONLY_OP);
	assert_int_equal(res.numres, 1);
	expect_result(&res, opnum, NFS4ERR_NOT_ONLY_OP);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void exchange_id_not_alone_gets_not_only_op(void **state)
{
	/* verifier, owner "x", flags 0, SP4_NONE, no impl id */
	uint8_t a[8 + 8 + 4 + 4 + 4] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 'x'};

	sessionless_op_followed_by_another(OP_EXCHANGE_ID, a, sizeof(a));
}

static void create_session_not_alone_gets_not_only_op(void **state)
{
	uint8_t a[512];
	struct xdr_enc x;
	struct nfs4clnt_cs_args ca = nfs4clnt_cs_default(0x1234, 1);

	ca.sec_flavor = 0;
	xdr_enc_init(&x, a, sizeof(a));
	/* same layout as the library's encoder: clientid, seq, flags, 2 x attrs, prog, parms */
	xdr_enc_u64(&x, ca.clientid);
	xdr_enc_u32(&x, ca.sequence);
	xdr_enc_u32(&x, ca.flags);
	for (int i = 0; i < 2; i++) {
		const struct nfs4clnt_chan_attrs *c = i ? &ca.back : &ca.fore;

		xdr_enc_u32(&x, c->headerpadsize);
		xdr_enc_u32(&x, c->maxrequestsize);
		xdr_enc_u32(&x, c->maxresponsesize);
		xdr_enc_u32(&x, c->maxresponsesize_cached);
		xdr_enc_u32(&x, c->maxoperations);
		xdr_enc_u32(&x, c->maxrequests);
		xdr_enc_u32(&x, 0);
	}
	xdr_enc_u32(&x, ca.cb_program);
	xdr_enc_u32(&x, 1);
	xdr_enc_u32(&x, 0); /* AUTH_NONE */
	sessionless_op_followed_by_another(OP_CREATE_SESSION, a, x.len);
}

static void destroy_session_not_alone_gets_not_only_op(void **state)
{
	uint8_t sid[16] = {1};

	sessionless_op_followed_by_another(OP_DESTROY_SESSION, sid, sizeof(sid));
}

static void bind_conn_not_alone_gets_not_only_op(void **state)
{
	uint8_t a[16 + 4 + 4] = {1};

	a[19] = CDFC4_FORE;
	sessionless_op_followed_by_another(OP_BIND_CONN_TO_SESSION, a, sizeof(a));
}

static void destroy_clientid_not_alone_gets_not_only_op(void **state)
{
	uint8_t a[8] = {0, 0, 0, 0, 0, 0, 0x12, 0x34};

	sessionless_op_followed_by_another(OP_DESTROY_CLIENTID, a, sizeof(a));
}

static void more_ops_than_ca_maxoperations_get_too_many_ops(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	uint32_t maxops;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "toomany"), 4);
	maxops = cl.cs.fore.maxoperations;
	assert_true(maxops >= 2 && maxops <= 64);
	/* SEQUENCE + maxops RECLAIM_COMPLETEs = maxops + 1 ops */
	for (uint32_t i = 0; i < maxops; i++)
		xdr_enc_bool(nfs4clnt_compound_add(cmp, OP_RECLAIM_COMPLETE), false);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL),
		      NFS4ERR_TOO_MANY_OPS);
	assert_int_equal(res.numres, 1);
	nfs4clnt_res_free(&res);
	/* exactly maxops ops are fine */
	nfs4clnt_compound_reset(cmp);
	for (uint32_t i = 0; i + 1 < maxops; i++)
		nfs4clnt_compound_add(cmp, OP_PUTROOTFH);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void truncated_op_args_get_badxdr_for_that_op(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "badxdr"), 4);
	/* RECLAIM_COMPLETE without its rca_one_fs */
	nfs4clnt_compound_add(cmp, OP_RECLAIM_COMPLETE);
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL),
		      NFS4ERR_BADXDR);
	assert_int_equal(res.numres, 2);
	expect_result(&res, OP_RECLAIM_COMPLETE, NFS4ERR_BADXDR);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void truncated_sessionless_op_gets_badxdr(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x = nfs4clnt_compound_add(cmp, OP_DESTROY_CLIENTID);

	xdr_enc_u32(x, 0); /* half a clientid4 */
	send_once(cmp, &res);
	assert_status(res.status, NFS4ERR_BADXDR);
	expect_result(&res, OP_DESTROY_CLIENTID, NFS4ERR_BADXDR);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void numops_larger_than_ops_sent_gets_badxdr(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	char owner[64];

	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "numops"), 4);
	xdr_enc_bool(nfs4clnt_compound_add(cmp, OP_RECLAIM_COMPLETE), false);
	cmp->numops_override = 2; /* claims one op more than present */
	assert_status(nfs4clnt_session_compound(cl.sess, cmp, false, 0, &res, NULL),
		      NFS4ERR_BADXDR);
	/* the missing op's result may or may not be present: RFC 8881 leaves it open */
	assert_true(res.numres == 2 || res.numres == 3);
	/* the iterator starts after SEQUENCE (consumed by the session layer) */
	expect_result(&res, OP_RECLAIM_COMPLETE, NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_compound_is_ok_with_no_results_and_tag_echoed),
		cmocka_unit_test(minorversion_0_gets_minor_vers_mismatch_and_no_results),
		cmocka_unit_test(minorversion_3_gets_minor_vers_mismatch_and_no_results),
		cmocka_unit_test(more_than_256_ops_get_resource),
		cmocka_unit_test(unknown_opnum_gets_op_illegal_with_resop_illegal),
		cmocka_unit_test(opnum_0_1_2_get_op_illegal),
		cmocka_unit_test(non_session_op_first_gets_op_not_in_session),
		cmocka_unit_test(unimplemented_op_in_session_gets_notsupp),
		cmocka_unit_test(sequence_not_first_gets_sequence_pos),
		cmocka_unit_test(exchange_id_not_alone_gets_not_only_op),
		cmocka_unit_test(create_session_not_alone_gets_not_only_op),
		cmocka_unit_test(destroy_session_not_alone_gets_not_only_op),
		cmocka_unit_test(bind_conn_not_alone_gets_not_only_op),
		cmocka_unit_test(destroy_clientid_not_alone_gets_not_only_op),
		cmocka_unit_test(more_ops_than_ca_maxoperations_get_too_many_ops),
		cmocka_unit_test(truncated_op_args_get_badxdr_for_that_op),
		cmocka_unit_test(truncated_sessionless_op_gets_badxdr),
		cmocka_unit_test(numops_larger_than_ops_sent_gets_badxdr),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
