/*
 * The backend conformance suite (backend_conformance.h). Every assertion is
 * what a local ext4 directory does for the same calls made through the
 * kernel's VFS by a process with the given fsuid/fsgid/groups (root: with
 * its file capabilities, others: without).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/backend_conformance.h"

struct bc {
	int (*make)(struct backend **be, void *arg);
	void (*cleanup)(void *arg);
	void *arg;
	struct backend *be;
	const struct backend_ops *ops;
	struct be_fh root;
	struct be_fh top; /* "t", 0755 0:0: every test works in here */
};

static const struct be_cred ROOT = {.uid = 0, .gid = 0};
static const struct be_cred USER = {.uid = 1000, .gid = 1000};
static const struct be_cred USER2 = {.uid = 1001, .gid = 1001};
static const struct be_cred USER_G500 = {.uid = 1000, .gid = 1000, .ngroups = 1, .groups = {500}};

#define R_OK_ 4
#define W_OK_ 2
#define X_OK_ 1

/* ---- helpers: each returns the backend's result; the mk/get ones assert success ---- */

static int bc_create(struct bc *t, const struct be_cred *c, const struct be_fh *dir,
		     const char *name, enum be_ftype type, uint32_t mode, struct be_fh *out)
{
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = mode};
	struct be_fh fh;
	struct be_attr a;
	struct be_dirchange dc;

	return t->ops->create(t->be, c, dir, name, type, &sa, type == BE_LNK ? "target" : NULL,
			      type == BE_CHR || type == BE_BLK ? 1 : 0,
			      type == BE_CHR || type == BE_BLK ? 3 : 0, out ? out : &fh, &a, &dc);
}

static struct be_fh mk(struct bc *t, const struct be_cred *c, const struct be_fh *dir,
		       const char *name, enum be_ftype type, uint32_t mode)
{
	struct be_fh fh;

	assert_int_equal(bc_create(t, c, dir, name, type, mode, &fh), 0);
	return fh;
}

static struct be_attr ga(struct bc *t, const struct be_fh *fh)
{
	struct be_attr a;

	assert_int_equal(t->ops->getattr(t->be, &ROOT, fh, &a), 0);
	return a;
}

static int bc_setattr(struct bc *t, const struct be_cred *c, const struct be_fh *fh,
		      const struct be_sattr *sa)
{
	struct be_attr a;

	return t->ops->setattr(t->be, c, fh, sa, &a);
}

static int bc_chmod(struct bc *t, const struct be_cred *c, const struct be_fh *fh, uint32_t mode)
{
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = mode};

	return bc_setattr(t, c, fh, &sa);
}

static int bc_chown(struct bc *t, const struct be_cred *c, const struct be_fh *fh, uint32_t uid,
		    uint32_t gid)
{
	struct be_sattr sa = {.mask = BE_SET_UID | BE_SET_GID, .uid = uid, .gid = gid};

	return bc_setattr(t, c, fh, &sa);
}

static int bc_truncate(struct bc *t, const struct be_cred *c, const struct be_fh *fh, uint64_t size)
{
	struct be_sattr sa = {.mask = BE_SET_SIZE, .size = size};

	return bc_setattr(t, c, fh, &sa);
}

static int bc_write(struct bc *t, const struct be_cred *c, const struct be_fh *fh, uint64_t off,
		    const void *buf, size_t len)
{
	size_t written = 0;
	enum be_stable committed = BE_UNSTABLE;
	int err = t->ops->write(t->be, c, fh, off, buf, len, BE_FILE_SYNC, &written, &committed);

	if (err == 0) {
		assert_int_equal(written, len);
		assert_int_equal(committed, BE_FILE_SYNC);
	}
	return err;
}

static int bc_read(struct bc *t, const struct be_cred *c, const struct be_fh *fh, uint64_t off,
		   void *buf, size_t len, size_t *got, bool *eof)
{
	return t->ops->read(t->be, c, fh, off, buf, len, got, eof);
}

static int bc_lookup(struct bc *t, const struct be_cred *c, const struct be_fh *dir,
		     const char *name, struct be_fh *out)
{
	struct be_fh fh;
	struct be_attr a;

	return t->ops->lookup(t->be, c, dir, name, out ? out : &fh, &a);
}

static struct be_fh lk(struct bc *t, const struct be_fh *dir, const char *name)
{
	struct be_fh fh;

	assert_int_equal(bc_lookup(t, &ROOT, dir, name, &fh), 0);
	return fh;
}

static int bc_remove(struct bc *t, const struct be_cred *c, const struct be_fh *dir,
		     const char *name)
{
	struct be_dirchange dc;

	return t->ops->remove(t->be, c, dir, name, &dc);
}

static int bc_rename(struct bc *t, const struct be_cred *c, const struct be_fh *sd, const char *sn,
		     const struct be_fh *dd, const char *dn)
{
	struct be_dirchange sdc, ddc;

	return t->ops->rename(t->be, c, sd, sn, dd, dn, &sdc, &ddc);
}

static int bc_link(struct bc *t, const struct be_cred *c, const struct be_fh *fh,
		   const struct be_fh *dd, const char *dn)
{
	struct be_dirchange dc;

	return t->ops->link(t->be, c, fh, dd, dn, &dc);
}

static uint64_t fileid_of(struct bc *t, const struct be_fh *fh)
{
	return ga(t, fh).fileid;
}

static uint64_t fileid_at(struct bc *t, const struct be_fh *dir, const char *name)
{
	struct be_fh fh = lk(t, dir, name);

	return fileid_of(t, &fh);
}

static int ts_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

/* Lets a coarse filesystem clock move on, so "advances" can be asserted strictly. */
static void tick(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 15 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

#define assert_ts_after(later, earlier) assert_true(ts_cmp((later), (earlier)) > 0)
#define assert_ts_equal(a, b) assert_int_equal(ts_cmp((a), (b)), 0)

/* A directory under "t" owned by root with the given mode. */
static struct be_fh mkdir_mode(struct bc *t, const char *name, uint32_t mode)
{
	return mk(t, &ROOT, &t->top, name, BE_DIR, mode);
}

/* ---- readdir collection ---- */

struct rd_ent {
	char name[BE_NAME_MAX + 1];
	uint64_t cookie;
	uint64_t fileid;
	enum be_ftype type;
};

struct rd_ctx {
	struct rd_ent *ents;
	size_t n, cap;
	int limit; /* entries to take per call; 0: all */
	int taken;
	char refused[BE_NAME_MAX + 1]; /* the entry fn said no to, expected first next time */
	bool check_refused;
	bool bad;
};

static bool rd_fn(void *ctx, const struct be_dirent *ent)
{
	struct rd_ctx *r = ctx;
	char name[BE_NAME_MAX + 1];

	if (ent->namelen == 0 || ent->namelen > BE_NAME_MAX) {
		r->bad = true;
		return false;
	}
	memcpy(name, ent->name, ent->namelen);
	name[ent->namelen] = 0;
	if (r->check_refused) {
		if (strcmp(name, r->refused) != 0)
			r->bad = true;
		r->check_refused = false;
	}
	if (r->limit && r->taken == r->limit) {
		strcpy(r->refused, name);
		return false;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->ents = realloc(r->ents, r->cap * sizeof(*r->ents));
		if (!r->ents) {
			r->bad = true;
			return false;
		}
	}
	strcpy(r->ents[r->n].name, name);
	r->ents[r->n].cookie = ent->cookie;
	r->ents[r->n].fileid = ent->fileid;
	r->ents[r->n].type = ent->type;
	r->n++;
	r->taken++;
	return true;
}

/*
 * Reads the whole directory, limit entries per call (0: as many as the
 * backend gives), resuming after the last entry taken. Asserts the protocol
 * rules: cookies not 0/1/2, no "." or "..", progress on every call, and
 * that an entry refused by fn comes first in the next call.
 */
static void rd_all(struct bc *t, const struct be_cred *c, const struct be_fh *dir, int limit,
		   struct rd_ctx *r)
{
	uint64_t cookie = 0, verf = 0;
	bool eof = false;
	int calls = 0;

	memset(r, 0, sizeof(*r));
	r->limit = limit;
	while (!eof) {
		size_t before = r->n;

		r->taken = 0;
		if (!r->check_refused)
			r->refused[0] = 0;
		assert_int_equal(t->ops->readdir(t->be, c, dir, cookie, rd_fn, r, &verf, &eof), 0);
		assert_false(r->bad);
		if (!eof)
			assert_true(r->n > before);
		if (r->n > before)
			cookie = r->ents[r->n - 1].cookie;
		r->check_refused = !eof && r->refused[0];
		assert_true(++calls < 1000000);
	}
	for (size_t i = 0; i < r->n; i++) {
		assert_true(r->ents[i].cookie > 2);
		assert_string_not_equal(r->ents[i].name, ".");
		assert_string_not_equal(r->ents[i].name, "..");
	}
}

static struct rd_ent *rd_find(struct rd_ctx *r, const char *name)
{
	struct rd_ent *found = NULL;

	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->ents[i].name, name) == 0) {
			assert_null(found); /* exactly once */
			found = &r->ents[i];
		}
	}
	return found;
}

/* ---- fixtures ---- */

static int bc_setup(void **state)
{
	struct bc *t = *state;
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0755};
	struct be_attr a;
	struct be_dirchange dc;
	int err;

	err = t->make(&t->be, t->arg);
	if (err)
		return -1;
	t->ops = t->be->ops;
	if (t->ops->root(t->be, &t->root))
		return -1;
	if (t->ops->create(t->be, &ROOT, &t->root, "t", BE_DIR, &sa, NULL, 0, 0, &t->top, &a, &dc))
		return -1;
	return 0;
}

static int bc_teardown(void **state)
{
	struct bc *t = *state;

	if (t->be)
		t->ops->destroy(t->be);
	t->be = NULL;
	if (t->cleanup)
		t->cleanup(t->arg);
	return 0;
}

/* ---- tests ---- */

