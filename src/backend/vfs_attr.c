/*
 * Attributes of the vfs backend: statx to struct be_attr, the change
 * attribute, SETATTR, ACCESS and STATFS.
 *
 * The change attribute is the ctime as (sec << 30 | nsec) — nsec < 2^30, so
 * the value grows with ctime and is unique per nanosecond — plus a bump kept
 * in a small in-memory table. ext4/xfs/btrfs store ctime with ns resolution,
 * but the kernel stamps it from a clock that advances once per tick (a few ms)
 * unless it has multigrain timestamps (6.13+), so two modifications within
 * one tick can leave ctime unchanged. Every modification made through this
 * backend bumps the object's slot: (dev, ino, ctime seen after the change,
 * bump). While ctime stays what the slot recorded, the value is ctime + bump,
 * so each of our modifications yields a new value; once ctime moves on the
 * slot no longer applies. Limits (documented for nfs4/, which should advertise
 * NFS4_CHANGE_TYPE_IS_UNDEFINED, not monotonic): a modification by a local
 * process within the same tick as the previous one is invisible; a slot
 * overwritten by another object (direct mapped) or a restart makes the value
 * fall back to plain ctime, i.e. differ from before — a spurious change, never
 * a missed one, except within the same tick as the last change.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend/vfs_internal.h"
#include "util/hash.h"

int vfs_statx(int dirfd, const char *name, int flags, struct statx *stx)
{
	flags |= AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT;
	if (name[0] == '\0')
		flags |= AT_EMPTY_PATH;
	if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, stx) != 0)
		return -errno;
	return 0;
}

enum be_ftype vfs_ftype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return BE_DIR;
	case S_IFBLK:
		return BE_BLK;
	case S_IFCHR:
		return BE_CHR;
	case S_IFLNK:
		return BE_LNK;
	case S_IFSOCK:
		return BE_SOCK;
	case S_IFIFO:
		return BE_FIFO;
	default:
		return BE_REG;
	}
}

/* ---- change attribute ---- */

static uint64_t ctime_value(const struct statx *stx)
{
	return ((uint64_t)stx->stx_ctime.tv_sec << 30) | stx->stx_ctime.tv_nsec;
}

static size_t change_slot(uint64_t dev, uint64_t ino)
{
	return hash_u64(ino ^ hash_u64(dev)) % VFS_CHANGE_SLOTS;
}

int vfs_change_init(struct vfs_backend *vb)
{
	vb->change = calloc(VFS_CHANGE_SLOTS, sizeof(*vb->change));
	if (!vb->change)
		return -ENOMEM;
	for (int i = 0; i < VFS_CHANGE_LOCKS; i++)
		pthread_mutex_init(&vb->change_lock[i], NULL);
	return 0;
}

void vfs_change_fini(struct vfs_backend *vb)
{
	if (!vb->change)
		return;
	for (int i = 0; i < VFS_CHANGE_LOCKS; i++)
		pthread_mutex_destroy(&vb->change_lock[i]);
	free(vb->change);
	vb->change = NULL;
}

uint64_t vfs_change_get(struct vfs_backend *vb, const struct statx *stx)
{
	uint64_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor), ino = stx->stx_ino;
	uint64_t cval = ctime_value(stx), v = cval;
	size_t i = change_slot(dev, ino);
	struct vfs_change_slot *s = &vb->change[i];

	pthread_mutex_lock(&vb->change_lock[i % VFS_CHANGE_LOCKS]);
	if (s->dev == dev && s->ino == ino && s->ctime == cval)
		v += s->bump;
	pthread_mutex_unlock(&vb->change_lock[i % VFS_CHANGE_LOCKS]);
	return v;
}

int vfs_change_bump(struct vfs_backend *vb, int fd, struct statx *out)
{
	struct statx stx;
	uint64_t dev, ino, cval;
	size_t i;
	int err = vfs_statx_fd(fd, &stx);

	if (err)
		return err;
	dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	ino = stx.stx_ino;
	cval = ctime_value(&stx);
	i = change_slot(dev, ino);
	struct vfs_change_slot *s = &vb->change[i];

	pthread_mutex_lock(&vb->change_lock[i % VFS_CHANGE_LOCKS]);
	if (s->dev == dev && s->ino == ino && s->ctime == cval) {
		s->bump++;
	} else {
		s->dev = dev;
		s->ino = ino;
		s->ctime = cval;
		s->bump = 1;
	}
	pthread_mutex_unlock(&vb->change_lock[i % VFS_CHANGE_LOCKS]);
	if (out)
		*out = stx;
	return 0;
}

