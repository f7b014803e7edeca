#ifndef NFS4D_UTIL_HASH_H
#define NFS4D_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * A hash of bytes, for short keys (owners, session ids, handles, names) and
 * request digests: eight bytes per multiply (a byte-wise FNV-1a took four
 * cycles a byte, and SEQUENCE digests up to 512 bytes of every COMPOUND),
 * with hash_u64 at the end so that every bit of the result depends on every
 * input bit (some tables use its low bits as the bucket). In-memory tables
 * only: the value may change between builds.
 */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	w = (uint64_t)len << 56; /* the tail's length: "a" and "a\0" differ */
	for (size_t i = 0; i < len; i++)
		w |= (uint64_t)p[i] << (8 * i);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return hash_u64(h);
}

#endif
