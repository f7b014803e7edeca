/*
 * The control socket: nfs4ctl's way in (docs/nfs4ctl.md). A UNIX stream
 * socket STATE_DIR/nfs4d.ctl, mode 0660, served by one thread of its own;
 * a peer must be root, nfs4d's own user, or in the socket's group (checked
 * with SO_PEERCRED as well as by the file's mode).
 *
 * Protocol, one request per connection: the client sends one line
 * "FORMAT COMMAND [ARG]\n" (FORMAT: text or json; at most CTL_MAX_REQUEST
 * bytes); the server answers "ok\n" and the body, or "error MESSAGE\n", and
 * closes. A request never holds a lock of the protocol state while it talks
 * to its peer: the state is copied first (nfs4/admin.h), then written out.
 */
#ifndef NFS4D_CTL_CTL_H
#define NFS4D_CTL_CTL_H

#include "nfs4/nfs4.h"

#define CTL_SOCKET_NAME "nfs4d.ctl"
#define CTL_MAX_REQUEST 512
#define CTL_IO_TIMEOUT_S 5 /* a peer that stalls longer is dropped */

struct ctl_server;

/*
 * Creates state_dir (one level, mode 0750) if missing, binds the socket and
 * starts its thread. NULL, after logging why, when it cannot: nfs4d then
 * serves NFS without a control socket.
 */
struct ctl_server *ctl_start(const char *state_dir, struct nfs4_server *srv);
/* Stops the thread and removes the socket. ctl may be NULL. */
void ctl_stop(struct ctl_server *ctl);

#endif
