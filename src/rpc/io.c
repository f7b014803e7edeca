/*
 * Sockets for the pool threads: accept, read one record of a connection
 * straight into a record buffer, re-arm, EOF and teardown. See internal.h
 * for who owns what.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/log.h"

static int io_epoll(struct rpc_server *srv, int op, int fd, void *ptr)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = ptr};

	return epoll_ctl(srv->epfd, op, fd, &ev);
}

void rpc_io_rearm(struct rpc_conn *conn)
{
	if (io_epoll(conn->srv, EPOLL_CTL_MOD, conn->fd, conn) < 0)
		log_warn(RPC_MODULE, "conn=%llu peer=%s: epoll_ctl: %s",
			 (unsigned long long)conn->id, conn->peer_str, strerror(errno));
}

static void io_unlink(struct rpc_conn *conn)
{
	struct rpc_server *srv = conn->srv;

	pthread_mutex_lock(&srv->lock);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		srv->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	conn->prev = conn->next = NULL;
	pthread_mutex_unlock(&srv->lock);
	atomic_fetch_sub(&srv->nconns, 1);
}

bool rpc_conn_teardown(struct rpc_conn *conn)
{
	size_t used = conn->rec.len;

	if (conn->torn_down)
		return false;
	conn->torn_down = true;
	rpc_conn_close(conn);
	epoll_ctl(conn->srv->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	rpc_buf_put(&conn->srv->bufs, rpc_record_detach(&conn->rec), used);
	rpc_bulk_drop(conn);
	io_unlink(conn);
	return true;
}

enum io_result { IO_AGAIN, IO_READY, IO_EOF, IO_FAIL };

/*
 * Reads conn's stream until its record is complete or the socket has no more
 * for now. Never reads past the record but for the next one's header
 * (rpc_record_next_mark()), so the next body stays in the socket and wakes
 * the next thread.
 */
static enum io_result io_read_record(struct rpc_conn *conn, uint8_t **own)
{
	struct rpc_record *r = &conn->rec;

	for (;;) {
		struct iovec iov[2];
		uint8_t *dst;
		size_t want;
		ssize_t n;

		if (r->ready) /* an empty record, its header read ahead */
			return IO_READY;
		if (r->error)
			goto bad;

		if (rpc_record_wants_buf(r)) {
			uint8_t *b = *own ? *own : rpc_buf_get(&conn->srv->bufs);

			if (!b) {
				log_err(RPC_MODULE, "conn=%llu: out of memory for a record",
					(unsigned long long)conn->id);
				return IO_FAIL;
			}
			if (b == *own)
				*own = NULL;
			rpc_record_attach(r, b);
		}
		iov[0].iov_len = rpc_record_next(r, &dst);
		iov[0].iov_base = dst;
		iov[1].iov_len = rpc_record_next_mark(r, &dst);
		iov[1].iov_base = dst;
		want = r->in_body ? rpc_bulk_want(conn, iov[0].iov_len) : iov[0].iov_len;
		if (want < iov[0].iov_len) {
			/* Up to the bulk's next boundary: the header iovec must not follow. */
			iov[0].iov_len = want;
			iov[1].iov_len = 0;
		}
		if (want == 0)
			n = rpc_bulk_splice(conn);
		else
			n = readv(conn->fd, iov, iov[1].iov_len ? 2 : 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return IO_AGAIN;
			log_info(RPC_MODULE, "conn=%llu peer=%s: read: %s",
				 (unsigned long long)conn->id, conn->peer_str, strerror(errno));
			return IO_FAIL;
		}
		if (n == 0) {
			if (r->in_body || r->hdr_have || r->nfrags)
				log_info(RPC_MODULE, "conn=%llu peer=%s: disconnected mid-record",
					 (unsigned long long)conn->id, conn->peer_str);
			return IO_EOF;
		}
		switch (rpc_record_advance(r, (size_t)n)) {
		case RPC_RECORD_READY:
			return IO_READY;
		case RPC_RECORD_ERROR:
			goto bad;
		case RPC_RECORD_MORE:
			break;
		}
	}
bad:
	log_warn(RPC_MODULE, "conn=%llu peer=%s: bad record: %s", (unsigned long long)conn->id,
		 conn->peer_str, r->error);
	return IO_FAIL;
}

