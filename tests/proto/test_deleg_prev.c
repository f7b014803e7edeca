/*
 * Delegations kept across a client's restart (RFC 8881 §10.2.1, §18.16.3,
 * §18.5; src/nfs4/deleg_prev.h). Client A holds delegations, "restarts"
 * (its connection drops; the same owner comes back with a new verifier, a
 * new client ID and a session with a back channel) and reclaims them with
 * OPEN CLAIM_DELEGATE_PREV (by name) or CLAIM_DELEG_PREV_FH: they come back
 * with new stateids and are ordinary delegations from then on. What it does
 * not reclaim goes at its RECLAIM_COMPLETE, its DELEGPURGE, or a lease after
 * the restart; another client's conflicting access releases a kept one at
 * once, and its reclaim then gets NFS4ERR_RECLAIM_CONFLICT.
 *
 * Client B (the env's) has no back channel and makes the files. The main
 * group's lease is long, so that no window can end before a test is done
 * with it; the short-lease group waits one out; the vfs group has local
 * processes break the leases.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;
#define B (&env.cl)

/* A client with a back channel whose owner the test knows, so that it can restart. */
struct holder {
	struct cb_client c;
	char owner[64];
};

/*
 * Waits until nfs4d has h's back channel UP: its probe runs apart from the
 * client's requests, and no delegation is offered before it is (the tests
 * here expect an OPEN's answer at once, not after retries).
 */
static void holder_wait_up(struct holder *h)
{
	char id[17];
	static char out[65536];

	snprintf(id, sizeof(id), "%016" PRIx64, h->c.cl.clientid);
	for (int waited = 0;; waited += 20) {
		assert_int_equal(harness_ctl(env.srv->hs->statedir, false, out, sizeof(out),
					     "--json", "client", id, NULL),
				 0);
		if (strstr(out, "\"backchannel\":\"UP\""))
			return;
		if (waited > 5000)
			fail_msg("back channel of %s not UP after 5 s: %s", id, out);
		harness_sleep_ms(20);
	}
}

/* EXCHANGE_ID with h's owner and a verifier of this moment, and a session with a back channel. */
static void holder_connect(struct holder *h)
{
	cba_init(&h->c.ag, CBA_OK);
	harness_client_new(env.srv->hs, &h->c.cl, h->owner, 8);
	cba_attach(&h->c.ag, h->c.cl.conn, nfs4clnt_session_id(h->c.cl.sess));
	holder_wait_up(h);
}

static void holder_new(struct holder *h, const char *prefix)
{
	harness_owner(h->owner, sizeof(h->owner), prefix);
	holder_connect(h);
}

/* h restarts: it forgets everything but its owner, which comes back with a new verifier. */
static void holder_restart(struct holder *h)
{
	uint64_t old = h->c.cl.clientid;

	cba_assert_clean(&h->c.ag);
	harness_client_free(&h->c.cl, true);
	cba_destroy(&h->c.ag);
	holder_connect(h);
	assert_true(h->c.cl.clientid != old);
}

static void holder_free(struct holder *h)
{
	cbc_free(&h->c, false);
}

/* OPEN with a PREV claim: by name (dir/name) or by filehandle (fh). */
static int prev_open(struct holder *h, uint32_t claim, const struct fo_fh *dir, const char *name,
		     const struct fo_fh *fh, uint32_t access, struct st_open *o)
{
	memset(o, 0, sizeof(*o));
	o->claim = claim;
	o->dir = dir;
	o->name = name;
	o->fh = fh;
	o->clientid = h->c.cl.clientid;
	o->owner = "reclaimer";
	o->access = access;
	return st_open(h->c.cl.sess, o);
}

/* OPEN (CLAIM_NULL) of dir/name by h with access, wanting a delegation as want says. */
static int want_open(struct holder *h, const struct fo_fh *dir, const char *name, uint32_t access,
		     uint32_t want, struct st_open *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = dir;
	o->name = name;
	o->clientid = h->c.cl.clientid;
	o->owner = "wanter";
	o->access = access | want;
	return st_open(h->c.cl.sess, o);
}

/* Nothing kept stands in its way: h gets a new read delegation of dir/name (f), returns it, closes.
 */
