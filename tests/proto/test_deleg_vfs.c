/*
 * Delegations on the vfs backend, kept with fcntl leases: a local process
 * (this test, opening the exported file directly) recalls them as another
 * client would, and its open waits until the delegation is returned or
 * revoked; the holder's own I/O goes through the lease and breaks nothing;
 * a local open already there means no delegation.
 *
 * Client A (the holder) answers callbacks through a cb_agent; the env's
 * client B has no back channel and makes the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

#define LEASE "4"
#define BREAK_TIME_PATH "/proc/sys/fs/lease-break-time"

static struct fo_env env;
#define B (&env.cl)

/* The vfs delegation server: env's export is a fresh directory; B has no back channel. */
static void vfs_env_setup(struct fo_env *e, const char *lease)
{
	char dir[256], line[400];
	struct fo_srv *srv;

	snprintf(dir, sizeof(dir), "%s/nfs4d-dv-XXXXXX", harness_tmpdir());
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", dir);
	{
		const char *args[] = {"--backend", "vfs", "--export", line, "--lease", lease, NULL};

		srv = fo_srv_start(args);
	}
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", dir);
	snprintf(srv->expath, sizeof(srv->expath), "%s", dir);
	fo_env_attach(e, srv, dir);
	harness_client_free(&e->cl, false);
	cbc_new_plain(e->srv->hs, &e->cl, "plain-b");
}

