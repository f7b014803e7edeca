/*
 * The Prometheus endpoint (--metrics ADDR:PORT, off by default): the
 * counters of nfs4ctl's "stats" in the Prometheus text format (version
 * 0.0.4) at GET /metrics, over a minimal HTTP/1.0 server of our own — one
 * thread, one request per connection, a request of at most 4 KiB read with
 * a timeout, no other paths. A library would be larger than the feature.
 */
#ifndef NFS4D_CTL_METRICS_H
#define NFS4D_CTL_METRICS_H

#include <stdint.h>
#include <sys/socket.h>

#include "nfs4/nfs4.h"

struct ctl_metrics;

/* Listens on addr (port 0: any) and starts the thread. NULL after logging why. */
struct ctl_metrics *ctl_metrics_start(const struct sockaddr_storage *addr, struct nfs4_server *srv);
/* Stops the thread and closes the socket. m may be NULL. */
void ctl_metrics_stop(struct ctl_metrics *m);

#endif
