/*
 * RFC 5531 section 11 record marking, reassembled incrementally. Pure: no
 * sockets, no allocation. The reader asks where the next bytes go
 * (rpc_record_next), puts them there (a read() straight from the socket, or
 * a copy) and reports how many arrived (rpc_record_advance). The reassembler
 * takes the 4-byte fragment headers (high bit: last fragment, low 31 bits:
 * length) into itself and lays the fragment bodies of one record end to end
 * in the caller's buffer, so a body is never copied.
 *
 * It never asks for a byte past the current header or fragment body, with
 * one exception: with the last bytes of a record, the next record's 4-byte
 * header may be read too (rpc_record_next_mark), so that pipelined calls
 * take one read() each instead of two. So once a record is complete, at
 * most the next one's header has been taken from the stream, never a byte
 * of its body: the socket stays the queue of its connection's calls, and
 * the next record's body in it still makes the socket readable. (The one
 * record with no body byte, an empty one, may thus wait in the reassembler
 * for the reader rather than in the socket; an empty record is no call and
 * gets no reply.)
 *
 * The buffer: before the first body byte, rpc_record_wants_buf() says so and
 * the caller attaches one of max_record bytes; the record's bytes go to its
 * start. Limits are enforced on the header, before any body byte is wanted:
 * a record whose fragments add up to more than max_record, or that has more
 * than RPC_MAX_FRAGMENTS fragments (zero-length ones included), is an error.
 * (How much memory a claimed but unsent body costs is the buffer's business:
 * see buf.h.)
 *
 * Errors are sticky: the stream cannot be resynchronised, the connection must
 * be closed.
 */
#ifndef NFS4D_RPC_RECORD_H
#define NFS4D_RPC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_RECORD_MARK_LEN 4
#define RPC_RECORD_LAST 0x80000000u
#define RPC_RECORD_MAX_FRAG 0x7fffffffu

enum rpc_record_status {
	RPC_RECORD_MORE,  /* the record is not complete yet: rpc_record_next() */
	RPC_RECORD_READY, /* a record is complete: rpc_record_take() it */
	RPC_RECORD_ERROR, /* the stream is unusable: see rpc_record.error */
};

struct rpc_record {
	uint32_t max_record; /* record body bytes accepted (headers not counted) */
	uint32_t nfrags;     /* fragment headers seen in this record */
	uint32_t frag_left;  /* body bytes of the current fragment still to come */
	uint8_t hdr[RPC_RECORD_MARK_LEN];
	uint8_t hdr_have;  /* bytes of the next fragment header received */
	bool in_body;	   /* between a fragment header and the end of its body */
	bool last;	   /* the current fragment is the record's last */
	bool ready;	   /* a complete record waits for rpc_record_take() */
	const char *error; /* NULL, or why the stream failed (static string) */
	uint8_t *buf;	   /* the caller's, max_record bytes; NULL until attached */
	size_t len;	   /* body bytes of this record so far */
};

void rpc_record_init(struct rpc_record *r, uint32_t max_record);

/* True when body bytes are wanted next and no buffer is attached. */
bool rpc_record_wants_buf(const struct rpc_record *r);
/* Gives the record its buffer (at least max_record bytes, owned by the caller). */
void rpc_record_attach(struct rpc_record *r, uint8_t *buf);

/*
 * Where the next bytes of the stream go (*dst) and at most how many: the rest
 * of the current fragment header or body. 0 once a record is ready or the
 * stream failed. Body bytes are wanted only with a buffer attached.
 */
size_t rpc_record_next(struct rpc_record *r, uint8_t **dst);
/*
 * Where the next record's header may go when it is read together with the
 * rest of this one (a second iovec after rpc_record_next()'s): 4 when the
 * bytes rpc_record_next() asks for end this record, else 0.
 */
size_t rpc_record_next_mark(struct rpc_record *r, uint8_t **dst);
/*
 * n bytes arrived: at most what rpc_record_next() allowed, plus what
 * rpc_record_next_mark() allowed once the former are all there.
 */
enum rpc_record_status rpc_record_advance(struct rpc_record *r, size_t n);

/*
 * After RPC_RECORD_READY: the record's bytes (in the attached buffer, which
 * goes back to the caller with them; NULL if none was ever needed) and their
 * length. The reassembler starts on the next record with no buffer, and
 * with as much of its header as was read ahead: it may thus already be
 * ready (an empty record) or failed (a bad header); check before reading.
 */
uint8_t *rpc_record_take(struct rpc_record *r, size_t *len);
/*
 * After rpc_record_take(): the next record's header is in, and it says the
 * record is a single fragment of at most max bytes (a short call on its way).
 */
bool rpc_record_next_is_short(const struct rpc_record *r, size_t max);
/* For teardown: the attached buffer (NULL if none); a partial record in it is dropped. */
uint8_t *rpc_record_detach(struct rpc_record *r);

#endif
