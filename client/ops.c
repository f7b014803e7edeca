/*
 * The session-management ops the library speaks, each one a COMPOUND of its
 * own (RFC 8881 §2.10.2: EXCHANGE_ID, CREATE_SESSION, DESTROY_SESSION,
 * BIND_CONN_TO_SESSION and DESTROY_CLIENTID may be the only op of a COMPOUND
 * without SEQUENCE), and their hand-written codecs.
 */
#include <errno.h>
#include <string.h>

#include "client/internal.h"
#include "client/ops.h"

enum { SP4_NONE = 0, SP4_MACH_CRED = 1, SP4_SSV = 2 };

bool clnt_enc_sequence(struct xdr_enc *x, const uint8_t sessionid[16], uint32_t seqid,
		       uint32_t slotid, uint32_t highest_slotid, bool cachethis)
{
	return xdr_enc_opaque_fixed(x, sessionid, 16) && xdr_enc_u32(x, seqid) &&
	       xdr_enc_u32(x, slotid) && xdr_enc_u32(x, highest_slotid) &&
	       xdr_enc_bool(x, cachethis);
}

bool nfs4clnt_dec_sequence_resok(struct xdr_dec *x, struct nfs4clnt_seq_res *s)
{
	return xdr_dec_opaque_fixed(x, s->sessionid, 16) && xdr_dec_u32(x, &s->sequenceid) &&
	       xdr_dec_u32(x, &s->slotid) && xdr_dec_u32(x, &s->highest_slotid) &&
	       xdr_dec_u32(x, &s->target_highest_slotid) && xdr_dec_u32(x, &s->status_flags);
}

static bool enc_empty_bitmap(struct xdr_enc *x)
{
	return xdr_enc_u32(x, 0);
}

bool clnt_enc_exchange_id(struct xdr_enc *x, const struct nfs4clnt_exid_args *a)
{
	if (!xdr_enc_opaque_fixed(x, a->verifier, 8) || !xdr_enc_opaque(x, &a->owner, 1024) ||
	    !xdr_enc_u32(x, a->flags) || !xdr_enc_u32(x, a->sp_how))
		return false;
	switch (a->sp_how) {
	case SP4_NONE:
		break;
	case SP4_MACH_CRED: /* spo_must_enforce, spo_must_allow: empty */
		if (!enc_empty_bitmap(x) || !enc_empty_bitmap(x))
			return false;
		break;
	case SP4_SSV: /* ops, no hash algs, no encr algs, window 1, 1 handle */
		if (!enc_empty_bitmap(x) || !enc_empty_bitmap(x) || !xdr_enc_u32(x, 0) ||
		    !xdr_enc_u32(x, 0) || !xdr_enc_u32(x, 1) || !xdr_enc_u32(x, 1))
			return false;
		break;
	default:
		break;
	}
	return xdr_enc_u32(x, 0); /* eia_client_impl_id<1>: none */
}

static bool dec_bitmap(struct xdr_dec *x)
{
	uint32_t n, w;

	if (!xdr_dec_u32(x, &n) || n > 64)
		return false;
	while (n--)
		if (!xdr_dec_u32(x, &w))
			return false;
	return true;
}

static bool dec_opaque_copy(struct xdr_dec *x, uint8_t *dst, uint32_t *len, uint32_t max)
{
	struct xdr_opaque o;

	if (!xdr_dec_opaque(x, &o, max))
		return false;
	*len = o.len;
	if (o.len)
		memcpy(dst, o.data, o.len);
	return true;
}

