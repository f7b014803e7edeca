/*
 * The Prometheus endpoint (--metrics): a scrape parses as the text format
 * (every sample of a family announced by # TYPE, names and labels well
 * formed, histograms cumulative with +Inf equal to _count), its values are
 * what the test's client did, anything but GET /metrics is refused with
 * the right HTTP status, and a bad or busy --metrics address stops nfs4d.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define PAGE_MAX (512 * 1024)
#define MAX_SAMPLES 4096

static struct harness_srv *srv;
static char logpath[256];
static uint16_t metrics_port;

static int setup(void **state)
{
	const char *args[] = {"--backend", "mem",	  "--export", "/",
			      "--metrics", "127.0.0.1:0", NULL};
	char line[512];
	FILE *f;

	(void)state;
	snprintf(logpath, sizeof(logpath), "%s/nfs4d-metrics-%d.log", harness_tmpdir(),
		 (int)getpid());
	unlink(logpath);
	srv = harness_start_logged(args, logpath);
	/* nfs4d logs the port it bound before it writes its port file. */
	f = fopen(logpath, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "metrics on port ");
		unsigned port;

		if (p && sscanf(p, "metrics on port %u", &port) == 1)
			metrics_port = (uint16_t)port;
	}
	fclose(f);
	assert_int_not_equal(metrics_port, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop(srv);
	unlink(logpath);
	return 0;
}

/* Sends req to the endpoint and reads the whole answer into out (NUL-terminated). */
static void http(const char *req, char *out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(metrics_port)};
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len < PAGE_MAX - 1 && (n = read(fd, out + len, PAGE_MAX - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(fd);
}

struct sample {
	char name[128];
	char labels[256]; /* as written, without the braces */
	double value;
};

static bool metric_name_ok(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* Labels: name="value" pairs separated by commas (values without escapes here). */
static bool labels_ok(const char *s)
{
	while (*s) {
		const char *eq = strchr(s, '=');

		if (!eq || !metric_name_ok(s, (size_t)(eq - s)) || eq[1] != '"')
			return false;
		s = strchr(eq + 2, '"');
		if (!s)
			return false;
		s++;
		if (*s == ',')
			s++;
		else if (*s)
			return false;
	}
	return true;
}

/* Parses the body of a scrape into samples, failing the test on a malformed line. */
static size_t parse_page(char *body, struct sample *v)
{
	char typed[64][128];
	size_t n = 0, ntyped = 0;

	for (char *save = NULL, *line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32];
		struct sample *s = &v[n];
		const char *rest;
		char *end;
		size_t len;

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
				    strcmp(type, "histogram") == 0);
			assert_true(ntyped < 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			continue;
		}
		assert_true(n < MAX_SAMPLES);
		len = strcspn(line, "{ ");
		if (!metric_name_ok(line, len) || len >= sizeof(s->name))
			fail_msg("bad metric name: %s", line);
		memcpy(s->name, line, len);
		s->name[len] = 0;
		s->labels[0] = 0;
		rest = line + len;
		if (*rest == '{') {
			const char *close = strchr(rest, '}');

			if (!close || (size_t)(close - rest - 1) >= sizeof(s->labels))
				fail_msg("bad labels: %s", line);
			memcpy(s->labels, rest + 1, (size_t)(close - rest - 1));
			s->labels[close - rest - 1] = 0;
			if (!labels_ok(s->labels))
				fail_msg("bad labels: %s", line);
			rest = close + 1;
		}
		if (*rest != ' ')
			fail_msg("no value: %s", line);
		s->value = strtod(rest + 1, &end);
		if (end == rest + 1 || *end)
			fail_msg("bad value: %s", line);
		/* Its family (histograms: name minus _bucket/_sum/_count) was announced. */
		{
			bool known = false;

			for (size_t i = 0; i < ntyped && !known; i++) {
				size_t tl = strlen(typed[i]);

				known = strncmp(s->name, typed[i], tl) == 0 &&
					(s->name[tl] == 0 || strcmp(s->name + tl, "_bucket") == 0 ||
					 strcmp(s->name + tl, "_sum") == 0 ||
					 strcmp(s->name + tl, "_count") == 0);
			}
			if (!known)
				fail_msg("sample before its # TYPE: %s", line);
		}
		n++;
	}
	return n;
}

static const struct sample *find(const struct sample *v, size_t n, const char *name,
				 const char *labels)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0 && strcmp(v[i].labels, labels) == 0)
			return &v[i];
	return NULL;
}

