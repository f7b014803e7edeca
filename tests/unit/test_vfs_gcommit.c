/*
 * Group commit of directory syncs (src/backend/vfs_gcommit.c): a caller
 * returns only after a sync that started after it came has ended, syncs of
 * one directory never overlap, other directories are not held up, failures
 * reach the callers they cover — and, with threads racing (TSan), every
 * caller's change is covered. No assertion depends on timing: where the
 * test sleeps, it only gives the threads a chance to arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <cmocka.h>

#include "backend/vfs_gcommit.h"

#define KEYS 2
#define RACERS 16
#define RACE_ROUNDS 400

/* What a sync of one key sees: the changes made before it started, and overlaps. */
struct dir {
	atomic_uint_fast64_t changes; /* changes made so far (numbered from 1) */
	atomic_uint_fast64_t durable; /* the most changes a sync that ended had seen at its start */
	atomic_int running;	      /* syncs of this key running now */
	atomic_int syncs;	      /* syncs run */
	atomic_int overlaps;	      /* syncs that found another one running */
};

/* A blocking sync: the test lets it end. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered, open;
};

struct sync_arg {
	struct dir *d;
	struct gate *gate; /* NULL: does not block */
	int result;	   /* what the sync returns */
};

static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

	nanosleep(&ts, NULL);
}

static int fake_sync(void *arg)
{
	struct sync_arg *a = arg;
	struct dir *d = a->d;
	uint64_t seen = atomic_load(&d->changes), cur;

	if (atomic_fetch_add(&d->running, 1) != 0)
		atomic_fetch_add(&d->overlaps, 1);
	atomic_fetch_add(&d->syncs, 1);
	if (!a->gate) {
		sched_yield(); /* a sync takes a while: let others arrive meanwhile */
	} else {
		pthread_mutex_lock(&a->gate->lock);
		a->gate->entered = true;
		pthread_cond_broadcast(&a->gate->cond);
		while (!a->gate->open)
			pthread_cond_wait(&a->gate->cond, &a->gate->lock);
		pthread_mutex_unlock(&a->gate->lock);
	}
	atomic_fetch_sub(&d->running, 1);
	if (a->result == 0) {
		cur = atomic_load(&d->durable);
		while (cur < seen && !atomic_compare_exchange_weak(&d->durable, &cur, seen))
			;
	}
	return a->result;
}

static struct vfs_gcommit *gc;

static int setup(void **state)
{
	(void)state;
	return vfs_gcommit_create(&gc) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	vfs_gcommit_destroy(gc);
	gc = NULL;
	return 0;
}

struct caller {
	pthread_t t;
	uint64_t dev, ino;
	struct sync_arg arg;
	uint64_t change; /* this caller's change, made just before it syncs */
	int err;
	atomic_bool returned;
};

/* A change to the caller's directory, then the sync that must cover it. */
static void *call(void *p)
{
	struct caller *c = p;

	c->change = atomic_fetch_add(&c->arg.d->changes, 1) + 1;
	c->err = vfs_gcommit_sync(gc, c->dev, c->ino, fake_sync, &c->arg);
	atomic_store(&c->returned, true);
	return NULL;
}

static void gate_wait_entered(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->entered)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void alone_runs_its_own_sync_and_gets_its_result(void **state)
{
	struct dir d = {0};
	struct sync_arg ok = {.d = &d}, bad = {.d = &d, .result = -EIO};

	(void)state;
	assert_int_equal(vfs_gcommit_sync(gc, 1, 2, fake_sync, &ok), 0);
	assert_int_equal(vfs_gcommit_sync(gc, 1, 2, fake_sync, &bad), -EIO);
	/* A failure is not kept once nobody waits. */
	assert_int_equal(vfs_gcommit_sync(gc, 1, 2, fake_sync, &ok), 0);
	assert_int_equal(atomic_load(&d.syncs), 3);
}

/*
 * While a sync of a directory runs, callers for it wait for the next one
 * (none can start until it ends), which one of them runs for all; a caller
 * for another directory is not held up.
 */