static void bc_test_root(void **state)
{
	struct bc *t = *state;
	struct be_attr a = ga(t, &t->root), ta = ga(t, &t->top);
	struct be_fh fh;
	struct be_attr pa;

	assert_int_equal(a.type, BE_DIR);
	assert_true(a.nlink >= 3); /* ".", its name, and "t"'s ".." */
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &t->root, &fh, &pa), -ENOENT);
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &t->top, &fh, &pa), 0);
	assert_int_equal(pa.fileid, a.fileid);
	assert_int_equal(ta.fsid_major, a.fsid_major);
	assert_int_equal(ta.fsid_minor, a.fsid_minor);
	assert_int_not_equal(ta.fileid, a.fileid);
	assert_int_equal(ta.mode, 0755);
	assert_int_equal(ta.nlink, 2);
	assert_int_equal(ta.uid, 0);
	assert_int_equal(ta.gid, 0);
}

static void bc_test_create_types(void **state)
{
	struct bc *t = *state;
	struct timespec start;
	static const struct {
		const char *name;
		enum be_ftype type;
		uint32_t mode;
	} k[] = {
		{"reg", BE_REG, 0644},	 {"dir", BE_DIR, 0750}, {"lnk", BE_LNK, 0777},
		{"chr", BE_CHR, 0600},	 {"blk", BE_BLK, 0660}, {"fifo", BE_FIFO, 0640},
		{"sock", BE_SOCK, 0755},
	};
	uint64_t ids[7];
	struct be_attr root = ga(t, &t->root);

	clock_gettime(CLOCK_REALTIME, &start);
	start.tv_sec -= 2; /* filesystem clocks may be coarse */
	for (size_t i = 0; i < 7; i++) {
		struct be_sattr sa = {.mask = BE_SET_MODE, .mode = k[i].mode};
		struct be_fh fh, lfh;
		struct be_attr a, la, ga_;
		struct be_dirchange dc;

		assert_int_equal(t->ops->create(t->be, &ROOT, &t->top, k[i].name, k[i].type, &sa,
						k[i].type == BE_LNK ? "some/where" : NULL, 8, 1,
						&fh, &a, &dc),
				 0);
		ga_ = ga(t, &fh);
		assert_int_equal(a.type, k[i].type);
		assert_int_equal(ga_.type, k[i].type);
		assert_int_equal(a.fileid, ga_.fileid);
		assert_int_equal(ga_.mode, k[i].mode);
		assert_int_equal(ga_.uid, 0);
		assert_int_equal(ga_.gid, 0);
		assert_int_equal(ga_.nlink, k[i].type == BE_DIR ? 2 : 1);
		assert_int_equal(ga_.fsid_major, root.fsid_major);
		assert_int_equal(ga_.fsid_minor, root.fsid_minor);
		assert_true(ts_cmp(ga_.ctime, start) > 0);
		assert_true(ts_cmp(ga_.mtime, start) > 0);
		if (k[i].type == BE_REG)
			assert_int_equal(ga_.size, 0);
		if (k[i].type == BE_LNK)
			assert_int_equal(ga_.size, strlen("some/where"));
		if (k[i].type == BE_CHR || k[i].type == BE_BLK) {
			assert_int_equal(ga_.rdev_major, 8);
			assert_int_equal(ga_.rdev_minor, 1);
		}
		assert_int_equal(t->ops->lookup(t->be, &ROOT, &t->top, k[i].name, &lfh, &la), 0);
		assert_int_equal(la.fileid, ga_.fileid);
		assert_int_equal(la.type, k[i].type);
		assert_int_equal(fileid_of(t, &lfh), ga_.fileid);
		ids[i] = ga_.fileid;
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(ids[j], ids[i]);
		/* Exclusive: the name exists now, whatever the type asked for. */
		assert_int_equal(bc_create(t, &ROOT, &t->top, k[i].name, BE_REG, 0644, NULL),
				 -EEXIST);
		assert_int_equal(bc_create(t, &ROOT, &t->top, k[i].name, BE_DIR, 0755, NULL),
				 -EEXIST);
	}
	assert_int_equal(ga(t, &t->top).nlink, 3);
}

static void bc_test_create_mode_exact(void **state)
{
	struct bc *t = *state;
	static const uint32_t modes[] = {0, 0777, 04755, 02755, 06777, 01777, 0111, 0600};
	char name[32];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct be_fh f, d;

		snprintf(name, sizeof(name), "f%zu", i);
		f = mk(t, &ROOT, &t->top, name, BE_REG, modes[i]);
		assert_int_equal(ga(t, &f).mode, modes[i]);
		snprintf(name, sizeof(name), "d%zu", i);
		d = mk(t, &ROOT, &t->top, name, BE_DIR, modes[i] & 01777);
		assert_int_equal(ga(t, &d).mode, modes[i] & 01777);
	}
}

static void bc_test_create_owner(void **state)
{
	struct bc *t = *state;
	struct be_fh open = mkdir_mode(t, "open", 0777);
	struct be_fh sg = mkdir_mode(t, "sg", 02777);
	struct be_fh f, d;
	struct be_attr a;

	assert_int_equal(bc_chown(t, &ROOT, &sg, 0, 500), 0);
	assert_int_equal(ga(t, &sg).mode, 02777);

	f = mk(t, &USER, &open, "f", BE_REG, 0640);
	a = ga(t, &f);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1000);
	assert_int_equal(a.mode, 0640);

	/* A setgid directory hands its group down, and its setgid bit to subdirectories. */
	f = mk(t, &USER, &sg, "f", BE_REG, 0640);
	a = ga(t, &f);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 500);
	assert_int_equal(a.mode, 0640);
	d = mk(t, &USER, &sg, "d", BE_DIR, 0755);
	a = ga(t, &d);
	assert_int_equal(a.gid, 500);
	assert_int_equal(a.mode, 02755);

	/* Device nodes need CAP_MKNOD; fifos and sockets do not. */
	assert_int_equal(bc_create(t, &USER, &open, "chr", BE_CHR, 0600, NULL), -EPERM);
	assert_int_equal(bc_create(t, &USER, &open, "blk", BE_BLK, 0600, NULL), -EPERM);
	mk(t, &USER, &open, "fifo", BE_FIFO, 0600);
	mk(t, &USER, &open, "sock", BE_SOCK, 0600);
}

static void bc_test_create_with_attrs(void **state)
{
	struct bc *t = *state;
	struct be_sattr sa = {.mask = BE_SET_MODE | BE_SET_UID | BE_SET_GID | BE_SET_MTIME,
			      .mode = 0640,
			      .uid = 1000,
			      .gid = 1001,
			      .mtime = {.tv_sec = 1000000000, .tv_nsec = 5}};
	struct be_fh fh;
	struct be_attr a;
	struct be_dirchange dc;

	assert_int_equal(
		t->ops->create(t->be, &ROOT, &t->top, "f", BE_REG, &sa, NULL, 0, 0, &fh, &a, &dc),
		0);
	a = ga(t, &fh);
	assert_int_equal(a.mode, 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1001);
	assert_int_equal(a.mtime.tv_sec, 1000000000);
	assert_int_equal(a.mtime.tv_nsec, 5);
}

static void bc_test_lookup(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh sub = mk(t, &ROOT, &d, "sub", BE_DIR, 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh fh;
	struct be_attr a;

	assert_int_equal(fileid_of(t, &sub), fileid_at(t, &d, "sub"));
	assert_int_equal(bc_lookup(t, &ROOT, &d, "nope", NULL), -ENOENT);
	assert_int_equal(bc_lookup(t, &ROOT, &f, "x", NULL), -ENOTDIR);
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &sub, &fh, &a), 0);
	assert_int_equal(a.fileid, fileid_of(t, &d));
	assert_int_equal(fileid_of(t, &fh), fileid_of(t, &d));
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &d, &fh, &a), 0);
	assert_int_equal(a.fileid, fileid_of(t, &t->top));
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &f, &fh, &a), -ENOTDIR);
	/* Case matters; a name with spaces and UTF-8 is a name. */
	assert_int_equal(bc_lookup(t, &ROOT, &d, "F", NULL), -ENOENT);
	mk(t, &ROOT, &d, "a b \xc3\xa9", BE_REG, 0644);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "a b \xc3\xa9", NULL), 0);
}

static void bc_test_names_invalid(void **state)
{
	struct bc *t = *state;
	static const char *bad[] = {"", ".", "..", "a/b", "/"};
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);
	char n255[256], n256[257];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bc_create(t, &ROOT, &t->top, bad[i], BE_REG, 0644, NULL), -EINVAL);
		assert_int_equal(bc_create(t, &ROOT, &t->top, bad[i], BE_DIR, 0755, NULL), -EINVAL);
		assert_int_equal(bc_lookup(t, &ROOT, &t->top, bad[i], NULL), -EINVAL);
		assert_int_equal(bc_remove(t, &ROOT, &t->top, bad[i]), -EINVAL);
		assert_int_equal(bc_rename(t, &ROOT, &t->top, "f", &t->top, bad[i]), -EINVAL);
		assert_int_equal(bc_rename(t, &ROOT, &t->top, bad[i], &t->top, "g"), -EINVAL);
		assert_int_equal(bc_link(t, &ROOT, &f, &t->top, bad[i]), -EINVAL);
	}
	memset(n255, 'x', 255);
	n255[255] = 0;
	memset(n256, 'y', 256);
	n256[256] = 0;
	mk(t, &ROOT, &t->top, n255, BE_REG, 0644);
	assert_int_equal(bc_lookup(t, &ROOT, &t->top, n255, NULL), 0);
	assert_int_equal(bc_create(t, &ROOT, &t->top, n256, BE_REG, 0644, NULL), -ENAMETOOLONG);
	assert_int_equal(bc_lookup(t, &ROOT, &t->top, n256, NULL), -ENAMETOOLONG);
	assert_int_equal(bc_link(t, &ROOT, &f, &t->top, n256), -ENAMETOOLONG);
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "f", &t->top, n256), -ENAMETOOLONG);
	assert_int_equal(bc_remove(t, &ROOT, &t->top, n256), -ENAMETOOLONG);
	/* Nothing was created by the failures. */
	{
		struct rd_ctx r;

		rd_all(t, &ROOT, &t->top, 0, &r);
		assert_int_equal(r.n, 2);
		free(r.ents);
	}
}

