/* Helpers for the open/lock state protocol tests: see state_helpers.h. */
#include <errno.h>
#include <string.h>

#include "state_helpers.h"

#define ST_TIMEOUT_MS 30000

const struct stateid4 st_current_sid = {1, {0}};
const struct stateid4 st_invalid_sid = {0xffffffffu, {0}};

bool st_sid_same_other(const struct stateid4 *a, const struct stateid4 *b)
{
	return memcmp(a->other, b->other, sizeof(a->other)) == 0;
}

struct stateid4 st_sid_seq(const struct stateid4 *sid, uint32_t seqid)
{
	struct stateid4 r = *sid;

	r.seqid = seqid;
	return r;
}

int st_send(struct nfs4clnt_session *s, const struct nfs4clnt_compound *cmp,
	    struct nfs4clnt_res *res)
{
	return nfs4clnt_session_compound(s, cmp, false, ST_TIMEOUT_MS, res, NULL);
}

/* ------------------------------------------------------- one COMPOUND */

bool st_status_only(uint32_t op)
{
	switch (op) {
	case OP_PUTFH:
	case OP_PUTROOTFH:
	case OP_PUTPUBFH:
	case OP_SAVEFH:
	case OP_RESTOREFH:
	case OP_LOOKUP:
	case OP_LOOKUPP:
	case OP_VERIFY:
	case OP_NVERIFY:
	case OP_OPENATTR:
	case OP_FREE_STATEID:
	case OP_DELEGRETURN:
	case OP_DELEGPURGE:
	case OP_RECLAIM_COMPLETE:
		return true;
	default:
		return false;
	}
}

struct xdr_enc *st_call_add(struct st_call *c, uint32_t op)
{
	struct xdr_enc *x;

	if (!c->cmp || c->nops == ST_CALL_MAXOPS)
		return NULL;
	x = nfs4clnt_compound_add(c->cmp, op);
	if (x)
		c->ops[c->nops++] = op;
	return x;
}

bool st_call_add_putfh(struct st_call *c, const struct fo_fh *fh)
{
	nfs_fh4 o = {.len = fh->len, .data = fh->data};
	struct xdr_enc *x = st_call_add(c, OP_PUTFH);

	return x && xdr_enc_nfs_fh4(x, &o);
}

struct xdr_enc *st_call_start(struct st_call *c, const struct fo_fh *fh, uint32_t op)
{
	memset(c, 0, sizeof(*c));
	c->cmp = nfs4clnt_compound_new("state", 1);
	if (fh && !st_call_add_putfh(c, fh))
		return NULL;
	return st_call_add(c, op);
}

int st_call_next(struct st_call *c, uint32_t op)
{
	uint32_t got, st;

	if (!nfs4clnt_res_next(&c->res, &got, &st)) {
		c->cut = true;
		/* e.g. SEQUENCE failed: the COMPOUND's status */
		return c->res.status != NFS4_OK ? (int)c->res.status : -EPROTO;
	}
	if (got != op)
		return -EPROTO;
	c->cur = op;
	if (st_status_only(op))
		nfs4clnt_res_body(&c->res); /* nothing after the status: consumed */
	return (int)st;
}

int st_call_run(struct nfs4clnt_session *s, struct st_call *c, uint32_t op)
{
	int st = st_send(s, c->cmp, &c->res);

	if (st < 0)
		return st;
	c->sent = true;
	for (uint32_t i = 0; i < c->nops; i++) {
		st = st_call_next(c, c->ops[i]);
		if (st != NFS4_OK || c->ops[i] == op)
			return st;
	}
	return -EINVAL; /* op was not in the COMPOUND */
}

struct xdr_dec *st_call_body(struct st_call *c)
{
	return nfs4clnt_res_body(&c->res);
}

void st_call_end(struct st_call *c)
{
	if (c->sent)
		nfs4clnt_res_free(&c->res);
	nfs4clnt_compound_free(c->cmp);
	memset(c, 0, sizeof(*c));
}

