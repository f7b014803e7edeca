/*
 * The exports the server serves, and reloading them (nfs4ctl reload, SIGHUP).
 *
 * An export is one object for the life of the server, kept in srv->exports
 * (under reload_lock) from its first load until shutdown: open files
 * (nfs4_file.exp), stateids through them and every COMPOUND's filehandles
 * point at it and use its backend, so it must never go while any of those
 * might. Reference counting every such pointer would touch every op; keeping
 * the object instead costs one struct per distinct (path, id) ever exported,
 * which a reload of the same file does not grow. A reload therefore:
 *  - keeps the object (backend, id, handles, open state) of every export
 *    whose path and id are unchanged, and publishes its new rules;
 *  - opens a backend for a new export, and keeps it until shutdown;
 *  - leaves a removed export's object where it is but out of the table, so
 *    its handles answer NFS4ERR_STALE (nfs4_fh_decode) from then on;
 *  - publishes a new table (pseudo tree + exports served) and retires the
 *    old one and any replaced rules after a grace period.
 * Any error (a backend that cannot be opened, nested exports) leaves
 * everything as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/mem.h"
#include "nfs4/deleg.h"
#include "nfs4/state.h"
#include "util/log.h"

static void nfs4_table_free(struct nfs4_export_table *tab)
{
	if (!tab)
		return;
	nfs4_pseudo_free(&tab->pseudo);
	free(tab->v);
	free(tab);
}

static void nfs4_table_free_rcu(struct rcu_head *head)
{
	rcu_reclaim_begin(head);
	nfs4_table_free(caa_container_of(head, struct nfs4_export_table, rcu));
}

static void nfs4_rules_free_rcu(struct rcu_head *head)
{
	rcu_reclaim_begin(head);
	free(caa_container_of(head, struct nfs4_export_rules, rcu));
}

/* The server's export with this path and id, or NULL. Under reload_lock. */
static struct nfs4_export *nfs4_exports_known(struct nfs4_server *srv, const struct nfs4_export *e)
{
	for (int i = 0; i < srv->exports.n; i++) {
		struct nfs4_export *k = srv->exports.v[i];

		if (k->id == e->id && strcmp(k->path, e->path) == 0)
			return k;
	}
	return NULL;
}

/* A new export object for e, its backend open. */
static struct nfs4_export *nfs4_export_open(struct nfs4_server *srv, const struct nfs4_export *e,
					    char *err, size_t errlen)
{
	struct nfs4_export *exp = malloc(sizeof(*exp));
	int rc;

	if (!exp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*exp = *e;
	exp->rules = NULL; /* published with the table */
	rc = be_create(srv->cfg.backend, exp->path, &exp->be);
	if (rc < 0) {
		snprintf(err, errlen, "export %s: cannot open %s backend: %s", exp->path,
			 srv->cfg.backend, strerror(-rc));
		free(exp);
		return NULL;
	}
	if (srv->cfg.mem_limit && strcmp(srv->cfg.backend, "mem") == 0)
		be_mem_set_limit(exp->be, srv->cfg.mem_limit);
	nfs4_deleg_watch(srv, exp->be);
	return exp;
}

static void nfs4_export_close(struct nfs4_export *exp)
{
	exp->be->ops->destroy(exp->be);
	free(exp->rules);
	free(exp);
}

int nfs4_exports_publish(struct nfs4_server *srv, struct nfs4_exports *in, char *err, size_t errlen)
{
	struct nfs4_export_table *tab = calloc(1, sizeof(*tab)), *old;
	struct nfs4_export **fresh = calloc((size_t)in->n + 1, sizeof(*fresh));
	struct nfs4_export **all = NULL;
	int nfresh = 0, rc = -1;

	pthread_mutex_lock(&srv->reload_lock);
	old = srv->table; /* only ever written under reload_lock */
	if (!tab || !fresh || !(tab->v = calloc((size_t)in->n + 1, sizeof(*tab->v)))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < in->n; i++) {
		struct nfs4_export *k = nfs4_exports_known(srv, &in->v[i]);

		if (!k) {
			k = nfs4_export_open(srv, &in->v[i], err, errlen);
			if (!k)
				goto out;
			fresh[nfresh++] = k;
		}
		tab->v[tab->n++] = k;
	}
	if (nfs4_pseudo_build(&tab->pseudo, old ? &old->pseudo : NULL, tab->v, tab->n, err,
			      errlen) < 0)
		goto out;
	all = realloc(srv->exports.v, (size_t)(srv->exports.n + nfresh) * sizeof(*all));
	if (!all && srv->exports.n + nfresh > 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* Nothing fails from here: publish the rules, then the table. */
	srv->exports.v = all;
	for (int i = 0; i < nfresh; i++)
		srv->exports.v[srv->exports.n++] = fresh[i];
	for (int i = 0; i < tab->n; i++) {
		struct nfs4_export_rules *prev = tab->v[i]->rules;

		rcu_publish(tab->v[i]->rules, in->v[i].rules);
		in->v[i].rules = NULL; /* now the export's */
		if (prev)
			rcu_retire(&prev->rcu, nfs4_rules_free_rcu);
	}
	rcu_publish(srv->table, tab);
	if (old)
		rcu_retire(&old->rcu, nfs4_table_free_rcu);
	tab = NULL;
	nfresh = 0;
	rc = 0;
out:
	pthread_mutex_unlock(&srv->reload_lock);
	for (int i = 0; i < nfresh; i++)
		nfs4_export_close(fresh[i]);
	free(fresh);
	nfs4_table_free(tab);
	nfs4_exports_free(in); /* whatever rules were not taken */
	return rc;
}

int nfs4_server_reload(struct nfs4_server *srv, char *err, size_t errlen)
{
	struct nfs4_exports in;
	int n;

	if (!srv->cfg.load_exports) {
		snprintf(err, errlen, "this server has no exports to reload");
		return -1;
	}
	if (srv->cfg.load_exports(srv->cfg.load_ctx, &in, err, errlen) < 0)
		goto refused;
	n = in.n;
	if (nfs4_exports_publish(srv, &in, err, errlen) < 0)
		goto refused;
	log_info("nfs4", "exports reloaded: %d served", n);
	return n;
refused:
	log_err("nfs4", "reload refused, the exports stay as they were: %s", err);
	return -1;
}

void nfs4_exports_close_all(struct nfs4_server *srv)
{
	nfs4_table_free(srv->table);
	srv->table = NULL;
	for (int i = 0; i < srv->exports.n; i++)
		nfs4_export_close(srv->exports.v[i]);
	free(srv->exports.v);
	srv->exports.v = NULL;
	srv->exports.n = 0;
}