static void bc_test_write_attrs(void **state)
{
	struct bc *t = *state;
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);
	struct be_attr a0 = ga(t, &f), a1;
	uint8_t buf[8192];

	memset(buf, 0xab, sizeof(buf));
	tick();
	assert_int_equal(bc_write(t, &ROOT, &f, 0, buf, sizeof(buf)), 0);
	a1 = ga(t, &f);
	assert_int_equal(a1.size, sizeof(buf));
	assert_true(a1.space_used >= sizeof(buf));
	assert_true(a1.change > a0.change);
	assert_ts_after(a1.mtime, a0.mtime);
	assert_ts_after(a1.ctime, a0.ctime);
	assert_int_equal(a1.fileid, a0.fileid);
	assert_int_equal(a1.nlink, 1);
	/* A zero-length write changes nothing. */
	assert_int_equal(bc_write(t, &ROOT, &f, 100, buf, 0), 0);
	assert_int_equal(ga(t, &f).size, sizeof(buf));
}

static void bc_test_change_increases(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_sattr times = {.mask = BE_SET_ATIME | BE_SET_MTIME,
				 .atime = {.tv_sec = 1234, .tv_nsec = 0},
				 .mtime = {.tv_sec = 1234, .tv_nsec = 0}};
	struct be_sattr now = {.mask = BE_SET_ATIME_NOW | BE_SET_MTIME_NOW};
	uint64_t fc = ga(t, &f).change, dc = ga(t, &d).change, c;
	uint8_t buf[16] = {1};
	size_t got;
	bool eof;

#define FILE_CHANGED()                \
	do {                          \
		c = ga(t, &f).change; \
		assert_true(c > fc);  \
		fc = c;               \
	} while (0)
#define DIR_CHANGED()                 \
	do {                          \
		c = ga(t, &d).change; \
		assert_true(c > dc);  \
		dc = c;               \
	} while (0)

	assert_int_equal(bc_write(t, &ROOT, &f, 0, buf, sizeof(buf)), 0);
	FILE_CHANGED();
	assert_int_equal(bc_write(t, &ROOT, &f, 0, buf, sizeof(buf)), 0); /* same bytes */
	FILE_CHANGED();
	assert_int_equal(bc_chmod(t, &ROOT, &f, 0600), 0);
	FILE_CHANGED();
	assert_int_equal(bc_chmod(t, &ROOT, &f, 0600), 0); /* same mode */
	FILE_CHANGED();
	assert_int_equal(bc_chown(t, &ROOT, &f, 1000, 1000), 0);
	FILE_CHANGED();
	assert_int_equal(bc_truncate(t, &ROOT, &f, 3), 0);
	FILE_CHANGED();
	assert_int_equal(bc_setattr(t, &ROOT, &f, &times), 0);
	FILE_CHANGED();
	assert_int_equal(bc_setattr(t, &ROOT, &f, &now), 0);
	FILE_CHANGED();
	assert_int_equal(bc_link(t, &ROOT, &f, &d, "f2"), 0);
	FILE_CHANGED();
	DIR_CHANGED();
	assert_int_equal(bc_rename(t, &ROOT, &d, "f2", &d, "f3"), 0);
	FILE_CHANGED();
	DIR_CHANGED();
	assert_int_equal(bc_remove(t, &ROOT, &d, "f3"), 0);
	FILE_CHANGED();
	DIR_CHANGED();
	mk(t, &ROOT, &d, "g", BE_REG, 0644);
	DIR_CHANGED();
	mk(t, &ROOT, &d, "sub", BE_DIR, 0755);
	DIR_CHANGED();
	assert_int_equal(bc_rename(t, &ROOT, &d, "g", &t->top, "g"), 0);
	DIR_CHANGED();
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "g", &d, "g"), 0);
	DIR_CHANGED();
	assert_int_equal(bc_chmod(t, &ROOT, &d, 0775), 0);
	DIR_CHANGED();
	/* Reads and lookups are not modifications. */
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, sizeof(buf), &got, &eof), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "g", NULL), 0);
	assert_int_equal(ga(t, &f).change, fc);
	assert_int_equal(ga(t, &d).change, dc);
#undef FILE_CHANGED
#undef DIR_CHANGED
}

static void bc_test_times(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh d2 = mkdir_mode(t, "d2", 0755);
	struct be_attr da, fa, a, d2a;
	struct be_fh f;
	uint8_t b = 1;

	da = ga(t, &d);
	tick();
	f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	a = ga(t, &d);
	assert_ts_after(a.mtime, da.mtime);
	assert_ts_after(a.ctime, da.ctime);
	fa = ga(t, &f);
	assert_true(ts_cmp(fa.mtime, da.mtime) > 0);

	/* write: mtime and ctime */
	tick();
	assert_int_equal(bc_write(t, &ROOT, &f, 0, &b, 1), 0);
	a = ga(t, &f);
	assert_ts_after(a.mtime, fa.mtime);
	assert_ts_after(a.ctime, fa.ctime);
	fa = a;

	/* chmod: ctime only */
	tick();
	assert_int_equal(bc_chmod(t, &ROOT, &f, 0600), 0);
	a = ga(t, &f);
	assert_ts_equal(a.mtime, fa.mtime);
	assert_ts_after(a.ctime, fa.ctime);
	fa = a;

	/* truncate to a new size: mtime and ctime */
	tick();
	assert_int_equal(bc_truncate(t, &ROOT, &f, 100), 0);
	a = ga(t, &f);
	assert_ts_after(a.mtime, fa.mtime);
	assert_ts_after(a.ctime, fa.ctime);
	fa = a;

	/* explicit times: exactly those, and ctime moves to now */
	{
		struct be_sattr sa = {.mask = BE_SET_ATIME | BE_SET_MTIME,
				      .atime = {.tv_sec = 1000000000, .tv_nsec = 123456789},
				      .mtime = {.tv_sec = 1100000000, .tv_nsec = 987654321}};

		tick();
		assert_int_equal(bc_setattr(t, &ROOT, &f, &sa), 0);
		a = ga(t, &f);
		assert_ts_equal(a.atime, sa.atime);
		assert_ts_equal(a.mtime, sa.mtime);
		assert_ts_after(a.ctime, fa.ctime);
		fa = a;
		/* only one of them */
		sa.mask = BE_SET_MTIME;
		sa.mtime.tv_sec = 1200000000;
		assert_int_equal(bc_setattr(t, &ROOT, &f, &sa), 0);
		a = ga(t, &f);
		assert_ts_equal(a.atime, fa.atime);
		assert_ts_equal(a.mtime, sa.mtime);
		fa = a;
	}
	/* times to now */
	{
		struct be_sattr sa = {.mask = BE_SET_ATIME_NOW | BE_SET_MTIME_NOW};

		tick();
		assert_int_equal(bc_setattr(t, &ROOT, &f, &sa), 0);
		a = ga(t, &f);
		assert_ts_after(a.mtime, fa.mtime);
		assert_ts_after(a.atime, fa.atime);
		assert_true(a.mtime.tv_sec > 1200000000);
		fa = a;
	}

	/* link: the file's ctime, the directory's mtime and ctime */
	da = ga(t, &d2);
	tick();
	assert_int_equal(bc_link(t, &ROOT, &f, &d2, "l"), 0);
	a = ga(t, &f);
	assert_ts_after(a.ctime, fa.ctime);
	assert_ts_equal(a.mtime, fa.mtime);
	fa = a;
	d2a = ga(t, &d2);
	assert_ts_after(d2a.mtime, da.mtime);
	assert_ts_after(d2a.ctime, da.ctime);

	/* remove one name: the directory's mtime/ctime, the file's ctime */
	da = ga(t, &d);
	tick();
	assert_int_equal(bc_remove(t, &ROOT, &d, "f"), 0);
	a = ga(t, &d);
	assert_ts_after(a.mtime, da.mtime);
	assert_ts_after(a.ctime, da.ctime);
	a = ga(t, &f);
	assert_ts_after(a.ctime, fa.ctime);
	fa = a;

	/* rename across directories: both directories, and the file's ctime */
	da = ga(t, &d);
	d2a = ga(t, &d2);
	tick();
	assert_int_equal(bc_rename(t, &ROOT, &d2, "l", &d, "m"), 0);
	a = ga(t, &d);
	assert_ts_after(a.mtime, da.mtime);
	a = ga(t, &d2);
	assert_ts_after(a.mtime, d2a.mtime);
	a = ga(t, &f);
	assert_ts_after(a.ctime, fa.ctime);
}

