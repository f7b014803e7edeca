/*
 * Protocol state shared by the nfs4/ files: clients, sessions, and the server
 * that owns their tables.
 *
 * Lifetimes (DESIGN §3):
 *  - Clients and sessions live in liburcu lock-free hash tables. A lookup runs
 *    inside rcu_read_begin()/rcu_read_end() and takes a reference with
 *    ref_get_unless_zero() before leaving the read section.
 *  - Each table holds one reference on what it contains. Teardown is: mark
 *    dead and unhash (under srv->state_lock) → clear links others follow →
 *    drop the table's reference → the last ref_put() hands the object to
 *    call_rcu(), which frees it after a grace period. Nothing a reader can
 *    reach is ever freed directly.
 *  - A session holds a reference on its client; a COMPOUND holds a reference
 *    on the session its SEQUENCE found, for the whole COMPOUND.
 *
 * Lock order (take in this order, never the reverse; none is held across a
 * network send; file->lock is held across the backend's lock calls only):
 *    srv->state_lock  →  session->lock
 *    srv->state_lock  →  client->state_lock  →  srv->files_lock  →  file->lock
 *    srv->state_lock  →  client->cb_lock       (a dying session leaves cb_session)
 *    file->lock  →  srv->recall_lock            (a recalled delegation joins srv->recalls)
 *    srv->cb_lock, session->lock and srv->recall_lock are leaves: nothing else
 *    is taken while one is held (the callback thread takes them briefly, one
 *    at a time).
 * srv->state_lock serialises every change of client/session *membership*
 * (EXCHANGE_ID, CREATE_SESSION, DESTROY_*, expiry); lookups take no lock.
 * Reboot recovery (grace.h): the grace lock is a leaf; the store's own lock
 * is taken under srv->state_lock only when CREATE_SESSION writes a record.
 */
#ifndef NFS4D_NFS4_STATE_H
#define NFS4D_NFS4_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfs4/admin.h"
#include "nfs4/attr.h"
#include "nfs4/fh.h"
#include "nfs4/nfs4.h"
#include "nfs4/lockrange.h"
#include "nfs4/revoke.h"
#include "nfs4/slot.h"
#include "rpc/rpc.h"
#include "util/limits.h"
#include "util/rcu.h"
#include "util/ref.h"
#include "xdr/nfs4_xdr.h"

/* Who a client is, for EXCHANGE_ID principal checks (AUTH_SYS: the uid). */
struct nfs4_principal {
	uint32_t flavor;
	uint32_t uid;
};

struct nfs4_client {
	struct cds_lfht_node id_node;	 /* srv->clients_by_id, key clientid */
	struct cds_lfht_node owner_node; /* srv->clients_by_owner, key owner bytes */
	struct rcu_head rcu;
	struct ref ref;
	struct nfs4_server *srv;

	/* Immutable after creation. */
	clientid4 clientid;
	verifier4 verifier;
	struct nfs4_principal principal;
	uint32_t owner_len;
	uint8_t owner[NFS4_MAX_OWNER];

	/* Renewed by SEQUENCE without a lock; read by the laundromat. */
	_Atomic uint64_t renewed_ns;

	atomic_bool dead; /* unhashed; set under srv->state_lock, read anywhere */
	/*
	 * Its lease ran out: its sessions, state and record are gone, but it is
	 * kept (revoke.h) until it comes back with CREATE_SESSION or is evicted.
	 * Set under srv->state_lock, read anywhere.
	 */
	atomic_bool expired;

	/* Under srv->state_lock. */
	bool confirmed;
	uint64_t expired_ns;	       /* when it expired (time_mono_ns) */
	struct cds_list_head sessions; /* struct nfs4_session.client_link */
	uint32_t nsessions;
	uint32_t cs_seqid; /* last CREATE_SESSION sequence accepted (its single slot) */
	bool cs_cached;	   /* cs_reply answers a replay of cs_seqid */
	struct CREATE_SESSION4resok cs_reply;
	bool reclaim_complete;

