/* rpc_msg_process() on crafted records: every reply the rpc layer makes itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/msg.h"
#include "rpc/record.h"

#define PROG 400100
#define OTHER_PROG 400200

enum { PROC_NULL, PROC_ECHO, PROC_STATUS, NPROCS };

static struct rpc_cred last_cred;
static int dispatched;

/* PROC_ECHO: returns its u32 argument plus one. PROC_STATUS: returns the accept_stat it is given,
 * after writing junk results (which the rpc layer must discard); 1000 overflows the reply. */
static enum rpc_accept_stat test_dispatch(void *ctx, struct rpc_call *call, struct xdr_enc *res)
{
	uint32_t v;

	dispatched++;
	last_cred = call->cred;
	if (!xdr_dec_u32(&call->args, &v))
		return RPC_GARBAGE_ARGS;
	if (call->proc == PROC_ECHO) {
		xdr_enc_u32(res, v + 1);
		return RPC_SUCCESS;
	}
	xdr_enc_u32(res, 0xdeadbeef);
	if (v == 1000) {
		while (xdr_enc_u32(res, 0))
			;
		return RPC_SUCCESS;
	}
	return (enum rpc_accept_stat)v;
}

static const struct rpc_program progs[] = {
	{PROG, 3, 4, NPROCS, 1u << RPC_AUTH_SYS, test_dispatch, NULL, NULL},
	{PROG, 7, 7, NPROCS, 1u << RPC_AUTH_SYS, test_dispatch, NULL, NULL},
	{OTHER_PROG, 1, 1, NPROCS, 1u << RPC_AUTH_NONE | 1u << RPC_AUTH_SYS, test_dispatch, NULL,
	 NULL},
};

struct call {
	uint32_t xid, mtype, rpcvers, prog, vers, proc;
	uint32_t cflavor;
	const void *cbody;
	uint32_t clen;
	uint32_t vflavor;
	const void *vbody;
	uint32_t vlen;
	bool has_arg;
	uint32_t arg;
};

static struct call base_call(uint32_t proc)
{
	struct call c = {.xid = 0x11223344,
			 .mtype = RPC_MSG_CALL,
			 .rpcvers = 2,
			 .prog = PROG,
			 .vers = 4,
			 .proc = proc,
			 .cflavor = RPC_AUTH_NONE};

	return c;
}

static uint8_t sys_body[512];

/* An AUTH_SYS body: stamp 7, machinename of namelen 'm's, uid 1000, gid 100, ngids gids 1.. */
static uint32_t make_sys(uint32_t namelen, uint32_t ngids)
{
	struct xdr_enc e;
	char name[300];

	memset(name, 'm', sizeof(name));
	xdr_enc_init(&e, sys_body, sizeof(sys_body));
	xdr_enc_u32(&e, 7);
	xdr_enc_u32(&e, namelen);
	xdr_enc_opaque_fixed(&e, name, namelen);
	xdr_enc_u32(&e, 1000);
	xdr_enc_u32(&e, 100);
	xdr_enc_u32(&e, ngids);
	for (uint32_t i = 0; i < ngids; i++)
		xdr_enc_u32(&e, i + 1);
	assert_false(e.overflow);
	return (uint32_t)e.len;
}

static size_t build(uint8_t *buf, size_t cap, const struct call *c)
{
	struct xdr_enc e;

	xdr_enc_init(&e, buf, cap);
	xdr_enc_u32(&e, c->xid);
	xdr_enc_u32(&e, c->mtype);
	xdr_enc_u32(&e, c->rpcvers);
	xdr_enc_u32(&e, c->prog);
	xdr_enc_u32(&e, c->vers);
	xdr_enc_u32(&e, c->proc);
	xdr_enc_u32(&e, c->cflavor);
	xdr_enc_u32(&e, c->clen);
	xdr_enc_opaque_fixed(&e, c->cbody, c->clen);
	xdr_enc_u32(&e, c->vflavor);
	xdr_enc_u32(&e, c->vlen);
	xdr_enc_opaque_fixed(&e, c->vbody, c->vlen);
	if (c->has_arg)
		xdr_enc_u32(&e, c->arg);
	assert_false(e.overflow);
	return e.len;
}

static uint8_t replybuf[4096];
static struct xdr_enc reply;

static enum rpc_verdict run_raw(const uint8_t *rec, size_t len)
{
	struct arena a;
	enum rpc_verdict v;
	uint32_t xid;

	arena_init(&a, XDR_ARENA_LIMIT);
	xdr_enc_init(&reply, replybuf, sizeof(replybuf));
	v = rpc_msg_process(progs, 3, NULL, rec, len, NULL, &a, &reply, &xid);
	arena_reset(&a);
	return v;
}

static enum rpc_verdict run(const struct call *c)
{
	uint8_t rec[1024];

	return run_raw(rec, build(rec, sizeof(rec), c));
}

static uint32_t word(size_t i)
{
	return xdr_get_be32(replybuf + 4 * i);
}

