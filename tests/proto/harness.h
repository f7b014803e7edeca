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

#define HARNESS_MAX_ARGS 16

struct harness_srv {
	pid_t pid;
	uint16_t port;
	char portfile[256];
	int nextra;
	char *extra[HARNESS_MAX_ARGS];
};

/* Starts nfs4d with the standard arguments plus extra (NULL-terminated, may be NULL). */
struct harness_srv *harness_start(const char *const *extra);
/* SIGTERM, wait (20 s at most), assert a zero exit status, free. */
void harness_stop(struct harness_srv *srv);
/* Stops (asserting a clean exit) and starts again with the same arguments. */
void harness_restart(struct harness_srv *srv);
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
/* Asserts an NFS status (or negative errno) with names in the failure message. */
#define assert_status(got, want) \
	harness_assert_status((int)(got), (int)(want), #got, __FILE__, __LINE__)

void harness_sleep_ms(int ms);

#endif
