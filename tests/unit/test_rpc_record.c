/* The record-marking reassembler (src/rpc/record.c), fed from memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/record.h"
#include "util/limits.h"

static size_t put_mark(uint8_t *p, bool last, uint32_t len)
{
	uint32_t v = (last ? RPC_RECORD_LAST : 0) | len;

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

static void test_single_fragment(void **state)
{
	struct rpc_record r;
	uint8_t in[4 + 10];
	size_t used, len;
	uint8_t *rec;

	rpc_record_init(&r, 0);
	put_mark(in, true, 10);
	memcpy(in + 4, "0123456789", 10);
	assert_int_equal(rpc_record_feed(&r, in, sizeof(in), &used), RPC_RECORD_READY);
	assert_int_equal(used, sizeof(in));
	/* Nothing is consumed while the record waits. */
	assert_int_equal(rpc_record_feed(&r, in, sizeof(in), &used), RPC_RECORD_READY);
	assert_int_equal(used, 0);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(rec, "0123456789", 10);
	free(rec);
	rpc_record_destroy(&r);
}

/* Three fragments and the start of the next record in one buffer. */
static void test_multi_fragment(void **state)
{
	struct rpc_record r;
	uint8_t in[64];
	size_t n = 0, used, len;
	uint8_t *rec;

	rpc_record_init(&r, 0);
	n += put_mark(in + n, false, 3);
	memcpy(in + n, "abc", 3), n += 3;
	n += put_mark(in + n, false, 0); /* empty middle fragment */
	n += put_mark(in + n, true, 5);
	memcpy(in + n, "defgh", 5), n += 5;
	n += put_mark(in + n, true, 2);
	memcpy(in + n, "ij", 2), n += 2;

	assert_int_equal(rpc_record_feed(&r, in, n, &used), RPC_RECORD_READY);
	assert_int_equal(used, 4 + 3 + 4 + 4 + 5);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(rec, "abcdefgh", 8);
	free(rec);
	assert_int_equal(rpc_record_feed(&r, in + used, n - used, &len), RPC_RECORD_READY);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(rec, "ij", 2);
	free(rec);
	rpc_record_destroy(&r);
}

static void test_byte_by_byte(void **state)
{
	struct rpc_record r;
	uint8_t in[4 + 1000 + 4 + 3000];
	size_t n = 0, len;
	int ready = 0;

	for (int i = 0; i < 1000; i++)
		in[4 + i] = (uint8_t)i;
	n += put_mark(in, false, 1000) + 1000;
	n += put_mark(in + n, true, 3000);
	for (int i = 0; i < 3000; i++)
		in[n + i] = (uint8_t)(i * 7);
	n += 3000;
	rpc_record_init(&r, 0);
	for (size_t i = 0; i < n; i++) {
		size_t used;
		enum rpc_record_status st = rpc_record_feed(&r, in + i, 1, &used);

		assert_int_equal(used, 1);
		if (i + 1 < n) {
			assert_int_equal(st, RPC_RECORD_MORE);
		} else {
			uint8_t *rec;

			assert_int_equal(st, RPC_RECORD_READY);
			rec = rpc_record_take(&r, &len);
			assert_int_equal(len, 4000);
			assert_memory_equal(rec, in + 4, 1000);
			assert_memory_equal(rec + 1000, in + 1008, 3000);
			free(rec);
			ready++;
		}
	}
	assert_int_equal(ready, 1);
	rpc_record_destroy(&r);
}