/* Checks the record mark and the reply words (after the mark) against want. */
static void expect_words(const uint32_t *want, size_t n)
{
	assert_int_equal(reply.len, 4 + 4 * n);
	assert_int_equal(word(0), RPC_RECORD_LAST | (uint32_t)(4 * n));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(word(1 + i), want[i]);
}

#define EXPECT(...)                                           \
	do {                                                  \
		const uint32_t w_[] = {__VA_ARGS__};          \
		expect_words(w_, sizeof(w_) / sizeof(w_[0])); \
	} while (0)

#define XID 0x11223344
#define ACCEPTED(stat) XID, RPC_MSG_REPLY, RPC_MSG_ACCEPTED, RPC_AUTH_NONE, 0, stat
#define DENIED XID, RPC_MSG_REPLY, RPC_MSG_DENIED

static void test_null_proc(void **state)
{
	struct call c = base_call(PROC_NULL);

	dispatched = 0;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS));
	assert_int_equal(dispatched, 0);
	/* NULL is answered for AUTH_NONE even when the program wants AUTH_SYS. */
	c.vers = 7;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS));
}

static void test_rpc_mismatch(void **state)
{
	struct call c = base_call(PROC_NULL);

	c.rpcvers = 3;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_MISMATCH, 2, 2);
	c.rpcvers = 1;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_MISMATCH, 2, 2);
}

static void test_auth_sys_decoded(void **state)
{
	struct call c = base_call(PROC_ECHO);

	c.cflavor = RPC_AUTH_SYS;
	c.cbody = sys_body;
	c.clen = make_sys(255, 16);
	c.has_arg = true;
	c.arg = 41;
	dispatched = 0;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS), 42);
	assert_int_equal(dispatched, 1);
	assert_int_equal(last_cred.flavor, RPC_AUTH_SYS);
	assert_int_equal(last_cred.stamp, 7);
	assert_int_equal(last_cred.uid, 1000);
	assert_int_equal(last_cred.gid, 100);
	assert_int_equal(last_cred.ngids, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(last_cred.gids[i], i + 1);
	assert_int_equal(strlen(last_cred.machinename), 255);
	assert_int_equal(last_cred.machinename[0], 'm');

	/* AUTH_NONE on a program accepting it: nobody. */
	c = base_call(PROC_ECHO);
	c.prog = OTHER_PROG;
	c.vers = 1;
	c.has_arg = true;
	c.arg = 1;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS), 2);
	assert_int_equal(last_cred.flavor, RPC_AUTH_NONE);
	assert_int_equal(last_cred.uid, 65534);
	assert_int_equal(last_cred.gid, 65534);
}

static void expect_badcred(struct call *c)
{
	dispatched = 0;
	assert_int_equal(run(c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADCRED);
	assert_int_equal(dispatched, 0);
}

static void test_badcred(void **state)
{
	struct call c = base_call(PROC_ECHO);
	uint32_t len;

	c.cflavor = RPC_AUTH_SYS;
	c.cbody = sys_body;
	c.has_arg = true;
	/* machinename of 256 */
	c.clen = make_sys(256, 0);
	expect_badcred(&c);
	/* 17 gids */
	c.clen = make_sys(10, 17);
	expect_badcred(&c);
	/* every truncation of a valid body, and one trailing word */
	len = make_sys(10, 3);
	for (uint32_t l = 0; l < len; l += 4) {
		c.clen = l;
		expect_badcred(&c);
	}
	c.clen = len + 4;
	expect_badcred(&c);
	/* body over 400 bytes */
	c.clen = 404;
	expect_badcred(&c);
	/* AUTH_NONE with a body */
	c.cflavor = RPC_AUTH_NONE;
	c.clen = 4;
	expect_badcred(&c);
	/* flavors we do not implement, even on NULL */
	c = base_call(PROC_NULL);
	c.cbody = sys_body;
	c.clen = 8;
	memset(sys_body, 0, 8);
	c.cflavor = RPC_RPCSEC_GSS;
	expect_badcred(&c);
	c.cflavor = RPC_AUTH_SHORT;
	expect_badcred(&c);
	c.cflavor = RPC_AUTH_DH;
	expect_badcred(&c);
	c.cflavor = 390003;
	expect_badcred(&c);
	c.cflavor = 0xffffffff;
	expect_badcred(&c);
}

static void test_tooweak(void **state)
{
	struct call c = base_call(PROC_ECHO);

	c.has_arg = true;
	dispatched = 0;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_TOOWEAK);
	assert_int_equal(dispatched, 0);
}

static void test_badverf(void **state)
{
	struct call c = base_call(PROC_NULL);
	uint8_t body[8] = {0};

	c.vflavor = RPC_AUTH_SYS;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADVERF);
	c.vflavor = RPC_AUTH_NONE;
	c.vbody = body;
	c.vlen = 8;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADVERF);
	c.vflavor = RPC_RPCSEC_GSS;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADVERF);
}

