/*
 * The XDR stream (RFC 4506). Every read from a received buffer goes through
 * xdr_dec_inline(), the single bounds check; every write into a reply buffer
 * goes through xdr_enc_reserve(). Variable-length opaques and strings decode
 * to a struct xdr_opaque that points into the received buffer (zero-copy), so
 * the buffer must outlive the decoded value. Arrays and optional members are
 * allocated from the decoder's arena.
 *
 * Codecs for protocol types are generated at build time from the .x files in src/xdr/ by
 * tools/xdrgen/xdrgen.py: xdr_dec_<type>() / xdr_enc_<type>(), see docs/xdr.md.
 */
#ifndef NFS4D_XDR_XDR_H
#define NFS4D_XDR_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"

#define XDR_UNLIMITED UINT32_MAX
#define XDR_PAD(n) (((size_t)(n) + 3) & ~(size_t)3)

/* A view of bytes: into a received buffer after decode, or the caller's bytes for encode. */
struct xdr_opaque {
	uint32_t len;
	const uint8_t *data;
};

struct xdr_dec {
	const uint8_t *p;
	const uint8_t *end;
	struct arena *arena; /* may be NULL when the types decoded need no allocation */
};

struct xdr_enc {
	uint8_t *base;
	size_t len;
	size_t cap;
	bool overflow; /* set once any write did not fit; the buffer content is then unusable */
};

static inline void xdr_dec_init(struct xdr_dec *x, const void *buf, size_t len, struct arena *a)
{
	x->p = buf;
	x->end = len ? x->p + len : x->p; /* buf may be NULL when len is 0 */
	x->arena = a;
}

static inline size_t xdr_dec_remaining(const struct xdr_dec *x)
{
	return (size_t)(x->end - x->p);
}

/*
 * The bounds check: consumes n bytes rounded up to a multiple of 4 and returns
 * a pointer to them, or NULL (stream unchanged) when fewer remain.
 */
static inline const uint8_t *xdr_dec_inline(struct xdr_dec *x, size_t n)
{
	size_t padded = XDR_PAD(n);
	const uint8_t *p = x->p;

	if (padded < n || padded > xdr_dec_remaining(x))
		return NULL;
	if (padded)
		x->p += padded;
	return p;
}

static inline bool xdr_dec_u32(struct xdr_dec *x, uint32_t *v)
{
	const uint8_t *p = xdr_dec_inline(x, 4);

	if (!p)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return true;
}

static inline bool xdr_dec_i32(struct xdr_dec *x, int32_t *v)
{
	return xdr_dec_u32(x, (uint32_t *)v);
}

static inline bool xdr_dec_u64(struct xdr_dec *x, uint64_t *v)
{
	uint32_t hi, lo;

	if (!xdr_dec_u32(x, &hi) || !xdr_dec_u32(x, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static inline bool xdr_dec_i64(struct xdr_dec *x, int64_t *v)
{
	return xdr_dec_u64(x, (uint64_t *)v);
}

/* XDR bool: only 0 and 1 are valid. */
static inline bool xdr_dec_bool(struct xdr_dec *x, bool *v)
{
	uint32_t u;

	if (!xdr_dec_u32(x, &u) || u > 1)
		return false;
	*v = u;
	return true;
}

bool xdr_dec_opaque_fixed(struct xdr_dec *x, void *dst, size_t n);
/* Zero-copy: o->data points into the stream's buffer. Fails when len > max. */
bool xdr_dec_opaque(struct xdr_dec *x, struct xdr_opaque *o, uint32_t max);
/* Arena allocation for arrays and optional members; NULL when no arena or past its limit. */
void *xdr_dec_alloc(struct xdr_dec *x, size_t size);
/* Array element count: checked against max and against the bytes left (each element >= min_elem
 * bytes). */
bool xdr_dec_count(struct xdr_dec *x, uint32_t *count, uint32_t max, size_t min_elem);

static inline void xdr_enc_init(struct xdr_enc *x, void *buf, size_t cap)
{
	x->base = buf;
	x->len = 0;
	x->cap = cap;
	x->overflow = false;
}

/* Reserves n bytes (padded to 4, padding zeroed); NULL and overflow set if they do not fit. */
static inline uint8_t *xdr_enc_reserve(struct xdr_enc *x, size_t n)
{
	size_t padded = XDR_PAD(n);
	uint8_t *p;

	if (x->overflow || padded < n || padded > x->cap - x->len) {
		x->overflow = true;
		return NULL;
	}
	p = x->base + x->len;
	if (padded != n)
		memset(p + n, 0, padded - n);
	x->len += padded;
	return p;
}

static inline void xdr_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t xdr_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline bool xdr_enc_u32(struct xdr_enc *x, uint32_t v)
{
	uint8_t *p = xdr_enc_reserve(x, 4);

	if (!p)
		return false;
	xdr_put_be32(p, v);
	return true;
}

static inline bool xdr_enc_i32(struct xdr_enc *x, int32_t v)
{
	return xdr_enc_u32(x, (uint32_t)v);
}

static inline bool xdr_enc_u64(struct xdr_enc *x, uint64_t v)
{
	return xdr_enc_u32(x, (uint32_t)(v >> 32)) && xdr_enc_u32(x, (uint32_t)v);
}

static inline bool xdr_enc_i64(struct xdr_enc *x, int64_t v)
{
	return xdr_enc_u64(x, (uint64_t)v);
}

static inline bool xdr_enc_bool(struct xdr_enc *x, bool v)
{
	return xdr_enc_u32(x, v ? 1 : 0);
}

bool xdr_enc_opaque_fixed(struct xdr_enc *x, const void *src, size_t n);
/* Fails (and sets overflow) when o->len > max: we never send what we would refuse. */
bool xdr_enc_opaque(struct xdr_enc *x, const struct xdr_opaque *o, uint32_t max);

/* Overwrite a u32 already encoded at byte offset pos (e.g. a status known only later). */
static inline void xdr_enc_patch_u32(struct xdr_enc *x, size_t pos, uint32_t v)
{
	xdr_put_be32(x->base + pos, v);
}

static inline struct xdr_opaque xdr_opaque_str(const char *s)
{
	struct xdr_opaque o = {(uint32_t)strlen(s), (const uint8_t *)s};

	return o;
}

static inline bool xdr_opaque_eq(const struct xdr_opaque *a, const struct xdr_opaque *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

#endif
