/* Data operations (RFC 8881 §18): READ, WRITE, COMMIT. */
#include <errno.h>
#include <string.h>
#include <sys/param.h>

#include "nfs4/deleg.h"
#include "nfs4/grace.h"
#include "nfs4/stateid.h"
#include "nfs4/status.h"

/* READ, WRITE and COMMIT work on regular files only. */
static uint32_t nfs4_io_file(const struct nfs4_fh *fh, const struct be_cred *cred)
{
	struct be_attr attr;
	int rc;

	if (fh->kind == NFS4_FH_PSEUDO)
		return NFS4ERR_ISDIR;
	rc = fh->exp->be->ops->getattr(fh->exp->be, cred, &fh->bfh, &attr);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	return nfs4_status_regular(attr.type);
}

/* Reads straight into the reply: eof, then the data as an opaque. */
uint32_t nfs4_op_read(struct nfs4_compound *c, void *args, void *res)
{
	const struct READ4args *a = args;
	struct xdr_enc *out = c->res;
	size_t body = out->len, room;
	struct be_cred cred;
	struct nfs4_fh *fh;
	uint32_t status, count;
	size_t got = 0;
	bool eof = false;
	uint8_t *p;
	int rc;

	status = nfs4_cur_fh(c, &fh, NULL, &cred);
	if (status == NFS4_OK)
		status = nfs4_io_file(fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_grace_check_io(c, &a->stateid, false);
	if (status == NFS4_OK)
		status = nfs4_stateid_check_io(c, &a->stateid, fh, false);
	if (status == NFS4_OK)
		status = nfs4_deleg_break_fh(c, fh, false); /* another client's write delegation */
	if (status != NFS4_OK)
		return status;
	room = out->cap > out->len + 8 ? out->cap - out->len - 8 : 0;
	count = (uint32_t)MIN(MIN(a->count, NFS4_MAX_IO), room & ~(size_t)3);
	p = xdr_enc_reserve(out, 8 + (size_t)count);
	if (!p)
		return NFS4ERR_REP_TOO_BIG;
	rc = fh->exp->be->ops->read(fh->exp->be, &cred, &fh->bfh, a->offset, p + 8, count, &got,
				    &eof);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	xdr_put_be32(p, eof);
	xdr_put_be32(p + 4, (uint32_t)got);
	out->len = body + 8 + XDR_PAD(got);
	memset(p + 8 + got, 0, XDR_PAD(got) - got);
	return NFS4_OK;
}

/*
 * The WRITE's data, or its end, may still wait in the rpc layer's pipe
 * (struct rpc_bulk, found by bulk.c): a backend that takes it from there
 * gets it so, one copy fewer; for any other it is copied into place first.
 */
static int nfs4_write_data(struct nfs4_compound *c, const struct nfs4_fh *fh,
			   const struct be_cred *cred, const struct WRITE4args *a, size_t *written,
			   enum be_stable *committed)
{
	struct backend *be = fh->exp->be;
	struct rpc_bulk *b = &c->call->bulk;
	const uint8_t *d = a->data.data;
	enum be_stable how = (enum be_stable)a->stable;
	int rc;

	if (rpc_bulk_overlaps(b, d, a->data.len)) {
		if (be->ops->write_pipe && b->hole >= d && b->hole + b->len == d + a->data.len) {
			b->spent = true;
			rc = be->ops->write_pipe(be, cred, &fh->bfh, a->offset, d,
						 (size_t)(b->hole - d), b->fd, b->len, how, written,
						 committed);
			if (rc != -EOPNOTSUPP)
				return rc;
			b->spent = false; /* this file takes no splice: nothing was read */
		}
		rc = rpc_bulk_fill(b);
		if (rc < 0)
			return rc;
	}
	return be->ops->write(be, cred, &fh->bfh, a->offset, d, a->data.len, how, written,
			      committed);
}

uint32_t nfs4_op_write(struct nfs4_compound *c, void *args, void *res)
{
	const struct WRITE4args *a = args;
	struct WRITE4resok *ok = &((struct WRITE4res *)res)->u.resok4;
	enum be_stable committed;
	struct be_cred cred;
	struct nfs4_fh *fh;
	size_t written = 0;
	uint32_t status;
	int rc;

	status = nfs4_cur_fh_writable(c, &fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_io_file(fh, &cred);
	if (status == NFS4_OK)
		status = nfs4_grace_check_io(c, &a->stateid, true);
	if (status == NFS4_OK)
		status = nfs4_stateid_check_io(c, &a->stateid, fh, true);
	if (status == NFS4_OK)
		status = nfs4_deleg_break_fh(c, fh, true);
	if (status != NFS4_OK)
		return status;
	if (a->stable > FILE_SYNC4)
		return NFS4ERR_INVAL;
	rc = nfs4_write_data(c, fh, &cred, a, &written, &committed);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	ok->count = (uint32_t)written;
	ok->committed = (enum stable_how4)committed;
	ok->writeverf = c->srv->write_verf;
	return NFS4_OK;
}

uint32_t nfs4_op_commit(struct nfs4_compound *c, void *args, void *res)
{
	const struct COMMIT4args *a = args;
	struct COMMIT4resok *ok = &((struct COMMIT4res *)res)->u.resok4;
	struct be_cred cred;
	struct nfs4_fh *fh;
	uint32_t status;
	int rc;

	status = nfs4_cur_fh(c, &fh, NULL, &cred);
	if (status == NFS4_OK)
		status = nfs4_io_file(fh, &cred);
	if (status != NFS4_OK)
		return status;
	rc = fh->exp->be->ops->commit(fh->exp->be, &cred, &fh->bfh, a->offset, a->count);
	if (rc < 0)
		return nfs4_status_from_errno(rc);
	ok->writeverf = c->srv->write_verf;
	return NFS4_OK;
}