/* Input ended: replies to calls in flight still go out, then the connection closes. */
static bool io_eof(struct rpc_conn *conn)
{
	bool now;

	pthread_mutex_lock(&conn->lock);
	conn->eof = true;
	now = conn->inflight == 0;
	pthread_mutex_unlock(&conn->lock);
	/* Not re-armed: the last call to end tears it down (rpc_conn_call_done()). */
	return now && rpc_conn_teardown(conn);
}

bool rpc_io_read(struct rpc_conn *conn, uint32_t events, uint8_t **own, uint8_t **rec, size_t *len,
		 struct rpc_bulk *bulk, struct rpc_pipe *pipe, bool *reader, bool *next)
{
	bool drop = false, ready = false, rearm = false;

	pthread_mutex_lock(&conn->read_lock);
	if (conn->torn_down)
		goto out;
	if (atomic_load(&conn->closed) || !(events & EPOLLIN)) {
		/* Closed by us, or EPOLLERR / EPOLLHUP without data to read. */
		drop = rpc_conn_teardown(conn);
		goto out;
	}
	switch (io_read_record(conn, own)) {
	case IO_AGAIN:
		rearm = true;
		break;
	case IO_READY:
		*rec = rpc_record_take(&conn->rec, len);
		rpc_bulk_take(conn, *rec, bulk, pipe);
		rpc_conn_get(conn); /* the call's */
		*reader = rpc_conn_call_started(conn);
		*next = *reader && rpc_record_next_is_short(&conn->rec, RPC_HOLD_MAX);
		ready = true;
		break;
	case IO_EOF:
		drop = io_eof(conn);
		break;
	case IO_FAIL:
		drop = rpc_conn_teardown(conn);
		break;
	}
out:
	pthread_mutex_unlock(&conn->read_lock);
	/*
	 * Re-armed after the unlock, so the thread its next event wakes does not
	 * wait for the lock. Nothing tears a disarmed connection down meanwhile,
	 * and the caller's reference keeps it alive after.
	 */
	if (rearm)
		rpc_io_rearm(conn);
	if (drop)
		rpc_conn_put(conn); /* the I/O reference */
	return ready;
}

static void io_accept_one(struct rpc_server *srv, int fd, const struct sockaddr_storage *peer)
{
	struct rpc_conn *conn;
	int one = 1;

	if (atomic_fetch_add(&srv->nconns, 1) >= RPC_MAX_CONNS) {
		atomic_fetch_sub(&srv->nconns, 1);
		log_warn(RPC_MODULE, "too many connections (%d): refusing one", RPC_MAX_CONNS);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn = rpc_conn_new(srv, fd, peer);
	if (!conn) {
		atomic_fetch_sub(&srv->nconns, 1);
		close(fd);
		return;
	}
	log_debug(RPC_MODULE, "conn=%llu peer=%s accepted", (unsigned long long)conn->id,
		  conn->peer_str);
	pthread_mutex_lock(&srv->lock);
	conn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = conn;
	srv->conns = conn;
	pthread_mutex_unlock(&srv->lock);
	/* Last: from here any pool thread may use (and tear down) it. */
	if (io_epoll(srv, EPOLL_CTL_ADD, fd, conn) < 0) {
		log_warn(RPC_MODULE, "conn=%llu: epoll_ctl add: %s", (unsigned long long)conn->id,
			 strerror(errno));
		/* No other thread can reach it: stop() joins this thread before looking. */
		conn->torn_down = true;
		rpc_conn_close(conn);
		io_unlink(conn);
		rpc_conn_put(conn);
	}
}

void rpc_io_accept(struct rpc_server *srv, struct rpc_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd;

		memset(&peer, 0, sizeof(peer));
		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn(RPC_MODULE, "accept on port %u: %s", l->port,
					 strerror(errno));
			break;
		}
		io_accept_one(srv, fd, &peer);
	}
	if (io_epoll(srv, EPOLL_CTL_MOD, l->fd, l) < 0)
		log_err(RPC_MODULE, "port %u: epoll_ctl: %s", l->port, strerror(errno));
}
