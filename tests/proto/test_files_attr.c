/*
 * Attributes (RFC 8881 §5, §18.7 GETATTR, §18.30 SETATTR, §18.31 VERIFY,
 * §18.15 NVERIFY, §18.1 ACCESS), run on the mem and the vfs backend. The
 * fattr4 codec used here is the tests' own (fileops.c), not the server's.
 */
#include <string.h>
#include <time.h>

#include "fileops.h"

static struct fo_env env;

static int64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static void getattr_required_attributes(void **state)
{
	static const int required[] = {
		FATTR4_SUPPORTED_ATTRS, FATTR4_TYPE,	   FATTR4_FH_EXPIRE_TYPE,
		FATTR4_CHANGE,		FATTR4_SIZE,	   FATTR4_LINK_SUPPORT,
		FATTR4_SYMLINK_SUPPORT, FATTR4_NAMED_ATTR, FATTR4_FSID,
		FATTR4_UNIQUE_HANDLES,	FATTR4_LEASE_TIME, FATTR4_RDATTR_ERROR,
		FATTR4_FILEHANDLE};
	struct fo_mask m = fo_mask_of(
		FATTR4_SUPPORTED_ATTRS, FATTR4_TYPE, FATTR4_FH_EXPIRE_TYPE, FATTR4_CHANGE,
		FATTR4_SIZE, FATTR4_LINK_SUPPORT, FATTR4_SYMLINK_SUPPORT, FATTR4_NAMED_ATTR,
		FATTR4_FSID, FATTR4_UNIQUE_HANDLES, FATTR4_LEASE_TIME, FATTR4_FILEHANDLE, -1);
	struct fo_attrs a;

	(void)state;
	assert_nfs(fo_getattr(&env, &env.exp, &m, &a), NFS4_OK);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!fo_mask_has(a.supported, 3, (uint32_t)required[i]))
			fail_msg("REQUIRED attribute %d missing from supported_attrs", required[i]);
		if (required[i] != FATTR4_RDATTR_ERROR && !a.has[required[i]])
			fail_msg("REQUIRED attribute %d not returned", required[i]);
	}
	assert_int_equal(a.type, NF4DIR);
	assert_int_equal(a.lease_time, 90);
	assert_true(a.link_support);
	assert_true(a.symlink_support);
	assert_false(a.named_attr);
	assert_int_equal(a.filehandle.len, env.exp.len);
	assert_memory_equal(a.filehandle.data, env.exp.data, env.exp.len);
}

