/*
 * The vfs backend (vfs.h): a local directory exported through backend_ops.
 * This file: creation and destruction, the ops table, and the namespace
 * operations (lookup, lookupp, create, remove, rename, link). The rules every
 * operation follows are in vfs_internal.h; handles in vfs_handle.c,
 * credentials in vfs_cred.c.
 *
 * Directory change info is never atomic: the before and after values are read
 * with separate statx calls around the operation, and a local process (or
 * another worker) may change the directory in between.
 *
 * Nested mounts are not exported: lookup refuses to cross into another mount
 * (openat2 RESOLVE_NO_XDEV, and a device/mount id check on every new handle),
 * like knfsd without "crossmnt".
 *
 * Namespace changes are on stable storage before they are reported done:
 * create, remove, rename and link fsync the directories whose names changed
 * (sync_dir), so a reply the client saw survives a crash of the machine.
 * On the journaling filesystems this runs on (ext4, xfs, btrfs) that also
 * commits the new or changed inode, which is part of the same transaction.
 * Requests that change one directory at the same time share its fsync
 * (vfs_gcommit.h). A caller whose export rule is `async` (be_cred.async)
 * is answered without it: the kernel writes the change back in its own time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend/vfs.h"
#include "backend/vfs_gcommit.h"
#include "backend/vfs_internal.h"
#include "util/blockhint.h"
#include "util/log.h"

#define EXT4_MAGIC 0xEF53
#define XFS_MAGIC 0x58465342
#define BTRFS_MAGIC 0x9123683E

void vfs_proc_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

int vfs_reopen(int fd, int flags)
{
	char path[32];
	int r;

	vfs_proc_path(fd, path);
	r = open(path, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? -errno : r;
}

static int check_name(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, BE_NAME_MAX + 1);
	if (n == 0 || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (n > BE_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static void dirchange(struct be_dirchange *dc, uint64_t before, uint64_t after)
{
	if (!dc)
		return;
	dc->atomic = false;
	dc->before = before;
	dc->after = after;
}

/* Resolves a handle that must be a directory; *ent is left alone on failure. */
static int open_dir(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **ent,
		    struct statx *stx)
{
	struct vfs_fdent *e;
	int err = vfs_handle_get(vb, fh, &e, stx);

	if (err)
		return err;
	if (!S_ISDIR(stx->stx_mode)) {
		vfs_handle_put(e);
		return -ENOTDIR;
	}
	*ent = e;
	return 0;
}

/*
 * open_dir() for a directory whose names are about to change; *before gets
 * its change attribute for the change info.
 */
static int open_dir_change(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **ent,
			   struct statx *stx, uint64_t *before)
{
	int err = open_dir(vb, fh, ent, stx);

	if (!err)
		*before = vfs_change_get(vb, stx);
	return err;
}

/* After a change of names in the directory open as dfd: its new change attribute, and dc. */
static void dir_changed(struct vfs_backend *vb, int dfd, struct statx *stx, uint64_t before,
			struct be_dirchange *dc)
{
	vfs_change_bump(vb, dfd, stx);
	dirchange(dc, before, vfs_change_get(vb, stx));
}

struct dir_sync {
	struct vfs_backend *vb;
	int dfd;
};

/*
 * Makes the names in the directory open (O_PATH) as dfd durable: fsync needs
 * a real open file, which the server can make of any directory when it is
 * root; an unprivileged server that cannot read the directory syncs the
 * export's whole filesystem instead.
 */
