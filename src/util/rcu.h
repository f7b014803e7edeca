/*
 * The one place nfs4d includes liburcu (memb flavor). Everything RCU goes
 * through here so that ThreadSanitizer builds see the ordering RCU provides:
 * Debian's liburcu 0.13 synchronises with inline asm and membarrier, which TSan
 * cannot observe, so under TSan we add explicit happens-before annotations:
 *  - rcu_publish()/rcu_fetch() are release/acquire atomics (what
 *    rcu_assign_pointer()/rcu_dereference() mean on every CPU we run on);
 *  - every read-side critical section ends with a release on a global token
 *    and every reclaim callback starts with an acquire on it, which is what
 *    a grace period guarantees: the reclaimer runs after all readers that
 *    could have seen the object; rcu_retire() adds the edge from the thread
 *    that retired the object;
 *  - objects put into a cds_lfht are released before the add and acquired by
 *    the lookup's match function (rcu_hash_acquire()).
 * Outside TSan builds these annotations compile to nothing.
 */
#ifndef NFS4D_UTIL_RCU_H
#define NFS4D_UTIL_RCU_H

#include <urcu.h>
#include <urcu/list.h>
#include <urcu/rculfhash.h>

#if defined(__SANITIZE_THREAD__)
#define NFS4D_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NFS4D_TSAN 1
#endif
#endif

#ifdef NFS4D_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char rcu_tsan_grace_token;
#define rcu_tsan_acquire(p) __tsan_acquire((void *)(p))
#define rcu_tsan_release(p) __tsan_release((void *)(p))
#define rcu_publish(ptr, val) __atomic_store_n(&(ptr), (val), __ATOMIC_RELEASE)
#define rcu_fetch(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)
#else
#define rcu_tsan_acquire(p) ((void)0)
#define rcu_tsan_release(p) ((void)0)
#define rcu_publish(ptr, val) rcu_assign_pointer(ptr, val)
#define rcu_fetch(ptr) rcu_dereference(ptr)
#endif

static inline void rcu_read_begin(void)
{
	rcu_read_lock();
}

static inline void rcu_read_end(void)
{
#ifdef NFS4D_TSAN
	rcu_tsan_release(&rcu_tsan_grace_token);
#endif
	rcu_read_unlock();
}

/*
 * Hands an object to call_rcu(). Use this, never call_rcu() directly: under
 * TSan it also orders everything the retiring thread did to the object before
 * the reclaimer's free (liburcu's queue is invisible to TSan).
 */
static inline void rcu_retire(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	rcu_tsan_release(head);
	call_rcu(head, fn);
}

/* First statement of every rcu_retire() callback. */
static inline void rcu_reclaim_begin(struct rcu_head *head)
{
#ifdef NFS4D_TSAN
	rcu_tsan_acquire(&rcu_tsan_grace_token);
	rcu_tsan_acquire(head);
#else
	(void)head;
#endif
}

/* Before cds_lfht_add*(): the object's initialised fields happen-before any lookup. */
#define rcu_hash_release(obj) rcu_tsan_release(obj)
/* In a cds_lfht match function, on the node it is about to inspect. */
#define rcu_hash_acquire(obj) rcu_tsan_acquire(obj)

#endif