	/* The back channel (callback.h): cb_session is an RCU pointer written under cb_lock. */
	pthread_mutex_t cb_lock;
	struct nfs4_session *cb_session;
	_Atomic int cb_state; /* enum nfs4_cb_state */

	/* Open and lock state: under client->state_lock. */
	pthread_mutex_t state_lock;
	struct cds_list_head owners;	 /* struct nfs4_owner.client_link */
	struct cds_list_head stateids;	 /* struct nfs4_stid.client_link */
	struct nfs4_revoked_set revoked; /* revoked stateids not yet freed (revoke.h) */
	/* How many of them per reason; read by SEQUENCE without the lock. */
	_Atomic uint32_t nrevoked[NFS4_REVOKE_NREASONS];
	_Atomic uint32_t ndelegs;    /* delegations held (for CB_RECALL_ANY) */
	_Atomic uint32_t ncallbacks; /* its callbacks alive (callback.c), for nfs4ctl */

	/*
	 * The delegations of its previous incarnation, kept for it to reclaim
	 * (deleg_prev.h): struct nfs4_kept_deleg.client_link, under state_lock.
	 * kept_until_ns: when that window ends (time_mono_ns), 0 if it has none;
	 * written under state_lock, read anywhere.
	 */
	struct cds_list_head kept;
	_Atomic uint64_t kept_until_ns;
};

/*
 * A file with state on it: one per backend object that is open. Found by
 * (export, backend handle) in srv->files, lock-free; added and removed under
 * srv->files_lock; each stateid on it holds a reference. Unhashed when its
 * last reference goes.
 */
struct nfs4_file {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	struct ref ref;
	struct nfs4_server *srv;
	struct nfs4_export *exp;
	struct be_fh bfh;
	pthread_mutex_t lock;
	struct cds_list_head opens;  /* struct nfs4_open.file_link, under lock */
	struct nfs4_lock_list locks; /* under lock */
	struct cds_list_head delegs; /* struct nfs4_deleg.file_link, under lock */
	struct cds_list_head kept;   /* struct nfs4_kept_deleg.file_link, under lock */
	uint64_t recalled_ns;	     /* when a delegation on it was last recalled, under lock */
};

/* An open owner or a lock owner of a client (RFC 8881 §9.1.1, §8.2.1). */
struct nfs4_owner {
	struct cds_list_head client_link; /* under client->state_lock */
	bool is_lock;
	uint32_t nstateids; /* stateids using it; freed at 0 */
	uint32_t len;
	uint8_t data[NFS4_MAX_OWNER];
};

enum nfs4_stid_kind { NFS4_STID_OPEN = 1, NFS4_STID_LOCK = 2, NFS4_STID_DELEG = 3 };

/*
 * What every stateid has. "other" is [boot epoch][clientid counter][stateid
 * counter], so a stateid of an earlier instance is recognised (STALE) and
 * one of an expired client too (EXPIRED). The stateid table holds one
 * reference; an operation using the stateid holds another.
 */
struct nfs4_stid {
	struct cds_lfht_node node; /* srv->stateids, key other */
	struct rcu_head rcu;
	struct ref ref;
	enum nfs4_stid_kind kind;
	uint8_t other[12];
	struct nfs4_client *client;	  /* holds a reference */
	struct nfs4_file *file;		  /* holds a reference */
	struct nfs4_owner *owner;	  /* under client->state_lock; NULL for a delegation */
	struct cds_list_head client_link; /* under client->state_lock */
	/* Under client->state_lock. */
	uint32_t seqid;
	bool closed; /* unhashed: CLOSE, FREE_STATEID, expiry */
};

struct nfs4_open {
	struct nfs4_stid stid;
	struct cds_list_head file_link; /* file->opens, under file->lock */
	/* Under file->lock (read by the share checks of other clients). */
	uint32_t access; /* OPEN4_SHARE_ACCESS_* of the union of opens */
	uint32_t deny;
	uint32_t access_modes; /* bit (1 << mode) per access mode ever opened, for downgrade */
	uint32_t deny_modes;
	/* Under client->state_lock. */
	struct cds_list_head locks; /* struct nfs4_lockstid.open_link */
};

