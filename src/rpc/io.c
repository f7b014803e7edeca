/*
 * I/O threads: accept, read, reassemble records, queue calls; back-pressure
 * and teardown. See internal.h for which thread owns what.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/log.h"
#include "util/rcu.h"

#define RPC_IO_EVENTS 64

static void io_epoll_set(struct rpc_conn *conn, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.ptr = conn};

	if (epoll_ctl(conn->io->epfd, op, conn->fd, &ev) < 0)
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

void rpc_conn_teardown(struct rpc_conn *conn)
{
	if (conn->torn_down)
		return;
	conn->torn_down = true;
	rpc_conn_close(conn);
	epoll_ctl(conn->io->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	rpc_record_destroy(&conn->rec);
	free(conn->stash);
	conn->stash = NULL;
	io_unlink(conn);
	conn->dead_next = conn->io->dead;
	conn->io->dead = conn;
}

void rpc_io_reap(struct rpc_io *io)
{
	while (io->dead) {
		struct rpc_conn *conn = io->dead;

		io->dead = conn->dead_next;
		rpc_conn_put(conn); /* the I/O reference */
	}
}

void rpc_io_post(struct rpc_io *io, struct rpc_conn *conn)
{
	uint64_t one = 1;

	rpc_conn_get(conn);
	pthread_mutex_lock(&io->mb_lock);
	conn->mb_next = io->mb_head;
	io->mb_head = conn;
	pthread_mutex_unlock(&io->mb_lock);
	if (write(io->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn(RPC_MODULE, "io%d: eventfd write: %s", io->idx, strerror(errno));
}

/*
 * Feeds bytes to the reassembler and queues each complete record. Returns
 * the bytes consumed (fewer than len when reading paused), or -1 when the
 * stream is broken.
 */
static ssize_t io_consume(struct rpc_conn *conn, const uint8_t *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t used;
		enum rpc_record_status st =
			rpc_record_feed(&conn->rec, data + off, len - off, &used);
		struct rpc_work *w;

		off += used;
		if (st == RPC_RECORD_ERROR) {
			log_warn(RPC_MODULE, "conn=%llu peer=%s: bad record: %s",
				 (unsigned long long)conn->id, conn->peer_str, conn->rec.error);
			return -1;
		}
		if (st != RPC_RECORD_READY)
			continue;
		w = calloc(1, sizeof(*w));
		if (!w) {
			log_err(RPC_MODULE, "conn=%llu: out of memory",
				(unsigned long long)conn->id);
			return -1;
		}
		w->rec = rpc_record_take(&conn->rec, &w->len);
		w->conn = conn;
		rpc_conn_get(conn);
		if (!rpc_conn_call_queued(conn)) {
			rpc_work_push(conn->srv, w);
			break;
		}
		rpc_work_push(conn->srv, w);
	}
	return (ssize_t)off;
}

/* Keeps data[used..len) for when reading resumes. */
static bool io_stash(struct rpc_conn *conn, const uint8_t *data, size_t len)
{
	uint8_t *s = NULL;

	if (len) {
		s = malloc(len);
		if (!s)
			return false;
		memcpy(s, data, len);
	}
	free(conn->stash);
	conn->stash = s;
	conn->stash_len = len;
	conn->stash_off = 0;
	return true;
}

/* Input ended (EOF): replies to queued calls still go out, then the connection closes. */
static void io_eof(struct rpc_conn *conn)
{
	bool now;

	pthread_mutex_lock(&conn->lock);
	conn->eof = true;
	now = conn->queued == 0;
	pthread_mutex_unlock(&conn->lock);
	if (now) {
		rpc_conn_teardown(conn);
		return;
	}
	io_epoll_set(conn, 0, EPOLL_CTL_MOD);
}

static void io_conn_event(struct rpc_io *io, struct rpc_conn *conn, uint32_t events)
{
	ssize_t n, used;

	if (conn->torn_down)
		return;
	if (atomic_load(&conn->closed)) {
		rpc_conn_teardown(conn);
		return;
	}
	if (!(events & EPOLLIN)) {
		/* EPOLLERR or EPOLLHUP without data to read. */
		rpc_conn_teardown(conn);
		return;
	}
	n = read(conn->fd, io->readbuf, RPC_READ_CHUNK);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_info(RPC_MODULE, "conn=%llu peer=%s: read: %s", (unsigned long long)conn->id,
			 conn->peer_str, strerror(errno));
		rpc_conn_teardown(conn);
		return;
	}
	if (n == 0) {
		if (conn->rec.in_body || conn->rec.hdr_have || conn->rec.nfrags)
			log_info(RPC_MODULE, "conn=%llu peer=%s: disconnected mid-record",
				 (unsigned long long)conn->id, conn->peer_str);
		io_eof(conn);
		return;
	}
	used = io_consume(conn, io->readbuf, (size_t)n);
	if (used < 0) {
		rpc_conn_teardown(conn);
		return;
	}
	if (used < n) {
		/* Paused: stop reading until the workers drain the queue. */
		if (!io_stash(conn, io->readbuf + used, (size_t)(n - used))) {
			rpc_conn_teardown(conn);
			return;
		}
		io_epoll_set(conn, 0, EPOLL_CTL_MOD);
	}
}

