/*
 * A session's fore channel slot table and reply cache (RFC 8881 §2.10.6).
 * Pure bookkeeping: the caller holds the owning session's lock around every
 * call, so the table itself has no lock.
 *
 * Each slot remembers the last sequence id it accepted, whether a request is
 * running on it, a digest of that request (to tell a true retry from a false
 * one), and, when the client asked for it (sa_cachethis) or the compound was
 * a lone SEQUENCE, the bytes of the whole COMPOUND reply.
 */
#ifndef NFS4D_NFS4_SLOT_H
#define NFS4D_NFS4_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfs4_slot {
	uint32_t seqid;	 /* last accepted sequence id; 0 before first use */
	bool in_use;	 /* a request with seqid is being processed */
	bool cached;	 /* reply[] holds the reply to seqid */
	uint64_t digest; /* digest of the request that carried seqid */
	uint32_t reply_len;
	uint8_t *reply; /* cache_cap bytes, allocated on first cached reply */
};

struct nfs4_slot_table {
	uint32_t nslots;
	uint32_t cache_cap; /* ca_maxresponsesize_cached */
	struct nfs4_slot *slots;
};

enum nfs4_slot_verdict {
	NFS4_SLOT_NEW,		   /* new request: proceed; slot now in use */
	NFS4_SLOT_REPLAY,	   /* retry of a cached reply: copy it out */
	NFS4_SLOT_REPLAY_UNCACHED, /* retry of a reply we did not keep */
	NFS4_SLOT_ERROR,	   /* *status says why (an nfsstat4) */
};

int nfs4_slot_table_init(struct nfs4_slot_table *t, uint32_t nslots, uint32_t cache_cap);
void nfs4_slot_table_free(struct nfs4_slot_table *t);
/* Classifies a SEQUENCE on slotid/seqid. On NFS4_SLOT_ERROR *status is BADSLOT, DELAY,
 * SEQ_MISORDERED or SEQ_FALSE_RETRY. */
enum nfs4_slot_verdict nfs4_slot_begin(struct nfs4_slot_table *t, uint32_t slotid, uint32_t seqid,
				       uint64_t digest, uint32_t *status);
/* Ends the request on slotid; keeps reply (len bytes) when cache is true and it fits. */
void nfs4_slot_end(struct nfs4_slot_table *t, uint32_t slotid, const uint8_t *reply, size_t len,
		   bool cache);

#endif
