/* Helpers for the file-operation protocol tests: see fileops.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "state_helpers.h"

#define FO_TIMEOUT_MS 30000

/* ------------------------------------------------------------ server */

struct fo_srv *fo_srv_start(const char *const *args)
{
	struct harness_srv *hs = harness_start_args(args);
	struct fo_srv *srv = calloc(1, sizeof(*srv));

	assert_non_null(srv);
	srv->hs = hs;
	return srv;
}

/*
 * The file and state tests run without delegations (vfs grants none anyway):
 * they are about what a client sees of files, opens and locks, and a
 * delegation would change who conflicts with whom (and keep DESTROY_CLIENTID
 * busy). Delegations have their own tests (test_deleg*.c).
 */
struct fo_srv *fo_srv_start_backend(enum fo_backend be)
{
	char dir[256], line[400];
	struct fo_srv *srv;

	if (be == FO_MEM) {
		/* FO_MEM_PATH: export another path than "/" (to debug past a "/" problem). */
		const char *p = getenv("FO_MEM_PATH");
		const char *args[] = {"--backend", "mem", "--max-delegations", "0", "--export",
				      line,	   NULL};

		snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", p && *p ? p : "/");
		srv = fo_srv_start(args);
		snprintf(srv->expath, sizeof(srv->expath), "%s", p && *p ? p : "/");
		return srv;
	}
	snprintf(dir, sizeof(dir), "%s/nfs4d-ft-XXXXXX", harness_tmpdir());
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", dir);
	{
		/* No delegations, as on mem: the file tests return none before they go. */
		const char *args[] = {"--backend", "vfs", "--max-delegations", "0", "--export",
				      line,	   NULL};

		srv = fo_srv_start(args);
	}
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", dir);
	snprintf(srv->expath, sizeof(srv->expath), "%s", dir);
	return srv;
}