static void getattr_recommended_attributes(void **state)
{
	struct fo_fh d, sub;
	struct fo_attrs a, sa;
	struct fo_sattr cattr;
	int64_t t0 = now_sec();

	(void)state;
	fo_testdir(&env, "rec", &d, NULL, 0);
	fo_sa_init(&cattr);
	fo_sa_u32(&cattr, FATTR4_MODE, 0751);
	assert_nfs(fo_create(&env, &d, NF4DIR, "sub", NULL, 0, 0, &cattr, &sub, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_stat(&env, &sub, &a), NFS4_OK);
	assert_int_equal(a.type, NF4DIR);
	assert_int_equal(a.mode, 0751);
	assert_int_equal(a.numlinks, 2);
	/* Created by uid 0 on a no_root_squash export: numeric owner strings. */
	assert_string_equal(a.owner, "0");
	assert_string_equal(a.owner_group, "0");
	assert_true(a.fileid != 0);
	assert_true(a.mtime.sec >= t0 - 5 && a.mtime.sec <= now_sec() + 5);
	assert_true(a.ctime.sec >= t0 - 5 && a.ctime.sec <= now_sec() + 5);
	assert_true(a.mtime.nsec < 1000000000u && a.atime.nsec < 1000000000u);
	/* Two objects, two fileids; the parent now has 3 links. */
	assert_nfs(fo_stat(&env, &d, &sa), NFS4_OK);
	assert_true(sa.fileid != a.fileid);
	assert_int_equal(sa.numlinks, 3);
	/* Same file system inside the export. */
	assert_true(sa.fsid_major == a.fsid_major && sa.fsid_minor == a.fsid_minor);
}

static void mounted_on_fileid_and_export_fsid(void **state)
{
	struct fo_mask m = fo_mask_of(FATTR4_FSID, FATTR4_FILEID, FATTR4_MOUNTED_ON_FILEID, -1);
	struct fo_attrs ra, ea, da;
	struct fo_fh d;

	(void)state;
	fo_testdir(&env, "mof", &d, NULL, 0);
	assert_nfs(fo_getattr(&env, &d, &m, &da), NFS4_OK);
	/* RFC 8881 §5.8.2.23: not a mount point → mounted_on_fileid = fileid. */
	assert_int_equal(da.mounted_on_fileid, da.fileid);
	if (strcmp(env.expath, "/") == 0)
		return; /* the export is the root: no pseudo directory above it */
	assert_nfs(fo_getattr(&env, &env.root, &m, &ra), NFS4_OK);
	assert_nfs(fo_getattr(&env, &env.exp, &m, &ea), NFS4_OK);
	/* The export is another file system than the pseudo-fs. */
	assert_true(ra.fsid_major != ea.fsid_major || ra.fsid_minor != ea.fsid_minor);
	assert_true(da.fsid_major == ea.fsid_major && da.fsid_minor == ea.fsid_minor);
}

static uint64_t change_of(const struct fo_fh *fh)
{
	struct fo_mask m = fo_mask_of(FATTR4_CHANGE, -1);
	struct fo_attrs a;

	assert_nfs(fo_getattr(&env, fh, &m, &a), NFS4_OK);
	assert_true(a.has[FATTR4_CHANGE]);
	return a.change;
}

static void change_increases_after_every_modification(void **state)
{
	struct fo_fh d, sub, other;
	struct fo_sattr sa;
	uint64_t c0, c1, s0, s1;

	(void)state;
	fo_testdir(&env, "chg", &d, NULL, 0);
	fo_testdir(&env, "chg2", &other, NULL, 0);
	c0 = change_of(&d);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	c1 = change_of(&d);
	assert_true(c1 > c0);
	c0 = c1;
	assert_nfs(fo_create(&env, &d, NF4LNK, "l", "x", 0, 0, NULL, NULL, NULL, NULL), NFS4_OK);
	c1 = change_of(&d);
	assert_true(c1 > c0);
	c0 = c1;
	assert_nfs(fo_rename(&env, &d, "l", &d, "l2", NULL, NULL), NFS4_OK);
	c1 = change_of(&d);
	assert_true(c1 > c0);
	c0 = c1;
	assert_nfs(fo_remove(&env, &d, "l2", NULL), NFS4_OK);
	c1 = change_of(&d);
	assert_true(c1 > c0);
	/* SETATTR changes the object's change attribute. */
	s0 = change_of(&sub);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0700);
	assert_nfs(fo_setattr(&env, NULL, &sub, NULL, &sa, NULL), NFS4_OK);
	s1 = change_of(&sub);
	assert_true(s1 > s0);
	/* Rename across directories changes both. */
	c0 = change_of(&d);
	s0 = change_of(&other);
	assert_nfs(fo_rename(&env, &d, "sub", &other, "sub", NULL, NULL), NFS4_OK);
	assert_true(change_of(&d) > c0);
	assert_true(change_of(&other) > s0);
	/* Unchanged object: same value. */
	assert_int_equal(change_of(&other), change_of(&other));
}

static void setattr_mode(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct fo_mask set;
	struct fo_attrs a;

	(void)state;
	fo_testdir(&env, "mode", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0640);
	assert_nfs(fo_setattr(&env, NULL, &d, &fo_anon_stateid, &sa, &set), NFS4_OK);
	assert_true(fo_mask_has(set.w, set.n, FATTR4_MODE));
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	assert_int_equal(a.mode, 0640);
	/* The all-ones stateid is accepted too. */
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 01755);
	assert_nfs(fo_setattr(&env, NULL, &d, &fo_bypass_stateid, &sa, &set), NFS4_OK);
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	assert_int_equal(a.mode, 01755);
}

