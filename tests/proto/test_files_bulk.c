/*
 * WRITE data the server leaves in a pipe instead of its record buffer
 * (docs/architecture.md, "Bulk data"; src/nfs4/bulk.c, src/rpc/bulk.c), on
 * the mem backend (which copies the pipe into place) and on vfs (which
 * splices it into the file). Records are built here byte by byte and sent
 * raw, so that the tests choose how they arrive (whole, in two fragments,
 * trickled) and what they hold (a long tag moving the data past the first
 * bytes read, a bad stateid or handle, a retry of the same slot and
 * sequence id, ops after the WRITE). Every byte written is read back.
 */
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "state_helpers.h"
#include "util/limits.h"

static struct fo_env env;

#define MIB (1024u * 1024)
#define SLOT 3 /* of the 4 fileops sessions have; the library takes the lowest free one */

/* How a raw WRITE record is made and sent. */
struct bw {
	const struct fo_fh *fh;	    /* PUTFH's handle */
	const struct stateid4 *sid; /* NULL: the anonymous stateid */
	uint64_t off;
	uint32_t stable;
	const uint8_t *data;
	uint32_t len;
	uint32_t tag_len; /* a tag of this many bytes pushes the data further in */
	bool getattr;	  /* GETATTR(size) after the WRITE */
	bool cachethis;
	bool replay;	  /* the slot's previous sequence id: a retry */
	uint32_t frag;	  /* > 0: the record in fragments of this size */
	uint32_t trickle; /* > 0: sent in pieces of this size, with pauses */
};

/* What came back: the COMPOUND's status, the WRITE's results, GETATTR's size. */
struct bw_res {
	uint32_t status, write_status, count, committed;
	uint64_t size;
};

static uint8_t *pattern(uint32_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i + seed) * 2654435761u >> 24);
	return p;
}

/* The record (no mark) of SEQUENCE, PUTFH, WRITE [, GETATTR]; *n its length. */
static uint8_t *bw_record(const struct bw *w, uint32_t xid, size_t *n)
{
	size_t cap = (size_t)w->len + w->tag_len + 4096;
	uint8_t *rec = malloc(cap);
	char *tag = malloc(w->tag_len + 1);
	struct nfs4clnt_auth auth = nfs4clnt_auth_sys(0, 0);
	struct nfs4clnt_compound *cmp;
	struct WRITE4args a = {.stateid = w->sid ? *w->sid : fo_anon_stateid,
			       .offset = w->off,
			       .stable = (enum stable_how4)w->stable,
			       .data = {w->len, w->data}};
	uint32_t seqid = nfs4clnt_session_slot_seqid(env.cl.sess, SLOT) - (w->replay ? 1 : 0);
	struct xdr_enc x;

	assert_non_null(rec);
	assert_non_null(tag);
	memset(tag, 'T', w->tag_len);
	tag[w->tag_len] = 0;
	cmp = nfs4clnt_compound_new(tag, 1);
	assert_non_null(cmp);
	assert_true(nfs4clnt_compound_add_sequence(cmp, nfs4clnt_session_id(env.cl.sess), seqid,
						   SLOT, SLOT, w->cachethis));
	fo_add_putfh(cmp, w->fh);
	assert_true(xdr_enc_WRITE4args(nfs4clnt_compound_add(cmp, OP_WRITE), &a));
	if (w->getattr) {
		struct fo_mask m = fo_mask_of(FATTR4_SIZE, -1);

		fo_add_getattr(cmp, &m);
	}
	xdr_enc_init(&x, rec, cap);
	assert_true(nfs4clnt_enc_call_header(&x, xid, NFS4CLNT_PROG, NFS4CLNT_VERS,
					     NFS4CLNT_PROC_COMPOUND, &auth));
	assert_true(nfs4clnt_compound_encode(cmp, &x));
	nfs4clnt_compound_free(cmp);
	free(tag);
	*n = x.len;
	return rec;
}

