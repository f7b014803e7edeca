/*
 * Helpers for the open/lock state protocol tests (tests/proto/test_state_*.c):
 * one-op COMPOUNDs (PUTFH + OPEN/CLOSE/OPEN_DOWNGRADE/LOCK/LOCKT/LOCKU/READ/
 * WRITE/SETATTR, TEST_STATEID, FREE_STATEID) in any client's session, and the
 * COMPOUND runner (struct st_call) and result decoders that fileops.c's
 * asserting helpers are built on too.
 *
 * Unlike fileops.h, nothing here asserts or fails the test: every helper
 * returns the nfsstat4 of the op under test (or of the first failing op
 * before it), or a negative errno for a transport failure or an undecodable
 * reply. That makes them usable from the stress test's worker threads, where
 * cmocka's assertions must not run.
 */
#ifndef NFS4D_TESTS_PROTO_STATE_HELPERS_H
#define NFS4D_TESTS_PROTO_STATE_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "fileops.h"

#define ST_OWNER_MAX 128
#define ST_ALL_ONES UINT64_MAX /* length4: to the end of the file */

/* An OPEN: what to send (in) and what came back (out). */
struct st_open {
	/* in */
	uint32_t claim;		 /* open_claim_type4; CLAIM_NULL when 0 */
	const struct fo_fh *dir; /* CLAIM_NULL, CLAIM_DELEGATE_CUR/PREV: PUTFH dir, name */
	const char *name;
	const struct fo_fh *fh; /* the fh claims (CLAIM_FH, PREVIOUS, DELEG_*_FH): PUTFH fh */
	uint64_t clientid;
	const char *owner;
	uint32_t access, deny;
	bool create;
	uint32_t createmode;	      /* createmode4 when create */
	uint8_t verf[8];	      /* EXCLUSIVE4, EXCLUSIVE4_1 */
	const struct fo_sattr *attrs; /* UNCHECKED4, GUARDED4, EXCLUSIVE4_1 (NULL: none) */
	uint32_t deleg_type;	      /* CLAIM_PREVIOUS */
	struct stateid4 deleg_sid;    /* CLAIM_DELEGATE_CUR, CLAIM_DELEG_CUR_FH */
	/* out (when OK) */
	struct stateid4 sid;
	struct fo_fh ofh; /* GETFH after OPEN */
	struct fo_cinfo cinfo;
	uint32_t rflags;
	struct fo_mask attrset;
	uint32_t deleg;	      /* open_delegation_type4 */
	struct stateid4 dsid; /* the delegation's stateid, when one was granted */
	uint32_t why;	      /* why_no_delegation4, for OPEN_DELEGATE_NONE_EXT */
};

/* Sends cmp in s (30 s timeout). 0, an nfsstat4 (the COMPOUND's) or -errno. */
int st_send(struct nfs4clnt_session *s, const struct nfs4clnt_compound *cmp,
	    struct nfs4clnt_res *res);

/* ------------------------------------------------------- one COMPOUND */

#define ST_CALL_MAXOPS 8

/*
 * A COMPOUND a helper builds, sends and reads once: "PUTFH fh" (when a handle
 * is given), the op under test, and any ops after or before it. The ops are
 * recorded as they are added, so that st_call_run() checks that the results
 * come back for exactly those ops, in order. The helper that starts a call owns
 * it and ends it with st_call_end() (which frees the COMPOUND and the reply),
 * whatever happened in between.
 */
struct st_call {
	struct nfs4clnt_compound *cmp; /* NULL when it could not be made */
	struct nfs4clnt_res res;       /* the reply, once sent */
	bool sent;		       /* res holds a reply */
	bool cut;		       /* the results ended before an expected op's */
	uint32_t cur;		       /* the op of the result last stepped to (0: none) */
	uint32_t nops;
	uint32_t ops[ST_CALL_MAXOPS];
};

/*
 * Starts c: a new COMPOUND with PUTFH fh (fh NULL: none) and op. Returns op's
 * argument encoder, or NULL when out of memory (c must still be ended).
 */
struct xdr_enc *st_call_start(struct st_call *c, const struct fo_fh *fh, uint32_t op);
/* Appends op: its argument encoder, or NULL. */
struct xdr_enc *st_call_add(struct st_call *c, uint32_t op);
bool st_call_add_putfh(struct st_call *c, const struct fo_fh *fh);
/*
 * Sends c in s and steps through the results up to op's: op's status, the
 * first failing earlier op's, the COMPOUND's when the results stop early
 * (c->cut), -EPROTO for a result of another op, or -errno. The body of op's
 * result is then st_call_body(c).
 */