static int sync_dir_now(void *arg)
{
	struct dir_sync *ds = arg;
	struct vfs_backend *vb = ds->vb;
	int fd, err = 0;

	vfs_cred_leave(&vb->cred);
	atomic_fetch_add_explicit(&vb->meta_syncs, 1, memory_order_relaxed);
	fd = vfs_reopen(ds->dfd, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		if (fsync(fd) != 0)
			err = -errno;
		close(fd);
		return err;
	}
	fd = vfs_reopen(vb->root_fd, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	if (syncfs(fd) != 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * sync_dir_now() of the directory open as dfd (stx: its statx), shared with
 * the other requests that need the same directory synced at the same time
 * (vfs_gcommit.h): one fsync commits all their changes. Nothing for an
 * `async` caller.
 */
static int sync_dir(struct vfs_backend *vb, const struct be_cred *cred, int dfd,
		    const struct statx *stx)
{
	struct dir_sync ds = {.vb = vb, .dfd = dfd};

	if (cred->async)
		return 0;
	block_hint(); /* let the others come and share the sync */
	return vfs_gcommit_sync(vb->gcommit, makedev(stx->stx_dev_major, stx->stx_dev_minor),
				stx->stx_ino, sync_dir_now, &ds);
}

/* Volatile handles: the object stx describes lost a name, perhaps its last. */
static void forget_victim(struct vfs_backend *vb, const struct statx *stx)
{
	vfs_handle_forget(vb, makedev(stx->stx_dev_major, stx->stx_dev_minor), stx->stx_ino);
}

/* An O_PATH fd of name in dirfd itself (never through a symlink, never into another mount). */
static int open_child(struct vfs_backend *vb, int dirfd, const char *name, int extra)
{
	int fd;

	if (vb->have_openat2) {
		struct open_how how = {
			.flags = (uint64_t)(O_PATH | O_NOFOLLOW | O_CLOEXEC | extra),
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				   RESOLVE_NO_XDEV,
		};

		fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	} else {
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | extra);
	}
	return fd < 0 ? -errno : fd;
}

/* Handle and attributes of the object open as fd (O_PATH). */
static int describe(struct vfs_backend *vb, int fd, struct be_fh *out, struct be_attr *attr)
{
	struct statx stx;
	int err = vfs_statx_fd(fd, &stx);

	if (!err && out)
		err = vfs_handle_make(vb, fd, &stx, out);
	if (!err && attr)
		vfs_attr_fill(vb, &stx, attr);
	return err;
}

static int vfs_root(struct backend *be, struct be_fh *out)
{
	*out = vfs_of(be)->root_fh;
	return 0;
}

/*
 * The open half of lookup_at(): opens name in dfd (as the caller entered) and
 * describes it; with gen, its fd is cached under its handle.
 */
static int open_found(struct vfs_backend *vb, int dfd, const char *name, struct be_fh *out,
		      struct be_attr *attr, const uint64_t *gen)
{
	struct statx stx;
	int cfd, err;

	cfd = open_child(vb, dfd, name, 0);
	if (cfd < 0)
		return cfd;
	err = vfs_statx_fd(cfd, &stx);
	if (!err && out)
		err = vfs_handle_make(vb, cfd, &stx, out);
	if (!err && out)
		vfs_seen_put(vb, out, &stx); /* as in vfs_handle_lookup_cached() */
	if (!err && attr)
		vfs_attr_fill(vb, &stx, attr);
	if (!err && gen)
		vfs_handle_remember(vb, out, cfd, *gen, &stx);
	else
		close(cfd);
	return err;
}

/*
 * vfs_lookup_at(); with gen (dfd is proven inside at it), an object already
 * cached is found without opening it, and one that is not gets cached.
 */
static int lookup_at(struct vfs_backend *vb, const struct be_cred *cred, int dfd, const char *name,
		     struct be_fh *out, struct be_attr *attr, const uint64_t *gen)
{
	struct statx stx;
	int err;

	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		return err;
	if (gen && out) {
		err = vfs_handle_lookup_cached(vb, dfd, name, *gen, out, &stx);
		if (err != -EAGAIN) {
			if (!err && attr)
				vfs_attr_fill(vb, &stx, attr);
			return err;
		}
	}
	return open_found(vb, dfd, name, out, attr, gen);
}

int vfs_lookup_at(struct vfs_backend *vb, const struct be_cred *cred, int dfd, const char *name,
		  struct be_fh *out, struct be_attr *attr)
{
	return lookup_at(vb, cred, dfd, name, out, attr, NULL);
}

/*
 * The attributes of a child the name cache knew: a statx of its cached fd
 * (no path walk), or one seen earlier in the request. -errno (e.g. removed
 * since): the caller looks the name up the full way, which says what is wrong.
 */
static int cached_child_attr(struct vfs_backend *vb, const struct be_fh *fh, struct be_attr *attr)
{
	struct vfs_fdent *e;
	struct statx stx;
	int err = vfs_handle_get_seen(vb, fh, &e, &stx);

	if (err)
		return err;
	vfs_attr_fill(vb, &stx, attr);
	vfs_handle_put(e);
	return 0;
}

static int vfs_lookup(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, struct be_fh *out, struct be_attr *attr)
{
	struct vfs_backend *vb = vfs_of(be);
	/* From before dir is proven inside: the child is inside as long as dir is. */
	uint64_t gen = vfs_inside_gen(), token = 0;
	struct vfs_fdent *d;
	struct statx stx;
	int err;

	err = check_name(name);
	if (err)
		return err;
	/*
	 * A cached child of a directory proven inside needs no statx of the
	 * directory: a name found in it means it was not removed. Anything
	 * else (no such name, a removed directory) is answered the full way.
	 */
	d = vfs_handle_proven_dir(vb, dir);
	if (d) {
		/* The name cache may know the handle (vfs_ncache.h); attributes are then its fd's.
		 */
		if (vb->nc) {
			err = vfs_ncache_lookup(vb->nc, dir, cred, name, out, &token);
			if (!err && (!attr || cached_child_attr(vb, out, attr) == 0)) {
				vfs_handle_found(vb, out, gen);
				vfs_handle_put(d);
				return 0;
			}
			if (err == -EAGAIN && !token) {
				vfs_cred_leave(&vb->cred);
				token = vfs_ncache_watch(vb->nc, dir, d->fd);
			}
		}
		err = vfs_cred_enter(&vb->cred, cred);
		if (!err)
			err = vfs_handle_lookup_cached(vb, d->fd, name, gen, out, &stx);
		if (!err && attr)
			vfs_attr_fill(vb, &stx, attr);
		/*
		 * Not known to the fd cache (not cached, a mount point, an error
		 * open_child() will name): open it from the directory held, not
		 * by opening the directory again and repeating that miss.
		 */
		if (err == -EAGAIN)
			err = open_found(vb, d->fd, name, out, attr, &gen);
		vfs_handle_put(d);
		if (!err)
			goto found;
	}
	err = open_dir(vb, dir, &d, &stx);
	if (err)
		return err;
	/* The next operation is usually on what was looked up: keep its fd. */
	err = lookup_at(vb, cred, d->fd, name, out, attr, &gen);
	vfs_handle_put(d);
	if (err)
		return err;
found:
	/* Found under a watch set before the lookup began (token): the cache may keep it. */
	if (token)
		vfs_ncache_add(vb->nc, dir, token, cred, name, out);
	return 0;
}

static int vfs_lookupp(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		       struct be_fh *out, struct be_attr *attr)
{
	struct vfs_backend *vb = vfs_of(be);
	struct statx stx, pstx;
	struct vfs_fdent *d;
	int pfd = -1, err;

	err = open_dir(vb, dir, &d, &stx);
	if (err)
		return err;
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) == vb->root_dev &&
	    stx.stx_ino == vb->root_ino) {
		err = -ENOENT;
		goto out;
	}
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	/* Walking ".." needs search permission on dir, as for the kernel. */
	pfd = openat(d->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
		goto out;
	}
	/* dir may have moved out of the export since it was resolved. */
	err = vfs_statx_fd(pfd, &pstx);
	if (!err)
		err = vfs_handle_check_inside(vb, pfd, &pstx);
	if (!err)
		err = describe(vb, pfd, out, attr);
out:
	if (pfd >= 0)
		close(pfd);
	vfs_handle_put(d);
	return err;
}

