/*
 * READ, WRITE and COMMIT with the special stateids (RFC 8881 §18.22, §18.32,
 * §18.3), run on the mem and the vfs backend. The files are made by
 * fo_make_file(): through OPEN on mem, on disk by the test on vfs.
 */
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;

/*
 * RFC 8881 §18.22.3 (READ) and §18.32.3 (WRITE): a directory → NFS4ERR_ISDIR,
 * a symbolic link → NFS4ERR_SYMLINK, any other non-regular file →
 * NFS4ERR_WRONG_TYPE.
 */
static void read_write_on_non_regular_files(void **state)
{
	struct fo_fh d, l, fifo;
	char buf[16];
	uint32_t n;
	bool eof;

	(void)state;
	fo_testdir(&env, "types", &d, NULL, 0);
	assert_nfs(fo_create(&env, &d, NF4LNK, "l", "t", 0, 0, NULL, &l, NULL, NULL), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "p", NULL, 0, 0, NULL, &fifo, NULL, NULL), NFS4_OK);
	assert_nfs(fo_read(&env, &d, NULL, 0, 16, buf, &n, &eof), NFS4ERR_ISDIR);
	assert_nfs(fo_read(&env, &l, NULL, 0, 16, buf, &n, &eof), NFS4ERR_SYMLINK);
	assert_nfs(fo_read(&env, &fifo, NULL, 0, 16, buf, &n, &eof), NFS4ERR_WRONG_TYPE);
	assert_nfs(fo_write(&env, NULL, &d, NULL, 0, FILE_SYNC4, "x", 1, NULL, NULL, NULL),
		   NFS4ERR_ISDIR);
	assert_nfs(fo_write(&env, NULL, &l, NULL, 0, FILE_SYNC4, "x", 1, NULL, NULL, NULL),
		   NFS4ERR_SYMLINK);
	assert_nfs(fo_write(&env, NULL, &fifo, NULL, 0, FILE_SYNC4, "x", 1, NULL, NULL, NULL),
		   NFS4ERR_WRONG_TYPE);
	/* COMMIT: §18.3.3 — directory ISDIR, symlink SYMLINK, others WRONG_TYPE. */
	assert_nfs(fo_commit(&env, &d, 0, 0, NULL), NFS4ERR_ISDIR);
	assert_nfs(fo_commit(&env, &l, 0, 0, NULL), NFS4ERR_SYMLINK);
	assert_nfs(fo_commit(&env, &fifo, 0, 0, NULL), NFS4ERR_WRONG_TYPE);
}

