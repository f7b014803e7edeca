/*
 * vfs backend only: LOOKUP answered from the name cache (src/backend/
 * vfs_ncache.c) stays exactly what the file system says. Each test caches a
 * name by looking it up (twice: the first lookup may only set up the cache),
 * changes the export behind the server's back as a local user would, and
 * expects the very next LOOKUP to see the change: rename, unlink, replace
 * (rename over), mkdir of a cached name, rmdir, a hard link, a rename in the
 * middle of a 4-component path, nfs4d's own REMOVE inside one COMPOUND, and
 * a chmod that takes a non-root caller's search permission away. OPEN by
 * name asks the cache too (and reads the attributes from the file itself):
 * the same local changes show in its answers. And LOOKUPs on two
 * connections racing local renames (for TSan, and: never an object that was
 * not under the name, and the last answer is the truth).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;

/* A test directory (handle *d) and its path on disk (path, 512 bytes). */
static void testdir(const char *prefix, struct fo_fh *d, char *path)
{
	char name[64];

	fo_testdir(&env, prefix, d, name, sizeof(name));
	snprintf(path, 512, "%s/%s", env.srv->tmpdir, name);
}

static void local_file(const char *dir, const char *name)
{
	char p[768];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void local_rename(const char *dir, const char *from, const char *to)
{
	char a[768], b[768];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	assert_int_equal(rename(a, b), 0);
}

static bool same_fh(const struct fo_fh *a, const struct fo_fh *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Looks name up twice (caching it), both times with the same handle, into out. */
static void cached(const struct fo_fh *d, const char *name, struct fo_fh *out)
{
	struct fo_fh again;

	assert_nfs(fo_lookup(&env, d, name, out), NFS4_OK);
	assert_nfs(fo_lookup(&env, d, name, &again), NFS4_OK);
	assert_true(same_fh(out, &again));
}

static void local_rename_is_seen(void **state)
{
	struct fo_fh d, a, b;
	char path[512];

	(void)state;
	testdir("nc-mv", &d, path);
	local_file(path, "a");
	cached(&d, "a", &a);
	local_rename(path, "a", "b");
	assert_nfs(fo_lookup(&env, &d, "a", NULL), NFS4ERR_NOENT);
	assert_nfs(fo_lookup(&env, &d, "b", &b), NFS4_OK);
	assert_true(same_fh(&a, &b));
}

static void local_unlink_is_seen(void **state)
{
	struct fo_fh d, a;
	char path[512], p[768];

	(void)state;
	testdir("nc-rm", &d, path);
	local_file(path, "a");
	cached(&d, "a", &a);
	snprintf(p, sizeof(p), "%s/a", path);
	assert_int_equal(unlink(p), 0);
	assert_nfs(fo_lookup(&env, &d, "a", NULL), NFS4ERR_NOENT);
}

static void local_replace_is_seen(void **state)
{
	struct fo_fh d, a, b, now;
	char path[512];

	(void)state;
	testdir("nc-over", &d, path);
	local_file(path, "a");
	local_file(path, "b");
	cached(&d, "a", &a);
	cached(&d, "b", &b);
	local_rename(path, "b", "a");
	assert_nfs(fo_lookup(&env, &d, "a", &now), NFS4_OK);
	assert_true(same_fh(&now, &b));
	assert_nfs(fo_lookup(&env, &d, "b", NULL), NFS4ERR_NOENT);
}

/* A cached name moved away and a directory made under it: the new directory is found. */
static void local_mkdir_is_seen(void **state)
{
	struct fo_fh d, old, now;
	struct fo_attrs at;
	char path[512], p[768];

	(void)state;
	testdir("nc-mkdir", &d, path);
	assert_nfs(fo_lookup(&env, &d, "x", NULL), NFS4ERR_NOENT);
	snprintf(p, sizeof(p), "%s/x", path);
	assert_int_equal(mkdir(p, 0755), 0);
	cached(&d, "x", &old);
	local_rename(path, "x", "y");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_nfs(fo_lookup(&env, &d, "x", &now), NFS4_OK);
	assert_false(same_fh(&now, &old));
	assert_nfs(fo_stat(&env, &now, &at), NFS4_OK);
	assert_int_equal(at.type, NF4DIR);
}

/* A cached directory emptied and removed locally: LOOKUP in it is NFS4ERR_STALE, as before. */
static void removed_directory_is_stale(void **state)
{
	struct fo_fh d, sub, a;
	char path[512], p[768], f[800];

	(void)state;
	testdir("nc-rmdir", &d, path);
	snprintf(p, sizeof(p), "%s/sub", path);
	assert_int_equal(mkdir(p, 0755), 0);
	local_file(p, "a");
	cached(&d, "sub", &sub);
	cached(&sub, "a", &a);
	snprintf(f, sizeof(f), "%s/a", p);
	assert_int_equal(unlink(f), 0);
	assert_int_equal(rmdir(p), 0);
	assert_nfs(fo_lookup(&env, &sub, "a", NULL), NFS4ERR_STALE);
	assert_nfs(fo_lookup(&env, &d, "sub", NULL), NFS4ERR_NOENT);
}

static void hard_links(void **state)
{
	struct fo_fh d, a, h;
	char path[512], pa[768], ph[768];

	(void)state;
	testdir("nc-ln", &d, path);
	local_file(path, "a");
	cached(&d, "a", &a);
	snprintf(pa, sizeof(pa), "%s/a", path);
	snprintf(ph, sizeof(ph), "%s/h", path);
	assert_int_equal(link(pa, ph), 0);
	cached(&d, "h", &h);
	assert_true(same_fh(&a, &h));
	assert_int_equal(unlink(pa), 0);
	assert_nfs(fo_lookup(&env, &d, "a", NULL), NFS4ERR_NOENT);
	assert_nfs(fo_lookup(&env, &d, "h", &h), NFS4_OK);
	assert_true(same_fh(&a, &h));
}

/* PUTFH + 4 LOOKUPs + GETFH in one COMPOUND, as nfs4bench's lookup workload. */
static uint32_t lookup4(const struct fo_fh *d, struct fo_fh *out)
{
	static const char *const names[] = {"p1", "p2", "p3", "p4"};
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	uint32_t st = NFS4_OK;

	fo_add_putfh(cmp, d);
	for (int i = 0; i < 4; i++)
		fo_add_lookup(cmp, names[i]);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	for (int i = 0; i < 4 && st == NFS4_OK; i++)
		st = fo_res(&res, OP_LOOKUP);
	if (st == NFS4_OK)
		st = fo_res_getfh(&res, out);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static void rename_in_a_cached_path(void **state)
{
	struct fo_fh d, a, b;
	char path[512], p[768];

	(void)state;
	testdir("nc-path", &d, path);
	snprintf(p, sizeof(p), "%s/p1/p2/p3/p4", path);
	for (char *s = p + strlen(path) + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = 0;
			assert_int_equal(mkdir(p, 0755), 0);
			*s = c;
		}
		if (!*s)
			break;
	}
	assert_nfs(lookup4(&d, &a), NFS4_OK);
	assert_nfs(lookup4(&d, &b), NFS4_OK);
	assert_true(same_fh(&a, &b));
	snprintf(p, sizeof(p), "%s/p1", path);
	local_rename(p, "p2", "q2");
	assert_nfs(lookup4(&d, &b), NFS4ERR_NOENT);
	local_rename(p, "q2", "p2");
	assert_nfs(lookup4(&d, &b), NFS4_OK);
	assert_true(same_fh(&a, &b));
}

/* nfs4d's own change inside one COMPOUND: REMOVE, then LOOKUP of the name. */
static void remove_then_lookup_in_one_compound(void **state)
{
	struct fo_fh d, a;
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res res;
	char path[512];

	(void)state;
	testdir("nc-own", &d, path);
	local_file(path, "a");
	cached(&d, "a", &a);
	cmp = fo_cmp();
	fo_add_putfh(cmp, &d);
	fo_add_lookup(cmp, "a");
	fo_add_putfh(cmp, &d);
	{
		component4 c = xdr_opaque_str("a");

		assert_true(xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_REMOVE), &c));
	}
	fo_add_putfh(cmp, &d);
	fo_add_lookup(cmp, "a");
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_LOOKUP), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_REMOVE), NFS4_OK);
	{
		struct change_info4 ci;

		assert_true(xdr_dec_change_info4(nfs4clnt_res_body(&res), &ci));
	}
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_LOOKUP), NFS4ERR_NOENT);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
}

