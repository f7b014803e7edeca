/* Byte-range lock bookkeeping (nfs4/lockrange.c): ranges, conflicts, split and merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nfs4/lockrange.h"
#include "xdr/nfs4_xdr.h"

#define EOF_END UINT64_MAX
#define R NFS4_LOCK_READ
#define W NFS4_LOCK_WRITE

/* Owners are compared by address only. */
static const char owner_a, owner_b, owner_c;
#define A (&owner_a)
#define B (&owner_b)
#define C (&owner_c)

static struct nfs4_lock_list l;

static int list_setup(void **state)
{
	nfs4_lock_list_init(&l);
	return 0;
}

static int list_teardown(void **state)
{
	nfs4_lock_list_free(&l);
	assert_int_equal(l.count, 0);
	return 0;
}

struct want {
	const void *owner;
	enum nfs4_lock_type type;
	uint64_t start;
	uint64_t end;
};

/* The list holds exactly these ranges, in this order. */
static void expect_ranges(const struct want *w, size_t n)
{
	const struct nfs4_lock_range *r;
	size_t i = 0;

	cds_list_for_each_entry(r, &l.ranges, link)
	{
		assert_true(i < n);
		assert_ptr_equal(r->owner, w[i].owner);
		assert_int_equal(r->type, w[i].type);
		assert_int_equal(r->start, w[i].start);
		assert_int_equal(r->end, w[i].end);
		i++;
	}
	assert_int_equal(i, n);
	assert_int_equal(l.count, n);
}

#define EXPECT(...)                                            \
	do {                                                   \
		const struct want w_[] = {__VA_ARGS__};        \
		expect_ranges(w_, sizeof(w_) / sizeof(w_[0])); \
	} while (0)

static void set(const void *owner, enum nfs4_lock_type type, uint64_t start, uint64_t end)
{
	assert_int_equal(nfs4_lock_set(&l, owner, type, start, end), 0);
}

static void clear(const void *owner, uint64_t start, uint64_t end)
{
	assert_int_equal(nfs4_lock_clear(&l, owner, start, end), 0);
}

/* ---- nfs4_lock_range_from / nfs4_lock_range_length ---- */

static void expect_range(uint64_t offset, uint64_t length, uint64_t start, uint64_t end)
{
	uint64_t s = 1234, e = 5678;

	assert_int_equal(nfs4_lock_range_from(offset, length, &s, &e), NFS4_OK);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
}

static void expect_inval(uint64_t offset, uint64_t length)
{
	uint64_t s = 1234, e = 5678;

	assert_int_equal(nfs4_lock_range_from(offset, length, &s, &e), NFS4ERR_INVAL);
}

static void test_range_from(void **state)
{
	expect_range(0, 1, 0, 0);
	expect_range(10, 5, 10, 14);
	/* All ones means "to the end", from any offset. */
	expect_range(0, UINT64_MAX, 0, EOF_END);
	expect_range(4096, UINT64_MAX, 4096, EOF_END);
	expect_range(UINT64_MAX, UINT64_MAX, UINT64_MAX, EOF_END);
	/* offset + length == 2^64 - 1 is the largest finite range. */
	expect_range(1, UINT64_MAX - 1, 1, UINT64_MAX - 1);
	expect_range(UINT64_MAX - 1, 1, UINT64_MAX - 1, UINT64_MAX - 1);
	expect_range(UINT64_MAX - 10, 10, UINT64_MAX - 10, UINT64_MAX - 1);

	expect_inval(0, 0);
	expect_inval(77, 0);
	expect_inval(UINT64_MAX, 0);
	/* offset + length exceeds 2^64 - 1 (RFC 8881 §18.10.3), even by exactly one. */
	expect_inval(2, UINT64_MAX - 1);
	expect_inval(UINT64_MAX, 1);
	expect_inval(UINT64_MAX - 10, 11);
	expect_inval(UINT64_MAX - 1, UINT64_MAX - 1);
	expect_inval(1ULL << 63, 1ULL << 63);
}

