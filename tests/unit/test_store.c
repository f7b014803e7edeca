/*
 * The client-record store (src/store/): records written by one instance are
 * what the next one may reclaim; removal, RECLAIM_COMPLETE marks and the end
 * of grace; and the refusals — a damaged file, someone else's SQLite
 * database, another schema version, a second server on the same directory —
 * each leave the file byte for byte as it was. Each test gets a fresh state
 * directory under $TMPDIR (or /tmp), removed after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

struct fixture {
	char dir[256];
	char db[300];
	char err[512];
};

/* What clients_load() found, in order. */
struct loaded {
	int n;
	char owner[8][32];
	uint64_t clientid[8];
	bool complete[8];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/nfs4d-store-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/nfs4d.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct store *open_ok(struct fixture *f)
{
	struct store *st = NULL;
	int rc = store_sqlite_open(f->dir, &st, f->err, sizeof(f->err));

	if (rc != 0)
		fail_msg("store_sqlite_open: %d: %s", rc, f->err);
	assert_non_null(st);
	return st;
}

static void on_record(void *ctx, const struct store_client *cl, bool complete)
{
	struct loaded *l = ctx;

	assert_true(l->n < 8);
	assert_true(cl->owner_len < sizeof(l->owner[0]));
	memcpy(l->owner[l->n], cl->owner, cl->owner_len);
	l->owner[l->n][cl->owner_len] = 0;
	l->clientid[l->n] = cl->clientid;
	l->complete[l->n] = complete;
	l->n++;
}

static struct loaded load(struct store *st)
{
	struct loaded l = {0};

	assert_int_equal(st->ops->clients_load(st, on_record, &l), 0);
	return l;
}

static struct store_client cl_of(const char *owner, uint64_t clientid)
{
	struct store_client cl = {(const uint8_t *)owner, (uint32_t)strlen(owner), clientid};

	return cl;
}

/* Index of owner in l, or -1. */
static int find(const struct loaded *l, const char *owner)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->owner[i], owner) == 0)
			return i;
	return -1;
}

static void records_survive_to_the_next_instance(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_client a = cl_of("client-a", 0x100000001), b = cl_of("client-b", 0x100000002);
	struct loaded l;

	/* A new database: nothing to reclaim. */
	assert_int_equal(load(st).n, 0);
	assert_int_equal(st->ops->client_save(st, &a), 0);
	assert_int_equal(st->ops->client_save(st, &b), 0);
	assert_int_equal(st->ops->client_reclaim_complete(st, &b), 0);
	/* Records of this instance are not reclaimable by it. */
	assert_int_equal(load(st).n, 0);
	st->ops->close(st);

	st = open_ok(f);
	l = load(st);
	assert_int_equal(l.n, 2);
	assert_true(find(&l, "client-a") >= 0 && find(&l, "client-b") >= 0);
	assert_int_equal(l.clientid[find(&l, "client-a")], 0x100000001);
	assert_false(l.complete[find(&l, "client-a")]);
	assert_true(l.complete[find(&l, "client-b")]);
	st->ops->close(st);
}

static void remove_and_replace_are_keyed_by_owner_and_clientid(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_client a1 = cl_of("a", 1), a2 = cl_of("a", 2), b = cl_of("b", 3);
	struct loaded l;

	assert_int_equal(st->ops->client_save(st, &a1), 0);
	assert_int_equal(st->ops->client_save(st, &b), 0);
	assert_int_equal(st->ops->client_reclaim_complete(st, &a1), 0);
	/* The owner's new incarnation replaces the record, RECLAIM_COMPLETE mark included. */
	assert_int_equal(st->ops->client_save(st, &a2), 0);
	/* The old incarnation's removal and mark do not touch the new record. */
	assert_int_equal(st->ops->client_remove(st, &a1), 0);
	assert_int_equal(st->ops->client_reclaim_complete(st, &a1), 0);
	assert_int_equal(st->ops->client_remove(st, &b), 0);
	st->ops->close(st);

	st = open_ok(f);
	l = load(st);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.owner[0], "a");
	assert_int_equal(l.clientid[0], 2);
	assert_false(l.complete[0]);
	st->ops->close(st);
}

