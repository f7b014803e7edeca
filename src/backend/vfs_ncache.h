/*
 * The vfs backend's name cache: (directory handle, name) -> child handle, so
 * that a LOOKUP (or OPEN) of a name seen before costs no path walk. It is
 * kept exactly right against every change to the export, by nfs4d or by
 * local processes, with inotify:
 *
 *  - A directory gets a watch (IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO,
 *    IN_ATTRIB, IN_DELETE_SELF, IN_MOVE_SELF) before anything is cached under
 *    it. The kernel queues an event inside the system call that changes the
 *    directory, so once the queue is read empty, every change that completed
 *    before the read has been applied: vfs_ncache_lookup() drains the queue
 *    (epoll_wait with no timeout, then non-blocking reads only when it has
 *    events) under the cache's lock before it answers, so no thread answers
 *    while another holds events it has read but not applied. It does so once
 *    per request (backend.h: be_request_begin()) and thread, and again after
 *    the thread looked at the file system itself (vfs_ncache_saw_fs()), so
 *    that all a request learns of the export moves forward in time: the
 *    cache always shows the export as it was at its last drain (adds drain
 *    first, see below), never older than the request's first LOOKUP or
 *    anything else the request saw. A 4-component LOOKUP costs one
 *    epoll_wait.
 *  - A name event drops that name; IN_ATTRIB of the directory itself (mode,
 *    owner, ACL) drops the callers known to have search permission on it;
 *    IN_Q_OVERFLOW (events lost) drops every name and verdict; IN_IGNORED
 *    (the directory is gone, or its filesystem) forgets the directory.
 *    Nothing relies on IN_DELETE_SELF (it comes only when the last
 *    reference to the directory goes, and the fd cache may hold one): a
 *    directory is empty when removed, and each of its names went with an
 *    event; LOOKUP in it then misses and answers NFS4ERR_STALE the full way.
 *    IN_MOVE_SELF voids every "inside the export" verdict at once
 *    (vfs_inside_moved()) rather than within VFS_INSIDE_TTL_MS.
 *  - A mount or unmount anywhere in nfs4d's mount namespace is not an inotify
 *    event: /proc/self/mountinfo, which polls readable on any change of the
 *    mount table, sits in the same epoll set and drops every name. A name
 *    with something mounted on it is never cached (lookup refuses it), so
 *    answers stay what the kernel's path walk would give.
 *  - What is cached was found by a full lookup under a watch that existed
 *    before that lookup's system calls. Each directory has a token that
 *    changes whenever an event or a flush applies to it; vfs_ncache_add()
 *    drains, then adds nothing if the token read before the lookup changed,
 *    so a change made while the lookup ran cannot be overtaken by what it
 *    found.
 *  - Search permission is per caller: the cache keeps, per directory, the
 *    credentials (exactly: uid, gid, groups) a full lookup succeeded for, and
 *    answers only those. The kernel's verdict is cached, never recomputed.
 *  - Names are only cached under persistent handles (a volatile handle is
 *    valid only while its table entry lives).
 *
 * Bounded: at most VFS_NCACHE_DIRS watched directories and VFS_NCACHE_NAMES
 * names (util/limits.h); past either, the least recently used directory is
 * unwatched with its names. A directory inotify_add_watch refuses (ENOSPC:
 * fs.inotify.max_user_watches) is not cached, and not asked for again until
 * its record ages out.
 *
 * Concurrency: one mutex per cache (per export) over the tables and the
 * drain; a hit holds it for the epoll_wait and two hash probes.
 */
#ifndef NFS4D_BACKEND_VFS_NCACHE_H
#define NFS4D_BACKEND_VFS_NCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

#include "backend/backend.h"

struct vfs_ncache;

/* A cache with its inotify instance and epoll set; -errno if the kernel lacks them. */
int vfs_ncache_create(struct vfs_ncache **out);
void vfs_ncache_destroy(struct vfs_ncache *nc);
/*
 * After applying every queued change: 0 and *out, the handle of name in dir
 * as cred would find it; -EAGAIN when the cache does not know, with *token
 * the directory's token if it is watched (for vfs_ncache_add), else 0 (the
 * caller may watch it); -EPERM when the kernel refused to watch it lately.
 */
int vfs_ncache_lookup(struct vfs_ncache *nc, const struct be_fh *dir, const struct be_cred *cred,
		      const char *name, struct be_fh *out, uint64_t *token);
/*
 * Watches the directory dir, open (O_PATH) as dfd, and returns its token, or
 * 0 when it cannot be cached. Runs on the server's authority (the watch needs
 * read permission and /proc/self/fd); the caller leaves the caller's first.
 */
uint64_t vfs_ncache_watch(struct vfs_ncache *nc, const struct be_fh *dir, int dfd);
/*
 * A full lookup of name in dir as cred, begun with the directory's token
 * token, found child: cache it, unless the token changed since.
 */
void vfs_ncache_add(struct vfs_ncache *nc, const struct be_fh *dir, uint64_t token,
		    const struct be_cred *cred, const char *name, const struct be_fh *child);
/* This thread looked at the file system itself: its next lookup drains again. */
void vfs_ncache_saw_fs(void);
/* Applies one event as the drain does (the unit tests feed events the kernel would not). */
void vfs_ncache_apply(struct vfs_ncache *nc, const struct inotify_event *ev);
/* The watch descriptor of dir, or -1 (for the unit tests). */
int vfs_ncache_wd(struct vfs_ncache *nc, const struct be_fh *dir);
/* Names cached. */
size_t vfs_ncache_count(struct vfs_ncache *nc);

#endif