static void test_range_length(void **state)
{
	assert_int_equal(nfs4_lock_range_length(0, 0), 1);
	assert_int_equal(nfs4_lock_range_length(10, 14), 5);
	assert_int_equal(nfs4_lock_range_length(7, EOF_END), UINT64_MAX);
	assert_int_equal(nfs4_lock_range_length(UINT64_MAX - 1, UINT64_MAX - 1), 1);
	assert_int_equal(nfs4_lock_range_length(1, UINT64_MAX - 1), UINT64_MAX - 1);

	/* Round trip through range_from. */
	const uint64_t cases[][2] = {{0, 1}, {10, 5}, {3, UINT64_MAX}, {1, UINT64_MAX - 1}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t s, e;

		assert_int_equal(nfs4_lock_range_from(cases[i][0], cases[i][1], &s, &e), NFS4_OK);
		assert_int_equal(s, cases[i][0]);
		assert_int_equal(nfs4_lock_range_length(s, e), cases[i][1]);
	}
}

/* ---- conflicts ---- */

static void test_conflict_read_read(void **state)
{
	set(A, R, 0, 99);
	assert_null(nfs4_lock_conflict(&l, B, R, 0, 99));
	assert_null(nfs4_lock_conflict(&l, B, R, 50, EOF_END));
}

static void test_conflict_read_write(void **state)
{
	const struct nfs4_lock_range *r;

	set(A, R, 10, 19);
	r = nfs4_lock_conflict(&l, B, W, 19, 30);
	assert_non_null(r);
	assert_ptr_equal(r->owner, A);
	assert_int_equal(r->start, 10);
	assert_int_equal(r->end, 19);
	assert_non_null(nfs4_lock_conflict(&l, B, W, 0, 10));
	assert_non_null(nfs4_lock_conflict(&l, B, W, 0, EOF_END));
	/* Touching is not overlapping. */
	assert_null(nfs4_lock_conflict(&l, B, W, 0, 9));
	assert_null(nfs4_lock_conflict(&l, B, W, 20, EOF_END));

	/* And the other way round: a write lock held blocks a read. */
	set(B, W, 100, EOF_END);
	r = nfs4_lock_conflict(&l, A, R, 500, 500);
	assert_non_null(r);
	assert_ptr_equal(r->owner, B);
	assert_null(nfs4_lock_conflict(&l, A, R, 20, 99));
	assert_non_null(nfs4_lock_conflict(&l, C, R, UINT64_MAX, UINT64_MAX));
}

static void test_conflict_write_write(void **state)
{
	set(A, W, 0, 0);
	set(A, W, UINT64_MAX - 1, EOF_END);
	assert_non_null(nfs4_lock_conflict(&l, B, W, 0, 0));
	assert_non_null(nfs4_lock_conflict(&l, B, W, 0, EOF_END));
	assert_non_null(nfs4_lock_conflict(&l, B, W, UINT64_MAX, EOF_END));
	assert_null(nfs4_lock_conflict(&l, B, W, 1, UINT64_MAX - 2));
}

static void test_conflict_first_in_order(void **state)
{
	const struct nfs4_lock_range *r;

	set(A, W, 50, 59);
	set(B, W, 20, 29);
	set(C, R, 0, 100);
	r = nfs4_lock_conflict(&l, C, W, 0, 100);
	assert_non_null(r);
	assert_ptr_equal(r->owner, B);
	assert_int_equal(r->start, 20);
}

static void test_same_owner_never_conflicts(void **state)
{
	set(A, W, 0, EOF_END);
	assert_null(nfs4_lock_conflict(&l, A, W, 0, EOF_END));
	assert_null(nfs4_lock_conflict(&l, A, R, 5, 5));
	/* Each owner is blocked by the other's lock, never by its own. */
	nfs4_lock_clear_owner(&l, A);
	set(A, R, 0, 10);
	set(B, W, 20, 30);
	assert_null(nfs4_lock_conflict(&l, B, W, 15, 30));
	assert_non_null(nfs4_lock_conflict(&l, B, W, 10, 30)); /* A's read */
	assert_null(nfs4_lock_conflict(&l, A, W, 0, 10));
	assert_non_null(nfs4_lock_conflict(&l, A, R, 0, 20)); /* B's write */
}

/* ---- set ---- */

