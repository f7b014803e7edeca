/*
 * nfs4_find_bulk() (nfs4/bulk.c): where a WRITE's data lies in a call
 * record, told from its first bytes. Every record is built here by hand, and
 * every prefix of it is tried too, so the walk is seen never to read past
 * what it is given (ASan: the prefix is copied into a buffer of exactly its
 * length).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nfs4/compound.h"
#include "nfs4/nfs4.h"

#define REC_CAP (2 * 1024 * 1024)

struct shape {
	uint32_t prog, vers, proc, minor;
	uint32_t cflavor;
	uint32_t ngids;	   /* AUTH_SYS */
	uint32_t cred_len; /* other flavours: an opaque body of this length */
	uint32_t tag_len;
	uint32_t numops;    /* 0: as many as ops[] holds */
	uint32_t ops[8];    /* after SEQUENCE; 0 ends the list */
	uint32_t fh_len;    /* of each PUTFH */
	uint32_t data_len;  /* of the WRITE (the bytes follow, up to REC_CAP) */
	uint32_t claim_len; /* what the WRITE says its length is (0: data_len) */
};

static struct shape shape_linux(uint32_t data_len)
{
	struct shape s = {.prog = NFS4_PROGRAM,
			  .vers = 4,
			  .proc = 1,
			  .minor = 1,
			  .cflavor = RPC_AUTH_SYS,
			  .ngids = 3,
			  .ops = {OP_PUTFH, OP_WRITE, OP_GETATTR},
			  .fh_len = 40,
			  .data_len = data_len};

	return s;
}

static void enc_opaque_len(struct xdr_enc *x, uint32_t len, uint8_t fill)
{
	uint8_t *p;

	xdr_enc_u32(x, len);
	p = xdr_enc_reserve(x, len);
	if (p)
		memset(p, fill, len);
}

/* Builds the record into rec; returns its length and the data's offset in *data_off. */
static size_t build(const struct shape *s, uint8_t *rec, size_t *data_off)
{
	struct xdr_enc x;
	uint32_t nops = 1;

	for (int i = 0; i < 8 && s->ops[i]; i++)
		nops++;
	xdr_enc_init(&x, rec, REC_CAP);
	xdr_enc_u32(&x, 0x1234);
	xdr_enc_u32(&x, RPC_MSG_CALL);
	xdr_enc_u32(&x, RPC_VERSION);
	xdr_enc_u32(&x, s->prog);
	xdr_enc_u32(&x, s->vers);
	xdr_enc_u32(&x, s->proc);
	xdr_enc_u32(&x, s->cflavor);
	if (s->cflavor == RPC_AUTH_SYS) {
		xdr_enc_u32(&x, 4 + 4 + 8 + 4 + 4 + 4 + 4 * s->ngids);
		xdr_enc_u32(&x, 7);	    /* stamp */
		enc_opaque_len(&x, 5, 'm'); /* machinename */
		xdr_enc_u32(&x, 1000);
		xdr_enc_u32(&x, 1000);
		xdr_enc_u32(&x, s->ngids);
		for (uint32_t i = 0; i < s->ngids; i++)
			xdr_enc_u32(&x, 100 + i);
	} else {
		enc_opaque_len(&x, s->cred_len, 0xcc);
	}
	xdr_enc_u32(&x, RPC_AUTH_NONE);
	xdr_enc_u32(&x, 0);
	enc_opaque_len(&x, s->tag_len, 't');
	xdr_enc_u32(&x, s->minor);
	xdr_enc_u32(&x, s->numops ? s->numops : nops);
	xdr_enc_u32(&x, OP_SEQUENCE);
	memset(xdr_enc_reserve(&x, NFS4_SESSIONID_SIZE + 16), 0, NFS4_SESSIONID_SIZE + 16);
	*data_off = 0;
	for (int i = 0; i < 8 && s->ops[i]; i++) {
		xdr_enc_u32(&x, s->ops[i]);
		switch (s->ops[i]) {
		case OP_PUTFH:
			enc_opaque_len(&x, s->fh_len, 'f');
			break;
		case OP_WRITE:
			memset(xdr_enc_reserve(&x, 16 + 8 + 4), 0, 16 + 8 + 4);
			xdr_enc_u32(&x, s->claim_len ? s->claim_len : s->data_len);
			*data_off = x.len;
			memset(xdr_enc_reserve(&x, s->data_len), 'd', s->data_len);
			break;
		case OP_GETATTR:
			xdr_enc_u32(&x, 1);
			xdr_enc_u32(&x, 0x10);
			break;
		case OP_PUTROOTFH:
		default:
			break;
		}
	}
	assert_false(x.overflow);
	return x.len;
}

