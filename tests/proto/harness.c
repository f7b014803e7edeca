/* Protocol test harness: see harness.h. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
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

const char *harness_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
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

/*
 * Forks and execs NFS4D_BIN --listen 127.0.0.1:0 --port-file portfile args...
 * (nargs of them); the child's stderr goes to errfd unless it is negative.
 * portfile gets a fresh name that does not exist yet: the server creates it
 * once listening. Returns the child's pid.
 */
static pid_t exec_nfs4d(char *portfile, size_t len, char *const *args, int nargs, int errfd)
{
	const char *bin = getenv("NFS4D_BIN");
	const char *argv[6 + HARNESS_MAX_ARGS];
	int argc = 0, fd;
	pid_t pid;

	if (!bin || !*bin)
		fail_msg("NFS4D_BIN is not set");
	snprintf(portfile, len, "%s/nfs4d-port-XXXXXX", harness_tmpdir());
	fd = mkstemp(portfile);
	if (fd < 0)
		fail_msg("mkstemp: %s", strerror(errno));
	close(fd);
	unlink(portfile);

	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--port-file";
	argv[argc++] = portfile;
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if (errfd >= 0)
			dup2(errfd, 2);
		execv(bin, (char *const *)argv);
		fprintf(stderr, "harness: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	return pid;
}

static void spawn(struct harness_srv *srv)
{
	int port = -1, logfd = -1;

	if (srv->logpath[0]) {
		logfd = open(srv->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd < 0)
			fail_msg("open %s: %s", srv->logpath, strerror(errno));
	}
	srv->pid = exec_nfs4d(srv->portfile, sizeof(srv->portfile), srv->args, srv->nargs, logfd);
	if (logfd >= 0)
		close(logfd);
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

static void add_args(struct harness_srv *srv, const char *const *args)
{
	for (int i = 0; args && args[i]; i++) {
		assert_true(srv->nargs < HARNESS_MAX_ARGS);
		srv->args[srv->nargs++] = strdup(args[i]);
	}
}

/* A state directory of the server's own unless its arguments name one. */
static void add_state_dir(struct harness_srv *srv)
{
	const char *args[] = {"--state-dir", srv->statedir, NULL};

	for (int i = 0; i < srv->nargs; i++)
		if (strcmp(srv->args[i], "--state-dir") == 0)
			return;
	snprintf(srv->statedir, sizeof(srv->statedir), "%s/nfs4d-state-XXXXXX", harness_tmpdir());
	if (!mkdtemp(srv->statedir))
		fail_msg("mkdtemp: %s", strerror(errno));
	add_args(srv, args);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_state_dir(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct harness_srv *start(const char *const *defaults, const char *const *args,
				 const char *logpath)
{
	struct harness_srv *srv = calloc(1, sizeof(*srv));

	assert_non_null(srv);
	srv->pid = -1;
	if (logpath)
		snprintf(srv->logpath, sizeof(srv->logpath), "%s", logpath);
	signal(SIGPIPE, SIG_IGN);
	add_args(srv, defaults);
	add_args(srv, args);
	add_state_dir(srv);
	spawn(srv);
	return srv;
}

struct harness_srv *harness_start_args(const char *const *args)
{
	return start(NULL, args, NULL);
}

struct harness_srv *harness_start_logged(const char *const *args, const char *logpath)
{
	return start(NULL, args, logpath);
}

struct harness_srv *harness_start(const char *const *extra)
{
	static const char *const defaults[] = {"--backend", "mem", "--export", "/", NULL};

	return start(defaults, extra, NULL);
}

/* SIGTERM and wait; NULL, or why the exit was not clean (static buffer). */
static const char *stop_process(struct harness_srv *srv)
{
	static char why[128];
	int status = 0, waited;
	pid_t r = 0;

	if (srv->pid <= 0)
		return NULL;
	kill(srv->pid, SIGTERM);
	for (waited = 0; waited < STOP_TIMEOUT_MS; waited += 20) {
		r = waitpid(srv->pid, &status, WNOHANG);
		if (r == srv->pid)
			break;
		harness_sleep_ms(20);
	}
	unlink(srv->portfile);
	if (r != srv->pid) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, &status, 0);
		srv->pid = -1;
		snprintf(why, sizeof(why), "nfs4d did not exit within %d ms of SIGTERM",
			 STOP_TIMEOUT_MS);
		return why;
	}
	srv->pid = -1;
	if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "nfs4d was killed by signal %d", WTERMSIG(status));
		return why;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why),
			 "nfs4d exited with status %d (sanitizer report or leak?)",
			 WEXITSTATUS(status));
		return why;
	}
	return NULL;
}

const char *harness_stop_status(struct harness_srv *srv)
{
	struct harness_srv copy;
	const char *why;

	if (!srv)
		return NULL;
	copy = *srv;
	for (int i = 0; i < srv->nargs; i++)
		free(srv->args[i]);
	free(srv);
	why = stop_process(&copy);
	remove_state_dir(copy.statedir);
	return why;
}

