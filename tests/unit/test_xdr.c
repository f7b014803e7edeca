/*
 * The generated NFSv4.1 codecs (src/xdr/nfs4.x, nfs4_cb.x) on the XDR stream:
 * round trips, hostile input (truncation at every byte, lengths over their
 * limits, 0xFFFFFFFF counts, bools other than 0/1, unknown enum values and
 * union arms), encoder overflow at every capacity, and zero-copy opaques.
 * Constructs the NFSv4 files do not use are covered by test_xdrgen.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
#include "xdr/nfs4_cb_xdr.h"
#include "xdr/nfs4_xdr.h"

#define BUF_MAX 4096

/* Decodes exactly len bytes from a heap copy of buf, so ASan sees any over-read. */
typedef bool (*dec_fn)(struct xdr_dec *x, void *v);
typedef bool (*enc_fn)(struct xdr_enc *x, const void *v);

/*
 * Decode memory of a test: reset after each test, so arrays decoded by
 * decode_copy() stay readable (its opaques do not: they point into the copy).
 */
static struct arena test_arena;

static int setup(void **state)
{
	(void)state;
	arena_init(&test_arena, 64u << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_reset(&test_arena);
	return 0;
}

static bool decode_copy(dec_fn dec, const uint8_t *buf, size_t len, void *v, size_t vsize,
			struct arena *a)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct xdr_dec x;
	bool ok;

	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	memset(v, 0, vsize);
	xdr_dec_init(&x, copy, len, a);
	ok = dec(&x, v) && xdr_dec_remaining(&x) == 0;
	free(copy);
	return ok;
}

/*
 * The checks every type gets: enc -> bytes; dec(bytes) consumes all and
 * re-encodes to the same bytes; every proper prefix fails to decode; every
 * smaller encoder capacity fails with overflow set and cap == len succeeds.
 */
static size_t check_type(enc_fn enc, dec_fn dec, const void *v, void *scratch, size_t vsize,
			 uint8_t *out)
{
	uint8_t again[BUF_MAX];
	struct xdr_enc e;
	struct xdr_dec d;
	size_t len, n;

	xdr_enc_init(&e, out, BUF_MAX);
	assert_true(enc(&e, v));
	assert_false(e.overflow);
	len = e.len;
	assert_int_equal(len % 4, 0);

	memset(scratch, 0, vsize);
	xdr_dec_init(&d, out, len, &test_arena);
	assert_true(dec(&d, scratch));
	assert_int_equal(xdr_dec_remaining(&d), 0);
	xdr_enc_init(&e, again, sizeof(again));
	assert_true(enc(&e, scratch));
	assert_int_equal(e.len, len);
	assert_memory_equal(again, out, len);

	for (n = 0; n < len; n++)
		assert_false(decode_copy(dec, out, n, scratch, vsize, &test_arena));
	assert_true(decode_copy(dec, out, len, scratch, vsize, &test_arena));

	for (n = 0; n < len; n++) {
		uint8_t *small = malloc(n ? n : 1);

		assert_non_null(small);
		xdr_enc_init(&e, small, n);
		assert_false(enc(&e, v));
		assert_true(e.overflow);
		free(small);
	}
	{
		uint8_t *exact = malloc(len);

		assert_non_null(exact);
		xdr_enc_init(&e, exact, len);
		assert_true(enc(&e, v));
		assert_false(e.overflow);
		assert_memory_equal(exact, out, len);
		free(exact);
	}
	return len;
}

#define CHECK(type, valp, scratchp, out)                                               \
	check_type((enc_fn)xdr_enc_##type, (dec_fn)xdr_dec_##type, (valp), (scratchp), \
		   sizeof(*(scratchp)), (out))
#define DECODES(type, buf, len, vp) \
	decode_copy((dec_fn)xdr_dec_##type, (buf), (len), (vp), sizeof(*(vp)), &test_arena)

static const uint8_t verf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static uint32_t enforce_bits[2] = {0x00000001, 0x80000000};

static void fill_exchange_id(struct EXCHANGE_ID4args *a, struct nfs_impl_id4 *impl)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->eia_clientowner.co_verifier.data, verf, sizeof(verf));
	a->eia_clientowner.co_ownerid = xdr_opaque_str("Linux NFSv4.1 client.example");
	a->eia_flags = EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_CONFIRMED_R;
	a->eia_state_protect.spa_how = SP4_MACH_CRED;
	a->eia_state_protect.u.spa_mach_ops.spo_must_enforce.len = 2;
	a->eia_state_protect.u.spa_mach_ops.spo_must_enforce.val = enforce_bits;
	a->eia_state_protect.u.spa_mach_ops.spo_must_allow.len = 0;
	memset(impl, 0, sizeof(*impl));
	impl->nii_domain = xdr_opaque_str("kernel.org");
	impl->nii_name = xdr_opaque_str("Linux 6.1 x86_64");
	impl->nii_date.seconds = -5;
	impl->nii_date.nseconds = 999999999;
	a->eia_client_impl_id.len = 1;
	a->eia_client_impl_id.val = impl;
}

static struct authsys_parms sys_cred;
static uint32_t gids[3] = {10, 20, 30};
static struct callback_sec_parms4 sec_parms[3];

static void fill_create_session(struct CREATE_SESSION4args *a)
{
	memset(a, 0, sizeof(*a));
	a->csa_clientid = 0x1122334455667788ull;
	a->csa_sequence = 1;
	a->csa_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	a->csa_fore_chan_attrs.ca_maxrequestsize = 1049620;
	a->csa_fore_chan_attrs.ca_maxresponsesize = 1049480;
	a->csa_fore_chan_attrs.ca_maxresponsesize_cached = 7584;
	a->csa_fore_chan_attrs.ca_maxoperations = 8;
	a->csa_fore_chan_attrs.ca_maxrequests = 64;
	a->csa_back_chan_attrs = a->csa_fore_chan_attrs;
	a->csa_back_chan_attrs.ca_maxrequests = 1;
	a->csa_cb_program = 0x40000000;

	memset(&sys_cred, 0, sizeof(sys_cred));
	sys_cred.stamp = 77;
	sys_cred.machinename = xdr_opaque_str("client1");
	sys_cred.uid = 1000;
	sys_cred.gid = 1000;
	sys_cred.gids.len = 3;
	sys_cred.gids.val = gids;
	memset(sec_parms, 0, sizeof(sec_parms));
	sec_parms[0].cb_secflavor = AUTH_NONE;
	sec_parms[1].cb_secflavor = AUTH_SYS;
	sec_parms[1].u.cbsp_sys_cred = sys_cred;
	sec_parms[2].cb_secflavor = RPCSEC_GSS;
	sec_parms[2].u.cbsp_gss_handles.gcbp_service = RPC_GSS_SVC_INTEGRITY;
	sec_parms[2].u.cbsp_gss_handles.gcbp_handle_from_server = xdr_opaque_str("srv");
	sec_parms[2].u.cbsp_gss_handles.gcbp_handle_from_client = xdr_opaque_str("client");
	a->csa_sec_parms.len = 3;
	a->csa_sec_parms.val = sec_parms;
}

static void test_exchange_id_args(void **state)
{
	struct EXCHANGE_ID4args a, b;
	struct nfs_impl_id4 impl;
	uint8_t out[BUF_MAX];
	struct xdr_dec d;
	size_t len;

	(void)state;
	fill_exchange_id(&a, &impl);
	len = CHECK(EXCHANGE_ID4args, &a, &b, out);

	/* Decoded opaques point into the input buffer: zero-copy. */
	xdr_dec_init(&d, out, len, &test_arena);
	assert_true(xdr_dec_EXCHANGE_ID4args(&d, &b));
	assert_true(b.eia_clientowner.co_ownerid.data > out);
	assert_true(b.eia_clientowner.co_ownerid.data < out + len);
	assert_true(xdr_opaque_eq(&b.eia_clientowner.co_ownerid, &a.eia_clientowner.co_ownerid));
	assert_memory_equal(b.eia_clientowner.co_verifier.data, verf, sizeof(verf));
	assert_int_equal(b.eia_state_protect.spa_how, SP4_MACH_CRED);
	assert_int_equal(b.eia_state_protect.u.spa_mach_ops.spo_must_enforce.len, 2);
	assert_int_equal(b.eia_state_protect.u.spa_mach_ops.spo_must_enforce.val[1], 0x80000000);
	assert_int_equal(b.eia_client_impl_id.len, 1);
	assert_true(b.eia_client_impl_id.val[0].nii_name.data > out);
	assert_int_equal(b.eia_client_impl_id.val[0].nii_date.seconds, -5);

	/* SP4_NONE and no implementation id */
	a.eia_state_protect.spa_how = SP4_NONE;
	a.eia_client_impl_id.len = 0;
	a.eia_client_impl_id.val = NULL;
	CHECK(EXCHANGE_ID4args, &a, &b, out);
}