/* Makes the object; returns an O_PATH fd of it. Under the caller's credentials. */
static int make_object(struct vfs_backend *vb, int dfd, const char *name, enum be_ftype type,
		       const char *target, uint32_t rdev_major, uint32_t rdev_minor)
{
	char path[32];
	mode_t fmt;
	int fd, pfd;

	/* Owner-only until the requested mode is set, whole, at the end. */
	switch (type) {
	case BE_REG:
		fd = openat(dfd, name, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		vfs_proc_path(fd, path);
		pfd = open(path, O_PATH | O_CLOEXEC);
		pfd = pfd < 0 ? -errno : pfd;
		close(fd);
		return pfd;
	case BE_DIR:
		if (mkdirat(dfd, name, 0700) != 0)
			return -errno;
		return open_child(vb, dfd, name, O_DIRECTORY);
	case BE_LNK:
		if (symlinkat(target, dfd, name) != 0)
			return -errno;
		return open_child(vb, dfd, name, 0);
	case BE_BLK:
	case BE_CHR:
	case BE_SOCK:
	case BE_FIFO:
		fmt = type == BE_BLK	? S_IFBLK
		      : type == BE_CHR	? S_IFCHR
		      : type == BE_SOCK ? S_IFSOCK
					: S_IFIFO;
		if (mknodat(dfd, name, fmt | 0600,
			    (type == BE_BLK || type == BE_CHR) ? makedev(rdev_major, rdev_minor)
							       : 0) != 0)
			return -errno;
		return open_child(vb, dfd, name, 0);
	}
	return -EINVAL;
}

static bool in_group(const struct be_cred *cred, uint32_t gid)
{
	if (cred->gid == gid)
		return true;
	for (uint32_t i = 0; i < cred->ngroups && i < BE_MAX_GROUPS; i++)
		if (cred->groups[i] == gid)
			return true;
	return false;
}

/* The mode a new object ends with when mode was asked for (dir: its parent). */
static uint32_t create_mode(const struct statx *dir, const struct statx *obj,
			    const struct be_cred *cred, uint32_t mode)
{
	if (!(dir->stx_mode & S_ISGID))
		return mode;
	if (S_ISDIR(obj->stx_mode))
		return mode | S_ISGID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && cred->uid != 0 &&
	    !in_group(cred, obj->stx_gid))
		return mode & ~(uint32_t)S_ISGID;
	return mode;
}