static void test_set_merge_adjacent(void **state)
{
	set(A, R, 10, 19);
	set(A, R, 20, 29); /* right neighbour */
	EXPECT({A, R, 10, 29});
	set(A, R, 0, 9); /* left neighbour */
	EXPECT({A, R, 0, 29});
	set(A, R, 40, 49);
	EXPECT({A, R, 0, 29}, {A, R, 40, 49});
	set(A, R, 30, 39); /* bridges both */
	EXPECT({A, R, 0, 49});
	set(A, R, 5, 60); /* overlapping */
	EXPECT({A, R, 0, 60});
	set(A, R, 61, EOF_END);
	EXPECT({A, R, 0, EOF_END});
	/* Already held: no change. */
	set(A, R, 100, 200);
	EXPECT({A, R, 0, EOF_END});
}

static void test_set_no_merge_across_types_or_owners(void **state)
{
	set(A, R, 0, 9);
	set(A, W, 10, 19);
	set(B, R, 20, 29);
	set(A, R, 30, 39);
	EXPECT({A, R, 0, 9}, {A, W, 10, 19}, {B, R, 20, 29}, {A, R, 30, 39});
	/* Not adjacent: a gap of one byte. */
	set(A, R, 41, 49);
	EXPECT({A, R, 0, 9}, {A, W, 10, 19}, {B, R, 20, 29}, {A, R, 30, 39}, {A, R, 41, 49});
}

static void test_set_upgrade_middle(void **state)
{
	set(A, R, 0, 99);
	set(A, W, 40, 59);
	EXPECT({A, R, 0, 39}, {A, W, 40, 59}, {A, R, 60, 99});
	/* And back: the three pieces merge again. */
	set(A, R, 40, 59);
	EXPECT({A, R, 0, 99});
}

static void test_set_upgrade_edges(void **state)
{
	set(A, R, 0, 99);
	set(A, W, 0, 9);
	EXPECT({A, W, 0, 9}, {A, R, 10, 99});
	set(A, W, 90, 99);
	EXPECT({A, W, 0, 9}, {A, R, 10, 89}, {A, W, 90, 99});
	/* Upgrading the rest joins everything into one write. */
	set(A, W, 10, 89);
	EXPECT({A, W, 0, 99});
}

static void test_set_downgrade(void **state)
{
	set(A, W, 0, EOF_END);
	set(A, R, 100, 199);
	EXPECT({A, W, 0, 99}, {A, R, 100, 199}, {A, W, 200, EOF_END});
	set(A, R, 150, EOF_END);
	EXPECT({A, W, 0, 99}, {A, R, 100, EOF_END});
	set(A, R, 0, 0);
	EXPECT({A, R, 0, 0}, {A, W, 1, 99}, {A, R, 100, EOF_END});
}

static void test_set_replace_whole(void **state)
{
	set(A, R, 10, 19);
	set(A, W, 10, 19);
	EXPECT({A, W, 10, 19});
	set(A, R, 10, 19);
	EXPECT({A, R, 10, 19});
	set(A, W, 0, 29);
	EXPECT({A, W, 0, 29});
}

static void test_set_covering_several(void **state)
{
	set(A, R, 0, 9);
	set(A, W, 20, 29);
	set(B, W, 25, 35); /* another owner's range is left alone */
	set(A, R, 40, 49);
	set(A, W, 60, 69);
	set(A, R, 80, 89);
	set(A, W, 5, 85);
	EXPECT({A, R, 0, 4}, {A, W, 5, 85}, {B, W, 25, 35}, {A, R, 86, 89});
	set(A, R, 0, EOF_END);
	EXPECT({A, R, 0, EOF_END}, {B, W, 25, 35});
}

static void test_set_to_eof(void **state)
{
	set(A, W, 100, EOF_END);
	set(A, W, 50, 99);
	EXPECT({A, W, 50, EOF_END});
	set(A, R, 1000, EOF_END);
	EXPECT({A, W, 50, 999}, {A, R, 1000, EOF_END});
	set(A, W, UINT64_MAX, EOF_END);
	EXPECT({A, W, 50, 999}, {A, R, 1000, UINT64_MAX - 1}, {A, W, UINT64_MAX, EOF_END});
	set(A, R, UINT64_MAX - 1, EOF_END);
	EXPECT({A, W, 50, 999}, {A, R, 1000, EOF_END});
	/* Byte 0 and byte 2^64 - 1 at once. */
	set(A, W, 0, 49);
	set(A, W, 0, EOF_END);
	EXPECT({A, W, 0, EOF_END});
}

