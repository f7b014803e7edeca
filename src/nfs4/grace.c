/* Reboot recovery: client records and the grace period (grace.h, docs/recovery.md). */
#include <stdlib.h>
#include <string.h>

#include "nfs4/grace.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

/* A client owner with a record of an earlier instance: it may reclaim. */
struct nfs4_grace_owner {
	uint32_t len;
	atomic_bool resolved; /* sent RECLAIM_COMPLETE, or lost its record: reclaims no more */
	_Atomic uint32_t opens, locks; /* reclaimed so far, for the log */
	uint8_t *data;
};

/*
 * The grace state of one server instance. owners is filled and sorted at
 * start and never resized, so every OPEN and LOCK can search it without a
 * lock; its resolved flags only ever go from false to true, and outstanding
 * (their count) changes under lock. active is read without the lock too: it
 * only ever goes from true to false.
 */
struct nfs4_grace {
	atomic_bool active;
	uint64_t deadline_ns; /* time_mono_ns() at which grace ends at the latest */
	pthread_mutex_t lock;
	struct nfs4_grace_owner *owners;
	size_t n, cap;
	size_t outstanding; /* owners not resolved */
	bool nomem;	    /* loading ran out of memory */
};

static int nfs4_grace_owner_cmp(const void *a, const void *b)
{
	const struct nfs4_grace_owner *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->data, y->data, x->len);
}

/* The entry of clp's owner, or NULL. No lock needed: owners does not change after start. */
static struct nfs4_grace_owner *nfs4_grace_find(struct nfs4_grace *g, const struct nfs4_client *clp)
{
	struct nfs4_grace_owner key = {.len = clp->owner_len, .data = (uint8_t *)clp->owner};

	if (g->n == 0)
		return NULL;
	return bsearch(&key, g->owners, g->n, sizeof(key), nfs4_grace_owner_cmp);
}

/* store_client_fn: one record of an earlier instance. */
static void nfs4_grace_add(void *ctx, const struct store_client *cl, bool reclaim_complete)
{
	struct nfs4_grace *g = ctx;
	struct nfs4_grace_owner *o;

	(void)reclaim_complete; /* it may reclaim whether or not it had finished last time */
	if (g->nomem || cl->owner_len > NFS4_MAX_OWNER)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		void *p = realloc(g->owners, cap * sizeof(*g->owners));

		if (!p) {
			g->nomem = true;
			return;
		}
		g->owners = p;
		g->cap = cap;
	}
	o = &g->owners[g->n];
	o->data = malloc(cl->owner_len);
	if (!o->data) {
		g->nomem = true;
		return;
	}
	memcpy(o->data, cl->owner, cl->owner_len);
	o->len = cl->owner_len;
	atomic_init(&o->resolved, false);
	atomic_init(&o->opens, 0);
	atomic_init(&o->locks, 0);
	g->n++;
}

/* Ends grace (once): reclaims stop, new state may be granted, records not reclaimed go. */
static void nfs4_grace_end(struct nfs4_server *srv, const char *why)
{
	struct nfs4_grace *g = srv->grace;
	struct store *st = srv->cfg.store;
	size_t left;

	pthread_mutex_lock(&g->lock);
	if (!atomic_exchange(&g->active, false)) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	left = g->outstanding;
	pthread_mutex_unlock(&g->lock);
	log_info("nfs4", "grace period ended: %s (%zu of %zu clients had not finished reclaiming)",
		 why, left, g->n);
	/* From here on new state may conflict with theirs: they must not reclaim after a crash. */
	if (st)
		st->ops->grace_done(st);
}

