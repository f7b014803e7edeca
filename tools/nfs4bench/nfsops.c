/*
 * COMPOUND building and result decoding for the ops nfs4bench sends. Arguments
 * are encoded with the generated codecs (xdr/nfs4_xdr.h); every successful
 * result body is decoded, so a server that answers with a malformed result is
 * an error, not a silent success.
 */
#include <errno.h>
#include <string.h>

#include "nb.h"

/* OPEN4_SHARE_ACCESS_WANT_NO_DELEG (RFC 8881 §18.16.3): the bench never handles recalls. */
#define NB_WANT_NO_DELEG 0x0400u

bool nb_call_init(struct nb_call *c, struct nfs4clnt_session *sess)
{
	memset(c, 0, sizeof(*c));
	c->sess = sess;
	c->cmp = nfs4clnt_compound_new("nfs4bench", 1);
	return c->cmp != NULL;
}

void nb_call_fini(struct nb_call *c)
{
	nfs4clnt_compound_free(c->cmp);
	c->cmp = NULL;
}

void nb_begin(struct nb_call *c)
{
	nfs4clnt_compound_reset(c->cmp);
	c->bad = false;
}

static struct xdr_enc *add(struct nb_call *c, uint32_t op)
{
	struct xdr_enc *x = nfs4clnt_compound_add(c->cmp, op);

	if (!x)
		c->bad = true;
	return x;
}

static void check(struct nb_call *c, bool ok)
{
	if (!ok)
		c->bad = true;
}

void nb_add_putrootfh(struct nb_call *c)
{
	add(c, OP_PUTROOTFH);
}

void nb_add_putfh(struct nb_call *c, const struct nb_fh *fh)
{
	nfs_fh4 o = {.len = fh->len, .data = fh->data};
	struct xdr_enc *x = add(c, OP_PUTFH);

	check(c, x && xdr_enc_nfs_fh4(x, &o));
}

void nb_add_lookup(struct nb_call *c, const char *name)
{
	component4 n = xdr_opaque_str(name);
	struct xdr_enc *x = add(c, OP_LOOKUP);

	check(c, x && xdr_enc_component4(x, &n));
}

void nb_add_getfh(struct nb_call *c)
{
	add(c, OP_GETFH);
}

static void add_getattr_mask(struct nb_call *c, uint32_t w0, uint32_t w1)
{
	uint32_t w[2] = {w0, w1};
	bitmap4 b = {2, w};
	struct xdr_enc *x = add(c, OP_GETATTR);

	check(c, x && xdr_enc_bitmap4(x, &b));
}

#define BIT(a) (1u << ((a) % 32))

void nb_add_getattr_std(struct nb_call *c)
{
	add_getattr_mask(c,
			 BIT(FATTR4_TYPE) | BIT(FATTR4_CHANGE) | BIT(FATTR4_SIZE) |
				 BIT(FATTR4_FSID) | BIT(FATTR4_FILEID),
			 BIT(FATTR4_MODE) | BIT(FATTR4_NUMLINKS) | BIT(FATTR4_OWNER) |
				 BIT(FATTR4_OWNER_GROUP) | BIT(FATTR4_RAWDEV) |
				 BIT(FATTR4_SPACE_USED) | BIT(FATTR4_TIME_ACCESS) |
				 BIT(FATTR4_TIME_METADATA) | BIT(FATTR4_TIME_MODIFY) |
				 BIT(FATTR4_MOUNTED_ON_FILEID));
}

void nb_add_getattr_size(struct nb_call *c)
{
	add_getattr_mask(c, BIT(FATTR4_SIZE), 0);
}

/* fattr4 with only the mode (attribute 33, in the second bitmap word). */
static struct fattr4 mode_attr(uint32_t w[2], uint8_t val[4], uint32_t mode)
{
	w[0] = 0;
	w[1] = BIT(FATTR4_MODE);
	xdr_put_be32(val, mode);
	return (struct fattr4){.attrmask = {2, w}, .attr_vals = {4, val}};
}

void nb_add_mkdir(struct nb_call *c, const char *name)
{
	uint32_t w[2];
	uint8_t v[4];
	struct CREATE4args a = {.objtype = {.type = NF4DIR},
				.objname = xdr_opaque_str(name),
				.createattrs = mode_attr(w, v, 0755)};
	struct xdr_enc *x = add(c, OP_CREATE);

	check(c, x && xdr_enc_CREATE4args(x, &a));
}

