/*
 * Internals shared by the vfs backend's files:
 *   vfs.c        lifecycle, the ops table, namespace operations
 *   vfs_attr.c   attributes, the change attribute, setattr, access, statfs
 *   vfs_io.c     read, write, commit, readlink, readdir
 *   vfs_handle.c file handles (persistent and volatile) and the export check
 *   vfs_fdcache.c the cache of O_PATH fds by handle
 *   vfs_gcommit.c group commit of directory syncs
 *   vfs_ncache.c  the LOOKUP name cache, kept right by inotify
 *   vfs_cred.c   per-thread credential switching
 *   vfs_seen.c   attributes seen earlier in the same request, and when they may be reused
 *   vfs_lease.c  fcntl leases behind delegations, and their thread
 *
 * Rules every operation follows:
 *  1. Handles are resolved to cached O_PATH fds (vfs_handle_get); a handle
 *     not cached is opened as the server (vfs_handle_get switches to it: the
 *     capability open_by_handle_at needs is dropped by setfsuid()).
 *  2. The permission-relevant system calls run after vfs_cred_enter(), always
 *     relative to those fds (*at calls), never by path from "/". Names are
 *     single components checked by vfs_check_name(). A thread keeps the
 *     caller's identity after the call (the next caller is usually the same);
 *     what must run on the server's authority calls vfs_cred_leave() first.
 *  3. Nothing is ever resolved through a symlink inside the export:
 *     O_NOFOLLOW / AT_SYMLINK_NOFOLLOW / openat2(RESOLVE_NO_SYMLINKS).
 *  4. An operation that may change anything (data, attributes, names) or
 *     takes a lease resolves its handles with vfs_handle_get() before it
 *     does; only pure reads use vfs_handle_get_seen(), which may answer with
 *     a statx seen earlier in the request (vfs_seen.c has the rule).
 */
#ifndef NFS4D_BACKEND_VFS_INTERNAL_H
#define NFS4D_BACKEND_VFS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "backend/vfs_fdcache.h"
#include "backend/vfs_ncache.h"

#define VFS_KEY_LEN 16
/* Bound on the ".." walk that proves a directory is inside the export. */
#define VFS_MAX_DEPTH 2048
/* Volatile mode: most objects the handle table remembers (each holds an fd). */
#define VFS_VTABLE_MAX 65536
/* Change-attribute bump table: slots (direct mapped) and lock stripes. */
#define VFS_CHANGE_SLOTS 4096
#define VFS_CHANGE_LOCKS 64
/* Most O_PATH fds the handle cache keeps open (and at most a quarter of RLIMIT_NOFILE). */
#define VFS_FDCACHE_MAX 16384
/* A directory proven inside the export is walked again after this long (ms); see vfs_handle.c. */
#define VFS_INSIDE_TTL_MS 1000

/* The identity a worker thread returns to after each call. */
struct vfs_cred_base {
	bool can_switch; /* running as root: setfsuid/setfsgid/setgroups work */
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;
};

struct vfs_vtable;  /* vfs_handle.c */
struct vfs_gcommit; /* vfs_gcommit.h */
struct vfs_leases;  /* vfs_lease.c */

struct vfs_change_slot {
	uint64_t dev;
	uint64_t ino;
	uint64_t ctime; /* vfs_ctime_value() the bump belongs to */
	uint64_t bump;
};

/*
 * One export. Immutable after be_vfs_create() except the volatile table and the
 * change slots, each under its own locks. Shared by all worker threads.
 */
struct vfs_backend {
	struct backend be; /* first: nfs4/ sees a struct backend */
	int root_fd;	   /* O_PATH|O_DIRECTORY */
	int mount_fd; /* persistent: O_RDONLY root, open_by_handle_at's mount fd (not O_PATH) */
	uint64_t root_dev;
	uint64_t root_ino;
	int mnt_id; /* name_to_handle_at's mount id of the root */
	bool persistent;
	bool have_openat2;
	bool stable_cookies; /* readdir cookies survive modifications (hash d_off) */
	uint64_t fsid_major;
	uint64_t fsid_minor;
	uint8_t key[VFS_KEY_LEN]; /* MAC key of handles; see vfs_handle.c */
	struct be_fh root_fh;
	struct vfs_cred_base cred;
	struct vfs_vtable *vt; /* volatile mode only */
	struct vfs_fdcache *fdc;
	struct vfs_ncache *nc;	     /* persistent handles only; NULL without (vfs_ncache.h) */
	struct vfs_leases *leases;   /* the delegations' leases, under their own lock */
	struct vfs_gcommit *gcommit; /* directory syncs in progress, under its own locks */
	_Atomic uint64_t meta_syncs; /* be_stats, relaxed adds: directory and size fsyncs */
	_Atomic uint64_t data_syncs; /* stable writes and commits */
	pthread_mutex_t change_lock[VFS_CHANGE_LOCKS];
	struct vfs_change_slot *change; /* VFS_CHANGE_SLOTS */
};

