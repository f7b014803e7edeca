#include "rpc/buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/limits.h"

static size_t buf_page(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static size_t buf_round_up(size_t n)
{
	size_t page = buf_page();

	return (n + page - 1) / page * page;
}

int rpc_bufs_init(struct rpc_bufs *b, size_t max_record, int max_spare)
{
	b->size = buf_round_up(max_record ? max_record : 1);
	b->nspare = 0;
	b->max_spare = max_spare;
	b->spare = calloc((size_t)(max_spare > 0 ? max_spare : 1), sizeof(*b->spare));
	pthread_mutex_init(&b->lock, NULL);
	return b->spare ? 0 : -1;
}

void rpc_bufs_destroy(struct rpc_bufs *b)
{
	while (b->nspare > 0)
		munmap(b->spare[--b->nspare], b->size);
	free(b->spare);
	b->spare = NULL;
	pthread_mutex_destroy(&b->lock);
}

uint8_t *rpc_buf_get(struct rpc_bufs *b)
{
	uint8_t *buf = NULL;
	void *p;

	pthread_mutex_lock(&b->lock);
	if (b->nspare > 0)
		buf = b->spare[--b->nspare];
	pthread_mutex_unlock(&b->lock);
	if (buf)
		return buf;
	p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void rpc_buf_trim(struct rpc_bufs *b, uint8_t *buf, size_t used)
{
	size_t keep = buf_round_up(RPC_BUF_RESIDENT);

	if (used > keep && keep < b->size)
		madvise(buf + keep, buf_round_up(used) - keep, MADV_DONTNEED);
}

void rpc_buf_put(struct rpc_bufs *b, uint8_t *buf, size_t used)
{
	bool kept = false;

	if (!buf)
		return;
	rpc_buf_trim(b, buf, used);
	pthread_mutex_lock(&b->lock);
	if (b->nspare < b->max_spare) {
		b->spare[b->nspare++] = buf;
		kept = true;
	}
	pthread_mutex_unlock(&b->lock);
	if (!kept)
		munmap(buf, b->size);
}
