/* A test client's back channel: see cb_agent.h. */
#include "cb_agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "xdr/nfs4_cb_xdr.h"

enum { ACCEPT_SUCCESS = 0, ACCEPT_PROC_UNAVAIL = 3, ACCEPT_GARBAGE_ARGS = 4 };

void cba_init(struct cb_agent *a, enum cba_mode mode)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->mode = mode;
}

void cba_destroy(struct cb_agent *a)
{
	pthread_mutex_destroy(&a->lock);
}

void cba_set_mode(struct cb_agent *a, enum cba_mode mode)
{
	pthread_mutex_lock(&a->lock);
	a->mode = mode;
	pthread_mutex_unlock(&a->lock);
}

/* Records a broken rule. Caller holds a->lock. */
static void cba_error(struct cb_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void cba_error(struct cb_agent *a, const char *fmt, ...)
{
	va_list ap;

	a->errors++;
	if (a->errors > 1)
		return; /* keep the first: the others follow from it */
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
}

/* CB_SEQUENCE: the replier's checks (RFC 8881 §2.10.6.1). An nfsstat4. Caller holds a->lock. */
static uint32_t cba_sequence(struct cb_agent *a, struct xdr_dec *x, struct xdr_enc *res)
{
	uint8_t sid[16];
	uint32_t seq, slot, highest, nlists, status = NFS4_OK;
	bool cachethis;
	static const uint8_t zero[16];

	if (!xdr_dec_opaque_fixed(x, sid, 16) || !xdr_dec_u32(x, &seq) || !xdr_dec_u32(x, &slot) ||
	    !xdr_dec_u32(x, &highest) || !xdr_dec_bool(x, &cachethis) || !xdr_dec_u32(x, &nlists)) {
		cba_error(a, "CB_SEQUENCE does not decode");
		return NFS4ERR_BADXDR;
	}
	for (uint32_t i = 0; i < nlists; i++) {
		uint8_t rsid[16];
		uint32_t ncalls, v;

		if (!xdr_dec_opaque_fixed(x, rsid, 16) || !xdr_dec_u32(x, &ncalls))
			return NFS4ERR_BADXDR;
		for (uint32_t j = 0; j < ncalls; j++)
			if (!xdr_dec_u32(x, &v) || !xdr_dec_u32(x, &v))
				return NFS4ERR_BADXDR;
		a->referring += (int)ncalls;
	}
	if (memcmp(a->sessionid, zero, 16) != 0 && memcmp(sid, a->sessionid, 16) != 0) {
		cba_error(a, "CB_SEQUENCE names another session");
		status = NFS4ERR_BADSESSION;
	} else if (slot >= CBA_SLOTS || highest >= CBA_SLOTS) {
		cba_error(a, "CB_SEQUENCE slot %u/highest %u beyond our %d slots", slot, highest,
			  CBA_SLOTS);
		status = NFS4ERR_BADSLOT;
	} else if (seq == a->slot_seq[slot]) {
		status = NFS4ERR_RETRY_UNCACHED_REP; /* a retry: we keep no replies */
	} else if (seq != a->slot_seq[slot] + 1) {
		cba_error(a, "CB_SEQUENCE slot %u seqid %u after %u", slot, seq, a->slot_seq[slot]);
		status = NFS4ERR_SEQ_MISORDERED;
	} else if (a->mode == CBA_DELAY) {
		a->delays++;
		status = NFS4ERR_DELAY; /* not run: the slot stays where it is */
	} else {
		a->slot_seq[slot] = seq;
	}
	xdr_enc_u32(res, OP_CB_SEQUENCE);
	xdr_enc_u32(res, status);
	if (status == NFS4_OK) {
		xdr_enc_opaque_fixed(res, sid, 16);
		xdr_enc_u32(res, seq);
		xdr_enc_u32(res, slot);
		xdr_enc_u32(res, CBA_SLOTS - 1);
		xdr_enc_u32(res, CBA_SLOTS - 1);
	}
	return status;
}

/* One op after CB_SEQUENCE. An nfsstat4. Caller holds a->lock. */
static uint32_t cba_op(struct cb_agent *a, uint32_t op, struct xdr_dec *x, struct xdr_enc *res)
{
	struct xdr_opaque fh;
	uint32_t n, v, status = NFS4_OK;
	bool b;

	switch (op) {
	case OP_CB_RECALL:
		if (!xdr_dec_u32(x, &a->recall_sid.seqid) ||
		    !xdr_dec_opaque_fixed(x, a->recall_sid.other, 12) || !xdr_dec_bool(x, &b) ||
		    !xdr_dec_opaque(x, &fh, sizeof(a->recall_fh)))
			return NFS4ERR_BADXDR;
		memcpy(a->recall_fh, fh.data, fh.len);
		a->recall_fh_len = fh.len;
		a->recalls++;
		if (a->mode == CBA_OP_DELAY) {
			a->delays++;
			status = NFS4ERR_DELAY;
		}
		xdr_enc_u32(res, op);
		xdr_enc_u32(res, status);
		return status;
	case OP_CB_GETATTR:
		if (!xdr_dec_opaque(x, &fh, 128) || !xdr_dec_u32(x, &n))
			return NFS4ERR_BADXDR;
		for (uint32_t i = 0; i < n; i++)
			if (!xdr_dec_u32(x, &v))
				return NFS4ERR_BADXDR;
		a->getattrs++;
		xdr_enc_u32(res, op);
		xdr_enc_u32(res, NFS4_OK);
		xdr_enc_u32(res, 1); /* bitmap: change, size */
		xdr_enc_u32(res, 1u << FATTR4_CHANGE | 1u << FATTR4_SIZE);
		xdr_enc_u32(res, 16);
		xdr_enc_u64(res, a->change);
		xdr_enc_u64(res, a->size);
		return NFS4_OK;
	case OP_CB_RECALL_ANY:
		if (!xdr_dec_u32(x, &v) || !xdr_dec_u32(x, &n))
			return NFS4ERR_BADXDR;
		for (uint32_t i = 0; i < n; i++)
			if (!xdr_dec_u32(x, &v))
				return NFS4ERR_BADXDR;
		a->recall_anys++;
		xdr_enc_u32(res, op);
		xdr_enc_u32(res, NFS4_OK);
		return NFS4_OK;
	default:
		cba_error(a, "unexpected callback op %u", op);
		xdr_enc_u32(res, OP_CB_ILLEGAL);
		xdr_enc_u32(res, NFS4ERR_OP_ILLEGAL);
		return NFS4ERR_OP_ILLEGAL;
	}
}

/* nfs4clnt_cb_fn */
static int cba_answer(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc, struct xdr_dec *args,
		      struct xdr_enc *res)
{
	struct cb_agent *a = ctx;
	struct xdr_opaque tag;
	uint32_t minor, ident, nops, op, status = NFS4_OK, done = 0;
	size_t status_at, count_at;

	(void)prog;
	(void)vers;
	pthread_mutex_lock(&a->lock);
	if (proc == 0) {
		a->probes++;
		pthread_mutex_unlock(&a->lock);
		return ACCEPT_SUCCESS;
	}
	if (proc != 1) {
		pthread_mutex_unlock(&a->lock);
		return ACCEPT_PROC_UNAVAIL;
	}
	a->compounds++;
	if (a->mode == CBA_SILENT) {
		pthread_mutex_unlock(&a->lock);
		return NFS4CLNT_CB_NO_REPLY;
	}
	if (!xdr_dec_opaque(args, &tag, 1024) || !xdr_dec_u32(args, &minor) ||
	    !xdr_dec_u32(args, &ident) || !xdr_dec_u32(args, &nops)) {
		cba_error(a, "CB_COMPOUND does not decode");
		pthread_mutex_unlock(&a->lock);
		return ACCEPT_GARBAGE_ARGS;
	}
	status_at = res->len;
	xdr_enc_u32(res, NFS4_OK);
	xdr_enc_u32(res, 0); /* tag */
	count_at = res->len;
	xdr_enc_u32(res, 0);
	if (minor != 1)
		cba_error(a, "CB_COMPOUND minorversion %u", minor);
	for (uint32_t i = 0; i < nops && status == NFS4_OK; i++) {
		if (!xdr_dec_u32(args, &op)) {
			status = NFS4ERR_BADXDR;
			break;
		}
		if (i == 0 && op != OP_CB_SEQUENCE) {
			cba_error(a, "CB_COMPOUND does not start with CB_SEQUENCE");
			xdr_enc_u32(res, op);
			xdr_enc_u32(res, NFS4ERR_OP_NOT_IN_SESSION);
			status = NFS4ERR_OP_NOT_IN_SESSION;
		} else if (i == 0) {
			status = cba_sequence(a, args, res);
		} else {
			status = cba_op(a, op, args, res);
		}
		done++;
	}
	xdr_enc_patch_u32(res, status_at, status);
	xdr_enc_patch_u32(res, count_at, done);
	pthread_mutex_unlock(&a->lock);
	return ACCEPT_SUCCESS;
}

void cba_attach(struct cb_agent *a, struct nfs4clnt_conn *c, const uint8_t *sessionid)
{
	uint8_t any[16] = {0};

	if (!sessionid)
		sessionid = any;
	pthread_mutex_lock(&a->lock);
	/* A new session has new slots; another connection of the same session keeps them. */
	if (memcmp(a->sessionid, sessionid, 16) != 0)
		memset(a->slot_seq, 0, sizeof(a->slot_seq));
	memcpy(a->sessionid, sessionid, 16);
	pthread_mutex_unlock(&a->lock);
	nfs4clnt_conn_set_cb(c, cba_answer, a);
}

int cba_count(struct cb_agent *a, const int *counter)
{
	int v;

	pthread_mutex_lock(&a->lock);
	v = *counter;
	pthread_mutex_unlock(&a->lock);
	return v;
}

int cba_wait(struct cb_agent *a, const int *counter, int want, int ms)
{
	int v;

	for (int waited = 0;; waited += 20) {
		v = cba_count(a, counter);
		if (v >= want || waited >= ms)
			return v;
		harness_sleep_ms(20);
	}
}

void cba_assert_clean(struct cb_agent *a)
{
	pthread_mutex_lock(&a->lock);
	if (a->errors)
		fail_msg("back channel: %d error(s), first: %s", a->errors, a->error);
	pthread_mutex_unlock(&a->lock);
}

void cbc_new(struct harness_srv *srv, struct cb_client *c, const char *prefix, enum cba_mode mode)
{
	char owner[64];

	cba_init(&c->ag, mode);
	harness_client_new(srv, &c->cl, harness_owner(owner, sizeof(owner), prefix), 8);
	cba_attach(&c->ag, c->cl.conn, nfs4clnt_session_id(c->cl.sess));
}

void cbc_free(struct cb_client *c, bool skip_destroy)
{
	cba_assert_clean(&c->ag);
	harness_client_free(&c->cl, skip_destroy);
	cba_destroy(&c->ag);
}

void cbc_new_plain(struct harness_srv *srv, struct harness_client *cl, const char *prefix)
{
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_cs_args ca;
	char owner[64];

	memset(cl, 0, sizeof(*cl));
	ea.owner = xdr_opaque_str(harness_owner(owner, sizeof(owner), prefix));
	cl->conn = harness_connect(srv);
	assert_status(nfs4clnt_exchange_id(cl->conn, &ea, &cl->exid), NFS4_OK);
	cl->clientid = cl->exid.clientid;
	ca = nfs4clnt_cs_default(cl->clientid, cl->exid.sequenceid);
	ca.flags = 0; /* no back channel */
	ca.fore.maxrequests = 8;
	assert_status(nfs4clnt_create_session(cl->conn, &ca, &cl->cs), NFS4_OK);
	cl->sess = nfs4clnt_session_new(cl->conn, &cl->cs);
	assert_non_null(cl->sess);
}

uint32_t cbc_renew(struct harness_client *cl)
{
	struct nfs4clnt_seq_res seq;

	assert_status(nfs4clnt_session_sequence(cl->sess, &seq), NFS4_OK);
	return seq.status_flags;
}

void cbc_hold(struct cb_client *c, const struct fo_fh *dir, const char *name, uint32_t access,
	      uint32_t type, struct st_open *o)
{
	for (int tries = 0;; tries++) {
		memset(o, 0, sizeof(*o));
		o->dir = dir;
		o->name = name;
		o->clientid = c->cl.clientid;
		o->owner = "holder";
		o->access = access;
		assert_status(st_open(c->cl.sess, o), NFS4_OK);
		if (o->deleg == type)
			return;
		assert_status(st_close(c->cl.sess, &o->ofh, &o->sid, NULL), NFS4_OK);
		if (tries == 100)
			fail_msg("no delegation of type %u for %s after 5 s (got %u, why %u)", type,
				 name, o->deleg, o->why);
		harness_sleep_ms(50);
	}
}

void cbc_env_setup(struct fo_env *e, const char *lease)
{
	const char *args[] = {"--backend", "mem", "--export", "/ *(rw,no_root_squash)",
			      "--lease",   lease, NULL};

	fo_env_attach(e, fo_srv_start(args), "/");
	harness_client_free(&e->cl, false);
	cbc_new_plain(e->srv->hs, &e->cl, "plain-b");
}

int cbc_plain_open(struct harness_client *cl, const struct fo_fh *dir, const char *name,
		   uint32_t access, struct stateid4 *sid)
{
	return st_open_simple(cl->sess, cl->clientid, dir, name, "plain-owner",
			      access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG, OPEN4_SHARE_DENY_NONE,
			      false, sid, NULL);
}

int cbc_plain_open_retry(struct harness_client *cl, struct cb_client *holder,
			 const struct fo_fh *dir, const char *name, uint32_t access,
			 struct stateid4 *sid)
{
	int st;

	for (int waited = 0;
	     (st = cbc_plain_open(cl, dir, name, access, sid)) == NFS4ERR_DELAY && waited < 15000;
	     waited += 100) {
		if (holder)
			cbc_renew(&holder->cl);
		harness_sleep_ms(100);
	}
	return st;
}