static void test_set_keeps_order_by_start(void **state)
{
	set(B, R, 30, 39);
	set(A, R, 0, 49);
	set(A, W, 0, 34); /* A's read now starts at 35, after B's */
	EXPECT({A, W, 0, 34}, {B, R, 30, 39}, {A, R, 35, 49});
}

/* ---- clear ---- */

static void test_clear_split_middle(void **state)
{
	set(A, W, 0, 99);
	clear(A, 40, 59);
	EXPECT({A, W, 0, 39}, {A, W, 60, 99});
	clear(A, 0, 0);
	EXPECT({A, W, 1, 39}, {A, W, 60, 99});
	clear(A, 99, 99);
	EXPECT({A, W, 1, 39}, {A, W, 60, 98});
	clear(A, 30, 70); /* cuts the ends of two ranges */
	EXPECT({A, W, 1, 29}, {A, W, 71, 98});
}

static void test_clear_to_eof(void **state)
{
	set(A, R, 0, 9);
	set(A, W, 10, EOF_END);
	clear(A, 1000, EOF_END);
	EXPECT({A, R, 0, 9}, {A, W, 10, 999});
	clear(A, 5, EOF_END);
	EXPECT({A, R, 0, 4});
	set(A, R, 0, EOF_END);
	clear(A, 0, UINT64_MAX - 1); /* leaves the very last byte */
	EXPECT({A, R, UINT64_MAX, EOF_END});
	clear(A, 0, EOF_END);
	expect_ranges(NULL, 0);
	assert_false(nfs4_lock_owner_holds(&l, A));
}

static void test_clear_nonexistent(void **state)
{
	clear(A, 0, EOF_END); /* empty list */
	expect_ranges(NULL, 0);
	set(A, R, 10, 19);
	set(B, W, 30, 39);
	clear(A, 20, 29);     /* a gap */
	clear(A, 30, 39);     /* someone else's */
	clear(C, 0, EOF_END); /* an owner with nothing */
	EXPECT({A, R, 10, 19}, {B, W, 30, 39});
}

static void test_clear_owner(void **state)
{
	set(A, R, 0, 9);
	set(B, W, 10, 19);
	set(A, W, 20, 29);
	set(C, R, 0, EOF_END);
	assert_true(nfs4_lock_owner_holds(&l, A));
	nfs4_lock_clear_owner(&l, A);
	assert_false(nfs4_lock_owner_holds(&l, A));
	assert_true(nfs4_lock_owner_holds(&l, B));
	EXPECT({C, R, 0, EOF_END}, {B, W, 10, 19});
	nfs4_lock_clear_owner(&l, A); /* again: nothing */
	nfs4_lock_clear_owner(&l, C);
	nfs4_lock_clear_owner(&l, B);
	expect_ranges(NULL, 0);
	assert_true(cds_list_empty(&l.ranges));
}

/* ---- randomized, against a byte map ---- */

/*
 * Bytes 0..62 stand for themselves; byte 63 stands for [63, 2^64 - 1]. Test
 * ranges end at 62 at most or run to the end, so every range maps to whole
 * model bytes.
 */
#define MODEL_BYTES 64
#define NOWNERS 3
#define RANDOM_OPS 20000

static const char random_owners[NOWNERS];
static uint8_t model[NOWNERS][MODEL_BYTES]; /* 0 none, else the enum nfs4_lock_type */

static uint64_t rng_state;

static uint32_t rng(uint32_t n)
{
	/* xorshift64*: deterministic across platforms. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32) % n;
}

static unsigned int model_hi(uint64_t end)
{
	return end == EOF_END ? MODEL_BYTES - 1 : (unsigned int)end;
}

static int owner_index(const void *owner)
{
	for (int i = 0; i < NOWNERS; i++)
		if (owner == &random_owners[i])
			return i;
	fail_msg("unknown owner %p", owner);
	return -1;
}

static void random_range(uint64_t *start, uint64_t *end)
{
	*start = rng(MODEL_BYTES);
	if (*start == MODEL_BYTES - 1 || rng(5) == 0) {
		*end = EOF_END;
		return;
	}
	/* Mostly short ranges, so that the list stays fragmented. */
	uint32_t span = rng(4) == 0 ? MODEL_BYTES - 1 - (uint32_t)*start : 8;

	*end = *start + rng(span);
	if (*end > MODEL_BYTES - 2)
		*end = MODEL_BYTES - 2;
}

