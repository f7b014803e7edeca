/*
 * vfs backend only: handles that outlive the server process, and containment —
 * symbolic links pointing out of the export are never followed by the server,
 * LOOKUPP never leaves the pseudo filesystem, and forged handles are refused;
 * and a local process's changes between two COMPOUNDs are seen by the second.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;

static void handles_survive_a_restart(void **state)
{
	struct fo_fh d, sub;
	struct fo_mask m = fo_mask_of(FATTR4_FH_EXPIRE_TYPE, FATTR4_FILEID, FATTR4_TYPE, -1);
	struct fo_attrs a, b;

	(void)state;
	fo_testdir(&env, "persist", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_getattr(&env, &sub, &m, &a), NFS4_OK);
	/* The server announces persistent handles: then they must stay valid (§4.2.1). */
	assert_int_equal(a.fh_expire_type, FH4_PERSISTENT);
	fo_env_restart(&env);
	assert_nfs(fo_getattr(&env, &sub, &m, &b), NFS4_OK);
	assert_int_equal(b.fileid, a.fileid);
	assert_int_equal(b.type, NF4DIR);
	assert_nfs(fo_getattr(&env, &env.exp, &m, &b), NFS4_OK);
	assert_nfs(fo_lookup(&env, &d, "sub", NULL), NFS4_OK);
}

static void removed_object_handle_is_stale(void **state)
{
	struct fo_fh d, sub;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);
	struct fo_attrs a;

	(void)state;
	fo_testdir(&env, "stale", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "gone", &sub), NFS4_OK);
	assert_nfs(fo_remove(&env, &d, "gone", NULL), NFS4_OK);
	assert_nfs(fo_getattr(&env, &sub, &m, &a), NFS4ERR_STALE);
}

static void escaping_symlinks_are_not_followed(void **state)
{
	static const char *const targets[] = {"/", "../../..", "/etc"};
	struct fo_fh d, l, through;
	struct fo_attrs a;
	char dname[64], text[256], path[512];

	(void)state;
	fo_testdir(&env, "esc", &d, dname, sizeof(dname));
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "l%zu", i);
		assert_nfs(
			fo_create(&env, &d, NF4LNK, name, targets[i], 0, 0, NULL, NULL, NULL, NULL),
			NFS4_OK);
		/* LOOKUP of the link gives the link itself. */
		assert_nfs(fo_lookup(&env, &d, name, &l), NFS4_OK);
		assert_nfs(fo_stat(&env, &l, &a), NFS4_OK);
		assert_int_equal(a.type, NF4LNK);
		assert_nfs(fo_readlink(&env, &l, text, sizeof(text)), NFS4_OK);
		assert_string_equal(text, targets[i]);
		/* LOOKUP through it → NFS4ERR_SYMLINK (RFC 8881 §18.13.3). */
		assert_nfs(fo_lookup(&env, &l, "etc", &through), NFS4ERR_SYMLINK);
		assert_nfs(fo_lookup(&env, &l, "passwd", &through), NFS4ERR_SYMLINK);
	}
	/* A link made behind the server's back is no different. */
	snprintf(path, sizeof(path), "%s/%s/outside", env.srv->tmpdir, dname);
	assert_int_equal(symlink("/", path), 0);
	assert_nfs(fo_lookup(&env, &d, "outside", &l), NFS4_OK);
	assert_nfs(fo_stat(&env, &l, &a), NFS4_OK);
	assert_int_equal(a.type, NF4LNK);
	assert_nfs(fo_lookup(&env, &l, "etc", NULL), NFS4ERR_SYMLINK);
	assert_nfs(fo_lookup(&env, &d, "..", NULL), NFS4ERR_BADNAME);
}