/* A call whose arguments did not encode: ends it. */
static int st_call_fail(struct st_call *c)
{
	st_call_end(c);
	return -ENOMEM;
}

/* ------------------------------------------------------------ decoders */

void st_cinfo(const struct change_info4 *c, struct fo_cinfo *ci)
{
	if (ci) {
		ci->atomic = c->atomic;
		ci->before = c->before;
		ci->after = c->after;
	}
}

bool st_dec_denied(struct xdr_dec *x, struct st_denied *denied)
{
	struct LOCK4denied d;

	if (!xdr_dec_LOCK4denied(x, &d) || d.owner.owner.len > ST_OWNER_MAX)
		return false;
	if (denied) {
		denied->offset = d.offset;
		denied->length = d.length;
		denied->locktype = d.locktype;
		denied->clientid = d.owner.clientid;
		denied->olen = d.owner.owner.len;
		memcpy(denied->owner, d.owner.owner.data, d.owner.owner.len);
	}
	return true;
}

bool st_dec_read(struct xdr_dec *x, uint32_t count, void *buf, uint32_t *n, bool *eof)
{
	struct READ4resok ok;

	if (!xdr_dec_READ4resok(x, &ok) || ok.data.len > count)
		return false;
	if (buf)
		memcpy(buf, ok.data.data, ok.data.len);
	if (n)
		*n = ok.data.len;
	if (eof)
		*eof = ok.eof;
	return true;
}

/* ----------------------------------------------------------------- ops */

static bool st_enc_fattr(struct xdr_enc *x, const struct fo_sattr *sa)
{
	struct fo_sattr none;

	if (!sa) {
		fo_sa_init(&none);
		sa = &none;
	}
	return fo_sa_encode(sa, x);
}

/* OPEN4args, by hand for openflag4 (whose fattr4 comes from fo_sattr). */
static bool st_enc_open(struct xdr_enc *x, const struct st_open *o)
{
	struct state_owner4 ow = {.clientid = o->clientid, .owner = xdr_opaque_str(o->owner)};
	struct open_claim4 cl;
	bool ok;

	ok = xdr_enc_u32(x, 0) && xdr_enc_u32(x, o->access) && xdr_enc_u32(x, o->deny) &&
	     xdr_enc_state_owner4(x, &ow) &&
	     xdr_enc_u32(x, o->create ? OPEN4_CREATE : OPEN4_NOCREATE);
	if (ok && o->create) {
		ok = xdr_enc_u32(x, o->createmode);
		switch (o->createmode) {
		case UNCHECKED4:
		case GUARDED4:
			ok = ok && st_enc_fattr(x, o->attrs);
			break;
		case EXCLUSIVE4:
			ok = ok && xdr_enc_opaque_fixed(x, o->verf, 8);
			break;
		default: /* EXCLUSIVE4_1 */
			ok = ok && xdr_enc_opaque_fixed(x, o->verf, 8) && st_enc_fattr(x, o->attrs);
			break;
		}
	}
	memset(&cl, 0, sizeof(cl));
	cl.claim = (enum open_claim_type4)o->claim;
	switch (o->claim) {
	case CLAIM_NULL:
		cl.u.file = xdr_opaque_str(o->name);
		break;
	case CLAIM_DELEGATE_PREV:
		cl.u.file_delegate_prev = xdr_opaque_str(o->name);
		break;
	case CLAIM_PREVIOUS:
		cl.u.delegate_type = (enum open_delegation_type4)o->deleg_type;
		break;
	case CLAIM_DELEGATE_CUR:
		cl.u.delegate_cur_info.delegate_stateid = o->deleg_sid;
		cl.u.delegate_cur_info.file = xdr_opaque_str(o->name);
		break;
	case CLAIM_DELEG_CUR_FH:
		cl.u.oc_delegate_stateid = o->deleg_sid;
		break;
	default: /* CLAIM_FH, CLAIM_DELEG_PREV_FH: void */
		break;
	}
	return ok && xdr_enc_open_claim4(x, &cl);
}