/* The record on the wire: its marks, whole or in fragments of w->frag. */
static uint8_t *bw_wire(const struct bw *w, const uint8_t *rec, size_t n, size_t *wn)
{
	size_t frag = w->frag ? w->frag : n, nfrags = (n + frag - 1) / frag;
	uint8_t *wire = malloc(n + 4 * nfrags);
	size_t at = 0;

	assert_non_null(wire);
	for (size_t done = 0; done < n;) {
		size_t f = n - done < frag ? n - done : frag;

		xdr_put_be32(wire + at, (uint32_t)f | (done + f == n ? 0x80000000u : 0));
		memcpy(wire + at + 4, rec + done, f);
		at += 4 + f;
		done += f;
	}
	*wn = at;
	return wire;
}

/* Sends one raw WRITE and decodes its reply. */
static void bw_run(const struct bw *w, struct bw_res *r)
{
	uint32_t xid = nfs4clnt_conn_next_xid(env.cl.conn), opnum = 0, numres = 0, st = 0;
	size_t n, wn, rlen;
	uint8_t *rec = bw_record(w, xid, &n), *wire = bw_wire(w, rec, n, &wn), *reply;
	struct nfs4clnt_reply rep;
	struct xdr_opaque tag;
	struct xdr_dec *x;

	if (!w->trickle) {
		assert_int_equal(nfs4clnt_conn_send_raw(env.cl.conn, wire, wn), 0);
	} else {
		/* Pauses let the server find the socket empty mid-record, at any stage. */
		for (size_t at = 0, i = 0; at < wn; i++) {
			size_t k = wn - at < w->trickle ? wn - at : w->trickle;

			assert_int_equal(nfs4clnt_conn_send_raw(env.cl.conn, wire + at, k), 0);
			at += k;
			if (i % 64 == 63)
				harness_sleep_ms(1);
		}
	}
	free(wire);
	free(rec);
	assert_int_equal(nfs4clnt_conn_recv_record(env.cl.conn, 20000, &reply, &rlen), 0);
	assert_true(nfs4clnt_reply_parse(&rep, reply, rlen));
	assert_int_equal(rep.xid, xid);
	assert_int_equal(rep.accept_stat, 0);
	x = &rep.body;
	memset(r, 0, sizeof(*r));
	r->write_status = UINT32_MAX;
	assert_true(xdr_dec_u32(x, &r->status) && xdr_dec_opaque(x, &tag, XDR_UNLIMITED) &&
		    xdr_dec_u32(x, &numres));
	for (uint32_t i = 0; i < numres; i++) {
		assert_true(xdr_dec_u32(x, &opnum) && xdr_dec_u32(x, &st));
		if (opnum == OP_SEQUENCE && st == NFS4_OK) {
			assert_non_null(xdr_dec_inline(x, NFS4_SESSIONID_SIZE + 5 * 4));
			if (!w->replay)
				nfs4clnt_session_slot_set_seqid(
					env.cl.sess, SLOT,
					nfs4clnt_session_slot_seqid(env.cl.sess, SLOT) + 1);
		} else if (opnum == OP_WRITE) {
			r->write_status = st;
			if (st == NFS4_OK)
				assert_true(xdr_dec_u32(x, &r->count) &&
					    xdr_dec_u32(x, &r->committed) &&
					    xdr_dec_inline(x, NFS4_VERIFIER_SIZE));
		} else if (opnum == OP_GETATTR && st == NFS4_OK) {
			struct fo_attrs a;
			int bad;

			assert_true(fo_attrs_decode(x, &a, &bad));
			assert_true(a.has[FATTR4_SIZE]);
			r->size = a.size;
		}
	}
	nfs4clnt_reply_free(&rep);
}

/* Reads len bytes at off back and compares them with want. */
static void read_back(const struct fo_fh *f, uint64_t off, const uint8_t *want, uint32_t len)
{
	uint8_t *back = malloc(len ? len : 1);
	uint32_t got = 0, n;
	bool eof;

	assert_non_null(back);
	while (got < len) {
		uint32_t ask = len - got < 256 * 1024 ? len - got : 256 * 1024;

		assert_nfs(fo_read(&env, f, NULL, off + got, ask, back + got, &n, &eof), NFS4_OK);
		assert_true(n > 0);
		got += n;
	}
	assert_memory_equal(back, want, len);
	free(back);
}

