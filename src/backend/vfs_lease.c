/*
 * Delegations on the vfs backend: fcntl leases (fcntl(2) F_SETLEASE), so a
 * local process that opens (or truncates) a delegated file recalls the
 * delegation the way another NFS client would.
 *
 * A delegation is a lease the server holds on its own open file: O_RDONLY
 * with F_RDLCK for a read delegation (broken by an open for writing), O_RDWR
 * with F_WRLCK for a write one (broken by any open). The kernel refuses the
 * lease (EAGAIN) when the file is open in a conflicting way; then nfs4/
 * grants no delegation.
 *
 * A break is told with a signal: each lease fd is set (F_SETSIG) to send
 * VFS_LEASE_SIG to this backend's lease thread only (F_SETOWN_EX with its
 * thread id), which blocks it and reads it from a signalfd — no code runs in
 * a signal handler, and no other thread ever sees the signal. On a signal
 * the thread asks every lease it holds whether it is being broken
 * (F_GETLEASE answers the type the break goes to) and reports each newly
 * broken one to the watcher (nfs4/deleg.c), which recalls its delegations;
 * SIGIO, which the kernel sends instead when the signal queue is full, is
 * handled the same way. The kernel lets the local opener in anyway after
 * /proc/sys/fs/lease-break-time seconds; a second before that (the
 * delegation is no longer protected), the thread reports the lease again as
 * forced, and the watcher revokes.
 *
 * Leases see only opens and truncates: a local rename, unlink, chmod or
 * chown of a delegated file recalls nothing (the kernel breaks those only
 * for knfsd's own delegations).
 *
 * The server's own I/O on a file under a write lease would break it (a
 * fresh open is a conflicting open, even from this process), so READ,
 * WRITE, COMMIT, SETATTR of size and the descriptions that carry NFS locks
 * go through a dup of the lease fd (vfs_lease_fd()). Handles resolve to
 * O_PATH fds, which break nothing.
 *
 * Locks: vl->lock guards the list, the thread's start and the watcher; it
 * is a leaf (no call into nfs4/ is made under it) and only non-blocking
 * fcntls run under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend/vfs_internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/rcu.h"

#define VFS_LEASE_SIG (SIGRTMIN + 4)
#define VFS_LEASE_BREAK_DEFAULT_S 45	  /* the kernel's default lease-break-time */
#define VFS_LEASE_MARGIN_NS 1000000000ull /* revoke this long before the kernel gives up */
#define VFS_LEASE_MAX_REPORTS 64	  /* reported per pass; the next pass takes the rest */

struct vfs_lease {
	struct vfs_lease *next;
	int fd;	  /* the server's open file carrying the lease */
	int type; /* F_RDLCK or F_WRLCK */
	uint64_t dev, ino;
	struct be_fh fh;
	bool broken;	   /* the kernel started breaking it (reported once) */
	uint64_t force_ns; /* when broken: when to report it forced */
	bool forced;	   /* reported forced */
};

struct vfs_leases {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* thread started; a watcher call ended */
	struct vfs_lease *head;
	be_deleg_break_fn fn;
	void *ctx;
	int calling; /* watcher calls in progress */
	bool started;
	pid_t tid;
	pthread_t thread;
	int sigfd;
	int stopfd; /* eventfd: destroy asks the thread to end */
};

int vfs_lease_init(struct vfs_backend *vb)
{
	struct vfs_leases *vl = calloc(1, sizeof(*vl));

	if (!vl)
		return -ENOMEM;
	pthread_mutex_init(&vl->lock, NULL);
	pthread_cond_init(&vl->cond, NULL);
	vl->sigfd = -1;
	vl->stopfd = -1;
	vb->leases = vl;
	return 0;
}

static void vfs_lease_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, VFS_LEASE_SIG);
	sigaddset(set, SIGIO); /* sent instead when the realtime queue overflows */
}

/* The kernel's grace for a lease holder, read at each break (an admin may change it). */
static uint64_t vfs_lease_break_ns(void)
{
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "re");
	long s = VFS_LEASE_BREAK_DEFAULT_S;

	if (f) {
		if (fscanf(f, "%ld", &s) != 1 || s < 0)
			s = VFS_LEASE_BREAK_DEFAULT_S;
		fclose(f);
	}
	return (uint64_t)s * 1000000000ull;
}

/*
 * Finds leases that started breaking (check: after a signal) and those whose
 * kernel deadline is near; copies up to max of them into out (forced[i]
 * says which kind). *next_ns: the earliest deadline still ahead, 0 for none.
 */
