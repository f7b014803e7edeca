/* RPC headers (RFC 5531): credentials, call header encoding, reply header parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

#define AUTH_NONE 0u
#define AUTH_SYS 1u

struct nfs4clnt_auth nfs4clnt_auth_sys(uint32_t uid, uint32_t gid)
{
	struct nfs4clnt_auth a = {.flavor = AUTH_SYS, .uid = uid, .gid = gid};

	strcpy(a.machinename, "nfs4clnt");
	return a;
}

struct nfs4clnt_auth nfs4clnt_auth_none(void)
{
	struct nfs4clnt_auth a = {.flavor = AUTH_NONE};

	return a;
}

bool nfs4clnt_enc_auth(struct xdr_enc *x, const struct nfs4clnt_auth *auth)
{
	if (auth->flavor == AUTH_SYS) {
		struct xdr_opaque name = xdr_opaque_str(auth->machinename);
		uint32_t ngids = auth->ngids > 16 ? 16 : auth->ngids;
		size_t body = 4 + 4 + XDR_PAD(name.len) + 4 + 4 + 4 + 4 * (size_t)ngids;

		if (!xdr_enc_u32(x, AUTH_SYS) || !xdr_enc_u32(x, (uint32_t)body) ||
		    !xdr_enc_u32(x, auth->stamp) || !xdr_enc_opaque(x, &name, 255) ||
		    !xdr_enc_u32(x, auth->uid) || !xdr_enc_u32(x, auth->gid) ||
		    !xdr_enc_u32(x, ngids))
			return false;
		for (uint32_t i = 0; i < ngids; i++)
			if (!xdr_enc_u32(x, auth->gids[i]))
				return false;
	} else {
		if (!xdr_enc_u32(x, auth->flavor) || !xdr_enc_u32(x, 0))
			return false;
	}
	/* verifier: AUTH_NONE */
	return xdr_enc_u32(x, AUTH_NONE) && xdr_enc_u32(x, 0);
}

bool nfs4clnt_enc_call_header(struct xdr_enc *x, uint32_t xid, uint32_t prog, uint32_t vers,
			      uint32_t proc, const struct nfs4clnt_auth *auth)
{
	return xdr_enc_u32(x, xid) && xdr_enc_u32(x, 0 /* CALL */) &&
	       xdr_enc_u32(x, 2 /* rpcvers */) && xdr_enc_u32(x, prog) && xdr_enc_u32(x, vers) &&
	       xdr_enc_u32(x, proc) && nfs4clnt_enc_auth(x, auth);
}

bool nfs4clnt_reply_parse(struct nfs4clnt_reply *rep, uint8_t *rec, size_t len)
{
	struct xdr_dec *x = &rep->body;
	struct xdr_opaque verf;
	uint32_t mtype, flavor;

	memset(rep, 0, sizeof(*rep));
	rep->rec = rec;
	rep->len = len;
	xdr_dec_init(x, rec, len, NULL);
	if (!xdr_dec_u32(x, &rep->xid) || !xdr_dec_u32(x, &mtype) || mtype != 1 ||
	    !xdr_dec_u32(x, &rep->reply_stat))
		goto bad;
	if (rep->reply_stat == 0) {
		if (!xdr_dec_u32(x, &flavor) || !xdr_dec_opaque(x, &verf, 400) ||
		    !xdr_dec_u32(x, &rep->accept_stat))
			goto bad;
		if (rep->accept_stat == 2 &&
		    (!xdr_dec_u32(x, &rep->mismatch_low) || !xdr_dec_u32(x, &rep->mismatch_high)))
			goto bad;
		return true;
	}
	if (rep->reply_stat != 1 || !xdr_dec_u32(x, &rep->reject_stat))
		goto bad;
	if (rep->reject_stat == 0)
		return xdr_dec_u32(x, &rep->mismatch_low) && xdr_dec_u32(x, &rep->mismatch_high)
			       ? true
			       : (nfs4clnt_reply_free(rep), false);
	if (rep->reject_stat == 1 && xdr_dec_u32(x, &rep->auth_stat))
		return true;
bad:
	nfs4clnt_reply_free(rep);
	return false;
}

void nfs4clnt_reply_free(struct nfs4clnt_reply *rep)
{
	free(rep->rec);
	rep->rec = NULL;
	rep->len = 0;
	xdr_dec_init(&rep->body, NULL, 0, NULL);
}

#define CALL_HDR_MAX (40 + 2 * 8 + 400)

int nfs4clnt_call(struct nfs4clnt_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
		  const struct nfs4clnt_auth *auth, const void *args, size_t args_len,
		  int timeout_ms, struct nfs4clnt_reply *rep)
{
	uint8_t hdr[CALL_HDR_MAX];
	struct nfs4clnt_auth a = auth ? *auth : nfs4clnt_conn_auth(c);
	uint32_t xid = nfs4clnt_conn_next_xid(c);
	struct xdr_enc x;
	struct iovec iov[2];

	xdr_enc_init(&x, hdr, sizeof(hdr));
	if (!nfs4clnt_enc_call_header(&x, xid, prog, vers, proc, &a))
		return -EINVAL;
	iov[0].iov_base = hdr;
	iov[0].iov_len = x.len;
	iov[1].iov_base = (void *)args;
	iov[1].iov_len = args_len;
	return nfs4clnt_call_recordv(c, xid, iov, args_len ? 2 : 1, timeout_ms, rep);
}

int nfs4clnt_null(struct nfs4clnt_conn *c)
{
	struct nfs4clnt_reply rep;
	int err = nfs4clnt_call(c, NFS4CLNT_PROG, NFS4CLNT_VERS, NFS4CLNT_PROC_NULL, NULL, NULL, 0,
				0, &rep);

	if (err)
		return err;
	err = rep.reply_stat == 0 && rep.accept_stat == 0 ? 0 : -EPROTO;
	nfs4clnt_reply_free(&rep);
	return err;
}
