/*
 * The vfs backend's LOOKUP name cache (src/backend/vfs_ncache.c), alone:
 * hits only for callers known to may search, what each inotify event drops
 * (fed by the kernel from real changes, and by hand for those a test cannot
 * make the kernel send: IN_Q_OVERFLOW, IN_IGNORED), that an add racing with
 * an event adds nothing, the bound on names, a directory the kernel will
 * not watch, and — where the test may make
 * a mount namespace of its own — that a mount drops everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/vfs_internal.h"
#include "backend/vfs_ncache.h"
#include "util/limits.h"

static char top[200];

static struct be_fh key(uint32_t i)
{
	struct be_fh k = {.len = 24};

	memcpy(k.data, &i, sizeof(i));
	k.data[20] = 0x5a;
	return k;
}

static const struct be_cred root = {0};
static const struct be_cred user = {.uid = 1000, .gid = 1000, .ngroups = 1, .groups = {1000}};

/* A fresh directory under top, open O_PATH (*fd) and by path (path, 256 bytes). */
static void new_dir(const char *name, char *path, int *fd)
{
	snprintf(path, 256, "%s/%s", top, name);
	assert_int_equal(mkdir(path, 0755), 0);
	*fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(*fd >= 0);
}

static void touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static int lookup(struct vfs_ncache *nc, uint32_t dir, const struct be_cred *cred, const char *name,
		  struct be_fh *out)
{
	struct be_fh d = key(dir);
	uint64_t token;

	return vfs_ncache_lookup(nc, &d, cred, name, out, &token);
}

/* Watches key(dir) (open as fd) and caches name -> key(child) for cred. */
static void cache(struct vfs_ncache *nc, uint32_t dir, int fd, const struct be_cred *cred,
		  const char *name, uint32_t child)
{
	struct be_fh d = key(dir), c = key(child);
	uint64_t token = vfs_ncache_watch(nc, &d, fd);

	assert_true(token != 0);
	vfs_ncache_add(nc, &d, token, cred, name, &c);
}

static void test_hit_and_callers(void **state)
{
	struct vfs_ncache *nc;
	struct be_fh out, want = key(11);
	char path[256];
	int fd;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("hit", path, &fd);
	touch(path, "a");
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	cache(nc, 1, fd, &root, "a", 11);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	assert_memory_equal(&out, &want, sizeof(out));
	/* Another caller was never seen searching the directory. */
	assert_int_equal(lookup(nc, 1, &user, "a", &out), -EAGAIN);
	assert_int_equal(lookup(nc, 1, &root, "b", &out), -EAGAIN);
	assert_int_equal(lookup(nc, 2, &root, "a", &out), -EAGAIN);
	cache(nc, 1, fd, &user, "a", 11);
	assert_int_equal(lookup(nc, 1, &user, "a", &out), 0);
	/* The same uid with other groups is another caller. */
	struct be_cred other = user;

	other.groups[0] = 0;
	assert_int_equal(lookup(nc, 1, &other, "a", &out), -EAGAIN);
	assert_int_equal(vfs_ncache_count(nc), 1);
	close(fd);
	vfs_ncache_destroy(nc);
}

/* Every change of a name in the directory, by the kernel's own events. */
static void test_local_changes(void **state)
{
	struct vfs_ncache *nc;
	struct be_fh out;
	char path[256], a[512], b[512];
	int fd;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("local", path, &fd);
	touch(path, "a");
	touch(path, "b");
	snprintf(a, sizeof(a), "%s/a", path);
	snprintf(b, sizeof(b), "%s/b", path);
	/* rename away */
	cache(nc, 1, fd, &root, "a", 11);
	cache(nc, 1, fd, &root, "b", 12);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	assert_int_equal(lookup(nc, 1, &root, "b", &out), -EAGAIN);
	/* unlink */
	cache(nc, 1, fd, &root, "b", 12);
	assert_int_equal(unlink(b), 0);
	assert_int_equal(lookup(nc, 1, &root, "b", &out), -EAGAIN);
	/* create (a name that was cached while it did not exist cannot be, but) */
	cache(nc, 1, fd, &root, "c", 13);
	touch(path, "c");
	assert_int_equal(lookup(nc, 1, &root, "c", &out), -EAGAIN);
	/* chmod of the directory: names stay, callers must be asked again */
	cache(nc, 1, fd, &root, "c", 13);
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(lookup(nc, 1, &root, "c", &out), -EAGAIN);
	assert_int_equal(vfs_ncache_count(nc), 1);
	/* chmod of a child changes no name */
	snprintf(a, sizeof(a), "%s/c", path);
	cache(nc, 1, fd, &root, "c", 13);
	assert_int_equal(chmod(a, 0600), 0);
	assert_int_equal(lookup(nc, 1, &root, "c", &out), 0);
	close(fd);
	vfs_ncache_destroy(nc);
}

