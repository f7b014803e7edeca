/*
 * Data and directory reading of the vfs backend: read, write, commit,
 * readlink, readdir.
 *
 * Every call opens the file anew from its handle's cached O_PATH fd
 * (reopening it through /proc/self/fd under the caller's credentials, so the
 * kernel checks the access mode) and closes it before returning. Only the
 * O_PATH fd is cached: an open data fd kept around would take or break
 * fcntl leases (delegations) and outlive the permission check it passed.
 * A file under a write delegation is the exception: its I/O goes through the
 * lease's fd (vfs_lease.c), since a fresh open would break the lease.
 *
 * Readdir cookies are the filesystem's d_off plus 3, so that they never take
 * the values 0, 1 and 2 NFSv4 reserves (ext4's d_off is a hash of the name,
 * which stays valid whatever else is added or removed; tmpfs/btrfs use small
 * positions, which +3 keeps out of the reserved range). Resuming is
 * lseek(d_off). The verifier is a constant on filesystems whose cookies are
 * stable (ext4, xfs, btrfs), else the directory's change attribute.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/vfs_internal.h"
#include "util/blockhint.h"

#define VFS_COOKIE_BIAS 3
#define VFS_WRITE_BEHIND (256u * 1024) /* UNSTABLE writes this large start their writeback */
#define VFS_READDIR_BUF 16384
#define VFS_STABLE_VERIFIER UINT64_C(0x6e66733476667331) /* "nfs4vfs1" */

/* Regular files only: -EISDIR for a directory, -EINVAL for anything else. */
static int need_reg(const struct statx *stx)
{
	if (S_ISREG(stx->stx_mode))
		return 0;
	return S_ISDIR(stx->stx_mode) ? -EISDIR : -EINVAL;
}

int vfs_reopen_io(struct vfs_backend *vb, int pfd, const struct statx *stx, int flags,
		  bool keep_lease)
{
	int mode = R_OK, fd = vfs_lease_fd(vb, stx, flags);

	if (fd == -ENOENT || (fd == -EAGAIN && !keep_lease))
		return vfs_reopen(pfd, flags | O_NONBLOCK);
	if ((flags & O_ACCMODE) == O_WRONLY)
		mode = W_OK;
	else if ((flags & O_ACCMODE) == O_RDWR)
		mode = R_OK | W_OK;
	/* The check a fresh open would have made (no faccessat2, before Linux 5.8: refused). */
	if (fd >= 0 && syscall(SYS_faccessat2, pfd, "", mode, AT_EACCESS | AT_EMPTY_PATH) != 0) {
		int err = errno == EPERM ? -EACCES : -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Resolves fh and opens it with flags under the caller's credentials (left entered). */
int vfs_open_data(struct vfs_backend *vb, const struct be_cred *cred, const struct be_fh *fh,
		  int flags, struct statx *stx, struct vfs_fdent **ent, bool keep_lease)
{
	int fd, err;

	err = vfs_handle_get(vb, fh, ent, stx);
	if (err)
		return err;
	err = need_reg(stx);
	if (!err)
		err = vfs_cred_enter(&vb->cred, cred);
	if (err) {
		vfs_handle_put(*ent);
		return err;
	}
	fd = vfs_reopen_io(vb, (*ent)->fd, stx, flags, keep_lease);
	if (fd < 0)
		vfs_handle_put(*ent);
	return fd;
}

int vfs_read(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	     uint64_t offset, void *buf, size_t len, size_t *got, bool *eof)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_fdent *pe;
	struct statx stx;
	int fd, err = 0;
	size_t done = 0;

	*got = 0;
	*eof = false;
	fd = vfs_open_data(vb, cred, fh, O_RDONLY, &stx, &pe, false);
	if (fd < 0)
		return fd;
	if (offset > INT64_MAX)
		goto eof;
	if (len > INT64_MAX - offset)
		len = INT64_MAX - offset;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			goto eof;
		done += (size_t)n;
	}
	if (!err) {
		struct stat st;

		if (fstat(fd, &st) == 0 && offset + done >= (uint64_t)st.st_size)
			*eof = true;
	}
	goto out;
eof:
	*eof = true;
out:
	close(fd);
	vfs_handle_put(pe);
	*got = done;
	return done > 0 ? 0 : err;
}

/* pwritev2() of buf at offset until all is written or it fails; flags: RWF_*SYNC or 0. */
static int write_buf(int fd, uint64_t offset, const void *buf, size_t len, enum be_stable how,
		     int flags, size_t *done)
{
	while (*done < len) {
		struct iovec iov = {.iov_base = (char *)buf + *done, .iov_len = len - *done};
		ssize_t n = pwritev2(fd, &iov, 1, (off_t)(offset + *done), flags);

		if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS) && flags) {
			/* No RWF_*SYNC (pre-4.7): write, then sync below. */
			n = pwrite(fd, iov.iov_base, iov.iov_len, (off_t)(offset + *done));
			if (n >= 0 && (how == BE_FILE_SYNC ? fsync(fd) : fdatasync(fd)) != 0)
				n = -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		*done += (size_t)n;
	}
	return 0;
}

