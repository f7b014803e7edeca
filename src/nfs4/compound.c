/*
 * The COMPOUND loop. Arguments are decoded one op at a time while executing
 * (decoding stops at the first failing op, as the RFC stops execution there),
 * and each result is encoded straight into the reply buffer.
 */
#include "nfs4/compound.h"
#include "nfs4/deleg.h"
#include "nfs4/deleg_prev.h"
#include "nfs4/stateid.h"

#include <string.h>

#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

typedef uint32_t (*nfs4_op_fn)(struct nfs4_compound *c, void *args, void *res);

enum nfs4_op_flags {
	/* May open a COMPOUND without SEQUENCE, if it is then the only op. */
	NFS4_OP_SOLO = 1 << 0,
};

/*
 * An operation: how to decode its arguments (NULL: it has none), how to
 * encode its <OP>4res (NULL: the handler appends its result body to c->res
 * itself, after the status the engine wrote), and the handler.
 */
struct nfs4_op {
	const char *name;
	bool (*decode)(struct xdr_dec *x, void *args);
	bool (*encode)(struct xdr_enc *x, const void *res);
	nfs4_op_fn fn;
	uint32_t flags;
	/* Bytes of its decoded arguments and of its <OP>4res: only those are zeroed per op. */
	size_t args_size, res_size;
};

/* Typed codec wrappers, so the table calls each generated codec with its own type. */
#define NFS4_OP_DECODE(op)                                  \
	static bool op##_decode(struct xdr_dec *x, void *a) \
	{                                                   \
		return xdr_dec_##op##4args(x, a);           \
	}
#define NFS4_OP_ENCODE(op)                                        \
	static bool op##_encode(struct xdr_enc *x, const void *r) \
	{                                                         \
		return xdr_enc_##op##4res(x, r);                  \
	}
#define NFS4_OP_CODECS(op) NFS4_OP_DECODE(op) NFS4_OP_ENCODE(op)

