/*
 * Helpers for the file-operation protocol tests (tests/proto/test_files_*.c):
 *
 *   - a server per backend on top of harness_start_args() (nfs4d with
 *     exactly the arguments a test gives): the mem backend exporting "/", or
 *     the vfs backend exporting a fresh temporary directory, or an exports
 *     file; the process itself (restart, clean-exit check, a start expected
 *     to fail) is the harness's;
 *   - an environment per backend: a session and the handle of the export's
 *     root, so that every test runs unchanged against mem and vfs;
 *   - one-op helpers on top of nfs4clnt_session_compound() (PUTFH dir + op),
 *     encoding arguments with the generated codecs;
 *   - an fattr4 encoder and decoder of our own (bitmap + values in attribute
 *     order), deliberately independent of the server's nfs4/attr.c.
 *
 * Status convention: the helpers return the nfsstat4 of the op under test
 * (the first failing op of their compound); transport failures fail the test.
 */
#ifndef NFS4D_TESTS_PROTO_FILEOPS_H
#define NFS4D_TESTS_PROTO_FILEOPS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* ------------------------------------------------------------ server */

enum fo_backend { FO_MEM, FO_VFS };

/* A harness server and what fileops knows of its export. */
struct fo_srv {
	struct harness_srv *hs; /* the process: harness_start_args() */
	char tmpdir[256];	/* vfs: the exported temporary directory, removed at stop */
	char expath[256];	/* fo_srv_start_backend(): the export's path */
};

/* harness_start_args(args): exactly args after --listen/--port-file. */
struct fo_srv *fo_srv_start(const char *const *args);
/* mem: --backend mem --export '/ *(rw,no_root_squash)'; vfs: the same for a fresh temp dir. */
struct fo_srv *fo_srv_start_backend(enum fo_backend be);
/* harness_stop() (asserting exit status 0), also removing the temp dir; frees. */
void fo_srv_stop(struct fo_srv *srv);
/* harness_restart(): stops (asserting a clean exit), starts with the same arguments. */
void fo_srv_restart(struct fo_srv *srv);
/* Writes text to a new temporary file; its path goes to path (≥ 64 bytes). */
void fo_write_tmpfile(const char *text, char *path);

/* A local process's open(2) of a file in a vfs export, in a thread: it blocks while a lease holds.
 */
struct fo_local_open {
	pthread_t thread;
	char path[512];
	int flags;
	atomic_int done; /* 1 once open(2) returned */
	int fd, err;
};

/* Starts open(2) of dir/name in srv's exported directory with flags. */
void fo_local_open_start(struct fo_local_open *lo, const struct fo_srv *srv, const char *dir,
			 const char *name, int flags);
/*
 * Waits for the open (max_ms at most, else the test fails; 0: as long as the
 * kernel holds it, lease-break-time at the latest), joins it and closes it.
 */
void fo_local_open_end(struct fo_local_open *lo, int max_ms);

/* ------------------------------------------------------- environment */

#define FO_FHMAX 128

struct fo_fh {
	uint32_t len;
	uint8_t data[FO_FHMAX];
};

struct fo_env {
	enum fo_backend be;
	struct fo_srv *srv;
	struct harness_client cl;
	char owner[64];	   /* cl's client owner, the same after a restart */
	struct fo_fh root; /* PUTROOTFH */
	struct fo_fh exp;  /* the export's root */
	char expath[256];  /* the export's path ("/" for mem) */
	int ntest;	   /* test directories made so far */
};

/* Attaches to a running srv: a client, root, and exp walked from expath. */
void fo_env_attach(struct fo_env *e, struct fo_srv *srv, const char *expath);
/* Starts the server for be and opens a client; fills root and exp. */
void fo_env_setup(struct fo_env *e, enum fo_backend be);
void fo_env_teardown(struct fo_env *e);
/*
 * Restarts the server and makes the client anew, as a client does after a
 * server restart: the same owner, then RECLAIM_COMPLETE with nothing to
 * reclaim, which ends the grace period if no other client may reclaim.
 * Handles are kept.
 */
void fo_env_restart(struct fo_env *e);
/* A client of its own with the given RPC credentials (for squash tests). */
void fo_client_new(struct fo_env *e, struct harness_client *cl, const struct nfs4clnt_auth *auth);
const char *fo_be_name(enum fo_backend be);

/* A new, empty directory in the export's root, named "<prefix>-<n>". */
void fo_testdir(struct fo_env *e, const char *prefix, struct fo_fh *out, char *name, size_t len);

/*
 * A regular file dirname/name with data, mode 0644; out: its handle (dirname:
 * the directory's path from the export root, e.g. "t-3"). On mem it is made
 * through NFS in e->cl's session: OPEN4_CREATE GUARDED4 (CLAIM_NULL), WRITE
 * FILE_SYNC4 with the open stateid, CLOSE. On vfs it is made on disk by this
 * process, behind the server's back, as a local user would make it.
 */
void fo_make_file(struct fo_env *e, const char *dirname, const char *name, const void *data,
		  size_t len, struct fo_fh *out);