static void write_read_round_trip_at_offsets(void **state)
{
	struct fo_fh d, f;
	char dname[64], buf[64];
	uint32_t n, count, committed;
	bool eof;

	(void)state;
	fo_testdir(&env, "rw", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	assert_nfs(
		fo_write(&env, NULL, &f, NULL, 0, FILE_SYNC4, "hello", 5, &count, &committed, NULL),
		NFS4_OK);
	assert_int_equal(count, 5);
	assert_int_equal(committed, FILE_SYNC4);
	/* A hole between 5 and 10 reads as zeros. */
	assert_nfs(fo_write(&env, NULL, &f, &fo_bypass_stateid, 10, FILE_SYNC4, "world", 5, &count,
			    NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_read(&env, &f, NULL, 0, 64, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 15);
	assert_true(eof);
	assert_memory_equal(buf, "hello\0\0\0\0\0world", 15);
	/* Overwrite in the middle. */
	assert_nfs(fo_write(&env, NULL, &f, NULL, 3, FILE_SYNC4, "LOW", 3, &count, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_read(&env, &f, &fo_bypass_stateid, 2, 6, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 6);
	assert_false(eof);
	assert_memory_equal(buf, "lLOW\0\0", 6);
	/* Zero-length write: OK, nothing changes. */
	assert_nfs(fo_write(&env, NULL, &f, NULL, 100, FILE_SYNC4, "", 0, &count, NULL, NULL),
		   NFS4_OK);
	assert_int_equal(count, 0);
	{
		struct fo_attrs a;

		assert_nfs(fo_stat(&env, &f, &a), NFS4_OK);
		assert_int_equal(a.size, 15);
	}
}

static void reads_across_the_end(void **state)
{
	struct fo_fh d, f;
	char dname[64], buf[64];
	uint32_t n;
	bool eof;

	(void)state;
	fo_testdir(&env, "eof", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "0123456789", 10, &f);
	/* Short read at EOF. */
	assert_nfs(fo_read(&env, &f, NULL, 6, 10, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	assert_true(eof);
	assert_memory_equal(buf, "6789", 4);
	/* Exactly to the end: eof may be reported; the data is all there. */
	assert_nfs(fo_read(&env, &f, NULL, 0, 10, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 10);
	/* At and beyond the end: no data, eof. */
	assert_nfs(fo_read(&env, &f, NULL, 10, 10, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
	assert_nfs(fo_read(&env, &f, NULL, 1u << 30, 10, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
	/* In the middle: not eof. */
	assert_nfs(fo_read(&env, &f, NULL, 2, 3, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 3);
	assert_false(eof);
	/* count 0. */
	assert_nfs(fo_read(&env, &f, NULL, 0, 0, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
}

static void one_mib_write_in_one_call(void **state)
{
	const uint32_t len = 1024 * 1024;
	uint8_t *data, *back, verf[8];
	struct fo_fh d, f;
	char dname[64];
	uint32_t n, count, committed, got = 0;
	bool eof = false;

	(void)state;
	fo_testdir(&env, "mib", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	data = malloc(len);
	back = malloc(len);
	assert_non_null(data);
	assert_non_null(back);
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);
	assert_nfs(fo_write(&env, NULL, &f, NULL, 4096, UNSTABLE4, data, len, &count, &committed,
			    verf),
		   NFS4_OK);
	assert_int_equal(count, len);
	/* Read it back in pieces (the reply of a 1 MiB READ would exceed the session's max). */
	while (got < len) {
		assert_nfs(fo_read(&env, &f, NULL, 4096 + got, 256 * 1024, back + got, &n, &eof),
			   NFS4_OK);
		assert_true(n > 0);
		got += n;
	}
	assert_int_equal(got, len);
	assert_true(eof);
	assert_memory_equal(back, data, len);
	free(data);
	free(back);
}

/*
 * WRITE data sent from the caller's buffer (nfs4clnt_compound_add_data(), as
 * nfs4bench does) with an op after it, in one fragment and in fragments of
 * odd sizes that cut the data, its padding and the next op: what the server
 * stores is what was sent. Lengths not a multiple of 4 check the padding.
 */
static void in_place_write_data_in_odd_fragments(void **state)
{
	static const uint32_t lens[] = {1, 3, 4093, 1024 * 1024 - 1, 1024 * 1024};
	static const uint32_t frags[] = {0, 7, 4093, 65537, 300000};
	const uint32_t max = 1024 * 1024;
	uint8_t *data = malloc(max), *back = malloc(max);
	struct fo_fh d, f;
	char dname[64];

	(void)state;
	assert_non_null(data);
	assert_non_null(back);
	fo_testdir(&env, "inplace", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i], frag = frags[i], got = 0, n;
		struct xdr_enc *x;
		struct WRITE4resok ok;
		struct st_call c;
		bool eof = false;

		for (uint32_t j = 0; j < len; j++)
			data[j] = (uint8_t)((j + i) * 2654435761u >> 24);
		x = st_call_start(&c, &f, OP_WRITE);
		assert_non_null(x);
		assert_true(xdr_enc_stateid4(x, &fo_anon_stateid) && xdr_enc_u64(x, i) &&
			    xdr_enc_u32(x, FILE_SYNC4) &&
			    nfs4clnt_compound_add_data(c.cmp, data, len));
		assert_non_null(st_call_add(&c, OP_GETFH));
		nfs4clnt_conn_set_fragment(env.cl.conn, frag);
		assert_nfs(st_call_run(env.cl.sess, &c, OP_WRITE), NFS4_OK);
		nfs4clnt_conn_set_fragment(env.cl.conn, 0);
		assert_true(xdr_dec_WRITE4resok(st_call_body(&c), &ok));
		assert_int_equal(ok.count, len);
		assert_nfs(st_call_next(&c, OP_GETFH), NFS4_OK);
		st_call_end(&c);
		while (got < len && !eof) {
			assert_nfs(
				fo_read(&env, &f, NULL, i + got, 256 * 1024, back + got, &n, &eof),
				NFS4_OK);
			got += n;
		}
		assert_int_equal(got, len);
		assert_memory_equal(back, data, len);
	}
	free(data);
	free(back);
}

static void stable_how_is_honoured(void **state)
{
	static const uint32_t how[] = {UNSTABLE4, DATA_SYNC4, FILE_SYNC4};
	struct fo_fh d, f;
	char dname[64];
	uint8_t v[3][8], cv[8];

	(void)state;
	fo_testdir(&env, "stable", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	for (int i = 0; i < 3; i++) {
		uint32_t count, committed;

		assert_nfs(fo_write(&env, NULL, &f, NULL, (uint64_t)i * 100, how[i], "data", 4,
				    &count, &committed, v[i]),
			   NFS4_OK);
		assert_int_equal(count, 4);
		/* RFC 8881 §18.32.3: committed is at least as stable as asked. */
		assert_true(committed >= how[i] && committed <= FILE_SYNC4);
	}
	assert_memory_equal(v[0], v[1], 8);
	assert_memory_equal(v[0], v[2], 8);
	assert_nfs(fo_commit(&env, &f, 0, 0, cv), NFS4_OK);
	assert_memory_equal(cv, v[0], 8);
	assert_nfs(fo_commit(&env, &f, 100, 4, cv), NFS4_OK);
	assert_memory_equal(cv, v[0], 8);
}

static void write_verifier_changes_across_restart(void **state)
{
	struct fo_fh d, f;
	char dname[64];
	uint8_t v1[8], v2[8], c1[8];
	uint32_t count, committed;

	(void)state;
	fo_testdir(&env, "verf", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	assert_nfs(fo_write(&env, NULL, &f, NULL, 0, UNSTABLE4, "abc", 3, &count, &committed, v1),
		   NFS4_OK);
	assert_nfs(fo_commit(&env, &f, 0, 0, c1), NFS4_OK);
	assert_memory_equal(v1, c1, 8);
	fo_env_restart(&env);
	if (env.be == FO_MEM) {
		/* The mem tree dies with the server: the old handle is another instance's. */
		assert_nfs(fo_write(&env, NULL, &f, NULL, 0, UNSTABLE4, "abc", 3, NULL, NULL, NULL),
			   NFS4ERR_STALE);
		assert_nfs(fo_walk(&env, env.expath, &env.exp), NFS4_OK);
		fo_testdir(&env, "verf", &d, dname, sizeof(dname));
		fo_make_file(&env, dname, "f", NULL, 0, &f);
	}
	/* vfs handles survive the restart. */
	assert_nfs(fo_write(&env, NULL, &f, NULL, 0, UNSTABLE4, "abc", 3, &count, &committed, v2),
		   NFS4_OK);
	assert_memory_not_equal(v1, v2, 8);
	assert_nfs(fo_commit(&env, &f, 0, 0, c1), NFS4_OK);
	assert_memory_equal(v2, c1, 8);
}

/* "other" starts with the boot epoch of the instance that issued it: not this one. */
static void stateid_of_another_server_instance_is_stale(void **state)
{
	struct fo_fh d, f;
	char dname[64], buf[8];
	struct stateid4 sid = {1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
	uint32_t n;
	bool eof;

	(void)state;
	fo_testdir(&env, "sid", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "x", 1, &f);
	assert_nfs(fo_read(&env, &f, &sid, 0, 8, buf, &n, &eof), NFS4ERR_STALE_STATEID);
	assert_nfs(fo_write(&env, NULL, &f, &sid, 0, FILE_SYNC4, "y", 1, NULL, NULL, NULL),
		   NFS4ERR_STALE_STATEID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_write_on_non_regular_files),
		cmocka_unit_test(write_read_round_trip_at_offsets),
		cmocka_unit_test(reads_across_the_end),
		cmocka_unit_test(one_mib_write_in_one_call),
		cmocka_unit_test(in_place_write_data_in_odd_fragments),
		cmocka_unit_test(stable_how_is_honoured),
		cmocka_unit_test(stateid_of_another_server_instance_is_stale),
		cmocka_unit_test(write_verifier_changes_across_restart),
	};

	return fo_run_both("files_io", tests, &env);
}