int st_call_run(struct nfs4clnt_session *s, struct st_call *c, uint32_t op);
/* The next result, which must be op's: its status (as st_call_run()). */
int st_call_next(struct st_call *c, uint32_t op);
struct xdr_dec *st_call_body(struct st_call *c);
void st_call_end(struct st_call *c);
/* Ops whose result is a status alone (their body is consumed when stepped over). */
bool st_status_only(uint32_t op);

int st_open(struct nfs4clnt_session *s, struct st_open *o);
/* Appends OPEN (the in fields of o) to cmp: for COMPOUNDs a test builds itself. */
bool st_add_open(struct nfs4clnt_compound *cmp, const struct st_open *o);
/* Decodes an OPEN4resok body into o's out fields (not ofh). */
bool st_dec_open(struct xdr_dec *x, struct st_open *o);
/* change_info4 into ci (may be NULL). */
void st_cinfo(const struct change_info4 *c, struct fo_cinfo *ci);
/* A READ4resok of at most count bytes, into buf, n and eof (each may be NULL). */
bool st_dec_read(struct xdr_dec *x, uint32_t count, void *buf, uint32_t *n, bool *eof);

/* OPEN o (o->create set), WRITE data FILE_SYNC4 with the open stateid, CLOSE. */
int st_create_file(struct nfs4clnt_session *s, struct st_open *o, const void *data, uint32_t len);
/* A regular file dir/name with data, created with OPEN (owner "mkfile") and closed. */
int st_mkfile(struct nfs4clnt_session *s, uint64_t clientid, const struct fo_fh *dir,
	      const char *name, const void *data, uint32_t len, struct fo_fh *fh);
/* OPEN4_NOCREATE (create: UNCHECKED4, no attributes) CLAIM_NULL dir/name. */
int st_open_simple(struct nfs4clnt_session *s, uint64_t clientid, const struct fo_fh *dir,
		   const char *name, const char *owner, uint32_t access, uint32_t deny, bool create,
		   struct stateid4 *sid, struct fo_fh *fh);
int st_close(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     struct stateid4 *out);
int st_downgrade(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		 uint32_t access, uint32_t deny, struct stateid4 *out);

/* LOCK4denied, the owner copied out of the reply. */
struct st_denied {
	uint64_t offset, length;
	uint32_t locktype;
	uint64_t clientid;
	uint32_t olen;
	uint8_t owner[ST_OWNER_MAX];
};

/* LOCK4denied of a LOCK or LOCKT result into denied (may be NULL); false: undecodable. */
bool st_dec_denied(struct xdr_dec *x, struct st_denied *denied);

/* LOCK with open_to_lock_owner4 (a new lock owner). out/denied may be NULL. */
int st_lock_new(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
		uint64_t len, const struct stateid4 *open_sid, uint64_t clientid,
		const char *lock_owner, struct stateid4 *out, struct st_denied *denied);
/* LOCK with exist_lock_owner4. */
int st_lock_exist(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
		  uint64_t len, const struct stateid4 *lock_sid, struct stateid4 *out,
		  struct st_denied *denied);
/* LOCK with every argument given. */
int st_lock_args(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct LOCK4args *a,
		 struct stateid4 *out, struct st_denied *denied);
int st_lockt(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type, uint64_t off,
	     uint64_t len, uint64_t clientid, const char *owner, struct st_denied *denied);
int st_locku(struct nfs4clnt_session *s, const struct fo_fh *fh, uint32_t type,
	     const struct stateid4 *lock_sid, uint64_t off, uint64_t len, struct stateid4 *out);

int st_read(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	    uint64_t off, uint32_t count, void *buf, uint32_t *n);
int st_write(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
	     uint64_t off, const void *data, uint32_t len);
/* SETATTR(size) with sid. */
int st_truncate(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid,
		uint64_t size);

/* TEST_STATEID of n stateids: the op's status; codes (n of them) when OK. */
int st_test_stateids(struct nfs4clnt_session *s, const struct stateid4 *sids, uint32_t n,
		     uint32_t *codes);
int st_free_stateid(struct nfs4clnt_session *s, const struct stateid4 *sid);
int st_delegreturn(struct nfs4clnt_session *s, const struct fo_fh *fh, const struct stateid4 *sid);
/* DELEGPURGE (its clientid 0, which the server ignores). */
int st_delegpurge(struct nfs4clnt_session *s);

/*
 * The special stateids (RFC 8881 §8.2.3); anonymous (seqid 0, other 0) and
 * READ bypass (seqid ~0, other ~0) are fileops.h's fo_anon_stateid and
 * fo_bypass_stateid.
 */
extern const struct stateid4 st_current_sid; /* seqid 1, other 0 */
extern const struct stateid4 st_invalid_sid; /* seqid ~0, other 0 */

bool st_sid_same_other(const struct stateid4 *a, const struct stateid4 *b);
/* sid with another seqid. */
struct stateid4 st_sid_seq(const struct stateid4 *sid, uint32_t seqid);

#endif
