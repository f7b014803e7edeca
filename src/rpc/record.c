#include "rpc/record.h"

#include <stdlib.h>
#include <string.h>

#include "util/limits.h"

/* First allocation for a record body; later growth at most doubles. */
#define RPC_RECORD_MIN_ALLOC 4096

void rpc_record_init(struct rpc_record *r, uint32_t max_record)
{
	memset(r, 0, sizeof(*r));
	r->max_record = max_record ? max_record : RPC_MAX_RECORD;
}

void rpc_record_destroy(struct rpc_record *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
	r->cap = 0;
}

static enum rpc_record_status record_fail(struct rpc_record *r, const char *why)
{
	r->error = why;
	return RPC_RECORD_ERROR;
}

/* A complete fragment header is in r->hdr: check it against the limits. */
static enum rpc_record_status record_header(struct rpc_record *r)
{
	uint32_t v = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
		     (uint32_t)r->hdr[2] << 8 | r->hdr[3];
	uint32_t flen = v & RPC_RECORD_MAX_FRAG;

	r->hdr_have = 0;
	r->last = (v & RPC_RECORD_LAST) != 0;
	if (++r->nfrags > RPC_MAX_FRAGMENTS)
		return record_fail(r, "too many fragments");
	/* r->len <= max_record always holds, so this cannot wrap. */
	if (flen > r->max_record - r->len)
		return record_fail(r, "record too large");
	r->frag_left = flen;
	if (flen > 0) {
		r->in_body = true;
		return RPC_RECORD_MORE;
	}
	if (r->last)
		r->ready = true;
	return r->ready ? RPC_RECORD_READY : RPC_RECORD_MORE;
}

/* Room for n more bytes, growing with what arrived, never to what was claimed. */
static bool record_grow(struct rpc_record *r, size_t n)
{
	size_t need = r->len + n;
	size_t limit = r->len + r->frag_left; /* the current fragment's end */
	size_t ncap;
	uint8_t *nbuf;

	if (need <= r->cap)
		return true;
	ncap = r->cap ? r->cap * 2 : RPC_RECORD_MIN_ALLOC;
	if (ncap > limit)
		ncap = limit;
	if (ncap < need)
		ncap = need;
	nbuf = realloc(r->buf, ncap);
	if (!nbuf)
		return false;
	r->buf = nbuf;
	r->cap = ncap;
	return true;
}

enum rpc_record_status rpc_record_feed(struct rpc_record *r, const uint8_t *data, size_t len,
				       size_t *consumed)
{
	size_t off = 0;
	enum rpc_record_status st = RPC_RECORD_MORE;

	*consumed = 0;
	if (r->error)
		return RPC_RECORD_ERROR;
	if (r->ready)
		return RPC_RECORD_READY;
	while (off < len) {
		if (!r->in_body) {
			size_t n = RPC_RECORD_MARK_LEN - r->hdr_have;

			if (n > len - off)
				n = len - off;
			memcpy(r->hdr + r->hdr_have, data + off, n);
			r->hdr_have += (uint8_t)n;
			off += n;
			if (r->hdr_have < RPC_RECORD_MARK_LEN)
				continue;
			st = record_header(r);
		} else {
			size_t n = r->frag_left;

			if (n > len - off)
				n = len - off;
			if (!record_grow(r, n)) {
				st = record_fail(r, "out of memory");
				break;
			}
			memcpy(r->buf + r->len, data + off, n);
			r->len += n;
			r->frag_left -= (uint32_t)n;
			off += n;
			if (r->frag_left > 0)
				continue;
			r->in_body = false;
			if (r->last) {
				r->ready = true;
				st = RPC_RECORD_READY;
			}
		}
		if (st != RPC_RECORD_MORE)
			break;
	}
	*consumed = off;
	return st;
}

uint8_t *rpc_record_take(struct rpc_record *r, size_t *len)
{
	uint8_t *buf = r->buf;

	*len = r->len;
	r->buf = NULL;
	r->len = 0;
	r->cap = 0;
	r->nfrags = 0;
	r->ready = false;
	r->last = false;
	if (*len == 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}
