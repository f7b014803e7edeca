/*
 * A session's fore channel slot table (RFC 8881 §2.10.6). Each slot carries
 * the sequence id its next request will use. A caller takes the lowest free
 * slot at or below the usable limit (waiting when none is free), sends
 * SEQUENCE + its ops, and releases the slot; the slot's sequence id is bumped
 * only when the reply's SEQUENCE succeeded (the server then holds that seqid
 * in its cache). A reply that never came leaves the seqid as it was, so the
 * slot's next request is a retry in the server's eyes.
 *
 * The usable limit follows the server: min(nslots - 1, sr_highest_slotid,
 * sr_target_highest_slotid) from the latest successful SEQUENCE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "client/ops.h"

struct clnt_slot {
	uint32_t seqid; /* for the next request on this slot */
	bool busy;
};

/* lock protects every field but sessionid/nslots (constant). */
struct nfs4clnt_session {
	pthread_mutex_t lock;
	pthread_cond_t cv; /* a slot was released or the limit changed */
	struct nfs4clnt_conn *conn;
	uint8_t sessionid[16];
	uint32_t nslots;
	uint32_t limit; /* highest usable slot id */
	uint32_t busy;
	uint32_t max_busy;
	struct clnt_slot *slots;
};

struct nfs4clnt_session *nfs4clnt_session_new(struct nfs4clnt_conn *c,
					      const struct nfs4clnt_cs_res *cs)
{
	struct nfs4clnt_session *s = calloc(1, sizeof(*s));
	uint32_t n = cs->fore.maxrequests ? cs->fore.maxrequests : 1;

	if (!s)
		return NULL;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		s->slots[i].seqid = 1;
	pthread_mutex_init(&s->lock, NULL);
	clnt_cond_init(&s->cv);
	s->conn = c;
	memcpy(s->sessionid, cs->sessionid, 16);
	s->nslots = n;
	s->limit = n - 1;
	return s;
}

void nfs4clnt_session_free(struct nfs4clnt_session *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cv);
	free(s->slots);
	free(s);
}

const uint8_t *nfs4clnt_session_id(const struct nfs4clnt_session *s)
{
	return s->sessionid;
}

struct nfs4clnt_conn *nfs4clnt_session_conn(const struct nfs4clnt_session *s)
{
	struct nfs4clnt_session *m = (struct nfs4clnt_session *)s;
	struct nfs4clnt_conn *c;

	pthread_mutex_lock(&m->lock);
	c = m->conn;
	pthread_mutex_unlock(&m->lock);
	return c;
}

void nfs4clnt_session_set_conn(struct nfs4clnt_session *s, struct nfs4clnt_conn *c)
{
	pthread_mutex_lock(&s->lock);
	s->conn = c;
	pthread_mutex_unlock(&s->lock);
}

uint32_t nfs4clnt_session_nslots(const struct nfs4clnt_session *s)
{
	return s->nslots;
}

uint32_t nfs4clnt_session_highest_usable(struct nfs4clnt_session *s)
{
	uint32_t v;

	pthread_mutex_lock(&s->lock);
	v = s->limit;
	pthread_mutex_unlock(&s->lock);
	return v;
}

uint32_t nfs4clnt_session_max_busy(struct nfs4clnt_session *s)
{
	uint32_t v;

	pthread_mutex_lock(&s->lock);
	v = s->max_busy;
	pthread_mutex_unlock(&s->lock);
	return v;
}

uint32_t nfs4clnt_session_slot_seqid(struct nfs4clnt_session *s, uint32_t slotid)
{
	uint32_t v = 0;

	pthread_mutex_lock(&s->lock);
	if (slotid < s->nslots)
		v = s->slots[slotid].seqid;
	pthread_mutex_unlock(&s->lock);
	return v;
}

void nfs4clnt_session_slot_set_seqid(struct nfs4clnt_session *s, uint32_t slotid, uint32_t seqid)
{
	pthread_mutex_lock(&s->lock);
	if (slotid < s->nslots)
		s->slots[slotid].seqid = seqid;
	pthread_mutex_unlock(&s->lock);
}

