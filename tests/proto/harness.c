/* Protocol test harness: see harness.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 20000

void harness_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int read_port(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* Complete only once the newline is there. */
	if (!strchr(buf, '\n'))
		return -1;
	return atoi(buf);
}

static void spawn(struct harness_srv *srv)
{
	const char *bin = getenv("NFS4D_BIN");
	const char *argv[8 + HARNESS_MAX_ARGS];
	int argc = 0, fd, port = -1;

	if (!bin || !*bin)
		fail_msg("NFS4D_BIN is not set");
	snprintf(srv->portfile, sizeof(srv->portfile), "%s/nfs4d-port-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(srv->portfile);
	if (fd < 0)
		fail_msg("mkstemp: %s", strerror(errno));
	close(fd);
	unlink(srv->portfile); /* the server creates it once listening */

	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--port-file";
	argv[argc++] = srv->portfile;
	argv[argc++] = "--backend";
	argv[argc++] = "mem";
	argv[argc++] = "--export";
	argv[argc++] = "/";
	for (int i = 0; i < srv->nextra; i++)
		argv[argc++] = srv->extra[i];
	argv[argc] = NULL;

	srv->pid = fork();
	if (srv->pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (srv->pid == 0) {
		execv(bin, (char *const *)argv);
		fprintf(stderr, "harness: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		int status;

		port = read_port(srv->portfile);
		if (port > 0)
			break;
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = -1;
			fail_msg("nfs4d exited during start-up (status 0x%x)", status);
		}
		harness_sleep_ms(20);
	}
	if (port <= 0 || port > 65535) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, NULL, 0);
		srv->pid = -1;
		fail_msg("nfs4d did not write its port file %s within %d ms", srv->portfile,
			 START_TIMEOUT_MS);
	}
	srv->port = (uint16_t)port;
}

struct harness_srv *harness_start(const char *const *extra)
{
	struct harness_srv *srv = calloc(1, sizeof(*srv));

	assert_non_null(srv);
	srv->pid = -1;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; extra && extra[i]; i++) {
		assert_true(i < HARNESS_MAX_ARGS);
		srv->extra[srv->nextra++] = strdup(extra[i]);
	}
	spawn(srv);
	return srv;
}

static void stop_process(struct harness_srv *srv)
{
	int status = 0, waited;
	pid_t r = 0;

	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGTERM);
	for (waited = 0; waited < STOP_TIMEOUT_MS; waited += 20) {
		r = waitpid(srv->pid, &status, WNOHANG);
		if (r == srv->pid)
			break;
		harness_sleep_ms(20);
	}
	if (r != srv->pid) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, &status, 0);
		srv->pid = -1;
		unlink(srv->portfile);
		fail_msg("nfs4d did not exit within %d ms of SIGTERM", STOP_TIMEOUT_MS);
	}
	srv->pid = -1;
	unlink(srv->portfile);
	if (WIFSIGNALED(status))
		fail_msg("nfs4d was killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("nfs4d exited with status %d (sanitizer report or leak?)",
			 WEXITSTATUS(status));
}

void harness_stop(struct harness_srv *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < srv->nextra; i++)
		free(srv->extra[i]);
	srv->nextra = 0;
	/* free before a possible failure: fail_msg does not return */
	{
		struct harness_srv copy = *srv;

		free(srv);
		stop_process(&copy);
	}
}

void harness_restart(struct harness_srv *srv)
{
	stop_process(srv);
	spawn(srv);
}

struct nfs4clnt_conn *harness_connect(struct harness_srv *srv)
{
	struct nfs4clnt_conn *c = nfs4clnt_connect("127.0.0.1", srv->port);

	if (!c)
		fail_msg("connect to 127.0.0.1:%u: %s", srv->port, strerror(errno));
	return c;
}

const char *harness_owner(char *buf, size_t len, const char *prefix)
{
	static atomic_uint n;

	snprintf(buf, len, "%s-%d-%u", prefix, (int)getpid(), atomic_fetch_add(&n, 1));
	return buf;
}