static int setup(void **state)
{
	(void)state;
	vfs_env_setup(&env, LEASE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

/*
 * A local open of dname/f (f) with flags recalls a's delegation (o); the
 * open waits until a returns it, then completes. a closes its open.
 */
static void local_open_waits_for_return(struct cb_client *a, const char *dname, int flags,
					const struct fo_fh *f, const struct st_open *o)
{
	struct fo_local_open lo;

	fo_local_open_start(&lo, env.srv, dname, "f", flags);
	assert_int_equal(cba_wait(&a->ag, &a->ag.recalls, 1, 10000), 1);
	assert_true(st_sid_same_other(&a->ag.recall_sid, &o->dsid));
	assert_int_equal(a->ag.recall_fh_len, f->len);
	assert_memory_equal(a->ag.recall_fh, f->data, f->len);
	/* The lease holds until the delegation goes. */
	assert_int_equal(atomic_load(&lo.done), 0);
	assert_nfs(st_delegreturn(a->cl.sess, f, &o->dsid), NFS4_OK);
	fo_local_open_end(&lo, 0);
	assert_int_equal(cba_count(&a->ag, &a->ag.recalls), 1);
	assert_nfs(st_close(a->cl.sess, f, &o->sid, NULL), NFS4_OK);
}

/* A's recall, while the local open waits; it completes once A returns the delegation. */
static void local_open_recalls(int flags, uint32_t access, uint32_t type)
{
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	char dname[64];

	cbc_new(env.srv->hs, &a, "dv-a", CBA_OK);
	fo_testdir(&env, "lo", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", access, type, &ao);
	local_open_waits_for_return(&a, dname, flags, &f, &ao);
	cbc_free(&a, false);
}

static void read_delegation_recalled_by_local_writer(void **state)
{
	(void)state;
	local_open_recalls(O_WRONLY, OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ);
}

static void write_delegation_recalled_by_local_reader(void **state)
{
	(void)state;
	local_open_recalls(O_RDONLY, OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE);
}

/*
 * The holder's READ, WRITE, COMMIT, SETATTR of size and GETATTR go through
 * the lease: they succeed (a fresh open would break the lease and answer
 * NFS4ERR_DELAY) and recall nothing.
 */
static void holder_io_keeps_the_lease(void **state)
{
	struct fo_mask m = fo_mask_of(FATTR4_SIZE, FATTR4_CHANGE, -1);
	struct cb_client a;
	struct fo_env holder;
	struct fo_attrs at;
	struct fo_fh d, f, g;
	struct st_open ao, ro;
	struct stateid4 sid2;
	uint8_t buf[16], verf[8];
	uint32_t n;

	(void)state;
	cbc_new(env.srv->hs, &a, "dv-io", CBA_OK);
	fo_testdir(&env, "io", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "g", "xyz", 3, &g), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &ao);
	cbc_hold(&a, &d, "g", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ro);
	holder = env;
	holder.cl = a.cl; /* fileops helpers in A's session */

	for (int i = 0; i < 3; i++) {
		assert_nfs(st_write(a.cl.sess, &f, &ao.sid, 0, "hello", 5), NFS4_OK);
		assert_nfs(st_read(a.cl.sess, &f, &ao.sid, 0, sizeof(buf), buf, &n), NFS4_OK);
		assert_int_equal(n, 5);
		assert_memory_equal(buf, "hello", 5);
		assert_nfs(st_write(a.cl.sess, &f, &ao.dsid, 5, "!", 1), NFS4_OK);
		assert_nfs(st_truncate(a.cl.sess, &f, &ao.sid, 4), NFS4_OK);
		assert_nfs(fo_commit(&env, &f, 0, 0, verf), NFS4_OK);
		assert_nfs(fo_getattr(&holder, &f, &m, &at), NFS4_OK); /* O_PATH: no break */
		assert_int_equal(at.size, 4);
		assert_nfs(fo_getattr(&env, &g, &m, &at), NFS4_OK);
		assert_nfs(st_read(a.cl.sess, &g, &ro.sid, 0, sizeof(buf), buf, &n), NFS4_OK);
		assert_int_equal(n, 3);
	}
	/* Nor does the holder's next OPEN: offering it a delegation again takes no new lease. */
	assert_nfs(st_open_simple(a.cl.sess, a.cl.clientid, &d, "f", "second",
				  OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, false, &sid2,
				  NULL),
		   NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &sid2, NULL), NFS4_OK);
	/* Another client reading the read-delegated file is no conflict either. */
	assert_nfs(st_read(B->sess, &g, &fo_anon_stateid, 0, sizeof(buf), buf, &n), NFS4_OK);
	/* A recall would have been on its way by now: the next call's reply follows it. */
	cbc_renew(&a.cl);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(st_delegreturn(a.cl.sess, &g, &ro.dsid), NFS4_OK);
	assert_nfs(st_read(a.cl.sess, &f, &ao.sid, 0, sizeof(buf), buf, &n), NFS4_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "hell", 4);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &g, &ro.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/*
 * An OPEN that grants a delegation, with GETFH and GETATTR in its COMPOUND
 * (as a client opens): the GETATTR's size and change are the file's under
 * the lease — a local write just before the OPEN is in them, and they are
 * what the holder reads afterwards with nothing changed — and a local open
 * right after still breaks the lease. The OPEN read the file's attributes
 * before it took the lease; only those read after it may be answered.
 */
static void open_getattr_under_the_lease(uint32_t access, uint32_t type, int local_flags)
{
	struct fo_mask m = fo_mask_of(FATTR4_SIZE, FATTR4_CHANGE, -1);
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	struct fo_attrs before, in, after;
	struct cb_client a;
	struct fo_env holder;
	struct fo_fh d, f, p, got;
	struct st_open o;
	char dname[64], path[512];
	int fd;

	cbc_new(env.srv->hs, &a, "dv-ga", CBA_OK);
	holder = env;
	holder.cl = a.cl; /* GETATTRs of the holder: no CB_GETATTR for its own write delegation */
	fo_testdir(&env, "ga", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	/* A's back channel up (a delegation on another file proves it): the OPEN below gets one. */
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "probe", "x", 1, &p), NFS4_OK);
	cbc_hold(&a, &d, "probe", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);
	assert_nfs(st_delegreturn(a.cl.sess, &o.ofh, &o.dsid), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &o.ofh, &o.sid, NULL), NFS4_OK);

	assert_nfs(fo_getattr(&env, &f, &m, &before), NFS4_OK);
	assert_int_equal(before.size, 3);
	snprintf(path, sizeof(path), "%s/%s/f", env.srv->tmpdir, dname);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "defg", 4), 4);
	close(fd);

	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = a.cl.clientid;
	o.owner = "holder";
	o.access = access;
	fo_add_putfh(cmp, &d);
	assert_true(st_add_open(cmp, &o));
	fo_add(cmp, OP_GETFH);
	fo_add_getattr(cmp, &m);
	assert_nfs(fo_send(&holder, &a.cl, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_OPEN), NFS4_OK);
	assert_true(st_dec_open(nfs4clnt_res_body(&res), &o));
	assert_nfs(fo_res_getfh(&res, &got), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &in), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(o.deleg, type);
	assert_int_equal(in.size, 7);
	assert_nfs(fo_getattr(&holder, &f, &m, &after), NFS4_OK);
	assert_int_equal(after.size, 7);
	assert_int_equal(after.change, in.change);

	local_open_waits_for_return(&a, dname, local_flags, &f, &o);
	cbc_free(&a, false);
}

