/*
 * Per-thread credentials of the vfs backend.
 *
 * Linux keeps credentials per thread in the kernel; glibc's setuid/setgroups
 * family broadcasts every change to all threads of the process (POSIX
 * semantics), which would let one worker's caller leak into another's call.
 * So this file uses only calls that act on the calling thread:
 *   - setfsuid()/setfsgid() (glibc wrappers are plain syscalls, never broadcast);
 *   - syscall(SYS_setgroups, ...) directly, bypassing glibc's broadcasting
 *     setgroups().
 * fsuid/fsgid/groups are all the kernel consults for file permission checks,
 * and a non-zero fsuid drops the filesystem capabilities (CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_MKNOD, ...) from the thread's
 * effective set until fsuid is 0 again: the kernel's own checks then apply.
 *
 * Switching costs three system calls each way, and the kernel allocates a
 * new struct cred for each. So a thread remembers which identity it has in
 * effect and switches only what differs: vfs_cred_enter() as the caller the
 * thread served last is free, and nothing switches back after a call. What
 * must run on the server's authority (opening by handle, the ".." walk,
 * fsync of a directory, set-gid-preserving chmod) calls vfs_cred_leave()
 * first, which is as free when the thread is the server already. Outside the
 * vfs backend nothing in a worker thread opens files by path (the state
 * store's files are opened at startup), so a caller's identity left in
 * effect is harmless there.
 *
 * Without root (geteuid() != 0) nothing can be switched: every call runs with
 * the process's own identity and permission checks are the process's, whoever
 * the caller is. vfs_cred_enter() is then a no-op; the server should only be
 * run that way for single-user or test setups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend/vfs_internal.h"
#include "util/log.h"

int vfs_cred_init(struct vfs_cred_base *base)
{
	int n;

	base->can_switch = geteuid() == 0;
	base->uid = geteuid();
	base->gid = getegid();
	base->groups = NULL;
	base->ngroups = 0;
	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	if (n > 0) {
		base->groups = calloc((size_t)n, sizeof(gid_t));
		if (!base->groups)
			return -ENOMEM;
		n = getgroups(n, base->groups);
		if (n < 0) {
			free(base->groups);
			base->groups = NULL;
			return -errno;
		}
	}
	base->ngroups = n;
	if (!base->can_switch)
		log_warn("vfs", "not running as root: all callers act with uid=%u gid=%u",
			 (unsigned)base->uid, (unsigned)base->gid);
	return 0;
}

void vfs_cred_fini(struct vfs_cred_base *base)
{
	free(base->groups);
	base->groups = NULL;
}

/* setfsuid() reports the previous id; a second call tells whether the first worked. */
static int set_fsuid(uid_t uid)
{
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid ? 0 : -EPERM;
}

static int set_fsgid(gid_t gid)
{
	setfsgid(gid);
	return (gid_t)setfsgid((gid_t)-1) == gid ? 0 : -EPERM;
}

/*
 * The identity in effect on this thread as far as this file set it: known
 * once it switched fsuid and fsgid here; groups_known when it also set the
 * groups (not when the server has more than a caller can, which are not kept).
 */
static _Thread_local struct {
	bool known;
	bool groups_known;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[BE_MAX_GROUPS];
} cur;

/* Switches what differs from what the thread has; 0 or -errno (the thread's state then unknown). */
static int become(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups)
{
	bool known = cur.known;
	bool gsame = cur.groups_known && ngroups == cur.ngroups &&
		     (ngroups == 0 || memcmp(groups, cur.groups, ngroups * sizeof(gid_t)) == 0);

	if (known && gsame && uid == cur.uid && gid == cur.gid)
		return 0;
	cur.known = cur.groups_known = false;
	/*
	 * setgroups and setfsgid need CAP_SETGID, setfsuid CAP_SETUID: neither
	 * is among the capabilities a non-zero fsuid drops, so any order works.
	 */
	if (!gsame && syscall(SYS_setgroups, ngroups, groups) != 0)
		return -errno;
	if ((!known || gid != cur.gid) && set_fsgid(gid) != 0)
		return -EPERM;
	if ((!known || uid != cur.uid) && set_fsuid(uid) != 0)
		return -EPERM;
	cur.known = true;
	cur.uid = uid;
	cur.gid = gid;
	cur.groups_known = ngroups <= BE_MAX_GROUPS;
	if (cur.groups_known) {
		cur.ngroups = ngroups;
		if (ngroups)
			memcpy(cur.groups, groups, ngroups * sizeof(gid_t));
	}
	return 0;
}

int vfs_cred_enter(const struct vfs_cred_base *base, const struct be_cred *cred)
{
	gid_t groups[BE_MAX_GROUPS];
	int err;

	if (!base->can_switch)
		return 0;
	if (cred->ngroups > BE_MAX_GROUPS)
		return -EINVAL;
	for (uint32_t i = 0; i < cred->ngroups; i++)
		groups[i] = cred->groups[i];
	err = become(cred->uid, cred->gid, cred->ngroups, groups);
	if (err)
		vfs_cred_leave(base);
	return err;
}

void vfs_cred_leave(const struct vfs_cred_base *base)
{
	if (!base->can_switch)
		return;
	/*
	 * A worker that cannot get its own identity back would run the next
	 * caller's request with the previous caller's rights: stop instead.
	 */
	if (become(base->uid, base->gid, (size_t)base->ngroups, base->groups) != 0) {
		log_err("vfs", "cannot restore the server's credentials (errno=%d)", errno);
		abort();
	}
}
