/*
 * Group commit of directory syncs: requests that need the same directory
 * made durable at the same time share one fsync instead of taking one each
 * (each is a disk write and a cache flush, or a journal commit).
 *
 * The rule that keeps every change durable: a sync that *starts* after a
 * caller's change was made covers it. So a caller that finds no sync of its
 * directory running starts one itself; a caller that finds one running
 * (which may have started before its change) waits for the next one, and
 * the first waiter to see the running one end starts that next one for
 * everybody waiting. Each caller gets the result of a sync that started
 * after it arrived: that one's, or a later one's failure (never a success
 * it is not covered by).
 *
 * State per directory (keyed by dev + inode number) lives in a fixed table
 * of slots, each with its own mutex and condition variable, taken by the
 * first caller and cleared by the last one out: no allocation, bounded, and
 * nothing is kept for an idle directory. A caller whose slot is busy with
 * another directory syncs alone, as if there were no table. No lock is held
 * while the sync runs; waiters sleep on the slot's condition variable, as
 * long as the sync they wait for takes (a pool thread waiting here is a
 * slow call like one in fsync: the rpc watchdog lends a thread meanwhile).
 */
#ifndef NFS4D_BACKEND_VFS_GCOMMIT_H
#define NFS4D_BACKEND_VFS_GCOMMIT_H

#include <stdint.h>

struct vfs_gcommit;

/* A sync of the object the caller names; 0 or -errno. */
typedef int (*vfs_gcommit_fn)(void *arg);

int vfs_gcommit_create(struct vfs_gcommit **out);
/* No caller may be inside vfs_gcommit_sync(). */
void vfs_gcommit_destroy(struct vfs_gcommit *gc);
/*
 * Returns once a sync of dev/ino that started after this call began has
 * ended: fn(arg) run by this thread, or by another caller for the same
 * directory. 0, or the -errno of such a sync.
 */
int vfs_gcommit_sync(struct vfs_gcommit *gc, uint64_t dev, uint64_t ino, vfs_gcommit_fn fn,
		     void *arg);

#endif