static void open_getattr_read_delegation(void **state)
{
	(void)state;
	open_getattr_under_the_lease(OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, O_WRONLY);
}

static void open_getattr_write_delegation(void **state)
{
	(void)state;
	open_getattr_under_the_lease(OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, O_RDONLY);
}

/* A file a local process has open for writing gets no delegation (the kernel refuses the lease). */
static void local_writer_means_no_delegation(void **state)
{
	struct cb_client a;
	struct fo_fh d, f, p;
	struct st_open o;
	char dname[64], path[512];
	int fd;

	(void)state;
	cbc_new(env.srv->hs, &a, "dv-none", CBA_OK);
	fo_testdir(&env, "none", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	snprintf(path, sizeof(path), "%s/%s/f", env.srv->tmpdir, dname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* Once A's back channel is up (cbc_hold on another file proves it), the reason is the file.
	 */
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "probe", "x", 1, &p), NFS4_OK);
	cbc_hold(&a, &d, "probe", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);
	assert_nfs(st_delegreturn(a.cl.sess, &o.ofh, &o.dsid), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &o.ofh, &o.sid, NULL), NFS4_OK);

	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = a.cl.clientid;
	o.owner = "o";
	o.access = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.why, WND4_CONTENTION);
	assert_nfs(st_close(a.cl.sess, &f, &o.sid, NULL), NFS4_OK);
	close(fd);
	/* The local writer gone, the delegation is granted. */
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &o.dsid), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &o.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/* A holder that never answers: revoked after a lease, which lets the local open in. */
/*
 * a's delegation ao on f was revoked: the SEQUENCE flag and TEST_STATEID say
 * so until FREE_STATEID; then a closes its open and goes.
 */
