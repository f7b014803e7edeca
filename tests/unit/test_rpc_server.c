/*
 * The rpc server over real TCP on 127.0.0.1: round trips, fragments,
 * pipelining, large replies, hostile peers, reply routing, server-initiated
 * records, back-pressure, an orderly stop with calls in flight, calls
 * that block (slow, or saying so with block_hint), and bulk data left in a
 * pipe (P_BULK).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc/record.h"
#include "rpc/rpc.h"
#include "util/blockhint.h"
#include "util/clock.h"
#include "util/limits.h"

#define PROG 400100
enum { P_NULL, P_ECHO, P_BIG, P_SLEEP, P_GETCONN, P_BLOCK, P_BULK, NPROCS };

static atomic_int sleep_started, sleep_done;
static atomic_int on_close_calls;
/* P_BLOCK's calls wait until block_open. */
static atomic_int block_started;
static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t block_cond = PTHREAD_COND_INITIALIZER;
static bool block_open;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rpc_conn *saved_conn; /* a reference taken by P_GETCONN */
static uint64_t closed_ids[256];
static int nclosed;

static atomic_int reply_count;
static atomic_uint reply_xid;
static atomic_size_t reply_len;

static void test_reply_fn(void *ctx, struct rpc_conn *conn, uint32_t xid, const uint8_t *rec,
			  size_t len)
{
	assert_ptr_equal(ctx, &reply_count);
	atomic_store(&reply_xid, xid);
	atomic_store(&reply_len, len);
	atomic_fetch_add(&reply_count, 1);
}

static void test_on_close(void *ctx, struct rpc_conn *conn)
{
	uint64_t id = rpc_conn_id(conn);

	assert_true(rpc_conn_is_closed(conn));
	pthread_mutex_lock(&conn_lock);
	for (int i = 0; i < nclosed; i++)
		assert_true(closed_ids[i] != id); /* once per connection */
	if (nclosed < 256)
		closed_ids[nclosed++] = id;
	pthread_mutex_unlock(&conn_lock);
	atomic_fetch_add(&on_close_calls, 1);
}

