/*
 * The backchannel: CALL records the server sends on our connection are queued
 * by the receive thread and answered here, on the connection's callback
 * thread, one at a time, through the user's hook. Default without a hook:
 * procedure 0 (CB_NULL) gets SUCCESS, everything else PROC_UNAVAIL.
 */
#include <errno.h>
#include <stdlib.h>

#include "client/internal.h"

enum { ACCEPT_SUCCESS = 0, ACCEPT_PROC_UNAVAIL = 3, ACCEPT_GARBAGE_ARGS = 4 };

static void cb_answer(struct nfs4clnt_conn *c, uint8_t *buf, size_t len, uint8_t *out)
{
	struct xdr_dec x;
	struct xdr_enc res, hdr;
	struct xdr_opaque cred, verf;
	uint32_t xid, mtype, rpcvers, prog, vers, proc, flavor;
	uint8_t head[32];
	struct iovec iov[2];
	nfs4clnt_cb_fn fn;
	void *ctx;
	int stat;

	xdr_dec_init(&x, buf, len, NULL);
	if (!xdr_dec_u32(&x, &xid) || !xdr_dec_u32(&x, &mtype) || !xdr_dec_u32(&x, &rpcvers))
		return;
	xdr_enc_init(&hdr, head, sizeof(head));
	xdr_enc_u32(&hdr, xid);
	xdr_enc_u32(&hdr, 1); /* REPLY */
	if (rpcvers != 2) {
		xdr_enc_u32(&hdr, 1); /* MSG_DENIED */
		xdr_enc_u32(&hdr, 0); /* RPC_MISMATCH */
		xdr_enc_u32(&hdr, 2);
		xdr_enc_u32(&hdr, 2);
		nfs4clnt_conn_send_record(c, head, hdr.len);
		return;
	}
	if (!xdr_dec_u32(&x, &prog) || !xdr_dec_u32(&x, &vers) || !xdr_dec_u32(&x, &proc) ||
	    !xdr_dec_u32(&x, &flavor) || !xdr_dec_opaque(&x, &cred, 400) ||
	    !xdr_dec_u32(&x, &flavor) || !xdr_dec_opaque(&x, &verf, 400)) {
		stat = ACCEPT_GARBAGE_ARGS;
		goto reply;
	}
	pthread_mutex_lock(&c->lock);
	fn = c->cb;
	ctx = c->cb_ctx;
	pthread_mutex_unlock(&c->lock);
	xdr_enc_init(&res, out, CLNT_CB_REPLY_MAX);
	if (fn)
		stat = fn(ctx, prog, vers, proc, &x, &res);
	else
		stat = proc == 0 ? ACCEPT_SUCCESS : ACCEPT_PROC_UNAVAIL;
	if (stat == NFS4CLNT_CB_NO_REPLY)
		return;
	if (stat == ACCEPT_SUCCESS && res.overflow)
		stat = 5; /* SYSTEM_ERR */
reply:
	xdr_enc_u32(&hdr, 0); /* MSG_ACCEPTED */
	xdr_enc_u32(&hdr, 0); /* verifier AUTH_NONE */
	xdr_enc_u32(&hdr, 0);
	xdr_enc_u32(&hdr, (uint32_t)stat);
	iov[0].iov_base = head;
	iov[0].iov_len = hdr.len;
	iov[1].iov_base = out;
	iov[1].iov_len = stat == ACCEPT_SUCCESS ? res.len : 0;
	atomic_fetch_add(&c->cb_count, 1);
	nfs4clnt_conn_send_recordv(c, iov, 2);
}

void *clnt_cb_thread(void *arg)
{
	struct nfs4clnt_conn *c = arg;
	uint8_t *out = malloc(CLNT_CB_REPLY_MAX);

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct clnt_rec *r;

		while (!c->cbq && !c->stopping && !c->closed)
			pthread_cond_wait(&c->cond, &c->lock);
		r = c->cbq;
		if (!r)
			break;
		c->cbq = r->next;
		if (!c->cbq)
			c->cbq_tail = NULL;
		pthread_mutex_unlock(&c->lock);
		if (out)
			cb_answer(c, r->buf, r->len, out);
		free(r->buf);
		free(r);
		pthread_mutex_lock(&c->lock);
		if (c->stopping)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	free(out);
	return NULL;
}
