/*
 * The record-marking reassembler (src/rpc/record.c), fed from memory the way
 * the server reads a socket: never more than it asks for, into the buffer it
 * is given.
 */
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

/* The test's record buffer (RPC_MAX_RECORD bytes), attached when the reassembler asks. */
static uint8_t *recbuf;

static int setup(void **state)
{
	recbuf = malloc(RPC_MAX_RECORD);
	return recbuf ? 0 : -1;
}

static int teardown(void **state)
{
	free(recbuf);
	return 0;
}

/*
 * Gives the reassembler in[0..len) as it asks for it, until a record is
 * complete, the stream fails or the input ends; *used says how much it took.
 */
static enum rpc_record_status feed(struct rpc_record *r, const uint8_t *in, size_t len,
				   size_t *used)
{
	enum rpc_record_status st = r->error   ? RPC_RECORD_ERROR
				    : r->ready ? RPC_RECORD_READY
					       : RPC_RECORD_MORE;

	*used = 0;
	while (st == RPC_RECORD_MORE && *used < len) {
		uint8_t *dst;
		size_t n;

		if (rpc_record_wants_buf(r))
			rpc_record_attach(r, recbuf);
		n = rpc_record_next(r, &dst);
		assert_true(n > 0);
		if (n > len - *used)
			n = len - *used;
		memcpy(dst, in + *used, n);
		*used += n;
		st = rpc_record_advance(r, n);
	}
	return st;
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
	assert_int_equal(feed(&r, in, sizeof(in), &used), RPC_RECORD_READY);
	assert_int_equal(used, sizeof(in));
	/* Nothing is consumed while the record waits. */
	assert_int_equal(feed(&r, in, sizeof(in), &used), RPC_RECORD_READY);
	assert_int_equal(used, 0);
	rec = rpc_record_take(&r, &len);
	assert_ptr_equal(rec, recbuf); /* read in place: no copy */
	assert_int_equal(len, 10);
	assert_memory_equal(rec, "0123456789", 10);
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

	assert_int_equal(feed(&r, in, n, &used), RPC_RECORD_READY);
	assert_int_equal(used, 4 + 3 + 4 + 4 + 5);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(rec, "abcdefgh", 8);
	assert_int_equal(feed(&r, in + used, n - used, &len), RPC_RECORD_READY);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(rec, "ij", 2);
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
		enum rpc_record_status st = feed(&r, in + i, 1, &used);

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
			ready++;
		}
	}
	assert_int_equal(ready, 1);
}

