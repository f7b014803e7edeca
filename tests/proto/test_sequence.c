/*
 * SEQUENCE and the session reply cache (RFC 8881 §2.10.6, §18.46): slot and
 * sequence id checking, retries answered from the cache (byte-identical),
 * uncached retries, false retries, and the slot id fields of the reply.
 * Requests are built by hand with explicit session id / slot / seqid.
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

/* SEQUENCE(slot, seqid, cachethis) followed by n RECLAIM_COMPLETE(false). */
static struct nfs4clnt_compound *seq_cmp(const struct harness_client *cl, uint32_t slot,
					 uint32_t seqid, bool cachethis, int n)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("seq", 1);

	nfs4clnt_compound_add_sequence(cmp, nfs4clnt_session_id(cl->sess), seqid, slot, slot,
				       cachethis);
	for (int i = 0; i < n; i++)
		xdr_enc_bool(nfs4clnt_compound_add(cmp, OP_RECLAIM_COMPLETE), false);
	return cmp;
}

/* Sends cmp and returns SEQUENCE's status, filling seq when it is OK. */
static int send_seq(struct harness_client *cl, struct nfs4clnt_compound *cmp,
		    struct nfs4clnt_res *res, struct nfs4clnt_seq_res *seq)
{
	uint32_t op, st;

	assert_int_equal(nfs4clnt_compound_send(cl->conn, cmp, 0, res), 0);
	assert_true(nfs4clnt_res_next(res, &op, &st));
	assert_int_equal(op, OP_SEQUENCE);
	if (st == 0 && seq)
		assert_true(nfs4clnt_dec_sequence_resok(nfs4clnt_res_body(res), seq));
	return (int)st;
}

