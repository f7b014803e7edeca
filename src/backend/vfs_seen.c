/*
 * Attributes seen earlier in the same request (vfs_internal.h: vfs_seen_*).
 *
 * An OPEN COMPOUND would otherwise statx its file three times: the OPEN's
 * lookup, its access check and the GETATTR after it. This is the one place
 * that decides when a statx taken earlier in a request (a COMPOUND, from
 * be_request_begin() to be_request_end()) may stand in for a new one. The
 * rule:
 *
 *  1. Only for the same object (same backend, same handle), on the same
 *     thread, within the same request; outside a request nothing is kept.
 *     A COMPOUND is not atomic: a local process's change that lands between
 *     the statx and the op that reuses it could as well have landed just
 *     after that op, so attributes read at one moment of a COMPOUND are as
 *     good as those read at another — as long as the next two points hold.
 *  2. Only if nfs4d itself changed nothing in between. Only pure reads keep
 *     what was seen (getattr and access through vfs_handle_get_seen();
 *     lookup, which records what it found); every other operation forgets
 *     all of it before it does anything (vfs_handle_get(), which every one of
 *     them calls first), so a truncate, a write, a setattr, a create, remove,
 *     rename or link (nlink, ctime) or a read (atime) is always followed by a
 *     fresh statx.
 *  3. Never across a delegation's lease: deleg_get forgets everything first
 *     and reads the attributes it returns (and records) only once the lease
 *     is in place (vfs_lease.c), so a delegation's change and size, and the
 *     GETATTR after the OPEN that granted it, are no older than the lease: a
 *     local write before the lease is in them, one after it breaks the lease.
 *
 * Two objects are kept, so that an OPEN's statx of its directory (for
 * change_info) does not push out the file's. Per thread, so no locks; the
 * backend pointer and the handle's bytes are the key, so a fd cache eviction
 * in between changes nothing.
 */
#include <string.h>

#include "backend/vfs_internal.h"

#define VFS_SEEN_MAX 2

struct vfs_seen {
	uint64_t request; /* be_request_current() when seen; 0: empty */
	const struct vfs_backend *vb;
	struct be_fh fh;
	struct statx stx;
};

static _Thread_local struct vfs_seen seen[VFS_SEEN_MAX];
static _Thread_local unsigned seen_next; /* the slot the next new object takes */

static struct vfs_seen *seen_find(const struct vfs_backend *vb, const struct be_fh *fh,
				  uint64_t request)
{
	for (int i = 0; i < VFS_SEEN_MAX; i++) {
		struct vfs_seen *s = &seen[i];

		if (s->request == request && s->vb == vb && s->fh.len == fh->len &&
		    memcmp(s->fh.data, fh->data, fh->len) == 0)
			return s;
	}
	return NULL;
}

void vfs_seen_put(const struct vfs_backend *vb, const struct be_fh *fh, const struct statx *stx)
{
	uint64_t request = be_request_current();
	struct vfs_seen *s;

	if (!request || fh->len > BE_FH_MAX)
		return;
	s = seen_find(vb, fh, request);
	if (!s) {
		s = &seen[seen_next];
		seen_next = (seen_next + 1) % VFS_SEEN_MAX;
		s->request = request;
		s->vb = vb;
		s->fh.len = fh->len;
		memcpy(s->fh.data, fh->data, fh->len);
	}
	s->stx = *stx;
}

bool vfs_seen_get(const struct vfs_backend *vb, const struct be_fh *fh, struct statx *stx)
{
	uint64_t request = be_request_current();
	struct vfs_seen *s;

	if (!request || fh->len > BE_FH_MAX)
		return false;
	s = seen_find(vb, fh, request);
	if (s)
		*stx = s->stx;
	return s != NULL;
}

void vfs_seen_forget(void)
{
	for (int i = 0; i < VFS_SEEN_MAX; i++)
		seen[i].request = 0;
}