/* A worker says: conn's queue drained enough to read again, or its last call after EOF ended. */
static void io_mailbox_conn(struct rpc_conn *conn)
{
	bool eof_done, resume;
	ssize_t used;

	pthread_mutex_lock(&conn->lock);
	conn->mb_posted = false;
	eof_done = conn->eof && conn->queued == 0;
	resume = conn->paused && !conn->eof && conn->queued <= RPC_MAX_QUEUED_PER_CONN / 2;
	if (resume)
		conn->paused = false;
	pthread_mutex_unlock(&conn->lock);
	if (conn->torn_down)
		return;
	if (eof_done || atomic_load(&conn->closed)) {
		rpc_conn_teardown(conn);
		return;
	}
	if (!resume)
		return;
	if (conn->stash) {
		size_t left = conn->stash_len - conn->stash_off;

		used = io_consume(conn, conn->stash + conn->stash_off, left);
		if (used < 0) {
			rpc_conn_teardown(conn);
			return;
		}
		conn->stash_off += (size_t)used;
		if ((size_t)used < left)
			return; /* paused again */
		free(conn->stash);
		conn->stash = NULL;
	}
	io_epoll_set(conn, EPOLLIN, EPOLL_CTL_MOD);
}

static void io_mailbox(struct rpc_io *io)
{
	uint64_t v;
	struct rpc_conn *list;

	if (read(io->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn(RPC_MODULE, "io%d: eventfd read: %s", io->idx, strerror(errno));
	pthread_mutex_lock(&io->mb_lock);
	list = io->mb_head;
	io->mb_head = NULL;
	pthread_mutex_unlock(&io->mb_lock);
	while (list) {
		struct rpc_conn *conn = list;

		list = conn->mb_next;
		conn->mb_next = NULL;
		if (!atomic_load(&io->srv->stopping))
			io_mailbox_conn(conn);
		rpc_conn_put(conn);
	}
}

static void io_accept_one(struct rpc_server *srv, int fd, const struct sockaddr_storage *peer)
{
	struct rpc_conn *conn;
	struct rpc_io *io;
	struct epoll_event ev;
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
	io = &srv->ios[atomic_fetch_add(&srv->rr, 1) % (unsigned)srv->nio];
	conn->io = io;
	log_debug(RPC_MODULE, "conn=%llu peer=%s accepted (io%d)", (unsigned long long)conn->id,
		  conn->peer_str, io->idx);
	pthread_mutex_lock(&srv->lock);
	conn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = conn;
	srv->conns = conn;
	pthread_mutex_unlock(&srv->lock);
	/* Last: from here the conn's I/O thread may use (and tear down) it. */
	ev.events = EPOLLIN;
	ev.data.ptr = conn;
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn(RPC_MODULE, "conn=%llu: epoll_ctl add: %s", (unsigned long long)conn->id,
			 strerror(errno));
		/* No other thread uses it yet: stop() joins this thread before looking. */
		conn->torn_down = true;
		rpc_conn_close(conn);
		io_unlink(conn);
		rpc_conn_put(conn);
	}
}

static void io_accept(struct rpc_server *srv, struct rpc_listener *l)
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
			return;
		}
		io_accept_one(srv, fd, &peer);
	}
}

void *rpc_io_main(void *arg)
{
	struct rpc_io *io = arg;
	struct rpc_server *srv = io->srv;
	struct epoll_event evs[RPC_IO_EVENTS];

	rcu_register_thread();
	while (!atomic_load(&srv->stopping)) {
		int n = epoll_wait(io->epfd, evs, RPC_IO_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err(RPC_MODULE, "io%d: epoll_wait: %s", io->idx, strerror(errno));
			break;
		}
		for (int i = 0; i < n && !atomic_load(&srv->stopping); i++) {
			int kind = *(int *)evs[i].data.ptr;

			if (kind == RPC_POLL_LISTENER)
				io_accept(srv, evs[i].data.ptr);
			else if (kind == RPC_POLL_WAKE)
				io_mailbox(io);
			else
				io_conn_event(io, evs[i].data.ptr, evs[i].events);
		}
		rpc_io_reap(io);
	}
	rcu_unregister_thread();
	return NULL;
}
