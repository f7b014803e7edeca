/*
 * The in-memory backend (be_mem_create() in backend.h): a POSIX tree that
 * behaves like an ext4 directory seen through the vfs backend, for tests and
 * protocol benchmarks. Extra knobs that only mem has live here.
 */
#ifndef NFS4D_BACKEND_MEM_H
#define NFS4D_BACKEND_MEM_H

#include <stdint.h>

#include "backend/backend.h"

#define BE_MEM_DEFAULT_LIMIT (1ull << 30) /* bytes of data + metadata before -ENOSPC */
#define BE_MEM_MAX_LINK 65000u		  /* like ext4's EXT4_LINK_MAX */

/*
 * Caps the memory the tree may use (file data, names, inodes); writes and
 * creates beyond it fail with -ENOSPC. statfs reports it as the total space.
 * be must come from be_mem_create(). Call before the backend is shared.
 */
void be_mem_set_limit(struct backend *be, uint64_t bytes);

#endif
