/*
 * The vfs backend (src/backend/vfs*.c): the shared conformance suite in both
 * handle modes, plus what only vfs has — handles that survive a restart,
 * escape attempts out of the export, and per-thread credentials checked by
 * the kernel. Each test gets a fresh directory under /tmp, removed after.
 * Credential tests need root (CI runs as root); they skip otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/vfs.h"
#include "tests/unit/backend_conformance.h"

/* Which constructor the current group uses. */
static bool volatile_mode;

struct fixture {
	char dir[64];
	char outside[64]; /* a sibling of the export on the same filesystem */
	struct backend *be;
	struct be_fh root;
};

static const struct be_cred root_cred = {.uid = 0, .gid = 0};

static struct be_cred user(uint32_t uid, uint32_t gid)
{
	struct be_cred c = {.uid = uid, .gid = gid};

	return c;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_be(const char *dir, struct backend **be)
{
	return volatile_mode ? be_vfs_create_volatile(dir, be) : be_vfs_create(dir, be);
}

static int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/nfs4d-vfs-XXXXXX");
	strcpy(f->outside, "/tmp/nfs4d-out-XXXXXX");
	if (!mkdtemp(f->dir) || !mkdtemp(f->outside) || chmod(f->dir, 0755) != 0)
		return -1;
	if (make_be(f->dir, &f->be) != 0)
		return -1;
	f->be->ops->root(f->be, &f->root);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->be)
		f->be->ops->destroy(f->be);
	rm_tree(f->dir);
	rm_tree(f->outside);
	free(f);
	return 0;
}

/* ---- small helpers ---- */

static int mk(struct fixture *f, const struct be_cred *c, const struct be_fh *dir, const char *name,
	      enum be_ftype type, uint32_t mode, const char *target, struct be_fh *out,
	      struct be_attr *attr)
{
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = mode};
	struct be_fh fh;
	struct be_attr a;
	struct be_dirchange dc;

	return f->be->ops->create(f->be, c, dir, name, type, &sa, target, 0, 0, out ? out : &fh,
				  attr ? attr : &a, &dc);
}

static void mk_ok(struct fixture *f, const struct be_fh *dir, const char *name, enum be_ftype type,
		  uint32_t mode, struct be_fh *out)
{
	assert_int_equal(mk(f, &root_cred, dir, name, type, mode, NULL, out, NULL), 0);
}

static int lookup(struct fixture *f, const struct be_cred *c, const struct be_fh *dir,
		  const char *name, struct be_fh *out, struct be_attr *attr)
{
	struct be_attr a;

	return f->be->ops->lookup(f->be, c, dir, name, out, attr ? attr : &a);
}

static int getattr(struct fixture *f, const struct be_fh *fh, struct be_attr *out)
{
	return f->be->ops->getattr(f->be, &root_cred, fh, out);
}

static int write_str(struct fixture *f, const struct be_cred *c, const struct be_fh *fh,
		     uint64_t off, const char *s)
{
	size_t n;
	enum be_stable st;

	return f->be->ops->write(f->be, c, fh, off, s, strlen(s), BE_UNSTABLE, &n, &st);
}

static char *path_in(struct fixture *f, const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", f->dir, rel);
	return buf;
}

static bool kernel_handles_work(const char *dir)
{
	_Alignas(struct file_handle) unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	struct file_handle *h = (struct file_handle *)raw;
	int mnt, fd;

	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, dir, h, &mnt, 0) != 0)
		return false;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	int r = open_by_handle_at(fd, h, O_PATH);

	close(fd);
	if (r < 0)
		return false;
	close(r);
	return true;
}

/* ---- handle mode and persistence ---- */

/* The mode is what the environment allows, and is reported honestly. */
static void test_mode_reported(void **state)
{
	struct fixture *f = *state;
	bool expect = !volatile_mode && kernel_handles_work(f->dir);

	assert_int_equal(f->be->ops->persistent_handles(f->be), expect);
	if (!volatile_mode && !expect)
		print_message("note: %s has no kernel handles here; volatile fallback\n", f->dir);
}

static void test_env_selects_volatile(void **state)
{
	struct fixture *f = *state;
	struct backend *be;

	setenv("NFS4D_VFS_VOLATILE", "1", 1);
	assert_int_equal(be_vfs_create(f->dir, &be), 0);
	unsetenv("NFS4D_VFS_VOLATILE");
	assert_false(be->ops->persistent_handles(be));
	be->ops->destroy(be);
}

/*
 * A handle from one backend instance works in the next one over the same
 * directory when handles are persistent, and is -ESTALE when they are not.
 */
static void test_handle_across_restart(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh, dfh, root2;
	struct be_attr a, b;
	bool persistent = f->be->ops->persistent_handles(f->be);

	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	mk_ok(f, &dfh, "file", BE_REG, 0644, &fh);
	assert_int_equal(write_str(f, &root_cred, &fh, 0, "hello"), 0);
	assert_int_equal(getattr(f, &fh, &a), 0);
	f->be->ops->destroy(f->be);
	f->be = NULL;

	assert_int_equal(make_be(f->dir, &f->be), 0);
	f->be->ops->root(f->be, &root2);
	if (persistent) {
		assert_int_equal(root2.len, f->root.len);
		assert_memory_equal(root2.data, f->root.data, root2.len);
		assert_int_equal(getattr(f, &fh, &b), 0);
		assert_int_equal(b.fileid, a.fileid);
		assert_int_equal(b.size, 5);
		char buf[8];
		size_t got;
		bool eof;

		assert_int_equal(
			f->be->ops->read(f->be, &root_cred, &fh, 0, buf, sizeof(buf), &got, &eof),
			0);
		assert_int_equal(got, 5);
		assert_memory_equal(buf, "hello", 5);
		assert_int_equal(getattr(f, &dfh, &b), 0);
		/* And a lookup in the new instance gives the very same bytes. */
		struct be_fh again;

		assert_int_equal(lookup(f, &root_cred, &dfh, "file", &again, NULL), 0);
		assert_int_equal(again.len, fh.len);
		assert_memory_equal(again.data, fh.data, fh.len);
	} else {
		assert_int_equal(getattr(f, &fh, &b), -ESTALE);
		assert_int_equal(getattr(f, &dfh, &b), -ESTALE);
	}
}

