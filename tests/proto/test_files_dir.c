/*
 * Directory operations (RFC 8881 §18.4 CREATE, §18.25 REMOVE, §18.26 RENAME,
 * §18.9 LINK, §18.24 READLINK, §18.23 READDIR), run on the mem and the vfs
 * backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"

static struct fo_env env;

static void same_fh(const struct fo_fh *a, const struct fo_fh *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static void create_every_non_regular_type(void **state)
{
	static const struct {
		uint32_t type;
		const char *name;
	} types[] = {{NF4DIR, "dir"},	{NF4LNK, "lnk"}, {NF4FIFO, "fifo"},
		     {NF4SOCK, "sock"}, {NF4CHR, "chr"}, {NF4BLK, "blk"}};
	struct fo_fh d, obj, found;
	struct fo_attrs a;
	struct fo_mask set;
	struct fo_sattr sa;

	(void)state;
	fo_testdir(&env, "types", &d, NULL, 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fo_sa_init(&sa);
		fo_sa_u32(&sa, FATTR4_MODE, 0640);
		assert_nfs(fo_create(&env, &d, types[i].type, types[i].name, "target", 1, 3, &sa,
				     &obj, NULL, &set),
			   NFS4_OK);
		/* The new object is the current filehandle: GETFH after CREATE = LOOKUP. */
		assert_nfs(fo_lookup(&env, &d, types[i].name, &found), NFS4_OK);
		same_fh(&obj, &found);
		assert_nfs(fo_stat(&env, &obj, &a), NFS4_OK);
		assert_int_equal(a.type, types[i].type);
		if (types[i].type != NF4LNK) {
			assert_true(fo_mask_has(set.w, set.n, FATTR4_MODE));
			assert_int_equal(a.mode, 0640);
		}
		if (types[i].type == NF4CHR || types[i].type == NF4BLK) {
			assert_int_equal(a.rawdev[0], 1);
			assert_int_equal(a.rawdev[1], 3);
		}
	}
}

static void create_regular_file_is_badtype(void **state)
{
	struct fo_fh d;

	(void)state;
	fo_testdir(&env, "badtype", &d, NULL, 0);
	/* RFC 8881 §18.4.3: regular files are made by OPEN; CREATE → NFS4ERR_BADTYPE. */
	assert_nfs(fo_create(&env, &d, NF4REG, "f", NULL, 0, 0, NULL, NULL, NULL, NULL),
		   NFS4ERR_BADTYPE);
	assert_nfs(fo_lookup(&env, &d, "f", NULL), NFS4ERR_NOENT);
}

static void create_existing_name_is_exist(void **state)
{
	struct fo_fh d;

	(void)state;
	fo_testdir(&env, "exist", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "x", NULL), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &d, "x", NULL), NFS4ERR_EXIST);
	assert_nfs(fo_create(&env, &d, NF4LNK, "x", "t", 0, 0, NULL, NULL, NULL, NULL),
		   NFS4ERR_EXIST);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "x", NULL, 0, 0, NULL, NULL, NULL, NULL),
		   NFS4ERR_EXIST);
	/* Bad names, as for LOOKUP. */
	assert_nfs(fo_mkdir(&env, &d, "", NULL), NFS4ERR_INVAL);
	assert_nfs(fo_mkdir(&env, &d, "a/b", NULL), NFS4ERR_BADNAME);
	assert_nfs(fo_mkdir(&env, &d, "..", NULL), NFS4ERR_BADNAME);
}

static uint64_t change_of(const struct fo_fh *fh)
{
	struct fo_mask m = fo_mask_of(FATTR4_CHANGE, -1);
	struct fo_attrs a;

	assert_nfs(fo_getattr(&env, fh, &m, &a), NFS4_OK);
	return a.change;
}

static void create_change_info(void **state)
{
	struct fo_fh d;
	struct fo_cinfo ci;
	uint64_t c0;

	(void)state;
	fo_testdir(&env, "cinfo", &d, NULL, 0);
	c0 = change_of(&d);
	assert_nfs(fo_create(&env, &d, NF4DIR, "x", NULL, 0, 0, NULL, NULL, &ci, NULL), NFS4_OK);
	assert_int_equal(ci.before, c0);
	assert_true(ci.after > ci.before);
	assert_int_equal(ci.after, change_of(&d));
}

