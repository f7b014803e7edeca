/* The vfs backend's LOOKUP name cache; the rules are in vfs_ncache.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <urcu/list.h>

#include "backend/vfs_internal.h"
#include "backend/vfs_ncache.h"
#include "util/hash.h"
#include "util/limits.h"

#define NC_MASK                                                                             \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
	 IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
/* Events that change which object a name of the directory stands for. */
#define NC_NAME_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define NC_NAME_BUCKETS (VFS_NCACHE_NAMES / 4)
#define NC_DIR_BUCKETS VFS_NCACHE_DIRS
/* epoll data of the two sources. */
#define NC_SRC_INOTIFY 1
#define NC_SRC_MOUNTS 2

struct nc_dir;

/* One cached name: all fields under the cache's lock. */
struct nc_name {
	struct nc_name *hnext; /* chain in nc->names */
	struct cds_list_head dir_link;
	struct nc_dir *dir;
	uint64_t hash;
	struct be_fh child;
	char name[]; /* NUL-terminated */
};

/* One watched directory: all fields under the cache's lock. */
struct nc_dir {
	struct nc_dir *hnext; /* chain by handle in nc->dirs */
	struct nc_dir *wnext; /* chain by watch descriptor in nc->wds */
	struct cds_list_head lru_link;
	struct cds_list_head names;
	uint64_t hash;
	uint64_t token; /* new whenever an event or a flush applies to the directory; 0: refused */
	int wd;		/* -1: the kernel would not watch it (refused), nothing is cached */
	uint32_t ncreds;
	uint32_t next_cred; /* the slot the next verdict replaces when all are full */
	struct be_cred creds[VFS_NCACHE_CREDS];
	struct be_fh fh;
};

struct vfs_ncache {
	pthread_mutex_t lock;
	int ifd;  /* inotify, non-blocking */
	int mfd;  /* /proc/self/mountinfo */
	int epfd; /* both */
	uint64_t next_token;
	size_t ndirs, nnames;
	struct cds_list_head lru; /* directories, most recently used first */
	struct nc_name *names[NC_NAME_BUCKETS];
	struct nc_dir *dirs[NC_DIR_BUCKETS];
	struct nc_dir *wds[NC_DIR_BUCKETS];
};

static uint64_t fh_hash(const struct be_fh *fh)
{
	return hash_u64(hash_bytes(fh->data, fh->len, fh->len));
}

static bool fh_equal(const struct be_fh *a, const struct be_fh *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static bool cred_equal(const struct be_cred *a, const struct be_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(a->groups[0])) == 0;
}

static struct nc_dir *dir_find(struct vfs_ncache *nc, const struct be_fh *fh, uint64_t h)
{
	for (struct nc_dir *d = nc->dirs[h % NC_DIR_BUCKETS]; d; d = d->hnext)
		if (d->hash == h && fh_equal(&d->fh, fh))
			return d;
	return NULL;
}

static struct nc_dir *dir_of_wd(struct vfs_ncache *nc, int wd)
{
	for (struct nc_dir *d = nc->wds[(unsigned)wd % NC_DIR_BUCKETS]; d; d = d->wnext)
		if (d->wd == wd)
			return d;
	return NULL;
}

static struct nc_name **name_chain(struct vfs_ncache *nc, uint64_t h)
{
	return &nc->names[h % NC_NAME_BUCKETS];
}

static uint64_t name_hash(const struct nc_dir *d, const char *name)
{
	return hash_u64(hash_bytes(name, strlen(name), d->hash));
}

static struct nc_name *name_find(struct vfs_ncache *nc, const struct nc_dir *d, const char *name)
{
	uint64_t h = name_hash(d, name);

