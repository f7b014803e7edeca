/*
 * The `async` export option (docs/exports.md, docs/recovery.md): on a vfs
 * export, a caller whose rule is `async` gets its directory and attribute
 * changes answered without the syncs that make them durable, while WRITE
 * FILE_SYNC4/DATA_SYNC4 and COMMIT still sync; with `sync` (the default) every
 * change is synced before the reply. Observed through the export's sync
 * counters in `nfs4ctl --json exports` (meta_syncs, data_syncs), never
 * through timing. The rule is per client and a reload applies it to the next
 * request. On mem, `async` changes nothing and there are no syncs to count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_helpers.h"

#define OUT_MAX 65536

static struct fo_env env;
static char exports_file[64];
static char base[256];
static char *out;

/* Runs nfs4ctl [--json] CMD against the server; stdout into out. Its exit status. */
static int ctl(bool json, const char *cmd)
{
	return harness_ctl(env.srv->hs->statedir, false, out, OUT_MAX, json ? "--json" : cmd,
			   json ? cmd : NULL, NULL);
}

/* Replaces the exports file with one line for the export (rules: its clients) and reloads. */
static void reload(const char *rules)
{
	char text[600], tmp[80];
	FILE *f;

	snprintf(text, sizeof(text), "%s %s\n", base, rules);
	snprintf(tmp, sizeof(tmp), "%s.new", exports_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, exports_file), 0);
	if (ctl(false, "reload") != 0)
		fail_msg("nfs4ctl reload: %s", out);
}

/* A number member of the (one) export in out, which holds `nfs4ctl --json exports`. */
static uint64_t export_counter(const char *key)
{
	char want[32];
	const char *p;

	snprintf(want, sizeof(want), "\"%s\":", key);
	p = strstr(out, want);
	if (!p)
		fail_msg("no %s in: %s", key, out);
	return strtoull(p + strlen(want), NULL, 10);
}

struct syncs {
	uint64_t meta, data;
};

static struct syncs syncs_now(void)
{
	struct syncs s;

	assert_int_equal(ctl(true, "exports"), 0);
	s.meta = export_counter("meta_syncs");
	s.data = export_counter("data_syncs");
	return s;
}

/* After a change (what) that began at before: it synced if want_sync, else it did not. */
static void check_change(const char *tag, const char *what, struct syncs before, bool want_sync)
{
	uint64_t now = syncs_now().meta;

	if (want_sync && now <= before.meta)
		fail_msg("%s: %s was not synced", tag, what);
	if (!want_sync && now != before.meta)
		fail_msg("%s: %s was synced (%" PRIu64 " syncs)", tag, what, now - before.meta);
}

/*
 * Each directory or attribute change once, in a directory of its own (tag
 * names it): CREATE (dir, symlink), OPEN that creates, SETATTR of the size,
 * LINK, RENAME within and between directories, REMOVE. want_sync: each must
 * have synced (meta_syncs grew), else none may have.
 */
static void dir_changes(const char *tag, bool want_sync)
{
	struct fo_fh d, sub, f, l;
	struct fo_sattr sa;
	struct syncs b;

	b = syncs_now();
	assert_nfs(fo_mkdir(&env, &env.exp, tag, &d), NFS4_OK);
	check_change(tag, "CREATE dir", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	check_change(tag, "CREATE subdir", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_create(&env, &d, NF4LNK, "sym", "target", 0, 0, NULL, &l, NULL, NULL),
		   NFS4_OK);
	check_change(tag, "CREATE symlink", b, want_sync);
	b = syncs_now();
	assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &d, "f", "data", 4, &f), NFS4_OK);
	check_change(tag, "OPEN create", b, want_sync);
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, 1);
	b = syncs_now();
	assert_nfs(fo_setattr(&env, NULL, &f, NULL, &sa, NULL), NFS4_OK);
	check_change(tag, "SETATTR size", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_link(&env, &f, &d, "f2", NULL), NFS4_OK);
	check_change(tag, "LINK", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_rename(&env, &d, "f2", &d, "f3", NULL, NULL), NFS4_OK);
	check_change(tag, "RENAME", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_rename(&env, &d, "f3", &sub, "f4", NULL, NULL), NFS4_OK);
	check_change(tag, "RENAME to another directory", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_remove(&env, &sub, "f4", NULL), NFS4_OK);
	check_change(tag, "REMOVE", b, want_sync);
	b = syncs_now();
	assert_nfs(fo_remove(&env, &d, "sym", NULL), NFS4_OK);
	check_change(tag, "REMOVE symlink", b, want_sync);
}

