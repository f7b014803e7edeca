/*
 * Whole-buffer read and write on a blocking socket, for the load tools
 * (nfs4bench's pipelined null, rpcecho): 0, or -errno; the peer closing is
 * -EPIPE and a receive timeout (SO_RCVTIMEO) -ETIMEDOUT.
 */
#ifndef NFS4D_TOOLS_FDIO_H
#define NFS4D_TOOLS_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

static inline int fd_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int fd_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
