/* The mem backend: the shared conformance suite, then what only mem has. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/mem.h"
#include "tests/unit/backend_conformance.h"

static const struct be_cred root_cred = {.uid = 0, .gid = 0};

static int make_mem(struct backend **be, void *arg)
{
	return be_mem_create("conformance", be);
}

struct mt {
	struct backend *be;
	struct be_fh root;
};

static int mt_setup(void **state)
{
	struct mt *t = calloc(1, sizeof(*t));

	if (!t || be_mem_create("mem-test", &t->be) || t->be->ops->root(t->be, &t->root))
		return -1;
	*state = t;
	return 0;
}

static int mt_teardown(void **state)
{
	struct mt *t = *state;

	t->be->ops->destroy(t->be);
	free(t);
	return 0;
}

static int mt_create(struct mt *t, const char *name, enum be_ftype type, struct be_fh *out)
{
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0644};
	struct be_attr a;
	struct be_dirchange dc;

	return t->be->ops->create(t->be, &root_cred, &t->root, name, type, &sa, NULL, 0, 0, out, &a,
				  &dc);
}

static int mt_write(struct mt *t, const struct be_fh *fh, uint64_t off, const void *buf, size_t len)
{
	size_t n;
	enum be_stable st;

	return t->be->ops->write(t->be, &root_cred, fh, off, buf, len, BE_UNSTABLE, &n, &st);
}

static void test_mem_identity(void **state)
{
	struct mt *t = *state;
	struct be_fh f;
	size_t n;
	enum be_stable st = BE_UNSTABLE;

	assert_string_equal(t->be->ops->name, "mem");
	assert_false(t->be->ops->persistent_handles(t->be));
	assert_true(t->root.len > 0 && t->root.len <= BE_FH_MAX);
	/* Data is stable at once. */
	assert_int_equal(mt_create(t, "f", BE_REG, &f), 0);
	assert_int_equal(t->be->ops->write(t->be, &root_cred, &f, 0, "x", 1, BE_UNSTABLE, &n, &st),
			 0);
	assert_int_equal(st, BE_FILE_SYNC);
}

static void test_mem_limit(void **state)
{
	struct mt *t = *state;
	struct be_statfs s;
	struct be_fh f, g;
	uint8_t *buf = calloc(1, 2 << 20);

	assert_non_null(buf);
	be_mem_set_limit(t->be, 1 << 20);
	assert_int_equal(t->be->ops->statfs(t->be, &root_cred, &t->root, &s), 0);
	assert_int_equal(s.space_total, 1 << 20);
	assert_true(s.space_free < s.space_total);
	assert_int_equal(mt_create(t, "f", BE_REG, &f), 0);
	assert_int_equal(mt_write(t, &f, 0, buf, 2 << 20), -ENOSPC);
	assert_int_equal(mt_write(t, &f, 0, buf, 512 << 10), 0);
	assert_int_equal(mt_create(t, "g", BE_REG, &g), 0);
	assert_int_equal(mt_write(t, &g, 0, buf, 600 << 10), -ENOSPC);
	/* A failed write changes nothing. */
	{
		struct be_attr a;

		assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &g, &a), 0);
		assert_int_equal(a.size, 0);
	}
	/* Truncating frees the space. */
	{
		struct be_sattr sa = {.mask = BE_SET_SIZE, .size = 0};
		struct be_attr a;

		assert_int_equal(t->be->ops->setattr(t->be, &root_cred, &f, &sa, &a), 0);
	}
	assert_int_equal(mt_write(t, &g, 0, buf, 600 << 10), 0);
	/* Removing frees it too; extending by setattr costs nothing until written. */
	{
		struct be_dirchange dc;
		struct be_sattr sa = {.mask = BE_SET_SIZE, .size = 1ull << 40};
		struct be_attr a;

		assert_int_equal(t->be->ops->remove(t->be, &root_cred, &t->root, "g", &dc), 0);
		assert_int_equal(mt_write(t, &f, 0, buf, 900 << 10), 0);
		assert_int_equal(t->be->ops->setattr(t->be, &root_cred, &f, &sa, &a), 0);
		assert_int_equal(a.size, 1ull << 40);
	}
	/* Names and inodes count as well: creating until full ends in -ENOSPC. */
	{
		char name[32];
		int err = 0, i;

		for (i = 0; i < 100000 && !err; i++) {
			snprintf(name, sizeof(name), "n%d", i);
			err = mt_create(t, name, BE_REG, &g);
		}
		assert_int_equal(err, -ENOSPC);
		assert_true(i > 10);
	}
	free(buf);
}

