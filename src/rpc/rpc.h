/*
 * ONC RPC v2 over TCP (RFC 5531) — the server side. Knows nothing of NFS:
 * programs register a dispatcher; the rpc layer reads records, checks the
 * call header and credentials, answers the NULL procedure and every rejection
 * itself, and sends what the dispatcher encodes.
 *
 * Threads: one fixed pool. A pool thread waits for a readable connection,
 * reads one record, runs the dispatcher and sends the reply with one writev
 * under the connection's send lock; meanwhile the connection's next record
 * is read and run by another pool thread, so calls of one connection run
 * side by side and a slow call holds only its own thread. Every rpc thread
 * is registered as a liburcu reader thread, so dispatchers may use
 * rcu_read_begin().
 */
#ifndef NFS4D_RPC_RPC_H
#define NFS4D_RPC_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "util/arena.h"
#include "util/limits.h"
#include "xdr/xdr.h"

#define RPC_VERSION 2
#define RPC_MSG_CALL 0
#define RPC_MSG_REPLY 1

enum rpc_auth_flavor {
	RPC_AUTH_NONE = 0,
	RPC_AUTH_SYS = 1,
	RPC_AUTH_SHORT = 2,
	RPC_AUTH_DH = 3,
	RPC_RPCSEC_GSS = 6,
};

enum rpc_reply_stat { RPC_MSG_ACCEPTED = 0, RPC_MSG_DENIED = 1 };

enum rpc_accept_stat {
	RPC_SUCCESS = 0,
	RPC_PROG_UNAVAIL = 1,
	RPC_PROG_MISMATCH = 2,
	RPC_PROC_UNAVAIL = 3,
	RPC_GARBAGE_ARGS = 4,
	RPC_SYSTEM_ERR = 5,
};

enum rpc_reject_stat { RPC_MISMATCH = 0, RPC_AUTH_ERROR = 1 };

enum rpc_auth_stat {
	RPC_AUTH_OK = 0,
	RPC_AUTH_BADCRED = 1,
	RPC_AUTH_REJECTEDCRED = 2,
	RPC_AUTH_BADVERF = 3,
	RPC_AUTH_REJECTEDVERF = 4,
	RPC_AUTH_TOOWEAK = 5,
};

/* Credentials of a call, checked and decoded (AUTH_NONE leaves uid/gid at 65534). */
struct rpc_cred {
	uint32_t flavor; /* RPC_AUTH_NONE or RPC_AUTH_SYS */
	uint32_t stamp;
	uint32_t uid;
	uint32_t gid;
	uint32_t ngids;
	uint32_t gids[RPC_MAX_AUTH_GIDS];
	char machinename[RPC_MAX_MACHINENAME + 1];
};

struct rpc_conn;

/*
 * The bulk data of a call (docs/architecture.md, "Bulk data"). A large
 * record whose program pointed at an opaque in it (rpc_program.find_bulk)
 * may arrive with a hole: hole[0..len) of the record buffer were never
 * written; those bytes wait, in order, in a pipe, from which the call may
 * splice them elsewhere (fd, at most once) or copy them into the hole
 * (rpc_bulk_fill). Every other byte of the record is at its place in the
 * buffer. What the call leaves in the pipe is discarded when it ends.
 */
struct rpc_bulk {
	uint8_t *hole; /* NULL: the record is whole */
	size_t len;
	int fd;	    /* the pipe's read end */
	bool spent; /* the pipe was read from other than by rpc_bulk_fill: the hole is lost */
};

/*
 * Makes the record whole: copies the pipe into the hole (hole NULL after).
 * 0, or -errno (-EIO once the pipe was spent); nothing to do without a hole.
 */
int rpc_bulk_fill(struct rpc_bulk *b);

/* Whether [p, p + n) of the record touches the hole. */
static inline bool rpc_bulk_overlaps(const struct rpc_bulk *b, const void *p, size_t n)
{
	const uint8_t *q = p;

	return b->hole && q < b->hole + b->len && b->hole < q + n;
}

struct rpc_call {
	uint32_t xid;
	uint32_t prog;
	uint32_t vers;
	uint32_t proc;
	struct rpc_cred cred;
	struct xdr_dec args;   /* the procedure's arguments, zero-copy into the record */
	struct rpc_conn *conn; /* holds a reference for the duration of the call */
	struct arena *arena;   /* per-call decode memory, reset after the reply is sent */
	struct rpc_bulk bulk;  /* args may lie partly in a pipe: check before reading data */
};