void vfs_attr_fill(struct vfs_backend *vb, const struct statx *stx, struct be_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = vfs_ftype(stx->stx_mode);
	a->mode = stx->stx_mode & 07777;
	a->nlink = stx->stx_nlink;
	a->uid = stx->stx_uid;
	a->gid = stx->stx_gid;
	a->size = stx->stx_size;
	a->space_used = stx->stx_blocks * 512;
	a->rdev_major = stx->stx_rdev_major;
	a->rdev_minor = stx->stx_rdev_minor;
	a->fsid_major = vb->fsid_major;
	a->fsid_minor = vb->fsid_minor;
	a->fileid = stx->stx_ino;
	a->change = vfs_change_get(vb, stx);
	a->atime.tv_sec = stx->stx_atime.tv_sec;
	a->atime.tv_nsec = stx->stx_atime.tv_nsec;
	a->mtime.tv_sec = stx->stx_mtime.tv_sec;
	a->mtime.tv_nsec = stx->stx_mtime.tv_nsec;
	a->ctime.tv_sec = stx->stx_ctime.tv_sec;
	a->ctime.tv_nsec = stx->stx_ctime.tv_nsec;
	if (stx->stx_mask & STATX_BTIME) {
		a->btime.tv_sec = stx->stx_btime.tv_sec;
		a->btime.tv_nsec = stx->stx_btime.tv_nsec;
	}
}

/* ---- setattr ---- */

static struct timespec sattr_time(uint32_t mask, uint32_t set, uint32_t now,
				  const struct timespec *t)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = UTIME_OMIT};

	if (mask & now)
		ts.tv_nsec = UTIME_NOW;
	else if (mask & set)
		ts = *t;
	return ts;
}

/*
 * Applies sa to the object open as fd (O_PATH), under the caller's
 * credentials (entered by the caller), so the kernel decides who may do what.
 * Order as knfsd's: size first (it needs write permission, which a mode
 * change in the same request might take away), then owner (a chown clears
 * set-id bits), then mode, then times (a truncate would otherwise overwrite
 * explicit times). Not atomic: a failure leaves what was done before it.
 */
int vfs_setattr_fd(struct vfs_backend *vb, int fd, const struct statx *stx,
		   const struct be_sattr *sa, bool durable)
{
	char path[32];

	if (sa->mask &
	    ~(uint32_t)(BE_SET_MODE | BE_SET_UID | BE_SET_GID | BE_SET_SIZE | BE_SET_ATIME |
			BE_SET_ATIME_NOW | BE_SET_MTIME | BE_SET_MTIME_NOW))
		return -EINVAL;
	if ((sa->mask & BE_SET_MODE) && (sa->mode & ~07777u))
		return -EINVAL;
	if (sa->mask & BE_SET_SIZE) {
		if (S_ISDIR(stx->stx_mode))
			return -EISDIR;
		if (!S_ISREG(stx->stx_mode))
			return -EINVAL;
		if (sa->size > INT64_MAX)
			return -EFBIG;
		int wfd = vfs_reopen_io(vb, fd, stx, O_WRONLY, false);

		if (wfd < 0)
			return wfd;
		/* Durable before the reply (docs/recovery.md): no COMMIT covers a
		 * SETATTR, so a size change the client saw must survive a crash
		 * (unless its export rule is `async`). */
		int r = ftruncate(wfd, (off_t)sa->size);

		if (r == 0 && durable) {
			atomic_fetch_add_explicit(&vb->meta_syncs, 1, memory_order_relaxed);
			r = fsync(wfd);
		}
		int err = r ? -errno : 0;

		close(wfd);
		if (err)
			return err;
	}
	if (sa->mask & (BE_SET_UID | BE_SET_GID)) {
		uid_t uid = (sa->mask & BE_SET_UID) ? sa->uid : (uid_t)-1;
		gid_t gid = (sa->mask & BE_SET_GID) ? sa->gid : (gid_t)-1;

		if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0)
			return -errno;
	}
	/* Linux symlinks have no mode of their own; knfsd ignores it the same way. */
	if ((sa->mask & BE_SET_MODE) && !S_ISLNK(stx->stx_mode)) {
		vfs_proc_path(fd, path);
		if (chmod(path, sa->mode) != 0)
			return -errno;
	}
	if (sa->mask & (BE_SET_ATIME | BE_SET_ATIME_NOW | BE_SET_MTIME | BE_SET_MTIME_NOW)) {
		struct timespec ts[2] = {
			sattr_time(sa->mask, BE_SET_ATIME, BE_SET_ATIME_NOW, &sa->atime),
			sattr_time(sa->mask, BE_SET_MTIME, BE_SET_MTIME_NOW, &sa->mtime),
		};

		for (int i = 0; i < 2; i++)
			if (ts[i].tv_nsec != UTIME_OMIT && ts[i].tv_nsec != UTIME_NOW &&
			    (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000L))
				return -EINVAL;
		if (utimensat(fd, "", ts, AT_EMPTY_PATH) != 0)
			return -errno;
	}
	return 0;
}

