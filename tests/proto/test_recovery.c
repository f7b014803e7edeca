/*
 * Reboot recovery (RFC 8881 §8.4.2, §8.4.3, §18.51; docs/recovery.md) across
 * real restarts of nfs4d with the same state directory, on the vfs backend
 * (whose handles survive a restart, so there is something to reclaim):
 *
 *  - in grace only reclaims create state: OPEN CLAIM_NULL/CLAIM_FH, LOCK,
 *    LOCKT, REMOVE, RENAME and special-stateid I/O get NFS4ERR_GRACE;
 *  - only clients with a record of the previous instance reclaim, until
 *    their own RECLAIM_COMPLETE (NFS4ERR_NO_GRACE otherwise and after grace),
 *    and conflicting reclaims get NFS4ERR_RECLAIM_CONFLICT;
 *  - grace ends when every such client has sent RECLAIM_COMPLETE, or after
 *    --grace seconds; a client that missed it cannot reclaim after the next
 *    restart, while a crash during grace keeps everyone's rights;
 *  - a client with a record gets no new open or lock before its own
 *    RECLAIM_COMPLETE, even after grace (§18.51.3); RECLAIM_COMPLETE for one
 *    file system needs a current filehandle and ends nothing;
 *  - DESTROY_CLIENTID and lease expiry remove records; a start with no
 *    records (or --grace 0) has no grace period;
 *  - ids of the previous instance are stale, and the write verifier changes;
 *  - a damaged or busy state database stops the start, naming the file.
 *
 * Every test runs its own server. Waits for grace or a lease to end poll a
 * bounded number of times; nothing asserts on elapsed time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "state_helpers.h"

#define POLL_MS 200
#define POLL_MAX 150 /* 30 s: far beyond any grace or lease used here */

static struct fo_env env; /* its client ("A") is the one that reclaims */

#define SA (env.cl.sess)
#define CIDA (env.cl.clientid)

