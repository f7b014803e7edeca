#include "main/options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "nfs4/fh.h"
#include "util/limits.h"

static const char nfs4d_usage[] =
	"Usage: nfs4d [OPTION]...\n"
	"A userspace NFSv4.1 server. Runs in the foreground and logs to stderr.\n"
	"\n"
	"  --listen ADDR[:PORT]   address to serve on; repeatable (default 0.0.0.0:2049);\n"
	"                         IPv6 as [ADDR]:PORT; port 0 picks a free port\n"
	"  --export PATH          directory to export to everyone, read-write, with root\n"
	"                         squashed; repeatable. Also takes a whole exports line,\n"
	"                         e.g. --export '/srv 10.0.0.0/8(rw,no_root_squash)'\n"
	"  --exports FILE         exports file in /etc/exports syntax (nfs4d.exports(5))\n"
	"  --backend vfs|mem      storage backend (default vfs; mem keeps files in memory)\n"
	"  --mem-limit BYTES      mem backend: bytes of data, names and inodes each export\n"
	"                         may hold before writes and creates fail with NFS4ERR_NOSPC;\n"
	"                         K, M, G suffixes (powers of 1024); default 1G\n"
	"  --threads N            threads that run calls (default: 4 per core)\n"
	"  --lease SECONDS        lease time granted to clients, 1-3600 (default 90)\n"
	"  --grace SECONDS        grace period after a restart, 0-3600 (default: the lease):\n"
	"                         clients reclaim their opens and locks (docs/recovery.md)\n"
	"  --state-dir DIR        state directory (default /var/lib/nfs4d; created if missing):\n"
	"                         client records for reboot recovery, and the control socket\n"
	"                         nfs4ctl talks to (nfs4d.ctl)\n"
	"  --max-delegations N    delegations granted at most at once, 0-1000000\n"
	"                         (default 10000; 0: none)\n"
	"  --port-file FILE       write the bound port of the first --listen to FILE once\n"
	"                         serving (for scripts and tests)\n"
	"  --idmap-domain DOMAIN  spell owners as name@DOMAIN from the passwd and group\n"
	"                         databases (default: numeric owners, as Linux clients\n"
	"                         use with AUTH_SYS)\n"
	"  --metrics ADDR:PORT    serve counters in the Prometheus text format at\n"
	"                         http://ADDR:PORT/metrics (default: off)\n"
	"  --log-level LEVEL      error, warn, info (default) or debug\n"
	"  --check-config         check the options and the exports, then exit: 0 when\n"
	"                         nfs4d would start with them, 2 with the reason\n"
	"  --help                 show this help\n"
	"  --version              show the version\n";

static int nfs4d_bad(const char *what, const char *arg)
{
	fprintf(stderr, "nfs4d: %s%s (try --help)\n", what, arg);
	return -1;
}

static int nfs4d_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024), at least 1. */
static int nfs4d_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || v == 0 || v > UINT64_MAX >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int nfs4d_parse_addr(const char *s, struct sockaddr_storage *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_str = NULL;
	unsigned long port = NFS4_DEFAULT_PORT;
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':')
			port_str = close + 2;
		else if (close[1])
			return -1;
		if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
			return -1;
		v6->sin6_family = AF_INET6;
	} else {
		const char *colon = strchr(s, ':');
		size_t n = colon ? (size_t)(colon - s) : strlen(s);

		if (n >= sizeof(host))
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		if (colon)
			port_str = colon + 1;
		if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
			return -1;
		v4->sin_family = AF_INET;
	}
	if (port_str && nfs4d_parse_uint(port_str, 0, 65535, &port) < 0)
		return -1;
	if (out->ss_family == AF_INET)
		v4->sin_port = htons((uint16_t)port);
	else
		v6->sin6_port = htons((uint16_t)port);
	return 0;
}