static inline struct vfs_backend *vfs_of(struct backend *be)
{
	return (struct vfs_backend *)be;
}

/* vfs_handle.c */
int vfs_handle_init(struct vfs_backend *vb, bool want_persistent);
void vfs_handle_fini(struct vfs_backend *vb);
/* The handle of the object open as fd (O_PATH, still the caller's). */
int vfs_handle_make(struct vfs_backend *vb, int fd, const struct statx *stx, struct be_fh *out);
/*
 * The object of fh as a cached O_PATH fd ((*ent)->fd, the caller puts *ent
 * with vfs_handle_put) and a fresh statx of it, checked to be in the export.
 * Every operation that may change anything calls it before it does: it
 * forgets what this thread saw in the request (vfs_seen_forget()).
 */
int vfs_handle_get(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **ent,
		   struct statx *stx);
/* The same for an operation that only reads (getattr, access): the statx may be one seen. */
int vfs_handle_get_seen(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **ent,
			struct statx *stx);
static inline void vfs_handle_put(struct vfs_fdent *ent)
{
	vfs_fdcache_put(ent);
}
/*
 * Caches fd (O_PATH, the object whose handle fh is; ownership passes) so the
 * next use of fh need not open it. gen: vfs_inside_gen() from before the
 * directory it was found in was resolved, when it is a directory. stx: its
 * statx if the caller has one, else NULL.
 */
void vfs_handle_remember(struct vfs_backend *vb, const struct be_fh *fh, int fd, uint64_t gen,
			 const struct statx *stx);
/*
 * The cached entry of the directory fh if it was proven inside at the
 * current generation, with no system call (so no statx: it may have been
 * removed since), or NULL. The caller puts it.
 */
struct vfs_fdent *vfs_handle_proven_dir(struct vfs_backend *vb, const struct be_fh *fh);
/*
 * LOOKUP without opening the child: the handle (*out) and statx (*stx) of
 * name in dfd, a directory proven inside the export at gen, found by name
 * (statx + name_to_handle_at, neither following a symlink) when the object
 * is cached already. 0, -ENOENT when there is no such name, -EAGAIN when
 * the caller must open the child (not cached, another mount, volatile
 * handles, a race with a rename, any other error).
 */
int vfs_handle_lookup_cached(struct vfs_backend *vb, int dfd, const char *name, uint64_t gen,
			     struct be_fh *out, struct statx *stx);
/* fh was found by name in a directory proven inside at gen: if a directory, so is it. */
void vfs_handle_found(struct vfs_backend *vb, const struct be_fh *fh, uint64_t gen);
/* The object named name in dfd lost that name: drop its cached fd (stx: its statx). */
void vfs_handle_unlinked(struct vfs_backend *vb, int dfd, const char *name,
			 const struct statx *stx);
/* 0 if the directory open as fd is the export root or below it, else -ESTALE. */
int vfs_handle_check_inside(struct vfs_backend *vb, int fd, const struct statx *stx);
/* Volatile mode: forget dev/ino if no name links to it any more. */
void vfs_handle_forget(struct vfs_backend *vb, uint64_t dev, uint64_t ino);
/* The generation of "inside the export" verdicts: a directory proven inside at it still is. */
uint64_t vfs_inside_gen(void);
/* A directory may have moved (RENAME through any export): every verdict is void. */
void vfs_inside_moved(void);

/* vfs_seen.c: attributes seen earlier in this thread's request; the rule is in vfs_seen.c. */
/* Records stx, just read, as fh's (nothing outside a request). */
void vfs_seen_put(const struct vfs_backend *vb, const struct be_fh *fh, const struct statx *stx);
/* fh's statx recorded in this request since the last vfs_seen_forget(): true and *stx. */
bool vfs_seen_get(const struct vfs_backend *vb, const struct be_fh *fh, struct statx *stx);
/* Forgets all: this thread is about to change something, or to take a lease. */
void vfs_seen_forget(void);

/* vfs_cred.c */
int vfs_cred_init(struct vfs_cred_base *base);
void vfs_cred_fini(struct vfs_cred_base *base);
/* Takes on cred's identity for file-system checks (no system call if the thread has it). */
int vfs_cred_enter(const struct vfs_cred_base *base, const struct be_cred *cred);
/* Back to the server's identity (no system call if the thread has it); aborts if impossible. */
void vfs_cred_leave(const struct vfs_cred_base *base);

