/* COMPOUND: the builder (tag, minorversion, encoded ops) and the result iterator. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "client/ops.h"

#define CMP_OPS_CAP (2u * 1024 * 1024)
#define RES_ARENA_LIMIT (4u * 1024 * 1024)

struct nfs4clnt_compound *nfs4clnt_compound_new(const char *tag, uint32_t minorversion)
{
	struct nfs4clnt_compound *cmp = calloc(1, sizeof(*cmp));
	size_t taglen = tag ? strlen(tag) : 0;
	void *buf;

	if (!cmp)
		return NULL;
	buf = malloc(CMP_OPS_CAP);
	cmp->tagbuf = malloc(taglen + 1);
	if (!buf || !cmp->tagbuf) {
		free(buf);
		free(cmp->tagbuf);
		free(cmp);
		return NULL;
	}
	memcpy(cmp->tagbuf, tag ? tag : "", taglen + 1);
	cmp->tag.len = (uint32_t)taglen;
	cmp->tag.data = cmp->tagbuf;
	cmp->minorversion = minorversion;
	cmp->numops_override = -1;
	xdr_enc_init(&cmp->ops, buf, CMP_OPS_CAP);
	return cmp;
}

void nfs4clnt_compound_free(struct nfs4clnt_compound *cmp)
{
	if (!cmp)
		return;
	free(cmp->ops.base);
	free(cmp->tagbuf);
	free(cmp);
}

void nfs4clnt_compound_reset(struct nfs4clnt_compound *cmp)
{
	xdr_enc_init(&cmp->ops, cmp->ops.base, CMP_OPS_CAP);
	cmp->numops = 0;
	cmp->numops_override = -1;
	cmp->data = NULL;
	cmp->data_len = 0;
	cmp->data_at = 0;
}

bool nfs4clnt_compound_add_data(struct nfs4clnt_compound *cmp, const void *data, uint32_t len)
{
	struct xdr_enc *x = &cmp->ops;
	size_t pad = XDR_PAD(len) - len;

	if (cmp->data) {
		struct xdr_opaque o = {len, data};

		return xdr_enc_opaque(x, &o, UINT32_MAX);
	}
	/* Room for the bytes too, as if copied: the record stays within what ops could hold. */
	if (x->overflow || (size_t)len + pad + 4 > x->cap - x->len || !xdr_enc_u32(x, len))
		return false;
	cmp->data = data;
	cmp->data_len = len;
	cmp->data_at = x->len;
	/* The padding stays in ops: ops' length is then unaligned, the record is not. */
	memset(x->base + x->len, 0, pad);
	x->len += pad;
	return true;
}

struct xdr_enc *nfs4clnt_compound_add(struct nfs4clnt_compound *cmp, uint32_t opnum)
{
	if (!xdr_enc_u32(&cmp->ops, opnum))
		return NULL;
	cmp->numops++;
	return &cmp->ops;
}

bool nfs4clnt_compound_add_sequence(struct nfs4clnt_compound *cmp, const uint8_t sessionid[16],
				    uint32_t seqid, uint32_t slotid, uint32_t highest_slotid,
				    bool cachethis)
{
	struct xdr_enc *x = nfs4clnt_compound_add(cmp, CLNT_OP_SEQUENCE);

	return x && clnt_enc_sequence(x, sessionid, seqid, slotid, highest_slotid, cachethis);
}

static bool enc_head(const struct nfs4clnt_compound *cmp, struct xdr_enc *x, uint32_t extra)
{
	uint32_t n = cmp->numops_override >= 0 ? (uint32_t)cmp->numops_override : cmp->numops;

	return xdr_enc_opaque(x, &cmp->tag, UINT32_MAX) && xdr_enc_u32(x, cmp->minorversion) &&
	       xdr_enc_u32(x, n + extra);
}

bool nfs4clnt_compound_encode(const struct nfs4clnt_compound *cmp, struct xdr_enc *x)
{
	/* The data is padded as it is copied in: its padding in ops is skipped. */
	size_t at = cmp->data ? cmp->data_at : cmp->ops.len;
	size_t rest = at + (cmp->data ? XDR_PAD(cmp->data_len) - cmp->data_len : 0);

	return enc_head(cmp, x, 0) && xdr_enc_opaque_fixed(x, cmp->ops.base, at) &&
	       (!cmp->data || xdr_enc_opaque_fixed(x, cmp->data, cmp->data_len)) &&
	       xdr_enc_opaque_fixed(x, cmp->ops.base + rest, cmp->ops.len - rest);
}

