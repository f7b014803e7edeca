/*
 * Stable storage of client records for reboot recovery (DESIGN §6, §9): the
 * interface nfs4/ uses, so that another implementation (a cluster-wide store
 * for several heads) can be added without touching nfs4/. One implementation
 * today: SQLite in the state directory (sqlite.c).
 *
 * A record says "this client owner was confirmed by server instance N and may
 * hold state": owner (co_ownerid bytes), the clientid it had, the instance
 * (generation) that confirmed it, and whether it has sent RECLAIM_COMPLETE.
 * Every start is a new generation. The records of earlier generations, as
 * found at start, are the clients that may reclaim in this instance's grace
 * period; when grace ends those that did not come back are dropped
 * (grace_done), so a client that missed one grace period cannot reclaim in a
 * later one state that others may have taken meanwhile (RFC 8881 §8.4.3).
 *
 * Every write is on stable storage when the call returns. All calls are
 * thread-safe (one lock inside); they do disk I/O, so callers keep them out
 * of hot paths. Errors are -errno (-EIO for a storage failure), logged by the
 * store with the file's name.
 */
#ifndef NFS4D_STORE_STORE_H
#define NFS4D_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The key of a record is the owner; clientid tells one incarnation of it from another. */
struct store_client {
	const uint8_t *owner;
	uint32_t owner_len;
	uint64_t clientid;
};

/* One record of an earlier generation, as clients_load() finds it. */
typedef void (*store_client_fn)(void *ctx, const struct store_client *cl, bool reclaim_complete);

struct store;

struct store_ops {
	const char *name;
	/*
	 * Calls fn for every record of an earlier generation: the clients that may
	 * reclaim. fn must not call the store; cl's bytes are valid during the call only.
	 */
	int (*clients_load)(struct store *st, store_client_fn fn, void *ctx);
	/* Records cl as confirmed by this generation, replacing any record of its owner. */
	int (*client_save)(struct store *st, const struct store_client *cl);
	/* Removes the owner's record if it is cl's (clientid too): a newer one is kept. */
	int (*client_remove)(struct store *st, const struct store_client *cl);
	/* Marks cl's record (owner and clientid) as having sent RECLAIM_COMPLETE. */
	int (*client_reclaim_complete)(struct store *st, const struct store_client *cl);
	/* Grace is over: removes the records of earlier generations (clients that did not return).
	 */
	int (*grace_done)(struct store *st);
	void (*close)(struct store *st);
};

/* Every implementation starts with this. */
struct store {
	const struct store_ops *ops;
};

/*
 * Opens the SQLite store in dir (created, mode 0700, if it does not exist),
 * creating the database on first use, and starts a new generation. A file
 * that is not an intact nfs4d state database of this schema, or one another
 * process has open, is refused and left as it is: returns -errno with a
 * sentence naming the file in err.
 */
int store_sqlite_open(const char *dir, struct store **out, char *err, size_t errlen);

#endif
