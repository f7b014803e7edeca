/*
 * Snapshots of the protocol state for the control socket (admin.h). Every
 * lock is taken in state.h's order and only while copying one object.
 */
#include "nfs4/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4/callback.h"
#include "util/clock.h"
#include "util/log.h"

static void nfs4_admin_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, len, "?");
	}
}

static void nfs4_admin_conn(struct rpc_conn *conn, uint32_t dir, struct nfs4_admin_conn *out)
{
	out->id = rpc_conn_id(conn);
	nfs4_admin_addr(rpc_conn_peer(conn), out->addr, sizeof(out->addr));
	out->dir = dir;
	out->closed = rpc_conn_is_closed(conn);
}

/*
 * What clp's record says, under srv->state_lock (sessions) and then its
 * state_lock (stateids). false: it died meanwhile. Caller is in a read
 * section, so clp's memory stays valid.
 */
static bool nfs4_admin_fill_client(struct nfs4_client *clp, struct nfs4_admin_client *out)
{
	struct nfs4_server *srv = clp->srv;
	uint64_t lease_ns = (uint64_t)srv->cfg.lease_seconds * 1000000000u;
	uint64_t renewed = atomic_load_explicit(&clp->renewed_ns, memory_order_relaxed);
	struct nfs4_session *ses;
	struct nfs4_stid *stid;

	memset(out, 0, sizeof(*out));
	out->clientid = clp->clientid;
	out->owner_len = clp->owner_len;
	memcpy(out->owner, clp->owner,
	       clp->owner_len < NFS4_ADMIN_OWNER_MAX ? clp->owner_len : NFS4_ADMIN_OWNER_MAX);
	out->lease_left_ms = ((int64_t)(renewed + lease_ns) - (int64_t)time_mono_ns()) / 1000000;
	out->cb_state = nfs4_cb_state_name(nfs4_cb_state(clp));
	out->ncallbacks = atomic_load(&clp->ncallbacks);

	pthread_mutex_lock(&srv->state_lock);
	if (atomic_load(&clp->dead)) {
		pthread_mutex_unlock(&srv->state_lock);
		return false;
	}
	out->confirmed = clp->confirmed;
	out->expired = atomic_load(&clp->expired);
	out->nsessions = clp->nsessions;
	/* The newest session is the one the client is most likely using. */
	cds_list_for_each_entry_reverse(ses, &clp->sessions, client_link)
	{
		pthread_mutex_lock(&ses->lock);
		if (ses->nconns > 0)
			nfs4_admin_addr(rpc_conn_peer(ses->conns[0].conn), out->addr,
					sizeof(out->addr));
		pthread_mutex_unlock(&ses->lock);
		if (out->addr[0])
			break;
	}
	pthread_mutex_unlock(&srv->state_lock);

	pthread_mutex_lock(&clp->state_lock);
	cds_list_for_each_entry(stid, &clp->stateids, client_link)
	{
		if (stid->kind == NFS4_STID_OPEN)
			out->nopens++;
		else if (stid->kind == NFS4_STID_LOCK)
			out->nlocks++;
		else
			out->ndelegs++;
	}
	out->nrevoked = clp->revoked.n;
	pthread_mutex_unlock(&clp->state_lock);
	return true;
}

int nfs4_admin_clients(struct nfs4_server *srv, struct nfs4_admin_client **out, size_t *n)
{
	struct nfs4_admin_client *v = NULL, *nv;
	size_t len = 0, cap = 0;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	int rc = 0;

	rcu_read_begin();
	for (cds_lfht_first(srv->clients_by_id, &iter); (node = cds_lfht_iter_get_node(&iter));
	     cds_lfht_next(srv->clients_by_id, &iter)) {
		struct nfs4_client *clp = caa_container_of(node, struct nfs4_client, id_node);

		rcu_hash_acquire(clp);
		if (atomic_load(&clp->dead))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (nfs4_admin_fill_client(clp, &v[len]))
			len++;
	}
	rcu_read_end();
	if (rc < 0) {
		free(v);
		v = NULL;
		len = 0;
	}
	*out = v;
	*n = len;
	return rc;
}