/* Takes the lowest free usable slot; returns 0 or -ETIMEDOUT. */
static int slot_get(struct nfs4clnt_session *s, int timeout_ms, uint32_t *slotid, uint32_t *seqid,
		    uint32_t *highest, struct nfs4clnt_conn **conn)
{
	struct timespec dl;
	uint32_t i;

	clnt_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (i = 0; i <= s->limit; i++)
			if (!s->slots[i].busy)
				break;
		if (i <= s->limit)
			break;
		if (pthread_cond_timedwait(&s->cv, &s->lock, &dl) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->lock);
			return -ETIMEDOUT;
		}
	}
	s->slots[i].busy = true;
	if (++s->busy > s->max_busy)
		s->max_busy = s->busy;
	*slotid = i;
	*seqid = s->slots[i].seqid;
	*highest = i;
	for (uint32_t j = s->nslots; j-- > i + 1;) {
		if (s->slots[j].busy) {
			*highest = j;
			break;
		}
	}
	*conn = s->conn;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void slot_put(struct nfs4clnt_session *s, uint32_t slotid,
		     const struct nfs4clnt_seq_res *seq)
{
	pthread_mutex_lock(&s->lock);
	s->slots[slotid].busy = false;
	s->busy--;
	if (seq && seq->status == 0) {
		uint32_t lim = seq->target_highest_slotid;

		s->slots[slotid].seqid++;
		if (seq->highest_slotid < lim)
			lim = seq->highest_slotid;
		if (lim > s->nslots - 1)
			lim = s->nslots - 1;
		s->limit = lim;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

int nfs4clnt_session_compound(struct nfs4clnt_session *s, const struct nfs4clnt_compound *cmp,
			      bool cachethis, int timeout_ms, struct nfs4clnt_res *res,
			      struct nfs4clnt_seq_res *seq)
{
	struct nfs4clnt_seq_res local, *sq = seq ? seq : &local;
	struct nfs4clnt_conn *conn;
	uint32_t slotid, seqid, highest, op, st;
	uint8_t pre[64];
	struct xdr_enc x;
	int err;

	memset(sq, 0, sizeof(*sq));
	err = slot_get(s, timeout_ms, &slotid, &seqid, &highest, &conn);
	if (err) {
		memset(res, 0, sizeof(*res));
		return err;
	}
	xdr_enc_init(&x, pre, sizeof(pre));
	xdr_enc_u32(&x, CLNT_OP_SEQUENCE);
	clnt_enc_sequence(&x, s->sessionid, seqid, slotid, highest, cachethis);
	err = clnt_compound_sendv(conn, cmp, pre, x.len, 1, NULL, timeout_ms, res);
	if (err) {
		slot_put(s, slotid, NULL);
		return err;
	}
	sq->status = res->status;
	if (nfs4clnt_res_next(res, &op, &st) && op == CLNT_OP_SEQUENCE) {
		sq->status = st;
		if (st == 0 && !nfs4clnt_dec_sequence_resok(nfs4clnt_res_body(res), sq)) {
			slot_put(s, slotid, NULL);
			return -EPROTO;
		}
	} else if (sq->status == 0) {
		sq->status = (uint32_t)-1; /* no SEQUENCE result: nothing to bump */
	}
	slot_put(s, slotid, sq);
	return (int)res->status;
}

int nfs4clnt_session_sequence(struct nfs4clnt_session *s, struct nfs4clnt_seq_res *seq)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("sequence", 1);
	struct nfs4clnt_seq_res local, *sq = seq ? seq : &local;
	struct nfs4clnt_res res;
	int err;

	if (!cmp)
		return -ENOMEM;
	err = nfs4clnt_session_compound(s, cmp, false, 0, &res, sq);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return err < 0 ? err : (int)sq->status;
}

int nfs4clnt_reclaim_complete(struct nfs4clnt_session *s)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("reclaim_complete", 1);
	struct nfs4clnt_res res;
	struct xdr_enc *x;
	int err;

	if (!cmp)
		return -ENOMEM;
	x = nfs4clnt_compound_add(cmp, CLNT_OP_RECLAIM_COMPLETE);
	if (!x || !xdr_enc_bool(x, false)) {
		nfs4clnt_compound_free(cmp);
		return -EINVAL;
	}
	err = nfs4clnt_session_compound(s, cmp, false, 0, &res, NULL);
	if (err >= 0) {
		int st = nfs4clnt_res_find(&res, CLNT_OP_RECLAIM_COMPLETE);

		err = st == -ENOENT ? err : st;
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return err;
}

int nfs4clnt_client_setup(struct nfs4clnt_conn *c, const char *owner, uint32_t slots,
			  uint64_t *clientid, struct nfs4clnt_session **sess)
{
	struct nfs4clnt_exid_args ea = {.owner = xdr_opaque_str(owner)};
	struct nfs4clnt_exid_res er;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct timespec ts;
	int st;

	clock_gettime(CLOCK_REALTIME, &ts);
	xdr_put_be32(ea.verifier, (uint32_t)ts.tv_sec);
	xdr_put_be32(ea.verifier + 4, (uint32_t)ts.tv_nsec);
	st = nfs4clnt_exchange_id(c, &ea, &er);
	if (st)
		return st;
	ca = nfs4clnt_cs_default(er.clientid, er.sequenceid);
	ca.fore.maxrequests = slots;
	st = nfs4clnt_create_session(c, &ca, &cr);
	if (st)
		return st;
	*sess = nfs4clnt_session_new(c, &cr);
	if (!*sess)
		return -ENOMEM;
	if (clientid)
		*clientid = er.clientid;
	return 0;
}
