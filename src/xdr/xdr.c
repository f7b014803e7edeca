#include "xdr/xdr.h"

bool xdr_dec_opaque_fixed(struct xdr_dec *x, void *dst, size_t n)
{
	const uint8_t *p = xdr_dec_inline(x, n);

	if (!p)
		return false;
	if (n)
		memcpy(dst, p, n);
	return true;
}

bool xdr_dec_opaque(struct xdr_dec *x, struct xdr_opaque *o, uint32_t max)
{
	struct xdr_dec save = *x;
	uint32_t len;
	const uint8_t *p;

	if (!xdr_dec_u32(x, &len) || len > max)
		goto fail;
	p = xdr_dec_inline(x, len);
	if (!p)
		goto fail;
	o->len = len;
	o->data = p;
	return true;
fail:
	*x = save;
	return false;
}

void *xdr_dec_alloc(struct xdr_dec *x, size_t size)
{
	if (!x->arena)
		return NULL;
	return arena_alloc(x->arena, size ? size : 1);
}

bool xdr_dec_count(struct xdr_dec *x, uint32_t *count, uint32_t max, size_t min_elem)
{
	uint32_t n;

	if (!xdr_dec_u32(x, &n) || n > max)
		return false;
	/* Refuse counts the remaining bytes cannot possibly hold before allocating for them. */
	if (min_elem && (size_t)n > xdr_dec_remaining(x) / min_elem)
		return false;
	*count = n;
	return true;
}

bool xdr_enc_opaque_fixed(struct xdr_enc *x, const void *src, size_t n)
{
	uint8_t *p = xdr_enc_reserve(x, n);

	if (!p)
		return false;
	if (n)
		memcpy(p, src, n);
	return true;
}

bool xdr_enc_opaque(struct xdr_enc *x, const struct xdr_opaque *o, uint32_t max)
{
	if (o->len > max) {
		x->overflow = true;
		return false;
	}
	return xdr_enc_u32(x, o->len) && xdr_enc_opaque_fixed(x, o->data, o->len);
}