static void nfs4_admin_session(struct nfs4_session *ses, struct nfs4_admin_session *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->sessionid, ses->sessionid.data, sizeof(out->sessionid));
	out->flags = ses->flags;
	pthread_mutex_lock(&ses->lock);
	out->fore_slots = ses->slots.nslots;
	for (uint32_t i = 0; i < ses->slots.nslots; i++)
		out->fore_busy += ses->slots.slots[i].in_use;
	out->back_slots = ses->cb_slots.nslots;
	out->back_busy = (uint32_t)__builtin_popcount(ses->cb_slots.busy);
	out->nconns = ses->nconns;
	for (uint32_t i = 0; i < ses->nconns; i++)
		nfs4_admin_conn(ses->conns[i].conn, ses->conns[i].dir, &out->conns[i]);
	pthread_mutex_unlock(&ses->lock);
}

/* One stateid. Caller holds its client's state_lock; file->lock is taken here. */
static void nfs4_admin_stid(struct nfs4_stid *stid, uint64_t now, struct nfs4_admin_stid *out)
{
	struct nfs4_file *f = stid->file;
	const struct nfs4_lock_range *r;

	memset(out, 0, sizeof(*out));
	out->kind = (enum nfs4_admin_stid_kind)stid->kind;
	memcpy(out->other, stid->other, sizeof(out->other));
	out->seqid = stid->seqid;
	out->file.export_id = f->exp->id;
	out->file.export_path = f->exp->path;
	out->file.fh_len = f->bfh.len < sizeof(out->file.fh) ? f->bfh.len : sizeof(out->file.fh);
	memcpy(out->file.fh, f->bfh.data, out->file.fh_len);
	if (stid->owner) {
		out->owner_len = stid->owner->len;
		memcpy(out->owner, stid->owner->data,
		       out->owner_len < NFS4_ADMIN_OWNER_MAX ? out->owner_len
							     : NFS4_ADMIN_OWNER_MAX);
	}
	pthread_mutex_lock(&f->lock);
	if (stid->kind == NFS4_STID_OPEN) {
		struct nfs4_open *op = caa_container_of(stid, struct nfs4_open, stid);

		out->access = op->access;
		out->deny = op->deny;
	} else if (stid->kind == NFS4_STID_LOCK) {
		cds_list_for_each_entry(r, &f->locks.ranges, link)
		{
			if (r->owner == stid)
				out->nranges++;
		}
	} else {
		struct nfs4_deleg *dp = caa_container_of(stid, struct nfs4_deleg, stid);

		out->deleg_type = dp->type;
		out->age_ms = (now - dp->grant_ns) / 1000000;
		out->recalled = dp->recalled;
	}
	pthread_mutex_unlock(&f->lock);
}

int nfs4_admin_client_detail(struct nfs4_server *srv, uint64_t clientid,
			     struct nfs4_admin_client_detail *out)
{
	struct nfs4_client *clp = nfs4_client_find(srv, clientid);
	struct nfs4_session *ses;
	struct nfs4_stid *stid;
	uint64_t now = time_mono_ns();
	size_t n = 0;
	bool alive;

	memset(out, 0, sizeof(*out));
	if (!clp)
		return -ENOENT;
	rcu_read_begin();
	alive = nfs4_admin_fill_client(clp, &out->client);
	rcu_read_end();
	if (!alive) {
		nfs4_client_put(clp);
		return -ENOENT;
	}

	pthread_mutex_lock(&srv->state_lock);
	cds_list_for_each_entry(ses, &clp->sessions, client_link)
	{
		if (out->nsessions == NFS4_MAX_SESSIONS_PER_CLIENT)
			break;
		nfs4_admin_session(ses, &out->sessions[out->nsessions++]);
	}
	pthread_mutex_unlock(&srv->state_lock);

