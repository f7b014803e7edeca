/*
 * The client library against a scripted peer in this process (no nfs4d):
 * xid matching with replies out of order, multi-fragment replies, timeouts,
 * the peer closing, unclaimed replies, and answering the peer's backchannel
 * calls (default answers and a user hook).
 */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
	int lfd;
	int fd;
	struct nfs4clnt_conn *conn;
};

static int peer_setup(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);

	assert_non_null(p);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len), 0);
	p->conn = nfs4clnt_connect("127.0.0.1", ntohs(sin.sin_port));
	assert_non_null(p->conn);
	p->fd = accept(p->lfd, NULL, NULL);
	assert_true(p->fd >= 0);
	*state = p;
	return 0;
}

static int peer_teardown(void **state)
{
	struct peer *p = *state;

	nfs4clnt_conn_close(p->conn);
	if (p->fd >= 0)
		close(p->fd);
	close(p->lfd);
	free(p);
	return 0;
}

static void read_full(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n = read(fd, b, len);

		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Reads one record (all fragments) into buf; returns its length. */
static size_t peer_read(struct peer *p, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	uint32_t m;

	do {
		uint8_t mark[4];

		read_full(p->fd, mark, 4);
		m = xdr_get_be32(mark);
		assert_true((m & 0x7fffffffu) <= cap - len);
		read_full(p->fd, buf + len, m & 0x7fffffffu);
		len += m & 0x7fffffffu;
	} while (!(m & 0x80000000u));
	return len;
}

/* Sends rec as a record cut into fragments of frag bytes (0: one fragment). */
static void peer_send(struct peer *p, const uint8_t *rec, size_t len, size_t frag)
{
	size_t off = 0;

	if (!frag)
		frag = len;
	do {
		size_t n = len - off < frag ? len - off : frag;
		uint8_t mark[4];

		xdr_put_be32(mark, (uint32_t)n | (off + n == len ? 0x80000000u : 0));
		assert_int_equal(write(p->fd, mark, 4), 4);
		assert_int_equal(write(p->fd, rec + off, n), (ssize_t)n);
		off += n;
	} while (off < len);
}

/* An accepted SUCCESS reply to xid with one u32 of results. */
static size_t make_reply(uint8_t *buf, uint32_t xid, uint32_t value)
{
	struct xdr_enc x;

	xdr_enc_init(&x, buf, 64);
	xdr_enc_u32(&x, xid);
	xdr_enc_u32(&x, 1);
	xdr_enc_u32(&x, 0); /* MSG_ACCEPTED */
	xdr_enc_u32(&x, 0); /* verf */
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0); /* SUCCESS */
	xdr_enc_u32(&x, value);
	return x.len;
}

struct caller {
	struct nfs4clnt_conn *conn;
	uint32_t arg;
	int err;
	uint32_t got;
};

static void *call_thread(void *arg)
{
	struct caller *c = arg;
	struct nfs4clnt_reply rep;
	uint8_t a[4];

	xdr_put_be32(a, c->arg);
	c->err = nfs4clnt_call(c->conn, 200000, 1, 1, NULL, a, 4, 5000, &rep);
	if (c->err == 0) {
		if (!xdr_dec_u32(&rep.body, &c->got))
			c->err = -EPROTO;
		nfs4clnt_reply_free(&rep);
	}
	return NULL;
}

/* Reads a call, returns its xid and its single u32 argument. */
static uint32_t read_call(struct peer *p, uint32_t *arg)
{
	uint8_t buf[1024];
	size_t len = peer_read(p, buf, sizeof(buf));

	assert_true(len >= 4 * 10 + 4);
	assert_int_equal(xdr_get_be32(buf + 4), 0); /* CALL */
	assert_int_equal(xdr_get_be32(buf + 8), 2); /* rpcvers */
	*arg = xdr_get_be32(buf + len - 4);
	return xdr_get_be32(buf);
}

static void replies_out_of_order_reach_their_callers(void **state)
{
	struct peer *p = *state;
	struct caller c[4];
	pthread_t t[4];
	uint32_t xids[4], args[4];
	uint8_t buf[64];

	for (int i = 0; i < 4; i++) {
		c[i] = (struct caller){p->conn, 100u + (uint32_t)i, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, call_thread, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		xids[i] = read_call(p, &args[i]);
	for (int i = 3; i >= 0; i--) /* reverse order, answer = arg * 2 */
		peer_send(p, buf, make_reply(buf, xids[i], args[i] * 2), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].err, 0);
		assert_int_equal(c[i].got, c[i].arg * 2);
	}
}