int nfs4d_options_parse(int argc, char **argv, struct nfs4d_options *opts)
{
	enum {
		O_LISTEN = 256,
		O_EXPORT,
		O_EXPORTS,
		O_BACKEND,
		O_MEM_LIMIT,
		O_THREADS,
		O_LEASE,
		O_GRACE,
		O_STATE_DIR,
		O_PORT_FILE,
		O_MAX_DELEGS,
		O_IDMAP_DOMAIN,
		O_LOG_LEVEL,
		O_METRICS,
		O_CHECK_CONFIG,
		O_HELP,
		O_VERSION
	};
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, O_LISTEN},
		{"export", required_argument, NULL, O_EXPORT},
		{"exports", required_argument, NULL, O_EXPORTS},
		{"backend", required_argument, NULL, O_BACKEND},
		{"mem-limit", required_argument, NULL, O_MEM_LIMIT},
		{"threads", required_argument, NULL, O_THREADS},
		{"lease", required_argument, NULL, O_LEASE},
		{"grace", required_argument, NULL, O_GRACE},
		{"state-dir", required_argument, NULL, O_STATE_DIR},
		{"port-file", required_argument, NULL, O_PORT_FILE},
		{"max-delegations", required_argument, NULL, O_MAX_DELEGS},
		{"idmap-domain", required_argument, NULL, O_IDMAP_DOMAIN},
		{"log-level", required_argument, NULL, O_LOG_LEVEL},
		{"metrics", required_argument, NULL, O_METRICS},
		{"check-config", no_argument, NULL, O_CHECK_CONFIG},
		{"help", no_argument, NULL, O_HELP},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	bool grace_set = false;
	unsigned long v;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->backend = NFS4D_BACKEND_VFS;
	opts->lease = NFS4_DEFAULT_LEASE;
	opts->max_delegs = NFS4_DEFAULT_MAX_DELEGS;
	opts->state_dir = "/var/lib/nfs4d";
	opts->log_level = LOG_INFO;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (opts->nlisten == NFS4D_MAX_LISTEN)
				return nfs4d_bad("too many --listen addresses: ", optarg);
			if (nfs4d_parse_addr(optarg, &opts->listen[opts->nlisten]) < 0)
				return nfs4d_bad("bad --listen address: ", optarg);
			opts->nlisten++;
			break;
		case O_EXPORT:
			if (opts->nexports == NFS4D_MAX_EXPORTS)
				return nfs4d_bad("too many --export paths: ", optarg);
			opts->exports[opts->nexports++] = optarg;
			break;
		case O_EXPORTS:
			opts->exports_file = optarg;
			break;
		case O_BACKEND:
			if (strcmp(optarg, "vfs") == 0)
				opts->backend = NFS4D_BACKEND_VFS;
			else if (strcmp(optarg, "mem") == 0)
				opts->backend = NFS4D_BACKEND_MEM;
			else
				return nfs4d_bad("--backend must be vfs or mem, not ", optarg);
			break;
		case O_MEM_LIMIT:
			if (nfs4d_parse_size(optarg, &opts->mem_limit) < 0)
				return nfs4d_bad("--mem-limit must be a byte count (K, M, G), not ",
						 optarg);
			break;
		case O_THREADS:
			if (nfs4d_parse_uint(optarg, 1, 1024, &v) < 0)
				return nfs4d_bad("--threads must be 1-1024, not ", optarg);
			opts->threads = (int)v;
			break;
		case O_LEASE:
			if (nfs4d_parse_uint(optarg, 1, 3600, &v) < 0)
				return nfs4d_bad("--lease must be 1-3600 seconds, not ", optarg);
			opts->lease = (uint32_t)v;
			break;
		case O_GRACE:
			if (nfs4d_parse_uint(optarg, 0, 3600, &v) < 0)
				return nfs4d_bad("--grace must be 0-3600 seconds, not ", optarg);
			opts->grace = (uint32_t)v;
			grace_set = true;
			break;
		case O_METRICS: {
			/* The port is required: NFS's default port would be a surprise here. */
			const char *bracket = strrchr(optarg, ']');

			if (!strchr(bracket ? bracket : optarg, ':') ||
			    nfs4d_parse_addr(optarg, &opts->metrics_addr) < 0)
				return nfs4d_bad("--metrics must be ADDR:PORT, not ", optarg);
			opts->metrics = true;
			break;
		}
		case O_CHECK_CONFIG:
			opts->check_config = true;
			break;
		case O_STATE_DIR:
			opts->state_dir = optarg;
			break;
		case O_PORT_FILE:
			opts->port_file = optarg;
			break;
		case O_MAX_DELEGS:
			if (nfs4d_parse_uint(optarg, 0, 1000000, &v) < 0)
				return nfs4d_bad("--max-delegations must be 0-1000000, not ",
						 optarg);
			opts->max_delegs = (uint32_t)v;
			break;
		case O_IDMAP_DOMAIN:
			if (!*optarg || strchr(optarg, '@'))
				return nfs4d_bad("--idmap-domain needs a domain name, not ",
						 optarg);
			opts->idmap_domain = optarg;
			break;
		case O_LOG_LEVEL:
			if (strcmp(optarg, "error") == 0)
				opts->log_level = LOG_ERR;
			else if (strcmp(optarg, "warn") == 0)
				opts->log_level = LOG_WARN;
			else if (strcmp(optarg, "info") == 0)
				opts->log_level = LOG_INFO;
			else if (strcmp(optarg, "debug") == 0)
				opts->log_level = LOG_DEBUG;
			else
				return nfs4d_bad(
					"--log-level must be error, warn, info or debug, not ",
					optarg);
			break;
		case O_HELP:
			fputs(nfs4d_usage, stdout);
			return 1;
		case O_VERSION:
			puts("nfs4d 0.1");
			return 1;
		default:
			return nfs4d_bad("unknown or incomplete option: ", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return nfs4d_bad("unexpected argument: ", argv[optind]);
	if (opts->mem_limit && opts->backend != NFS4D_BACKEND_MEM)
		return nfs4d_bad("--mem-limit is for --backend mem", "");
	if (opts->nexports == 0 && !opts->exports_file)
		return nfs4d_bad("nothing to serve: give --export PATH or --exports FILE", "");
	if (opts->nlisten == 0) {
		nfs4d_parse_addr("0.0.0.0", &opts->listen[0]);
		opts->nlisten = 1;
	}
	if (!grace_set)
		opts->grace = opts->lease;
	return 0;
}

