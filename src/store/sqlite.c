/*
 * The client-record store in SQLite: <state dir>/nfs4d.db.
 *
 * Durability: WAL journal with synchronous=FULL, so every committed
 * statement (each call here is one transaction) has been fsync'ed when
 * sqlite3_step() returns. locking_mode=EXCLUSIVE keeps the file locked from
 * the first write (the generation bump at open) until close: a second nfs4d
 * on the same state directory gets SQLITE_BUSY at start instead of two
 * servers granting reclaims from one set of records. It also means WAL needs
 * no shared-memory file.
 *
 * Identity: application_id says "nfs4d", user_version the schema version,
 * and the schema must be exactly ours; anything else, or a file SQLite
 * cannot read, is refused without a write, so an operator's mistake (a wrong
 * --state-dir, a damaged disk) never costs the records or someone else's
 * database.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"
#include "util/log.h"

#define STORE_FILE "nfs4d.db"
#define STORE_APP_ID 0x6e667334 /* "nfs4" */
#define STORE_SCHEMA_VERSION 1

/* The schema, as sqlite_schema keeps it (the text of each CREATE). */
static const char *const store_tables[] = {
	"CREATE TABLE clients (owner BLOB PRIMARY KEY, clientid INTEGER NOT NULL, "
	"generation INTEGER NOT NULL, reclaim_complete INTEGER NOT NULL) STRICT",
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT",
};

enum store_stmt {
	ST_LOAD,
	ST_SAVE,
	ST_REMOVE,
	ST_COMPLETE,
	ST_GRACE_DONE,
	ST_COUNT,
};

static const char *const store_sql[ST_COUNT] = {
	[ST_LOAD] = "SELECT owner, clientid, reclaim_complete FROM clients WHERE generation < ?1",
	[ST_SAVE] = "INSERT INTO clients (owner, clientid, generation, reclaim_complete) "
		    "VALUES (?1, ?2, ?3, 0) ON CONFLICT (owner) DO UPDATE SET "
		    "clientid = excluded.clientid, generation = excluded.generation, "
		    "reclaim_complete = 0",
	[ST_REMOVE] = "DELETE FROM clients WHERE owner = ?1 AND clientid = ?2",
	[ST_COMPLETE] =
		"UPDATE clients SET reclaim_complete = 1 WHERE owner = ?1 AND clientid = ?2",
	[ST_GRACE_DONE] = "DELETE FROM clients WHERE generation < ?1",
};

struct store_sqlite {
	struct store st; /* first: nfs4/ sees a struct store */
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_int64 generation; /* this instance's */
	sqlite3_stmt *stmt[ST_COUNT];
	char path[4096];
};

static struct store_sqlite *store_of(struct store *st)
{
	return (struct store_sqlite *)st;
}

static void store_errf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void store_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Runs one statement that returns at most one integer; *out gets it (0 when no row). */
static int store_exec_int(sqlite3 *db, const char *sql, sqlite3_int64 *out)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (out)
		*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(s);
	return rc;
}

/* Why the file cannot be used, for a refusal: busy, unreadable or damaged. */
static int store_refuse(struct store_sqlite *ss, int rc, char *err, size_t len)
{
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		store_errf(err, len,
			   "state database %s is in use by another process (another nfs4d with "
			   "the same --state-dir?)",
			   ss->path);
		return -EBUSY;
	}
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		store_errf(err, len,
			   "state database %s is damaged (%s); refusing to start, the file is "
			   "left as it is (see docs/recovery.md)",
			   ss->path, sqlite3_errstr(rc));
		return -EINVAL;
	}
	store_errf(err, len, "state database %s: %s", ss->path, sqlite3_errmsg(ss->db));
	return -EIO;
}