/* The same object always gets the same handle; different objects different ones. */
static void test_handle_stable(void **state)
{
	struct fixture *f = *state;
	struct be_fh a, b, c;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &a);
	mk_ok(f, &f->root, "y", BE_REG, 0644, &c);
	assert_int_equal(lookup(f, &root_cred, &f->root, "x", &b, NULL), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_true(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
	assert_true(a.len <= BE_FH_MAX);
}

static void test_malformed_and_forged_handles(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh, bad;
	struct be_attr a;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &fh);
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(getattr(f, &bad, &a), -EBADF); /* len 0 */
	bad = fh;
	bad.len = 5;
	assert_int_equal(getattr(f, &bad, &a), -EBADF);
	bad.len = BE_FH_MAX + 1;
	assert_int_equal(getattr(f, &bad, &a), -EBADF);
	bad = fh;
	bad.data[0] ^= 0xff; /* unknown kind */
	assert_int_equal(getattr(f, &bad, &a), -EBADF);
	/* Every single-bit change of a valid handle is refused, none reaches a file. */
	for (uint32_t i = 0; i < fh.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int r;

			bad = fh;
			bad.data[i] ^= (uint8_t)(1u << bit);
			r = getattr(f, &bad, &a);
			if (r != -ESTALE && r != -EBADF)
				fail_msg("flipping byte %u bit %d: %d", i, bit, r);
		}
	}
	/* Truncated and extended copies too. */
	bad = fh;
	bad.len = fh.len - 1;
	assert_true(getattr(f, &bad, &a) < 0);
	bad = fh;
	bad.len = fh.len + 1;
	assert_true(getattr(f, &bad, &a) < 0);
}

/* A handle of the other mode (or of another export) is well-formed but not ours. */
static void test_foreign_handle(void **state)
{
	struct fixture *f = *state;
	struct backend *other;
	struct be_fh ofh, oroot;
	struct be_attr a;
	char dir2[64];

	strcpy(dir2, "/tmp/nfs4d-vfs2-XXXXXX");
	assert_non_null(mkdtemp(dir2));
	assert_int_equal(be_vfs_create_volatile(dir2, &other), 0);
	other->ops->root(other, &oroot);
	assert_int_equal(other->ops->create(other, &root_cred, &oroot, "o", BE_REG,
					    &(struct be_sattr){.mask = BE_SET_MODE, .mode = 0644},
					    NULL, 0, 0, &ofh, &a,
					    &(struct be_dirchange){.atomic = false}),
			 0);
	assert_int_equal(getattr(f, &ofh, &a), -ESTALE);
	assert_int_equal(getattr(f, &oroot, &a), -ESTALE);
	other->ops->destroy(other);
	if (!volatile_mode && f->be->ops->persistent_handles(f->be)) {
		/* A persistent export over another directory has another key. */
		assert_int_equal(be_vfs_create(dir2, &other), 0);
		other->ops->root(other, &oroot);
		assert_int_equal(getattr(f, &oroot, &a), -ESTALE);
		other->ops->destroy(other);
	}
	rm_tree(dir2);
}

/*
 * A handle crafted from the kernel handle of a file outside the export (same
 * filesystem) in place of an inside one's is refused.
 */
static void test_crafted_outside_handle(void **state)
{
	struct fixture *f = *state;
	_Alignas(struct file_handle) unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	struct file_handle *h = (struct file_handle *)raw;
	struct be_fh fh, forged;
	struct be_attr a;
	char secret[128];
	int mnt, fd;

	mk_ok(f, &f->root, "inside", BE_REG, 0644, &fh);
	snprintf(secret, sizeof(secret), "%s/secret", f->outside);
	fd = open(secret, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, secret, h, &mnt, 0) != 0) {
		print_message("no kernel handles here: crafting skipped\n");
		return;
	}
	/* Same layout as a persistent handle, the outside file's kernel handle in it. */
	forged = fh;
	memcpy(forged.data + 4, &h->handle_type, 4);
	memcpy(forged.data + 16, h->f_handle, h->handle_bytes);
	forged.len = 16 + h->handle_bytes;
	assert_int_equal(getattr(f, &forged, &a), volatile_mode ? -EBADF : -ESTALE);
	/* The outside directory as well. */
	h->handle_bytes = MAX_HANDLE_SZ;
	assert_int_equal(name_to_handle_at(AT_FDCWD, f->outside, h, &mnt, 0), 0);
	forged.data[1] = BE_DIR;
	memcpy(forged.data + 4, &h->handle_type, 4);
	memcpy(forged.data + 16, h->f_handle, h->handle_bytes);
	forged.len = 16 + h->handle_bytes;
	assert_int_equal(getattr(f, &forged, &a), volatile_mode ? -EBADF : -ESTALE);
}

/*
 * getattr of fh until it fails, for at most 5 s: a directory's "inside the
 * export" verdict is cached for up to a second (VFS_INSIDE_TTL_MS).
 */
static int getattr_until_refused(struct fixture *f, const struct be_fh *fh)
{
	struct be_attr a;
	int r = 0;

	for (int i = 0; i < 200 && r == 0; i++) {
		r = getattr(f, fh, &a);
		if (r == 0)
			usleep(25000);
	}
	return r;
}

/* A directory moved out of the export by a local process is no longer reachable (soon). */
static void test_dir_moved_outside(void **state)
{
	struct fixture *f = *state;
	struct be_fh dfh, sub, x;
	struct be_attr a;
	char from[128], to[128];

	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	mk_ok(f, &dfh, "sub", BE_DIR, 0755, &sub);
	assert_int_equal(getattr(f, &sub, &a), 0);
	snprintf(from, sizeof(from), "%s/d", f->dir);
	snprintf(to, sizeof(to), "%s/d", f->outside);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(getattr_until_refused(f, &dfh), -ESTALE);
	assert_int_equal(getattr(f, &sub, &a), -ESTALE);
	assert_int_equal(lookup(f, &root_cred, &sub, "x", &x, NULL), -ESTALE);
	assert_int_equal(f->be->ops->lookupp(f->be, &root_cred, &sub, &x, &a), -ESTALE);
	/* Back inside, it works again (persistent) or stays known (volatile). */
	assert_int_equal(rename(to, from), 0);
	assert_int_equal(getattr(f, &sub, &a), 0);
}