static void check_against_model(void)
{
	uint8_t seen[NOWNERS][MODEL_BYTES];
	const struct nfs4_lock_range *r, *q;
	uint64_t prev_start = 0;
	uint32_t n = 0;

	memset(seen, 0, sizeof(seen));
	cds_list_for_each_entry(r, &l.ranges, link)
	{
		int o = owner_index(r->owner);

		assert_true(r->type == R || r->type == W);
		assert_true(r->start <= r->end);
		assert_true(r->start < MODEL_BYTES);
		assert_true(r->end < MODEL_BYTES - 1 || r->end == EOF_END);
		assert_true(r->start >= prev_start); /* sorted */
		prev_start = r->start;
		for (unsigned int b = (unsigned int)r->start; b <= model_hi(r->end); b++) {
			assert_int_equal(seen[o][b], 0); /* one owner's ranges never overlap */
			seen[o][b] = (uint8_t)r->type;
		}
		/* Same owner, same type: never adjacent (merged). */
		cds_list_for_each_entry(q, &l.ranges, link)
		{
			if (q == r || q->owner != r->owner || q->type != r->type)
				continue;
			assert_false(r->end != EOF_END && r->end + 1 == q->start);
		}
		n++;
	}
	assert_int_equal(n, l.count);
	assert_memory_equal(seen, model, sizeof(model));
	for (int o = 0; o < NOWNERS; o++) {
		bool any = false;

		for (int b = 0; b < MODEL_BYTES; b++)
			any |= model[o][b] != 0;
		assert_int_equal(nfs4_lock_owner_holds(&l, &random_owners[o]), any);
	}
}

static void check_conflict_against_model(int o, enum nfs4_lock_type type, uint64_t start,
					 uint64_t end)
{
	const struct nfs4_lock_range *r =
		nfs4_lock_conflict(&l, &random_owners[o], type, start, end);
	bool want = false;

	for (int other = 0; other < NOWNERS; other++) {
		if (other == o)
			continue;
		for (unsigned int b = (unsigned int)start; b <= model_hi(end); b++)
			if (model[other][b] && (type == W || model[other][b] == W))
				want = true;
	}
	if (!want) {
		assert_null(r);
		return;
	}
	assert_non_null(r);
	assert_ptr_not_equal(r->owner, &random_owners[o]);
	assert_true(r->start <= end && start <= r->end);
	assert_true(type == W || r->type == W);
}

static void test_random_against_model(void **state)
{
	rng_state = 0x9e3779b97f4a7c15ULL;
	memset(model, 0, sizeof(model));

	for (int i = 0; i < RANDOM_OPS; i++) {
		int o = (int)rng(NOWNERS);
		const void *owner = &random_owners[o];
		uint32_t op = rng(100);
		uint64_t start, end;

		random_range(&start, &end);
		if (op < 1) {
			nfs4_lock_clear_owner(&l, owner);
			memset(model[o], 0, MODEL_BYTES);
		} else if (op < 60) {
			enum nfs4_lock_type type = rng(2) ? W : R;

			set(owner, type, start, end);
			for (unsigned int b = (unsigned int)start; b <= model_hi(end); b++)
				model[o][b] = (uint8_t)type;
		} else {
			clear(owner, start, end);
			for (unsigned int b = (unsigned int)start; b <= model_hi(end); b++)
				model[o][b] = 0;
		}
		check_against_model();

		random_range(&start, &end);
		check_conflict_against_model((int)rng(NOWNERS), rng(2) ? W : R, start, end);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, list_setup, list_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_from),
		cmocka_unit_test(test_range_length),
		T(test_conflict_read_read),
		T(test_conflict_read_write),
		T(test_conflict_write_write),
		T(test_conflict_first_in_order),
		T(test_same_owner_never_conflicts),
		T(test_set_merge_adjacent),
		T(test_set_no_merge_across_types_or_owners),
		T(test_set_upgrade_middle),
		T(test_set_upgrade_edges),
		T(test_set_downgrade),
		T(test_set_replace_whole),
		T(test_set_covering_several),
		T(test_set_to_eof),
		T(test_set_keeps_order_by_start),
		T(test_clear_split_middle),
		T(test_clear_to_eof),
		T(test_clear_nonexistent),
		T(test_clear_owner),
		T(test_random_against_model),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
