/*
 * Every construct of the xdrgen C mapping (docs/xdr.md), through the codecs
 * generated from tools/xdrgen/tests/xdrgen_test.x: base types, enums with
 * aliases and negative values, fixed and variable opaques, strings, fixed and
 * variable arrays, optionals, unions with and without default arms and with
 * int / bool / enum discriminants, every typedef form, and linked lists, which
 * must decode and encode a very long list without recursion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
#include "xdr/xdrgen_test_xdr.h"

#define BUF_MAX 1024

typedef bool (*dec_fn)(struct xdr_dec *x, void *v);
typedef bool (*enc_fn)(struct xdr_enc *x, const void *v);

static struct arena arena;

static size_t enc_ok(enc_fn enc, const void *v, uint8_t *out)
{
	struct xdr_enc e;

	xdr_enc_init(&e, out, BUF_MAX);
	assert_true(enc(&e, v));
	assert_false(e.overflow);
	return e.len;
}

static bool enc_fails(enc_fn enc, const void *v)
{
	uint8_t out[BUF_MAX];
	struct xdr_enc e;

	xdr_enc_init(&e, out, sizeof(out));
	return !enc(&e, v) && e.overflow;
}

/* Decodes a heap copy of exactly len bytes; true only if all of it was consumed. */
static bool dec_copy(dec_fn dec, const uint8_t *buf, size_t len, void *v, size_t vsize)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct xdr_dec x;
	bool ok;

	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	memset(v, 0, vsize);
	xdr_dec_init(&x, copy, len, &arena);
	ok = dec(&x, v) && xdr_dec_remaining(&x) == 0;
	free(copy);
	return ok;
}

/* Round trip plus: every prefix fails to decode, every smaller capacity fails to encode. */
static size_t roundtrip(enc_fn enc, dec_fn dec, const void *v, void *w, size_t vsize, uint8_t *out)
{
	uint8_t again[BUF_MAX];
	struct xdr_dec d;
	struct xdr_enc e;
	size_t len = enc_ok(enc, v, out), n;

	memset(w, 0, vsize);
	xdr_dec_init(&d, out, len, &arena);
	assert_true(dec(&d, w));
	assert_int_equal(xdr_dec_remaining(&d), 0);
	assert_int_equal(enc_ok(enc, w, again), len);
	assert_memory_equal(again, out, len);
	for (n = 0; n < len; n++) {
		uint8_t *small = malloc(n ? n : 1);

		assert_false(dec_copy(dec, out, n, w, vsize));
		assert_non_null(small);
		xdr_enc_init(&e, small, n);
		assert_false(enc(&e, v));
		assert_true(e.overflow);
		free(small);
	}
	/* leave w decoded from out (its opaques point into out) for the caller */
	memset(w, 0, vsize);
	xdr_dec_init(&d, out, len, &arena);
	assert_true(dec(&d, w));
	return len;
}