static int fo_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void fo_srv_stop(struct fo_srv *srv)
{
	struct fo_srv copy;
	const char *why;

	if (!srv)
		return;
	copy = *srv;
	free(srv);
	/* Remove the temp dir whatever the exit, then report. */
	why = harness_stop_status(copy.hs);
	if (copy.tmpdir[0])
		nftw(copy.tmpdir, fo_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (why)
		harness_fail("%s", why);
}

void fo_srv_restart(struct fo_srv *srv)
{
	harness_restart(srv->hs);
}

void fo_write_tmpfile(const char *text, char *path)
{
	int fd;

	snprintf(path, 64, "%s/nfs4d-ft-exports-XXXXXX", harness_tmpdir());
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void *fo_local_open_run(void *arg)
{
	struct fo_local_open *lo = arg;

	lo->fd = open(lo->path, lo->flags | O_CLOEXEC);
	lo->err = lo->fd < 0 ? errno : 0;
	atomic_store(&lo->done, 1);
	return NULL;
}

void fo_local_open_start(struct fo_local_open *lo, const struct fo_srv *srv, const char *dir,
			 const char *name, int flags)
{
	memset(lo, 0, sizeof(*lo));
	snprintf(lo->path, sizeof(lo->path), "%s/%s/%s", srv->tmpdir, dir, name);
	lo->flags = flags;
	assert_int_equal(pthread_create(&lo->thread, NULL, fo_local_open_run, lo), 0);
}

void fo_local_open_end(struct fo_local_open *lo, int max_ms)
{
	for (int waited = 0; max_ms && !atomic_load(&lo->done); waited += 50) {
		if (waited > max_ms)
			fail_msg("local open of %s still waits after %d ms", lo->path, max_ms);
		harness_sleep_ms(50);
	}
	assert_int_equal(pthread_join(lo->thread, NULL), 0);
	if (lo->fd < 0)
		fail_msg("local open of %s: %s", lo->path, strerror(lo->err));
	close(lo->fd);
}

/* ------------------------------------------------------- environment */

const char *fo_be_name(enum fo_backend be)
{
	return be == FO_MEM ? "mem" : "vfs";
}

void fo_client_new(struct fo_env *e, struct harness_client *cl, const struct nfs4clnt_auth *auth)
{
	char owner[64];

	harness_client_new(e->srv->hs, cl, harness_owner(owner, sizeof(owner), "files"), 4);
	if (auth)
		nfs4clnt_conn_set_auth(cl->conn, auth);
}

static void fo_env_handles(struct fo_env *e)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;

	fo_add(cmp, OP_PUTROOTFH);
	fo_add(cmp, OP_GETFH);
	fo_send(e, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
	assert_nfs(fo_res_getfh(&res, &e->root), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_nfs(fo_walk(e, e->expath, &e->exp), NFS4_OK);
}

void fo_env_attach(struct fo_env *e, struct fo_srv *srv, const char *expath)
{
	memset(e, 0, sizeof(*e));
	e->be = srv->tmpdir[0] ? FO_VFS : FO_MEM;
	e->srv = srv;
	snprintf(e->expath, sizeof(e->expath), "%s", expath);
	harness_owner(e->owner, sizeof(e->owner), "files");
	harness_client_new(srv->hs, &e->cl, e->owner, 4);
	fo_env_handles(e);
}

void fo_env_setup(struct fo_env *e, enum fo_backend be)
{
	struct fo_srv *srv = fo_srv_start_backend(be);

	fo_env_attach(e, srv, srv->expath);
	e->be = be;
}

static void fo_env_setup_lease(struct fo_env *e, const char *secs)
{
	const char *args[] = {"--backend", "mem",      "--max-delegations",
			      "0",	   "--export", "/ *(rw,no_root_squash)",
			      "--lease",   secs,       NULL};

	fo_env_attach(e, fo_srv_start(args), "/");
}

void fo_env_teardown(struct fo_env *e)
{
	int ds = 0, dc = 0;
	struct fo_srv *srv = e->srv;

	/* Stop the server whatever happened to the client, then report. */
	if (e->cl.conn) {
		ds = nfs4clnt_destroy_session(e->cl.conn, nfs4clnt_session_id(e->cl.sess));
		dc = nfs4clnt_destroy_clientid(e->cl.conn, e->cl.clientid);
		harness_client_free(&e->cl, true);
	}
	e->srv = NULL;
	fo_srv_stop(srv);
	assert_nfs(ds, NFS4_OK);
	assert_nfs(dc, NFS4_OK);
}

void fo_env_restart(struct fo_env *e)
{
	harness_client_free(&e->cl, true);
	fo_srv_restart(e->srv);
	harness_client_new(e->srv->hs, &e->cl, e->owner, 4);
	assert_nfs(nfs4clnt_reclaim_complete(e->cl.sess), NFS4_OK);
}

void fo_testdir(struct fo_env *e, const char *prefix, struct fo_fh *out, char *name, size_t len)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s-%d", prefix, ++e->ntest);
	assert_nfs(fo_mkdir(e, &e->exp, buf, out), NFS4_OK);
	if (name)
		snprintf(name, len, "%s", buf);
}

/* vfs: the file is made on disk by this process, as a local user would. */
static void fo_make_file_on_disk(struct fo_env *e, const char *dirname, const char *name,
				 const void *data, size_t len)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", e->srv->tmpdir, dirname, name);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* mem: OPEN4_CREATE GUARDED4 (CLAIM_NULL), WRITE FILE_SYNC4 with the open stateid, CLOSE. */
static void fo_make_file_by_open(struct fo_env *e, const struct fo_fh *dir, const char *name,
				 const void *data, size_t len, struct fo_fh *out)
{
	struct fo_sattr mode;
	struct st_open o = {.claim = CLAIM_NULL,
			    .dir = dir,
			    .name = name,
			    .clientid = e->cl.clientid,
			    .owner = "fo_make_file",
			    .access = OPEN4_SHARE_ACCESS_BOTH,
			    .deny = OPEN4_SHARE_DENY_NONE,
			    .create = true,
			    .createmode = GUARDED4,
			    .attrs = &mode};

	assert_true(len <= UINT32_MAX);
	fo_sa_init(&mode);
	fo_sa_u32(&mode, FATTR4_MODE, 0644); /* as fo_make_file_on_disk */
	assert_nfs(st_create_file(e->cl.sess, &o, data, (uint32_t)len), NFS4_OK);
	assert_true(fo_mask_has(o.attrset.w, o.attrset.n, FATTR4_MODE));
	*out = o.ofh;
}

void fo_make_file(struct fo_env *e, const char *dirname, const char *name, const void *data,
		  size_t len, struct fo_fh *out)
{
	struct fo_fh dir;

	assert_nfs(fo_lookup(e, &e->exp, dirname, &dir), NFS4_OK);
	if (e->be == FO_MEM) {
		fo_make_file_by_open(e, &dir, name, data, len, out);
		return;
	}
	fo_make_file_on_disk(e, dirname, name, data, len);
	assert_nfs(fo_lookup(e, &dir, name, out), NFS4_OK);
}

/* ------------------------------------------------------------- fattr4 */

static bool fo_dec_str(struct xdr_dec *x, char *out, size_t len)
{
	struct xdr_opaque o;

	if (!xdr_dec_opaque(x, &o, UINT32_MAX) || o.len >= len)
		return false;
	memcpy(out, o.data, o.len);
	out[o.len] = 0;
	return true;
}

static bool fo_dec_time(struct xdr_dec *x, struct fo_time *t)
{
	return xdr_dec_i64(x, &t->sec) && xdr_dec_u32(x, &t->nsec);
}

static bool fo_dec_bitmap3(struct xdr_dec *x, uint32_t w[3])
{
	uint32_t n, v;

	if (!xdr_dec_u32(x, &n) || n > 64)
		return false;
	w[0] = w[1] = w[2] = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!xdr_dec_u32(x, &v))
			return false;
		if (i < 3)
			w[i] = v;
	}
	return true;
}

