/*
 * Revoked state (RFC 8881 §8.2.4, §8.3, §15.1.5.1, §18.46.3):
 *
 *  - `nfs4ctl revoke ID` takes a client's opens, locks and delegations
 *    while the client and its session stay: another client gets the
 *    conflicting open, lock or delegation at once; every use of a revoked
 *    stateid answers NFS4ERR_ADMIN_REVOKED, TEST_STATEID says so,
 *    FREE_STATEID forgets it, and SEQUENCE carries
 *    SEQ4_STATUS_ADMIN_STATE_REVOKED until the last one is freed. On vfs the
 *    lock leaves the real file too.
 *  - A client whose lease ran out is kept, expired: its state is revoked (and
 *    taken by another client meanwhile), its session gone; when it comes back
 *    EXCHANGE_ID finds it confirmed, CREATE_SESSION works, its SEQUENCEs carry
 *    SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED until it has freed its stateids
 *    (which answer NFS4ERR_EXPIRED), and then it is an ordinary client.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

#define OUT_MAX 65536

static struct fo_env env;
#define B (&env.cl) /* the other client: no back channel, never gets a delegation */

/* nfs4ctl --json ARGS... against env's server: its exit status; its output in out. */
static int ctl(char *out, const char *cmd, const char *arg)
{
	return harness_ctl(env.srv->hs->statedir, false, out, OUT_MAX, "--json", cmd, arg, NULL);
}

static void clientid_hex(uint64_t id, char *out)
{
	sprintf(out, "%016llx", (unsigned long long)id);
}

/* nfs4ctl revoke of cl: asserts it revoked n stateids. */
static void ctl_revoke(const struct harness_client *cl, int n)
{
	char *out = malloc(OUT_MAX), id[17], want[64];

	assert_non_null(out);
	clientid_hex(cl->clientid, id);
	assert_int_equal(ctl(out, "revoke", id), 0);
	snprintf(want, sizeof(want), "\"stateids\":%d", n);
	if (!strstr(out, want))
		fail_msg("nfs4ctl revoke %s: %s (wanted %s)", id, out, want);
	free(out);
}

/* Whether nfs4ctl's output for cmd (arg) contains want. */
static bool ctl_says(const char *cmd, const char *arg, const char *want)
{
	char *out = malloc(OUT_MAX);
	bool found;

	assert_non_null(out);
	assert_int_equal(ctl(out, cmd, arg), 0);
	found = strstr(out, want) != NULL;
	if (!found)
		print_message("nfs4ctl %s: %s (no %s)\n", cmd, out, want);
	free(out);
	return found;
}

static uint32_t seq_flags(struct harness_client *cl)
{
	return cbc_renew(cl);
}

static int mem_setup(void **state)
{
	(void)state;
	cbc_env_setup(&env, "10");
	return 0;
}

static int vfs_setup(void **state)
{
	(void)state;
	fo_env_setup(&env, FO_VFS);
	return 0;
}

static int lease_setup(void **state)
{
	(void)state;
	cbc_env_setup(&env, "3");
	return 0;
}

static int env_teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

/* ------------------------------------------------------ admin revoke */

/*
 * A holds an open with a deny and a write lock on f, and a write delegation
 * of g; B is kept out of both. After nfs4ctl revoke A, B gets them at once,
 * and A is told with ADMIN_REVOKED on every op until it frees its stateids.
 */