/* Whether the file holds exactly our tables (and nothing else of its own). */
static int store_schema_matches(sqlite3 *db, bool *match)
{
	size_t n = sizeof(store_tables) / sizeof(store_tables[0]), i = 0;
	sqlite3_stmt *s;
	int rc;

	*match = true;
	rc = sqlite3_prepare_v2(db,
				"SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(s, 0);

		if (i >= n || !sql || strcmp(sql, store_tables[i]) != 0)
			*match = false;
		i++;
	}
	sqlite3_finalize(s);
	if (i != n)
		*match = false;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A database nothing has been written to: an empty (or just created) file. */
static int store_is_empty(sqlite3 *db, bool *empty)
{
	sqlite3_int64 app = 0, ver = 0, objects = 0;
	int rc = store_exec_int(db, "PRAGMA application_id", &app);

	if (rc == SQLITE_OK)
		rc = store_exec_int(db, "PRAGMA user_version", &ver);
	if (rc == SQLITE_OK)
		rc = store_exec_int(db, "SELECT count(*) FROM sqlite_schema", &objects);
	*empty = app == 0 && ver == 0 && objects == 0;
	return rc;
}

/* Checks that an existing file is ours, intact, of our schema. Returns 0 or -errno with err. */
static int store_verify(struct store_sqlite *ss, char *err, size_t len)
{
	sqlite3_int64 app = 0, ver = 0;
	sqlite3_stmt *s;
	bool match;
	int rc = store_exec_int(ss->db, "PRAGMA application_id", &app);

	if (rc == SQLITE_OK)
		rc = store_exec_int(ss->db, "PRAGMA user_version", &ver);
	if (rc != SQLITE_OK)
		return store_refuse(ss, rc, err, len);
	if (app != STORE_APP_ID) {
		store_errf(err, len,
			   "%s is not an nfs4d state database (application_id 0x%llx); refusing "
			   "to start, the file is left as it is",
			   ss->path, (unsigned long long)app);
		return -EINVAL;
	}
	if (ver != STORE_SCHEMA_VERSION) {
		store_errf(err, len,
			   "state database %s has schema version %lld, this nfs4d knows version "
			   "%d; refusing to start, the file is left as it is",
			   ss->path, (long long)ver, STORE_SCHEMA_VERSION);
		return -EINVAL;
	}
	rc = store_schema_matches(ss->db, &match);
	if (rc != SQLITE_OK)
		return store_refuse(ss, rc, err, len);
	if (!match) {
		store_errf(err, len,
			   "state database %s does not have the tables of schema version %d; "
			   "refusing to start, the file is left as it is",
			   ss->path, STORE_SCHEMA_VERSION);
		return -EINVAL;
	}
	/* Damage inside the pages (a torn disk write, an edited file). */
	rc = sqlite3_prepare_v2(ss->db, "PRAGMA quick_check", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(s, 0);

		if (!res || strcmp(res, "ok") != 0) {
			store_errf(err, len,
				   "state database %s is damaged (integrity check: %s); refusing "
				   "to start, the file is left as it is (see docs/recovery.md)",
				   ss->path, res ? res : "?");
			sqlite3_finalize(s);
			return -EINVAL;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : store_refuse(ss, rc, err, len);
}

/* Makes the schema in a new, empty database (one transaction). */
static int store_create_schema(sqlite3 *db)
{
	char sql[512];
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < sizeof(store_tables) / sizeof(store_tables[0]);
	     i++)
		rc = sqlite3_exec(db, store_tables[i], NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO meta (key, value) VALUES ('generation', 0);"
			 "PRAGMA application_id = %d; PRAGMA user_version = %d",
			 STORE_APP_ID, STORE_SCHEMA_VERSION);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	else
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* This start's generation: the last one plus one, committed before anything uses it. */
static int store_new_generation(struct store_sqlite *ss)
{
	int rc = sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = store_exec_int(ss->db, "SELECT value FROM meta WHERE key = 'generation'",
				    &ss->generation);
	if (rc == SQLITE_OK) {
		char sql[128];

		ss->generation++;
		snprintf(sql, sizeof(sql), "UPDATE meta SET value = %lld WHERE key = 'generation'",
			 (long long)ss->generation);
		rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL);
	else
		sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int store_open_dir(const char *dir, char *err, size_t len)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int e = errno;

		store_errf(err, len, "cannot create state directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		store_errf(err, len, "state directory %s is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

static void store_sqlite_close(struct store *st)
{
	struct store_sqlite *ss = store_of(st);

	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ss->stmt[i]);
	sqlite3_close(ss->db);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

/* Binds the record's key (owner ?1, clientid ?2) to s. */
static int store_bind_client(sqlite3_stmt *s, const struct store_client *cl)
{
	int rc = sqlite3_bind_blob(s, 1, cl->owner, (int)cl->owner_len, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)cl->clientid);
	return rc;
}

/*
 * Steps statement which (bound by the caller; rc is how that went) to its
 * end unless already there, and resets it. Caller holds ss->lock.
 */
static int store_run_locked(struct store_sqlite *ss, enum store_stmt which, int rc)
{
	sqlite3_stmt *s = ss->stmt[which];

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		log_err("store", "%s: %s: %s", ss->path, store_sql[which], sqlite3_errmsg(ss->db));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_OK ? 0 : -EIO;
}

static int store_sqlite_clients_load(struct store *st, store_client_fn fn, void *ctx)
{
	struct store_sqlite *ss = store_of(st);
	sqlite3_stmt *s = ss->stmt[ST_LOAD];
	int rc;

	pthread_mutex_lock(&ss->lock);
	rc = sqlite3_bind_int64(s, 1, ss->generation);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 0);
		struct store_client cl = {.owner = sqlite3_column_blob(s, 0),
					  .owner_len = (uint32_t)n,
					  .clientid = (uint64_t)sqlite3_column_int64(s, 1)};

		/* An empty owner cannot come from a client (EXCHANGE_ID refuses it): skip it. */
		if (n > 0 && cl.owner)
			fn(ctx, &cl, sqlite3_column_int64(s, 2) != 0);
		rc = SQLITE_OK;
	}
	rc = store_run_locked(ss, ST_LOAD, rc);
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static int store_sqlite_client_save(struct store *st, const struct store_client *cl)
{
	struct store_sqlite *ss = store_of(st);
	sqlite3_stmt *s = ss->stmt[ST_SAVE];
	int rc;

	pthread_mutex_lock(&ss->lock);
	rc = store_bind_client(s, cl);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, ss->generation);
	rc = store_run_locked(ss, ST_SAVE, rc);
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static int store_sqlite_client_key_op(struct store *st, enum store_stmt which,
				      const struct store_client *cl)
{
	struct store_sqlite *ss = store_of(st);
	int rc;

	pthread_mutex_lock(&ss->lock);
	rc = store_run_locked(ss, which, store_bind_client(ss->stmt[which], cl));
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static int store_sqlite_client_remove(struct store *st, const struct store_client *cl)
{
	return store_sqlite_client_key_op(st, ST_REMOVE, cl);
}

static int store_sqlite_client_reclaim_complete(struct store *st, const struct store_client *cl)
{
	return store_sqlite_client_key_op(st, ST_COMPLETE, cl);
}

static int store_sqlite_grace_done(struct store *st)
{
	struct store_sqlite *ss = store_of(st);
	int rc;

	pthread_mutex_lock(&ss->lock);
	rc = sqlite3_bind_int64(ss->stmt[ST_GRACE_DONE], 1, ss->generation);
	rc = store_run_locked(ss, ST_GRACE_DONE, rc);
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.clients_load = store_sqlite_clients_load,
	.client_save = store_sqlite_client_save,
	.client_remove = store_sqlite_client_remove,
	.client_reclaim_complete = store_sqlite_client_reclaim_complete,
	.grace_done = store_sqlite_grace_done,
	.close = store_sqlite_close,
};

/* Settings, checks, schema and generation on the open handle. Returns 0 or -errno with err. */
static int store_prepare(struct store_sqlite *ss, char *err, size_t len)
{
	bool empty;
	int rc;

	/* Neither pragma touches the file: safe before the file is known to be ours. */
	rc = sqlite3_exec(ss->db, "PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = FULL",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = store_is_empty(ss->db, &empty);
	if (rc != SQLITE_OK)
		return store_refuse(ss, rc, err, len);
	if (!empty) {
		rc = store_verify(ss, err, len);
		if (rc < 0)
			return rc;
	}
	rc = sqlite3_exec(ss->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK && empty)
		rc = store_create_schema(ss->db);
	if (rc == SQLITE_OK)
		rc = store_new_generation(ss);
	for (int i = 0; rc == SQLITE_OK && i < ST_COUNT; i++)
		rc = sqlite3_prepare_v3(ss->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&ss->stmt[i], NULL);
	return rc == SQLITE_OK ? 0 : store_refuse(ss, rc, err, len);
}

int store_sqlite_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	struct store_sqlite *ss;
	int rc;

	*out = NULL;
	rc = store_open_dir(dir, err, errlen);
	if (rc < 0)
		return rc;
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		store_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ss->st.ops = &store_sqlite_ops;
	pthread_mutex_init(&ss->lock, NULL);
	if ((size_t)snprintf(ss->path, sizeof(ss->path), "%s/%s", dir, STORE_FILE) >=
	    sizeof(ss->path)) {
		store_errf(err, errlen, "state directory name too long: %s", dir);
		store_sqlite_close(&ss->st);
		return -ENAMETOOLONG;
	}
	rc = sqlite3_open_v2(ss->path, &ss->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		store_errf(err, errlen, "cannot open state database %s: %s", ss->path,
			   ss->db ? sqlite3_errmsg(ss->db) : sqlite3_errstr(rc));
		store_sqlite_close(&ss->st);
		return -EIO;
	}
	rc = store_prepare(ss, err, errlen);
	if (rc < 0) {
		store_sqlite_close(&ss->st);
		return rc;
	}
	log_info("store", "state database %s, generation %lld", ss->path,
		 (long long)ss->generation);
	*out = &ss->st;
	return 0;
}