/* One attribute value, by its RFC 8881 §5.8 type. */
static bool fo_dec_attr(struct xdr_dec *x, uint32_t attr, struct fo_attrs *a)
{
	struct xdr_opaque o;
	uint32_t u;
	uint64_t skip64;

	switch (attr) {
	case FATTR4_SUPPORTED_ATTRS:
		return fo_dec_bitmap3(x, a->supported);
	case FATTR4_SUPPATTR_EXCLCREAT:
		return fo_dec_bitmap3(x, a->suppattr_exclcreat);
	case FATTR4_TYPE:
		return xdr_dec_u32(x, &a->type);
	case FATTR4_FH_EXPIRE_TYPE:
		return xdr_dec_u32(x, &a->fh_expire_type);
	case FATTR4_CHANGE:
		return xdr_dec_u64(x, &a->change);
	case FATTR4_SIZE:
		return xdr_dec_u64(x, &a->size);
	case FATTR4_LINK_SUPPORT:
		return xdr_dec_bool(x, &a->link_support);
	case FATTR4_SYMLINK_SUPPORT:
		return xdr_dec_bool(x, &a->symlink_support);
	case FATTR4_NAMED_ATTR:
		return xdr_dec_bool(x, &a->named_attr);
	case FATTR4_FSID:
		return xdr_dec_u64(x, &a->fsid_major) && xdr_dec_u64(x, &a->fsid_minor);
	case FATTR4_UNIQUE_HANDLES:
		return xdr_dec_bool(x, &a->unique_handles);
	case FATTR4_LEASE_TIME:
		return xdr_dec_u32(x, &a->lease_time);
	case FATTR4_RDATTR_ERROR:
		return xdr_dec_u32(x, &a->rdattr_error);
	case FATTR4_ACLSUPPORT:
		return xdr_dec_u32(x, &a->aclsupport);
	case FATTR4_CANSETTIME:
		return xdr_dec_bool(x, &a->cansettime);
	case FATTR4_CASE_INSENSITIVE:
		return xdr_dec_bool(x, &a->case_insensitive);
	case FATTR4_CASE_PRESERVING:
		return xdr_dec_bool(x, &a->case_preserving);
	case FATTR4_CHOWN_RESTRICTED:
		return xdr_dec_bool(x, &a->chown_restricted);
	case FATTR4_FILEHANDLE:
		if (!xdr_dec_opaque(x, &o, FO_FHMAX))
			return false;
		a->filehandle.len = o.len;
		memcpy(a->filehandle.data, o.data, o.len);
		return true;
	case FATTR4_FILEID:
		return xdr_dec_u64(x, &a->fileid);
	case FATTR4_FILES_AVAIL:
		return xdr_dec_u64(x, &a->files_avail);
	case FATTR4_FILES_FREE:
		return xdr_dec_u64(x, &a->files_free);
	case FATTR4_FILES_TOTAL:
		return xdr_dec_u64(x, &a->files_total);
	case FATTR4_HOMOGENEOUS:
		return xdr_dec_bool(x, &a->homogeneous);
	case FATTR4_MAXFILESIZE:
		return xdr_dec_u64(x, &a->maxfilesize);
	case FATTR4_MAXLINK:
		return xdr_dec_u32(x, &a->maxlink);
	case FATTR4_MAXNAME:
		return xdr_dec_u32(x, &a->maxname);
	case FATTR4_MAXREAD:
		return xdr_dec_u64(x, &a->maxread);
	case FATTR4_MAXWRITE:
		return xdr_dec_u64(x, &a->maxwrite);
	case FATTR4_MODE:
		return xdr_dec_u32(x, &a->mode);
	case FATTR4_NO_TRUNC:
		return xdr_dec_bool(x, &a->no_trunc);
	case FATTR4_NUMLINKS:
		return xdr_dec_u32(x, &a->numlinks);
	case FATTR4_OWNER:
		return fo_dec_str(x, a->owner, sizeof(a->owner));
	case FATTR4_OWNER_GROUP:
		return fo_dec_str(x, a->owner_group, sizeof(a->owner_group));
	case FATTR4_QUOTA_AVAIL_HARD:
	case FATTR4_QUOTA_AVAIL_SOFT:
	case FATTR4_QUOTA_USED:
		return xdr_dec_u64(x, &skip64);
	case FATTR4_RAWDEV:
		return xdr_dec_u32(x, &a->rawdev[0]) && xdr_dec_u32(x, &a->rawdev[1]);
	case FATTR4_SPACE_AVAIL:
		return xdr_dec_u64(x, &a->space_avail);
	case FATTR4_SPACE_FREE:
		return xdr_dec_u64(x, &a->space_free);
	case FATTR4_SPACE_TOTAL:
		return xdr_dec_u64(x, &a->space_total);
	case FATTR4_SPACE_USED:
		return xdr_dec_u64(x, &a->space_used);
	case FATTR4_TIME_ACCESS:
		return fo_dec_time(x, &a->atime);
	case FATTR4_TIME_CREATE:
		return fo_dec_time(x, &a->crtime);
	case FATTR4_TIME_DELTA:
		return fo_dec_time(x, &a->time_delta);
	case FATTR4_TIME_METADATA:
		return fo_dec_time(x, &a->ctime);
	case FATTR4_TIME_MODIFY:
		return fo_dec_time(x, &a->mtime);
	case FATTR4_MOUNTED_ON_FILEID:
		return xdr_dec_u64(x, &a->mounted_on_fileid);
	case FATTR4_FS_CHARSET_CAP:
		return xdr_dec_u32(x, &u);
	default:
		return false; /* not decoded by the tests: never requested */
	}
}

bool fo_attrs_parse(const uint32_t *mask, uint32_t nmask, const uint8_t *vals, uint32_t len,
		    struct fo_attrs *a, int *bad)
{
	struct xdr_dec x;

	memset(a, 0, sizeof(*a));
	xdr_dec_init(&x, vals, len, NULL);
	for (uint32_t attr = 0; attr < nmask * 32; attr++) {
		if (!fo_mask_has(mask, nmask, attr))
			continue;
		if (attr >= FO_MAXATTR || !fo_dec_attr(&x, attr, a)) {
			if (bad)
				*bad = (int)attr;
			return false;
		}
		a->has[attr] = true;
	}
	if (xdr_dec_remaining(&x) != 0) {
		if (bad)
			*bad = -1; /* trailing bytes */
		return false;
	}
	return true;
}

bool fo_attrs_decode(struct xdr_dec *x, struct fo_attrs *a, int *bad)
{
	uint32_t w[3];
	struct xdr_opaque vals;

	if (!fo_dec_bitmap3(x, w) || !xdr_dec_opaque(x, &vals, UINT32_MAX)) {
		if (bad)
			*bad = -2;
		return false;
	}
	return fo_attrs_parse(w, 3, vals.data, vals.len, a, bad);
}

void fo_sa_init(struct fo_sattr *sa)
{
	memset(sa, 0, sizeof(*sa));
}

void fo_sa_raw(struct fo_sattr *sa, uint32_t attr, const void *val, uint32_t len)
{
	assert_true(sa->n < 16 && len <= sizeof(sa->v[0].val));
	sa->v[sa->n].attr = attr;
	sa->v[sa->n].len = len;
	memcpy(sa->v[sa->n].val, val, len);
	sa->n++;
}

void fo_sa_u32(struct fo_sattr *sa, uint32_t attr, uint32_t v)
{
	uint8_t b[4];

	xdr_put_be32(b, v);
	fo_sa_raw(sa, attr, b, 4);
}