/* ------------------------------------------------------------- fattr4 */

#define FO_MAXATTR 96

struct fo_time {
	int64_t sec;
	uint32_t nsec;
};

/* Decoded attributes: has[n] tells which were returned. */
struct fo_attrs {
	bool has[FO_MAXATTR];
	uint32_t supported[3];
	uint32_t type, fh_expire_type, lease_time, rdattr_error, aclsupport, maxlink, maxname;
	uint32_t mode, numlinks, rawdev[2];
	uint64_t change, size, fileid, files_avail, files_free, files_total, maxfilesize;
	uint64_t maxread, maxwrite, space_avail, space_free, space_total, space_used;
	uint64_t mounted_on_fileid;
	uint64_t fsid_major, fsid_minor;
	bool link_support, symlink_support, named_attr, unique_handles, cansettime;
	bool case_insensitive, case_preserving, chown_restricted, homogeneous, no_trunc;
	struct fo_fh filehandle;
	char owner[256], owner_group[256];
	struct fo_time atime, mtime, ctime, crtime, time_delta;
	uint32_t suppattr_exclcreat[3];
};

/* Decodes an fattr4 body (bitmap4 + attrlist4). false: undecodable (the failing attr in *bad). */
bool fo_attrs_decode(struct xdr_dec *x, struct fo_attrs *a, int *bad);
/* Decodes bitmap + value bytes. */
bool fo_attrs_parse(const uint32_t *mask, uint32_t nmask, const uint8_t *vals, uint32_t len,
		    struct fo_attrs *a, int *bad);

/* An fattr4 under construction: values are sorted by attribute number at encode time. */
struct fo_sattr {
	int n;
	struct {
		uint32_t attr;
		uint32_t len;
		uint8_t val[300];
	} v[16];
};

void fo_sa_init(struct fo_sattr *sa);
void fo_sa_raw(struct fo_sattr *sa, uint32_t attr, const void *val, uint32_t len);
void fo_sa_u32(struct fo_sattr *sa, uint32_t attr, uint32_t v);
void fo_sa_u64(struct fo_sattr *sa, uint32_t attr, uint64_t v);
void fo_sa_str(struct fo_sattr *sa, uint32_t attr, const char *s);
/* settime4: how SET_TO_SERVER_TIME4 or SET_TO_CLIENT_TIME4 (then sec/nsec). */
void fo_sa_settime(struct fo_sattr *sa, uint32_t attr, uint32_t how, int64_t sec, uint32_t nsec);
/* nfstime4 (for VERIFY). */
void fo_sa_time(struct fo_sattr *sa, uint32_t attr, int64_t sec, uint32_t nsec);
/* Encodes the fattr4 (bitmap4 + attrlist4). */
bool fo_sa_encode(const struct fo_sattr *sa, struct xdr_enc *x);

/* A bitmap4 of the given attribute numbers, terminated by -1. */
struct fo_mask {
	uint32_t n;
	uint32_t w[3];
};
struct fo_mask fo_mask_of(int first, ...);
bool fo_enc_mask(struct xdr_enc *x, const struct fo_mask *m);
static inline bool fo_mask_has(const uint32_t *w, uint32_t n, uint32_t attr)
{
	return attr / 32 < n && (w[attr / 32] >> (attr % 32) & 1);
}

/* ------------------------------------------------- compounds and ops */

struct fo_cinfo {
	bool atomic;
	uint64_t before, after;
};

struct nfs4clnt_compound *fo_cmp(void);
void fo_add_putfh(struct nfs4clnt_compound *cmp, const struct fo_fh *fh);
void fo_add_lookup(struct nfs4clnt_compound *cmp, const char *name);
void fo_add_getattr(struct nfs4clnt_compound *cmp, const struct fo_mask *m);
/* An op without arguments (GETFH, SAVEFH, RESTOREFH, LOOKUPP, READLINK, PUTROOTFH, ...). */
void fo_add(struct nfs4clnt_compound *cmp, uint32_t op);

/* Sends cmp in cl's session (default: e->cl); fails the test on transport errors. */
int fo_send(struct fo_env *e, struct harness_client *cl, struct nfs4clnt_compound *cmp,
	    struct nfs4clnt_res *res);
/*
 * The next result, which must be op's: its status. Results that are a status
 * only are consumed; others must be decoded (fo_res_* below) when OK.
 */
uint32_t fo_res(struct nfs4clnt_res *res, uint32_t op);
uint32_t fo_res_getfh(struct nfs4clnt_res *res, struct fo_fh *fh);
uint32_t fo_res_getattr(struct nfs4clnt_res *res, struct fo_attrs *a);
/* Runs a whole compound and returns the status of its last result (all earlier must be OK). */
uint32_t fo_run(struct fo_env *e, struct nfs4clnt_compound *cmp);

/* The special stateids (anonymous and READ bypass, RFC 8881 §8.2.3). */
extern const struct stateid4 fo_anon_stateid;
extern const struct stateid4 fo_bypass_stateid;

