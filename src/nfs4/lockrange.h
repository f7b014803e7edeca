/*
 * The byte-range locks of one file, in memory (RFC 8881 §9): which owner
 * holds which ranges, read or write. Pure bookkeeping: the caller holds the
 * file's lock around every call.
 *
 * Ranges are inclusive [start, end]; end = UINT64_MAX means "to the end of
 * the file and beyond" (an NFS length of all ones). One owner's ranges never
 * overlap each other: setting a range replaces whatever that owner had
 * there (upgrade/downgrade), and adjacent or overlapping ranges of the same
 * owner and type are merged.
 */
#ifndef NFS4D_NFS4_LOCKRANGE_H
#define NFS4D_NFS4_LOCKRANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/rcu.h" /* struct cds_list_head */

enum nfs4_lock_type { NFS4_LOCK_READ = 1, NFS4_LOCK_WRITE = 2 };

struct nfs4_lock_range {
	struct cds_list_head link;
	const void *owner; /* opaque to this module: compared by address */
	enum nfs4_lock_type type;
	uint64_t start;
	uint64_t end;
};

struct nfs4_lock_list {
	struct cds_list_head ranges; /* sorted by start */
	uint32_t count;
};

void nfs4_lock_list_init(struct nfs4_lock_list *l);
void nfs4_lock_list_free(struct nfs4_lock_list *l);

/*
 * An NFS (offset, length) as an inclusive range: NFS4ERR_INVAL for length 0
 * or when offset + length overflows 64 bits (length all-ones excepted, which
 * means "to the end"). Returns NFS4_OK.
 */
uint32_t nfs4_lock_range_from(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end);
/* NFS length of a range (all ones for a range that runs to the end). */
uint64_t nfs4_lock_range_length(uint64_t start, uint64_t end);

/* The first lock of another owner that conflicts (overlaps, and either is a write), or NULL. */
const struct nfs4_lock_range *nfs4_lock_conflict(const struct nfs4_lock_list *l, const void *owner,
						 enum nfs4_lock_type type, uint64_t start,
						 uint64_t end);
/*
 * Gives owner [start, end] as type, splitting and merging its own ranges.
 * The caller has checked nfs4_lock_conflict() first. Returns 0, or -ENOMEM
 * with the list unchanged.
 */
int nfs4_lock_set(struct nfs4_lock_list *l, const void *owner, enum nfs4_lock_type type,
		  uint64_t start, uint64_t end);
/* Removes owner's locks in [start, end], splitting a range it cuts. 0 or -ENOMEM (unchanged). */
int nfs4_lock_clear(struct nfs4_lock_list *l, const void *owner, uint64_t start, uint64_t end);
/* Removes every lock of owner. */
void nfs4_lock_clear_owner(struct nfs4_lock_list *l, const void *owner);
bool nfs4_lock_owner_holds(const struct nfs4_lock_list *l, const void *owner);

#endif
