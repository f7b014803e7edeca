/*
 * Protocol test harness: runs a real nfs4d (NFS4D_BIN) on 127.0.0.1 with an
 * ephemeral port for a test program, and small helpers on top of nfs4clnt.
 * Stopping the server asserts that it exited with status 0, which is how
 * leaks and sanitizer reports inside the server fail the test.
 */
#ifndef NFS4D_TESTS_PROTO_HARNESS_H
#define NFS4D_TESTS_PROTO_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "client/nfs4clnt.h"
#include "xdr/nfs4_xdr.h"

/* Arguments after --listen and --port-file, all told (harness_start's defaults included). */
#define HARNESS_MAX_ARGS 32

/*
 * A running nfs4d. args are what it was started with after
 * "--listen 127.0.0.1:0 --port-file F" (owned, strdup'ed), so that a restart
 * runs it again the same way; port is re-read at every (re)start. Unless the
 * args name a --state-dir, the harness adds one of its own (statedir), kept
 * across restarts, so that a restart is a real one (client records, grace)
 * and no test touches /var/lib/nfs4d.
 */
struct harness_srv {
	pid_t pid;
	uint16_t port;
	char portfile[256];
	char statedir[256]; /* made by the harness and removed at stop, or "" */
	int nargs;
	char *args[HARNESS_MAX_ARGS];
	char logpath[256]; /* nfs4d's stderr is appended here; empty: inherited */
};

/* $TMPDIR, or /tmp when it is unset or empty. */
const char *harness_tmpdir(void);
/*
 * Starts nfs4d with --listen 127.0.0.1:0 --port-file F and exactly args
 * (NULL-terminated, may be NULL), and waits for its port.
 */
struct harness_srv *harness_start_args(const char *const *args);
/* harness_start_args() with nfs4d's stderr appended to logpath (for tests that read its log). */
struct harness_srv *harness_start_logged(const char *const *args, const char *logpath);
/* harness_start_args() with "--backend mem --export /" before extra (may be NULL). */
struct harness_srv *harness_start(const char *const *extra);
/*
 * SIGTERM, wait (20 s at most), free. NULL if nfs4d exited with status 0,
 * else why not (a static buffer): for callers with clean-up to do first.
 */
const char *harness_stop_status(struct harness_srv *srv);
/* harness_stop_status(), failing the test unless the exit was clean. */
void harness_stop(struct harness_srv *srv);
/* Stops (asserting a clean exit) and starts again with the same arguments. */
void harness_restart(struct harness_srv *srv);
/* A crash: SIGKILL, then starts again with the same arguments (and state directory). */
void harness_kill_restart(struct harness_srv *srv);
/*
 * Runs nfs4d with --listen 127.0.0.1:0 --port-file F and exactly args,
 * expecting it to exit on its own within 10 s. Returns its exit status
 * (128 + signal if killed by one; -1 if it was still running: it is then
 * killed); its stderr goes to errbuf (NUL-terminated, truncated to errlen).
 */
int harness_run_expect_exit(const char *const *args, char *errbuf, size_t errlen);
/* A new connection to the server (fails the test if it cannot connect). */
struct nfs4clnt_conn *harness_connect(struct harness_srv *srv);

/* A confirmed client with one session on its own connection. */
struct harness_client {
	struct nfs4clnt_conn *conn;
	uint64_t clientid;
	struct nfs4clnt_exid_res exid;
	struct nfs4clnt_cs_res cs;
	struct nfs4clnt_session *sess;
};

/* EXCHANGE_ID(owner) + CREATE_SESSION(slots), asserting success. */
void harness_client_new(struct harness_srv *srv, struct harness_client *cl, const char *owner,
			uint32_t slots);
/* DESTROY_SESSION + DESTROY_CLIENTID (asserting OK unless skip_destroy) and close. */
void harness_client_free(struct harness_client *cl, bool skip_destroy);
/* A fresh owner string unique to this process ("<prefix>-<pid>-<n>"). */
const char *harness_owner(char *buf, size_t len, const char *prefix);

const char *harness_status_name(int status);
void harness_assert_status(int got, int want, const char *expr, const char *file, int line);
/* Fails the current test (fail_msg) and counts the failure for harness_exit_code(). */
void harness_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What main returns: cmocka's count plus failures in group setup/teardown it does not count. */
int harness_exit_code(int cmocka_failed);
/*
 * Runs argv[0] with argv (NULL-terminated); its stdout, and its stderr too
 * when with_stderr, into out (NUL-terminated, truncated to len). Its exit
 * status (128 + the signal if one killed it).
 */
int harness_run_capture(const char *const *argv, bool with_stderr, char *out, size_t len);
/*
 * Runs nfs4ctl (NFS4CTL_BIN) --state-dir statedir with the arguments after
 * len (NULL-terminated, at most 12), as harness_run_capture().
 */
int harness_ctl(const char *statedir, bool with_stderr, char *out, size_t len, ...);
/* Asserts an NFS status (or negative errno) with names in the failure message. */
#define assert_status(got, want) \
	harness_assert_status((int)(got), (int)(want), #got, __FILE__, __LINE__)

void harness_sleep_ms(int ms);

#endif
