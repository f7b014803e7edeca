/*
 * The workloads: each has a fixture set-up (idempotent, so that repeated runs
 * against one export reuse what an earlier run made), an optional per-thread
 * start/stop, and one measured op. An "op" is what a user-level action costs
 * a real client, in the COMPOUNDs a Linux client would send for it:
 *
 *   null        RPC NULL, pipelined: a thread per connection keeps the
 *               connection's sessions x slots calls in flight (null.c)
 *   getattr     PUTFH + GETATTR (the attributes Linux revalidates with)
 *   lookup      PUTFH + LOOKUP x4 + GETFH + GETATTR (a 4-component path)
 *   readdir     a full listing of a directory of readdir_entries files
 *               (READDIR until eof, type+fileid per entry)
 *   open-close  OPEN (+GETFH+GETATTR), then CLOSE: two COMPOUNDs
 *   create      OPEN create, WRITE 4 KiB UNSTABLE, CLOSE, REMOVE: four COMPOUNDs
 *   read        PUTFH + READ io_size, sequential through one shared file
 *   write       PUTFH + WRITE io_size UNSTABLE, sequential through a file per
 *               thread; a COMMIT every commit_every bytes, timed within the op
 *   mixed       one COMPOUND of a 13-step cycle shaped like a build in a
 *               source tree: stat sources, read one, write an object to a
 *               temporary name, rename it into place, list the directory,
 *               remove the object
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nb.h"

#define NB_DIRENT_MAX 65536u /* READDIR maxcount */
#define NB_SMALL_IO 4096u
#define NB_MIXED_SOURCES 20u

/* ---------------------------------------------------------- fixtures */

/* dir/name as a directory (made when missing); its handle to out. */
static int ensure_dir(struct nb_worker *w, const struct nb_fh *dir, const char *name,
		      struct nb_fh *out)
{
	struct nb_call *c = &w->call;
	int st;

	nb_begin(c);
	nb_add_putfh(c, dir);
	nb_add_lookup(c, name);
	nb_add_getfh(c);
	st = nb_send(c);
	if (st == NFS4ERR_NOENT) {
		nb_begin(c);
		nb_add_putfh(c, dir);
		nb_add_mkdir(c, name);
		nb_add_getfh(c);
		st = nb_send(c);
	}
	if (st == NFS4_OK)
		*out = c->out.fh;
	return st;
}

/* OPEN (create when asked) of dir/name by the worker's owner: handle and stateid into w. */
static int open_file(struct nb_worker *w, const struct nb_fh *dir, const char *name,
		     uint32_t access, bool create)
{
	struct nb_call *c = &w->call;
	int st;

	nb_begin(c);
	nb_add_putfh(c, dir);
	nb_add_open(c, w->clientid, w->owner, name, access, create);
	nb_add_getfh(c);
	nb_add_getattr_std(c);
	st = nb_send(c);
	if (st == NFS4_OK) {
		w->fh = c->out.fh;
		w->sid = c->out.sid;
		w->opened = true;
	}
	return st;
}

static int close_file(struct nb_worker *w)
{
	struct nb_call *c = &w->call;

	w->opened = false;
	nb_begin(c);
	nb_add_putfh(c, &w->fh);
	nb_add_close(c, &w->sid);
	return nb_send(c);
}

static int write_at(struct nb_worker *w, uint64_t off, uint32_t len, uint32_t stable)
{
	struct nb_call *c = &w->call;
	int st;

	nb_begin(c);
	nb_add_putfh(c, &w->fh);
	nb_add_write(c, &w->sid, off, w->buf, len, stable);
	st = nb_send(c);
	if (st == NFS4_OK && c->out.nwritten != len)
		st = -EIO; /* a short write is a failure for the benchmark */
	return st;
}

static int commit(struct nb_worker *w)
{
	nb_begin(&w->call);
	nb_add_putfh(&w->call, &w->fh);
	nb_add_commit(&w->call, 0, 0);
	return nb_send(&w->call);
}

/* dir/name as a file of at least size bytes (written through NFS when shorter); handle to out. */
static int ensure_file(struct nb_worker *w, const struct nb_fh *dir, const char *name,
		       uint64_t size, struct nb_fh *out)
{
	struct nb_call *c = &w->call;
	uint32_t chunk = w->cfg->io_size;
	int st;

	nb_begin(c);
	nb_add_putfh(c, dir);
	nb_add_lookup(c, name);
	nb_add_getfh(c);
	nb_add_getattr_size(c);
	st = nb_send(c);
	if (st == NFS4_OK && c->out.has_size && c->out.size >= size) {
		*out = c->out.fh;
		return NFS4_OK;
	}
	if (st != NFS4_OK && st != NFS4ERR_NOENT)
		return st;
	st = open_file(w, dir, name, OPEN4_SHARE_ACCESS_BOTH, true);
	for (uint64_t off = 0; st == NFS4_OK && off < size; off += chunk)
		st = write_at(w, off, size - off < chunk ? (uint32_t)(size - off) : chunk,
			      UNSTABLE4);
	if (st == NFS4_OK)
		st = commit(w);
	if (w->opened) {
		int cst = close_file(w);

		st = st ? st : cst;
	}
	if (st == NFS4_OK)
		*out = w->fh;
	return st;
}

