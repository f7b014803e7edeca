/*
 * The control commands and their two renderings (render.h). Every command
 * takes its snapshot first (nfs4/admin.h) and renders with no lock held.
 */
#include "ctl/render.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4/admin.h"
#include "nfs4/fh.h"

void ctl_printf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * Opaque bytes (owners) as a printable string: ASCII as is, anything else
 * and the backslash as \xHH. out holds 4 * len + 1.
 */
static void ctl_bytes_printable(const uint8_t *p, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			*out++ = (char)p[i];
		else
			out += sprintf(out, "\\x%02x", p[i]);
	}
	*out = 0;
}

static void ctl_hex(const uint8_t *p, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out += sprintf(out, "%02x", p[i]);
	*out = 0;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void ctl_json_str(struct ctl_buf *b, const char *s)
{
	ctl_printf(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ctl_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			ctl_printf(b, "\\u%04x", (unsigned char)*s);
		else
			ctl_printf(b, "%c", *s);
	}
	ctl_printf(b, "\"");
}

static const char *ctl_access_name(uint32_t a)
{
	switch (a & OPEN4_SHARE_ACCESS_BOTH) {
	case OPEN4_SHARE_ACCESS_READ:
		return "read";
	case OPEN4_SHARE_ACCESS_WRITE:
		return "write";
	case OPEN4_SHARE_ACCESS_BOTH:
		return "both";
	default:
		return "none";
	}
}

static const char *ctl_dir_name(uint32_t dir)
{
	return dir == CDFS4_BOTH ? "both" : dir == CDFS4_BACK ? "back" : "fore";
}

/* "0123456789abcdef" from a command argument (an optional 0x); false if it is not one. */
static bool ctl_parse_clientid(const char *s, uint64_t *id)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s || strlen(s) > 16)
		return false;
	errno = 0;
	*id = strtoull(s, &end, 16);
	return errno == 0 && *end == 0;
}

/* ---- clients ---- */

static void ctl_client_json(struct ctl_buf *b, const struct nfs4_admin_client *c)
{
	char owner[4 * NFS4_ADMIN_OWNER_MAX + 1];

	ctl_bytes_printable(
		c->owner, c->owner_len < NFS4_ADMIN_OWNER_MAX ? c->owner_len : NFS4_ADMIN_OWNER_MAX,
		owner);
	ctl_printf(b, "{\"clientid\":\"%016" PRIx64 "\",\"address\":", c->clientid);
	ctl_json_str(b, c->addr);
	ctl_printf(b, ",\"owner\":");
	ctl_json_str(b, owner);
	ctl_printf(b,
		   ",\"confirmed\":%s,\"expired\":%s,\"lease_left_ms\":%" PRId64
		   ",\"sessions\":%u,\"backchannel\":\"%s\",\"opens\":%u,\"locks\":%u"
		   ",\"delegations\":%u,\"revoked\":%u,\"callbacks\":%u}",
		   c->confirmed ? "true" : "false", c->expired ? "true" : "false", c->lease_left_ms,
		   c->nsessions, c->cb_state, c->nopens, c->nlocks, c->ndelegs, c->nrevoked,
		   c->ncallbacks);
}

static const char ctl_client_header[] =
	"CLIENTID          ADDRESS                  LEASE  SESS  BACKCHAN  OPENS  LOCKS  DELEGS  "
	"OWNER\n";

static void ctl_client_row(struct ctl_buf *b, const struct nfs4_admin_client *c)
{
	char owner[4 * NFS4_ADMIN_OWNER_MAX + 1];
	char lease[24];

	ctl_bytes_printable(
		c->owner, c->owner_len < NFS4_ADMIN_OWNER_MAX ? c->owner_len : NFS4_ADMIN_OWNER_MAX,
		owner);
	/* An expired client is kept without a lease until it returns (revoke.h). */
	if (c->expired)
		snprintf(lease, sizeof(lease), "expired");
	else
		snprintf(lease, sizeof(lease), "%" PRId64 "s", c->lease_left_ms / 1000);
	ctl_printf(b, "%016" PRIx64 "  %-21s  %7s  %4u  %-8s  %5u  %5u  %6u  %s%s\n", c->clientid,
		   c->addr[0] ? c->addr : "-", lease, c->nsessions, c->cb_state, c->nopens,
		   c->nlocks, c->ndelegs, owner, c->owner_len > NFS4_ADMIN_OWNER_MAX ? "..." : "");
}

