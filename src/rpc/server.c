/* The server object: listeners, thread start, orderly stop, destroy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

static int server_ncpus(void)
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
	srv->nio = cfg->io_threads > 0 ? cfg->io_threads : server_ncpus();
	srv->nworkers = cfg->workers > 0 ? cfg->workers : 2 * server_ncpus();
	if (srv->nworkers < 2)
		srv->nworkers = 2;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->wq_lock, NULL);
	pthread_cond_init(&srv->wq_cond, NULL);
	atomic_init(&srv->stopping, false);
	atomic_init(&srv->rr, 0);
	atomic_init(&srv->nconns, 0);

	srv->addrs = calloc((size_t)(cfg->naddrs > 0 ? cfg->naddrs : 1), sizeof(*srv->addrs));
	srv->progs = calloc((size_t)(cfg->nprogs > 0 ? cfg->nprogs : 1), sizeof(*srv->progs));
	srv->listeners =
		calloc((size_t)(cfg->naddrs > 0 ? cfg->naddrs : 1), sizeof(*srv->listeners));
	if (!srv->addrs || !srv->progs || !srv->listeners)
		goto fail;
	if (cfg->naddrs > 0)
		memcpy(srv->addrs, cfg->addrs, sizeof(*srv->addrs) * (size_t)cfg->naddrs);
	if (cfg->nprogs > 0)
		memcpy(srv->progs, cfg->progs, sizeof(*srv->progs) * (size_t)cfg->nprogs);
	srv->cfg.addrs = srv->addrs;
	srv->cfg.progs = srv->progs;
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

static int server_io_init(struct rpc_server *srv, struct rpc_io *io, int idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = io};

	io->kind = RPC_POLL_WAKE;
	io->idx = idx;
	io->srv = srv;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&io->mb_lock, NULL);
	io->readbuf = malloc(RPC_READ_CHUNK);
	if (io->epfd < 0 || io->wakefd < 0 || !io->readbuf ||
	    epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->wakefd, &ev) < 0)
		return -1;
	if (idx != 0)
		return 0;
	for (int i = 0; i < srv->nlisteners; i++) {
		struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &srv->listeners[i]};

		if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, srv->listeners[i].fd, &lev) < 0)
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
	srv->ios = calloc((size_t)srv->nio, sizeof(*srv->ios));
	srv->workers = calloc((size_t)srv->nworkers, sizeof(*srv->workers));
	if (!srv->ios || !srv->workers)
		return -ENOMEM;
	for (int i = 0; i < srv->nio; i++) {
		srv->ios[i].epfd = -1;
		srv->ios[i].wakefd = -1;
	}
	for (int i = 0; i < srv->nio; i++)
		if (server_io_init(srv, &srv->ios[i], i) < 0) {
			log_err(RPC_MODULE, "io%d: setup failed: %s", i, strerror(errno));
			return -EIO;
		}
	/* rpc threads take no signals: the daemon's main thread waits for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < srv->nworkers && !err; i++) {
		err = pthread_create(&srv->workers[i], NULL, rpc_worker_main, srv);
		if (!err)
			srv->workers_started++;
	}
	for (int i = 0; i < srv->nio && !err; i++) {
		err = pthread_create(&srv->ios[i].thread, NULL, rpc_io_main, &srv->ios[i]);
		if (!err)
			srv->ios[i].running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err(RPC_MODULE, "cannot start threads: %s", strerror(err));
		return -err;
	}
	log_info(RPC_MODULE, "started: %d I/O threads, %d workers", srv->nio, srv->nworkers);
	return 0;
}

/*
 * Order matters: (1) the I/O threads leave their loops, so nothing is accepted
 * or read any more; (2) the workers drain the queue, so every queued and
 * running call sends its reply; (3) every connection is torn down (on_close
 * runs) and the mailboxes are emptied. Runs on any thread, e.g. the main
 * thread after sigwait().
 */
void rpc_server_stop(struct rpc_server *srv)
{
	uint64_t one = 1;

	if (!srv->started || srv->stopped)
		return;
	srv->stopped = true;
	atomic_store(&srv->stopping, true);
	for (int i = 0; i < srv->nio; i++) {
		if (srv->ios[i].wakefd >= 0 && write(srv->ios[i].wakefd, &one, sizeof(one)) < 0)
			log_warn(RPC_MODULE, "io%d: wake: %s", i, strerror(errno));
	}
	for (int i = 0; i < srv->nio; i++) {
		if (srv->ios[i].running)
			pthread_join(srv->ios[i].thread, NULL);
		srv->ios[i].running = false;
	}
	for (int i = 0; i < srv->nlisteners; i++) {
		close(srv->listeners[i].fd);
		srv->listeners[i].fd = -1;
	}

	pthread_mutex_lock(&srv->wq_lock);
	srv->wq_stop = true;
	pthread_cond_broadcast(&srv->wq_cond);
	pthread_mutex_unlock(&srv->wq_lock);
	for (int i = 0; i < srv->workers_started; i++)
		pthread_join(srv->workers[i], NULL);
	srv->workers_started = 0;

	for (;;) {
		struct rpc_conn *conn;

		pthread_mutex_lock(&srv->lock);
		conn = srv->conns;
		pthread_mutex_unlock(&srv->lock);
		if (!conn)
			break;
		rpc_conn_teardown(conn);
	}
	for (int i = 0; i < srv->nio; i++) {
		struct rpc_io *io = &srv->ios[i];

		while (io->mb_head) {
			struct rpc_conn *conn = io->mb_head;

			io->mb_head = conn->mb_next;
			rpc_conn_put(conn);
		}
		rpc_io_reap(io);
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
	for (int i = 0; srv->ios && i < srv->nio; i++) {
		struct rpc_io *io = &srv->ios[i];

		if (io->epfd >= 0)
			close(io->epfd);
		if (io->wakefd >= 0)
			close(io->wakefd);
		free(io->readbuf);
		pthread_mutex_destroy(&io->mb_lock);
	}
	free(srv->ios);
	free(srv->workers);
	free(srv->listeners);
	free(srv->addrs);
	free(srv->progs);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->wq_lock);
	pthread_cond_destroy(&srv->wq_cond);
	free(srv);
}
