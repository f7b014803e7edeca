/*
 * Inside the callback engine: a callback and what its reply said, shared by
 * callback.c (the state machine) and cb_wire.c (its bytes on the wire).
 */
#ifndef NFS4D_NFS4_CB_INTERNAL_H
#define NFS4D_NFS4_CB_INTERNAL_H

#include "nfs4/callback.h"
#include "xdr/xdr.h"

#define NFS4_CB_VERSION 1    /* NFS4_CALLBACK program version of NFSv4.1 */
#define NFS4_CB_REC_MAX 1024 /* a CB_COMPOUND we send: headers, two ops, a handle */

enum nfs4_cb_kind { NFS4_CB_PROBE, NFS4_CB_RECALL, NFS4_CB_GETATTR, NFS4_CB_RECALL_ANY };

struct nfs4_cb {
	struct cds_list_head link; /* on one srv->cb_* list, or none while handled */
	enum nfs4_cb_kind kind;
	struct nfs4_client *clp;  /* holds a reference */
	struct nfs4_session *ses; /* holds a reference: PROBE the session probed; others the
				     session whose slot they hold */
	struct rpc_conn *conn;	  /* holds a reference while sent */
	struct nfs4_deleg *dp;	  /* holds a reference: RECALL, GETATTR */
	uint32_t keep;		  /* RECALL_ANY */
	int slot;		  /* back-channel slot held in ses, or -1 */
	uint32_t seqid;		  /* the CB_SEQUENCE sequence id on that slot */
	uint32_t xid;
	uint64_t due_ns; /* sent: reply deadline; delayed: when to resend */
	unsigned delays; /* NFS4ERR_DELAY answers so far */
	unsigned fixes;	 /* slot repairs in a row */
};

/* What a reply said. err < 0: no usable reply (transport, timeout, RPC error). */
struct nfs4_cb_reply {
	int err;
	uint32_t seq_status;	 /* CB_SEQUENCE's status */
	uint32_t target_highest; /* csr_target_highest_slotid, when seq_status is OK */
	uint32_t op_status;	 /* the second op's status, when seq_status is OK */
	bool has_size, has_change;
	uint64_t size, change; /* CB_GETATTR */
};

/* The RPC call header of cb's call (CB_NULL or CB_COMPOUND) on prog, authenticated as sec. */
void nfs4_cb_enc_header(struct xdr_enc *x, uint32_t xid, uint32_t prog, uint32_t proc,
			const struct nfs4_cb_sec *sec);
/* The CB_COMPOUND arguments of cb: CB_SEQUENCE on its slot, and its op. */
bool nfs4_cb_enc_compound(struct nfs4_cb *cb, struct xdr_enc *x);
/* A CB_COMPOUND reply (after the RPC header) into r. */
void nfs4_cb_dec_compound(struct xdr_dec *x, struct nfs4_cb_reply *r);

#endif
