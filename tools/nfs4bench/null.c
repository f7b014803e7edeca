/*
 * The null workload: RPC NULL (program 100003, version 4, procedure 0,
 * AUTH_NONE) driven the way tools/loopback/rpcecho's client drives its echo,
 * so that the two numbers compare: one thread per connection, on a TCP socket
 * of its own, keeps every call of the connection in flight (sessions x slots,
 * what the other workloads have outstanding per connection). Each reply read
 * lets the next call go. Going through the client library instead, a thread
 * per slot and a receive thread with a hand-off per reply made the load
 * generator, not the server, the limit.
 *
 * A call's xid names its slot in the low 16 bits and a per-connection call
 * count above, so a reply finds its call (and its send time) in any order.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "nb.h"

#define NULL_SLOT_BITS 16
#define NULL_SLOT_MASK ((1u << NULL_SLOT_BITS) - 1)
#define NULL_CALL_MAX 64   /* record mark + call header with AUTH_NONE (44 bytes) */
#define NULL_REPLY_MAX 512 /* reply header with a verifier of up to 400 bytes */
#define RPC_LAST_FRAG 0x80000000u

_Static_assert(NB_MAX_THREADS <= NULL_SLOT_MASK + 1,
	       "a connection's calls fit the xid's slot bits");

/* A call in flight. */
struct null_slot {
	uint32_t xid;
	bool busy;
	uint64_t sent_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nb_null_start(struct nb_worker *w, const struct nb_fixture *fx)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	/* A server that stops answering fails the run instead of hanging it. */
	struct timeval tmo = {.tv_sec = NB_TIMEOUT_MS / 1000};
	char port[8];
	int one = 1, err = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%u", w->cfg->port);
	if (getaddrinfo(w->cfg->host, port, &hints, &res))
		return err;
	for (ai = res; ai && w->sock < 0; ai = ai->ai_next) {
		w->sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (w->sock >= 0 && connect(w->sock, ai->ai_addr, ai->ai_addrlen)) {
			err = -errno;
			close(w->sock);
			w->sock = -1;
		}
	}
	freeaddrinfo(res);
	if (w->sock < 0)
		return err;
	setsockopt(w->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(w->sock, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	return 0;
}

void nb_null_stop(struct nb_worker *w, const struct nb_fixture *fx)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
}

/* The next reply record (all its fragments) into buf; its length, or -errno. */
static int read_reply(int fd, uint8_t *buf)
{
	uint8_t hdr[4];
	size_t len = 0;
	uint32_t mark;
	int err;

	do {
		uint32_t frag;

		if ((err = fd_read_full(fd, hdr, 4)) != 0)
			return err;
		mark = xdr_get_be32(hdr);
		frag = mark & ~RPC_LAST_FRAG;
		if (frag > NULL_REPLY_MAX - len)
			return -EPROTO;
		if ((err = fd_read_full(fd, buf + len, frag)) != 0)
			return err;
		len += frag;
	} while (!(mark & RPC_LAST_FRAG));
	return (int)len;
}

/* 0 when the reply (after its xid) is MSG_ACCEPTED with SUCCESS, else -EPROTO. */
static int reply_status(const uint8_t *p, size_t len)
{
	struct xdr_dec x;
	struct xdr_opaque verf;
	uint32_t mtype, reply_stat, flavor, accept_stat;

	xdr_dec_init(&x, p, len, NULL);
	if (!xdr_dec_u32(&x, &mtype) || mtype != 1 || !xdr_dec_u32(&x, &reply_stat) ||
	    reply_stat != 0 || !xdr_dec_u32(&x, &flavor) || !xdr_dec_opaque(&x, &verf, 400) ||
	    !xdr_dec_u32(&x, &accept_stat) || accept_stat != 0)
		return -EPROTO;
	return 0;
}

/* Sends the call of slot s (its xid numbered by *seq) at time t. */
static int send_call(struct nb_worker *w, struct null_slot *s, uint32_t slot, uint32_t *seq,
		     uint64_t t)
{
	struct nfs4clnt_auth none = nfs4clnt_auth_none();
	uint8_t buf[NULL_CALL_MAX];
	struct xdr_enc x;

	s->xid = (++*seq << NULL_SLOT_BITS) | slot;
	s->busy = true; /* from here on, a failure loses this call */
	s->sent_ns = t;
	xdr_enc_init(&x, buf, sizeof(buf));
	if (!xdr_enc_u32(&x, 0) || /* the record mark, set below */
	    !nfs4clnt_enc_call_header(&x, s->xid, NFS4CLNT_PROG, NFS4CLNT_VERS, NFS4CLNT_PROC_NULL,
				      &none))
		return -EINVAL;
	xdr_enc_patch_u32(&x, 0, RPC_LAST_FRAG | (uint32_t)(x.len - 4));
	return fd_write_full(w->sock, buf, x.len);
}

void nb_null_conn_loop(struct nb_worker *w)
{
	uint32_t depth = (uint32_t)(w->cfg->sessions * w->cfg->slots), inflight = 0, seq = 0;
	struct null_slot *slots = calloc(depth, sizeof(*slots));
	uint8_t rec[NULL_REPLY_MAX];
	int err = 0;

	if (!slots) {
		nb_error(w, "NULL", -ENOMEM);
		return;
	}
	for (uint32_t i = 0; i < depth && !err && nb_claim(w); i++, inflight++)
		err = send_call(w, &slots[i], i, &seq, now_ns());
	while (!err && inflight) {
		struct null_slot *s;
		uint32_t xid, slot;
		int len = read_reply(w->sock, rec), st;
		uint64_t t;

		if (len < 4) {
			err = len < 0 ? len : -EPROTO;
			break;
		}
		xid = xdr_get_be32(rec);
		slot = xid & NULL_SLOT_MASK;
		s = slot < depth ? &slots[slot] : NULL;
		if (!s || !s->busy || s->xid != xid) {
			/* Not an answer to a call in flight: which call it answers is unknown. */
			err = -EPROTO;
			break;
		}
		st = reply_status(rec + 4, (size_t)len - 4);
		t = now_ns();
		nb_hist_add(&w->hist, t - s->sent_ns);
		w->ops++;
		s->busy = false;
		inflight--;
		if (st)
			nb_error(w, "NULL", st);
		if (nb_claim(w)) {
			err = send_call(w, s, slot, &seq, t);
			inflight++;
		}
	}
	/* A broken connection loses every call still in flight. */
	for (uint32_t i = 0; i < depth && err; i++) {
		if (!slots[i].busy)
			continue;
		w->ops++;
		nb_error(w, "NULL, lost with its connection", err);
	}
	free(slots);
}