static int vfs_create(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, enum be_ftype type, const struct be_sattr *sattr,
		      const char *target, uint32_t rdev_major, uint32_t rdev_minor,
		      struct be_fh *out, struct be_attr *attr, struct be_dirchange *dc)
{
	struct vfs_backend *vb = vfs_of(be);
	struct be_sattr rest = {0};
	struct statx dstx, ostx;
	struct vfs_fdent *d;
	uint64_t before, gen = vfs_inside_gen();
	int ofd = -1, err;

	if (type < BE_REG || type > BE_FIFO)
		return -EINVAL;
	if (type == BE_LNK) {
		if (!target || !target[0])
			return -EINVAL;
		if (strnlen(target, BE_PATH_MAX) >= BE_PATH_MAX)
			return -ENAMETOOLONG;
	}
	err = check_name(name);
	if (err)
		return err;
	if (sattr)
		rest = *sattr;
	/* As mem (and the NFS server's createattrs): no mode asked for is mode 0. */
	if (!(rest.mask & BE_SET_MODE)) {
		rest.mask |= BE_SET_MODE;
		rest.mode = 0;
	}
	if (rest.mode & ~07777u)
		return -EINVAL;
	err = open_dir_change(vb, dir, &d, &dstx, &before);
	if (err)
		return err;
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	ofd = make_object(vb, d->fd, name, type, target, rdev_major, rdev_minor);
	if (ofd < 0) {
		err = ofd;
		goto out;
	}
	/* The creator sets the other attributes (as if it held the new file open for writing). */
	rest.mask &= ~(uint32_t)BE_SET_MODE;
	err = vfs_statx_fd(ofd, &ostx);
	if (!err && rest.mask) {
		err = vfs_setattr_fd(vb, ofd, &ostx, &rest, !cred->async);
		if (!err)
			err = vfs_statx_fd(ofd, &ostx); /* the owner may have changed */
	}
	/*
	 * Then the mode, whole, as the server: the caller owns the object (it
	 * was created exclusively under its fsuid, and only root may have given
	 * it away above), and a chmod by a caller outside the file's group would
	 * drop an inherited set-group-id bit that mkdir/open keep. The set-gid
	 * rules are the kernel's inode_init_owner()/mode_strip_sgid().
	 */
	if (!err && !S_ISLNK(ostx.stx_mode)) {
		struct be_sattr m = {.mask = BE_SET_MODE,
				     .mode = create_mode(&dstx, &ostx, cred, rest.mode)};

		vfs_cred_leave(&vb->cred);
		err = vfs_setattr_fd(vb, ofd, &ostx, &m, !cred->async);
	}
	if (err) {
		/* Undo: the name was created exclusively by this call. */
		if (vfs_cred_enter(&vb->cred, cred) == 0)
			unlinkat(d->fd, name, type == BE_DIR ? AT_REMOVEDIR : 0);
		goto out;
	}
	/* Its statx after the last change serves the handle and the attributes too. */
	err = vfs_change_bump(vb, ofd, &ostx);
	if (!err)
		err = vfs_handle_make(vb, ofd, &ostx, out);
	if (!err && attr)
		vfs_attr_fill(vb, &ostx, attr);
	dir_changed(vb, d->fd, &dstx, before, dc);
	if (!err)
		err = sync_dir(vb, cred, d->fd, &dstx);
	if (!err) {
		/* The next operations are on the new object (WRITE, CLOSE): keep its fd. */
		vfs_handle_remember(vb, out, ofd, gen, NULL);
		ofd = -1;
	}
out:
	if (ofd >= 0)
		close(ofd);
	vfs_handle_put(d);
	return err;
}

