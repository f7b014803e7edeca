/*
 * Reference counts on C11 atomics. We do not use urcu/ref.h: its counters are
 * inline asm that ThreadSanitizer cannot see, so TSan would miss the
 * happens-before edge between the last user and the free.
 */
#ifndef NFS4D_UTIL_REF_H
#define NFS4D_UTIL_REF_H

#include <stdatomic.h>
#include <stdbool.h>

struct ref {
	atomic_long count;
};

static inline void ref_init(struct ref *r)
{
	atomic_init(&r->count, 1);
}

static inline void ref_get(struct ref *r)
{
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

/* For lookups under rcu_read_lock: fails once the object is on its way out. */
static inline bool ref_get_unless_zero(struct ref *r)
{
	long c = atomic_load_explicit(&r->count, memory_order_relaxed);

	while (c > 0) {
		if (atomic_compare_exchange_weak_explicit(
			    &r->count, &c, c + 1, memory_order_acquire, memory_order_relaxed))
			return true;
	}
	return false;
}

/* Returns true when this was the last reference: the caller then retires the object. */
static inline bool ref_put(struct ref *r)
{
	/* acq_rel rather than release + fence: TSan does not model standalone fences. */
	return atomic_fetch_sub_explicit(&r->count, 1, memory_order_acq_rel) == 1;
}

static inline long ref_read(struct ref *r)
{
	return atomic_load_explicit(&r->count, memory_order_relaxed);
}

#endif
