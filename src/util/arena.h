/*
 * Bump allocator for one request: XDR decode allocates arrays and optional
 * members from it, and everything is released at once when the request ends.
 * Not thread-safe: an arena belongs to the one thread handling its request.
 */
#ifndef NFS4D_UTIL_ARENA_H
#define NFS4D_UTIL_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used;  /* bytes handed out, over all chunks */
	size_t limit; /* hard cap; allocation beyond it fails */
};

void arena_init(struct arena *a, size_t limit);
/* Returns zeroed memory aligned to 16 bytes, or NULL past the limit or on ENOMEM. */
void *arena_alloc(struct arena *a, size_t size);
/* Frees all chunks; the arena can be used again. */
void arena_reset(struct arena *a);

#endif
