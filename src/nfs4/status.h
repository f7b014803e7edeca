#ifndef NFS4D_NFS4_STATUS_H
#define NFS4D_NFS4_STATUS_H

#include <stdint.h>

/* The one translation of a backend's -errno into an nfsstat4. */
uint32_t nfs4_status_from_errno(int err);

#endif