static void test_exchange_id_limits(void **state)
{
	struct EXCHANGE_ID4args a, b;
	struct nfs_impl_id4 impl[2];
	uint8_t big[NFS4_OPAQUE_LIMIT + 1];
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	fill_exchange_id(&a, &impl[0]);
	impl[1] = impl[0];

	/* The encoder refuses what the decoder would refuse: co_ownerid<1024>, impl_id<1>. */
	memset(big, 'o', sizeof(big));
	a.eia_clientowner.co_ownerid.data = big;
	a.eia_clientowner.co_ownerid.len = NFS4_OPAQUE_LIMIT + 1;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_EXCHANGE_ID4args(&e, &a));
	assert_true(e.overflow);
	a.eia_clientowner.co_ownerid.len = NFS4_OPAQUE_LIMIT;
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_EXCHANGE_ID4args(&e, &a));
	len = e.len;
	assert_true(DECODES(EXCHANGE_ID4args, out, len, &b));

	/* 1025 bytes on the wire: patch the length word (right after the 8-byte verifier). */
	assert_int_equal(xdr_get_be32(out + 8), NFS4_OPAQUE_LIMIT);
	xdr_enc_patch_u32(&e, 8, NFS4_OPAQUE_LIMIT + 1);
	assert_false(DECODES(EXCHANGE_ID4args, out, len, &b));
	xdr_enc_patch_u32(&e, 8, 0xFFFFFFFF);
	assert_false(DECODES(EXCHANGE_ID4args, out, len, &b));

	a.eia_clientowner.co_ownerid = xdr_opaque_str("x");
	a.eia_client_impl_id.len = 2;
	a.eia_client_impl_id.val = impl;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_EXCHANGE_ID4args(&e, &a));
	assert_true(e.overflow);

	/* impl id count 2 and 0xFFFFFFFF on the wire */
	a.eia_client_impl_id.len = 1;
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_EXCHANGE_ID4args(&e, &a));
	len = e.len;
	{
		/* owner: 8 verifier + 4 len + 4 ("x" padded); flags 4; spa_how 4; two bitmaps 4+8,
		 * 4 */
		size_t pos = 8 + 4 + 4 + 4 + 4 + 12 + 4;

		assert_int_equal(xdr_get_be32(out + pos), 1);
		xdr_enc_patch_u32(&e, pos, 2);
		assert_false(DECODES(EXCHANGE_ID4args, out, len, &b));
		xdr_enc_patch_u32(&e, pos, 0xFFFFFFFF);
		assert_false(DECODES(EXCHANGE_ID4args, out, len, &b));
		xdr_enc_patch_u32(&e, pos, 1);
		assert_true(DECODES(EXCHANGE_ID4args, out, len, &b));
		/* unknown state_protect_how4 */
		xdr_enc_patch_u32(&e, 8 + 4 + 4 + 4, 3);
		assert_false(DECODES(EXCHANGE_ID4args, out, len, &b));
	}
}

static void test_create_session_args(void **state)
{
	struct CREATE_SESSION4args a, b;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len, pos;

	(void)state;
	fill_create_session(&a);
	len = CHECK(CREATE_SESSION4args, &a, &b, out);

	/* csa_sec_parms count: 8+4+4 + 2*(7*4) + 4 (cb_program) */
	pos = 8 + 4 + 4 + 2 * 28 + 4;
	assert_int_equal(xdr_get_be32(out + pos), 3);
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, pos, 0xFFFFFFFF);
	assert_false(DECODES(CREATE_SESSION4args, out, len, &b));
	xdr_enc_patch_u32(&e, pos, 4);
	assert_false(DECODES(CREATE_SESSION4args, out, len, &b));
	xdr_enc_patch_u32(&e, pos, 3);
	assert_true(DECODES(CREATE_SESSION4args, out, len, &b));
	assert_int_equal(b.csa_sec_parms.val[1].u.cbsp_sys_cred.gids.val[2], 30);
	assert_int_equal(b.csa_sec_parms.val[2].u.cbsp_gss_handles.gcbp_service,
			 RPC_GSS_SVC_INTEGRITY);

	/* callback_sec_parms4 has no default arm: an unknown flavor is refused both ways */
	xdr_enc_patch_u32(&e, pos + 4, 3);
	assert_false(DECODES(CREATE_SESSION4args, out, len, &b));
	sec_parms[0].cb_secflavor = 3;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_CREATE_SESSION4args(&e, &a));
	assert_true(e.overflow);

	/* ca_rdma_ird<1> */
	fill_create_session(&a);
	{
		uint32_t ird[2] = {1, 2};

		a.csa_fore_chan_attrs.ca_rdma_ird.len = 1;
		a.csa_fore_chan_attrs.ca_rdma_ird.val = ird;
		CHECK(CREATE_SESSION4args, &a, &b, out);
		a.csa_fore_chan_attrs.ca_rdma_ird.len = 2;
		xdr_enc_init(&e, out, sizeof(out));
		assert_false(xdr_enc_CREATE_SESSION4args(&e, &a));
	}

	/* No arena, or one too small for the arrays: a clean failure. */
	fill_create_session(&a);
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_CREATE_SESSION4args(&e, &a));
	len = e.len;
	{
		struct arena tiny;
		struct xdr_dec d;

		arena_init(&tiny, 16);
		assert_false(decode_copy((dec_fn)xdr_dec_CREATE_SESSION4args, out, len, &b,
					 sizeof(b), &tiny));
		arena_reset(&tiny);

		xdr_dec_init(&d, out, len, NULL);
		assert_false(xdr_dec_CREATE_SESSION4args(&d, &b));
	}
}

static void test_authsys_limits(void **state)
{
	struct authsys_parms a, b;
	uint32_t many[17] = {0};
	uint8_t name[256];
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(name, 'm', sizeof(name));
	a.machinename.data = name;
	a.machinename.len = 255;
	a.gids.len = 16;
	a.gids.val = many;
	len = CHECK(authsys_parms, &a, &b, out);
	assert_int_equal(len, 4 + 4 + 256 + 4 + 4 + 4 + 16 * 4);

	a.gids.len = 17;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_authsys_parms(&e, &a));
	a.gids.len = 16;
	a.machinename.len = 256;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_authsys_parms(&e, &a));

	a.machinename.len = 255;
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_authsys_parms(&e, &a));
	xdr_enc_patch_u32(&e, 4, 256);
	assert_false(DECODES(authsys_parms, out, len, &b));
	xdr_enc_patch_u32(&e, 4, 255);
	xdr_enc_patch_u32(&e, 4 + 4 + 256 + 8, 17);
	assert_false(DECODES(authsys_parms, out, len, &b));
	xdr_enc_patch_u32(&e, 4 + 4 + 256 + 8, 0xFFFFFFFF);
	assert_false(DECODES(authsys_parms, out, len, &b));
}

static void test_sequence(void **state)
{
	struct SEQUENCE4args a, b;
	struct SEQUENCE4res r, s;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(a.sa_sessionid.data, 0xab, NFS4_SESSIONID_SIZE);
	a.sa_sequenceid = 7;
	a.sa_slotid = 3;
	a.sa_highest_slotid = 63;
	a.sa_cachethis = true;
	len = CHECK(SEQUENCE4args, &a, &b, out);
	assert_int_equal(len, 16 + 4 * 4);
	assert_true(b.sa_cachethis);

	/* bool: only 0 and 1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, len - 4, 2);
	assert_false(DECODES(SEQUENCE4args, out, len, &b));
	xdr_enc_patch_u32(&e, len - 4, 0xFFFFFFFF);
	assert_false(DECODES(SEQUENCE4args, out, len, &b));
	xdr_enc_patch_u32(&e, len - 4, 0);
	assert_true(DECODES(SEQUENCE4args, out, len, &b));
	assert_false(b.sa_cachethis);

	memset(&r, 0, sizeof(r));
	r.sr_status = NFS4_OK;
	memcpy(r.u.sr_resok4.sr_sessionid.data, a.sa_sessionid.data, NFS4_SESSIONID_SIZE);
	r.u.sr_resok4.sr_status_flags = SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_BACKCHANNEL_FAULT;
	len = CHECK(SEQUENCE4res, &r, &s, out);
	assert_int_equal(len, 4 + 16 + 5 * 4);
	assert_int_equal(s.u.sr_resok4.sr_status_flags, 0x401);

	/* an error status: the void default arm */
	r.sr_status = NFS4ERR_BADSESSION;
	len = CHECK(SEQUENCE4res, &r, &s, out);
	assert_int_equal(len, 4);
	assert_int_equal(xdr_get_be32(out), 10052);

	/* statuses that are not nfsstat4 members: 19 and 10073 are unassigned */
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_u32(&e, 19));
	assert_false(DECODES(SEQUENCE4res, out, 4, &s));
	xdr_enc_patch_u32(&e, 0, 10073);
	assert_false(DECODES(SEQUENCE4res, out, 4, &s));
	r.sr_status = (enum nfsstat4)10073;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_SEQUENCE4res(&e, &r));
	assert_true(e.overflow);
}

