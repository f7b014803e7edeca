/*
 * The vfs backend's cache of O_PATH fds by handle (src/backend/vfs_fdcache.c):
 * hits, duplicates, the cap and LRU eviction, invalidation, and that no fd is
 * closed while someone holds its entry — also with threads racing (TSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/vfs_fdcache.h"

static struct be_fh key(uint32_t i)
{
	struct be_fh k = {.len = 24};

	memcpy(k.data, &i, sizeof(i));
	k.data[20] = 0x5a;
	return k;
}

static int new_fd(void)
{
	int fd = open("/", O_PATH | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_get_add_put(void **state)
{
	struct vfs_fdcache *c;
	struct be_fh k = key(1), k2 = key(2);
	struct vfs_fdent *e, *again;
	int fd = new_fd(), dup_fd = new_fd();

	(void)state;
	assert_int_equal(vfs_fdcache_create(1000, &c), 0);
	assert_null(vfs_fdcache_get(c, &k));
	e = vfs_fdcache_add(c, &k, fd, 7);
	assert_non_null(e);
	assert_int_equal(e->fd, fd);
	assert_int_equal(atomic_load(&e->stamp), 7);
	vfs_fdcache_put(e);
	assert_true(fd_open(fd)); /* the table still holds it */
	again = vfs_fdcache_get(c, &k);
	assert_ptr_equal(again, e);
	/* Same key again (two threads resolved it at once): the first fd wins, the second closes.
	 */
	e = vfs_fdcache_add(c, &k, dup_fd, 0);
	assert_ptr_equal(e, again);
	assert_false(fd_open(dup_fd));
	vfs_fdcache_put(e);
	vfs_fdcache_put(again);
	assert_null(vfs_fdcache_get(c, &k2));
	/* Keys differ by length too. */
	k2 = k;
	k2.len = 23;
	assert_null(vfs_fdcache_get(c, &k2));
	assert_int_equal(vfs_fdcache_count(c), 1);
	vfs_fdcache_destroy(c);
	assert_false(fd_open(fd));
}

/* Dropping unhashes at once; the fd stays open for whoever holds the entry. */
static void test_drop_while_held(void **state)
{
	struct vfs_fdcache *c;
	struct be_fh k = key(3);
	struct vfs_fdent *e;
	int fd = new_fd();

	(void)state;
	assert_int_equal(vfs_fdcache_create(1000, &c), 0);
	e = vfs_fdcache_add(c, &k, fd, 0);
	vfs_fdcache_drop(c, &k);
	assert_null(vfs_fdcache_get(c, &k));
	assert_int_equal(vfs_fdcache_count(c), 0);
	assert_true(fd_open(e->fd));
	vfs_fdcache_drop(c, &k); /* twice: nothing */
	vfs_fdcache_drop_ent(c, e);
	vfs_fdcache_put(e);
	assert_false(fd_open(fd));
	/* drop_ent of a hashed entry. */
	fd = new_fd();
	e = vfs_fdcache_add(c, &k, fd, 0);
	vfs_fdcache_drop_ent(c, e);
	assert_null(vfs_fdcache_get(c, &k));
	assert_true(fd_open(fd));
	vfs_fdcache_put(e);
	assert_false(fd_open(fd));
	vfs_fdcache_destroy(c);
}

/* The cap holds; the least recently used go first; a held entry survives eviction. */
static void test_eviction(void **state)
{
	enum { CAP = 128, N = 3000 };
	struct vfs_fdcache *c;
	struct be_fh hot = key(0);
	struct vfs_fdent *e, *held;
	int held_fd;

	(void)state;
	assert_int_equal(vfs_fdcache_create(CAP, &c), 0);
	vfs_fdcache_put(vfs_fdcache_add(c, &hot, new_fd(), 0));
	held = vfs_fdcache_add(c, &(struct be_fh){.len = 3, .data = {9, 9, 9}}, new_fd(), 0);
	held_fd = held->fd;
	for (uint32_t i = 1; i < N; i++) {
		struct be_fh k = key(i);

		/* Touched before every insertion: never the least recently used of its stripe. */
		e = vfs_fdcache_get(c, &hot);
		assert_non_null(e);
		vfs_fdcache_put(e);
		vfs_fdcache_put(vfs_fdcache_add(c, &k, new_fd(), 0));
		assert_true(vfs_fdcache_count(c) <= CAP);
	}
	e = vfs_fdcache_get(c, &hot);
	assert_non_null(e);
	vfs_fdcache_put(e);
	/* Thousands went by: the early ones are gone, and so is the untouched held one. */
	for (uint32_t i = 1; i < 100; i++) {
		struct be_fh k = key(i);

		assert_null(vfs_fdcache_get(c, &k));
	}
	assert_null(vfs_fdcache_get(c, &held->key));
	/* Evicted fds were closed: far fewer than N are open. */
	assert_true(held_fd >= 0 && fd_open(held_fd));
	vfs_fdcache_put(held);
	assert_false(fd_open(held_fd));
	vfs_fdcache_destroy(c);
}

/* ---- threads ---- */

#define RACE_KEYS 48
#define RACE_ITERS 20000

struct racer {
	struct vfs_fdcache *c;
	unsigned seed;
	int bad;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < RACE_ITERS; i++) {
		uint32_t n = (uint32_t)rand_r(&r->seed);
		struct be_fh k = key(n % RACE_KEYS);
		struct vfs_fdent *e = vfs_fdcache_get(r->c, &k);

		switch ((n >> 8) % 4) {
		case 0:
			vfs_fdcache_drop(r->c, &k);
			break;
		case 1:
			if (e)
				vfs_fdcache_drop_ent(r->c, e);
			break;
		default:
			if (!e) {
				int fd = open("/", O_PATH | O_CLOEXEC);

				if (fd < 0) {
					r->bad++;
					continue;
				}
				e = vfs_fdcache_add(r->c, &k, fd, n);
			}
			break;
		}
		/* Whatever happened meanwhile, a held entry is intact and its fd open. */
		if (e) {
			if (e->key.len != k.len || memcmp(e->key.data, k.data, k.len) != 0 ||
			    !fd_open(e->fd))
				r->bad++;
			atomic_store(&e->stamp, n);
			vfs_fdcache_put(e);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	enum { T = 4 };
	struct racer r[T];
	pthread_t th[T];
	struct vfs_fdcache *c;

	(void)state;
	/* A cap below the key count: eviction races with use and drops too. */
	assert_int_equal(vfs_fdcache_create(32, &c), 0);
	for (int i = 0; i < T; i++) {
		r[i] = (struct racer){.c = c, .seed = (unsigned)i * 7919u + 1};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].bad, 0);
	}
	assert_true(vfs_fdcache_count(c) <= RACE_KEYS);
	vfs_fdcache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_add_put),
		cmocka_unit_test(test_drop_while_held),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("vfs_fdcache", tests, NULL, NULL);
}