struct nfs4_lockstid {
	struct nfs4_stid stid;
	void *be_ctx;		/* the backend's mirror of these locks, or NULL */
	struct nfs4_open *open; /* under client->state_lock */
	struct cds_list_head open_link;
};

/*
 * A delegation (RFC 8881 §10.2). Hashed like every stateid; on its file's
 * delegs list while it is in force. A revoked delegation is released like a
 * returned one; its client's revoked set (revoke.h) keeps answering
 * NFS4ERR_DELEG_REVOKED for it until the client frees it with FREE_STATEID.
 */
struct nfs4_deleg {
	struct nfs4_stid stid;
	uint32_t type; /* OPEN_DELEGATE_READ or OPEN_DELEGATE_WRITE */
	/* The OPEN that granted it: the referring call of its recall (§2.10.6.3). */
	sessionid4 grant_session;
	uint32_t grant_slot;
	uint32_t grant_seqid;
	uint64_t grant_ns; /* when it was granted (time_mono_ns), for nfs4ctl */
	/* Under file->lock. */
	struct cds_list_head file_link;
	bool recalled;	     /* CB_RECALL queued; on srv->recalls */
	uint64_t recall_ns;  /* when: revoked one lease later */
	bool gone;	     /* off its file: returned, revoked, or its client went */
	uint64_t change;     /* change attribute we report while the client writes (§10.4.3) */
	uint64_t cb_change;  /* the client's change in its last CB_GETATTR reply */
	uint64_t cb_size;    /* and its size */
	uint64_t cb_attr_ns; /* when that reply came; 0: none */
	bool getattr_queued; /* a CB_GETATTR is on its way */
	void *lease;	     /* backend_ops.deleg_get's handle (vfs), put when it leaves its file */
	struct cds_list_head recall_link; /* srv->recalls, under srv->recall_lock */
};

/*
 * A delegation of a client's previous incarnation, kept across the client's
 * restart for the new incarnation to reclaim with CLAIM_DELEGATE_PREV or
 * CLAIM_DELEG_PREV_FH (RFC 8881 §10.2.1; deleg_prev.h). It has no stateid
 * (the old one died with the old incarnation). On its client's kept list
 * until reclaimed or the window ends; on its file's kept list while it still
 * conflicts, which is until then or until a conflicting access releases it
 * (lost). client is the new incarnation, without a reference: the entry is
 * taken off both lists before the client can go.
 */
struct nfs4_kept_deleg {
	struct cds_list_head client_link; /* client->kept, under client->state_lock */
	struct nfs4_client *client;	  /* written under file->lock too (a second restart) */
	struct nfs4_file *file;		  /* holds a reference */
	uint32_t type;			  /* OPEN_DELEGATE_READ or OPEN_DELEGATE_WRITE */
	/* Under file->lock. */
	struct cds_list_head file_link; /* file->kept unless lost */
	bool lost;			/* released for a conflicting access */
	void *lease;			/* the delegation's backend_ops.deleg_get handle, or NULL */
};

/*
 * The back channel's slot table: we are the requester here (RFC 8881
 * §2.10.6.1). Slot i's next CB_SEQUENCE carries seqid[i] + 1. Under
 * session->lock.
 */
struct nfs4_cb_slots {
	uint32_t nslots; /* usable: the client's ca_maxrequests, lowered by BADSLOT/target */
	uint32_t busy;	 /* bit i: slot i carries a callback */
	uint32_t seqid[NFS4_MAX_CB_SLOTS];
};

/* How the server authenticates its callbacks (the client's callback_sec_parms4). */
struct nfs4_cb_sec {
	uint32_t flavor; /* RPC_AUTH_NONE or RPC_AUTH_SYS */
	uint32_t uid, gid;
	uint32_t machine_len;
	char machine[256];
};

