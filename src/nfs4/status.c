#include "nfs4/status.h"

#include <errno.h>

#include "xdr/nfs4_xdr.h"

uint32_t nfs4_status_from_errno(int err)
{
	switch (-err) {
	case 0:
		return NFS4_OK;
	case EPERM:
		return NFS4ERR_PERM;
	case ENOENT:
		return NFS4ERR_NOENT;
	case EIO:
		return NFS4ERR_IO;
	case ENXIO:
	case ENODEV:
		return NFS4ERR_NXIO;
	case EACCES:
		return NFS4ERR_ACCESS;
	case EEXIST:
		return NFS4ERR_EXIST;
	case EXDEV:
		return NFS4ERR_XDEV;
	case ENOTDIR:
		return NFS4ERR_NOTDIR;
	case EISDIR:
		return NFS4ERR_ISDIR;
	case EINVAL:
		return NFS4ERR_INVAL;
	case EFBIG:
		return NFS4ERR_FBIG;
	case ENOSPC:
		return NFS4ERR_NOSPC;
	case EROFS:
		return NFS4ERR_ROFS;
	case EMLINK:
		return NFS4ERR_MLINK;
	case ENAMETOOLONG:
		return NFS4ERR_NAMETOOLONG;
	case ENOTEMPTY:
		return NFS4ERR_NOTEMPTY;
	case EDQUOT:
		return NFS4ERR_DQUOT;
	case ESTALE:
		return NFS4ERR_STALE;
	case EBADF:
		return NFS4ERR_BADHANDLE;
	case ELOOP:
		return NFS4ERR_SYMLINK;
	case ENOTSUP:
		return NFS4ERR_NOTSUPP;
	case EAGAIN:
	case ENOMEM:
		return NFS4ERR_DELAY;
	case EOVERFLOW:
		return NFS4ERR_INVAL;
	case ETXTBSY:
	case EBUSY:
		return NFS4ERR_FILE_OPEN;
	default:
		return NFS4ERR_IO;
	}
}

uint32_t nfs4_status_regular(enum be_ftype type)
{
	switch (type) {
	case BE_REG:
		return NFS4_OK;
	case BE_DIR:
		return NFS4ERR_ISDIR;
	case BE_LNK:
		return NFS4ERR_SYMLINK;
	default:
		return NFS4ERR_WRONG_TYPE;
	}
}
