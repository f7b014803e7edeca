/*
 * NFS byte-range locks mirrored onto the real file as open file description
 * (OFD) locks: one file description per NFS lock owner and file, so the
 * kernel applies POSIX per-owner semantics exactly as nfs4/ does in memory,
 * and a local process holding a conflicting fcntl lock blocks NFS clients
 * (and the other way round).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/vfs_internal.h"

struct vfs_lock_ctx {
	int fd;
};

int vfs_lock_open(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		  void **ctx)
{
	static const int modes[] = {O_RDWR, O_RDONLY, O_WRONLY};
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_lock_ctx *lc;
	struct vfs_fdent *pe;
	struct statx stx;
	int fd = -EACCES;

	/* Read locks need a readable description, write locks a writable one: the widest we may. */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && fd < 0; i++) {
		/*
		 * Never breaking a delegation's lease: under a read lease the modes
		 * for writing answer -EAGAIN and the next is tried; under a write
		 * lease this is its fd, shared by the file's lock owners while it
		 * lasts — no local process can open the file meanwhile, and nfs4/
		 * keeps the owners apart itself.
		 */
		fd = vfs_open_data(vb, cred, fh, modes[i], &stx, &pe, true);
		if (fd >= 0) {
			vfs_handle_put(pe);
		} else if (fd != -EACCES && fd != -EAGAIN) {
			return fd;
		}
	}
	if (fd < 0)
		return fd;
	lc = malloc(sizeof(*lc));
	if (!lc) {
		close(fd);
		return -ENOMEM;
	}
	lc->fd = fd;
	*ctx = lc;
	return 0;
}

static int vfs_lock_fcntl(struct vfs_lock_ctx *lc, short type, uint64_t start, uint64_t end)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET};

	/* off_t is signed: ranges past 2^63 cannot be expressed (NFS4ERR_LOCK_RANGE). */
	if (start > INT64_MAX || (end != UINT64_MAX && end > INT64_MAX))
		return -ERANGE;
	fl.l_start = (off_t)start;
	fl.l_len = end == UINT64_MAX ? 0 : (off_t)(end - start + 1);
	if (fcntl(lc->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EACCES ? -EAGAIN : -errno;
}

int vfs_lock(struct backend *be, void *ctx, bool write, uint64_t start, uint64_t end)
{
	return vfs_lock_fcntl(ctx, write ? F_WRLCK : F_RDLCK, start, end);
}

int vfs_unlock(struct backend *be, void *ctx, uint64_t start, uint64_t end)
{
	return vfs_lock_fcntl(ctx, F_UNLCK, start, end);
}

void vfs_lock_close(struct backend *be, void *ctx)
{
	struct vfs_lock_ctx *lc = ctx;

	close(lc->fd); /* releases every lock of this description */
	free(lc);
}