	pthread_mutex_lock(&clp->state_lock);
	cds_list_for_each_entry(stid, &clp->stateids, client_link)
	{
		n++;
	}
	out->stids = n ? calloc(n, sizeof(*out->stids)) : NULL;
	if (out->stids) {
		cds_list_for_each_entry(stid, &clp->stateids, client_link)
			nfs4_admin_stid(stid, now, &out->stids[out->nstids++]);
	}
	pthread_mutex_unlock(&clp->state_lock);
	nfs4_client_put(clp);
	if (n && !out->stids)
		return -ENOMEM;
	return 0;
}

void nfs4_admin_client_detail_free(struct nfs4_admin_client_detail *d)
{
	free(d->stids);
	d->stids = NULL;
	d->nstids = 0;
}

int nfs4_admin_expire(struct nfs4_server *srv, uint64_t clientid)
{
	struct nfs4_client *clp = nfs4_client_find(srv, clientid);
	int rc = 0;

	if (!clp)
		return -ENOENT;
	pthread_mutex_lock(&srv->state_lock);
	if (atomic_load(&clp->dead))
		rc = -ENOENT;
	else
		nfs4_client_expire_locked(clp);
	pthread_mutex_unlock(&srv->state_lock);
	if (rc == 0)
		log_info("nfs4", "client expired by the administrator clientid=%016llx",
			 (unsigned long long)clientid);
	nfs4_client_put(clp);
	return rc;
}

/* Revokes clp's stateid other (and an open's locks); how many, or -ENOENT. */
static int nfs4_admin_revoke_one(struct nfs4_client *clp, const uint8_t *other)
{
	struct nfs4_stid *stid;
	int n = -ENOENT;

	pthread_mutex_lock(&clp->state_lock);
	cds_list_for_each_entry(stid, &clp->stateids, client_link)
	{
		if (memcmp(stid->other, other, sizeof(stid->other)) == 0) {
			uint32_t before = clp->revoked.n;

			nfs4_stid_revoke_locked(stid, NFS4_REVOKE_ADMIN);
			n = (int)(clp->revoked.n - before);
			break;
		}
	}
	pthread_mutex_unlock(&clp->state_lock);
	return n;
}

int nfs4_admin_revoke(struct nfs4_server *srv, uint64_t clientid, const uint8_t *other)
{
	struct nfs4_client *clp = nfs4_client_find(srv, clientid);
	int n;

	if (!clp)
		return -ENOENT;
	n = other ? nfs4_admin_revoke_one(clp, other)
		  : (int)nfs4_client_revoke_state(clp, NFS4_REVOKE_ADMIN);
	if (n >= 0)
		log_info("nfs4", "%d stateids of clientid=%016llx revoked by the administrator", n,
			 (unsigned long long)clientid);
	nfs4_client_put(clp);
	return n;
}

const struct nfs4_export_table *nfs4_admin_exports(struct nfs4_server *srv)
{
	return rcu_fetch(srv->table);
}

const struct nfs4_stats *nfs4_admin_stats(struct nfs4_server *srv)
{
	return &srv->stats;
}

void nfs4_admin_totals(struct nfs4_server *srv, struct nfs4_admin_totals *out)
{
	out->clients = atomic_load(&srv->nclients);
	out->expired_clients = atomic_load(&srv->nexpired);
	out->sessions = atomic_load(&srv->nsessions);
	out->stateids = atomic_load(&srv->nstateids);
	out->files = atomic_load(&srv->nfiles);
	out->delegations = atomic_load(&srv->ndelegs);
	out->kept_delegations = atomic_load(&srv->nkept);
	out->callbacks = atomic_load(&srv->ncallbacks);
	out->lease_seconds = srv->cfg.lease_seconds;
}