/* LOOKUP in dir as cl (NULL: root). */
static uint32_t lookup_as(struct harness_client *cl, const struct fo_fh *d, const char *name)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	uint32_t st;

	fo_add_putfh(cmp, d);
	fo_add_lookup(cmp, name);
	fo_send(&env, cl, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_LOOKUP);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

/* A local chmod takes search permission away from a caller that had it cached. */
static void local_chmod_denies_search(void **state)
{
	struct harness_client other;
	struct nfs4clnt_auth u = nfs4clnt_auth_sys(1000, 1000);
	struct fo_fh d, sub;
	char path[512], p[768];

	(void)state;
	testdir("nc-perm", &d, path);
	snprintf(p, sizeof(p), "%s/sub", path);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(path, 0755), 0);
	local_file(p, "f");
	assert_nfs(fo_lookup(&env, &d, "sub", &sub), NFS4_OK);
	fo_client_new(&env, &other, &u);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4_OK);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4_OK);
	assert_int_equal(chmod(p, 0700), 0);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4ERR_ACCESS);
	/* Root may still search it, and the caller again once it may. */
	assert_nfs(lookup_as(NULL, &sub, "f"), NFS4_OK);
	assert_int_equal(chmod(p, 0711), 0);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4_OK);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4_OK);
	assert_int_equal(chmod(p, 0700), 0);
	assert_nfs(lookup_as(&other, &sub, "f"), NFS4ERR_ACCESS);
	harness_client_free(&other, false);
}

