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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
