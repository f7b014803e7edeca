/*
 * Stateid rules (RFC 8881 §8.2): seqid checks (§8.2.2), special stateids
 * (§8.2.3), stateids of other clients and files, NFS4ERR_STALE_STATEID after
 * a server restart, NFS4ERR_EXPIRED after lease expiry (§8.3), TEST_STATEID
 * (§18.48), FREE_STATEID (§18.38) and DESTROY_CLIENTID with state (§18.50).
 * Run on the mem and vfs backends; the expiry group on mem with --lease 3.
 */
#include <string.h>

#include "state_helpers.h"

static struct fo_env env;

#define SA (env.cl.sess)
#define CIDA (env.cl.clientid)

/*
 * A file f ("abc") in a new directory "<prefix>-n", opened by owner "o" for
 * READ (s1), then again for BOTH (s2, the same stateid upgraded).
 */
static void opened_twice(const char *prefix, struct fo_fh *d, struct fo_fh *f, struct stateid4 *s1,
			 struct stateid4 *s2)
{
	fo_testdir(&env, prefix, d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, d, "f", "abc", 3, f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, d, "f", "o", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, s1, NULL),
		   NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, s2, NULL),
		   NFS4_OK);
}

static void seqid_rules(void **state)
{
	struct fo_fh d, f;
	struct stateid4 s1, s2, t;

	(void)state;
	opened_twice("seq", &d, &f, &s1, &s2);
	assert_int_equal(s2.seqid, s1.seqid + 1);
	/* §8.2.2: older seqid → OLD_STATEID; newer → BAD_STATEID; 0 → the current one. */
	assert_nfs(st_read(SA, &f, &s1, 0, 3, NULL, NULL), NFS4ERR_OLD_STATEID);
	assert_nfs(st_write(SA, &f, &s1, 0, "x", 1), NFS4ERR_OLD_STATEID);
	assert_nfs(st_read(SA, &f, &s2, 0, 3, NULL, NULL), NFS4_OK);
	t = st_sid_seq(&s2, s2.seqid + 1);
	assert_nfs(st_read(SA, &f, &t, 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
	t = st_sid_seq(&s2, 0xfffffffeu);
	assert_nfs(st_read(SA, &f, &t, 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
	t = st_sid_seq(&s2, 0);
	assert_nfs(st_read(SA, &f, &t, 0, 3, NULL, NULL), NFS4_OK);
	assert_nfs(st_write(SA, &f, &t, 0, "y", 1), NFS4_OK);
	/* Seqid 0 in OPEN_DOWNGRADE too; the result carries the real seqid. */
	assert_nfs(st_downgrade(SA, &f, &t, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &t),
		   NFS4_OK);
	assert_int_equal(t.seqid, s2.seqid + 1);
	assert_nfs(st_close(SA, &f, &s2, NULL), NFS4ERR_OLD_STATEID);
	assert_nfs(st_close(SA, &f, &t, NULL), NFS4_OK);
}

static void unknown_and_special_stateids(void **state)
{
	struct fo_fh d, f;
	struct stateid4 s, t;
	static const struct stateid4 reserved[] = {
		{5, {0}}, /* seqid neither 0, 1 nor ~0 with other 0 */
		{0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{1, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	};

	(void)state;
	fo_testdir(&env, "unk", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &s, NULL),
		   NFS4_OK);
	/* Same epoch and client, a counter never issued: BAD_STATEID. */
	t = s;
	t.other[11] ^= 0x5a;
	t.other[10] ^= 0xa5;
	assert_nfs(st_read(SA, &f, &t, 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f, &t, NULL), NFS4ERR_BAD_STATEID);
	/* §8.2.3: the invalid special stateid and reserved combinations: BAD_STATEID. */
	assert_nfs(st_read(SA, &f, &st_invalid_sid, 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_write(SA, &f, &st_invalid_sid, 0, "x", 1), NFS4ERR_BAD_STATEID);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_nfs(st_read(SA, &f, &reserved[i], 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
		assert_nfs(st_write(SA, &f, &reserved[i], 0, "x", 1), NFS4ERR_BAD_STATEID);
	}
	/* Specials are not open stateids: CLOSE and OPEN_DOWNGRADE refuse them. */
	assert_nfs(st_close(SA, &f, &fo_anon_stateid, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f, &fo_bypass_stateid, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_downgrade(SA, &f, &fo_anon_stateid, OPEN4_SHARE_ACCESS_READ,
				OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f, &s, NULL), NFS4_OK);
}

static void another_clients_stateid(void **state)
{
	struct harness_client b;
	struct fo_fh d, f;
	struct stateid4 s;
	uint32_t code;

	(void)state;
	fo_client_new(&env, &b, NULL);
	fo_testdir(&env, "other", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &s, NULL),
		   NFS4_OK);
	assert_nfs(st_read(b.sess, &f, &s, 0, 3, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_write(b.sess, &f, &s, 0, "x", 1), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(b.sess, &f, &s, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_free_stateid(b.sess, &s), NFS4ERR_BAD_STATEID);
	assert_nfs(st_test_stateids(b.sess, &s, 1, &code), NFS4_OK);
	assert_nfs(code, NFS4ERR_BAD_STATEID);
	/* Still A's and still open. */
	assert_nfs(st_test_stateids(SA, &s, 1, &code), NFS4_OK);
	assert_nfs(code, NFS4_OK);
	assert_nfs(st_close(SA, &f, &s, NULL), NFS4_OK);
	harness_client_free(&b, false);
}

/* §18.48.3: per stateid, the status its use would get; specials are always BAD_STATEID. */
static void test_stateid_codes(void **state)
{
	struct fo_fh d, f;
	struct stateid4 s1, s2, lk, gone, sids[11];
	uint32_t codes[11];
	static const uint32_t want[11] = {
		NFS4_OK,
		NFS4_OK,
		NFS4ERR_OLD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4ERR_BAD_STATEID,
		NFS4_OK,
		NFS4ERR_BAD_STATEID,
	};

	(void)state;
	opened_twice("test", &d, &f, &s1, &s2);
	assert_nfs(st_lock_new(SA, &f, WRITE_LT, 0, 1, &s2, CIDA, "l", &lk, NULL), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "gone", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &gone, NULL),
		   NFS4_OK);
	assert_nfs(st_close(SA, &f, &gone, NULL), NFS4_OK);
	sids[0] = s2;
	sids[1] = st_sid_seq(&s2, 0);
	sids[2] = s1;
	sids[3] = st_sid_seq(&s2, s2.seqid + 1);
	sids[4] = s2;
	sids[4].other[11] ^= 0x77;
	sids[5] = fo_anon_stateid;
	sids[6] = fo_bypass_stateid;
	sids[7] = st_current_sid;
	sids[8] = st_invalid_sid;
	sids[9] = lk;
	sids[10] = gone;
	assert_nfs(st_test_stateids(SA, sids, 11, codes), NFS4_OK);
	for (int i = 0; i < 11; i++) {
		print_message("stateid %d\n", i);
		assert_nfs(codes[i], want[i]);
	}
	/* An empty list is fine. */
	assert_nfs(st_test_stateids(SA, sids, 0, codes), NFS4_OK);
	assert_nfs(st_locku(SA, &f, WRITE_LT, &lk, 0, 1, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &f, &s2, NULL), NFS4_OK);
}

/* §18.38.3 */
static void free_stateid_rules(void **state)
{
	struct fo_fh d, f;
	struct stateid4 o, lk, lk2;
	uint32_t code;

	(void)state;
	fo_testdir(&env, "free", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &o, NULL),
		   NFS4_OK);
	/* An open stateid is freed by CLOSE, not FREE_STATEID. */
	assert_nfs(st_free_stateid(SA, &o), NFS4ERR_LOCKS_HELD);
	assert_nfs(st_lock_new(SA, &f, WRITE_LT, 0, 10, &o, CIDA, "l", &lk, NULL), NFS4_OK);
	assert_nfs(st_free_stateid(SA, &lk), NFS4ERR_LOCKS_HELD);
	assert_nfs(st_locku(SA, &f, WRITE_LT, &lk, 0, 10, &lk), NFS4_OK);
	assert_nfs(st_free_stateid(SA, &lk), NFS4_OK);
	/* Freed: every use is BAD_STATEID, including a second FREE_STATEID. */
	assert_nfs(st_test_stateids(SA, &lk, 1, &code), NFS4_OK);
	assert_nfs(code, NFS4ERR_BAD_STATEID);
	assert_nfs(st_free_stateid(SA, &lk), NFS4ERR_BAD_STATEID);
	assert_nfs(st_lock_exist(SA, &f, WRITE_LT, 0, 1, &lk, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_read(SA, &f, &lk, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	/* The lock owner can start over with a new lock stateid. */
	assert_nfs(st_lock_new(SA, &f, WRITE_LT, 0, 10, &o, CIDA, "l", &lk2, NULL), NFS4_OK);
	assert_nfs(st_locku(SA, &f, WRITE_LT, &lk2, 0, 10, NULL), NFS4_OK);
	/* Specials and unknown stateids. */
	assert_nfs(st_free_stateid(SA, &fo_anon_stateid), NFS4ERR_BAD_STATEID);
	assert_nfs(st_free_stateid(SA, &fo_bypass_stateid), NFS4ERR_BAD_STATEID);
	assert_nfs(st_free_stateid(SA, &st_invalid_sid), NFS4ERR_BAD_STATEID);
	{
		struct stateid4 t = o;

		t.other[11] ^= 0x33;
		assert_nfs(st_free_stateid(SA, &t), NFS4ERR_BAD_STATEID);
	}
	assert_nfs(st_close(SA, &f, &o, NULL), NFS4_OK);
}

/* §18.50.3: DESTROY_CLIENTID of a client that still has opens: NFS4ERR_CLIENTID_BUSY. */
static void destroy_clientid_with_state(void **state)
{
	struct harness_client c;
	struct nfs4clnt_cs_args ca;
	struct fo_fh d, f;
	struct stateid4 s;

	(void)state;
	fo_client_new(&env, &c, NULL);
	fo_testdir(&env, "busy", &d, NULL, 0);
	assert_nfs(st_mkfile(c.sess, c.clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(c.sess, c.clientid, &d, "f", "o", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &s, NULL),
		   NFS4_OK);
	assert_nfs(nfs4clnt_destroy_session(c.conn, nfs4clnt_session_id(c.sess)), NFS4_OK);
	nfs4clnt_session_free(c.sess);
	c.sess = NULL;
	/* No session left; only the open keeps the client busy. */
	assert_nfs(nfs4clnt_destroy_clientid(c.conn, c.clientid), NFS4ERR_CLIENTID_BUSY);
	ca = nfs4clnt_cs_default(c.clientid, c.exid.sequenceid + 1);
	ca.fore.maxrequests = 4;
	assert_nfs(nfs4clnt_create_session(c.conn, &ca, &c.cs), NFS4_OK);
	c.sess = nfs4clnt_session_new(c.conn, &c.cs);
	assert_non_null(c.sess);
	/* The open survived. */
	assert_nfs(st_read(c.sess, &f, &s, 0, 3, NULL, NULL), NFS4_OK);
	assert_nfs(st_close(c.sess, &f, &s, NULL), NFS4_OK);
	harness_client_free(&c, false);
}

/* §8.2.4 (stateids and server restart): a stateid of the previous instance is stale. */
static void stale_after_restart(void **state)
{
	struct fo_fh d, f;
	struct stateid4 s, lk;
	uint32_t codes[2];

	(void)state;
	fo_testdir(&env, "stale", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_WRITE, false, &s, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(SA, &f, WRITE_LT, 0, ST_ALL_ONES, &s, CIDA, "l", &lk, NULL),
		   NFS4_OK);
	/* The server stops with this open and lock in place (and must exit cleanly). */
	fo_env_restart(&env);
	if (env.be == FO_VFS) {
		/* The file (and its handle) survive on vfs: I/O says STALE_STATEID. */
		assert_nfs(st_read(SA, &f, &s, 0, 3, NULL, NULL), NFS4ERR_STALE_STATEID);
		assert_nfs(st_write(SA, &f, &s, 0, "x", 1), NFS4ERR_STALE_STATEID);
		assert_nfs(st_close(SA, &f, &s, NULL), NFS4ERR_STALE_STATEID);
		assert_nfs(st_locku(SA, &f, WRITE_LT, &lk, 0, 1, NULL), NFS4ERR_STALE_STATEID);
		/* Nothing of the old state remains: deny and lock are gone. */
		assert_nfs(st_write(SA, &f, &fo_anon_stateid, 0, "x", 1), NFS4_OK);
		{
			struct st_denied dn;

			assert_nfs(st_lockt(SA, &f, WRITE_LT, 0, ST_ALL_ONES, CIDA, "z", &dn),
				   NFS4_OK);
		}
	}
	{
		struct stateid4 sids[2] = {s, lk};

		assert_nfs(st_test_stateids(SA, sids, 2, codes), NFS4_OK);
		assert_nfs(codes[0], NFS4ERR_STALE_STATEID);
		assert_nfs(codes[1], NFS4ERR_STALE_STATEID);
	}
	assert_nfs(st_free_stateid(SA, &lk), NFS4ERR_STALE_STATEID);
}

/* ------------------------------------------------ lease expiry (mem, --lease 3) */

static void expired_stateids(void **state)
{
	struct harness_client a, a2;
	struct fo_fh d, f;
	struct stateid4 s, lk;
	struct nfs4clnt_seq_res seq;
	char owner[64];
	int st = -1;

	(void)state;
	harness_owner(owner, sizeof(owner), "expire");
	harness_client_new(env.srv->hs, &a, owner, 4);
	fo_testdir(&env, "exp", &d, NULL, 0);
	assert_nfs(st_mkfile(a.sess, a.clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &s, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(a.sess, &f, WRITE_LT, 0, 1, &s, a.clientid, "l", &lk, NULL),
		   NFS4_OK);
	/*
	 * A is silent (any call of A's would renew its lease); the env client
	 * renews its own until A's lock is gone (3 s lease, checked once a second).
	 */
	for (int i = 0; i < 40; i++) {
		struct st_denied dn;

		harness_sleep_ms(250);
		st = st_lockt(SA, &f, WRITE_LT, 0, 1, CIDA, "probe", &dn);
		if (st != NFS4ERR_DENIED)
			break;
	}
	assert_nfs(st, NFS4_OK);
	/* Expiry destroys A's client and so its sessions. */
	assert_nfs(nfs4clnt_session_sequence(a.sess, &seq), NFS4ERR_BADSESSION);
	/* The same owner comes back: a new client, whose old stateids are EXPIRED. */
	harness_client_new(env.srv->hs, &a2, owner, 4);
	assert_false(a2.clientid == a.clientid);
	assert_nfs(st_read(a2.sess, &f, &s, 0, 3, NULL, NULL), NFS4ERR_EXPIRED);
	assert_nfs(st_write(a2.sess, &f, &s, 0, "x", 1), NFS4ERR_EXPIRED);
	assert_nfs(st_close(a2.sess, &f, &s, NULL), NFS4ERR_EXPIRED);
	assert_nfs(st_locku(a2.sess, &f, WRITE_LT, &lk, 0, 1, NULL), NFS4ERR_EXPIRED);
	assert_nfs(st_free_stateid(a2.sess, &lk), NFS4ERR_EXPIRED);
	{
		struct stateid4 sids[2] = {s, lk};
		uint32_t codes[2];

		assert_nfs(st_test_stateids(a2.sess, sids, 2, codes), NFS4_OK);
		assert_nfs(codes[0], NFS4ERR_EXPIRED);
		assert_nfs(codes[1], NFS4ERR_EXPIRED);
	}
	/* The lock went with A: free for the new client. */
	{
		struct st_denied dn;

		assert_nfs(st_lockt(a2.sess, &f, WRITE_LT, 0, ST_ALL_ONES, a2.clientid, "l", &dn),
			   NFS4_OK);
	}
	harness_client_free(&a2, false);
	harness_client_free(&a, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seqid_rules),
		cmocka_unit_test(unknown_and_special_stateids),
		cmocka_unit_test(another_clients_stateid),
		cmocka_unit_test(test_stateid_codes),
		cmocka_unit_test(free_stateid_rules),
		cmocka_unit_test(destroy_clientid_with_state),
		cmocka_unit_test(stale_after_restart), /* last: restarts the server */
	};
	const struct CMUnitTest lease_tests[] = {
		cmocka_unit_test(expired_stateids),
	};
	int failed = fo_run_both("state_stateid", tests, &env);

	failed += fo_run_lease("state_stateid_lease", lease_tests,
			       sizeof(lease_tests) / sizeof(lease_tests[0]), &env, "3");
	return failed;
}