static void test_small_ops(void **state)
{
	struct BIND_CONN_TO_SESSION4args bc, bc2;
	struct BIND_CONN_TO_SESSION4res br, br2;
	struct DESTROY_SESSION4args ds, ds2;
	struct DESTROY_CLIENTID4args dc, dc2;
	struct RECLAIM_COMPLETE4args rc, rc2;
	struct BACKCHANNEL_CTL4args bca, bca2;
	struct EXCHANGE_ID4res er, er2;
	struct CREATE_SESSION4res cr, cr2;
	struct stateid4 st, st2;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;

	(void)state;
	memset(&bc, 0, sizeof(bc));
	bc.bctsa_dir = CDFC4_BACK_OR_BOTH;
	CHECK(BIND_CONN_TO_SESSION4args, &bc, &bc2, out);
	bc.bctsa_dir = (enum channel_dir_from_client4)4;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_BIND_CONN_TO_SESSION4args(&e, &bc));

	memset(&br, 0, sizeof(br));
	br.bctsr_status = NFS4_OK;
	br.u.bctsr_resok4.bctsr_dir = CDFS4_BOTH;
	CHECK(BIND_CONN_TO_SESSION4res, &br, &br2, out);

	memset(&ds, 0x5a, sizeof(ds));
	CHECK(DESTROY_SESSION4args, &ds, &ds2, out);
	dc.dca_clientid = 42;
	CHECK(DESTROY_CLIENTID4args, &dc, &dc2, out);
	rc.rca_one_fs = true;
	CHECK(RECLAIM_COMPLETE4args, &rc, &rc2, out);

	fill_create_session(&(struct CREATE_SESSION4args){0});
	memset(&bca, 0, sizeof(bca));
	bca.bca_cb_program = 0x40000001;
	bca.bca_sec_parms.len = 3;
	bca.bca_sec_parms.val = sec_parms;
	CHECK(BACKCHANNEL_CTL4args, &bca, &bca2, out);

	{
		struct nfs_impl_id4 impl;
		struct EXCHANGE_ID4args ea;

		fill_exchange_id(&ea, &impl);
		memset(&er, 0, sizeof(er));
		er.eir_status = NFS4_OK;
		er.u.eir_resok4.eir_clientid = 0xdeadbeefcafef00dull;
		er.u.eir_resok4.eir_sequenceid = 1;
		er.u.eir_resok4.eir_flags = EXCHGID4_FLAG_USE_NON_PNFS;
		er.u.eir_resok4.eir_state_protect.spr_how = SP4_SSV;
		er.u.eir_resok4.eir_state_protect.u.spr_ssv_info.spi_ssv_len = 32;
		er.u.eir_resok4.eir_server_owner.so_major_id = xdr_opaque_str("nfs4d");
		er.u.eir_resok4.eir_server_scope = xdr_opaque_str("scope");
		er.u.eir_resok4.eir_server_impl_id.len = 1;
		er.u.eir_resok4.eir_server_impl_id.val = &impl;
		CHECK(EXCHANGE_ID4res, &er, &er2, out);
		assert_int_equal(er2.u.eir_resok4.eir_clientid, 0xdeadbeefcafef00dull);
	}

	memset(&cr, 0, sizeof(cr));
	cr.csr_status = NFS4_OK;
	cr.u.csr_resok4.csr_flags = CREATE_SESSION4_FLAG_PERSIST;
	CHECK(CREATE_SESSION4res, &cr, &cr2, out);
	cr.csr_status = NFS4ERR_STALE_CLIENTID;
	CHECK(CREATE_SESSION4res, &cr, &cr2, out);

	st.seqid = 9;
	memset(st.other, 7, sizeof(st.other));
	assert_int_equal(CHECK(stateid4, &st, &st2, out), 16);
}

static void test_opnum(void **state)
{
	uint8_t buf[4];
	enum nfs_opnum4 op;
	enum nfs_cb_opnum4 cbop;
	struct xdr_enc e;
	uint32_t i, valid = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		xdr_enc_init(&e, buf, sizeof(buf));
		assert_true(xdr_enc_u32(&e, i));
		if (DECODES(nfs_opnum4, buf, 4, &op)) {
			assert_int_equal(op, i);
			valid++;
		}
	}
	assert_int_equal(valid, 71 - 3 + 1); /* OP_ACCESS (3) .. OP_CLONE (71) */
	xdr_enc_init(&e, buf, sizeof(buf));
	assert_true(xdr_enc_u32(&e, 10044));
	assert_true(DECODES(nfs_opnum4, buf, 4, &op));
	assert_int_equal(op, OP_ILLEGAL);
	assert_true(DECODES(nfs_cb_opnum4, buf, 4, &cbop));
	assert_int_equal(cbop, OP_CB_ILLEGAL);
	xdr_enc_patch_u32(&e, 0, 15);
	assert_false(DECODES(nfs_cb_opnum4, buf, 4, &cbop));
	assert_int_equal(OP_SEQUENCE, 53);
	assert_int_equal(OP_EXCHANGE_ID, 42);
	assert_int_equal(OP_CB_SEQUENCE, 11);
}

static void test_cb_sequence(void **state)
{
	struct referring_call4 calls[2] = {{5, 1}, {6, 2}};
	struct referring_call_list4 lists[1];
	struct CB_SEQUENCE4args a, b;
	struct CB_SEQUENCE4res r, s;
	struct CB_RECALL4args ra, rb;
	uint8_t fh[NFS4_FHSIZE + 1];
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(lists, 0, sizeof(lists));
	memset(lists[0].rcl_sessionid.data, 1, NFS4_SESSIONID_SIZE);
	lists[0].rcl_referring_calls.len = 2;
	lists[0].rcl_referring_calls.val = calls;
	memset(&a, 0, sizeof(a));
	a.csa_sequenceid = 1;
	a.csa_referring_call_lists.len = 1;
	a.csa_referring_call_lists.val = lists;
	len = CHECK(CB_SEQUENCE4args, &a, &b, out);
	assert_int_equal(len, 16 + 4 * 4 + 4 + 16 + 4 + 2 * 8);

	memset(&r, 0, sizeof(r));
	r.csr_status = NFS4_OK;
	r.u.csr_resok4.csr_target_highest_slotid = 15;
	CHECK(CB_SEQUENCE4res, &r, &s, out);

	memset(fh, 0xfe, sizeof(fh));
	memset(&ra, 0, sizeof(ra));
	ra.stateid.seqid = 1;
	ra.truncate = true;
	ra.fh.data = fh;
	ra.fh.len = NFS4_FHSIZE;
	CHECK(CB_RECALL4args, &ra, &rb, out);
	ra.fh.len = NFS4_FHSIZE + 1;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_CB_RECALL4args(&e, &ra));
	assert_true(e.overflow);
}

/*
 * File operations (RFC 8881 section 18)
 */
static uint32_t attr_words[2] = {0x0000001a, 0x00300002};
static const uint8_t attr_bytes[12] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x10, 0};

static struct fattr4 some_fattr(void)
{
	struct fattr4 f;

	f.attrmask.len = 2;
	f.attrmask.val = attr_words;
	f.attr_vals.len = sizeof(attr_bytes);
	f.attr_vals.data = attr_bytes;
	return f;
}

/*
 * Decodes buf in place: unlike after CHECK() or DECODES(), whose copy is gone,
 * the opaques of *v stay readable while buf lives.
 */
static void decode_in_place(dec_fn dec, const uint8_t *buf, size_t len, void *v)
{
	struct xdr_dec d;

	xdr_dec_init(&d, buf, len, &test_arena);
	assert_true(dec(&d, v));
	assert_int_equal(xdr_dec_remaining(&d), 0);
}

#define DECODE_IN_PLACE(type, buf, len, vp) \
	decode_in_place((dec_fn)xdr_dec_##type, (buf), (len), (vp))

static struct stateid4 some_stateid(void)
{
	struct stateid4 st;

	st.seqid = 3;
	memset(st.other, 0x42, sizeof(st.other));
	return st;
}

static void test_read_write(void **state)
{
	struct READ4args ra, rb;
	struct READ4res rr, rs;
	struct WRITE4args wa, wb;
	struct WRITE4res wr, ws;
	struct COMMIT4args ca, cb;
	struct COMMIT4res cr, cs;
	uint8_t data[13] = "hello, world";
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&ra, 0, sizeof(ra));
	ra.stateid = some_stateid();
	ra.offset = 0xfffffffffffffffeull;
	ra.count = 1048576;
	len = CHECK(READ4args, &ra, &rb, out);
	assert_int_equal(len, 16 + 8 + 4);
	assert_int_equal(rb.offset, 0xfffffffffffffffeull);
	assert_memory_equal(rb.stateid.other, ra.stateid.other, 12);

	memset(&rr, 0, sizeof(rr));
	rr.status = NFS4_OK;
	rr.u.resok4.eof = true;
	rr.u.resok4.data.len = 13; /* padded to 16 */
	rr.u.resok4.data.data = data;
	len = CHECK(READ4res, &rr, &rs, out);
	assert_int_equal(len, 4 + 4 + 4 + 16);
	assert_true(rs.u.resok4.eof);
	assert_int_equal(rs.u.resok4.data.len, 13);
	/* padding must be zero on the wire, and is */
	assert_int_equal(out[len - 3], 0);
	rr.u.resok4.data.len = 0;
	rr.u.resok4.data.data = NULL;
	assert_int_equal(CHECK(READ4res, &rr, &rs, out), 12);
	rr.status = NFS4ERR_OPENMODE;
	assert_int_equal(CHECK(READ4res, &rr, &rs, out), 4);

	memset(&wa, 0, sizeof(wa));
	wa.stateid = some_stateid();
	wa.offset = 4096;
	wa.stable = FILE_SYNC4;
	wa.data.len = sizeof(data);
	wa.data.data = data;
	len = CHECK(WRITE4args, &wa, &wb, out);
	assert_int_equal(len, 16 + 8 + 4 + 4 + 16);
	assert_int_equal(wb.stable, FILE_SYNC4);
	DECODE_IN_PLACE(WRITE4args, out, len, &wb);
	assert_true(xdr_opaque_eq(&wb.data, &wa.data));
	assert_true(wb.data.data > out && wb.data.data < out + len); /* zero-copy */
	/* stable_how4 has three values */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 16 + 8, 3);
	assert_false(DECODES(WRITE4args, out, len, &wb));
	wa.stable = (enum stable_how4)3;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_WRITE4args(&e, &wa));
	assert_true(e.overflow);
	/* a data length past the end of the record */
	wa.stable = UNSTABLE4;
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_WRITE4args(&e, &wa));
	xdr_enc_patch_u32(&e, 16 + 8 + 4, 17);
	assert_false(DECODES(WRITE4args, out, e.len, &wb));
	xdr_enc_patch_u32(&e, 16 + 8 + 4, 0xFFFFFFFF);
	assert_false(DECODES(WRITE4args, out, e.len, &wb));

	memset(&wr, 0, sizeof(wr));
	wr.status = NFS4_OK;
	wr.u.resok4.count = 13;
	wr.u.resok4.committed = DATA_SYNC4;
	memcpy(wr.u.resok4.writeverf.data, verf, sizeof(verf));
	len = CHECK(WRITE4res, &wr, &ws, out);
	assert_int_equal(len, 4 + 4 + 4 + 8);
	assert_memory_equal(ws.u.resok4.writeverf.data, verf, sizeof(verf));
	wr.status = NFS4ERR_NOSPC;
	assert_int_equal(CHECK(WRITE4res, &wr, &ws, out), 4);

	ca.offset = 1;
	ca.count = 0;
	assert_int_equal(CHECK(COMMIT4args, &ca, &cb, out), 12);
	memset(&cr, 0, sizeof(cr));
	cr.status = NFS4_OK;
	memcpy(cr.u.resok4.writeverf.data, verf, sizeof(verf));
	assert_int_equal(CHECK(COMMIT4res, &cr, &cs, out), 12);
}

