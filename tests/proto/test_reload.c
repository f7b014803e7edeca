/*
 * Reloading the exports while serving (nfs4ctl reload, SIGHUP; docs/nfs4ctl.md):
 * clients reading, writing, opening and walking from the root on an export
 * that stays see no failure while the table is replaced over and over; an
 * added export becomes reachable, a removed one's handles answer
 * NFS4ERR_STALE (and come back when it is added again, on the same backend),
 * a changed rule (rw → ro) applies to the next request, open state survives,
 * and a broken exports file is refused with its line, the old table served on.
 * The mem backend (its export paths only name the exports), then vfs;
 * and nfs4d --check-config.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state_helpers.h"

#define OUT_MAX 65536
#define BUSY_ROUNDS 60	   /* reloads while the workers run */
#define WORKER_MAX 1000000 /* iterations bound per worker, should the rounds be slow */

static const char exports_ab[] = "/a *(rw,no_root_squash)\n/b *(rw,no_root_squash)\n";
static const char exports_ac[] = "# /b removed, /c added\n/a *(rw,no_root_squash)\n"
				 "/c *(rw,no_root_squash)\n";

static struct fo_env env;
static char exports_file[64];
static char *out;

/* Replaces the exports file whole (rename), so a reload never reads half of one. */
static void write_exports(const char *text)
{
	char tmp[80];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", exports_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, exports_file), 0);
}

/* Runs nfs4ctl [--json] CMD against the server; stdout and stderr into out. Its exit status. */
static int ctl(bool json, const char *cmd)
{
	return harness_ctl(env.srv->hs->statedir, true, out, OUT_MAX, json ? "--json" : cmd,
			   json ? cmd : NULL, NULL);
}

static void reload_ok(const char *text)
{
	write_exports(text);
	if (ctl(false, "reload") != 0)
		fail_msg("nfs4ctl reload: %s", out);
	assert_non_null(strstr(out, "exports reloaded"));
}

/* Whether nfs4ctl exports lists path. */
static bool served(const char *path)
{
	char want[64];

	assert_int_equal(ctl(true, "exports"), 0);
	snprintf(want, sizeof(want), "\"path\":\"%s\"", path);
	return strstr(out, want) != NULL;
}

/* SIGHUP with text in the file; done when path is served (or not). Bounded by polls. */
static void reload_by_signal(const char *text, const char *path, bool want)
{
	int polls = 0;

	write_exports(text);
	assert_int_equal(kill(env.srv->hs->pid, SIGHUP), 0);
	while (served(path) != want && ++polls < 2000)
		harness_sleep_ms(5);
	if (polls == 2000)
		fail_msg("SIGHUP: %s still %s", path, want ? "not served" : "served");
}

/* ------------------------------------------------------------ workers */

struct worker {
	struct harness_client cl;
	int kind; /* 0 read, 1 write, 2 open+close, 3 walk from the root */
	const struct fo_fh *dir, *file;
	long done, errors;
	int first_error;
	pthread_t t;
};

static atomic_bool stop;

/* PUTROOTFH, LOOKUP name: the pseudo tree of whichever table is served. */
static int walk_root(struct nfs4clnt_session *s, const char *name)
{
	struct LOOKUP4args a = {.objname = xdr_opaque_str(name)};
	struct st_call c;
	struct xdr_enc *x;
	int st = -ENOMEM;

	if (st_call_start(&c, NULL, OP_PUTROOTFH) && (x = st_call_add(&c, OP_LOOKUP)) &&
	    xdr_enc_LOOKUP4args(x, &a))
		st = st_call_run(s, &c, OP_LOOKUP);
	st_call_end(&c);
	return st;
}

/* One kind of request over and over on /a, which every reload keeps (no cmocka asserts here). */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	static const char data[64] = "reload";
	char buf[64];

	for (long i = 0; i < WORKER_MAX && !atomic_load(&stop); i++) {
		struct stateid4 sid;
		struct fo_fh fh;
		uint32_t n;
		int st;

		switch (w->kind) {
		case 0:
			st = st_read(w->cl.sess, w->file, &fo_anon_stateid, 0, sizeof(buf), buf,
				     &n);
			break;
		case 1:
			st = st_write(w->cl.sess, w->file, &fo_anon_stateid, 0, data, sizeof(data));
			break;
		case 2:
			st = st_open_simple(w->cl.sess, w->cl.clientid, w->dir, "f", "worker",
					    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, false,
					    &sid, &fh);
			if (st == NFS4_OK)
				st = st_close(w->cl.sess, &fh, &sid, NULL);
			break;
		default:
			st = walk_root(w->cl.sess, "a");
			break;
		}
		w->done++;
		if (st != NFS4_OK && w->errors++ == 0)
			w->first_error = st;
	}
	return NULL;
}