static void test_overflow_drops_everything(void **state)
{
	struct vfs_ncache *nc;
	struct inotify_event ev = {.wd = -1, .mask = IN_Q_OVERFLOW};
	struct be_fh out, d1 = key(1), c = key(99);
	char p1[256], p2[256];
	uint64_t token;
	int fd1, fd2;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("ovf1", p1, &fd1);
	new_dir("ovf2", p2, &fd2);
	cache(nc, 1, fd1, &root, "a", 11);
	cache(nc, 2, fd2, &root, "b", 12);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	/* A lookup in flight, from before the overflow. */
	token = vfs_ncache_watch(nc, &d1, fd1);
	vfs_ncache_apply(nc, &ev);
	assert_int_equal(vfs_ncache_count(nc), 0);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	assert_int_equal(lookup(nc, 2, &root, "b", &out), -EAGAIN);
	/* What it found may predate a lost event: not added. */
	vfs_ncache_add(nc, &d1, token, &root, "z", &c);
	assert_int_equal(lookup(nc, 1, &root, "z", &out), -EAGAIN);
	/* The watches stay: caching works again at once. */
	cache(nc, 1, fd1, &root, "a", 11);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	close(fd1);
	close(fd2);
	vfs_ncache_destroy(nc);
}

/* An event applied between a lookup's start and its add: the add is refused. */
static void test_add_racing_an_event(void **state)
{
	struct vfs_ncache *nc;
	alignas(struct inotify_event) char buf[sizeof(struct inotify_event) + 16] = {0};
	struct inotify_event *ev = (struct inotify_event *)buf;
	struct be_fh out, d = key(1), c = key(11);
	char path[256];
	uint64_t token;
	int fd;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("race", path, &fd);
	token = vfs_ncache_watch(nc, &d, fd);
	ev->wd = vfs_ncache_wd(nc, &d);
	ev->mask = IN_DELETE;
	ev->len = 16;
	strcpy(ev->name, "other");
	assert_true(ev->wd >= 0);
	vfs_ncache_apply(nc, ev);
	vfs_ncache_add(nc, &d, token, &root, "a", &c);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	/* A child's IN_ATTRIB changes no name, and no token. */
	token = vfs_ncache_watch(nc, &d, fd);
	ev->mask = IN_ATTRIB;
	vfs_ncache_apply(nc, ev);
	vfs_ncache_add(nc, &d, token, &root, "a", &c);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	close(fd);
	vfs_ncache_destroy(nc);
}

static void test_self_events(void **state)
{
	struct vfs_ncache *nc;
	struct inotify_event ev = {0};
	struct be_fh out, d = key(1);
	char path[256];
	uint64_t gen;
	int fd;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("self", path, &fd);
	cache(nc, 1, fd, &root, "a", 11);
	ev.wd = vfs_ncache_wd(nc, &d);
	/* Moved: names stay, "inside the export" verdicts do not. */
	gen = vfs_inside_gen();
	ev.mask = IN_MOVE_SELF;
	vfs_ncache_apply(nc, &ev);
	assert_true(vfs_inside_gen() != gen);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	ev.mask = IN_DELETE_SELF;
	vfs_ncache_apply(nc, &ev);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	/* The watch is gone: the directory is forgotten, and can be watched anew. */
	ev.mask = IN_IGNORED;
	vfs_ncache_apply(nc, &ev);
	assert_int_equal(vfs_ncache_wd(nc, &d), -1);
	cache(nc, 1, fd, &root, "a", 11);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	/*
	 * No test of the kernel's IN_DELETE_SELF: it comes only when the last
	 * reference to the directory goes, and the fd cache holds one. Nothing
	 * relies on it: a directory is empty when removed, and each of its
	 * names went with an event.
	 */
	close(fd);
	vfs_ncache_destroy(nc);
}