static void fresh_read_deleg(struct holder *h, const struct fo_fh *dir, const char *name,
			     const struct fo_fh *f)
{
	struct st_open r;

	assert_nfs(want_open(h, dir, name, OPEN4_SHARE_ACCESS_READ,
			     OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &r),
		   NFS4_OK);
	assert_int_equal(r.deleg, OPEN_DELEGATE_READ);
	assert_nfs(st_delegreturn(h->c.cl.sess, f, &r.dsid), NFS4_OK);
	assert_nfs(st_close(h->c.cl.sess, f, &r.sid, NULL), NFS4_OK);
}

/* nfs4ctl stats says what (the count of kept delegations, here). */
static void ctl_stats_has(const char *what)
{
	static char out[65536];

	assert_int_equal(harness_ctl(env.srv->hs->statedir, false, out, sizeof(out), "stats", NULL),
			 0);
	if (!strstr(out, what))
		fail_msg("nfs4ctl stats without \"%s\": %s", what, out);
}

static int setup_long(void **state)
{
	(void)state;
	cbc_env_setup(&env, "30");
	return 0;
}

static int setup_short(void **state)
{
	(void)state;
	cbc_env_setup(&env, "3");
	return 0;
}

/* The vfs delegation server: a fresh exported directory; B has no back channel. */
static int setup_vfs(void **state)
{
	char dir[256], line[400];
	struct fo_srv *srv;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/nfs4d-dp-XXXXXX", harness_tmpdir());
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", dir);
	{
		const char *args[] = {"--backend", "vfs", "--export", line, "--lease", "30", NULL};

		srv = fo_srv_start(args);
	}
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", dir);
	snprintf(srv->expath, sizeof(srv->expath), "%s", dir);
	fo_env_attach(&env, srv, dir);
	harness_client_free(&env.cl, false);
	cbc_new_plain(env.srv->hs, &env.cl, "plain-b");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

/* The basic reclaim, by name and by filehandle, and what the reclaimed delegations do. */
static void reclaim_after_restart(void **state)
{
	struct holder a;
	struct fo_fh d, f1, f2, f3;
	struct st_open o1, o2, r1, r2, r;
	struct stateid4 bs;
	uint32_t code;

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "basic", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f1", "abc", 3, &f1), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f2", "abc", 3, &f2), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f3", "abc", 3, &f3), NFS4_OK);
	cbc_hold(&a.c, &d, "f1", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o1);
	cbc_hold(&a.c, &d, "f2", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &o2);

	holder_restart(&a);
	ctl_stats_has("delegations 2 (kept 2)");
	/* The old incarnation's stateids died with it. */
	assert_nfs(st_delegreturn(a.c.cl.sess, &f1, &o1.dsid), NFS4ERR_EXPIRED);
	assert_nfs(st_test_stateids(a.c.cl.sess, &o2.dsid, 1, &code), NFS4_OK);
	assert_int_equal(code, NFS4ERR_EXPIRED);
	/* A reclaim names nothing to create. */
	memset(&r, 0, sizeof(r));
	r.claim = CLAIM_DELEGATE_PREV;
	r.dir = &d;
	r.name = "f1";
	r.clientid = a.c.cl.clientid;
	r.owner = "reclaimer";
	r.access = OPEN4_SHARE_ACCESS_READ;
	r.create = true;
	r.createmode = UNCHECKED4;
	assert_nfs(st_open(a.c.cl.sess, &r), NFS4ERR_INVAL);

	/* By name and by filehandle: the same types, with new stateids. */
	assert_nfs(prev_open(&a, CLAIM_DELEGATE_PREV, &d, "f1", NULL, OPEN4_SHARE_ACCESS_READ, &r1),
		   NFS4_OK);
	assert_int_equal(r1.deleg, OPEN_DELEGATE_READ);
	assert_memory_equal(r1.ofh.data, f1.data, f1.len);
	assert_false(st_sid_same_other(&r1.dsid, &o1.dsid));
	assert_nfs(
		prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f2, OPEN4_SHARE_ACCESS_BOTH, &r2),
		NFS4_OK);
	assert_int_equal(r2.deleg, OPEN_DELEGATE_WRITE);
	assert_false(st_sid_same_other(&r2.dsid, &o2.dsid));
	/* A file it held no delegation of, and one already reclaimed: none is kept. */
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f3, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_RECLAIM_BAD);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f1, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_RECLAIM_BAD);
	ctl_stats_has("delegations 2 (kept 0)");

	/* They are delegations like any: the write one covers writes... */
	assert_nfs(st_write(a.c.cl.sess, &f2, &r2.dsid, 0, "xyz", 3), NFS4_OK);
	/* ...and B's conflicts recall them from the new incarnation. */
	assert_nfs(cbc_plain_open(B, &d, "f1", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);
	assert_int_equal(cba_wait(&a.c.ag, &a.c.ag.recalls, 1, 5000), 1);
	assert_true(st_sid_same_other(&a.c.ag.recall_sid, &r1.dsid));
	assert_nfs(st_delegreturn(a.c.cl.sess, &f1, &r1.dsid), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f1", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f1, &bs, NULL), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f2", OPEN4_SHARE_ACCESS_READ, &bs), NFS4ERR_DELAY);
	assert_int_equal(cba_wait(&a.c.ag, &a.c.ag.recalls, 2, 5000), 2);
	assert_true(st_sid_same_other(&a.c.ag.recall_sid, &r2.dsid));
	assert_nfs(st_delegreturn(a.c.cl.sess, &f2, &r2.dsid), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f2", OPEN4_SHARE_ACCESS_READ, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f2, &bs, NULL), NFS4_OK);

	assert_nfs(st_close(a.c.cl.sess, &f1, &r1.sid, NULL), NFS4_OK);
	assert_nfs(st_close(a.c.cl.sess, &f2, &r2.sid, NULL), NFS4_OK);
	holder_free(&a);
}