static void setattr_size_truncates_and_extends(void **state)
{
	struct fo_fh d, f;
	struct fo_sattr sa;
	struct fo_mask set;
	struct fo_attrs a;
	char dname[64], buf[200];
	uint32_t n;
	bool eof;

	(void)state;
	fo_testdir(&env, "size", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "0123456789", 10, &f);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, 4);
	assert_nfs(fo_setattr(&env, NULL, &f, NULL, &sa, &set), NFS4_OK);
	assert_true(fo_mask_has(set.w, set.n, FATTR4_SIZE));
	assert_nfs(fo_stat(&env, &f, &a), NFS4_OK);
	assert_int_equal(a.size, 4);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, 100);
	assert_nfs(fo_setattr(&env, NULL, &f, NULL, &sa, NULL), NFS4_OK);
	assert_nfs(fo_stat(&env, &f, &a), NFS4_OK);
	assert_int_equal(a.size, 100);
	assert_nfs(fo_read(&env, &f, NULL, 0, 200, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 100);
	assert_true(eof);
	assert_memory_equal(buf, "0123", 4);
	for (int i = 4; i < 100; i++)
		assert_int_equal(buf[i], 0);
}

static void setattr_owner_and_group_as_root(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct fo_mask set;
	struct fo_attrs a;

	(void)state;
	fo_testdir(&env, "own", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_str(&sa, FATTR4_OWNER, "1234");
	fo_sa_str(&sa, FATTR4_OWNER_GROUP, "5678");
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, &set), NFS4_OK);
	assert_true(fo_mask_has(set.w, set.n, FATTR4_OWNER));
	assert_true(fo_mask_has(set.w, set.n, FATTR4_OWNER_GROUP));
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	assert_string_equal(a.owner, "1234");
	assert_string_equal(a.owner_group, "5678");
}

static void setattr_bad_owner_is_badowner(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;

	(void)state;
	fo_testdir(&env, "badown", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_str(&sa, FATTR4_OWNER, "no-such-user@nowhere.invalid");
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_BADOWNER);
	fo_sa_init(&sa);
	fo_sa_str(&sa, FATTR4_OWNER_GROUP, "12ab");
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_BADOWNER);
}

static void setattr_times(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct fo_mask set;
	struct fo_attrs a;
	int64_t t0 = now_sec();

	(void)state;
	fo_testdir(&env, "times", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_settime(&sa, FATTR4_TIME_MODIFY_SET, SET_TO_CLIENT_TIME4, 1000000000, 5000);
	fo_sa_settime(&sa, FATTR4_TIME_ACCESS_SET, SET_TO_CLIENT_TIME4, 1100000000, 7000);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, &set), NFS4_OK);
	assert_true(fo_mask_has(set.w, set.n, FATTR4_TIME_MODIFY_SET));
	assert_true(fo_mask_has(set.w, set.n, FATTR4_TIME_ACCESS_SET));
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	assert_int_equal(a.mtime.sec, 1000000000);
	assert_int_equal(a.mtime.nsec, 5000);
	assert_int_equal(a.atime.sec, 1100000000);
	assert_int_equal(a.atime.nsec, 7000);
	fo_sa_init(&sa);
	fo_sa_settime(&sa, FATTR4_TIME_MODIFY_SET, SET_TO_SERVER_TIME4, 0, 0);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, &set), NFS4_OK);
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	assert_true(a.mtime.sec >= t0 - 5 && a.mtime.sec <= now_sec() + 5);
	/* Write-only attributes cannot be read (RFC 8881 §5.5: GETATTR → NFS4ERR_INVAL). */
	{
		struct fo_mask m = fo_mask_of(FATTR4_TIME_MODIFY_SET, -1);

		assert_nfs(fo_getattr(&env, &d, &m, &a), NFS4ERR_INVAL);
	}
}