static void grace_done_drops_clients_that_did_not_return(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_client a = cl_of("a", 1), b = cl_of("b", 2), a2 = cl_of("a", 10);
	struct loaded l;

	assert_int_equal(st->ops->client_save(st, &a), 0);
	assert_int_equal(st->ops->client_save(st, &b), 0);
	st->ops->close(st);

	/* Instance 2: a comes back, b does not; then a crash before grace ends. */
	st = open_ok(f);
	assert_int_equal(load(st).n, 2);
	assert_int_equal(st->ops->client_save(st, &a2), 0);
	st->ops->close(st);

	/* Instance 3: both may still reclaim (no grace period ended since b held state). */
	st = open_ok(f);
	l = load(st);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.clientid[find(&l, "a")], 10);
	/* This time grace ends: b, which did not come back, is dropped; a came back above. */
	assert_int_equal(st->ops->client_save(st, &a2), 0);
	assert_int_equal(st->ops->grace_done(st), 0);
	st->ops->close(st);

	st = open_ok(f);
	l = load(st);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.owner[0], "a");
	st->ops->close(st);
}

/* One record with its owner's bytes, for owners that are not strings. */
struct raw_record {
	int n;
	uint8_t owner[16];
	uint32_t len;
	uint64_t clientid;
};

static void on_raw_record(void *ctx, const struct store_client *c, bool complete)
{
	struct raw_record *got = ctx;

	(void)complete;
	assert_true(c->owner_len <= sizeof(got->owner));
	memcpy(got->owner, c->owner, c->owner_len);
	got->len = c->owner_len;
	got->clientid = c->clientid;
	got->n++;
}

static void binary_owners_round_trip(void **state)
{
	struct fixture *f = *state;
	static const uint8_t owner[] = {0, 1, 2, 0xff, 0, 'x'};
	struct store_client cl = {owner, sizeof(owner), UINT64_MAX};
	struct store *st = open_ok(f);
	struct raw_record got = {0};

	assert_int_equal(st->ops->client_save(st, &cl), 0);
	st->ops->close(st);
	st = open_ok(f);
	assert_int_equal(st->ops->clients_load(st, on_raw_record, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.len, sizeof(owner));
	assert_memory_equal(got.owner, owner, sizeof(owner));
	assert_int_equal(got.clientid, UINT64_MAX);
	st->ops->close(st);
}

static void a_second_server_on_the_same_directory_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f), *st2 = NULL;
	struct store_client a = cl_of("a", 1);

	assert_int_equal(store_sqlite_open(f->dir, &st2, f->err, sizeof(f->err)), -EBUSY);
	assert_null(st2);
	assert_non_null(strstr(f->err, f->db));
	assert_non_null(strstr(f->err, "in use"));
	/* The first one is unaffected. */
	assert_int_equal(st->ops->client_save(st, &a), 0);
	st->ops->close(st);
	st = open_ok(f);
	assert_int_equal(load(st).n, 1);
	st->ops->close(st);
}

/* The whole file, for "left as it is" checks. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	close(fd);
	assert_true(n >= 0 && (size_t)n < cap);
	return (size_t)n;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Opening must fail with want, name the file and say why (why), and change nothing. */
static void assert_refused(struct fixture *f, int want, const char *why)
{
	static char before[1 << 16], after[1 << 16];
	size_t nb = slurp(f->db, before, sizeof(before)), na;
	struct store *st = NULL;
	struct stat sb;
	char wal[320];

	assert_int_equal(store_sqlite_open(f->dir, &st, f->err, sizeof(f->err)), want);
	assert_null(st);
	assert_non_null(strstr(f->err, f->db));
	if (!strstr(f->err, why))
		fail_msg("refusal without \"%s\": %s", why, f->err);
	na = slurp(f->db, after, sizeof(after));
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	/* No journal was left next to it either. */
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_not_equal(stat(wal, &sb), 0);
}

