/* The server object: listeners, thread start, orderly stop, destroy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/log.h"

static int server_listen(struct rpc_listener *l, const struct sockaddr_storage *addr)
{
	socklen_t alen = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int one = 1;

	l->kind = RPC_POLL_LISTENER;
	l->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (const struct sockaddr *)addr, alen) < 0 ||
	    listen(l->fd, RPC_LISTEN_BACKLOG) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&bound, &blen) < 0) {
		int err = -errno;

		close(l->fd);
		l->fd = -1;
		return err;
	}
	l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

static int server_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

struct rpc_server *rpc_server_create(const struct rpc_server_config *cfg)
{
	struct rpc_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->cfg = *cfg;
	if (!srv->cfg.max_record)
		srv->cfg.max_record = RPC_MAX_RECORD;
	if (!srv->cfg.max_reply)
		srv->cfg.max_reply = RPC_MAX_RECORD;
	srv->nthreads = cfg->workers > 0 ? cfg->workers : RPC_POOL_PER_CORE * server_cores();
	if (srv->nthreads < 2)
		srv->nthreads = 2;
	srv->max_inflight = (unsigned)srv->nthreads - 1;
	if (srv->max_inflight > RPC_MAX_INFLIGHT_PER_CONN)
		srv->max_inflight = RPC_MAX_INFLIGHT_PER_CONN;
	srv->epfd = -1;
	srv->stopfd = -1;
	srv->watchdogfd = -1;
	srv->stop_kind = RPC_POLL_STOP;
	srv->cores = server_cores();
	if (srv->cores > srv->nthreads)
		srv->cores = srv->nthreads;
	atomic_init(&srv->active, srv->nthreads);
	atomic_init(&srv->allowed, srv->cores);
	atomic_init(&srv->watching, false);
	pthread_mutex_init(&srv->pool_lock, NULL);
	pthread_cond_init(&srv->pool_cond, NULL);
	pthread_mutex_init(&srv->lock, NULL);
	atomic_init(&srv->stopping, false);
	atomic_init(&srv->nconns, 0);

	srv->addrs = calloc((size_t)(cfg->naddrs > 0 ? cfg->naddrs : 1), sizeof(*srv->addrs));
	srv->progs = calloc((size_t)(cfg->nprogs > 0 ? cfg->nprogs : 1), sizeof(*srv->progs));
	srv->listeners =
		calloc((size_t)(cfg->naddrs > 0 ? cfg->naddrs : 1), sizeof(*srv->listeners));
	if (!srv->addrs || !srv->progs || !srv->listeners ||
	    rpc_bufs_init(&srv->bufs, srv->cfg.max_record, srv->nthreads) < 0 ||
	    rpc_pipes_init(&srv->pipes, srv->nthreads) < 0)
		goto fail;
	if (cfg->naddrs > 0)
		memcpy(srv->addrs, cfg->addrs, sizeof(*srv->addrs) * (size_t)cfg->naddrs);
	if (cfg->nprogs > 0)
		memcpy(srv->progs, cfg->progs, sizeof(*srv->progs) * (size_t)cfg->nprogs);
	srv->cfg.addrs = srv->addrs;
	srv->cfg.progs = srv->progs;
	for (int i = 0; i < cfg->nprogs; i++)
		srv->bulk |= srv->progs[i].find_bulk != NULL;
	for (int i = 0; i < cfg->naddrs; i++) {
		int err = server_listen(&srv->listeners[i], &srv->addrs[i]);

		if (err) {
			log_err(RPC_MODULE, "cannot listen on address %d: %s", i, strerror(-err));
			goto fail;
		}
		srv->nlisteners++;
		log_info(RPC_MODULE, "listening on port %u", srv->listeners[i].port);
	}
	return srv;
fail:
	rpc_server_destroy(srv);
	return NULL;
}

uint16_t rpc_server_port(const struct rpc_server *srv, int i)
{
	return i >= 0 && i < srv->nlisteners ? srv->listeners[i].port : 0;
}

/* The epoll set: listeners one-shot like connections, the stop eventfd level-triggered. */
static int server_epoll_init(struct rpc_server *srv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &srv->stop_kind};

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	srv->watchdogfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (srv->epfd < 0 || srv->stopfd < 0 || srv->watchdogfd < 0 ||
	    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->stopfd, &ev) < 0)
		return -1;
	for (int i = 0; i < srv->nlisteners; i++) {
		struct epoll_event lev = {.events = EPOLLIN | EPOLLONESHOT,
					  .data.ptr = &srv->listeners[i]};

		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listeners[i].fd, &lev) < 0)
			return -1;
	}
	return 0;
}