static void bc_test_nlink(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh e = mkdir_mode(t, "e", 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh l;

	assert_int_equal(ga(t, &f).nlink, 1);
	assert_int_equal(bc_link(t, &ROOT, &f, &e, "l"), 0);
	assert_int_equal(ga(t, &f).nlink, 2);
	l = lk(t, &e, "l");
	assert_int_equal(fileid_of(t, &l), fileid_of(t, &f));
	assert_int_equal(bc_remove(t, &ROOT, &d, "f"), 0);
	assert_int_equal(ga(t, &f).nlink, 1);
	assert_int_equal(ga(t, &l).nlink, 1);

	assert_int_equal(ga(t, &d).nlink, 2);
	mk(t, &ROOT, &d, "s1", BE_DIR, 0755);
	mk(t, &ROOT, &d, "s2", BE_DIR, 0755);
	mk(t, &ROOT, &d, "file", BE_REG, 0644);
	assert_int_equal(ga(t, &d).nlink, 4);
	assert_int_equal(bc_rename(t, &ROOT, &d, "s1", &e, "s1"), 0);
	assert_int_equal(ga(t, &d).nlink, 3);
	assert_int_equal(ga(t, &e).nlink, 3);
	assert_int_equal(bc_remove(t, &ROOT, &d, "s2"), 0);
	assert_int_equal(ga(t, &d).nlink, 2);
	/* Replacing a directory by a directory: the count stays. */
	mk(t, &ROOT, &e, "s3", BE_DIR, 0755);
	assert_int_equal(ga(t, &e).nlink, 4);
	assert_int_equal(bc_rename(t, &ROOT, &e, "s1", &e, "s3"), 0);
	assert_int_equal(ga(t, &e).nlink, 3);
	assert_int_equal(ga(t, &t->top).nlink, 4);
}

static void bc_test_setattr_owner(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0777);
	struct be_fh f = mk(t, &USER, &d, "f", BE_REG, 0644);
	struct be_fh r = mk(t, &ROOT, &d, "r", BE_REG, 0644);
	struct be_attr a;
	struct be_sattr sa;

	/* The owner may chmod, not chown away; may chgrp to a group it is in. */
	assert_int_equal(bc_chmod(t, &USER, &f, 0600), 0);
	assert_int_equal(ga(t, &f).mode, 0600);
	sa = (struct be_sattr){.mask = BE_SET_UID, .uid = 1001};
	assert_int_equal(bc_setattr(t, &USER, &f, &sa), -EPERM);
	sa = (struct be_sattr){.mask = BE_SET_UID, .uid = 1000};
	assert_int_equal(bc_setattr(t, &USER, &f, &sa), 0); /* to itself */
	sa = (struct be_sattr){.mask = BE_SET_GID, .gid = 500};
	assert_int_equal(bc_setattr(t, &USER, &f, &sa), -EPERM);
	assert_int_equal(bc_setattr(t, &USER_G500, &f, &sa), 0);
	assert_int_equal(ga(t, &f).gid, 500);
	sa = (struct be_sattr){.mask = BE_SET_GID, .gid = 1000};
	assert_int_equal(bc_setattr(t, &USER, &f, &sa), 0); /* its primary group */
	/* Not the owner: no chmod, chown or chgrp. */
	assert_int_equal(bc_chmod(t, &USER2, &f, 0666), -EPERM);
	assert_int_equal(bc_chmod(t, &USER, &r, 0666), -EPERM);
	sa = (struct be_sattr){.mask = BE_SET_GID, .gid = 1000};
	assert_int_equal(bc_setattr(t, &USER, &r, &sa), -EPERM);
	sa = (struct be_sattr){.mask = BE_SET_UID, .uid = 1000};
	assert_int_equal(bc_setattr(t, &USER, &r, &sa), -EPERM);
	a = ga(t, &r);
	assert_int_equal(a.uid, 0);
	assert_int_equal(a.mode, 0644);
	/* root: anything. */
	assert_int_equal(bc_chown(t, &ROOT, &r, 1234, 5678), 0);
	a = ga(t, &r);
	assert_int_equal(a.uid, 1234);
	assert_int_equal(a.gid, 5678);
	assert_int_equal(bc_chmod(t, &ROOT, &f, 01755), 0);
	assert_int_equal(ga(t, &f).mode, 01755);
	/* chown clears set-user-ID (and group-executable set-group-ID), even by root. */
	assert_int_equal(bc_chmod(t, &ROOT, &r, 06755), 0);
	assert_int_equal(ga(t, &r).mode, 06755);
	assert_int_equal(bc_chown(t, &ROOT, &r, 1000, 1000), 0);
	assert_int_equal(ga(t, &r).mode, 0755);
	/* A non-member setting setgid on its own file: the bit is dropped. */
	assert_int_equal(bc_chown(t, &ROOT, &f, 1000, 500), 0);
	assert_int_equal(bc_chmod(t, &USER, &f, 02755), 0);
	assert_int_equal(ga(t, &f).mode, 0755);
	assert_int_equal(bc_chmod(t, &USER_G500, &f, 02755), 0);
	assert_int_equal(ga(t, &f).mode, 02755);
}

static void bc_test_setattr_size(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0777);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh w = mk(t, &ROOT, &d, "w", BE_REG, 0666);
	uint8_t buf[256];
	size_t got;
	bool eof;

	memset(buf, 'a', sizeof(buf));
	assert_int_equal(bc_write(t, &ROOT, &f, 0, buf, 100), 0);
	/* extend: zeros */
	assert_int_equal(bc_truncate(t, &ROOT, &f, 1 << 20), 0);
	assert_int_equal(ga(t, &f).size, 1 << 20);
	assert_int_equal(bc_read(t, &ROOT, &f, 90, buf, 20, &got, &eof), 0);
	assert_int_equal(got, 20);
	assert_false(eof);
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf[i], 'a');
	for (int i = 10; i < 20; i++)
		assert_int_equal(buf[i], 0);
	/* shrink keeps the head; growing again must not bring old bytes back */
	assert_int_equal(bc_truncate(t, &ROOT, &f, 10), 0);
	assert_int_equal(ga(t, &f).size, 10);
	assert_int_equal(bc_truncate(t, &ROOT, &f, 100), 0);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, sizeof(buf), &got, &eof), 0);
	assert_int_equal(got, 100);
	assert_true(eof);
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf[i], 'a');
	for (int i = 10; i < 100; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(bc_truncate(t, &ROOT, &f, 0), 0);
	assert_int_equal(ga(t, &f).size, 0);
	/* Setting the size needs write permission, not ownership. */
	assert_int_equal(bc_truncate(t, &USER, &f, 5), -EACCES);
	assert_int_equal(bc_truncate(t, &USER, &w, 5), 0);
	assert_int_equal(ga(t, &w).size, 5);
	/* Directories and other types. */
	assert_int_equal(bc_truncate(t, &ROOT, &d, 0), -EISDIR);
	{
		struct be_fh l = mk(t, &ROOT, &d, "l", BE_LNK, 0777);
		struct be_fh p = mk(t, &ROOT, &d, "p", BE_FIFO, 0666);

		assert_int_equal(bc_truncate(t, &ROOT, &l, 0), -EINVAL);
		assert_int_equal(bc_truncate(t, &ROOT, &p, 0), -EINVAL);
	}
}

static void bc_test_setattr_times_perm(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0777);
	struct be_fh rw = mk(t, &ROOT, &d, "rw", BE_REG, 0666);
	struct be_fh ro = mk(t, &ROOT, &d, "ro", BE_REG, 0644);
	struct be_fh own = mk(t, &USER, &d, "own", BE_REG, 0444);
	struct be_sattr expl = {.mask = BE_SET_MTIME, .mtime = {.tv_sec = 100, .tv_nsec = 0}};
	struct be_sattr now = {.mask = BE_SET_ATIME_NOW | BE_SET_MTIME_NOW};

	assert_int_equal(bc_setattr(t, &USER, &rw, &expl), -EPERM);
	assert_int_equal(bc_setattr(t, &USER, &rw, &now), 0);
	assert_int_equal(bc_setattr(t, &USER, &ro, &now), -EACCES);
	assert_int_equal(bc_setattr(t, &USER, &ro, &expl), -EPERM);
	assert_int_equal(bc_setattr(t, &USER, &own, &expl), 0);
	assert_int_equal(ga(t, &own).mtime.tv_sec, 100);
	assert_int_equal(bc_setattr(t, &USER, &own, &now), 0);
	assert_int_equal(bc_setattr(t, &ROOT, &ro, &expl), 0);
	assert_int_equal(ga(t, &ro).mtime.tv_sec, 100);
}

static void bc_test_read_write(void **state)
{
	struct bc *t = *state;
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh l = mk(t, &ROOT, &t->top, "l", BE_LNK, 0777);
	uint8_t buf[64], *big, *back;
	size_t got, written;
	enum be_stable committed;
	bool eof;

	assert_int_equal(bc_write(t, &ROOT, &f, 0, "hello", 5), 0);
	assert_int_equal(bc_write(t, &ROOT, &f, 10, "world", 5), 0);
	assert_int_equal(ga(t, &f).size, 15);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, sizeof(buf), &got, &eof), 0);
	assert_int_equal(got, 15);
	assert_true(eof);
	assert_memory_equal(buf, "hello\0\0\0\0\0world", 15);
	assert_int_equal(bc_read(t, &ROOT, &f, 5, buf, 3, &got, &eof), 0);
	assert_int_equal(got, 3);
	assert_false(eof);
	assert_int_equal(bc_read(t, &ROOT, &f, 12, buf, 3, &got, &eof), 0);
	assert_int_equal(got, 3);
	assert_true(eof);
	assert_memory_equal(buf, "rld", 3);
	assert_int_equal(bc_read(t, &ROOT, &f, 15, buf, 10, &got, &eof), 0);
	assert_int_equal(got, 0);
	assert_true(eof);
	assert_int_equal(bc_read(t, &ROOT, &f, 1000, buf, 10, &got, &eof), 0);
	assert_int_equal(got, 0);
	assert_true(eof);
	/* overwrite in the middle */
	assert_int_equal(bc_write(t, &ROOT, &f, 3, "XY", 2), 0);
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, 6, &got, &eof), 0);
	assert_memory_equal(buf, "helXY\0", 6);
	assert_int_equal(ga(t, &f).size, 15);
	/* a hole far out */
	assert_int_equal(bc_write(t, &ROOT, &f, 3 << 20, "z", 1), 0);
	assert_int_equal(ga(t, &f).size, (3 << 20) + 1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(bc_read(t, &ROOT, &f, (2 << 20), buf, sizeof(buf), &got, &eof), 0);
	assert_int_equal(got, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(bc_read(t, &ROOT, &f, (3 << 20) - 1, buf, 10, &got, &eof), 0);
	assert_int_equal(got, 2);
	assert_true(eof);
	assert_memory_equal(buf, "\0z", 2);
	/* stability: committed is at least what was asked */
	for (int how = BE_UNSTABLE; how <= BE_FILE_SYNC; how++) {
		committed = BE_UNSTABLE;
		assert_int_equal(t->ops->write(t->be, &ROOT, &f, 0, "s", 1, (enum be_stable)how,
					       &written, &committed),
				 0);
		assert_int_equal(written, 1);
		assert_true((int)committed >= how);
	}
	assert_int_equal(t->ops->commit(t->be, &ROOT, &f, 0, 0), 0);
	/* ranges past any file size limit, and past 2^64; zero bytes anywhere are fine */
	assert_int_equal(bc_write(t, &ROOT, &f, UINT64_MAX, "z", 1), -EFBIG);
	assert_int_equal(bc_write(t, &ROOT, &f, UINT64_MAX - 1, "zz", 2), -EFBIG);
	assert_int_equal(bc_write(t, &ROOT, &f, (uint64_t)INT64_MAX, "z", 1), -EFBIG);
	assert_int_equal(bc_write(t, &ROOT, &f, UINT64_MAX, "", 0), 0);
	assert_int_equal(ga(t, &f).size, (3 << 20) + 1);
	/* 1 MiB pattern written in one call, read back in odd chunks */
	big = malloc(1 << 20);
	back = malloc(1 << 20);
	assert_non_null(big);
	assert_non_null(back);
	for (size_t i = 0; i < (1 << 20); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	assert_int_equal(bc_truncate(t, &ROOT, &f, 0), 0);
	assert_int_equal(bc_write(t, &ROOT, &f, 0, big, 1 << 20), 0);
	for (size_t off = 0; off < (1 << 20);) {
		assert_int_equal(bc_read(t, &ROOT, &f, off, back + off, 77777, &got, &eof), 0);
		assert_true(got > 0);
		off += got;
		assert_int_equal(eof, off == (1 << 20));
	}
	assert_memory_equal(big, back, 1 << 20);
	free(big);
	free(back);
	/* not regular files */
	assert_int_equal(bc_read(t, &ROOT, &d, 0, buf, 10, &got, &eof), -EISDIR);
	assert_int_equal(bc_write(t, &ROOT, &d, 0, buf, 10), -EISDIR);
	assert_int_equal(bc_read(t, &ROOT, &l, 0, buf, 10, &got, &eof), -EINVAL);
	assert_int_equal(bc_write(t, &ROOT, &l, 0, buf, 10), -EINVAL);
}

static void bc_test_write_kills_suid(void **state)
{
	struct bc *t = *state;
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 06777);
	struct be_fh g = mk(t, &ROOT, &t->top, "g", BE_REG, 06777);

	assert_int_equal(bc_write(t, &ROOT, &f, 0, "x", 1), 0);
	assert_int_equal(ga(t, &f).mode, 06777); /* root keeps them (CAP_FSETID) */
	assert_int_equal(bc_write(t, &USER, &g, 0, "x", 1), 0);
	assert_int_equal(ga(t, &g).mode, 0777);
}

static void bc_test_readdir_basic(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct rd_ctx r;
	char name[32];

	rd_all(t, &ROOT, &d, 0, &r);
	assert_int_equal(r.n, 0);
	free(r.ents);

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		mk(t, &ROOT, &d, name, BE_REG, 0644);
	}
	mk(t, &ROOT, &d, "sub", BE_DIR, 0755);
	mk(t, &ROOT, &d, "lnk", BE_LNK, 0777);
	mk(t, &ROOT, &d, "fifo", BE_FIFO, 0644);
	rd_all(t, &ROOT, &d, 0, &r);
	assert_int_equal(r.n, 13);
	for (int i = 0; i < 10; i++) {
		struct rd_ent *e;

		snprintf(name, sizeof(name), "file%d", i);
		e = rd_find(&r, name);
		assert_non_null(e);
		assert_int_equal(e->type, BE_REG);
		assert_int_equal(e->fileid, fileid_at(t, &d, name));
	}
	assert_int_equal(rd_find(&r, "sub")->type, BE_DIR);
	assert_int_equal(rd_find(&r, "lnk")->type, BE_LNK);
	assert_int_equal(rd_find(&r, "fifo")->type, BE_FIFO);
	for (size_t i = 0; i < r.n; i++)
		for (size_t j = i + 1; j < r.n; j++)
			assert_int_not_equal(r.ents[i].cookie, r.ents[j].cookie);
	/* From the last cookie: nothing more. */
	{
		struct rd_ctx r2 = {0};
		uint64_t verf;
		bool eof = false;

		assert_int_equal(t->ops->readdir(t->be, &ROOT, &d, r.ents[r.n - 1].cookie, rd_fn,
						 &r2, &verf, &eof),
				 0);
		assert_true(eof);
		assert_int_equal(r2.n, 0);
		free(r2.ents);
	}
	free(r.ents);
	/* Only directories. */
	{
		struct be_fh f = lk(t, &d, "file0");
		struct rd_ctx r3 = {0};
		uint64_t verf;
		bool eof;

		assert_int_equal(t->ops->readdir(t->be, &ROOT, &f, 0, rd_fn, &r3, &verf, &eof),
				 -ENOTDIR);
	}
}