static int seq_only(struct harness_client *cl, uint32_t slot, uint32_t seqid,
		    struct nfs4clnt_seq_res *seq)
{
	struct nfs4clnt_compound *cmp = seq_cmp(cl, slot, seqid, false, 0);
	struct nfs4clnt_res res;
	int st = send_seq(cl, cmp, &res, seq);

	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static void client(struct harness_client *cl, const char *prefix, uint32_t slots)
{
	char owner[64];

	harness_client_new(srv, cl, harness_owner(owner, sizeof(owner), prefix), slots);
}

static void sequence_echoes_session_slot_and_seqid(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_seq_res seq;

	client(&cl, "echo", 4);
	assert_status(seq_only(&cl, 0, 1, &seq), NFS4_OK);
	assert_memory_equal(seq.sessionid, nfs4clnt_session_id(cl.sess), 16);
	assert_int_equal(seq.sequenceid, 1);
	assert_int_equal(seq.slotid, 0);
	assert_status(seq_only(&cl, 0, 2, &seq), NFS4_OK);
	assert_int_equal(seq.sequenceid, 2);
	assert_status(seq_only(&cl, 2, 1, &seq), NFS4_OK);
	assert_int_equal(seq.slotid, 2);
	harness_client_free(&cl, false);
}

static void highest_and_target_slotids_match_granted_slots(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_seq_res seq;
	uint32_t n;

	client(&cl, "slots", 8);
	n = cl.cs.fore.maxrequests;
	assert_true(n >= 1 && n <= 8);
	assert_status(seq_only(&cl, 0, 1, &seq), NFS4_OK);
	assert_int_equal(seq.highest_slotid, n - 1);
	assert_true(seq.target_highest_slotid <= seq.highest_slotid);
	harness_client_free(&cl, false);
}

static void status_flags_are_zero_normally(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_seq_res seq;

	client(&cl, "flags", 4);
	assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
	assert_int_equal(seq.status_flags, 0);
	harness_client_free(&cl, false);
}

static void seqid_two_ahead_gets_seq_misordered(void **state)
{
	struct harness_client cl;

	client(&cl, "ahead", 4);
	assert_status(seq_only(&cl, 0, 2, NULL), NFS4ERR_SEQ_MISORDERED);
	assert_status(seq_only(&cl, 0, 1, NULL), NFS4_OK);
	assert_status(seq_only(&cl, 0, 3, NULL), NFS4ERR_SEQ_MISORDERED);
	harness_client_free(&cl, false);
}

static void seqid_behind_the_cached_one_gets_seq_misordered(void **state)
{
	struct harness_client cl;

	client(&cl, "behind", 4);
	assert_status(seq_only(&cl, 0, 1, NULL), NFS4_OK);
	assert_status(seq_only(&cl, 0, 2, NULL), NFS4_OK);
	assert_status(seq_only(&cl, 0, 3, NULL), NFS4_OK);
	assert_status(seq_only(&cl, 0, 1, NULL), NFS4ERR_SEQ_MISORDERED);
	harness_client_free(&cl, false);
}

static void slot_beyond_highest_gets_badslot(void **state)
{
	struct harness_client cl;
	uint32_t n;

	client(&cl, "badslot", 4);
	n = cl.cs.fore.maxrequests;
	assert_status(seq_only(&cl, n, 1, NULL), NFS4ERR_BADSLOT);
	assert_status(seq_only(&cl, 0xffffffffu, 1, NULL), NFS4ERR_BADSLOT);
	assert_status(seq_only(&cl, n - 1, 1, NULL), NFS4_OK);
	harness_client_free(&cl, false);
}

static void unknown_session_gets_badsession(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	uint8_t sid[16];
	uint32_t op, st;

	client(&cl, "badsession", 4);
	memcpy(sid, nfs4clnt_session_id(cl.sess), 16);
	sid[15] ^= 0xff;
	sid[0] ^= 0x5a;
	nfs4clnt_compound_add_sequence(cmp, sid, 1, 0, 0, false);
	assert_int_equal(nfs4clnt_compound_send(cl.conn, cmp, 0, &res), 0);
	assert_status(res.status, NFS4ERR_BADSESSION);
	assert_true(nfs4clnt_res_next(&res, &op, &st));
	assert_int_equal(op, OP_SEQUENCE);
	assert_status(st, NFS4ERR_BADSESSION);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void retry_with_cachethis_returns_byte_identical_cached_reply(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res r1, r2, r3;

	client(&cl, "replay", 4);
	cmp = seq_cmp(&cl, 1, 1, true, 1);
	assert_status(send_seq(&cl, cmp, &r1, NULL), NFS4_OK);
	assert_status(r1.status, NFS4_OK);
	/* the same request again: answered from the cache, not re-executed */
	assert_status(send_seq(&cl, cmp, &r2, NULL), NFS4_OK);
	assert_status(r2.status, NFS4_OK);
	assert_int_equal(r2.rpc.len - (size_t)(r2.rpc.body.p - r2.rpc.rec),
			 r1.rpc.len - (size_t)(r1.rpc.body.p - r1.rpc.rec));
	assert_memory_equal(r1.rpc.body.p, r2.rpc.body.p,
			    r1.rpc.len - (size_t)(r1.rpc.body.p - r1.rpc.rec));
	nfs4clnt_res_free(&r1);
	nfs4clnt_res_free(&r2);
	nfs4clnt_compound_free(cmp);
	/* a new request does execute: RECLAIM_COMPLETE was done once already */
	cmp = seq_cmp(&cl, 1, 2, true, 1);
	assert_status(send_seq(&cl, cmp, &r3, NULL), NFS4_OK);
	assert_status(r3.status, NFS4ERR_COMPLETE_ALREADY);
	nfs4clnt_res_free(&r3);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void retry_of_solo_sequence_returns_same_reply(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res r1, r2;
	struct nfs4clnt_seq_res s1 = {0}, s2 = {0};

	client(&cl, "solo", 4);
	cmp = seq_cmp(&cl, 0, 1, false, 0);
	assert_status(send_seq(&cl, cmp, &r1, &s1), NFS4_OK);
	assert_status(send_seq(&cl, cmp, &r2, &s2), NFS4_OK);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	nfs4clnt_res_free(&r1);
	nfs4clnt_res_free(&r2);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void retry_of_uncached_request_gets_retry_uncached_rep(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res r1, r2;

	client(&cl, "uncached", 4);
	cmp = seq_cmp(&cl, 0, 1, false, 1);
	assert_status(send_seq(&cl, cmp, &r1, NULL), NFS4_OK);
	assert_status(r1.status, NFS4_OK);
	/*
	 * RFC 8881 §2.10.6.1.3 / §18.46.3: SEQUENCE itself succeeds (the slot
	 * and seqid are right), and the op after it carries
	 * NFS4ERR_RETRY_UNCACHED_REP.
	 */
	assert_status(send_seq(&cl, cmp, &r2, NULL), NFS4_OK);
	assert_status(r2.status, NFS4ERR_RETRY_UNCACHED_REP);
	assert_int_equal(r2.numres, 2);
	{
		uint32_t op, st;

		assert_true(nfs4clnt_res_next(&r2, &op, &st));
		assert_int_equal(op, OP_RECLAIM_COMPLETE);
		assert_status(st, NFS4ERR_RETRY_UNCACHED_REP);
	}
	nfs4clnt_res_free(&r1);
	nfs4clnt_res_free(&r2);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&cl, false);
}

static void retry_with_different_ops_gets_seq_false_retry(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *a, *b;
	struct nfs4clnt_res r1, r2;

	client(&cl, "falseretry", 4);
	a = seq_cmp(&cl, 0, 1, true, 1);
	b = seq_cmp(&cl, 0, 1, true, 0);
	nfs4clnt_compound_add(b, OP_PUTROOTFH);
	assert_status(send_seq(&cl, a, &r1, NULL), NFS4_OK);
	assert_status(send_seq(&cl, b, &r2, NULL), NFS4ERR_SEQ_FALSE_RETRY);
	nfs4clnt_res_free(&r1);
	nfs4clnt_res_free(&r2);
	nfs4clnt_compound_free(a);
	nfs4clnt_compound_free(b);
	harness_client_free(&cl, false);
}

static void retry_with_different_principal_gets_seq_false_retry(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_compound *a;
	struct nfs4clnt_res r1, r2;
	struct nfs4clnt_auth other = nfs4clnt_auth_sys(4242, 4242);

	client(&cl, "falsecred", 4);
	a = seq_cmp(&cl, 0, 1, true, 1);
	assert_status(send_seq(&cl, a, &r1, NULL), NFS4_OK);
	nfs4clnt_conn_set_auth(cl.conn, &other);
	assert_status(send_seq(&cl, a, &r2, NULL), NFS4ERR_SEQ_FALSE_RETRY);
	other = nfs4clnt_auth_sys(0, 0);
	nfs4clnt_conn_set_auth(cl.conn, &other);
	nfs4clnt_res_free(&r1);
	nfs4clnt_res_free(&r2);
	nfs4clnt_compound_free(a);
	harness_client_free(&cl, false);
}

static void failed_sequence_does_not_advance_the_slot(void **state)
{
	struct harness_client cl;

	client(&cl, "noadvance", 4);
	assert_status(seq_only(&cl, 0, 5, NULL), NFS4ERR_SEQ_MISORDERED);
	assert_status(seq_only(&cl, 0, 1, NULL), NFS4_OK);
	assert_status(seq_only(&cl, 0, 2, NULL), NFS4_OK);
	harness_client_free(&cl, false);
}

static void library_session_compounds_advance_slots(void **state)
{
	struct harness_client cl;
	struct nfs4clnt_seq_res seq;

	client(&cl, "lib", 4);
	for (int i = 0; i < 20; i++) {
		assert_status(nfs4clnt_session_sequence(cl.sess, &seq), NFS4_OK);
		assert_int_equal(seq.slotid, 0);
		assert_int_equal(seq.sequenceid, (uint32_t)i + 1);
	}
	assert_int_equal(nfs4clnt_session_slot_seqid(cl.sess, 0), 21);
	harness_client_free(&cl, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sequence_echoes_session_slot_and_seqid),
		cmocka_unit_test(highest_and_target_slotids_match_granted_slots),
		cmocka_unit_test(status_flags_are_zero_normally),
		cmocka_unit_test(seqid_two_ahead_gets_seq_misordered),
		cmocka_unit_test(seqid_behind_the_cached_one_gets_seq_misordered),
		cmocka_unit_test(slot_beyond_highest_gets_badslot),
		cmocka_unit_test(unknown_session_gets_badsession),
		cmocka_unit_test(retry_with_cachethis_returns_byte_identical_cached_reply),
		cmocka_unit_test(retry_of_solo_sequence_returns_same_reply),
		cmocka_unit_test(retry_of_uncached_request_gets_retry_uncached_rep),
		cmocka_unit_test(retry_with_different_ops_gets_seq_false_retry),
		cmocka_unit_test(retry_with_different_principal_gets_seq_false_retry),
		cmocka_unit_test(failed_sequence_does_not_advance_the_slot),
		cmocka_unit_test(library_session_compounds_advance_slots),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