/* Any RENAME of a directory through the backend voids the cached verdicts at once. */
static void test_dir_moved_outside_then_rename(void **state)
{
	struct fixture *f = *state;
	struct be_fh dfh, sub, e;
	struct be_dirchange dc, dc2;
	struct be_attr a;
	char from[128], to[128];

	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	mk_ok(f, &dfh, "sub", BE_DIR, 0755, &sub);
	mk_ok(f, &f->root, "e", BE_DIR, 0755, &e);
	assert_int_equal(getattr(f, &sub, &a), 0);
	snprintf(from, sizeof(from), "%s/d", f->dir);
	snprintf(to, sizeof(to), "%s/d", f->outside);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(
		f->be->ops->rename(f->be, &root_cred, &f->root, "e", &f->root, "e2", &dc, &dc2), 0);
	assert_int_equal(getattr(f, &sub, &a), -ESTALE);
	assert_int_equal(getattr(f, &dfh, &a), -ESTALE);
	assert_int_equal(getattr(f, &e, &a), 0);
}

/* Removed or replaced behind the backend's back while its fd is cached: stale. */
static void test_cached_then_replaced_locally(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh, dfh, again;
	struct be_attr a, b;
	char p[128], q[128];
	int fd;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &fh);
	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	assert_int_equal(getattr(f, &fh, &a), 0);
	assert_int_equal(getattr(f, &dfh, &a), 0);
	/* A new file renamed over x, as editors save. */
	fd = open(path_in(f, "x.new", q, sizeof(q)), O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rename(q, path_in(f, "x", p, sizeof(p))), 0);
	assert_int_equal(getattr(f, &fh, &a), -ESTALE);
	assert_int_equal(lookup(f, &root_cred, &f->root, "x", &again, &b), 0);
	assert_true(again.len != fh.len || memcmp(again.data, fh.data, fh.len) != 0);
	assert_int_equal(getattr(f, &again, &a), 0);
	assert_int_equal(a.fileid, b.fileid);
	assert_int_equal(rmdir(path_in(f, "d", p, sizeof(p))), 0);
	assert_int_equal(getattr(f, &dfh, &a), -ESTALE);
	assert_int_equal(lookup(f, &root_cred, &dfh, "y", &again, NULL), -ESTALE);
}

/*
 * A LOOKUP of a cached object takes it by name without opening it; names
 * moved to other cached objects locally, of another type too, and symlinks
 * to cached directories must still give the object the name has now.
 */
static void test_lookup_cached_names_moved_locally(void **state)
{
	struct fixture *f = *state;
	struct be_fh afh, bfh, dfh, lfh, got, again;
	struct be_attr a, b;
	char p[128], q[128];

	mk_ok(f, &f->root, "a", BE_REG, 0644, &afh);
	mk_ok(f, &f->root, "b", BE_REG, 0644, &bfh);
	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	assert_int_equal(getattr(f, &bfh, &b), 0);
	assert_int_equal(lookup(f, &root_cred, &f->root, "a", &got, &a), 0);
	assert_memory_equal(got.data, afh.data, afh.len);
	/* b's object, cached, takes the name a. */
	assert_int_equal(rename(path_in(f, "b", p, sizeof(p)), path_in(f, "a", q, sizeof(q))), 0);
	assert_int_equal(lookup(f, &root_cred, &f->root, "a", &got, &a), 0);
	assert_int_equal(got.len, bfh.len);
	assert_memory_equal(got.data, bfh.data, bfh.len);
	assert_int_equal(a.fileid, b.fileid);
	assert_int_equal(lookup(f, &root_cred, &f->root, "b", &got, &a), -ENOENT);
	/* The cached directory takes the name of the file. */
	assert_int_equal(getattr(f, &dfh, &b), 0);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(rename(path_in(f, "d", p, sizeof(p)), q), 0);
	assert_int_equal(lookup(f, &root_cred, &f->root, "a", &got, &a), 0);
	assert_memory_equal(got.data, dfh.data, dfh.len);
	assert_int_equal(a.type, BE_DIR);
	assert_int_equal(a.fileid, b.fileid);
	/* A symlink to the cached directory is the symlink, looked up twice. */
	assert_int_equal(symlink("a", path_in(f, "l", p, sizeof(p))), 0);
	assert_int_equal(lookup(f, &root_cred, &f->root, "l", &lfh, &a), 0);
	assert_int_equal(a.type, BE_LNK);
	assert_int_equal(lookup(f, &root_cred, &f->root, "l", &again, &b), 0);
	assert_int_equal(b.type, BE_LNK);
	assert_int_equal(again.len, lfh.len);
	assert_memory_equal(again.data, lfh.data, lfh.len);
	assert_true(again.len != dfh.len || memcmp(again.data, dfh.data, dfh.len) != 0);
	/* A cached directory, proven inside, removed locally: its handle is stale, not empty. */
	mk_ok(f, &f->root, "e", BE_DIR, 0755, &dfh);
	mk_ok(f, &dfh, "f", BE_REG, 0644, &afh);
	assert_int_equal(lookup(f, &root_cred, &dfh, "f", &got, &a), 0);
	assert_int_equal(lookup(f, &root_cred, &dfh, "f", &got, &a), 0);
	assert_int_equal(unlink(path_in(f, "e/f", p, sizeof(p))), 0);
	assert_int_equal(rmdir(path_in(f, "e", p, sizeof(p))), 0);
	assert_int_equal(lookup(f, &root_cred, &dfh, "f", &got, &a), -ESTALE);
}