static void test_readdir(void **state)
{
	struct READDIR4args a, b;
	struct READDIR4res r, s;
	struct entry4 ents[3], *ep;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;
	int i;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.cookie = 3;
	memcpy(a.cookieverf.data, verf, sizeof(verf));
	a.dircount = 8192;
	a.maxcount = 32768;
	a.attr_request.len = 2;
	a.attr_request.val = attr_words;
	len = CHECK(READDIR4args, &a, &b, out);
	assert_int_equal(len, 8 + 8 + 4 + 4 + 4 + 8);
	assert_int_equal(b.attr_request.val[1], 0x00300002);

	memset(ents, 0, sizeof(ents));
	for (i = 0; i < 3; i++) {
		ents[i].cookie = 100 + (uint64_t)i;
		ents[i].attrs = some_fattr();
		ents[i].nextentry = i < 2 ? &ents[i + 1] : NULL;
	}
	ents[0].name = xdr_opaque_str("a");
	ents[1].name = xdr_opaque_str("file.txt");
	ents[2].name = xdr_opaque_str("");
	ents[2].attrs.attrmask.len = 0;
	ents[2].attrs.attr_vals.len = 0;
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	memcpy(r.u.resok4.cookieverf.data, verf, sizeof(verf));
	r.u.resok4.reply.entries = &ents[0];
	r.u.resok4.reply.eof = true;
	len = CHECK(READDIR4res, &r, &s, out);
	/* status, verifier, then per entry: present flag, cookie, name, fattr4; end flag, eof */
	assert_int_equal(len,
			 4 + 8 + (4 + 8 + 8 + 28) + (4 + 8 + 12 + 28) + (4 + 8 + 4 + 8) + 4 + 4);
	DECODE_IN_PLACE(READDIR4res, out, len, &s);
	for (i = 0, ep = s.u.resok4.reply.entries; ep; ep = ep->nextentry, i++) {
		assert_int_equal(ep->cookie, 100 + (uint64_t)i);
		assert_true(xdr_opaque_eq(&ep->name, &ents[i].name));
	}
	assert_int_equal(i, 3);
	assert_true(s.u.resok4.reply.eof);

	/* an entry flag other than 0/1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	assert_int_equal(xdr_get_be32(out + 12), 1);
	xdr_enc_patch_u32(&e, 12, 2);
	assert_false(DECODES(READDIR4res, out, len, &s));

	/* no entries */
	r.u.resok4.reply.entries = NULL;
	r.u.resok4.reply.eof = false;
	assert_int_equal(CHECK(READDIR4res, &r, &s, out), 4 + 8 + 4 + 4);
	assert_null(s.u.resok4.reply.entries);
	r.status = NFS4ERR_BAD_COOKIE;
	assert_int_equal(CHECK(READDIR4res, &r, &s, out), 4);
}

static void test_create(void **state)
{
	struct CREATE4args a, b;
	struct CREATE4res r, s;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.objtype.type = NF4LNK;
	a.objtype.u.linkdata = xdr_opaque_str("../target/of/link");
	a.objname = xdr_opaque_str("symlink");
	a.createattrs = some_fattr();
	len = CHECK(CREATE4args, &a, &b, out);
	assert_int_equal(len, 4 + 4 + 20 + 4 + 8 + 12 + 4 + 12);
	assert_int_equal(b.objtype.type, NF4LNK);
	DECODE_IN_PLACE(CREATE4args, out, len, &b);
	assert_true(xdr_opaque_eq(&b.objtype.u.linkdata, &a.objtype.u.linkdata));
	assert_int_equal(b.createattrs.attrmask.len, 2);

	a.objtype.type = NF4CHR;
	a.objtype.u.devdata.specdata1 = 1;
	a.objtype.u.devdata.specdata2 = 3;
	len = CHECK(CREATE4args, &a, &b, out);
	assert_int_equal(len, 4 + 8 + 4 + 8 + 12 + 4 + 12);
	assert_int_equal(b.objtype.u.devdata.specdata2, 3);
	a.objtype.type = NF4BLK;
	CHECK(CREATE4args, &a, &b, out);

	/* void arms: directory, socket, fifo; and the default arm (NF4REG: BADTYPE later) */
	a.objtype.type = NF4DIR;
	assert_int_equal(CHECK(CREATE4args, &a, &b, out), 4 + 4 + 8 + 12 + 4 + 12);
	a.objtype.type = NF4FIFO;
	CHECK(CREATE4args, &a, &b, out);
	a.objtype.type = NF4REG;
	CHECK(CREATE4args, &a, &b, out);
	a.objtype.type = NF4NAMEDATTR;
	len = CHECK(CREATE4args, &a, &b, out);
	/* a type that is no nfs_ftype4 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 0, 10);
	assert_false(DECODES(CREATE4args, out, len, &b));
	xdr_enc_patch_u32(&e, 0, 0);
	assert_false(DECODES(CREATE4args, out, len, &b));

	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.u.resok4.cinfo.atomic = true;
	r.u.resok4.cinfo.before = 1;
	r.u.resok4.cinfo.after = 2;
	r.u.resok4.attrset.len = 2;
	r.u.resok4.attrset.val = attr_words;
	assert_int_equal(CHECK(CREATE4res, &r, &s, out), 4 + 20 + 12);
	assert_int_equal(s.u.resok4.cinfo.after, 2);
	r.status = NFS4ERR_BADTYPE;
	assert_int_equal(CHECK(CREATE4res, &r, &s, out), 4);
}

static void test_setattr(void **state)
{
	struct SETATTR4args a, b;
	struct SETATTR4res r, s;
	struct settime4 t, t2;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.stateid = some_stateid();
	a.obj_attributes = some_fattr();
	len = CHECK(SETATTR4args, &a, &b, out);
	assert_int_equal(len, 16 + 12 + 16);
	DECODE_IN_PLACE(SETATTR4args, out, len, &b);
	assert_true(xdr_opaque_eq(&b.obj_attributes.attr_vals, &a.obj_attributes.attr_vals));
	/* an attr_vals length past the end */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 16 + 12, 16);
	assert_false(DECODES(SETATTR4args, out, len, &b));

	/* attrsset is there whatever the status */
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.attrsset.len = 2;
	r.attrsset.val = attr_words;
	assert_int_equal(CHECK(SETATTR4res, &r, &s, out), 4 + 12);
	r.status = NFS4ERR_BADOWNER;
	r.attrsset.len = 0;
	r.attrsset.val = NULL;
	assert_int_equal(CHECK(SETATTR4res, &r, &s, out), 8);
	assert_int_equal(s.status, NFS4ERR_BADOWNER);

	/* settime4 */
	memset(&t, 0, sizeof(t));
	t.set_it = SET_TO_CLIENT_TIME4;
	t.u.time.seconds = -1;
	t.u.time.nseconds = 5;
	assert_int_equal(CHECK(settime4, &t, &t2, out), 16);
	assert_int_equal(t2.u.time.seconds, -1);
	t.set_it = SET_TO_SERVER_TIME4;
	assert_int_equal(CHECK(settime4, &t, &t2, out), 4);
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_u32(&e, 2));
	assert_false(DECODES(settime4, out, 4, &t2));
}

static void test_rename_link_remove(void **state)
{
	struct RENAME4args a, b;
	struct RENAME4res r, s;
	struct LINK4args la, lb;
	struct LINK4res lr, ls;
	struct REMOVE4args ma, mb;
	struct REMOVE4res mr, ms;
	uint8_t out[BUF_MAX];
	size_t len;

	(void)state;
	a.oldname = xdr_opaque_str("old name");
	a.newname = xdr_opaque_str("new");
	len = CHECK(RENAME4args, &a, &b, out);
	assert_int_equal(len, 4 + 8 + 4 + 4);
	DECODE_IN_PLACE(RENAME4args, out, len, &b);
	assert_true(xdr_opaque_eq(&b.oldname, &a.oldname));
	assert_true(xdr_opaque_eq(&b.newname, &a.newname));

	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.u.resok4.source_cinfo.before = 10;
	r.u.resok4.source_cinfo.after = 11;
	r.u.resok4.target_cinfo.atomic = true;
	r.u.resok4.target_cinfo.after = 21;
	assert_int_equal(CHECK(RENAME4res, &r, &s, out), 4 + 20 + 20);
	assert_int_equal(s.u.resok4.source_cinfo.after, 11);
	assert_int_equal(s.u.resok4.target_cinfo.after, 21);
	/* change_info4.atomic is a bool */
	{
		struct xdr_enc e;

		xdr_enc_init(&e, out, sizeof(out));
		assert_true(xdr_enc_RENAME4res(&e, &r));
		xdr_enc_patch_u32(&e, 4, 2);
		assert_false(DECODES(RENAME4res, out, e.len, &s));
	}
	r.status = NFS4ERR_XDEV;
	assert_int_equal(CHECK(RENAME4res, &r, &s, out), 4);

	la.newname = xdr_opaque_str("hardlink");
	assert_int_equal(CHECK(LINK4args, &la, &lb, out), 12);
	memset(&lr, 0, sizeof(lr));
	lr.status = NFS4_OK;
	assert_int_equal(CHECK(LINK4res, &lr, &ls, out), 24);
	ma.target = xdr_opaque_str("gone");
	assert_int_equal(CHECK(REMOVE4args, &ma, &mb, out), 8);
	memset(&mr, 0, sizeof(mr));
	mr.status = NFS4_OK;
	mr.u.resok4.cinfo.before = 7;
	assert_int_equal(CHECK(REMOVE4res, &mr, &ms, out), 24);
	mr.status = NFS4ERR_NOTEMPTY;
	assert_int_equal(CHECK(REMOVE4res, &mr, &ms, out), 4);
}