/*
 * len bytes from the pipe to the file at offset: the kernel moves the pipe's
 * pages into the page cache, the one copy left of a spliced WRITE.
 * -EOPNOTSUPP, with nothing taken from the pipe, where the filesystem has no
 * splice_write (the kernel says EINVAL).
 */
static int write_pipe(int fd, uint64_t offset, int pipe, size_t len, size_t *done)
{
	while (*done < len) {
		loff_t off = (loff_t)(offset + *done);
		ssize_t n = splice(pipe, NULL, fd, &off, len - *done, SPLICE_F_MOVE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EINVAL && *done == 0 ? -EOPNOTSUPP : -errno;
		}
		if (n == 0)
			return -EIO; /* the pipe held fewer bytes than it should */
		*done += (size_t)n;
	}
	return 0;
}

/*
 * Both writes: buf[0..len), then pipe_len bytes from pipe (if pipe >= 0).
 * The write runs under the caller's credentials too: the kernel clears
 * set-user/group-id bits on a write by someone without CAP_FSETID, which the
 * server (root) has and the caller usually does not.
 */
int vfs_write_pipe(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		   uint64_t offset, const void *buf, size_t len, int pipe, size_t pipe_len,
		   enum be_stable how, size_t *written, enum be_stable *committed)
{
	struct vfs_backend *vb = vfs_of(be);
	size_t total = len + (pipe >= 0 ? pipe_len : 0), done = 0, moved = 0;
	struct vfs_fdent *pe;
	struct statx stx;
	int fd, err = 0, sync_err = 0, flags = 0;

	*written = 0;
	if (how != BE_UNSTABLE && how != BE_DATA_SYNC && how != BE_FILE_SYNC)
		return -EINVAL;
	/* Zero bytes succeed wherever they are (RFC 8881 §18.32.3), once allowed to write. */
	if (total && (offset > INT64_MAX || total > INT64_MAX - offset))
		return -EFBIG;
	fd = vfs_open_data(vb, cred, fh, O_WRONLY, &stx, &pe, false);
	if (fd < 0)
		return fd;
	/* From a pipe, the sync comes once after all of it (below), as RWF_*SYNC would. */
	if (pipe < 0 && how != BE_UNSTABLE) {
		flags = how == BE_DATA_SYNC ? RWF_DSYNC : RWF_SYNC;
		atomic_fetch_add_explicit(&vb->data_syncs, 1, memory_order_relaxed);
		block_hint(); /* a sync: the rpc layer hands this call's connection on */
	}
	err = write_buf(fd, offset, buf, len, how, flags, &done);
	if (!err && pipe >= 0) {
		err = write_pipe(fd, offset + done, pipe, pipe_len, &moved);
		if (err == -EOPNOTSUPP)
			goto out; /* the caller writes it all again from memory */
		done += moved;
		if (!err && how != BE_UNSTABLE) {
			atomic_fetch_add_explicit(&vb->data_syncs, 1, memory_order_relaxed);
			block_hint(); /* as above */
			if ((how == BE_FILE_SYNC ? fsync(fd) : fdatasync(fd)) != 0)
				sync_err = -errno; /* the data changed, but is not stable */
		}
	}
	if (done > 0 || total == 0) {
		vfs_change_bump(vb, pe->fd, NULL);
		err = sync_err;
	}
	/*
	 * Write-behind: a large UNSTABLE write (a client streaming a file) has
	 * its pages sent to the disk now, not all at its COMMIT, so the disk
	 * works while the network does and COMMIT waits for little. Advisory:
	 * the reply still says UNSTABLE, and errors here do not matter.
	 */
	if (how == BE_UNSTABLE && done >= VFS_WRITE_BEHIND)
		sync_file_range(fd, (off_t)offset, (off_t)done, SYNC_FILE_RANGE_WRITE);
out:
	close(fd);
	vfs_handle_put(pe);
	*written = err ? 0 : done;
	if (committed)
		*committed = how;
	return err;
}

int vfs_write(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	      uint64_t offset, const void *buf, size_t len, enum be_stable how, size_t *written,
	      enum be_stable *committed)
{
	return vfs_write_pipe(be, cred, fh, offset, buf, len, -1, 0, how, written, committed);
}

/* fsync of the whole file (COMMIT's range is advisory). Needs no permission. */
int vfs_commit(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
	       uint64_t offset, uint64_t count)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_fdent *pe;
	struct statx stx;
	int fd, err;

	err = vfs_handle_get(vb, fh, &pe, &stx);
	if (err)
		return err;
	err = need_reg(&stx);
	if (err)
		goto out;
	vfs_cred_leave(&vb->cred);
	fd = vfs_lease_fd(vb, &stx, O_RDONLY); /* a fresh open would break a write lease */
	if (fd < 0)
		fd = vfs_reopen(pe->fd, O_RDONLY | O_NONBLOCK);
	if (fd < 0) /* unprivileged server: any mode it may open */
		fd = vfs_reopen(pe->fd, O_WRONLY | O_NONBLOCK);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	atomic_fetch_add_explicit(&vb->data_syncs, 1, memory_order_relaxed);
	block_hint(); /* a sync: the rpc layer hands this call's connection on */
	if (fsync(fd) != 0)
		err = -errno;
	close(fd);
