/*
 * Filehandle operations and name lookup (RFC 8881 §18.19-§18.22, §18.27-§18.29,
 * §18.13, §18.14, §18.17, §18.29 SECINFO, §18.45 SECINFO_NO_NAME), run once on
 * the mem backend and once on the vfs backend.
 *
 * Handle format (src/nfs4/fh.h): byte 0 version 1, byte 1 kind (1 pseudo,
 * 2 export), bytes 2-5 the export id, then the backend's bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fileops.h"

static struct fo_env env;

/* A one-op compound (after SEQUENCE) without a current filehandle. */
static uint32_t no_fh_op(uint32_t op)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct xdr_enc *x = nfs4clnt_compound_add(cmp, op);
	component4 c = xdr_opaque_str("x");
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, -1);

	switch (op) {
	case OP_LOOKUP:
	case OP_REMOVE:
	case OP_SECINFO:
	case OP_LINK:
		assert_true(xdr_enc_component4(x, &c));
		break;
	case OP_GETATTR:
		assert_true(fo_enc_mask(x, &m));
		break;
	case OP_ACCESS:
		assert_true(xdr_enc_u32(x, ACCESS4_READ));
		break;
	case OP_READDIR: {
		struct READDIR4args a = {
			.dircount = 1024, .maxcount = 4096, .attr_request = {m.n, m.w}};
		assert_true(xdr_enc_READDIR4args(x, &a));
		break;
	}
	case OP_CREATE: {
		struct createtype4 ct = {.type = NF4DIR};
		struct fo_sattr sa;

		fo_sa_init(&sa);
		assert_true(xdr_enc_createtype4(x, &ct) && xdr_enc_component4(x, &c) &&
			    fo_sa_encode(&sa, x));
		break;
	}
	case OP_SETATTR: {
		struct fo_sattr sa;

		fo_sa_init(&sa);
		fo_sa_u32(&sa, FATTR4_MODE, 0644);
		assert_true(xdr_enc_stateid4(x, &fo_anon_stateid) && fo_sa_encode(&sa, x));
		break;
	}
	case OP_READ: {
		struct READ4args a = {.count = 10};
		assert_true(xdr_enc_READ4args(x, &a));
		break;
	}
	case OP_SECINFO_NO_NAME:
		assert_true(xdr_enc_u32(x, SECINFO_STYLE4_CURRENT_FH));
		break;
	default: /* no arguments */
		break;
	}
	return fo_run(&env, cmp);
}

static void putrootfh_getfh_gives_a_versioned_handle(void **state)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	struct fo_fh a;

	(void)state;
	fo_add(cmp, OP_PUTROOTFH);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
	assert_nfs(fo_res_getfh(&res, &a), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_true(a.len >= 6 && a.len <= 128);
	assert_int_equal(a.data[0], 1);
	/* "/" exported on mem: the root is the export's root; vfs: a pseudo directory. */
	assert_int_equal(a.data[1], strcmp(env.expath, "/") == 0 ? 2 : 1);
	assert_int_equal(env.exp.data[1], 2);
}

static void putpubfh_is_the_root(void **state)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	struct fo_fh a;

	(void)state;
	fo_add(cmp, OP_PUTPUBFH);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTPUBFH), NFS4_OK);
	assert_nfs(fo_res_getfh(&res, &a), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(a.len, env.root.len);
	assert_memory_equal(a.data, env.root.data, a.len);
}

static void putfh_getfh_round_trip(void **state)
{
	struct fo_fh d, got;
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;

	(void)state;
	fo_testdir(&env, "rt", &d, NULL, 0);
	fo_add_putfh(cmp, &d);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res_getfh(&res, &got), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(got.len, d.len);
	assert_memory_equal(got.data, d.data, d.len);
}

static uint32_t putfh_status(const struct fo_fh *fh)
{
	struct nfs4clnt_compound *cmp = fo_cmp();

	fo_add_putfh(cmp, fh);
	return fo_run(&env, cmp);
}

static void putfh_garbage_is_badhandle(void **state)
{
	struct fo_fh fh;

	(void)state;
	/* Wrong version. */
	fh = env.exp;
	fh.data[0] = 9;
	assert_nfs(putfh_status(&fh), NFS4ERR_BADHANDLE);
	/* Unknown kind. */
	fh = env.exp;
	fh.data[1] = 7;
	assert_nfs(putfh_status(&fh), NFS4ERR_BADHANDLE);
	/* Shorter than the header. */
	fh = env.exp;
	fh.len = 3;
	assert_nfs(putfh_status(&fh), NFS4ERR_BADHANDLE);
	/* Empty. */
	fh.len = 0;
	assert_nfs(putfh_status(&fh), NFS4ERR_BADHANDLE);
	/* Random bytes. */
	fh.len = 40;
	memset(fh.data, 0xa5, fh.len);
	assert_nfs(putfh_status(&fh), NFS4ERR_BADHANDLE);
}

