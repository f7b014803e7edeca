/*
 * RFC 5531 section 11 record marking, reassembled incrementally. Pure: no
 * sockets. The I/O thread feeds bytes as they arrive; the reassembler strips
 * the 4-byte fragment headers (high bit: last fragment, low 31 bits: length)
 * and joins the fragments of one record into one contiguous buffer.
 *
 * Limits are enforced on the header, before any body byte is stored: a record
 * whose fragments add up to more than max_record, or that has more than
 * RPC_MAX_FRAGMENTS fragments (zero-length ones included), is an error. The
 * buffer grows with the bytes that actually arrived (at most doubling), never
 * to the size a header claims, so a peer announcing 2 GiB and sending nothing
 * costs a few KiB.
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
	RPC_RECORD_MORE,  /* all input consumed, the record is not complete yet */
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
	uint8_t *buf;
	size_t len;
	size_t cap;
};

void rpc_record_init(struct rpc_record *r, uint32_t max_record);
/* Frees the partial record (if any). The struct may be initialised again. */
void rpc_record_destroy(struct rpc_record *r);

/*
 * Consumes bytes from data up to the end of at most one record and reports in
 * *consumed how many it used. On RPC_RECORD_READY the caller takes the record
 * and feeds the rest (data + *consumed) again. While a record waits to be
 * taken, nothing is consumed.
 */
enum rpc_record_status rpc_record_feed(struct rpc_record *r, const uint8_t *data, size_t len,
				       size_t *consumed);

/*
 * After RPC_RECORD_READY: hands over the record (caller free()s it; NULL for
 * an empty record) and its length; the reassembler starts on the next record.
 */
uint8_t *rpc_record_take(struct rpc_record *r, size_t *len);

#endif
