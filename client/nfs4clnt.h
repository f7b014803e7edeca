/*
 * nfs4clnt — a small NFSv4.1 client library for the protocol tests and the
 * benchmark. It speaks ONC RPC over TCP (RFC 5531 record marking), AUTH_NONE
 * and AUTH_SYS, builds COMPOUNDs whose op arguments the caller encodes with the
 * generated codecs (xdr/nfs4_xdr.h), runs a session's fore channel slot table
 * and answers the server's backchannel calls.
 *
 * Return convention of every NFS-level function: 0 (NFS4_OK) or a positive
 * nfsstat4 from the server, or a negative errno for local/transport failures
 * (-ETIMEDOUT, -EPIPE: connection closed, -EPROTO: undecodable or rejected
 * reply, -ENOMEM).
 *
 * Modules: transport.c (socket, record marking, receive thread, xid matching),
 * rpc.c (call/reply headers, credentials), backchannel.c (answering server
 * calls), compound.c (builder and result iteration), ops.c (EXCHANGE_ID,
 * CREATE_SESSION, ...), session.c (slot table, SEQUENCE wrapping).
 *
 * Threads: a connection owns one receive thread and one callback thread. Any
 * number of threads may issue calls on one connection or one session at once.
 * A compound builder or a result belongs to one thread at a time.
 */
#ifndef NFS4CLNT_H
#define NFS4CLNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "util/arena.h"
#include "xdr/xdr.h"

/* ---------------------------------------------------------------- RPC */

#define NFS4CLNT_PROG 100003u
#define NFS4CLNT_VERS 4u
#define NFS4CLNT_CB_PROG_DEFAULT 0x40000000u
#define NFS4CLNT_PROC_NULL 0u
#define NFS4CLNT_PROC_COMPOUND 1u
#define NFS4CLNT_TIMEOUT_MS 10000 /* default for calls given timeout_ms <= 0 */

/* Credentials sent with a call. */
struct nfs4clnt_auth {
	uint32_t flavor; /* 0 AUTH_NONE, 1 AUTH_SYS */
	uint32_t stamp;
	uint32_t uid;
	uint32_t gid;
	uint32_t ngids; /* <= 16 */
	uint32_t gids[16];
	char machinename[256];
};

/* AUTH_SYS with the given uid/gid and machine name "nfs4clnt". */
struct nfs4clnt_auth nfs4clnt_auth_sys(uint32_t uid, uint32_t gid);
struct nfs4clnt_auth nfs4clnt_auth_none(void);
/* Encodes the opaque_auth cred + AUTH_NONE verifier. */
bool nfs4clnt_enc_auth(struct xdr_enc *x, const struct nfs4clnt_auth *auth);
/* Encodes an RPC call header (xid, CALL, rpcvers 2, prog, vers, proc, cred, verf). */
bool nfs4clnt_enc_call_header(struct xdr_enc *x, uint32_t xid, uint32_t prog, uint32_t vers,
			      uint32_t proc, const struct nfs4clnt_auth *auth);

/*
 * A decoded RPC reply. rec owns the whole record; body is positioned right
 * after the reply header (the results, for accept_stat SUCCESS).
 */
struct nfs4clnt_reply {
	uint32_t xid;
	uint32_t reply_stat;  /* 0 MSG_ACCEPTED, 1 MSG_DENIED */
	uint32_t accept_stat; /* when accepted: 0 SUCCESS, 1 PROG_UNAVAIL, ... */
	uint32_t reject_stat; /* when denied: 0 RPC_MISMATCH, 1 AUTH_ERROR */
	uint32_t auth_stat;   /* when AUTH_ERROR */
	uint32_t mismatch_low;
	uint32_t mismatch_high; /* PROG_MISMATCH or RPC_MISMATCH */
	struct xdr_dec body;
	uint8_t *rec;
	size_t len;
};

