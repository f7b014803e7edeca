/*
 * RPC layer of a live nfs4d (RFC 5531): the NULL procedure, every accepted and
 * denied reply status the server must produce, record marking (multi-fragment
 * calls, fragments of odd sizes, records of the maximum size and one byte
 * more) and connections that go bad (garbage, oversized fragments, a peer
 * vanishing mid-record) being closed without disturbing other connections.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/limits.h"

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

/* Calls prog/vers/proc with args on a fresh connection. */
static void call(uint32_t prog, uint32_t vers, uint32_t proc, const void *args, size_t len,
		 struct nfs4clnt_reply *rep)
{
	struct nfs4clnt_conn *c = harness_connect(srv);

	assert_int_equal(nfs4clnt_call(c, prog, vers, proc, NULL, args, len, 0, rep), 0);
	nfs4clnt_conn_close(c);
}

static void null_proc_is_accepted_with_success(void **state)
{
	struct nfs4clnt_reply rep;

	call(100003, 4, 0, NULL, 0, &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 0);
	assert_int_equal(xdr_dec_remaining(&rep.body), 0);
	nfs4clnt_reply_free(&rep);
}

static void null_with_auth_none_is_accepted(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	struct nfs4clnt_auth none = nfs4clnt_auth_none();
	struct nfs4clnt_reply rep;

	assert_int_equal(nfs4clnt_call(c, 100003, 4, 0, &none, NULL, 0, 0, &rep), 0);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 0);
	nfs4clnt_reply_free(&rep);
	nfs4clnt_conn_close(c);
}

static void unknown_program_gets_prog_unavail(void **state)
{
	struct nfs4clnt_reply rep;

	call(100004, 4, 0, NULL, 0, &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 1 /* PROG_UNAVAIL */);
	nfs4clnt_reply_free(&rep);
}

static void version_3_gets_prog_mismatch_low_high_4(void **state)
{
	struct nfs4clnt_reply rep;

	call(100003, 3, 0, NULL, 0, &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 2 /* PROG_MISMATCH */);
	assert_int_equal(rep.mismatch_low, 4);
	assert_int_equal(rep.mismatch_high, 4);
	nfs4clnt_reply_free(&rep);
}

static void procedure_2_gets_proc_unavail(void **state)
{
	struct nfs4clnt_reply rep;

	call(100003, 4, 2, NULL, 0, &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 3 /* PROC_UNAVAIL */);
	nfs4clnt_reply_free(&rep);
}

static void truncated_compound_args_get_garbage_args(void **state)
{
	/* tag of 100 bytes announced, 4 present, no minorversion/numops */
	uint8_t args[8] = {0, 0, 0, 100, 'a', 'b', 'c', 'd'};
	struct nfs4clnt_reply rep;

	call(100003, 4, 1, args, sizeof(args), &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 4 /* GARBAGE_ARGS */);
	nfs4clnt_reply_free(&rep);
}

static void compound_without_numops_gets_garbage_args(void **state)
{
	/* empty tag, minorversion 1, numops missing */
	uint8_t args[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	struct nfs4clnt_reply rep;

	call(100003, 4, 1, args, sizeof(args), &rep);
	assert_int_equal(rep.reply_stat, 0);
	assert_int_equal(rep.accept_stat, 4 /* GARBAGE_ARGS */);
	nfs4clnt_reply_free(&rep);
}

/* Sends a hand-made call record on a fresh connection and returns the reply. */
static void call_raw(const uint8_t *rec, size_t len, struct nfs4clnt_reply *rep)
{
	struct nfs4clnt_conn *c = harness_connect(srv);

	assert_int_equal(nfs4clnt_call_record(c, rec, len, 0, rep), 0);
	nfs4clnt_conn_close(c);
}

static void rpc_version_3_is_denied_with_rpc_mismatch_2_2(void **state)
{
	uint8_t buf[64];
	struct xdr_enc x;
	struct nfs4clnt_reply rep;

	xdr_enc_init(&x, buf, sizeof(buf));
	xdr_enc_u32(&x, 0x1234);
	xdr_enc_u32(&x, 0); /* CALL */
	xdr_enc_u32(&x, 3); /* rpcvers */
	xdr_enc_u32(&x, 100003);
	xdr_enc_u32(&x, 4);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0); /* AUTH_NONE cred */
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0); /* AUTH_NONE verf */
	xdr_enc_u32(&x, 0);
	call_raw(buf, x.len, &rep);
	assert_int_equal(rep.xid, 0x1234);
	assert_int_equal(rep.reply_stat, 1 /* MSG_DENIED */);
	assert_int_equal(rep.reject_stat, 0 /* RPC_MISMATCH */);
	assert_int_equal(rep.mismatch_low, 2);
	assert_int_equal(rep.mismatch_high, 2);
	nfs4clnt_reply_free(&rep);
}