/* A vfs server exporting a fresh directory with --grace and --lease, and env attached. */
static void start(const char *grace, const char *lease)
{
	char dir[256], line[400];
	struct fo_srv *srv;

	snprintf(dir, sizeof(dir), "%s/nfs4d-rec-XXXXXX", harness_tmpdir());
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", dir);
	{
		/* No delegations: these clients reclaim opens and locks only. */
		const char *args[] = {"--backend",   "vfs",  "--export",	  line,
				      "--grace",     grace,  "--lease",		  lease,
				      "--log-level", "warn", "--max-delegations", "0",
				      NULL};

		srv = fo_srv_start(args);
	}
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", dir);
	snprintf(srv->expath, sizeof(srv->expath), "%s", dir);
	fo_env_attach(&env, srv, dir);
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

/*
 * The server goes down (SIGTERM, or SIGKILL when crash) and comes back; env's
 * client comes back with the same owner and sends nothing else yet.
 */
static void restart(bool crash)
{
	harness_client_free(&env.cl, true);
	if (crash)
		harness_kill_restart(env.srv->hs);
	else
		fo_srv_restart(env.srv);
	harness_client_new(env.srv->hs, &env.cl, env.owner, 4);
}

static void client(struct harness_client *cl, const char *owner)
{
	harness_client_new(env.srv->hs, cl, owner, 4);
}

/* OPEN CLAIM_PREVIOUS of fh by owner "o" of cl. */
static int reclaim_open(struct harness_client *cl, const struct fo_fh *fh, uint32_t access,
			uint32_t deny, struct stateid4 *sid)
{
	struct st_open o;
	int st;

	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_PREVIOUS;
	o.fh = fh;
	o.clientid = cl->clientid;
	o.owner = "o";
	o.access = access;
	o.deny = deny;
	o.deleg_type = OPEN_DELEGATE_NONE;
	st = st_open(cl->sess, &o);
	if (st == NFS4_OK && sid)
		*sid = o.sid;
	return st;
}

/* LOCK with reclaim set, a new lock owner "l" on the open stateid osid. */
static int reclaim_lock(struct harness_client *cl, const struct fo_fh *fh, uint32_t type,
			uint64_t off, uint64_t len, const struct stateid4 *osid,
			struct stateid4 *out)
{
	struct LOCK4args a;

	memset(&a, 0, sizeof(a));
	a.locktype = (enum nfs_lock_type4)type;
	a.reclaim = true;
	a.offset = off;
	a.length = len;
	a.locker.new_lock_owner = true;
	a.locker.u.open_owner.open_stateid = *osid;
	a.locker.u.open_owner.lock_owner.clientid = cl->clientid;
	a.locker.u.open_owner.lock_owner.owner = xdr_opaque_str("l");
	return st_lock_args(cl->sess, fh, &a, out, NULL);
}

/* A non-reclaim OPEN (create) of dir/name by cl: OK (then closed) or GRACE. */
static int probe_open(struct harness_client *cl, const struct fo_fh *dir, const char *name)
{
	struct stateid4 sid;
	struct fo_fh fh;
	int st = st_open_simple(cl->sess, cl->clientid, dir, name, "probe", OPEN4_SHARE_ACCESS_READ,
				OPEN4_SHARE_DENY_NONE, true, &sid, &fh);

	if (st == NFS4_OK)
		assert_nfs(st_close(cl->sess, &fh, &sid, NULL), NFS4_OK);
	return st;
}

/* Polls until grace is over (bounded): cl's probe OPEN no longer gets NFS4ERR_GRACE. */
static void wait_grace_over(struct harness_client *cl, const struct fo_fh *dir)
{
	int st = NFS4ERR_GRACE;

	for (int i = 0; i < POLL_MAX && st == NFS4ERR_GRACE; i++) {
		st = probe_open(cl, dir, "probe");
		if (st == NFS4ERR_GRACE)
			harness_sleep_ms(POLL_MS);
	}
	assert_nfs(st, NFS4_OK);
}

/* The whole set of grace rules, one restart, grace ended by the last RECLAIM_COMPLETE. */
static void reclaim_in_grace_and_the_rules_around_it(void **state)
{
	struct fo_fh d, f, g;
	struct stateid4 s, s2, lk2, sb, dummy;
	struct harness_client b;
	struct nfs4clnt_conn *c;
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct st_open o;
	uint8_t v1[8], v2[8];
	uint64_t old_clientid;
	char buf[16];
	uint32_t n;

	(void)state;
	start("60", "60");
	fo_testdir(&env, "rec", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "0123456789", 10, &f), NFS4_OK);
	assert_nfs(st_mkfile(SA, CIDA, &d, "g", NULL, 0, &g), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_WRITE, false, &s, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(SA, &f, WRITE_LT, 0, 5, &s, CIDA, "l", &dummy, NULL), NFS4_OK);
	assert_nfs(fo_write(&env, NULL, &f, &s, 0, UNSTABLE4, "x", 1, NULL, NULL, v1), NFS4_OK);
	old_clientid = CIDA;

	restart(false);
	client(&b, "rec-b"); /* a client the previous instance never saw */

	/* Ids of the previous instance are stale (§8.2.4, §18.36.4). */
	c = harness_connect(env.srv->hs);
	ca = nfs4clnt_cs_default(old_clientid, 2);
	assert_nfs(nfs4clnt_create_session(c, &ca, &cr), NFS4ERR_STALE_CLIENTID);
	nfs4clnt_conn_close(c);
	assert_nfs(st_read(SA, &f, &s, 0, 4, NULL, NULL), NFS4ERR_STALE_STATEID);

	/* In grace, state is only reclaimed (§8.4.2): new opens and locks wait. */
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4ERR_GRACE);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &sb, NULL),
		   NFS4ERR_GRACE);
	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_FH;
	o.fh = &f;
	o.clientid = b.clientid;
	o.owner = "ob";
	o.access = OPEN4_SHARE_ACCESS_READ;
	assert_nfs(st_open(b.sess, &o), NFS4ERR_GRACE);
	/* A client without a record of the previous instance has nothing to reclaim. */
	assert_nfs(reclaim_open(&b, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);

	/* A reclaims its open and its lock. */
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE, &s2),
		   NFS4_OK);
	assert_nfs(reclaim_lock(&env.cl, &f, WRITE_LT, 0, 5, &s2, &lk2), NFS4_OK);
	/* CLAIM_PREVIOUS names the file by filehandle: nothing to create; no such delegation type.
	 */
	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_PREVIOUS;
	o.fh = &f;
	o.clientid = CIDA;
	o.owner = "o2";
	o.access = OPEN4_SHARE_ACCESS_READ;
	o.create = true;
	o.createmode = UNCHECKED4;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.create = false;
	o.deleg_type = OPEN_DELEGATE_NONE_EXT;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	/* No delegation outlives a restart here: such a reclaim cannot be honoured. */
	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_DELEGATE_PREV;
	o.dir = &d;
	o.name = "f";
	o.clientid = CIDA;
	o.owner = "o3";
	o.access = OPEN4_SHARE_ACCESS_READ;
	assert_nfs(st_open(SA, &o), NFS4ERR_RECLAIM_BAD);
	o.claim = CLAIM_DELEG_PREV_FH;
	o.fh = &f;
	assert_nfs(st_open(SA, &o), NFS4ERR_RECLAIM_BAD);
	o.clientid = b.clientid;
	assert_nfs(st_open(b.sess, &o), NFS4ERR_NO_GRACE);
	o.clientid = CIDA;

	/* Non-reclaim locking, and LOCKT (its answer would miss unreclaimed locks). */
	assert_nfs(st_lock_exist(SA, &f, WRITE_LT, 10, 5, &lk2, &dummy, NULL), NFS4ERR_GRACE);
	assert_nfs(st_lockt(b.sess, &f, WRITE_LT, 0, 1, b.clientid, "t", NULL), NFS4ERR_GRACE);
	/* I/O with reclaimed state is fine; with special stateids it could break a share deny. */
	assert_nfs(st_read(SA, &f, &s2, 0, 4, buf, &n), NFS4_OK);
	assert_int_equal(n, 4);
	assert_nfs(fo_write(&env, NULL, &f, &s2, 1, UNSTABLE4, "y", 1, NULL, NULL, v2), NFS4_OK);
	assert_memory_not_equal(v1, v2, 8); /* uncommitted writes must be resent (§18.32.3) */
	assert_nfs(st_write(b.sess, &f, &fo_anon_stateid, 0, "z", 1), NFS4ERR_GRACE);
	assert_nfs(st_read(b.sess, &f, &fo_anon_stateid, 0, 4, NULL, NULL), NFS4ERR_GRACE);
	assert_nfs(st_write(b.sess, &f, &fo_bypass_stateid, 0, "z", 1), NFS4ERR_GRACE);
	assert_nfs(st_read(b.sess, &f, &fo_bypass_stateid, 0, 4, NULL, NULL), NFS4_OK);
	assert_nfs(st_truncate(b.sess, &f, &fo_anon_stateid, 0), NFS4ERR_GRACE);
	/* Names of files whose opens may still be reclaimed stay. */
	assert_nfs(fo_remove(&env, &d, "g", NULL), NFS4ERR_GRACE);
	assert_nfs(fo_rename(&env, &d, "g", &d, "h", NULL, NULL), NFS4ERR_GRACE);

	/* B's RECLAIM_COMPLETE ends nothing: A may still reclaim. */
	assert_nfs(nfs4clnt_reclaim_complete(b.sess), NFS4_OK);
	assert_nfs(probe_open(&b, &d, "new"), NFS4ERR_GRACE);
	/* A's is the last one with a record: grace ends (§18.51.3), and A reclaims no more. */
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4ERR_COMPLETE_ALREADY);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);
	assert_nfs(reclaim_lock(&env.cl, &f, READ_LT, 20, 5, &s2, &dummy), NFS4ERR_NO_GRACE);

	/* After grace: new state, which the reclaimed state constrains. */
	assert_nfs(probe_open(&b, &d, "new"), NFS4_OK);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &sb, NULL),
		   NFS4ERR_SHARE_DENIED);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &sb, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(b.sess, &f, READ_LT, 0, 1, &sb, b.clientid, "lb", &dummy, NULL),
		   NFS4ERR_DENIED);
	assert_nfs(st_read(b.sess, &f, &fo_anon_stateid, 0, 4, NULL, NULL), NFS4_OK);
	assert_nfs(fo_rename(&env, &d, "g", &d, "h", NULL, NULL), NFS4_OK);
	assert_nfs(fo_remove(&env, &d, "h", NULL), NFS4_OK);
	assert_nfs(st_open(SA, &o), NFS4ERR_NO_GRACE); /* CLAIM_DELEG_PREV_FH */

	assert_nfs(st_close(b.sess, &f, &sb, NULL), NFS4_OK);
	harness_client_free(&b, false);
	assert_nfs(st_locku(SA, &f, WRITE_LT, &lk2, 0, 5, &lk2), NFS4_OK);
	assert_nfs(st_free_stateid(SA, &lk2), NFS4_OK);
	assert_nfs(st_close(SA, &f, &s2, NULL), NFS4_OK);
}