static void setattr_read_only_attribute_is_inval(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;

	(void)state;
	fo_testdir(&env, "ro", &d, NULL, 0);
	/* RFC 8881 §18.30.4: a read-only attribute in SETATTR → NFS4ERR_INVAL. */
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_TYPE, NF4DIR);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_INVAL);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_CHANGE, 7);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_INVAL);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_FILEID, 7);
	fo_sa_u32(&sa, FATTR4_MODE, 0700);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_INVAL);
}

static void setattr_unsupported_attribute_is_attrnotsupp(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct fo_mask m = fo_mask_of(FATTR4_SUPPORTED_ATTRS, -1);
	struct fo_attrs a;
	static const int candidates[] = {FATTR4_ARCHIVE, FATTR4_HIDDEN, FATTR4_SYSTEM,
					 FATTR4_TIME_BACKUP, FATTR4_TIME_CREATE};

	(void)state;
	fo_testdir(&env, "unsup", &d, NULL, 0);
	/* An attribute number no minor version defines. */
	fo_sa_init(&sa);
	fo_sa_u32(&sa, 90, 1);
	assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_ATTRNOTSUPP);
	/* A settable RECOMMENDED attribute the server does not support, if any. */
	assert_nfs(fo_getattr(&env, &d, &m, &a), NFS4_OK);
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int at = candidates[i];

		if (fo_mask_has(a.supported, 3, (uint32_t)at))
			continue;
		fo_sa_init(&sa);
		if (at == FATTR4_TIME_BACKUP || at == FATTR4_TIME_CREATE)
			fo_sa_time(&sa, (uint32_t)at, 1000, 0);
		else
			fo_sa_u32(&sa, (uint32_t)at, 1);
		assert_nfs(fo_setattr(&env, NULL, &d, NULL, &sa, NULL), NFS4ERR_ATTRNOTSUPP);
		break;
	}
}

static void setattr_foreign_and_missing_stateids_are_refused(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	/* "other" starts with the boot epoch of the instance that issued it: not this one. */
	struct stateid4 sid = {1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
	struct stateid4 cur = {1, {0}}; /* the "current stateid" special value needs one */

	(void)state;
	fo_testdir(&env, "sid", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0700);
	assert_nfs(fo_setattr(&env, NULL, &d, &sid, &sa, NULL), NFS4ERR_STALE_STATEID);
	/* seqid 1 + other all zero: the current stateid; there is none in this COMPOUND. */
	assert_nfs(fo_setattr(&env, NULL, &d, &cur, &sa, NULL), NFS4ERR_BAD_STATEID);
}

static void verify_and_nverify(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct fo_attrs a;

	(void)state;
	fo_testdir(&env, "ver", &d, NULL, 0);
	assert_nfs(fo_stat(&env, &d, &a), NFS4_OK);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, a.mode);
	fo_sa_u32(&sa, FATTR4_TYPE, NF4DIR);
	assert_nfs(fo_verify(&env, OP_VERIFY, &d, &sa), NFS4_OK);
	assert_nfs(fo_verify(&env, OP_NVERIFY, &d, &sa), NFS4ERR_SAME);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, a.mode ^ 1);
	fo_sa_u32(&sa, FATTR4_TYPE, NF4DIR);
	assert_nfs(fo_verify(&env, OP_VERIFY, &d, &sa), NFS4ERR_NOT_SAME);
	assert_nfs(fo_verify(&env, OP_NVERIFY, &d, &sa), NFS4_OK);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_FILEID, a.fileid);
	fo_sa_str(&sa, FATTR4_OWNER, a.owner);
	assert_nfs(fo_verify(&env, OP_VERIFY, &d, &sa), NFS4_OK);
	/* RFC 8881 §18.31.3: write-only attributes → NFS4ERR_INVAL. */
	fo_sa_init(&sa);
	fo_sa_settime(&sa, FATTR4_TIME_MODIFY_SET, SET_TO_SERVER_TIME4, 0, 0);
	assert_nfs(fo_verify(&env, OP_VERIFY, &d, &sa), NFS4ERR_INVAL);
	/* An attribute the server does not support → NFS4ERR_ATTRNOTSUPP. */
	fo_sa_init(&sa);
	fo_sa_u32(&sa, 90, 0);
	assert_nfs(fo_verify(&env, OP_NVERIFY, &d, &sa), NFS4ERR_ATTRNOTSUPP);
}