/* nfs4_find_bulk on exactly rec[0..have): the prefix sits in a buffer of its own size. */
static bool find(const uint8_t *rec, size_t have, size_t reclen, size_t *off, size_t *len)
{
	uint8_t *copy = malloc(have ? have : 1);
	bool r;

	memcpy(copy, rec, have);
	r = nfs4_find_bulk(copy, have, reclen, off, len);
	free(copy);
	return r;
}

/* The shape's bulk, with the full RPC_BULK_PREFIX given. */
static bool find_shape(const struct shape *s, size_t *off, size_t *len, size_t *data_off,
		       size_t *reclen)
{
	static uint8_t rec[REC_CAP];
	size_t n = build(s, rec, data_off);

	*reclen = n;
	return find(rec, n < RPC_BULK_PREFIX ? n : RPC_BULK_PREFIX, n, off, len);
}

/* The digest's bytes stay in the buffer; the rest of the data, up to its end, is the bulk. */
static void expect_bulk(const struct shape *s)
{
	size_t off, len, data_off, reclen;

	assert_true(find_shape(s, &off, &len, &data_off, &reclen));
	assert_true(off >= data_off);
	assert_int_equal(off + len, data_off + s->data_len);
	assert_true(off + len <= reclen);
}

static void expect_none(const struct shape *s)
{
	size_t off = 0, len = 0, data_off, reclen;

	assert_false(find_shape(s, &off, &len, &data_off, &reclen));
}

static void test_linux_write_with_auth_sys_and_gids(void **state)
{
	struct shape s = shape_linux(1024 * 1024);

	for (uint32_t g = 0; g <= 16; g++) {
		s.ngids = g;
		expect_bulk(&s);
	}
}

static void test_auth_none_and_no_trailing_op(void **state)
{
	struct shape s = shape_linux(100000);

	s.cflavor = RPC_AUTH_NONE;
	s.cred_len = 0;
	s.ops[2] = 0;
	expect_bulk(&s);
}

static void test_bulk_starts_after_the_digest_bytes(void **state)
{
	struct shape s = shape_linux(200000);
	size_t off, len, data_off, reclen, seq_end;

	s.tag_len = 64;
	assert_true(find_shape(&s, &off, &len, &data_off, &reclen));
	/* SEQUENCE's arguments end before the first PUTFH: 4 (opnum) + 4 + fh + ... */
	seq_end = data_off - (4 + 4 + s.fh_len + 4 + 16 + 8 + 4 + 4);
	assert_int_equal(off, seq_end + NFS4_DIGEST_BYTES);
	assert_int_equal(off + len, data_off + s.data_len);
}

static void test_data_shorter_than_the_digest_bytes_has_no_bulk(void **state)
{
	struct shape s = shape_linux(300);

	expect_none(&s);
}

static void test_other_flavours_have_no_bulk(void **state)
{
	static const uint32_t flavors[] = {RPC_AUTH_SHORT, RPC_AUTH_DH, RPC_RPCSEC_GSS, 400};
	struct shape s = shape_linux(100000);

	for (size_t i = 0; i < sizeof(flavors) / sizeof(flavors[0]); i++) {
		s.cflavor = flavors[i];
		s.cred_len = 20;
		expect_none(&s);
	}
}

static void test_other_calls_have_no_bulk(void **state)
{
	struct shape s = shape_linux(100000);

	s.prog = 100005;
	expect_none(&s);
	s = shape_linux(100000);
	s.vers = 3;
	expect_none(&s);
	s = shape_linux(100000);
	s.proc = 0;
	expect_none(&s);
	s = shape_linux(100000);
	s.minor = 0;
	expect_none(&s);
	s = shape_linux(100000);
	s.minor = 2;
	expect_none(&s);
}