/* --------------------------------------------------------------- tests */

static int setup(void **state)
{
	/* No delegations: a recall would rightly delay the other workers' writes. */
	const char *args[] = {"--backend",	   "mem", "--exports", exports_file,
			      "--max-delegations", "0",	  NULL};

	(void)state;
	out = malloc(OUT_MAX);
	assert_non_null(out);
	fo_write_tmpfile(exports_ab, exports_file);
	fo_env_attach(&env, fo_srv_start(args), "/a");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	unlink(exports_file);
	free(out);
	return 0;
}

/* Reloads by nfs4ctl and by SIGHUP, a broken file among them, while four clients are busy. */
static void reload_under_load(void **state)
{
	struct worker w[4];
	struct fo_fh file, broot, bfile, croot;
	struct fo_attrs at;

	(void)state;
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &env.exp, "f", "x", 1, &file),
			 NFS4_OK);
	assert_nfs(fo_walk(&env, "/b", &broot), NFS4_OK);
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &broot, "busy", "b", 1, &bfile),
			 NFS4_OK);
	atomic_store(&stop, false);
	for (int i = 0; i < 4; i++) {
		char owner[64];

		memset(&w[i], 0, sizeof(w[i]));
		w[i].kind = i;
		w[i].dir = &env.exp;
		w[i].file = &file;
		harness_client_new(env.srv->hs, &w[i].cl,
				   harness_owner(owner, sizeof(owner), "busy"), 4);
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_main, &w[i]), 0);
	}
	for (int r = 0; r < BUSY_ROUNDS; r++) {
		/* Between reloads, this client sees each table whole: /b and /c come and go. */
		switch (r % 4) {
		case 0:
			reload_ok(exports_ac);
			assert_nfs(fo_stat(&env, &bfile, &at), NFS4ERR_STALE);
			assert_nfs(fo_walk(&env, "/c", &croot), NFS4_OK);
			break;
		case 1:
			reload_by_signal(exports_ab, "/b", true);
			assert_nfs(fo_stat(&env, &bfile, &at), NFS4_OK);
			assert_nfs(fo_walk(&env, "/c", &croot), NFS4ERR_NOENT);
			break;
		case 2:
			write_exports("/a *(rw,no_root_squash)\n/b *(bogus)\n");
			assert_int_equal(ctl(false, "reload"), 1);
			write_exports(exports_ab);
			break;
		default:
			reload_by_signal(exports_ac, "/c", true);
			assert_nfs(fo_stat(&env, &bfile, &at), NFS4ERR_STALE);
			break;
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		print_message("worker %d: %ld requests, %ld failed (first: %s)\n", i, w[i].done,
			      w[i].errors, harness_status_name(w[i].first_error));
		harness_client_free(&w[i].cl, false);
	}
	for (int i = 0; i < 4; i++) {
		assert_true(w[i].done > 0);
		assert_int_equal(w[i].errors, 0);
	}
}

/* Added: reachable. Removed: STALE. Added again: the same handles work, the data is there. */
static void added_and_removed(void **state)
{
	struct fo_fh broot, bfile, croot, cfile, fh;
	struct fo_attrs a;
	char buf[8];
	uint32_t n;

	(void)state;
	reload_ok(exports_ab);
	assert_nfs(fo_walk(&env, "/b", &broot), NFS4_OK);
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &broot, "kept", "bbb", 3, &bfile),
			 NFS4_OK);
	assert_nfs(fo_walk(&env, "/c", &croot), NFS4ERR_NOENT);

	reload_ok(exports_ac);
	assert_false(served("/b"));
	assert_nfs(fo_stat(&env, &bfile, &a), NFS4ERR_STALE);
	assert_nfs(fo_stat(&env, &broot, &a), NFS4ERR_STALE);
	assert_nfs(fo_walk(&env, "/b", &fh), NFS4ERR_NOENT);
	assert_nfs(fo_walk(&env, "/c", &croot), NFS4_OK);
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &croot, "new", "c", 1, &cfile),
			 NFS4_OK);

	reload_ok(exports_ab);
	assert_int_equal(st_read(env.cl.sess, &bfile, &fo_anon_stateid, 0, sizeof(buf), buf, &n),
			 NFS4_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "bbb", 3);
	assert_nfs(fo_stat(&env, &cfile, &a), NFS4ERR_STALE);

	/* The same through --json: two exports served. */
	assert_int_equal(ctl(true, "reload"), 0);
	assert_non_null(strstr(out, "{\"reloaded\":true,\"exports\":2}"));
}