/* Parses the reply header of rec (taking ownership of it). false: not a valid reply. */
bool nfs4clnt_reply_parse(struct nfs4clnt_reply *rep, uint8_t *rec, size_t len);
void nfs4clnt_reply_free(struct nfs4clnt_reply *rep);

/* ---------------------------------------------------------- connection */

struct nfs4clnt_conn;

/*
 * Server→client call hook (backchannel), run on the connection's callback
 * thread, one call at a time, so it may itself make calls on the fore channel.
 * args is positioned at the procedure's arguments; the hook encodes results
 * into res and returns an accept_stat (0 SUCCESS: res is sent; anything else:
 * that accept_stat with no results; NFS4CLNT_CB_NO_REPLY: nothing is sent, as
 * from a client that went silent). Without a hook, the library answers
 * procedure 0 (CB_NULL) with SUCCESS and every other procedure with
 * PROC_UNAVAIL.
 */
#define NFS4CLNT_CB_NO_REPLY (-1)
typedef int (*nfs4clnt_cb_fn)(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc,
			      struct xdr_dec *args, struct xdr_enc *res);

/* Connects over TCP. NULL with errno set on failure. Default credentials: AUTH_SYS 0/0. */
struct nfs4clnt_conn *nfs4clnt_connect(const char *host, uint16_t port);
/* Shuts the socket, joins the threads, fails waiting calls with -EPIPE, frees. */
void nfs4clnt_conn_close(struct nfs4clnt_conn *c);

void nfs4clnt_conn_set_auth(struct nfs4clnt_conn *c, const struct nfs4clnt_auth *auth);
struct nfs4clnt_auth nfs4clnt_conn_auth(struct nfs4clnt_conn *c);
void nfs4clnt_conn_set_cb(struct nfs4clnt_conn *c, nfs4clnt_cb_fn fn, void *ctx);
/* Records sent from now on are split into fragments of at most frag bytes (0: one fragment). */
void nfs4clnt_conn_set_fragment(struct nfs4clnt_conn *c, uint32_t frag);
uint32_t nfs4clnt_conn_next_xid(struct nfs4clnt_conn *c);
/* Number of backchannel calls answered so far. */
uint64_t nfs4clnt_conn_cb_count(struct nfs4clnt_conn *c);

/* Raw bytes on the socket, nothing added. 0 or -errno. */
int nfs4clnt_conn_send_raw(struct nfs4clnt_conn *c, const void *buf, size_t len);
/* One record (record marks added; fragmented per set_fragment). 0 or -errno. */
int nfs4clnt_conn_send_record(struct nfs4clnt_conn *c, const void *rec, size_t len);
int nfs4clnt_conn_send_recordv(struct nfs4clnt_conn *c, const struct iovec *iov, int iovcnt);
/*
 * Receives the next REPLY record that no caller is waiting for (e.g. the answer
 * to a record sent with send_record). *rec is malloc'd. 0, -ETIMEDOUT, or
 * -EPIPE once the connection is closed and nothing is queued.
 */
int nfs4clnt_conn_recv_record(struct nfs4clnt_conn *c, int timeout_ms, uint8_t **rec, size_t *len);
/* Waits until the peer closed the connection (or it failed): true if it did within timeout. */
bool nfs4clnt_conn_wait_closed(struct nfs4clnt_conn *c, int timeout_ms);
bool nfs4clnt_conn_is_closed(struct nfs4clnt_conn *c);

/*
 * Sends a complete call record (whose first word is its xid) and waits for the
 * reply with that xid. 0 (rep filled; may be a rejection) or -errno.
 */
int nfs4clnt_call_recordv(struct nfs4clnt_conn *c, uint32_t xid, const struct iovec *iov,
			  int iovcnt, int timeout_ms, struct nfs4clnt_reply *rep);
int nfs4clnt_call_record(struct nfs4clnt_conn *c, const void *rec, size_t len, int timeout_ms,
			 struct nfs4clnt_reply *rep);