/* Reclaims that conflict (clients that misbehave, §15.1.9): NFS4ERR_RECLAIM_CONFLICT. */
static void conflicting_reclaims(void **state)
{
	struct fo_fh d, f;
	struct stateid4 sa, sc, lka, dummy;
	struct harness_client c;

	(void)state;
	start("60", "60");
	fo_testdir(&env, "conflict", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "0123456789", 10, &f), NFS4_OK);
	client(&c, "rec-c");
	restart(false);
	harness_client_free(&c, true);
	client(&c, "rec-c");

	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE, &sa),
		   NFS4_OK);
	assert_nfs(reclaim_open(&c, &f, OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_RECLAIM_CONFLICT);
	assert_nfs(reclaim_open(&c, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sc),
		   NFS4_OK);
	assert_nfs(reclaim_lock(&env.cl, &f, WRITE_LT, 0, 10, &sa, &lka), NFS4_OK);
	assert_nfs(reclaim_lock(&c, &f, READ_LT, 5, 10, &sc, &dummy), NFS4ERR_RECLAIM_CONFLICT);
	assert_nfs(reclaim_lock(&c, &f, READ_LT, 10, 10, &sc, &dummy), NFS4_OK);

	assert_nfs(nfs4clnt_reclaim_complete(c.sess), NFS4_OK);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(st_locku(c.sess, &f, READ_LT, &dummy, 10, 10, &dummy), NFS4_OK);
	assert_nfs(st_free_stateid(c.sess, &dummy), NFS4_OK);
	assert_nfs(st_close(c.sess, &f, &sc, NULL), NFS4_OK);
	harness_client_free(&c, false);
	assert_nfs(st_locku(SA, &f, WRITE_LT, &lka, 0, 10, &lka), NFS4_OK);
	assert_nfs(st_free_stateid(SA, &lka), NFS4_OK);
	assert_nfs(st_close(SA, &f, &sa, NULL), NFS4_OK);
}

