/*
 * Pipes for bulk data (docs/architecture.md, "Bulk data"): a large WRITE's
 * data goes from its socket into one of these with splice(2), which on TCP
 * moves the socket's pages by reference instead of copying them, and from
 * there to its file (backend_ops.write_pipe). Each holds RPC_BULK_MAX bytes
 * (F_SETPIPE_SZ); where the kernel refuses that size (EPERM: an unprivileged
 * user over fs.pipe-user-pages-soft) there is no pipe, and the record is
 * read into its buffer as any other.
 *
 * Like record buffers (buf.h) they are reused: spares wait in a list of at
 * most max_spare, more are closed. At most RPC_BULK_PIPES are open at once
 * (two descriptors each, and a pipe per connection that stalls mid-WRITE):
 * past that, records are read into their buffers. A pipe goes back only empty (checked with
 * FIONREAD): one left holding a failed call's bytes is closed instead, so
 * the next user never reads someone else's data.
 */
#ifndef NFS4D_RPC_PIPE_H
#define NFS4D_RPC_PIPE_H

#include <pthread.h>
#include <stdbool.h>

struct rpc_pipe {
	int r, w; /* both non-blocking and close-on-exec */
};

struct rpc_pipes {
	pthread_mutex_t lock;
	int nspare; /* under lock */
	int nopen;  /* under lock: spares and pipes out */
	int max_spare;
	struct rpc_pipe *spare;
};

int rpc_pipes_init(struct rpc_pipes *p, int max_spare);
/* Closes the spares. Pipes still out must have been put back first. */
void rpc_pipes_destroy(struct rpc_pipes *p);

/* A spare or a new pipe into *out; false when none can be had. */
bool rpc_pipe_get(struct rpc_pipes *p, struct rpc_pipe *out);
/* Back to the spares if empty and there is room, else closed. */
void rpc_pipe_put(struct rpc_pipes *p, const struct rpc_pipe *pp);

#endif