static void lookupp_chain_stops_at_the_pseudo_root(void **state)
{
	struct fo_fh d, cur, up;
	struct fo_mask m = fo_mask_of(FATTR4_FSID, FATTR4_TYPE, -1);
	struct fo_attrs ea, ra, a;
	int steps = 0, comps = 0;

	(void)state;
	fo_testdir(&env, "deep", &d, NULL, 0);
	cur = d;
	for (int i = 0; i < 5; i++) {
		assert_nfs(fo_mkdir(&env, &cur, "lvl", &up), NFS4_OK);
		cur = up;
	}
	assert_nfs(fo_getattr(&env, &env.exp, &m, &ea), NFS4_OK);
	assert_nfs(fo_getattr(&env, &env.root, &m, &ra), NFS4_OK);
	for (;;) {
		struct nfs4clnt_compound *cmp = fo_cmp();
		struct nfs4clnt_res res;
		uint32_t st;

		fo_add_putfh(cmp, &cur);
		fo_add(cmp, OP_LOOKUPP);
		fo_add(cmp, OP_GETFH);
		fo_send(&env, NULL, cmp, &res);
		assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
		st = fo_res(&res, OP_LOOKUPP);
		if (st == NFS4_OK)
			assert_nfs(fo_res_getfh(&res, &up), NFS4_OK);
		nfs4clnt_res_free(&res);
		nfs4clnt_compound_free(cmp);
		if (st != NFS4_OK) {
			assert_nfs(st, NFS4ERR_NOENT);
			break;
		}
		/* Every step is either inside the export or a pseudo directory. */
		assert_nfs(fo_getattr(&env, &up, &m, &a), NFS4_OK);
		assert_int_equal(a.type, NF4DIR);
		assert_true((a.fsid_major == ea.fsid_major && a.fsid_minor == ea.fsid_minor) ||
			    (a.fsid_major == ra.fsid_major && a.fsid_minor == ra.fsid_minor));
		cur = up;
		assert_true(++steps < 100);
	}
	assert_int_equal(cur.len, env.root.len);
	assert_memory_equal(cur.data, env.root.data, cur.len);
	for (const char *p = env.expath; *p; p++)
		comps += p[0] == '/' && p[1] && p[1] != '/';
	/* 5 levels + the test directory, then one pseudo directory per export path component. */
	assert_int_equal(steps, 6 + comps);
}

static void forged_handles_are_refused(void **state)
{
	struct fo_fh d, f;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_FILEID, -1);
	struct fo_attrs a, orig;

	(void)state;
	fo_testdir(&env, "forge", &d, NULL, 0);
	assert_nfs(fo_getattr(&env, &d, &m, &orig), NFS4_OK);
	assert_true(d.len > 6);
	for (uint32_t i = 6; i < d.len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			uint32_t st;

			f = d;
			f.data[i] ^= (uint8_t)(1u << bit);
			st = fo_getattr(&env, &f, &m, &a);
			if (st != NFS4ERR_STALE && st != NFS4ERR_BADHANDLE)
				fail_msg("handle with byte %u bit %d flipped: %s (fileid %llu, "
					 "orig %llu)",
					 i, bit, harness_status_name((int)st),
					 (unsigned long long)a.fileid,
					 (unsigned long long)orig.fileid);
		}
	}
	/* Truncated and extended backend parts. */
	f = d;
	f.len = 7;
	assert_nfs2(fo_getattr(&env, &f, &m, &a), NFS4ERR_BADHANDLE, NFS4ERR_STALE);
	f = d;
	f.len = d.len - 1;
	assert_nfs2(fo_getattr(&env, &f, &m, &a), NFS4ERR_BADHANDLE, NFS4ERR_STALE);
	f = d;
	f.data[f.len++] = 0;
	assert_nfs2(fo_getattr(&env, &f, &m, &a), NFS4ERR_BADHANDLE, NFS4ERR_STALE);
	/* A pseudo-fs handle with a node index that does not exist. */
	f = env.root;
	f.data[1] = 1;
	xdr_put_be32(f.data + 2, 100000);
	f.len = 6;
	assert_nfs2(fo_getattr(&env, &f, &m, &a), NFS4ERR_BADHANDLE, NFS4ERR_STALE);
}

/*
 * As cl: PUTFH dir, OPEN name for reading, GETFH, GETATTR m into a, then
 * CLOSE. The OPEN's status.
 */
