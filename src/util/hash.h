#ifndef NFS4D_UTIL_HASH_H
#define NFS4D_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Finalizer of splitmix64: spreads a 64-bit key over all bits. */
static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a 64 over bytes, for short keys (owners, session ids) and request digests. */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif
