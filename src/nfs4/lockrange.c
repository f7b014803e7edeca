/*
 * Byte-range lock bookkeeping for one file (RFC 8881 §9, §18.10-18.12).
 *
 * The list holds every owner's ranges, sorted by start (ties in any order).
 * Invariants kept by every function here, and checked by the randomized
 * test in tests/unit/test_lockrange.c:
 *  - start <= end for every range;
 *  - the list is sorted by start;
 *  - one owner's ranges never overlap;
 *  - one owner's ranges of the same type are never adjacent (they are merged);
 *  - count is the number of ranges in the list.
 *
 * Every operation is one or a few O(n) passes. A set or clear creates at
 * most two new ranges; both are allocated before the list is touched, so
 * -ENOMEM leaves the list as it was.
 */
#include "nfs4/lockrange.h"

#include <errno.h>
#include <stdlib.h>

#include "xdr/nfs4_xdr.h"

void nfs4_lock_list_init(struct nfs4_lock_list *l)
{
	CDS_INIT_LIST_HEAD(&l->ranges);
	l->count = 0;
}

static void range_remove(struct nfs4_lock_list *l, struct nfs4_lock_range *r)
{
	cds_list_del(&r->link);
	l->count--;
	free(r);
}

void nfs4_lock_list_free(struct nfs4_lock_list *l)
{
	struct nfs4_lock_range *r, *tmp;

	cds_list_for_each_entry_safe(r, tmp, &l->ranges, link) range_remove(l, r);
}

/*
 * RFC 8881 §18.10.3: NFS4ERR_INVAL when length is zero, or when length is
 * not all ones and offset + length exceeds 2^64 - 1. So a range given with
 * a finite length ends at UINT64_MAX - 1 at most, and end == UINT64_MAX
 * always means "to the end".
 */
uint32_t nfs4_lock_range_from(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end)
{
	if (length == 0)
		return NFS4ERR_INVAL;
	if (length == UINT64_MAX) {
		*start = offset;
		*end = UINT64_MAX;
		return NFS4_OK;
	}
	if (length > UINT64_MAX - offset)
		return NFS4ERR_INVAL;
	*start = offset;
	*end = offset + length - 1;
	return NFS4_OK;
}

/*
 * A range [0, UINT64_MAX - 1] (which only merging can make) also has length
 * all ones: it differs from "to the end" only in the last byte of the
 * 64-bit space.
 */
uint64_t nfs4_lock_range_length(uint64_t start, uint64_t end)
{
	if (end == UINT64_MAX)
		return UINT64_MAX;
	return end - start + 1;
}

static bool range_overlaps(const struct nfs4_lock_range *r, uint64_t start, uint64_t end)
{
	return r->start <= end && start <= r->end;
}

const struct nfs4_lock_range *nfs4_lock_conflict(const struct nfs4_lock_list *l, const void *owner,
						 enum nfs4_lock_type type, uint64_t start,
						 uint64_t end)
{
	const struct nfs4_lock_range *r;

	cds_list_for_each_entry(r, &l->ranges, link)
	{
		if (r->start > end)
			break; /* sorted: no later range can overlap */
		if (r->owner == owner || !range_overlaps(r, start, end))
			continue;
		if (type == NFS4_LOCK_WRITE || r->type == NFS4_LOCK_WRITE)
			return r;
	}
	return NULL;
}

/* Links r (not in the list) before the first range that starts after it. */
static void range_insert(struct nfs4_lock_list *l, struct nfs4_lock_range *r)
{
	struct nfs4_lock_range *pos;

	cds_list_for_each_entry(pos, &l->ranges, link)
	{
		if (pos->start > r->start) {
			cds_list_add_tail(&r->link, &pos->link);
			l->count++;
			return;
		}
	}
	cds_list_add_tail(&r->link, &l->ranges);
	l->count++;
}

/* Does some range of owner extend on both sides of [start, end], so that clearing splits it? */
static bool clear_splits(const struct nfs4_lock_list *l, const void *owner, uint64_t start,
			 uint64_t end)
{
	const struct nfs4_lock_range *r;

	cds_list_for_each_entry(r, &l->ranges, link)
	{
		if (r->start >= start)
			break;
		if (r->owner == owner && r->end > end)
			return true;
	}
	return false;
}