static void test_prog_errors(void **state)
{
	struct call c = base_call(PROC_NULL);

	c.prog = 12345;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_PROG_UNAVAIL));

	/* Registered 3..4 and 7..7: the mismatch reports 3..7. */
	c = base_call(PROC_NULL);
	c.vers = 5;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_PROG_MISMATCH), 3, 7);
	c.vers = 2;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_PROG_MISMATCH), 3, 7);
	c.vers = 3;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS));

	c = base_call(NPROCS);
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_PROC_UNAVAIL));
	c.proc = 0xffffffff;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_PROC_UNAVAIL));
}

static void test_dispatcher_errors(void **state)
{
	struct call c = base_call(PROC_STATUS);

	c.cflavor = RPC_AUTH_SYS;
	c.cbody = sys_body;
	c.clen = make_sys(4, 0);
	/* No argument: the dispatcher says GARBAGE_ARGS. */
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_GARBAGE_ARGS));
	c.has_arg = true;
	c.arg = RPC_GARBAGE_ARGS;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_GARBAGE_ARGS));
	c.arg = RPC_SYSTEM_ERR;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SYSTEM_ERR));
	/* A status a dispatcher may not return becomes SYSTEM_ERR. */
	c.arg = RPC_PROG_MISMATCH;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SYSTEM_ERR));
	/* Results larger than the reply buffer. */
	c.arg = 1000;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SYSTEM_ERR));
	c.arg = RPC_SUCCESS;
	assert_int_equal(run(&c), RPC_VERDICT_SEND);
	EXPECT(ACCEPTED(RPC_SUCCESS), 0xdeadbeef);
}

static void test_reply_and_drop(void **state)
{
	uint8_t rec[16] = {0};
	struct arena a;
	uint32_t xid = 0;

	xdr_put_be32(rec, 0xabcd);
	xdr_put_be32(rec + 4, RPC_MSG_REPLY);
	arena_init(&a, XDR_ARENA_LIMIT);
	xdr_enc_init(&reply, replybuf, sizeof(replybuf));
	assert_int_equal(rpc_msg_process(progs, 3, NULL, rec, 16, NULL, &a, &reply, &xid),
			 RPC_VERDICT_REPLY);
	assert_int_equal(xid, 0xabcd);
	assert_int_equal(rpc_msg_process(progs, 3, NULL, rec, 8, NULL, &a, &reply, NULL),
			 RPC_VERDICT_REPLY);
	/* Unknown msg_type, and records without room for xid + msg_type. */
	xdr_put_be32(rec + 4, 2);
	assert_int_equal(run_raw(rec, 16), RPC_VERDICT_DROP);
	for (size_t l = 0; l < 8; l++)
		assert_int_equal(run_raw(rec, l), RPC_VERDICT_DROP);
	/* A reply buffer too small for any reply. */
	{
		struct call c = base_call(PROC_NULL);
		uint8_t call[128], small[20];
		size_t clen = build(call, sizeof(call), &c);

		xdr_enc_init(&reply, small, sizeof(small));
		assert_int_equal(
			rpc_msg_process(progs, 3, NULL, call, clen, NULL, &a, &reply, NULL),
			RPC_VERDICT_DROP);
	}
	arena_reset(&a);
}

/* Every truncation of a valid AUTH_SYS call: the exact reply at each length. */
static void test_truncated(void **state)
{
	struct call c = base_call(PROC_ECHO);
	uint8_t rec[1024];
	size_t len, cred_end, verf_end;

	c.cflavor = RPC_AUTH_SYS;
	c.cbody = sys_body;
	c.clen = make_sys(9, 2);
	c.has_arg = true;
	c.arg = 5;
	len = build(rec, sizeof(rec), &c);
	cred_end = 6 * 4 + 4 + 4 + XDR_PAD(c.clen);
	verf_end = cred_end + 8;
	assert_int_equal(len, verf_end + 4);
	for (size_t l = 0; l <= len; l++) {
		enum rpc_verdict v = run_raw(rec, l);

		if (l < 8) {
			assert_int_equal(v, RPC_VERDICT_DROP);
			continue;
		}
		assert_int_equal(v, RPC_VERDICT_SEND);
		assert_int_equal(word(1), XID);
		assert_int_equal(word(2), RPC_MSG_REPLY);
		if (l < cred_end) {
			EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADCRED);
		} else if (l < verf_end) {
			EXPECT(DENIED, RPC_AUTH_ERROR, RPC_AUTH_BADVERF);
		} else if (l < len) {
			EXPECT(ACCEPTED(RPC_GARBAGE_ARGS));
		} else {
			EXPECT(ACCEPTED(RPC_SUCCESS), 6);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_proc),	 cmocka_unit_test(test_rpc_mismatch),
		cmocka_unit_test(test_auth_sys_decoded), cmocka_unit_test(test_badcred),
		cmocka_unit_test(test_tooweak),		 cmocka_unit_test(test_badverf),
		cmocka_unit_test(test_prog_errors),	 cmocka_unit_test(test_dispatcher_errors),
		cmocka_unit_test(test_reply_and_drop),	 cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