static void remove_file_dir_and_errors(void **state)
{
	struct fo_fh d, sub;
	struct fo_cinfo ci;
	uint64_t c0;

	(void)state;
	fo_testdir(&env, "rm", &d, NULL, 0);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, NULL, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_mkdir(&env, &d, "empty", NULL), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &d, "full", &sub), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &sub, "child", NULL), NFS4_OK);
	c0 = change_of(&d);
	assert_nfs(fo_remove(&env, &d, "fifo", &ci), NFS4_OK);
	assert_int_equal(ci.before, c0);
	assert_true(ci.after > ci.before);
	assert_nfs(fo_lookup(&env, &d, "fifo", NULL), NFS4ERR_NOENT);
	assert_nfs(fo_remove(&env, &d, "empty", NULL), NFS4_OK);
	assert_nfs(fo_remove(&env, &d, "full", NULL), NFS4ERR_NOTEMPTY);
	assert_nfs(fo_remove(&env, &d, "missing", NULL), NFS4ERR_NOENT);
	assert_nfs(fo_remove(&env, &d, "", NULL), NFS4ERR_INVAL);
	assert_nfs(fo_remove(&env, &d, ".", NULL), NFS4ERR_BADNAME);
	assert_nfs(fo_remove(&env, &sub, "child", NULL), NFS4_OK);
	assert_nfs(fo_remove(&env, &d, "full", NULL), NFS4_OK);
}

static void rename_moves_replaces_and_refuses(void **state)
{
	struct fo_fh a, b, x, full, got;
	struct fo_cinfo sc, tc;
	uint64_t ca, cb;

	(void)state;
	fo_testdir(&env, "rna", &a, NULL, 0);
	fo_testdir(&env, "rnb", &b, NULL, 0);
	assert_nfs(fo_mkdir(&env, &a, "x", &x), NFS4_OK);
	ca = change_of(&a);
	cb = change_of(&b);
	assert_nfs(fo_rename(&env, &a, "x", &b, "y", &sc, &tc), NFS4_OK);
	assert_int_equal(sc.before, ca);
	assert_true(sc.after > sc.before);
	assert_int_equal(tc.before, cb);
	assert_true(tc.after > tc.before);
	assert_nfs(fo_lookup(&env, &a, "x", NULL), NFS4ERR_NOENT);
	assert_nfs(fo_lookup(&env, &b, "y", &got), NFS4_OK);
	/* Replace: a symlink over a fifo. */
	assert_nfs(fo_create(&env, &b, NF4FIFO, "old", NULL, 0, 0, NULL, NULL, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_create(&env, &b, NF4LNK, "new", "t", 0, 0, NULL, NULL, NULL, NULL), NFS4_OK);
	assert_nfs(fo_rename(&env, &b, "new", &b, "old", NULL, NULL), NFS4_OK);
	{
		char text[64];

		assert_nfs(fo_lookup(&env, &b, "old", &got), NFS4_OK);
		assert_nfs(fo_readlink(&env, &got, text, sizeof(text)), NFS4_OK);
		assert_string_equal(text, "t");
	}
	/* An empty directory over an empty directory replaces it. */
	assert_nfs(fo_mkdir(&env, &b, "e1", NULL), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &b, "e2", NULL), NFS4_OK);
	assert_nfs(fo_rename(&env, &b, "e1", &b, "e2", NULL, NULL), NFS4_OK);
	/* A directory onto a non-empty directory: NFS4ERR_EXIST (RFC 8881 §18.26.3) or NOTEMPTY. */
	assert_nfs(fo_mkdir(&env, &b, "full", &full), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &full, "child", NULL), NFS4_OK);
	assert_nfs2(fo_rename(&env, &b, "e2", &b, "full", NULL, NULL), NFS4ERR_EXIST,
		    NFS4ERR_NOTEMPTY);
	/* A directory onto a non-directory and back: EXIST. */
	assert_nfs2(fo_rename(&env, &b, "e2", &b, "old", NULL, NULL), NFS4ERR_EXIST,
		    NFS4ERR_NOTDIR);
	assert_nfs2(fo_rename(&env, &b, "old", &b, "e2", NULL, NULL), NFS4ERR_EXIST, NFS4ERR_ISDIR);
	/* Missing source. */
	assert_nfs(fo_rename(&env, &b, "missing", &b, "z", NULL, NULL), NFS4ERR_NOENT);
	/* A directory into its own subtree. */
	assert_nfs(fo_rename(&env, &b, "full", &full, "inside", NULL, NULL), NFS4ERR_INVAL);
	/* Renaming onto itself is a no-op that succeeds. */
	assert_nfs(fo_rename(&env, &b, "old", &b, "old", NULL, NULL), NFS4_OK);
}