static uint32_t open_getattr(struct harness_client *cl, const struct fo_fh *dir, const char *name,
			     const struct fo_mask *m, struct fo_attrs *a)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct st_open o = {.dir = dir,
			    .name = name,
			    .clientid = cl->clientid,
			    .owner = "local",
			    .access = OPEN4_SHARE_ACCESS_READ};
	struct nfs4clnt_res res;
	struct fo_fh f;
	uint32_t st;

	fo_add_putfh(cmp, dir);
	assert_true(st_add_open(cmp, &o));
	fo_add(cmp, OP_GETFH);
	fo_add_getattr(cmp, m);
	fo_send(&env, cl, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_OPEN);
	if (st == NFS4_OK) {
		assert_true(st_dec_open(nfs4clnt_res_body(&res), &o));
		assert_nfs(fo_res_getfh(&res, &f), NFS4_OK);
		assert_nfs(fo_res_getattr(&res, a), NFS4_OK);
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	if (st == NFS4_OK)
		assert_nfs(st_close(cl->sess, &f, &o.sid, NULL), NFS4_OK);
	return st;
}

/*
 * What one COMPOUND read of a file is never an answer in the next: a local
 * append and a local chmod between two OPEN+GETATTR COMPOUNDs show in the
 * second one's size and mode, and in its access check (a non-owner).
 */
static void local_changes_between_compounds_are_seen(void **state)
{
	struct fo_mask m = fo_mask_of(FATTR4_SIZE, FATTR4_MODE, -1);
	struct nfs4clnt_auth u = nfs4clnt_auth_sys(1000, 1000);
	struct harness_client other;
	struct fo_attrs a;
	struct fo_fh d, f;
	char dname[64], path[512];
	uint32_t supp, acc;
	int fd;

	(void)state;
	fo_testdir(&env, "local", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "abc", 3, &f);
	snprintf(path, sizeof(path), "%s/%s", env.srv->tmpdir, dname);
	assert_int_equal(chmod(path, 0755), 0); /* other may look names up in it */
	snprintf(path, sizeof(path), "%s/%s/f", env.srv->tmpdir, dname);
	assert_int_equal(chmod(path, 0644), 0);
	fo_client_new(&env, &other, &u);
	assert_nfs(open_getattr(&other, &d, "f", &m, &a), NFS4_OK);
	assert_int_equal(a.size, 3);
	assert_int_equal(a.mode, 0644);

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "defg", 4), 4);
	close(fd);
	assert_nfs(open_getattr(&other, &d, "f", &m, &a), NFS4_OK);
	assert_int_equal(a.size, 7);
	/* GETATTR and ACCESS by handle alone, right after such a COMPOUND, read afresh too. */
	assert_int_equal(truncate(path, 2), 0);
	assert_nfs(fo_getattr(&env, &f, &m, &a), NFS4_OK);
	assert_int_equal(a.size, 2);
	assert_int_equal(chmod(path, 0600), 0);
	assert_nfs(fo_access(&env, &other, &f, ACCESS4_READ, &supp, &acc), NFS4_OK);
	assert_int_equal(acc, 0);
	assert_nfs(open_getattr(&other, &d, "f", &m, &a), NFS4ERR_ACCESS);
	assert_nfs(open_getattr(&env.cl, &d, "f", &m, &a), NFS4_OK); /* root may */
	assert_int_equal(a.mode, 0600);
	assert_int_equal(chmod(path, 0640), 0);
	assert_nfs(open_getattr(&env.cl, &d, "f", &m, &a), NFS4_OK);
	assert_int_equal(a.mode, 0640);
	harness_client_free(&other, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(removed_object_handle_is_stale),
		cmocka_unit_test(escaping_symlinks_are_not_followed),
		cmocka_unit_test(lookupp_chain_stops_at_the_pseudo_root),
		cmocka_unit_test(forged_handles_are_refused),
		cmocka_unit_test(handles_survive_a_restart),
		cmocka_unit_test(local_changes_between_compounds_are_seen),
	};

	return fo_run_one("files_vfs", tests, sizeof(tests) / sizeof(tests[0]), &env, FO_VFS);
}
