/*
 * COMPOUND processing (RFC 8881 §16.2, §18): the op table and the per-request
 * context handed to every operation.
 */
#ifndef NFS4D_NFS4_COMPOUND_H
#define NFS4D_NFS4_COMPOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4/attr.h"
#include "nfs4/fh.h"
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

	/* The exports this COMPOUND sees, from start to end (in an RCU read-side section). */
	const struct nfs4_export_table *tab;

	/* The reply: ops that encode their own result append it here. */
	struct xdr_enc *res;
	struct nfs4_fh cur;	     /* current filehandle (kind NFS4_FH_NONE when unset) */
	struct nfs4_fh saved;	     /* saved filehandle */
	struct stateid4 cur_stateid; /* the current stateid (RFC 8881 §16.2.3.1.2) */
	bool cur_stateid_set;

	/* Set by SEQUENCE (op 0) for the rest of the COMPOUND. */
	struct nfs4_session *session; /* holds a reference */
	uint32_t slotid;
	uint32_t seqid; /* the SEQUENCE's sequence id on slotid */
	bool slot_held; /* slot is ours: must be released with the reply */
	bool cachethis;
	enum nfs4_slot_verdict replay; /* NFS4_SLOT_NEW, or which kind of retry this is */

	/* Op statistics (admin.h): the op whose handler ran last, not counted yet. */
	uint64_t op_start_ns; /* time_mono_ns() at the end of the op before */
	uint32_t called_opnum;
	uint32_t called_status;
	bool called;
};

/* rpc_dispatch_fn for program 100003 version 4: NULL is answered by rpc/, 1 is COMPOUND. */
enum rpc_accept_stat nfs4_compound_dispatch(void *srv, struct rpc_call *call, struct xdr_enc *res);

/* How many argument bytes after SEQUENCE feed the request digest (sequence.c). */
#define NFS4_DIGEST_BYTES 512

/*
 * rpc_program.find_bulk (bulk.c): the data of a WRITE in a COMPOUND of
 * SEQUENCE, PUTFH... and WRITE, less its first bytes that the request digest
 * reads.
 */
bool nfs4_find_bulk(const uint8_t *rec, size_t have, size_t reclen, size_t *off, size_t *len);

/*
 * The current filehandle, checked for this caller against its export's rules
 * (RFC 8881 §2.6.3.1: a PUTFH is judged by the op that uses it). On NFS4_OK,
 * *fh is the current filehandle, and *rule and *cred (when not NULL) what the
 * caller may do on it and who it is there (NULL rule on the pseudo-fs).
 * Errors: NFS4ERR_NOFILEHANDLE, NFS4ERR_ACCESS (host not allowed),
 * NFS4ERR_WRONGSEC (flavor or port not allowed).
 */
uint32_t nfs4_cur_fh(struct nfs4_compound *c, struct nfs4_fh **fh,
		     const struct nfs4_export_rule **rule, struct be_cred *cred);
/* The caller's address, for export rules (in the fuzzer, one that matches only "*"). */
const struct sockaddr_storage *nfs4_peer(const struct nfs4_compound *c);
/* The same checks for any filehandle (e.g. a READDIR entry). */
uint32_t nfs4_fh_check(const struct nfs4_compound *c, const struct nfs4_fh *fh,
		       const struct nfs4_export_rule **rule, struct be_cred *cred);
/* Like nfs4_cur_fh, and the caller may modify the file: NFS4ERR_ROFS otherwise. */
uint32_t nfs4_cur_fh_writable(struct nfs4_compound *c, struct nfs4_fh **fh, struct be_cred *cred);
/* The same checks for the saved filehandle (RENAME, LINK). */
uint32_t nfs4_saved_fh_writable(struct nfs4_compound *c, struct nfs4_fh **fh);
/*
 * A component name from the wire as a C string (out: BE_NAME_MAX + 1 bytes):
 * NFS4ERR_INVAL for "", NFS4ERR_BADNAME for ".", ".." and names holding '/'
 * or NUL, NFS4ERR_NAMETOOLONG past BE_NAME_MAX.
 */
uint32_t nfs4_component(const struct xdr_opaque *name, char *out);

/* One object's attributes, gathered for nfs4_attr_encode()/nfs4_attr_compare(). */
struct nfs4_obj_attrs {
	struct be_attr attr;
	struct be_statfs fs;
	uint8_t fh[NFS4_FHSIZE];
	struct nfs4_attr_src src;
};
/*
 * Gathers the attributes of fh (a backend object or a pseudo-fs directory)
 * that request needs, as this caller on fh's export. Returns an nfsstat4.
 */
uint32_t nfs4_obj_attrs(struct nfs4_compound *c, const struct nfs4_fh *fh, const bitmap4 *request,
			struct nfs4_obj_attrs *out);
/* The same with the backend attributes already known (READDIR's entries): no getattr. */
uint32_t nfs4_obj_attrs_known(struct nfs4_compound *c, const struct nfs4_fh *fh,
			      const struct be_attr *known, const bitmap4 *request,
			      struct nfs4_obj_attrs *out);

/* Operations (one file per concern). Each returns an nfsstat4 and fills its result. */
uint32_t nfs4_op_exchange_id(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_create_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_destroy_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_destroy_clientid(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_bind_conn_to_session(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_backchannel_ctl(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_sequence(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_reclaim_complete(struct nfs4_compound *c, void *args, void *res);
/* op_fh.c */
uint32_t nfs4_op_putfh(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_putrootfh(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_getfh(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_savefh(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_restorefh(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_lookup(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_lookupp(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_secinfo(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_secinfo_no_name(struct nfs4_compound *c, void *args, void *res);
/* op_attr.c (GETATTR encodes its own result) */
uint32_t nfs4_op_getattr(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_setattr(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_verify(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_nverify(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_access(struct nfs4_compound *c, void *args, void *res);
/* op_dir.c (READDIR encodes its own result) */
uint32_t nfs4_op_readdir(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_readlink(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_create(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_remove(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_rename(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_link(struct nfs4_compound *c, void *args, void *res);
/* op_io.c (READ encodes its own result) */
uint32_t nfs4_op_read(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_write(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_commit(struct nfs4_compound *c, void *args, void *res);
/* op_open.c, op_lock.c; TEST_STATEID and FREE_STATEID are in stateid.h */
uint32_t nfs4_op_open(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_close(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_open_downgrade(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_lock(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_lockt(struct nfs4_compound *c, void *args, void *res);
uint32_t nfs4_op_locku(struct nfs4_compound *c, void *args, void *res);

#endif