/* A connection associated with a session, and in which direction(s). */
struct nfs4_session_conn {
	struct rpc_conn *conn; /* holds a reference */
	uint32_t dir;	       /* CDFS4_FORE / CDFS4_BACK / CDFS4_BOTH */
};

struct nfs4_session {
	struct cds_lfht_node node; /* srv->sessions, key sessionid */
	struct rcu_head rcu;
	struct ref ref;
	struct nfs4_client *client; /* holds a reference */

	/* Immutable after creation. */
	sessionid4 sessionid;
	struct channel_attrs4 fore;
	struct channel_attrs4 back;
	uint32_t flags; /* CREATE_SESSION4_FLAG_* granted */

	atomic_bool dead; /* unhashed; set under srv->state_lock, read anywhere */

	/* Under srv->state_lock. */
	struct cds_list_head client_link;

	/* Under session->lock. */
	pthread_mutex_t lock;
	uint32_t cb_program;
	struct nfs4_slot_table slots;
	uint32_t nconns;
	struct nfs4_session_conn conns[NFS4_MAX_CONNS_PER_SESSION];
	bool had_back_conn;	       /* a back channel existed once; for CB_PATH_DOWN_SESSION */
	struct nfs4_cb_slots cb_slots; /* the back channel's slots (callback.h) */
	struct nfs4_cb_sec cb_sec;     /* how callbacks authenticate */
};

struct nfs4_server {
	struct nfs4_config cfg;
	uint32_t boot_epoch;   /* random per start, non-zero: part of every id we issue */
	time_t start_time;     /* times of the pseudo-fs directories */
	char owner_major[128]; /* so_major_id and server scope: "nfs4d:<hostname>" */
	verifier4 write_verf;  /* WRITE/COMMIT verifier: new at every start */
	/* Exports (exports_live.c). */
	pthread_mutex_t reload_lock;
	struct {
		struct nfs4_export **v; /* every export served since start, until shutdown */
		int n;
	} exports;			 /* under reload_lock */
	struct nfs4_export_table *table; /* served now: rcu_fetch, written under reload_lock */
	struct nfs4_idmap idmap;	 /* how owner strings are spelled */
	struct cds_lfht *stateids;
	_Atomic uint32_t next_stateid;
	pthread_mutex_t files_lock;
	struct cds_lfht *files;
	_Atomic long nstateids;
	_Atomic long nfiles;
	_Atomic uint32_t next_clientid;
	_Atomic uint32_t next_session;

	pthread_mutex_t state_lock;
	struct cds_lfht *clients_by_id;
	struct cds_lfht *clients_by_owner;
	struct cds_lfht *sessions;
	_Atomic long nclients; /* clients, expired ones not counted */
	_Atomic long nexpired; /* expired clients kept (client.expired) */
	_Atomic long nsessions;

	/* The callback thread (callback.c). */
	pthread_t cb_thread;
	bool cb_running;
	bool cb_stopping; /* under cb_lock */
	pthread_mutex_t cb_lock;
	pthread_cond_t cb_cond;
	struct cds_list_head cb_queue;	 /* to send, under cb_lock */
	struct cds_list_head cb_pending; /* sent, awaiting a reply, under cb_lock */
	struct cds_list_head cb_delayed; /* to send again at their time (DELAY), under cb_lock */
	struct cds_list_head cb_parked;	 /* waiting for a back channel or a slot, under cb_lock */
	_Atomic uint32_t cb_xid;
	_Atomic uint64_t cb_wakes; /* bumped under cb_lock by every unpark (callback.c) */
	_Atomic long ncallbacks;   /* callbacks alive: the stress test counts them */

	/* Delegations (deleg.c). */
	_Atomic long ndelegs; /* in force, kept ones (deleg_prev.h) included */
	_Atomic long nkept;   /* kept across their client's restart, not yet reclaimed */
	pthread_mutex_t recall_lock;
	struct cds_list_head recalls;	/* recalled delegations, oldest first, under recall_lock */
	_Atomic uint64_t recall_any_ns; /* when CB_RECALL_ANY was last sent */