void fo_sa_u64(struct fo_sattr *sa, uint32_t attr, uint64_t v)
{
	uint8_t b[8];

	xdr_put_be32(b, (uint32_t)(v >> 32));
	xdr_put_be32(b + 4, (uint32_t)v);
	fo_sa_raw(sa, attr, b, 8);
}

void fo_sa_str(struct fo_sattr *sa, uint32_t attr, const char *s)
{
	uint8_t b[300];
	struct xdr_enc x;
	struct xdr_opaque o = xdr_opaque_str(s);

	xdr_enc_init(&x, b, sizeof(b));
	assert_true(xdr_enc_opaque(&x, &o, UINT32_MAX));
	fo_sa_raw(sa, attr, b, (uint32_t)x.len);
}

void fo_sa_settime(struct fo_sattr *sa, uint32_t attr, uint32_t how, int64_t sec, uint32_t nsec)
{
	uint8_t b[16];
	struct xdr_enc x;
	struct settime4 st = {.set_it = (enum time_how4)how};

	st.u.time.seconds = sec;
	st.u.time.nseconds = nsec;
	xdr_enc_init(&x, b, sizeof(b));
	assert_true(xdr_enc_settime4(&x, &st));
	fo_sa_raw(sa, attr, b, (uint32_t)x.len);
}

void fo_sa_time(struct fo_sattr *sa, uint32_t attr, int64_t sec, uint32_t nsec)
{
	uint8_t b[12];
	struct xdr_enc x;
	struct nfstime4 t = {.seconds = sec, .nseconds = nsec};

	xdr_enc_init(&x, b, sizeof(b));
	assert_true(xdr_enc_nfstime4(&x, &t));
	fo_sa_raw(sa, attr, b, (uint32_t)x.len);
}

bool fo_sa_encode(const struct fo_sattr *sa, struct xdr_enc *x)
{
	int order[16];
	uint32_t w[4] = {0}, nw = 0, total = 0;
	uint8_t pad[4] = {0};

	for (int i = 0; i < sa->n; i++) {
		int j = i;

		while (j > 0 && sa->v[order[j - 1]].attr > sa->v[i].attr) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
		w[sa->v[i].attr / 32] |= 1u << (sa->v[i].attr % 32);
		if (sa->v[i].attr / 32 + 1 > nw)
			nw = sa->v[i].attr / 32 + 1;
		total += sa->v[i].len;
	}
	if (!xdr_enc_u32(x, nw))
		return false;
	for (uint32_t i = 0; i < nw; i++)
		if (!xdr_enc_u32(x, w[i]))
			return false;
	if (!xdr_enc_u32(x, total))
		return false;
	for (int i = 0; i < sa->n; i++)
		if (!xdr_enc_opaque_fixed(x, sa->v[order[i]].val, sa->v[order[i]].len))
			return false;
	/* values are whole XDR items, so total is a multiple of 4 already */
	(void)pad;
	return !x->overflow;
}

struct fo_mask fo_mask_of(int first, ...)
{
	struct fo_mask m = {0};
	va_list ap;

	va_start(ap, first);
	for (int a = first; a >= 0; a = va_arg(ap, int)) {
		m.w[a / 32] |= 1u << (a % 32);
		if ((uint32_t)a / 32 + 1 > m.n)
			m.n = (uint32_t)a / 32 + 1;
	}
	va_end(ap);
	return m;
}

bool fo_enc_mask(struct xdr_enc *x, const struct fo_mask *m)
{
	bitmap4 b = {.len = m->n, .val = (uint32_t *)m->w};

	return xdr_enc_bitmap4(x, &b);
}

/* ------------------------------------------------- compounds and ops */

const struct stateid4 fo_anon_stateid = {0, {0}};
const struct stateid4 fo_bypass_stateid = {
	0xffffffffu, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct nfs4clnt_compound *fo_cmp(void)
{
	struct nfs4clnt_compound *cmp = nfs4clnt_compound_new("files", 1);

	assert_non_null(cmp);
	return cmp;
}

void fo_add(struct nfs4clnt_compound *cmp, uint32_t op)
{
	assert_non_null(nfs4clnt_compound_add(cmp, op));
}

void fo_add_putfh(struct nfs4clnt_compound *cmp, const struct fo_fh *fh)
{
	nfs_fh4 o = {.len = fh->len, .data = fh->data};

	assert_true(xdr_enc_nfs_fh4(nfs4clnt_compound_add(cmp, OP_PUTFH), &o));
}

void fo_add_lookup(struct nfs4clnt_compound *cmp, const char *name)
{
	component4 c = xdr_opaque_str(name);

	assert_true(xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_LOOKUP), &c));
}

void fo_add_getattr(struct nfs4clnt_compound *cmp, const struct fo_mask *m)
{
	assert_true(fo_enc_mask(nfs4clnt_compound_add(cmp, OP_GETATTR), m));
}

int fo_send(struct fo_env *e, struct harness_client *cl, struct nfs4clnt_compound *cmp,
	    struct nfs4clnt_res *res)
{
	int st;

	if (!cl)
		cl = &e->cl;
	st = nfs4clnt_session_compound(cl->sess, cmp, false, FO_TIMEOUT_MS, res, NULL);
	if (st < 0)
		fail_msg("session compound: %s (%d)", harness_status_name(st), st);
	return st;
}

uint32_t fo_res(struct nfs4clnt_res *res, uint32_t op)
{
	uint32_t got, st;

	if (!nfs4clnt_res_next(res, &got, &st))
		fail_msg("no result for op %u (results %u of %u)", op, res->index, res->numres);
	if (got != op)
		fail_msg("result for op %u where op %u was expected (status %s)", got, op,
			 harness_status_name((int)st));
	if (st_status_only(op))
		nfs4clnt_res_body(res);
	return st;
}

