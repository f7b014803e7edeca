/*
 * The answers of the control socket, as text tables or JSON (docs/nfs4ctl.md
 * has the shapes). Snapshots come from nfs4/admin.h; rendering runs with no
 * lock held.
 */
#ifndef NFS4D_CTL_RENDER_H
#define NFS4D_CTL_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "nfs4/nfs4.h"

/* A growing output buffer; oom: an allocation failed (the contents are cut). */
struct ctl_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void ctl_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_buf_free(struct ctl_buf *b);

/*
 * Runs one command (argv[0]: clients, client, expire, revoke, exports, reload, stats) and
 * renders its answer into out. Returns 0, or -1 with a one-line reason in err.
 */
int ctl_run(struct nfs4_server *srv, bool json, int argc, char **argv, struct ctl_buf *out,
	    char *err, size_t errlen);

#endif