/*
 * Grace that runs out: C does not come back in time, so its record goes and
 * after the next restart it cannot reclaim (§8.4.3: others may have taken its
 * locks meanwhile), while A, which did come back, can.
 */
static void a_client_that_misses_grace_cannot_reclaim_later(void **state)
{
	struct fo_fh d, f, g;
	struct stateid4 sa;
	struct harness_client c;

	(void)state;
	start("6", "60");
	fo_testdir(&env, "missed", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(SA, CIDA, &d, "g", "abc", 3, &g), NFS4_OK);
	client(&c, "rec-c");
	harness_client_free(&c, true); /* C's connection goes; its record stays */

	restart(false);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	/* C has not sent RECLAIM_COMPLETE: grace goes on until its time is over. */
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4ERR_GRACE);
	wait_grace_over(&env.cl, &d);

	restart(false);
	client(&c, "rec-c");
	assert_nfs(reclaim_open(&c, &g, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sa),
		   NFS4_OK);
	/* A alone had a record: its RECLAIM_COMPLETE ends grace at once. */
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(probe_open(&c, &d, "new2"), NFS4_OK);
	harness_client_free(&c, false);
	assert_nfs(st_close(SA, &f, &sa, NULL), NFS4_OK);
}

/*
 * A crash during grace ends no grace period: C, which never came back in the
 * second instance, and A, which reclaimed there, both reclaim in the third.
 */
