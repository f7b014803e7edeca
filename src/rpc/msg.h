/*
 * One RPC record in, at most one reply record out: the call header checks of
 * RFC 5531 section 9, credentials, the NULL procedure and every rejection,
 * and the hand-off to a program's dispatcher. Pure (no sockets): the pool
 * threads, the unit tests and the fuzzer call it directly.
 *
 * What a record gets, in the order checked:
 *  - shorter than 8 bytes (no xid + msg_type), or msg_type neither CALL nor
 *    REPLY: RPC_VERDICT_DROP. Without an xid nothing can be answered, and a
 *    peer sending such bytes is not speaking RPC: the caller closes the
 *    connection (as Linux svc_tcp does for records < 8 bytes).
 *  - msg_type REPLY: RPC_VERDICT_REPLY, *xid set; the caller routes the
 *    record to the connection's reply handler (backchannel).
 *  - CALL with rpcvers present and != 2: rejected RPC_MISMATCH low = high = 2.
 *  - CALL whose header ends before the credential is complete, or whose
 *    credential is oversized (> 400), malformed or of a flavor we do not
 *    implement: rejected AUTH_ERROR AUTH_BADCRED.
 *  - verifier missing, oversized, or not an empty AUTH_NONE: AUTH_BADVERF.
 *  - program not registered: PROG_UNAVAIL; version outside the registered
 *    versions: PROG_MISMATCH with the lowest and highest registered;
 *    proc >= nprocs: PROC_UNAVAIL.
 *  - proc != 0 with a flavor the program's auth_flavors does not allow:
 *    rejected AUTH_ERROR AUTH_TOOWEAK.
 *  - proc 0 (NULL): accepted SUCCESS, empty results (any known flavor).
 *  - otherwise the dispatcher encodes the results; RPC_GARBAGE_ARGS,
 *    RPC_PROC_UNAVAIL or RPC_SYSTEM_ERR from it (or results that overflow
 *    the reply buffer: SYSTEM_ERR) replace the results by that status.
 * The reply verifier is always AUTH_NONE.
 */
#ifndef NFS4D_RPC_MSG_H
#define NFS4D_RPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"

enum rpc_verdict {
	RPC_VERDICT_SEND,  /* reply->base[0..reply->len) is a whole record, mark included */
	RPC_VERDICT_REPLY, /* the record is a REPLY: route it to the reply handler */
	RPC_VERDICT_DROP,  /* not an RPC message: send nothing, close the connection */
};

/*
 * Processes one record (rec/len, record marks already stripped).
 *
 * reply: an encoder over the caller's buffer; it is reset here. On
 * RPC_VERDICT_SEND it holds the complete reply *including* its 4-byte record
 * mark at offset 0 (last-fragment bit set), so it goes out with one write. A
 * buffer too small for even a rejection (< 40 bytes) gives RPC_VERDICT_DROP.
 *
 * arena: per-call decode memory handed to the dispatcher (call->arena and
 * call->args.arena); the caller resets it once the reply is sent.
 * conn: passed to the dispatcher as call->conn; may be NULL (tests, fuzzer).
 * xid: set whenever the record had one (may be NULL).
 * bulk: the record's hole (rpc.h), handed to the dispatcher as call->bulk;
 * NULL when the record is whole.
 */
enum rpc_verdict rpc_msg_process(const struct rpc_program *progs, int nprogs, struct rpc_conn *conn,
				 const uint8_t *rec, size_t len, const struct rpc_bulk *bulk,
				 struct arena *arena, struct xdr_enc *reply, uint32_t *xid);

#endif