static void test_max_size(void **state)
{
	struct rpc_record r;
	uint8_t in[8];
	size_t used;

	/* Exactly the maximum is fine (header check only). */
	rpc_record_init(&r, 100);
	put_mark(in, true, 100);
	assert_int_equal(feed(&r, in, 4, &used), RPC_RECORD_MORE);

	rpc_record_init(&r, 100);
	put_mark(in, true, 101);
	assert_int_equal(feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_non_null(r.error);
	/* Sticky. */
	assert_int_equal(feed(&r, in, 4, &used), RPC_RECORD_ERROR);

	/* Over the limit through the sum of fragments. */
	rpc_record_init(&r, 100);
	{
		uint8_t b[4 + 60 + 4];

		memset(b, 0, sizeof(b));
		put_mark(b, false, 60);
		put_mark(b + 64, true, 41);
		assert_int_equal(feed(&r, b, sizeof(b), &used), RPC_RECORD_ERROR);
	}
}

/* Huge claims fail on the header, before a buffer is asked for. */
static void test_huge_claims(void **state)
{
	struct rpc_record r;
	uint8_t in[4 + 16], small[16], *dst;
	size_t used;

	rpc_record_init(&r, 0);
	put_mark(in, true, RPC_RECORD_MAX_FRAG);
	assert_int_equal(feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_false(rpc_record_wants_buf(&r));
	assert_int_equal(rpc_record_next(&r, &dst), 0);

	/* "4 GiB": all 32 bits set. */
	rpc_record_init(&r, 0);
	memset(in, 0xff, 4);
	assert_int_equal(feed(&r, in, 4, &used), RPC_RECORD_ERROR);
	assert_false(rpc_record_wants_buf(&r));

	/*
	 * With a 2 GiB limit the claim passes; the reassembler itself holds
	 * nothing of it (what a claimed but unsent body costs is buf.c's).
	 */
	rpc_record_init(&r, 0x7fffffffu);
	put_mark(in, true, 0x7ffffff0u);
	memset(in + 4, 1, 16);
	assert_int_equal(rpc_record_advance(&r, 0), RPC_RECORD_MORE);
	assert_int_equal(rpc_record_next(&r, &dst), 4);
	memcpy(dst, in, 4);
	assert_int_equal(rpc_record_advance(&r, 4), RPC_RECORD_MORE);
	assert_true(rpc_record_wants_buf(&r));
	assert_int_equal(rpc_record_next(&r, &dst), 0); /* no buffer, no body */
	rpc_record_attach(&r, small);
	assert_int_equal(rpc_record_next(&r, &dst), 0x7ffffff0u);
	assert_ptr_equal(dst, small);
	memcpy(dst, in + 4, 16);
	assert_int_equal(rpc_record_advance(&r, 16), RPC_RECORD_MORE);
	assert_int_equal(r.len, 16);
	assert_int_equal(rpc_record_next(&r, &dst), 0x7ffffff0u - 16);
	assert_ptr_equal(dst, small + 16);
	assert_ptr_equal(rpc_record_detach(&r), small);
}

/* It asks for the rest of a header or of a fragment, never for bytes beyond. */
static void test_never_reads_ahead(void **state)
{
	struct rpc_record r;
	uint8_t *dst;

	rpc_record_init(&r, 0);
	assert_int_equal(rpc_record_next(&r, &dst), 4);
	assert_int_equal(rpc_record_advance(&r, 0), RPC_RECORD_MORE);
	memcpy(dst, "\x00\x00", 2);
	assert_int_equal(rpc_record_advance(&r, 2), RPC_RECORD_MORE);
	assert_int_equal(rpc_record_next(&r, &dst), 2);
	memcpy(dst, "\x00\x03", 2); /* a non-last fragment of 3 */
	assert_int_equal(rpc_record_advance(&r, 2), RPC_RECORD_MORE);
	rpc_record_attach(&r, recbuf);
	assert_int_equal(rpc_record_next(&r, &dst), 3);
	memcpy(dst, "ab", 2);
	assert_int_equal(rpc_record_advance(&r, 2), RPC_RECORD_MORE);
	assert_int_equal(rpc_record_next(&r, &dst), 1);
	memcpy(dst, "c", 1);
	assert_int_equal(rpc_record_advance(&r, 1), RPC_RECORD_MORE);
	assert_int_equal(rpc_record_next(&r, &dst), 4); /* the next header */
	memcpy(dst, "\x80\x00\x00\x01", 4);
	assert_int_equal(rpc_record_advance(&r, 4), RPC_RECORD_MORE);
	assert_false(rpc_record_wants_buf(&r)); /* the buffer stays attached */
	assert_int_equal(rpc_record_next(&r, &dst), 1);
	*dst = 'd';
	assert_int_equal(rpc_record_advance(&r, 1), RPC_RECORD_READY);
	assert_int_equal(rpc_record_next(&r, &dst), 0); /* nothing until it is taken */
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
	assert_int_equal(feed(&r, in, sizeof(in), &used), RPC_RECORD_ERROR);

	/* Exactly RPC_MAX_FRAGMENTS is fine. */
	for (int i = 0; i < RPC_MAX_FRAGMENTS; i++)
		put_mark(in + 4 * i, i == RPC_MAX_FRAGMENTS - 1, 0);
	rpc_record_init(&r, 0);
	assert_int_equal(feed(&r, in, 4 * RPC_MAX_FRAGMENTS, &used), RPC_RECORD_READY);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(len, 0);
	/* The fragment count starts over with the next record. */
	assert_int_equal(feed(&r, in, 4 * RPC_MAX_FRAGMENTS, &used), RPC_RECORD_READY);
}

static void test_empty_records(void **state)
{
	struct rpc_record r;
	uint8_t in[8];
	size_t used, len;

	rpc_record_init(&r, 0);
	put_mark(in, true, 0);
	put_mark(in + 4, true, 0);
	assert_int_equal(feed(&r, in, 8, &used), RPC_RECORD_READY);
	assert_int_equal(used, 4);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(len, 0);
	assert_int_equal(feed(&r, in + 4, 4, &used), RPC_RECORD_READY);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(feed(&r, in, 0, &used), RPC_RECORD_MORE);
}

/*
 * Like feed(), but as the server reads a socket: each read also takes the
 * next record's header when the reassembler offers it (rpc_record_next_mark),
 * and a read takes at most chunk bytes.
 */
static enum rpc_record_status feed_ahead(struct rpc_record *r, const uint8_t *in, size_t len,
					 size_t chunk, size_t *used)
{
	enum rpc_record_status st = r->error   ? RPC_RECORD_ERROR
				    : r->ready ? RPC_RECORD_READY
					       : RPC_RECORD_MORE;

	*used = 0;
	while (st == RPC_RECORD_MORE && *used < len) {
		uint8_t *dst, *mark;
		size_t n, m, got;

		if (rpc_record_wants_buf(r))
			rpc_record_attach(r, recbuf);
		n = rpc_record_next(r, &dst);
		m = rpc_record_next_mark(r, &mark);
		assert_true(n > 0);
		got = n + m < chunk ? n + m : chunk;
		if (got > len - *used)
			got = len - *used;
		memcpy(dst, in + *used, got < n ? got : n);
		if (got > n)
			memcpy(mark, in + *used + n, got - n);
		*used += got;
		st = rpc_record_advance(r, got);
	}
	return st;
}

/* With a record's last bytes, the next record's header comes along, never more. */
static void test_reads_next_mark(void **state)
{
	struct rpc_record r;
	uint8_t in[64], *dst, *mark;
	size_t n = 0, used, len;
	uint8_t *rec;

	rpc_record_init(&r, 0);
	n += put_mark(in + n, false, 2);
	memcpy(in + n, "ab", 2), n += 2;
	n += put_mark(in + n, true, 3);
	memcpy(in + n, "cde", 3), n += 3;
	n += put_mark(in + n, true, 1);
	in[n++] = 'f';

	/* Not with a non-last fragment's bytes. */
	assert_int_equal(rpc_record_next(&r, &dst), 4);
	assert_int_equal(rpc_record_next_mark(&r, &mark), 0);
	memcpy(dst, in, 4);
	assert_int_equal(rpc_record_advance(&r, 4), RPC_RECORD_MORE);
	assert_int_equal(rpc_record_next_mark(&r, &mark), 0); /* no buffer yet */
	rpc_record_attach(&r, recbuf);
	assert_int_equal(rpc_record_next_mark(&r, &mark), 0); /* not the last fragment */

	/* The record, then the next one's header and nothing of its body. */
	assert_int_equal(feed_ahead(&r, in + 4, n - 4, 64, &used), RPC_RECORD_READY);
	assert_int_equal(used, 2 + 4 + 3 + 4);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(rec, "abcde", 5);
	assert_true(rpc_record_wants_buf(&r)); /* the next header is in: its body is wanted */
	rpc_record_attach(&r, recbuf);
	assert_int_equal(rpc_record_next(&r, &dst), 1);
	assert_int_equal(rpc_record_next_mark(&r, &mark), 4);
	assert_ptr_equal(mark, r.hdr);
	assert_int_equal(feed_ahead(&r, in + used + 4, n - used - 4, 64, &len), RPC_RECORD_READY);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 1);
	assert_int_equal(rec[0], 'f');
}

/* A header read ahead in part, or one that makes an empty or a bad record. */
static void test_next_mark_edges(void **state)
{
	struct rpc_record r;
	uint8_t in[32];
	size_t n = 0, used, len;

	rpc_record_init(&r, 0);
	n += put_mark(in + n, true, 1);
	in[n++] = 'a';
	n += put_mark(in + n, true, 0); /* empty */
	n += put_mark(in + n, true, 2);
	memcpy(in + n, "bc", 2), n += 2;
	n += put_mark(in + n, true, 0x7ffffff0u); /* too large */

	/* Two bytes of the empty record's header come along. */
	assert_int_equal(feed_ahead(&r, in, 7, 64, &used), RPC_RECORD_READY);
	assert_int_equal(used, 7);
	rpc_record_take(&r, &len);
	assert_int_equal(len, 1);
	assert_int_equal(r.hdr_have, 2);
	/* Its other two, and with them it is complete without a body byte. */
	assert_int_equal(feed_ahead(&r, in + 7, 2, 64, &used), RPC_RECORD_READY);
	assert_null(rpc_record_take(&r, &len));
	assert_int_equal(len, 0);
	/* The next one's whole header comes with its body; the bad one after it fails at take. */
	assert_int_equal(feed_ahead(&r, in + 9, n - 9, 64, &used), RPC_RECORD_READY);
	assert_int_equal(used, n - 9);
	rpc_record_take(&r, &len);
	assert_int_equal(len, 2);
	assert_non_null(r.error);
	assert_int_equal(feed_ahead(&r, in, n, 64, &used), RPC_RECORD_ERROR);

	/* An empty record read ahead is ready at take. */
	rpc_record_init(&r, 0);
	n = put_mark(in, true, 1);
	in[n++] = 'x';
	n += put_mark(in + n, true, 0);
	assert_int_equal(feed_ahead(&r, in, n, 64, &used), RPC_RECORD_READY);
	assert_int_equal(used, n);
	rpc_record_take(&r, &len);
	assert_true(r.ready);
	assert_int_equal(feed_ahead(&r, in, n, 64, &used), RPC_RECORD_READY);
	assert_int_equal(used, 0);
}

/* What the pool needs to hold a reply back: the next call's header is in, and it is short. */
static void test_next_is_short(void **state)
{
	struct rpc_record r;
	uint8_t in[64];
	size_t n = 0, used, len;

	rpc_record_init(&r, 0);
	n += put_mark(in + n, true, 1);
	in[n++] = 'a';
	n += put_mark(in + n, true, 8);
	memset(in + n, 'b', 8), n += 8;
	n += put_mark(in + n, false, 2); /* one of several fragments */
	memset(in + n, 'c', 2), n += 2;
	n += put_mark(in + n, true, 0);

	assert_false(rpc_record_next_is_short(&r, 100)); /* nothing read yet */
	assert_int_equal(feed(&r, in, 5, &used), RPC_RECORD_READY);
	rpc_record_take(&r, &len);
	assert_false(rpc_record_next_is_short(&r, 100)); /* read plainly: no header ahead */
	rpc_record_init(&r, 0);
	assert_int_equal(feed_ahead(&r, in, n, 64, &used), RPC_RECORD_READY);
	rpc_record_take(&r, &len);
	assert_true(rpc_record_next_is_short(&r, 8));
	assert_false(rpc_record_next_is_short(&r, 7));
	assert_int_equal(feed_ahead(&r, in + used, n - used, 64, &used), RPC_RECORD_READY);
	rpc_record_take(&r, &len);
	assert_false(rpc_record_next_is_short(&r, 100)); /* not a single fragment */
}

/* A stream of records gives the same records read plainly or with headers ahead, in any chunks. */
static void test_next_mark_stream(void **state)
{
	static uint8_t in[20000], want[20000], got[20000];
	size_t n = 0, nwant = 0;
	uint32_t seed = 1;

	for (int rec = 0; rec < 40; rec++) {
		int frags = 1 + rec % 3;

		for (int f = 0; f < frags; f++) {
			uint32_t flen = rec % 7 == 3 ? 0 : (seed = seed * 1103515245 + 12345) % 300;

			n += put_mark(in + n, f == frags - 1, flen);
			for (uint32_t i = 0; i < flen; i++)
				in[n++] = want[nwant++] = (uint8_t)(rec * 31 + i);
		}
	}
	for (size_t chunk = 1; chunk < 40; chunk += 3) {
		struct rpc_record r;
		size_t off = 0, ngot = 0, used, len;
		int records = 0;

		rpc_record_init(&r, 0);
		while (off < n || r.ready) {
			enum rpc_record_status st = feed_ahead(&r, in + off, n - off, chunk, &used);

			off += used;
			if (st == RPC_RECORD_READY) {
				uint8_t *rec = rpc_record_take(&r, &len);

				if (len)
					memcpy(got + ngot, rec, len);
				ngot += len;
				records++;
			} else {
				assert_int_equal(st, RPC_RECORD_MORE);
			}
		}
		assert_int_equal(records, 40);
		assert_int_equal(ngot, nwant);
		assert_memory_equal(got, want, nwant);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_fragment),	 cmocka_unit_test(test_multi_fragment),
		cmocka_unit_test(test_byte_by_byte),	 cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_huge_claims),	 cmocka_unit_test(test_too_many_fragments),
		cmocka_unit_test(test_empty_records),	 cmocka_unit_test(test_never_reads_ahead),
		cmocka_unit_test(test_reads_next_mark),	 cmocka_unit_test(test_next_mark_edges),
		cmocka_unit_test(test_next_mark_stream), cmocka_unit_test(test_next_is_short),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