/* At most VFS_NCACHE_NAMES names: past it, the least recently used directory goes. */
static void test_bound(void **state)
{
	struct vfs_ncache *nc;
	struct be_fh out, d1 = key(1), d2 = key(2), c = key(11);
	char p1[256], p2[256], name[32];
	uint64_t t2;
	int fd1, fd2;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("bound1", p1, &fd1);
	new_dir("bound2", p2, &fd2);
	cache(nc, 1, fd1, &root, "a", 11);
	t2 = vfs_ncache_watch(nc, &d2, fd2);
	for (uint32_t i = 0; i < VFS_NCACHE_NAMES; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		vfs_ncache_add(nc, &d2, t2, &root, name, &c);
	}
	assert_int_equal(vfs_ncache_count(nc), VFS_NCACHE_NAMES);
	assert_int_equal(vfs_ncache_wd(nc, &d1), -1);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), -EAGAIN);
	/* One directory alone at the bound: nothing more is added. */
	vfs_ncache_add(nc, &d2, t2, &root, "more", &c);
	assert_int_equal(vfs_ncache_count(nc), VFS_NCACHE_NAMES);
	assert_int_equal(lookup(nc, 2, &root, "n0", &out), 0);
	close(fd1);
	close(fd2);
	vfs_ncache_destroy(nc);
}

/* A directory that cannot be watched is remembered as such, and never cached. */
static void test_refused_watch(void **state)
{
	struct vfs_ncache *nc;
	struct be_fh out, d1 = key(1), d2 = key(2), c = key(11);
	char path[256];
	uint64_t token;
	int fd;

	(void)state;
	assert_int_equal(vfs_ncache_create(&nc), 0);
	new_dir("refused", path, &fd);
	assert_true(vfs_ncache_watch(nc, &d1, fd) != 0);
	/* Another handle of the same directory: the kernel's one watch is d1's. */
	assert_int_equal(vfs_ncache_watch(nc, &d2, fd), 0);
	assert_int_equal(vfs_ncache_lookup(nc, &d2, &root, "a", &out, &token), -EPERM);
	assert_int_equal(token, 0);
	assert_int_equal(vfs_ncache_watch(nc, &d2, fd), 0);
	vfs_ncache_add(nc, &d2, 0, &root, "a", &c);
	assert_int_equal(vfs_ncache_count(nc), 0);
	/* d1 still works, and d2's record goes without touching d1's watch. */
	cache(nc, 1, fd, &root, "a", 11);
	assert_int_equal(lookup(nc, 1, &root, "a", &out), 0);
	close(fd);
	vfs_ncache_destroy(nc);
}

/* A mount is no inotify event: the mount table's poll drops everything. */
static void test_mount_drops_everything(void **state)
{
	struct vfs_ncache *nc;
	struct be_fh out;
	char path[256], sub[512];
	int fd;

	(void)state;
	new_dir("mnt", path, &fd);
	snprintf(sub, sizeof(sub), "%s/sub", path);
	assert_int_equal(mkdir(sub, 0755), 0);
	/*
	 * A mount namespace of our own (root only), so nothing leaks to the
	 * machine, where a tmpfs may be mounted (not in every container).
	 */
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("nfs4d-test", sub, "tmpfs", 0, NULL) != 0 || umount(sub) != 0) {
		close(fd);
		skip();
		return;
	}
	assert_int_equal(vfs_ncache_create(&nc), 0);
	cache(nc, 1, fd, &root, "sub", 11);
	assert_int_equal(lookup(nc, 1, &root, "sub", &out), 0);
	assert_int_equal(mount("nfs4d-test", sub, "tmpfs", 0, NULL), 0);
	assert_int_equal(lookup(nc, 1, &root, "sub", &out), -EAGAIN);
	cache(nc, 1, fd, &root, "sub", 11);
	assert_int_equal(umount(sub), 0);
	assert_int_equal(lookup(nc, 1, &root, "sub", &out), -EAGAIN);
	close(fd);
	vfs_ncache_destroy(nc);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(top, sizeof(top), "%s/nfs4d-ncache-XXXXXX", t && t[0] ? t : "/tmp");
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_callers),
		cmocka_unit_test(test_local_changes),
		cmocka_unit_test(test_overflow_drops_everything),
		cmocka_unit_test(test_add_racing_an_event),
		cmocka_unit_test(test_self_events),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_refused_watch),
		cmocka_unit_test(test_mount_drops_everything),
	};

	return cmocka_run_group_tests_name("vfs_ncache", tests, setup, teardown);
}