static void callers_during_a_sync_wait_for_the_next_one(void **state)
{
	struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
	struct dir d = {0}, other = {0};
	struct caller first = {.dev = 7, .ino = 100, .arg = {.d = &d, .gate = &gate}};
	struct caller late[4];
	struct caller elsewhere = {.dev = 7, .ino = 101, .arg = {.d = &other}};

	(void)state;
	assert_int_equal(pthread_create(&first.t, NULL, call, &first), 0);
	gate_wait_entered(&gate);
	for (int i = 0; i < 4; i++) {
		late[i] = (struct caller){.dev = 7, .ino = 100, .arg = {.d = &d}};
		assert_int_equal(pthread_create(&late[i].t, NULL, call, &late[i]), 0);
	}
	assert_int_equal(pthread_create(&elsewhere.t, NULL, call, &elsewhere), 0);
	pthread_join(elsewhere.t, NULL);
	assert_int_equal(elsewhere.err, 0);
	pause_ms(50); /* a chance for the late callers to arrive: they must not return */
	for (int i = 0; i < 4; i++)
		assert_false(atomic_load(&late[i].returned));
	assert_int_equal(atomic_load(&d.syncs), 1);
	gate_open(&gate);
	pthread_join(first.t, NULL);
	assert_int_equal(first.err, 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(late[i].t, NULL);
		assert_int_equal(late[i].err, 0);
		assert_true(atomic_load(&d.durable) >= late[i].change);
	}
	/* The late ones shared syncs: at most one each, never two at once. */
	assert_true(atomic_load(&d.syncs) >= 2 && atomic_load(&d.syncs) <= 5);
	assert_int_equal(atomic_load(&d.overlaps), 0);
}

/* The sync running when a caller came does not answer for it, failed or not. */
static void a_failed_sync_reaches_the_callers_it_covers(void **state)
{
	struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
	struct dir d = {0};
	struct caller first = {.dev = 8, .ino = 5, .arg = {.d = &d, .gate = &gate}};
	struct caller late = {.dev = 8, .ino = 5, .arg = {.d = &d, .result = -EIO}};

	(void)state;
	assert_int_equal(pthread_create(&first.t, NULL, call, &first), 0);
	gate_wait_entered(&gate);
	assert_int_equal(pthread_create(&late.t, NULL, call, &late), 0);
	pause_ms(20);
	gate_open(&gate);
	pthread_join(first.t, NULL);
	pthread_join(late.t, NULL);
	/* late is the only caller of the second sync, so it runs its own failing one. */
	assert_int_equal(first.err, 0);
	assert_int_equal(late.err, -EIO);
}

struct racer {
	pthread_t t;
	struct dir *dirs;
	int id;
	atomic_int *bad;
};

static void *race(void *p)
{
	struct racer *r = p;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		int k = (r->id + i) % KEYS;
		struct dir *d = &r->dirs[k];
		struct sync_arg a = {.d = d};
		uint64_t change = atomic_fetch_add(&d->changes, 1) + 1;

		if (vfs_gcommit_sync(gc, 3, (uint64_t)k, fake_sync, &a) != 0 ||
		    atomic_load(&d->durable) < change)
			atomic_fetch_add(r->bad, 1);
	}
	return NULL;
}

static void racing_callers_are_all_covered(void **state)
{
	struct dir dirs[KEYS] = {0};
	struct racer r[RACERS];
	atomic_int bad = 0;
	int syncs = 0;

	(void)state;
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){.dirs = dirs, .id = i, .bad = &bad};
		assert_int_equal(pthread_create(&r[i].t, NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(r[i].t, NULL);
	assert_int_equal(atomic_load(&bad), 0);
	for (int k = 0; k < KEYS; k++) {
		assert_int_equal(atomic_load(&dirs[k].overlaps), 0);
		syncs += atomic_load(&dirs[k].syncs);
	}
	assert_true(syncs <= RACERS * RACE_ROUNDS);
	print_message("%d callers, %d syncs\n", RACERS * RACE_ROUNDS, syncs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(alone_runs_its_own_sync_and_gets_its_result, setup,
						teardown),
		cmocka_unit_test_setup_teardown(callers_during_a_sync_wait_for_the_next_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_failed_sync_reaches_the_callers_it_covers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(racing_callers_are_all_covered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