static void test_fh_ops(void **state)
{
	struct ACCESS4args aa, ab;
	struct ACCESS4res ar, as;
	struct GETATTR4args ga, gb;
	struct GETATTR4res gr, gs;
	struct GETFH4res fr, fs;
	struct PUTFH4args pa, pb;
	struct LOOKUP4args la, lb;
	struct LOOKUPP4res lr, ls;
	struct NVERIFY4args na, nb;
	struct VERIFY4args va, vb;
	struct OPENATTR4args oa, ob;
	struct READLINK4res rr, rs;
	struct PUTROOTFH4res pr, ps;
	struct PUTPUBFH4res ppr, pps;
	struct SAVEFH4res sr, ss;
	struct RESTOREFH4res rsr, rss;
	uint8_t fh[NFS4_FHSIZE + 1];
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	assert_int_equal(ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND |
				 ACCESS4_DELETE | ACCESS4_EXECUTE,
			 0x3f);
	aa.access = ACCESS4_READ | ACCESS4_EXECUTE;
	assert_int_equal(CHECK(ACCESS4args, &aa, &ab, out), 4);
	memset(&ar, 0, sizeof(ar));
	ar.status = NFS4_OK;
	ar.u.resok4.supported = 0x3f;
	ar.u.resok4.access = ACCESS4_READ;
	assert_int_equal(CHECK(ACCESS4res, &ar, &as, out), 12);

	ga.attr_request.len = 2;
	ga.attr_request.val = attr_words;
	assert_int_equal(CHECK(GETATTR4args, &ga, &gb, out), 12);
	memset(&gr, 0, sizeof(gr));
	gr.status = NFS4_OK;
	gr.u.resok4.obj_attributes = some_fattr();
	assert_int_equal(CHECK(GETATTR4res, &gr, &gs, out), 4 + 12 + 16);

	memset(fh, 0xfe, sizeof(fh));
	memset(&fr, 0, sizeof(fr));
	fr.status = NFS4_OK;
	fr.u.resok4.object.data = fh;
	fr.u.resok4.object.len = NFS4_FHSIZE;
	assert_int_equal(CHECK(GETFH4res, &fr, &fs, out), 4 + 4 + NFS4_FHSIZE);
	fr.u.resok4.object.len = NFS4_FHSIZE + 1;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_GETFH4res(&e, &fr));
	assert_true(e.overflow);

	pa.object.data = fh;
	pa.object.len = NFS4_FHSIZE;
	len = CHECK(PUTFH4args, &pa, &pb, out);
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 0, NFS4_FHSIZE + 1);
	assert_false(DECODES(PUTFH4args, out, len, &pb));

	la.objname = xdr_opaque_str("dir");
	assert_int_equal(CHECK(LOOKUP4args, &la, &lb, out), 8);
	lr.status = NFS4ERR_NOENT;
	assert_int_equal(CHECK(LOOKUPP4res, &lr, &ls, out), 4);

	na.obj_attributes = some_fattr();
	assert_int_equal(CHECK(NVERIFY4args, &na, &nb, out), 28);
	va.obj_attributes = some_fattr();
	assert_int_equal(CHECK(VERIFY4args, &va, &vb, out), 28);
	oa.createdir = true;
	assert_int_equal(CHECK(OPENATTR4args, &oa, &ob, out), 4);

	memset(&rr, 0, sizeof(rr));
	rr.status = NFS4_OK;
	rr.u.resok4.link = xdr_opaque_str("/abs/target");
	assert_int_equal(CHECK(READLINK4res, &rr, &rs, out), 4 + 4 + 12);

	pr.status = NFS4_OK;
	assert_int_equal(CHECK(PUTROOTFH4res, &pr, &ps, out), 4);
	ppr.status = NFS4ERR_WRONGSEC;
	assert_int_equal(CHECK(PUTPUBFH4res, &ppr, &pps, out), 4);
	sr.status = NFS4_OK;
	assert_int_equal(CHECK(SAVEFH4res, &sr, &ss, out), 4);
	rsr.status = NFS4ERR_RESTOREFH;
	assert_int_equal(CHECK(RESTOREFH4res, &rsr, &rss, out), 4);
}

static void test_secinfo(void **state)
{
	static const uint8_t krb5_oid[11] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					     0xf7, 0x12, 0x01, 0x02, 0x02};
	struct secinfo4 flavors[3];
	struct SECINFO4args a, b;
	struct SECINFO4res r, s;
	SECINFO_NO_NAME4args na, nb;
	SECINFO_NO_NAME4res nr, ns;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	a.name = xdr_opaque_str("export");
	assert_int_equal(CHECK(SECINFO4args, &a, &b, out), 12);

	memset(flavors, 0, sizeof(flavors));
	flavors[0].flavor = RPCSEC_GSS;
	flavors[0].u.flavor_info.oid.len = sizeof(krb5_oid);
	flavors[0].u.flavor_info.oid.data = krb5_oid;
	flavors[0].u.flavor_info.qop = 0;
	flavors[0].u.flavor_info.service = RPC_GSS_SVC_PRIVACY;
	flavors[1].flavor = AUTH_SYS;
	flavors[2].flavor = AUTH_NONE;
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.u.resok4.len = 3;
	r.u.resok4.val = flavors;
	len = CHECK(SECINFO4res, &r, &s, out);
	assert_int_equal(len, 4 + 4 + (4 + 4 + 12 + 4 + 4) + 4 + 4);
	assert_int_equal(s.u.resok4.len, 3);
	assert_int_equal(s.u.resok4.val[0].u.flavor_info.service, RPC_GSS_SVC_PRIVACY);
	assert_int_equal(s.u.resok4.val[1].flavor, AUTH_SYS);
	DECODE_IN_PLACE(SECINFO4res, out, len, &s);
	assert_int_equal(s.u.resok4.val[0].u.flavor_info.oid.len, sizeof(krb5_oid));
	assert_memory_equal(s.u.resok4.val[0].u.flavor_info.oid.data, krb5_oid, sizeof(krb5_oid));
	/* unknown rpc_gss_svc_t; a count the bytes cannot hold */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 4 + 4 + 4 + 4 + 12 + 4, 4);
	assert_false(DECODES(SECINFO4res, out, len, &s));
	xdr_enc_patch_u32(&e, 4 + 4 + 4 + 4 + 12 + 4, 3);
	xdr_enc_patch_u32(&e, 4, 0xFFFFFFFF);
	assert_false(DECODES(SECINFO4res, out, len, &s));
	r.status = NFS4ERR_WRONGSEC;
	assert_int_equal(CHECK(SECINFO4res, &r, &s, out), 4);

	na = SECINFO_STYLE4_PARENT;
	assert_int_equal(CHECK(SECINFO_NO_NAME4args, &na, &nb, out), 4);
	assert_int_equal(nb, SECINFO_STYLE4_PARENT);
	xdr_enc_init(&e, out, sizeof(out));
	assert_true(xdr_enc_u32(&e, 2));
	assert_false(DECODES(SECINFO_NO_NAME4args, out, 4, &nb));
	memset(&nr, 0, sizeof(nr));
	nr.status = NFS4_OK;
	nr.u.resok4.len = 1;
	nr.u.resok4.val = &flavors[1];
	assert_int_equal(CHECK(SECINFO_NO_NAME4res, &nr, &ns, out), 12);
}

/*
 * OPEN, CLOSE, OPEN_DOWNGRADE, LOCK/LOCKT/LOCKU, TEST_STATEID, FREE_STATEID,
 * DELEGRETURN, DELEGPURGE, RELEASE_LOCKOWNER (RFC 8881 sections 18.2-18.18,
 * 18.38, 18.48, 18.24)
 */
static struct state_owner4 some_owner(const char *id)
{
	struct state_owner4 o;

	o.clientid = 0x0102030405060708ull;
	o.owner = xdr_opaque_str(id);
	return o;
}

/* owner "open id:1" is 8 + 4 + 12 bytes: OPEN4args' fixed part is 36 bytes */
#define OPEN_HEAD (4 + 4 + 4 + 24)