static void test_removed_is_stale(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh, dfh;
	struct be_attr a;
	struct be_dirchange dc;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &fh);
	mk_ok(f, &f->root, "d", BE_DIR, 0755, &dfh);
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, "x", &dc), 0);
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, "d", &dc), 0);
	assert_int_equal(getattr(f, &fh, &a), -ESTALE);
	assert_int_equal(getattr(f, &dfh, &a), -ESTALE);
	/* Removed behind the backend's back too. */
	char p[128];

	mk_ok(f, &f->root, "y", BE_REG, 0644, &fh);
	assert_int_equal(unlink(path_in(f, "y", p, sizeof(p))), 0);
	assert_int_equal(getattr(f, &fh, &a), -ESTALE);
}

/* ---- escapes ---- */

static void test_symlink_escapes(void **state)
{
	struct fixture *f = *state;
	const char *targets[] = {"/etc", "../../../../../../etc", "..", "/", "/etc/passwd"};
	struct be_fh l, x, d;
	struct be_attr a;
	char buf[BE_PATH_MAX];
	size_t len;
	uint64_t verf;
	bool eof;

	mk_ok(f, &f->root, "d", BE_DIR, 0755, &d);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "l%zu", i);
		assert_int_equal(mk(f, &root_cred, &d, name, BE_LNK, 0777, targets[i], NULL, NULL),
				 0);
		/* Lookup gives the link itself. */
		assert_int_equal(lookup(f, &root_cred, &d, name, &l, &a), 0);
		assert_int_equal(a.type, BE_LNK);
		len = sizeof(buf);
		assert_int_equal(f->be->ops->readlink(f->be, &root_cred, &l, buf, &len), 0);
		assert_int_equal(len, strlen(targets[i]));
		assert_memory_equal(buf, targets[i], len);
		/* Nothing goes through it. */
		assert_int_equal(lookup(f, &root_cred, &l, "passwd", &x, NULL), -ENOTDIR);
		assert_int_equal(lookup(f, &root_cred, &l, "etc", &x, NULL), -ENOTDIR);
		assert_int_equal(f->be->ops->lookupp(f->be, &root_cred, &l, &x, &a), -ENOTDIR);
		assert_int_equal(
			f->be->ops->readdir(f->be, &root_cred, &l, 0, NULL, NULL, &verf, &eof),
			-ENOTDIR);
		assert_int_equal(mk(f, &root_cred, &l, "new", BE_REG, 0644, NULL, NULL, NULL),
				 -ENOTDIR);
		size_t n;

		assert_int_equal(f->be->ops->read(f->be, &root_cred, &l, 0, buf, 16, &n, &eof),
				 -EINVAL);
		enum be_stable st;

		assert_int_equal(
			f->be->ops->write(f->be, &root_cred, &l, 0, "x", 1, BE_UNSTABLE, &n, &st),
			-EINVAL);
		/* setattr acts on the link, never on its target. */
		struct be_sattr sa = {.mask = BE_SET_SIZE, .size = 0};

		assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &l, &sa, &a), -EINVAL);
	}
	/* A symlinked directory inside the export cannot be used as a path either. */
	struct stat st;

	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_true(st.st_size > 0);
}

/* A symlink planted by a local process, and a symlinked parent. */
static void test_local_symlink_planted(void **state)
{
	struct fixture *f = *state;
	struct be_fh l, x;
	struct be_attr a;
	char p[128];

	assert_int_equal(symlink(f->outside, path_in(f, "out", p, sizeof(p))), 0);
	assert_int_equal(lookup(f, &root_cred, &f->root, "out", &l, &a), 0);
	assert_int_equal(a.type, BE_LNK);
	assert_int_equal(lookup(f, &root_cred, &l, "secret", &x, NULL), -ENOTDIR);
	/* Creating through it, or renaming/linking into it, is refused. */
	struct be_dirchange dc, dc2;
	struct be_fh fh;

	mk_ok(f, &f->root, "file", BE_REG, 0644, &fh);
	assert_int_equal(
		f->be->ops->rename(f->be, &root_cred, &f->root, "file", &l, "file", &dc, &dc2),
		-ENOTDIR);
	assert_int_equal(f->be->ops->link(f->be, &root_cred, &fh, &l, "file", &dc), -ENOTDIR);
	/* Removing the link removes the link only. */
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, "out", &dc), 0);
	struct stat st;

	assert_int_equal(stat(f->outside, &st), 0);
}

static void test_bad_names(void **state)
{
	struct fixture *f = *state;
	const char *names[] = {"", ".", "..", "a/b", "/etc", "../x"};
	struct be_fh x, fh;
	struct be_dirchange dc, dc2;
	char longname[BE_NAME_MAX + 2];

	mk_ok(f, &f->root, "file", BE_REG, 0644, &fh);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];

		assert_int_equal(lookup(f, &root_cred, &f->root, n, &x, NULL), -EINVAL);
		assert_int_equal(mk(f, &root_cred, &f->root, n, BE_REG, 0644, NULL, NULL, NULL),
				 -EINVAL);
		assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, n, &dc), -EINVAL);
		assert_int_equal(f->be->ops->rename(f->be, &root_cred, &f->root, "file", &f->root,
						    n, &dc, &dc2),
				 -EINVAL);
		assert_int_equal(f->be->ops->rename(f->be, &root_cred, &f->root, n, &f->root,
						    "file2", &dc, &dc2),
				 -EINVAL);
		assert_int_equal(f->be->ops->link(f->be, &root_cred, &fh, &f->root, n, &dc),
				 -EINVAL);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(lookup(f, &root_cred, &f->root, longname, &x, NULL), -ENAMETOOLONG);
}