static double value(const struct sample *v, size_t n, const char *name, const char *labels)
{
	const struct sample *s = find(v, n, name, labels);

	if (!s)
		fail_msg("no sample %s{%s}", name, labels);
	return s->value;
}

static void scrape_is_prometheus_text_with_our_counts(void **state)
{
	char *page = malloc(PAGE_MAX), *body, owner[64];
	struct sample *v = calloc(MAX_SAMPLES, sizeof(*v));
	struct harness_client cl;
	double prev = 0;
	size_t n;

	(void)state;
	assert_true(page && v);
	harness_client_new(srv, &cl, harness_owner(owner, sizeof(owner), "metrics"), 4);
	http("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n", page);
	assert_true(strncmp(page, "HTTP/1.0 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(page, "Content-Type: text/plain; version=0.0.4"));
	body = strstr(page, "\r\n\r\n");
	assert_non_null(body);
	n = parse_page(body + 4, v);

	assert_int_equal(value(v, n, "nfs4d_clients", ""), 1);
	assert_int_equal(value(v, n, "nfs4d_sessions", ""), 1);
	assert_true(value(v, n, "nfs4d_op_calls_total", "op=\"EXCHANGE_ID\"") >= 1);
	assert_true(value(v, n, "nfs4d_op_calls_total", "op=\"CREATE_SESSION\"") >= 1);
	assert_int_equal(value(v, n, "nfs4d_op_errors_total", "op=\"CREATE_SESSION\""), 0);
	assert_int_equal(value(v, n, "nfs4d_delegations_granted_total", ""), 0);
	/* mem syncs nothing; the vfs counts are test_async's (nfs4ctl exports). */
	assert_int_equal(value(v, n, "nfs4d_export_syncs_total", "export=\"/\",kind=\"meta\""), 0);
	assert_int_equal(value(v, n, "nfs4d_export_syncs_total", "export=\"/\",kind=\"data\""), 0);
	/* The histogram of CREATE_SESSION: cumulative, ending at its call count. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, "nfs4d_op_latency_seconds_bucket") != 0 ||
		    strncmp(v[i].labels, "op=\"CREATE_SESSION\",", 20) != 0)
			continue;
		assert_true(v[i].value >= prev);
		prev = v[i].value;
	}
	assert_int_equal(
		value(v, n, "nfs4d_op_latency_seconds_bucket", "op=\"CREATE_SESSION\",le=\"+Inf\""),
		value(v, n, "nfs4d_op_calls_total", "op=\"CREATE_SESSION\""));
	assert_int_equal(value(v, n, "nfs4d_op_latency_seconds_count", "op=\"CREATE_SESSION\""),
			 prev);
	assert_true(value(v, n, "nfs4d_op_latency_seconds_sum", "op=\"CREATE_SESSION\"") > 0);

	harness_client_free(&cl, false);
	free(page);
	free(v);
}

static void only_get_metrics_is_served(void **state)
{
	char *page = malloc(PAGE_MAX);

	(void)state;
	assert_non_null(page);
	http("GET / HTTP/1.0\r\n\r\n", page);
	assert_true(strncmp(page, "HTTP/1.0 404 ", 13) == 0);
	http("POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", page);
	assert_true(strncmp(page, "HTTP/1.0 405 ", 13) == 0);
	http("hello\n\n", page);
	assert_true(strncmp(page, "HTTP/1.0 400 ", 13) == 0);
	/* Still serving. */
	http("GET /metrics HTTP/1.1\r\n\r\n", page);
	assert_true(strncmp(page, "HTTP/1.0 200 ", 13) == 0);
	free(page);
}

static void bad_or_busy_address_stops_nfs4d(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	char err[1024], addr[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	{
		const char *args[] = {"--backend", "mem",	"--export", "/",
				      "--metrics", "127.0.0.1", NULL};

		assert_int_equal(harness_run_expect_exit(args, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "--metrics must be ADDR:PORT"));
	}
	/* A port someone else listens on. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(a.sin_port));
	{
		const char *args[] = {"--backend", "mem", "--export", "/", "--metrics", addr, NULL};

		assert_int_equal(harness_run_expect_exit(args, err, sizeof(err)), 1);
		assert_non_null(strstr(err, "metrics endpoint: bind"));
	}
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scrape_is_prometheus_text_with_our_counts),
		cmocka_unit_test(only_get_metrics_is_served),
		cmocka_unit_test(bad_or_busy_address_stops_nfs4d),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
