/*
 * Stateids (RFC 8881 §8.2): the stateid table, files with state, owners,
 * resolving stateid arguments, TEST_STATEID and FREE_STATEID, and releasing a
 * client's state.
 */
#include "nfs4/stateid.h"

#include <stdlib.h>
#include <string.h>

#include "nfs4/deleg.h"
#include "util/hash.h"
#include "util/log.h"

static const uint8_t nfs4_zeros[12];
static const uint8_t nfs4_ones[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- files ---- */

static uint64_t nfs4_file_hash(const struct nfs4_export *exp, const struct be_fh *bfh)
{
	return hash_bytes(bfh->data, bfh->len, exp->id);
}

struct nfs4_file_key {
	const struct nfs4_export *exp;
	const struct be_fh *bfh;
};

static int nfs4_file_match(struct cds_lfht_node *node, const void *key)
{
	struct nfs4_file *f = caa_container_of(node, struct nfs4_file, node);
	const struct nfs4_file_key *k = key;

	rcu_hash_acquire(f);
	return f->exp == k->exp && f->bfh.len == k->bfh->len &&
	       memcmp(f->bfh.data, k->bfh->data, f->bfh.len) == 0;
}

/*
 * A live file for the key, with a new reference, or NULL. A lock-free RCU
 * lookup: files_lock is needed only by nfs4_file_get(), so that two callers
 * cannot both add the same file.
 */
struct nfs4_file *nfs4_file_find(struct nfs4_server *srv, struct nfs4_export *exp,
				 const struct be_fh *bfh)
{
	struct nfs4_file_key key = {exp, bfh};
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct nfs4_file *found = NULL;

	rcu_read_begin();
	cds_lfht_lookup(srv->files, nfs4_file_hash(exp, bfh), nfs4_file_match, &key, &iter);
	while ((node = cds_lfht_iter_get_node(&iter))) {
		struct nfs4_file *f = caa_container_of(node, struct nfs4_file, node);

		/* A file whose last reference is going is skipped: its putter unhashes it. */
		if (ref_get_unless_zero(&f->ref)) {
			found = f;
			break;
		}
		cds_lfht_next_duplicate(srv->files, nfs4_file_match, &key, &iter);
	}
	rcu_read_end();
	return found;
}

struct nfs4_file *nfs4_file_get(struct nfs4_server *srv, struct nfs4_export *exp,
				const struct be_fh *bfh)
{
	struct nfs4_file *f;

	pthread_mutex_lock(&srv->files_lock);
	f = nfs4_file_find(srv, exp, bfh);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (f) {
			ref_init(&f->ref);
			f->srv = srv;
			f->exp = exp;
			f->bfh = *bfh;
			pthread_mutex_init(&f->lock, NULL);
			CDS_INIT_LIST_HEAD(&f->opens);
			CDS_INIT_LIST_HEAD(&f->delegs);
			CDS_INIT_LIST_HEAD(&f->kept);
			nfs4_lock_list_init(&f->locks);
			atomic_fetch_add(&srv->nfiles, 1);
			rcu_hash_release(f);
			cds_lfht_add(srv->files, nfs4_file_hash(exp, bfh), &f->node);
		}
	}
	pthread_mutex_unlock(&srv->files_lock);
	return f;
}