static void admin_revoke_releases_state_and_answers_admin_revoked(void **state)
{
	struct stateid4 oa, la, lx, bo, bl, bg, out;
	struct st_open ho;
	struct cb_client a;
	struct fo_fh d, f, g;
	uint32_t codes[4];
	char aid[17];

	(void)state;
	cbc_new(env.srv->hs, &a, "rev-a", CBA_OK);
	clientid_hex(a.cl.clientid, aid);
	fo_testdir(&env, "rev", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "0123456789", 10, &f), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "g", "abc", 3, &g), NFS4_OK);
	assert_nfs(st_open_simple(a.cl.sess, a.cl.clientid, &d, "f", "a-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_WRITE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(a.cl.sess, &f, WRITE_LT, 0, ST_ALL_ONES, &oa, a.cl.clientid,
			       "a-lock", &la, NULL),
		   NFS4_OK);
	cbc_hold(&a, &d, "g", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &ho);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_BOTH, &bo), NFS4ERR_SHARE_DENIED);
	assert_int_equal(seq_flags(&a.cl) & SEQ4_STATUS_ADMIN_STATE_REVOKED, 0);

	/* Its open and lock of f, its open of g and its delegation. */
	ctl_revoke(&a.cl, 4);
	assert_true(ctl_says("client", aid, "\"revoked\":4"));
	assert_true(ctl_says("client", aid, "\"opens\":[]"));

	/* B at once: the deny, the lock and the delegation are gone (no recall, no DELAY). */
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_BOTH, &bo), NFS4_OK);
	assert_nfs(st_lock_new(B->sess, &f, WRITE_LT, 0, ST_ALL_ONES, &bo, B->clientid, "b-lock",
			       &bl, NULL),
		   NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "g", OPEN4_SHARE_ACCESS_BOTH, &bg), NFS4_OK);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0);

	/* A's session lives and tells it; every use of its stateids answers ADMIN_REVOKED. */
	assert_true(seq_flags(&a.cl) & SEQ4_STATUS_ADMIN_STATE_REVOKED);
	assert_nfs(st_read(a.cl.sess, &f, &oa, 0, 1, NULL, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_write(a.cl.sess, &f, &oa, 0, "x", 1), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_truncate(a.cl.sess, &f, &oa, 0), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(
		st_lock_new(a.cl.sess, &f, READ_LT, 0, 1, &oa, a.cl.clientid, "a-lock2", &lx, NULL),
		NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_lock_exist(a.cl.sess, &f, WRITE_LT, 0, 1, &la, &lx, NULL),
		   NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_locku(a.cl.sess, &f, WRITE_LT, &la, 0, 1, &lx), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_downgrade(a.cl.sess, &f, &oa, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
				&out),
		   NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_close(a.cl.sess, &f, &oa, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_read(a.cl.sess, &g, &ho.dsid, 0, 1, NULL, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_delegreturn(a.cl.sess, &g, &ho.dsid), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_close(a.cl.sess, &g, &ho.sid, NULL), NFS4ERR_ADMIN_REVOKED);
	{
		struct stateid4 sids[4] = {oa, la, ho.sid, ho.dsid};

		assert_nfs(st_test_stateids(a.cl.sess, sids, 4, codes), NFS4_OK);
		for (int i = 0; i < 4; i++)
			assert_nfs(codes[i], NFS4ERR_ADMIN_REVOKED);
		/* They are A's: for B they are nobody's. */
		assert_nfs(st_test_stateids(B->sess, sids, 1, codes), NFS4_OK);
		assert_nfs(codes[0], NFS4ERR_BAD_STATEID);
	}

	/* FREE_STATEID forgets them (an open too: no LOCKS_HELD); the flag stays till the last. */
	assert_nfs(st_free_stateid(a.cl.sess, &oa), NFS4_OK);
	assert_nfs(st_free_stateid(a.cl.sess, &la), NFS4_OK);
	assert_nfs(st_free_stateid(a.cl.sess, &ho.sid), NFS4_OK);
	assert_true(seq_flags(&a.cl) & SEQ4_STATUS_ADMIN_STATE_REVOKED);
	assert_nfs(st_free_stateid(a.cl.sess, &ho.dsid), NFS4_OK);
	assert_int_equal(seq_flags(&a.cl) & SEQ4_STATUS_ADMIN_STATE_REVOKED, 0);
	assert_nfs(st_free_stateid(a.cl.sess, &oa), NFS4ERR_BAD_STATEID);
	assert_nfs(st_read(a.cl.sess, &f, &oa, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_true(ctl_says("client", aid, "\"revoked\":0"));

	/* A is an ordinary client: it may open again, as far as B's opens allow. */
	assert_nfs(st_open_simple(a.cl.sess, a.cl.clientid, &d, "f", "a-owner",
				  OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &oa, NULL), NFS4_OK);
	/* Revoking a client with nothing to revoke revokes nothing. */
	ctl_revoke(&a.cl, 0);

	assert_nfs(st_locku(B->sess, &f, WRITE_LT, &bl, 0, ST_ALL_ONES, &bl), NFS4_OK);
	assert_nfs(st_close(B->sess, &f, &bo, NULL), NFS4_OK);
	assert_nfs(st_close(B->sess, &g, &bg, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/* Unfreed revoked stateids are no state: DESTROY_CLIENTID works, and nothing is left. */
static void unfreed_revoked_stateids_do_not_hold_the_client(void **state)
{
	struct harness_client c;
	struct stateid4 oc;
	struct fo_fh d, f;
	char owner[64];

	(void)state;
	harness_client_new(env.srv->hs, &c, harness_owner(owner, sizeof(owner), "rev-c"), 2);
	fo_testdir(&env, "revc", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "x", 1, &f), NFS4_OK);
	assert_nfs(st_open_simple(c.sess, c.clientid, &d, "f", "c-owner",
				  OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &oc, NULL),
		   NFS4_OK);
	ctl_revoke(&c, 1);
	assert_true(ctl_says("stats", NULL, "\"stateids\":0"));
	harness_client_free(&c, false);
	assert_true(ctl_says("stats", NULL, "\"clients\":1,"));
}

/* ---------------------------------------------------- on a real file */

static int local_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

/* vfs: a revoked lock leaves the exported file, as LOCKU would take it off. */
static void admin_revoke_releases_the_real_lock(void **state)
{
	struct harness_client a;
	struct stateid4 oa, la;
	char dname[64], path[1024], owner[64];
	struct fo_fh d, f;
	int fd;

	(void)state;
	harness_client_new(env.srv->hs, &a, harness_owner(owner, sizeof(owner), "rev-vfs"), 2);
	fo_testdir(&env, "rv", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "0123456789", 10, &f);
	snprintf(path, sizeof(path), "%s/%s/f", env.srv->tmpdir, dname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "a-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(a.sess, &f, WRITE_LT, 0, 100, &oa, a.clientid, "a-lock", &la, NULL),
		   NFS4_OK);
	assert_int_equal(local_lock(fd, F_WRLCK, 10, 10), -EAGAIN);

	ctl_revoke(&a, 2);
	assert_int_equal(local_lock(fd, F_WRLCK, 10, 10), 0);
	assert_int_equal(local_lock(fd, F_UNLCK, 10, 10), 0);
	assert_nfs(st_locku(a.sess, &f, WRITE_LT, &la, 0, 100, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_true(seq_flags(&a) & SEQ4_STATUS_ADMIN_STATE_REVOKED);
	close(fd);
	harness_client_free(&a, false);
}

/* ------------------------------------------------------------ expiry */

/* A client of owner with verifier verf (the same again when it "returns"). */
static void client_new_verf(struct harness_client *cl, const char *owner, const char *verf)
{
	struct nfs4clnt_exid_args ea = {.owner = xdr_opaque_str(owner)};
	struct nfs4clnt_cs_args ca;

	memset(cl, 0, sizeof(*cl));
	memcpy(ea.verifier, verf, 8);
	cl->conn = harness_connect(env.srv->hs);
	assert_nfs(nfs4clnt_exchange_id(cl->conn, &ea, &cl->exid), NFS4_OK);
	cl->clientid = cl->exid.clientid;
	ca = nfs4clnt_cs_default(cl->clientid, cl->exid.sequenceid);
	assert_nfs(nfs4clnt_create_session(cl->conn, &ca, &cl->cs), NFS4_OK);
	cl->sess = nfs4clnt_session_new(cl->conn, &cl->cs);
	assert_non_null(cl->sess);
}

/* Renews B (and no one else) until cl's session is gone with its expired lease. */
static void wait_expired(struct harness_client *cl)
{
	uint32_t dir;
	int st = NFS4_OK;

	/* BIND_CONN_TO_SESSION renews nothing: it only looks. Lease 3 s: ≤ ~5 s. */
	for (int i = 0; i < 60 && st == NFS4_OK; i++) {
		harness_sleep_ms(250);
		seq_flags(B);
		st = nfs4clnt_bind_conn(cl->conn, nfs4clnt_session_id(cl->sess), CDFC4_FORE, &dir);
	}
	assert_nfs(st, NFS4ERR_BADSESSION);
}

/*
 * A lets its lease lapse holding an open with a deny and a write lock; B
 * takes the conflicting lock and open meanwhile. A comes back with the same
 * owner and verifier, is told, frees its stateids and opens again.
 */
static void expired_client_returns_and_is_told(void **state)
{
	struct stateid4 oa, la, bo, bl;
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_exid_res er;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_seq_res seq;
	struct harness_client a;
	struct fo_fh d, f;
	char owner[64], aid[17];
	uint32_t codes[2];
	int st = NFS4ERR_DENIED;

	(void)state;
	harness_owner(owner, sizeof(owner), "exp-a");
	client_new_verf(&a, owner, "verf-one");
	clientid_hex(a.clientid, aid);
	fo_testdir(&env, "exp", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "a-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_WRITE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(a.sess, &f, WRITE_LT, 0, ST_ALL_ONES, &oa, a.clientid, "a-lock", &la,
			       NULL),
		   NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_READ, &bo), NFS4_OK);

	/* A goes silent; B keeps renewing and gets A's lock once A's lease is over. */
	for (int i = 0; i < 60 && st == NFS4ERR_DENIED; i++) {
		harness_sleep_ms(250);
		seq_flags(B);
		st = st_lock_new(B->sess, &f, READ_LT, 0, 1, &bo, B->clientid, "b-lock", &bl, NULL);
	}
	assert_nfs(st, NFS4_OK);
	wait_expired(&a);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_BOTH, &bo), NFS4_OK);

	/* nfs4ctl: A is kept, expired, with its revoked stateids; not a client with state. */
	assert_true(ctl_says("clients", NULL, "\"expired\":true"));
	assert_true(ctl_says("client", aid, "\"revoked\":2"));
	assert_true(ctl_says("stats", NULL, "\"expired_clients\":1"));
	/* Meanwhile its stateids are expired for anyone who asks. */
	assert_nfs(st_read(B->sess, &f, &oa, 0, 1, NULL, NULL), NFS4ERR_EXPIRED);

	/* Back: the same owner and verifier find the confirmed record (§18.35.5). */
	assert_nfs(nfs4clnt_session_sequence(a.sess, &seq), NFS4ERR_BADSESSION);
	ea.owner = xdr_opaque_str(owner);
	memcpy(ea.verifier, "verf-one", 8);
	assert_nfs(nfs4clnt_exchange_id(a.conn, &ea, &er), NFS4_OK);
	assert_true(er.clientid == a.clientid);
	assert_true(er.flags & EXCHGID4_FLAG_CONFIRMED_R);
	ca = nfs4clnt_cs_default(a.clientid, er.sequenceid);
	assert_nfs(nfs4clnt_create_session(a.conn, &ca, &a.cs), NFS4_OK);
	nfs4clnt_session_free(a.sess);
	a.sess = nfs4clnt_session_new(a.conn, &a.cs);
	assert_non_null(a.sess);
	assert_true(ctl_says("stats", NULL, "\"expired_clients\":0"));

	/* Told until it has freed what expired. */
	assert_true(seq_flags(&a) & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED);
	assert_nfs(st_read(a.sess, &f, &oa, 0, 1, NULL, NULL), NFS4ERR_EXPIRED);
	assert_nfs(st_locku(a.sess, &f, WRITE_LT, &la, 0, 1, NULL), NFS4ERR_EXPIRED);
	{
		struct stateid4 sids[2] = {oa, la};

		assert_nfs(st_test_stateids(a.sess, sids, 2, codes), NFS4_OK);
		assert_nfs(codes[0], NFS4ERR_EXPIRED);
		assert_nfs(codes[1], NFS4ERR_EXPIRED);
	}
	assert_nfs(st_free_stateid(a.sess, &oa), NFS4_OK);
	assert_true(seq_flags(&a) & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED);
	assert_nfs(st_free_stateid(a.sess, &la), NFS4_OK);
	assert_int_equal(seq_flags(&a) & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, 0);
	assert_nfs(st_test_stateids(a.sess, &oa, 1, codes), NFS4_OK);
	assert_nfs(codes[0], NFS4ERR_BAD_STATEID);

	/* An ordinary client again: it opens (B's lock and open allow a read). */
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "a-owner", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(st_read(a.sess, &f, &oa, 0, 3, NULL, NULL), NFS4_OK);
	assert_nfs(st_close(a.sess, &f, &oa, NULL), NFS4_OK);
	assert_true(ctl_says("clients", NULL, "\"expired\":false"));

	assert_nfs(st_locku(B->sess, &f, READ_LT, &bl, 0, 1, &bl), NFS4_OK);
	assert_nfs(st_close(B->sess, &f, &bo, NULL), NFS4_OK);
	harness_client_free(&a, false);
}

/* An expired client with nothing to free is told nothing, and DESTROY_CLIENTID ends it. */
static void expired_client_without_state_and_destroy_clientid(void **state)
{
	struct nfs4clnt_exid_args ea = {0};
	struct nfs4clnt_exid_res er;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct harness_client c, e;
	struct nfs4clnt_session *s;
	char owner[64], owner2[64];

	(void)state;
	client_new_verf(&c, harness_owner(owner, sizeof(owner), "exp-c"), "verf-cee");
	client_new_verf(&e, harness_owner(owner2, sizeof(owner2), "exp-e"), "verf-eee");
	wait_expired(&c);
	wait_expired(&e);

	/* c comes back: no state was revoked, so no flag. */
	ea.owner = xdr_opaque_str(owner);
	memcpy(ea.verifier, "verf-cee", 8);
	assert_nfs(nfs4clnt_exchange_id(c.conn, &ea, &er), NFS4_OK);
	assert_true(er.clientid == c.clientid && (er.flags & EXCHGID4_FLAG_CONFIRMED_R));
	ca = nfs4clnt_cs_default(c.clientid, er.sequenceid);
	assert_nfs(nfs4clnt_create_session(c.conn, &ca, &cr), NFS4_OK);
	s = nfs4clnt_session_new(c.conn, &cr);
	assert_non_null(s);
	nfs4clnt_session_free(c.sess);
	c.sess = s;
	assert_int_equal(seq_flags(&c) & (SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED |
					  SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED),
			 0);
	harness_client_free(&c, false);

	/* e does not come back with a session: DESTROY_CLIENTID of the expired record works. */
	assert_nfs(nfs4clnt_destroy_clientid(e.conn, e.clientid), NFS4_OK);
	assert_nfs(nfs4clnt_destroy_clientid(e.conn, e.clientid), NFS4ERR_STALE_CLIENTID);
	assert_true(ctl_says("stats", NULL, "\"expired_clients\":0"));
	harness_client_free(&e, true);
}

int main(void)
{
	const struct CMUnitTest mem[] = {
		cmocka_unit_test(admin_revoke_releases_state_and_answers_admin_revoked),
		cmocka_unit_test(unfreed_revoked_stateids_do_not_hold_the_client),
	};
	const struct CMUnitTest vfs[] = {
		cmocka_unit_test(admin_revoke_releases_the_real_lock),
	};
	const struct CMUnitTest lease[] = {
		cmocka_unit_test(expired_client_returns_and_is_told),
		cmocka_unit_test(expired_client_without_state_and_destroy_clientid),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("revoke[mem]", mem, mem_setup, env_teardown);
	failed += cmocka_run_group_tests_name("revoke[vfs]", vfs, vfs_setup, env_teardown);
	failed += cmocka_run_group_tests_name("expiry[mem]", lease, lease_setup, env_teardown);
	return harness_exit_code(failed);
}