/* WRITE DATA_SYNC4 and FILE_SYNC4 and COMMIT sync the data, each once, whatever the rule. */
static void data_syncs(const char *name)
{
	static const uint32_t how[] = {DATA_SYNC4, FILE_SYNC4, UNSTABLE4};
	struct fo_fh f;
	struct syncs before;
	uint32_t count, committed;
	uint8_t verf[8];

	assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &env.exp, name, "", 0, &f), NFS4_OK);
	for (int i = 0; i < 3; i++) {
		before = syncs_now();
		assert_nfs(fo_write(&env, NULL, &f, NULL, 0, how[i], "abc", 3, &count, &committed,
				    verf),
			   NFS4_OK);
		assert_int_equal(committed, how[i]);
		/* An UNSTABLE4 write syncs nothing; the others one each. */
		assert_int_equal(syncs_now().data - before.data, how[i] == UNSTABLE4 ? 0 : 1);
	}
	before = syncs_now();
	assert_nfs(fo_commit(&env, &f, 0, 0, verf), NFS4_OK);
	assert_int_equal(syncs_now().data - before.data, 1);
}

/* The options nfs4ctl shows for the export's rules contain want (text and JSON). */
static void shows(const char *want)
{
	assert_int_equal(ctl(false, "exports"), 0);
	if (!strstr(out, want))
		fail_msg("nfs4ctl exports lacks \"%s\": %s", want, out);
	assert_int_equal(ctl(true, "exports"), 0);
	if (!strstr(out, want))
		fail_msg("nfs4ctl --json exports lacks \"%s\": %s", want, out);
}

static void vfs_sync_then_async(void **state)
{
	const char *args[] = {"--backend",	   "vfs", "--exports", exports_file,
			      "--max-delegations", "0",	  NULL};
	char text[400];

	(void)state;
	snprintf(base, sizeof(base), "%s/nfs4d-async-XXXXXX", harness_tmpdir());
	assert_non_null(mkdtemp(base));
	snprintf(text, sizeof(text), "%s *(rw,no_root_squash)\n", base);
	fo_write_tmpfile(text, exports_file);
	fo_env_attach(&env, fo_srv_start(args), base);

	/* sync, the default: every change synced, and shown as such. */
	shows("rw,sync,no_root_squash");
	dir_changes("sync", true);
	data_syncs("data-sync");

	/* async by reload: the next requests are answered without the syncs. */
	reload("*(rw,no_root_squash,async)");
	shows("rw,async,no_root_squash");
	dir_changes("async", false);
	data_syncs("data-async");

	/* Per client: this client (127.0.0.1) gets its own rule's sync... */
	reload("127.0.0.1(rw,no_root_squash) *(rw,no_root_squash,async)");
	dir_changes("host-sync", true);
	/* ...or async, whatever the other clients get. */
	reload("127.0.0.1(rw,no_root_squash,async) *(rw,no_root_squash)");
	dir_changes("host-async", false);

	/* And back to sync. */
	reload("*(rw,no_root_squash)");
	dir_changes("sync-again", true);

	fo_env_teardown(&env);
	unlink(exports_file);
	snprintf(text, sizeof(text), "rm -rf '%s'", base);
	assert_int_equal(system(text), 0);
}

/* mem keeps nothing on disk: async works as sync does, and nothing is counted. */
static void mem_async(void **state)
{
	const char *args[] = {"--backend", "mem", "--export", "/ *(rw,no_root_squash,async)", NULL};
	struct fo_fh d;

	(void)state;
	fo_env_attach(&env, fo_srv_start(args), "/");
	shows("rw,async,no_root_squash");
	assert_nfs(fo_mkdir(&env, &env.exp, "d", &d), NFS4_OK);
	assert_nfs(fo_rename(&env, &env.exp, "d", &env.exp, "e", NULL, NULL), NFS4_OK);
	assert_nfs(fo_remove(&env, &env.exp, "e", NULL), NFS4_OK);
	assert_int_equal(syncs_now().meta, 0);
	assert_int_equal(syncs_now().data, 0);
	fo_env_teardown(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vfs_sync_then_async),
		cmocka_unit_test(mem_async),
	};
	int failed;

	out = malloc(OUT_MAX);
	assert_non_null(out);
	failed = cmocka_run_group_tests_name("async", tests, NULL, NULL);
	free(out);
	return harness_exit_code(failed);
}
