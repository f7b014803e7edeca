/*
 * TCP transport: connect, RFC 5531 record marking in both directions, and the
 * receive thread that routes each incoming record — a REPLY to the caller
 * waiting for its xid (or to the unclaimed queue), a CALL to the callback
 * thread.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/internal.h"

void clnt_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
}

void clnt_deadline(struct timespec *ts, int timeout_ms)
{
	if (timeout_ms <= 0)
		timeout_ms = NFS4CLNT_TIMEOUT_MS;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * The receive thread's view of the stream: what one recv() brought beyond
 * the record being read waits here for the next, so replies that arrive
 * together (a server may send several in one segment) cost one recv().
 */
struct clnt_rx {
	int fd;
	size_t off, len; /* unread bytes: buf[off..len) */
	uint8_t buf[64 * 1024];
};

static int read_full(struct clnt_rx *rx, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n;

		if (rx->off < rx->len) {
			size_t k = len < rx->len - rx->off ? len : rx->len - rx->off;

			memcpy(p, rx->buf + rx->off, k);
			rx->off += k;
			p += k;
			len -= k;
			continue;
		}
		if (len >= sizeof(rx->buf)) /* large: straight into place */
			n = recv(rx->fd, p, len, 0);
		else
			n = recv(rx->fd, rx->buf, sizeof(rx->buf), 0);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (len >= sizeof(rx->buf)) {
			p += n;
			len -= (size_t)n;
		} else {
			rx->off = 0;
			rx->len = (size_t)n;
		}
	}
	return 0;
}

/* Reads one whole record (all fragments). */
static int read_record(struct clnt_rx *rx, uint8_t **out, size_t *outlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	bool last = false;
	int err;

	while (!last) {
		uint8_t mark[4];
		uint32_t m, flen;
		uint8_t *nb;

		err = read_full(rx, mark, 4);
		if (err)
			goto fail;
		m = xdr_get_be32(mark);
		last = m & 0x80000000u;
		flen = m & 0x7fffffffu;
		if (flen > CLNT_MAX_RECORD - len) {
			err = -EMSGSIZE;
			goto fail;
		}
		nb = realloc(buf, len + flen + 1);
		if (!nb) {
			err = -ENOMEM;
			goto fail;
		}
		buf = nb;
		err = read_full(rx, buf + len, flen);
		if (err)
			goto fail;
		len += flen;
	}
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	return err;
}