static bool st_claim_on_fh(uint32_t claim)
{
	return claim == CLAIM_FH || claim == CLAIM_PREVIOUS || claim == CLAIM_DELEG_CUR_FH ||
	       claim == CLAIM_DELEG_PREV_FH;
}

bool st_add_open(struct nfs4clnt_compound *cmp, const struct st_open *o)
{
	struct xdr_enc *x = nfs4clnt_compound_add(cmp, OP_OPEN);

	return x && st_enc_open(x, o);
}

bool st_dec_open(struct xdr_dec *x, struct st_open *o)
{
	struct OPEN4resok ok;

	if (!xdr_dec_OPEN4resok(x, &ok))
		return false;
	o->sid = ok.stateid;
	st_cinfo(&ok.cinfo, &o->cinfo);
	o->rflags = ok.rflags;
	memset(&o->attrset, 0, sizeof(o->attrset));
	o->attrset.n = ok.attrset.len < 3 ? ok.attrset.len : 3;
	for (uint32_t i = 0; i < o->attrset.n; i++)
		o->attrset.w[i] = ok.attrset.val[i];
	o->deleg = ok.delegation.delegation_type;
	if (o->deleg == OPEN_DELEGATE_READ)
		o->dsid = ok.delegation.u.read.stateid;
	else if (o->deleg == OPEN_DELEGATE_WRITE)
		o->dsid = ok.delegation.u.write.stateid;
	o->why = o->deleg == OPEN_DELEGATE_NONE_EXT ? ok.delegation.u.od_whynone.ond_why : 0;
	return true;
}

int st_create_file(struct nfs4clnt_session *s, struct st_open *o, const void *data, uint32_t len)
{
	int st = st_open(s, o);

	if (st == NFS4_OK && len)
		st = st_write(s, &o->ofh, &o->sid, 0, data, len);
	if (st == NFS4_OK)
		st = st_close(s, &o->ofh, &o->sid, NULL);
	return st;
}

int st_mkfile(struct nfs4clnt_session *s, uint64_t clientid, const struct fo_fh *dir,
	      const char *name, const void *data, uint32_t len, struct fo_fh *fh)
{
	struct st_open o = {.dir = dir,
			    .name = name,
			    .clientid = clientid,
			    .owner = "mkfile",
			    .access = OPEN4_SHARE_ACCESS_BOTH,
			    .deny = OPEN4_SHARE_DENY_NONE,
			    .create = true,
			    .createmode = UNCHECKED4};
	int st = st_create_file(s, &o, data, len);

	if (st == NFS4_OK && fh)
		*fh = o.ofh;
	return st;
}

int st_open(struct nfs4clnt_session *s, struct st_open *o)
{
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, st_claim_on_fh(o->claim) ? o->fh : o->dir, OP_OPEN);
	struct GETFH4resok fh;
	int st;

	if (!x || !st_enc_open(x, o) || !st_call_add(&c, OP_GETFH))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_OPEN);
	if (st == NFS4_OK) {
		if (!st_dec_open(st_call_body(&c), o) || st_call_next(&c, OP_GETFH) != NFS4_OK ||
		    !xdr_dec_GETFH4resok(st_call_body(&c), &fh) || fh.object.len > FO_FHMAX) {
			st = -EPROTO;
		} else {
			o->ofh.len = fh.object.len;
			memcpy(o->ofh.data, fh.object.data, fh.object.len);
		}
	}
	st_call_end(&c);
	return st;
}

int st_open_simple(struct nfs4clnt_session *s, uint64_t clientid, const struct fo_fh *dir,
		   const char *name, const char *owner, uint32_t access, uint32_t deny, bool create,
		   struct stateid4 *sid, struct fo_fh *fh)
{
	struct st_open o = {.dir = dir,
			    .name = name,
			    .clientid = clientid,
			    .owner = owner,
			    .access = access,
			    .deny = deny,
			    .create = create,
			    .createmode = UNCHECKED4};
	int st = st_open(s, &o);