/* FNV-1a over the bytes of p[0..n) outside b's hole. */
static uint64_t bulk_hash(const struct rpc_bulk *b, const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		if (!rpc_bulk_overlaps(b, p + i, 1))
			h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/*
 * P_BULK's arguments: mode (u32), then bytes. Its bulk (find_bulk) is the
 * record's bytes from P_BULK_OFF to 16 before its end. Mode 0 fills the hole
 * and hashes every byte; mode 1 leaves the pipe alone and hashes the bytes
 * outside the hole. Results: whether there was a hole, where it was in the
 * record (it starts where the reader was when it learnt of the bulk, or
 * later), its length, the hash.
 */
#define P_BULK_OFF 48 /* header (40 with AUTH_NONE), mode, 4 bytes */
static enum rpc_accept_stat bulk_dispatch(struct rpc_call *call, struct xdr_enc *res)
{
	struct rpc_bulk *b = &call->bulk;
	const uint8_t *rec = call->args.p - 40, *all;
	uint32_t mode, hole_off = b->hole ? (uint32_t)(b->hole - rec) : 0;
	uint32_t hole_len = (uint32_t)b->len;
	bool had = b->hole != NULL;
	size_t n;

	if (!xdr_dec_u32(&call->args, &mode))
		return RPC_GARBAGE_ARGS;
	if (mode == 0 && rpc_bulk_fill(b) != 0)
		return RPC_SYSTEM_ERR;
	n = xdr_dec_remaining(&call->args); /* not a multiple of 4: no xdr_dec_inline() */
	all = call->args.p;
	xdr_enc_u32(res, had);
	xdr_enc_u32(res, had ? hole_off : 0);
	xdr_enc_u32(res, had ? hole_len : 0);
	xdr_enc_u64(res, bulk_hash(b, all, n));
	return RPC_SUCCESS;
}

static bool test_find_bulk(const uint8_t *rec, size_t have, size_t reclen, size_t *off, size_t *len)
{
	if (have < 24 || xdr_get_be32(rec + 20) != P_BULK)
		return false;
	*off = P_BULK_OFF;
	*len = reclen - P_BULK_OFF - 16;
	return true;
}

static enum rpc_accept_stat test_dispatch(void *ctx, struct rpc_call *call, struct xdr_enc *res)
{
	uint32_t v;
	size_t n;
	uint8_t *p;
	struct timespec ts;

	switch (call->proc) {
	case P_ECHO:
		n = xdr_dec_remaining(&call->args);
		return xdr_enc_opaque_fixed(res, xdr_dec_inline(&call->args, n), n)
			       ? RPC_SUCCESS
			       : RPC_SYSTEM_ERR;
	case P_BIG:
		if (!xdr_dec_u32(&call->args, &v))
			return RPC_GARBAGE_ARGS;
		p = xdr_enc_reserve(res, v);
		if (!p)
			return RPC_SYSTEM_ERR;
		for (uint32_t i = 0; i < v; i++)
			p[i] = (uint8_t)(i * 31 + 7);
		return RPC_SUCCESS;
	case P_SLEEP:
		if (!xdr_dec_u32(&call->args, &v))
			return RPC_GARBAGE_ARGS;
		atomic_fetch_add(&sleep_started, 1);
		ts.tv_sec = v / 1000;
		ts.tv_nsec = (long)(v % 1000) * 1000000;
		nanosleep(&ts, NULL);
		atomic_fetch_add(&sleep_done, 1);
		xdr_enc_u32(res, v);
		return RPC_SUCCESS;
	case P_BULK:
		return bulk_dispatch(call, res);
	case P_BLOCK:
		block_hint();
		block_hint(); /* twice: it must count once */
		atomic_fetch_add(&block_started, 1);
		pthread_mutex_lock(&block_lock);
		while (!block_open)
			pthread_cond_wait(&block_cond, &block_lock);
		pthread_mutex_unlock(&block_lock);
		return RPC_SUCCESS;
	case P_GETCONN:
		rpc_conn_set_reply_handler(call->conn, test_reply_fn, &reply_count);
		rpc_conn_get(call->conn);
		pthread_mutex_lock(&conn_lock);
		if (saved_conn)
			rpc_conn_put(saved_conn);
		saved_conn = call->conn;
		pthread_mutex_unlock(&conn_lock);
		xdr_enc_u64(res, rpc_conn_id(call->conn));
		return RPC_SUCCESS;
	}
	return RPC_PROC_UNAVAIL;
}

static const struct rpc_program prog = {
	PROG,		1, 1, NPROCS, 1u << RPC_AUTH_NONE | 1u << RPC_AUTH_SYS, test_dispatch, NULL,
	test_find_bulk,
};

struct tsrv {
	struct rpc_server *srv;
	uint16_t port;
	int opened;
};

static void tsrv_start(struct tsrv *t)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct rpc_server_config cfg = {
		.addrs = &ss,
		.naddrs = 1,
		.workers = 6,
		.progs = &prog,
		.nprogs = 1,
		.on_close = test_on_close,
	};

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = 0;
	atomic_store(&on_close_calls, 0);
	nclosed = 0;
	t->opened = 0;
	t->srv = rpc_server_create(&cfg);
	assert_non_null(t->srv);
	t->port = rpc_server_port(t->srv, 0);
	assert_true(t->port != 0);
	assert_int_equal(rpc_server_start(t->srv), 0);
}

/* Stops, checks on_close ran exactly once per connection, frees. */
static void tsrv_stop(struct tsrv *t)
{
	rpc_server_stop(t->srv);
	assert_int_equal(atomic_load(&on_close_calls), t->opened);
	rpc_server_destroy(t->srv);
	pthread_mutex_lock(&conn_lock);
	if (saved_conn)
		rpc_conn_put(saved_conn);
	saved_conn = NULL;
	pthread_mutex_unlock(&conn_lock);
}