bool clnt_dec_exchange_id_resok(struct xdr_dec *x, struct nfs4clnt_exid_res *r)
{
	struct xdr_opaque o;
	uint32_t n, w;
	uint64_t secs;

	if (!xdr_dec_u64(x, &r->clientid) || !xdr_dec_u32(x, &r->sequenceid) ||
	    !xdr_dec_u32(x, &r->flags) || !xdr_dec_u32(x, &r->spr_how))
		return false;
	switch (r->spr_how) {
	case SP4_NONE:
		break;
	case SP4_MACH_CRED:
		if (!dec_bitmap(x) || !dec_bitmap(x))
			return false;
		break;
	case SP4_SSV: /* spi_ops, hash alg, encr alg, ssv len, window, handles<> */
		if (!dec_bitmap(x) || !dec_bitmap(x) || !xdr_dec_u32(x, &w) ||
		    !xdr_dec_u32(x, &w) || !xdr_dec_u32(x, &w) || !xdr_dec_u32(x, &w) ||
		    !xdr_dec_u32(x, &n) || n > 64)
			return false;
		while (n--)
			if (!xdr_dec_opaque(x, &o, UINT32_MAX))
				return false;
		break;
	default:
		return false;
	}
	if (!xdr_dec_u64(x, &r->so_minor_id) ||
	    !dec_opaque_copy(x, r->so_major, &r->so_major_len, 1024) ||
	    !dec_opaque_copy(x, r->scope, &r->scope_len, 1024) || !xdr_dec_u32(x, &r->nimpl) ||
	    r->nimpl > 1)
		return false;
	if (r->nimpl) /* nii_domain, nii_name, nii_date */
		return xdr_dec_opaque(x, &o, UINT32_MAX) && xdr_dec_opaque(x, &o, UINT32_MAX) &&
		       xdr_dec_u64(x, &secs) && xdr_dec_u32(x, &w);
	return true;
}

static bool enc_chan(struct xdr_enc *x, const struct nfs4clnt_chan_attrs *c)
{
	return xdr_enc_u32(x, c->headerpadsize) && xdr_enc_u32(x, c->maxrequestsize) &&
	       xdr_enc_u32(x, c->maxresponsesize) && xdr_enc_u32(x, c->maxresponsesize_cached) &&
	       xdr_enc_u32(x, c->maxoperations) && xdr_enc_u32(x, c->maxrequests) &&
	       xdr_enc_u32(x, c->nrdma_ird ? 1 : 0) &&
	       (!c->nrdma_ird || xdr_enc_u32(x, c->rdma_ird));
}

static bool dec_chan(struct xdr_dec *x, struct nfs4clnt_chan_attrs *c)
{
	if (!xdr_dec_u32(x, &c->headerpadsize) || !xdr_dec_u32(x, &c->maxrequestsize) ||
	    !xdr_dec_u32(x, &c->maxresponsesize) || !xdr_dec_u32(x, &c->maxresponsesize_cached) ||
	    !xdr_dec_u32(x, &c->maxoperations) || !xdr_dec_u32(x, &c->maxrequests) ||
	    !xdr_dec_u32(x, &c->nrdma_ird) || c->nrdma_ird > 1)
		return false;
	c->rdma_ird = 0;
	return !c->nrdma_ird || xdr_dec_u32(x, &c->rdma_ird);
}

bool clnt_enc_create_session(struct xdr_enc *x, const struct nfs4clnt_cs_args *a,
			     const struct nfs4clnt_auth *auth)
{
	if (!xdr_enc_u64(x, a->clientid) || !xdr_enc_u32(x, a->sequence) ||
	    !xdr_enc_u32(x, a->flags) || !enc_chan(x, &a->fore) || !enc_chan(x, &a->back) ||
	    !xdr_enc_u32(x, a->cb_program) || !xdr_enc_u32(x, a->nsec_parms ? 1 : 0))
		return false;
	if (!a->nsec_parms)
		return true;
	if (!xdr_enc_u32(x, a->sec_flavor))
		return false;
	if (a->sec_flavor == 1) { /* authsys_parms */
		struct xdr_opaque name = xdr_opaque_str(auth->machinename);

		if (!xdr_enc_u32(x, auth->stamp) || !xdr_enc_opaque(x, &name, 255) ||
		    !xdr_enc_u32(x, auth->uid) || !xdr_enc_u32(x, auth->gid) || !xdr_enc_u32(x, 0))
			return false;
	}
	return true;
}