static int ctl_clients(struct nfs4_server *srv, bool json, struct ctl_buf *b, char *err,
		       size_t errlen)
{
	struct nfs4_admin_client *v;
	size_t n;

	if (nfs4_admin_clients(srv, &v, &n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (json) {
		ctl_printf(b, "{\"clients\":[");
		for (size_t i = 0; i < n; i++) {
			ctl_printf(b, "%s\n", i ? "," : "");
			ctl_client_json(b, &v[i]);
		}
		ctl_printf(b, "]}\n");
	} else {
		ctl_printf(b, "%s", ctl_client_header);
		for (size_t i = 0; i < n; i++)
			ctl_client_row(b, &v[i]);
	}
	free(v);
	return 0;
}

/* ---- client ID ---- */

static void ctl_stid_json(struct ctl_buf *b, const struct nfs4_admin_stid *s)
{
	char other[25], fh[2 * sizeof(s->file.fh) + 1], owner[4 * NFS4_ADMIN_OWNER_MAX + 1];

	ctl_hex(s->other, sizeof(s->other), other);
	ctl_hex(s->file.fh, s->file.fh_len, fh);
	ctl_printf(b, "{\"stateid\":\"%s\",\"seqid\":%u,\"export\":", other, s->seqid);
	ctl_json_str(b, s->file.export_path);
	ctl_printf(b, ",\"fh\":\"%s\"", fh);
	if (s->kind != NFS4_ADMIN_DELEG) {
		ctl_bytes_printable(s->owner,
				    s->owner_len < NFS4_ADMIN_OWNER_MAX ? s->owner_len
									: NFS4_ADMIN_OWNER_MAX,
				    owner);
		ctl_printf(b, ",\"owner\":");
		ctl_json_str(b, owner);
	}
	if (s->kind == NFS4_ADMIN_OPEN)
		ctl_printf(b, ",\"access\":\"%s\",\"deny\":\"%s\"", ctl_access_name(s->access),
			   ctl_access_name(s->deny));
	else if (s->kind == NFS4_ADMIN_LOCK)
		ctl_printf(b, ",\"ranges\":%u", s->nranges);
	else
		ctl_printf(b, ",\"type\":\"%s\",\"age_ms\":%" PRIu64 ",\"recalled\":%s",
			   s->deleg_type == OPEN_DELEGATE_WRITE ? "write" : "read", s->age_ms,
			   s->recalled ? "true" : "false");
	ctl_printf(b, "}");
}

static void ctl_stids_json(struct ctl_buf *b, const struct nfs4_admin_client_detail *d,
			   enum nfs4_admin_stid_kind kind, const char *name)
{
	bool first = true;

	ctl_printf(b, ",\n\"%s\":[", name);
	for (size_t i = 0; i < d->nstids; i++) {
		if (d->stids[i].kind != kind)
			continue;
		ctl_printf(b, "%s\n", first ? "" : ",");
		ctl_stid_json(b, &d->stids[i]);
		first = false;
	}
	ctl_printf(b, "]");
}

static void ctl_detail_json(struct ctl_buf *b, const struct nfs4_admin_client_detail *d)
{
	char sid[2 * NFS4_SESSIONID_SIZE + 1];

	ctl_printf(b, "{\"client\":");
	ctl_client_json(b, &d->client);
	ctl_printf(b, ",\n\"sessions\":[");
	for (uint32_t i = 0; i < d->nsessions; i++) {
		const struct nfs4_admin_session *s = &d->sessions[i];

		ctl_hex(s->sessionid, sizeof(s->sessionid), sid);
		ctl_printf(b,
			   "%s\n{\"sessionid\":\"%s\",\"flags\":%u,\"fore_slots\":%u,"
			   "\"fore_busy\":%u,\"back_slots\":%u,\"back_busy\":%u,\"connections\":[",
			   i ? "," : "", sid, s->flags, s->fore_slots, s->fore_busy, s->back_slots,
			   s->back_busy);
		for (uint32_t j = 0; j < s->nconns; j++) {
			ctl_printf(b, "%s{\"id\":%" PRIu64 ",\"address\":", j ? "," : "",
				   s->conns[j].id);
			ctl_json_str(b, s->conns[j].addr);
			ctl_printf(b, ",\"dir\":\"%s\",\"closed\":%s}",
				   ctl_dir_name(s->conns[j].dir),
				   s->conns[j].closed ? "true" : "false");
		}
		ctl_printf(b, "]}");
	}
	ctl_printf(b, "]");
	ctl_stids_json(b, d, NFS4_ADMIN_OPEN, "opens");
	ctl_stids_json(b, d, NFS4_ADMIN_LOCK, "locks");
	ctl_stids_json(b, d, NFS4_ADMIN_DELEG, "delegations");
	ctl_printf(b, "}\n");
}

static void ctl_detail_text(struct ctl_buf *b, const struct nfs4_admin_client_detail *d)
{
	char sid[2 * NFS4_SESSIONID_SIZE + 1], other[25], fh[2 * 128 + 1];
	char owner[4 * NFS4_ADMIN_OWNER_MAX + 1];

	ctl_printf(b, "%s", ctl_client_header);
	ctl_client_row(b, &d->client);
	ctl_printf(b, "callbacks in flight: %u\n", d->client.ncallbacks);
	ctl_printf(b, "\nSESSION                           FORE(busy/slots)  BACK(busy/slots)  "
		      "CONNECTIONS\n");
	for (uint32_t i = 0; i < d->nsessions; i++) {
		const struct nfs4_admin_session *s = &d->sessions[i];

		ctl_hex(s->sessionid, sizeof(s->sessionid), sid);
		ctl_printf(b, "%s  %7u/%-8u  %7u/%-8u ", sid, s->fore_busy, s->fore_slots,
			   s->back_busy, s->back_slots);
		for (uint32_t j = 0; j < s->nconns; j++)
			ctl_printf(b, " #%" PRIu64 " %s %s%s", s->conns[j].id, s->conns[j].addr,
				   ctl_dir_name(s->conns[j].dir),
				   s->conns[j].closed ? " (closed)" : "");
		ctl_printf(b, "\n");
	}
	ctl_printf(b, "\nKIND   STATEID                   SEQ  EXPORT  FH  DETAIL\n");
	for (size_t i = 0; i < d->nstids; i++) {
		const struct nfs4_admin_stid *s = &d->stids[i];

		ctl_hex(s->other, sizeof(s->other), other);
		ctl_hex(s->file.fh, s->file.fh_len, fh);
		ctl_bytes_printable(s->owner,
				    s->owner_len < NFS4_ADMIN_OWNER_MAX ? s->owner_len
									: NFS4_ADMIN_OWNER_MAX,
				    owner);
		ctl_printf(b, "%-5s  %s  %3u  %s  %s  ",
			   s->kind == NFS4_ADMIN_OPEN	? "open"
			   : s->kind == NFS4_ADMIN_LOCK ? "lock"
							: "deleg",
			   other, s->seqid, s->file.export_path, fh);
		if (s->kind == NFS4_ADMIN_OPEN)
			ctl_printf(b, "access=%s deny=%s owner=%s\n", ctl_access_name(s->access),
				   ctl_access_name(s->deny), owner);
		else if (s->kind == NFS4_ADMIN_LOCK)
			ctl_printf(b, "ranges=%u owner=%s\n", s->nranges, owner);
		else
			ctl_printf(b, "%s age=%" PRIu64 "s%s\n",
				   s->deleg_type == OPEN_DELEGATE_WRITE ? "write" : "read",
				   s->age_ms / 1000, s->recalled ? " recalled" : "");
	}
}

static int ctl_client(struct nfs4_server *srv, bool json, const char *arg, struct ctl_buf *b,
		      char *err, size_t errlen)
{
	struct nfs4_admin_client_detail *d;
	uint64_t id;
	int rc;

	if (!arg || !ctl_parse_clientid(arg, &id)) {
		snprintf(err, errlen,
			 "client: a client ID (hex, as \"clients\" shows it) expected");
		return -1;
	}
	d = malloc(sizeof(*d)); /* large (sessions and their connections): not on the stack */
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = nfs4_admin_client_detail(srv, id, d);
	if (rc == 0) {
		if (json)
			ctl_detail_json(b, d);
		else
			ctl_detail_text(b, d);
	} else if (rc == -ENOENT) {
		snprintf(err, errlen, "no client %016" PRIx64, id);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	nfs4_admin_client_detail_free(d);
	free(d);
	return rc == 0 ? 0 : -1;
}

static int ctl_expire(struct nfs4_server *srv, bool json, const char *arg, struct ctl_buf *b,
		      char *err, size_t errlen)
{
	uint64_t id;

	if (!arg || !ctl_parse_clientid(arg, &id)) {
		snprintf(err, errlen,
			 "expire: a client ID (hex, as \"clients\" shows it) expected");
		return -1;
	}
	if (nfs4_admin_expire(srv, id) < 0) {
		snprintf(err, errlen, "no client %016" PRIx64, id);
		return -1;
	}
	if (json)
		ctl_printf(b, "{\"expired\":\"%016" PRIx64 "\"}\n", id);
	else
		ctl_printf(b, "client %016" PRIx64 " expired\n", id);
	return 0;
}

/* A stateid's "other" as "client ID" shows it (24 hex digits); false if it is not one. */
static bool ctl_parse_other(const char *s, uint8_t other[12])
{
	if (strlen(s) != 24)
		return false;
	for (int i = 0; i < 12; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		other[i] = (uint8_t)v;
	}
	return true;
}

static int ctl_revoke(struct nfs4_server *srv, bool json, const char *arg, const char *sid,
		      struct ctl_buf *b, char *err, size_t errlen)
{
	uint8_t other[12];
	uint64_t id;
	int n;

	if (!arg || !ctl_parse_clientid(arg, &id)) {
		snprintf(err, errlen,
			 "revoke: a client ID (hex, as \"clients\" shows it) expected");
		return -1;
	}
	if (sid && !ctl_parse_other(sid, other)) {
		snprintf(err, errlen,
			 "revoke: a stateid (24 hex digits, as \"client\" shows it) "
			 "expected after the client ID");
		return -1;
	}
	n = nfs4_admin_revoke(srv, id, sid ? other : NULL);
	if (n < 0) {
		snprintf(err, errlen, "no client %016" PRIx64 "%s%s", id,
			 sid ? " or no stateid " : "", sid ? sid : "");
		return -1;
	}
	if (json)
		ctl_printf(b, "{\"revoked\":\"%016" PRIx64 "\",\"stateids\":%d}\n", id, n);
	else
		ctl_printf(b, "client %016" PRIx64 ": %d stateids revoked\n", id, n);
	return 0;
}

/* ---- exports ---- */

static void ctl_rule_who(const struct nfs4_export_rule *r, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (r->any) {
		snprintf(out, len, "*");
		return;
	}
	inet_ntop(r->family, r->addr, host, sizeof(host));
	snprintf(out, len, "%s/%u", host, r->prefix_len);
}

static void ctl_rule_opts(const struct nfs4_export_rule *r, char *out, size_t len)
{
	static const char *const squash[] = {"root_squash", "no_root_squash", "all_squash"};
	bool sys = r->sec_flavors & (1u << RPC_AUTH_SYS);
	bool none = r->sec_flavors & (1u << RPC_AUTH_NONE);

	snprintf(out, len, "%s,%s,%s%s,sec=%s,anonuid=%u,anongid=%u", r->rw ? "rw" : "ro",
		 r->async ? "async" : "sync", r->secure ? "secure," : "", squash[r->squash],
		 sys && none ? "sys:none"
		 : none	     ? "none"
			     : "sys",
		 r->anonuid, r->anongid);
}

static int ctl_exports(struct nfs4_server *srv, bool json, struct ctl_buf *b)
{
	const struct nfs4_export_table *e;
	char who[INET6_ADDRSTRLEN + 8], opts[128];
	struct be_stats bs;

	rcu_read_begin(); /* the table, and each export's rules, until the end */
	e = nfs4_admin_exports(srv);

	if (json)
		ctl_printf(b, "{\"exports\":[");
	else
		ctl_printf(b, "%-10s  %-30s  %10s  %10s  %s\n", "ID", "PATH", "META_SYNCS",
			   "DATA_SYNCS", "CLIENTS");
	for (int i = 0; i < e->n; i++) {
		const struct nfs4_export *x = e->v[i];
		const struct nfs4_export_rules *rules = rcu_fetch(x->rules);

		be_stats_get(x->be, &bs);
		if (json) {
			ctl_printf(b, "%s\n{\"id\":%u,\"path\":", i ? "," : "", x->id);
			ctl_json_str(b, x->path);
			ctl_printf(b,
				   ",\"meta_syncs\":%" PRIu64 ",\"data_syncs\":%" PRIu64
				   ",\"clients\":[",
				   bs.meta_syncs, bs.data_syncs);
		} else {
			ctl_printf(b, "%-10u  %-30s  %10" PRIu64 "  %10" PRIu64 " ", x->id, x->path,
				   bs.meta_syncs, bs.data_syncs);
		}
		for (int j = 0; j < rules->n; j++) {
			ctl_rule_who(&rules->v[j], who, sizeof(who));
			ctl_rule_opts(&rules->v[j], opts, sizeof(opts));
			if (json)
				ctl_printf(b, "%s{\"who\":\"%s\",\"options\":\"%s\"}", j ? "," : "",
					   who, opts);
			else
				ctl_printf(b, " %s(%s)", who, opts);
		}
		ctl_printf(b, json ? "]}" : "\n");
	}
	rcu_read_end();
	if (json)
		ctl_printf(b, "]}\n");
	return 0;
}

/* ---- reload ---- */

static int ctl_reload(struct nfs4_server *srv, bool json, struct ctl_buf *b, char *err,
		      size_t errlen)
{
	int n = nfs4_server_reload(srv, err, errlen);

	if (n < 0)
		return -1;
	if (json)
		ctl_printf(b, "{\"reloaded\":true,\"exports\":%d}\n", n);
	else
		ctl_printf(b, "exports reloaded: %d served\n", n);
	return 0;
}

/* ---- stats ---- */

/* The upper bound in µs of the bucket holding the q-quantile of c (0 when empty). */
static uint64_t ctl_quantile_us(const struct nfs4_op_counter *c, uint64_t calls, double q)
{
	uint64_t want = (uint64_t)(q * (double)calls), seen = 0;

	for (unsigned i = 0; i < NFS4_STATS_LAT_BUCKETS; i++) {
		seen += atomic_load_explicit(&c->lat[i], memory_order_relaxed);
		if (seen > want || seen == calls)
			return 1ull << i;
	}
	return 1ull << (NFS4_STATS_LAT_BUCKETS - 1);
}

static int ctl_stats(struct nfs4_server *srv, bool json, struct ctl_buf *b)
{
	const struct nfs4_stats *s = nfs4_admin_stats(srv);
	struct nfs4_admin_totals t;
	bool first = true;

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
	nfs4_admin_totals(srv, &t);
	if (json)
		ctl_printf(b,
			   "{\"state\":{\"clients\":%ld,\"sessions\":%ld,\"stateids\":%ld,"
			   "\"files\":%ld,\"delegations\":%ld,\"kept_delegations\":%ld,"
			   "\"callbacks\":%ld},\n"
			   "\"expired_clients\":%ld,\n"
			   "\"callbacks\":{\"sent\":%" PRIu64 ",\"retried\":%" PRIu64
			   ",\"failed\":%" PRIu64 "},\n"
			   "\"delegations\":{\"granted\":%" PRIu64 ",\"recalled\":%" PRIu64
			   ",\"revoked\":%" PRIu64 "},\n\"ops\":[",
			   t.clients, t.sessions, t.stateids, t.files, t.delegations,
			   t.kept_delegations, t.callbacks, t.expired_clients, LOAD(s->cb_sent),
			   LOAD(s->cb_retried), LOAD(s->cb_failed), LOAD(s->deleg_granted),
			   LOAD(s->deleg_recalled), LOAD(s->deleg_revoked));
	else
		ctl_printf(b,
			   "clients %ld  sessions %ld  stateids %ld  files %ld  delegations %ld "
			   "(kept %ld)  callbacks %ld  expired clients %ld\n"
			   "callbacks sent %" PRIu64 "  retried %" PRIu64 "  failed %" PRIu64 "\n"
			   "delegations granted %" PRIu64 "  recalled %" PRIu64 "  revoked %" PRIu64
			   "\n\n%-22s %12s %10s %9s %9s\n",
			   t.clients, t.sessions, t.stateids, t.files, t.delegations,
			   t.kept_delegations, t.callbacks, t.expired_clients, LOAD(s->cb_sent),
			   LOAD(s->cb_retried), LOAD(s->cb_failed), LOAD(s->deleg_granted),
			   LOAD(s->deleg_recalled), LOAD(s->deleg_revoked), "OP", "CALLS", "ERRORS",
			   "P50(us)", "P99(us)");
	for (uint32_t op = 0; op < NFS4_STATS_NOPS; op++) {
		const struct nfs4_op_counter *c = &s->op[op];
		uint64_t calls = LOAD(c->calls);
		const char *name = nfs4_op_name(op);

		if (!name || calls == 0)
			continue;
		if (json) {
			ctl_printf(b,
				   "%s\n{\"op\":\"%s\",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64
				   ",\"latency_us\":[",
				   first ? "" : ",", name, calls, LOAD(c->errors));
			for (unsigned i = 0; i < NFS4_STATS_LAT_BUCKETS; i++)
				ctl_printf(b, "%s%" PRIu64, i ? "," : "", LOAD(c->lat[i]));
			ctl_printf(b, "]}");
		} else {
			ctl_printf(b,
				   "%-22s %12" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
				   name, calls, LOAD(c->errors), ctl_quantile_us(c, calls, 0.5),
				   ctl_quantile_us(c, calls, 0.99));
		}
		first = false;
	}
#undef LOAD
	if (json)
		ctl_printf(b, "]}\n");
	return 0;
}

int ctl_run(struct nfs4_server *srv, bool json, int argc, char **argv, struct ctl_buf *out,
	    char *err, size_t errlen)
{
	const char *cmd = argv[0], *arg = argc > 1 ? argv[1] : NULL;

	if (strcmp(cmd, "clients") == 0)
		return ctl_clients(srv, json, out, err, errlen);
	if (strcmp(cmd, "client") == 0)
		return ctl_client(srv, json, arg, out, err, errlen);
	if (strcmp(cmd, "expire") == 0)
		return ctl_expire(srv, json, arg, out, err, errlen);
	if (strcmp(cmd, "revoke") == 0)
		return ctl_revoke(srv, json, arg, argc > 2 ? argv[2] : NULL, out, err, errlen);
	if (strcmp(cmd, "exports") == 0)
		return ctl_exports(srv, json, out);
	if (strcmp(cmd, "stats") == 0)
		return ctl_stats(srv, json, out);
	if (strcmp(cmd, "reload") == 0)
		return ctl_reload(srv, json, out, err, errlen);
	snprintf(err, errlen, "unknown command \"%.64s\"", cmd);
	return -1;
}