static void multi_fragment_reply_is_reassembled(void **state)
{
	struct peer *p = *state;
	struct caller c = {p->conn, 7, 0, 0};
	pthread_t t;
	uint32_t xid, arg;
	uint8_t buf[64];

	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	xid = read_call(p, &arg);
	peer_send(p, buf, make_reply(buf, xid, 0xabcdef01), 5);
	pthread_join(t, NULL);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.got, 0xabcdef01);
}

static void fragmented_calls_arrive_whole(void **state)
{
	struct peer *p = *state;
	struct caller c = {p->conn, 0x11223344, 0, 0};
	pthread_t t;
	uint32_t xid, arg;
	uint8_t buf[64];

	nfs4clnt_conn_set_fragment(p->conn, 3);
	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	xid = read_call(p, &arg);
	assert_int_equal(arg, 0x11223344);
	peer_send(p, buf, make_reply(buf, xid, 1), 0);
	pthread_join(t, NULL);
	assert_int_equal(c.err, 0);
	nfs4clnt_conn_set_fragment(p->conn, 0);
}

static void unanswered_call_times_out(void **state)
{
	struct peer *p = *state;
	struct nfs4clnt_reply rep;
	uint32_t arg;

	assert_int_equal(nfs4clnt_call(p->conn, 200000, 1, 1, NULL, "abcd", 4, 200, &rep),
			 -ETIMEDOUT);
	read_call(p, &arg);
}

static void reply_nobody_waits_for_is_queued_for_recv_record(void **state)
{
	struct peer *p = *state;
	uint8_t buf[64], *rec;
	size_t len;

	peer_send(p, buf, make_reply(buf, 0x5555, 9), 0);
	assert_int_equal(nfs4clnt_conn_recv_record(p->conn, 2000, &rec, &len), 0);
	assert_int_equal(len, 28);
	assert_int_equal(xdr_get_be32(rec), 0x5555);
	free(rec);
	assert_int_equal(nfs4clnt_conn_recv_record(p->conn, 100, &rec, &len), -ETIMEDOUT);
}

static void peer_close_fails_waiting_call_with_epipe(void **state)
{
	struct peer *p = *state;
	struct caller c = {p->conn, 1, 0, 0};
	pthread_t t;
	uint32_t arg;

	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	read_call(p, &arg);
	close(p->fd);
	p->fd = -1;
	pthread_join(t, NULL);
	assert_int_equal(c.err, -EPIPE);
	assert_true(nfs4clnt_conn_wait_closed(p->conn, 1000));
	assert_int_equal(nfs4clnt_null(p->conn), -EPIPE);
}

/* Sends a backchannel CALL and returns the reply's accept_stat and body. */
static uint32_t cb_call(struct peer *p, uint32_t xid, uint32_t prog, uint32_t proc, uint8_t *body,
			size_t *blen)
{
	uint8_t buf[256];
	struct xdr_enc x;
	struct xdr_dec d;
	uint32_t v, stat = 99;
	size_t len;

	xdr_enc_init(&x, buf, sizeof(buf));
	xdr_enc_u32(&x, xid);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 2);
	xdr_enc_u32(&x, prog);
	xdr_enc_u32(&x, 1);
	xdr_enc_u32(&x, proc);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0);
	xdr_enc_u32(&x, 0xfeed); /* an argument */
	peer_send(p, buf, x.len, 0);
	len = peer_read(p, buf, sizeof(buf));
	xdr_dec_init(&d, buf, len, NULL);
	assert_true(xdr_dec_u32(&d, &v));
	assert_int_equal(v, xid);
	assert_true(xdr_dec_u32(&d, &v));
	assert_int_equal(v, 1); /* REPLY */
	assert_true(xdr_dec_u32(&d, &v));
	assert_int_equal(v, 0); /* MSG_ACCEPTED */
	assert_true(xdr_dec_u32(&d, &v) && xdr_dec_u32(&d, &v));
	assert_true(xdr_dec_u32(&d, &stat));
	*blen = xdr_dec_remaining(&d);
	memcpy(body, d.p, *blen);
	return stat;
}

static void backchannel_default_answers_cb_null_and_refuses_others(void **state)
{
	struct peer *p = *state;
	uint8_t body[256];
	size_t blen;

	assert_int_equal(cb_call(p, 0x900, 0x40000000, 0, body, &blen), 0 /* SUCCESS */);
	assert_int_equal(blen, 0);
	assert_int_equal(cb_call(p, 0x901, 0x40000000, 1, body, &blen), 3 /* PROC_UNAVAIL */);
	assert_int_equal(blen, 0);
	assert_int_equal(nfs4clnt_conn_cb_count(p->conn), 2);
}

struct hook_ctx {
	uint32_t prog, proc, arg;
};

static int hook(void *ctx, uint32_t prog, uint32_t vers, uint32_t proc, struct xdr_dec *args,
		struct xdr_enc *res)
{
	struct hook_ctx *h = ctx;