static int vfs_lease_scan_locked(struct vfs_leases *vl, bool check, struct be_fh *out, bool *forced,
				 int max, uint64_t *next_ns)
{
	uint64_t now = time_mono_ns(), grace = 0;
	int n = 0;

	*next_ns = 0;
	for (struct vfs_lease *l = vl->head; l && n < max; l = l->next) {
		if (check && !l->broken && fcntl(l->fd, F_GETLEASE) != l->type) {
			if (!grace)
				grace = vfs_lease_break_ns();
			l->broken = true;
			l->force_ns =
				now +
				(grace > VFS_LEASE_MARGIN_NS ? grace - VFS_LEASE_MARGIN_NS : 0);
			forced[n] = false;
			out[n++] = l->fh;
		}
		if (l->broken && !l->forced && n < max) {
			if (l->force_ns <= now) {
				l->forced = true;
				forced[n] = true;
				out[n++] = l->fh;
			} else if (!*next_ns || l->force_ns < *next_ns) {
				*next_ns = l->force_ns;
			}
		}
	}
	if (n == max)
		*next_ns = now; /* more to look at: come back at once */
	return n;
}

static void *vfs_lease_thread(void *arg)
{
	struct vfs_backend *vb = arg;
	struct vfs_leases *vl = vb->leases;
	struct be_fh fhs[VFS_LEASE_MAX_REPORTS];
	bool forced[VFS_LEASE_MAX_REPORTS];
	uint64_t next_ns = 0;
	bool again = false; /* the last pass stopped at VFS_LEASE_MAX_REPORTS: look at the rest */

	rcu_register_thread(); /* the watcher (nfs4/) looks its files up under RCU */
	pthread_mutex_lock(&vl->lock);
	vl->tid = gettid();
	pthread_cond_broadcast(&vl->cond);
	pthread_mutex_unlock(&vl->lock);
	for (;;) {
		struct pollfd pfd[2] = {{.fd = vl->sigfd, .events = POLLIN},
					{.fd = vl->stopfd, .events = POLLIN}};
		struct signalfd_siginfo si;
		uint64_t now = time_mono_ns();
		int timeout = -1, n;
		bool check = again;

		if (next_ns)
			timeout = next_ns <= now ? 0 : (int)((next_ns - now) / 1000000 + 1);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		while (read(vl->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			check = true;
		pthread_mutex_lock(&vl->lock);
		n = vfs_lease_scan_locked(vl, check, fhs, forced, VFS_LEASE_MAX_REPORTS, &next_ns);
		again = check && n == VFS_LEASE_MAX_REPORTS;
		if (n && vl->fn) {
			be_deleg_break_fn fn = vl->fn;
			void *ctx = vl->ctx;

			vl->calling++;
			pthread_mutex_unlock(&vl->lock);
			for (int i = 0; i < n; i++)
				fn(ctx, &vb->be, &fhs[i], forced[i]);
			pthread_mutex_lock(&vl->lock);
			vl->calling--;
			pthread_cond_broadcast(&vl->cond);
		}
		pthread_mutex_unlock(&vl->lock);
	}
	rcu_unregister_thread();
	return NULL;
}

/*
 * Starts the lease thread with the lease signals blocked (it inherits this
 * thread's mask) and waits for its thread id. Caller holds vl->lock.
 */
static int vfs_lease_start_locked(struct vfs_backend *vb)
{
	struct vfs_leases *vl = vb->leases;
	sigset_t set, old;
	int err;

	if (vl->started)
		return 0;
	vfs_lease_sigset(&set);
	if (vl->sigfd < 0)
		vl->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (vl->stopfd < 0)
		vl->stopfd = eventfd(0, EFD_CLOEXEC);
	if (vl->sigfd < 0 || vl->stopfd < 0)
		return -errno;
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = -pthread_create(&vl->thread, NULL, vfs_lease_thread, vb);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	vl->started = true;
	while (!vl->tid)
		pthread_cond_wait(&vl->cond, &vl->lock);
	return 0;
}

int vfs_deleg_get(struct backend *be, const struct be_fh *fh, bool write, void **handle,
		  struct be_attr *attr)
{
	struct vfs_backend *vb = vfs_of(be);
	struct vfs_leases *vl = vb->leases;
	struct vfs_lease *l;
	struct vfs_fdent *pe;
	struct statx stx;
	int fd, err;

	err = vfs_handle_get(vb, fh, &pe, &stx);
	if (err)
		return err;
	if (!S_ISREG(stx.stx_mode)) {
		vfs_handle_put(pe);
		return -EINVAL;
	}
	/* As the server: the OPEN that asked checked the caller's access already. */
	vfs_cred_leave(&vb->cred);
	fd = vfs_reopen(pe->fd, (write ? O_RDWR : O_RDONLY) | O_NONBLOCK);
	vfs_handle_put(pe);
	if (fd < 0)
		return fd;
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->fd = fd;
	l->type = write ? F_WRLCK : F_RDLCK;
	l->dev = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
	l->ino = stx.stx_ino;
	l->fh = *fh;
	pthread_mutex_lock(&vl->lock);
	err = vfs_lease_start_locked(vb);
	if (!err) {
		struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = vl->tid};

		/* Signal first: a break right after the lease is taken must not be missed. */
		if (fcntl(fd, F_SETSIG, VFS_LEASE_SIG) != 0 ||
		    fcntl(fd, F_SETOWN_EX, &owner) != 0 || fcntl(fd, F_SETLEASE, l->type) != 0)
			err = errno == EBUSY ? -EAGAIN : -errno;
	}
	if (!err) {
		l->next = vl->head;
		vl->head = l;
	}
	pthread_mutex_unlock(&vl->lock);
	if (err) {
		close(fd);
		free(l);
		return err;
	}
	/*
	 * The delegation's attributes, read only now that the lease keeps local
	 * users off: a write before it is in them, one after it breaks the
	 * lease. The GETATTR after the OPEN may answer with them (vfs_seen.c).
	 */
	err = vfs_statx_fd(fd, &stx);
	if (err) {
		vfs_deleg_put(be, l);
		return err;
	}
	vfs_attr_fill(vb, &stx, attr);
	vfs_seen_put(vb, fh, &stx);
	*handle = l;
	return 0;
}

bool vfs_deleg_broken(struct backend *be, void *handle)
{
	struct vfs_leases *vl = vfs_of(be)->leases;
	struct vfs_lease *l = handle;
	bool broken;

	pthread_mutex_lock(&vl->lock);
	broken = l->broken;
	pthread_mutex_unlock(&vl->lock);
	return broken;
}

void vfs_deleg_put(struct backend *be, void *handle)
{
	struct vfs_leases *vl = vfs_of(be)->leases;
	struct vfs_lease *l = handle, **pp;

	pthread_mutex_lock(&vl->lock);
	for (pp = &vl->head; *pp && *pp != l; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = l->next;
	pthread_mutex_unlock(&vl->lock);
	/* Unlocking first lets a waiting local opener in now rather than at close. */
	fcntl(l->fd, F_SETLEASE, F_UNLCK);
	close(l->fd);
	free(l);
}

void vfs_deleg_watch(struct backend *be, be_deleg_break_fn fn, void *ctx)
{
	struct vfs_leases *vl = vfs_of(be)->leases;

	pthread_mutex_lock(&vl->lock);
	vl->fn = fn;
	vl->ctx = ctx;
	while (!fn && vl->calling)
		pthread_cond_wait(&vl->cond, &vl->lock);
	pthread_mutex_unlock(&vl->lock);
}

int vfs_lease_fd(struct vfs_backend *vb, const struct statx *stx, int flags)
{
	struct vfs_leases *vl = vb->leases;
	uint64_t dev = ((uint64_t)stx->stx_dev_major << 32) | stx->stx_dev_minor;
	int fd = -ENOENT;

	pthread_mutex_lock(&vl->lock);
	for (struct vfs_lease *l = vl->head; l; l = l->next) {
		if (l->dev != dev || l->ino != stx->stx_ino)
			continue;
		if (l->type == F_RDLCK) {
			if ((flags & O_ACCMODE) != O_RDONLY)
				fd = -EAGAIN; /* read leases are only broken by writers */
			continue;
		}
		fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
		break; /* a write lease is the only one on its file */
	}
	pthread_mutex_unlock(&vl->lock);
	return fd;
}

void vfs_lease_fini(struct vfs_backend *vb)
{
	struct vfs_leases *vl = vb->leases;

	if (!vl)
		return;
	if (vl->started) {
		uint64_t one = 1;

		if (write(vl->stopfd, &one, sizeof(one)) != sizeof(one))
			log_err("vfs", "cannot stop the lease thread: %s", strerror(errno));
		pthread_join(vl->thread, NULL);
	}
	while (vl->head) {
		struct vfs_lease *l = vl->head;

		vl->head = l->next;
		close(l->fd); /* closing drops the lease */
		free(l);
	}
	if (vl->sigfd >= 0)
		close(vl->sigfd);
	if (vl->stopfd >= 0)
		close(vl->stopfd);
	pthread_cond_destroy(&vl->cond);
	pthread_mutex_destroy(&vl->lock);
	free(vl);
	vb->leases = NULL;
}
