/*
 * Exports as the protocol sees them: the pseudo filesystem joining them, read-only
 * exports, client restrictions, sec= flavors, squashing, and start-up refusal of
 * nested exports. Each test starts its own nfs4d with an exports file
 * (--exports FILE); the mem backend unless the test needs files made beforehand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"

struct xenv {
	struct fo_env e;
	char file[64];
};

/* Starts nfs4d on backend be with an exports file of text, and a client. */
static void xstart(struct xenv *x, const char *backend, const char *text, const char *expath)
{
	const char *args[] = {"--backend", backend, "--exports", x->file, NULL};
	struct fo_srv *srv;

	fo_write_tmpfile(text, x->file);
	srv = fo_srv_start(args);
	fo_env_attach(&x->e, srv, expath);
}

static void xstop(struct xenv *x)
{
	fo_env_teardown(&x->e);
	unlink(x->file);
}

/* A temporary directory open to everyone (0777), for squash tests on vfs. */
static void open_tmpdir(char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, len, "%s/nfs4d-ft-sq-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
}

static void rm_tmpdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static uint32_t fsid_major(struct fo_env *e, const struct fo_fh *fh, uint64_t *minor)
{
	struct fo_mask m = fo_mask_of(FATTR4_FSID, -1);
	struct fo_attrs a;

	assert_nfs(fo_getattr(e, fh, &m, &a), NFS4_OK);
	*minor = a.fsid_minor;
	return (uint32_t)a.fsid_major;
}

static void pseudo_fs_joins_the_exports(void **state)
{
	struct xenv x;
	struct fo_dirent ents[8];
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);
	uint8_t verf[8] = {0};
	struct fo_fh a, b, c, fifo;
	uint64_t rmin, amin, bmin;
	uint32_t rmaj, amaj, bmaj;
	bool eof, seen_a = false, seen_c = false;
	int n;

	(void)state;
	xstart(&x, "mem", "/a/b *(rw,no_root_squash)\n/c *(rw,no_root_squash)\n", "/a/b");
	assert_nfs(fo_readdir(&x.e, &x.e.root, 0, verf, 8192, 8192, &m, ents, 8, &n, &eof),
		   NFS4_OK);
	assert_true(eof);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		seen_a |= strcmp(ents[i].name, "a") == 0;
		seen_c |= strcmp(ents[i].name, "c") == 0;
		assert_int_equal(ents[i].attrs.type, NF4DIR);
	}
	assert_true(seen_a && seen_c);
	assert_nfs(fo_lookup(&x.e, &x.e.root, "a", &a), NFS4_OK);
	assert_nfs(fo_lookup(&x.e, &a, "b", &b), NFS4_OK);
	assert_int_equal(b.len, x.e.exp.len);
	assert_memory_equal(b.data, x.e.exp.data, b.len);
	assert_int_equal(a.data[1], 1); /* a pseudo directory */
	assert_int_equal(b.data[1], 2); /* the export's root */
	rmaj = fsid_major(&x.e, &x.e.root, &rmin);
	amaj = fsid_major(&x.e, &a, &amin);
	bmaj = fsid_major(&x.e, &b, &bmin);
	assert_true(rmaj == amaj && rmin == amin);
	assert_true(bmaj != amaj || bmin != amin);
	assert_nfs(fo_lookup(&x.e, &x.e.root, "b", NULL), NFS4ERR_NOENT);
	/* The pseudo-fs itself cannot be written. */
	assert_nfs(fo_mkdir(&x.e, &a, "new", NULL), NFS4ERR_ROFS);
	/* LINK and RENAME across exports → NFS4ERR_XDEV. */
	assert_nfs(fo_lookup(&x.e, &x.e.root, "c", &c), NFS4_OK);
	assert_nfs(fo_create(&x.e, &b, NF4FIFO, "p", NULL, 0, 0, NULL, &fifo, NULL, NULL), NFS4_OK);
	assert_nfs(fo_link(&x.e, &fifo, &c, "p", NULL), NFS4ERR_XDEV);
	assert_nfs(fo_rename(&x.e, &b, "p", &c, "p", NULL, NULL), NFS4ERR_XDEV);
	xstop(&x);
}