static void garbage_file_is_refused_and_kept(void **state)
{
	struct fixture *f = *state;
	char junk[8192];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(f->db, junk, sizeof(junk));
	assert_refused(f, -EINVAL, "damaged");
}

/* A file made by sqlite3 directly: sql is run in it (and the WAL folded back in). */
static void make_db(struct fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void foreign_database_is_refused_and_kept(void **state)
{
	struct fixture *f = *state;

	make_db(f, "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);"
		   "INSERT INTO photos (name) VALUES ('cat.jpg')");
	assert_refused(f, -EINVAL, "not an nfs4d state database");
}

static void other_schema_version_is_refused_and_kept(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);

	st->ops->close(st);
	make_db(f, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 7");
	assert_refused(f, -EINVAL, "schema version 7");
}

static void altered_schema_is_refused_and_kept(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);

	st->ops->close(st);
	make_db(f, "PRAGMA journal_mode = DELETE; CREATE TABLE extra (x)");
	assert_refused(f, -EINVAL, "tables");
}

static void damaged_pages_are_refused_and_kept(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	static char buf[1 << 16];
	char owner[64];
	size_t n;

	for (int i = 0; i < 50; i++) {
		struct store_client cl;

		snprintf(owner, sizeof(owner), "client-%04d-with-a-longer-owner-string", i);
		cl = cl_of(owner, (uint64_t)i);
		assert_int_equal(st->ops->client_save(st, &cl), 0);
	}
	st->ops->close(st);
	/* Fold the WAL into the file, then scribble over the second page (a table's). */
	make_db(f, "PRAGMA journal_mode = DELETE");
	n = slurp(f->db, buf, sizeof(buf));
	assert_true(n >= 3 * 4096);
	memset(buf + 4096 + 16, 0x5a, 512);
	write_file(f->db, buf, n);
	assert_refused(f, -EINVAL, "damaged");
}

static void empty_file_is_a_new_database(void **state)
{
	struct fixture *f = *state;
	struct store *st;

	/* What a crash right after SQLite created the file leaves. */
	write_file(f->db, "", 0);
	st = open_ok(f);
	assert_int_equal(load(st).n, 0);
	st->ops->close(st);
}

static void state_dir_is_created_but_must_be_a_directory(void **state)
{
	struct fixture *f = *state;
	char sub[300];
	struct store *st = NULL;

	snprintf(sub, sizeof(sub), "%s/new", f->dir);
	assert_int_equal(store_sqlite_open(sub, &st, f->err, sizeof(f->err)), 0);
	st->ops->close(st);
	snprintf(sub, sizeof(sub), "%s/new/nfs4d.db", f->dir);
	assert_int_equal(store_sqlite_open(sub, &st, f->err, sizeof(f->err)), -ENOTDIR);
	assert_non_null(strstr(f->err, sub));
	snprintf(sub, sizeof(sub), "%s/missing/parent", f->dir);
	assert_int_equal(store_sqlite_open(sub, &st, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, sub));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(records_survive_to_the_next_instance),
		T(remove_and_replace_are_keyed_by_owner_and_clientid),
		T(grace_done_drops_clients_that_did_not_return),
		T(binary_owners_round_trip),
		T(a_second_server_on_the_same_directory_is_refused),
		T(garbage_file_is_refused_and_kept),
		T(foreign_database_is_refused_and_kept),
		T(other_schema_version_is_refused_and_kept),
		T(altered_schema_is_refused_and_kept),
		T(damaged_pages_are_refused_and_kept),
		T(empty_file_is_a_new_database),
		T(state_dir_is_created_but_must_be_a_directory),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