/* Arguments and <OP>4res both generated. */
#define NFS4_OP(num, op, handler, fl)      \
	[num] = {#op,                      \
		 op##_decode,              \
		 op##_encode,              \
		 handler,                  \
		 fl,                       \
		 sizeof(struct op##4args), \
		 sizeof(struct op##4res)}
/* No arguments. */
#define NFS4_OP_NOARGS(num, op, handler) \
	[num] = {#op, NULL, op##_encode, handler, 0, 0, sizeof(struct op##4res)}
/* The handler encodes its own result body. */
#define NFS4_OP_SELF(num, op, handler) \
	[num] = {#op, op##_decode, NULL, handler, 0, sizeof(struct op##4args), 0}

NFS4_OP_CODECS(EXCHANGE_ID)
NFS4_OP_CODECS(CREATE_SESSION)
NFS4_OP_CODECS(DESTROY_SESSION)
NFS4_OP_CODECS(DESTROY_CLIENTID)
NFS4_OP_CODECS(BIND_CONN_TO_SESSION)
NFS4_OP_CODECS(SEQUENCE)
NFS4_OP_CODECS(BACKCHANNEL_CTL)
NFS4_OP_CODECS(RECLAIM_COMPLETE)
NFS4_OP_CODECS(PUTFH)
NFS4_OP_ENCODE(PUTROOTFH)
NFS4_OP_ENCODE(PUTPUBFH)
NFS4_OP_ENCODE(GETFH)
NFS4_OP_ENCODE(SAVEFH)
NFS4_OP_ENCODE(RESTOREFH)
NFS4_OP_ENCODE(LOOKUPP)
NFS4_OP_ENCODE(READLINK)
NFS4_OP_CODECS(LOOKUP)
NFS4_OP_CODECS(SECINFO)
NFS4_OP_CODECS(SECINFO_NO_NAME)
NFS4_OP_DECODE(GETATTR)
NFS4_OP_CODECS(SETATTR)
NFS4_OP_CODECS(VERIFY)
NFS4_OP_CODECS(NVERIFY)
NFS4_OP_CODECS(ACCESS)
NFS4_OP_DECODE(READDIR)
NFS4_OP_CODECS(CREATE)
NFS4_OP_CODECS(REMOVE)
NFS4_OP_CODECS(RENAME)
NFS4_OP_CODECS(LINK)
NFS4_OP_DECODE(READ)
NFS4_OP_CODECS(WRITE)
NFS4_OP_CODECS(COMMIT)
NFS4_OP_CODECS(OPEN)
NFS4_OP_CODECS(CLOSE)
NFS4_OP_CODECS(OPEN_DOWNGRADE)
NFS4_OP_CODECS(LOCK)
NFS4_OP_CODECS(LOCKT)
NFS4_OP_CODECS(LOCKU)
NFS4_OP_CODECS(TEST_STATEID)
NFS4_OP_CODECS(FREE_STATEID)
NFS4_OP_CODECS(DELEGRETURN)
NFS4_OP_CODECS(DELEGPURGE)

/* Indexed by nfs_opnum4; ops of 4.1 without an entry answer NFS4ERR_NOTSUPP. */
static const struct nfs4_op nfs4_ops[OP_RECLAIM_COMPLETE + 1] = {
	NFS4_OP(OP_EXCHANGE_ID, EXCHANGE_ID, nfs4_op_exchange_id, NFS4_OP_SOLO),
	NFS4_OP(OP_CREATE_SESSION, CREATE_SESSION, nfs4_op_create_session, NFS4_OP_SOLO),
	NFS4_OP(OP_DESTROY_SESSION, DESTROY_SESSION, nfs4_op_destroy_session, NFS4_OP_SOLO),
	NFS4_OP(OP_DESTROY_CLIENTID, DESTROY_CLIENTID, nfs4_op_destroy_clientid, NFS4_OP_SOLO),
	NFS4_OP(OP_BIND_CONN_TO_SESSION, BIND_CONN_TO_SESSION, nfs4_op_bind_conn_to_session,
		NFS4_OP_SOLO),
	NFS4_OP(OP_SEQUENCE, SEQUENCE, nfs4_op_sequence, 0),
	NFS4_OP(OP_BACKCHANNEL_CTL, BACKCHANNEL_CTL, nfs4_op_backchannel_ctl, 0),
	NFS4_OP(OP_RECLAIM_COMPLETE, RECLAIM_COMPLETE, nfs4_op_reclaim_complete, 0),
	NFS4_OP(OP_PUTFH, PUTFH, nfs4_op_putfh, 0),
	NFS4_OP_NOARGS(OP_PUTROOTFH, PUTROOTFH, nfs4_op_putrootfh),
	NFS4_OP_NOARGS(OP_PUTPUBFH, PUTPUBFH, nfs4_op_putrootfh),
	NFS4_OP_NOARGS(OP_GETFH, GETFH, nfs4_op_getfh),
	NFS4_OP_NOARGS(OP_SAVEFH, SAVEFH, nfs4_op_savefh),
	NFS4_OP_NOARGS(OP_RESTOREFH, RESTOREFH, nfs4_op_restorefh),
	NFS4_OP(OP_LOOKUP, LOOKUP, nfs4_op_lookup, 0),
	NFS4_OP_NOARGS(OP_LOOKUPP, LOOKUPP, nfs4_op_lookupp),
	NFS4_OP(OP_SECINFO, SECINFO, nfs4_op_secinfo, 0),
	/* Its argument is an enum, its result a typedef: no struct tags to take sizes of. */
	[OP_SECINFO_NO_NAME] = {"SECINFO_NO_NAME", SECINFO_NO_NAME_decode, SECINFO_NO_NAME_encode,
				nfs4_op_secinfo_no_name, 0, sizeof(SECINFO_NO_NAME4args),
				sizeof(SECINFO_NO_NAME4res)},
	NFS4_OP_SELF(OP_GETATTR, GETATTR, nfs4_op_getattr),
	NFS4_OP(OP_SETATTR, SETATTR, nfs4_op_setattr, 0),
	NFS4_OP(OP_VERIFY, VERIFY, nfs4_op_verify, 0),
	NFS4_OP(OP_NVERIFY, NVERIFY, nfs4_op_nverify, 0),
	NFS4_OP(OP_ACCESS, ACCESS, nfs4_op_access, 0),
	NFS4_OP_SELF(OP_READDIR, READDIR, nfs4_op_readdir),
	NFS4_OP_NOARGS(OP_READLINK, READLINK, nfs4_op_readlink),
	NFS4_OP(OP_CREATE, CREATE, nfs4_op_create, 0),
	NFS4_OP(OP_REMOVE, REMOVE, nfs4_op_remove, 0),
	NFS4_OP(OP_RENAME, RENAME, nfs4_op_rename, 0),
	NFS4_OP(OP_LINK, LINK, nfs4_op_link, 0),
	NFS4_OP_SELF(OP_READ, READ, nfs4_op_read),
	NFS4_OP(OP_WRITE, WRITE, nfs4_op_write, 0),
	NFS4_OP(OP_COMMIT, COMMIT, nfs4_op_commit, 0),
	NFS4_OP(OP_OPEN, OPEN, nfs4_op_open, 0),
	NFS4_OP(OP_CLOSE, CLOSE, nfs4_op_close, 0),
	NFS4_OP(OP_OPEN_DOWNGRADE, OPEN_DOWNGRADE, nfs4_op_open_downgrade, 0),
	NFS4_OP(OP_LOCK, LOCK, nfs4_op_lock, 0),
	NFS4_OP(OP_LOCKT, LOCKT, nfs4_op_lockt, 0),
	NFS4_OP(OP_LOCKU, LOCKU, nfs4_op_locku, 0),
	NFS4_OP(OP_TEST_STATEID, TEST_STATEID, nfs4_op_test_stateid, 0),
	NFS4_OP(OP_FREE_STATEID, FREE_STATEID, nfs4_op_free_stateid, 0),
	NFS4_OP(OP_DELEGRETURN, DELEGRETURN, nfs4_op_delegreturn, 0),
	NFS4_OP(OP_DELEGPURGE, DELEGPURGE, nfs4_op_delegpurge, 0),
};

const char *nfs4_op_name(uint32_t opnum)
{
	return opnum < sizeof(nfs4_ops) / sizeof(nfs4_ops[0]) && nfs4_ops[opnum].fn
		       ? nfs4_ops[opnum].name
		       : NULL;
}

/*
 * Runs op's handler. It is counted, with its latency (admin.h), once the op's
 * result is encoded: nfs4_count_op().
 */
static uint32_t nfs4_call_op(struct nfs4_compound *c, const struct nfs4_op *op, uint32_t opnum,
			     void *args, void *res)
{
	uint32_t status = op->fn(c, args, res);

	c->called_opnum = opnum;
	c->called_status = status;
	c->called = true;
	return status;
}

/*
 * Counts the op just run, if its handler ran. Its latency runs from the end
 * of the op before (or the COMPOUND's start) to now, so it includes its
 * decode and encode, and one clock read per op serves as the end of one and
 * the start of the next.
 */
static void nfs4_count_op(struct nfs4_compound *c)
{
	uint64_t now;

	if (!c->called)
		return; /* refused before its handler: not counted, and the COMPOUND ends */
	c->called = false;
	now = time_mono_ns();
	nfs4_stats_op(&c->srv->stats, c->called_opnum, c->called_status, now - c->op_start_ns);
	c->op_start_ns = now;
}

/* Per-op scratch for decoded arguments and results, on the worker's stack. */
union nfs4_op_args {
	struct EXCHANGE_ID4args exchange_id;
	struct CREATE_SESSION4args create_session;
	struct DESTROY_SESSION4args destroy_session;
	struct DESTROY_CLIENTID4args destroy_clientid;
	struct BIND_CONN_TO_SESSION4args bind_conn;
	struct SEQUENCE4args sequence;
	struct BACKCHANNEL_CTL4args backchannel_ctl;
	struct RECLAIM_COMPLETE4args reclaim_complete;
	struct PUTFH4args putfh;
	struct LOOKUP4args lookup;
	struct SECINFO4args secinfo;
	SECINFO_NO_NAME4args secinfo_no_name;
	struct GETATTR4args getattr;
	struct SETATTR4args setattr;
	struct VERIFY4args verify;
	struct NVERIFY4args nverify;
	struct ACCESS4args access;
	struct READDIR4args readdir;
	struct CREATE4args create;
	struct REMOVE4args remove;
	struct RENAME4args rename;
	struct LINK4args link;
	struct READ4args read;
	struct WRITE4args write;
	struct COMMIT4args commit;
	struct OPEN4args open;
	struct CLOSE4args close;
	struct OPEN_DOWNGRADE4args open_downgrade;
	struct LOCK4args lock;
	struct LOCKT4args lockt;
	struct LOCKU4args locku;
	struct TEST_STATEID4args test_stateid;
	struct FREE_STATEID4args free_stateid;
	struct DELEGRETURN4args delegreturn;
	struct DELEGPURGE4args delegpurge;
};

union nfs4_op_res {
	struct EXCHANGE_ID4res exchange_id;
	struct CREATE_SESSION4res create_session;
	struct DESTROY_SESSION4res destroy_session;
	struct DESTROY_CLIENTID4res destroy_clientid;
	struct BIND_CONN_TO_SESSION4res bind_conn;
	struct SEQUENCE4res sequence;
	struct BACKCHANNEL_CTL4res backchannel_ctl;
	struct RECLAIM_COMPLETE4res reclaim_complete;
	struct PUTFH4res putfh;
	struct GETFH4res getfh;
	struct LOOKUP4res lookup;
	struct SECINFO4res secinfo;
	struct SETATTR4res setattr;
	struct ACCESS4res access;
	struct READLINK4res readlink;
	struct CREATE4res create;
	struct REMOVE4res remove;
	struct RENAME4res rename;
	struct LINK4res link;
	struct WRITE4res write;
	struct COMMIT4res commit;
	struct OPEN4res open;
	struct CLOSE4res close;
	struct OPEN_DOWNGRADE4res open_downgrade;
	struct LOCK4res lock;
	struct LOCKT4res lockt;
	struct LOCKU4res locku;
	struct TEST_STATEID4res test_stateid;
	struct FREE_STATEID4res free_stateid;
	struct DELEGRETURN4res delegreturn;
	struct DELEGPURGE4res delegpurge;
};

/* Bytes kept free while an op encodes, so a result that does not fit can be replaced by an error.
 */
#define NFS4_ERR_RESULT_BYTES 8

static bool nfs4_opnum_valid(uint32_t opnum)
{
	return opnum >= OP_ACCESS && opnum <= OP_RECLAIM_COMPLETE;
}

/* Where an op may stand (RFC 8881 §2.10.6.2, §18.46.3, and each solo op's description). */
static uint32_t nfs4_check_position(const struct nfs4_compound *c, uint32_t opnum,
				    const struct nfs4_op *op)
{
	if (opnum == OP_SEQUENCE)
		return c->opidx == 0 ? NFS4_OK : NFS4ERR_SEQUENCE_POS;
	if (c->opidx > 0)
		return NFS4_OK; /* op 0 was SEQUENCE: a solo op would have ended the COMPOUND */
	if (op && (op->flags & NFS4_OP_SOLO))
		return c->numops == 1 ? NFS4_OK : NFS4ERR_NOT_ONLY_OP;
	return NFS4ERR_OP_NOT_IN_SESSION;
}

static void nfs4_encode_op_status(struct xdr_enc *res, uint32_t opnum, uint32_t status)
{
	xdr_enc_u32(res, opnum);
	xdr_enc_u32(res, status);
}

/* The error an op gets when its result does not fit the reply. */
static uint32_t nfs4_too_big_status(const struct nfs4_compound *c)
{
	return c->cachethis ? NFS4ERR_REP_TOO_BIG_TO_CACHE : NFS4ERR_REP_TOO_BIG;
}

/* An op that appends its own result body after the status written here. */
static uint32_t nfs4_run_self_encoding(struct nfs4_compound *c, const struct nfs4_op *op,
				       uint32_t opnum, void *args)
{
	struct xdr_enc *res = c->res;
	size_t op_start = res->len;
	uint32_t status;

	res->cap -= NFS4_ERR_RESULT_BYTES;
	xdr_enc_u32(res, opnum);
	xdr_enc_u32(res, NFS4_OK);
	status = res->overflow ? nfs4_too_big_status(c) : nfs4_call_op(c, op, opnum, args, NULL);
	res->cap += NFS4_ERR_RESULT_BYTES;
	if (res->overflow) {
		res->overflow = false;
		status = nfs4_too_big_status(c);
	}
	if (status != NFS4_OK) {
		/* An error result has no body: drop whatever the op had appended. */
		res->len = op_start;
		nfs4_encode_op_status(res, opnum, status);
		return status;
	}
	return NFS4_OK;
}

/* Runs op c->opidx: decodes its arguments, executes it and encodes its result. */
static uint32_t nfs4_run_op(struct nfs4_compound *c, struct xdr_dec *args, struct xdr_enc *res)
{
	union nfs4_op_args a;
	union nfs4_op_res r;
	const struct nfs4_op *op;
	uint32_t opnum, status;
	size_t op_start = res->len;

	if (!xdr_dec_u32(args, &opnum)) {
		/* The COMPOUND promised more ops than it carries. */
		nfs4_encode_op_status(res, OP_ILLEGAL, NFS4ERR_BADXDR);
		return NFS4ERR_BADXDR;
	}
	if (!nfs4_opnum_valid(opnum)) {
		nfs4_encode_op_status(res, OP_ILLEGAL, NFS4ERR_OP_ILLEGAL);
		return NFS4ERR_OP_ILLEGAL;
	}
	op = nfs4_ops[opnum].fn ? &nfs4_ops[opnum] : NULL;
	status = nfs4_check_position(c, opnum, op);
	if (status == NFS4_OK && !op)
		status = NFS4ERR_NOTSUPP;
	if (status != NFS4_OK) {
		nfs4_encode_op_status(res, opnum, status);
		return status;
	}

	/* Only what this op's codecs and handler use (a whole union costs a rep stos each). */
	memset(&a, 0, op->args_size);
	memset(&r, 0, op->res_size);
	if (op->decode && !op->decode(args, &a)) {
		nfs4_encode_op_status(res, opnum, NFS4ERR_BADXDR);
		return NFS4ERR_BADXDR;
	}
	if (!op->encode)
		return nfs4_run_self_encoding(c, op, opnum, &a);
	status = nfs4_call_op(c, op, opnum, &a, &r);
	if (c->replay == NFS4_SLOT_REPLAY)
		return status; /* the cached reply replaces everything */

	/* Every <OP>4res starts with its nfsstat4, the union's discriminant. */
	*(uint32_t *)&r = status;
	res->cap -= NFS4_ERR_RESULT_BYTES;
	if (!xdr_enc_u32(res, opnum) || !op->encode(res, &r)) {
		res->len = op_start;
		res->overflow = false;
		status = nfs4_too_big_status(c);
		res->cap += NFS4_ERR_RESULT_BYTES;
		nfs4_encode_op_status(res, opnum, status);
		return status;
	}
	res->cap += NFS4_ERR_RESULT_BYTES;
	return status;
}

/* Copies the cached reply of a retried request over what was encoded so far. */
static void nfs4_replay_cached(struct nfs4_compound *c, struct xdr_enc *res)
{
	struct nfs4_session *ses = c->session;
	struct nfs4_slot *slot = &ses->slots.slots[c->slotid];
	uint8_t *p;

	res->len = c->reply_start;
	pthread_mutex_lock(&ses->lock);
	p = xdr_enc_reserve(res, slot->reply_len);
	if (p)
		memcpy(p, slot->reply, slot->reply_len);
	pthread_mutex_unlock(&ses->lock);
}

/*
 * Ends the slot's request: the whole COMPOUND reply is kept when the client
 * asked for it, and always for a lone SEQUENCE (it costs nothing and RFC 8881
 * §2.10.6.1.3 lets a retry of it be answered in full).
 */
static void nfs4_release_slot(struct nfs4_compound *c, struct xdr_enc *res)
{
	struct nfs4_session *ses = c->session;
	bool cache = c->cachethis || c->numops == 1;

	pthread_mutex_lock(&ses->lock);
	nfs4_slot_end(&ses->slots, c->slotid, res->base + c->reply_start, res->len - c->reply_start,
		      cache);
	pthread_mutex_unlock(&ses->lock);
	c->slot_held = false;
}

enum rpc_accept_stat nfs4_compound_dispatch(void *ctx, struct rpc_call *call, struct xdr_enc *res)
{
	struct nfs4_compound c = {.srv = ctx, .call = call, .res = res, .replay = NFS4_SLOT_NEW};
	struct xdr_dec *args = &call->args;
	struct xdr_opaque tag;
	uint32_t minorversion, status = NFS4_OK, done = 0;
	size_t numops_pos;

	if (call->proc != 1)
		return RPC_PROC_UNAVAIL;
	c.request_len = xdr_dec_remaining(args);
	if (!xdr_dec_opaque(args, &tag, NFS4_MAX_TAG) || !xdr_dec_u32(args, &minorversion) ||
	    !xdr_dec_u32(args, &c.numops))
		return RPC_GARBAGE_ARGS;
	c.digest_seed = hash_bytes(tag.data, tag.len, c.numops);

	c.reply_start = res->len;
	xdr_enc_u32(res, NFS4_OK);
	xdr_enc_opaque(res, &tag, NFS4_MAX_TAG);
	numops_pos = res->len;
	xdr_enc_u32(res, 0);
	if (res->overflow)
		return RPC_SYSTEM_ERR;

	if (minorversion != 1)
		status = NFS4ERR_MINOR_VERS_MISMATCH;
	else if (c.numops > NFS4_MAX_OPS_HARD)
		status = NFS4ERR_RESOURCE;

	/* Export pointers and rules stay valid across a reload until the end. */
	rcu_read_begin();
	c.tab = rcu_fetch(c.srv->table);
	be_request_begin();
	c.op_start_ns = time_mono_ns();
	for (c.opidx = 0; status == NFS4_OK && c.opidx < c.numops; c.opidx++) {
		status = nfs4_run_op(&c, args, res);
		nfs4_count_op(&c);
		done++;
		if (c.replay == NFS4_SLOT_REPLAY)
			break;
		if (c.replay == NFS4_SLOT_REPLAY_UNCACHED) {
			/* SEQUENCE succeeded; the op after it says the reply was not kept. */
			uint32_t opnum = OP_ILLEGAL;

			xdr_dec_u32(args, &opnum);
			status = NFS4ERR_RETRY_UNCACHED_REP;
			nfs4_encode_op_status(res, opnum, status);
			done++;
			break;
		}
	}

	if (c.replay == NFS4_SLOT_REPLAY) {
		nfs4_replay_cached(&c, res);
	} else {
		xdr_enc_patch_u32(res, c.reply_start, status);
		xdr_enc_patch_u32(res, numops_pos, done);
		if (c.slot_held)
			nfs4_release_slot(&c, res);
	}
	be_request_end();
	rcu_read_end();
	if (c.session)
		nfs4_session_put(c.session);
	return res->overflow ? RPC_SYSTEM_ERR : RPC_SUCCESS;
}