/* Parses COMPOUND4res up to the first result; takes ownership of rpc. */
static int res_start(struct nfs4clnt_res *res)
{
	struct xdr_dec *x = &res->dec;

	arena_init(&res->arena, RES_ARENA_LIMIT);
	if (res->rpc.reply_stat != 0 || res->rpc.accept_stat != 0)
		return -EPROTO;
	*x = res->rpc.body;
	x->arena = &res->arena;
	if (!xdr_dec_u32(x, &res->status) || !xdr_dec_opaque(x, &res->tag, UINT32_MAX) ||
	    !xdr_dec_u32(x, &res->numres))
		return -EPROTO;
	res->results = x->p;
	res->results_len = xdr_dec_remaining(x);
	return 0;
}

int clnt_compound_sendv(struct nfs4clnt_conn *c, const struct nfs4clnt_compound *cmp,
			const void *prefix, size_t prefix_len, uint32_t prefix_ops,
			const struct nfs4clnt_auth *authp, int timeout_ms, struct nfs4clnt_res *res)
{
	struct nfs4clnt_auth auth = authp ? *authp : nfs4clnt_conn_auth(c);
	uint32_t xid = nfs4clnt_conn_next_xid(c);
	uint8_t hdr[512 + 16];
	uint8_t *head;
	struct xdr_enc h, t;
	size_t at = cmp->data ? cmp->data_at : cmp->ops.len;
	struct iovec iov[6];
	int n = 0, err;

	memset(res, 0, sizeof(*res));
	head = malloc(cmp->tag.len + 16);
	if (!head)
		return -ENOMEM;
	xdr_enc_init(&h, hdr, sizeof(hdr));
	xdr_enc_init(&t, head, cmp->tag.len + 16);
	if (!nfs4clnt_enc_call_header(&h, xid, NFS4CLNT_PROG, NFS4CLNT_VERS, NFS4CLNT_PROC_COMPOUND,
				      &auth) ||
	    !enc_head(cmp, &t, prefix_ops)) {
		free(head);
		return -EINVAL;
	}
	iov[n++] = (struct iovec){hdr, h.len};
	iov[n++] = (struct iovec){head, t.len};
	if (prefix_len)
		iov[n++] = (struct iovec){(void *)prefix, prefix_len};
	if (at)
		iov[n++] = (struct iovec){cmp->ops.base, at};
	if (cmp->data_len)
		iov[n++] = (struct iovec){(void *)cmp->data, cmp->data_len};
	if (cmp->ops.len > at)
		iov[n++] = (struct iovec){cmp->ops.base + at, cmp->ops.len - at};
	err = nfs4clnt_call_recordv(c, xid, iov, n, timeout_ms, &res->rpc);
	free(head);
	if (err) {
		arena_init(&res->arena, RES_ARENA_LIMIT);
		return err;
	}
	return res_start(res);
}

int nfs4clnt_compound_send(struct nfs4clnt_conn *c, const struct nfs4clnt_compound *cmp,
			   int timeout_ms, struct nfs4clnt_res *res)
{
	return clnt_compound_sendv(c, cmp, NULL, 0, 0, NULL, timeout_ms, res);
}

bool nfs4clnt_res_next(struct nfs4clnt_res *res, uint32_t *opnum, uint32_t *status)
{
	struct xdr_dec *x = &res->dec;

	if (res->index > 0 && !res->body_taken) {
		struct xdr_dec save = *x;

		*x = (struct xdr_dec){res->cur, res->dec.end, &res->arena};
		if (!clnt_skip_result(x, res->opnum, res->opstatus, save.p)) {
			*x = save;
			return false;
		}
	}
	if (res->index >= res->numres)
		return false;
	res->cur = x->p;
	if (!xdr_dec_u32(x, &res->opnum))
		return false;
	/* OP_ILLEGAL's result and every other one start with the status. */
	if (!xdr_dec_u32(x, &res->opstatus))
		return false;
	res->index++;
	res->body_taken = false;
	if (opnum)
		*opnum = res->opnum;
	if (status)
		*status = res->opstatus;
	return true;
}

struct xdr_dec *nfs4clnt_res_body(struct nfs4clnt_res *res)
{
	res->body_taken = true;
	return &res->dec;
}

int nfs4clnt_res_find(struct nfs4clnt_res *res, uint32_t opnum)
{
	uint32_t op, st;

	while (nfs4clnt_res_next(res, &op, &st))
		if (op == opnum)
			return (int)st;
	return -ENOENT;
}

void nfs4clnt_res_free(struct nfs4clnt_res *res)
{
	nfs4clnt_reply_free(&res->rpc);
	arena_reset(&res->arena);
}
