#include "rpc/pipe.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/limits.h"

int rpc_pipes_init(struct rpc_pipes *p, int max_spare)
{
	p->nspare = 0;
	p->nopen = 0;
	p->max_spare = max_spare;
	p->spare = calloc((size_t)(max_spare > 0 ? max_spare : 1), sizeof(*p->spare));
	pthread_mutex_init(&p->lock, NULL);
	return p->spare ? 0 : -1;
}

static void pipe_close(const struct rpc_pipe *pp)
{
	close(pp->r);
	close(pp->w);
}

void rpc_pipes_destroy(struct rpc_pipes *p)
{
	while (p->nspare > 0)
		pipe_close(&p->spare[--p->nspare]);
	free(p->spare);
	p->spare = NULL;
	pthread_mutex_destroy(&p->lock);
}

bool rpc_pipe_get(struct rpc_pipes *p, struct rpc_pipe *out)
{
	bool found = false;
	int fds[2];

	pthread_mutex_lock(&p->lock);
	if (p->nspare > 0) {
		*out = p->spare[--p->nspare];
		found = true;
	} else if (p->nopen < RPC_BULK_PIPES) {
		p->nopen++; /* taken before it exists, so the limit holds */
	} else {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	pthread_mutex_unlock(&p->lock);
	if (found)
		return true;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
		out->r = fds[0];
		out->w = fds[1];
		/* The kernel may round the size up, never down: a bulk always fits. */
		if (fcntl(out->w, F_SETPIPE_SZ, (int)RPC_BULK_MAX) >= 0)
			return true;
		pipe_close(out);
	}
	pthread_mutex_lock(&p->lock);
	p->nopen--;
	pthread_mutex_unlock(&p->lock);
	return false;
}

void rpc_pipe_put(struct rpc_pipes *p, const struct rpc_pipe *pp)
{
	bool kept = false;
	int left = -1;
	bool empty = ioctl(pp->r, FIONREAD, &left) == 0 && left == 0;

	pthread_mutex_lock(&p->lock);
	if (empty && p->nspare < p->max_spare) {
		p->spare[p->nspare++] = *pp;
		kept = true;
	} else {
		p->nopen--;
	}
	pthread_mutex_unlock(&p->lock);
	if (!kept)
		pipe_close(pp);
}