#define RT(type, vp, wp, out) \
	roundtrip((enc_fn)xdr_enc_##type, (dec_fn)xdr_dec_##type, (vp), (wp), sizeof(*(wp)), (out))
#define DEC(type, buf, len, wp) dec_copy((dec_fn)xdr_dec_##type, (buf), (len), (wp), sizeof(*(wp)))
#define ENC_FAILS(type, vp) enc_fails((enc_fn)xdr_enc_##type, (vp))

static int setup(void **state)
{
	(void)state;
	arena_init(&arena, 64u << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_reset(&arena);
	return 0;
}

static void test_struct_all(void **state)
{
	struct xt_pair pairs[3] = {{-1, 1}, {2, 0xffffffff}, {0, 0}};
	uint64_t hypers[2] = {1, UINT64_MAX};
	int32_t opt = -7;
	struct xt_all a, b;
	uint8_t out[BUF_MAX];
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.i = INT32_MIN;
	a.u = UINT32_MAX;
	a.h = INT64_MIN;
	a.uh = UINT64_MAX;
	a.flag = true;
	a.color = XT_DARK;
	memcpy(a.fix, "abcde", XT_FIX);
	a.var = xdr_opaque_str("12345678");
	a.str = xdr_opaque_str("four");
	a.ints[0] = 1;
	a.ints[2] = 3;
	a.pairs.len = 2;
	a.pairs.val = pairs;
	a.hypers.len = 2;
	a.hypers.val = hypers;
	a.opt_int = &opt;
	a.opt_pair = NULL;
	len = RT(xt_all, &a, &b, out);
	/* 4+4+8+8+4+4 + fix 8 + var 4+8 + str 4+4 + ints 12 + pairs 4+16 + hypers 4+16 + 4+4 + 4 */
	assert_int_equal(len, 32 + 8 + 12 + 8 + 12 + 20 + 20 + 8 + 4);
	assert_memory_equal(out + 32, "abcde\0\0\0", 8); /* padding is zero */
	assert_int_equal(b.color, XT_DARK);
	assert_int_equal(b.h, INT64_MIN);
	assert_int_equal(b.pairs.val[1].b, 0xffffffff);
	assert_int_equal(*b.opt_int, -7);
	assert_null(b.opt_pair);

	/* zero-copy: decoded opaques point into the input */
	{
		struct xdr_dec d;

		xdr_dec_init(&d, out, len, &arena);
		assert_true(xdr_dec_xt_all(&d, &b));
		assert_ptr_equal(b.var.data, out + 44);
		assert_ptr_equal(b.str.data, out + 56);
	}

	/* limits, both directions */
	a.str = xdr_opaque_str("five!");
	assert_true(ENC_FAILS(xt_all, &a));
	a.str = xdr_opaque_str("four");
	a.var.len = XT_OCT + 1;
	assert_true(ENC_FAILS(xt_all, &a));
	a.var.len = XT_OCT;
	a.pairs.len = 3;
	assert_true(ENC_FAILS(xt_all, &a));
	a.pairs.len = 2;
	a.pairs.val = NULL;
	assert_true(ENC_FAILS(xt_all, &a)); /* a length without elements */
	a.pairs.val = pairs;
	a.color = (enum xt_color)4;
	assert_true(ENC_FAILS(xt_all, &a));
	a.color = XT_RED;
	len = enc_ok((enc_fn)xdr_enc_xt_all, &a, out);
	assert_true(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 24, 2); /* flag: bool 2 */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 24, 1);
	xdr_put_be32(out + 28, 4); /* color: not a member */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 28, 3);
	assert_true(DEC(xt_all, out, len, &b));
	assert_int_equal(b.color, XT_BLUE);
	xdr_put_be32(out + 40, XT_OCT + 1); /* var<8> */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 40, 0xFFFFFFFF);
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 40, XT_OCT);
	xdr_put_be32(out + 52, 5); /* str<4> */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 52, 4);
	xdr_put_be32(out + 72, 3); /* pairs<2> */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 72, 0xFFFFFFFF);
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 72, 2);
	xdr_put_be32(out + 92, 0xFFFFFFFF); /* hypers<>: more than the bytes left */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 92, 3);
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 92, 2);
	xdr_put_be32(out + 112, 2); /* optional's bool */
	assert_false(DEC(xt_all, out, len, &b));
	xdr_put_be32(out + 112, 1);
	assert_true(DEC(xt_all, out, len, &b));
}

static void test_unions(void **state)
{
	struct xt_intu iu, iu2;
	struct xt_boolu bu, bu2;
	struct xt_enumu eu, eu2;
	struct xt_voidu vu, vu2;
	uint8_t out[BUF_MAX];
	uint8_t raw[8];

	(void)state;
	iu.kind = 2;
	iu.u.num = 99;
	assert_int_equal(RT(xt_intu, &iu, &iu2, out), 8);
	assert_int_equal(iu2.u.num, 99);
	iu.kind = XT_NEG;
	assert_int_equal(RT(xt_intu, &iu, &iu2, out), 4);
	iu.kind = 12345; /* default arm */
	iu.u.other = xdr_opaque_str("dflt");
	assert_int_equal(RT(xt_intu, &iu, &iu2, out), 12);
	assert_true(xdr_opaque_eq(&iu2.u.other, &iu.u.other));

	bu.present = true;
	bu.u.pair.a = 1;
	bu.u.pair.b = 2;
	assert_int_equal(RT(xt_boolu, &bu, &bu2, out), 12);
	bu.present = false;
	assert_int_equal(RT(xt_boolu, &bu, &bu2, out), 4);
	xdr_put_be32(raw, 2);
	assert_false(DEC(xt_boolu, raw, 4, &bu2));

	eu.color = XT_RED;
	eu.u.red = -1;
	assert_int_equal(RT(xt_enumu, &eu, &eu2, out), 12);
	eu.color = XT_GREEN;
	memcpy(eu.u.green, "xyz", 3);
	assert_int_equal(RT(xt_enumu, &eu, &eu2, out), 8);
	assert_memory_equal(out + 4, "xyz\0", 4);
	/* members without an arm, and non-members: refused both ways */
	eu.color = XT_BLUE;
	assert_true(ENC_FAILS(xt_enumu, &eu));
	eu.color = (enum xt_color)9;
	assert_true(ENC_FAILS(xt_enumu, &eu));
	xdr_put_be32(raw, XT_BLUE);
	assert_false(DEC(xt_enumu, raw, 8, &eu2));
	xdr_put_be32(raw, 9);
	assert_false(DEC(xt_enumu, raw, 8, &eu2));

	/* all arms void, default void: any discriminant */
	vu.what = 0xdeadbeef;
	assert_int_equal(RT(xt_voidu, &vu, &vu2, out), 4);
	assert_int_equal(vu2.what, 0xdeadbeef);
}