static void test_open_args(void **state)
{
	static const struct {
		enum open_claim_type4 claim;
		size_t arm;
	} claims[] = {
		{CLAIM_NULL, 12},	   {CLAIM_PREVIOUS, 4}, {CLAIM_DELEGATE_CUR, 16 + 4 + 12},
		{CLAIM_DELEGATE_PREV, 12}, {CLAIM_FH, 0},	{CLAIM_DELEG_CUR_FH, 16},
		{CLAIM_DELEG_PREV_FH, 0},
	};
	static const struct {
		enum createmode4 mode;
		size_t arm;
	} hows[] = {{UNCHECKED4, 28}, {GUARDED4, 28}, {EXCLUSIVE4, 8}, {EXCLUSIVE4_1, 8 + 28}};
	static uint8_t big[NFS4_OPAQUE_LIMIT + 1];
	struct OPEN4args a, b;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t i, len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.seqid = 0;
	a.share_access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	a.share_deny = OPEN4_SHARE_DENY_WRITE;
	a.owner = some_owner("open id:1");
	a.openhow.opentype = OPEN4_NOCREATE;

	/* every claim, without create */
	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		memset(&a.claim, 0, sizeof(a.claim));
		a.claim.claim = claims[i].claim;
		switch (claims[i].claim) {
		case CLAIM_NULL:
			a.claim.u.file = xdr_opaque_str("file.txt");
			break;
		case CLAIM_PREVIOUS:
			a.claim.u.delegate_type = OPEN_DELEGATE_WRITE;
			break;
		case CLAIM_DELEGATE_CUR:
			a.claim.u.delegate_cur_info.delegate_stateid = some_stateid();
			a.claim.u.delegate_cur_info.file = xdr_opaque_str("deleg.txt");
			break;
		case CLAIM_DELEGATE_PREV:
			a.claim.u.file_delegate_prev = xdr_opaque_str("prev.txt");
			break;
		case CLAIM_DELEG_CUR_FH:
			a.claim.u.oc_delegate_stateid = some_stateid();
			break;
		default:
			break;
		}
		len = CHECK(OPEN4args, &a, &b, out);
		assert_int_equal(len, OPEN_HEAD + 4 + 4 + claims[i].arm);
		assert_int_equal(b.claim.claim, claims[i].claim);
		assert_int_equal(b.openhow.opentype, OPEN4_NOCREATE);
		assert_int_equal(b.share_access, 0x103);
		assert_int_equal(b.share_deny, OPEN4_SHARE_DENY_WRITE);
		assert_int_equal(b.owner.clientid, 0x0102030405060708ull);
		DECODE_IN_PLACE(OPEN4args, out, len, &b);
		assert_true(xdr_opaque_eq(&b.owner.owner, &a.owner.owner));
		if (claims[i].claim == CLAIM_NULL) {
			assert_true(xdr_opaque_eq(&b.claim.u.file, &a.claim.u.file));
			/* zero-copy */
			assert_true(b.claim.u.file.data > out && b.claim.u.file.data < out + len);
		} else if (claims[i].claim == CLAIM_DELEGATE_CUR) {
			assert_true(xdr_opaque_eq(&b.claim.u.delegate_cur_info.file,
						  &a.claim.u.delegate_cur_info.file));
			assert_memory_equal(b.claim.u.delegate_cur_info.delegate_stateid.other,
					    a.claim.u.delegate_cur_info.delegate_stateid.other, 12);
		} else if (claims[i].claim == CLAIM_PREVIOUS) {
			assert_int_equal(b.claim.u.delegate_type, OPEN_DELEGATE_WRITE);
		} else if (claims[i].claim == CLAIM_DELEG_CUR_FH) {
			assert_int_equal(b.claim.u.oc_delegate_stateid.seqid, 3);
		}
	}

	/* a claim type past CLAIM_DELEG_PREV_FH; an opentype past OPEN4_CREATE */
	a.claim.claim = CLAIM_FH;
	len = CHECK(OPEN4args, &a, &b, out);
	assert_int_equal(len, OPEN_HEAD + 8);
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	assert_int_equal(xdr_get_be32(out + OPEN_HEAD + 4), CLAIM_FH);
	xdr_enc_patch_u32(&e, OPEN_HEAD + 4, 7);
	assert_false(DECODES(OPEN4args, out, len, &b));
	xdr_enc_patch_u32(&e, OPEN_HEAD + 4, CLAIM_FH);
	xdr_enc_patch_u32(&e, OPEN_HEAD, 2);
	assert_false(DECODES(OPEN4args, out, len, &b));
	xdr_enc_patch_u32(&e, OPEN_HEAD, OPEN4_NOCREATE);
	assert_true(DECODES(OPEN4args, out, len, &b));
	/* CLAIM_PREVIOUS: a delegate_type that is no open_delegation_type4 */
	a.claim.claim = CLAIM_PREVIOUS;
	a.claim.u.delegate_type = OPEN_DELEGATE_NONE_EXT;
	len = CHECK(OPEN4args, &a, &b, out);
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, len - 4, 4);
	assert_false(DECODES(OPEN4args, out, len, &b));

	/* every createhow, with CLAIM_NULL */
	a.claim.claim = CLAIM_NULL;
	a.claim.u.file = xdr_opaque_str("new-file");
	a.openhow.opentype = OPEN4_CREATE;
	for (i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		struct createhow4 *h = &a.openhow.u.how;

		memset(h, 0, sizeof(*h));
		h->mode = hows[i].mode;
		switch (hows[i].mode) {
		case UNCHECKED4:
		case GUARDED4:
			h->u.createattrs = some_fattr();
			break;
		case EXCLUSIVE4:
			memcpy(h->u.createverf.data, verf, sizeof(verf));
			break;
		case EXCLUSIVE4_1:
			memcpy(h->u.ch_createboth.cva_verf.data, verf, sizeof(verf));
			h->u.ch_createboth.cva_attrs = some_fattr();
			break;
		}
		len = CHECK(OPEN4args, &a, &b, out);
		assert_int_equal(len, OPEN_HEAD + 4 + 4 + hows[i].arm + 4 + 12);
		assert_int_equal(b.openhow.opentype, OPEN4_CREATE);
		assert_int_equal(b.openhow.u.how.mode, hows[i].mode);
		if (hows[i].mode == EXCLUSIVE4)
			assert_memory_equal(b.openhow.u.how.u.createverf.data, verf, sizeof(verf));
		if (hows[i].mode == EXCLUSIVE4_1) {
			assert_memory_equal(b.openhow.u.how.u.ch_createboth.cva_verf.data, verf,
					    sizeof(verf));
			assert_int_equal(b.openhow.u.how.u.ch_createboth.cva_attrs.attrmask.len, 2);
			assert_int_equal(b.openhow.u.how.u.ch_createboth.cva_attrs.attrmask.val[1],
					 0x00300002);
		}
		if (hows[i].mode == GUARDED4)
			assert_int_equal(b.openhow.u.how.u.createattrs.attr_vals.len, 12);
	}
	/* a createmode4 past EXCLUSIVE4_1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	assert_int_equal(xdr_get_be32(out + OPEN_HEAD + 4), EXCLUSIVE4_1);
	xdr_enc_patch_u32(&e, OPEN_HEAD + 4, 4);
	assert_false(DECODES(OPEN4args, out, len, &b));

	/* encoder: non-member discriminants, an owner over NFS4_OPAQUE_LIMIT */
	a.openhow.u.how.mode = (enum createmode4)4;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4args(&e, &a));
	assert_true(e.overflow);
	a.openhow.opentype = OPEN4_NOCREATE;
	a.claim.claim = (enum open_claim_type4)7;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4args(&e, &a));
	assert_true(e.overflow);
	a.claim.claim = CLAIM_FH;
	a.owner.owner.len = NFS4_OPAQUE_LIMIT + 1;
	a.owner.owner.data = big;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4args(&e, &a));
	assert_true(e.overflow);
	a.owner.owner.len = NFS4_OPAQUE_LIMIT;
	len = CHECK(OPEN4args, &a, &b, out);
	assert_int_equal(len, 12 + 8 + 4 + NFS4_OPAQUE_LIMIT + 8);
	/* and on decode: an owner length of NFS4_OPAQUE_LIMIT + 1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 12 + 8, NFS4_OPAQUE_LIMIT + 1);
	assert_false(DECODES(OPEN4args, out, len, &b));

	/* the RFC's numbers */
	assert_int_equal(OPEN4_SHARE_ACCESS_WANT_DELEG_MASK, 0xFF00);
	assert_int_equal(OPEN4_SHARE_ACCESS_WANT_CANCEL, 0x0500);
	assert_int_equal(OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL, 0x10000);
	assert_int_equal(OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED, 0x20000);
	assert_int_equal(OPEN4_SHARE_DENY_BOTH, 3);
	assert_int_equal(EXCLUSIVE4_1, 3);
	assert_int_equal(CLAIM_DELEG_PREV_FH, 6);
}

/* OPEN4resok up to the delegation's discriminant */
#define OPEN_RESOK_HEAD (4 + 16 + 20 + 4 + 12)