/* rw → ro applies to the next request; an open taken before survives the reloads. */
static void changed_rule_and_open_state(void **state)
{
	struct stateid4 sid;
	struct fo_fh fh;
	char buf[8];
	uint32_t n;

	(void)state;
	reload_ok(exports_ab);
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &env.exp, "g", "ggg", 3, &fh),
			 NFS4_OK);
	assert_int_equal(st_open_simple(env.cl.sess, env.cl.clientid, &env.exp, "g", "holder",
					OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, false, &sid,
					&fh),
			 NFS4_OK);

	reload_ok("/a *(ro)\n/b *(rw)\n");
	assert_nfs(st_write(env.cl.sess, &fh, &sid, 0, "G", 1), NFS4ERR_ROFS);
	assert_int_equal(st_read(env.cl.sess, &fh, &sid, 0, sizeof(buf), buf, &n), NFS4_OK);
	assert_int_equal(n, 3);

	reload_ok(exports_ab);
	assert_nfs(st_write(env.cl.sess, &fh, &sid, 0, "G", 1), NFS4_OK);
	assert_nfs(st_close(env.cl.sess, &fh, &sid, NULL), NFS4_OK);
}

/* A broken file: refused with file, line and reason; the old table is served on. */
static void broken_file_refused(void **state)
{
	char want[96];
	struct fo_fh fh, file;

	(void)state;
	reload_ok(exports_ab);
	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &env.exp, "h", "h", 1, &file),
			 NFS4_OK);
	write_exports("/a *(rw,no_root_squash)\n\n/c *(rw,bogus)\n");
	assert_int_equal(ctl(false, "reload"), 1);
	snprintf(want, sizeof(want), "%s:3:", exports_file);
	if (!strstr(out, want) || !strstr(out, "bogus"))
		fail_msg("no file, line and reason in: %s", out);
	write_exports("/a *(rw)\n/a/nested *(rw)\n");
	assert_int_equal(ctl(false, "reload"), 1);
	assert_non_null(strstr(out, "nested"));
	/* By SIGHUP too: the server logs it and serves on. */
	write_exports("/a *(rw)\n/a *(ro)\n");
	assert_int_equal(kill(env.srv->hs->pid, SIGHUP), 0);
	assert_true(served("/b"));
	assert_false(served("/c"));
	assert_nfs(fo_walk(&env, "/b", &fh), NFS4_OK);
	assert_nfs(st_write(env.cl.sess, &file, &fo_anon_stateid, 0, "x", 1), NFS4_OK);
	write_exports(exports_ab);
}

/* ------------------------------------------------------------ vfs */

/*
 * On vfs an export is a directory and its backend holds it open: a kept
 * export's handles and open state survive, a removed one is STALE until it
 * comes back (on the same backend), and a path that is not a directory is
 * refused.
 */