static void test_lookupp(void **state)
{
	struct fixture *f = *state;
	struct be_fh d, e, p;
	struct be_attr a, ra;

	assert_int_equal(f->be->ops->lookupp(f->be, &root_cred, &f->root, &p, &a), -ENOENT);
	mk_ok(f, &f->root, "d", BE_DIR, 0755, &d);
	mk_ok(f, &d, "e", BE_DIR, 0755, &e);
	assert_int_equal(f->be->ops->lookupp(f->be, &root_cred, &e, &p, &a), 0);
	assert_int_equal(p.len, d.len);
	assert_memory_equal(p.data, d.data, d.len);
	assert_int_equal(f->be->ops->lookupp(f->be, &root_cred, &d, &p, &a), 0);
	assert_int_equal(p.len, f->root.len);
	assert_memory_equal(p.data, f->root.data, p.len);
	assert_int_equal(getattr(f, &f->root, &ra), 0);
	assert_int_equal(a.fileid, ra.fileid);
}

/* ---- operations ---- */

struct rd_ctx {
	int n;
	int stop_after;
	uint64_t last;
	bool bad_cookie;
	bool dots;
	char seen[400];
};

static bool rd_cb(void *ctx, const struct be_dirent *ent)
{
	struct rd_ctx *c = ctx;
	int idx;

	if (c->stop_after && c->n == c->stop_after)
		return false;
	if (ent->cookie <= 2)
		c->bad_cookie = true;
	if (strcmp(ent->name, ".") == 0 || strcmp(ent->name, "..") == 0)
		c->dots = true;
	if (sscanf(ent->name, "f%d", &idx) == 1 && idx >= 0 && idx < 400)
		c->seen[idx]++;
	c->last = ent->cookie;
	c->n++;
	return true;
}

static void test_readdir_cookies(void **state)
{
	struct fixture *f = *state;
	struct rd_ctx c;
	struct be_fh d;
	uint64_t verf, verf2, cookie = 0;
	bool eof = false;
	int rounds = 0;

	mk_ok(f, &f->root, "d", BE_DIR, 0777, &d);
	for (int i = 0; i < 300; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		mk_ok(f, &d, name, BE_REG, 0644, NULL);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->be->ops->readdir(f->be, &root_cred, &d, 0, rd_cb, &c, &verf, &eof), 0);
	assert_true(eof);
	assert_int_equal(c.n, 300);
	assert_false(c.bad_cookie);
	assert_false(c.dots);
	/* In pieces of 7, resuming from the last cookie: each name exactly once. */
	memset(&c, 0, sizeof(c));
	eof = false;
	while (!eof) {
		int before = c.n;

		c.stop_after = c.n + 7;
		assert_int_equal(
			f->be->ops->readdir(f->be, &root_cred, &d, cookie, rd_cb, &c, &verf2, &eof),
			0);
		assert_int_equal(verf2, verf);
		assert_true(c.n > before || eof);
		cookie = c.last;
		assert_true(++rounds < 100);
	}
	assert_int_equal(c.n, 300);
	for (int i = 0; i < 300; i++)
		assert_int_equal(c.seen[i], 1);
	assert_int_equal(f->be->ops->readdir(f->be, &root_cred, &d, 1, rd_cb, &c, &verf, &eof),
			 -EINVAL);
	/* An empty directory: eof at once, no entries. */
	struct be_fh e;

	mk_ok(f, &f->root, "e", BE_DIR, 0755, &e);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->be->ops->readdir(f->be, &root_cred, &e, 0, rd_cb, &c, &verf, &eof), 0);
	assert_true(eof);
	assert_int_equal(c.n, 0);
}

static void test_write_stability_and_change(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh;
	struct be_attr a0, a1, a2;
	enum be_stable st;
	size_t n, got;
	char buf[32];
	bool eof;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &fh);
	assert_int_equal(getattr(f, &fh, &a0), 0);
	for (int how = BE_UNSTABLE; how <= BE_FILE_SYNC; how++) {
		assert_int_equal(f->be->ops->write(f->be, &root_cred, &fh, (uint64_t)how * 4,
						   "abcd", 4, how, &n, &st),
				 0);
		assert_int_equal(n, 4);
		assert_true(st >= (enum be_stable)how);
	}
	assert_int_equal(f->be->ops->commit(f->be, &root_cred, &fh, 0, 0), 0);
	assert_int_equal(getattr(f, &fh, &a1), 0);
	assert_int_equal(a1.size, 12);
	assert_true(a1.change != a0.change);
	/* Two writes in a row (same ctime tick, likely): still two changes. */
	assert_int_equal(write_str(f, &root_cred, &fh, 0, "z"), 0);
	assert_int_equal(getattr(f, &fh, &a1), 0);
	assert_int_equal(write_str(f, &root_cred, &fh, 1, "z"), 0);
	assert_int_equal(getattr(f, &fh, &a2), 0);
	assert_true(a2.change != a1.change);
	assert_int_equal(f->be->ops->read(f->be, &root_cred, &fh, 0, buf, sizeof(buf), &got, &eof),
			 0);
	assert_int_equal(got, 12);
	assert_true(eof);
	assert_memory_equal(buf, "zzcdabcdabcd", 12);
	assert_int_equal(f->be->ops->read(f->be, &root_cred, &fh, 2, buf, 4, &got, &eof), 0);
	assert_int_equal(got, 4);
	assert_false(eof);
	assert_int_equal(f->be->ops->read(f->be, &root_cred, &fh, 100, buf, 4, &got, &eof), 0);
	assert_int_equal(got, 0);
	assert_true(eof);
	assert_int_equal(f->be->ops->read(f->be, &root_cred, &f->root, 0, buf, 4, &got, &eof),
			 -EISDIR);
}

/*
 * write_pipe (a WRITE's data left in a pipe by the rpc layer): the head
 * bytes, then the pipe's, at the offset; stable ones synced and counted as
 * write's are; the change attribute moves; the pipe is left empty.
 */
