/* SEQUENCE (RFC 8881 §18.46): the gate of every session COMPOUND. */
#include "nfs4/compound.h"

#include "util/hash.h"

/*
 * A digest of the rest of the COMPOUND and of who sent it, to tell a retry
 * from a false retry: same slot and seqid but other operations, other
 * arguments, or another principal (RFC 8881 §2.10.6.1.3.1). A client sends the
 * same bytes when it retries, so a prefix of them and their length suffice.
 */
static uint64_t nfs4_request_digest(const struct nfs4_compound *c)
{
	const struct xdr_dec *x = &c->call->args;
	struct nfs4_principal princ;
	size_t left = xdr_dec_remaining(x);
	size_t n = left < NFS4_DIGEST_BYTES ? left : NFS4_DIGEST_BYTES;
	uint64_t seed;

	nfs4_principal_of(c->call, &princ);
	seed = c->digest_seed ^ hash_u64(left) ^ hash_u64((uint64_t)princ.flavor << 32 | princ.uid);
	return hash_bytes(x->p, n, seed);
}

uint32_t nfs4_op_sequence(struct nfs4_compound *c, void *args, void *res)
{
	const struct SEQUENCE4args *a = args;
	struct SEQUENCE4resok *ok = &((struct SEQUENCE4res *)res)->u.sr_resok4;
	struct nfs4_session *ses;
	enum nfs4_slot_verdict verdict;
	uint32_t status;

	ses = nfs4_session_find(c->srv, &a->sa_sessionid);
	if (!ses)
		return NFS4ERR_BADSESSION;
	if (c->numops > ses->fore.ca_maxoperations) {
		status = NFS4ERR_TOO_MANY_OPS;
		goto out_put;
	}
	if (c->request_len > ses->fore.ca_maxrequestsize) {
		status = NFS4ERR_REQ_TOO_BIG;
		goto out_put;
	}

	if (a->sa_slotid < ses->slots.nslots && a->sa_highest_slotid >= ses->slots.nslots) {
		status = NFS4ERR_BAD_HIGH_SLOT;
		goto out_put;
	}

	pthread_mutex_lock(&ses->lock);
	verdict = nfs4_slot_begin(&ses->slots, a->sa_slotid, a->sa_sequenceid,
				  nfs4_request_digest(c), &status);
	pthread_mutex_unlock(&ses->lock);
	if (verdict == NFS4_SLOT_ERROR)
		goto out_put;

	c->session = ses;
	c->slotid = a->sa_slotid;
	c->seqid = a->sa_sequenceid;
	c->replay = verdict;
	if (verdict == NFS4_SLOT_NEW) {
		c->slot_held = true;
		c->cachethis = a->sa_cachethis;
		nfs4_client_renew(ses->client);
		/* SP4_NONE: a SEQUENCE on a new connection binds it to the fore channel
		 * (§2.10.3.1). */
		if (c->call->conn)
			nfs4_session_bind_conn(ses, c->call->conn, CDFS4_FORE, true);
	}
	ok->sr_sessionid = a->sa_sessionid;
	ok->sr_sequenceid = a->sa_sequenceid;
	ok->sr_slotid = a->sa_slotid;
	ok->sr_highest_slotid = ses->slots.nslots - 1;
	ok->sr_target_highest_slotid = ses->slots.nslots - 1;
	ok->sr_status_flags = nfs4_session_status_flags(ses);
	return NFS4_OK;

out_put:
	nfs4_session_put(ses);
	return status;
}