/* REMOVE removes a name of any type, directories included (empty ones). */
static int vfs_remove(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		      const char *name, struct be_dirchange *dc)
{
	struct vfs_backend *vb = vfs_of(be);
	struct statx dstx, vstx;
	struct vfs_fdent *d;
	uint64_t before;
	int err;

	err = check_name(name);
	if (err)
		return err;
	err = open_dir_change(vb, dir, &d, &dstx, &before);
	if (err)
		return err;
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	err = vfs_statx(d->fd, name, 0, &vstx);
	if (!err) {
		bool isdir = S_ISDIR(vstx.stx_mode);

		/* Its cached fd goes before the name, which finds it. */
		vfs_handle_unlinked(vb, d->fd, name, &vstx);
		if (unlinkat(d->fd, name, isdir ? AT_REMOVEDIR : 0) != 0) {
			err = -errno;
			/* Replaced by another type in between: once more, the other way. */
			if (err == -EISDIR || err == -ENOTDIR)
				err = unlinkat(d->fd, name, isdir ? 0 : AT_REMOVEDIR) ? -errno : 0;
		}
	}
	if (err == -EEXIST)
		err = -ENOTEMPTY;
	if (err)
		goto out;
	forget_victim(vb, &vstx);
	dir_changed(vb, d->fd, &dstx, before, dc);
	err = sync_dir(vb, cred, d->fd, &dstx);
out:
	vfs_handle_put(d);
	return err;
}

static bool same_inode(const struct statx *a, const struct statx *b)
{
	return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
	       a->stx_dev_minor == b->stx_dev_minor;
}

static int vfs_rename(struct backend *be, const struct be_cred *cred, const struct be_fh *sdir,
		      const char *sname, const struct be_fh *ddir, const char *dname,
		      struct be_dirchange *sdc, struct be_dirchange *ddc)
{
	struct vfs_backend *vb = vfs_of(be);
	struct statx sstx, dstx, vstx, ostx;
	struct vfs_fdent *s = NULL, *d = NULL;
	uint64_t sbefore, dbefore;
	bool victim;
	int sfd, dfd, ofd, err;

