/* The accept loop shared by the control socket and the metrics endpoint: see listener.h. */
#include "ctl/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/rcu.h"

static void *ctl_listener_thread(void *arg)
{
	struct ctl_listener *l = arg;
	struct pollfd pfd[2] = {{.fd = l->lfd, .events = POLLIN},
				{.fd = l->stop_pipe[0], .events = POLLIN}};
	struct timeval tv = {.tv_sec = l->io_timeout_s};

	rcu_register_thread();
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("ctl", "%s: poll: %s", l->name, strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(l->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				l->serve(l->ctx, fd);
				close(fd);
			}
		}
	}
	rcu_unregister_thread();
	return NULL;
}

int ctl_listener_start(struct ctl_listener *l, int lfd, const char *name, int io_timeout_s,
		       void (*serve)(void *ctx, int fd), void *ctx)
{
	int err;

	l->lfd = lfd;
	l->name = name;
	l->io_timeout_s = io_timeout_s;
	l->serve = serve;
	l->ctx = ctx;
	if (pipe2(l->stop_pipe, O_CLOEXEC) != 0)
		return -errno;
	err = pthread_create(&l->thread, NULL, ctl_listener_thread, l);
	if (err != 0) {
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
		return -err;
	}
	return 0;
}

void ctl_listener_stop(struct ctl_listener *l)
{
	if (write(l->stop_pipe[1], "x", 1) != 1)
		log_err("ctl", "%s: cannot stop its thread: %s", l->name, strerror(errno));
	pthread_join(l->thread, NULL);
	close(l->lfd);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
}