static void a_crash_in_grace_keeps_every_right_to_reclaim(void **state)
{
	struct fo_fh d, f, g;
	struct stateid4 sa, sa2, sc;
	struct harness_client c;

	(void)state;
	start("60", "60");
	fo_testdir(&env, "crash", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(SA, CIDA, &d, "g", "abc", 3, &g), NFS4_OK);
	client(&c, "rec-c");
	harness_client_free(&c, true);

	restart(true);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sa),
		   NFS4_OK);

	restart(true);
	assert_nfs(st_read(SA, &f, &sa, 0, 3, NULL, NULL), NFS4ERR_STALE_STATEID);
	client(&c, "rec-c");
	assert_nfs(reclaim_open(&c, &g, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sc),
		   NFS4_OK);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sa2),
		   NFS4_OK);
	assert_nfs(nfs4clnt_reclaim_complete(c.sess), NFS4_OK);
	assert_nfs(probe_open(&c, &d, "new"), NFS4ERR_GRACE);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(probe_open(&c, &d, "new"), NFS4_OK);
	assert_nfs(st_close(c.sess, &g, &sc, NULL), NFS4_OK);
	harness_client_free(&c, false);
	assert_nfs(st_close(SA, &f, &sa2, NULL), NFS4_OK);
}

/*
 * §18.51.3: a client that may reclaim obtains no new state before its
 * RECLAIM_COMPLETE, even once grace is over: C comes back after its grace ran
 * out, cannot reclaim (NO_GRACE), and its OPEN and LOCK get NFS4ERR_GRACE
 * until it sends RECLAIM_COMPLETE; LOCKT obtains nothing and is answered. A
 * client that never had a record is not held to it (docs/recovery.md).
 */