	struct nfs4_grace *grace; /* grace.c: reboot recovery */
	struct nfs4_stats stats;  /* counters for nfs4ctl (admin.h) */

	pthread_t laundromat;
	bool laundromat_running;
	pthread_mutex_t laundromat_lock;
	pthread_cond_t laundromat_cond;
	bool stopping;
};

/* client.c */
struct nfs4_client *nfs4_client_find(struct nfs4_server *srv, clientid4 id);
void nfs4_client_put(struct nfs4_client *clp);
void nfs4_client_renew(struct nfs4_client *clp);
/* Unhashes clp and destroys its sessions. Caller holds srv->state_lock. */
void nfs4_client_expire_locked(struct nfs4_client *clp);
/*
 * An expired client (client.expired) is back through CREATE_SESSION, which
 * wrote its record again: it is an ordinary client, its lease renewed.
 * Caller holds srv->state_lock.
 */
void nfs4_client_returned_locked(struct nfs4_client *clp);
/* Retires the confirmed record of clp's owner other than clp (client restart, §18.35.5). */
void nfs4_client_retire_other_confirmed_locked(struct nfs4_client *clp);
void nfs4_principal_of(const struct rpc_call *call, struct nfs4_principal *p);
bool nfs4_principal_eq(const struct nfs4_principal *a, const struct nfs4_principal *b);
/*
 * The laundromat's tick: a confirmed client whose lease ran out is kept,
 * expired (its state revoked, its sessions and record gone); unconfirmed
 * ones and expired ones beyond their time or number are destroyed.
 */
void nfs4_clients_expire_idle(struct nfs4_server *srv);
void nfs4_clients_destroy_all(struct nfs4_server *srv);

/* stateid.c: the stateid table and the open/lock state of clients */
/* Releases every open and lock of clp (expiry, DESTROY_CLIENTID). Caller holds srv->state_lock. */
void nfs4_client_release_state(struct nfs4_client *clp);
/* Releases a lock stateid and its locks (also on the backend). Caller holds the client's
 * state_lock. */
void nfs4_lockstid_release_locked(struct nfs4_lockstid *lk);
/* Releases an open, its lock stateids and their locks. Caller holds the client's state_lock. */
void nfs4_open_release_locked(struct nfs4_open *op);
bool nfs4_client_has_opens(struct nfs4_client *clp);
void nfs4_stid_put(struct nfs4_stid *stid);

/* session.c */
struct nfs4_session *nfs4_session_find(struct nfs4_server *srv, const sessionid4 *id);
void nfs4_session_get(struct nfs4_session *ses);
void nfs4_session_put(struct nfs4_session *ses);
/* Unhashes ses and drops the table's reference. Caller holds srv->state_lock. */
void nfs4_session_destroy_locked(struct nfs4_session *ses);
/*
 * Associates conn with ses in direction dir (CDFS4_*); with only_if_new, leaves
 * an existing association as it is (SEQUENCE's implicit fore channel binding).
 * Returns an nfsstat4.
 */
uint32_t nfs4_session_bind_conn(struct nfs4_session *ses, struct rpc_conn *conn, uint32_t dir,
				bool only_if_new);
/* Drops conn from every session it is bound to (it was closed). */
void nfs4_sessions_unbind_conn(struct nfs4_server *srv, struct rpc_conn *conn);
/* The sr_status_flags the session's state calls for. */
uint32_t nfs4_session_status_flags(struct nfs4_session *ses);

/*
 * Serves the exports in (consumed either way): keeps the objects of exports
 * already served with the same path and id, opens the others, publishes the
 * table. Returns 0, or -1 with a reason in err and nothing changed.
 */
int nfs4_exports_publish(struct nfs4_server *srv, struct nfs4_exports *in, char *err,
			 size_t errlen);
/* At shutdown, with nothing serving: frees the table and every export and its backend. */
void nfs4_exports_close_all(struct nfs4_server *srv);

#endif
