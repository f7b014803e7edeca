/*
 * rpcecho: the ceiling for small request/response over TCP loopback with RPC
 * record marking (RFC 5531 §11). A child process serves: one thread per
 * connection reads a record (marker + body) and writes back a record of the
 * reply's size (24 bytes: an accepted RPC reply header with no results, as
 * NFS NULL returns). The parent opens --conns connections, one thread each,
 * keeps --depth requests of 40 bytes (the size of an RPC NULL call with
 * AUTH_NONE) in flight on each, and counts round trips for --seconds:
 *   {"tool": "rpcecho", "conns": C, "depth": D, "seconds": S, "round_trips_per_sec": R}
 * nfs4bench's null workload with the same concurrency is compared against it.
 *
 * "rpcecho serve PORT" only serves, on 127.0.0.1:PORT, until killed: its
 * replies are valid RPC replies (accepted, SUCCESS, no results), so pointing
 * nfs4bench's null workload at it measures the load generator's own ceiling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"

#define CALL_LEN 40
#define REPLY_LEN 24

static atomic_bool stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One record: 4-byte marker (last fragment bit + length), then the body. */
static int read_record(int fd, uint8_t *buf, size_t cap)
{
	uint32_t mark;

	if (fd_read_full(fd, &mark, 4))
		return -1;
	mark = ntohl(mark) & 0x7fffffffu;
	if (mark > cap)
		return -1;
	return fd_read_full(fd, buf, mark);
}

static void record(uint8_t *buf, size_t body)
{
	uint32_t mark = htonl(0x80000000u | (uint32_t)body);

	memcpy(buf, &mark, 4);
}

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t in[256], out[4 + REPLY_LEN] = {0};

	record(out, REPLY_LEN);
	out[4 + 7] = 1; /* msg_type REPLY; reply_stat, verifier and accept_stat stay 0 */
	while (read_record(fd, in, sizeof(in)) == 0) {
		memcpy(out + 4, in, 4); /* the xid */
		if (fd_write_full(fd, out, sizeof(out)))
			break;
	}
	close(fd);
	return NULL;
}

static void serve(int lfd)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL), one = 1;
		pthread_t t;

		if (fd < 0)
			_exit(0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
	}
}

struct client {
	struct sockaddr_in sa;
	int depth;
	unsigned long long trips;
	int err;
};

/* Keeps depth calls in flight: each reply read lets one more call go. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	uint8_t call[4 + CALL_LEN] = {0}, reply[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	uint32_t xid = 0;

	record(call, CALL_LEN);
	if (fd < 0 || connect(fd, (struct sockaddr *)&c->sa, sizeof(c->sa))) {
		c->err = 1;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < c->depth; i++) {
		xid++;
		memcpy(call + 4, &xid, 4);
		if (fd_write_full(fd, call, sizeof(call)))
			c->err = 1;
	}
	while (!c->err && !atomic_load(&stop)) {
		if (read_record(fd, reply, sizeof(reply))) {
			c->err = 1;
			break;
		}
		c->trips++;
		xid++;
		memcpy(call + 4, &xid, 4);
		if (fd_write_full(fd, call, sizeof(call)))
			c->err = 1;
	}
	close(fd);
	return NULL;
}

/* rpcecho serve PORT */
static int serve_only(const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)atoi(port))};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128)) {
		perror("rpcecho: listen");
		return 1;
	}
	serve(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve_only(argv[2]);
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	int conns = argc > 2 ? atoi(argv[2]) : 1, depth = argc > 3 ? atoi(argv[3]) : 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	unsigned long long trips = 0;
	struct client *cs;
	pthread_t *tids;
	double t0, t;
	int lfd, err = 0;
	pid_t pid;

	if (seconds <= 0 || conns < 1 || conns > 1024 || depth < 1 || depth > 1024) {
		fprintf(stderr, "usage: rpcecho [SECONDS [CONNS [DEPTH]]] | rpcecho serve PORT\n");
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		perror("rpcecho: listen");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("rpcecho: fork");
		return 1;
	}
	if (pid == 0)
		serve(lfd);
	close(lfd);
	cs = calloc((size_t)conns, sizeof(*cs));
	tids = calloc((size_t)conns, sizeof(*tids));
	if (!cs || !tids)
		return 1;
	t0 = now();
	for (int i = 0; i < conns; i++) {
		cs[i].sa = sa;
		cs[i].depth = depth;
		pthread_create(&tids[i], NULL, client_main, &cs[i]);
	}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, true);
	t = now() - t0;
	for (int i = 0; i < conns; i++) {
		pthread_join(tids[i], NULL);
		trips += cs[i].trips;
		err |= cs[i].err;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (err) {
		fprintf(stderr, "rpcecho: a connection failed\n");
		return 1;
	}
	printf("{\"tool\": \"rpcecho\", \"conns\": %d, \"depth\": %d, \"seconds\": %.3f, "
	       "\"round_trips_per_sec\": %.0f}\n",
	       conns, depth, t, (double)trips / t);
	free(cs);
	free(tids);
	return 0;
}