static void test_write_pipe(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[200000], back[200004];
	struct be_stats s0, s1;
	struct be_attr a0, a1;
	struct be_fh fh;
	enum be_stable st;
	size_t n, got;
	bool eof;
	int p[2], left;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);
	mk_ok(f, &f->root, "p", BE_REG, 0644, &fh);
	assert_int_equal(pipe(p), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) >= (int)sizeof(data));
	for (int how = BE_UNSTABLE; how <= BE_FILE_SYNC; how++) {
		uint64_t off = (uint64_t)how * 300000;

		assert_int_equal(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
		assert_int_equal(getattr(f, &fh, &a0), 0);
		be_stats_get(f->be, &s0);
		assert_int_equal(f->be->ops->write_pipe(f->be, &root_cred, &fh, off, "HEAD", 4,
							p[0], sizeof(data), how, &n, &st),
				 0);
		assert_int_equal(n, sizeof(data) + 4);
		assert_true(st >= (enum be_stable)how);
		be_stats_get(f->be, &s1);
		assert_int_equal(s1.data_syncs - s0.data_syncs, how != BE_UNSTABLE);
		assert_int_equal(getattr(f, &fh, &a1), 0);
		assert_true(a1.change != a0.change);
		assert_int_equal(ioctl(p[0], FIONREAD, &left), 0);
		assert_int_equal(left, 0);
		assert_int_equal(f->be->ops->read(f->be, &root_cred, &fh, off, back, sizeof(back),
						  &got, &eof),
				 0);
		assert_int_equal(got, sizeof(back));
		assert_memory_equal(back, "HEAD", 4);
		assert_memory_equal(back + 4, data, sizeof(data));
	}
	close(p[0]);
	close(p[1]);
}

/* The mode asked for is set exactly, whatever the process umask. */
static void test_create_mode_exact(void **state)
{
	struct fixture *f = *state;
	struct be_attr a;
	struct be_fh d;
	mode_t old = umask(077);

	assert_int_equal(mk(f, &root_cred, &f->root, "x", BE_REG, 04755, NULL, NULL, &a), 0);
	assert_int_equal(a.mode, 04755);
	assert_int_equal(mk(f, &root_cred, &f->root, "d", BE_DIR, 01777, NULL, &d, &a), 0);
	assert_int_equal(a.mode, 01777);
	assert_int_equal(a.type, BE_DIR);
	assert_int_equal(mk(f, &root_cred, &d, "fifo", BE_FIFO, 0666, NULL, NULL, &a), 0);
	assert_int_equal(a.type, BE_FIFO);
	assert_int_equal(a.mode, 0666);
	assert_int_equal(mk(f, &root_cred, &d, "sock", BE_SOCK, 0640, NULL, NULL, &a), 0);
	assert_int_equal(a.type, BE_SOCK);
	assert_int_equal(a.mode, 0640);
	umask(old);
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0644};
	struct be_fh dev;
	int r = f->be->ops->create(f->be, &root_cred, &d, "null", BE_CHR, &sa, NULL, 1, 3, &dev, &a,
				   &(struct be_dirchange){.atomic = false});

	if (r == 0) {
		assert_int_equal(a.type, BE_CHR);
		assert_int_equal(a.rdev_major, 1);
		assert_int_equal(a.rdev_minor, 3);
	} else {
		assert_int_equal(r, -EPERM); /* a container without CAP_MKNOD */
	}
	/* Exclusive. */
	assert_int_equal(mk(f, &root_cred, &f->root, "x", BE_REG, 0644, NULL, NULL, NULL), -EEXIST);
}

static void test_dirchange(void **state)
{
	struct fixture *f = *state;
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0644};
	struct be_dirchange dc, dc2;
	struct be_attr a, da;
	struct be_fh fh, d2;

	assert_int_equal(f->be->ops->create(f->be, &root_cred, &f->root, "x", BE_REG, &sa, NULL, 0,
					    0, &fh, &a, &dc),
			 0);
	assert_false(dc.atomic);
	assert_true(dc.before != dc.after);
	assert_int_equal(getattr(f, &f->root, &da), 0);
	assert_int_equal(da.change, dc.after);
	mk_ok(f, &f->root, "d2", BE_DIR, 0755, &d2);
	assert_int_equal(f->be->ops->rename(f->be, &root_cred, &f->root, "x", &d2, "y", &dc, &dc2),
			 0);
	assert_true(dc.before != dc.after);
	assert_true(dc2.before != dc2.after);
	assert_int_equal(f->be->ops->link(f->be, &root_cred, &fh, &f->root, "x2", &dc), 0);
	assert_true(dc.before != dc.after);
	assert_int_equal(getattr(f, &fh, &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, "d2", &dc), -ENOTEMPTY);
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &d2, "y", &dc), 0);
	assert_int_equal(f->be->ops->remove(f->be, &root_cred, &f->root, "d2", &dc), 0);
	assert_int_equal(getattr(f, &fh, &a), 0); /* still linked as x2 */
	assert_int_equal(a.nlink, 1);
}

static void test_setattr(void **state)
{
	struct fixture *f = *state;
	struct be_fh fh;
	struct be_attr a;
	struct be_sattr sa = {
		.mask = BE_SET_SIZE | BE_SET_MTIME | BE_SET_ATIME | BE_SET_UID | BE_SET_GID,
		.size = 1000,
		.atime = {.tv_sec = 1000, .tv_nsec = 5},
		.mtime = {.tv_sec = 2000, .tv_nsec = 7},
		.uid = 1234,
		.gid = 4321,
	};
	struct be_statfs sf;

	mk_ok(f, &f->root, "x", BE_REG, 0644, &fh);
	assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &fh, &sa, &a), 0);
	assert_int_equal(a.size, 1000);
	assert_int_equal(a.mtime.tv_sec, 2000);
	assert_int_equal(a.mtime.tv_nsec, 7);
	assert_int_equal(a.atime.tv_sec, 1000);
	assert_int_equal(a.uid, 1234);
	assert_int_equal(a.gid, 4321);
	sa.mask = BE_SET_MTIME_NOW;
	assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &fh, &sa, &a), 0);
	assert_true(a.mtime.tv_sec > 2000);
	sa.mask = BE_SET_SIZE;
	assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &f->root, &sa, &a), -EISDIR);
	assert_int_equal(f->be->ops->statfs(f->be, &root_cred, &f->root, &sf), 0);
	assert_true(sf.space_total > 0);
	assert_true(sf.name_max > 0);
	assert_int_equal(getattr(f, &fh, &a), 0);
	assert_true(a.fsid_major != 0 || a.fsid_minor != 0);
}