static void test_open_res(void **state)
{
	struct OPEN4res r, s;
	struct open_delegation4 *d = &r.u.resok4.delegation;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.u.resok4.stateid = some_stateid();
	r.u.resok4.cinfo.atomic = true;
	r.u.resok4.cinfo.before = 10;
	r.u.resok4.cinfo.after = 11;
	r.u.resok4.rflags = OPEN4_RESULT_LOCKTYPE_POSIX | OPEN4_RESULT_PRESERVE_UNLINKED;
	r.u.resok4.attrset.len = 2;
	r.u.resok4.attrset.val = attr_words;

	/* OPEN_DELEGATE_NONE: void */
	d->delegation_type = OPEN_DELEGATE_NONE;
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4);
	assert_int_equal(s.u.resok4.rflags, 0xc);
	assert_int_equal(s.u.resok4.cinfo.after, 11);
	assert_int_equal(s.u.resok4.delegation.delegation_type, OPEN_DELEGATE_NONE);
	/* a delegation type past OPEN_DELEGATE_NONE_EXT */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, OPEN_RESOK_HEAD, 4);
	assert_false(DECODES(OPEN4res, out, len, &s));

	/* OPEN_DELEGATE_READ */
	d->delegation_type = OPEN_DELEGATE_READ;
	d->u.read.stateid = some_stateid();
	d->u.read.stateid.seqid = 1;
	d->u.read.recall = false;
	d->u.read.permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	d->u.read.permissions.flag = 0;
	d->u.read.permissions.access_mask = ACE4_GENERIC_READ;
	d->u.read.permissions.who = xdr_opaque_str("EVERYONE@");
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 16 + 4 + (4 + 4 + 4 + 4 + 12));
	assert_int_equal(s.u.resok4.delegation.u.read.stateid.seqid, 1);
	assert_int_equal(s.u.resok4.delegation.u.read.permissions.access_mask, 0x00120081);
	DECODE_IN_PLACE(OPEN4res, out, len, &s);
	assert_true(xdr_opaque_eq(&s.u.resok4.delegation.u.read.permissions.who,
				  &d->u.read.permissions.who));
	/* recall: a bool other than 0/1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, OPEN_RESOK_HEAD + 4 + 16, 2);
	assert_false(DECODES(OPEN4res, out, len, &s));

	/* OPEN_DELEGATE_WRITE, with both nfs_space_limit4 arms */
	memset(&d->u, 0, sizeof(d->u));
	d->delegation_type = OPEN_DELEGATE_WRITE;
	d->u.write.stateid = some_stateid();
	d->u.write.recall = true;
	d->u.write.space_limit.limitby = NFS_LIMIT_SIZE;
	d->u.write.space_limit.u.filesize = 0xffffffffffffffffull;
	d->u.write.permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	d->u.write.permissions.flag = ACE4_IDENTIFIER_GROUP;
	d->u.write.permissions.access_mask = ACE4_GENERIC_WRITE;
	d->u.write.permissions.who = xdr_opaque_str("");
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 16 + 4 + (4 + 8) + (4 + 4 + 4 + 4));
	assert_true(s.u.resok4.delegation.u.write.recall);
	assert_int_equal(s.u.resok4.delegation.u.write.space_limit.u.filesize,
			 0xffffffffffffffffull);
	assert_int_equal(s.u.resok4.delegation.u.write.permissions.flag, 0x40);
	d->u.write.space_limit.limitby = NFS_LIMIT_BLOCKS;
	d->u.write.space_limit.u.mod_blocks.num_blocks = 100;
	d->u.write.space_limit.u.mod_blocks.bytes_per_block = 4096;
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 16 + 4 + (4 + 8) + (4 + 4 + 4 + 4));
	assert_int_equal(s.u.resok4.delegation.u.write.space_limit.limitby, NFS_LIMIT_BLOCKS);
	assert_int_equal(s.u.resok4.delegation.u.write.space_limit.u.mod_blocks.bytes_per_block,
			 4096);
	/* limit_by4 has two members, 1 and 2; the union has no default */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, OPEN_RESOK_HEAD + 4 + 16 + 4, 0);
	assert_false(DECODES(OPEN4res, out, len, &s));
	xdr_enc_patch_u32(&e, OPEN_RESOK_HEAD + 4 + 16 + 4, 3);
	assert_false(DECODES(OPEN4res, out, len, &s));
	xdr_enc_patch_u32(&e, OPEN_RESOK_HEAD + 4 + 16 + 4, NFS_LIMIT_SIZE);
	assert_true(DECODES(OPEN4res, out, len, &s));
	d->u.write.space_limit.limitby = (enum limit_by4)3;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4res(&e, &r));
	assert_true(e.overflow);

	/* OPEN_DELEGATE_NONE_EXT: the two bool arms and the void default */
	memset(&d->u, 0, sizeof(d->u));
	d->delegation_type = OPEN_DELEGATE_NONE_EXT;
	d->u.od_whynone.ond_why = WND4_CONTENTION;
	d->u.od_whynone.u.ond_server_will_push_deleg = true;
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 4 + 4);
	assert_true(s.u.resok4.delegation.u.od_whynone.u.ond_server_will_push_deleg);
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, len - 4, 2);
	assert_false(DECODES(OPEN4res, out, len, &s));
	d->u.od_whynone.ond_why = WND4_RESOURCE;
	d->u.od_whynone.u.ond_server_will_signal_avail = false;
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 4 + 4);
	assert_false(s.u.resok4.delegation.u.od_whynone.u.ond_server_will_signal_avail);
	d->u.od_whynone.ond_why = WND4_NOT_WANTED;
	assert_int_equal(CHECK(OPEN4res, &r, &s, out), OPEN_RESOK_HEAD + 4 + 4);
	d->u.od_whynone.ond_why = WND4_IS_DIR;
	len = CHECK(OPEN4res, &r, &s, out);
	assert_int_equal(len, OPEN_RESOK_HEAD + 4 + 4);
	assert_int_equal(s.u.resok4.delegation.u.od_whynone.ond_why, WND4_IS_DIR);
	/* the default arm takes only why_no_delegation4 members */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, len - 4, 9);
	assert_false(DECODES(OPEN4res, out, len, &s));
	d->u.od_whynone.ond_why = (enum why_no_delegation4)9;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4res(&e, &r));
	assert_true(e.overflow);
	d->delegation_type = (enum open_delegation_type4)4;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_OPEN4res(&e, &r));
	assert_true(e.overflow);

	/* an error: void */
	r.status = NFS4ERR_SHARE_DENIED;
	assert_int_equal(CHECK(OPEN4res, &r, &s, out), 4);
	assert_int_equal(s.status, NFS4ERR_SHARE_DENIED);
}

static void test_close_downgrade(void **state)
{
	struct CLOSE4args ca, cb;
	struct CLOSE4res cr, cs;
	struct OPEN_DOWNGRADE4args da, db;
	struct OPEN_DOWNGRADE4res dr, ds;
	uint8_t out[BUF_MAX];

	(void)state;
	ca.seqid = 0;
	ca.open_stateid = some_stateid();
	assert_int_equal(CHECK(CLOSE4args, &ca, &cb, out), 20);
	assert_memory_equal(cb.open_stateid.other, ca.open_stateid.other, 12);
	memset(&cr, 0, sizeof(cr));
	cr.status = NFS4_OK;
	cr.u.open_stateid = some_stateid();
	cr.u.open_stateid.seqid = NFS4_UINT32_MAX;
	assert_int_equal(CHECK(CLOSE4res, &cr, &cs, out), 20);
	assert_int_equal(cs.u.open_stateid.seqid, 0xffffffffu);
	cr.status = NFS4ERR_LOCKS_HELD;
	assert_int_equal(CHECK(CLOSE4res, &cr, &cs, out), 4);

	memset(&da, 0, sizeof(da));
	da.open_stateid = some_stateid();
	da.seqid = 0;
	da.share_access = OPEN4_SHARE_ACCESS_READ;
	da.share_deny = OPEN4_SHARE_DENY_NONE;
	assert_int_equal(CHECK(OPEN_DOWNGRADE4args, &da, &db, out), 28);
	assert_int_equal(db.share_access, OPEN4_SHARE_ACCESS_READ);
	memset(&dr, 0, sizeof(dr));
	dr.status = NFS4_OK;
	dr.u.resok4.open_stateid = some_stateid();
	assert_int_equal(CHECK(OPEN_DOWNGRADE4res, &dr, &ds, out), 20);
	dr.status = NFS4ERR_INVAL;
	assert_int_equal(CHECK(OPEN_DOWNGRADE4res, &dr, &ds, out), 4);
}

/* LOCK4args before the locker: locktype, reclaim, offset, length */
#define LOCK_HEAD (4 + 4 + 8 + 8)

