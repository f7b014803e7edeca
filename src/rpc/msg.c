#include "rpc/msg.h"

#include "rpc/auth.h"
#include "rpc/record.h"
#include "util/log.h"

/* Offset of accept_stat: mark, xid, msg_type, reply_stat, verf flavor, verf length. */
#define RPC_ACCEPT_STAT_OFF (RPC_RECORD_MARK_LEN + 5 * 4)

/* Reply header up to reply_stat; the record mark is patched in msg_finish(). */
static void msg_reply_start(struct xdr_enc *reply, uint32_t xid, enum rpc_reply_stat stat)
{
	reply->len = 0;
	reply->overflow = false;
	xdr_enc_reserve(reply, RPC_RECORD_MARK_LEN);
	xdr_enc_u32(reply, xid);
	xdr_enc_u32(reply, RPC_MSG_REPLY);
	xdr_enc_u32(reply, stat);
}

static void msg_accepted(struct xdr_enc *reply, uint32_t xid, enum rpc_accept_stat stat)
{
	msg_reply_start(reply, xid, RPC_MSG_ACCEPTED);
	xdr_enc_u32(reply, RPC_AUTH_NONE); /* verifier */
	xdr_enc_u32(reply, 0);
	xdr_enc_u32(reply, stat);
}

static void msg_rpc_mismatch(struct xdr_enc *reply, uint32_t xid)
{
	msg_reply_start(reply, xid, RPC_MSG_DENIED);
	xdr_enc_u32(reply, RPC_MISMATCH);
	xdr_enc_u32(reply, RPC_VERSION);
	xdr_enc_u32(reply, RPC_VERSION);
}

static void msg_auth_error(struct xdr_enc *reply, uint32_t xid, enum rpc_auth_stat stat)
{
	msg_reply_start(reply, xid, RPC_MSG_DENIED);
	xdr_enc_u32(reply, RPC_AUTH_ERROR);
	xdr_enc_u32(reply, stat);
}

static enum rpc_verdict msg_finish(struct xdr_enc *reply)
{
	if (reply->overflow || reply->len < RPC_RECORD_MARK_LEN) {
		log_warn("rpc", "reply buffer of %zu bytes too small", reply->cap);
		return RPC_VERDICT_DROP;
	}
	xdr_enc_patch_u32(reply, 0, RPC_RECORD_LAST | (uint32_t)(reply->len - RPC_RECORD_MARK_LEN));
	return RPC_VERDICT_SEND;
}

/* The lowest and highest registered versions of prog; false when it is not registered. */
static bool msg_find_versions(const struct rpc_program *progs, int nprogs, uint32_t prog,
			      uint32_t *low, uint32_t *high)
{
	bool found = false;

	for (int i = 0; i < nprogs; i++) {
		if (progs[i].prog != prog)
			continue;
		if (!found || progs[i].vers_low < *low)
			*low = progs[i].vers_low;
		if (!found || progs[i].vers_high > *high)
			*high = progs[i].vers_high;
		found = true;
	}
	return found;
}

static const struct rpc_program *msg_find_program(const struct rpc_program *progs, int nprogs,
						  uint32_t prog, uint32_t vers)
{
	for (int i = 0; i < nprogs; i++)
		if (progs[i].prog == prog && vers >= progs[i].vers_low &&
		    vers <= progs[i].vers_high)
			return &progs[i];
	return NULL;
}

/* Runs the dispatcher; its results follow the accepted header already in reply. */
static void msg_dispatch(const struct rpc_program *p, struct rpc_call *call, struct xdr_enc *reply)
{
	enum rpc_accept_stat st = p->dispatch ? p->dispatch(p->ctx, call, reply) : RPC_SYSTEM_ERR;

	switch (st) {
	case RPC_SUCCESS:
		if (!reply->overflow)
			return;
		log_warn("rpc", "prog=%u vers=%u proc=%u xid=0x%08x: results exceed %zu bytes",
			 call->prog, call->vers, call->proc, call->xid, reply->cap);
		st = RPC_SYSTEM_ERR;
		break;
	case RPC_GARBAGE_ARGS:
	case RPC_PROC_UNAVAIL:
	case RPC_SYSTEM_ERR:
		break;
	default:
		log_warn("rpc", "prog=%u proc=%u: dispatcher returned accept_stat %d", call->prog,
			 call->proc, (int)st);
		st = RPC_SYSTEM_ERR;
		break;
	}
	/* Discard the results: back to the header, then the new status. */
	reply->overflow = false;
	reply->len = RPC_ACCEPT_STAT_OFF + 4;
	xdr_enc_patch_u32(reply, RPC_ACCEPT_STAT_OFF, st);
}