static void queue_append(struct clnt_rec **head, struct clnt_rec **tail, struct clnt_rec *r)
{
	r->next = NULL;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

static struct clnt_rec *queue_pop(struct clnt_rec **head, struct clnt_rec **tail)
{
	struct clnt_rec *r = *head;

	if (r) {
		*head = r->next;
		if (!*head)
			*tail = NULL;
	}
	return r;
}

static void route_reply(struct nfs4clnt_conn *c, uint8_t *buf, size_t len)
{
	uint32_t xid = xdr_get_be32(buf);
	struct clnt_pending *p;
	struct clnt_rec *r;

	pthread_mutex_lock(&c->lock);
	for (p = c->pending; p; p = p->next) {
		if (p->xid == xid && !p->done) {
			p->rec = buf;
			p->len = len;
			p->done = true;
			pthread_cond_signal(&p->cv);
			pthread_mutex_unlock(&c->lock);
			return;
		}
	}
	r = malloc(sizeof(*r));
	if (!r) {
		pthread_mutex_unlock(&c->lock);
		free(buf);
		return;
	}
	r->buf = buf;
	r->len = len;
	queue_append(&c->unclaimed, &c->unclaimed_tail, r);
	if (++c->nunclaimed > CLNT_MAX_UNCLAIMED) {
		struct clnt_rec *old = queue_pop(&c->unclaimed, &c->unclaimed_tail);

		c->nunclaimed--;
		free(old->buf);
		free(old);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void route_call(struct nfs4clnt_conn *c, uint8_t *buf, size_t len)
{
	struct clnt_rec *r = malloc(sizeof(*r));

	if (!r) {
		free(buf);
		return;
	}
	r->buf = buf;
	r->len = len;
	pthread_mutex_lock(&c->lock);
	queue_append(&c->cbq, &c->cbq_tail, r);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void *rx_thread(void *arg)
{
	struct nfs4clnt_conn *c = arg;
	struct clnt_rx *rx = malloc(sizeof(*rx));
	struct clnt_pending *p;

	if (rx) {
		rx->fd = c->fd;
		rx->off = rx->len = 0;
	}
	for (;;) {
		uint8_t *buf;
		size_t len;

		if (!rx || read_record(rx, &buf, &len))
			break;
		if (len < 8) {
			free(buf);
			continue;
		}
		if (xdr_get_be32(buf + 4) == 1)
			route_reply(c, buf, len);
		else if (xdr_get_be32(buf + 4) == 0)
			route_call(c, buf, len);
		else
			free(buf);
	}
	free(rx);
	pthread_mutex_lock(&c->lock);
	c->closed = true;
	for (p = c->pending; p; p = p->next) {
		p->done = true;
		pthread_cond_signal(&p->cv);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int tcp_connect(const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char portstr[8];
	int fd = -1, one = 1, err;

	snprintf(portstr, sizeof(portstr), "%u", port);
	err = getaddrinfo(host, portstr, &hints, &res);
	if (err) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

struct nfs4clnt_conn *nfs4clnt_connect(const char *host, uint16_t port)
{
	struct nfs4clnt_conn *c = calloc(1, sizeof(*c));
	struct timespec ts;
	int err;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->fd = tcp_connect(host, port);
	if (c->fd < 0) {
		err = errno;
		free(c);
		errno = err;
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_init(&c->xid, (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 20) ^ (uintptr_t)c));
	atomic_init(&c->cb_count, 0);
	pthread_mutex_init(&c->send_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	clnt_cond_init(&c->cond);
	c->auth = nfs4clnt_auth_sys(0, 0);
	err = pthread_create(&c->rx_thread, NULL, rx_thread, c);
	if (err)
		goto fail;
	err = pthread_create(&c->cb_thread, NULL, clnt_cb_thread, c);
	if (err) {
		shutdown(c->fd, SHUT_RDWR);
		pthread_join(c->rx_thread, NULL);
		goto fail;
	}
	return c;
fail:
	close(c->fd);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
	errno = err;
	return NULL;
}

static void queue_free(struct clnt_rec *r)
{
	while (r) {
		struct clnt_rec *next = r->next;

		free(r->buf);
		free(r);
		r = next;
	}
}

void nfs4clnt_conn_close(struct nfs4clnt_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(c->rx_thread, NULL);
	pthread_join(c->cb_thread, NULL);
	close(c->fd);
	queue_free(c->unclaimed);
	queue_free(c->cbq);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void nfs4clnt_conn_set_auth(struct nfs4clnt_conn *c, const struct nfs4clnt_auth *auth)
{
	pthread_mutex_lock(&c->lock);
	c->auth = *auth;
	pthread_mutex_unlock(&c->lock);
}

struct nfs4clnt_auth nfs4clnt_conn_auth(struct nfs4clnt_conn *c)
{
	struct nfs4clnt_auth a;

	pthread_mutex_lock(&c->lock);
	a = c->auth;
	pthread_mutex_unlock(&c->lock);
	return a;
}

void nfs4clnt_conn_set_cb(struct nfs4clnt_conn *c, nfs4clnt_cb_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->cb = fn;
	c->cb_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

void nfs4clnt_conn_set_fragment(struct nfs4clnt_conn *c, uint32_t frag)
{
	pthread_mutex_lock(&c->lock);
	c->frag = frag;
	pthread_mutex_unlock(&c->lock);
}

uint32_t nfs4clnt_conn_next_xid(struct nfs4clnt_conn *c)
{
	return atomic_fetch_add(&c->xid, 1);
}

uint64_t nfs4clnt_conn_cb_count(struct nfs4clnt_conn *c)
{
	return atomic_load(&c->cb_count);
}

static int send_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
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
	return 0;
}

int nfs4clnt_conn_send_raw(struct nfs4clnt_conn *c, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};
	int err;

	pthread_mutex_lock(&c->send_lock);
	err = send_all(c->fd, &iov, 1);
	pthread_mutex_unlock(&c->send_lock);
	return err;
}

#define CLNT_MAX_IOV 16

/* Fragmented send: the record is flattened, then cut into frag-sized fragments. */
static int send_fragmented(struct nfs4clnt_conn *c, const struct iovec *iov, int iovcnt,
			   size_t total, uint32_t frag)
{
	size_t nfrag = total ? (total + frag - 1) / frag : 1;
	uint8_t *buf = malloc(total + 4 * nfrag), *p = buf;
	size_t off = 0;
	struct iovec one;
	int i, err;

	if (!buf)
		return -ENOMEM;
	for (size_t f = 0; f < nfrag; f++) {
		size_t n = total - off < frag ? total - off : frag;

		xdr_put_be32(p, (uint32_t)n | (f + 1 == nfrag ? 0x80000000u : 0));
		p += 4 + n;
		off += n;
	}
	/* Copy the payload in around the marks. */
	off = 0;
	for (i = 0; i < iovcnt; i++) {
		const uint8_t *src = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			size_t f = off / frag, in = off % frag;
			size_t n = frag - in < left ? frag - in : left;

			memcpy(buf + f * (frag + 4) + 4 + in, src, n);
			src += n;
			left -= n;
			off += n;
		}
	}
	one.iov_base = buf;
	one.iov_len = total + 4 * nfrag;
	pthread_mutex_lock(&c->send_lock);
	err = send_all(c->fd, &one, 1);
	pthread_mutex_unlock(&c->send_lock);
	free(buf);
	return err;
}

int nfs4clnt_conn_send_recordv(struct nfs4clnt_conn *c, const struct iovec *iov, int iovcnt)
{
	struct iovec v[CLNT_MAX_IOV + 1];
	uint8_t mark[4];
	size_t total = 0;
	uint32_t frag;
	int i, err;

	if (iovcnt > CLNT_MAX_IOV)
		return -EINVAL;
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > 0x7fffffffu)
		return -EMSGSIZE;
	pthread_mutex_lock(&c->lock);
	frag = c->frag;
	pthread_mutex_unlock(&c->lock);
	if (frag && total > frag)
		return send_fragmented(c, iov, iovcnt, total, frag);
	xdr_put_be32(mark, (uint32_t)total | 0x80000000u);
	v[0].iov_base = mark;
	v[0].iov_len = 4;
	memcpy(v + 1, iov, sizeof(*iov) * (size_t)iovcnt);
	pthread_mutex_lock(&c->send_lock);
	err = send_all(c->fd, v, iovcnt + 1);
	pthread_mutex_unlock(&c->send_lock);
	return err;
}

int nfs4clnt_conn_send_record(struct nfs4clnt_conn *c, const void *rec, size_t len)
{
	struct iovec iov = {(void *)rec, len};

	return nfs4clnt_conn_send_recordv(c, &iov, 1);
}

int nfs4clnt_conn_recv_record(struct nfs4clnt_conn *c, int timeout_ms, uint8_t **rec, size_t *len)
{
	struct timespec dl;
	struct clnt_rec *r;
	int err = 0;

	clnt_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (!c->unclaimed && !c->closed && err == 0)
		err = pthread_cond_timedwait(&c->cond, &c->lock, &dl);
	r = queue_pop(&c->unclaimed, &c->unclaimed_tail);
	if (r)
		c->nunclaimed--;
	pthread_mutex_unlock(&c->lock);
	if (!r)
		return err == ETIMEDOUT ? -ETIMEDOUT : -EPIPE;
	*rec = r->buf;
	*len = r->len;
	free(r);
	return 0;
}

bool nfs4clnt_conn_wait_closed(struct nfs4clnt_conn *c, int timeout_ms)
{
	struct timespec dl;
	bool closed;
	int err = 0;

	clnt_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (!c->closed && err == 0)
		err = pthread_cond_timedwait(&c->cond, &c->lock, &dl);
	closed = c->closed;
	pthread_mutex_unlock(&c->lock);
	return closed;
}

bool nfs4clnt_conn_is_closed(struct nfs4clnt_conn *c)
{
	bool closed;

	pthread_mutex_lock(&c->lock);
	closed = c->closed;
	pthread_mutex_unlock(&c->lock);
	return closed;
}

int nfs4clnt_call_recordv(struct nfs4clnt_conn *c, uint32_t xid, const struct iovec *iov,
			  int iovcnt, int timeout_ms, struct nfs4clnt_reply *rep)
{
	struct clnt_pending me = {.xid = xid}, **pp;
	struct timespec dl;
	int err = 0;

	memset(rep, 0, sizeof(*rep));
	clnt_cond_init(&me.cv);
	pthread_mutex_lock(&c->lock);
	if (c->closed) {
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&me.cv);
		return -EPIPE;
	}
	me.next = c->pending;
	c->pending = &me;
	pthread_mutex_unlock(&c->lock);

	err = nfs4clnt_conn_send_recordv(c, iov, iovcnt);

	clnt_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (!err && !me.done) {
		if (pthread_cond_timedwait(&me.cv, &c->lock, &dl) == ETIMEDOUT && !me.done)
			err = -ETIMEDOUT;
	}
	for (pp = &c->pending; *pp; pp = &(*pp)->next) {
		if (*pp == &me) {
			*pp = me.next;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&me.cv);
	if (err) {
		free(me.rec);
		return err;
	}
	if (!me.rec)
		return -EPIPE;
	return nfs4clnt_reply_parse(rep, me.rec, me.len) ? 0 : -EPROTO;
}

int nfs4clnt_call_record(struct nfs4clnt_conn *c, const void *rec, size_t len, int timeout_ms,
			 struct nfs4clnt_reply *rep)
{
	struct iovec iov = {(void *)rec, len};

	if (len < 4)
		return -EINVAL;
	return nfs4clnt_call_recordv(c, xdr_get_be32(rec), &iov, 1, timeout_ms, rep);
}