/* Builds the header (auth NULL: the connection's) and calls. */
int nfs4clnt_call(struct nfs4clnt_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
		  const struct nfs4clnt_auth *auth, const void *args, size_t args_len,
		  int timeout_ms, struct nfs4clnt_reply *rep);
/* NFSv4 NULL procedure: 0 when accepted with SUCCESS. */
int nfs4clnt_null(struct nfs4clnt_conn *c);

/* ----------------------------------------------------------- COMPOUND */

/*
 * A COMPOUND under construction: tag, minorversion and the ops. Ops are
 * appended with nfs4clnt_compound_add(), which writes the opnum and returns the
 * encoder into which the caller writes the op's arguments (usually with a
 * generated xdr_enc_<OP>4args()). A builder can be sent several times.
 */
struct nfs4clnt_compound {
	struct xdr_opaque tag;
	uint32_t minorversion;
	uint32_t numops;
	int32_t numops_override; /* >= 0: sent as numops instead of the real count (tests) */
	struct xdr_enc ops;	 /* encoded nfs_argop4s */
	uint8_t *tagbuf;
	/*
	 * At most one opaque's bytes (WRITE data) sent from the caller's memory
	 * instead of copied into ops: they go between ops.base[0..data_at) and
	 * the rest of ops (which starts with their padding). NULL when none.
	 */
	const void *data;
	uint32_t data_len;
	size_t data_at;
};

struct nfs4clnt_compound *nfs4clnt_compound_new(const char *tag, uint32_t minorversion);
void nfs4clnt_compound_free(struct nfs4clnt_compound *cmp);
/* Empties the op list (tag and minorversion kept). */
void nfs4clnt_compound_reset(struct nfs4clnt_compound *cmp);
/* Appends opnum; returns the encoder for its args, or NULL when the buffer is full. */
struct xdr_enc *nfs4clnt_compound_add(struct nfs4clnt_compound *cmp, uint32_t opnum);
/*
 * Encodes opaque data (length, bytes, padding) into the current op's args
 * without copying the bytes: they are sent from data, which must stay
 * valid and unchanged until the compound is last sent. A compound takes one
 * such opaque; a second one is copied. False when the buffer is full.
 */
bool nfs4clnt_compound_add_data(struct nfs4clnt_compound *cmp, const void *data, uint32_t len);
/* Appends an explicit SEQUENCE (tests choose every field). */
bool nfs4clnt_compound_add_sequence(struct nfs4clnt_compound *cmp, const uint8_t sessionid[16],
				    uint32_t seqid, uint32_t slotid, uint32_t highest_slotid,
				    bool cachethis);
/* Encodes COMPOUND4args (tag, minorversion, numops, ops) into x. */
bool nfs4clnt_compound_encode(const struct nfs4clnt_compound *cmp, struct xdr_enc *x);

/*
 * A COMPOUND reply. After send, status/tag/numres are set and the iterator
 * stands before the first result. nfs4clnt_res_next() reads the next result's
 * opnum and status; the caller may then decode the op's body from
 * nfs4clnt_res_body() (for most ops: the resok part when status is NFS4_OK).
 * If the caller does not touch the body, next() skips it: always for the ops
 * the library itself speaks (SEQUENCE, EXCHANGE_ID, CREATE_SESSION,
 * DESTROY_*, BIND_CONN_TO_SESSION, RECLAIM_COMPLETE, PUTROOTFH, ILLEGAL), and
 * for other ops when their status is an error without a body; a successful
 * result of any other op must be decoded by the caller before next() (else
 * next() returns false). Arrays decoded by the caller come from res->arena.
 */
struct nfs4clnt_res {
	struct nfs4clnt_reply rpc;
	uint32_t status;
	struct xdr_opaque tag;
	uint32_t numres;
	uint32_t index;	    /* results consumed by next() */
	uint32_t opnum;	    /* of the current result */
	uint32_t opstatus;  /* of the current result */
	const uint8_t *cur; /* start of the current result (its opnum) */
	bool body_taken;
	struct xdr_dec dec;
	struct arena arena;
	const uint8_t *results; /* first result, for the byte comparisons tests make */
	size_t results_len;
};