void nb_add_open(struct nb_call *c, uint64_t clientid, const char *owner, const char *name,
		 uint32_t access, bool create)
{
	uint32_t w[2];
	uint8_t v[4];
	struct OPEN4args a = {.seqid = 0,
			      .share_access = access | NB_WANT_NO_DELEG,
			      .share_deny = OPEN4_SHARE_DENY_NONE,
			      .owner = {.clientid = clientid, .owner = xdr_opaque_str(owner)},
			      .claim = {.claim = CLAIM_NULL, .u.file = xdr_opaque_str(name)}};
	struct xdr_enc *x = add(c, OP_OPEN);

	if (create) {
		a.openhow.opentype = OPEN4_CREATE;
		a.openhow.u.how.mode = UNCHECKED4;
		a.openhow.u.how.u.createattrs = mode_attr(w, v, 0644);
	} else {
		a.openhow.opentype = OPEN4_NOCREATE;
	}
	check(c, x && xdr_enc_OPEN4args(x, &a));
}

void nb_add_close(struct nb_call *c, const struct stateid4 *sid)
{
	struct CLOSE4args a = {.seqid = 0, .open_stateid = *sid};
	struct xdr_enc *x = add(c, OP_CLOSE);

	check(c, x && xdr_enc_CLOSE4args(x, &a));
}

void nb_add_read(struct nb_call *c, const struct stateid4 *sid, uint64_t off, uint32_t count)
{
	struct READ4args a = {.stateid = *sid, .offset = off, .count = count};
	struct xdr_enc *x = add(c, OP_READ);

	check(c, x && xdr_enc_READ4args(x, &a));
}

void nb_add_write(struct nb_call *c, const struct stateid4 *sid, uint64_t off, const void *data,
		  uint32_t len, uint32_t stable)
{
	struct xdr_enc *x = add(c, OP_WRITE);

	/* WRITE4args by hand: the data is sent from the caller's buffer, not copied. */
	check(c, x && xdr_enc_stateid4(x, sid) && xdr_enc_u64(x, off) && xdr_enc_u32(x, stable) &&
			 nfs4clnt_compound_add_data(c->cmp, data, len));
}

void nb_add_commit(struct nb_call *c, uint64_t off, uint32_t count)
{
	struct COMMIT4args a = {.offset = off, .count = count};
	struct xdr_enc *x = add(c, OP_COMMIT);

	check(c, x && xdr_enc_COMMIT4args(x, &a));
}

void nb_add_remove(struct nb_call *c, const char *name)
{
	component4 n = xdr_opaque_str(name);
	struct xdr_enc *x = add(c, OP_REMOVE);

	check(c, x && xdr_enc_component4(x, &n));
}

void nb_add_rename(struct nb_call *c, const char *from, const char *to)
{
	struct RENAME4args a = {.oldname = xdr_opaque_str(from), .newname = xdr_opaque_str(to)};
	struct xdr_enc *x = add(c, OP_RENAME);

	check(c, x && xdr_enc_RENAME4args(x, &a));
}

void nb_add_savefh(struct nb_call *c)
{
	add(c, OP_SAVEFH);
}

/* READDIR as a plain directory listing asks: type and fileid of each entry. */
void nb_add_readdir(struct nb_call *c, uint64_t cookie, const uint8_t verf[8], uint32_t maxcount)
{
	uint32_t w[1] = {BIT(FATTR4_TYPE) | BIT(FATTR4_FILEID)};
	struct READDIR4args a = {.cookie = cookie,
				 .dircount = maxcount,
				 .maxcount = maxcount,
				 .attr_request = {1, w}};
	struct xdr_enc *x = add(c, OP_READDIR);

	memcpy(a.cookieverf.data, verf, 8);
	check(c, x && xdr_enc_READDIR4args(x, &a));
}

/* GETATTR: the size when it is the only attribute returned (nb_add_getattr_size). */
static bool dec_getattr(struct xdr_dec *x, struct nb_out *o)
{
	struct GETATTR4resok ok;

	if (!xdr_dec_GETATTR4resok(x, &ok))
		return false;
	o->has_size = ok.obj_attributes.attrmask.len >= 1 &&
		      ok.obj_attributes.attrmask.val[0] == BIT(FATTR4_SIZE) &&
		      ok.obj_attributes.attr_vals.len == 8;
	for (uint32_t i = 1; o->has_size && i < ok.obj_attributes.attrmask.len; i++)
		o->has_size = ok.obj_attributes.attrmask.val[i] == 0;
	if (o->has_size)
		o->size = (uint64_t)xdr_get_be32(ok.obj_attributes.attr_vals.data) << 32 |
			  xdr_get_be32(ok.obj_attributes.attr_vals.data + 4);
	return true;
}