/* ---- credentials ---- */

#define NEED_ROOT()                                                       \
	do {                                                              \
		if (geteuid() != 0) {                                     \
			print_message("not root: credentials skipped\n"); \
			skip();                                           \
		}                                                         \
	} while (0)

/*
 * A thread keeps the last caller's identity after a call (vfs_cred.c); the
 * next call as root acts as root again: creating in the export root (0755,
 * root's) needs it, and so does opening a handle that is not cached yet.
 */
static void assert_root_again(struct fixture *f)
{
	static int n;
	struct be_fh fh;
	struct be_attr a;
	char name[32];

	snprintf(name, sizeof(name), "root-%d", n++);
	assert_int_equal(mk(f, &root_cred, &f->root, name, BE_REG, 0600, NULL, &fh, NULL), 0);
	assert_int_equal(f->be->ops->access(f->be, &root_cred, &fh, R_OK | W_OK), 0);
	assert_int_equal(getattr(f, &fh, &a), 0);
	assert_int_equal(a.uid, 0);
}

static void test_cred_dir_permissions(void **state)
{
	struct fixture *f = *state;
	struct be_cred u = user(1000, 1000);
	struct be_fh closed, open_, fh;
	struct be_attr a;
	char p[128];
	struct stat st;

	NEED_ROOT();
	mk_ok(f, &f->root, "closed", BE_DIR, 0755, &closed);
	mk_ok(f, &f->root, "open", BE_DIR, 0777, &open_);
	assert_int_equal(mk(f, &u, &closed, "x", BE_REG, 0644, NULL, NULL, NULL), -EACCES);
	assert_int_equal(mk(f, &u, &closed, "d", BE_DIR, 0755, NULL, NULL, NULL), -EACCES);
	assert_int_equal(mk(f, &u, &closed, "l", BE_LNK, 0777, "t", NULL, NULL), -EACCES);
	assert_root_again(f);
	assert_int_equal(mk(f, &u, &open_, "x", BE_REG, 0640, NULL, &fh, &a), 0);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1000);
	assert_int_equal(a.mode, 0640);
	assert_int_equal(stat(path_in(f, "open/x", p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1000);
	assert_root_again(f);
	/* Another user may not write it, nor remove it from a sticky directory. */
	struct be_cred v = user(1001, 1001);

	assert_int_equal(write_str(f, &v, &fh, 0, "no"), -EACCES);
	assert_int_equal(write_str(f, &u, &fh, 0, "yes"), 0);
	/* Giving the file away needs root. */
	struct be_sattr sa = {.mask = BE_SET_UID, .uid = 1001};

	assert_int_equal(f->be->ops->setattr(f->be, &u, &fh, &sa, &a), -EPERM);
	assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &fh, &sa, &a), 0);
	assert_int_equal(a.uid, 1001);
	/* Creating with another owner than oneself: refused, and nothing is left. */
	struct be_sattr own = {.mask = BE_SET_MODE | BE_SET_UID, .mode = 0644, .uid = 0};
	struct be_dirchange dc;
	struct be_fh y;

	assert_int_equal(
		f->be->ops->create(f->be, &u, &open_, "y", BE_REG, &own, NULL, 0, 0, &y, &a, &dc),
		-EPERM);
	assert_int_equal(lookup(f, &root_cred, &open_, "y", &y, NULL), -ENOENT);
	assert_root_again(f);
}

static void test_cred_read_access(void **state)
{
	struct fixture *f = *state;
	struct be_cred u = user(1000, 1000);
	struct be_cred g = {.uid = 1001, .gid = 1001, .ngroups = 1, .groups = {500}};
	struct be_cred nog = user(1001, 1001);
	struct be_fh priv, pub, grp;
	struct be_sattr sa = {.mask = BE_SET_GID, .gid = 500};
	struct be_attr a;
	char buf[8];
	size_t got;
	bool eof;

	NEED_ROOT();
	mk_ok(f, &f->root, "priv", BE_REG, 0600, &priv);
	mk_ok(f, &f->root, "pub", BE_REG, 0644, &pub);
	mk_ok(f, &f->root, "grp", BE_REG, 0040, &grp);
	assert_int_equal(f->be->ops->setattr(f->be, &root_cred, &grp, &sa, &a), 0);
	assert_int_equal(f->be->ops->read(f->be, &u, &priv, 0, buf, 8, &got, &eof), -EACCES);
	assert_int_equal(f->be->ops->read(f->be, &u, &pub, 0, buf, 8, &got, &eof), 0);
	assert_int_equal(f->be->ops->read(f->be, &g, &grp, 0, buf, 8, &got, &eof), 0);
	assert_int_equal(f->be->ops->read(f->be, &nog, &grp, 0, buf, 8, &got, &eof), -EACCES);
	assert_int_equal(f->be->ops->access(f->be, &u, &priv, R_OK), -EACCES);
	assert_int_equal(f->be->ops->access(f->be, &u, &pub, R_OK), 0);
	assert_int_equal(f->be->ops->access(f->be, &u, &pub, W_OK), -EACCES);
	assert_int_equal(f->be->ops->access(f->be, &g, &grp, R_OK), 0);
	assert_int_equal(f->be->ops->access(f->be, &g, &grp, R_OK | W_OK), -EACCES);
	assert_int_equal(f->be->ops->access(f->be, &nog, &grp, R_OK), -EACCES);
	assert_int_equal(f->be->ops->access(f->be, &root_cred, &priv, R_OK | W_OK), 0);
	assert_int_equal(f->be->ops->access(f->be, &root_cred, &priv, X_OK), -EACCES);
	/* Lookup needs search permission on the directory. */
	struct be_fh d, x;

	mk_ok(f, &f->root, "noexec", BE_DIR, 0700, &d);
	mk_ok(f, &d, "inner", BE_REG, 0644, NULL);
	assert_int_equal(lookup(f, &u, &d, "inner", &x, NULL), -EACCES);
	assert_int_equal(lookup(f, &root_cred, &d, "inner", &x, NULL), 0);
	/* Getattr needs nothing; the handle bypasses the path. */
	assert_int_equal(f->be->ops->getattr(f->be, &u, &x, &a), 0);
	assert_root_again(f);
}

