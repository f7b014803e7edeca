/*
 * tcpstream: the ceiling for bulk data over TCP loopback. A child process
 * accepts one connection and discards what it reads; the parent writes
 * buffers of --chunk bytes for --seconds and reports MiB/s as JSON:
 *   {"tool": "tcpstream", "seconds": S, "mib_per_sec": M}
 * It is the bound nfs4d's READ/WRITE throughput is compared against: one
 * stream between two processes, nothing else (no RPC, no copies into files).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sink(int lfd, size_t chunk)
{
	char *buf = malloc(chunk);
	int fd = accept(lfd, NULL, NULL);

	if (!buf || fd < 0)
		_exit(1);
	while (read(fd, buf, chunk) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5, t0, t;
	size_t chunk = argc > 2 ? (size_t)atol(argv[2]) : 1u << 20;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	unsigned long long sent = 0;
	int lfd, fd, status;
	char *buf;
	pid_t pid;

	if (seconds <= 0 || chunk == 0) {
		fprintf(stderr, "usage: tcpstream [SECONDS [CHUNK_BYTES]]\n");
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		perror("tcpstream: listen");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("tcpstream: fork");
		return 1;
	}
	if (pid == 0)
		sink(lfd, chunk);
	close(lfd);
	buf = calloc(1, chunk);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("tcpstream: connect");
		kill(pid, SIGKILL);
		return 1;
	}
	t0 = now();
	do {
		size_t off = 0;

		while (off < chunk) {
			ssize_t n = write(fd, buf + off, chunk - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				perror("tcpstream: write");
				return 1;
			}
			off += (size_t)n;
		}
		sent += chunk;
		t = now() - t0;
	} while (t < seconds);
	close(fd);
	waitpid(pid, &status, 0);
	printf("{\"tool\": \"tcpstream\", \"seconds\": %.3f, \"mib_per_sec\": %.1f}\n", t,
	       (double)sent / (1 << 20) / t);
	free(buf);
	return 0;
}
