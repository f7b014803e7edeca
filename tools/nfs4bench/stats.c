/*
 * Latency histogram and the report. The histogram is log-linear: values below
 * 16 ns have a bucket each; above, every power of two is split into 16 equal
 * buckets, so a quantile is exact to within 1/16 (6%) of its value while the
 * whole table stays a fixed 8 KiB per thread, merged once at the end.
 */
#include <inttypes.h>

#include "nb.h"

static int bucket_of(uint64_t v)
{
	int e;

	if (v < NB_HIST_SUB)
		return (int)v;
	e = 63 - __builtin_clzll(v); /* >= 4 */
	return (e - 3) * NB_HIST_SUB + (int)((v >> (e - 4)) & (NB_HIST_SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_top(int b)
{
	int e = b / NB_HIST_SUB + 3;
	uint64_t sub = (uint64_t)(b % NB_HIST_SUB);

	if (b < NB_HIST_SUB)
		return (uint64_t)b;
	return ((NB_HIST_SUB + sub + 1) << (e - 4)) - 1;
}

void nb_hist_add(struct nb_hist *h, uint64_t ns)
{
	h->count[bucket_of(ns)]++;
	h->n++;
}

void nb_hist_merge(struct nb_hist *into, const struct nb_hist *from)
{
	for (int i = 0; i < NB_HIST_BUCKETS; i++)
		into->count[i] += from->count[i];
	into->n += from->n;
}

uint64_t nb_hist_quantile(const struct nb_hist *h, double q)
{
	uint64_t rank = (uint64_t)(q * (double)h->n), seen = 0;

	if (!h->n)
		return 0;
	if (rank >= h->n)
		rank = h->n - 1;
	for (int i = 0; i < NB_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > rank)
			return bucket_top(i);
	}
	return bucket_top(NB_HIST_BUCKETS - 1);
}

static double per_sec(const struct nb_result *r, double v)
{
	return r->seconds > 0 ? v / r->seconds : 0;
}

void nb_report_header(FILE *f)
{
	fprintf(f, "%-11s %10s %8s %12s %9s %10s %10s %10s %7s\n", "workload", "ops", "secs",
		"ops/s", "MiB/s", "p50 us", "p99 us", "p99.9 us", "errors");
}

void nb_report_table(FILE *f, const struct nb_result *r, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f,
			"%-11s %10" PRIu64 " %8.2f %12.0f %9.1f %10.1f %10.1f %10.1f %7" PRIu64
			"\n",
			r[i].workload, r[i].ops, r[i].seconds, per_sec(&r[i], (double)r[i].ops),
			per_sec(&r[i], (double)r[i].bytes / NB_MIB), r[i].p50_ns / 1e3,
			r[i].p99_ns / 1e3, r[i].p999_ns / 1e3, r[i].errors);
}

void nb_report_json(FILE *f, const struct nb_result *r, int n, const char *config_json)
{
	fprintf(f, "{\"config\": %s,\n \"results\": [", config_json);
	for (int i = 0; i < n; i++)
		fprintf(f,
			"%s\n  {\"workload\": \"%s\", \"ops\": %" PRIu64 ", \"seconds\": %.3f, "
			"\"ops_per_sec\": %.1f, \"mib_per_sec\": %.2f, \"bytes\": %" PRIu64 ", "
			"\"latency_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f}, "
			"\"errors\": %" PRIu64 "}",
			i ? "," : "", r[i].workload, r[i].ops, r[i].seconds,
			per_sec(&r[i], (double)r[i].ops),
			per_sec(&r[i], (double)r[i].bytes / NB_MIB), r[i].bytes, r[i].p50_ns / 1e3,
			r[i].p99_ns / 1e3, r[i].p999_ns / 1e3, r[i].errors);
	fprintf(f, "\n]}\n");
}