/*
 * Opening a handle that is not cached, and proving a directory inside the
 * export, are the server's: they work while the thread has a user's identity.
 */
static void test_cred_cache_miss_as_user(void **state)
{
	struct fixture *f = *state;
	struct be_cred u = user(1000, 1000);
	struct be_fh closed, x, sub, l;
	struct be_attr a;

	NEED_ROOT();
	mk_ok(f, &f->root, "closed", BE_DIR, 0700, &closed);
	mk_ok(f, &closed, "x", BE_REG, 0600, &x);
	mk_ok(f, &closed, "sub", BE_DIR, 0755, &sub);
	mk_ok(f, &f->root, "pub", BE_DIR, 0755, NULL);
	if (!f->be->ops->persistent_handles(f->be))
		return; /* a new instance (an empty cache) would not know the handles */
	f->be->ops->destroy(f->be);
	assert_int_equal(make_be(f->dir, &f->be), 0);
	/* The thread takes on u's identity... */
	assert_int_equal(lookup(f, &u, &f->root, "pub", &l, NULL), 0);
	/* ...and still opens by handle, and walks up from sub through closed. */
	assert_int_equal(f->be->ops->getattr(f->be, &u, &x, &a), 0);
	assert_int_equal(f->be->ops->getattr(f->be, &u, &sub, &a), 0);
	assert_int_equal(lookup(f, &u, &sub, "none", &l, NULL), -ENOENT);
	assert_int_equal(f->be->ops->access(f->be, &u, &x, R_OK), -EACCES);
	assert_root_again(f);
}

struct cred_thread {
	struct fixture *f;
	struct be_fh dir;
	int idx;
	int failures;
};

static void *cred_worker(void *arg)
{
	struct cred_thread *t = arg;
	struct fixture *f = t->f;
	struct be_cred c = user(2000 + (uint32_t)t->idx, 3000 + (uint32_t)t->idx);

	for (int i = 0; i < 200; i++) {
		char name[32];
		struct be_fh fh;
		struct be_attr a;
		struct stat st;
		char p[160];

		snprintf(name, sizeof(name), "t%d-%d", t->idx, i);
		if (mk(f, &c, &t->dir, name, BE_REG, 0600, NULL, &fh, &a) != 0 || a.uid != c.uid ||
		    a.gid != c.gid) {
			t->failures++;
			continue;
		}
		snprintf(p, sizeof(p), "%s/shared/%s", f->dir, name);
		if (stat(p, &st) != 0 || st.st_uid != c.uid || st.st_gid != c.gid)
			t->failures++;
		/* Its own file: readable. The neighbour's (0600, other owner): not. */
		if (f->be->ops->access(f->be, &c, &fh, R_OK | W_OK) != 0)
			t->failures++;
		if (i > 0) {
			char other[32];
			struct be_fh ofh;
			int o = (t->idx + 1) % 4;

			snprintf(other, sizeof(other), "t%d-%d", o, i - 1);
			if (lookup(f, &c, &t->dir, other, &ofh, NULL) == 0 &&
			    f->be->ops->access(f->be, &c, &ofh, R_OK) != -EACCES)
				t->failures++;
		}
	}
	return NULL;
}

static void test_cred_threads_isolated(void **state)
{
	struct fixture *f = *state;
	struct cred_thread t[4];
	pthread_t th[4];
	struct be_fh dir;

	NEED_ROOT();
	mk_ok(f, &f->root, "shared", BE_DIR, 0777, &dir);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct cred_thread){.f = f, .dir = dir, .idx = i};
		assert_int_equal(pthread_create(&th[i], NULL, cred_worker, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].failures, 0);
	}
	assert_root_again(f);
}

/* ---- conformance ---- */

struct conf_arg {
	bool volatile_mode;
	char dir[64];
};

static int conf_make(struct backend **be, void *arg)
{
	struct conf_arg *c = arg;

	strcpy(c->dir, "/tmp/nfs4d-conf-XXXXXX");
	if (!mkdtemp(c->dir) || chmod(c->dir, 0755) != 0)
		return -errno;
	return c->volatile_mode ? be_vfs_create_volatile(c->dir, be) : be_vfs_create(c->dir, be);
}

static void conf_cleanup(void *arg)
{
	struct conf_arg *c = arg;

	rm_tree(c->dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mode_reported),
		T(test_env_selects_volatile),
		T(test_handle_across_restart),
		T(test_handle_stable),
		T(test_malformed_and_forged_handles),
		T(test_foreign_handle),
		T(test_crafted_outside_handle),
		T(test_dir_moved_outside),
		T(test_dir_moved_outside_then_rename),
		T(test_cached_then_replaced_locally),
		T(test_lookup_cached_names_moved_locally),
		T(test_removed_is_stale),
		T(test_symlink_escapes),
		T(test_local_symlink_planted),
		T(test_bad_names),
		T(test_lookupp),
		T(test_readdir_cookies),
		T(test_write_stability_and_change),
		T(test_write_pipe),
		T(test_create_mode_exact),
		T(test_dirchange),
		T(test_setattr),
		T(test_cred_dir_permissions),
		T(test_cred_read_access),
		T(test_cred_threads_isolated),
		T(test_cred_cache_miss_as_user),
	};
	struct conf_arg persistent = {.volatile_mode = false}, vol = {.volatile_mode = true};
	int failed = 0;

	volatile_mode = false;
	failed += cmocka_run_group_tests_name("vfs_persistent", tests, NULL, NULL);
	volatile_mode = true;
	failed += cmocka_run_group_tests_name("vfs_volatile", tests, NULL, NULL);
	failed += backend_conformance_run("conformance_vfs_persistent", conf_make, conf_cleanup,
					  &persistent);
	failed +=
		backend_conformance_run("conformance_vfs_volatile", conf_make, conf_cleanup, &vol);
	return failed;
}