static void link_grows_nlink_and_refuses_directories(void **state)
{
	struct fo_fh d, d2, fifo, sub;
	struct fo_attrs a;
	struct fo_cinfo ci;
	uint64_t c0;

	(void)state;
	fo_testdir(&env, "ln", &d, NULL, 0);
	fo_testdir(&env, "ln2", &d2, NULL, 0);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, &fifo, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_stat(&env, &fifo, &a), NFS4_OK);
	assert_int_equal(a.numlinks, 1);
	c0 = change_of(&d2);
	assert_nfs(fo_link(&env, &fifo, &d2, "again", &ci), NFS4_OK);
	assert_int_equal(ci.before, c0);
	assert_true(ci.after > ci.before);
	assert_nfs(fo_stat(&env, &fifo, &a), NFS4_OK);
	assert_int_equal(a.numlinks, 2);
	{
		struct fo_fh other;
		struct fo_attrs oa;

		assert_nfs(fo_lookup(&env, &d2, "again", &other), NFS4_OK);
		assert_nfs(fo_stat(&env, &other, &oa), NFS4_OK);
		assert_int_equal(oa.fileid, a.fileid);
	}
	assert_nfs(fo_link(&env, &fifo, &d2, "again", NULL), NFS4ERR_EXIST);
	/* RFC 8881 §18.9.3: the saved filehandle is a directory → NFS4ERR_ISDIR. */
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_link(&env, &sub, &d2, "dirlink", NULL), NFS4ERR_ISDIR);
	/* The target is not a directory. */
	assert_nfs(fo_link(&env, &fifo, &fifo, "x", NULL), NFS4ERR_NOTDIR);
	assert_nfs(fo_remove(&env, &d, "fifo", NULL), NFS4_OK);
	assert_nfs(fo_stat(&env, &fifo, &a), NFS4_OK);
	assert_int_equal(a.numlinks, 1);
}

static void readlink_gives_the_text(void **state)
{
	struct fo_fh d, l, fifo;
	char text[4200], big[1100];

	(void)state;
	fo_testdir(&env, "rl", &d, NULL, 0);
	assert_nfs(
		fo_create(&env, &d, NF4LNK, "l", "../some/where else", 0, 0, NULL, &l, NULL, NULL),
		NFS4_OK);
	assert_nfs(fo_readlink(&env, &l, text, sizeof(text)), NFS4_OK);
	assert_string_equal(text, "../some/where else");
	memset(big, 'x', 1000);
	big[1000] = 0;
	assert_nfs(fo_create(&env, &d, NF4LNK, "big", big, 0, 0, NULL, &l, NULL, NULL), NFS4_OK);
	assert_nfs(fo_readlink(&env, &l, text, sizeof(text)), NFS4_OK);
	assert_string_equal(text, big);
	/* RFC 8881 §18.24.3: not a symbolic link → NFS4ERR_INVAL. */
	assert_nfs(fo_readlink(&env, &d, text, sizeof(text)), NFS4ERR_INVAL);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, &fifo, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_readlink(&env, &fifo, text, sizeof(text)), NFS4ERR_INVAL);
}

#define NBIG 1000