int nfs4_grace_start(struct nfs4_server *srv)
{
	struct nfs4_grace *g = calloc(1, sizeof(*g));
	struct store *st = srv->cfg.store;

	if (!g)
		return -1;
	pthread_mutex_init(&g->lock, NULL);
	atomic_init(&g->active, false);
	srv->grace = g;
	if (!st)
		return 0;
	if (st->ops->clients_load(st, nfs4_grace_add, g) < 0 || g->nomem) {
		log_err("nfs4", "cannot load the client records");
		return -1;
	}
	if (g->n == 0) {
		log_info("nfs4", "no client records of an earlier instance: no grace period");
		return 0;
	}
	qsort(g->owners, g->n, sizeof(*g->owners), nfs4_grace_owner_cmp);
	g->outstanding = g->n;
	if (srv->cfg.grace_seconds == 0) {
		log_warn("nfs4",
			 "%zu clients may have state to reclaim, but --grace is 0: they cannot",
			 g->n);
		st->ops->grace_done(st);
		/* Their records are gone: they owe no RECLAIM_COMPLETE either. */
		for (size_t i = 0; i < g->n; i++)
			atomic_store(&g->owners[i].resolved, true);
		g->outstanding = 0;
		return 0;
	}
	g->deadline_ns = time_mono_ns() + (uint64_t)srv->cfg.grace_seconds * 1000000000u;
	atomic_store(&g->active, true);
	log_info("nfs4",
		 "grace period: %zu clients may reclaim; it ends in %u s, or once each has sent "
		 "RECLAIM_COMPLETE",
		 g->n, srv->cfg.grace_seconds);
	return 0;
}

void nfs4_grace_free(struct nfs4_server *srv)
{
	struct nfs4_grace *g = srv->grace;

	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->owners[i].data);
	free(g->owners);
	pthread_mutex_destroy(&g->lock);
	free(g);
	srv->grace = NULL;
}

bool nfs4_in_grace(struct nfs4_server *srv)
{
	return atomic_load(&srv->grace->active);
}

void nfs4_grace_tick(struct nfs4_server *srv)
{
	if (nfs4_in_grace(srv) && time_mono_ns() >= srv->grace->deadline_ns)
		nfs4_grace_end(srv, "its time is over");
}

/*
 * clp reclaims no more (RECLAIM_COMPLETE, or its record is gone, as why
 * says); the last one ends grace.
 */
static void nfs4_grace_resolve(struct nfs4_server *srv, const struct nfs4_client *clp,
			       const char *why)
{
	struct nfs4_grace *g = srv->grace;
	struct nfs4_grace_owner *o;
	bool first = false, last = false;
	size_t left = 0;

	o = nfs4_grace_find(g, clp);
	if (!o)
		return;
	pthread_mutex_lock(&g->lock);
	if (!atomic_exchange(&o->resolved, true)) {
		first = true;
		left = --g->outstanding;
		last = left == 0;
	}
	pthread_mutex_unlock(&g->lock);
	if (first)
		log_info("nfs4",
			 "clientid=%016llx %s: it reclaimed %u opens and %u locks; %zu of %zu "
			 "clients that may reclaim have not finished",
			 (unsigned long long)clp->clientid, why, atomic_load(&o->opens),
			 atomic_load(&o->locks), left, g->n);
	if (last)
		nfs4_grace_end(srv, "every client that may reclaim is done");
}

/*
 * Whether the COMPOUND's client has a record of an earlier instance and has
 * not sent RECLAIM_COMPLETE: it may reclaim (in grace), and it must send
 * RECLAIM_COMPLETE before it obtains new state (§18.51.3).
 */
static bool nfs4_grace_owes_reclaim_complete(struct nfs4_compound *c)
{
	struct nfs4_grace_owner *o = nfs4_grace_find(c->srv->grace, c->session->client);

	return o && !atomic_load(&o->resolved);
}

uint32_t nfs4_grace_reclaim(struct nfs4_compound *c)
{
	if (!nfs4_in_grace(c->srv))
		return NFS4ERR_NO_GRACE;
	return nfs4_grace_owes_reclaim_complete(c) ? NFS4_OK : NFS4ERR_NO_GRACE;
}

/*
 * A request for new (non-reclaim) open or lock state: NFS4ERR_GRACE in grace
 * (§8.4.2), and from a client that owes its RECLAIM_COMPLETE also after grace
 * (§18.51.3: such requests before it "will" get NFS4ERR_GRACE).
 */
static uint32_t nfs4_grace_check_new_state(struct nfs4_compound *c)
{
	if (nfs4_in_grace(c->srv) || nfs4_grace_owes_reclaim_complete(c))
		return NFS4ERR_GRACE;
	return NFS4_OK;
}