/*
 * As cl (NULL: env's client): OPEN d/name for reading (PUTFH, OPEN, GETFH),
 * its handle into fh and GETATTR's size into size, then CLOSE. OPEN's status.
 */
static uint32_t open_as(struct harness_client *cl, const struct fo_fh *d, const char *name,
			struct fo_fh *fh, uint64_t *size)
{
	struct fo_mask m = fo_mask_of(FATTR4_SIZE, -1);
	struct stateid4 sid;
	struct fo_attrs a;
	uint32_t st;

	if (!cl)
		cl = &env.cl;
	st = st_open_simple(cl->sess, cl->clientid, d, name, "nc-open", OPEN4_SHARE_ACCESS_READ,
			    OPEN4_SHARE_DENY_NONE, false, &sid, fh);
	if (st != NFS4_OK)
		return st;
	assert_nfs(fo_getattr(&env, fh, &m, &a), NFS4_OK);
	*size = a.size;
	assert_nfs(st_close(cl->sess, fh, &sid, NULL), NFS4_OK);
	return st;
}

/* OPEN of a cached name after local replace, unlink, re-create and chmod of its directory. */
static void open_sees_local_changes(void **state)
{
	struct nfs4clnt_auth u = nfs4clnt_auth_sys(1000, 1000);
	struct harness_client other;
	struct fo_fh d, a, b, got;
	char path[512], p[768];
	uint64_t size;
	int fd;

	(void)state;
	testdir("nc-open", &d, path);
	assert_int_equal(chmod(path, 0755), 0);
	local_file(path, "a");
	local_file(path, "b");
	snprintf(p, sizeof(p), "%s/b", path);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "xyz", 3), 3);
	close(fd);
	cached(&d, "a", &a);
	cached(&d, "b", &b);
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4_OK);
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4_OK);
	assert_true(same_fh(&got, &a));
	assert_int_equal(size, 0);

	local_rename(path, "b", "a");
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4_OK);
	assert_true(same_fh(&got, &b));
	assert_int_equal(size, 3);
	snprintf(p, sizeof(p), "%s/a", path);
	assert_int_equal(unlink(p), 0);
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4ERR_NOENT);
	local_file(path, "a");
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4_OK);
	assert_false(same_fh(&got, &b));
	assert_int_equal(size, 0);

	/* Search permission is the caller's, and a local chmod takes it away at once. */
	fo_client_new(&env, &other, &u);
	assert_nfs(open_as(&other, &d, "a", &got, &size), NFS4_OK);
	assert_nfs(open_as(&other, &d, "a", &got, &size), NFS4_OK);
	assert_int_equal(chmod(path, 0700), 0);
	assert_nfs(open_as(&other, &d, "a", &got, &size), NFS4ERR_ACCESS);
	assert_nfs(open_as(NULL, &d, "a", &got, &size), NFS4_OK);
	harness_client_free(&other, false);
}