/* Sends cmp as NFSv4 COMPOUND on c. 0 (res filled, check res->status) or -errno. */
int nfs4clnt_compound_send(struct nfs4clnt_conn *c, const struct nfs4clnt_compound *cmp,
			   int timeout_ms, struct nfs4clnt_res *res);
/* false at the end of the results or when a result does not decode. */
bool nfs4clnt_res_next(struct nfs4clnt_res *res, uint32_t *opnum, uint32_t *status);
struct xdr_dec *nfs4clnt_res_body(struct nfs4clnt_res *res);
/* Advances to the result of opnum (skipping others): its status, or -ENOENT. */
int nfs4clnt_res_find(struct nfs4clnt_res *res, uint32_t opnum);
void nfs4clnt_res_free(struct nfs4clnt_res *res);

/* ------------------------------------------------------------ clients */

struct nfs4clnt_exid_args {
	struct xdr_opaque owner; /* co_ownerid */
	uint8_t verifier[8];	 /* co_verifier */
	uint32_t flags;
	uint32_t sp_how;		  /* state_protect_how4; only SP4_NONE is encoded fully */
	const struct nfs4clnt_auth *auth; /* NULL: the connection's */
};

struct nfs4clnt_exid_res {
	uint64_t clientid;
	uint32_t sequenceid;
	uint32_t flags;
	uint32_t spr_how;
	uint64_t so_minor_id;
	uint32_t so_major_len;
	uint8_t so_major[1024];
	uint32_t scope_len;
	uint8_t scope[1024];
	uint32_t nimpl; /* entries in eir_server_impl_id<1> */
};

int nfs4clnt_exchange_id(struct nfs4clnt_conn *c, const struct nfs4clnt_exid_args *args,
			 struct nfs4clnt_exid_res *res);

struct nfs4clnt_chan_attrs {
	uint32_t headerpadsize;
	uint32_t maxrequestsize;
	uint32_t maxresponsesize;
	uint32_t maxresponsesize_cached;
	uint32_t maxoperations;
	uint32_t maxrequests;
	uint32_t nrdma_ird; /* 0 or 1 */
	uint32_t rdma_ird;
};

/* Reasonable client defaults: 1 MiB sizes, 16 ops, slots requests. */
struct nfs4clnt_chan_attrs nfs4clnt_chan_default(uint32_t slots);

struct nfs4clnt_cs_args {
	uint64_t clientid;
	uint32_t sequence;
	uint32_t flags; /* CREATE_SESSION4_FLAG_* */
	struct nfs4clnt_chan_attrs fore;
	struct nfs4clnt_chan_attrs back;
	uint32_t cb_program;
	uint32_t sec_flavor;		  /* callback_sec_parms4: 0 AUTH_NONE, 1 AUTH_SYS */
	uint32_t nsec_parms;		  /* 0 sends an empty csa_sec_parms; otherwise 1 */
	const struct nfs4clnt_auth *auth; /* NULL: the connection's */
};

struct nfs4clnt_cs_res {
	uint8_t sessionid[16];
	uint32_t sequence;
	uint32_t flags;
	struct nfs4clnt_chan_attrs fore;
	struct nfs4clnt_chan_attrs back;
};

/* Defaults: sequence/clientid from the caller; fore/back defaults, CONN_BACK_CHAN, AUTH_SYS. */
struct nfs4clnt_cs_args nfs4clnt_cs_default(uint64_t clientid, uint32_t sequence);
int nfs4clnt_create_session(struct nfs4clnt_conn *c, const struct nfs4clnt_cs_args *args,
			    struct nfs4clnt_cs_res *res);
