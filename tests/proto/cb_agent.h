/*
 * A test client's back channel that answers like a real NFSv4.1 client:
 * CB_NULL, and CB_COMPOUNDs of CB_SEQUENCE (checked against a replier slot
 * table, as RFC 8881 §2.10.6 asks of the client) followed by CB_RECALL,
 * CB_GETATTR or CB_RECALL_ANY. What it answers is set by its mode, so tests
 * can make it slow, refuse with NFS4ERR_DELAY, or go silent. Anything the
 * server gets wrong on the back channel (a sequence id out of order, a
 * foreign session, an op after a failed CB_SEQUENCE) is counted in errors.
 */
#ifndef NFS4D_TESTS_CB_AGENT_H
#define NFS4D_TESTS_CB_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "client/nfs4clnt.h"
#include "state_helpers.h"
#include "xdr/nfs4_xdr.h"

#define CBA_SLOTS 4 /* the back channel slots the harness's clients offer */

enum cba_mode {
	CBA_OK,	      /* answer everything */
	CBA_DELAY,    /* CB_SEQUENCE answers NFS4ERR_DELAY (the knfsd window 1) */
	CBA_OP_DELAY, /* CB_SEQUENCE succeeds, CB_RECALL answers NFS4ERR_DELAY */
	CBA_SILENT,   /* CB_COMPOUND gets no reply at all */
};

struct cb_agent {
	pthread_mutex_t lock;
	enum cba_mode mode;
	uint8_t sessionid[16]; /* the session callbacks must name; all zero: any */
	uint32_t slot_seq[CBA_SLOTS];
	/* Counts (under lock). */
	int probes, compounds, recalls, getattrs, recall_anys, delays, referring;
	int errors;
	char error[256];
	/* The last CB_RECALL. */
	struct stateid4 recall_sid;
	uint8_t recall_fh[128];
	uint32_t recall_fh_len;
	/* What CB_GETATTR answers. */
	uint64_t size, change;
};

void cba_init(struct cb_agent *a, enum cba_mode mode);
void cba_destroy(struct cb_agent *a);
void cba_set_mode(struct cb_agent *a, enum cba_mode mode);
/*
 * Callbacks on c are answered by a; sessionid (may be NULL: any) is the only
 * one it accepts. Attaching to another connection of the same session keeps
 * the slot table, as a client that rebinds its back channel does.
 */
void cba_attach(struct cb_agent *a, struct nfs4clnt_conn *c, const uint8_t *sessionid);
/* The value of a counter (a field of a, read under its lock). */
int cba_count(struct cb_agent *a, const int *counter);
/* Waits up to ms for *counter >= want; the value reached. */
int cba_wait(struct cb_agent *a, const int *counter, int want, int ms);
/* Fails the test if the server broke a back-channel rule. */
void cba_assert_clean(struct cb_agent *a);

/* A client whose back channel (on its one connection) is answered by an agent. */
struct cb_client {
	struct harness_client cl;
	struct cb_agent ag;
};

void cbc_new(struct harness_srv *srv, struct cb_client *c, const char *prefix, enum cba_mode mode);
/* Checks the agent saw no broken rule, then harness_client_free(). */
void cbc_free(struct cb_client *c, bool skip_destroy);
/* A client without a back channel: the server never offers it a delegation. */
void cbc_new_plain(struct harness_srv *srv, struct harness_client *cl, const char *prefix);
/*
 * The delegation tests' server: mem, with lease seconds; e's client (B) has
 * no back channel, so only the tests' holders get delegations.
 */
void cbc_env_setup(struct fo_env *e, const char *lease);
/* cl opens dir/name (OPEN4_NOCREATE, owner "plain-owner") with access, wanting no delegation. */
int cbc_plain_open(struct harness_client *cl, const struct fo_fh *dir, const char *name,
		   uint32_t access, struct stateid4 *sid);
/*
 * The same, retried for up to 15 s while it gets NFS4ERR_DELAY (a recall is
 * on its way), renewing holder's lease meanwhile (holder may be NULL): the
 * last status.
 */
int cbc_plain_open_retry(struct harness_client *cl, struct cb_client *holder,
			 const struct fo_fh *dir, const char *name, uint32_t access,
			 struct stateid4 *sid);
/* SEQUENCE on cl's session (renewing its lease): the status flags. */
uint32_t cbc_renew(struct harness_client *cl);
/*
 * Opens dir/name (OPEN4_NOCREATE, owner "holder") with access until the
 * server grants a delegation of type (its probe of the back channel may still
 * be on its way): o is the open, o->dsid the delegation.
 */
void cbc_hold(struct cb_client *c, const struct fo_fh *dir, const char *name, uint32_t access,
	      uint32_t type, struct st_open *o);

#endif
