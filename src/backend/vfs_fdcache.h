/*
 * A bounded cache of open O_PATH fds by file handle (the vfs backend's
 * handle bytes), so that an operation on a known handle costs a hash probe
 * instead of open_by_handle_at + close.
 *
 * Only O_PATH fds go in: they give no access to the data, so they neither
 * take nor break fcntl leases (delegations on vfs) and hold no open mode that
 * a later permission check would have to revisit.
 *
 * Concurrency: the table is split into stripes, each a read-write lock, a
 * hash chain array and an eviction list; a lookup holds its stripe's lock
 * shared for one probe and a reference increment, so any number of threads
 * use it, no RCU read section needed. Entries are reference counted: the
 * table holds one while the entry is hashed, every vfs_fdcache_get/add one
 * more; the fd is closed and the entry freed by the last vfs_fdcache_put,
 * never while a caller uses it. Eviction (per stripe, when a stripe is past
 * its share of the cap: the oldest entry not used since it was last spared)
 * and vfs_fdcache_drop only unhash.
 */
#ifndef NFS4D_BACKEND_VFS_FDCACHE_H
#define NFS4D_BACKEND_VFS_FDCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/list.h>

#include "backend/backend.h"
#include "util/ref.h"

struct vfs_fdent {
	int fd; /* O_PATH; immutable, open until the last reference is put */
	/* The user's word about the object (vfs_handle.c: when it was last proven inside). */
	_Atomic uint64_t stamp;
	/* The user's too: the object's inode number once seen (0 until then), see vfs_handle.c. */
	_Atomic uint64_t ino;
	/* Private to vfs_fdcache.c: under the stripe's lock, except refs and used. */
	struct ref refs;
	atomic_bool used; /* looked up since eviction last spared it */
	bool hashed;
	uint64_t hash;
	struct vfs_fdent *hnext;
	struct cds_list_head lru_link;
	struct be_fh key;
};

struct vfs_fdcache;

/* A cache of at most cap entries (at least one per stripe). */
int vfs_fdcache_create(size_t cap, struct vfs_fdcache **out);
/* Every entry must have been put. */
void vfs_fdcache_destroy(struct vfs_fdcache *c);
/* The entry of key, referenced, or NULL. */
struct vfs_fdent *vfs_fdcache_get(struct vfs_fdcache *c, const struct be_fh *key);
/*
 * Caches fd (O_PATH, ownership passes to the cache) under key and returns its
 * entry, referenced, with stamp; when key is there already, fd is closed and
 * the existing entry returned. NULL (fd untouched) when out of memory.
 */
struct vfs_fdent *vfs_fdcache_add(struct vfs_fdcache *c, const struct be_fh *key, int fd,
				  uint64_t stamp);
void vfs_fdcache_put(struct vfs_fdent *e);
/* Forgets key (its fd closes once nobody uses it). */
void vfs_fdcache_drop(struct vfs_fdcache *c, const struct be_fh *key);
/* Forgets e, which the caller holds a reference on. */
void vfs_fdcache_drop_ent(struct vfs_fdcache *c, struct vfs_fdent *e);
size_t vfs_fdcache_count(struct vfs_fdcache *c);

#endif