static void nfs4_file_free_rcu(struct rcu_head *head)
{
	struct nfs4_file *f = caa_container_of(head, struct nfs4_file, rcu);

	rcu_reclaim_begin(head);
	nfs4_lock_list_free(&f->locks);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void nfs4_file_put(struct nfs4_file *f)
{
	struct nfs4_server *srv = f->srv;

	if (!ref_put(&f->ref))
		return;
	pthread_mutex_lock(&srv->files_lock);
	cds_lfht_del(srv->files, &f->node);
	pthread_mutex_unlock(&srv->files_lock);
	atomic_fetch_sub(&srv->nfiles, 1);
	rcu_retire(&f->rcu, nfs4_file_free_rcu);
}

bool nfs4_file_is(const struct nfs4_file *f, const struct nfs4_fh *fh)
{
	return fh->kind == NFS4_FH_EXPORT && f->exp == fh->exp && f->bfh.len == fh->bfh.len &&
	       memcmp(f->bfh.data, fh->bfh.data, f->bfh.len) == 0;
}

/* ---- owners ---- */

void nfs4_owner_put_unused_locked(struct nfs4_owner *owner)
{
	if (owner->nstateids > 0)
		return;
	cds_list_del(&owner->client_link);
	free(owner);
}

struct nfs4_owner *nfs4_owner_get_locked(struct nfs4_client *clp, bool is_lock,
					 const struct xdr_opaque *name)
{
	struct nfs4_owner *o;

	if (name->len > NFS4_MAX_OWNER)
		return NULL;
	cds_list_for_each_entry(o, &clp->owners,
				client_link) if (o->is_lock == is_lock && o->len == name->len &&
						 memcmp(o->data, name->data, name->len) ==
							 0) return o;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->is_lock = is_lock;
	o->len = name->len;
	memcpy(o->data, name->data, name->len);
	cds_list_add(&o->client_link, &clp->owners);
	return o;
}

/* ---- the stateid table ---- */

static uint64_t nfs4_other_hash(const uint8_t *other)
{
	return hash_bytes(other, 12, 0);
}

static int nfs4_stid_match(struct cds_lfht_node *node, const void *key)
{
	struct nfs4_stid *s = caa_container_of(node, struct nfs4_stid, node);

	rcu_hash_acquire(s);
	return memcmp(s->other, key, 12) == 0;
}

static void nfs4_stid_free_rcu(struct rcu_head *head)
{
	struct nfs4_stid *stid = caa_container_of(head, struct nfs4_stid, rcu);

	rcu_reclaim_begin(head);
	nfs4_file_put(stid->file);
	nfs4_client_put(stid->client);
	free(stid);
}

void nfs4_stid_put(struct nfs4_stid *stid)
{
	if (ref_put(&stid->ref))
		rcu_retire(&stid->rcu, nfs4_stid_free_rcu);
}

struct nfs4_stid *nfs4_stid_new_locked(struct nfs4_server *srv, struct nfs4_client *clp,
				       enum nfs4_stid_kind kind, size_t size,
				       struct nfs4_file *file, struct nfs4_owner *owner)
{
	struct nfs4_stid *stid = calloc(1, size);

	if (!stid)
		return NULL;
	ref_init(&stid->ref);
	stid->kind = kind;
	xdr_put_be32(stid->other, srv->boot_epoch);
	xdr_put_be32(stid->other + 4, (uint32_t)clp->clientid);
	xdr_put_be32(stid->other + 8, atomic_fetch_add(&srv->next_stateid, 1) + 1);
	ref_get(&clp->ref);
	stid->client = clp;
	ref_get(&file->ref);
	stid->file = file;
	stid->owner = owner;
	if (owner)
		owner->nstateids++;
	stid->seqid = 1;
	cds_list_add(&stid->client_link, &clp->stateids);
	atomic_fetch_add(&srv->nstateids, 1);
	rcu_hash_release(stid);
	cds_lfht_add(srv->stateids, nfs4_other_hash(stid->other), &stid->node);
	return stid;
}

void nfs4_stid_unhash_locked(struct nfs4_stid *stid)
{
	struct nfs4_server *srv = stid->client->srv;
	struct nfs4_owner *owner = stid->owner;

	if (stid->closed)
		return;
	stid->closed = true;
	cds_lfht_del(srv->stateids, &stid->node);
	cds_list_del(&stid->client_link);
	atomic_fetch_sub(&srv->nstateids, 1);
	if (owner) {
		owner->nstateids--;
		nfs4_owner_put_unused_locked(owner);
		stid->owner = NULL;
	}
	nfs4_stid_put(stid); /* the table's reference */
}

static struct nfs4_stid *nfs4_stid_lookup(struct nfs4_server *srv, const uint8_t *other)
{
	struct nfs4_stid *stid = NULL;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	rcu_read_begin();
	cds_lfht_lookup(srv->stateids, nfs4_other_hash(other), nfs4_stid_match, other, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node) {
		stid = caa_container_of(node, struct nfs4_stid, node);
		if (!ref_get_unless_zero(&stid->ref))
			stid = NULL;
	}
	rcu_read_end();
	return stid;
}

/* ---- resolving stateid arguments ---- */

void nfs4_stid_to_wire(const struct nfs4_stid *stid, struct stateid4 *out)
{
	out->seqid = stid->seqid;
	memcpy(out->other, stid->other, 12);
}

void nfs4_set_current_stateid(struct nfs4_compound *c, const struct stateid4 *sid)
{
	c->cur_stateid = *sid;
	c->cur_stateid_set = true;
}

void nfs4_stateid_ref_put(struct nfs4_stateid_ref *r)
{
	if (r->stid)
		nfs4_stid_put(r->stid);
	r->stid = NULL;
}

/*
 * A stateid of this instance that is not in the table: one of a client that
 * is gone or expired (NFS4ERR_EXPIRED), a revoked one of this COMPOUND's
 * client (its reason's error; with forget, FREE_STATEID forgets it:
 * NFS4_OK), or none.
 */
static uint32_t nfs4_stateid_unknown(struct nfs4_compound *c, const uint8_t *other, bool forget)
{
	clientid4 id = (uint64_t)c->srv->boot_epoch << 32 | xdr_get_be32(other + 4);
	struct nfs4_client *clp = nfs4_client_find(c->srv, id);
	uint32_t status = NFS4ERR_BAD_STATEID, revoked;

	if (!clp)
		return NFS4ERR_EXPIRED;
	if (atomic_load(&clp->expired)) {
		status = NFS4ERR_EXPIRED;
	} else if (c->session && c->session->client == clp) {
		pthread_mutex_lock(&clp->state_lock);
		revoked = nfs4_revoked_status_locked(clp, xdr_get_be32(other + 8), forget);
		pthread_mutex_unlock(&clp->state_lock);
		if (revoked)
			status = forget ? NFS4_OK : revoked;
	}
	nfs4_client_put(clp);
	return status;
}

uint32_t nfs4_stid_status_locked(const struct nfs4_stid *stid)
{
	uint32_t revoked;

	if (!stid->closed)
		return NFS4_OK;
	revoked = nfs4_revoked_status_locked(stid->client, xdr_get_be32(stid->other + 8), false);
	return revoked ? revoked : NFS4ERR_BAD_STATEID;
}

uint32_t nfs4_stateid_resolve(struct nfs4_compound *c, const struct stateid4 *sid, uint32_t kinds,
			      bool allow_special, struct nfs4_stateid_ref *out)
{
	struct nfs4_server *srv = c->srv;
	const struct stateid4 *s = sid;
	struct nfs4_stid *stid;
	uint32_t status = NFS4_OK;

	memset(out, 0, sizeof(*out));
	if (memcmp(s->other, nfs4_zeros, 12) == 0) {
		if (s->seqid == 1) {
			/* The current stateid: what an earlier op of this COMPOUND produced. */
			if (!c->cur_stateid_set)
				return NFS4ERR_BAD_STATEID;
			s = &c->cur_stateid;
			if (memcmp(s->other, nfs4_zeros, 12) == 0)
				return NFS4ERR_BAD_STATEID;
		} else if (s->seqid == 0) {
			if (!allow_special)
				return NFS4ERR_BAD_STATEID;
			out->anonymous = true;
			return NFS4_OK;
		} else {
			return NFS4ERR_BAD_STATEID; /* incl. the invalid stateid (seqid all ones) */
		}
	} else if (memcmp(s->other, nfs4_ones, 12) == 0) {
		if (!allow_special || s->seqid != UINT32_MAX)
			return NFS4ERR_BAD_STATEID;
		out->bypass = true;
		return NFS4_OK;
	}

	if (xdr_get_be32(s->other) != srv->boot_epoch)
		return NFS4ERR_STALE_STATEID;
	stid = nfs4_stid_lookup(srv, s->other);
	if (!stid)
		return nfs4_stateid_unknown(c, s->other, kinds & NFS4_STID_FREE_REVOKED);
	if (!c->session || stid->client != c->session->client || !(kinds & (1u << stid->kind))) {
		nfs4_stid_put(stid);
		return NFS4ERR_BAD_STATEID;
	}
	pthread_mutex_lock(&stid->client->state_lock);
	status = nfs4_stid_status_locked(stid);
	if (status == NFS4_OK && s->seqid != 0 && s->seqid < stid->seqid)
		status = NFS4ERR_OLD_STATEID;
	else if (status == NFS4_OK && s->seqid > stid->seqid)
		status = NFS4ERR_BAD_STATEID;
	pthread_mutex_unlock(&stid->client->state_lock);
	if (status != NFS4_OK) {
		nfs4_stid_put(stid);
		return status;
	}
	out->stid = stid;
	return NFS4_OK;
}

uint32_t nfs4_stateid_resolve_cur(struct nfs4_compound *c, const struct stateid4 *sid,
				  uint32_t kinds, struct nfs4_stateid_ref *out)
{
	struct nfs4_fh *fh;
	uint32_t status = nfs4_cur_fh(c, &fh, NULL, NULL);

	memset(out, 0, sizeof(*out));
	if (status == NFS4_OK)
		status = nfs4_stateid_resolve(c, sid, kinds, false, out);
	if (status != NFS4_OK)
		return status;
	if (!nfs4_file_is(out->stid->file, fh)) {
		nfs4_stateid_ref_put(out);
		return NFS4ERR_BAD_STATEID; /* a stateid of another file */
	}
	return NFS4_OK;
}

/* The open a stateid stands for: itself, or the open a lock stateid came from. */
static struct nfs4_open *nfs4_stid_open(struct nfs4_stid *stid)
{
	if (stid->kind == NFS4_STID_OPEN)
		return caa_container_of(stid, struct nfs4_open, stid);
	return caa_container_of(stid, struct nfs4_lockstid, stid)->open;
}

uint32_t nfs4_stateid_check_io(struct nfs4_compound *c, const struct stateid4 *sid,
			       const struct nfs4_fh *fh, bool write)
{
	struct nfs4_stateid_ref r;
	struct nfs4_file *f;
	struct nfs4_open *op;
	uint32_t status;

	status = nfs4_stateid_resolve(c, sid, NFS4_STID_ANY, true, &r);
	if (status != NFS4_OK)
		return status;
	if (r.stid) {
		f = r.stid->file;
		if (!nfs4_file_is(f, fh)) {
			status = NFS4ERR_BAD_STATEID; /* a stateid for another file */
		} else if (r.stid->kind == NFS4_STID_DELEG) {
			/* Immutable once granted: a read delegation does not cover writes. */
			if (write && caa_container_of(r.stid, struct nfs4_deleg, stid)->type !=
					     OPEN_DELEGATE_WRITE)
				status = NFS4ERR_OPENMODE;
		} else if (write) {
			pthread_mutex_lock(&f->lock);
			op = nfs4_stid_open(r.stid);
			if (!op || !(op->access & OPEN4_SHARE_ACCESS_WRITE))
				status = NFS4ERR_OPENMODE;
			pthread_mutex_unlock(&f->lock);
		}
		nfs4_stateid_ref_put(&r);
		return status;
	}
	/* READ bypass skips share reservations; in a write it means anonymous (RFC 8881 §8.2.3). */
	if (r.bypass && !write)
		return NFS4_OK;
	/* Anonymous I/O must respect the share reservations of existing opens. */
	if (fh->kind != NFS4_FH_EXPORT)
		return NFS4_OK;
	f = nfs4_file_find(c->srv, fh->exp, &fh->bfh);
	if (!f)
		return NFS4_OK;
	pthread_mutex_lock(&f->lock);
	cds_list_for_each_entry(
		op, &f->opens,
		file_link) if (op->deny & (write ? OPEN4_SHARE_DENY_WRITE : OPEN4_SHARE_DENY_READ))
		status = NFS4ERR_LOCKED;
	pthread_mutex_unlock(&f->lock);
	nfs4_file_put(f);
	return status;
}

/* ---- releasing state ---- */

/*
 * A lock stateid's ranges leave the file before the stateid is unhashed, so
 * whoever sees a range under file->lock may read its lock stateid's owner.
 * Caller holds the client's state_lock.
 */
void nfs4_lockstid_release_locked(struct nfs4_lockstid *lk)
{
	struct nfs4_file *f = lk->stid.file;

	pthread_mutex_lock(&f->lock);
	nfs4_lock_clear_owner(&f->locks, lk);
	if (lk->be_ctx)
		f->exp->be->ops->lock_close(f->exp->be, lk->be_ctx);
	lk->be_ctx = NULL;
	pthread_mutex_unlock(&f->lock);
	cds_list_del(&lk->open_link);
	nfs4_stid_unhash_locked(&lk->stid);
}

void nfs4_open_release_locked(struct nfs4_open *op)
{
	struct nfs4_lockstid *lk, *tmp;
	struct nfs4_file *f = op->stid.file;

	cds_list_for_each_entry_safe(lk, tmp, &op->locks, open_link)
		nfs4_lockstid_release_locked(lk);
	pthread_mutex_lock(&f->lock);
	cds_list_del(&op->file_link);
	pthread_mutex_unlock(&f->lock);
	nfs4_stid_unhash_locked(&op->stid);
}

void nfs4_client_release_state(struct nfs4_client *clp)
{
	pthread_mutex_lock(&clp->state_lock);
	while (!cds_list_empty(&clp->stateids)) {
		struct nfs4_stid *stid =
			cds_list_first_entry(&clp->stateids, struct nfs4_stid, client_link);

		if (stid->kind == NFS4_STID_LOCK)
			nfs4_lockstid_release_locked(
				caa_container_of(stid, struct nfs4_lockstid, stid));
		else if (stid->kind == NFS4_STID_DELEG)
			nfs4_deleg_release_locked(caa_container_of(stid, struct nfs4_deleg, stid));
		else
			nfs4_open_release_locked(caa_container_of(stid, struct nfs4_open, stid));
	}
	pthread_mutex_unlock(&clp->state_lock);
}

bool nfs4_client_has_opens(struct nfs4_client *clp)
{
	bool any;

	pthread_mutex_lock(&clp->state_lock);
	any = !cds_list_empty(&clp->stateids);
	pthread_mutex_unlock(&clp->state_lock);
	return any;
}

/* ---- TEST_STATEID, FREE_STATEID (RFC 8881 §18.48, §18.38) ---- */

uint32_t nfs4_op_test_stateid(struct nfs4_compound *c, void *args, void *res)
{
	const struct TEST_STATEID4args *a = args;
	struct TEST_STATEID4resok *ok = &((struct TEST_STATEID4res *)res)->u.tsr_resok4;
	uint32_t *codes;

	codes = arena_alloc(c->call->arena, (a->ts_stateids.len + 1) * sizeof(*codes));
	if (!codes)
		return NFS4ERR_RESOURCE;
	for (uint32_t i = 0; i < a->ts_stateids.len; i++) {
		struct nfs4_stateid_ref r;

		codes[i] =
			nfs4_stateid_resolve(c, &a->ts_stateids.val[i], NFS4_STID_ANY, false, &r);
		nfs4_stateid_ref_put(&r);
	}
	ok->tsr_status_codes.len = a->ts_stateids.len;
	ok->tsr_status_codes.val = codes;
	return NFS4_OK;
}

uint32_t nfs4_op_free_stateid(struct nfs4_compound *c, void *args, void *res)
{
	const struct FREE_STATEID4args *a = args;
	struct nfs4_stateid_ref r;
	struct nfs4_client *clp;
	struct nfs4_lockstid *lk;
	uint32_t status;

	status = nfs4_stateid_resolve(c, &a->fsa_stateid, NFS4_STID_ANY | NFS4_STID_FREE_REVOKED,
				      false, &r);
	if (status != NFS4_OK || !r.stid)
		return status; /* an error, or a revoked stateid now forgotten */
	clp = r.stid->client;
	pthread_mutex_lock(&clp->state_lock);
	if (r.stid->closed) {
		/* Revoked since it resolved: forgotten all the same. */
		if (!nfs4_revoked_status_locked(clp, xdr_get_be32(r.stid->other + 8), true))
			status = NFS4ERR_BAD_STATEID;
	} else if (r.stid->kind == NFS4_STID_DELEG) {
		/* A delegation in force is returned with DELEGRETURN. */
		status = NFS4ERR_LOCKS_HELD;
	} else if (r.stid->kind == NFS4_STID_OPEN) {
		status = NFS4ERR_LOCKS_HELD; /* an open is state itself: CLOSE frees it */
	} else {
		lk = caa_container_of(r.stid, struct nfs4_lockstid, stid);
		pthread_mutex_lock(&lk->stid.file->lock);
		if (nfs4_lock_owner_holds(&lk->stid.file->locks, lk))
			status = NFS4ERR_LOCKS_HELD;
		pthread_mutex_unlock(&lk->stid.file->lock);
		if (status == NFS4_OK)
			nfs4_lockstid_release_locked(lk);
	}
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_stateid_ref_put(&r);
	return status;
}