uint32_t fo_res_getfh(struct nfs4clnt_res *res, struct fo_fh *fh)
{
	uint32_t st = fo_res(res, OP_GETFH);
	struct GETFH4resok ok;

	if (st == NFS4_OK) {
		assert_true(xdr_dec_GETFH4resok(nfs4clnt_res_body(res), &ok));
		assert_true(ok.object.len <= FO_FHMAX);
		fh->len = ok.object.len;
		memcpy(fh->data, ok.object.data, ok.object.len);
	}
	return st;
}

static void fo_dec_getattr(struct xdr_dec *x, struct fo_attrs *a)
{
	int bad = 0;

	if (!fo_attrs_decode(x, a, &bad))
		fail_msg("GETATTR reply does not decode (attribute %d)", bad);
}

uint32_t fo_res_getattr(struct nfs4clnt_res *res, struct fo_attrs *a)
{
	uint32_t st = fo_res(res, OP_GETATTR);

	if (st == NFS4_OK)
		fo_dec_getattr(nfs4clnt_res_body(res), a);
	return st;
}

/* Consumes the body of an OK result of any op the tests send. */
static void fo_skip_body(struct nfs4clnt_res *res, uint32_t op, uint32_t st)
{
	struct xdr_dec *x;
	bool ok = true;

	if (st_status_only(op)) {
		nfs4clnt_res_body(res); /* nothing after the status: consumed */
		return;
	}
	/* Error results have no body, but SETATTR's attrsset and LOCK/LOCKT's LOCK4denied. */
	if (st != NFS4_OK && op != OP_SETATTR &&
	    !(st == NFS4ERR_DENIED && (op == OP_LOCK || op == OP_LOCKT)))
		return;
	x = nfs4clnt_res_body(res);
	if (st == NFS4ERR_DENIED && op != OP_SETATTR) {
		struct LOCK4denied v;

		if (!xdr_dec_LOCK4denied(x, &v))
			fail_msg("LOCK4denied of op %u does not decode", op);
		return;
	}
	switch (op) {
	case OP_GETFH: {
		struct GETFH4resok v;
		ok = xdr_dec_GETFH4resok(x, &v);
		break;
	}
	case OP_GETATTR: {
		struct GETATTR4resok v;
		ok = xdr_dec_GETATTR4resok(x, &v);
		break;
	}
	case OP_SETATTR: {
		bitmap4 v;
		ok = xdr_dec_bitmap4(x, &v);
		break;
	}
	case OP_CREATE: {
		struct CREATE4resok v;
		ok = xdr_dec_CREATE4resok(x, &v);
		break;
	}
	case OP_REMOVE: {
		struct REMOVE4resok v;
		ok = xdr_dec_REMOVE4resok(x, &v);
		break;
	}
	case OP_LINK: {
		struct LINK4resok v;
		ok = xdr_dec_LINK4resok(x, &v);
		break;
	}
	case OP_RENAME: {
		struct RENAME4resok v;
		ok = xdr_dec_RENAME4resok(x, &v);
		break;
	}
	case OP_READLINK: {
		struct READLINK4resok v;
		ok = xdr_dec_READLINK4resok(x, &v);
		break;
	}
	case OP_ACCESS: {
		struct ACCESS4resok v;
		ok = xdr_dec_ACCESS4resok(x, &v);
		break;
	}
	case OP_READ: {
		struct READ4resok v;
		ok = xdr_dec_READ4resok(x, &v);
		break;
	}
	case OP_WRITE: {
		struct WRITE4resok v;
		ok = xdr_dec_WRITE4resok(x, &v);
		break;
	}
	case OP_COMMIT: {
		struct COMMIT4resok v;
		ok = xdr_dec_COMMIT4resok(x, &v);
		break;
	}
	case OP_SECINFO:
	case OP_SECINFO_NO_NAME: {
		SECINFO4resok v;
		ok = xdr_dec_SECINFO4resok(x, &v);
		break;
	}
	case OP_READDIR: {
		struct READDIR4resok v;
		ok = xdr_dec_READDIR4resok(x, &v);
		break;
	}
	case OP_OPEN: {
		struct OPEN4resok v;
		ok = xdr_dec_OPEN4resok(x, &v);
		break;
	}
	case OP_OPEN_DOWNGRADE: {
		struct OPEN_DOWNGRADE4resok v;
		ok = xdr_dec_OPEN_DOWNGRADE4resok(x, &v);
		break;
	}
	case OP_CLOSE:
	case OP_LOCKU: {
		struct stateid4 v; /* CLOSE4res, LOCKU4res: the stateid when OK */
		ok = xdr_dec_stateid4(x, &v);
		break;
	}
	case OP_LOCK: {
		struct LOCK4resok v;
		ok = xdr_dec_LOCK4resok(x, &v);
		break;
	}
	case OP_LOCKT:
		break; /* LOCKT4res: nothing after NFS4_OK */
	case OP_TEST_STATEID: {
		struct TEST_STATEID4resok v;
		ok = xdr_dec_TEST_STATEID4resok(x, &v);
		break;
	}
	default:
		fail_msg("fo_skip_body: op %u", op);
	}
	if (!ok)
		fail_msg("result of op %u does not decode", op);
}