static void test_max_size(void **state)
{
	struct rpc_record r;
	uint8_t in[8];
	size_t used;

	/* Exactly the maximum is fine (header check only). */
	rpc_record_init(&r, 100);
	put_mark(in, true, 100);
	assert_int_equal(rpc_record_feed(&r, in, 4, &used), RPC_RECORD_MORE);
	rpc_record_destroy(&r);

	rpc_record_init(&r, 100);
	put_mark(in, true, 101);
	assert_int_equal(rpc_record_feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_non_null(r.error);
	/* Sticky. */
	assert_int_equal(rpc_record_feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	rpc_record_destroy(&r);

	/* Over the limit through the sum of fragments. */
	rpc_record_init(&r, 100);
	{
		uint8_t b[4 + 60 + 4];

		memset(b, 0, sizeof(b));
		put_mark(b, false, 60);
		put_mark(b + 64, true, 41);
		assert_int_equal(rpc_record_feed(&r, b, sizeof(b), &used), RPC_RECORD_ERROR);
	}
	rpc_record_destroy(&r);
}

/* Huge claims fail on the header or cost only what arrived. */
static void test_huge_claims(void **state)
{
	struct rpc_record r;
	uint8_t in[4 + 16];
	size_t used;

	rpc_record_init(&r, 0);
	put_mark(in, true, RPC_RECORD_MAX_FRAG);
	assert_int_equal(rpc_record_feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_null(r.buf);
	rpc_record_destroy(&r);

	/* "4 GiB": all 32 bits set. */
	rpc_record_init(&r, 0);
	memset(in, 0xff, 4);
	assert_int_equal(rpc_record_feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_null(r.buf);
	rpc_record_destroy(&r);

	/* With a 2 GiB limit the claim passes, but only what arrives is allocated. */
	rpc_record_init(&r, 0x7fffffffu);
	put_mark(in, true, 0x7ffffff0u);
	memset(in + 4, 1, 16);
	assert_int_equal(rpc_record_feed(&r, in, sizeof(in), &used), RPC_RECORD_MORE);
	assert_int_equal(r.len, 16);
	assert_true(r.cap <= 4096);
	rpc_record_destroy(&r);
}

static void test_too_many_fragments(void **state)
{
	struct rpc_record r;
	uint8_t in[4 * (RPC_MAX_FRAGMENTS + 1)];
	size_t used, len;

	/* A flood of empty non-last fragments. */
	for (int i = 0; i <= RPC_MAX_FRAGMENTS; i++)
		put_mark(in + 4 * i, false, 0);
	rpc_record_init(&r, 0);
	assert_int_equal(rpc_record_feed(&r, in, sizeof(in), &used), RPC_RECORD_ERROR);
	rpc_record_destroy(&r);

	/* Exactly RPC_MAX_FRAGMENTS is fine. */
	for (int i = 0; i < RPC_MAX_FRAGMENTS; i++)
		put_mark(in + 4 * i, i == RPC_MAX_FRAGMENTS - 1, 0);
	rpc_record_init(&r, 0);
	assert_int_equal(rpc_record_feed(&r, in, 4 * RPC_MAX_FRAGMENTS, &used), RPC_RECORD_READY);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(len, 0);
	/* The fragment count starts over with the next record. */
	assert_int_equal(rpc_record_feed(&r, in, 4 * RPC_MAX_FRAGMENTS, &used), RPC_RECORD_READY);
	rpc_record_destroy(&r);
}

static void test_empty_records(void **state)
{
	struct rpc_record r;
	uint8_t in[8];
	size_t used, len;

	rpc_record_init(&r, 0);
	put_mark(in, true, 0);
	put_mark(in + 4, true, 0);
	assert_int_equal(rpc_record_feed(&r, in, 8, &used), RPC_RECORD_READY);
	assert_int_equal(used, 4);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(len, 0);
	assert_int_equal(rpc_record_feed(&r, in + 4, 4, &used), RPC_RECORD_READY);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(rpc_record_feed(&r, in, 0, &used), RPC_RECORD_MORE);
	rpc_record_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_fragment), cmocka_unit_test(test_multi_fragment),
		cmocka_unit_test(test_byte_by_byte),	cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_huge_claims),	cmocka_unit_test(test_too_many_fragments),
		cmocka_unit_test(test_empty_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