static void new_file(const char *prefix, struct fo_fh *f)
{
	struct fo_fh d;
	char dname[64];

	fo_testdir(&env, prefix, &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, f);
}

/* Writes w (data made here), expects OK, and reads every byte back. */
static void write_ok_and_read_back(struct bw *w, const struct fo_fh *f, uint32_t seed)
{
	struct bw_res r;
	uint8_t *data = pattern(w->len, seed);

	w->fh = f;
	w->data = data;
	bw_run(w, &r);
	assert_nfs(r.status, NFS4_OK);
	assert_int_equal(r.count, w->len);
	read_back(f, w->off, data, w->len);
	free(data);
}

/* Sizes on both sides of the record size that is worth a pipe, and up to maxwrite. */
static void writes_around_the_thresholds_read_back(void **state)
{
	static const uint32_t lens[] = {RPC_BULK_MIN - 1024,
					RPC_BULK_MIN - 1,
					RPC_BULK_MIN,
					RPC_BULK_MIN + 1,
					MIB - 1,
					MIB - 3,
					MIB};
	struct fo_fh f;

	(void)state;
	new_file("thresh", &f);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct bw w = {.off = i * 3 * MIB + i, .stable = UNSTABLE4, .len = lens[i]};

		write_ok_and_read_back(&w, &f, (uint32_t)i);
	}
}

/*
 * More than maxwrite is not left in a pipe (none holds it) but read into the
 * buffer: written as before (the server accepts up to ca_maxrequestsize).
 */
static void write_over_maxwrite_takes_the_buffer(void **state)
{
	struct bw w = {.stable = UNSTABLE4, .len = MIB + 4};
	struct fo_fh f;

	(void)state;
	new_file("over", &f);
	write_ok_and_read_back(&w, &f, 9);
	w.len = MIB;
	write_ok_and_read_back(&w, &f, 10);
}

/*
 * Tags of several lengths move the data against the first RPC_BULK_PREFIX
 * bytes the server reads: data starting inside them, right at their end,
 * after it (the bytes before the hole read separately), and a WRITE header
 * past them (no bulk).
 */
static void data_crossing_the_prefix_boundary(void **state)
{
	struct fo_fh f;

	(void)state;
	new_file("prefix", &f);
	for (uint32_t t = 0; t <= 900; t += 60) {
		struct bw w = {
			.off = t * 4096, .stable = UNSTABLE4, .len = 300000 + t, .tag_len = t};

		write_ok_and_read_back(&w, &f, t);
	}
}

/* A record arriving a few bytes at a time (threads take turns reading it on). */
static void trickled_record(void **state)
{
	static const uint32_t pieces[] = {3, 1000, 65536};
	struct fo_fh f;

	(void)state;
	new_file("trickle", &f);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		/* Bounded: 3-byte pieces of a 100 KB record, larger ones of 1 MiB. */
		struct bw w = {.off = i * MIB,
			       .stable = UNSTABLE4,
			       .len = pieces[i] < 100 ? 100000 : MIB,
			       .trickle = pieces[i]};

		write_ok_and_read_back(&w, &f, (uint32_t)(100 + i));
	}
}

/* In two or more fragments the record is read whole into the buffer: same bytes. */
static void fragmented_record(void **state)
{
	static const uint32_t frags[] = {MIB / 2 + 1, 70000, 20000}; /* <= RPC_MAX_FRAGMENTS */
	struct fo_fh f;

	(void)state;
	new_file("frag", &f);
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		struct bw w = {.off = i * MIB, .stable = UNSTABLE4, .len = MIB, .frag = frags[i]};

		write_ok_and_read_back(&w, &f, (uint32_t)(200 + i));
	}
}

/*
 * A WRITE refused (bad stateid), or never reached (bad handle before it):
 * its data is dropped with the call, and the WRITEs after it write their
 * own bytes (several, so that pool threads reuse the pipes).
 */