static void bc_test_readdir_small_calls(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	char name[32];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "e%03d", i);
		mk(t, &ROOT, &d, name, i % 10 ? BE_REG : BE_DIR, 0755);
	}
	for (int limit = 1; limit <= 3; limit++) {
		struct rd_ctx r;

		rd_all(t, &ROOT, &d, limit, &r);
		assert_int_equal(r.n, 100);
		for (int i = 0; i < 100; i++) {
			snprintf(name, sizeof(name), "e%03d", i);
			assert_non_null(rd_find(&r, name));
		}
		free(r.ents);
	}
}

static void bc_test_readdir_stable_cookies(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct rd_ctx all, part = {0}, rest = {0};
	uint64_t verf, cookie;
	bool eof = false, seen[60] = {false}, removed[60] = {false};
	char name[32];

	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		mk(t, &ROOT, &d, name, BE_REG, 0644);
	}
	/* The first 20 in the backend's order. */
	rd_all(t, &ROOT, &d, 0, &all);
	assert_int_equal(all.n, 60);
	part.limit = 20;
	assert_int_equal(t->ops->readdir(t->be, &ROOT, &d, 0, rd_fn, &part, &verf, &eof), 0);
	assert_int_equal(part.n, 20);
	cookie = part.ents[19].cookie;
	for (size_t i = 0; i < 20; i++) {
		int k = atoi(part.ents[i].name + 1);

		assert_string_equal(part.ents[i].name, all.ents[i].name);
		seen[k] = true;
	}
	/* Remove 10 already returned (not the last one) and 10 not yet returned. */
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(bc_remove(t, &ROOT, &d, all.ents[i * 2].name), 0);
		removed[atoi(all.ents[i * 2].name + 1)] = true;
		assert_int_equal(bc_remove(t, &ROOT, &d, all.ents[21 + i * 3].name), 0);
		removed[atoi(all.ents[21 + i * 3].name + 1)] = true;
	}
	/* Resuming from the old cookie gives exactly the survivors not yet seen. */
	eof = false;
	while (!eof) {
		size_t before = rest.n;

		assert_int_equal(
			t->ops->readdir(t->be, &ROOT, &d, cookie, rd_fn, &rest, &verf, &eof), 0);
		if (rest.n > before)
			cookie = rest.ents[rest.n - 1].cookie;
		else
			assert_true(eof);
	}
	assert_int_equal(rest.n, 30);
	for (size_t i = 0; i < rest.n; i++) {
		int k = atoi(rest.ents[i].name + 1);

		assert_false(seen[k]);
		assert_false(removed[k]);
		seen[k] = true;
	}
	for (int k = 0; k < 60; k++)
		assert_true(seen[k] || removed[k]);
	free(all.ents);
	free(part.ents);
	free(rest.ents);
}

static void bc_test_readdir_large(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "big", 0755);
	struct rd_ctx r;
	bool *seen = calloc(2000, sizeof(bool));
	char name[64];

	assert_non_null(seen);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "entry-with-a-longer-name-%04d", i);
		mk(t, &ROOT, &d, name, BE_REG, 0644);
	}
	rd_all(t, &ROOT, &d, 7, &r);
	assert_int_equal(r.n, 2000);
	for (size_t i = 0; i < r.n; i++) {
		int k = atoi(r.ents[i].name + strlen("entry-with-a-longer-name-"));

		assert_true(k >= 0 && k < 2000);
		assert_false(seen[k]);
		seen[k] = true;
	}
	free(r.ents);
	for (int i = 0; i < 2000; i += 2) {
		snprintf(name, sizeof(name), "entry-with-a-longer-name-%04d", i);
		assert_int_equal(bc_remove(t, &ROOT, &d, name), 0);
	}
	rd_all(t, &ROOT, &d, 0, &r);
	assert_int_equal(r.n, 1000);
	free(r.ents);
	for (int i = 1; i < 2000; i += 2) {
		snprintf(name, sizeof(name), "entry-with-a-longer-name-%04d", i);
		assert_int_equal(bc_remove(t, &ROOT, &d, name), 0);
	}
	rd_all(t, &ROOT, &d, 0, &r);
	assert_int_equal(r.n, 0);
	free(r.ents);
	assert_int_equal(bc_remove(t, &ROOT, &t->top, "big"), 0);
	free(seen);
}

static void bc_test_remove(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh sub = mk(t, &ROOT, &d, "sub", BE_DIR, 0755);
	struct be_attr a;
	static const enum be_ftype types[] = {BE_LNK, BE_CHR, BE_BLK, BE_FIFO, BE_SOCK};

	mk(t, &ROOT, &sub, "inner", BE_REG, 0644);
	assert_int_equal(bc_remove(t, &ROOT, &d, "nope"), -ENOENT);
	assert_int_equal(bc_remove(t, &ROOT, &d, "sub"), -ENOTEMPTY);
	assert_int_equal(bc_remove(t, &ROOT, &f, "x"), -ENOTDIR);
	assert_int_equal(bc_remove(t, &ROOT, &d, "f"), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "f", NULL), -ENOENT);
	assert_int_equal(t->ops->getattr(t->be, &ROOT, &f, &a), -ESTALE);
	assert_int_equal(bc_remove(t, &ROOT, &d, "f"), -ENOENT);
	assert_int_equal(bc_remove(t, &ROOT, &sub, "inner"), 0);
	assert_int_equal(bc_remove(t, &ROOT, &d, "sub"), 0);
	assert_int_equal(t->ops->getattr(t->be, &ROOT, &sub, &a), -ESTALE);
	assert_int_equal(ga(t, &d).nlink, 2);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct be_fh o = mk(t, &ROOT, &d, "o", types[i], 0644);

		assert_int_equal(bc_remove(t, &ROOT, &d, "o"), 0);
		assert_int_equal(t->ops->getattr(t->be, &ROOT, &o, &a), -ESTALE);
	}
	{
		struct rd_ctx r;

		rd_all(t, &ROOT, &d, 0, &r);
		assert_int_equal(r.n, 0);
		free(r.ents);
	}
}