/* A call to COMPOUND with the given raw credential (flavor + body) and an empty compound. */
static void call_with_cred(uint32_t flavor, const uint8_t *body, uint32_t len,
			   struct nfs4clnt_reply *rep)
{
	uint8_t buf[1024];
	struct xdr_enc x;
	struct xdr_opaque o = {len, body};

	xdr_enc_init(&x, buf, sizeof(buf));
	xdr_enc_u32(&x, 0x4321);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 2);
	xdr_enc_u32(&x, 100003);
	xdr_enc_u32(&x, 4);
	xdr_enc_u32(&x, 1);
	xdr_enc_u32(&x, flavor);
	xdr_enc_opaque(&x, &o, 400);
	xdr_enc_u32(&x, 0); /* verf AUTH_NONE */
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0); /* COMPOUND: tag "" */
	xdr_enc_u32(&x, 1); /* minorversion */
	xdr_enc_u32(&x, 0); /* numops */
	assert_false(x.overflow);
	call_raw(buf, x.len, rep);
}

static void malformed_auth_sys_is_denied_with_badcred(void **state)
{
	/* stamp, machinename length 300 (> 255 and beyond the body) */
	uint8_t body[12] = {0, 0, 0, 1, 0, 0, 1, 44, 'h', 'o', 's', 't'};
	struct nfs4clnt_reply rep;

	call_with_cred(1, body, sizeof(body), &rep);
	assert_int_equal(rep.reply_stat, 1 /* MSG_DENIED */);
	assert_int_equal(rep.reject_stat, 1 /* AUTH_ERROR */);
	assert_int_equal(rep.auth_stat, 1 /* AUTH_BADCRED */);
	nfs4clnt_reply_free(&rep);
}

static void auth_sys_with_17_gids_is_denied_with_badcred(void **state)
{
	uint8_t body[4 + 4 + 4 + 4 + 4 + 17 * 4];
	struct xdr_enc x;
	struct nfs4clnt_reply rep;

	xdr_enc_init(&x, body, sizeof(body));
	xdr_enc_u32(&x, 0); /* stamp */
	xdr_enc_u32(&x, 0); /* machinename "" */
	xdr_enc_u32(&x, 0); /* uid */
	xdr_enc_u32(&x, 0); /* gid */
	xdr_enc_u32(&x, 17);
	for (int i = 0; i < 17; i++)
		xdr_enc_u32(&x, (uint32_t)i);
	call_with_cred(1, body, (uint32_t)x.len, &rep);
	assert_int_equal(rep.reply_stat, 1);
	assert_int_equal(rep.reject_stat, 1);
	assert_int_equal(rep.auth_stat, 1 /* AUTH_BADCRED */);
	nfs4clnt_reply_free(&rep);
}

static void rpcsec_gss_is_denied_with_badcred(void **state)
{
	uint8_t body[20] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct nfs4clnt_reply rep;

	call_with_cred(6, body, sizeof(body), &rep);
	assert_int_equal(rep.reply_stat, 1);
	assert_int_equal(rep.reject_stat, 1);
	assert_int_equal(rep.auth_stat, 1 /* AUTH_BADCRED */);
	nfs4clnt_reply_free(&rep);
}

static void multi_fragment_calls_are_reassembled(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("fragmented-tag-0123456789", 1);
	struct nfs4clnt_res res;

	nfs4clnt_conn_set_fragment(c, 4);
	assert_int_equal(nfs4clnt_null(c), 0);
	nfs4clnt_conn_set_fragment(c, 7); /* fragments that split words */
	assert_int_equal(nfs4clnt_compound_send(c, cmp, 0, &res), 0);
	assert_status(res.status, NFS4_OK);
	assert_int_equal(res.tag.len, strlen("fragmented-tag-0123456789"));
	assert_memory_equal(res.tag.data, "fragmented-tag-0123456789", res.tag.len);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	nfs4clnt_conn_close(c);
}

