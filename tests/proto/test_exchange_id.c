/*
 * EXCHANGE_ID (RFC 8881 §18.35): the nine cases of §18.35.5 keyed on
 * (owner, verifier, principal, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), the flags
 * in the reply, eir_sequenceid, and argument checking. The principal is the
 * AUTH_SYS uid. Only SP4_NONE is tested: nfs4d implements no other state
 * protection, and RFC 8881 leaves the error for an unsupported one open.
 */
#include "harness.h"

#include <string.h>

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

static int exid(const char *owner, uint8_t verf, uint32_t flags, uint32_t uid,
		struct nfs4clnt_exid_res *res)
{
	struct nfs4clnt_auth auth = nfs4clnt_auth_sys(uid, uid);
	struct nfs4clnt_exid_args a = {
		.owner = xdr_opaque_str(owner),
		.flags = flags,
		.sp_how = SP4_NONE,
		.auth = &auth,
	};

	memset(a.verifier, verf, sizeof(a.verifier));
	memset(res, 0, sizeof(*res));
	return nfs4clnt_exchange_id(conn, &a, res);
}

/* CREATE_SESSION for res (confirms the client); returns the session id in sid. */
static int confirm(const struct nfs4clnt_exid_res *res, uint32_t uid, uint8_t sid[16])
{
	struct nfs4clnt_auth auth = nfs4clnt_auth_sys(uid, uid);
	struct nfs4clnt_cs_args ca = nfs4clnt_cs_default(res->clientid, res->sequenceid);
	struct nfs4clnt_cs_res cr;
	int st;

	ca.auth = &auth;
	st = nfs4clnt_create_session(conn, &ca, &cr);
	if (st == 0 && sid)
		memcpy(sid, cr.sessionid, 16);
	return st;
}

/* A confirmed client of owner with verifier verf, principal uid. */
static void confirmed(const char *owner, uint8_t verf, uint32_t uid, struct nfs4clnt_exid_res *r,
		      uint8_t sid[16])
{
	assert_status(exid(owner, verf, 0, uid, r), NFS4_OK);
	assert_status(confirm(r, uid, sid), NFS4_OK);
}