static void test_mem_generation(void **state)
{
	struct mt *t = *state;
	struct be_fh f, g;
	struct be_attr a, b;
	struct be_dirchange dc;

	assert_int_equal(mt_create(t, "f", BE_REG, &f), 0);
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &f, &a), 0);
	assert_int_equal(t->be->ops->remove(t->be, &root_cred, &t->root, "f", &dc), 0);
	assert_int_equal(mt_create(t, "g", BE_DIR, &g), 0);
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &g, &b), 0);
	/* The inode number is reused; the old handle does not reach the new file. */
	assert_int_equal(a.fileid, b.fileid);
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &f, &a), -ESTALE);
	assert_memory_not_equal(f.data, g.data, f.len);
}

static void test_mem_foreign_and_malformed(void **state)
{
	struct mt *t = *state;
	struct backend *other;
	struct be_fh ofh, bad;
	struct be_attr a;

	assert_int_equal(be_mem_create("other", &other), 0);
	assert_int_equal(other->ops->root(other, &ofh), 0);
	/* Another instance's (well-formed) handle is stale here. */
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &ofh, &a), -ESTALE);
	other->ops->destroy(other);
	bad = t->root;
	bad.data[0] ^= 0xff; /* the magic */
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &bad, &a), -EBADF);
	bad = t->root;
	bad.len++;
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &bad, &a), -EBADF);
	bad.len = 0;
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &bad, &a), -EBADF);
}

static void test_mem_emlink(void **state)
{
	struct mt *t = *state;
	struct be_fh f, d;
	struct be_attr a;
	struct be_dirchange dc;
	struct be_sattr sa = {.mask = BE_SET_MODE, .mode = 0755};
	char name[32];

	assert_int_equal(mt_create(t, "f", BE_REG, &f), 0);
	assert_int_equal(t->be->ops->create(t->be, &root_cred, &t->root, "d", BE_DIR, &sa, NULL, 0,
					    0, &d, &a, &dc),
			 0);
	for (unsigned i = 1; i < BE_MEM_MAX_LINK; i++) {
		snprintf(name, sizeof(name), "l%u", i);
		assert_int_equal(t->be->ops->link(t->be, &root_cred, &f, &d, name, &dc), 0);
	}
	assert_int_equal(t->be->ops->getattr(t->be, &root_cred, &f, &a), 0);
	assert_int_equal(a.nlink, BE_MEM_MAX_LINK);
	assert_int_equal(t->be->ops->link(t->be, &root_cred, &f, &d, "one-more", &dc), -EMLINK);
}

struct cb_ctx {
	struct mt *t;
	uint64_t last;
	int n;
};

/* readdir's callback runs without the backend's lock: it may call back in. */
static bool cb_reenter(void *arg, const struct be_dirent *ent)
{
	struct cb_ctx *c = arg;
	struct be_fh fh;
	struct be_attr a;
	struct be_dirchange dc;

	if (ent->cookie <= c->last)
		return false;
	c->last = ent->cookie;
	c->n++;
	(void)c->t->be->ops->lookup(c->t->be, &root_cred, &c->t->root, ent->name, &fh, &a);
	/* Entries copied out before a removal may still be delivered; later calls skip them. */
	if (strcmp(ent->name, "a") == 0)
		assert_int_equal(c->t->be->ops->remove(c->t->be, &root_cred, &c->t->root, "c", &dc),
				 0);
	return true;
}

static void test_mem_readdir_cookies(void **state)
{
	struct mt *t = *state;
	struct be_fh fh;
	struct cb_ctx c = {.t = t};
	uint64_t v1, v2;
	bool eof;

	assert_int_equal(mt_create(t, "a", BE_REG, &fh), 0);
	assert_int_equal(mt_create(t, "b", BE_REG, &fh), 0);
	assert_int_equal(mt_create(t, "c", BE_REG, &fh), 0);
	assert_int_equal(
		t->be->ops->readdir(t->be, &root_cred, &t->root, 0, cb_reenter, &c, &v1, &eof), 0);
	assert_true(eof);
	assert_true(c.n == 2 || c.n == 3);
	assert_true(c.last == 4 || c.last == 5); /* "a" got 3, "b" 4, "c" 5 */
	assert_int_equal(mt_create(t, "d", BE_REG, &fh), 0);
	c.n = 0;
	assert_int_equal(
		t->be->ops->readdir(t->be, &root_cred, &t->root, 4, cb_reenter, &c, &v2, &eof), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last, 6); /* "c" had 5 */
	assert_int_equal(v1, v2);    /* cookies never go bad */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mem_identity, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_mem_limit, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_mem_generation, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_mem_foreign_and_malformed, mt_setup,
						mt_teardown),
		cmocka_unit_test_setup_teardown(test_mem_emlink, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_mem_readdir_cookies, mt_setup, mt_teardown),
	};
	int failed = backend_conformance_run("backend_conformance_mem", make_mem, NULL, NULL);

	failed += cmocka_run_group_tests_name("backend_mem", tests, NULL, NULL);
	return failed ? 1 : 0;
}