static void test_other_op_orders_have_no_bulk(void **state)
{
	static const uint32_t orders[][4] = {
		{OP_WRITE},		  /* no PUTFH: still a shape we read */
		{OP_PUTROOTFH, OP_WRITE}, /* another op first */
		{OP_PUTFH, OP_GETATTR, OP_WRITE},
		{OP_PUTFH, OP_SAVEFH, OP_WRITE},
		{OP_PUTFH, OP_PUTFH, OP_WRITE}, /* several PUTFH: fine */
		{OP_PUTFH},			/* no WRITE */
	};
	static const bool has[] = {false, false, false, false, true, false};

	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		struct shape s = shape_linux(100000);

		memset(s.ops, 0, sizeof(s.ops));
		memcpy(s.ops, orders[i], sizeof(orders[i]));
		if (has[i])
			expect_bulk(&s);
		else
			expect_none(&s);
	}
}

static void test_sequence_must_come_first(void **state)
{
	struct shape s = shape_linux(100000);
	static uint8_t rec[REC_CAP];
	size_t data_off, n, off, len;

	n = build(&s, rec, &data_off);
	/* The opnum of op 0 is the word after numops; find it and change it. */
	for (size_t i = 0; i + 4 <= RPC_BULK_PREFIX; i += 4)
		if (xdr_get_be32(rec + i) == OP_SEQUENCE) {
			xdr_put_be32(rec + i, OP_PUTROOTFH);
			break;
		}
	assert_false(find(rec, RPC_BULK_PREFIX, n, &off, &len));
}

static void test_numops_limits(void **state)
{
	struct shape s = shape_linux(100000);

	s.numops = 2; /* the WRITE is past the last op */
	expect_none(&s);
	s.numops = NFS4_MAX_OPS_HARD + 1;
	expect_none(&s);
	s.numops = 100; /* more ops than sent after the WRITE: the COMPOUND finds out */
	expect_bulk(&s);
}

static void test_lying_lengths(void **state)
{
	struct shape s = shape_linux(100000);
	size_t off, len, data_off, reclen;

	/* Data longer than the record, or than NFS4_MAX_IO. */
	s.claim_len = 101000;
	expect_none(&s);
	s = shape_linux(100000);
	s.claim_len = NFS4_MAX_IO + 4;
	expect_none(&s);
	/* Claiming less: the bulk is what it claims; the rest is read as args. */
	s = shape_linux(100000);
	s.claim_len = 99000;
	assert_true(find_shape(&s, &off, &len, &data_off, &reclen));
	assert_int_equal(off + len, data_off + 99000);
	/* A filehandle, tag or credential longer than allowed. */
	s = shape_linux(100000);
	s.fh_len = NFS4_FHSIZE + 4;
	expect_none(&s);
	s = shape_linux(100000);
	s.tag_len = NFS4_MAX_TAG + 4;
	expect_none(&s);
	s = shape_linux(100000);
	s.cflavor = RPC_AUTH_NONE;
	s.cred_len = RPC_MAX_AUTH_BYTES + 4;
	expect_none(&s);
}

static void test_header_past_the_prefix_has_no_bulk(void **state)
{
	struct shape s = shape_linux(100000);

	/* A tag that pushes the WRITE's header out of the first RPC_BULK_PREFIX bytes. */
	s.tag_len = RPC_BULK_PREFIX - 200;
	expect_none(&s);
}

/* Every prefix of a record: either no bulk, or the same answer as with all of it. */
static void test_every_truncation(void **state)
{
	static uint8_t rec[REC_CAP];
	struct shape s = shape_linux(70000);
	size_t data_off, n, off, len, full_off, full_len;

	s.tag_len = 8;
	n = build(&s, rec, &data_off);
	assert_true(find(rec, RPC_BULK_PREFIX, n, &full_off, &full_len));
	for (size_t have = 0; have <= RPC_BULK_PREFIX; have++) {
		if (!find(rec, have, n, &off, &len))
			continue;
		assert_int_equal(off, full_off);
		assert_int_equal(len, full_len);
		assert_true(have >= data_off); /* it needs the WRITE's header */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_write_with_auth_sys_and_gids),
		cmocka_unit_test(test_auth_none_and_no_trailing_op),
		cmocka_unit_test(test_bulk_starts_after_the_digest_bytes),
		cmocka_unit_test(test_data_shorter_than_the_digest_bytes_has_no_bulk),
		cmocka_unit_test(test_other_flavours_have_no_bulk),
		cmocka_unit_test(test_other_calls_have_no_bulk),
		cmocka_unit_test(test_other_op_orders_have_no_bulk),
		cmocka_unit_test(test_sequence_must_come_first),
		cmocka_unit_test(test_numops_limits),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_header_past_the_prefix_has_no_bulk),
		cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
