/* nfs4d's command line. */
#ifndef NFS4D_MAIN_OPTIONS_H
#define NFS4D_MAIN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nfs4/export.h"
#include "util/log.h"

#define NFS4D_MAX_LISTEN 16
#define NFS4D_MAX_EXPORTS 64

enum nfs4d_backend { NFS4D_BACKEND_VFS, NFS4D_BACKEND_MEM };

struct nfs4d_options {
	struct sockaddr_storage listen[NFS4D_MAX_LISTEN];
	int nlisten;
	const char *exports[NFS4D_MAX_EXPORTS];
	int nexports;
	const char *exports_file;
	enum nfs4d_backend backend;
	uint64_t mem_limit; /* --mem-limit; 0 = the mem backend's default */
	int threads;	    /* workers; 0 = default */
	uint32_t lease;
	uint32_t grace;
	uint32_t max_delegs;
	const char *state_dir;
	const char *port_file;
	const char *idmap_domain;
	bool metrics; /* --metrics given: serve metrics_addr */
	struct sockaddr_storage metrics_addr;
	enum log_level log_level;
	bool check_config; /* --check-config: check, open nothing, exit */
};

/*
 * Parses argv into opts. Returns 0 to run, 1 when --help/--version was
 * printed, -1 after printing a one-line reason for a bad option.
 */
int nfs4d_options_parse(int argc, char **argv, struct nfs4d_options *opts);
/*
 * The export table: each --export (a path, or a whole exports line) and the
 * --exports file. Checks that vfs exports are directories and that the
 * server can join them (no nested exports). Returns 0, or -1 with a one-line
 * reason in err ("FILE:LINE: reason" for the exports file). Opens nothing.
 */
int nfs4d_options_exports(const struct nfs4d_options *opts, struct nfs4_exports *out, char *err,
			  size_t errlen);
/* Parses "ADDR:PORT", "[V6ADDR]:PORT" or "ADDR" (port 2049). Returns 0 or -1. */
int nfs4d_parse_addr(const char *s, struct sockaddr_storage *out);

#endif