	if (st == NFS4_OK) {
		if (sid)
			*sid = o.sid;
		if (fh)
			*fh = o.ofh;
	}
	return st;
}

/*
 * Runs c, whose last op is op (CLOSE, OPEN_DOWNGRADE, LOCKU, LOCK or LOCKT), and
 * ends it: the OK body is a bare stateid4 (LOCKT: void), NFS4ERR_DENIED's
 * (LOCK, LOCKT) a LOCK4denied.
 */
static int st_sid_op(struct nfs4clnt_session *s, struct st_call *c, uint32_t op,
		     struct stateid4 *out, struct st_denied *denied)
{
	int st = st_call_run(s, c, op);

	if (st == NFS4_OK && op != OP_LOCKT) {
		struct stateid4 sid;

		if (!xdr_dec_stateid4(st_call_body(c), &sid))
			st = -EPROTO;
		else if (out)
			*out = sid;
	} else if (st == NFS4ERR_DENIED && (op == OP_LOCK || op == OP_LOCKT)) {
		if (!st_dec_denied(st_call_body(c), denied))
			st = -EPROTO;
	}
	st_call_end(c);
	return st;
}

int st_close(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     struct stateid4 *out)
{
	struct CLOSE4args a = {.seqid = 0, .open_stateid = *sid};
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_CLOSE);

	if (!x || !xdr_enc_CLOSE4args(x, &a))
		return st_call_fail(&c);
	return st_sid_op(s, &c, OP_CLOSE, out, NULL);
}

int st_downgrade(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		 uint32_t access, uint32_t deny, struct stateid4 *out)
{
	struct OPEN_DOWNGRADE4args a = {
		.open_stateid = *sid, .seqid = 0, .share_access = access, .share_deny = deny};
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_OPEN_DOWNGRADE);

	if (!x || !xdr_enc_OPEN_DOWNGRADE4args(x, &a))
		return st_call_fail(&c);
	return st_sid_op(s, &c, OP_OPEN_DOWNGRADE, out, NULL);
}

int st_lock_args(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct LOCK4args *a,
		 struct stateid4 *out, struct st_denied *denied)
{
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_LOCK);

	if (!x || !xdr_enc_LOCK4args(x, a))
		return st_call_fail(&c);
	return st_sid_op(s, &c, OP_LOCK, out, denied);
}

int st_lock_new(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
		uint64_t len, const struct stateid4 *open_sid, uint64_t clientid,
		const char *lock_owner, struct stateid4 *out, struct st_denied *denied)
{
	struct LOCK4args a;

	memset(&a, 0, sizeof(a));
	a.locktype = (enum nfs_lock_type4)type;
	a.offset = off;
	a.length = len;
	a.locker.new_lock_owner = true;
	a.locker.u.open_owner.open_stateid = *open_sid;
	a.locker.u.open_owner.lock_owner.clientid = clientid;
	a.locker.u.open_owner.lock_owner.owner = xdr_opaque_str(lock_owner);
	return st_lock_args(s, fh, &a, out, denied);
}

int st_lock_exist(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
		  uint64_t len, const struct stateid4 *lock_sid, struct stateid4 *out,
		  struct st_denied *denied)
{
	struct LOCK4args a;

	memset(&a, 0, sizeof(a));
	a.locktype = (enum nfs_lock_type4)type;
	a.offset = off;
	a.length = len;
	a.locker.new_lock_owner = false;
	a.locker.u.lock_owner.lock_stateid = *lock_sid;
	return st_lock_args(s, fh, &a, out, denied);
}

int st_lockt(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
	     uint64_t len, uint64_t clientid, const char *owner, struct st_denied *denied)
{
	struct LOCKT4args a = {.locktype = (enum nfs_lock_type4)type,
			       .offset = off,
			       .length = len,
			       .owner = {.clientid = clientid, .owner = xdr_opaque_str(owner)}};
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_LOCKT);

	if (!x || !xdr_enc_LOCKT4args(x, &a))
		return st_call_fail(&c);
	return st_sid_op(s, &c, OP_LOCKT, NULL, denied);
}