static void bc_test_rename_basic(void **state)
{
	struct bc *t = *state;
	struct be_fh a = mkdir_mode(t, "a", 0755);
	struct be_fh b = mkdir_mode(t, "b", 0755);
	struct be_fh f = mk(t, &ROOT, &a, "f", BE_REG, 0644);
	struct be_fh sub = mk(t, &ROOT, &a, "sub", BE_DIR, 0755);
	struct be_fh fh;
	struct be_attr pa;
	uint64_t id = fileid_of(t, &f);

	/* same directory */
	assert_int_equal(bc_rename(t, &ROOT, &a, "f", &a, "g"), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &a, "f", NULL), -ENOENT);
	assert_int_equal(fileid_at(t, &a, "g"), id);
	assert_int_equal(fileid_of(t, &f), id); /* the handle survives a rename */
	/* across directories */
	assert_int_equal(bc_rename(t, &ROOT, &a, "g", &b, "h"), 0);
	assert_int_equal(fileid_at(t, &b, "h"), id);
	assert_int_equal(bc_lookup(t, &ROOT, &a, "g", NULL), -ENOENT);
	/* a directory across directories: its ".." follows */
	assert_int_equal(bc_rename(t, &ROOT, &a, "sub", &b, "sub2"), 0);
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &sub, &fh, &pa), 0);
	assert_int_equal(pa.fileid, fileid_of(t, &b));
	/* missing source, non-directories as directories */
	assert_int_equal(bc_rename(t, &ROOT, &a, "nope", &b, "x"), -ENOENT);
	assert_int_equal(bc_rename(t, &ROOT, &f, "x", &b, "y"), -ENOTDIR);
	assert_int_equal(bc_rename(t, &ROOT, &b, "h", &f, "y"), -ENOTDIR);
}

static void bc_test_rename_replace(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh f1 = mk(t, &ROOT, &d, "f1", BE_REG, 0644);
	struct be_fh f2 = mk(t, &ROOT, &d, "f2", BE_REG, 0644);
	struct be_fh d1 = mk(t, &ROOT, &d, "d1", BE_DIR, 0755);
	struct be_fh d2 = mk(t, &ROOT, &d, "d2", BE_DIR, 0755);
	struct be_fh full = mk(t, &ROOT, &d, "full", BE_DIR, 0755);
	struct be_attr a;
	uint64_t id1 = fileid_of(t, &f1), idd1 = fileid_of(t, &d1);

	mk(t, &ROOT, &full, "x", BE_REG, 0644);
	/* file over file: the old target is gone */
	assert_int_equal(bc_rename(t, &ROOT, &d, "f1", &d, "f2"), 0);
	assert_int_equal(fileid_at(t, &d, "f2"), id1);
	assert_int_equal(t->ops->getattr(t->be, &ROOT, &f2, &a), -ESTALE);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "f1", NULL), -ENOENT);
	/* type mismatches */
	assert_int_equal(bc_rename(t, &ROOT, &d, "f2", &d, "d1"), -EISDIR);
	assert_int_equal(bc_rename(t, &ROOT, &d, "d1", &d, "f2"), -ENOTDIR);
	/* directory over an empty directory; not over a non-empty one */
	assert_int_equal(bc_rename(t, &ROOT, &d, "d1", &d, "full"), -ENOTEMPTY);
	assert_int_equal(bc_rename(t, &ROOT, &d, "d1", &d, "d2"), 0);
	assert_int_equal(fileid_at(t, &d, "d2"), idd1);
	assert_int_equal(t->ops->getattr(t->be, &ROOT, &d2, &a), -ESTALE);
	assert_int_equal(ga(t, &d).nlink, 4); /* ".", name, d2, full */
	/* the replaced file with another link survives, one link less */
	{
		struct be_fh g = mk(t, &ROOT, &d, "g", BE_REG, 0644);

		assert_int_equal(bc_link(t, &ROOT, &g, &t->top, "g-link"), 0);
		assert_int_equal(bc_rename(t, &ROOT, &d, "f2", &d, "g"), 0);
		a = ga(t, &g);
		assert_int_equal(a.nlink, 1);
	}
}

static void bc_test_rename_special(void **state)
{
	struct bc *t = *state;
	struct be_fh a = mkdir_mode(t, "a", 0755);
	struct be_fh b = mk(t, &ROOT, &a, "b", BE_DIR, 0755);
	struct be_fh c = mk(t, &ROOT, &b, "c", BE_DIR, 0755);
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);
	struct rd_ctx r;

	/* into its own subtree, or into itself */
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "a", &c, "a"), -EINVAL);
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "a", &a, "x"), -EINVAL);
	assert_int_equal(bc_rename(t, &ROOT, &a, "b", &c, "b"), -EINVAL);
	/* onto an ancestor of the source: not empty */
	assert_int_equal(bc_rename(t, &ROOT, &b, "c", &t->top, "a"), -ENOTEMPTY);
	/* onto itself: nothing happens */
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "f", &t->top, "f"), 0);
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "a", &t->top, "a"), 0);
	assert_int_equal(fileid_at(t, &t->top, "f"), fileid_of(t, &f));
	/* two names of one file: a no-op that keeps both names */
	assert_int_equal(bc_link(t, &ROOT, &f, &a, "f2"), 0);
	assert_int_equal(bc_rename(t, &ROOT, &t->top, "f", &a, "f2"), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &t->top, "f", NULL), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &a, "f2", NULL), 0);
	assert_int_equal(ga(t, &f).nlink, 2);
	/* directory contents are untouched by the failures */
	rd_all(t, &ROOT, &c, 0, &r);
	assert_int_equal(r.n, 0);
	free(r.ents);
	rd_all(t, &ROOT, &t->top, 0, &r);
	assert_int_equal(r.n, 2);
	free(r.ents);
}

static void bc_test_link(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh g = mk(t, &ROOT, &d, "g", BE_REG, 0644);
	struct be_fh sub = mk(t, &ROOT, &d, "sub", BE_DIR, 0755);
	struct be_fh s = mk(t, &ROOT, &d, "s", BE_LNK, 0777);
	struct be_fh f2;

	assert_int_equal(bc_link(t, &ROOT, &f, &d, "f2"), 0);
	assert_int_equal(ga(t, &f).nlink, 2);
	assert_int_equal(fileid_at(t, &d, "f2"), fileid_of(t, &f));
	assert_int_equal(bc_link(t, &ROOT, &f, &d, "g"), -EEXIST);
	assert_int_equal(bc_link(t, &ROOT, &f, &d, "sub"), -EEXIST);
	assert_int_equal(bc_link(t, &ROOT, &sub, &d, "sub2"), -EPERM);
	assert_int_equal(bc_link(t, &ROOT, &f, &g, "x"), -ENOTDIR);
	assert_int_equal(bc_link(t, &ROOT, &s, &sub, "s"), 0); /* a symlink itself */
	assert_int_equal(ga(t, &s).nlink, 2);
	/* data written through one name is seen through the other */
	f2 = lk(t, &d, "f2");
	assert_int_equal(bc_write(t, &ROOT, &f2, 0, "abc", 3), 0);
	assert_int_equal(ga(t, &f).size, 3);
	assert_int_equal(bc_remove(t, &ROOT, &d, "g"), 0);
	assert_int_equal(bc_link(t, &ROOT, &g, &d, "g2"), -ESTALE);
}

static void bc_test_symlink(void **state)
{
	struct bc *t = *state;
	static const char *targets[] = {"x", "../a/b/c", "/abs/path", "with space", "dir/"};
	char buf[BE_PATH_MAX];
	char longt[1001];
	size_t len;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0777};
		struct be_fh fh;
		struct be_attr a;
		struct be_dirchange dc;
		char name[16];

		snprintf(name, sizeof(name), "l%zu", i);
		assert_int_equal(t->ops->create(t->be, &ROOT, &t->top, name, BE_LNK, &sa,
						targets[i], 0, 0, &fh, &a, &dc),
				 0);
		len = sizeof(buf);
		assert_int_equal(t->ops->readlink(t->be, &ROOT, &fh, buf, &len), 0);
		assert_int_equal(len, strlen(targets[i]));
		assert_memory_equal(buf, targets[i], len);
		a = ga(t, &fh);
		assert_int_equal(a.size, len);
		assert_int_equal(a.type, BE_LNK);
		/* anyone may read a link */
		len = sizeof(buf);
		assert_int_equal(t->ops->readlink(t->be, &USER, &fh, buf, &len), 0);
	}
	memset(longt, 'q', 1000);
	longt[1000] = 0;
	{
		struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0777};
		struct be_fh fh, f;
		struct be_attr a;
		struct be_dirchange dc;

		assert_int_equal(t->ops->create(t->be, &ROOT, &t->top, "long", BE_LNK, &sa, longt,
						0, 0, &fh, &a, &dc),
				 0);
		len = sizeof(buf);
		assert_int_equal(t->ops->readlink(t->be, &ROOT, &fh, buf, &len), 0);
		assert_int_equal(len, 1000);
		assert_memory_equal(buf, longt, 1000);
		f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);
		len = sizeof(buf);
		assert_int_equal(t->ops->readlink(t->be, &ROOT, &f, buf, &len), -EINVAL);
		len = sizeof(buf);
		assert_int_equal(t->ops->readlink(t->be, &ROOT, &t->top, buf, &len), -EINVAL);
	}
}