#define ACCESS4_ALL                                                                         \
	(ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE | \
	 ACCESS4_EXECUTE)

static void access_root_gets_everything(void **state)
{
	struct fo_fh d;
	uint32_t supp, acc;

	(void)state;
	fo_testdir(&env, "acc", &d, NULL, 0);
	assert_nfs(fo_access(&env, NULL, &d, ACCESS4_ALL, &supp, &acc), NFS4_OK);
	assert_int_equal(supp & ~ACCESS4_ALL, 0);
	/* A directory: READ, LOOKUP, MODIFY, EXTEND, DELETE apply (EXECUTE is for files). */
	assert_int_equal(acc & (ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND |
				ACCESS4_DELETE),
			 ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND |
				 ACCESS4_DELETE);
	assert_int_equal(acc & ~supp, 0);
}

static void access_non_owner_on_0700_gets_nothing(void **state)
{
	struct fo_fh d, sub;
	struct fo_sattr sa;
	struct harness_client other;
	struct nfs4clnt_auth u = nfs4clnt_auth_sys(1000, 1000);
	uint32_t supp, acc;

	(void)state;
	fo_testdir(&env, "acc7", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0700);
	assert_nfs(fo_create(&env, &d, NF4DIR, "private", NULL, 0, 0, &sa, &sub, NULL, NULL),
		   NFS4_OK);
	fo_client_new(&env, &other, &u);
	assert_nfs(fo_access(&env, &other, &sub, ACCESS4_ALL, &supp, &acc), NFS4_OK);
	assert_int_equal(acc, 0);
	/* And the operations themselves are refused. */
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0777);
	assert_nfs(fo_setattr(&env, &other, &sub, NULL, &sa, NULL), NFS4ERR_PERM);
	harness_client_free(&other, false);
}

static void access_reserved_bits_are_inval(void **state)
{
	struct fo_fh d;
	uint32_t supp, acc;

	(void)state;
	fo_testdir(&env, "accinv", &d, NULL, 0);
	assert_nfs(fo_access(&env, NULL, &d, 0x80000000u | ACCESS4_READ, &supp, &acc),
		   NFS4ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(getattr_required_attributes),
		cmocka_unit_test(getattr_recommended_attributes),
		cmocka_unit_test(mounted_on_fileid_and_export_fsid),
		cmocka_unit_test(change_increases_after_every_modification),
		cmocka_unit_test(setattr_mode),
		cmocka_unit_test(setattr_size_truncates_and_extends),
		cmocka_unit_test(setattr_owner_and_group_as_root),
		cmocka_unit_test(setattr_bad_owner_is_badowner),
		cmocka_unit_test(setattr_times),
		cmocka_unit_test(setattr_read_only_attribute_is_inval),
		cmocka_unit_test(setattr_unsupported_attribute_is_attrnotsupp),
		cmocka_unit_test(setattr_foreign_and_missing_stateids_are_refused),
		cmocka_unit_test(verify_and_nverify),
		cmocka_unit_test(access_root_gets_everything),
		cmocka_unit_test(access_non_owner_on_0700_gets_nothing),
		cmocka_unit_test(access_reserved_bits_are_inval),
	};

	return fo_run_both("files_attr", tests, &env);
}
