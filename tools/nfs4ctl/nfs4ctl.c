/*
 * nfs4ctl: asks a running nfs4d over its control socket (STATE_DIR/nfs4d.ctl)
 * and prints the answer. The server renders tables and JSON alike, so this
 * is a thin client: one request line out, the answer copied to stdout.
 * "trace" needs no server: it lists the USDT probes of docs/tracing.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NFS4CTL_SOCKET "nfs4d.ctl" /* CTL_SOCKET_NAME of src/ctl/ctl.h */
#define NFS4CTL_MAX_REQUEST 512	   /* CTL_MAX_REQUEST */

static const char nfs4ctl_usage[] =
	"Usage: nfs4ctl [--state-dir DIR] [--json] COMMAND [ARG]\n"
	"Shows and changes what a running nfs4d is doing (docs/nfs4ctl.md).\n"
	"\n"
	"Commands:\n"
	"  clients        every client: address, owner, lease left, sessions, back channel\n"
	"                 state, opens, locks and delegations\n"
	"  client ID      one client: its sessions (slots, connections), opens, locks,\n"
	"                 delegations and callbacks in flight\n"
	"  expire ID      forget a client altogether, with its sessions and all its state\n"
	"  revoke ID [STATEID]\n"
	"                 revoke a client's opens, locks and delegations (or the one stateid,\n"
	"                 as \"client ID\" shows it); the client and its sessions stay, the\n"
	"                 stateids answer NFS4ERR_ADMIN_REVOKED\n"
	"  exports        the export table\n"
	"  reload         read the exports again (as SIGHUP does); a bad file is refused\n"
	"                 with its line and reason, and the exports served stay as they were\n"
	"  stats          per-operation counts, errors and latencies; callbacks, delegations\n"
	"  trace          the USDT probes nfs4d carries, for bpftrace or perf\n"
	"\n"
	"Options:\n"
	"  --state-dir DIR  nfs4d's --state-dir, where its socket is (default /var/lib/nfs4d)\n"
	"  --json           JSON instead of tables, for scripts\n"
	"  --help           show this help\n"
	"\n"
	"Exit status: 0 done, 1 nfs4d refused the command, 2 usage or no nfs4d to ask.\n";

static const struct {
	const char *name, *args, *when;
} nfs4ctl_probes[] = {
#include "probes.h"
};

/* s as a JSON string (the document's text may hold quotes and backslashes). */
static void nfs4ctl_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static int nfs4ctl_trace(bool json)
{
	size_t n = sizeof(nfs4ctl_probes) / sizeof(nfs4ctl_probes[0]);

	if (json) {
		printf("{\"provider\":\"nfs4d\",\"probes\":[");
		for (size_t i = 0; i < n; i++) {
			printf("%s\n{\"name\":", i ? "," : "");
			nfs4ctl_json_str(nfs4ctl_probes[i].name);
			printf(",\"args\":");
			nfs4ctl_json_str(nfs4ctl_probes[i].args);
			printf(",\"when\":");
			nfs4ctl_json_str(nfs4ctl_probes[i].when);
			printf("}");
		}
		printf("]}\n");
		return 0;
	}
	printf("USDT probes of provider nfs4d (docs/tracing.md), e.g.\n"
	       "  bpftrace -e 'usdt:/usr/sbin/nfs4d:nfs4d:cb_send { @[arg0] = count(); }'\n\n");
	printf("%-16s %-40s %s\n", "PROBE", "ARGUMENTS", "WHEN");
	for (size_t i = 0; i < n; i++)
		printf("%-16s %-40s %s\n", nfs4ctl_probes[i].name, nfs4ctl_probes[i].args,
		       nfs4ctl_probes[i].when);
	return 0;
}

/* Sends req to the socket in state_dir and copies the answer's body to stdout. */
static int nfs4ctl_ask(const char *state_dir, const char *req)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char buf[65536], status[512];
	size_t slen = 0;
	bool in_body = false;
	ssize_t n;
	int fd;

	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", state_dir, NFS4CTL_SOCKET) >=
	    (int)sizeof(addr.sun_path)) {
		fprintf(stderr, "nfs4ctl: state directory path too long\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "nfs4ctl: cannot reach nfs4d at %s: %s\n", addr.sun_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "nfs4ctl: %s: %s\n", addr.sun_path, strerror(errno));
		close(fd);
		return 2;
	}
	/* The first line is "ok" or "error MESSAGE"; after "ok" comes the body. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		while (!in_body && off < (size_t)n) {
			char ch = buf[off++];

			if (ch == '\n') {
				in_body = true;
				break;
			}
			if (slen < sizeof(status) - 1)
				status[slen++] = ch;
		}
		if (in_body && strncmp(status, "ok", slen) != 0)
			break;
		if (in_body)
			fwrite(buf + off, 1, (size_t)n - off, stdout);
	}
	close(fd);
	status[slen] = 0;
	if (!in_body) {
		fprintf(stderr, "nfs4ctl: nfs4d closed the connection without an answer%s%s\n",
			n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return 2;
	}
	if (strcmp(status, "ok") != 0) {
		fprintf(stderr, "nfs4ctl: %s\n",
			strncmp(status, "error ", 6) == 0 ? status + 6 : status);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"state-dir", required_argument, NULL, 's'},
						 {"json", no_argument, NULL, 'j'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *state_dir = "/var/lib/nfs4d";
	char req[NFS4CTL_MAX_REQUEST + 1];
	bool json = false;
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(nfs4ctl_usage, stdout);
			return 0;
		default:
			fputs(nfs4ctl_usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(nfs4ctl_usage, stderr);
		return 2;
	}
	if (strcmp(argv[optind], "trace") == 0)
		return nfs4ctl_trace(json);
	len = (size_t)snprintf(req, sizeof(req), "%s", json ? "json" : "text");
	for (int i = optind; i < argc && len < sizeof(req); i++) {
		if (strpbrk(argv[i], " \n") || !*argv[i]) {
			fprintf(stderr, "nfs4ctl: bad argument \"%s\"\n", argv[i]);
			return 2;
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, " %s", argv[i]);
	}
	if (len + 1 >= sizeof(req)) {
		fprintf(stderr, "nfs4ctl: command too long\n");
		return 2;
	}
	req[len++] = '\n';
	req[len] = 0;
	return nfs4ctl_ask(state_dir, req);
}
