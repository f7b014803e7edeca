/*
 * The callback engine's calls and replies in XDR (RFC 8881 §20): the RPC
 * call header with the client's callback security, CB_COMPOUND of
 * CB_SEQUENCE (with its referring call) and CB_RECALL, CB_GETATTR or
 * CB_RECALL_ANY, and the parts of the reply the engine acts on.
 */
#include <errno.h>
#include <string.h>

#include "nfs4/cb_internal.h"
#include "xdr/nfs4_cb_xdr.h"

void nfs4_cb_enc_header(struct xdr_enc *x, uint32_t xid, uint32_t prog, uint32_t proc,
			const struct nfs4_cb_sec *sec)
{
	xdr_enc_u32(x, xid);
	xdr_enc_u32(x, RPC_MSG_CALL);
	xdr_enc_u32(x, RPC_VERSION);
	xdr_enc_u32(x, prog);
	xdr_enc_u32(x, NFS4_CB_VERSION);
	xdr_enc_u32(x, proc);
	if (sec->flavor == RPC_AUTH_SYS) {
		struct authsys_parms p = {
			.machinename = {.len = sec->machine_len,
					.data = (const uint8_t *)sec->machine},
			.uid = sec->uid,
			.gid = sec->gid,
		};
		uint8_t body[300];
		struct xdr_enc b;

		xdr_enc_init(&b, body, sizeof(body));
		xdr_enc_authsys_parms(&b, &p);
		xdr_enc_u32(x, RPC_AUTH_SYS);
		xdr_enc_opaque(x, &(struct xdr_opaque){.len = (uint32_t)b.len, .data = body},
			       RPC_MAX_AUTH_BYTES);
	} else {
		xdr_enc_u32(x, RPC_AUTH_NONE);
		xdr_enc_u32(x, 0);
	}
	xdr_enc_u32(x, RPC_AUTH_NONE); /* verifier */
	xdr_enc_u32(x, 0);
}

/*
 * The referring call of a recall or getattr: the OPEN that granted the
 * delegation, if the client may not have seen its reply yet — its slot has
 * carried nothing newer (RFC 8881 §2.10.6.3). So a client that gets the
 * recall before the OPEN reply knows to wait for it.
 */
static bool nfs4_cb_referring(struct nfs4_cb *cb, struct referring_call_list4 *l,
			      struct referring_call4 *rc)
{
	const struct nfs4_deleg *dp = cb->dp;
	struct nfs4_session *gs;
	bool pending = false;

	gs = nfs4_session_find(cb->clp->srv, &dp->grant_session);
	if (!gs)
		return false;
	pthread_mutex_lock(&gs->lock);
	if (dp->grant_slot < gs->slots.nslots)
		pending = gs->slots.slots[dp->grant_slot].seqid == dp->grant_seqid;
	pthread_mutex_unlock(&gs->lock);
	nfs4_session_put(gs);
	if (!pending)
		return false;
	l->rcl_sessionid = dp->grant_session;
	rc->rc_sequenceid = dp->grant_seqid;
	rc->rc_slotid = dp->grant_slot;
	l->rcl_referring_calls.len = 1;
	l->rcl_referring_calls.val = rc;
	return true;
}

/* The file handle of dp's file, as the client knows it. */
static void nfs4_cb_deleg_fh(const struct nfs4_deleg *dp, uint8_t *buf, struct xdr_opaque *out)
{
	struct nfs4_fh fh = {.kind = NFS4_FH_EXPORT, .exp = dp->stid.file->exp};

	fh.bfh = dp->stid.file->bfh;
	out->data = buf;
	out->len = nfs4_fh_encode(&fh, buf);
}