static void several_calls_in_one_write_all_get_replies(void **state)
{
	struct nfs4clnt_conn *c = harness_connect(srv);
	uint8_t buf[3 * 44];
	struct xdr_enc x;
	struct nfs4clnt_auth none = nfs4clnt_auth_none();
	uint8_t *rec;
	size_t len;
	int got[3] = {0};

	xdr_enc_init(&x, buf, sizeof(buf));
	for (uint32_t i = 0; i < 3; i++) {
		size_t mark = x.len;

		xdr_enc_u32(&x, 0);
		nfs4clnt_enc_call_header(&x, 0x7000 + i, 100003, 4, 0, &none);
		xdr_enc_patch_u32(&x, mark, 0x80000000u | (uint32_t)(x.len - mark - 4));
	}
	assert_false(x.overflow);
	assert_int_equal(nfs4clnt_conn_send_raw(c, buf, x.len), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nfs4clnt_conn_recv_record(c, 5000, &rec, &len), 0);
		assert_true(len >= 24);
		uint32_t xid = xdr_get_be32(rec);
		assert_true(xid >= 0x7000 && xid < 0x7003);
		got[xid - 0x7000]++;
		free(rec);
	}
	assert_int_equal(got[0] + got[1] + got[2], 3);
	assert_int_equal(got[0] * got[1] * got[2], 1);
	nfs4clnt_conn_close(c);
}

/* The server must close c within 5 s, and a connection opened before still works. */
static void assert_only_this_connection_closed(struct nfs4clnt_conn *c, struct nfs4clnt_conn *other)
{
	assert_true(nfs4clnt_conn_wait_closed(c, 5000));
	assert_int_equal(nfs4clnt_null(other), 0);
	nfs4clnt_conn_close(c);
}

static void garbage_bytes_close_only_that_connection(void **state)
{
	struct nfs4clnt_conn *other = harness_connect(srv);
	struct nfs4clnt_conn *c = harness_connect(srv);
	static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	assert_int_equal(nfs4clnt_conn_send_raw(c, junk, sizeof(junk) - 1), 0);
	assert_only_this_connection_closed(c, other);
	assert_int_equal(nfs4clnt_null(other), 0);
	nfs4clnt_conn_close(other);
}

static void max_fragment_length_closes_only_that_connection(void **state)
{
	struct nfs4clnt_conn *other = harness_connect(srv);
	struct nfs4clnt_conn *c = harness_connect(srv);
	const uint8_t mark[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1};

	/* last fragment, 2^31-1 bytes: far beyond the record limit */
	assert_int_equal(nfs4clnt_conn_send_raw(c, mark, sizeof(mark)), 0);
	assert_only_this_connection_closed(c, other);
	nfs4clnt_conn_close(other);
}

static void fragments_summing_past_the_limit_close_the_connection(void **state)
{
	struct nfs4clnt_conn *other = harness_connect(srv);
	struct nfs4clnt_conn *c = harness_connect(srv);
	/* non-last fragments of 3 MiB each: the second crosses RPC_MAX_RECORD */
	size_t flen = 3u * 1024 * 1024;
	uint8_t *buf = calloc(1, flen + 4);
	int err = 0;

	assert_non_null(buf);
	xdr_put_be32(buf, (uint32_t)flen);
	for (int i = 0; i < 2 && err == 0; i++)
		err = nfs4clnt_conn_send_raw(c, buf, flen + 4);
	/* the server may already have closed while we were writing */
	assert_true(err == 0 || err == -EPIPE || err == -ECONNRESET);
	free(buf);
	assert_only_this_connection_closed(c, other);
	nfs4clnt_conn_close(other);
}

static void disconnect_mid_record_leaves_server_serving(void **state)
{
	struct nfs4clnt_conn *other = harness_connect(srv);

	for (int i = 0; i < 10; i++) {
		struct nfs4clnt_conn *c = harness_connect(srv);
		uint8_t part[4 + 16] = {0x80, 0, 0, 100}; /* 100 bytes announced, 16 sent */

		assert_int_equal(nfs4clnt_conn_send_raw(c, part, sizeof(part)), 0);
		nfs4clnt_conn_close(c);
	}
	assert_int_equal(nfs4clnt_null(other), 0);
	nfs4clnt_conn_close(other);
}

static void disconnect_with_calls_in_flight_leaves_server_serving(void **state)
{
	struct nfs4clnt_conn *other = harness_connect(srv);

	for (int i = 0; i < 10; i++) {
		struct nfs4clnt_conn *c = harness_connect(srv);
		struct nfs4clnt_auth none = nfs4clnt_auth_none();
		uint8_t buf[64];
		struct xdr_enc x;

		xdr_enc_init(&x, buf, sizeof(buf));
		nfs4clnt_enc_call_header(&x, 1, 100003, 4, 0, &none);
		for (int j = 0; j < 20; j++)
			assert_int_equal(nfs4clnt_conn_send_record(c, buf, x.len), 0);
		nfs4clnt_conn_close(c);
	}
	assert_int_equal(nfs4clnt_null(other), 0);
	nfs4clnt_conn_close(other);
}