static int cli_connect(struct tsrv *t)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(t->port)};
	struct timeval tv = {.tv_sec = 5};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t->opened++;
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static bool recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Encodes a call body (no record mark) into buf; returns its length. */
static size_t make_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t proc, const void *args,
			size_t alen)
{
	struct xdr_enc e;

	xdr_enc_init(&e, buf, cap);
	xdr_enc_u32(&e, xid);
	xdr_enc_u32(&e, RPC_MSG_CALL);
	xdr_enc_u32(&e, RPC_VERSION);
	xdr_enc_u32(&e, PROG);
	xdr_enc_u32(&e, 1);
	xdr_enc_u32(&e, proc);
	xdr_enc_u64(&e, 0); /* AUTH_NONE cred */
	xdr_enc_u64(&e, 0); /* AUTH_NONE verf */
	xdr_enc_opaque_fixed(&e, args, alen);
	assert_false(e.overflow);
	return e.len;
}

/* Sends one call as a single-fragment record. */
static void send_call(int fd, uint32_t xid, uint32_t proc, const void *args, size_t alen)
{
	uint8_t buf[4 + 1024];
	size_t n = make_call(buf + 4, sizeof(buf) - 4, xid, proc, args, alen);

	xdr_put_be32(buf, RPC_RECORD_LAST | (uint32_t)n);
	send_all(fd, buf, n + 4);
}

/* Receives one record (all fragments); returns its length or -1 on EOF/error. */
static ssize_t recv_record(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		uint8_t m[4];
		uint32_t v, flen;

		if (!recv_all(fd, m, 4))
			return -1;
		v = xdr_get_be32(m);
		flen = v & RPC_RECORD_MAX_FRAG;
		assert_true(flen <= cap - len);
		if (!recv_all(fd, buf + len, flen))
			return -1;
		len += flen;
		if (v & RPC_RECORD_LAST)
			return (ssize_t)len;
	}
}

/* Checks an accepted SUCCESS reply for xid; returns the results' offset. */
static size_t check_success(const uint8_t *rec, ssize_t len, uint32_t xid)
{
	assert_true(len >= 24);
	assert_int_equal(xdr_get_be32(rec), xid);
	assert_int_equal(xdr_get_be32(rec + 4), RPC_MSG_REPLY);
	assert_int_equal(xdr_get_be32(rec + 8), RPC_MSG_ACCEPTED);
	assert_int_equal(xdr_get_be32(rec + 20), RPC_SUCCESS);
	return 24;
}

static void null_call(int fd, uint32_t xid)
{
	uint8_t rec[256];
	ssize_t n;

	send_call(fd, xid, P_NULL, NULL, 0);
	n = recv_record(fd, rec, sizeof(rec));
	assert_int_equal(n, 24);
	check_success(rec, n, xid);
}

