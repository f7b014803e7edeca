/*
 * The storage interface (DESIGN §5). nfs4/ never calls a syscall on files: it
 * calls these. Two implementations: vfs (a local directory) and mem (an
 * in-memory tree for tests and protocol benchmarks). Both have the same
 * semantics, so the same tests run against both.
 *
 * Conventions:
 *  - Every operation returns 0 or -errno (POSIX meaning: -ENOENT, -EEXIST,
 *    -ENOTDIR, -EISDIR, -ENOTEMPTY, -EACCES, -EPERM, -EROFS, -ENAMETOOLONG,
 *    -EXDEV, -ESTALE, -EBADF (handle malformed), -EINVAL, -EFBIG, -ENOSPC,
 *    -EDQUOT, -EIO, -ELOOP, -EMLINK, -ENOTSUP …). nfs4/ translates them to
 *    nfsstat4 in one table.
 *  - Names are one path component: never "", ".", "..", never containing '/'
 *    or NUL (nfs4/ rejects those before calling; backends check again and
 *    return -EINVAL). Length ≤ BE_NAME_MAX.
 *  - Every operation runs with the caller's credentials (struct be_cred,
 *    already squashed by the export rules): permission checks are the
 *    backend's own (vfs: the kernel's, with per-thread fsuid/fsgid/groups).
 *  - Handles (struct be_fh) are opaque to nfs4/, ≤ BE_FH_MAX bytes, and never
 *    let a caller reach outside the export: a forged or foreign handle gives
 *    -ESTALE (well-formed but not ours / gone) or -EBADF (malformed).
 *  - Thread-safe: any number of workers call into one backend at once.
 */
#ifndef NFS4D_BACKEND_BACKEND_H
#define NFS4D_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BE_FH_MAX 112 /* nfs4/ adds its own header to make an nfs_fh4 of ≤ 128 bytes */
#define BE_NAME_MAX 255
#define BE_PATH_MAX 4096 /* symlink targets */
#define BE_MAX_GROUPS 16

struct be_fh {
	uint32_t len;
	uint8_t data[BE_FH_MAX];
};

struct be_cred {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups;
	uint32_t groups[BE_MAX_GROUPS];
	/*
	 * Not an identity but the other thing the export rule decides per
	 * caller (`async`, docs/exports.md): this caller's changes to names
	 * and attributes (create, remove, rename, link, setattr) may be
	 * answered before they are on stable storage. Data keeps its promises:
	 * write's how and commit sync as always.
	 */
	bool async;
};

enum be_ftype {
	BE_REG = 1,
	BE_DIR = 2,
	BE_BLK = 3,
	BE_CHR = 4,
	BE_LNK = 5,
	BE_SOCK = 6,
	BE_FIFO = 7,
};

struct be_attr {
	enum be_ftype type;
	uint32_t mode; /* permission bits incl. suid/sgid/sticky (07777) */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t space_used;
	uint32_t rdev_major;
	uint32_t rdev_minor;
	uint64_t fsid_major;
	uint64_t fsid_minor;
	uint64_t fileid; /* unique within the export, stable */
	uint64_t change; /* changes on every modification of data or metadata */
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
	struct timespec btime; /* zero when unknown */
};

/* What SETATTR (and CREATE's attributes) change. */
enum be_sattr_mask {
	BE_SET_MODE = 1 << 0,
	BE_SET_UID = 1 << 1,
	BE_SET_GID = 1 << 2,
	BE_SET_SIZE = 1 << 3,
	BE_SET_ATIME = 1 << 4,	   /* to sattr.atime */
	BE_SET_ATIME_NOW = 1 << 5, /* to the server's time */
	BE_SET_MTIME = 1 << 6,
	BE_SET_MTIME_NOW = 1 << 7,
};

struct be_sattr {
	uint32_t mask;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct timespec atime;
	struct timespec mtime;
};

/* Directory change info for CREATE/REMOVE/RENAME/LINK (change_info4). */
struct be_dirchange {
	bool atomic; /* before/after were taken with no other change in between */
	uint64_t before;
	uint64_t after;
};

enum be_stable { BE_UNSTABLE = 0, BE_DATA_SYNC = 1, BE_FILE_SYNC = 2 };

struct be_statfs {
	uint64_t files_total;
	uint64_t files_free;
	uint64_t files_avail;
	uint64_t space_total;
	uint64_t space_free;
	uint64_t space_avail;
	uint32_t name_max;
	uint64_t max_filesize;
	uint32_t max_link;
};