int nfs4clnt_destroy_session(struct nfs4clnt_conn *c, const uint8_t sessionid[16]);
int nfs4clnt_destroy_clientid(struct nfs4clnt_conn *c, uint64_t clientid);
/* dir: CDFC4_FORE 1, CDFC4_BACK 2, CDFC4_FORE_OR_BOTH 3, CDFC4_BACK_OR_BOTH 7. */
int nfs4clnt_bind_conn(struct nfs4clnt_conn *c, const uint8_t sessionid[16], uint32_t dir,
		       uint32_t *dir_out);

/* ----------------------------------------------------------- sessions */

/* The decoded SEQUENCE4resok of a session compound. */
struct nfs4clnt_seq_res {
	uint32_t status; /* SEQUENCE's own status */
	uint8_t sessionid[16];
	uint32_t sequenceid;
	uint32_t slotid;
	uint32_t highest_slotid;
	uint32_t target_highest_slotid;
	uint32_t status_flags;
};

struct nfs4clnt_session;

/*
 * A session on connection c (not owned). The fore channel slot table has
 * cs->fore.maxrequests slots, all at sequence id 1.
 */
struct nfs4clnt_session *nfs4clnt_session_new(struct nfs4clnt_conn *c,
					      const struct nfs4clnt_cs_res *cs);
void nfs4clnt_session_free(struct nfs4clnt_session *s);
const uint8_t *nfs4clnt_session_id(const struct nfs4clnt_session *s);
struct nfs4clnt_conn *nfs4clnt_session_conn(const struct nfs4clnt_session *s);
/* Sends the session's calls on another connection from now on (e.g. after BIND_CONN). */
void nfs4clnt_session_set_conn(struct nfs4clnt_session *s, struct nfs4clnt_conn *c);
uint32_t nfs4clnt_session_nslots(const struct nfs4clnt_session *s);
/* Highest slot id the library currently uses: min(nslots-1, server's target). */
uint32_t nfs4clnt_session_highest_usable(struct nfs4clnt_session *s);
/* Peak number of slots busy at once since the session was created. */
uint32_t nfs4clnt_session_max_busy(struct nfs4clnt_session *s);

/*
 * Takes a free slot (waits for one), prepends SEQUENCE to cmp, sends it, and
 * releases the slot: its sequence id is bumped when SEQUENCE succeeded. On
 * return res iterates from the first op after SEQUENCE; seq (if not NULL) gets
 * the SEQUENCE result. Returns the COMPOUND status (or -errno).
 */
int nfs4clnt_session_compound(struct nfs4clnt_session *s, const struct nfs4clnt_compound *cmp,
			      bool cachethis, int timeout_ms, struct nfs4clnt_res *res,
			      struct nfs4clnt_seq_res *seq);
/* A compound of SEQUENCE alone (lease renewal). Returns SEQUENCE's status. */
int nfs4clnt_session_sequence(struct nfs4clnt_session *s, struct nfs4clnt_seq_res *seq);
/* Slot access for tests that drive SEQUENCE by hand: the seqid the next request would use. */
uint32_t nfs4clnt_session_slot_seqid(struct nfs4clnt_session *s, uint32_t slotid);
void nfs4clnt_session_slot_set_seqid(struct nfs4clnt_session *s, uint32_t slotid, uint32_t seqid);

/* Decodes a SEQUENCE4resok body. */
bool nfs4clnt_dec_sequence_resok(struct xdr_dec *x, struct nfs4clnt_seq_res *seq);
/* RECLAIM_COMPLETE(rca_one_fs=false) in the session. Returns RECLAIM_COMPLETE's status. */
int nfs4clnt_reclaim_complete(struct nfs4clnt_session *s);

/*
 * Convenience for tests and the benchmark: EXCHANGE_ID with owner + CREATE_SESSION
 * (defaults, slots fore channel slots) on c. 0 or nfsstat4/-errno of the failing step.
 */
int nfs4clnt_client_setup(struct nfs4clnt_conn *c, const char *owner, uint32_t slots,
			  uint64_t *clientid, struct nfs4clnt_session **sess);

#endif