	err = check_name(sname);
	if (!err)
		err = check_name(dname);
	if (err)
		return err;
	err = open_dir_change(vb, sdir, &s, &sstx, &sbefore);
	if (!err)
		err = open_dir_change(vb, ddir, &d, &dstx, &dbefore);
	if (!err)
		err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	sfd = s->fd;
	dfd = d->fd;
	victim = vfs_statx(dfd, dname, 0, &vstx) == 0;
	if (victim)
		vfs_handle_unlinked(vb, dfd, dname, &vstx);
	if (renameat(sfd, sname, dfd, dname) != 0)
		err = -errno;
	if (err == -EEXIST)
		err = -ENOTEMPTY;
	if (err)
		goto out;
	if (victim)
		forget_victim(vb, &vstx);
	/* The moved object's ctime changes too (ext4, xfs, btrfs). */
	ofd = open_child(vb, dfd, dname, 0);
	if (ofd >= 0) {
		vfs_change_bump(vb, ofd, &ostx);
		close(ofd);
	}
	/* A directory moved: every "inside the export" verdict is void (also when unsure). */
	if (ofd < 0 || S_ISDIR(ostx.stx_mode))
		vfs_inside_moved();
	vfs_change_bump(vb, sfd, &sstx);
	if (same_inode(&sstx, &dstx)) {
		dirchange(sdc, sbefore, vfs_change_get(vb, &sstx));
		dirchange(ddc, dbefore, vfs_change_get(vb, &sstx));
	} else {
		vfs_change_bump(vb, dfd, &dstx);
		dirchange(sdc, sbefore, vfs_change_get(vb, &sstx));
		dirchange(ddc, dbefore, vfs_change_get(vb, &dstx));
		err = sync_dir(vb, cred, sfd, &sstx);
	}
	if (!err)
		err = sync_dir(vb, cred, dfd, &dstx);
out:
	if (s)
		vfs_handle_put(s);
	if (d)
		vfs_handle_put(d);
	return err;
}

static int vfs_link(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		    const struct be_fh *ddir, const char *dname, struct be_dirchange *dc)
{
	struct vfs_backend *vb = vfs_of(be);
	struct statx ostx, dstx;
	struct vfs_fdent *o = NULL, *d = NULL;
	char path[32];
	uint64_t before;
	int err;

	err = check_name(dname);
	if (err)
		return err;
	err = vfs_handle_get(vb, fh, &o, &ostx);
	if (!err)
		err = open_dir_change(vb, ddir, &d, &dstx, &before);
	if (!err)
		err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	/*
	 * linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH, which a
	 * non-zero fsuid drops; the /proc magic link is the unprivileged way, and
	 * the kernel applies fs.protected_hardlinks to the caller.
	 */
	vfs_proc_path(o->fd, path);
	if (linkat(AT_FDCWD, path, d->fd, dname, AT_SYMLINK_FOLLOW) != 0)
		err = -errno;
	if (err)
		goto out;
	vfs_change_bump(vb, o->fd, NULL);
	dir_changed(vb, d->fd, &dstx, before, dc);
	err = sync_dir(vb, cred, d->fd, &dstx);
out:
	if (o)
		vfs_handle_put(o);
	if (d)
		vfs_handle_put(d);
	return err;
}

static void vfs_stats(struct backend *be, struct be_stats *out)
{
	struct vfs_backend *vb = vfs_of(be);

	out->meta_syncs = atomic_load_explicit(&vb->meta_syncs, memory_order_relaxed);
	out->data_syncs = atomic_load_explicit(&vb->data_syncs, memory_order_relaxed);
}

static bool vfs_persistent_handles(struct backend *be)
{
	return vfs_of(be)->persistent;
}

static void vfs_destroy(struct backend *be)
{
	struct vfs_backend *vb = vfs_of(be);

	if (!vb)
		return;
	vfs_lease_fini(vb); /* first: its thread reports into nfs4/ with handles */
	vfs_ncache_destroy(vb->nc);
	vfs_handle_fini(vb);
	vfs_change_fini(vb);
	vfs_gcommit_destroy(vb->gcommit);
	vfs_cred_fini(&vb->cred);
	if (vb->root_fd >= 0)
		close(vb->root_fd);
	if (vb->mount_fd >= 0)
		close(vb->mount_fd);
	free(vb);
}