/*
 * Appends to wire a NULL call (xid) padded to body bytes (NULL ignores its
 * arguments), as fragments whose sizes cycle through frag[] from frag[start]
 * (0-sized ones included); returns the bytes written. wire needs body + 4 *
 * (fragments). At most RPC_MAX_FRAGMENTS fragments are allowed.
 */
static size_t put_null_record(uint8_t *wire, uint32_t xid, size_t body, const size_t *frag,
			      size_t nfrag, size_t start)
{
	struct nfs4clnt_auth none = nfs4clnt_auth_none();
	uint8_t *rec = calloc(1, body);
	struct xdr_enc x;
	size_t w = 0, off = 0;

	assert_non_null(rec);
	xdr_enc_init(&x, rec, body);
	assert_true(nfs4clnt_enc_call_header(&x, xid, 100003, 4, 0, &none));
	for (size_t i = 0; off < body || i == 0; i++) {
		size_t n = frag[(start + i) % nfrag];

		if (n > body - off)
			n = body - off;
		xdr_put_be32(wire + w, (off + n == body ? 0x80000000u : 0) | (uint32_t)n);
		memcpy(wire + w + 4, rec + off, n);
		w += 4 + n;
		off += n;
	}
	free(rec);
	return w;
}

static void expect_null_reply(struct nfs4clnt_conn *c, uint32_t xid)
{
	uint8_t *rec;
	size_t len;

	assert_int_equal(nfs4clnt_conn_recv_record(c, 10000, &rec, &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(xdr_get_be32(rec), xid);
	assert_int_equal(xdr_get_be32(rec + 20), 0 /* SUCCESS */);
	free(rec);
}

/* A record of exactly the maximum size, in fragments of odd sizes, is read and answered. */
static void max_size_record_in_odd_fragments_is_answered(void **state)
{
	static const size_t frag[] = {1, 0, 7, 262147, 3, 524287, 65537};
	struct nfs4clnt_conn *c = harness_connect(srv);
	size_t cap = RPC_MAX_RECORD + 4 * RPC_MAX_FRAGMENTS;
	uint8_t *wire = malloc(cap);
	size_t n;

	assert_non_null(wire);
	n = put_null_record(wire, 0x4d41, RPC_MAX_RECORD, frag, 7, 0);
	assert_true(n <= cap);
	assert_int_equal(nfs4clnt_conn_send_raw(c, wire, n), 0);
	expect_null_reply(c, 0x4d41);
	assert_int_equal(nfs4clnt_null(c), 0); /* and the connection goes on */
	free(wire);
	nfs4clnt_conn_close(c);
}

/* One byte more, split the same way: only that connection is closed. */
static void record_one_byte_over_the_limit_closes_the_connection(void **state)
{
	static const size_t frag[] = {1, 0, 7, 262147, 3, 524287, 65537};
	struct nfs4clnt_conn *other = harness_connect(srv);
	struct nfs4clnt_conn *c = harness_connect(srv);
	size_t cap = RPC_MAX_RECORD + 1 + 4 * RPC_MAX_FRAGMENTS;
	uint8_t *wire = malloc(cap);
	size_t n;
	int err;

	assert_non_null(wire);
	n = put_null_record(wire, 0x4d42, RPC_MAX_RECORD + 1, frag, 7, 0);
	err = nfs4clnt_conn_send_raw(c, wire, n);
	assert_true(err == 0 || err == -EPIPE || err == -ECONNRESET);
	free(wire);
	assert_only_this_connection_closed(c, other);
	nfs4clnt_conn_close(other);
}

/* Many records of odd sizes and odd fragments in one write: each answered once. */
static void pipelined_odd_records_are_each_answered(void **state)
{
	static const size_t frag[] = {5, 1, 0, 13, 4096, 3, 1021};
	struct nfs4clnt_conn *c = harness_connect(srv);
	uint8_t *wire = malloc(1 << 20);
	int seen[64] = {0};
	size_t w = 0;

	assert_non_null(wire);
	for (uint32_t i = 0; i < 64; i++)
		w += put_null_record(wire + w, 0x5000 + i, 40 + i * 131 % 9000, frag, 7, i % 7);
	assert_int_equal(nfs4clnt_conn_send_raw(c, wire, w), 0);
	for (int i = 0; i < 64; i++) {
		uint8_t *rec;
		size_t len;
		uint32_t xid;

		assert_int_equal(nfs4clnt_conn_recv_record(c, 10000, &rec, &len), 0);
		assert_int_equal(len, 24);
		xid = xdr_get_be32(rec);
		assert_true(xid >= 0x5000 && xid < 0x5040);
		seen[xid - 0x5000]++;
		free(rec);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(seen[i], 1);
	free(wire);
	nfs4clnt_conn_close(c);
}

/*
 * The server reads a record's successor's header with its last bytes: calls
 * pipelined up to an empty record (not an RPC message) or a bad header are
 * each answered, then only that connection is closed.
 */
static void pipelined_calls_before_a_bad_record_are_answered(void **state)
{
	static const size_t whole[] = {1u << 20};
	static const uint32_t bad[] = {0x80000000u, 0xffffffffu}; /* empty; far beyond the limit */

	for (int b = 0; b < 2; b++) {
		struct nfs4clnt_conn *other = harness_connect(srv);
		struct nfs4clnt_conn *c = harness_connect(srv);
		uint8_t wire[4096];
		size_t w = 0;

		for (uint32_t i = 0; i < 5; i++)
			w += put_null_record(wire + w, 0x6000 + i, 40, whole, 1, 0);
		xdr_put_be32(wire + w, bad[b]);
		w += 4;
		assert_int_equal(nfs4clnt_conn_send_raw(c, wire, w), 0);
		for (uint32_t i = 0; i < 5; i++)
			expect_null_reply(c, 0x6000 + i);
		assert_only_this_connection_closed(c, other);
		nfs4clnt_conn_close(other);
	}
}

/*
 * A call, then only the header of a short one: the server holds the first
 * reply back for the second (MSG_MORE), which never comes — it must send it
 * anyway once it finds nothing more to read; and again when the rest comes
 * bit by bit.
 */
static void a_reply_held_for_a_call_that_stalls_is_sent(void **state)
{
	static const size_t whole[] = {1u << 20};
	struct nfs4clnt_conn *c = harness_connect(srv);
	uint8_t wire[256];
	size_t w = put_null_record(wire, 0x6100, 40, whole, 1, 0);
	size_t w2 = put_null_record(wire + w, 0x6101, 40, whole, 1, 0);

	assert_int_equal(nfs4clnt_conn_send_raw(c, wire, w + 4), 0);
	expect_null_reply(c, 0x6100);
	for (size_t i = 4; i < w2; i += 9) {
		size_t n = w2 - i < 9 ? w2 - i : 9;

		assert_int_equal(nfs4clnt_conn_send_raw(c, wire + w + i, n), 0);
		usleep(1000);
	}
	expect_null_reply(c, 0x6101);
	nfs4clnt_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_proc_is_accepted_with_success),
		cmocka_unit_test(null_with_auth_none_is_accepted),
		cmocka_unit_test(unknown_program_gets_prog_unavail),
		cmocka_unit_test(version_3_gets_prog_mismatch_low_high_4),
		cmocka_unit_test(procedure_2_gets_proc_unavail),
		cmocka_unit_test(truncated_compound_args_get_garbage_args),
		cmocka_unit_test(compound_without_numops_gets_garbage_args),
		cmocka_unit_test(rpc_version_3_is_denied_with_rpc_mismatch_2_2),
		cmocka_unit_test(malformed_auth_sys_is_denied_with_badcred),
		cmocka_unit_test(auth_sys_with_17_gids_is_denied_with_badcred),
		cmocka_unit_test(rpcsec_gss_is_denied_with_badcred),
		cmocka_unit_test(multi_fragment_calls_are_reassembled),
		cmocka_unit_test(several_calls_in_one_write_all_get_replies),
		cmocka_unit_test(garbage_bytes_close_only_that_connection),
		cmocka_unit_test(max_fragment_length_closes_only_that_connection),
		cmocka_unit_test(fragments_summing_past_the_limit_close_the_connection),
		cmocka_unit_test(disconnect_mid_record_leaves_server_serving),
		cmocka_unit_test(disconnect_with_calls_in_flight_leaves_server_serving),
		cmocka_unit_test(max_size_record_in_odd_fragments_is_answered),
		cmocka_unit_test(record_one_byte_over_the_limit_closes_the_connection),
		cmocka_unit_test(pipelined_odd_records_are_each_answered),
		cmocka_unit_test(pipelined_calls_before_a_bad_record_are_answered),
		cmocka_unit_test(a_reply_held_for_a_call_that_stalls_is_sent),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