/* The server closed this connection: EOF or reset, no reply. */
static void expect_closed(int fd)
{
	uint8_t b[64];
	ssize_t n = recv(fd, b, sizeof(b), 0);

	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

static void test_null_and_rate(void **state)
{
	struct tsrv t;
	int fd;
	uint64_t start, end;
	uint32_t calls = 0;

	tsrv_start(&t);
	fd = cli_connect(&t);
	null_call(fd, 1);
	start = time_mono_ns();
	end = start + 1000000000ull;
	while (time_mono_ns() < end)
		null_call(fd, ++calls + 1);
	printf("NULL round trips over one connection: %.0f/s\n",
	       calls / ((time_mono_ns() - start) / 1e9));
	close(fd);
	tsrv_stop(&t);
}

static void test_multi_fragment(void **state)
{
	struct tsrv t;
	uint8_t call[512], wire[1024], rec[1024];
	uint8_t args[200];
	size_t n, w = 0, cuts[] = {0, 5, 40, 41, 0};
	ssize_t r;
	int fd;

	for (size_t i = 0; i < sizeof(args); i++)
		args[i] = (uint8_t)i;
	n = make_call(call, sizeof(call), 77, P_ECHO, args, sizeof(args));
	cuts[4] = n;
	/* Fragments [0,5) [5,40) [40,41) [41,41) empty [41,n) */
	for (int i = 0; i < 4; i++) {
		size_t a = cuts[i], b = cuts[i + 1];

		if (i == 3) {
			xdr_put_be32(wire + w, 0);
			w += 4;
		}
		xdr_put_be32(wire + w, (i == 3 ? RPC_RECORD_LAST : 0) | (uint32_t)(b - a));
		w += 4;
		memcpy(wire + w, call + a, b - a);
		w += b - a;
	}
	tsrv_start(&t);
	fd = cli_connect(&t);
	/* Byte by byte for the first part, to exercise partial headers. */
	for (size_t i = 0; i < 30; i++) {
		send_all(fd, wire + i, 1);
		usleep(200);
	}
	send_all(fd, wire + 30, w - 30);
	r = recv_record(fd, rec, sizeof(rec));
	assert_int_equal(r, 24 + sizeof(args));
	check_success(rec, r, 77);
	assert_memory_equal(rec + 24, args, sizeof(args));
	close(fd);
	tsrv_stop(&t);
}

/* Many calls in one write; every xid answered once, with its own result. */
static void pipelined(struct tsrv *t, int fd, uint32_t ncalls)
{
	size_t one = 4 + make_call((uint8_t[128]){0}, 128, 0, P_ECHO, "abcd", 4);
	uint8_t *wire = malloc(one * ncalls);
	uint8_t *seen = calloc(ncalls, 1);
	uint8_t rec[256];

	for (uint32_t i = 0; i < ncalls; i++) {
		uint8_t arg[4];

		xdr_put_be32(arg, i * 3);
		xdr_put_be32(wire + i * one, RPC_RECORD_LAST | (uint32_t)(one - 4));
		make_call(wire + i * one + 4, one - 4, 1000 + i, P_ECHO, arg, 4);
	}
	send_all(fd, wire, one * ncalls);
	for (uint32_t i = 0; i < ncalls; i++) {
		ssize_t r = recv_record(fd, rec, sizeof(rec));
		uint32_t xid;

		assert_int_equal(r, 28);
		xid = xdr_get_be32(rec);
		assert_true(xid >= 1000 && xid < 1000 + ncalls);
		check_success(rec, r, xid);
		assert_int_equal(xdr_get_be32(rec + 24), (xid - 1000) * 3);
		assert_false(seen[xid - 1000]);
		seen[xid - 1000] = 1;
	}
	free(wire);
	free(seen);
}

static void test_pipelined(void **state)
{
	struct tsrv t;
	int fd;

	tsrv_start(&t);
	fd = cli_connect(&t);
	pipelined(&t, fd, 100);
	/* More than RPC_MAX_QUEUED_PER_CONN at once: reading pauses and resumes. */
	pipelined(&t, fd, 5000);
	null_call(fd, 9);
	close(fd);
	tsrv_stop(&t);
}

static void test_big_reply(void **state)
{
	struct tsrv t;
	uint32_t size = 1024 * 1024 + 12;
	uint8_t arg[4], *rec = malloc(size + 64);
	ssize_t r;
	int fd;

	xdr_put_be32(arg, size);
	tsrv_start(&t);
	fd = cli_connect(&t);
	send_call(fd, 5, P_BIG, arg, 4);
	r = recv_record(fd, rec, size + 64);
	assert_int_equal(r, 24 + size);
	check_success(rec, r, 5);
	for (uint32_t i = 0; i < size; i++)
		if (rec[24 + i] != (uint8_t)(i * 31 + 7))
			fail_msg("byte %u differs", i);
	null_call(fd, 6);
	close(fd);
	free(rec);
	tsrv_stop(&t);
}

/* Each hostile peer loses its own connection; a second connection keeps working. */
static void test_bad_peers(void **state)
{
	struct tsrv t;
	int good, bad;
	uint8_t b[64];
	uint32_t xid = 100;

	tsrv_start(&t);
	good = cli_connect(&t);
	null_call(good, xid++);

	/* Garbage: an HTTP request, whose "record mark" claims 1.2 GB. */
	bad = cli_connect(&t);
	send_all(bad, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	/* 4 GiB: all bits of the mark set. */
	bad = cli_connect(&t);
	memset(b, 0xff, 4);
	send_all(bad, b, 4);
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	/* A record too short to hold xid + msg_type. */
	bad = cli_connect(&t);
	xdr_put_be32(b, RPC_RECORD_LAST | 4);
	xdr_put_be32(b + 4, 1);
	send_all(bad, b, 8);
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	/* Truncated: the mark claims 100 bytes, 40 come, then the peer half-closes. */
	bad = cli_connect(&t);
	memset(b, 0, sizeof(b));
	xdr_put_be32(b, RPC_RECORD_LAST | 100);
	send_all(bad, b, 44);
	shutdown(bad, SHUT_WR);
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	/* Disconnect mid-record. */
	bad = cli_connect(&t);
	send_all(bad, b, 20);
	close(bad);
	null_call(good, xid++);

	/* A flood of empty non-last fragments. */
	bad = cli_connect(&t);
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 10; i++) /* the server may close before all of it is sent */
		if (send(bad, b, sizeof(b), MSG_NOSIGNAL) < 0)
			break;
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	/* A call followed by EOF still gets its reply. */
	bad = cli_connect(&t);
	send_call(bad, 55, P_NULL, NULL, 0);
	shutdown(bad, SHUT_WR);
	{
		uint8_t rec[64];
		ssize_t r = recv_record(bad, rec, sizeof(rec));

		check_success(rec, r, 55);
	}
	expect_closed(bad);
	close(bad);
	null_call(good, xid++);

	close(good);
	tsrv_stop(&t);
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 5000 && atomic_load(v) < want; i++)
		usleep(1000);
	assert_int_equal(atomic_load(v), want);
}