bool clnt_dec_create_session_resok(struct xdr_dec *x, struct nfs4clnt_cs_res *r)
{
	return xdr_dec_opaque_fixed(x, r->sessionid, 16) && xdr_dec_u32(x, &r->sequence) &&
	       xdr_dec_u32(x, &r->flags) && dec_chan(x, &r->fore) && dec_chan(x, &r->back);
}

bool clnt_skip_result(struct xdr_dec *x, uint32_t opnum, uint32_t status,
		      const uint8_t *after_status)
{
	struct nfs4clnt_seq_res seq;
	struct nfs4clnt_exid_res *exid;
	struct nfs4clnt_cs_res cs;
	bool ok;

	/* Ops whose result is only a status, or whose error arms are void. */
	switch (opnum) {
	case CLNT_OP_ILLEGAL:
	case CLNT_OP_PUTROOTFH:
	case CLNT_OP_DESTROY_SESSION:
	case CLNT_OP_DESTROY_CLIENTID:
	case CLNT_OP_RECLAIM_COMPLETE:
		x->p = after_status;
		return true;
	case CLNT_OP_SEQUENCE:
	case CLNT_OP_EXCHANGE_ID:
	case CLNT_OP_CREATE_SESSION:
	case CLNT_OP_BIND_CONN_TO_SESSION:
		x->p = after_status;
		if (status != 0)
			return true;
		if (opnum == CLNT_OP_SEQUENCE)
			return nfs4clnt_dec_sequence_resok(x, &seq);
		if (opnum == CLNT_OP_CREATE_SESSION)
			return clnt_dec_create_session_resok(x, &cs);
		if (opnum == CLNT_OP_BIND_CONN_TO_SESSION)
			return xdr_dec_inline(x, 16 + 8) != NULL;
		exid = xdr_dec_alloc(x, sizeof(*exid));
		ok = exid && clnt_dec_exchange_id_resok(x, exid);
		return ok;
	default:
		break;
	}
	/*
	 * Other ops: an error result has no body except LOCK/LOCKT's
	 * NFS4ERR_DENIED and SETATTR's attrsset; a successful one must be
	 * decoded by the caller (nfs4clnt_res_body()) before moving on.
	 */
	x->p = after_status;
	return status != 0 && opnum != 12 && opnum != 13 && opnum != 34;
}

/* ---------------------------------------------------------------- single-op compounds */

struct nfs4clnt_chan_attrs nfs4clnt_chan_default(uint32_t slots)
{
	struct nfs4clnt_chan_attrs c = {
		.headerpadsize = 0,
		.maxrequestsize = 1049600,
		.maxresponsesize = 1049600,
		.maxresponsesize_cached = 4096,
		.maxoperations = 16,
		.maxrequests = slots,
	};

	return c;
}

struct nfs4clnt_cs_args nfs4clnt_cs_default(uint64_t clientid, uint32_t sequence)
{
	struct nfs4clnt_cs_args a = {
		.clientid = clientid,
		.sequence = sequence,
		.flags = 0x2, /* CREATE_SESSION4_FLAG_CONN_BACK_CHAN */
		.fore = nfs4clnt_chan_default(16),
		.back = nfs4clnt_chan_default(4),
		.cb_program = NFS4CLNT_CB_PROG_DEFAULT,
		.sec_flavor = 1,
		.nsec_parms = 1,
	};

	a.back.maxrequestsize = 8192;
	a.back.maxresponsesize = 8192;
	a.back.maxresponsesize_cached = 0;
	a.back.maxoperations = 4;
	return a;
}

/*
 * Sends a one-op compound whose args were encoded into cmp and positions res at
 * that op's body. Returns the op's status (or the COMPOUND status when there
 * is no result), or -errno.
 */