/* One directory entry for readdir's callback. cookie resumes *after* this entry. */
struct be_dirent {
	const char *name;
	uint32_t namelen;
	uint64_t cookie; /* never 0, 1 or 2 (reserved by NFSv4) */
	uint64_t fileid;
	enum be_ftype type;
	/*
	 * The entry's handle and attributes, as lookup would give them, so that
	 * READDIR need not look each name up again; NULL when the backend did
	 * not get them (the caller then looks the name up).
	 */
	const struct be_fh *fh;
	const struct be_attr *attr;
	/*
	 * Or, with fh and attr NULL, the backend may get them on demand, more
	 * cheaply than lookup can (vfs: from the directory it holds open):
	 * lookup(ent, ...) is then non-NULL and may be called during the
	 * callback only; 0 or -errno as lookup.
	 */
	int (*lookup)(const struct be_dirent *ent, struct be_fh *fh, struct be_attr *attr);
	void *lookup_ctx; /* the backend's */
};

/* Returns true to continue, false to stop (the entry was not consumed). */
typedef bool (*be_readdir_fn)(void *ctx, const struct be_dirent *ent);

/* What a backend has done so far for durability (backend_ops.stats). */
struct be_stats {
	uint64_t meta_syncs; /* of names and attributes: create, remove, rename, link, setattr */
	uint64_t data_syncs; /* of data: write with BE_DATA_SYNC or BE_FILE_SYNC, commit */
};

struct backend;

/* A local user wants fh, which the backend lets nfs4/ delegate (backend_ops.deleg_get). */
typedef void (*be_deleg_break_fn)(void *ctx, struct backend *be, const struct be_fh *fh,
				  bool forced);