static void assert_revoked_then_free(struct cb_client *a, const struct fo_fh *f,
				     const struct st_open *ao)
{
	uint32_t code;

	assert_true(cbc_renew(&a->cl) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	assert_nfs(st_test_stateids(a->cl.sess, &ao->dsid, 1, &code), NFS4_OK);
	assert_int_equal(code, NFS4ERR_DELEG_REVOKED);
	assert_nfs(st_free_stateid(a->cl.sess, &ao->dsid), NFS4_OK);
	assert_nfs(st_close(a->cl.sess, f, &ao->sid, NULL), NFS4_OK);
	cba_set_mode(&a->ag, CBA_OK);
	cbc_free(a, false);
}

static void unreturned_delegation_is_revoked(void **state)
{
	struct cb_client a;
	struct fo_local_open lo;
	struct fo_fh d, f;
	struct st_open ao;
	char dname[64];

	(void)state;
	cbc_new(env.srv->hs, &a, "dv-silent", CBA_OK);
	fo_testdir(&env, "rv", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
	cba_set_mode(&a.ag, CBA_SILENT);

	fo_local_open_start(&lo, env.srv, dname, "f", O_WRONLY);
	/* A keeps its lease (renews) but not its delegation. */
	while (!atomic_load(&lo.done)) {
		cbc_renew(&a.cl);
		cbc_renew(B);
		harness_sleep_ms(200);
	}
	fo_local_open_end(&lo, 0);
	assert_true(cba_count(&a.ag, &a.ag.compounds) >= 1); /* it was asked */
	assert_revoked_then_free(&a, &f, &ao);
}

static long read_break_time(void)
{
	FILE *fp = fopen(BREAK_TIME_PATH, "re");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

static bool write_break_time(long v)
{
	FILE *fp = fopen(BREAK_TIME_PATH, "we");
	bool ok;

	if (!fp)
		return false;
	ok = fprintf(fp, "%ld\n", v) > 0;
	return fclose(fp) == 0 && ok;
}

/*
 * The kernel lets a local opener in after lease-break-time whatever the
 * holder does: nfs4d revokes the delegation just before, even though its own
 * revocation (one lease, 60 s here) is far off. Needs root to shorten
 * lease-break-time (machine-wide; restored at once).
 */
static void kernel_break_time_revokes(void **state)
{
	struct fo_env v;
	struct cb_client a;
	struct fo_local_open lo;
	struct fo_fh d, f;
	struct st_open ao;
	char dname[64];
	long saved = read_break_time();

	(void)state;
	if (saved < 0 || !write_break_time(saved)) {
		skip(); /* not root */
		return;
	}
	vfs_env_setup(&v, "60");
	cbc_new(v.srv->hs, &a, "dv-forced", CBA_OK);
	fo_testdir(&v, "kb", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(v.cl.sess, v.cl.clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &ao);
	cba_set_mode(&a.ag, CBA_SILENT);

	cbc_renew(B); /* env's client outlives this test: its lease is short */
	assert_true(write_break_time(2));
	fo_local_open_start(&lo, v.srv, dname, "f", O_RDONLY);
	pthread_join(lo.thread, NULL); /* within 2 s, by the kernel or by nfs4d's revocation */
	write_break_time(saved);
	cbc_renew(B);
	if (lo.fd < 0)
		fail_msg("local open: %s", strerror(lo.err));
	close(lo.fd);
	/* Revoked by nfs4d, not merely ignored by the kernel. */
	for (int i = 0; i < 50 && !(cbc_renew(&a.cl) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED); i++) {
		cbc_renew(B);
		harness_sleep_ms(100);
	}
	assert_revoked_then_free(&a, &f, &ao);
	fo_env_teardown(&v);
	cbc_renew(B);
}

/*
 * A vfs file outlives a restart, so the delegation on it can be reclaimed
 * (OPEN CLAIM_PREVIOUS with its type, RFC 8881 §10.2.1): the lease is taken
 * again and a local open recalls it as before.
 */
static void delegation_reclaimed_after_restart(void **state)
{
	struct fo_env v;
	struct cb_client a;
	struct fo_local_open lo;
	struct fo_fh d, f;
	struct st_open ao, o;
	char dname[64], owner[64];

	(void)state;
	vfs_env_setup(&v, "10");
	cba_init(&a.ag, CBA_OK);
	harness_owner(owner, sizeof(owner), "dv-reclaim");
	harness_client_new(v.srv->hs, &a.cl, owner, 8);
	cba_attach(&a.ag, a.cl.conn, nfs4clnt_session_id(a.cl.sess));
	fo_testdir(&v, "rc", &d, dname, sizeof(dname));
	assert_nfs(st_mkfile(v.cl.sess, v.cl.clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);

	/* Only A has state to reclaim: B goes for good, A's connection just drops. */
	harness_client_free(&v.cl, false);
	cbc_free(&a, true);
	fo_srv_restart(v.srv);
	cba_init(&a.ag, CBA_OK);
	harness_client_new(v.srv->hs, &a.cl, owner, 8);
	cba_attach(&a.ag, a.cl.conn, nfs4clnt_session_id(a.cl.sess));
	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_PREVIOUS;
	o.fh = &f;
	o.clientid = a.cl.clientid;
	o.owner = "holder";
	o.access = OPEN4_SHARE_ACCESS_READ;
	o.deleg_type = OPEN_DELEGATE_READ;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_READ);
	assert_nfs(nfs4clnt_reclaim_complete(a.cl.sess), NFS4_OK);

	fo_local_open_start(&lo, v.srv, dname, "f", O_WRONLY);
	assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, 1, 10000), 1);
	assert_true(st_sid_same_other(&a.ag.recall_sid, &o.dsid));
	assert_int_equal(atomic_load(&lo.done), 0);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &o.dsid), NFS4_OK);
	fo_local_open_end(&lo, 0);
	assert_nfs(st_close(a.cl.sess, &f, &o.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
	cbc_new_plain(v.srv->hs, &v.cl, "plain-b2");
	fo_env_teardown(&v);
	cbc_renew(B);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_delegation_recalled_by_local_writer),
		cmocka_unit_test(write_delegation_recalled_by_local_reader),
		cmocka_unit_test(holder_io_keeps_the_lease),
		cmocka_unit_test(open_getattr_read_delegation),
		cmocka_unit_test(open_getattr_write_delegation),
		cmocka_unit_test(local_writer_means_no_delegation),
		cmocka_unit_test(unreturned_delegation_is_revoked),
		cmocka_unit_test(kernel_break_time_revokes),
		cmocka_unit_test(delegation_reclaimed_after_restart),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