void harness_client_new(struct harness_srv *srv, struct harness_client *cl, const char *owner,
			uint32_t slots)
{
	struct nfs4clnt_exid_args ea = {.owner = xdr_opaque_str(owner)};
	struct nfs4clnt_cs_args ca;
	struct timespec ts;

	memset(cl, 0, sizeof(*cl));
	cl->conn = harness_connect(srv);
	clock_gettime(CLOCK_REALTIME, &ts);
	xdr_put_be32(ea.verifier, (uint32_t)ts.tv_sec);
	xdr_put_be32(ea.verifier + 4, (uint32_t)ts.tv_nsec);
	assert_status(nfs4clnt_exchange_id(cl->conn, &ea, &cl->exid), NFS4_OK);
	cl->clientid = cl->exid.clientid;
	ca = nfs4clnt_cs_default(cl->clientid, cl->exid.sequenceid);
	ca.fore.maxrequests = slots;
	assert_status(nfs4clnt_create_session(cl->conn, &ca, &cl->cs), NFS4_OK);
	cl->sess = nfs4clnt_session_new(cl->conn, &cl->cs);
	assert_non_null(cl->sess);
}

void harness_client_free(struct harness_client *cl, bool skip_destroy)
{
	if (cl->sess && !skip_destroy)
		assert_status(nfs4clnt_destroy_session(cl->conn, nfs4clnt_session_id(cl->sess)),
			      NFS4_OK);
	if (cl->conn && !skip_destroy)
		assert_status(nfs4clnt_destroy_clientid(cl->conn, cl->clientid), NFS4_OK);
	nfs4clnt_session_free(cl->sess);
	nfs4clnt_conn_close(cl->conn);
	memset(cl, 0, sizeof(*cl));
}

const char *harness_status_name(int s)
{
	static const struct {
		int v;
		const char *n;
	} names[] = {
		{0, "NFS4_OK"},
		{1, "NFS4ERR_PERM"},
		{2, "NFS4ERR_NOENT"},
		{22, "NFS4ERR_INVAL"},
		{10004, "NFS4ERR_NOTSUPP"},
		{10005, "NFS4ERR_TOOSMALL"},
		{10006, "NFS4ERR_SERVERFAULT"},
		{10008, "NFS4ERR_DELAY"},
		{10017, "NFS4ERR_CLID_INUSE"},
		{10018, "NFS4ERR_RESOURCE"},
		{10021, "NFS4ERR_MINOR_VERS_MISMATCH"},
		{10022, "NFS4ERR_STALE_CLIENTID"},
		{10027, "NFS4ERR_NOT_SAME"},
		{10036, "NFS4ERR_BADXDR"},
		{10044, "NFS4ERR_OP_ILLEGAL"},
		{10052, "NFS4ERR_BADSESSION"},
		{10053, "NFS4ERR_BADSLOT"},
		{10054, "NFS4ERR_COMPLETE_ALREADY"},
		{10055, "NFS4ERR_CONN_NOT_BOUND_TO_SESSION"},
		{10063, "NFS4ERR_SEQ_MISORDERED"},
		{10064, "NFS4ERR_SEQUENCE_POS"},
		{10065, "NFS4ERR_REQ_TOO_BIG"},
		{10066, "NFS4ERR_REP_TOO_BIG"},
		{10067, "NFS4ERR_REP_TOO_BIG_TO_CACHE"},
		{10068, "NFS4ERR_RETRY_UNCACHED_REP"},
		{10070, "NFS4ERR_TOO_MANY_OPS"},
		{10071, "NFS4ERR_OP_NOT_IN_SESSION"},
		{10074, "NFS4ERR_CLIENTID_BUSY"},
		{10076, "NFS4ERR_SEQ_FALSE_RETRY"},
		{10077, "NFS4ERR_BAD_HIGH_SLOT"},
		{10078, "NFS4ERR_DEADSESSION"},
		{10079, "NFS4ERR_ENCR_ALG_UNSUPP"},
		{10081, "NFS4ERR_NOT_ONLY_OP"},
		{10082, "NFS4ERR_WRONG_CRED"},
		{-ETIMEDOUT, "-ETIMEDOUT"},
		{-EPIPE, "-EPIPE (connection closed)"},
		{-EPROTO, "-EPROTO (bad or rejected reply)"},
		{-ENOENT, "-ENOENT (no such result)"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].v == s)
			return names[i].n;
	return "?";
}

void harness_assert_status(int got, int want, const char *expr, const char *file, int line)
{
	if (got != want)
		fail_msg("%s:%d: %s = %s (%d), expected %s (%d)", file, line, expr,
			 harness_status_name(got), got, harness_status_name(want), want);
}
