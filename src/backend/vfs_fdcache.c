/* The vfs backend's cache of O_PATH fds by handle; the rules are in vfs_fdcache.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/vfs_fdcache.h"
#include "util/hash.h"

#define VFS_FDCACHE_STRIPES 64

/*
 * Lookups take the stripe's lock shared, so threads hitting one hot handle
 * do not wait for each other; they only set the entry's used flag. Changes
 * take it exclusive. Eviction is LRU with a second chance (CLOCK): entries
 * enter at the head, and one used since it was last looked at is moved back
 * to the head instead of evicted.
 */
struct vfs_fdstripe {
	pthread_rwlock_t lock;
	struct vfs_fdent **bucket; /* nbuckets chains */
	struct cds_list_head lru;  /* newest (or last spared) first */
	size_t count;
} __attribute__((aligned(64))); /* one cache line each: stripes are locked independently */

struct vfs_fdcache {
	size_t cap;	 /* per stripe */
	size_t nbuckets; /* per stripe, a power of two */
	struct vfs_fdstripe stripe[VFS_FDCACHE_STRIPES];
};

static uint64_t key_hash(const struct be_fh *key)
{
	return hash_u64(hash_bytes(key->data, key->len, key->len));
}

static struct vfs_fdstripe *stripe_of(struct vfs_fdcache *c, uint64_t h)
{
	return &c->stripe[h % VFS_FDCACHE_STRIPES];
}

static struct vfs_fdent **chain_of(struct vfs_fdcache *c, struct vfs_fdstripe *s, uint64_t h)
{
	return &s->bucket[(h / VFS_FDCACHE_STRIPES) & (c->nbuckets - 1)];
}

int vfs_fdcache_create(size_t cap, struct vfs_fdcache **out)
{
	struct vfs_fdcache *c = aligned_alloc(64, sizeof(*c));

	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->cap = cap / VFS_FDCACHE_STRIPES ? cap / VFS_FDCACHE_STRIPES : 1;
	c->nbuckets = 1;
	while (c->nbuckets < c->cap)
		c->nbuckets <<= 1;
	for (int i = 0; i < VFS_FDCACHE_STRIPES; i++) {
		struct vfs_fdstripe *s = &c->stripe[i];

		pthread_rwlock_init(&s->lock, NULL);
		CDS_INIT_LIST_HEAD(&s->lru);
		s->bucket = calloc(c->nbuckets, sizeof(*s->bucket));
		if (!s->bucket) {
			vfs_fdcache_destroy(c);
			return -ENOMEM;
		}
	}
	*out = c;
	return 0;
}

static struct vfs_fdent *find(struct vfs_fdcache *c, struct vfs_fdstripe *s, uint64_t h,
			      const struct be_fh *key)
{
	for (struct vfs_fdent *e = *chain_of(c, s, h); e; e = e->hnext)
		if (e->hash == h && e->key.len == key->len &&
		    memcmp(e->key.data, key->data, key->len) == 0)
			return e;
	return NULL;
}

/* Under s->lock. The table's reference stays with the caller, to put after unlocking. */
static void unhash(struct vfs_fdcache *c, struct vfs_fdstripe *s, struct vfs_fdent *e)
{
	struct vfs_fdent **pp = chain_of(c, s, e->hash);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	cds_list_del(&e->lru_link);
	e->hashed = false;
	e->hnext = NULL;
	s->count--;
}

struct vfs_fdent *vfs_fdcache_get(struct vfs_fdcache *c, const struct be_fh *key)
{
	uint64_t h = key_hash(key);
	struct vfs_fdstripe *s = stripe_of(c, h);
	struct vfs_fdent *e;

	pthread_rwlock_rdlock(&s->lock);
	e = find(c, s, h, key);
	if (e) {
		ref_get(&e->refs);
		if (!atomic_load_explicit(&e->used, memory_order_relaxed))
			atomic_store_explicit(&e->used, true, memory_order_relaxed);
	}
	pthread_rwlock_unlock(&s->lock);
	return e;
}

