/* Connections: reference counting, closing, sending, reply routing, calls in flight. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/clock.h"
#include "util/log.h"

static atomic_uint_fast64_t rpc_conn_next_id = 1;

static void conn_format_peer(struct rpc_conn *conn)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (conn->peer.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&conn->peer;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(conn->peer_str, sizeof(conn->peer_str), "%s:%u", host, port);
	} else if (conn->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&conn->peer;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(conn->peer_str, sizeof(conn->peer_str), "[%s]:%u", host, port);
	} else {
		snprintf(conn->peer_str, sizeof(conn->peer_str), "unknown");
	}
}

struct rpc_conn *rpc_conn_new(struct rpc_server *srv, int fd, const struct sockaddr_storage *peer)
{
	struct rpc_conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	conn->kind = RPC_POLL_CONN;
	conn->fd = fd;
	conn->id = atomic_fetch_add(&rpc_conn_next_id, 1);
	ref_init(&conn->ref);
	conn->peer = *peer;
	conn_format_peer(conn);
	conn->srv = srv;
	conn->on_close = srv->cfg.on_close;
	conn->on_close_ctx = srv->cfg.on_close_ctx;
	atomic_init(&conn->closed, false);
	pthread_mutex_init(&conn->send_lock, NULL);
	pthread_mutex_init(&conn->lock, NULL);
	pthread_mutex_init(&conn->read_lock, NULL);
	rpc_record_init(&conn->rec, srv->cfg.max_record);
	return conn;
}

void rpc_conn_get(struct rpc_conn *conn)
{
	ref_get(&conn->ref);
}

void rpc_conn_put(struct rpc_conn *conn)
{
	if (!conn || !ref_put(&conn->ref))
		return;
	log_debug(RPC_MODULE, "conn=%llu peer=%s freed", (unsigned long long)conn->id,
		  conn->peer_str);
	close(conn->fd);
	pthread_mutex_destroy(&conn->send_lock);
	pthread_mutex_destroy(&conn->lock);
	pthread_mutex_destroy(&conn->read_lock);
	free(conn);
}

uint64_t rpc_conn_id(const struct rpc_conn *conn)
{
	return conn->id;
}

bool rpc_conn_is_closed(const struct rpc_conn *conn)
{
	return atomic_load(&((struct rpc_conn *)conn)->closed);
}

const struct sockaddr_storage *rpc_conn_peer(const struct rpc_conn *conn)
{
	return &conn->peer;
}

/*
 * The first caller wins: it shuts the socket down (pending and later sends
 * fail, a pool thread sees EPOLLHUP and tears the connection down) and runs
 * on_close. The fd itself is closed at the last put.
 */
void rpc_conn_close(struct rpc_conn *conn)
{
	if (atomic_exchange(&conn->closed, true))
		return;
	log_debug(RPC_MODULE, "conn=%llu peer=%s closed", (unsigned long long)conn->id,
		  conn->peer_str);
	shutdown(conn->fd, SHUT_RDWR);
	if (conn->on_close)
		conn->on_close(conn->on_close_ctx, conn);
}

void rpc_conn_set_reply_handler(struct rpc_conn *conn, rpc_reply_fn fn, void *ctx)
{
	pthread_mutex_lock(&conn->lock);
	conn->reply_fn = fn;
	conn->reply_ctx = ctx;
	pthread_mutex_unlock(&conn->lock);
}

/* Waits until fd is writable or the deadline passes: 0, or -errno (-ETIMEDOUT). */
static int conn_wait_writable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = time_mono_ns();
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int ms, n;

		if (now >= deadline)
			return -ETIMEDOUT;
		ms = (int)((deadline - now + 999999) / 1000000);
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) &&
					       !(pfd.revents & POLLOUT)
				       ? -EPIPE
				       : 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * sendmsg() rather than writev(): MSG_NOSIGNAL, so a peer that went away gives
 * EPIPE instead of killing the process with SIGPIPE.
 */
int rpc_conn_sendv(struct rpc_conn *conn, struct iovec *iov, int iovcnt, bool more)
{
	uint64_t deadline = time_mono_ns() + (uint64_t)RPC_SEND_TIMEOUT_MS * 1000000;
	int err = 0;

	pthread_mutex_lock(&conn->send_lock);
	while (iovcnt > 0 && !err) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
		ssize_t n;

		if (atomic_load(&conn->closed)) {
			err = -EPIPE;
			break;
		}
		n = sendmsg(conn->fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				err = conn_wait_writable(conn->fd, deadline);
			else
				err = -errno;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	pthread_mutex_unlock(&conn->send_lock);
	if (err) {
		if (!atomic_load(&conn->closed))
			log_info(RPC_MODULE, "conn=%llu peer=%s: send failed: %s",
				 (unsigned long long)conn->id, conn->peer_str, strerror(-err));
		rpc_conn_close(conn);
	}
	return err;
}

void rpc_conn_push(struct rpc_conn *conn)
{
	int one = 1;

	/* Setting TCP_NODELAY (already on) sends the segments MSG_MORE held back. */
	setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#define RPC_SEND_IOV_STACK 16

int rpc_conn_send_record(struct rpc_conn *conn, const struct iovec *iov, int iovcnt)
{
	struct iovec stack[RPC_SEND_IOV_STACK + 1], *v = stack;
	uint8_t mark[RPC_RECORD_MARK_LEN];
	size_t total = 0;
	int err;

	if (iovcnt < 0 || iovcnt >= IOV_MAX)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		total += iov[i].iov_len;
		if (total > RPC_RECORD_MAX_FRAG)
			return -EMSGSIZE;
	}
	if (atomic_load(&conn->closed))
		return -EPIPE;
	if (iovcnt > RPC_SEND_IOV_STACK) {
		v = malloc(sizeof(*v) * (size_t)(iovcnt + 1));
		if (!v)
			return -ENOMEM;
	}
	xdr_put_be32(mark, RPC_RECORD_LAST | (uint32_t)total);
	v[0].iov_base = mark;
	v[0].iov_len = sizeof(mark);
	if (iovcnt)
		memcpy(v + 1, iov, sizeof(*v) * (size_t)iovcnt);
	err = rpc_conn_sendv(conn, v, iovcnt + 1, false);
	if (v != stack)
		free(v);
	return err;
}

bool rpc_conn_call_started(struct rpc_conn *conn)
{
	bool go;

	pthread_mutex_lock(&conn->lock);
	conn->inflight++;
	conn->paused = conn->inflight >= conn->srv->max_inflight;
	go = !conn->paused;
	pthread_mutex_unlock(&conn->lock);
	return go;
}

/*
 * A paused connection is re-armed without its read_lock: nothing reads or
 * tears it down while it is disarmed, and only the call that unpauses it
 * re-arms it. Exactly one thread tears a connection down after EOF: the
 * reader, if no call was in flight when it saw EOF, else the thread whose
 * call ends last (both decide under conn->lock).
 */
void rpc_conn_call_done(struct rpc_conn *conn)
{
	bool resume, last, drop;

	pthread_mutex_lock(&conn->lock);
	conn->inflight--;
	resume = conn->paused;
	conn->paused = false;
	last = conn->eof && conn->inflight == 0;
	pthread_mutex_unlock(&conn->lock);
	if (resume)
		rpc_io_rearm(conn);
	if (!last)
		return;
	pthread_mutex_lock(&conn->read_lock);
	drop = rpc_conn_teardown(conn);
	pthread_mutex_unlock(&conn->read_lock);
	if (drop)
		rpc_conn_put(conn); /* the I/O reference */
}