void harness_stop(struct harness_srv *srv)
{
	const char *why = harness_stop_status(srv);

	if (why)
		harness_fail("%s", why);
}

void harness_restart(struct harness_srv *srv)
{
	const char *why = stop_process(srv);

	if (why)
		fail_msg("%s", why);
	spawn(srv);
}

void harness_kill_restart(struct harness_srv *srv)
{
	if (srv->pid > 0) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, NULL, 0);
		srv->pid = -1;
	}
	unlink(srv->portfile);
	spawn(srv);
}

int harness_run_expect_exit(const char *const *args, char *errbuf, size_t errlen)
{
	struct harness_srv srv = {.pid = -1};
	char errpath[256];
	int fd, status = 0, ret = -1;
	ssize_t n;

	add_args(&srv, args);
	add_state_dir(&srv);
	snprintf(errpath, sizeof(errpath), "%s/nfs4d-err-XXXXXX", harness_tmpdir());
	fd = mkstemp(errpath);
	if (fd < 0)
		fail_msg("mkstemp: %s", strerror(errno));
	srv.pid = exec_nfs4d(srv.portfile, sizeof(srv.portfile), srv.args, srv.nargs, fd);
	for (int i = 0; i < srv.nargs; i++)
		free(srv.args[i]);
	for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
			ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		harness_sleep_ms(20);
	}
	if (ret < 0) {
		kill(srv.pid, SIGKILL);
		waitpid(srv.pid, NULL, 0);
	}
	n = pread(fd, errbuf, errlen - 1, 0);
	errbuf[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(errpath);
	unlink(srv.portfile);
	remove_state_dir(srv.statedir);
	return ret;
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
		{5, "NFS4ERR_IO"},
		{6, "NFS4ERR_NXIO"},
		{13, "NFS4ERR_ACCESS"},
		{17, "NFS4ERR_EXIST"},
		{18, "NFS4ERR_XDEV"},
		{20, "NFS4ERR_NOTDIR"},
		{21, "NFS4ERR_ISDIR"},
		{22, "NFS4ERR_INVAL"},
		{27, "NFS4ERR_FBIG"},
		{28, "NFS4ERR_NOSPC"},
		{30, "NFS4ERR_ROFS"},
		{31, "NFS4ERR_MLINK"},
		{63, "NFS4ERR_NAMETOOLONG"},
		{66, "NFS4ERR_NOTEMPTY"},
		{69, "NFS4ERR_DQUOT"},
		{70, "NFS4ERR_STALE"},
		{10001, "NFS4ERR_BADHANDLE"},
		{10003, "NFS4ERR_BAD_COOKIE"},
		{10004, "NFS4ERR_NOTSUPP"},
		{10005, "NFS4ERR_TOOSMALL"},
		{10006, "NFS4ERR_SERVERFAULT"},
		{10007, "NFS4ERR_BADTYPE"},
		{10008, "NFS4ERR_DELAY"},
		{10009, "NFS4ERR_SAME"},
		{10010, "NFS4ERR_DENIED"},
		{10011, "NFS4ERR_EXPIRED"},
		{10012, "NFS4ERR_LOCKED"},
		{10013, "NFS4ERR_GRACE"},
		{10014, "NFS4ERR_FHEXPIRED"},
		{10015, "NFS4ERR_SHARE_DENIED"},
		{10016, "NFS4ERR_WRONGSEC"},
		{10017, "NFS4ERR_CLID_INUSE"},
		{10018, "NFS4ERR_RESOURCE"},
		{10019, "NFS4ERR_MOVED"},
		{10020, "NFS4ERR_NOFILEHANDLE"},
		{10021, "NFS4ERR_MINOR_VERS_MISMATCH"},
		{10022, "NFS4ERR_STALE_CLIENTID"},
		{10023, "NFS4ERR_STALE_STATEID"},
		{10024, "NFS4ERR_OLD_STATEID"},
		{10025, "NFS4ERR_BAD_STATEID"},
		{10026, "NFS4ERR_BAD_SEQID"},
		{10027, "NFS4ERR_NOT_SAME"},
		{10028, "NFS4ERR_LOCK_RANGE"},
		{10029, "NFS4ERR_SYMLINK"},
		{10030, "NFS4ERR_RESTOREFH"},
		{10031, "NFS4ERR_LEASE_MOVED"},
		{10032, "NFS4ERR_ATTRNOTSUPP"},
		{10033, "NFS4ERR_NO_GRACE"},
		{10034, "NFS4ERR_RECLAIM_BAD"},
		{10035, "NFS4ERR_RECLAIM_CONFLICT"},
		{10036, "NFS4ERR_BADXDR"},
		{10037, "NFS4ERR_LOCKS_HELD"},
		{10038, "NFS4ERR_OPENMODE"},
		{10039, "NFS4ERR_BADOWNER"},
		{10040, "NFS4ERR_BADCHAR"},
		{10041, "NFS4ERR_BADNAME"},
		{10042, "NFS4ERR_BAD_RANGE"},
		{10043, "NFS4ERR_LOCK_NOTSUPP"},
		{10044, "NFS4ERR_OP_ILLEGAL"},
		{10045, "NFS4ERR_DEADLOCK"},
		{10046, "NFS4ERR_FILE_OPEN"},
		{10047, "NFS4ERR_ADMIN_REVOKED"},
		{10048, "NFS4ERR_CB_PATH_DOWN"},
		{10049, "NFS4ERR_BADIOMODE"},
		{10050, "NFS4ERR_BADLAYOUT"},
		{10051, "NFS4ERR_BAD_SESSION_DIGEST"},
		{10052, "NFS4ERR_BADSESSION"},
		{10053, "NFS4ERR_BADSLOT"},
		{10054, "NFS4ERR_COMPLETE_ALREADY"},
		{10055, "NFS4ERR_CONN_NOT_BOUND_TO_SESSION"},
		{10056, "NFS4ERR_DELEG_ALREADY_WANTED"},
		{10057, "NFS4ERR_BACK_CHAN_BUSY"},
		{10058, "NFS4ERR_LAYOUTTRYLATER"},
		{10059, "NFS4ERR_LAYOUTUNAVAILABLE"},
		{10060, "NFS4ERR_NOMATCHING_LAYOUT"},
		{10061, "NFS4ERR_RECALLCONFLICT"},
		{10062, "NFS4ERR_UNKNOWN_LAYOUTTYPE"},
		{10063, "NFS4ERR_SEQ_MISORDERED"},
		{10064, "NFS4ERR_SEQUENCE_POS"},
		{10065, "NFS4ERR_REQ_TOO_BIG"},
		{10066, "NFS4ERR_REP_TOO_BIG"},
		{10067, "NFS4ERR_REP_TOO_BIG_TO_CACHE"},
		{10068, "NFS4ERR_RETRY_UNCACHED_REP"},
		{10069, "NFS4ERR_UNSAFE_COMPOUND"},
		{10070, "NFS4ERR_TOO_MANY_OPS"},
		{10071, "NFS4ERR_OP_NOT_IN_SESSION"},
		{10072, "NFS4ERR_HASH_ALG_UNSUPP"},
		{10074, "NFS4ERR_CLIENTID_BUSY"},
		{10075, "NFS4ERR_PNFS_IO_HOLE"},
		{10076, "NFS4ERR_SEQ_FALSE_RETRY"},
		{10077, "NFS4ERR_BAD_HIGH_SLOT"},
		{10078, "NFS4ERR_DEADSESSION"},
		{10079, "NFS4ERR_ENCR_ALG_UNSUPP"},
		{10080, "NFS4ERR_PNFS_NO_LAYOUT"},
		{10081, "NFS4ERR_NOT_ONLY_OP"},
		{10082, "NFS4ERR_WRONG_CRED"},
		{10083, "NFS4ERR_WRONG_TYPE"},
		{10084, "NFS4ERR_DIRDELEG_UNAVAIL"},
		{10085, "NFS4ERR_REJECT_DELEG"},
		{10086, "NFS4ERR_RETURNCONFLICT"},
		{10087, "NFS4ERR_DELEG_REVOKED"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].v == s)
			return names[i].n;
	return s < 0 ? "-errno" : "unknown status";
}