static void read_only_export_is_rofs(void **state)
{
	struct xenv x;
	char dir[128], text[400], path[256];
	struct fo_fh f, d;
	struct fo_sattr sa;
	FILE *fp;

	(void)state;
	/* vfs: nothing can be made through a read-only export, so its files are made on disk. */
	snprintf(dir, sizeof(dir), "%s/nfs4d-ft-ro-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("data", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(text, sizeof(text), "%s *(ro,no_root_squash)\n", dir);
	xstart(&x, "vfs", text, dir);
	assert_nfs(fo_lookup(&x.e, &x.e.exp, "f", &f), NFS4_OK);
	assert_nfs(fo_lookup(&x.e, &x.e.exp, "d", &d), NFS4_OK);
	assert_nfs(fo_mkdir(&x.e, &x.e.exp, "new", NULL), NFS4ERR_ROFS);
	assert_nfs(fo_remove(&x.e, &x.e.exp, "f", NULL), NFS4ERR_ROFS);
	assert_nfs(fo_rename(&x.e, &x.e.exp, "f", &x.e.exp, "g", NULL, NULL), NFS4ERR_ROFS);
	assert_nfs(fo_link(&x.e, &f, &d, "f2", NULL), NFS4ERR_ROFS);
	assert_nfs(fo_write(&x.e, NULL, &f, NULL, 0, FILE_SYNC4, "x", 1, NULL, NULL, NULL),
		   NFS4ERR_ROFS);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0600);
	assert_nfs(fo_setattr(&x.e, NULL, &f, NULL, &sa, NULL), NFS4ERR_ROFS);
	/* Reading works. */
	{
		char buf[8];
		uint32_t n;
		bool eof;

		assert_nfs(fo_read(&x.e, &f, NULL, 0, 8, buf, &n, &eof), NFS4_OK);
		assert_int_equal(n, 4);
	}
	xstop(&x);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d", dir);
	rmdir(path);
	rmdir(dir);
}

static void export_for_other_clients_is_invisible(void **state)
{
	struct xenv x;
	struct fo_dirent ents[8];
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);
	uint8_t verf[8] = {0};
	struct fo_fh forged;
	struct fo_attrs a;
	bool eof;
	int n;

	(void)state;
	xstart(&x, "mem", "/pub *(rw,fsid=17)\n/priv 10.0.0.0/8(rw,fsid=4242)\n", "/pub");
	assert_nfs(fo_readdir(&x.e, &x.e.root, 0, verf, 8192, 8192, &m, ents, 8, &n, &eof),
		   NFS4_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ents[0].name, "pub");
	assert_nfs(fo_lookup(&x.e, &x.e.root, "priv", NULL), NFS4ERR_NOENT);
	/* pub's root handle with priv's export id: the same backend bytes (both mem roots). */
	assert_int_equal(x.e.exp.data[1], 2);
	assert_int_equal(xdr_get_be32(x.e.exp.data + 2), 17);
	forged = x.e.exp;
	xdr_put_be32(forged.data + 2, 4242);
	assert_nfs(fo_getattr(&x.e, &forged, &m, &a), NFS4ERR_ACCESS);
	xstop(&x);
}

static void sec_none_export_needs_auth_none(void **state)
{
	struct xenv x;
	struct harness_client none;
	struct nfs4clnt_auth an = nfs4clnt_auth_none();
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res res;
	struct fo_attrs a;

	(void)state;
	xstart(&x, "mem", "/open *(rw,sec=none)\n/sys *(rw)\n", "/sys");
	/* AUTH_SYS caller: LOOKUP into the sec=none export → NFS4ERR_WRONGSEC (§2.6.3.1.1). */
	assert_nfs(fo_lookup(&x.e, &x.e.root, "open", NULL), NFS4ERR_WRONGSEC);
	/* AUTH_NONE caller: it works. */
	fo_client_new(&x.e, &none, &an);
	cmp = fo_cmp();
	fo_add(cmp, OP_PUTROOTFH);
	fo_add_lookup(cmp, "open");
	{
		struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);

		fo_add_getattr(cmp, &m);
	}
	fo_send(&x.e, &none, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_LOOKUP), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &a), NFS4_OK);
	assert_int_equal(a.type, NF4DIR);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	/* AUTH_NONE into the sec=sys export → WRONGSEC. */
	cmp = fo_cmp();
	fo_add(cmp, OP_PUTROOTFH);
	fo_add_lookup(cmp, "sys");
	fo_send(&x.e, &none, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_LOOKUP), NFS4ERR_WRONGSEC);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	/* SECINFO tells which flavor to use. */
	cmp = fo_cmp();
	fo_add(cmp, OP_PUTROOTFH);
	{
		component4 c = xdr_opaque_str("open");
		SECINFO4resok ok;

		assert_true(xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_SECINFO), &c));
		fo_send(&x.e, NULL, cmp, &res);
		assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
		assert_nfs(fo_res(&res, OP_SECINFO), NFS4_OK);
		assert_true(xdr_dec_SECINFO4resok(nfs4clnt_res_body(&res), &ok));
		assert_int_equal(ok.len, 1);
		assert_int_equal(ok.val[0].flavor, AUTH_NONE);
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	harness_client_free(&none, false);
	xstop(&x);
}

