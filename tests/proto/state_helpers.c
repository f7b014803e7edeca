/* Helpers for the open/lock state protocol tests: see state_helpers.h. */
#include <errno.h>
#include <string.h>

#include "state_helpers.h"

#define ST_TIMEOUT_MS 30000

const struct stateid4 st_anon_sid = {0, {0}};
const struct stateid4 st_bypass_sid = {
	0xffffffffu, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
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

/* The next result, which must be op's: its status, or -EPROTO. */
static int st_next(struct nfs4clnt_res *res, uint32_t op)
{
	uint32_t got, st;

	if (!nfs4clnt_res_next(res, &got, &st))
		return res->status != NFS4_OK ? (int)res->status
					      : -EPROTO; /* e.g. SEQUENCE failed */
	if (got != op)
		return -EPROTO;
	if (op == OP_PUTFH)
		nfs4clnt_res_body(res); /* status only */
	return (int)st;
}

/* A compound "PUTFH fh" (fh may be NULL: nothing), or NULL on ENOMEM. */
static struct nfs4clnt_compound *st_cmp(const struct fo_fh *fh)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("state", 1);

	if (cmp && fh) {
		nfs_fh4 o = {.len = fh->len, .data = fh->data};
		struct xdr_enc *x = nfs4clnt_compound_add(cmp, OP_PUTFH);

		if (!x || !xdr_enc_nfs_fh4(x, &o)) {
			nfs4clnt_compound_free(cmp);
			return NULL;
		}
	}
	return cmp;
}

/*
 * Sends cmp (PUTFH + op) and steps to op's result: its status, the PUTFH's if
 * that failed, or -errno. On 0/positive return the caller owns res.
 */
static int st_send_putfh_op(struct nfs4clnt_session *s, struct nfs4clnt_compound *cmp, uint32_t op,
			    struct nfs4clnt_res *res)
{
	int st = st_send(s, cmp, res);

	if (st < 0)
		return st;
	st = st_next(res, OP_PUTFH);
	if (st == NFS4_OK)
		st = st_next(res, op);
	if (st < 0)
		nfs4clnt_res_free(res);
	return st;
}

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
	o->cinfo.atomic = ok.cinfo.atomic;
	o->cinfo.before = ok.cinfo.before;
	o->cinfo.after = ok.cinfo.after;
	o->rflags = ok.rflags;
	memset(&o->attrset, 0, sizeof(o->attrset));
	o->attrset.n = ok.attrset.len < 3 ? ok.attrset.len : 3;
	for (uint32_t i = 0; i < o->attrset.n; i++)
		o->attrset.w[i] = ok.attrset.val[i];
	o->deleg = ok.delegation.delegation_type;
	o->why = o->deleg == OPEN_DELEGATE_NONE_EXT ? ok.delegation.u.od_whynone.ond_why : 0;
	return true;
}

int st_mkfile(struct nfs4clnt_session *s, uint64_t clientid, const struct fo_fh *dir,
	      const char *name, const void *data, uint32_t len, struct fo_fh *fh)
{
	struct stateid4 sid;
	int st = st_open_simple(s, clientid, dir, name, "mkfile", OPEN4_SHARE_ACCESS_BOTH,
				OPEN4_SHARE_DENY_NONE, true, &sid, fh);

	if (st != NFS4_OK)
		return st;
	if (len)
		st = st_write(s, fh, &sid, 0, data, len);
	if (st == NFS4_OK)
		st = st_close(s, fh, &sid, NULL);
	return st;
}