/*
 * cmocka 1.1 does not count a failure in a group setup or teardown in its
 * result, and teardown is where the server's exit status (its sanitizer and
 * leak reports) is checked: every failure reported here is counted, and
 * harness_exit_code() adds them to the program's exit code.
 */
static int harness_failures;

void harness_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	harness_failures++;
	fail_msg("%s", msg);
}

int harness_exit_code(int cmocka_failed)
{
	if (harness_failures && !cmocka_failed)
		fprintf(stderr, "ERROR: %d failure(s) in group setup or teardown\n",
			harness_failures);
	return cmocka_failed + harness_failures;
}

void harness_assert_status(int got, int want, const char *expr, const char *file, int line)
{
	if (got != want)
		harness_fail("%s:%d: %s = %s (%d), expected %s (%d)", file, line, expr,
			     harness_status_name(got), got, harness_status_name(want), want);
}

int harness_ctl(const char *statedir, bool with_stderr, char *out, size_t len, ...)
{
	const char *argv[16] = {getenv("NFS4CTL_BIN"), "--state-dir", statedir};
	int argc = 3;
	va_list ap;

	assert_non_null(argv[0]);
	va_start(ap, len);
	for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
		assert_true(argc < 15);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;
	return harness_run_capture(argv, with_stderr, out, len);
}

int harness_run_capture(const char *const *argv, bool with_stderr, char *out, size_t len)
{
	size_t got = 0;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		if (with_stderr)
			dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (got < len - 1 && (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