/* Number of entries in dir, by a full listing. */
static int list_dir(struct nb_worker *w, const struct nb_fh *dir, uint64_t *n)
{
	struct nb_call *c = &w->call;
	uint8_t verf[8] = {0};
	uint64_t cookie = 0;
	int st;

	*n = 0;
	do {
		nb_begin(c);
		nb_add_putfh(c, dir);
		nb_add_readdir(c, cookie, verf, NB_DIRENT_MAX);
		st = nb_send(c);
		if (st != NFS4_OK)
			return st;
		if (!c->out.nentries && !c->out.eof)
			return -EPROTO; /* no progress */
		*n += c->out.nentries;
		cookie = c->out.cookie;
		memcpy(verf, c->out.cookieverf, 8);
	} while (!c->out.eof);
	return NFS4_OK;
}

/* The base directory of every fixture: <path>/nfs4bench<tag>. */
static int setup_base(struct nb_worker *w, struct nb_fixture *fx)
{
	const char *p = w->cfg->path;
	struct nb_call *c = &w->call;
	char name[64];
	int st;

	nb_begin(c);
	nb_add_putrootfh(c);
	while (*p) {
		char comp[256];
		size_t n = strcspn(p, "/");

		if (n >= sizeof(comp))
			return NFS4ERR_NAMETOOLONG;
		if (n) {
			memcpy(comp, p, n);
			comp[n] = 0;
			nb_add_lookup(c, comp);
		}
		p += n + (p[n] == '/');
	}
	nb_add_getfh(c);
	st = nb_send(c);
	if (st != NFS4_OK)
		return st;
	snprintf(name, sizeof(name), "nfs4bench%s", w->cfg->tag);
	return ensure_dir(w, &c->out.fh, name, &fx->base);
}

/* ---------------------------------------------------------- workloads */

static int getattr_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	int st = setup_base(w, fx);

	return st ? st : ensure_file(w, &fx->base, "getattr-file", NB_SMALL_IO, &fx->file);
}

static int getattr_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	nb_begin(&w->call);
	nb_add_putfh(&w->call, &fx->file);
	nb_add_getattr_std(&w->call);
	return nb_send(&w->call);
}

static const char *const lookup_path[4] = {"lookup-a", "b", "c", "d"};

static int lookup_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	struct nb_fh d;
	int st = setup_base(w, fx);

	d = fx->base;
	for (int i = 0; st == NFS4_OK && i < 4; i++)
		st = ensure_dir(w, &d, lookup_path[i], &d);
	return st;
}

static int lookup_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	nb_begin(&w->call);
	nb_add_putfh(&w->call, &fx->base);
	for (int i = 0; i < 4; i++)
		nb_add_lookup(&w->call, lookup_path[i]);
	nb_add_getfh(&w->call);
	nb_add_getattr_std(&w->call);
	return nb_send(&w->call);
}

static int readdir_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	uint32_t want = w->cfg->readdir_entries;
	char name[64];
	uint64_t n;
	int st = setup_base(w, fx);

	snprintf(name, sizeof(name), "readdir-%u", want);
	if (st == NFS4_OK)
		st = ensure_dir(w, &fx->base, name, &fx->dir);
	if (st == NFS4_OK)
		st = list_dir(w, &fx->dir, &n);
	if (st != NFS4_OK || n == want)
		return st;
	/* UNCHECKED4 creates are idempotent: fill whatever an interrupted run left out. */
	for (uint32_t i = 0; st == NFS4_OK && i < want; i++) {
		snprintf(name, sizeof(name), "entry-%05u", i);
		st = open_file(w, &fx->dir, name, OPEN4_SHARE_ACCESS_READ, true);
		if (st == NFS4_OK)
			st = close_file(w);
	}
	if (st == NFS4_OK)
		st = list_dir(w, &fx->dir, &n);
	return st == NFS4_OK && n != want ? -EEXIST : st; /* a stranger's file in our directory */
}

static int readdir_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	uint64_t n;
	int st = list_dir(w, &fx->dir, &n);

	if (st == NFS4_OK && n != w->cfg->readdir_entries)
		st = -EPROTO; /* a listing that lost or duplicated entries */
	return st;
}