static void bc_test_perm_nonroot(void **state)
{
	struct bc *t = *state;
	struct be_fh p = mkdir_mode(t, "p", 0755);
	struct be_fh f = mk(t, &ROOT, &p, "f", BE_REG, 0644);
	struct be_fh secret = mk(t, &ROOT, &p, "secret", BE_REG, 0600);
	struct be_fh closed = mk(t, &ROOT, &p, "closed", BE_DIR, 0700);
	struct be_fh noread = mk(t, &ROOT, &p, "noread", BE_DIR, 0711);
	struct be_fh open = mkdir_mode(t, "open", 0777);
	struct be_fh mine = mk(t, &USER, &open, "mine", BE_REG, 0644);
	struct be_fh fh;
	struct be_attr a;
	uint8_t buf[8];
	size_t got;
	bool eof;

	mk(t, &ROOT, &closed, "in", BE_REG, 0644);
	mk(t, &ROOT, &noread, "in", BE_REG, 0644);
	/* lookup needs x; getattr needs nothing */
	assert_int_equal(bc_lookup(t, &USER, &p, "f", NULL), 0);
	assert_int_equal(bc_lookup(t, &USER, &closed, "in", NULL), -EACCES);
	assert_int_equal(t->ops->lookupp(t->be, &USER, &closed, &fh, &a), -EACCES);
	assert_int_equal(bc_lookup(t, &USER, &noread, "in", NULL), 0);
	assert_int_equal(t->ops->getattr(t->be, &USER, &secret, &a), 0);
	/* readdir needs r */
	{
		struct rd_ctx r = {0};
		uint64_t verf;

		assert_int_equal(t->ops->readdir(t->be, &USER, &noread, 0, rd_fn, &r, &verf, &eof),
				 -EACCES);
		assert_int_equal(t->ops->readdir(t->be, &USER, &closed, 0, rd_fn, &r, &verf, &eof),
				 -EACCES);
		rd_all(t, &USER, &p, 0, &r);
		assert_int_equal(r.n, 4);
		free(r.ents);
	}
	/* changing the directory needs w */
	assert_int_equal(bc_create(t, &USER, &p, "new", BE_REG, 0644, NULL), -EACCES);
	assert_int_equal(bc_create(t, &USER, &p, "new", BE_DIR, 0755, NULL), -EACCES);
	assert_int_equal(bc_create(t, &USER, &p, "new", BE_LNK, 0777, NULL), -EACCES);
	assert_int_equal(bc_create(t, &USER, &p, "new", BE_FIFO, 0644, NULL), -EACCES);
	assert_int_equal(bc_create(t, &USER, &p, "f", BE_REG, 0644, NULL), -EEXIST);
	assert_int_equal(bc_remove(t, &USER, &p, "f"), -EACCES);
	assert_int_equal(bc_remove(t, &USER, &p, "closed"), -EACCES);
	assert_int_equal(bc_rename(t, &USER, &p, "f", &p, "g"), -EACCES);
	assert_int_equal(bc_rename(t, &USER, &open, "mine", &p, "mine"), -EACCES);
	assert_int_equal(bc_rename(t, &USER, &p, "f", &open, "f"), -EACCES);
	assert_int_equal(bc_link(t, &USER, &mine, &p, "mine"), -EACCES);
	assert_int_equal(bc_lookup(t, &USER, &p, "new", NULL), -ENOENT);
	/* data */
	assert_int_equal(bc_read(t, &USER, &f, 0, buf, sizeof(buf), &got, &eof), 0);
	assert_int_equal(bc_read(t, &USER, &secret, 0, buf, sizeof(buf), &got, &eof), -EACCES);
	assert_int_equal(bc_write(t, &USER, &f, 0, "x", 1), -EACCES);
	assert_int_equal(bc_truncate(t, &USER, &f, 0), -EACCES);
	assert_int_equal(bc_chmod(t, &USER, &f, 0777), -EPERM);
	/* access() */
	assert_int_equal(t->ops->access(t->be, &USER, &f, R_OK_), 0);
	assert_int_equal(t->ops->access(t->be, &USER, &f, W_OK_), -EACCES);
	assert_int_equal(t->ops->access(t->be, &USER, &f, X_OK_), -EACCES);
	assert_int_equal(t->ops->access(t->be, &USER, &f, 0), 0);
	assert_int_equal(t->ops->access(t->be, &USER, &secret, R_OK_), -EACCES);
	assert_int_equal(t->ops->access(t->be, &USER, &p, R_OK_ | X_OK_), 0);
	assert_int_equal(t->ops->access(t->be, &USER, &p, W_OK_), -EACCES);
	assert_int_equal(t->ops->access(t->be, &USER, &mine, R_OK_ | W_OK_), 0);
	/* In a writable directory the same user can do it all. */
	mk(t, &USER, &open, "x", BE_REG, 0644);
	assert_int_equal(bc_rename(t, &USER, &open, "x", &open, "y"), 0);
	assert_int_equal(bc_link(t, &USER, &mine, &open, "mine2"), 0);
	assert_int_equal(bc_remove(t, &USER, &open, "y"), 0);
	/* ... but removing someone else's file in it is fine too (not sticky). */
	mk(t, &ROOT, &open, "roots", BE_REG, 0600);
	assert_int_equal(bc_remove(t, &USER, &open, "roots"), 0);
}

static void bc_test_perm_classes(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0777);
	struct be_fh g500 = mkdir_mode(t, "g500", 0770);
	struct be_fh f;
	uint8_t buf[4];
	size_t got;
	bool eof;

	/* The owner class decides for the owner, even when "other" would allow. */
	f = mk(t, &ROOT, &d, "owner", BE_REG, 0077);
	assert_int_equal(bc_chown(t, &ROOT, &f, 1000, 1000), 0);
	assert_int_equal(bc_chmod(t, &ROOT, &f, 0077), 0);
	assert_int_equal(bc_read(t, &USER, &f, 0, buf, 4, &got, &eof), -EACCES);
	assert_int_equal(bc_read(t, &USER2, &f, 0, buf, 4, &got, &eof), 0);
	/* The group class decides for group members. */
	f = mk(t, &ROOT, &d, "group", BE_REG, 0707);
	assert_int_equal(bc_chown(t, &ROOT, &f, 0, 500), 0);
	assert_int_equal(bc_read(t, &USER_G500, &f, 0, buf, 4, &got, &eof), -EACCES);
	assert_int_equal(bc_read(t, &USER, &f, 0, buf, 4, &got, &eof), 0);
	/* Supplementary groups count. */
	assert_int_equal(bc_chown(t, &ROOT, &g500, 0, 500), 0);
	assert_int_equal(bc_create(t, &USER, &g500, "x", BE_REG, 0644, NULL), -EACCES);
	assert_int_equal(bc_create(t, &USER_G500, &g500, "x", BE_REG, 0644, NULL), 0);
	assert_int_equal(bc_lookup(t, &USER, &g500, "x", NULL), -EACCES);
	assert_int_equal(bc_lookup(t, &USER_G500, &g500, "x", NULL), 0);
}

static void bc_test_perm_root(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0);
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0);
	struct be_fh x = mk(t, &ROOT, &t->top, "x", BE_REG, 0100);
	uint8_t buf[4];
	size_t got;
	bool eof;

	assert_int_equal(bc_write(t, &ROOT, &f, 0, "abcd", 4), 0);
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, 4, &got, &eof), 0);
	assert_int_equal(got, 4);
	assert_int_equal(t->ops->access(t->be, &ROOT, &f, R_OK_ | W_OK_), 0);
	/* root executes only what somebody may execute */
	assert_int_equal(t->ops->access(t->be, &ROOT, &f, X_OK_), -EACCES);
	assert_int_equal(t->ops->access(t->be, &ROOT, &x, X_OK_), 0);
	assert_int_equal(t->ops->access(t->be, &ROOT, &d, X_OK_ | R_OK_ | W_OK_), 0);
	mk(t, &ROOT, &d, "in", BE_REG, 0644);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "in", NULL), 0);
	assert_int_equal(bc_remove(t, &ROOT, &d, "in"), 0);
	assert_int_equal(bc_chmod(t, &ROOT, &f, 0644), 0);
}

static void bc_test_sticky(void **state)
{
	struct bc *t = *state;
	struct be_fh tmp = mkdir_mode(t, "tmp", 01777);
	struct be_fh own = mk(t, &USER2, &tmp, "own", BE_REG, 0666);
	struct be_fh f;

	mk(t, &USER, &tmp, "f", BE_REG, 0666);
	assert_int_equal(bc_remove(t, &USER2, &tmp, "f"), -EPERM);
	assert_int_equal(bc_rename(t, &USER2, &tmp, "f", &tmp, "g"), -EPERM);
	/* replacing another user's file is removing it */
	assert_int_equal(bc_rename(t, &USER2, &tmp, "own", &tmp, "f"), -EPERM);
	assert_int_equal(bc_rename(t, &USER, &tmp, "f", &tmp, "own"), -EPERM);
	assert_int_equal(ga(t, &own).nlink, 1);
	/* but writing to it is a matter of its mode */
	f = lk(t, &tmp, "f");
	assert_int_equal(bc_write(t, &USER2, &f, 0, "x", 1), 0);
	/* the owner of the file, and root, may */
	assert_int_equal(bc_rename(t, &USER, &tmp, "f", &tmp, "g"), 0);
	assert_int_equal(bc_remove(t, &USER, &tmp, "g"), 0);
	assert_int_equal(bc_remove(t, &ROOT, &tmp, "own"), 0);
	/* the owner of the directory may */
	mk(t, &USER, &tmp, "h", BE_REG, 0666);
	assert_int_equal(bc_chown(t, &ROOT, &tmp, 1001, 1001), 0);
	assert_int_equal(bc_remove(t, &USER2, &tmp, "h"), 0);
}

static void bc_test_stale_and_bad_handles(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh f = mk(t, &ROOT, &d, "f", BE_REG, 0644);
	struct be_fh bad;
	struct be_attr a;
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0600};
	uint8_t buf[4];
	size_t got;
	bool eof;
	int err;

	assert_int_equal(bc_remove(t, &ROOT, &d, "f"), 0);
	assert_int_equal(t->ops->getattr(t->be, &ROOT, &f, &a), -ESTALE);
	assert_int_equal(bc_setattr(t, &ROOT, &f, &sa), -ESTALE);
	assert_int_equal(bc_read(t, &ROOT, &f, 0, buf, 4, &got, &eof), -ESTALE);
	assert_int_equal(bc_write(t, &ROOT, &f, 0, "x", 1), -ESTALE);
	assert_int_equal(t->ops->access(t->be, &ROOT, &f, R_OK_), -ESTALE);
	assert_int_equal(bc_remove(t, &ROOT, &t->top, "d"), 0);
	assert_int_equal(bc_lookup(t, &ROOT, &d, "f", NULL), -ESTALE);
	assert_int_equal(bc_create(t, &ROOT, &d, "g", BE_REG, 0644, NULL), -ESTALE);
	assert_int_equal(t->ops->lookupp(t->be, &ROOT, &d, &bad, &a), -ESTALE);
	{
		struct rd_ctx r = {0};
		uint64_t verf;

		assert_int_equal(t->ops->readdir(t->be, &ROOT, &d, 0, rd_fn, &r, &verf, &eof),
				 -ESTALE);
	}
	/* garbage */
	memset(&bad, 0, sizeof(bad));
	err = t->ops->getattr(t->be, &ROOT, &bad, &a);
	assert_true(err == -EBADF || err == -ESTALE);
	bad.len = 5;
	memset(bad.data, 0xa5, 5);
	err = t->ops->getattr(t->be, &ROOT, &bad, &a);
	assert_true(err == -EBADF || err == -ESTALE);
	bad.len = BE_FH_MAX;
	for (size_t i = 0; i < BE_FH_MAX; i++)
		bad.data[i] = (uint8_t)(i * 37 + 11);
	err = t->ops->getattr(t->be, &ROOT, &bad, &a);
	assert_true(err == -EBADF || err == -ESTALE);
	bad.len = BE_FH_MAX + 1;
	err = t->ops->getattr(t->be, &ROOT, &bad, &a);
	assert_true(err == -EBADF || err == -ESTALE);
	/* a truncated good handle */
	bad = t->top;
	bad.len -= 1;
	err = t->ops->getattr(t->be, &ROOT, &bad, &a);
	assert_true(err == -EBADF || err == -ESTALE);
}