/*
 * Removes owner's locks in [start, end]. When a range of owner runs past
 * both ends, its tail becomes *spare (which the caller allocated, and which
 * is then set to NULL). Cannot fail.
 *
 * Ranges whose start moves are unlinked during the walk and linked again
 * after it, so the walk never meets a range twice. Only one range of owner
 * can overlap start (and only one can overlap end), since one owner's ranges
 * never overlap: at most two ranges are pending.
 */
static void clear_locked(struct nfs4_lock_list *l, const void *owner, uint64_t start, uint64_t end,
			 struct nfs4_lock_range **spare)
{
	struct nfs4_lock_range *r, *tmp, *pending[2];
	unsigned int npending = 0;

	cds_list_for_each_entry_safe(r, tmp, &l->ranges, link)
	{
		if (r->start > end)
			break;
		if (r->owner != owner || !range_overlaps(r, start, end))
			continue;
		if (r->start < start && r->end > end) {
			/* Cut out of the middle: r keeps the head, *spare takes the tail. */
			struct nfs4_lock_range *tail = *spare;

			*spare = NULL;
			tail->owner = owner;
			tail->type = r->type;
			tail->start = end + 1;
			tail->end = r->end;
			r->end = start - 1;
			pending[npending++] = tail;
		} else if (r->start < start) {
			r->end = start - 1; /* keeps its head; its place in the list is unchanged */
		} else if (r->end > end) {
			/* Keeps its tail: it now starts later, so it moves. */
			cds_list_del(&r->link);
			l->count--;
			r->start = end + 1;
			pending[npending++] = r;
		} else {
			range_remove(l, r);
		}
	}
	for (unsigned int i = 0; i < npending; i++)
		range_insert(l, pending[i]);
}

int nfs4_lock_set(struct nfs4_lock_list *l, const void *owner, enum nfs4_lock_type type,
		  uint64_t start, uint64_t end)
{
	struct nfs4_lock_range *r, *tmp, *n, *spare;

	n = calloc(1, sizeof(*n));
	spare = calloc(1, sizeof(*spare));
	if (!n || !spare) {
		free(n);
		free(spare);
		return -ENOMEM;
	}

	/* Whatever owner had in [start, end], of either type, goes. */
	clear_locked(l, owner, start, end, &spare);

	/*
	 * Owner now holds nothing in [start, end]; absorb its same-type ranges
	 * that touch it. There is at most one on each side, and those cannot
	 * touch further same-type ranges (they were merged already).
	 */
	n->owner = owner;
	n->type = type;
	n->start = start;
	n->end = end;
	cds_list_for_each_entry_safe(r, tmp, &l->ranges, link)
	{
		if (r->owner != owner || r->type != type)
			continue;
		if (start > 0 && r->end == start - 1) {
			n->start = r->start;
			range_remove(l, r);
		} else if (end < UINT64_MAX && r->start == end + 1) {
			n->end = r->end;
			range_remove(l, r);
		}
	}
	range_insert(l, n);
	free(spare); /* NULL if the clear used it */
	return 0;
}

int nfs4_lock_clear(struct nfs4_lock_list *l, const void *owner, uint64_t start, uint64_t end)
{
	struct nfs4_lock_range *spare = NULL;

	if (clear_splits(l, owner, start, end)) {
		spare = calloc(1, sizeof(*spare));
		if (!spare)
			return -ENOMEM;
	}
	clear_locked(l, owner, start, end, &spare);
	free(spare);
	return 0;
}

void nfs4_lock_clear_owner(struct nfs4_lock_list *l, const void *owner)
{
	struct nfs4_lock_range *r, *tmp;

	cds_list_for_each_entry_safe(r, tmp, &l->ranges, link) if (r->owner == owner)
		range_remove(l, r);
}

bool nfs4_lock_owner_holds(const struct nfs4_lock_list *l, const void *owner)
{
	const struct nfs4_lock_range *r;

	cds_list_for_each_entry(r, &l->ranges, link) if (r->owner == owner) return true;
	return false;
}
