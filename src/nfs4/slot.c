#include "nfs4/slot.h"

#include <stdlib.h>
#include <string.h>

#include "xdr/nfs4_xdr.h"

int nfs4_slot_table_init(struct nfs4_slot_table *t, uint32_t nslots, uint32_t cache_cap)
{
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots)
		return -1;
	t->nslots = nslots;
	t->cache_cap = cache_cap;
	return 0;
}

void nfs4_slot_table_free(struct nfs4_slot_table *t)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		free(t->slots[i].reply);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

enum nfs4_slot_verdict nfs4_slot_begin(struct nfs4_slot_table *t, uint32_t slotid, uint32_t seqid,
				       uint64_t digest, uint32_t *status)
{
	struct nfs4_slot *s;

	if (slotid >= t->nslots) {
		*status = NFS4ERR_BADSLOT;
		return NFS4_SLOT_ERROR;
	}
	s = &t->slots[slotid];
	if (seqid == s->seqid + 1) {
		/* A new request while the previous one still runs: the client broke the slot rules.
		 */
		if (s->in_use) {
			*status = NFS4ERR_SEQ_MISORDERED;
			return NFS4_SLOT_ERROR;
		}
		s->seqid = seqid;
		s->in_use = true;
		s->cached = false;
		s->digest = digest;
		return NFS4_SLOT_NEW;
	}
	if (seqid != s->seqid || s->seqid == 0) {
		*status = NFS4ERR_SEQ_MISORDERED;
		return NFS4_SLOT_ERROR;
	}
	/* seqid == s->seqid: a retry. */
	if (s->in_use) {
		*status = NFS4ERR_DELAY;
		return NFS4_SLOT_ERROR;
	}
	if (s->digest != digest) {
		*status = NFS4ERR_SEQ_FALSE_RETRY;
		return NFS4_SLOT_ERROR;
	}
	return s->cached ? NFS4_SLOT_REPLAY : NFS4_SLOT_REPLAY_UNCACHED;
}

void nfs4_slot_end(struct nfs4_slot_table *t, uint32_t slotid, const uint8_t *reply, size_t len,
		   bool cache)
{
	struct nfs4_slot *s = &t->slots[slotid];

	s->in_use = false;
	s->cached = false;
	if (!cache || len > t->cache_cap)
		return;
	if (!s->reply) {
		s->reply = malloc(t->cache_cap ? t->cache_cap : 1);
		if (!s->reply)
			return;
	}
	memcpy(s->reply, reply, len);
	s->reply_len = (uint32_t)len;
	s->cached = true;
}