static int single_op(struct nfs4clnt_conn *c, struct nfs4clnt_compound *cmp, uint32_t opnum,
		     const struct nfs4clnt_auth *auth, struct nfs4clnt_res *res)
{
	uint32_t op, st;
	int err = clnt_compound_sendv(c, cmp, NULL, 0, 0, auth, 0, res);

	if (err)
		return err;
	if (!nfs4clnt_res_next(res, &op, &st))
		return res->status ? (int)res->status : -EPROTO;
	if (op != opnum)
		return -EPROTO;
	return (int)st;
}

int nfs4clnt_exchange_id(struct nfs4clnt_conn *c, const struct nfs4clnt_exid_args *args,
			 struct nfs4clnt_exid_res *out)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("exchange_id", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, CLNT_OP_EXCHANGE_ID);
	if (!x || !clnt_enc_exchange_id(x, args)) {
		nfs4clnt_compound_free(cmp);
		return -EINVAL;
	}
	st = single_op(c, cmp, CLNT_OP_EXCHANGE_ID, args->auth, &res);
	if (st == 0) {
		memset(out, 0, sizeof(*out));
		if (!clnt_dec_exchange_id_resok(nfs4clnt_res_body(&res), out))
			st = -EPROTO;
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

int nfs4clnt_create_session(struct nfs4clnt_conn *c, const struct nfs4clnt_cs_args *args,
			    struct nfs4clnt_cs_res *out)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("create_session", 1);
	struct nfs4clnt_auth auth = args->auth ? *args->auth : nfs4clnt_conn_auth(c);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, CLNT_OP_CREATE_SESSION);
	if (!x || !clnt_enc_create_session(x, args, &auth)) {
		nfs4clnt_compound_free(cmp);
		return -EINVAL;
	}
	st = single_op(c, cmp, CLNT_OP_CREATE_SESSION, args->auth, &res);
	if (st == 0) {
		memset(out, 0, sizeof(*out));
		if (!clnt_dec_create_session_resok(nfs4clnt_res_body(&res), out))
			st = -EPROTO;
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static int simple_op(struct nfs4clnt_conn *c, uint32_t opnum, const void *arg, size_t len)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, opnum);
	if (!x || !xdr_enc_opaque_fixed(x, arg, len)) {
		nfs4clnt_compound_free(cmp);
		return -EINVAL;
	}
	st = single_op(c, cmp, opnum, NULL, &res);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

int nfs4clnt_destroy_session(struct nfs4clnt_conn *c, const uint8_t sessionid[16])
{
	return simple_op(c, CLNT_OP_DESTROY_SESSION, sessionid, 16);
}

int nfs4clnt_destroy_clientid(struct nfs4clnt_conn *c, uint64_t clientid)
{
	uint8_t b[8];

	xdr_put_be32(b, (uint32_t)(clientid >> 32));
	xdr_put_be32(b + 4, (uint32_t)clientid);
	return simple_op(c, CLNT_OP_DESTROY_CLIENTID, b, 8);
}

int nfs4clnt_bind_conn(struct nfs4clnt_conn *c, const uint8_t sessionid[16], uint32_t dir,
		       uint32_t *dir_out)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("bind_conn", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	struct xdr_dec *d;
	uint8_t sid[16];
	uint32_t rdir;
	bool rdma;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, CLNT_OP_BIND_CONN_TO_SESSION);
	if (!x || !xdr_enc_opaque_fixed(x, sessionid, 16) || !xdr_enc_u32(x, dir) ||
	    !xdr_enc_bool(x, false)) {
		nfs4clnt_compound_free(cmp);
		return -EINVAL;
	}
	st = single_op(c, cmp, CLNT_OP_BIND_CONN_TO_SESSION, NULL, &res);
	if (st == 0) {
		d = nfs4clnt_res_body(&res);
		if (!xdr_dec_opaque_fixed(d, sid, 16) || !xdr_dec_u32(d, &rdir) ||
		    !xdr_dec_bool(d, &rdma) || memcmp(sid, sessionid, 16) != 0)
			st = -EPROTO;
		else if (dir_out)
			*dir_out = rdir;
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}