	h->prog = prog;
	h->proc = proc;
	if (!xdr_dec_u32(args, &h->arg))
		return 4; /* GARBAGE_ARGS */
	xdr_enc_u32(res, h->arg + 1);
	return 0;
}

static void backchannel_hook_sees_call_and_encodes_result(void **state)
{
	struct peer *p = *state;
	struct hook_ctx h = {0};
	uint8_t body[256];
	size_t blen;

	nfs4clnt_conn_set_cb(p->conn, hook, &h);
	assert_int_equal(cb_call(p, 0x902, 0x40000123, 1, body, &blen), 0);
	assert_int_equal(h.prog, 0x40000123);
	assert_int_equal(h.proc, 1);
	assert_int_equal(h.arg, 0xfeed);
	assert_int_equal(blen, 4);
	assert_int_equal(xdr_get_be32(body), 0xfeee);
	nfs4clnt_conn_set_cb(p->conn, NULL, NULL);
}

static void calls_and_backchannel_interleave(void **state)
{
	struct peer *p = *state;
	struct caller c = {p->conn, 5, 0, 0};
	pthread_t t;
	uint32_t xid, arg;
	uint8_t buf[64], body[256];
	size_t blen;

	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	xid = read_call(p, &arg);
	/* a callback while the fore channel call waits */
	assert_int_equal(cb_call(p, 0x903, 0x40000000, 0, body, &blen), 0);
	peer_send(p, buf, make_reply(buf, xid, 55), 0);
	pthread_join(t, NULL);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.got, 55);
}

/*
 * Opaque data added in place (nfs4clnt_compound_add_data()) encodes to the
 * same bytes as copied data, padding included, whatever follows it; a
 * second in-place opaque in the same compound is copied.
 */
static void data_added_in_place_encodes_as_copied(void **state)
{
	static const uint8_t data[] = "0123456789abcdef";
	uint8_t a[512], b[512];

	(void)state;
	for (uint32_t len = 0; len <= 9; len++) {
		struct nfs4clnt_compound *in = nfs4clnt_compound_new("t", 1);
		struct nfs4clnt_compound *cp = nfs4clnt_compound_new("t", 1);
		struct xdr_opaque o = {len, data}, o2 = {3, data + 5};
		struct xdr_enc xa, xb;

		assert_non_null(in);
		assert_non_null(cp);
		assert_true(xdr_enc_u64(nfs4clnt_compound_add(in, OP_WRITE), 7) &&
			    nfs4clnt_compound_add_data(in, data, len));
		assert_true(xdr_enc_u64(nfs4clnt_compound_add(cp, OP_WRITE), 7) &&
			    xdr_enc_opaque(&cp->ops, &o, UINT32_MAX));
		assert_non_null(nfs4clnt_compound_add(in, OP_GETFH));
		assert_non_null(nfs4clnt_compound_add(cp, OP_GETFH));
		assert_true(nfs4clnt_compound_add_data(in, data + 5, 3));
		assert_true(xdr_enc_opaque(&cp->ops, &o2, UINT32_MAX));
		assert_ptr_equal(in->data, data);
		xdr_enc_init(&xa, a, sizeof(a));
		xdr_enc_init(&xb, b, sizeof(b));
		assert_true(nfs4clnt_compound_encode(in, &xa));
		assert_true(nfs4clnt_compound_encode(cp, &xb));
		assert_int_equal(xa.len, xb.len);
		assert_int_equal(xa.len % 4, 0);
		assert_memory_equal(a, b, xb.len);
		nfs4clnt_compound_free(in);
		nfs4clnt_compound_free(cp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_added_in_place_encodes_as_copied),
		cmocka_unit_test_setup_teardown(replies_out_of_order_reach_their_callers,
						peer_setup, peer_teardown),
		cmocka_unit_test_setup_teardown(multi_fragment_reply_is_reassembled, peer_setup,
						peer_teardown),
		cmocka_unit_test_setup_teardown(fragmented_calls_arrive_whole, peer_setup,
						peer_teardown),
		cmocka_unit_test_setup_teardown(unanswered_call_times_out, peer_setup,
						peer_teardown),
		cmocka_unit_test_setup_teardown(reply_nobody_waits_for_is_queued_for_recv_record,
						peer_setup, peer_teardown),
		cmocka_unit_test_setup_teardown(peer_close_fails_waiting_call_with_epipe,
						peer_setup, peer_teardown),
		cmocka_unit_test_setup_teardown(
			backchannel_default_answers_cb_null_and_refuses_others, peer_setup,
			peer_teardown),
		cmocka_unit_test_setup_teardown(backchannel_hook_sees_call_and_encodes_result,
						peer_setup, peer_teardown),
		cmocka_unit_test_setup_teardown(calls_and_backchannel_interleave, peer_setup,
						peer_teardown),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