struct vfs_fdent *vfs_fdcache_add(struct vfs_fdcache *c, const struct be_fh *key, int fd,
				  uint64_t stamp)
{
	uint64_t h = key_hash(key);
	struct vfs_fdstripe *s = stripe_of(c, h);
	struct vfs_fdent *e = malloc(sizeof(*e)), *old, *victim = NULL;

	if (!e)
		return NULL;
	e->fd = fd;
	atomic_init(&e->stamp, stamp);
	atomic_init(&e->ino, 0);
	ref_init(&e->refs);
	ref_get(&e->refs); /* the table's and the caller's */
	atomic_init(&e->used, false);
	e->hashed = true;
	e->hash = h;
	e->key = *key;
	pthread_rwlock_wrlock(&s->lock);
	old = find(c, s, h, key);
	if (old) {
		/* Another thread resolved the same handle first: use its fd. */
		ref_get(&old->refs);
		pthread_rwlock_unlock(&s->lock);
		close(fd);
		free(e);
		return old;
	}
	struct vfs_fdent **chain = chain_of(c, s, h);

	e->hnext = *chain;
	*chain = e;
	cds_list_add(&e->lru_link, &s->lru);
	if (++s->count > c->cap) {
		/*
		 * Ends within one turn of the list: lookups cannot set flags while
		 * the lock is held exclusive, and there is an entry besides e.
		 */
		for (;;) {
			victim = cds_list_entry(s->lru.prev, struct vfs_fdent, lru_link);
			if (victim != e && !atomic_exchange(&victim->used, false))
				break;
			cds_list_move(&victim->lru_link, &s->lru);
		}
		unhash(c, s, victim);
	}
	pthread_rwlock_unlock(&s->lock);
	if (victim)
		vfs_fdcache_put(victim);
	return e;
}

void vfs_fdcache_put(struct vfs_fdent *e)
{
	if (ref_put(&e->refs)) {
		close(e->fd);
		free(e);
	}
}

void vfs_fdcache_drop(struct vfs_fdcache *c, const struct be_fh *key)
{
	uint64_t h = key_hash(key);
	struct vfs_fdstripe *s = stripe_of(c, h);
	struct vfs_fdent *e;

	pthread_rwlock_wrlock(&s->lock);
	e = find(c, s, h, key);
	if (e)
		unhash(c, s, e);
	pthread_rwlock_unlock(&s->lock);
	if (e)
		vfs_fdcache_put(e);
}

void vfs_fdcache_drop_ent(struct vfs_fdcache *c, struct vfs_fdent *e)
{
	struct vfs_fdstripe *s = stripe_of(c, e->hash);
	bool was = false;

	pthread_rwlock_wrlock(&s->lock);
	if (e->hashed) {
		unhash(c, s, e);
		was = true;
	}
	pthread_rwlock_unlock(&s->lock);
	if (was)
		vfs_fdcache_put(e);
}

size_t vfs_fdcache_count(struct vfs_fdcache *c)
{
	size_t n = 0;

	for (int i = 0; i < VFS_FDCACHE_STRIPES; i++) {
		pthread_rwlock_rdlock(&c->stripe[i].lock);
		n += c->stripe[i].count;
		pthread_rwlock_unlock(&c->stripe[i].lock);
	}
	return n;
}

void vfs_fdcache_destroy(struct vfs_fdcache *c)
{
	if (!c)
		return;
	for (int i = 0; i < VFS_FDCACHE_STRIPES; i++) {
		struct vfs_fdstripe *s = &c->stripe[i];

		while (s->bucket && !cds_list_empty(&s->lru)) {
			struct vfs_fdent *e =
				cds_list_first_entry(&s->lru, struct vfs_fdent, lru_link);

			unhash(c, s, e);
			vfs_fdcache_put(e);
		}
		free(s->bucket);
		pthread_rwlock_destroy(&s->lock);
	}
	free(c);
}
