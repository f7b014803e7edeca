#include "rpc/record.h"

#include <string.h>

#include "util/limits.h"

void rpc_record_init(struct rpc_record *r, uint32_t max_record)
{
	memset(r, 0, sizeof(*r));
	r->max_record = max_record ? max_record : RPC_MAX_RECORD;
}

bool rpc_record_wants_buf(const struct rpc_record *r)
{
	return r->in_body && !r->buf && !r->error;
}

void rpc_record_attach(struct rpc_record *r, uint8_t *buf)
{
	r->buf = buf;
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
	r->ready = r->last;
	return r->ready ? RPC_RECORD_READY : RPC_RECORD_MORE;
}

size_t rpc_record_next(struct rpc_record *r, uint8_t **dst)
{
	if (r->error || r->ready) {
		*dst = NULL;
		return 0;
	}
	if (!r->in_body) {
		*dst = r->hdr + r->hdr_have;
		return RPC_RECORD_MARK_LEN - r->hdr_have;
	}
	*dst = r->buf ? r->buf + r->len : NULL;
	return r->buf ? r->frag_left : 0;
}

size_t rpc_record_next_mark(struct rpc_record *r, uint8_t **dst)
{
	if (r->error || r->ready || !r->in_body || !r->buf || !r->last) {
		*dst = NULL;
		return 0;
	}
	*dst = r->hdr;
	return RPC_RECORD_MARK_LEN;
}

enum rpc_record_status rpc_record_advance(struct rpc_record *r, size_t n)
{
	size_t ahead = 0;

	if (r->error)
		return RPC_RECORD_ERROR;
	if (r->ready)
		return RPC_RECORD_READY;
	if (!r->in_body) {
		r->hdr_have += (uint8_t)n;
		return r->hdr_have < RPC_RECORD_MARK_LEN ? RPC_RECORD_MORE : record_header(r);
	}
	if (n > r->frag_left) { /* the next record's header, read ahead (r->last) */
		ahead = n - r->frag_left;
		n = r->frag_left;
	}
	r->len += n;
	r->frag_left -= (uint32_t)n;
	if (r->frag_left > 0)
		return RPC_RECORD_MORE;
	r->in_body = false;
	r->ready = r->last;
	r->hdr_have = (uint8_t)ahead;
	return r->ready ? RPC_RECORD_READY : RPC_RECORD_MORE;
}

uint8_t *rpc_record_take(struct rpc_record *r, size_t *len)
{
	uint8_t *buf = r->buf;

	*len = r->len;
	r->buf = NULL;
	r->len = 0;
	r->nfrags = 0;
	r->ready = false;
	r->last = false;
	if (r->hdr_have == RPC_RECORD_MARK_LEN)
		record_header(r); /* read ahead: its verdict waits in r */
	return buf;
}

bool rpc_record_next_is_short(const struct rpc_record *r, size_t max)
{
	return !r->error && r->nfrags == 1 && r->last && r->len + r->frag_left <= max;
}

uint8_t *rpc_record_detach(struct rpc_record *r)
{
	uint8_t *buf = r->buf;

	r->buf = NULL;
	return buf;
}