static void no_new_state_before_reclaim_complete(void **state)
{
	struct fo_fh d, f;
	struct stateid4 sa, sc, dummy;
	struct harness_client b, c;

	(void)state;
	start("3", "60");
	fo_testdir(&env, "owed", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	client(&c, "rec-c");
	harness_client_free(&c, true); /* its record stays */

	restart(false);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sa),
		   NFS4_OK);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	wait_grace_over(&env.cl, &d); /* C never came: grace runs out */

	client(&c, "rec-c");
	assert_nfs(reclaim_open(&c, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);
	assert_nfs(probe_open(&c, &d, "new"), NFS4ERR_GRACE);
	assert_nfs(st_open_simple(c.sess, c.clientid, &d, "f", "oc", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &sc, NULL),
		   NFS4ERR_GRACE);
	/* The rule comes before the stateid is looked at: LOCK on A's open still says GRACE. */
	assert_nfs(st_lock_new(c.sess, &f, READ_LT, 0, 1, &sa, c.clientid, "lc", &dummy, NULL),
		   NFS4ERR_GRACE);
	assert_nfs(st_lockt(c.sess, &f, WRITE_LT, 0, 1, c.clientid, "t", NULL), NFS4_OK);
	client(&b, "rec-b"); /* no record: new state at once */
	assert_nfs(probe_open(&b, &d, "new-b"), NFS4_OK);
	harness_client_free(&b, false);

	assert_nfs(nfs4clnt_reclaim_complete(c.sess), NFS4_OK);
	assert_nfs(st_open_simple(c.sess, c.clientid, &d, "f", "oc", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &sc, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(c.sess, &f, READ_LT, 0, 1, &sc, c.clientid, "lc", &dummy, NULL),
		   NFS4_OK);
	assert_nfs(st_locku(c.sess, &f, READ_LT, &dummy, 0, 1, &dummy), NFS4_OK);
	assert_nfs(st_free_stateid(c.sess, &dummy), NFS4_OK);
	assert_nfs(st_close(c.sess, &f, &sc, NULL), NFS4_OK);
	harness_client_free(&c, false);
	assert_nfs(st_close(SA, &f, &sa, NULL), NFS4_OK);
}

/* RECLAIM_COMPLETE with rca_one_fs, after PUTFH of fh (none when NULL). */
static uint32_t reclaim_complete_one_fs(const struct fo_fh *fh)
{
	struct nfs4clnt_compound *cmp = fo_cmp();

	if (fh)
		fo_add_putfh(cmp, fh);
	assert_true(xdr_enc_bool(nfs4clnt_compound_add(cmp, OP_RECLAIM_COMPLETE), true));
	return fo_run(&env, cmp);
}

/*
 * §18.51.3: rca_one_fs names the file system of the current filehandle. With
 * one grace period for the whole server it is accepted and ends nothing: the
 * client still reclaims, until its global RECLAIM_COMPLETE.
 */
static void reclaim_complete_for_one_file_system(void **state)
{
	struct fo_fh d, f;
	struct stateid4 sa;

	(void)state;
	start("60", "60");
	fo_testdir(&env, "onefs", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	restart(false);
	assert_nfs(reclaim_complete_one_fs(NULL), NFS4ERR_NOFILEHANDLE);
	assert_nfs(reclaim_complete_one_fs(&env.exp), NFS4_OK);
	assert_nfs(reclaim_complete_one_fs(&env.root), NFS4_OK);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sa),
		   NFS4_OK);
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4ERR_GRACE);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4_OK);
	assert_nfs(st_close(SA, &f, &sa, NULL), NFS4_OK);
}

/* BIND_CONN_TO_SESSION (which renews no lease) on ses: NFS4_OK while it lives. */
static int session_probe(struct nfs4clnt_session *ses)
{
	struct nfs4clnt_conn *c = harness_connect(env.srv->hs);
	uint32_t dir;
	int st = nfs4clnt_bind_conn(c, nfs4clnt_session_id(ses), CDFC4_FORE, &dir);

	nfs4clnt_conn_close(c);
	return st;
}

/*
 * DESTROY_CLIENTID and lease expiry remove records: then a restart has no
 * grace. (An expired client is kept to be told so, but without its record
 * and its sessions: docs/recovery.md.)
 */
static void destroyed_and_expired_clients_leave_no_record(void **state)
{
	struct fo_fh d, f;
	struct harness_client c;
	int st = NFS4_OK;

	(void)state;
	start("60", "2");
	fo_testdir(&env, "gone", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	client(&c, "rec-c");
	harness_client_free(&c, false); /* DESTROY_CLIENTID */
	/* A says nothing more: its lease runs out and its session goes with it. */
	for (int i = 0; i < POLL_MAX && st == NFS4_OK; i++) {
		harness_sleep_ms(POLL_MS);
		st = session_probe(SA);
	}
	assert_nfs(st, NFS4ERR_BADSESSION);

	restart(false);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4_OK);
}

/*
 * An expired client that comes back (CREATE_SESSION on its clientid) has its
 * record written again before the reply: after a restart it may reclaim.
 */