static const struct backend_ops vfs_ops = {
	.name = "vfs",
	.root = vfs_root,
	.getattr = vfs_getattr,
	.setattr = vfs_setattr,
	.lookup = vfs_lookup,
	.lookupp = vfs_lookupp,
	.access = vfs_access,
	.read = vfs_read,
	.write = vfs_write,
	.write_pipe = vfs_write_pipe,
	.commit = vfs_commit,
	.create = vfs_create,
	.remove = vfs_remove,
	.rename = vfs_rename,
	.link = vfs_link,
	.readlink = vfs_readlink,
	.readdir = vfs_readdir,
	.statfs = vfs_statfs,
	.persistent_handles = vfs_persistent_handles,
	.lock_open = vfs_lock_open,
	.lock = vfs_lock,
	.unlock = vfs_unlock,
	.lock_close = vfs_lock_close,
	.deleg_get = vfs_deleg_get,
	.deleg_broken = vfs_deleg_broken,
	.deleg_put = vfs_deleg_put,
	.deleg_watch = vfs_deleg_watch,
	.stats = vfs_stats,
	.destroy = vfs_destroy,
};

static bool probe_openat2(int dirfd)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
	int fd = (int)syscall(SYS_openat2, dirfd, ".", &how, sizeof(how));

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int vfs_create_backend(const char *path, bool want_persistent, struct backend **out)
{
	struct vfs_backend *vb;
	struct statfs sf;
	int err, fd;

	*out = NULL;
	vb = calloc(1, sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	vb->be.ops = &vfs_ops;
	vb->mount_fd = -1;
	vb->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (vb->root_fd < 0) {
		err = -errno;
		free(vb);
		return err;
	}
	err = vfs_cred_init(&vb->cred);
	if (!err)
		err = vfs_change_init(vb);
	if (!err)
		err = vfs_gcommit_create(&vb->gcommit);
	if (!err)
		err = vfs_lease_init(vb);
	if (err)
		goto fail;
	/* Reopening handles' fds goes through /proc/self/fd. */
	fd = vfs_reopen(vb->root_fd, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		err = fd;
		log_err("vfs", "export=%s: /proc/self/fd is not usable (%s)", path, strerror(-err));
		goto fail;
	}
	close(fd);
	if (fstatfs(vb->root_fd, &sf) != 0) {
		err = -errno;
		goto fail;
	}
	vb->fsid_major = (uint32_t)sf.f_fsid.__val[0];
	vb->fsid_minor = (uint32_t)sf.f_fsid.__val[1];
	vb->stable_cookies =
		sf.f_type == EXT4_MAGIC || sf.f_type == XFS_MAGIC || sf.f_type == BTRFS_MAGIC;
	vb->have_openat2 = probe_openat2(vb->root_fd);
	err = vfs_handle_init(vb, want_persistent);
	if (err)
		goto fail;
	/* Names are cached under persistent handles only; without inotify, nothing is. */
	if (vb->persistent && vfs_ncache_create(&vb->nc) != 0)
		log_warn("vfs", "export=%s: no name cache (inotify unavailable)", path);
	log_info("vfs", "export=%s handles=%s openat2=%s cookies=%s namecache=%s", path,
		 vb->persistent ? "persistent" : "volatile", vb->have_openat2 ? "yes" : "no",
		 vb->stable_cookies ? "stable" : "verified", vb->nc ? "yes" : "no");
	*out = &vb->be;
	return 0;
fail:
	vfs_destroy(&vb->be);
	return err;
}

int be_vfs_create(const char *path, struct backend **out)
{
	const char *v = getenv("NFS4D_VFS_VOLATILE");

	return vfs_create_backend(path, !(v && v[0] == '1'), out);
}

int be_vfs_create_volatile(const char *path, struct backend **out)
{
	return vfs_create_backend(path, false, out);
}
