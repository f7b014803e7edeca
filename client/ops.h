/*
 * Private to client/: opnums and the codecs of the session-management ops the
 * library itself speaks (RFC 8881 §18.35-18.51). They are written by hand on
 * the XDR stream so that the library checks the server independently of the
 * generated codecs the server uses.
 */
#ifndef NFS4CLNT_OPS_H
#define NFS4CLNT_OPS_H

#include "client/nfs4clnt.h"

enum {
	CLNT_OP_PUTROOTFH = 24,
	CLNT_OP_BIND_CONN_TO_SESSION = 41,
	CLNT_OP_EXCHANGE_ID = 42,
	CLNT_OP_CREATE_SESSION = 43,
	CLNT_OP_DESTROY_SESSION = 44,
	CLNT_OP_SEQUENCE = 53,
	CLNT_OP_DESTROY_CLIENTID = 57,
	CLNT_OP_RECLAIM_COMPLETE = 58,
	CLNT_OP_ILLEGAL = 10044,
};

bool clnt_enc_sequence(struct xdr_enc *x, const uint8_t sessionid[16], uint32_t seqid,
		       uint32_t slotid, uint32_t highest_slotid, bool cachethis);
bool clnt_enc_exchange_id(struct xdr_enc *x, const struct nfs4clnt_exid_args *a);
bool clnt_dec_exchange_id_resok(struct xdr_dec *x, struct nfs4clnt_exid_res *r);
bool clnt_enc_create_session(struct xdr_enc *x, const struct nfs4clnt_cs_args *a,
			     const struct nfs4clnt_auth *auth);
bool clnt_dec_create_session_resok(struct xdr_dec *x, struct nfs4clnt_cs_res *r);
/*
 * Skips the result that starts at x (its opnum), whose status was already
 * read and whose body the caller left alone; after_status is where the body
 * starts. Leaves x after the result.
 */
bool clnt_skip_result(struct xdr_dec *x, uint32_t opnum, uint32_t status,
		      const uint8_t *after_status);

/* Sends cmp with prefix (prefix_ops encoded ops) in front; auth NULL: the connection's. */
int clnt_compound_sendv(struct nfs4clnt_conn *c, const struct nfs4clnt_compound *cmp,
			const void *prefix, size_t prefix_len, uint32_t prefix_ops,
			const struct nfs4clnt_auth *auth, int timeout_ms, struct nfs4clnt_res *res);

#endif