/*
 * A program's dispatcher, called on a pool thread for procedures 1..nprocs-1
 * (the rpc layer answers procedure 0, NULL, itself). It encodes the results
 * into res, which starts right after the accepted-reply header, and returns
 * RPC_SUCCESS; or it returns RPC_GARBAGE_ARGS / RPC_SYSTEM_ERR and the rpc
 * layer discards res and sends that rejection instead.
 */
typedef enum rpc_accept_stat (*rpc_dispatch_fn)(void *ctx, struct rpc_call *call,
						struct xdr_enc *res);

struct rpc_program {
	uint32_t prog;
	uint32_t vers_low; /* versions vers_low..vers_high; others get PROG_MISMATCH */
	uint32_t vers_high;
	uint32_t nprocs; /* procedures 0..nprocs-1 exist; others get PROC_UNAVAIL */
	/*
	 * Bit (1 << flavor) for each flavor accepted on procedures other than
	 * NULL. A flavor we understand but the program does not accept gets
	 * AUTH_TOOWEAK; a flavor we do not implement gets AUTH_BADCRED.
	 */
	uint32_t auth_flavors;
	rpc_dispatch_fn dispatch;
	void *ctx;
	/*
	 * Optional: where a call's bulk data lies, from its record's first
	 * bytes only (rec[0..have), RPC header included, of a single-fragment
	 * record of reclen bytes). True with [*off, *off + *len) (within
	 * reclen) when those bytes are an opaque's data the dispatcher reads
	 * only through call->bulk (the rpc layer may leave them out of the
	 * buffer); false when the call has none. Never reads past have.
	 */
	bool (*find_bulk)(const uint8_t *rec, size_t have, size_t reclen, size_t *off, size_t *len);
};

/*
 * Called when a record arriving on a connection is a REPLY (the peer answering
 * a call we sent on it: the NFSv4.1 backchannel). rec/len is the whole record
 * (no record mark), valid only during the call.
 */
typedef void (*rpc_reply_fn)(void *ctx, struct rpc_conn *conn, uint32_t xid, const uint8_t *rec,
			     size_t len);
/* Called once when a connection is closed, before its last reference is dropped. */
typedef void (*rpc_close_fn)(void *ctx, struct rpc_conn *conn);

struct rpc_server_config {
	const struct sockaddr_storage *addrs; /* port 0 picks a free port: see rpc_server_port() */
	int naddrs;
	int workers; /* pool threads, at least 2; 0: four per core */
	const struct rpc_program *progs;
	int nprogs;
	uint32_t max_record; /* 0: RPC_MAX_RECORD */
	uint32_t max_reply;  /* capacity of a reply; 0: RPC_MAX_RECORD */
	rpc_close_fn on_close;
	void *on_close_ctx;
};

struct rpc_server;

/* Binds every address (logs and returns NULL on failure). No thread runs yet. */
struct rpc_server *rpc_server_create(const struct rpc_server_config *cfg);
/* The port actually bound for address i. */
uint16_t rpc_server_port(const struct rpc_server *srv, int i);
int rpc_server_start(struct rpc_server *srv);
/*
 * Stops accepting and reading, lets the calls already read finish and send
 * their replies, closes every connection and joins all threads.
 */
void rpc_server_stop(struct rpc_server *srv);
void rpc_server_destroy(struct rpc_server *srv);

/* Connections are reference counted; the call holds one while it runs. */
void rpc_conn_get(struct rpc_conn *conn);
void rpc_conn_put(struct rpc_conn *conn);
/* A number unique for the life of the process, for logs and tables. */
uint64_t rpc_conn_id(const struct rpc_conn *conn);
bool rpc_conn_is_closed(const struct rpc_conn *conn);
const struct sockaddr_storage *rpc_conn_peer(const struct rpc_conn *conn);
/* Closes the connection (idempotent); on_close runs. */
void rpc_conn_close(struct rpc_conn *conn);
/*
 * Sends one whole record (the caller's iovecs, record mark added here) with
 * writev under the connection's send lock. Used for backchannel calls.
 * Returns 0 or -errno (-EPIPE once closed).
 */
int rpc_conn_send_record(struct rpc_conn *conn, const struct iovec *iov, int iovcnt);
/* Route REPLY records on this connection to fn (NULL: drop them). */
void rpc_conn_set_reply_handler(struct rpc_conn *conn, rpc_reply_fn fn, void *ctx);

#endif
