/*
 * USDT trace points (provider "nfs4d"), for perf, bpftrace and systemtap:
 *   bpftrace -e 'usdt:/usr/sbin/nfs4d:nfs4d:cb_send { printf("%x\n", arg0); }'
 * A probe costs one nop until a tracer attaches. Arguments are plain values
 * copied from objects the caller holds a reference to, never pointers for a
 * tracer to follow. The list of probes is in docs/tracing.md.
 */
#ifndef NFS4D_UTIL_TRACE_H
#define NFS4D_UTIL_TRACE_H

#include <sys/sdt.h>

#define TRACE1(name, a) STAP_PROBE1(nfs4d, name, a)
#define TRACE2(name, a, b) STAP_PROBE2(nfs4d, name, a, b)
#define TRACE3(name, a, b, c) STAP_PROBE3(nfs4d, name, a, b, c)
#define TRACE4(name, a, b, c, d) STAP_PROBE4(nfs4d, name, a, b, c, d)

#endif