out:
	vfs_handle_put(pe);
	return err;
}

int vfs_readlink(struct backend *be, const struct be_cred *cred, const struct be_fh *fh, char *buf,
		 size_t *len)
{
	struct vfs_backend *vb = vfs_of(be);
	char tmp[BE_PATH_MAX + 1];
	struct vfs_fdent *e;
	struct statx stx;
	ssize_t n;
	int fd, err;

	err = vfs_handle_get(vb, fh, &e, &stx);
	if (err)
		return err;
	fd = e->fd;
	if (!S_ISLNK(stx.stx_mode)) {
		err = -EINVAL;
		goto out;
	}
	n = readlinkat(fd, "", tmp, sizeof(tmp));
	if (n < 0) {
		err = -errno;
		goto out;
	}
	if (n > BE_PATH_MAX) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if ((size_t)n > *len) {
		err = -ERANGE;
		goto out;
	}
	memcpy(buf, tmp, (size_t)n);
	*len = (size_t)n;
out:
	vfs_handle_put(e);
	return err;
}

static enum be_ftype dtype_ftype(unsigned char t)
{
	switch (t) {
	case DT_DIR:
		return BE_DIR;
	case DT_BLK:
		return BE_BLK;
	case DT_CHR:
		return BE_CHR;
	case DT_LNK:
		return BE_LNK;
	case DT_SOCK:
		return BE_SOCK;
	case DT_FIFO:
		return BE_FIFO;
	default:
		return BE_REG;
	}
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* What an entry's be_dirent.lookup needs: the directory vfs_readdir holds open. */
struct readdir_ctx {
	struct vfs_backend *vb;
	const struct be_cred *cred;
	int dfd;
};

/*
 * The handle and attributes of an entry from the open directory, only when
 * READDIR's caller asks for more than type and fileid: one open of the name
 * instead of a lookup (which would resolve the directory again).
 */
static int readdir_lookup(const struct be_dirent *ent, struct be_fh *fh, struct be_attr *attr)
{
	const struct readdir_ctx *rc = ent->lookup_ctx;

	return vfs_lookup_at(rc->vb, rc->cred, rc->dfd, ent->name, fh, attr);
}

int vfs_readdir(struct backend *be, const struct be_cred *cred, const struct be_fh *dir,
		uint64_t cookie, be_readdir_fn fn, void *ctx, uint64_t *verifier, bool *eof)
{
	struct vfs_backend *vb = vfs_of(be);
	struct readdir_ctx rc = {.vb = vb, .cred = cred};
	struct vfs_fdent *pe;
	struct statx stx;
	char *buf = NULL;
	int dfd = -1, err;

	*eof = false;
	if (cookie == 1 || cookie == 2)
		return -EINVAL;
	err = vfs_handle_get(vb, dir, &pe, &stx);
	if (err)
		return err;
	if (!S_ISDIR(stx.stx_mode)) {
		err = -ENOTDIR;
		goto out;
	}
	if (verifier)
		*verifier = vb->stable_cookies ? VFS_STABLE_VERIFIER : vfs_change_get(vb, &stx);
	/*
	 * The open (read permission) and each entry's lookup (search
	 * permission) are the caller's; entering again per entry is free.
	 */
	err = vfs_cred_enter(&vb->cred, cred);
	if (err)
		goto out;
	dfd = openat(pe->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		goto out;
	}
	rc.dfd = dfd;
	if (cookie && lseek(dfd, (off_t)(cookie - VFS_COOKIE_BIAS), SEEK_SET) < 0) {
		err = -EINVAL;
		goto out;
	}
	buf = malloc(VFS_READDIR_BUF);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, VFS_READDIR_BUF);

		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0) {
			*eof = true;
			break;
		}
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			struct be_dirent ent = {.lookup = readdir_lookup, .lookup_ctx = &rc};

			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			if ((uint64_t)d->d_off > UINT64_MAX - VFS_COOKIE_BIAS) {
				err = -EIO;
				goto out;
			}
			ent.name = d->d_name;
			ent.namelen = (uint32_t)strlen(d->d_name);
			ent.cookie = (uint64_t)d->d_off + VFS_COOKIE_BIAS;
			ent.fileid = d->d_ino;
			ent.type = dtype_ftype(d->d_type);
			if (d->d_type == DT_UNKNOWN || !vb->stable_cookies) {
				/* Ask the inode (d_ino may differ from st_ino on some filesystems).
				 */
				struct statx est;

				if (vfs_statx(dfd, d->d_name, 0, &est) != 0)
					continue; /* removed meanwhile */
				ent.type = vfs_ftype(est.stx_mode);
				ent.fileid = est.stx_ino;
			}
			if (!fn(ctx, &ent))
				goto out;
		}
	}
out:
	free(buf);
	if (dfd >= 0)
		close(dfd);
	vfs_handle_put(pe);
	return err;
}