/* Creates n fifos "e0000".. in dir, seven PUTFH+CREATE pairs per COMPOUND. */
static void make_entries(const struct fo_fh *dir, int n)
{
	for (int i = 0; i < n;) {
		struct nfs4clnt_compound *cmp = fo_cmp();

		for (int k = 0; k < 7 && i < n; k++, i++) {
			char name[16];
			struct createtype4 ct = {.type = NF4FIFO};
			component4 c;
			struct fo_sattr sa;
			struct xdr_enc *x;

			snprintf(name, sizeof(name), "e%04d", i);
			c = xdr_opaque_str(name);
			fo_sa_init(&sa);
			fo_add_putfh(cmp, dir);
			x = nfs4clnt_compound_add(cmp, OP_CREATE);
			assert_true(xdr_enc_createtype4(x, &ct) && xdr_enc_component4(x, &c) &&
				    fo_sa_encode(&sa, x));
		}
		assert_nfs(fo_run(&env, cmp), NFS4_OK);
	}
}

static void readdir_returns_every_entry_once(void **state)
{
	static struct fo_dirent ents[NBIG + 8];
	static bool seen[NBIG];
	struct fo_fh d;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_FILEID, -1);
	uint8_t verf[8] = {0};
	uint64_t cookie = 0;
	bool eof = false;
	int total = 0, calls = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	fo_testdir(&env, "big", &d, NULL, 0);
	make_entries(&d, NBIG);
	while (!eof) {
		int n;

		assert_nfs(fo_readdir(&env, &d, cookie, verf, 2048, 4096, &m, ents, NBIG + 8, &n,
				      &eof),
			   NFS4_OK);
		assert_true(n > 0 || eof);
		for (int i = 0; i < n; i++) {
			int idx;

			/* Cookies 0, 1 and 2 are reserved (RFC 8881 §18.23.3). */
			assert_true(ents[i].cookie > 2);
			assert_true(sscanf(ents[i].name, "e%04d", &idx) == 1);
			assert_true(idx >= 0 && idx < NBIG);
			if (seen[idx])
				fail_msg("entry %s returned twice", ents[i].name);
			seen[idx] = true;
			assert_true(ents[i].attrs.has[FATTR4_TYPE]);
			assert_int_equal(ents[i].attrs.type, NF4FIFO);
			assert_true(ents[i].attrs.has[FATTR4_FILEID]);
			cookie = ents[i].cookie;
		}
		total += n;
		assert_true(++calls < 2 * NBIG);
	}
	assert_int_equal(total, NBIG);
	assert_true(calls > 5); /* the small maxcount forced several calls */
}

static void readdir_entry_attributes_match_getattr(void **state)
{
	struct fo_dirent ents[8];
	struct fo_fh d, sub;
	struct fo_attrs a;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_FILEID, FATTR4_MODE, -1);
	uint8_t verf[8] = {0};
	bool eof;
	int n;

	(void)state;
	fo_testdir(&env, "rda", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4LNK, "lnk", "t", 0, 0, NULL, NULL, NULL, NULL), NFS4_OK);
	assert_nfs(fo_readdir(&env, &d, 0, verf, 8192, 32768, &m, ents, 8, &n, &eof), NFS4_OK);
	assert_int_equal(n, 2);
	assert_true(eof);
	assert_nfs(fo_stat(&env, &sub, &a), NFS4_OK);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i].name, "sub") == 0) {
			assert_int_equal(ents[i].attrs.type, NF4DIR);
			assert_int_equal(ents[i].attrs.fileid, a.fileid);
			assert_int_equal(ents[i].attrs.mode, a.mode);
		} else {
			assert_string_equal(ents[i].name, "lnk");
			assert_int_equal(ents[i].attrs.type, NF4LNK);
		}
	}
	/* An empty directory: no entries, eof. */
	assert_nfs(fo_readdir(&env, &sub, 0, verf, 8192, 32768, &m, ents, 8, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
}

/* Type and fileid alone (what ls asks) come from the entry itself: the same as a lookup's. */
static void readdir_type_and_fileid_match_lookup(void **state)
{
	struct fo_dirent ents[8];
	struct fo_fh d, sub, x;
	struct fo_attrs a;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_FILEID, FATTR4_MOUNTED_ON_FILEID,
				      FATTR4_RDATTR_ERROR, -1);
	uint8_t verf[8] = {0};
	bool eof;
	int n;

	(void)state;
	fo_testdir(&env, "rdt", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4LNK, "lnk", "t", 0, 0, NULL, NULL, NULL, NULL), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, NULL, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_readdir(&env, &d, 0, verf, 8192, 32768, &m, ents, 8, &n, &eof), NFS4_OK);
	assert_int_equal(n, 3);
	assert_true(eof);
	for (int i = 0; i < n; i++) {
		assert_nfs(fo_lookup(&env, &d, ents[i].name, &x), NFS4_OK);
		assert_nfs(fo_stat(&env, &x, &a), NFS4_OK);
		assert_true(ents[i].attrs.has[FATTR4_TYPE] && ents[i].attrs.has[FATTR4_FILEID]);
		assert_int_equal(ents[i].attrs.type, a.type);
		assert_int_equal(ents[i].attrs.fileid, a.fileid);
		assert_true(ents[i].attrs.has[FATTR4_MOUNTED_ON_FILEID]);
		assert_int_equal(ents[i].attrs.mounted_on_fileid, a.fileid);
		assert_true(ents[i].attrs.has[FATTR4_RDATTR_ERROR]);
		assert_int_equal(ents[i].attrs.rdattr_error, NFS4_OK);
	}
}

