/*
 * nfs4bench — an NFSv4.1 load generator on the client library (client/).
 *
 * Model: N connections x S sessions per connection x D slots per session. One
 * client (EXCHANGE_ID + RECLAIM_COMPLETE) per connection, S sessions of that
 * client, and one worker thread per slot: a worker issues one COMPOUND at a
 * time, so a session has at most D requests outstanding and the library's
 * slot table hands each a free slot with the right sequence id. The null
 * workload instead runs one thread per connection that keeps all of the
 * connection's calls in flight itself (null.c).
 *
 * Modules: main.c (options, set-up, the timed run), nfsops.c (COMPOUND
 * building and result decoding for the ops the workloads use), workloads.c
 * (fixtures and one "op" per workload), null.c (pipelined RPC NULL), stats.c
 * (latency histogram and the table/JSON report), clients.c (RSS per idle
 * client and per session).
 */
#ifndef NFS4BENCH_NB_H
#define NFS4BENCH_NB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/nfs4clnt.h"
#include "xdr/nfs4_xdr.h"

#define NB_FHMAX 128
#define NB_MIB (1024u * 1024u)
#define NB_TIMEOUT_MS 60000
#define NB_MAX_THREADS 4096 /* conns x sessions x slots */

/* ------------------------------------------------------------ stats */

/* Log-linear latency histogram in nanoseconds: 16 sub-buckets per power of two. */
#define NB_HIST_SUB 16
#define NB_HIST_BUCKETS (64 * NB_HIST_SUB)

struct nb_hist {
	uint64_t count[NB_HIST_BUCKETS];
	uint64_t n;
};

void nb_hist_add(struct nb_hist *h, uint64_t ns);
void nb_hist_merge(struct nb_hist *into, const struct nb_hist *from);
/* Latency at quantile q (0..1) in nanoseconds (the upper bound of its bucket). */
uint64_t nb_hist_quantile(const struct nb_hist *h, double q);

/* One workload's outcome. */
struct nb_result {
	const char *workload;
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	double seconds;
	uint64_t p50_ns, p99_ns, p999_ns;
};

void nb_report_header(FILE *f);
/* One row per result (no header). */
void nb_report_table(FILE *f, const struct nb_result *r, int n);
void nb_report_json(FILE *f, const struct nb_result *r, int n, const char *config_json);

/* ------------------------------------------------------ NFS helpers */

struct nb_fh {
	uint32_t len;
	uint8_t data[NB_FHMAX];
};

/* What nb_send() decoded from the results of the ops it saw. */
struct nb_out {
	struct nb_fh fh;       /* last GETFH */
	struct stateid4 sid;   /* last OPEN (or CLOSE) stateid */
	uint32_t deleg;	       /* OPEN's delegation type */
	uint32_t nread;	       /* last READ */
	bool eof;	       /* last READ or READDIR */
	uint32_t nwritten;     /* last WRITE */
	uint32_t nentries;     /* last READDIR */
	uint64_t cookie;       /* last READDIR's last entry */
	uint8_t cookieverf[8]; /* last READDIR */
	uint64_t size;	       /* last GETATTR, when it returned FATTR4_SIZE */
	bool has_size;
	uint32_t failed_op; /* opnum of the first failing op (0: none) */
};

/*
 * A worker's COMPOUND under construction. Ops are appended with the nb_add_*
 * helpers; nb_send() prepends SEQUENCE (through the session's slot table),
 * sends, and walks all results. Encoding failures are sticky in bad.
 */
struct nb_call {
	struct nfs4clnt_session *sess;
	struct nfs4clnt_compound *cmp;
	bool bad;
	struct nb_out out;
};

bool nb_call_init(struct nb_call *c, struct nfs4clnt_session *sess);
void nb_call_fini(struct nb_call *c);
void nb_begin(struct nb_call *c);
void nb_add_putrootfh(struct nb_call *c);
void nb_add_putfh(struct nb_call *c, const struct nb_fh *fh);
void nb_add_lookup(struct nb_call *c, const char *name);
void nb_add_getfh(struct nb_call *c);
/* The attributes a Linux client asks for on a revalidation (type ... mounted_on_fileid). */
void nb_add_getattr_std(struct nb_call *c);
void nb_add_getattr_size(struct nb_call *c);
void nb_add_mkdir(struct nb_call *c, const char *name);
/* OPEN CLAIM_NULL of name in the current fh; create: UNCHECKED4 with mode 0644. */
void nb_add_open(struct nb_call *c, uint64_t clientid, const char *owner, const char *name,
		 uint32_t access, bool create);