struct backend_ops {
	const char *name;
	/* The export's root. */
	int (*root)(struct backend *be, struct be_fh *out);
	int (*getattr)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		       struct be_attr *out);
	int (*setattr)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		       const struct be_sattr *sattr, struct be_attr *out);
	/*
	 * May cross into a subdirectory only; ".." is lookupp. attr may be NULL
	 * when only the handle is wanted (vfs may answer from its name cache,
	 * and then, when attr is wanted, with a statx of the object's cached fd).
	 */
	int (*lookup)(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, struct be_fh *out, struct be_attr *attr);
	/* The parent of dir; -ENOENT at the export root. */
	int (*lookupp)(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		       struct be_fh *out, struct be_attr *attr);
	/* mode: R_OK/W_OK/X_OK bits as for access(2); 0 or -EACCES. */
	int (*access)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      int mode);
	int (*read)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		    uint64_t offset, void *buf, size_t len, size_t *got, bool *eof);
	/* *committed: how stable the data is now (≥ how). */
	int (*write)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		     uint64_t offset, const void *buf, size_t len, enum be_stable how,
		     size_t *written, enum be_stable *committed);
	/*
	 * Optional: write of head[0..headlen) followed by pipe_len bytes read
	 * from the pipe (a WRITE's data left in a pipe by the rpc layer), so
	 * they reach the file without passing through our memory (vfs: splice).
	 * Same semantics and results as write; on failure the pipe may hold
	 * any part of what it had, except -EOPNOTSUPP (this file cannot take
	 * it so): nothing was read from the pipe, and the caller copies it out
	 * and calls write, as it does when this op is absent.
	 */
	int (*write_pipe)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
			  uint64_t offset, const void *head, size_t headlen, int pipe,
			  size_t pipe_len, enum be_stable how, size_t *written,
			  enum be_stable *committed);
	int (*commit)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      uint64_t offset, uint64_t count);
	/*
	 * Creates name in dir: type BE_REG (exclusive: -EEXIST if present), BE_DIR,
	 * BE_LNK (target), BE_BLK/BE_CHR (rdev), BE_SOCK, BE_FIFO, with the
	 * attributes in sattr (mode at least). Returns the new object's handle and
	 * attributes and the directory's change info.
	 */
	int (*create)(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, enum be_ftype type, const struct be_sattr *sattr,
		      const char *target, uint32_t rdev_major, uint32_t rdev_minor,
		      struct be_fh *out, struct be_attr *attr, struct be_dirchange *dc);
	int (*remove)(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, struct be_dirchange *dc);
	int (*rename)(struct backend *be, const struct be_cred *cred, const struct be_fh *sdir,
		      const char *sname, const struct be_fh *ddir, const char *dname,
		      struct be_dirchange *sdc, struct be_dirchange *ddc);
	int (*link)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		    const struct be_fh *ddir, const char *dname, struct be_dirchange *dc);
	/* Writes the target (not NUL-terminated) into buf; *len in: capacity, out: length. */
	int (*readlink)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
			char *buf, size_t *len);
	/*
	 * Calls fn for each entry after cookie (0: from the start), without "."
	 * and "..", until fn returns false or the directory ends (*eof). Cookies
	 * stay valid while the directory is not modified; *verifier changes when
	 * a cookie may have become invalid.
	 */
	int (*readdir)(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		       uint64_t cookie, be_readdir_fn fn, void *ctx, uint64_t *verifier, bool *eof);
	int (*statfs)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      struct be_statfs *out);
	/*
	 * Optional (NULL where nobody else can see the storage, as in mem):
	 * mirror NFS byte-range locks onto the object, so local processes and
	 * NFS clients exclude each other (vfs: open file description locks).
	 * ctx stands for one lock owner on one file: its locks are replaced,
	 * split and merged like POSIX locks of one owner. lock returns -EAGAIN
	 * when someone outside NFS holds a conflicting lock and -ERANGE when
	 * the range cannot be represented; lock_close drops all of ctx's locks.
	 */
	int (*lock_open)(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
			 void **ctx);
	int (*lock)(struct backend *be, void *ctx, bool write, uint64_t start, uint64_t end);
	int (*unlock)(struct backend *be, void *ctx, uint64_t start, uint64_t end);
	void (*lock_close)(struct backend *be, void *ctx);
	/* Handles valid across a restart of nfs4d (vfs with CAP_DAC_READ_SEARCH). */
	bool (*persistent_handles)(struct backend *be);
	/*
	 * Optional. True when nothing but nfs4d reaches the data (mem), so a
	 * delegation can be broken only through nfs4d and is safe to grant.
	 * Absent: local users may change files behind our back (vfs).
	 */
	bool (*private_data)(struct backend *be);
	/*
	 * Optional: delegations on storage others reach too (vfs: fcntl
	 * leases). deleg_get takes what keeps local users off fh while a
	 * delegation is out (write: no other opens at all; else: no opens for
	 * writing) and returns -EAGAIN when someone has the file open in a way
	 * that conflicts; *attr gets the file's attributes, read once the
	 * lease is in place (so a local change before it is in them, and any
	 * after it breaks it). When a local user wants the file, the backend calls the
	 * watcher's fn with the file's handle (forced false: recall the
	 * delegations on it); when the kernel is about to let that user in anyway
	 * (vfs: lease-break-time), once more with forced true (revoke them).
	 * deleg_broken says whether that already happened to handle. deleg_put
	 * lets go; it never blocks. deleg_watch sets the watcher (fn NULL: none,
	 * and waits for a call in progress to end); fn runs on the backend's own
	 * thread, holding none of its locks, and not any more once
	 * deleg_watch(be, NULL, NULL) has returned.
	 */
	int (*deleg_get)(struct backend *be, const struct be_fh *fh, bool write, void **handle,
			 struct be_attr *attr);
	bool (*deleg_broken)(struct backend *be, void *handle);
	void (*deleg_put)(struct backend *be, void *handle);
	void (*deleg_watch)(struct backend *be, be_deleg_break_fn fn, void *ctx);
	/* Optional (NULL where nothing is ever synced, as in mem): counters since creation. */
	void (*stats)(struct backend *be, struct be_stats *out);
	void (*destroy)(struct backend *be);
};

/* Every backend starts with this, so nfs4/ can reach the ops. */
struct backend {
	const struct backend_ops *ops;
};

/*
 * One request (a COMPOUND) runs on the calling thread from be_request_begin()
 * to be_request_end(). Within it a backend may answer from what it learnt
 * earlier in the same request without checking again for changes others
 * made since (vfs: its name cache drains inotify once per request, not once
 * per LOOKUP; a statx of an object seen earlier in the request stands for a
 * new one until the thread changes something, vfs_seen.c): a request's
 * operations can all be placed at that one moment.
 * Outside a request every call checks afresh.
 */
void be_request_begin(void);
void be_request_end(void);
/* This thread's request (unique on the thread), or 0 outside one. */
uint64_t be_request_current(void);

/* be's counters (backend_ops.stats); all zero for a backend that never syncs (mem). */
void be_stats_get(struct backend *be, struct be_stats *out);

/* Creates a backend over a directory (vfs) or an empty tree (mem; path names it only). */
int be_vfs_create(const char *path, struct backend **out);
int be_mem_create(const char *path, struct backend **out);
/* By name ("vfs" or "mem"); -EINVAL for an unknown name. */
int be_create(const char *kind, const char *path, struct backend **out);

#endif
