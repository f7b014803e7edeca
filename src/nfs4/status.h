#ifndef NFS4D_NFS4_STATUS_H
#define NFS4D_NFS4_STATUS_H

#include <stdint.h>

#include "backend/backend.h"

/* The one translation of a backend's -errno into an nfsstat4. */
uint32_t nfs4_status_from_errno(int err);
/*
 * What an operation that needs a regular file (OPEN, READ, WRITE, COMMIT)
 * answers for an object of this type: NFS4_OK, NFS4ERR_ISDIR,
 * NFS4ERR_SYMLINK, or NFS4ERR_WRONG_TYPE (RFC 8881 §18.22.3).
 */
uint32_t nfs4_status_regular(enum be_ftype type);

#endif
