/*
 * The callback engine (DESIGN §4), first part: probing a client's back
 * channel with CB_NULL and publishing the session that carries callbacks.
 *
 * client->cb_session is an RCU pointer (DESIGN §3.3). It is written only by
 * nfs4_cb_set_session() — set once a probe on that session succeeded,
 * cleared when a probe fails or the session dies — and read only with
 * rcu_fetch() inside a read section, where NULL means "no back channel".
 * It holds a reference on the session it points to; the old session's
 * reference is dropped after the new pointer is published, and sessions are
 * freed only through rcu_retire(), so a reader that fetched the old pointer
 * in a read section can still use it to its end.
 *
 * A callback in flight pins what it uses (DESIGN §3.4): a reference on its
 * client, on the session it was sent on and on the connection. Its
 * completion uses those, never client->cb_session again.
 */
#ifndef NFS4D_NFS4_CALLBACK_H
#define NFS4D_NFS4_CALLBACK_H

#include "nfs4/state.h"

enum nfs4_cb_state {
	NFS4_CB_UNKNOWN = 0, /* no back channel offered, or not probed yet */
	NFS4_CB_UP,	     /* a probe succeeded on client->cb_session */
	NFS4_CB_DOWN,	     /* the last probe failed or its path went away */
};

/* The callback thread: sends queued probes, expires overdue calls. */
int nfs4_cb_start(struct nfs4_server *srv);
/* Stops the thread and fails every pending call, dropping what it pinned. */
void nfs4_cb_stop(struct nfs4_server *srv);

/* Queues a CB_NULL probe of ses's back channel (after CREATE_SESSION or a back-channel bind). */
void nfs4_cb_probe(struct nfs4_session *ses);
/* Clears client->cb_session if it is ses (ses is being destroyed). */
void nfs4_cb_session_gone(struct nfs4_session *ses);
/* Fails the calls in flight on conn (it was closed). */
void nfs4_cb_conn_closed(struct nfs4_server *srv, struct rpc_conn *conn);
/* Publishes ses (or NULL) as the client's callback session: the only writer of cb_session. */
void nfs4_cb_set_session(struct nfs4_client *clp, struct nfs4_session *ses,
			 enum nfs4_cb_state state);
enum nfs4_cb_state nfs4_cb_state(struct nfs4_client *clp);

#endif