int rpc_server_start(struct rpc_server *srv)
{
	sigset_t all, old;
	int err = 0;

	if (srv->started)
		return -EALREADY;
	srv->started = true;
	srv->threads = calloc((size_t)srv->nthreads, sizeof(*srv->threads));
	srv->slots = calloc((size_t)srv->nthreads, sizeof(*srv->slots));
	if (!srv->threads || !srv->slots)
		return -ENOMEM;
	for (int i = 0; i < srv->nthreads; i++) {
		srv->slots[i].srv = srv;
		pthread_mutex_init(&srv->slots[i].lock, NULL);
	}
	if (server_epoll_init(srv) < 0) {
		log_err(RPC_MODULE, "epoll setup failed: %s", strerror(errno));
		return -EIO;
	}
	/* rpc threads take no signals: the daemon's main thread waits for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&srv->watchdog, NULL, rpc_watchdog_main, srv);
	srv->watchdog_started = !err;
	for (int i = 0; i < srv->nthreads && !err; i++) {
		err = pthread_create(&srv->threads[i], NULL, rpc_pool_main, &srv->slots[i]);
		if (!err)
			srv->threads_started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err(RPC_MODULE, "cannot start threads: %s", strerror(err));
		return -err;
	}
	log_info(RPC_MODULE, "started: %d threads, %d active", srv->nthreads, srv->cores);
	return 0;
}

/*
 * Order matters: (1) the pool threads finish what they are doing — every
 * call that was read runs and sends its reply — and leave, so nothing is
 * accepted or read any more; (2) every connection is torn down (on_close
 * runs). Runs on any thread, e.g. the main thread after sigwait().
 */
void rpc_server_stop(struct rpc_server *srv)
{
	uint64_t one = 1;

	if (!srv->started || srv->stopped)
		return;
	srv->stopped = true;
	atomic_store(&srv->stopping, true);
	/* Level-triggered: every thread waiting in epoll_wait() sees it, now or later. */
	if (srv->stopfd >= 0 && write(srv->stopfd, &one, sizeof(one)) < 0)
		log_warn(RPC_MODULE, "stop: eventfd write: %s", strerror(errno));
	pthread_mutex_lock(&srv->pool_lock);
	pthread_cond_broadcast(&srv->pool_cond); /* parked threads */
	pthread_mutex_unlock(&srv->pool_lock);
	for (int i = 0; i < srv->threads_started; i++)
		pthread_join(srv->threads[i], NULL);
	srv->threads_started = 0;
	if (srv->watchdog_started) {
		rpc_watchdog_stop(srv);
		pthread_join(srv->watchdog, NULL);
		srv->watchdog_started = false;
	}
	for (int i = 0; i < srv->nlisteners; i++) {
		close(srv->listeners[i].fd);
		srv->listeners[i].fd = -1;
	}
	for (;;) {
		struct rpc_conn *conn;
		bool drop;

		pthread_mutex_lock(&srv->lock);
		conn = srv->conns;
		pthread_mutex_unlock(&srv->lock);
		if (!conn)
			break;
		pthread_mutex_lock(&conn->read_lock);
		drop = rpc_conn_teardown(conn);
		pthread_mutex_unlock(&conn->read_lock);
		if (drop)
			rpc_conn_put(conn);
	}
	log_info(RPC_MODULE, "stopped");
}

void rpc_server_destroy(struct rpc_server *srv)
{
	if (!srv)
		return;
	rpc_server_stop(srv);
	for (int i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->stopfd >= 0)
		close(srv->stopfd);
	if (srv->watchdogfd >= 0)
		close(srv->watchdogfd);
	for (int i = 0; srv->slots && i < srv->nthreads; i++)
		pthread_mutex_destroy(&srv->slots[i].lock);
	free(srv->slots);
	pthread_mutex_destroy(&srv->pool_lock);
	pthread_cond_destroy(&srv->pool_cond);
	if (srv->bufs.spare)
		rpc_bufs_destroy(&srv->bufs);
	if (srv->pipes.spare)
		rpc_pipes_destroy(&srv->pipes);
	free(srv->threads);
	free(srv->listeners);
	free(srv->addrs);
	free(srv->progs);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