static void bc_test_dirchange(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "d", 0755);
	struct be_fh e = mkdir_mode(t, "e", 0755);
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0644};
	struct be_dirchange dc, dc2;
	struct be_fh fh;
	struct be_attr a;
	uint64_t before;

	before = ga(t, &d).change;
	assert_int_equal(
		t->ops->create(t->be, &ROOT, &d, "f", BE_REG, &sa, NULL, 0, 0, &fh, &a, &dc), 0);
	assert_int_equal(dc.before, before);
	assert_int_equal(dc.after, ga(t, &d).change);
	assert_true(dc.after > dc.before);

	before = ga(t, &e).change;
	assert_int_equal(t->ops->link(t->be, &ROOT, &fh, &e, "l", &dc), 0);
	assert_int_equal(dc.before, before);
	assert_int_equal(dc.after, ga(t, &e).change);
	assert_true(dc.after > dc.before);

	{
		uint64_t sb = ga(t, &d).change, db = ga(t, &e).change;

		assert_int_equal(t->ops->rename(t->be, &ROOT, &d, "f", &e, "g", &dc, &dc2), 0);
		assert_int_equal(dc.before, sb);
		assert_int_equal(dc2.before, db);
		assert_int_equal(dc.after, ga(t, &d).change);
		assert_int_equal(dc2.after, ga(t, &e).change);
		assert_true(dc.after > dc.before);
		assert_true(dc2.after > dc2.before);
	}
	before = ga(t, &e).change;
	assert_int_equal(t->ops->remove(t->be, &ROOT, &e, "g", &dc), 0);
	assert_int_equal(dc.before, before);
	assert_int_equal(dc.after, ga(t, &e).change);
	assert_true(dc.after > dc.before);
}

static void bc_test_statfs(void **state)
{
	struct bc *t = *state;
	struct be_statfs s;
	struct be_fh f = mk(t, &ROOT, &t->top, "f", BE_REG, 0644);

	assert_int_equal(t->ops->statfs(t->be, &ROOT, &t->root, &s), 0);
	assert_true(s.space_total > 0);
	assert_true(s.space_free <= s.space_total);
	assert_true(s.space_avail <= s.space_total);
	assert_true(s.files_total > 0);
	assert_true(s.files_free <= s.files_total);
	assert_int_equal(s.name_max, 255);
	assert_true(s.max_filesize >= (1ull << 31));
	assert_true(s.max_link >= 2);
	assert_int_equal(t->ops->statfs(t->be, &USER, &f, &s), 0);
	assert_int_equal(bc_remove(t, &ROOT, &t->top, "f"), 0);
	assert_int_equal(t->ops->statfs(t->be, &ROOT, &f, &s), -ESTALE);
}

/* ---- concurrency ---- */

#define CC_THREADS 4
#define CC_ROUNDS 200
#define CC_BLOCK 4096

struct cc_arg {
	struct bc *t;
	int id;
	struct be_fh dir;
	struct be_fh shared;
	int failures;
};

static void cc_fill(uint8_t *buf, int id, int round)
{
	for (int i = 0; i < CC_BLOCK; i++)
		buf[i] = (uint8_t)(id * 31 + round * 7 + i);
}

static void *cc_thread(void *p)
{
	struct cc_arg *c = p;
	struct bc *t = c->t;
	const struct backend_ops *ops = t->ops;
	struct be_cred cred = {.uid = 0, .gid = 0};
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0644};
	uint8_t buf[CC_BLOCK], back[CC_BLOCK];
	char name[32], other[32];
	struct be_fh own, fh;
	struct be_attr a;
	struct be_dirchange dc, dc2;
	size_t n;
	enum be_stable st;
	bool eof;

	snprintf(name, sizeof(name), "own%d", c->id);
	if (ops->create(t->be, &cred, &c->dir, name, BE_REG, &sa, NULL, 0, 0, &own, &a, &dc)) {
		c->failures++;
		return NULL;
	}
	for (int r = 0; r < CC_ROUNDS; r++) {
		uint64_t off = (uint64_t)(r % 16) * CC_BLOCK;

		/* private file: write then read back */
		cc_fill(buf, c->id, r);
		if (ops->write(t->be, &cred, &own, off, buf, CC_BLOCK, BE_UNSTABLE, &n, &st) ||
		    n != CC_BLOCK)
			c->failures++;
		if (ops->read(t->be, &cred, &own, off, back, CC_BLOCK, &n, &eof) || n != CC_BLOCK ||
		    memcmp(buf, back, CC_BLOCK) != 0)
			c->failures++;
		/* shared file: this thread's own block */
		if (ops->write(t->be, &cred, &c->shared, (uint64_t)c->id * CC_BLOCK, buf, CC_BLOCK,
			       BE_FILE_SYNC, &n, &st))
			c->failures++;
		if (ops->read(t->be, &cred, &c->shared, (uint64_t)c->id * CC_BLOCK, back, CC_BLOCK,
			      &n, &eof) ||
		    n != CC_BLOCK || memcmp(buf, back, CC_BLOCK) != 0)
			c->failures++;
		/* names in the shared directory come and go */
		snprintf(name, sizeof(name), "t%d-%d", c->id, r);
		snprintf(other, sizeof(other), "t%d-%d-renamed", c->id, r);
		if (ops->create(t->be, &cred, &c->dir, name, BE_REG, &sa, NULL, 0, 0, &fh, &a, &dc))
			c->failures++;
		if (ops->rename(t->be, &cred, &c->dir, name, &c->dir, other, &dc, &dc2))
			c->failures++;
		if (r % 3 == 0 && ops->remove(t->be, &cred, &c->dir, other, &dc))
			c->failures++;
		if (ops->getattr(t->be, &cred, &c->shared, &a) || a.size < CC_BLOCK)
			c->failures++;
		if (r % 20 == 0) {
			struct rd_ctx rd = {0};
			uint64_t verf;

			if (ops->readdir(t->be, &cred, &c->dir, 0, rd_fn, &rd, &verf, &eof) ||
			    !eof || rd.bad)
				c->failures++;
			free(rd.ents);
		}
		if (ops->lookup(t->be, &cred, &c->dir, "shared", &fh, &a))
			c->failures++;
	}
	return NULL;
}

static void bc_test_concurrent(void **state)
{
	struct bc *t = *state;
	struct be_fh d = mkdir_mode(t, "cc", 0755);
	struct be_fh shared = mk(t, &ROOT, &d, "shared", BE_REG, 0644);
	struct cc_arg args[CC_THREADS];
	pthread_t th[CC_THREADS];
	struct rd_ctx r;
	uint8_t buf[CC_BLOCK], back[CC_BLOCK];
	size_t got;
	bool eof;

	for (int i = 0; i < CC_THREADS; i++) {
		args[i] = (struct cc_arg){.t = t, .id = i, .dir = d, .shared = shared};
		assert_int_equal(pthread_create(&th[i], NULL, cc_thread, &args[i]), 0);
	}
	for (int i = 0; i < CC_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	/* shared + own files + the two thirds of the renamed names that stayed */
	rd_all(t, &ROOT, &d, 5, &r);
	assert_int_equal(r.n, 1 + CC_THREADS + CC_THREADS * (CC_ROUNDS - (CC_ROUNDS + 2) / 3));
	free(r.ents);
	for (int i = 0; i < CC_THREADS; i++) {
		cc_fill(buf, i, CC_ROUNDS - 1);
		assert_int_equal(bc_read(t, &ROOT, &shared, (uint64_t)i * CC_BLOCK, back, CC_BLOCK,
					 &got, &eof),
				 0);
		assert_memory_equal(buf, back, CC_BLOCK);
	}
	assert_int_equal(ga(t, &shared).size, CC_THREADS * CC_BLOCK);
}

/* ---- the group ---- */

#define BC_TEST(f) cmocka_unit_test_setup_teardown(f, bc_setup, bc_teardown)

int backend_conformance_run(const char *group_name, int (*make)(struct backend **be, void *arg),
			    void (*cleanup)(void *arg), void *arg)
{
	struct CMUnitTest tests[] = {
		BC_TEST(bc_test_root),
		BC_TEST(bc_test_create_types),
		BC_TEST(bc_test_create_mode_exact),
		BC_TEST(bc_test_create_owner),
		BC_TEST(bc_test_create_with_attrs),
		BC_TEST(bc_test_lookup),
		BC_TEST(bc_test_names_invalid),
		BC_TEST(bc_test_write_attrs),
		BC_TEST(bc_test_change_increases),
		BC_TEST(bc_test_times),
		BC_TEST(bc_test_nlink),
		BC_TEST(bc_test_setattr_owner),
		BC_TEST(bc_test_setattr_size),
		BC_TEST(bc_test_setattr_times_perm),
		BC_TEST(bc_test_read_write),
		BC_TEST(bc_test_write_kills_suid),
		BC_TEST(bc_test_readdir_basic),
		BC_TEST(bc_test_readdir_small_calls),
		BC_TEST(bc_test_readdir_stable_cookies),
		BC_TEST(bc_test_readdir_large),
		BC_TEST(bc_test_remove),
		BC_TEST(bc_test_rename_basic),
		BC_TEST(bc_test_rename_replace),
		BC_TEST(bc_test_rename_special),
		BC_TEST(bc_test_link),
		BC_TEST(bc_test_symlink),
		BC_TEST(bc_test_perm_nonroot),
		BC_TEST(bc_test_perm_classes),
		BC_TEST(bc_test_perm_root),
		BC_TEST(bc_test_sticky),
		BC_TEST(bc_test_stale_and_bad_handles),
		BC_TEST(bc_test_dirchange),
		BC_TEST(bc_test_statfs),
		BC_TEST(bc_test_concurrent),
	};
	struct bc ctx = {.make = make, .cleanup = cleanup, .arg = arg};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tests[i].initial_state = &ctx;
	return _cmocka_run_group_tests(group_name, tests, sizeof(tests) / sizeof(tests[0]), NULL,
				       NULL);
}
