/*
 * The vfs backend: a local directory exported through struct backend_ops
 * (backend.h). This header adds what is specific to vfs; the operations
 * themselves are reached through be->ops like any backend.
 *
 * Handle modes:
 *  - persistent (the default when the process may call open_by_handle_at, i.e.
 *    has CAP_DAC_READ_SEARCH, and the export's filesystem supports
 *    name_to_handle_at and trusted xattrs): handles survive a restart of nfs4d.
 *  - volatile (otherwise, or when asked for): handles name entries of an
 *    in-memory table and go stale when the process exits
 *    (persistent_handles() == false, FH4_VOLATILE_ANY for nfs4/).
 * Setting NFS4D_VFS_VOLATILE=1 in the environment makes be_vfs_create()
 * choose volatile mode too (tests).
 */
#ifndef NFS4D_BACKEND_VFS_H
#define NFS4D_BACKEND_VFS_H

#include "backend/backend.h"

/* Like be_vfs_create() but always with volatile handles. */
int be_vfs_create_volatile(const char *path, struct backend **out);

#endif