static void root_squash_maps_root_to_nobody(void **state)
{
	struct xenv x;
	struct fo_fh d;
	struct fo_attrs a;
	char dir[128], text[300];

	(void)state;
	open_tmpdir(dir, sizeof(dir));
	snprintf(text, sizeof(text), "%s *(rw,root_squash)\n", dir);
	xstart(&x, "vfs", text, dir);
	assert_nfs(fo_mkdir(&x.e, &x.e.exp, "made-by-root", &d), NFS4_OK);
	assert_nfs(fo_stat(&x.e, &d, &a), NFS4_OK);
	assert_string_equal(a.owner, "65534");
	assert_string_equal(a.owner_group, "65534");
	xstop(&x);
	rm_tmpdir(dir);
}

static void all_squash_uses_anonuid(void **state)
{
	struct xenv x;
	struct harness_client u;
	struct nfs4clnt_auth au = nfs4clnt_auth_sys(1000, 1000);
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res res;
	struct fo_fh d;
	struct fo_attrs a;

	char dir[128], text[300];

	(void)state;
	open_tmpdir(dir, sizeof(dir));
	snprintf(text, sizeof(text), "%s *(rw,all_squash,anonuid=1234,anongid=4321)\n", dir);
	xstart(&x, "vfs", text, dir);
	assert_nfs(fo_mkdir(&x.e, &x.e.exp, "by-root", &d), NFS4_OK);
	assert_nfs(fo_stat(&x.e, &d, &a), NFS4_OK);
	assert_string_equal(a.owner, "1234");
	assert_string_equal(a.owner_group, "4321");
	fo_client_new(&x.e, &u, &au);
	cmp = fo_cmp();
	fo_add_putfh(cmp, &x.e.exp);
	{
		struct createtype4 ct = {.type = NF4DIR};
		component4 c = xdr_opaque_str("by-1000");
		struct fo_sattr sa;
		struct xdr_enc *xe = nfs4clnt_compound_add(cmp, OP_CREATE);

		fo_sa_init(&sa);
		assert_true(xdr_enc_createtype4(xe, &ct) && xdr_enc_component4(xe, &c) &&
			    fo_sa_encode(&sa, xe));
	}
	fo_add(cmp, OP_GETFH);
	fo_send(&x.e, &u, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	{
		uint32_t st = fo_res(&res, OP_CREATE);
		struct CREATE4resok ok;

		assert_nfs(st, NFS4_OK);
		assert_true(xdr_dec_CREATE4resok(nfs4clnt_res_body(&res), &ok));
	}
	assert_nfs(fo_res_getfh(&res, &d), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_nfs(fo_stat(&x.e, &d, &a), NFS4_OK);
	assert_string_equal(a.owner, "1234");
	assert_string_equal(a.owner_group, "4321");
	harness_client_free(&u, false);
	xstop(&x);
	rm_tmpdir(dir);
}

static void nested_exports_refuse_to_start(void **state)
{
	const char *args[] = {"--backend", "mem",	 "--export", "/a *(rw)",
			      "--export",  "/a/b *(rw)", NULL};
	char err[4096];
	int rc;

	(void)state;
	rc = harness_run_expect_exit(args, err, sizeof(err));
	if (rc <= 0)
		fail_msg("nfs4d with nested exports: exit %d (expected a failure), stderr: %s", rc,
			 err);
	if (!strstr(err, "nested") || !strstr(err, "/a"))
		fail_msg("no reason naming the nested export in stderr: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pseudo_fs_joins_the_exports),
		cmocka_unit_test(read_only_export_is_rofs),
		cmocka_unit_test(export_for_other_clients_is_invisible),
		cmocka_unit_test(sec_none_export_needs_auth_none),
		cmocka_unit_test(root_squash_maps_root_to_nobody),
		cmocka_unit_test(all_squash_uses_anonuid),
		cmocka_unit_test(nested_exports_refuse_to_start),
	};

	return harness_exit_code(cmocka_run_group_tests_name("files_exports", tests, NULL, NULL));
}
