/*
 * On the vfs backend, NFS byte-range locks are real locks on the file (open
 * file description locks): a local process and an NFS client exclude each
 * other, in both directions, and ranges past 2^63, which off_t cannot express, get
 * NFS4ERR_BAD_RANGE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileops.h"

static struct fo_env env;

static int setup(void **state)
{
	fo_env_setup(&env, FO_VFS);
	return 0;
}

static int teardown(void **state)
{
	fo_env_teardown(&env);
	return 0;
}

/* OPEN (CLAIM_FH, read-write) of f by open owner "o"; returns the open stateid. */
static void open_fh(const struct fo_fh *f, struct stateid4 *sid)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct OPEN4args a = {0};
	struct OPEN4res r;
	struct nfs4clnt_res res;

	a.share_access = OPEN4_SHARE_ACCESS_BOTH;
	a.share_deny = OPEN4_SHARE_DENY_NONE;
	a.owner.clientid = env.cl.clientid;
	a.owner.owner = xdr_opaque_str("o");
	a.openhow.opentype = OPEN4_NOCREATE;
	a.claim.claim = CLAIM_FH;
	fo_add_putfh(cmp, f);
	assert_true(xdr_enc_OPEN4args(nfs4clnt_compound_add(cmp, OP_OPEN), &a));
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_OPEN), NFS4_OK);
	assert_true(xdr_dec_OPEN4resok(nfs4clnt_res_body(&res), &r.u.resok4));
	*sid = r.u.resok4.stateid;
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

/* LOCK by lock owner "l": new_owner uses the open stateid, else the lock stateid. */
static uint32_t nfs_lock(const struct fo_fh *f, bool new_owner, struct stateid4 *sid, uint32_t type,
			 uint64_t off, uint64_t len, struct LOCK4denied *denied)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct LOCK4args a = {.locktype = type, .offset = off, .length = len};
	struct nfs4clnt_res res;
	uint32_t st;

	a.locker.new_lock_owner = new_owner;
	if (new_owner) {
		a.locker.u.open_owner.open_stateid = *sid;
		a.locker.u.open_owner.lock_owner.clientid = env.cl.clientid;
		a.locker.u.open_owner.lock_owner.owner = xdr_opaque_str("l");
	} else {
		a.locker.u.lock_owner.lock_stateid = *sid;
	}
	fo_add_putfh(cmp, f);
	assert_true(xdr_enc_LOCK4args(nfs4clnt_compound_add(cmp, OP_LOCK), &a));
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_LOCK);
	if (st == NFS4_OK)
		assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), sid));
	else if (st == NFS4ERR_DENIED && denied)
		assert_true(xdr_dec_LOCK4denied(nfs4clnt_res_body(&res), denied));
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static uint32_t nfs_unlock(const struct fo_fh *f, struct stateid4 *sid, uint64_t off, uint64_t len)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct LOCKU4args a = {
		.locktype = WRITE_LT, .lock_stateid = *sid, .offset = off, .length = len};
	struct nfs4clnt_res res;
	uint32_t st;

	fo_add_putfh(cmp, f);
	assert_true(xdr_enc_LOCKU4args(nfs4clnt_compound_add(cmp, OP_LOCKU), &a));
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_LOCKU);
	if (st == NFS4_OK)
		assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), sid));
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static uint32_t nfs_close(const struct fo_fh *f, const struct stateid4 *open_sid)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct CLOSE4args a = {.open_stateid = *open_sid};
	uint32_t st;

	struct nfs4clnt_res res;
	struct stateid4 closed;

	fo_add_putfh(cmp, f);
	assert_true(xdr_enc_CLOSE4args(nfs4clnt_compound_add(cmp, OP_CLOSE), &a));
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_CLOSE);
	if (st == NFS4_OK)
		assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), &closed));
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static int local_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

static void nfs_and_local_locks_exclude_each_other(void **state)
{
	struct stateid4 open_sid, lock_sid;
	struct LOCK4denied denied;
	char dname[64], path[1024];
	struct fo_fh d, f;
	int fd;

	fo_testdir(&env, "lk", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "0123456789", 10, &f);
	snprintf(path, sizeof(path), "%s/%s/f", env.srv->tmpdir, dname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);

	open_fh(&f, &open_sid);
	lock_sid = open_sid;
	assert_nfs(nfs_lock(&f, true, &lock_sid, WRITE_LT, 0, 100, NULL), NFS4_OK);
	/* The NFS client's write lock is on the real file. */
	assert_int_equal(local_lock(fd, F_WRLCK, 50, 10), -EAGAIN);
	assert_int_equal(local_lock(fd, F_RDLCK, 0, 1), -EAGAIN);
	assert_int_equal(local_lock(fd, F_WRLCK, 100, 10), 0);

	/* And a local lock keeps the NFS client out, reported with a non-NFS owner. */
	assert_nfs(nfs_lock(&f, false, &lock_sid, WRITE_LT, 100, 5, &denied), NFS4ERR_DENIED);
	assert_int_equal(denied.offset, 100);
	assert_int_equal(denied.locktype, WRITE_LT);
	assert_int_equal(denied.owner.clientid, 0);
	assert_int_equal(local_lock(fd, F_UNLCK, 100, 10), 0);
	assert_nfs(nfs_lock(&f, false, &lock_sid, WRITE_LT, 100, 5, NULL), NFS4_OK);

	/* LOCKU releases the real lock too (here: split in the middle). */
	assert_nfs(nfs_unlock(&f, &lock_sid, 20, 10), NFS4_OK);
	assert_int_equal(local_lock(fd, F_WRLCK, 20, 10), 0);
	assert_int_equal(local_lock(fd, F_WRLCK, 19, 1), -EAGAIN);
	assert_int_equal(local_lock(fd, F_UNLCK, 20, 10), 0);
	assert_nfs(nfs_unlock(&f, &lock_sid, 0, UINT64_MAX), NFS4_OK);
	assert_int_equal(local_lock(fd, F_WRLCK, 0, 0), 0);
	close(fd);
	assert_nfs(nfs_close(&f, &open_sid), NFS4_OK);
}

static void ranges_past_2_63_are_bad_range(void **state)
{
	struct stateid4 open_sid, lock_sid;
	char dname[64];
	struct fo_fh d, f;

	fo_testdir(&env, "lr", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "x", 1, &f);
	open_fh(&f, &open_sid);
	lock_sid = open_sid;
	assert_nfs(nfs_lock(&f, true, &lock_sid, READ_LT, (uint64_t)1 << 63, 10, NULL),
		   NFS4ERR_BAD_RANGE);
	/* To the end of the file from a representable offset is fine. */
	assert_nfs(nfs_lock(&f, true, &lock_sid, READ_LT, 5, UINT64_MAX, NULL), NFS4_OK);
	assert_nfs(nfs_close(&f, &open_sid), NFS4ERR_LOCKS_HELD);
	assert_nfs(nfs_unlock(&f, &lock_sid, 5, UINT64_MAX), NFS4_OK);
	assert_nfs(nfs_close(&f, &open_sid), NFS4_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nfs_and_local_locks_exclude_each_other),
		cmocka_unit_test(ranges_past_2_63_are_bad_range),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