int st_locku(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type,
	     const struct stateid4 *lock_sid, uint64_t off, uint64_t len, struct stateid4 *out)
{
	struct LOCKU4args a = {.locktype = (enum nfs_lock_type4)type,
			       .seqid = 0,
			       .lock_stateid = *lock_sid,
			       .offset = off,
			       .length = len};
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_LOCKU);

	if (!x || !xdr_enc_LOCKU4args(x, &a))
		return st_call_fail(&c);
	return st_sid_op(s, &c, OP_LOCKU, out, NULL);
}

int st_read(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	    uint64_t off, uint32_t count, void *buf, uint32_t *n)
{
	struct READ4args a = {.stateid = *sid, .offset = off, .count = count};
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_READ);
	int st;

	if (!x || !xdr_enc_READ4args(x, &a))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_READ);
	if (st == NFS4_OK && !st_dec_read(st_call_body(&c), count, buf, n, NULL))
		st = -EPROTO;
	st_call_end(&c);
	return st;
}

int st_write(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     uint64_t off, const void *data, uint32_t len)
{
	struct WRITE4args a = {
		.stateid = *sid, .offset = off, .stable = FILE_SYNC4, .data = {len, data}};
	struct WRITE4resok ok;
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_WRITE);
	int st;

	if (!x || !xdr_enc_WRITE4args(x, &a))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_WRITE);
	if (st == NFS4_OK && (!xdr_dec_WRITE4resok(st_call_body(&c), &ok) || ok.count != len))
		st = -EPROTO;
	st_call_end(&c);
	return st;
}

int st_truncate(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		uint64_t size)
{
	struct fo_sattr sa;
	bitmap4 set;
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_SETATTR);
	int st;

	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, size);
	if (!x || !xdr_enc_stateid4(x, sid) || !fo_sa_encode(&sa, x))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_SETATTR);
	/* SETATTR4res carries attrsset whatever the status, once SETATTR's result is there. */
	if (st >= 0 && c.cur == OP_SETATTR && !xdr_dec_bitmap4(st_call_body(&c), &set))
		st = -EPROTO;
	st_call_end(&c);
	return st;
}

int st_test_stateids(struct nfs4clnt_session *s, const struct stateid4 *sids, uint32_t n,
		     uint32_t *codes)
{
	struct TEST_STATEID4resok rok;
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, NULL, OP_TEST_STATEID);
	bool ok = x && xdr_enc_u32(x, n);
	int st;

	for (uint32_t i = 0; ok && i < n; i++)
		ok = xdr_enc_stateid4(x, &sids[i]);
	if (!ok)
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_TEST_STATEID);
	if (st == NFS4_OK) {
		if (!xdr_dec_TEST_STATEID4resok(st_call_body(&c), &rok) ||
		    rok.tsr_status_codes.len != n) {
			st = -EPROTO;
		} else {
			for (uint32_t i = 0; i < n; i++)
				codes[i] = rok.tsr_status_codes.val[i];
		}
	}
	st_call_end(&c);
	return st;
}

int st_free_stateid(struct nfs4clnt_session *s, const struct stateid4 *sid)
{
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, NULL, OP_FREE_STATEID);
	int st;

	if (!x || !xdr_enc_stateid4(x, sid))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_FREE_STATEID);
	st_call_end(&c);
	return st;
}

int st_delegreturn(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid)
{
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, fh, OP_DELEGRETURN);
	int st;

	if (!x || !xdr_enc_stateid4(x, sid))
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_DELEGRETURN);
	st_call_end(&c);
	return st;
}

int st_delegpurge(struct nfs4clnt_session *s)
{
	struct st_call c;
	struct xdr_enc *x = st_call_start(&c, NULL, OP_DELEGPURGE);
	int st;

	if (!x || !xdr_enc_u64(x, 0)) /* the server takes the session's client (§18.5.3) */
		return st_call_fail(&c);
	st = st_call_run(s, &c, OP_DELEGPURGE);
	st_call_end(&c);
	return st;
}
