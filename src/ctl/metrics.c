/*
 * The Prometheus endpoint (metrics.h): its HTTP/1.0 server and the page.
 */
#include "ctl/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/listener.h"
#include "ctl/render.h"
#include "backend/backend.h"
#include "nfs4/admin.h"
#include "nfs4/fh.h"
#include "util/rcu.h"
#include "util/log.h"

#define METRICS_MAX_REQUEST 4096
#define METRICS_IO_TIMEOUT_S 5

struct ctl_metrics {
	struct nfs4_server *srv;
	struct ctl_listener listener;
};

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void metrics_counter(struct ctl_buf *b, const char *name, const char *help, uint64_t v)
{
	ctl_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name,
		   v);
}

static void metrics_gauge(struct ctl_buf *b, const char *name, const char *help, long v)
{
	ctl_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %ld\n", name, help, name, name, v);
}

/* Per-op families: each op that ran at least once. */
static void metrics_ops(struct ctl_buf *b, const struct nfs4_stats *s)
{
	static const char *const heads[] = {
		"# HELP nfs4d_op_calls_total NFSv4.1 operations executed.\n"
		"# TYPE nfs4d_op_calls_total counter\n",
		"# HELP nfs4d_op_errors_total NFSv4.1 operations that returned an error.\n"
		"# TYPE nfs4d_op_errors_total counter\n",
		"# HELP nfs4d_op_latency_seconds Time in the operation's handler.\n"
		"# TYPE nfs4d_op_latency_seconds histogram\n",
	};

	for (int family = 0; family < 3; family++) {
		ctl_printf(b, "%s", heads[family]);
		for (uint32_t op = 0; op < NFS4_STATS_NOPS; op++) {
			const struct nfs4_op_counter *c = &s->op[op];
			const char *name = nfs4_op_name(op);
			uint64_t count = 0;

			if (!name || LOAD(c->calls) == 0)
				continue;
			if (family == 0) {
				ctl_printf(b, "nfs4d_op_calls_total{op=\"%s\"} %" PRIu64 "\n", name,
					   LOAD(c->calls));
				continue;
			}
			if (family == 1) {
				ctl_printf(b, "nfs4d_op_errors_total{op=\"%s\"} %" PRIu64 "\n",
					   name, LOAD(c->errors));
				continue;
			}
			/* Cumulative buckets; the count is their sum, so +Inf always equals it. */
			for (unsigned i = 0; i < NFS4_STATS_LAT_BUCKETS - 1; i++) {
				count += LOAD(c->lat[i]);
				ctl_printf(b,
					   "nfs4d_op_latency_seconds_bucket{op=\"%s\",le=\"%g\"} "
					   "%" PRIu64 "\n",
					   name, (double)(1ull << i) / 1e6, count);
			}
			count += LOAD(c->lat[NFS4_STATS_LAT_BUCKETS - 1]);
			ctl_printf(b,
				   "nfs4d_op_latency_seconds_bucket{op=\"%s\",le=\"+Inf\"} %" PRIu64
				   "\n"
				   "nfs4d_op_latency_seconds_sum{op=\"%s\"} %.9f\n"
				   "nfs4d_op_latency_seconds_count{op=\"%s\"} %" PRIu64 "\n",
				   name, count, name, (double)LOAD(c->total_ns) / 1e9, name, count);
		}
	}
}

/* A label value in the text format: backslash, double quote and newline escaped. */
static void metrics_label_value(struct ctl_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			ctl_printf(b, "\\%c", *s);
		else if (*s == '\n')
			ctl_printf(b, "\\n");
		else
			ctl_printf(b, "%c", *s);
	}
}

/* Per export: the syncs its backend did (docs/exports.md, sync and async). */
static void metrics_export_syncs(struct nfs4_server *srv, struct ctl_buf *b)
{
	const struct nfs4_export_table *e;

	ctl_printf(b, "# HELP nfs4d_export_syncs_total Syncs to stable storage done for an "
		      "export: kind meta (directories, sizes), data (stable WRITEs, COMMITs).\n"
		      "# TYPE nfs4d_export_syncs_total counter\n");
	rcu_read_begin(); /* the table, until the end */
	e = nfs4_admin_exports(srv);
	for (int i = 0; i < e->n; i++) {
		const struct nfs4_export *x = e->v[i];
		struct be_stats bs;

		be_stats_get(x->be, &bs);
		for (int kind = 0; kind < 2; kind++) {
			ctl_printf(b, "nfs4d_export_syncs_total{export=\"");
			metrics_label_value(b, x->path);
			ctl_printf(b, "\",kind=\"%s\"} %" PRIu64 "\n", kind ? "data" : "meta",
				   kind ? bs.data_syncs : bs.meta_syncs);
		}
	}
	rcu_read_end();
}

