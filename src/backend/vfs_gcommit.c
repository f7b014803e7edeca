/* Group commit of directory syncs; the rules are in vfs_gcommit.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vfs_gcommit.h"
#include "util/hash.h"

/* Directories synced at once that get a slot of their own (more share by hash or sync alone). */
#define VFS_GCOMMIT_SLOTS 64

/*
 * One directory's syncs while anyone needs one, all under lock. Syncs are
 * numbered from 1 since the slot was taken: started counts those begun,
 * done those ended (they run one at a time, so started - done is 0 or 1).
 * A caller waits for sync number target on cond[target % 2]: the end of a
 * sync wakes all who waited for it, and one of those who wait for the next
 * to run it, not every waiter.
 */
struct gc_slot {
	pthread_mutex_t lock;
	pthread_cond_t cond[2];
	unsigned users; /* callers inside; 0: the slot is free and its key void */
	uint64_t dev, ino;
	uint64_t started, done;
	uint64_t failed;	/* the number of the latest sync that failed, 0 if none */
	int err;		/* its -errno */
} __attribute__((aligned(64))); /* one cache line each: slots are locked independently */

struct vfs_gcommit {
	struct gc_slot slot[VFS_GCOMMIT_SLOTS];
};

int vfs_gcommit_create(struct vfs_gcommit **out)
{
	struct vfs_gcommit *gc = aligned_alloc(64, sizeof(*gc));

	*out = NULL;
	if (!gc)
		return -ENOMEM;
	memset(gc, 0, sizeof(*gc));
	for (int i = 0; i < VFS_GCOMMIT_SLOTS; i++) {
		pthread_mutex_init(&gc->slot[i].lock, NULL);
		pthread_cond_init(&gc->slot[i].cond[0], NULL);
		pthread_cond_init(&gc->slot[i].cond[1], NULL);
	}
	*out = gc;
	return 0;
}

void vfs_gcommit_destroy(struct vfs_gcommit *gc)
{
	if (!gc)
		return;
	for (int i = 0; i < VFS_GCOMMIT_SLOTS; i++) {
		pthread_mutex_destroy(&gc->slot[i].lock);
		pthread_cond_destroy(&gc->slot[i].cond[0]);
		pthread_cond_destroy(&gc->slot[i].cond[1]);
	}
	free(gc);
}

int vfs_gcommit_sync(struct vfs_gcommit *gc, uint64_t dev, uint64_t ino, vfs_gcommit_fn fn,
		     void *arg)
{
	struct gc_slot *s = &gc->slot[hash_u64(dev ^ hash_u64(ino)) % VFS_GCOMMIT_SLOTS];
	uint64_t target;
	int err;

	pthread_mutex_lock(&s->lock);
	if (s->users && (s->dev != dev || s->ino != ino)) {
		pthread_mutex_unlock(&s->lock);
		return fn(arg);
	}
	if (!s->users) {
		s->dev = dev;
		s->ino = ino;
		s->started = s->done = s->failed = 0;
	}
	s->users++;
	/* The first sync to start from now on: the one running may have begun before our change. */
	target = s->started + 1;
	while (s->done < target) {
		if (s->started == s->done) {
			/* None runs and none ended since we came: ours is next. */
			s->started++;
			pthread_mutex_unlock(&s->lock);
			err = fn(arg);
			pthread_mutex_lock(&s->lock);
			s->done = s->started;
			if (err) {
				s->failed = s->done;
				s->err = err;
			}
			pthread_cond_broadcast(&s->cond[s->done % 2]);
			pthread_cond_signal(&s->cond[(s->done + 1) % 2]);
		} else {
			pthread_cond_wait(&s->cond[target % 2], &s->lock);
		}
	}
	/* Ours succeeded unless it failed, or (we cannot tell them apart) a later one did. */
	err = s->failed >= target ? s->err : 0;
	s->users--;
	pthread_mutex_unlock(&s->lock);
	return err;
}