static void vfs_reload(void **state)
{
	char base[256], x[300], y[300], text[1024], cmd[300];
	/* No delegations: this client keeps an open across the reload, nothing more. */
	const char *args[] = {"--backend",	   "vfs", "--exports", exports_file,
			      "--max-delegations", "0",	  NULL};
	struct fo_fh file, yroot, fh;
	struct stateid4 sid;
	struct fo_attrs a;
	char buf[8];
	uint32_t n;

	(void)state;
	snprintf(base, sizeof(base), "%s/nfs4d-reload-XXXXXX", harness_tmpdir());
	assert_non_null(mkdtemp(base));
	snprintf(x, sizeof(x), "%s/x", base);
	snprintf(y, sizeof(y), "%s/y", base);
	assert_int_equal(mkdir(x, 0777), 0);
	assert_int_equal(mkdir(y, 0777), 0);
	snprintf(text, sizeof(text), "%s *(rw,no_root_squash)\n", x);
	fo_write_tmpfile(text, exports_file);
	fo_env_attach(&env, fo_srv_start(args), x);

	assert_int_equal(st_mkfile(env.cl.sess, env.cl.clientid, &env.exp, "f", "vfs", 3, &file),
			 NFS4_OK);
	assert_int_equal(st_open_simple(env.cl.sess, env.cl.clientid, &env.exp, "f", "holder",
					OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false, &sid,
					&fh),
			 NFS4_OK);
	assert_nfs(fo_walk(&env, y, &yroot), NFS4ERR_NOENT);

	snprintf(text, sizeof(text), "%s *(rw,no_root_squash)\n%s *(rw)\n", x, y);
	reload_ok(text);
	assert_nfs(fo_walk(&env, y, &yroot), NFS4_OK);

	snprintf(text, sizeof(text), "%s *(rw)\n", y);
	reload_ok(text);
	assert_nfs(fo_stat(&env, &file, &a), NFS4ERR_STALE);
	assert_nfs(fo_stat(&env, &yroot, &a), NFS4_OK);

	snprintf(text, sizeof(text), "%s *(rw,no_root_squash)\n%s/none *(rw)\n", x, base);
	write_exports(text);
	assert_int_equal(ctl(false, "reload"), 1);
	assert_non_null(strstr(out, "not a directory"));
	assert_nfs(fo_stat(&env, &file, &a), NFS4ERR_STALE);

	snprintf(text, sizeof(text), "%s *(rw,no_root_squash)\n", x);
	reload_ok(text);
	assert_int_equal(st_read(env.cl.sess, &fh, &sid, 0, sizeof(buf), buf, &n), NFS4_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "vfs", 3);
	assert_nfs(st_close(env.cl.sess, &fh, &sid, NULL), NFS4_OK);
	assert_nfs(fo_stat(&env, &yroot, &a), NFS4ERR_STALE);

	fo_env_teardown(&env);
	unlink(exports_file);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

/* ----------------------------------------------------- --check-config */

/* nfs4d --check-config: 0 for a good configuration, 2 with the reason, and it opens nothing. */
static void check_config(void **state)
{
	char file[64], sd[256], err[4096];
	const char *args[] = {"--check-config", "--backend", "mem", "--exports", file,
			      "--state-dir",	sd,	     NULL};
	struct stat st;
	int rc;

	(void)state;
	snprintf(sd, sizeof(sd), "%s/nfs4d-check-%d", harness_tmpdir(), (int)getpid());
	fo_write_tmpfile(exports_ab, file);
	rc = harness_run_expect_exit(args, err, sizeof(err));
	if (rc != 0)
		fail_msg("good configuration: exit %d, stderr: %s", rc, err);
	assert_int_equal(stat(sd, &st), -1); /* no state directory, no socket, no database */
	unlink(file);

	fo_write_tmpfile("/a *(rw)\n/b *(rw,nosuchoption)\n", file);
	rc = harness_run_expect_exit(args, err, sizeof(err));
	assert_int_equal(rc, 2);
	if (!strstr(err, ":2:") || !strstr(err, "nosuchoption") || !strstr(err, file))
		fail_msg("no FILE:LINE: reason in: %s", err);
	unlink(file);

	fo_write_tmpfile("/a *(rw)\n/a/b *(rw)\n", file);
	assert_int_equal(harness_run_expect_exit(args, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "nested"));
	unlink(file);
	assert_int_equal(stat(sd, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reload_under_load),
		cmocka_unit_test(added_and_removed),
		cmocka_unit_test(changed_rule_and_open_state),
		cmocka_unit_test(broken_file_refused),
	};
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(vfs_reload),
		cmocka_unit_test(check_config),
	};
	int failed = cmocka_run_group_tests_name("reload", tests, setup, teardown);

	out = malloc(OUT_MAX);
	assert_non_null(out);
	failed += cmocka_run_group_tests_name("reload-alone", alone, NULL, NULL);
	free(out);
	return harness_exit_code(failed);
}