static void refused_writes_leave_no_data_behind(void **state)
{
	static const struct stateid4 bad = {1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
	struct fo_fh f, badfh = {.len = 8, .data = {1, 2, 3, 4, 5, 6, 7, 8}};
	uint8_t *junk = pattern(MIB, 300);

	(void)state;
	new_file("refused", &f);
	for (int i = 0; i < 4; i++) {
		struct bw w = {
			.fh = &f, .sid = &bad, .stable = UNSTABLE4, .data = junk, .len = MIB};
		struct bw_res r;

		bw_run(&w, &r);
		assert_nfs(r.write_status, NFS4ERR_STALE_STATEID);
		w.sid = NULL;
		w.fh = &badfh;
		bw_run(&w, &r);
		assert_true(r.status != NFS4_OK);
		assert_int_equal(r.write_status, UINT32_MAX); /* not reached */
		w = (struct bw){.off = (uint64_t)i * MIB, .stable = UNSTABLE4, .len = MIB};
		write_ok_and_read_back(&w, &f, (uint32_t)(310 + i));
	}
	free(junk);
}

/*
 * A retry of the same slot and sequence id: answered from the reply cache
 * (cachethis) or with NFS4ERR_RETRY_UNCACHED_REP, its data dropped, never
 * written again over what came after.
 */
static void replayed_write(void **state)
{
	struct fo_fh f;

	(void)state;
	new_file("replay", &f);
	for (int cache = 0; cache < 2; cache++) {
		struct bw w = {.stable = UNSTABLE4, .len = MIB, .cachethis = cache};
		uint8_t *first = pattern(MIB, 400 + cache), *later = pattern(MIB, 410 + cache);
		struct bw_res r;

		w.fh = &f;
		w.data = first;
		bw_run(&w, &r);
		assert_nfs(r.status, NFS4_OK);
		/* Other bytes over it in another slot, then the retry. */
		assert_nfs(
			fo_write(&env, NULL, &f, NULL, 0, UNSTABLE4, later, MIB, NULL, NULL, NULL),
			NFS4_OK);
		w.replay = true;
		bw_run(&w, &r);
		if (cache) {
			assert_nfs(r.status, NFS4_OK);
			assert_int_equal(r.count, MIB);
		} else {
			assert_nfs(r.status, NFS4ERR_RETRY_UNCACHED_REP);
		}
		read_back(&f, 0, later, MIB);
		free(first);
		free(later);
	}
}

/* Ops after the data are decoded from after the hole; stable writes stay stable. */
static void ops_after_the_data_and_stable_writes(void **state)
{
	static const uint32_t how[] = {UNSTABLE4, DATA_SYNC4, FILE_SYNC4};
	struct fo_fh f;

	(void)state;
	new_file("after", &f);
	for (size_t i = 0; i < 3; i++) {
		uint32_t len = MIB - (uint32_t)i; /* with and without padding */
		struct bw w = {
			.fh = &f, .off = i * MIB, .stable = how[i], .len = len, .getattr = true};
		uint8_t *data = pattern(len, 500 + (uint32_t)i);
		struct bw_res r;

		w.data = data;
		bw_run(&w, &r);
		assert_nfs(r.status, NFS4_OK);
		assert_int_equal(r.count, len);
		assert_true(r.committed >= how[i]);
		assert_int_equal(r.size, i * MIB + len);
		read_back(&f, i * MIB, data, len);
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_around_the_thresholds_read_back),
		cmocka_unit_test(write_over_maxwrite_takes_the_buffer),
		cmocka_unit_test(data_crossing_the_prefix_boundary),
		cmocka_unit_test(trickled_record),
		cmocka_unit_test(fragmented_record),
		cmocka_unit_test(refused_writes_leave_no_data_behind),
		cmocka_unit_test(replayed_write),
		cmocka_unit_test(ops_after_the_data_and_stable_writes),
	};

	return fo_run_both("files_bulk", tests, &env);
}
