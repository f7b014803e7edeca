/*
 * Bulk data (rpc.h, struct rpc_bulk): a large call's opaque left in a pipe
 * instead of the record buffer, so its bytes are copied once on their way
 * from the socket to a file instead of twice.
 *
 * The reading side (internal.h, struct rpc_bulk_rd) runs in the reader that
 * holds the connection's read_lock, like the record reassembler it steers:
 * the bytes before the hole go to the buffer as always, the hole's go from
 * the socket into the pipe with splice(2), which on TCP hands the socket's
 * pages to the pipe by reference; the bytes after the hole go to the buffer
 * at their own offset again. The buffer thus keeps the record's layout; the
 * hole's pages are not written (nor faulted in, in a fresh buffer). A splice
 * that finds the socket empty leaves the state for whichever thread reads on.
 *
 * The calls' side: rpc_bulk_fill() for a dispatcher that wants the bytes in
 * the buffer after all.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/param.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/limits.h"
#include "util/log.h"
#include "xdr/xdr.h"

/* Offsets of the program and version in an RPC call header. */
#define RPC_CALL_PROG_OFF 12
#define RPC_CALL_VERS_OFF 16

/* n bytes from the pipe into dst; false if it held fewer. */
static bool bulk_pipe_read(int fd, uint8_t *dst, size_t n)
{
	size_t done = 0;

	while (done < n) {
		/* Everything is in the pipe already: it never waits. */
		ssize_t got = read(fd, dst + done, n - done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		done += (size_t)got;
	}
	return true;
}

int rpc_bulk_fill(struct rpc_bulk *b)
{
	if (!b->hole)
		return 0;
	if (b->spent || !bulk_pipe_read(b->fd, b->hole, b->len)) {
		b->spent = true;
		return -EIO;
	}
	b->hole = NULL;
	return 0;
}

/*
 * The prefix of conn's record is in the buffer: asks its program where its
 * bulk data is and takes a pipe for it. False: read the record as any other.
 */
static bool bulk_find(struct rpc_conn *conn)
{
	struct rpc_server *srv = conn->srv;
	struct rpc_record *r = &conn->rec;
	struct rpc_bulk_rd *b = &conn->bulk;
	size_t reclen = r->len + r->frag_left, off = 0, len = 0;
	uint32_t prog, vers;
	bool found = false;

	if (r->len < RPC_CALL_VERS_OFF + 4)
		return false;
	prog = xdr_get_be32(r->buf + RPC_CALL_PROG_OFF);
	vers = xdr_get_be32(r->buf + RPC_CALL_VERS_OFF);
	for (int i = 0; i < srv->cfg.nprogs && !found; i++) {
		const struct rpc_program *p = &srv->progs[i];

		if (p->find_bulk && p->prog == prog && vers >= p->vers_low && vers <= p->vers_high)
			found = p->find_bulk(r->buf, r->len, reclen, &off, &len);
	}
	/* The program's word is checked all the same: a hole past the record would be fatal. */
	if (!found || off > reclen || len > reclen - off || len > RPC_BULK_MAX)
		return false;
	b->start = off > r->len ? off : r->len;
	b->end = off + len;
	if (b->start >= b->end || !rpc_pipe_get(&srv->pipes, &b->pipe))
		return false;
	return true;
}

size_t rpc_bulk_want(struct rpc_conn *conn, size_t want)
{
	struct rpc_record *r = &conn->rec;
	struct rpc_bulk_rd *b = &conn->bulk;

	switch (b->st) {
	case RPC_BULK_AT_NONE:
		b->st = RPC_BULK_AT_OFF;
		if (!conn->srv->bulk || r->len != 0 || r->nfrags != 1 || !r->last ||
		    r->frag_left < RPC_BULK_MIN)
			return want;
		b->st = RPC_BULK_AT_PREFIX;
		/* fallthrough */
	case RPC_BULK_AT_PREFIX:
		if (r->len < RPC_BULK_PREFIX)
			return MIN(want, RPC_BULK_PREFIX - r->len);
		if (!bulk_find(conn)) {
			b->st = RPC_BULK_AT_OFF;
			return want;
		}
		b->st = RPC_BULK_AT_HEAD;
		/* fallthrough */
	case RPC_BULK_AT_HEAD:
		if (r->len < b->start)
			return MIN(want, b->start - r->len);
		b->st = RPC_BULK_AT_PIPE;
		/* fallthrough */
	case RPC_BULK_AT_PIPE:
		if (r->len < b->end)
			return 0;
		b->st = RPC_BULK_AT_TAIL;
		return want;
	case RPC_BULK_AT_OFF:
	case RPC_BULK_AT_TAIL:
		break;
	}
	return want;
}

/* Whether the pipe has room for more (a full one is not an empty socket). */
static bool bulk_pipe_has_room(const struct rpc_bulk_rd *b)
{
	struct pollfd pfd = {.fd = b->pipe.w, .events = POLLOUT};

	return poll(&pfd, 1, 0) != 0;
}

ssize_t rpc_bulk_splice(struct rpc_conn *conn)
{
	struct rpc_record *r = &conn->rec;
	struct rpc_bulk_rd *b = &conn->bulk;

	for (;;) {
		ssize_t n = splice(conn->fd, NULL, b->pipe.w, NULL, b->end - r->len,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || bulk_pipe_has_room(b))
			return -1;
		/*
		 * Full while the socket has more (its pages were spliced less
		 * than a page each): what the pipe holds goes to the buffer, the
		 * hole starts after it, and the pipe is filled anew.
		 */
		log_debug(RPC_MODULE, "conn=%llu: bulk pipe full after %zu bytes",
			  (unsigned long long)conn->id, r->len - b->start);
		if (!bulk_pipe_read(b->pipe.r, r->buf + b->start, r->len - b->start)) {
			errno = EIO;
			return -1;
		}
		b->start = r->len;
	}
}

void rpc_bulk_take(struct rpc_conn *conn, uint8_t *rec, struct rpc_bulk *bulk,
		   struct rpc_pipe *pipe)
{
	struct rpc_bulk_rd *b = &conn->bulk;
	bool held =
		b->st == RPC_BULK_AT_HEAD || b->st == RPC_BULK_AT_PIPE || b->st == RPC_BULK_AT_TAIL;

	*bulk = (struct rpc_bulk){.fd = -1};
	if (held && b->start < b->end) {
		bulk->hole = rec + b->start;
		bulk->len = b->end - b->start;
		bulk->fd = b->pipe.r;
		*pipe = b->pipe;
	} else if (held) {
		rpc_pipe_put(&conn->srv->pipes, &b->pipe); /* the hole was all copied out */
	}
	b->st = RPC_BULK_AT_NONE;
}

void rpc_bulk_drop(struct rpc_conn *conn)
{
	struct rpc_bulk_rd *b = &conn->bulk;

	if (b->st == RPC_BULK_AT_HEAD || b->st == RPC_BULK_AT_PIPE || b->st == RPC_BULK_AT_TAIL)
		rpc_pipe_put(&conn->srv->pipes, &b->pipe);
	b->st = RPC_BULK_AT_NONE;
}