/* A CB_COMPOUND of CB_SEQUENCE and cb's op into x. */
bool nfs4_cb_enc_compound(struct nfs4_cb *cb, struct xdr_enc *x)
{
	struct CB_SEQUENCE4args seq = {0};
	struct referring_call_list4 rcl;
	struct referring_call4 rc;
	uint8_t fhbuf[NFS4_FHSIZE];
	uint32_t words[1];

	xdr_enc_u32(x, 0); /* tag: empty */
	xdr_enc_u32(x, 1); /* minorversion */
	xdr_enc_u32(x, 0); /* callback_ident: unused in 4.1 */
	xdr_enc_u32(x, 2); /* ops */
	xdr_enc_u32(x, OP_CB_SEQUENCE);
	seq.csa_sessionid = cb->ses->sessionid;
	seq.csa_sequenceid = cb->seqid;
	seq.csa_slotid = (uint32_t)cb->slot;
	pthread_mutex_lock(&cb->ses->lock);
	seq.csa_highest_slotid = cb->ses->cb_slots.nslots - 1;
	pthread_mutex_unlock(&cb->ses->lock);
	seq.csa_cachethis = false;
	if (cb->dp && nfs4_cb_referring(cb, &rcl, &rc)) {
		seq.csa_referring_call_lists.len = 1;
		seq.csa_referring_call_lists.val = &rcl;
	}
	xdr_enc_CB_SEQUENCE4args(x, &seq);
	switch (cb->kind) {
	case NFS4_CB_RECALL: {
		struct CB_RECALL4args a = {.truncate = false};

		memcpy(a.stateid.other, cb->dp->stid.other, 12);
		a.stateid.seqid = 1; /* a delegation stateid never changes */
		nfs4_cb_deleg_fh(cb->dp, fhbuf, &a.fh);
		xdr_enc_u32(x, OP_CB_RECALL);
		xdr_enc_CB_RECALL4args(x, &a);
		break;
	}
	case NFS4_CB_GETATTR: {
		struct CB_GETATTR4args a;

		nfs4_cb_deleg_fh(cb->dp, fhbuf, &a.fh);
		words[0] = 1u << FATTR4_CHANGE | 1u << FATTR4_SIZE;
		a.attr_request.len = 1;
		a.attr_request.val = words;
		xdr_enc_u32(x, OP_CB_GETATTR);
		xdr_enc_CB_GETATTR4args(x, &a);
		break;
	}
	case NFS4_CB_RECALL_ANY: {
		struct CB_RECALL_ANY4args a = {.craa_objects_to_keep = cb->keep};

		words[0] = 1u << RCA4_TYPE_MASK_RDATA_DLG | 1u << RCA4_TYPE_MASK_WDATA_DLG;
		a.craa_type_mask.len = 1;
		a.craa_type_mask.val = words;
		xdr_enc_u32(x, OP_CB_RECALL_ANY);
		xdr_enc_CB_RECALL_ANY4args(x, &a);
		break;
	}
	case NFS4_CB_PROBE:
		return false;
	}
	return !x->overflow;
}

/* The change and size a CB_GETATTR reply carries (bitmap, then the values in bit order). */
static void nfs4_cb_dec_getattr(struct xdr_dec *x, struct nfs4_cb_reply *r)
{
	uint32_t nwords, w0 = 0, w, alen;

	if (!xdr_dec_u32(x, &nwords) || nwords > 8)
		return;
	for (uint32_t i = 0; i < nwords; i++) {
		if (!xdr_dec_u32(x, &w))
			return;
		if (i == 0)
			w0 = w;
		else if (w)
			return; /* attributes we did not ask for: do not guess their sizes */
	}
	if ((w0 & ((1u << FATTR4_CHANGE) - 1)) || !xdr_dec_u32(x, &alen))
		return;
	if ((w0 & (1u << FATTR4_CHANGE)) && xdr_dec_u64(x, &r->change))
		r->has_change = true;
	if ((w0 & (1u << FATTR4_SIZE)) && xdr_dec_u64(x, &r->size))
		r->has_size = true;
}

/* Decodes a CB_COMPOUND reply (after the RPC header) into r. */
void nfs4_cb_dec_compound(struct xdr_dec *x, struct nfs4_cb_reply *r)
{
	struct xdr_opaque tag;
	uint32_t status, n, op;
	struct CB_SEQUENCE4res seq;

	r->err = -EPROTO;
	if (!xdr_dec_u32(x, &status) || !xdr_dec_opaque(x, &tag, NFS4_MAX_TAG) ||
	    !xdr_dec_u32(x, &n))
		return;
	if (n == 0) {
		/* Refused before CB_SEQUENCE ran (e.g. MINOR_VERS_MISMATCH): no slot was used. */
		r->err = 0;
		r->seq_status = status ? status : NFS4ERR_SERVERFAULT;
		return;
	}
	if (!xdr_dec_u32(x, &op) || op != OP_CB_SEQUENCE || !xdr_dec_CB_SEQUENCE4res(x, &seq))
		return;
	r->err = 0;
	r->seq_status = seq.csr_status;
	if (seq.csr_status != NFS4_OK)
		return;
	r->target_highest = seq.u.csr_resok4.csr_target_highest_slotid;
	r->op_status = status; /* the compound's status is its last op's */
	if (n < 2 || !xdr_dec_u32(x, &op) || !xdr_dec_u32(x, &r->op_status))
		return;
	if (op == OP_CB_GETATTR && r->op_status == NFS4_OK)
		nfs4_cb_dec_getattr(x, r);
}
