/*
 * Record buffers. A record is read straight from its socket into one of
 * these, and its call runs from it, so each is as large as the largest
 * record (max_record). They are anonymous mappings reserved without commit
 * (MAP_NORESERVE): a page becomes memory only when a byte of a record lands
 * in it, so a peer announcing 4 MiB and sending 10 bytes costs one page, and
 * a small call only the first page or two.
 *
 * Reuse is the point: every pool thread keeps one buffer of its own (pool.c),
 * so the common call, read and run by the same thread, touches no lock and no
 * fresh page. A buffer changes hands only when a record arrives in more than
 * one piece (the connection holds it in between). Spare buffers wait in a
 * list of at most max_spare; more are unmapped. A buffer coming back from a
 * record larger than RPC_BUF_RESIDENT gives the pages above that back to the
 * kernel, so the memory held between calls is at most RPC_BUF_RESIDENT per
 * thread and per spare, plus what partial records on connections received.
 */
#ifndef NFS4D_RPC_BUF_H
#define NFS4D_RPC_BUF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct rpc_bufs {
	size_t size; /* bytes of each buffer: max_record rounded up to pages */
	pthread_mutex_t lock;
	int nspare; /* under lock */
	int max_spare;
	uint8_t **spare;
};

int rpc_bufs_init(struct rpc_bufs *b, size_t max_record, int max_spare);
/* Unmaps the spares. Buffers still out must have been put back (or freed) first. */
void rpc_bufs_destroy(struct rpc_bufs *b);

/* A spare or a new buffer; NULL when out of memory. */
uint8_t *rpc_buf_get(struct rpc_bufs *b);
/* Back to the spares (or unmapped); used is how many bytes the last record filled. */
void rpc_buf_put(struct rpc_bufs *b, uint8_t *buf, size_t used);
/* After a record of used bytes: returns the pages above RPC_BUF_RESIDENT to the kernel. */
void rpc_buf_trim(struct rpc_bufs *b, uint8_t *buf, size_t used);

#endif