static void test_typedefs(void **state)
{
	struct xt_pair pairs[4] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
	enum xt_color colors[2] = {XT_RED, XT_DARK};
	xt_int2 i2 = -3, i2b;
	xt_fixop fo, fo2;
	xt_varop vo, vo2;
	xt_str s, s2;
	xt_pairs ps, ps2;
	xt_pairfix pf, pf2;
	xt_optpair op, op2;
	xt_colors cs, cs2;
	xt_strs ss, ss2;
	xt_str strs[2];
	uint8_t out[BUF_MAX];
	size_t len;

	(void)state;
	assert_int_equal(RT(xt_int2, &i2, &i2b, out), 4);
	assert_int_equal(i2b, -3);

	memcpy(fo.data, "12345", XT_FIX);
	assert_int_equal(RT(xt_fixop, &fo, &fo2, out), 8);
	assert_memory_equal(fo2.data, "12345", XT_FIX);

	vo = xdr_opaque_str("abc");
	assert_int_equal(RT(xt_varop, &vo, &vo2, out), 8);
	vo = xdr_opaque_str("abcd");
	assert_true(ENC_FAILS(xt_varop, &vo));

	s = xdr_opaque_str("");
	assert_int_equal(RT(xt_str, &s, &s2, out), 4);
	assert_int_equal(s2.len, 0);

	ps.len = 3;
	ps.val = pairs;
	assert_int_equal(RT(xt_pairs, &ps, &ps2, out), 4 + 3 * 8);
	assert_int_equal(ps2.val[2].b, 6);
	ps.len = 4;
	assert_true(ENC_FAILS(xt_pairs, &ps));
	ps.len = 0;
	ps.val = NULL;
	assert_int_equal(RT(xt_pairs, &ps, &ps2, out), 4);
	assert_null(ps2.val);

	pf.val[0] = pairs[0];
	pf.val[1] = pairs[3];
	assert_int_equal(RT(xt_pairfix, &pf, &pf2, out), 16);
	assert_int_equal(pf2.val[1].a, 7);

	op = &pairs[1];
	assert_int_equal(RT(xt_optpair, &op, &op2, out), 12);
	assert_non_null(op2);
	assert_int_equal(op2->a, 3);
	op = NULL;
	assert_int_equal(RT(xt_optpair, &op, &op2, out), 4);
	assert_null(op2);

	cs.len = 2;
	cs.val = colors;
	len = RT(xt_colors, &cs, &cs2, out);
	assert_int_equal(cs2.val[1], XT_DARK);
	xdr_put_be32(out + 8, 0); /* not a member, inside an array */
	assert_false(DEC(xt_colors, out, len, &cs2));

	strs[0] = xdr_opaque_str("a");
	strs[1] = xdr_opaque_str("bcdef");
	ss.len = 2;
	ss.val = strs;
	assert_int_equal(RT(xt_strs, &ss, &ss2, out), 4 + 8 + 12);
	assert_true(xdr_opaque_eq(&ss2.val[1], &strs[1]));
}

/* A list far longer than any C stack could recurse over. */
static void test_long_list(void **state)
{
	const uint32_t n = 300000;
	size_t len = (size_t)n * 16 + 8, i;
	uint8_t *buf = malloc(len), *again = malloc(len);
	struct xt_list l, l2;
	struct xt_entry *e;
	struct xdr_dec d;
	struct xdr_enc x;
	struct arena small;

	(void)state;
	assert_non_null(buf);
	assert_non_null(again);
	xdr_enc_init(&x, buf, len);
	for (i = 0; i < n; i++) {
		assert_true(xdr_enc_bool(&x, true));
		assert_true(xdr_enc_u64(&x, i));
		assert_true(xdr_enc_u32(&x, 0)); /* empty name */
	}
	assert_true(xdr_enc_bool(&x, false));
	assert_true(xdr_enc_bool(&x, true)); /* eof */
	assert_int_equal(x.len, len);

	xdr_dec_init(&d, buf, len, &arena);
	assert_true(xdr_dec_xt_list(&d, &l));
	assert_int_equal(xdr_dec_remaining(&d), 0);
	assert_true(l.eof);
	for (i = 0, e = l.entries; e; e = e->next, i++)
		assert_int_equal(e->cookie, i);
	assert_int_equal(i, n);

	xdr_enc_init(&x, again, len);
	assert_true(xdr_enc_xt_list(&x, &l));
	assert_int_equal(x.len, len);
	assert_memory_equal(again, buf, len);
	xdr_enc_init(&x, again, len - 4);
	assert_false(xdr_enc_xt_list(&x, &l));

	/* the arena bounds the memory a hostile list can take */
	arena_init(&small, 1u << 20);
	xdr_dec_init(&d, buf, len, &small);
	assert_false(xdr_dec_xt_list(&d, &l2));
	arena_reset(&small);

	/* a list cut anywhere in its last element */
	for (i = len - 24; i < len; i++)
		assert_false(dec_copy((dec_fn)xdr_dec_xt_list, buf, i, &l2, sizeof(l2)));
	free(buf);
	free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_struct_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typedefs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
