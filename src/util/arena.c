#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN 4096

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t off;
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->limit = limit;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need = (size + 15) & ~(size_t)15;
	void *p;

	if (need < size || need > a->limit - a->used || a->used > a->limit)
		return NULL;
	if (!c || c->size - c->off < need) {
		size_t csize = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	memset(p, 0, need);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}
