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
 * Without root (geteuid() != 0) nothing can be switched: every call runs with
 * the process's own identity and permission checks are the process's, whoever
 * the caller is. vfs_cred_enter() is then a no-op; the server should only be
 * run that way for single-user or test setups.
 */
#include <errno.h>
#include <stdlib.h>
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

int vfs_cred_enter(const struct vfs_cred_base *base, const struct be_cred *cred)
{
	gid_t groups[BE_MAX_GROUPS];

	if (!base->can_switch)
		return 0;
	if (cred->ngroups > BE_MAX_GROUPS)
		return -EINVAL;
	for (uint32_t i = 0; i < cred->ngroups; i++)
		groups[i] = cred->groups[i];
	/* Groups and gid first: setgroups needs CAP_SETGID, which fsuid does not drop. */
	if (syscall(SYS_setgroups, (size_t)cred->ngroups, groups) != 0)
		return -errno;
	if (set_fsgid(cred->gid) != 0 || set_fsuid(cred->uid) != 0) {
		vfs_cred_leave(base);
		return -EPERM;
	}
	return 0;
}

void vfs_cred_leave(const struct vfs_cred_base *base)
{
	if (!base->can_switch)
		return;
	/*
	 * A worker that cannot get its own identity back would run the next
	 * caller's request with the previous caller's rights: stop instead.
	 */
	if (set_fsuid(base->uid) != 0 || set_fsgid(base->gid) != 0 ||
	    syscall(SYS_setgroups, (size_t)base->ngroups, base->groups) != 0) {
		log_err("vfs", "cannot restore the server's credentials (errno=%d)", errno);
		abort();
	}
}