/*
 * Until the window ends, a kept delegation is shared as a delegation in
 * force would be, and keeps its own client from a new one (it has one to
 * reclaim); RECLAIM_COMPLETE ends the window, after which reclaims get
 * NFS4ERR_NO_GRACE and the file is free.
 */
static void reclaim_complete_ends_the_window(void **state)
{
	struct holder a, c;
	struct fo_fh d, f, g;
	struct st_open o, co, r;
	struct stateid4 bs;

	(void)state;
	holder_new(&a, "dprev-a");
	holder_new(&c, "dprev-c");
	fo_testdir(&env, "rc", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "g", "abc", 3, &g), NFS4_OK);
	cbc_hold(&a.c, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);
	/* C's back channel is up once it holds one. */
	cbc_hold(&c.c, &d, "g", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &co);
	assert_nfs(st_delegreturn(c.c.cl.sess, &g, &co.dsid), NFS4_OK);
	assert_nfs(st_close(c.c.cl.sess, &g, &co.sid, NULL), NFS4_OK);

	holder_restart(&a);
	assert_nfs(want_open(&c, &d, "f", OPEN4_SHARE_ACCESS_READ,
			     OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &co),
		   NFS4_OK);
	assert_int_equal(co.deleg, OPEN_DELEGATE_READ);
	assert_nfs(st_delegreturn(c.c.cl.sess, &f, &co.dsid), NFS4_OK);
	assert_nfs(st_close(c.c.cl.sess, &f, &co.sid, NULL), NFS4_OK);
	assert_nfs(want_open(&a, &d, "f", OPEN4_SHARE_ACCESS_READ,
			     OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &r),
		   NFS4_OK);
	assert_int_equal(r.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(r.why, WND4_CONTENTION);
	assert_nfs(st_close(a.c.cl.sess, &f, &r.sid, NULL), NFS4_OK);

	assert_nfs(nfs4clnt_reclaim_complete(a.c.cl.sess), NFS4_OK);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_NO_GRACE);
	assert_nfs(prev_open(&a, CLAIM_DELEGATE_PREV, &d, "f", NULL, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_NO_GRACE);
	/* Gone: A may have a new one, C a write one, and B writes without waiting. */
	fresh_read_deleg(&a, &d, "f", &f);
	assert_nfs(want_open(&c, &d, "f", OPEN4_SHARE_ACCESS_BOTH,
			     OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, &co),
		   NFS4_OK);
	assert_int_equal(co.deleg, OPEN_DELEGATE_WRITE);
	assert_nfs(st_delegreturn(c.c.cl.sess, &f, &co.dsid), NFS4_OK);
	assert_nfs(st_close(c.c.cl.sess, &f, &co.sid, NULL), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_int_equal(cba_count(&a.c.ag, &a.c.ag.recalls), 0);
	holder_free(&a);
	holder_free(&c);
}

/*
 * Nobody can be recalled for a kept delegation: another client's access
 * that would recall it releases it and goes on at once, and its reclaim gets
 * NFS4ERR_RECLAIM_CONFLICT; what does not conflict leaves it alone.
 */
static void conflicting_access_releases_kept(void **state)
{
	struct holder a;
	struct fo_fh d, f1, f2, f3;
	struct st_open o1, o2, o3, r;
	struct stateid4 bs;
	uint8_t buf[8];
	uint32_t n;

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "conflict", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f1", "abc", 3, &f1), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f2", "abc", 3, &f2), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f3", "abc", 3, &f3), NFS4_OK);
	cbc_hold(&a.c, &d, "f1", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &o1);
	cbc_hold(&a.c, &d, "f2", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o2);
	cbc_hold(&a.c, &d, "f3", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o3);

	holder_restart(&a);
	/* B's open for reading conflicts with a write delegation, its write with a read one. */
	assert_nfs(cbc_plain_open(B, &d, "f1", OPEN4_SHARE_ACCESS_READ, &bs), NFS4_OK);
	assert_nfs(st_close(B->sess, &f1, &bs, NULL), NFS4_OK);
	assert_nfs(st_write(B->sess, &f2, &fo_anon_stateid, 0, "x", 1), NFS4_OK);
	/* A read conflicts with no read delegation. */
	assert_nfs(st_read(B->sess, &f3, &fo_anon_stateid, 0, 3, buf, &n), NFS4_OK);

	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f1, OPEN4_SHARE_ACCESS_BOTH, &r),
		   NFS4ERR_RECLAIM_CONFLICT);
	assert_nfs(prev_open(&a, CLAIM_DELEGATE_PREV, &d, "f2", NULL, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_RECLAIM_CONFLICT);
	assert_nfs(prev_open(&a, CLAIM_DELEGATE_PREV, &d, "f3", NULL, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4_OK);
	assert_int_equal(r.deleg, OPEN_DELEGATE_READ);
	assert_int_equal(cba_count(&a.c.ag, &a.c.ag.recalls), 0);
	assert_nfs(st_delegreturn(a.c.cl.sess, &f3, &r.dsid), NFS4_OK);
	assert_nfs(st_close(a.c.cl.sess, &f3, &r.sid, NULL), NFS4_OK);
	holder_free(&a);
}

/* A client that restarts again before it reclaimed: what was kept passes on. */
static void second_restart_passes_kept_on(void **state)
{
	struct holder a;
	struct fo_fh d, f;
	struct st_open o, r;

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "twice", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a.c, &d, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &o);
	holder_restart(&a);
	holder_restart(&a);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f, OPEN4_SHARE_ACCESS_BOTH, &r),
		   NFS4_OK);
	assert_int_equal(r.deleg, OPEN_DELEGATE_WRITE);
	assert_nfs(st_delegreturn(a.c.cl.sess, &f, &r.dsid), NFS4_OK);
	assert_nfs(st_close(a.c.cl.sess, &f, &r.sid, NULL), NFS4_OK);
	holder_free(&a);
}