static void a_returning_expired_client_gets_its_record_back(void **state)
{
	struct nfs4clnt_cs_args ca;
	struct nfs4clnt_cs_res cr;
	struct fo_fh d, f;
	struct stateid4 sid;
	int st = NFS4_OK;

	(void)state;
	start("60", "2");
	fo_testdir(&env, "back", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	for (int i = 0; i < POLL_MAX && st == NFS4_OK; i++) {
		harness_sleep_ms(POLL_MS);
		st = session_probe(SA);
	}
	assert_nfs(st, NFS4ERR_BADSESSION);
	/* Back with the clientid it has: no STALE_CLIENTID. */
	ca = nfs4clnt_cs_default(CIDA, env.cl.exid.sequenceid + 1);
	assert_nfs(nfs4clnt_create_session(env.cl.conn, &ca, &cr), NFS4_OK);
	nfs4clnt_session_free(env.cl.sess);
	env.cl.sess = nfs4clnt_session_new(env.cl.conn, &cr);
	assert_non_null(env.cl.sess);

	restart(false);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &sid),
		   NFS4_OK);
	assert_nfs(nfs4clnt_reclaim_complete(SA), NFS4_OK);
	assert_nfs(st_close(SA, &f, &sid, NULL), NFS4_OK);
}

/* --grace 0: records are kept, but there is no grace period and so no reclaim. */
static void grace_zero_means_no_reclaim(void **state)
{
	struct fo_fh d, f;

	(void)state;
	start("0", "60");
	fo_testdir(&env, "zero", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	restart(false);
	assert_nfs(reclaim_open(&env.cl, &f, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, NULL),
		   NFS4ERR_NO_GRACE);
	assert_nfs(probe_open(&env.cl, &d, "new"), NFS4_OK);
}

/* A start that cannot use its state database stops, naming the file, and keeps it. */
static void unusable_state_database_stops_the_start(void **state)
{
	char dir[256], db[300], errbuf[2048], junk[4096], back[4096];
	const char *args[] = {"--backend", "mem", "--export", "/", "--state-dir", dir, NULL};
	int fd;

	(void)state;
	start("60", "60");
	/* Another server on the state directory of a running one. */
	snprintf(dir, sizeof(dir), "%s", env.srv->hs->statedir);
	snprintf(db, sizeof(db), "%s/nfs4d.db", dir);
	assert_int_equal(harness_run_expect_exit(args, errbuf, sizeof(errbuf)), 1);
	assert_non_null(strstr(errbuf, db));
	assert_non_null(strstr(errbuf, "in use"));

	/* A damaged file. */
	snprintf(dir, sizeof(dir), "%s/nfs4d-rec-db-XXXXXX", harness_tmpdir());
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/nfs4d.db", dir);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 13 + 1);
	fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(harness_run_expect_exit(args, errbuf, sizeof(errbuf)), 1);
	assert_non_null(strstr(errbuf, db));
	assert_non_null(strstr(errbuf, "damaged"));
	fd = open(db, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	close(fd);
	assert_memory_equal(back, junk, sizeof(junk));
	unlink(db);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(reclaim_in_grace_and_the_rules_around_it, teardown),
		cmocka_unit_test_teardown(conflicting_reclaims, teardown),
		cmocka_unit_test_teardown(a_client_that_misses_grace_cannot_reclaim_later,
					  teardown),
		cmocka_unit_test_teardown(a_crash_in_grace_keeps_every_right_to_reclaim, teardown),
		cmocka_unit_test_teardown(no_new_state_before_reclaim_complete, teardown),
		cmocka_unit_test_teardown(reclaim_complete_for_one_file_system, teardown),
		cmocka_unit_test_teardown(destroyed_and_expired_clients_leave_no_record, teardown),
		cmocka_unit_test_teardown(a_returning_expired_client_gets_its_record_back,
					  teardown),
		cmocka_unit_test_teardown(grace_zero_means_no_reclaim, teardown),
		cmocka_unit_test_teardown(unusable_state_database_stops_the_start, teardown),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