uint32_t fo_run(struct fo_env *e, struct nfs4clnt_compound *cmp)
{
	struct nfs4clnt_res res;
	uint32_t op, st = NFS4_OK;

	fo_send(e, NULL, cmp, &res);
	while (nfs4clnt_res_next(&res, &op, &st)) {
		fo_skip_body(&res, op, st);
		if (st != NFS4_OK)
			break;
	}
	if (st == NFS4_OK && res.index != res.numres)
		fail_msg("results stopped at %u of %u", res.index, res.numres);
	if (st != NFS4_OK && res.index != res.numres)
		fail_msg("failing op %u is not the last result", op);
	if (st != res.status)
		fail_msg("COMPOUND status %d differs from its last op's %d", (int)res.status,
			 (int)st);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

/*
 * One-op helpers run a struct st_call (state_helpers.h) in e's session or cl's:
 * a call that cannot be built, a transport failure, or results that stop
 * early or come back for other ops fail the test.
 */
static struct xdr_enc *fo_call_start(struct st_call *c, const struct fo_fh *fh, uint32_t op)
{
	struct xdr_enc *x = st_call_start(c, fh, op);

	assert_non_null(x);
	return x;
}

static struct xdr_enc *fo_call_add(struct st_call *c, uint32_t op)
{
	struct xdr_enc *x = st_call_add(c, op);

	assert_non_null(x);
	return x;
}

/* Runs c up to op: op's status, or that of the first failing op before it. */
static uint32_t fo_call_run(struct fo_env *e, struct harness_client *cl, struct st_call *c,
			    uint32_t op)
{
	int st = st_call_run((cl ? cl : &e->cl)->sess, c, op);

	if (c->cut)
		fail_msg("no result for op %u (results %u of %u)", op, c->res.index, c->res.numres);
	if (st < 0)
		fail_msg("op %u: %s (%d)", op, harness_status_name(st), st);
	return (uint32_t)st;
}

static void fo_dec_cinfo(struct xdr_dec *x, struct fo_cinfo *ci)
{
	struct change_info4 c;

	assert_true(xdr_dec_change_info4(x, &c));
	st_cinfo(&c, ci);
}

/* The bitmap4 of CREATE4resok or SETATTR4res, as 3 words. */
static void fo_dec_attrset(struct xdr_dec *x, struct fo_mask *attrset)
{
	uint32_t w[3];

	assert_true(fo_dec_bitmap3(x, w));
	if (attrset) {
		memcpy(attrset->w, w, sizeof(w));
		attrset->n = 3;
	}
}

uint32_t fo_lookup(struct fo_env *e, const struct fo_fh *dir, const char *name, struct fo_fh *out)
{
	struct st_call c;
	component4 n = xdr_opaque_str(name);
	struct fo_fh tmp;
	uint32_t st;

	assert_true(xdr_enc_component4(fo_call_start(&c, dir, OP_LOOKUP), &n));
	fo_call_add(&c, OP_GETFH);
	st = fo_call_run(e, NULL, &c, OP_LOOKUP);
	if (st == NFS4_OK)
		st = fo_res_getfh(&c.res, out ? out : &tmp);
	st_call_end(&c);
	return st;
}

uint32_t fo_walk(struct fo_env *e, const char *path, struct fo_fh *out)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	char buf[1024], *save = NULL, *c;
	uint32_t st;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	fo_add(cmp, OP_PUTROOTFH);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save), n++)
		fo_add_lookup(cmp, c);
	fo_add(cmp, OP_GETFH);
	fo_send(e, NULL, cmp, &res);
	st = fo_res(&res, OP_PUTROOTFH);
	for (int i = 0; i < n && st == NFS4_OK; i++)
		st = fo_res(&res, OP_LOOKUP);
	if (st == NFS4_OK) {
		struct fo_fh tmp;

		st = fo_res_getfh(&res, out ? out : &tmp);
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

uint32_t fo_getattr(struct fo_env *e, const struct fo_fh *fh, const struct fo_mask *m,
		    struct fo_attrs *a)
{
	struct st_call c;
	uint32_t st;

	assert_true(fo_enc_mask(fo_call_start(&c, fh, OP_GETATTR), m));
	st = fo_call_run(e, NULL, &c, OP_GETATTR);
	if (st == NFS4_OK)
		fo_dec_getattr(st_call_body(&c), a);
	st_call_end(&c);
	return st;
}

uint32_t fo_stat(struct fo_env *e, const struct fo_fh *fh, struct fo_attrs *a)
{
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_CHANGE, FATTR4_SIZE, FATTR4_FSID,
				      FATTR4_FILEID, FATTR4_MODE, FATTR4_NUMLINKS, FATTR4_OWNER,
				      FATTR4_OWNER_GROUP, FATTR4_RAWDEV, FATTR4_TIME_ACCESS,
				      FATTR4_TIME_METADATA, FATTR4_TIME_MODIFY, -1);

	return fo_getattr(e, fh, &m, a);
}

uint32_t fo_create(struct fo_env *e, const struct fo_fh *dir, uint32_t type, const char *name,
		   const char *linktext, uint32_t major, uint32_t minor, const struct fo_sattr *sa,
		   struct fo_fh *out, struct fo_cinfo *cinfo, struct fo_mask *attrset)
{
	struct st_call c;
	struct createtype4 ct = {.type = (enum nfs_ftype4)type};
	struct fo_sattr none;
	component4 n = xdr_opaque_str(name);
	struct xdr_enc *x;
	struct fo_fh tmp;
	uint32_t st;

	if (type == NF4LNK)
		ct.u.linkdata = xdr_opaque_str(linktext ? linktext : "");
	if (type == NF4BLK || type == NF4CHR) {
		ct.u.devdata.specdata1 = major;
		ct.u.devdata.specdata2 = minor;
	}
	fo_sa_init(&none);
	x = fo_call_start(&c, dir, OP_CREATE);
	assert_true(xdr_enc_createtype4(x, &ct) && xdr_enc_component4(x, &n) &&
		    fo_sa_encode(sa ? sa : &none, x));
	fo_call_add(&c, OP_GETFH);
	st = fo_call_run(e, NULL, &c, OP_CREATE);
	if (st == NFS4_OK) {
		fo_dec_cinfo(st_call_body(&c), cinfo);
		fo_dec_attrset(st_call_body(&c), attrset);
		assert_nfs(fo_res_getfh(&c.res, out ? out : &tmp), NFS4_OK);
	}
	st_call_end(&c);
	return st;
}

