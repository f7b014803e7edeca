/*
 * The callback engine (DESIGN §4): calls from the server to a client over
 * the back channel of one of its sessions — CB_NULL probes, and CB_COMPOUNDs
 * of CB_SEQUENCE plus CB_RECALL, CB_GETATTR or CB_RECALL_ANY.
 *
 * client->cb_session is an RCU pointer (DESIGN §3.3). It is written only by
 * nfs4_cb_set_session() and nfs4_cb_session_gone(), under client->cb_lock —
 * set once a probe on that session succeeded, cleared when a probe or a
 * callback fails on it or the session dies — and read only with rcu_fetch()
 * inside a read section, where NULL means "no back channel". It holds a
 * reference on the session it points to; the old session's reference is
 * dropped after the new pointer is published, and sessions are freed only
 * through rcu_retire(), so a reader that fetched the old pointer in a read
 * section can still use it to its end.
 *
 * A callback pins what it uses (DESIGN §3.4): a reference on its client, on
 * the session whose slot it holds and on the connection it was sent on, and
 * on the delegation it is about. Its completion uses those, never
 * client->cb_session again. docs/callbacks.md walks through every reader.
 */
#ifndef NFS4D_NFS4_CALLBACK_H
#define NFS4D_NFS4_CALLBACK_H

#include "nfs4/state.h"

enum nfs4_cb_state {
	NFS4_CB_UNKNOWN = 0, /* no back channel offered, or not probed yet */
	NFS4_CB_UP,	     /* a probe succeeded on client->cb_session */
	NFS4_CB_DOWN,	     /* the last probe failed or its session went away */
	NFS4_CB_FAULT,	     /* a callback failed on the channel (lost, timed out, BADSESSION) */
};

/* The callback thread: sends queued callbacks, retries delayed ones, expires overdue ones. */
int nfs4_cb_start(struct nfs4_server *srv);
/*
 * Stops the thread and ends every callback, dropping what it pinned. Callbacks
 * queued later end at once; the engine's lock stays usable for the teardown of
 * clients and sessions, until nfs4_cb_destroy().
 */
void nfs4_cb_stop(struct nfs4_server *srv);
void nfs4_cb_destroy(struct nfs4_server *srv);

/* Queues a CB_NULL probe of ses's back channel (after CREATE_SESSION or a back-channel bind). */
void nfs4_cb_probe(struct nfs4_session *ses);
/* Queues a CB_RECALL of dp; it runs until delivered, or dp is returned or revoked. */
void nfs4_cb_recall(struct nfs4_deleg *dp);
/* Queues a CB_GETATTR (size, change) for the file of write delegation dp. */
void nfs4_cb_getattr(struct nfs4_deleg *dp);
/* Queues a CB_RECALL_ANY asking clp to keep at most keep delegations. */
void nfs4_cb_recall_any(struct nfs4_client *clp, uint32_t keep);

/* Clears client->cb_session if it is ses (ses is being destroyed). */
void nfs4_cb_session_gone(struct nfs4_session *ses);
/* Ends every callback of clp (it is being destroyed: DESTROY_CLIENTID or lease expiry). */
void nfs4_cb_client_gone(struct nfs4_client *clp);
/* Fails the calls in flight on conn (it was closed). */
void nfs4_cb_conn_closed(struct nfs4_server *srv, struct rpc_conn *conn);
/* Publishes ses (or NULL) as the client's callback session: the only writer of cb_session. */
void nfs4_cb_set_session(struct nfs4_client *clp, struct nfs4_session *ses,
			 enum nfs4_cb_state state);
enum nfs4_cb_state nfs4_cb_state(struct nfs4_client *clp);
const char *nfs4_cb_state_name(enum nfs4_cb_state state);

#endif