enum rpc_verdict rpc_msg_process(const struct rpc_program *progs, int nprogs, struct rpc_conn *conn,
				 const uint8_t *rec, size_t len, const struct rpc_bulk *bulk,
				 struct arena *arena, struct xdr_enc *reply, uint32_t *xid_out)
{
	struct xdr_dec x;
	struct xdr_opaque cbody, vbody;
	uint32_t mtype, rpcvers, cflavor, vflavor, low = 0, high = 0;
	const struct rpc_program *p;
	enum rpc_auth_stat ast;
	struct rpc_call call;

	reply->len = 0;
	reply->overflow = false;
	xdr_dec_init(&x, rec, len, arena);
	if (!xdr_dec_u32(&x, &call.xid) || !xdr_dec_u32(&x, &mtype))
		return RPC_VERDICT_DROP;
	if (xid_out)
		*xid_out = call.xid;
	if (mtype == RPC_MSG_REPLY)
		return RPC_VERDICT_REPLY;
	if (mtype != RPC_MSG_CALL)
		return RPC_VERDICT_DROP;

	if (xdr_dec_u32(&x, &rpcvers) && rpcvers != RPC_VERSION) {
		msg_rpc_mismatch(reply, call.xid);
		return msg_finish(reply);
	}
	/* From here the reply can name the failing part: the credential, then the verifier. */
	if (!xdr_dec_u32(&x, &call.prog) || !xdr_dec_u32(&x, &call.vers) ||
	    !xdr_dec_u32(&x, &call.proc) || !xdr_dec_u32(&x, &cflavor) ||
	    !xdr_dec_opaque(&x, &cbody, RPC_MAX_AUTH_BYTES)) {
		msg_auth_error(reply, call.xid, RPC_AUTH_BADCRED);
		return msg_finish(reply);
	}
	ast = rpc_auth_decode_cred(cflavor, &cbody, &call.cred);
	if (ast != RPC_AUTH_OK) {
		msg_auth_error(reply, call.xid, ast);
		return msg_finish(reply);
	}
	if (!xdr_dec_u32(&x, &vflavor) || !xdr_dec_opaque(&x, &vbody, RPC_MAX_AUTH_BYTES) ||
	    rpc_auth_check_verf(vflavor, &vbody) != RPC_AUTH_OK) {
		msg_auth_error(reply, call.xid, RPC_AUTH_BADVERF);
		return msg_finish(reply);
	}

	if (!msg_find_versions(progs, nprogs, call.prog, &low, &high)) {
		msg_accepted(reply, call.xid, RPC_PROG_UNAVAIL);
		return msg_finish(reply);
	}
	p = msg_find_program(progs, nprogs, call.prog, call.vers);
	if (!p) {
		msg_accepted(reply, call.xid, RPC_PROG_MISMATCH);
		xdr_enc_u32(reply, low);
		xdr_enc_u32(reply, high);
		return msg_finish(reply);
	}
	if (call.proc >= p->nprocs) {
		msg_accepted(reply, call.xid, RPC_PROC_UNAVAIL);
		return msg_finish(reply);
	}
	if (call.proc != 0 && (cflavor >= 32 || !(p->auth_flavors & (1u << cflavor)))) {
		msg_auth_error(reply, call.xid, RPC_AUTH_TOOWEAK);
		return msg_finish(reply);
	}
	msg_accepted(reply, call.xid, RPC_SUCCESS);
	if (call.proc == 0 || reply->overflow)
		return msg_finish(reply);

	call.args = x;
	call.conn = conn;
	call.arena = arena;
	call.bulk = bulk ? *bulk : (struct rpc_bulk){.fd = -1};
	msg_dispatch(p, &call, reply);
	return msg_finish(reply);
}