uint32_t fo_mkdir(struct fo_env *e, const struct fo_fh *dir, const char *name, struct fo_fh *out)
{
	return fo_create(e, dir, NF4DIR, name, NULL, 0, 0, NULL, out, NULL, NULL);
}

uint32_t fo_remove(struct fo_env *e, const struct fo_fh *dir, const char *name,
		   struct fo_cinfo *cinfo)
{
	struct st_call c;
	component4 n = xdr_opaque_str(name);
	uint32_t st;

	assert_true(xdr_enc_component4(fo_call_start(&c, dir, OP_REMOVE), &n));
	st = fo_call_run(e, NULL, &c, OP_REMOVE);
	if (st == NFS4_OK)
		fo_dec_cinfo(st_call_body(&c), cinfo);
	st_call_end(&c);
	return st;
}

/* PUTFH src, SAVEFH, PUTFH dir, op (RENAME, LINK): op's argument encoder. */
static struct xdr_enc *fo_call_start_two(struct st_call *c, const struct fo_fh *src,
					 const struct fo_fh *dir, uint32_t op)
{
	fo_call_start(c, src, OP_SAVEFH);
	assert_true(st_call_add_putfh(c, dir));
	return fo_call_add(c, op);
}

uint32_t fo_rename(struct fo_env *e, const struct fo_fh *sdir, const char *oldname,
		   const struct fo_fh *tdir, const char *newname, struct fo_cinfo *scinfo,
		   struct fo_cinfo *tcinfo)
{
	struct st_call c;
	struct RENAME4args a = {xdr_opaque_str(oldname), xdr_opaque_str(newname)};
	uint32_t st;

	assert_true(xdr_enc_RENAME4args(fo_call_start_two(&c, sdir, tdir, OP_RENAME), &a));
	st = fo_call_run(e, NULL, &c, OP_RENAME);
	if (st == NFS4_OK) {
		fo_dec_cinfo(st_call_body(&c), scinfo);
		fo_dec_cinfo(st_call_body(&c), tcinfo);
	}
	st_call_end(&c);
	return st;
}

uint32_t fo_link(struct fo_env *e, const struct fo_fh *obj, const struct fo_fh *dir,
		 const char *name, struct fo_cinfo *cinfo)
{
	struct st_call c;
	component4 n = xdr_opaque_str(name);
	uint32_t st;

	assert_true(xdr_enc_component4(fo_call_start_two(&c, obj, dir, OP_LINK), &n));
	st = fo_call_run(e, NULL, &c, OP_LINK);
	if (st == NFS4_OK)
		fo_dec_cinfo(st_call_body(&c), cinfo);
	st_call_end(&c);
	return st;
}

uint32_t fo_readlink(struct fo_env *e, const struct fo_fh *fh, char *buf, size_t len)
{
	struct st_call c;
	struct READLINK4resok ok;
	uint32_t st;

	fo_call_start(&c, fh, OP_READLINK);
	st = fo_call_run(e, NULL, &c, OP_READLINK);
	if (st == NFS4_OK) {
		assert_true(xdr_dec_READLINK4resok(st_call_body(&c), &ok));
		assert_true(ok.link.len < len);
		memcpy(buf, ok.link.data, ok.link.len);
		buf[ok.link.len] = 0;
	}
	st_call_end(&c);
	return st;
}

uint32_t fo_setattr(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		    const struct stateid4 *sid, const struct fo_sattr *sa, struct fo_mask *attrsset)
{
	struct st_call c;
	struct xdr_enc *x = fo_call_start(&c, fh, OP_SETATTR);
	uint32_t st;

	assert_true(xdr_enc_stateid4(x, sid ? sid : &fo_anon_stateid) && fo_sa_encode(sa, x));
	st = fo_call_run(e, cl, &c, OP_SETATTR);
	/* SETATTR4res carries attrsset whatever the status (RFC 8881 §18.30.2). */
	if (c.cur == OP_SETATTR)
		fo_dec_attrset(st_call_body(&c), attrsset);
	st_call_end(&c);
	return st;
}

uint32_t fo_verify(struct fo_env *e, uint32_t op, const struct fo_fh *fh, const struct fo_sattr *sa)
{
	struct nfs4clnt_compound *cmp = fo_cmp();

	fo_add_putfh(cmp, fh);
	assert_true(fo_sa_encode(sa, nfs4clnt_compound_add(cmp, op)));
	return fo_run(e, cmp);
}

uint32_t fo_access(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		   uint32_t want, uint32_t *supported, uint32_t *granted)
{
	struct st_call c;
	struct ACCESS4args a = {want};
	struct ACCESS4resok ok;
	uint32_t st;

	assert_true(xdr_enc_ACCESS4args(fo_call_start(&c, fh, OP_ACCESS), &a));
	st = fo_call_run(e, cl, &c, OP_ACCESS);
	if (st == NFS4_OK) {
		assert_true(xdr_dec_ACCESS4resok(st_call_body(&c), &ok));
		if (supported)
			*supported = ok.supported;
		if (granted)
			*granted = ok.access;
	}
	st_call_end(&c);
	return st;
}

uint32_t fo_read(struct fo_env *e, const struct fo_fh *fh, const struct stateid4 *sid, uint64_t off,
		 uint32_t count, void *buf, uint32_t *n, bool *eof)
{
	struct st_call c;
	struct READ4args a = {
		.stateid = sid ? *sid : fo_anon_stateid, .offset = off, .count = count};
	uint32_t st;

	assert_true(xdr_enc_READ4args(fo_call_start(&c, fh, OP_READ), &a));
	st = fo_call_run(e, NULL, &c, OP_READ);
	if (st == NFS4_OK && !st_dec_read(st_call_body(&c), count, buf, n, eof))
		fail_msg("READ reply does not decode or has more than count %u bytes", count);
	st_call_end(&c);
	return st;
}

