/*
 * Exports: which directories are served, to whom, and how. Built at start
 * from --export arguments and/or an exports file in the familiar
 * /etc/exports syntax:
 *
 *     /srv/share   192.168.1.0/24(rw,no_root_squash)  *(ro)
 *
 * A line is a path followed by zero or more client specs, each with an
 * option list in parentheses; a path alone means "*(ro,root_squash)" as in
 * knfsd's default (see nfs4d.exports(5)).
 * While serving, an export's path, id and backend never change; a reload
 * (server.c, exports_live.c) replaces only its rules, through RCU.
 */
#ifndef NFS4D_NFS4_EXPORT_H
#define NFS4D_NFS4_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backend/backend.h"
#include "rpc/rpc.h"
#include "util/rcu.h"

#define NFS4_EXPORT_MAX_RULES 32

enum nfs4_squash {
	NFS4_ROOT_SQUASH, /* uid 0 → anonuid, gid 0 → anongid (the default) */
	NFS4_NO_ROOT_SQUASH,
	NFS4_ALL_SQUASH, /* every uid/gid → anonuid/anongid */
};

/* One client spec and its options. */
struct nfs4_export_rule {
	/* Who: any host, or an address prefix (v4 or v6; a single host is a full-length prefix). */
	bool any;
	int family; /* AF_INET or AF_INET6 when !any */
	uint8_t addr[16];
	uint8_t prefix_len;
	/* How. */
	bool rw;
	bool secure; /* require a source port < 1024 */
	enum nfs4_squash squash;
	uint32_t anonuid;     /* default 65534 */
	uint32_t anongid;     /* default 65534 */
	uint32_t sec_flavors; /* bit (1 << flavor): RPC_AUTH_SYS (sec=sys, default), RPC_AUTH_NONE
				 (sec=none) */
	bool async; /* directory and attribute changes answered before they are durable (be_cred) */
};

/* An export's client specs, in the order written. */
struct nfs4_export_rules {
	int n;
	struct nfs4_export_rule v[NFS4_EXPORT_MAX_RULES];
	struct rcu_head rcu; /* retired by the reload that replaces it */
};

struct nfs4_export {
	uint32_t id;	 /* in every file handle: fsid=N, else a hash of the path (never 0) */
	char path[4096]; /* absolute, normalised (no trailing '/', no "//", ".", "..") */
	/*
	 * Never NULL once parsed. While serving, a reload publishes new rules
	 * here (rcu_publish): read them with rcu_fetch inside an RCU read-side
	 * section, and keep them no longer than that section.
	 */
	struct nfs4_export_rules *rules;
	struct backend *be; /* opened by the server, not by the parser */
};

struct nfs4_exports {
	struct nfs4_export *v;
	int n;
};

/*
 * Parses one exports line ("PATH [CLIENT(OPTS)]..."; comments and blank
 * lines are skipped by the caller) and appends the export to out.
 * Returns 0, or -1 with a one-line reason in err (no file/line prefix).
 * Duplicate paths and duplicate fsids are errors. On error out is unchanged.
 * Host names are resolved here (getaddrinfo), once.
 */
int nfs4_exports_add_line(struct nfs4_exports *out, const char *line, char *err, size_t errlen);
/*
 * Reads an exports file: '#' comments, blank lines, '\' line continuation.
 * Returns 0, or -1 with "FILE:LINE: reason" in err ("FILE: strerror" when it
 * cannot be read). All or nothing: on error out is unchanged.
 */
int nfs4_exports_load_file(struct nfs4_exports *out, const char *path, char *err, size_t errlen);
/* Frees the table and each export's rules; destroys each export's backend (be->ops->destroy) if
 * set. */
void nfs4_exports_free(struct nfs4_exports *exps);

/*
 * The most specific rule of e that matches the peer, or NULL (the export is
 * not for this client): the longest matching address prefix, `*` only when
 * no address rule matches, the earlier rule on a tie. A v4-mapped IPv6 peer
 * (::ffff:a.b.c.d) is matched as IPv4. NULL or a non-IP peer matches only `*`.
 */
const struct nfs4_export_rule *nfs4_export_match(const struct nfs4_export *e,
						 const struct sockaddr_storage *peer);
/*
 * The credentials a request runs with on this export: the caller's, squashed
 * by the rule, and the rule's `async`.
 */
void nfs4_export_cred(const struct nfs4_export_rule *r, const struct rpc_cred *in,
		      struct be_cred *out);
/* Whether the rule admits the call's flavor and (for `secure`) its source port. */
bool nfs4_export_admits(const struct nfs4_export_rule *r, const struct rpc_cred *cred,
			const struct sockaddr_storage *peer);

#endif
