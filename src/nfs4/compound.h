/*
 * COMPOUND processing (RFC 8881 §16.2, §18): the op table and the per-request
 * context handed to every operation.
 */
#ifndef NFS4D_NFS4_COMPOUND_H
#define NFS4D_NFS4_COMPOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4/state.h"

/* One COMPOUND being processed, on one worker thread. */
struct nfs4_compound {
	struct nfs4_server *srv;
	struct rpc_call *call;
	uint32_t numops;
	uint32_t opidx;	      /* index of the op being processed */
	size_t reply_start;   /* offset in the reply of the COMPOUND status */
	size_t request_len;   /* bytes of COMPOUND arguments */
	uint64_t digest_seed; /* hash of tag + numops, part of the slot digest */

	/* Set by SEQUENCE (op 0) for the rest of the COMPOUND. */
	struct nfs4_session *session; /* holds a reference */
	uint32_t slotid;
	bool slot_held; /* slot is ours: must be released with the reply */
	bool cachethis;
	enum nfs4_slot_verdict replay; /* NFS4_SLOT_NEW, or which kind of retry this is */
};

/* rpc_dispatch_fn for program 100003 version 4: NULL is answered by rpc/, 1 is COMPOUND. */
enum rpc_accept_stat nfs4_compound_dispatch(void *srv, struct rpc_call *call, struct xdr_enc *res);

/* Operations (one file per concern). Each returns an nfsstat4 and fills its result. */
uint32_t nfs4_op_exchange_id(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_create_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_destroy_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_destroy_clientid(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_bind_conn_to_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_sequence(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_reclaim_complete(struct nfs4_compound *c, void *args, void *res);

#endif
