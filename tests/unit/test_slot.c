/* Slot table and reply cache rules (RFC 8881 §2.10.6.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nfs4/slot.h"
#include "xdr/nfs4_xdr.h"

static struct nfs4_slot_table t;

static int slot_setup(void **state)
{
	return nfs4_slot_table_init(&t, 4, 64);
}

static int slot_teardown(void **state)
{
	nfs4_slot_table_free(&t);
	return 0;
}

static enum nfs4_slot_verdict begin(uint32_t slot, uint32_t seq, uint64_t digest, uint32_t *st)
{
	*st = NFS4_OK;
	return nfs4_slot_begin(&t, slot, seq, digest, st);
}

static void test_first_request_uses_seqid_1(void **state)
{
	uint32_t st;

	assert_int_equal(begin(0, 0, 1, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(begin(0, 2, 1, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(begin(0, 1, 1, &st), NFS4_SLOT_NEW);
}

static void test_slot_beyond_table_is_badslot(void **state)
{
	uint32_t st;

	assert_int_equal(begin(4, 1, 1, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_BADSLOT);
	assert_int_equal(begin(UINT32_MAX, 1, 1, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_BADSLOT);
}

static void test_retry_while_in_progress_is_delay(void **state)
{
	uint32_t st;

	assert_int_equal(begin(1, 1, 7, &st), NFS4_SLOT_NEW);
	assert_int_equal(begin(1, 1, 7, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_DELAY);
	/* The next seqid while the slot is busy breaks the one-request-per-slot rule. */
	assert_int_equal(begin(1, 2, 7, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_SEQ_MISORDERED);
}

static void test_cached_reply_is_replayed(void **state)
{
	const uint8_t reply[] = "reply bytes";
	uint32_t st;

	assert_int_equal(begin(2, 1, 9, &st), NFS4_SLOT_NEW);
	nfs4_slot_end(&t, 2, reply, sizeof(reply), true);
	assert_int_equal(begin(2, 1, 9, &st), NFS4_SLOT_REPLAY);
	assert_int_equal(t.slots[2].reply_len, sizeof(reply));
	assert_memory_equal(t.slots[2].reply, reply, sizeof(reply));
	/* The replay does not consume the slot: the next request goes on. */
	assert_int_equal(begin(2, 2, 10, &st), NFS4_SLOT_NEW);
	assert_false(t.slots[2].cached);
}

static void test_uncached_reply_retry(void **state)
{
	uint32_t st;

	assert_int_equal(begin(3, 1, 5, &st), NFS4_SLOT_NEW);
	nfs4_slot_end(&t, 3, (const uint8_t *)"x", 1, false);
	assert_int_equal(begin(3, 1, 5, &st), NFS4_SLOT_REPLAY_UNCACHED);
}

static void test_false_retry_detected_by_digest(void **state)
{
	uint32_t st;

	assert_int_equal(begin(0, 1, 100, &st), NFS4_SLOT_NEW);
	nfs4_slot_end(&t, 0, (const uint8_t *)"r", 1, true);
	assert_int_equal(begin(0, 1, 101, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_SEQ_FALSE_RETRY);
}

static void test_reply_larger_than_cache_is_not_kept(void **state)
{
	uint8_t big[65] = {0};
	uint32_t st;

	assert_int_equal(begin(0, 1, 1, &st), NFS4_SLOT_NEW);
	nfs4_slot_end(&t, 0, big, sizeof(big), true);
	assert_int_equal(begin(0, 1, 1, &st), NFS4_SLOT_REPLAY_UNCACHED);
}

static void test_old_seqid_is_misordered(void **state)
{
	uint32_t st;

	for (uint32_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(begin(1, seq, seq, &st), NFS4_SLOT_NEW);
		nfs4_slot_end(&t, 1, NULL, 0, false);
	}
	assert_int_equal(begin(1, 2, 2, &st), NFS4_SLOT_ERROR);
	assert_int_equal(st, NFS4ERR_SEQ_MISORDERED);
}

static void test_seqid_wraps(void **state)
{
	uint32_t st;

	t.slots[0].seqid = UINT32_MAX;
	assert_int_equal(begin(0, 0, 1, &st), NFS4_SLOT_NEW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_request_uses_seqid_1, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_slot_beyond_table_is_badslot, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_retry_while_in_progress_is_delay, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_cached_reply_is_replayed, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_uncached_reply_retry, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_false_retry_detected_by_digest, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_reply_larger_than_cache_is_not_kept,
						slot_setup, slot_teardown),
		cmocka_unit_test_setup_teardown(test_old_seqid_is_misordered, slot_setup,
						slot_teardown),
		cmocka_unit_test_setup_teardown(test_seqid_wraps, slot_setup, slot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