static int openclose_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	int st = setup_base(w, fx);

	return st ? st : ensure_file(w, &fx->base, "open-file", NB_SMALL_IO, &fx->file);
}

static int openclose_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	int st = open_file(w, &fx->base, "open-file", OPEN4_SHARE_ACCESS_READ, false);

	return st ? st : close_file(w);
}

static int create_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	int st = setup_base(w, fx);

	return st ? st : ensure_dir(w, &fx->base, "create", &fx->dir);
}

static int create_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	char name[64];
	int st;

	snprintf(name, sizeof(name), "f-%d-%llu", w->id, (unsigned long long)w->iter++);
	st = open_file(w, &fx->dir, name, OPEN4_SHARE_ACCESS_BOTH, true);
	if (st == NFS4_OK)
		st = write_at(w, 0, NB_SMALL_IO, UNSTABLE4);
	if (w->opened) {
		int cst = close_file(w);

		st = st ? st : cst;
	}
	if (st == NFS4_OK) {
		nb_begin(&w->call);
		nb_add_putfh(&w->call, &fx->dir);
		nb_add_remove(&w->call, name);
		st = nb_send(&w->call);
	}
	if (st == NFS4_OK)
		w->bytes += NB_SMALL_IO;
	return st;
}

static int read_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	char name[64];
	int st = setup_base(w, fx);

	snprintf(name, sizeof(name), "read-%llu", (unsigned long long)w->cfg->file_size);
	return st ? st : ensure_file(w, &fx->base, name, w->cfg->file_size, &fx->file);
}

/* Each thread reads its own stretch of the file, sequentially, from its own OPEN. */
static int read_start(struct nb_worker *w, const struct nb_fixture *fx)
{
	char name[64];
	uint64_t chunks = w->cfg->file_size / w->cfg->io_size;

	snprintf(name, sizeof(name), "read-%llu", (unsigned long long)w->cfg->file_size);
	w->off = chunks ? (uint64_t)w->id * 7919 % chunks * w->cfg->io_size : 0;
	return open_file(w, &fx->base, name, OPEN4_SHARE_ACCESS_READ, false);
}

static int read_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	uint32_t want = w->cfg->io_size;
	int st;

	if (w->off + want > w->cfg->file_size)
		w->off = 0;
	nb_begin(&w->call);
	nb_add_putfh(&w->call, &w->fh);
	nb_add_read(&w->call, &w->sid, w->off, want);
	st = nb_send(&w->call);
	if (st == NFS4_OK && w->call.out.nread != want)
		st = -EIO; /* short read inside the file */
	if (st == NFS4_OK) {
		w->bytes += want;
		w->off += want;
	}
	return st;
}

static void close_stop(struct nb_worker *w, const struct nb_fixture *fx)
{
	int st;

	if (w->opened && (st = close_file(w)) != NFS4_OK)
		nb_error(w, "CLOSE", st);
}

static int write_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	int st = setup_base(w, fx);

	return st ? st : ensure_dir(w, &fx->base, "write", &fx->dir);
}

static int write_start(struct nb_worker *w, const struct nb_fixture *fx)
{
	char name[64];

	snprintf(name, sizeof(name), "w-%d", w->id);
	w->off = 0;
	return open_file(w, &fx->dir, name, OPEN4_SHARE_ACCESS_BOTH, true);
}

static int write_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	const struct nb_config *cfg = w->cfg;
	uint64_t span = cfg->file_size / (uint64_t)(cfg->conns * cfg->sessions * cfg->slots);
	int st;

	if (span < cfg->io_size)
		span = cfg->io_size;
	if (w->off + cfg->io_size > span)
		w->off = 0; /* rewrite the thread's file from the start: bounded disk use */
	st = write_at(w, w->off, cfg->io_size, UNSTABLE4);
	if (st != NFS4_OK)
		return st;
	w->off += cfg->io_size;
	w->bytes += cfg->io_size;
	if (++w->iter * cfg->io_size % cfg->commit_every < cfg->io_size)
		st = commit(w);
	return st;
}

static void write_stop(struct nb_worker *w, const struct nb_fixture *fx)
{
	int st;

	if (w->opened && (st = commit(w)) != NFS4_OK)
		nb_error(w, "COMMIT", st);
	close_stop(w, fx);
}

static int mixed_setup(struct nb_worker *w, struct nb_fixture *fx)
{
	int st = setup_base(w, fx);

	return st ? st : ensure_dir(w, &fx->base, "mixed", &fx->dir);
}