static void test_reply_routing_and_send(void **state)
{
	struct tsrv t;
	uint8_t rec[256], b[64];
	struct rpc_conn *conn;
	struct iovec iov[2];
	ssize_t r;
	int fd;

	atomic_store(&reply_count, 0);
	tsrv_start(&t);
	fd = cli_connect(&t);
	/* A REPLY before any handler is set is dropped, the connection stays. */
	xdr_put_be32(b, RPC_RECORD_LAST | 12);
	xdr_put_be32(b + 4, 0x500);
	xdr_put_be32(b + 8, RPC_MSG_REPLY);
	xdr_put_be32(b + 12, 0);
	send_all(fd, b, 16);
	null_call(fd, 1);
	assert_int_equal(atomic_load(&reply_count), 0);

	send_call(fd, 2, P_GETCONN, NULL, 0);
	r = recv_record(fd, rec, sizeof(rec));
	assert_int_equal(r, 32);
	check_success(rec, r, 2);
	pthread_mutex_lock(&conn_lock);
	conn = saved_conn;
	pthread_mutex_unlock(&conn_lock);
	assert_non_null(conn);
	assert_int_equal(((uint64_t)xdr_get_be32(rec + 24) << 32 | xdr_get_be32(rec + 28)),
			 rpc_conn_id(conn));
	assert_int_equal(rpc_conn_peer(conn)->ss_family, AF_INET);

	/* Now routed to the handler. */
	xdr_put_be32(b + 4, 0x501);
	send_all(fd, b, 16);
	wait_for(&reply_count, 1);
	assert_int_equal(atomic_load(&reply_xid), 0x501);
	assert_int_equal(atomic_load(&reply_len), 12);

	/* The server sends a record (a backchannel call) in two pieces. */
	iov[0].iov_base = "hello, ";
	iov[0].iov_len = 7;
	iov[1].iov_base = "client!";
	iov[1].iov_len = 7;
	assert_int_equal(rpc_conn_send_record(conn, iov, 2), 0);
	r = recv_record(fd, rec, sizeof(rec));
	assert_int_equal(r, 14);
	assert_memory_equal(rec, "hello, client!", 14);

	/* Closing from the server side: on_close once, sends fail, the peer sees EOF. */
	rpc_conn_close(conn);
	rpc_conn_close(conn);
	assert_true(rpc_conn_is_closed(conn));
	assert_int_equal(rpc_conn_send_record(conn, iov, 2), -EPIPE);
	expect_closed(fd);
	close(fd);
	assert_int_equal(atomic_load(&on_close_calls), 1);
	tsrv_stop(&t);
}