static bool dec_readdir(struct xdr_dec *x, struct nb_out *o)
{
	struct READDIR4resok ok;

	if (!xdr_dec_READDIR4resok(x, &ok))
		return false;
	memcpy(o->cookieverf, ok.cookieverf.data, 8);
	o->nentries = 0;
	for (struct entry4 *e = ok.reply.entries; e; e = e->nextentry) {
		o->nentries++;
		o->cookie = e->cookie;
	}
	o->eof = ok.reply.eof;
	return true;
}

/* Decodes the body of a successful result of op into o. */
static bool dec_body(struct xdr_dec *x, uint32_t op, struct nb_out *o)
{
	switch (op) {
	case OP_PUTFH:
	case OP_PUTROOTFH:
	case OP_LOOKUP:
	case OP_SAVEFH:
		return true; /* nothing after the status */
	case OP_GETFH: {
		struct GETFH4resok ok;

		if (!xdr_dec_GETFH4resok(x, &ok) || ok.object.len > NB_FHMAX)
			return false;
		o->fh.len = ok.object.len;
		memcpy(o->fh.data, ok.object.data, ok.object.len);
		return true;
	}
	case OP_GETATTR:
		return dec_getattr(x, o);
	case OP_CREATE: {
		struct CREATE4resok ok;
		return xdr_dec_CREATE4resok(x, &ok);
	}
	case OP_OPEN: {
		struct OPEN4resok ok;

		if (!xdr_dec_OPEN4resok(x, &ok))
			return false;
		o->sid = ok.stateid;
		o->deleg = ok.delegation.delegation_type;
		return true;
	}
	case OP_CLOSE:
		return xdr_dec_stateid4(x, &o->sid);
	case OP_READ: {
		struct READ4resok ok;

		if (!xdr_dec_READ4resok(x, &ok))
			return false;
		o->nread = ok.data.len;
		o->eof = ok.eof;
		return true;
	}
	case OP_WRITE: {
		struct WRITE4resok ok;

		if (!xdr_dec_WRITE4resok(x, &ok))
			return false;
		o->nwritten = ok.count;
		return true;
	}
	case OP_COMMIT: {
		struct COMMIT4resok ok;
		return xdr_dec_COMMIT4resok(x, &ok);
	}
	case OP_REMOVE: {
		struct REMOVE4resok ok;
		return xdr_dec_REMOVE4resok(x, &ok);
	}
	case OP_RENAME: {
		struct RENAME4resok ok;
		return xdr_dec_RENAME4resok(x, &ok);
	}
	case OP_READDIR:
		return dec_readdir(x, o);
	default:
		return false;
	}
}

int nb_send(struct nb_call *c)
{
	struct nfs4clnt_seq_res seq;
	struct nfs4clnt_res res;
	uint32_t op, st;
	int err;

	c->out.failed_op = 0;
	if (c->bad)
		return -EINVAL;
	err = nfs4clnt_session_compound(c->sess, c->cmp, false, NB_TIMEOUT_MS, &res, &seq);
	if (err < 0) {
		nfs4clnt_res_free(&res);
		return err;
	}
	if (seq.status != NFS4_OK) {
		c->out.failed_op = OP_SEQUENCE;
		err = seq.status == (uint32_t)-1 ? -EPROTO : (int)seq.status;
		goto out;
	}
	err = (int)res.status;
	while (nfs4clnt_res_next(&res, &op, &st)) {
		if (st != NFS4_OK) {
			c->out.failed_op = op;
			err = (int)st;
			goto out;
		}
		if (!dec_body(nfs4clnt_res_body(&res), op, &c->out)) {
			c->out.failed_op = op;
			err = -EPROTO;
			goto out;
		}
	}
	/* Every op answered OK: the COMPOUND status must agree, and no result may be missing. */
	if (err == NFS4_OK && res.index != res.numres)
		err = -EPROTO;
out:
	nfs4clnt_res_free(&res);
	return err;
}

const char *nb_op_name(uint32_t op)
{
	switch (op) {
	case OP_SEQUENCE:
		return "SEQUENCE";
	case OP_PUTFH:
		return "PUTFH";
	case OP_PUTROOTFH:
		return "PUTROOTFH";
	case OP_LOOKUP:
		return "LOOKUP";
	case OP_GETFH:
		return "GETFH";
	case OP_GETATTR:
		return "GETATTR";
	case OP_CREATE:
		return "CREATE";
	case OP_OPEN:
		return "OPEN";
	case OP_CLOSE:
		return "CLOSE";
	case OP_READ:
		return "READ";
	case OP_WRITE:
		return "WRITE";
	case OP_COMMIT:
		return "COMMIT";
	case OP_REMOVE:
		return "REMOVE";
	case OP_RENAME:
		return "RENAME";
	case OP_SAVEFH:
		return "SAVEFH";
	case OP_READDIR:
		return "READDIR";
	default:
		return "op";
	}
}