/* Each thread works in its own directory of sources, w->dir. */
static int mixed_start(struct nb_worker *w, const struct nb_fixture *fx)
{
	struct nb_fh src;
	char name[64];
	int st;

	snprintf(name, sizeof(name), "m-%d", w->id);
	st = ensure_dir(w, &fx->dir, name, &w->dir);
	for (uint32_t i = 0; st == NFS4_OK && i < NB_MIXED_SOURCES; i++) {
		snprintf(name, sizeof(name), "src-%02u.c", i);
		st = ensure_file(w, &w->dir, name, NB_SMALL_IO, &src);
	}
	w->iter = 0;
	return st;
}

/* One COMPOUND of the cycle; the open file of steps 2-4 and 5-7 is w->fh/w->sid. */
static int mixed_op(struct nb_worker *w, const struct nb_fixture *fx)
{
	struct nb_call *c = &w->call;
	uint64_t cycle = w->iter / 13;
	int step = (int)(w->iter++ % 13), st;
	char src[32];

	snprintf(src, sizeof(src), "src-%02u.c",
		 (unsigned)((cycle + (unsigned)step) % NB_MIXED_SOURCES));
	nb_begin(c);
	switch (step) {
	case 0:
	case 1:
	case 11: /* stat a source */
		nb_add_putfh(c, &w->dir);
		nb_add_lookup(c, src);
		nb_add_getfh(c);
		nb_add_getattr_std(c);
		break;
	case 2: /* read a source: open, read, close */
		nb_add_putfh(c, &w->dir);
		nb_add_open(c, w->clientid, w->owner, src, OPEN4_SHARE_ACCESS_READ, false);
		nb_add_getfh(c);
		nb_add_getattr_std(c);
		break;
	case 3:
		nb_add_putfh(c, &w->fh);
		nb_add_read(c, &w->sid, 0, NB_SMALL_IO);
		break;
	case 4:
	case 7:
		nb_add_putfh(c, &w->fh);
		nb_add_close(c, &w->sid);
		break;
	case 5: /* write an object under a temporary name */
		nb_add_putfh(c, &w->dir);
		nb_add_open(c, w->clientid, w->owner, "obj.tmp", OPEN4_SHARE_ACCESS_BOTH, true);
		nb_add_getfh(c);
		nb_add_getattr_std(c);
		break;
	case 6:
		nb_add_putfh(c, &w->fh);
		nb_add_write(c, &w->sid, 0, w->buf, 2 * NB_SMALL_IO, UNSTABLE4);
		break;
	case 8: /* revalidate the directory */
		nb_add_putfh(c, &w->dir);
		nb_add_getattr_std(c);
		break;
	case 9: /* move the object into place */
		nb_add_putfh(c, &w->dir);
		nb_add_savefh(c);
		nb_add_putfh(c, &w->dir);
		nb_add_rename(c, "obj.tmp", "obj.o");
		break;
	case 10: /* list the directory */
		nb_add_putfh(c, &w->dir);
		nb_add_readdir(c, 0, (const uint8_t[8]){0}, NB_DIRENT_MAX);
		break;
	default: /* clean */
		nb_add_putfh(c, &w->dir);
		nb_add_remove(c, "obj.o");
		break;
	}
	st = nb_send(c);
	if (step == 4 || step == 7)
		w->opened = false; /* CLOSE failed or not: the stateid is not retried */
	if (st != NFS4_OK)
		return st;
	if (step == 2 || step == 5) {
		w->fh = c->out.fh;
		w->sid = c->out.sid;
		w->opened = true;
	} else if (step == 3) {
		w->bytes += c->out.nread;
	} else if (step == 6) {
		w->bytes += c->out.nwritten;
	} else if (step == 10 && !c->out.eof) {
		st = -EPROTO; /* the directory is small: one READDIR must list it */
	}
	return st;
}

const struct nb_workload nb_workloads[] = {
	{"null", NULL, nb_null_start, NULL, nb_null_stop, nb_null_conn_loop},
	{"getattr", getattr_setup, NULL, getattr_op, NULL, NULL},
	{"lookup", lookup_setup, NULL, lookup_op, NULL, NULL},
	{"readdir", readdir_setup, NULL, readdir_op, NULL, NULL},
	{"open-close", openclose_setup, NULL, openclose_op, NULL, NULL},
	{"create", create_setup, NULL, create_op, NULL, NULL},
	{"read", read_setup, read_start, read_op, close_stop, NULL},
	{"write", write_setup, write_start, write_op, write_stop, NULL},
	{"mixed", mixed_setup, mixed_start, mixed_op, close_stop, NULL},
};
const int nb_nworkloads = (int)(sizeof(nb_workloads) / sizeof(nb_workloads[0]));

const struct nb_workload *nb_workload_find(const char *name)
{
	for (int i = 0; i < nb_nworkloads; i++)
		if (strcmp(nb_workloads[i].name, name) == 0)
			return &nb_workloads[i];
	return NULL;
}