/* vfs_attr.c */
int vfs_statx(int dirfd, const char *name, int flags, struct statx *stx);
static inline int vfs_statx_fd(int fd, struct statx *stx)
{
	return vfs_statx(fd, "", 0, stx);
}
enum be_ftype vfs_ftype(uint32_t mode);
void vfs_attr_fill(struct vfs_backend *vb, const struct statx *stx, struct be_attr *out);
/* lookup of name in the directory open as dfd, as cred (vfs.c). 0 or -errno. */
int vfs_lookup_at(struct vfs_backend *vb, const struct be_cred *cred, int dfd, const char *name,
		  struct be_fh *out, struct be_attr *attr);
/*
 * Records a modification of the object open as fd; *stx (if given) gets its
 * fresh statx. 0, or the statx's -errno (then nothing is recorded).
 */
int vfs_change_bump(struct vfs_backend *vb, int fd, struct statx *stx);
uint64_t vfs_change_get(struct vfs_backend *vb, const struct statx *stx);
int vfs_change_init(struct vfs_backend *vb);
void vfs_change_fini(struct vfs_backend *vb);
/* durable: a size change is on stable storage before it returns (not for `async` callers). */
int vfs_setattr_fd(struct vfs_backend *vb, int fd, const struct statx *stx,
		   const struct be_sattr *sa, bool durable);
int vfs_getattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		struct be_attr *out);
int vfs_setattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		const struct be_sattr *sattr, struct be_attr *out);
int vfs_access(struct backend *be, const struct be_cred *cred, const struct be_fh *fh, int mode);
int vfs_statfs(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	       struct be_statfs *out);

/* vfs_io.c */
/*
 * Resolves fh (a regular file) and opens it with flags under cred, as
 * vfs_reopen_io; on success *ent is the handle's cached entry, which the
 * caller puts, and cred stays entered. Returns the fd or -errno.
 */
int vfs_open_data(struct vfs_backend *vb, const struct be_cred *cred, const struct be_fh *fh,
		  int flags, struct statx *stx, struct vfs_fdent **ent, bool keep_lease);
/*
 * Opens the regular file open (O_PATH) as pfd with flags, under the
 * credentials already entered: through the server's own write lease on it if
 * there is one (a fresh open would break it), after the permission check the
 * open would have made; else afresh, O_NONBLOCK, so that a lease someone
 * holds answers -EAGAIN (NFS4ERR_DELAY) at once instead of stalling the
 * worker for lease-break-time (every open of file data by the backend is
 * O_NONBLOCK for that reason). An open for writing breaks the server's own
 * read lease on the file (its holder is recalled), unless keep_lease: then
 * it answers -EAGAIN and breaks nothing.
 */
int vfs_reopen_io(struct vfs_backend *vb, int pfd, const struct statx *stx, int flags,
		  bool keep_lease);
/* vfs_lock.c */
int vfs_lock_open(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		  void **ctx);
int vfs_lock(struct backend *be, void *ctx, bool write, uint64_t start, uint64_t end);
int vfs_unlock(struct backend *be, void *ctx, uint64_t start, uint64_t end);
void vfs_lock_close(struct backend *be, void *ctx);
int vfs_read(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	     uint64_t offset, void *buf, size_t len, size_t *got, bool *eof);
int vfs_write(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	      uint64_t offset, const void *buf, size_t len, enum be_stable how, size_t *written,
	      enum be_stable *committed);
int vfs_write_pipe(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		   uint64_t offset, const void *head, size_t headlen, int pipe, size_t pipe_len,
		   enum be_stable how, size_t *written, enum be_stable *committed);
int vfs_commit(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	       uint64_t offset, uint64_t count);
int vfs_readlink(struct backend *be, const struct be_cred *cred, const struct be_fh *fh, char *buf,
		 size_t *len);
int vfs_readdir(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		uint64_t cookie, be_readdir_fn fn, void *ctx, uint64_t *verifier, bool *eof);

/* vfs_lease.c */
int vfs_lease_init(struct vfs_backend *vb);
void vfs_lease_fini(struct vfs_backend *vb);
/*
 * What the server's own leases on the file stx describes say of opening it
 * afresh with flags: a dup of the fd of its write lease (any fresh open
 * would break it; that fd is O_RDWR), -EAGAIN when a fresh open would break
 * a read lease, -ENOENT when nothing stands in the way.
 */
int vfs_lease_fd(struct vfs_backend *vb, const struct statx *stx, int flags);
int vfs_deleg_get(struct backend *be, const struct be_fh *fh, bool write, void **handle,
		  struct be_attr *attr);
bool vfs_deleg_broken(struct backend *be, void *handle);
void vfs_deleg_put(struct backend *be, void *handle);
void vfs_deleg_watch(struct backend *be, be_deleg_break_fn fn, void *ctx);

/* vfs.c: shared helpers */
/* "/proc/self/fd/N": reopening an O_PATH fd with a real access mode checks permission. */
void vfs_proc_path(int fd, char buf[32]);
/* Reopens the O_PATH fd with flags, under the caller's credentials (already entered). */
int vfs_reopen(int fd, int flags);

#endif