/* stop() while a call sleeps in its dispatcher: the reply still arrives. */
static void test_stop_inflight(void **state)
{
	struct tsrv t;
	uint8_t arg[4], rec[64];
	ssize_t r;
	int fd, fd2;
	uint64_t t0;

	atomic_store(&sleep_started, 0);
	tsrv_start(&t);
	fd = cli_connect(&t);
	fd2 = cli_connect(&t);
	null_call(fd2, 1);
	xdr_put_be32(arg, 200);
	send_call(fd, 9, P_SLEEP, arg, 4);
	send_call(fd, 10, P_SLEEP, arg, 4);
	wait_for(&sleep_started, 2);
	t0 = time_mono_ns();
	rpc_server_stop(t.srv);
	assert_true(time_mono_ns() - t0 >= 100 * 1000000ull);
	for (int i = 0; i < 2; i++) {
		r = recv_record(fd, rec, sizeof(rec));
		assert_int_equal(r, 28);
		check_success(rec, r, xdr_get_be32(rec));
		assert_int_equal(xdr_get_be32(rec + 24), 200);
	}
	expect_closed(fd);
	expect_closed(fd2);
	close(fd);
	close(fd2);
	tsrv_stop(&t); /* stop again: a no-op */
}

/* Receives one record and returns its xid (the record must be an accepted SUCCESS reply). */
static uint32_t recv_success_xid(int fd)
{
	uint8_t rec[64];
	ssize_t r = recv_record(fd, rec, sizeof(rec));

	assert_true(r >= 24);
	check_success(rec, r, xdr_get_be32(rec));
	return xdr_get_be32(rec);
}

/*
 * Calls that sleep in their dispatcher (a blocked backend) hold their own
 * threads only: the same connection's next call, other connections and new
 * connections are answered while they sleep — with more sleepers than
 * cores, so spare threads must take over. Checked by order (the sleeps
 * last far longer than the rest), not by timing.
 */
static void test_slow_calls_stall_nothing_else(void **state)
{
	struct tsrv t;
	uint8_t arg[4];
	int slow[4], other, late;

	atomic_store(&sleep_started, 0);
	atomic_store(&sleep_done, 0);
	tsrv_start(&t);
	other = cli_connect(&t);
	null_call(other, 1);
	xdr_put_be32(arg, 3000);
	for (int i = 0; i < 4; i++) {
		slow[i] = cli_connect(&t);
		send_call(slow[i], 100 + (uint32_t)i, P_SLEEP, arg, 4);
	}
	wait_for(&sleep_started, 4);
	/* The sleeping connection's next call is read and answered by another thread. */
	send_call(slow[0], 200, P_NULL, NULL, 0);
	assert_int_equal(recv_success_xid(slow[0]), 200);
	for (uint32_t i = 0; i < 100; i++)
		null_call(other, 2 + i);
	late = cli_connect(&t);
	null_call(late, 300);
	assert_int_equal(atomic_load(&sleep_done), 0); /* all of that while they slept */
	/* Now the sleeps end, each with its own reply. */
	for (int i = 0; i < 4; i++) {
		uint8_t rec[64];
		ssize_t r = recv_record(slow[i], rec, sizeof(rec));

		assert_int_equal(r, 28);
		check_success(rec, r, 100 + (uint32_t)i);
		close(slow[i]);
	}
	close(other);
	close(late);
	tsrv_stop(&t);
}