uint32_t fo_write(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		  const struct stateid4 *sid, uint64_t off, uint32_t stable, const void *data,
		  uint32_t len, uint32_t *count, uint32_t *committed, uint8_t verf[8])
{
	struct st_call c;
	struct WRITE4args a = {.stateid = sid ? *sid : fo_anon_stateid,
			       .offset = off,
			       .stable = (enum stable_how4)stable,
			       .data = {len, data}};
	struct WRITE4resok ok;
	uint32_t st;

	assert_true(xdr_enc_WRITE4args(fo_call_start(&c, fh, OP_WRITE), &a));
	st = fo_call_run(e, cl, &c, OP_WRITE);
	if (st == NFS4_OK) {
		assert_true(xdr_dec_WRITE4resok(st_call_body(&c), &ok));
		if (count)
			*count = ok.count;
		if (committed)
			*committed = ok.committed;
		if (verf)
			memcpy(verf, ok.writeverf.data, 8);
	}
	st_call_end(&c);
	return st;
}

uint32_t fo_commit(struct fo_env *e, const struct fo_fh *fh, uint64_t off, uint32_t count,
		   uint8_t verf[8])
{
	struct st_call c;
	struct COMMIT4args a = {off, count};
	struct COMMIT4resok ok;
	uint32_t st;

	assert_true(xdr_enc_COMMIT4args(fo_call_start(&c, fh, OP_COMMIT), &a));
	st = fo_call_run(e, NULL, &c, OP_COMMIT);
	if (st == NFS4_OK) {
		assert_true(xdr_dec_COMMIT4resok(st_call_body(&c), &ok));
		if (verf)
			memcpy(verf, ok.writeverf.data, 8);
	}
	st_call_end(&c);
	return st;
}

/* One READDIR entry into ent. */
static void fo_dirent_of(const struct entry4 *en, struct fo_dirent *ent)
{
	int bad = 0;

	ent->cookie = en->cookie;
	assert_true(en->name.len < sizeof(ent->name));
	memcpy(ent->name, en->name.data, en->name.len);
	ent->name[en->name.len] = 0;
	if (!fo_attrs_parse(en->attrs.attrmask.val, en->attrs.attrmask.len,
			    en->attrs.attr_vals.data, en->attrs.attr_vals.len, &ent->attrs, &bad))
		fail_msg("READDIR entry %s: attrs do not decode (%d)", ent->name, bad);
}

uint32_t fo_readdir(struct fo_env *e, const struct fo_fh *dir, uint64_t cookie, uint8_t verf[8],
		    uint32_t dircount, uint32_t maxcount, const struct fo_mask *m,
		    struct fo_dirent *ents, int max, int *n, bool *eof)
{
	struct st_call c;
	struct READDIR4args a = {.cookie = cookie,
				 .dircount = dircount,
				 .maxcount = maxcount,
				 .attr_request = {m->n, (uint32_t *)m->w}};
	struct READDIR4resok ok;
	uint32_t st;

	memcpy(a.cookieverf.data, verf, 8);
	assert_true(xdr_enc_READDIR4args(fo_call_start(&c, dir, OP_READDIR), &a));
	st = fo_call_run(e, NULL, &c, OP_READDIR);
	*n = 0;
	if (st == NFS4_OK) {
		assert_true(xdr_dec_READDIR4resok(st_call_body(&c), &ok));
		memcpy(verf, ok.cookieverf.data, 8);
		*eof = ok.reply.eof;
		for (struct entry4 *en = ok.reply.entries; en; en = en->nextentry) {
			if (*n >= max)
				fail_msg("READDIR returned more than %d entries", max);
			fo_dirent_of(en, &ents[(*n)++]);
		}
	}
	st_call_end(&c);
	return st;
}

/* ------------------------------------------------------------ asserts */

/* ------------------------------------------------------------- driver */

static struct fo_env *fo_group_env;
static enum fo_backend fo_group_be;
static const char *fo_group_lease; /* fo_run_lease(): --lease, on mem */

static int fo_group_setup(void **state)
{
	(void)state;
	if (fo_group_lease)
		fo_env_setup_lease(fo_group_env, fo_group_lease);
	else
		fo_env_setup(fo_group_env, fo_group_be);
	return 0;
}

static int fo_group_teardown(void **state)
{
	(void)state;
	fo_env_teardown(fo_group_env);
	return 0;
}

int fo_run_groups(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env)
{
	char gname[128];
	int failed = 0;
	const char *only = getenv("FO_BACKEND"); /* "mem" or "vfs": run one (debugging) */

	fo_group_env = env;
	for (int be = FO_MEM; be <= FO_VFS; be++) {
		if (only && *only && strcmp(only, fo_be_name((enum fo_backend)be)) != 0)
			continue;
		fo_group_be = (enum fo_backend)be;
		snprintf(gname, sizeof(gname), "%s[%s]", name, fo_be_name(fo_group_be));
		failed +=
			_cmocka_run_group_tests(gname, tests, n, fo_group_setup, fo_group_teardown);
	}
	return harness_exit_code(failed);
}

int fo_run_one(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env,
	       enum fo_backend be)
{
	char gname[128];

	fo_group_env = env;
	fo_group_be = be;
	snprintf(gname, sizeof(gname), "%s[%s]", name, fo_be_name(be));
	return harness_exit_code(
		_cmocka_run_group_tests(gname, tests, n, fo_group_setup, fo_group_teardown));
}

int fo_run_lease(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env,
		 const char *secs)
{
	char gname[128];
	int failed;

	fo_group_env = env;
	fo_group_be = FO_MEM;
	fo_group_lease = secs;
	snprintf(gname, sizeof(gname), "%s[%s]", name, fo_be_name(FO_MEM));
	failed = _cmocka_run_group_tests(gname, tests, n, fo_group_setup, fo_group_teardown);
	fo_group_lease = NULL;
	return failed;
}