int st_open(struct nfs4clnt_session *s, struct st_open *o)
{
	struct nfs4clnt_compound *cmp = st_cmp(st_claim_on_fh(o->claim) ? o->fh : o->dir);
	struct nfs4clnt_res res;
	int st;

	if (!cmp)
		return -ENOMEM;
	if (!st_add_open(cmp, o) || !nfs4clnt_compound_add(cmp, OP_GETFH)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send_putfh_op(s, cmp, OP_OPEN, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	if (st == NFS4_OK) {
		struct GETFH4resok fh;

		if (!st_dec_open(nfs4clnt_res_body(&res), o)) {
			st = -EPROTO;
			goto out;
		}
		if (st_next(&res, OP_GETFH) != NFS4_OK ||
		    !xdr_dec_GETFH4resok(nfs4clnt_res_body(&res), &fh) ||
		    fh.object.len > FO_FHMAX) {
			st = -EPROTO;
			goto out;
		}
		o->ofh.len = fh.object.len;
		memcpy(o->ofh.data, fh.object.data, fh.object.len);
	}
out:
	nfs4clnt_res_free(&res);
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

/* PUTFH fh + op whose OK body is a bare stateid4 (CLOSE, OPEN_DOWNGRADE, LOCKU, LOCK). */
static int st_sid_op(struct nfs4clnt_session *s, struct nfs4clnt_compound *cmp, uint32_t op,
		     struct stateid4 *out, struct st_denied *denied)
{
	struct nfs4clnt_res res;
	int st = st_send_putfh_op(s, cmp, op, &res);

	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	if (st == NFS4_OK) {
		struct stateid4 sid;

		if (!xdr_dec_stateid4(nfs4clnt_res_body(&res), &sid))
			st = -EPROTO;
		else if (out)
			*out = sid;
	} else if (st == NFS4ERR_DENIED && (op == OP_LOCK || op == OP_LOCKT)) {
		struct LOCK4denied d;

		if (!xdr_dec_LOCK4denied(nfs4clnt_res_body(&res), &d) ||
		    d.owner.owner.len > ST_OWNER_MAX) {
			st = -EPROTO;
		} else if (denied) {
			denied->offset = d.offset;
			denied->length = d.length;
			denied->locktype = d.locktype;
			denied->clientid = d.owner.clientid;
			denied->olen = d.owner.owner.len;
			memcpy(denied->owner, d.owner.owner.data, d.owner.owner.len);
		}
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_close(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     struct stateid4 *out)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct CLOSE4args a = {.seqid = 0, .open_stateid = *sid};
	struct xdr_enc *x;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_CLOSE);
	if (!x || !xdr_enc_CLOSE4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	return st_sid_op(s, cmp, OP_CLOSE, out, NULL);
}

int st_downgrade(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		 uint32_t access, uint32_t deny, struct stateid4 *out)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct OPEN_DOWNGRADE4args a = {
		.open_stateid = *sid, .seqid = 0, .share_access = access, .share_deny = deny};
	struct xdr_enc *x;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_OPEN_DOWNGRADE);
	if (!x || !xdr_enc_OPEN_DOWNGRADE4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	return st_sid_op(s, cmp, OP_OPEN_DOWNGRADE, out, NULL);
}

int st_lock_args(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct LOCK4args *a,
		 struct stateid4 *out, struct st_denied *denied)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct xdr_enc *x;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_LOCK);
	if (!x || !xdr_enc_LOCK4args(x, a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	return st_sid_op(s, cmp, OP_LOCK, out, denied);
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
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct LOCKT4args a = {.locktype = (enum nfs_lock_type4)type,
			       .offset = off,
			       .length = len,
			       .owner = {.clientid = clientid, .owner = xdr_opaque_str(owner)}};
	struct xdr_enc *x;
	struct nfs4clnt_res res;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_LOCKT);
	if (!x || !xdr_enc_LOCKT4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	/* LOCKT4res has no OK body: decode DENIED via st_sid_op's path by hand. */
	st = st_send_putfh_op(s, cmp, OP_LOCKT, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	if (st == NFS4ERR_DENIED) {
		struct LOCK4denied d;

		if (!xdr_dec_LOCK4denied(nfs4clnt_res_body(&res), &d) ||
		    d.owner.owner.len > ST_OWNER_MAX) {
			st = -EPROTO;
		} else if (denied) {
			denied->offset = d.offset;
			denied->length = d.length;
			denied->locktype = d.locktype;
			denied->clientid = d.owner.clientid;
			denied->olen = d.owner.owner.len;
			memcpy(denied->owner, d.owner.owner.data, d.owner.owner.len);
		}
	} else if (st == NFS4_OK) {
		nfs4clnt_res_body(&res); /* void */
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_locku(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type,
	     const struct stateid4 *lock_sid, uint64_t off, uint64_t len, struct stateid4 *out)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct LOCKU4args a = {.locktype = (enum nfs_lock_type4)type,
			       .seqid = 0,
			       .lock_stateid = *lock_sid,
			       .offset = off,
			       .length = len};
	struct xdr_enc *x;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_LOCKU);
	if (!x || !xdr_enc_LOCKU4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	return st_sid_op(s, cmp, OP_LOCKU, out, NULL);
}

int st_read(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	    uint64_t off, uint32_t count, void *buf, uint32_t *n)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct READ4args a = {.stateid = *sid, .offset = off, .count = count};
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_READ);
	if (!x || !xdr_enc_READ4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send_putfh_op(s, cmp, OP_READ, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	if (st == NFS4_OK) {
		struct READ4resok ok;

		if (!xdr_dec_READ4resok(nfs4clnt_res_body(&res), &ok) || ok.data.len > count) {
			st = -EPROTO;
		} else {
			if (buf)
				memcpy(buf, ok.data.data, ok.data.len);
			if (n)
				*n = ok.data.len;
		}
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_write(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     uint64_t off, const void *data, uint32_t len)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct WRITE4args a = {
		.stateid = *sid, .offset = off, .stable = FILE_SYNC4, .data = {len, data}};
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_WRITE);
	if (!x || !xdr_enc_WRITE4args(x, &a)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send_putfh_op(s, cmp, OP_WRITE, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	if (st == NFS4_OK) {
		struct WRITE4resok ok;

		if (!xdr_dec_WRITE4resok(nfs4clnt_res_body(&res), &ok) || ok.count != len)
			st = -EPROTO;
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_truncate(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		uint64_t size)
{
	struct nfs4clnt_compound *cmp = st_cmp(fh);
	struct nfs4clnt_res res;
	struct fo_sattr sa;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, size);
	x = nfs4clnt_compound_add(cmp, OP_SETATTR);
	if (!x || !xdr_enc_stateid4(x, sid) || !fo_sa_encode(&sa, x)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send_putfh_op(s, cmp, OP_SETATTR, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	{
		bitmap4 set; /* SETATTR4res carries attrsset whatever the status */

		if (!xdr_dec_bitmap4(nfs4clnt_res_body(&res), &set))
			st = -EPROTO;
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_test_stateids(struct nfs4clnt_session *s, const struct stateid4 *sids, uint32_t n,
		     uint32_t *codes)
{
	struct nfs4clnt_compound *cmp = st_cmp(NULL);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;
	bool ok;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_TEST_STATEID);
	ok = x && xdr_enc_u32(x, n);
	for (uint32_t i = 0; ok && i < n; i++)
		ok = xdr_enc_stateid4(x, &sids[i]);
	if (!ok) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send(s, cmp, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	st = st_next(&res, OP_TEST_STATEID);
	if (st == NFS4_OK) {
		struct TEST_STATEID4resok rok;

		if (!xdr_dec_TEST_STATEID4resok(nfs4clnt_res_body(&res), &rok) ||
		    rok.tsr_status_codes.len != n) {
			st = -EPROTO;
		} else {
			for (uint32_t i = 0; i < n; i++)
				codes[i] = rok.tsr_status_codes.val[i];
		}
	}
	nfs4clnt_res_free(&res);
	return st;
}

int st_free_stateid(struct nfs4clnt_session *s, const struct stateid4 *sid)
{
	struct nfs4clnt_compound *cmp = st_cmp(NULL);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int st;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, OP_FREE_STATEID);
	if (!x || !xdr_enc_stateid4(x, sid)) {
		nfs4clnt_compound_free(cmp);
		return -ENOMEM;
	}
	st = st_send(s, cmp, &res);
	nfs4clnt_compound_free(cmp);
	if (st < 0)
		return st;
	st = st_next(&res, OP_FREE_STATEID);
	if (st == NFS4_OK)
		nfs4clnt_res_body(&res);
	nfs4clnt_res_free(&res);
	return st;
}