int vfs_getattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		struct be_attr *out)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_fdent *e;
	struct statx stx;
	int err;

	/* GETATTR needs no permission on the object itself (as in knfsd). */
	err = vfs_handle_get_seen(vb, fh, &e, &stx);
	if (err)
		return err;
	vfs_attr_fill(vb, &stx, out);
	vfs_handle_put(e);
	return 0;
}

int vfs_setattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		const struct be_sattr *sattr, struct be_attr *out)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_fdent *e;
	struct statx stx;
	int err;

	err = vfs_handle_get(vb, fh, &e, &stx);
	if (err)
		return err;
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	err = vfs_setattr_fd(vb, e->fd, &stx, sattr, !cred->async);
	if (sattr->mask)
		vfs_change_bump(vb, e->fd, &stx);
	if (out)
		vfs_attr_fill(vb, &stx, out);
out:
	vfs_handle_put(e);
	return err;
}

/* The kernel's rule, for kernels without faccessat2 (< 5.8). */
static int access_bits(const struct statx *stx, const struct be_cred *cred, int mode)
{
	uint32_t m = stx->stx_mode, bits;
	bool in_group = stx->stx_gid == cred->gid;

	if (cred->uid == 0) {
		if ((mode & X_OK) && !S_ISDIR(m) && !(m & 0111))
			return -EACCES;
		return 0;
	}
	for (uint32_t i = 0; i < cred->ngroups && i < BE_MAX_GROUPS; i++)
		in_group |= stx->stx_gid == cred->groups[i];
	if (stx->stx_uid == cred->uid)
		bits = (m >> 6) & 7;
	else if (in_group)
		bits = (m >> 3) & 7;
	else
		bits = m & 7;
	return ((uint32_t)mode & ~bits) ? -EACCES : 0;
}

int vfs_access(struct backend *be, const struct be_cred *cred, const struct be_fh *fh, int mode)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_fdent *e;
	struct statx stx;
	int err;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	/* The kernel's check below reads the inode itself: the statx only proves fh valid. */
	err = vfs_handle_get_seen(vb, fh, &e, &stx);
	if (err)
		return err;
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	/* AT_EACCESS: check with the fsuid/fsgid/groups just set, not the real ids. */
	if (syscall(SYS_faccessat2, e->fd, "", mode, AT_EACCESS | AT_EMPTY_PATH) != 0) {
		err = -errno;
		if (err == -ENOSYS)
			err = access_bits(&stx, cred, mode);
		else if (err == -EPERM)
			err = -EACCES;
	}
out:
	vfs_handle_put(e);
	return err;
}

int vfs_statfs(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	       struct be_statfs *out)
{
	struct vfs_backend *vb = vfs_of(be);
	struct statx stx;
	struct statfs sf;
	struct vfs_fdent *e;
	long v;
	int fd, err;

	err = vfs_handle_get(vb, fh, &e, &stx);
	if (err)
		return err;
	fd = e->fd;
	if (fstatfs(fd, &sf) != 0) {
		err = -errno;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->files_total = sf.f_files;
	out->files_free = sf.f_ffree;
	out->files_avail = sf.f_ffree; /* Linux has no separate count for unprivileged */
	out->space_total = (uint64_t)sf.f_blocks * (uint64_t)sf.f_frsize;
	out->space_free = (uint64_t)sf.f_bfree * (uint64_t)sf.f_frsize;
	out->space_avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_frsize;
	out->name_max = sf.f_namelen > 0 && sf.f_namelen < BE_NAME_MAX ? (uint32_t)sf.f_namelen
								       : BE_NAME_MAX;
	/*
	 * glibc answers FILESIZEBITS from a table of filesystem types and says 32
	 * for any it does not know, tmpfs among them, whose real limit is the
	 * kernel's (MAX_LFS_FILESIZE): a Linux client would refuse to grow a file
	 * past 2 GiB on the strength of that guess.
	 */
	v = sf.f_type == TMPFS_MAGIC ? 64 : fpathconf(fd, _PC_FILESIZEBITS);
	out->max_filesize = v > 1 && v < 64 ? (UINT64_C(1) << (v - 1)) - 1 : INT64_MAX;
	v = fpathconf(fd, _PC_LINK_MAX);
	out->max_link = v > 0 && v < UINT32_MAX ? (uint32_t)v : UINT32_MAX;
out:
	vfs_handle_put(e);
	return err;
}