void nb_add_close(struct nb_call *c, const struct stateid4 *sid);
void nb_add_read(struct nb_call *c, const struct stateid4 *sid, uint64_t off, uint32_t count);
void nb_add_write(struct nb_call *c, const struct stateid4 *sid, uint64_t off, const void *data,
		  uint32_t len, uint32_t stable);
void nb_add_commit(struct nb_call *c, uint64_t off, uint32_t count);
void nb_add_remove(struct nb_call *c, const char *name);
void nb_add_rename(struct nb_call *c, const char *from, const char *to);
void nb_add_savefh(struct nb_call *c);
void nb_add_readdir(struct nb_call *c, uint64_t cookie, const uint8_t verf[8], uint32_t maxcount);
/*
 * Sends the COMPOUND and decodes every result into c->out. Returns NFS4_OK,
 * the first failing op's nfsstat4 (also when SEQUENCE failed), or -errno.
 */
int nb_send(struct nb_call *c);
const char *nb_op_name(uint32_t op);

/* ------------------------------------------------------ run and workers */

struct nb_config {
	const char *host;
	uint16_t port;
	const char *path; /* export path from the pseudo root, "/" for the root */
	int conns, sessions, slots;
	double duration;	  /* seconds (when ops == 0) */
	uint64_t ops;		  /* total ops (0: run for duration) */
	uint64_t file_size;	  /* read workload file */
	uint32_t io_size;	  /* read/write request size */
	uint32_t readdir_entries; /* readdir workload directory */
	uint64_t commit_every;	  /* write: bytes between COMMITs */
	bool json;
	int clients;	 /* clients workload: how many */
	int rss_pid;	 /* clients workload: whose RSS to read */
	const char *tag; /* fixture directory suffix (several benches at once) */
};

struct nb_run;

/* One thread's context; one per slot of every session. */
struct nb_worker {
	int id;
	struct nb_run *run;
	const struct nb_config *cfg;
	struct nfs4clnt_conn *conn;
	struct nfs4clnt_session *sess;
	uint64_t clientid;
	struct nb_call call;
	struct nb_hist hist;
	uint64_t ops, bytes, errors;
	uint64_t iter; /* workload-private progress */
	uint64_t off;
	struct nb_fh dir; /* workload-private directory */
	struct nb_fh fh;  /* workload-private file (open when opened) */
	struct stateid4 sid;
	bool opened;
	char owner[48];
	uint8_t *buf; /* io_size bytes */
	int sock;     /* null: the connection's own socket (-1: none) */
};

/* The shared fixture handles, filled once by a workload's setup. */
struct nb_fixture {
	struct nb_fh base; /* <path>/nfs4bench<tag> */
	struct nb_fh dir;  /* the workload's own directory under base */
	struct nb_fh file; /* a file the workload uses */
};

struct nb_workload {
	const char *name;
	/* Creates (or finds) what the workload needs, in worker 0's session. 0 or a status. */
	int (*setup)(struct nb_worker *w, struct nb_fixture *fx);
	/* Per-thread preparation (e.g. opening its file). 0 or a status. */
	int (*start)(struct nb_worker *w, const struct nb_fixture *fx);
	/* One measured op; adds to w->bytes. 0 or a status/-errno. */
	int (*op)(struct nb_worker *w, const struct nb_fixture *fx);
	/* Per-thread cleanup (closing what start opened). */
	void (*stop)(struct nb_worker *w, const struct nb_fixture *fx);
	/*
	 * Instead of op: the whole timed loop of a connection, run by one thread
	 * (the connection's first worker) that keeps the calls of all its
	 * sessions' slots in flight, asking nb_claim() before each call.
	 */
	void (*conn_loop)(struct nb_worker *w);
};

extern const struct nb_workload nb_workloads[];
extern const int nb_nworkloads;
const struct nb_workload *nb_workload_find(const char *name);

/* The clients workload (clients.c): RSS of cfg->rss_pid per idle client and per session. */
int nb_clients_run(const struct nb_config *cfg, FILE *out);

/* The null workload (null.c): start connects w->sock, stop closes it. */
int nb_null_start(struct nb_worker *w, const struct nb_fixture *fx);
void nb_null_stop(struct nb_worker *w, const struct nb_fixture *fx);
void nb_null_conn_loop(struct nb_worker *w);

/* Whether w may issue one more op: the run goes on and, with --ops, ops remain (claims one). */
bool nb_claim(struct nb_worker *w);

/* Logs an error (the first few of a run) and counts it. */
void nb_error(struct nb_worker *w, const char *what, int status);
const char *nb_status_name(int status);

#endif