/* DELEGPURGE (§18.5): nothing more will be reclaimed; with nothing kept, nothing to do. */
static void delegpurge_ends_the_window(void **state)
{
	struct holder a;
	struct fo_fh d, f;
	struct st_open o, r;

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "purge", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_delegpurge(a.c.cl.sess), NFS4_OK);
	cbc_hold(&a.c, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);

	holder_restart(&a);
	assert_nfs(st_delegpurge(a.c.cl.sess), NFS4_OK);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_NO_GRACE);
	/* Released: A may have a new one. */
	fresh_read_deleg(&a, &d, "f", &f);
	holder_free(&a);
}

/*
 * Without a RECLAIM_COMPLETE the window ends a lease (here 3 s) after the
 * restart. Nothing here depends on how soon the test gets to look: it waits
 * until reclaims get NO_GRACE, then checks that the kept one is gone.
 */
static void window_ends_after_a_lease(void **state)
{
	struct holder a;
	struct fo_fh d, f, g;
	struct st_open o, r;
	int st, waited;

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "lease", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "g", "abc", 3, &g), NFS4_OK);
	cbc_hold(&a.c, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);

	holder_restart(&a);
	/* g was never delegated: RECLAIM_BAD while the window is open, NO_GRACE after. */
	for (waited = 0; (st = prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &g,
					 OPEN4_SHARE_ACCESS_READ, &r)) == NFS4ERR_RECLAIM_BAD;
	     waited += 100) {
		if (waited > 20000)
			fail_msg("the reclaim window is still open after 20 s");
		cbc_renew(B);
		harness_sleep_ms(100);
	}
	assert_nfs(st, NFS4ERR_NO_GRACE);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_NO_GRACE);
	fresh_read_deleg(&a, &d, "f", &f);
	holder_free(&a);
}