uint32_t fo_lookup(struct fo_env *e, const struct fo_fh *dir, const char *name, struct fo_fh *out);
/* Walks a '/'-separated path from the pseudo root (PUTROOTFH + LOOKUPs). */
uint32_t fo_walk(struct fo_env *e, const char *path, struct fo_fh *out);
uint32_t fo_getattr(struct fo_env *e, const struct fo_fh *fh, const struct fo_mask *m,
		    struct fo_attrs *a);
/* GETATTR with the common attributes (type, change, size, fsid, fileid, mode, numlinks, owner,
 * times). */
uint32_t fo_stat(struct fo_env *e, const struct fo_fh *fh, struct fo_attrs *a);
/*
 * CREATE dir/name of type (NF4DIR, NF4LNK with text, NF4BLK/NF4CHR with
 * major/minor, NF4SOCK, NF4FIFO) with attrs (may be NULL). out: the new
 * object's handle (GETFH after CREATE); cinfo and attrset may be NULL.
 */
uint32_t fo_create(struct fo_env *e, const struct fo_fh *dir, uint32_t type, const char *name,
		   const char *linktext, uint32_t major, uint32_t minor, const struct fo_sattr *sa,
		   struct fo_fh *out, struct fo_cinfo *cinfo, struct fo_mask *attrset);
uint32_t fo_mkdir(struct fo_env *e, const struct fo_fh *dir, const char *name, struct fo_fh *out);
uint32_t fo_remove(struct fo_env *e, const struct fo_fh *dir, const char *name,
		   struct fo_cinfo *cinfo);
uint32_t fo_rename(struct fo_env *e, const struct fo_fh *sdir, const char *oldname,
		   const struct fo_fh *tdir, const char *newname, struct fo_cinfo *scinfo,
		   struct fo_cinfo *tcinfo);
uint32_t fo_link(struct fo_env *e, const struct fo_fh *obj, const struct fo_fh *dir,
		 const char *name, struct fo_cinfo *cinfo);
uint32_t fo_readlink(struct fo_env *e, const struct fo_fh *fh, char *buf, size_t len);
uint32_t fo_setattr(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		    const struct stateid4 *sid, const struct fo_sattr *sa,
		    struct fo_mask *attrsset);
/* VERIFY (op OP_VERIFY) or NVERIFY (OP_NVERIFY). */
uint32_t fo_verify(struct fo_env *e, uint32_t op, const struct fo_fh *fh,
		   const struct fo_sattr *sa);
uint32_t fo_access(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		   uint32_t want, uint32_t *supported, uint32_t *granted);
uint32_t fo_read(struct fo_env *e, const struct fo_fh *fh, const struct stateid4 *sid, uint64_t off,
		 uint32_t count, void *buf, uint32_t *n, bool *eof);
uint32_t fo_write(struct fo_env *e, struct harness_client *cl, const struct fo_fh *fh,
		  const struct stateid4 *sid, uint64_t off, uint32_t stable, const void *data,
		  uint32_t len, uint32_t *count, uint32_t *committed, uint8_t verf[8]);
uint32_t fo_commit(struct fo_env *e, const struct fo_fh *fh, uint64_t off, uint32_t count,
		   uint8_t verf[8]);

/* One READDIR call's entries. */
struct fo_dirent {
	uint64_t cookie;
	char name[256];
	struct fo_attrs attrs;
};

/*
 * READDIR(cookie, verf, dircount, maxcount, mask): up to max entries into
 * ents (*n of them), the new verifier into verf, eof.
 */
uint32_t fo_readdir(struct fo_env *e, const struct fo_fh *dir, uint64_t cookie, uint8_t verf[8],
		    uint32_t dircount, uint32_t maxcount, const struct fo_mask *m,
		    struct fo_dirent *ents, int max, int *n, bool *eof);

/* ------------------------------------------------------------ asserts */

/* Exact nfsstat4 check with names for the file-op statuses. */
#define assert_nfs(got, want) assert_status(got, want)
/* got must be one of a or b. */
#define assert_nfs2(got, a, b)                                                                \
	do {                                                                                  \
		int fo_g_ = (int)(got);                                                       \
		if (fo_g_ != (int)(a) && fo_g_ != (int)(b))                                   \
			harness_assert_status(fo_g_, (int)(a), #got " (or " #b ")", __FILE__, \
					      __LINE__);                                      \
	} while (0)

/* The two-backend driver: runs the group once with mem and once with vfs. */
int fo_run_groups(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env);
/* Runs the group once, with backend be. */
int fo_run_one(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env,
	       enum fo_backend be);
/*
 * Runs the group once as "<name>[mem]" on the mem backend exporting "/" with
 * --lease secs (lease expiry tests). Returns the number of failed tests, to be
 * added to fo_run_groups()'s.
 */
int fo_run_lease(const char *name, const struct CMUnitTest *tests, size_t n, struct fo_env *env,
		 const char *secs);
#define fo_run_both(name, tests, env) \
	fo_run_groups(name, tests, sizeof(tests) / sizeof(tests[0]), env)

#endif