void nfs4_grace_reclaimed(struct nfs4_compound *c, bool lock)
{
	struct nfs4_grace_owner *o = nfs4_grace_find(c->srv->grace, c->session->client);

	if (o)
		atomic_fetch_add(lock ? &o->locks : &o->opens, 1);
}

uint32_t nfs4_grace_reclaim_deleg_prev(struct nfs4_compound *c)
{
	uint32_t status = nfs4_grace_reclaim(c);

	return status == NFS4_OK ? NFS4ERR_RECLAIM_BAD : status;
}

uint32_t nfs4_grace_check_open(struct nfs4_compound *c, uint32_t claim)
{
	switch (claim) {
	case CLAIM_NULL:
	case CLAIM_FH:
		return nfs4_grace_check_new_state(c);
	case CLAIM_PREVIOUS:
		return nfs4_grace_reclaim(c);
	case CLAIM_DELEGATE_PREV:
	case CLAIM_DELEG_PREV_FH:
		return NFS4_OK; /* answered by deleg_prev.c */
	default:
		/* CLAIM_DELEGATE_CUR, CLAIM_DELEG_CUR_FH: a delegation of this instance, so
		 * allowed in grace; still new open state, owed the RECLAIM_COMPLETE rule. */
		return nfs4_grace_owes_reclaim_complete(c) ? NFS4ERR_GRACE : NFS4_OK;
	}
}

uint32_t nfs4_grace_check_lock(struct nfs4_compound *c, bool reclaim)
{
	if (reclaim)
		return nfs4_grace_reclaim(c);
	return nfs4_grace_check_new_state(c);
}

uint32_t nfs4_grace_check_lockt(struct nfs4_compound *c)
{
	return nfs4_in_grace(c->srv) ? NFS4ERR_GRACE : NFS4_OK;
}

uint32_t nfs4_grace_check_io(struct nfs4_compound *c, const struct stateid4 *sid, bool write)
{
	static const uint8_t zeros[12],
		ones[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	bool anonymous = sid->seqid == 0 && memcmp(sid->other, zeros, 12) == 0;
	bool bypass = sid->seqid == UINT32_MAX && memcmp(sid->other, ones, 12) == 0;

	if (!nfs4_in_grace(c->srv))
		return NFS4_OK;
	/* A READ that bypasses share reservations conflicts with none: only writes matter. */
	return anonymous || (bypass && write) ? NFS4ERR_GRACE : NFS4_OK;
}

uint32_t nfs4_grace_check_namespace(struct nfs4_compound *c)
{
	return nfs4_in_grace(c->srv) ? NFS4ERR_GRACE : NFS4_OK;
}

/* The store's key for clp. */
static struct store_client nfs4_grace_key(const struct nfs4_client *clp)
{
	struct store_client cl = {clp->owner, clp->owner_len, clp->clientid};

	return cl;
}

uint32_t nfs4_grace_client_confirming(struct nfs4_client *clp)
{
	struct store *st = clp->srv->cfg.store;
	struct store_client cl = nfs4_grace_key(clp);

	if (!st || st->ops->client_save(st, &cl) == 0)
		return NFS4_OK;
	log_err("nfs4", "clientid=%016llx not confirmed: its record cannot be written",
		(unsigned long long)clp->clientid);
	return NFS4ERR_SERVERFAULT;
}

void nfs4_grace_client_gone(struct nfs4_client *clp)
{
	struct store *st = clp->srv->cfg.store;
	struct store_client cl = nfs4_grace_key(clp);

	if (st)
		st->ops->client_remove(st, &cl);
	nfs4_grace_resolve(clp->srv, clp, "record removed");
}

void nfs4_grace_reclaim_complete(struct nfs4_client *clp)
{
	struct store *st = clp->srv->cfg.store;
	struct store_client cl = nfs4_grace_key(clp);

	if (st)
		st->ops->client_reclaim_complete(st, &cl);
	nfs4_grace_resolve(clp->srv, clp, "RECLAIM_COMPLETE");
}
