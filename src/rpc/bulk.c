/*
 * Bulk data: the calls' side (rpc.h, struct rpc_bulk).
 */
#include <errno.h>
#include <unistd.h>

#include "rpc/internal.h"

int rpc_bulk_fill(struct rpc_bulk *b)
{
	size_t done = 0;

	if (!b->hole)
		return 0;
	if (b->spent)
		return -EIO;
	while (done < b->len) {
		/* Everything is in the pipe already: it never waits. */
		ssize_t n = read(b->fd, b->hole + done, b->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->spent = true;
			return -EIO;
		}
		done += (size_t)n;
	}
	b->hole = NULL;
	return 0;
}