static void readdir_reserved_cookies_and_small_maxcount(void **state)
{
	struct fo_dirent ents[4];
	struct fo_fh d;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);
	uint8_t verf[8] = {0};
	bool eof;
	int n;

	(void)state;
	fo_testdir(&env, "rdc", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "a", NULL), NFS4_OK);
	/* RFC 8881 §18.23.3: cookies 1 and 2 are reserved → NFS4ERR_BAD_COOKIE. */
	assert_nfs(fo_readdir(&env, &d, 1, verf, 8192, 8192, &m, ents, 4, &n, &eof),
		   NFS4ERR_BAD_COOKIE);
	assert_nfs(fo_readdir(&env, &d, 2, verf, 8192, 8192, &m, ents, 4, &n, &eof),
		   NFS4ERR_BAD_COOKIE);
	/*
	 * RFC 8881 §18.23.3: a cookie presented with a verifier other than the
	 * one the directory gave → NFS4ERR_NOT_SAME. (A zero verifier is taken
	 * as "none": Linux sends one with cookies now and then.)
	 */
	{
		uint8_t bad[8];

		assert_nfs(fo_mkdir(&env, &d, "b", NULL), NFS4_OK);
		assert_nfs(fo_readdir(&env, &d, 0, verf, 8192, 8192, &m, ents, 4, &n, &eof),
			   NFS4_OK);
		assert_true(n >= 1);
		for (int i = 0; i < 8; i++)
			bad[i] = verf[i] ^ 0xff;
		assert_nfs(fo_readdir(&env, &d, ents[0].cookie, bad, 8192, 8192, &m, ents, 4, &n,
				      &eof),
			   NFS4ERR_NOT_SAME);
		memset(verf, 0, sizeof(verf));
	}
	/* Too small for a single entry → NFS4ERR_TOOSMALL. */
	assert_nfs(fo_readdir(&env, &d, 0, verf, 8192, 24, &m, ents, 4, &n, &eof),
		   NFS4ERR_TOOSMALL);
	/* READDIR of a non-directory. */
	{
		struct fo_fh l;

		assert_nfs(fo_create(&env, &d, NF4FIFO, "f", NULL, 0, 0, NULL, &l, NULL, NULL),
			   NFS4_OK);
		assert_nfs(fo_readdir(&env, &l, 0, verf, 8192, 8192, &m, ents, 4, &n, &eof),
			   NFS4ERR_NOTDIR);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_every_non_regular_type),
		cmocka_unit_test(create_regular_file_is_badtype),
		cmocka_unit_test(create_existing_name_is_exist),
		cmocka_unit_test(create_change_info),
		cmocka_unit_test(remove_file_dir_and_errors),
		cmocka_unit_test(rename_moves_replaces_and_refuses),
		cmocka_unit_test(link_grows_nlink_and_refuses_directories),
		cmocka_unit_test(readlink_gives_the_text),
		cmocka_unit_test(readdir_returns_every_entry_once),
		cmocka_unit_test(readdir_entry_attributes_match_getattr),
		cmocka_unit_test(readdir_type_and_fileid_match_lookup),
		cmocka_unit_test(readdir_reserved_cookies_and_small_maxcount),
	};

	return fo_run_both("files_dir", tests, &env);
}