static void putfh_unknown_export_is_stale(void **state)
{
	struct fo_fh fh = env.exp;

	(void)state;
	/* A well-formed export handle whose export id no export has. */
	fh.data[2] ^= 0x5a;
	fh.data[3] ^= 0xc3;
	fh.data[4] ^= 0x3c;
	fh.data[5] ^= 0xa5;
	assert_nfs(putfh_status(&fh), NFS4ERR_STALE);
}

static void savefh_restorefh(void **state)
{
	struct fo_fh d, got;
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;

	(void)state;
	fo_testdir(&env, "save", &d, NULL, 0);
	fo_add_putfh(cmp, &d);
	fo_add(cmp, OP_SAVEFH);
	fo_add(cmp, OP_PUTROOTFH);
	fo_add(cmp, OP_RESTOREFH);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_SAVEFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTROOTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_RESTOREFH), NFS4_OK);
	assert_nfs(fo_res_getfh(&res, &got), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(got.len, d.len);
	assert_memory_equal(got.data, d.data, d.len);
}

static void restorefh_without_saved_fh_is_nofilehandle(void **state)
{
	struct nfs4clnt_compound *cmp = fo_cmp();

	(void)state;
	/* RFC 8881 §18.27.3: no saved filehandle → NFS4ERR_NOFILEHANDLE. */
	fo_add(cmp, OP_PUTROOTFH);
	fo_add(cmp, OP_RESTOREFH);
	assert_nfs(fo_run(&env, cmp), NFS4ERR_NOFILEHANDLE);
	/* The saved filehandle does not outlive its COMPOUND. */
	cmp = fo_cmp();
	fo_add(cmp, OP_PUTROOTFH);
	fo_add(cmp, OP_SAVEFH);
	assert_nfs(fo_run(&env, cmp), NFS4_OK);
	cmp = fo_cmp();
	fo_add(cmp, OP_RESTOREFH);
	assert_nfs(fo_run(&env, cmp), NFS4ERR_NOFILEHANDLE);
}

static void ops_without_current_fh_are_nofilehandle(void **state)
{
	static const uint32_t ops[] = {
		OP_GETFH,  OP_SAVEFH, OP_LOOKUP,   OP_LOOKUPP, OP_SETATTR,	   OP_ACCESS,
		OP_CREATE, OP_REMOVE, OP_READLINK, OP_SECINFO, OP_SECINFO_NO_NAME,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint32_t st;

		if (getenv("FO_DEBUG"))
			print_message("op %u\n", ops[i]);
		st = no_fh_op(ops[i]);

		if (st != NFS4ERR_NOFILEHANDLE)
			fail_msg("op %u without a filehandle: %s (%u), expected "
				 "NFS4ERR_NOFILEHANDLE",
				 ops[i], harness_status_name((int)st), st);
	}
}

static void lookup_finds_and_misses(void **state)
{
	struct fo_fh d, sub, got;
	struct fo_attrs a;

	(void)state;
	fo_testdir(&env, "lk", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_lookup(&env, &d, "sub", &got), NFS4_OK);
	assert_int_equal(got.len, sub.len);
	assert_memory_equal(got.data, sub.data, sub.len);
	assert_nfs(fo_stat(&env, &got, &a), NFS4_OK);
	assert_int_equal(a.type, NF4DIR);
	assert_nfs(fo_lookup(&env, &d, "missing", NULL), NFS4ERR_NOENT);
	/* Names are case-sensitive. */
	assert_nfs(fo_lookup(&env, &d, "SUB", NULL), NFS4ERR_NOENT);
}

static void lookup_bad_names(void **state)
{
	struct fo_fh d;
	char name[300];

	(void)state;
	fo_testdir(&env, "names", &d, NULL, 0);
	/* RFC 8881 §18.13.3: a zero-length component → NFS4ERR_INVAL. */
	assert_nfs(fo_lookup(&env, &d, "", NULL), NFS4ERR_INVAL);
	assert_nfs(fo_lookup(&env, &d, ".", NULL), NFS4ERR_BADNAME);
	assert_nfs(fo_lookup(&env, &d, "..", NULL), NFS4ERR_BADNAME);
	assert_nfs(fo_lookup(&env, &d, "a/b", NULL), NFS4ERR_BADNAME);
	memset(name, 'n', 256);
	name[256] = 0;
	assert_nfs(fo_lookup(&env, &d, name, NULL), NFS4ERR_NAMETOOLONG);
	name[255] = 0;
	assert_nfs(fo_lookup(&env, &d, name, NULL), NFS4ERR_NOENT);
}