int nfs4d_options_exports(const struct nfs4d_options *opts, struct nfs4_exports *out, char *err,
			  size_t errlen)
{
	char why[512], line[4200];
	struct nfs4_export **v = NULL;
	struct nfs4_pseudo ps;
	struct stat st;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < opts->nexports; i++) {
		const char *arg = opts->exports[i];

		/* A bare path is the quick start: everyone, read-write, root squashed. */
		if (strpbrk(arg, " \t"))
			snprintf(line, sizeof(line), "%s", arg);
		else
			snprintf(line, sizeof(line), "%s *(rw)", arg);
		if (nfs4_exports_add_line(out, line, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--export %s: %s", arg, why);
			goto fail;
		}
	}
	if (opts->exports_file && nfs4_exports_load_file(out, opts->exports_file, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < out->n; i++) {
		/* The mem backend serves an empty tree; its path only names the export. */
		if (opts->backend == NFS4D_BACKEND_VFS &&
		    (stat(out->v[i].path, &st) < 0 || !S_ISDIR(st.st_mode))) {
			snprintf(err, errlen, "export %s is not a directory", out->v[i].path);
			goto fail;
		}
	}
	/* What the server would refuse (nested exports), refused here before anything opens. */
	v = calloc((size_t)out->n + 1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < out->n; i++)
		v[i] = &out->v[i];
	if (nfs4_pseudo_build(&ps, NULL, v, out->n, err, errlen) < 0)
		goto fail;
	nfs4_pseudo_free(&ps);
	free(v);
	return 0;
fail:
	free(v);
	nfs4_exports_free(out);
	return -1;
}