static void new_owner_gets_unconfirmed_clientid_non_pnfs_flags(void **state)
{
	struct nfs4clnt_exid_res r;
	char owner[64];

	assert_status(exid(harness_owner(owner, sizeof(owner), "new"), 1, 0, 0, &r), NFS4_OK);
	assert_true(r.flags & EXCHGID4_FLAG_USE_NON_PNFS);
	assert_int_equal(r.flags & (EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS), 0);
	assert_int_equal(r.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
	assert_int_equal(r.flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0);
	assert_int_equal(r.spr_how, SP4_NONE);
	assert_true(r.so_major_len > 0);
	assert_true(r.nimpl <= 1);
	/* eir_sequenceid is what the first CREATE_SESSION must carry */
	assert_status(confirm(&r, 0, NULL), NFS4_OK);
}

static void two_new_owners_get_different_clientids(void **state)
{
	struct nfs4clnt_exid_res a, b;
	char o1[64], o2[64];

	assert_status(exid(harness_owner(o1, sizeof(o1), "two"), 1, 0, 0, &a), NFS4_OK);
	assert_status(exid(harness_owner(o2, sizeof(o2), "two"), 1, 0, 0, &b), NFS4_OK);
	assert_true(a.clientid != b.clientid);
	assert_int_equal(a.so_major_len, b.so_major_len);
	assert_memory_equal(a.so_major, b.so_major, a.so_major_len);
	assert_true(a.so_minor_id == b.so_minor_id);
}

/* Case 2: confirmed, same verifier and principal: same clientid, CONFIRMED_R. */
static void confirmed_same_verifier_same_principal_returns_same_clientid_confirmed(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case2"), 2, 0, &r, NULL);
	assert_status(exid(owner, 2, 0, 0, &r2), NFS4_OK);
	assert_true(r2.clientid == r.clientid);
	assert_true(r2.flags & EXCHGID4_FLAG_CONFIRMED_R);
	assert_true(r2.flags & EXCHGID4_FLAG_USE_NON_PNFS);
	/* and again: a replay changes nothing */
	assert_status(exid(owner, 2, 0, 0, &r2), NFS4_OK);
	assert_true(r2.clientid == r.clientid);
	assert_true(r2.flags & EXCHGID4_FLAG_CONFIRMED_R);
}

/* Case 3: confirmed with state (a session), different principal: CLID_INUSE. */
static void confirmed_with_session_different_principal_gets_clid_inuse(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case3"), 3, 0, &r, NULL);
	assert_status(exid(owner, 3, 0, 1000, &r2), NFS4ERR_CLID_INUSE);
	assert_status(exid(owner, 4, 0, 1000, &r2), NFS4ERR_CLID_INUSE);
}

/* Case 4: confirmed, new verifier, same principal: a new unconfirmed clientid. */
static void confirmed_new_verifier_same_principal_gets_new_unconfirmed_clientid(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	uint8_t sid[16], sid2[16];
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case4"), 4, 0, &r, sid);
	assert_status(exid(owner, 5, 0, 0, &r2), NFS4_OK);
	assert_true(r2.clientid != r.clientid);
	assert_int_equal(r2.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
	/* confirming the new one replaces the old client: its session goes */
	assert_status(confirm(&r2, 0, sid2), NFS4_OK);
	assert_status(nfs4clnt_destroy_session(conn, sid), NFS4ERR_BADSESSION);
	assert_status(nfs4clnt_destroy_session(conn, sid2), NFS4_OK);
}

/* Case 5: unconfirmed record only: it is replaced by a new one. */
static void unconfirmed_record_is_replaced_by_new_clientid(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	assert_status(exid(harness_owner(owner, sizeof(owner), "case5"), 6, 0, 0, &r), NFS4_OK);
	assert_status(exid(owner, 7, 0, 0, &r2), NFS4_OK);
	assert_true(r2.clientid != r.clientid);
	assert_int_equal(r2.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
	/* the replaced clientid is gone */
	assert_status(confirm(&r, 0, NULL), NFS4ERR_STALE_CLIENTID);
	assert_status(confirm(&r2, 0, NULL), NFS4_OK);
}

/* Case 6: update with same verifier and principal: same clientid, CONFIRMED_R. */
static void update_confirmed_same_verifier_returns_same_clientid(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case6"), 8, 0, &r, NULL);
	assert_status(exid(owner, 8, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0, &r2), NFS4_OK);
	assert_true(r2.clientid == r.clientid);
	assert_true(r2.flags & EXCHGID4_FLAG_CONFIRMED_R);
}

/* Case 7: update with a different verifier: NOT_SAME. */
static void update_with_wrong_verifier_gets_not_same(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case7"), 9, 0, &r, NULL);
	assert_status(exid(owner, 10, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0, &r2), NFS4ERR_NOT_SAME);
	/* the record is untouched */
	assert_status(exid(owner, 9, 0, 0, &r2), NFS4_OK);
	assert_true(r2.clientid == r.clientid);
}

/* Case 8: update with a different principal: PERM. */
static void update_with_different_principal_gets_perm(void **state)
{
	struct nfs4clnt_exid_res r, r2;
	char owner[64];

	confirmed(harness_owner(owner, sizeof(owner), "case8"), 11, 0, &r, NULL);
	assert_status(exid(owner, 11, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 1000, &r2), NFS4ERR_PERM);
}

/* Case 9: update with no confirmed record: NOENT (also when only an unconfirmed one exists). */
static void update_without_confirmed_record_gets_noent(void **state)
{
	struct nfs4clnt_exid_res r;
	char owner[64];

	harness_owner(owner, sizeof(owner), "case9");
	assert_status(exid(owner, 12, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0, &r), NFS4ERR_NOENT);
	assert_status(exid(owner, 12, 0, 0, &r), NFS4_OK);
	assert_status(exid(owner, 12, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0, &r), NFS4ERR_NOENT);
}

static void undefined_flag_bits_get_inval(void **state)
{
	struct nfs4clnt_exid_res r;
	char owner[64];

	harness_owner(owner, sizeof(owner), "inval");
	assert_status(exid(owner, 13, 0x00000800, 0, &r), NFS4ERR_INVAL);
	assert_status(exid(owner, 13, 0x08000000, 0, &r), NFS4ERR_INVAL);
}

static void confirmed_r_flag_in_arguments_gets_inval(void **state)
{
	struct nfs4clnt_exid_res r;
	char owner[64];

	harness_owner(owner, sizeof(owner), "inval-r");
	assert_status(exid(owner, 14, EXCHGID4_FLAG_CONFIRMED_R, 0, &r), NFS4ERR_INVAL);
}

static void pnfs_flags_requested_are_not_granted(void **state)
{
	struct nfs4clnt_exid_res r;
	char owner[64];

	harness_owner(owner, sizeof(owner), "pnfs");
	assert_status(
		exid(owner, 15, EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_NON_PNFS, 0, &r),
		NFS4_OK);
	assert_true(r.flags & EXCHGID4_FLAG_USE_NON_PNFS);
	assert_int_equal(r.flags & (EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS), 0);
}

static void owner_longer_than_opaque_limit_gets_badxdr(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	static uint8_t big[1025];
	struct xdr_opaque o = {sizeof(big), big};
	struct xdr_enc *x = nfs4clnt_compound_add(cmp, OP_EXCHANGE_ID);
	uint32_t op, st;

	xdr_enc_opaque_fixed(x, "verifier", 8);
	xdr_enc_opaque(x, &o, UINT32_MAX);
	xdr_enc_u32(x, 0);
	xdr_enc_u32(x, SP4_NONE);
	xdr_enc_u32(x, 0);
	assert_int_equal(nfs4clnt_compound_send(conn, cmp, 0, &res), 0);
	assert_true(nfs4clnt_res_next(&res, &op, &st));
	assert_int_equal(op, OP_EXCHANGE_ID);
	assert_status(st, NFS4ERR_BADXDR);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

static void eir_sequenceid_plus_one_in_create_session_gets_seq_misordered(void **state)
{
	struct nfs4clnt_exid_res r;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	char owner[64];

	assert_status(exid(harness_owner(owner, sizeof(owner), "seqid"), 16, 0, 0, &r), NFS4_OK);
	ca = nfs4clnt_cs_default(r.clientid, r.sequenceid + 1);
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4ERR_SEQ_MISORDERED);
	ca.sequence = r.sequenceid;
	assert_status(nfs4clnt_create_session(conn, &ca, &cr), NFS4_OK);
}

/* The builder carries args encoded with the generated codecs, and results decode with them. */
static void generated_codecs_work_through_the_compound_builder(void **state)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("gen", 1);
	struct EXCHANGE_ID4args a;
	struct EXCHANGE_ID4resok ok;
	struct nfs4clnt_res res;
	uint32_t op, st;
	char owner[64];

	memset(&a, 0, sizeof(a));
	memcpy(a.eia_clientowner.co_verifier.data, "gen-verf", 8);
	a.eia_clientowner.co_ownerid = xdr_opaque_str(harness_owner(owner, sizeof(owner), "gen"));
	a.eia_state_protect.spa_how = SP4_NONE;
	assert_true(xdr_enc_EXCHANGE_ID4args(nfs4clnt_compound_add(cmp, OP_EXCHANGE_ID), &a));
	assert_int_equal(nfs4clnt_compound_send(conn, cmp, 0, &res), 0);
	assert_status(res.status, NFS4_OK);
	assert_true(nfs4clnt_res_next(&res, &op, &st));
	assert_int_equal(op, OP_EXCHANGE_ID);
	assert_status(st, NFS4_OK);
	memset(&ok, 0, sizeof(ok));
	assert_true(xdr_dec_EXCHANGE_ID4resok(nfs4clnt_res_body(&res), &ok));
	assert_true(ok.eir_flags & EXCHGID4_FLAG_USE_NON_PNFS);
	assert_int_equal(ok.eir_state_protect.spr_how, SP4_NONE);
	assert_false(nfs4clnt_res_next(&res, &op, &st));
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_owner_gets_unconfirmed_clientid_non_pnfs_flags),
		cmocka_unit_test(two_new_owners_get_different_clientids),
		cmocka_unit_test(
			confirmed_same_verifier_same_principal_returns_same_clientid_confirmed),
		cmocka_unit_test(confirmed_with_session_different_principal_gets_clid_inuse),
		cmocka_unit_test(
			confirmed_new_verifier_same_principal_gets_new_unconfirmed_clientid),
		cmocka_unit_test(unconfirmed_record_is_replaced_by_new_clientid),
		cmocka_unit_test(update_confirmed_same_verifier_returns_same_clientid),
		cmocka_unit_test(update_with_wrong_verifier_gets_not_same),
		cmocka_unit_test(update_with_different_principal_gets_perm),
		cmocka_unit_test(update_without_confirmed_record_gets_noent),
		cmocka_unit_test(undefined_flag_bits_get_inval),
		cmocka_unit_test(confirmed_r_flag_in_arguments_gets_inval),
		cmocka_unit_test(pnfs_flags_requested_are_not_granted),
		cmocka_unit_test(owner_longer_than_opaque_limit_gets_badxdr),
		cmocka_unit_test(eir_sequenceid_plus_one_in_create_session_gets_seq_misordered),
		cmocka_unit_test(generated_codecs_work_through_the_compound_builder),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
