/*
 * The COMPOUND loop. Arguments are decoded one op at a time while executing
 * (decoding stops at the first failing op, as the RFC stops execution there),
 * and each result is encoded straight into the reply buffer.
 */
#include "nfs4/compound.h"

#include <string.h>

#include "util/hash.h"
#include "util/log.h"

typedef uint32_t (*nfs4_op_fn)(struct nfs4_compound *c, void *args, void *res);

enum nfs4_op_flags {
	/* May open a COMPOUND without SEQUENCE, if it is then the only op. */
	NFS4_OP_SOLO = 1 << 0,
};

struct nfs4_op {
	const char *name;
	size_t args_size;
	size_t res_size;
	bool (*decode)(struct xdr_dec *x, void *args);
	bool (*encode)(struct xdr_enc *x, const void *res); /* the whole <OP>4res, status first */
	nfs4_op_fn fn;
	uint32_t flags;
};

/* Typed codec wrappers, so the table calls each generated codec with its own type. */
#define NFS4_OP_CODECS(op)                                        \
	static bool op##_decode(struct xdr_dec *x, void *a)       \
	{                                                         \
		return xdr_dec_##op##4args(x, a);                 \
	}                                                         \
	static bool op##_encode(struct xdr_enc *x, const void *r) \
	{                                                         \
		return xdr_enc_##op##4res(x, r);                  \
	}
#define NFS4_OP_ENTRY(num, op, handler, fl) \
	[num] = {#op,                       \
		 sizeof(struct op##4args),  \
		 sizeof(struct op##4res),   \
		 op##_decode,               \
		 op##_encode,               \
		 handler,                   \
		 fl}

NFS4_OP_CODECS(EXCHANGE_ID)
NFS4_OP_CODECS(CREATE_SESSION)
NFS4_OP_CODECS(DESTROY_SESSION)
NFS4_OP_CODECS(DESTROY_CLIENTID)
NFS4_OP_CODECS(BIND_CONN_TO_SESSION)
NFS4_OP_CODECS(SEQUENCE)
NFS4_OP_CODECS(RECLAIM_COMPLETE)

/* Indexed by nfs_opnum4; ops of 4.1 without an entry answer NFS4ERR_NOTSUPP. */
static const struct nfs4_op nfs4_ops[OP_RECLAIM_COMPLETE + 1] = {
	NFS4_OP_ENTRY(OP_EXCHANGE_ID, EXCHANGE_ID, nfs4_op_exchange_id, NFS4_OP_SOLO),
	NFS4_OP_ENTRY(OP_CREATE_SESSION, CREATE_SESSION, nfs4_op_create_session, NFS4_OP_SOLO),
	NFS4_OP_ENTRY(OP_DESTROY_SESSION, DESTROY_SESSION, nfs4_op_destroy_session, NFS4_OP_SOLO),
	NFS4_OP_ENTRY(OP_DESTROY_CLIENTID, DESTROY_CLIENTID, nfs4_op_destroy_clientid,
		      NFS4_OP_SOLO),
	NFS4_OP_ENTRY(OP_BIND_CONN_TO_SESSION, BIND_CONN_TO_SESSION, nfs4_op_bind_conn_to_session,
		      NFS4_OP_SOLO),
	NFS4_OP_ENTRY(OP_SEQUENCE, SEQUENCE, nfs4_op_sequence, 0),
	NFS4_OP_ENTRY(OP_RECLAIM_COMPLETE, RECLAIM_COMPLETE, nfs4_op_reclaim_complete, 0),
};

/* Per-op scratch for decoded arguments and results, on the worker's stack. */
union nfs4_op_args {
	struct EXCHANGE_ID4args exchange_id;
	struct CREATE_SESSION4args create_session;
	struct DESTROY_SESSION4args destroy_session;
	struct DESTROY_CLIENTID4args destroy_clientid;
	struct BIND_CONN_TO_SESSION4args bind_conn;
	struct SEQUENCE4args sequence;
	struct RECLAIM_COMPLETE4args reclaim_complete;
};

union nfs4_op_res {
	struct EXCHANGE_ID4res exchange_id;
	struct CREATE_SESSION4res create_session;
	struct DESTROY_SESSION4res destroy_session;
	struct DESTROY_CLIENTID4res destroy_clientid;
	struct BIND_CONN_TO_SESSION4res bind_conn;
	struct SEQUENCE4res sequence;
	struct RECLAIM_COMPLETE4res reclaim_complete;
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

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	if (!op->decode(args, &a)) {
		nfs4_encode_op_status(res, opnum, NFS4ERR_BADXDR);
		return NFS4ERR_BADXDR;
	}
	status = op->fn(c, &a, &r);
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
	struct nfs4_compound c = {.srv = ctx, .call = call, .replay = NFS4_SLOT_NEW};
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

	for (c.opidx = 0; status == NFS4_OK && c.opidx < c.numops; c.opidx++) {
		status = nfs4_run_op(&c, args, res);
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
	if (c.session)
		nfs4_session_put(c.session);
	return res->overflow ? RPC_SYSTEM_ERR : RPC_SUCCESS;
}