static void test_lock(void **state)
{
	static uint8_t big[NFS4_OPAQUE_LIMIT + 1];
	struct LOCK4args a, b;
	struct LOCK4res r, s;
	struct LOCKT4args ta, tb;
	struct LOCKT4res tr, ts;
	struct LOCKU4args ua, ub;
	struct LOCKU4res ur, us;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.locktype = WRITEW_LT;
	a.reclaim = false;
	a.offset = 4096;
	a.length = NFS4_UINT64_MAX; /* to end of file */

	/* new lock-owner: open_to_lock_owner4 */
	a.locker.new_lock_owner = true;
	a.locker.u.open_owner.open_seqid = 0;
	a.locker.u.open_owner.open_stateid = some_stateid();
	a.locker.u.open_owner.lock_seqid = 0;
	a.locker.u.open_owner.lock_owner = some_owner("lock id:1");
	len = CHECK(LOCK4args, &a, &b, out);
	assert_int_equal(len, LOCK_HEAD + 4 + (4 + 16 + 4 + 24));
	assert_true(b.locker.new_lock_owner);
	assert_int_equal(b.locktype, WRITEW_LT);
	assert_int_equal(b.length, 0xffffffffffffffffull);
	assert_int_equal(b.locker.u.open_owner.lock_owner.clientid, 0x0102030405060708ull);
	DECODE_IN_PLACE(LOCK4args, out, len, &b);
	assert_true(xdr_opaque_eq(&b.locker.u.open_owner.lock_owner.owner,
				  &a.locker.u.open_owner.lock_owner.owner));
	/* new_lock_owner: only 0 and 1 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, LOCK_HEAD, 2);
	assert_false(DECODES(LOCK4args, out, len, &b));
	/* the wrong arm for the bytes that follow: too short for exist_lock_owner4 + rest */
	xdr_enc_patch_u32(&e, LOCK_HEAD, 0);
	assert_false(DECODES(LOCK4args, out, len, &b));
	xdr_enc_patch_u32(&e, LOCK_HEAD, 1);
	assert_true(DECODES(LOCK4args, out, len, &b));
	/* nfs_lock_type4 is 1..4 */
	xdr_enc_patch_u32(&e, 0, 0);
	assert_false(DECODES(LOCK4args, out, len, &b));
	xdr_enc_patch_u32(&e, 0, 5);
	assert_false(DECODES(LOCK4args, out, len, &b));
	/* reclaim: a bool */
	xdr_enc_patch_u32(&e, 0, READ_LT);
	xdr_enc_patch_u32(&e, 4, 2);
	assert_false(DECODES(LOCK4args, out, len, &b));
	/* a lock_owner over NFS4_OPAQUE_LIMIT */
	a.locker.u.open_owner.lock_owner.owner.len = NFS4_OPAQUE_LIMIT + 1;
	a.locker.u.open_owner.lock_owner.owner.data = big;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_LOCK4args(&e, &a));
	assert_true(e.overflow);

	/* existing lock-owner: exist_lock_owner4 */
	memset(&a.locker, 0, sizeof(a.locker));
	a.locktype = READ_LT;
	a.reclaim = true;
	a.locker.new_lock_owner = false;
	a.locker.u.lock_owner.lock_stateid = some_stateid();
	a.locker.u.lock_owner.lock_stateid.seqid = 2;
	a.locker.u.lock_owner.lock_seqid = 0;
	len = CHECK(LOCK4args, &a, &b, out);
	assert_int_equal(len, LOCK_HEAD + 4 + 16 + 4);
	assert_false(b.locker.new_lock_owner);
	assert_true(b.reclaim);
	assert_int_equal(b.locker.u.lock_owner.lock_stateid.seqid, 2);
	/* the other arm would need 28 more bytes */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, LOCK_HEAD, 1);
	assert_false(DECODES(LOCK4args, out, len, &b));
	a.locktype = (enum nfs_lock_type4)0;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_LOCK4args(&e, &a));
	assert_true(e.overflow);

	/* LOCK4res: ok, denied, any other error */
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	r.u.resok4.lock_stateid = some_stateid();
	assert_int_equal(CHECK(LOCK4res, &r, &s, out), 20);
	assert_memory_equal(s.u.resok4.lock_stateid.other, r.u.resok4.lock_stateid.other, 12);
	memset(&r, 0, sizeof(r));
	r.status = NFS4ERR_DENIED;
	r.u.denied.offset = 0;
	r.u.denied.length = 100;
	r.u.denied.locktype = WRITE_LT;
	r.u.denied.owner = some_owner("other owner!"); /* 12 bytes, no padding */
	len = CHECK(LOCK4res, &r, &s, out);
	assert_int_equal(len, 4 + 8 + 8 + 4 + (8 + 4 + 12));
	assert_int_equal(s.status, NFS4ERR_DENIED);
	assert_int_equal(s.u.denied.length, 100);
	assert_int_equal(s.u.denied.locktype, WRITE_LT);
	DECODE_IN_PLACE(LOCK4res, out, len, &s);
	assert_true(xdr_opaque_eq(&s.u.denied.owner.owner, &r.u.denied.owner.owner));
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 4 + 16, 5);
	assert_false(DECODES(LOCK4res, out, len, &s));
	/* an owner length the remaining bytes cannot hold */
	xdr_enc_patch_u32(&e, 4 + 16, WRITE_LT);
	xdr_enc_patch_u32(&e, 4 + 16 + 4 + 8, 16);
	assert_false(DECODES(LOCK4res, out, len, &s));
	xdr_enc_patch_u32(&e, 4 + 16 + 4 + 8, 0xFFFFFFFF);
	assert_false(DECODES(LOCK4res, out, len, &s));
	r.status = NFS4ERR_LOCK_RANGE;
	assert_int_equal(CHECK(LOCK4res, &r, &s, out), 4);

	/* LOCKT */
	memset(&ta, 0, sizeof(ta));
	ta.locktype = READW_LT;
	ta.offset = 1;
	ta.length = 2;
	ta.owner = some_owner("lock id:1");
	assert_int_equal(CHECK(LOCKT4args, &ta, &tb, out), 4 + 8 + 8 + 24);
	assert_int_equal(tb.locktype, READW_LT);
	memset(&tr, 0, sizeof(tr));
	tr.status = NFS4ERR_DENIED;
	tr.u.denied.offset = 1;
	tr.u.denied.length = 2;
	tr.u.denied.locktype = READ_LT;
	tr.u.denied.owner = some_owner("x");
	assert_int_equal(CHECK(LOCKT4res, &tr, &ts, out), 4 + 8 + 8 + 4 + 8 + 4 + 4);
	assert_int_equal(ts.u.denied.owner.owner.len, 1);
	tr.status = NFS4_OK;
	assert_int_equal(CHECK(LOCKT4res, &tr, &ts, out), 4);
	tr.status = NFS4ERR_GRACE;
	assert_int_equal(CHECK(LOCKT4res, &tr, &ts, out), 4);

	/* LOCKU */
	memset(&ua, 0, sizeof(ua));
	ua.locktype = WRITE_LT;
	ua.seqid = 0;
	ua.lock_stateid = some_stateid();
	ua.offset = 0;
	ua.length = NFS4_UINT64_MAX;
	assert_int_equal(CHECK(LOCKU4args, &ua, &ub, out), 4 + 4 + 16 + 8 + 8);
	memset(&ur, 0, sizeof(ur));
	ur.status = NFS4_OK;
	ur.u.lock_stateid = some_stateid();
	assert_int_equal(CHECK(LOCKU4res, &ur, &us, out), 20);
	ur.status = NFS4ERR_BAD_STATEID;
	assert_int_equal(CHECK(LOCKU4res, &ur, &us, out), 4);
}

static void test_stateid_ops(void **state)
{
	struct stateid4 ids[3];
	enum nfsstat4 codes[3] = {NFS4_OK, NFS4ERR_BAD_STATEID, NFS4ERR_EXPIRED};
	struct TEST_STATEID4args a, b;
	struct TEST_STATEID4res r, s;
	struct FREE_STATEID4args fa, fb;
	struct FREE_STATEID4res fr, fs;
	struct DELEGRETURN4args da, db;
	struct DELEGRETURN4res dr, ds;
	struct DELEGPURGE4args pa, pb;
	struct DELEGPURGE4res pr, ps;
	struct RELEASE_LOCKOWNER4args la, lb;
	struct RELEASE_LOCKOWNER4res lr, ls;
	uint8_t out[BUF_MAX];
	struct xdr_enc e;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		ids[i] = some_stateid();
		ids[i].seqid = (uint32_t)i;
		ids[i].other[0] = (uint8_t)i;
	}
	memset(&a, 0, sizeof(a));
	a.ts_stateids.len = 3;
	a.ts_stateids.val = ids;
	len = CHECK(TEST_STATEID4args, &a, &b, out);
	assert_int_equal(len, 4 + 3 * 16);
	assert_int_equal(b.ts_stateids.len, 3);
	assert_int_equal(b.ts_stateids.val[2].seqid, 2);
	assert_int_equal(b.ts_stateids.val[2].other[0], 2);
	/* counts the bytes cannot hold */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 0, 4);
	assert_false(DECODES(TEST_STATEID4args, out, len, &b));
	xdr_enc_patch_u32(&e, 0, 0xFFFFFFFF);
	assert_false(DECODES(TEST_STATEID4args, out, len, &b));
	/* none */
	a.ts_stateids.len = 0;
	a.ts_stateids.val = NULL;
	assert_int_equal(CHECK(TEST_STATEID4args, &a, &b, out), 4);
	assert_int_equal(b.ts_stateids.len, 0);
	/* len != 0 with val == NULL */
	a.ts_stateids.len = 1;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_TEST_STATEID4args(&e, &a));
	assert_true(e.overflow);

	memset(&r, 0, sizeof(r));
	r.tsr_status = NFS4_OK;
	r.u.tsr_resok4.tsr_status_codes.len = 3;
	r.u.tsr_resok4.tsr_status_codes.val = codes;
	len = CHECK(TEST_STATEID4res, &r, &s, out);
	assert_int_equal(len, 4 + 4 + 3 * 4);
	assert_int_equal(s.u.tsr_resok4.tsr_status_codes.len, 3);
	assert_int_equal(s.u.tsr_resok4.tsr_status_codes.val[1], NFS4ERR_BAD_STATEID);
	assert_int_equal(s.u.tsr_resok4.tsr_status_codes.val[2], NFS4ERR_EXPIRED);
	/* a status code that is no nfsstat4 */
	xdr_enc_init(&e, out, sizeof(out));
	e.len = len;
	xdr_enc_patch_u32(&e, 4 + 4 + 4, 19);
	assert_false(DECODES(TEST_STATEID4res, out, len, &s));
	codes[1] = (enum nfsstat4)10073;
	xdr_enc_init(&e, out, sizeof(out));
	assert_false(xdr_enc_TEST_STATEID4res(&e, &r));
	assert_true(e.overflow);
	codes[1] = NFS4ERR_BAD_STATEID;
	r.tsr_status = NFS4ERR_BADXDR;
	assert_int_equal(CHECK(TEST_STATEID4res, &r, &s, out), 4);

	fa.fsa_stateid = some_stateid();
	assert_int_equal(CHECK(FREE_STATEID4args, &fa, &fb, out), 16);
	fr.fsr_status = NFS4ERR_LOCKS_HELD;
	assert_int_equal(CHECK(FREE_STATEID4res, &fr, &fs, out), 4);
	assert_int_equal(fs.fsr_status, NFS4ERR_LOCKS_HELD);

	da.deleg_stateid = some_stateid();
	assert_int_equal(CHECK(DELEGRETURN4args, &da, &db, out), 16);
	dr.status = NFS4_OK;
	assert_int_equal(CHECK(DELEGRETURN4res, &dr, &ds, out), 4);
	pa.clientid = 0x1122334455667788ull;
	assert_int_equal(CHECK(DELEGPURGE4args, &pa, &pb, out), 8);
	assert_int_equal(pb.clientid, 0x1122334455667788ull);
	pr.status = NFS4ERR_NOTSUPP;
	assert_int_equal(CHECK(DELEGPURGE4res, &pr, &ps, out), 4);

	la.lock_owner = some_owner("lock id:1");
	assert_int_equal(CHECK(RELEASE_LOCKOWNER4args, &la, &lb, out), 24);
	lr.status = NFS4ERR_NOTSUPP;
	assert_int_equal(CHECK(RELEASE_LOCKOWNER4res, &lr, &ls, out), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exchange_id_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchange_id_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_session_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authsys_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opnum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cb_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setattr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_link_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fh_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_res, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_downgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateid_ops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