	for (struct nc_name *n = *name_chain(nc, h); n; n = n->hnext)
		if (n->hash == h && n->dir == d && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void name_free(struct vfs_ncache *nc, struct nc_name *n)
{
	struct nc_name **pp = name_chain(nc, n->hash);

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	cds_list_del(&n->dir_link);
	nc->nnames--;
	free(n);
}

/* Everything cached under d may be stale: drop its names (and verdicts) and renew its token. */
static void dir_flush(struct vfs_ncache *nc, struct nc_dir *d, bool verdicts)
{
	struct nc_name *n, *tmp;

	cds_list_for_each_entry_safe(n, tmp, &d->names, dir_link) name_free(nc, n);
	if (verdicts)
		d->ncreds = 0;
	if (d->wd >= 0)
		d->token = nc->next_token++;
}

/* Forgets d; its watch is removed first when unwatch (it is gone already otherwise). */
static void dir_free(struct vfs_ncache *nc, struct nc_dir *d, bool unwatch)
{
	struct nc_dir **pp;

	dir_flush(nc, d, true);
	for (pp = &nc->dirs[d->hash % NC_DIR_BUCKETS]; *pp != d; pp = &(*pp)->hnext)
		;
	*pp = d->hnext;
	if (d->wd >= 0) {
		for (pp = &nc->wds[(unsigned)d->wd % NC_DIR_BUCKETS]; *pp != d; pp = &(*pp)->wnext)
			;
		*pp = d->wnext;
	}
	cds_list_del(&d->lru_link);
	nc->ndirs--;
	/* Queued events of the old wd are ignored: inotify does not reuse a wd soon (cyclic ids).
	 */
	if (unwatch && d->wd >= 0)
		inotify_rm_watch(nc->ifd, d->wd);
	free(d);
}

/* Events were lost, or the mount table changed: nothing cached can be trusted. */
static void flush_all(struct vfs_ncache *nc)
{
	struct nc_dir *d;

	cds_list_for_each_entry(d, &nc->lru, lru_link) dir_flush(nc, d, true);
}

/* Unwatches the least recently used directory other than keep; false if there is none. */
static bool evict_one(struct vfs_ncache *nc, const struct nc_dir *keep)
{
	struct nc_dir *d;

	cds_list_for_each_entry_reverse(d, &nc->lru, lru_link) if (d != keep)
	{
		dir_free(nc, d, true);
		return true;
	}
	return false;
}

void vfs_ncache_apply(struct vfs_ncache *nc, const struct inotify_event *ev)
{
	struct nc_dir *d;
	struct nc_name *n;

	if (ev->mask & IN_Q_OVERFLOW) {
		flush_all(nc);
		return;
	}
	d = dir_of_wd(nc, ev->wd);
	if (!d)
		return; /* a directory unwatched since */
	if (ev->mask & IN_IGNORED) {
		dir_free(nc, d, false);
		return;
	}
	if (ev->len && ev->name[0]) {
		/* About an entry: IN_ATTRIB of a child says nothing of the directory's names. */
		if (ev->mask & NC_NAME_EVENTS) {
			n = name_find(nc, d, ev->name);
			if (n)
				name_free(nc, n);
			d->token = nc->next_token++;
		}
		return;
	}
	if (ev->mask & IN_MOVE_SELF)
		vfs_inside_moved(); /* it may have left the export */
	if (ev->mask & IN_DELETE_SELF) {
		dir_flush(nc, d, true);
	} else if (ev->mask & IN_ATTRIB) {
		/* Mode, owner or ACL: who may search it is to be asked again. */
		d->ncreds = 0;
		d->token = nc->next_token++;
	}
}

/* Reads and applies every queued event. Under the lock. */
static void read_events(struct vfs_ncache *nc)
{
	alignas(struct inotify_event) char buf[16384];

	for (;;) {
		ssize_t len = read(nc->ifd, buf, sizeof(buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return;
		if (len <= 0) {
			flush_all(nc); /* cannot know what was missed */
			return;
		}
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			vfs_ncache_apply(nc, ev);
			p += sizeof(*ev) + ev->len;
		}
		/* Room for another event was left: the queue was empty when this read ended. */
		if ((size_t)len + sizeof(struct inotify_event) + NAME_MAX + 1 <= sizeof(buf))
			return;
	}
}

/*
 * Applies every change that completed before this call. One epoll_wait when
 * nothing happened; the inotify queue is read only when it has events.
 * Under the lock.
 */
static void drain(struct vfs_ncache *nc)
{
	struct epoll_event ev[2];
	int n = epoll_wait(nc->epfd, ev, 2, 0);

	if (n < 0) {
		/* Not knowing is treated as having missed something. */
		flush_all(nc);
		read_events(nc);
		return;
	}
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == NC_SRC_MOUNTS)
			flush_all(nc);
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == NC_SRC_INOTIFY)
			read_events(nc);
}

/*
 * Per thread: the request in which it last drained which cache, cleared when
 * it looks at the file system itself (vfs_ncache_saw_fs()).
 */
static _Thread_local uint64_t drained_req;
static _Thread_local const struct vfs_ncache *drained_nc;

void vfs_ncache_saw_fs(void)
{
	drained_req = 0;
}

/* drain(), unless this thread did since its request began and saw nothing newer. Under the lock. */
static void drain_once(struct vfs_ncache *nc)
{
	uint64_t req = be_request_current();

	if (req && req == drained_req && nc == drained_nc)
		return;
	drain(nc);
	drained_req = req;
	drained_nc = nc;
}

int vfs_ncache_lookup(struct vfs_ncache *nc, const struct be_fh *dir, const struct be_cred *cred,
		      const char *name, struct be_fh *out, uint64_t *token)
{
	struct nc_dir *d;
	struct nc_name *n = NULL;
	bool allowed = false;

	pthread_mutex_lock(&nc->lock);
	drain_once(nc);
	d = dir_find(nc, dir, fh_hash(dir));
	*token = d ? d->token : 0;
	if (d && d->wd < 0) {
		pthread_mutex_unlock(&nc->lock);
		return -EPERM;
	}
	if (d) {
		for (uint32_t i = 0; i < d->ncreds && !allowed; i++)
			allowed = cred_equal(&d->creds[i], cred);
		if (allowed)
			n = name_find(nc, d, name);
	}
	if (n) {
		*out = n->child;
		cds_list_move(&d->lru_link, &nc->lru);
	}
	pthread_mutex_unlock(&nc->lock);
	return n ? 0 : -EAGAIN;
}

uint64_t vfs_ncache_watch(struct vfs_ncache *nc, const struct be_fh *dir, int dfd)
{
	uint64_t h = fh_hash(dir), token = 0;
	struct nc_dir *d;
	char path[32];
	int wd;

	pthread_mutex_lock(&nc->lock);
	d = dir_find(nc, dir, h);
	if (d) {
		token = d->token;
		goto out;
	}
	if (nc->ndirs >= VFS_NCACHE_DIRS)
		evict_one(nc, NULL);
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	vfs_proc_path(dfd, path);
	wd = inotify_add_watch(nc->ifd, path, NC_MASK);
	/*
	 * Refused (ENOSPC: fs.inotify.max_user_watches), or another handle of
	 * a directory already watched (the kernel has one watch per inode):
	 * remembered as refused, so its lookups do not ask the kernel again
	 * until it ages out of the cache.
	 */
	d->wd = wd < 0 || dir_of_wd(nc, wd) ? -1 : wd;
	if (d->wd >= 0) {
		d->token = token = nc->next_token++;
		d->wnext = nc->wds[(unsigned)wd % NC_DIR_BUCKETS];
		nc->wds[(unsigned)wd % NC_DIR_BUCKETS] = d;
	}
	d->fh = *dir;
	d->hash = h;
	CDS_INIT_LIST_HEAD(&d->names);
	d->hnext = nc->dirs[h % NC_DIR_BUCKETS];
	nc->dirs[h % NC_DIR_BUCKETS] = d;
	cds_list_add(&d->lru_link, &nc->lru);
	nc->ndirs++;
out:
	pthread_mutex_unlock(&nc->lock);
	return token;
}

/* Records that cred may search d. */
static void add_verdict(struct nc_dir *d, const struct be_cred *cred)
{
	struct be_cred *slot;

	for (uint32_t i = 0; i < d->ncreds; i++)
		if (cred_equal(&d->creds[i], cred))
			return;
	if (d->ncreds < VFS_NCACHE_CREDS) {
		slot = &d->creds[d->ncreds++];
	} else {
		slot = &d->creds[d->next_cred];
		d->next_cred = (d->next_cred + 1) % VFS_NCACHE_CREDS;
	}
	memset(slot, 0, sizeof(*slot));
	slot->uid = cred->uid;
	slot->gid = cred->gid;
	slot->ngroups = cred->ngroups;
	memcpy(slot->groups, cred->groups, cred->ngroups * sizeof(cred->groups[0]));
}

void vfs_ncache_add(struct vfs_ncache *nc, const struct be_fh *dir, uint64_t token,
		    const struct be_cred *cred, const char *name, const struct be_fh *child)
{
	size_t len = strlen(name);
	struct nc_dir *d;
	struct nc_name *n;

	if (cred->ngroups > BE_MAX_GROUPS)
		return;
	pthread_mutex_lock(&nc->lock);
	/*
	 * What the caller found must still be true now, when it becomes visible
	 * next to entries drained up to now: any event since its token is applied
	 * (and refuses it). The cache thus always shows the export as it was at
	 * its last drain.
	 */
	drain(nc);
	drained_req = be_request_current();
	drained_nc = nc;
	d = dir_find(nc, dir, fh_hash(dir));
	if (!d || d->wd < 0 || d->token != token)
		goto out; /* something changed while the caller looked */
	add_verdict(d, cred);
	n = name_find(nc, d, name);
	if (n) {
		n->child = *child;
		goto out;
	}
	while (nc->nnames >= VFS_NCACHE_NAMES)
		if (!evict_one(nc, d))
			goto out;
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		goto out;
	n->dir = d;
	n->hash = name_hash(d, name);
	n->child = *child;
	memcpy(n->name, name, len + 1);
	n->hnext = *name_chain(nc, n->hash);
	*name_chain(nc, n->hash) = n;
	cds_list_add(&n->dir_link, &d->names);
	nc->nnames++;
out:
	pthread_mutex_unlock(&nc->lock);
}

int vfs_ncache_wd(struct vfs_ncache *nc, const struct be_fh *dir)
{
	struct nc_dir *d;
	int wd;

	pthread_mutex_lock(&nc->lock);
	d = dir_find(nc, dir, fh_hash(dir));
	wd = d ? d->wd : -1;
	pthread_mutex_unlock(&nc->lock);
	return wd;
}

size_t vfs_ncache_count(struct vfs_ncache *nc)
{
	size_t n;

	pthread_mutex_lock(&nc->lock);
	n = nc->nnames;
	pthread_mutex_unlock(&nc->lock);
	return n;
}

static int epoll_watch(int epfd, int fd, uint32_t events, uint32_t src)
{
	struct epoll_event ev = {.events = events, .data.u32 = src};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int vfs_ncache_create(struct vfs_ncache **out)
{
	struct vfs_ncache *nc = calloc(1, sizeof(*nc));
	int err;

	*out = NULL;
	if (!nc)
		return -ENOMEM;
	pthread_mutex_init(&nc->lock, NULL);
	CDS_INIT_LIST_HEAD(&nc->lru);
	nc->next_token = 1;
	nc->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	nc->mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	nc->epfd = epoll_create1(EPOLL_CLOEXEC);
	err = nc->ifd < 0 || nc->mfd < 0 || nc->epfd < 0 ? -errno : 0;
	if (!err)
		err = epoll_watch(nc->epfd, nc->ifd, EPOLLIN, NC_SRC_INOTIFY);
	/* The mount table's file polls POLLPRI (and POLLERR) after any change to it. */
	if (!err)
		err = epoll_watch(nc->epfd, nc->mfd, EPOLLPRI, NC_SRC_MOUNTS);
	if (err) {
		vfs_ncache_destroy(nc);
		return err;
	}
	*out = nc;
	return 0;
}

void vfs_ncache_destroy(struct vfs_ncache *nc)
{
	if (!nc)
		return;
	while (!cds_list_empty(&nc->lru))
		dir_free(nc, cds_list_entry(nc->lru.next, struct nc_dir, lru_link), false);
	if (nc->epfd >= 0)
		close(nc->epfd);
	if (nc->mfd >= 0)
		close(nc->mfd);
	if (nc->ifd >= 0)
		close(nc->ifd); /* and with it every watch */
	pthread_mutex_destroy(&nc->lock);
	free(nc);
}