/*
 * On vfs a kept delegation keeps its lease: a reclaimed one is recalled by a
 * local writer like any (from the new incarnation); a local writer releases
 * one not reclaimed at once, and its reclaim gets RECLAIM_CONFLICT.
 */
static void vfs_kept_leases(void **state)
{
	struct holder a;
	struct fo_local_open lo;
	struct fo_fh d, f1, f2;
	struct st_open o1, o2, r;
	char dname[64];

	(void)state;
	holder_new(&a, "dprev-a");
	fo_testdir(&env, "vfs", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f1", "abc", 3, &f1), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f2", "abc", 3, &f2), NFS4_OK);
	cbc_hold(&a.c, &d, "f1", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o1);
	cbc_hold(&a.c, &d, "f2", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o2);

	holder_restart(&a);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f1, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4_OK);
	assert_int_equal(r.deleg, OPEN_DELEGATE_READ);
	fo_local_open_start(&lo, env.srv, dname, "f1", O_WRONLY);
	assert_int_equal(cba_wait(&a.c.ag, &a.c.ag.recalls, 1, 10000), 1);
	assert_true(st_sid_same_other(&a.c.ag.recall_sid, &r.dsid));
	assert_int_equal(atomic_load(&lo.done), 0); /* the lease holds until DELEGRETURN */
	assert_nfs(st_delegreturn(a.c.cl.sess, &f1, &r.dsid), NFS4_OK);
	fo_local_open_end(&lo, 10000); /* far below lease-break-time: the release let it in */
	assert_nfs(st_close(a.c.cl.sess, &f1, &r.sid, NULL), NFS4_OK);

	fo_local_open_start(&lo, env.srv, dname, "f2", O_WRONLY);
	fo_local_open_end(&lo, 10000); /* far below lease-break-time: the release let it in */
	assert_int_equal(cba_count(&a.c.ag, &a.c.ag.recalls), 1);
	assert_nfs(prev_open(&a, CLAIM_DELEG_PREV_FH, NULL, NULL, &f2, OPEN4_SHARE_ACCESS_READ, &r),
		   NFS4ERR_RECLAIM_CONFLICT);
	holder_free(&a);
}

int main(void)
{
	const struct CMUnitTest long_lease[] = {
		cmocka_unit_test(reclaim_after_restart),
		cmocka_unit_test(reclaim_complete_ends_the_window),
		cmocka_unit_test(conflicting_access_releases_kept),
		cmocka_unit_test(second_restart_passes_kept_on),
		cmocka_unit_test(delegpurge_ends_the_window),
	};
	const struct CMUnitTest short_lease[] = {
		cmocka_unit_test(window_ends_after_a_lease),
	};
	const struct CMUnitTest vfs[] = {
		cmocka_unit_test(vfs_kept_leases),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("mem", long_lease, setup_long, teardown);
	failed += cmocka_run_group_tests_name("short lease", short_lease, setup_short, teardown);
	failed += cmocka_run_group_tests_name("vfs", vfs, setup_vfs, teardown);
	return harness_exit_code(failed);
}
