/* The one translation of backend errors into NFSv4 status codes (nfs4/status.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nfs4/status.h"
#include "xdr/nfs4_xdr.h"

static void test_every_backend_errno_maps_to_its_rfc_status(void **state)
{
	static const struct {
		int err;
		uint32_t status;
	} table[] = {
		{0, NFS4_OK},
		{-EPERM, NFS4ERR_PERM},
		{-ENOENT, NFS4ERR_NOENT},
		{-EIO, NFS4ERR_IO},
		{-ENXIO, NFS4ERR_NXIO},
		{-EACCES, NFS4ERR_ACCESS},
		{-EEXIST, NFS4ERR_EXIST},
		{-EXDEV, NFS4ERR_XDEV},
		{-ENOTDIR, NFS4ERR_NOTDIR},
		{-EISDIR, NFS4ERR_ISDIR},
		{-EINVAL, NFS4ERR_INVAL},
		{-EFBIG, NFS4ERR_FBIG},
		{-ENOSPC, NFS4ERR_NOSPC},
		{-EROFS, NFS4ERR_ROFS},
		{-EMLINK, NFS4ERR_MLINK},
		{-ENAMETOOLONG, NFS4ERR_NAMETOOLONG},
		{-ENOTEMPTY, NFS4ERR_NOTEMPTY},
		{-EDQUOT, NFS4ERR_DQUOT},
		{-ESTALE, NFS4ERR_STALE},
		{-EBADF, NFS4ERR_BADHANDLE},
		{-ELOOP, NFS4ERR_SYMLINK},
		{-ENOTSUP, NFS4ERR_NOTSUPP},
		{-EAGAIN, NFS4ERR_DELAY},
		{-ENOMEM, NFS4ERR_DELAY},
		{-EBUSY, NFS4ERR_FILE_OPEN},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_int_equal(nfs4_status_from_errno(table[i].err), table[i].status);
}

static void test_unknown_errno_is_io_never_ok(void **state)
{
	assert_int_equal(nfs4_status_from_errno(-EPROTO), NFS4ERR_IO);
	assert_int_equal(nfs4_status_from_errno(-4095), NFS4ERR_IO);
}

static void test_operations_on_regular_files_name_the_wrong_type(void **state)
{
	assert_int_equal(nfs4_status_regular(BE_REG), NFS4_OK);
	assert_int_equal(nfs4_status_regular(BE_DIR), NFS4ERR_ISDIR);
	assert_int_equal(nfs4_status_regular(BE_LNK), NFS4ERR_SYMLINK);
	assert_int_equal(nfs4_status_regular(BE_FIFO), NFS4ERR_WRONG_TYPE);
	assert_int_equal(nfs4_status_regular(BE_CHR), NFS4ERR_WRONG_TYPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_backend_errno_maps_to_its_rfc_status),
		cmocka_unit_test(test_unknown_errno_is_io_never_ok),
		cmocka_unit_test(test_operations_on_regular_files_name_the_wrong_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