static void metrics_render(struct nfs4_server *srv, struct ctl_buf *b)
{
	const struct nfs4_stats *s = nfs4_admin_stats(srv);
	struct nfs4_admin_totals t;

	nfs4_admin_totals(srv, &t);
	metrics_gauge(b, "nfs4d_clients", "Clients known now (expired ones not counted).",
		      t.clients);
	metrics_gauge(b, "nfs4d_expired_clients",
		      "Clients whose lease ran out, kept until they return.", t.expired_clients);
	metrics_gauge(b, "nfs4d_sessions", "Sessions alive now.", t.sessions);
	metrics_gauge(b, "nfs4d_stateids", "Open, lock and delegation stateids now.", t.stateids);
	metrics_gauge(b, "nfs4d_files", "Files with state now.", t.files);
	metrics_gauge(b, "nfs4d_delegations", "Delegations held now.", t.delegations);
	metrics_gauge(b, "nfs4d_delegations_kept",
		      "Delegations kept for restarted clients to reclaim (in nfs4d_delegations).",
		      t.kept_delegations);
	metrics_gauge(b, "nfs4d_callbacks", "Callbacks queued or in flight now.", t.callbacks);
	metrics_counter(b, "nfs4d_callbacks_sent_total", "Callbacks sent (each retry again).",
			LOAD(s->cb_sent));
	metrics_counter(b, "nfs4d_callbacks_retried_total", "Callbacks resent after NFS4ERR_DELAY.",
			LOAD(s->cb_retried));
	metrics_counter(b, "nfs4d_callbacks_failed_total",
			"Callbacks that faulted their back channel.", LOAD(s->cb_failed));
	metrics_counter(b, "nfs4d_delegations_granted_total", "Delegations granted.",
			LOAD(s->deleg_granted));
	metrics_counter(b, "nfs4d_delegations_recalled_total", "Delegations recalled.",
			LOAD(s->deleg_recalled));
	metrics_counter(b, "nfs4d_delegations_revoked_total",
			"Delegations revoked (not returned within a lease).",
			LOAD(s->deleg_revoked));
	metrics_export_syncs(srv, b);
	metrics_ops(b, s);
}

static void metrics_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the scraper went or stalled */
		p += w;
		len -= (size_t)w;
	}
}

static void metrics_reply(int fd, const char *status, const char *type, const char *body,
			  size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	metrics_write_all(fd, head, (size_t)n);
	metrics_write_all(fd, body, len);
}

/* Reads the request head (up to the blank line). false: none within the limits. */
static bool metrics_read_head(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = 0;
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return true;
	}
	return false;
}

/* One HTTP request on fd (ctl_listener's serve). */
static void metrics_serve(void *arg, int fd)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct ctl_metrics *m = arg;
	char req[METRICS_MAX_REQUEST + 1], method[16], path[256];
	struct ctl_buf out = {0};

	if (!metrics_read_head(fd, req, sizeof(req)) ||
	    sscanf(req, "%15s %255s HTTP/1.%*c", method, path) != 2) {
		metrics_reply(fd, "400 Bad Request", text, "bad request\n", 12);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		metrics_reply(fd, "405 Method Not Allowed", text, "GET only\n", 9);
		return;
	}
	if (strcmp(path, "/metrics") != 0) {
		metrics_reply(fd, "404 Not Found", text, "see /metrics\n", 13);
		return;
	}
	metrics_render(m->srv, &out);
	if (out.oom)
		metrics_reply(fd, "500 Internal Server Error", text, "out of memory\n", 14);
	else
		metrics_reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", out.p,
			      out.len);
	ctl_buf_free(&out);
}

struct ctl_metrics *ctl_metrics_start(const struct sockaddr_storage *addr, struct nfs4_server *srv)
{
	socklen_t alen = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	struct sockaddr_storage bound;
	struct ctl_metrics *m;
	const char *what;
	uint16_t port;
	int one = 1, lfd = -1, err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->srv = srv;
	what = "socket";
	lfd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		goto fail;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	what = "bind";
	if (bind(lfd, (const struct sockaddr *)addr, alen) != 0)
		goto fail;
	what = "listen";
	if (listen(lfd, 16) != 0)
		goto fail;
	alen = sizeof(bound);
	what = "getsockname";
	if (getsockname(lfd, (struct sockaddr *)&bound, &alen) != 0)
		goto fail;
	port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						 : ((struct sockaddr_in *)&bound)->sin_port);
	what = "thread";
	err = ctl_listener_start(&m->listener, lfd, "metrics", METRICS_IO_TIMEOUT_S, metrics_serve,
				 m);
	if (err < 0) {
		errno = -err;
		goto fail;
	}
	log_info("ctl", "metrics on port %u (GET /metrics)", port);
	return m;

fail:
	log_err("ctl", "metrics endpoint: %s: %s", what, strerror(errno));
	if (lfd >= 0)
		close(lfd);
	free(m);
	return NULL;
}

void ctl_metrics_stop(struct ctl_metrics *m)
{
	if (!m)
		return;
	ctl_listener_stop(&m->listener);
	free(m);
}