static void lookup_on_non_directories(void **state)
{
	struct fo_fh d, fifo, lnk, file;
	char dname[64];

	(void)state;
	fo_testdir(&env, "lknd", &d, dname, sizeof(dname));
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, &fifo, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4LNK, "lnk", "target", 0, 0, NULL, &lnk, NULL, NULL),
		   NFS4_OK);
	/* RFC 8881 §18.13.3: not a directory → NOTDIR; a symbolic link → SYMLINK. */
	assert_nfs(fo_lookup(&env, &fifo, "x", NULL), NFS4ERR_NOTDIR);
	assert_nfs(fo_lookup(&env, &lnk, "x", NULL), NFS4ERR_SYMLINK);
	fo_make_file(&env, dname, "file", "abc", 3, &file);
	assert_nfs(fo_lookup(&env, &file, "x", NULL), NFS4ERR_NOTDIR);
}

static uint32_t lookupp(const struct fo_fh *fh, struct fo_fh *out)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	uint32_t st;

	fo_add_putfh(cmp, fh);
	fo_add(cmp, OP_LOOKUPP);
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, OP_LOOKUPP);
	if (st == NFS4_OK)
		assert_nfs(fo_res_getfh(&res, out), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static void lookupp_gives_the_parent(void **state)
{
	struct fo_fh d, sub, up, lnk, fifo;

	(void)state;
	fo_testdir(&env, "lkp", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(lookupp(&sub, &up), NFS4_OK);
	assert_int_equal(up.len, d.len);
	assert_memory_equal(up.data, d.data, d.len);
	assert_nfs(lookupp(&d, &up), NFS4_OK);
	assert_int_equal(up.len, env.exp.len);
	assert_memory_equal(up.data, env.exp.data, up.len);
	/* RFC 8881 §18.14.3: NOTDIR for a non-directory, SYMLINK for a symbolic link. */
	assert_nfs(fo_create(&env, &d, NF4LNK, "lnk", "sub", 0, 0, NULL, &lnk, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, &fifo, NULL, NULL),
		   NFS4_OK);
	assert_nfs(lookupp(&lnk, &up), NFS4ERR_SYMLINK);
	assert_nfs(lookupp(&fifo, &up), NFS4ERR_NOTDIR);
}

static void lookupp_climbs_from_the_export_into_the_pseudo_fs(void **state)
{
	struct fo_fh cur = env.exp, up;
	struct fo_mask m = fo_mask_of(FATTR4_TYPE, FATTR4_FSID, -1);
	struct fo_attrs ea, a;
	int steps = 0;

	(void)state;
	assert_nfs(fo_getattr(&env, &env.exp, &m, &ea), NFS4_OK);
	/* The export path's components, then the pseudo root: one LOOKUPP per component. */
	while (lookupp(&cur, &up) == NFS4_OK) {
		assert_nfs(fo_getattr(&env, &up, &m, &a), NFS4_OK);
		assert_int_equal(a.type, NF4DIR);
		/* Above the export: pseudo-fs directories, another file system. */
		assert_true(a.fsid_major != ea.fsid_major || a.fsid_minor != ea.fsid_minor);
		cur = up;
		assert_true(++steps < 64);
	}
	/* RFC 8881 §18.14.3: LOOKUPP at the root → NFS4ERR_NOENT. */
	assert_nfs(lookupp(&cur, &up), NFS4ERR_NOENT);
	assert_int_equal(cur.len, env.root.len);
	assert_memory_equal(cur.data, env.root.data, cur.len);
	{
		int comps = 0;

		for (const char *p = env.expath; *p; p++)
			comps += p[0] == '/' && p[1] && p[1] != '/';
		assert_int_equal(steps, comps);
	}
}

/* Decodes SECINFO4resok into flavors. */
static uint32_t secinfo(const struct fo_fh *fh, int style, const char *name, uint32_t *flavors,
			uint32_t *n, uint32_t *after)
{
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	uint32_t st, op = style < 0 ? OP_SECINFO : OP_SECINFO_NO_NAME;
	struct xdr_enc *x;

	fo_add_putfh(cmp, fh);
	x = nfs4clnt_compound_add(cmp, op);
	if (style < 0) {
		component4 c = xdr_opaque_str(name);

		assert_true(xdr_enc_component4(x, &c));
	} else {
		assert_true(xdr_enc_u32(x, (uint32_t)style));
	}
	fo_add(cmp, OP_GETFH);
	fo_send(&env, NULL, cmp, &res);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	st = fo_res(&res, op);
	*n = 0;
	if (st == NFS4_OK) {
		SECINFO4resok ok;
		struct fo_fh fh2;

		assert_true(xdr_dec_SECINFO4resok(nfs4clnt_res_body(&res), &ok));
		for (uint32_t i = 0; i < ok.len && i < 8; i++)
			flavors[(*n)++] = ok.val[i].flavor;
		*after = fo_res_getfh(&res, &fh2);
	}
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	return st;
}

static void secinfo_lists_auth_sys_and_consumes_the_fh(void **state)
{
	struct fo_fh d, sub;
	uint32_t fl[8], n, after;

	(void)state;
	fo_testdir(&env, "sec", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(secinfo(&d, -1, "sub", fl, &n, &after), NFS4_OK);
	assert_int_equal(n, 1);
	assert_int_equal(fl[0], AUTH_SYS);
	/* RFC 8881 §18.29.3: SECINFO consumes the current filehandle. */
	assert_nfs(after, NFS4ERR_NOFILEHANDLE);
	assert_nfs(secinfo(&d, -1, "missing", fl, &n, &after), NFS4ERR_NOENT);
}

static void secinfo_no_name_current_and_parent(void **state)
{
	struct fo_fh d;
	uint32_t fl[8], n, after;

	(void)state;
	fo_testdir(&env, "secnn", &d, NULL, 0);
	assert_nfs(secinfo(&d, SECINFO_STYLE4_CURRENT_FH, NULL, fl, &n, &after), NFS4_OK);
	assert_int_equal(n, 1);
	assert_int_equal(fl[0], AUTH_SYS);
	assert_nfs(after, NFS4ERR_NOFILEHANDLE);
	assert_nfs(secinfo(&d, SECINFO_STYLE4_PARENT, NULL, fl, &n, &after), NFS4_OK);
	assert_true(n >= 1);
	assert_nfs(after, NFS4ERR_NOFILEHANDLE);
	/* RFC 8881 §18.45.3: the parent of the root does not exist → NFS4ERR_NOENT. */
	assert_nfs(secinfo(&env.root, SECINFO_STYLE4_PARENT, NULL, fl, &n, &after), NFS4ERR_NOENT);
}

static void openattr_is_notsupp(void **state)
{
	struct fo_fh d;
	struct nfs4clnt_compound *cmp = fo_cmp();

	(void)state;
	fo_testdir(&env, "oa", &d, NULL, 0);
	fo_add_putfh(cmp, &d);
	assert_true(xdr_enc_bool(nfs4clnt_compound_add(cmp, OP_OPENATTR), false));
	assert_nfs(fo_run(&env, cmp), NFS4ERR_NOTSUPP);
}

/*
 * The ops that encode their own results, in a test of their own, last: without
 * a current filehandle they crashed nfs4d (SIGSEGV) when this test was written.
 */
static void self_encoding_ops_without_current_fh_are_nofilehandle(void **state)
{
	(void)state;
	assert_nfs(no_fh_op(OP_READDIR), NFS4ERR_NOFILEHANDLE);
	assert_nfs(no_fh_op(OP_READ), NFS4ERR_NOFILEHANDLE);
	assert_nfs(no_fh_op(OP_GETATTR), NFS4ERR_NOFILEHANDLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(putrootfh_getfh_gives_a_versioned_handle),
		cmocka_unit_test(putpubfh_is_the_root),
		cmocka_unit_test(putfh_getfh_round_trip),
		cmocka_unit_test(putfh_garbage_is_badhandle),
		cmocka_unit_test(putfh_unknown_export_is_stale),
		cmocka_unit_test(savefh_restorefh),
		cmocka_unit_test(restorefh_without_saved_fh_is_nofilehandle),
		cmocka_unit_test(ops_without_current_fh_are_nofilehandle),
		cmocka_unit_test(lookup_finds_and_misses),
		cmocka_unit_test(lookup_bad_names),
		cmocka_unit_test(lookup_on_non_directories),
		cmocka_unit_test(lookupp_gives_the_parent),
		cmocka_unit_test(lookupp_climbs_from_the_export_into_the_pseudo_fs),
		cmocka_unit_test(secinfo_lists_auth_sys_and_consumes_the_fh),
		cmocka_unit_test(secinfo_no_name_current_and_parent),
		cmocka_unit_test(openattr_is_notsupp),
		cmocka_unit_test(self_encoding_ops_without_current_fh_are_nofilehandle),
	};

	return fo_run_both("files_fh", tests, &env);
}