static void block_gate(bool open)
{
	pthread_mutex_lock(&block_lock);
	block_open = open;
	pthread_cond_broadcast(&block_cond);
	pthread_mutex_unlock(&block_lock);
}

/*
 * Calls that say they are about to block (block_hint, as a directory fsync
 * does) hand their connection and their place among the active threads on
 * at once, as slow calls do after a while: as many of them as the pool
 * allows (6 threads; 5 calls of one connection) all run at once, pipelined
 * on one connection, more than there are cores, while another connection
 * is answered. Twice, to see the pool come back whole from the first round.
 * Checked by the calls being inside together, not by timing.
 */
static void test_blocking_calls_hand_on_their_thread(void **state)
{
	struct tsrv t;
	int fd, other;

	tsrv_start(&t);
	fd = cli_connect(&t);
	other = cli_connect(&t);
	for (int round = 0; round < 2; round++) {
		atomic_store(&block_started, 0);
		block_gate(false);
		for (uint32_t i = 0; i < 5; i++)
			send_call(fd, 100 + i, P_BLOCK, NULL, 0);
		wait_for(&block_started, 5);
		null_call(other, 1 + (uint32_t)round);
		block_gate(true);
		for (uint32_t i = 0; i < 5; i++) {
			uint8_t rec[64];
			ssize_t r = recv_record(fd, rec, sizeof(rec));

			assert_true(r >= 24);
			check_success(rec, r, xdr_get_be32(rec));
			assert_true(xdr_get_be32(rec) >= 100 && xdr_get_be32(rec) < 105);
		}
	}
	close(fd);
	close(other);
	tsrv_stop(&t);
}

/* A P_BULK record (mark included) of len body bytes in fragments of frag (0: one); mode 0/1. */
static uint8_t *bulk_record(uint32_t xid, uint32_t mode, size_t len, size_t frag, size_t *wn)
{
	uint8_t *body = malloc(len), *wire;
	size_t nfr, at = 0;

	assert_non_null(body);
	assert_int_equal(make_call(body, len, xid, P_BULK, NULL, 0), 40);
	xdr_put_be32(body + 40, mode);
	for (size_t i = 44; i < len; i++)
		body[i] = (uint8_t)((i + xid) * 2654435761u >> 24);
	frag = frag ? frag : len;
	nfr = (len + frag - 1) / frag;
	wire = malloc(len + 4 * nfr);
	assert_non_null(wire);
	for (size_t done = 0; done < len;) {
		size_t f = len - done < frag ? len - done : frag;

		xdr_put_be32(wire + at, (uint32_t)f | (done + f == len ? RPC_RECORD_LAST : 0));
		memcpy(wire + at + 4, body + done, f);
		at += 4 + f;
		done += f;
	}
	free(body);
	*wn = at;
	return wire;
}

/* A reply (rec, r bytes) to a P_BULK record: was there a hole, and the hash the client expects. */
static void bulk_check(const uint8_t *rec, ssize_t r, uint32_t xid, uint32_t mode, size_t len,
		       bool hole)
{
	size_t wn;
	uint8_t *wire = bulk_record(xid, mode, len, 0, &wn);
	struct rpc_bulk b = {0};
	uint64_t h;
	size_t o;

	assert_true(r >= 44);
	o = check_success(rec, r, xid);
	assert_int_equal(xdr_get_be32(rec + o), hole);
	if (hole) {
		uint32_t off = xdr_get_be32(rec + o + 4), blen = xdr_get_be32(rec + o + 8);

		/* Within the bulk, up to its end; at or after the first bytes read. */
		assert_true(off >= RPC_BULK_PREFIX && off < len - 16);
		assert_int_equal(off + blen, len - 16);
		if (mode == 1) {
			b.hole = wire + 4 + off; /* the same range in the client's copy */
			b.len = blen;
		}
	}
	h = bulk_hash(&b, wire + 48, len - 44);
	assert_true(xdr_get_be32(rec + o + 12) == (uint32_t)(h >> 32));
	assert_true(xdr_get_be32(rec + o + 16) == (uint32_t)h);
	free(wire);
}