#define RACE_LOOKUPS 400
#define RACE_SWAPS 300

struct racer {
	struct harness_client cl;
	const struct fo_fh *d, *x, *y;
	atomic_int *running;
	int bad; /* answers that were neither x, y nor NOENT, or transport failures */
};

/* LOOKUP "a" over and over; the answer must be x, y or NOENT (mid-swap). */
static void *racer_run(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < RACE_LOOKUPS; i++) {
		struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("race", 1);
		struct nfs4clnt_res res;
		component4 n = xdr_opaque_str("a");
		struct GETFH4resok ok;
		uint32_t op = 0, st;

		if (!cmp) {
			r->bad++;
			break;
		}
		xdr_enc_nfs_fh4(nfs4clnt_compound_add(cmp, OP_PUTFH),
				&(nfs_fh4){.len = r->d->len, .data = (uint8_t *)r->d->data});
		xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_LOOKUP), &n);
		nfs4clnt_compound_add(cmp, OP_GETFH);
		if (nfs4clnt_session_compound(r->cl.sess, cmp, false, 20000, &res, NULL) < 0) {
			r->bad++;
			nfs4clnt_compound_free(cmp);
			break;
		}
		/* PUTFH's status, then LOOKUP's (both results are a status only). */
		st = NFS4ERR_SERVERFAULT;
		while (op != OP_LOOKUP && nfs4clnt_res_next(&res, &op, &st))
			nfs4clnt_res_body(&res);
		if (op == OP_LOOKUP && st == NFS4_OK && nfs4clnt_res_next(&res, &op, &st) &&
		    st == NFS4_OK && xdr_dec_GETFH4resok(nfs4clnt_res_body(&res), &ok)) {
			struct fo_fh got = {.len = ok.object.len};

			memcpy(got.data, ok.object.data, got.len);
			if (!same_fh(&got, r->x) && !same_fh(&got, r->y))
				r->bad++;
		} else if (st != NFS4ERR_NOENT) {
			r->bad++;
		}
		nfs4clnt_res_free(&res);
		nfs4clnt_compound_free(cmp);
	}
	atomic_fetch_sub(r->running, 1);
	return NULL;
}

static void lookups_racing_local_renames(void **state)
{
	struct nfs4clnt_auth rootauth = nfs4clnt_auth_sys(0, 0);
	struct racer r[2];
	pthread_t th[2];
	atomic_int running = 2;
	struct fo_fh d, x, y, now;
	char path[512];
	int swaps = 0;

	(void)state;
	testdir("nc-race", &d, path);
	local_file(path, "a");
	local_file(path, "b");
	cached(&d, "a", &x);
	cached(&d, "b", &y);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){.d = &d, .x = &x, .y = &y, .running = &running};
		fo_client_new(&env, &r[i].cl, &rootauth);
		assert_int_equal(pthread_create(&th[i], NULL, racer_run, &r[i]), 0);
	}
	/* Swap which object "a" names, while the racers look it up. */
	for (; swaps < RACE_SWAPS && atomic_load(&running) > 0; swaps++) {
		local_rename(path, "a", "t");
		local_rename(path, "b", "a");
		local_rename(path, "t", "b");
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].bad, 0);
		harness_client_free(&r[i].cl, false);
	}
	/* Quiet now: the answer is the truth. */
	assert_nfs(fo_lookup(&env, &d, "a", &now), NFS4_OK);
	assert_true(same_fh(&now, swaps % 2 ? &y : &x));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(local_rename_is_seen),
		cmocka_unit_test(local_unlink_is_seen),
		cmocka_unit_test(local_replace_is_seen),
		cmocka_unit_test(local_mkdir_is_seen),
		cmocka_unit_test(removed_directory_is_stale),
		cmocka_unit_test(hard_links),
		cmocka_unit_test(rename_in_a_cached_path),
		cmocka_unit_test(remove_then_lookup_in_one_compound),
		cmocka_unit_test(local_chmod_denies_search),
		cmocka_unit_test(open_sees_local_changes),
		cmocka_unit_test(lookups_racing_local_renames),
	};

	return fo_run_one("files_ncache", tests, sizeof(tests) / sizeof(tests[0]), &env, FO_VFS);
}