static void bulk_expect(int fd, uint32_t xid, uint32_t mode, size_t len, bool hole)
{
	uint8_t rec[64];
	ssize_t r = recv_record(fd, rec, sizeof(rec));

	assert_true(r >= 4);
	bulk_check(rec, r, xid, mode, len, hole);
}

static void bulk_send(int fd, uint32_t xid, uint32_t mode, size_t len, size_t frag, size_t trickle)
{
	size_t wn;
	uint8_t *wire = bulk_record(xid, mode, len, frag, &wn);

	for (size_t at = 0, i = 0; at < wn; i++) {
		size_t k = trickle && wn - at > trickle ? trickle : wn - at;

		send_all(fd, wire + at, k);
		at += k;
		if (trickle && i % 64 == 63)
			usleep(1000); /* the server finds the socket empty, at any stage */
	}
	free(wire);
}

/*
 * Bulk data: a single-fragment record from RPC_BULK_MIN bytes up has a hole
 * where the program's find_bulk said (unless the range exceeds
 * RPC_BULK_MAX), every byte outside it in place, and the pipe holds the
 * hole's bytes (mode 0 fills them in); a call that leaves its pipe full does
 * not leak its bytes into the next one's. Sent whole, pipelined, trickled
 * (other threads read on) and in two fragments (no hole).
 */
static void test_bulk_hole(void **state)
{
	static const struct {
		size_t len, frag, trickle;
		bool hole;
	} cases[] = {
		{RPC_BULK_MIN - 1, 0, 0, false},
		{RPC_BULK_MIN, 0, 0, true},
		{1024 * 1024 + 64, 0, 0, true},
		{1024 * 1024 + 65, 0, 0, false},
		{300001, 0, 0, true},
		{300001, 150000, 0, false},
		{200003, 0, 997, true},
		{70000, 0, 5, true},
	};
	struct tsrv t;
	int fd;

	tsrv_start(&t);
	fd = cli_connect(&t);
	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (uint32_t mode = 0; mode < 2; mode++) {
			uint32_t xid = 1000 + i * 2 + mode;

			bulk_send(fd, xid, mode, cases[i].len, cases[i].frag, cases[i].trickle);
			bulk_expect(fd, xid, mode, cases[i].len, cases[i].hole);
		}
	}
	/* Pipelined: records back to back, mixed modes. */
	for (uint32_t i = 0; i < 6; i++)
		bulk_send(fd, 2000 + i, i % 2, 100000 + i * 4099, 0, 0);
	for (uint32_t k = 0; k < 6; k++) {
		uint8_t rec[64];
		ssize_t r = recv_record(fd, rec, sizeof(rec));
		uint32_t i;

		assert_true(r >= 4);
		i = xdr_get_be32(rec) - 2000; /* calls of one connection run side by side */
		assert_true(i < 6);
		bulk_check(rec, r, 2000 + i, i % 2, 100000 + i * 4099, true);
	}
	null_call(fd, 3000);
	close(fd);
	tsrv_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_rate),
		cmocka_unit_test(test_multi_fragment),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_big_reply),
		cmocka_unit_test(test_bad_peers),
		cmocka_unit_test(test_reply_routing_and_send),
		cmocka_unit_test(test_stop_inflight),
		cmocka_unit_test(test_slow_calls_stall_nothing_else),
		cmocka_unit_test(test_blocking_calls_hand_on_their_thread),
		cmocka_unit_test(test_bulk_hole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
