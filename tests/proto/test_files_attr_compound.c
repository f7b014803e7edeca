/*
 * Attributes within one COMPOUND: the vfs backend may answer an op with a
 * statx taken earlier in the same COMPOUND (src/backend/vfs_seen.c), but
 * never across a change nfs4d made in between. Each test reads attributes,
 * changes the object in the same COMPOUND (SETATTR, WRITE, LINK, REMOVE, an
 * OPEN that truncates) and reads them again: the second GETATTR must show the
 * change. Run against both backends, as the answers must be the same.
 */
#include <string.h>

#include "fileops.h"
#include "state_helpers.h"

static struct fo_env env;

/* Size, change, mode and link count: what the changes below move. */
static struct fo_mask attr_mask(void)
{
	return fo_mask_of(FATTR4_CHANGE, FATTR4_SIZE, FATTR4_MODE, FATTR4_NUMLINKS, -1);
}

/* A file dir/name of 5 bytes, made through NFS (fo_make_file makes it on disk on vfs). */
static void make_file(struct fo_fh *d, const char *prefix, struct fo_fh *f)
{
	fo_testdir(&env, prefix, d, NULL, 0);
	assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, d, "f", "hello", 5, f), NFS4_OK);
}

static void setattr_then_getattr(void **state)
{
	struct fo_mask m = attr_mask();
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	struct fo_attrs a, b;
	struct fo_sattr sa;
	struct fo_fh d, f;
	struct xdr_enc *x;

	(void)state;
	make_file(&d, "sa", &f);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0600);
	fo_add_putfh(cmp, &f);
	fo_add_getattr(cmp, &m);
	x = nfs4clnt_compound_add(cmp, OP_SETATTR);
	assert_true(x && xdr_enc_stateid4(x, &fo_anon_stateid) && fo_sa_encode(&sa, x));
	fo_add_getattr(cmp, &m);
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &a), NFS4_OK);
	assert_nfs(fo_res(&res, OP_SETATTR), NFS4_OK);
	assert_true(xdr_dec_bitmap4(nfs4clnt_res_body(&res), &(bitmap4){0}));
	assert_nfs(fo_res_getattr(&res, &b), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(a.mode, 0644);
	assert_int_equal(b.mode, 0600);
	assert_true(b.change != a.change);
}

static void write_then_getattr(void **state)
{
	struct fo_mask m = attr_mask();
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct WRITE4args w = {.stateid = fo_anon_stateid,
			       .offset = 100,
			       .stable = FILE_SYNC4,
			       .data = {10, (const uint8_t *)"0123456789"}};
	struct nfs4clnt_res res;
	struct WRITE4resok wok;
	struct fo_attrs a, b;
	struct fo_fh d, f;

	(void)state;
	make_file(&d, "wr", &f);
	fo_add_putfh(cmp, &f);
	fo_add_getattr(cmp, &m);
	assert_true(xdr_enc_WRITE4args(nfs4clnt_compound_add(cmp, OP_WRITE), &w));
	fo_add_getattr(cmp, &m);
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &a), NFS4_OK);
	assert_nfs(fo_res(&res, OP_WRITE), NFS4_OK);
	assert_true(xdr_dec_WRITE4resok(nfs4clnt_res_body(&res), &wok));
	assert_nfs(fo_res_getattr(&res, &b), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(a.size, 5);
	assert_int_equal(b.size, 110);
	assert_true(b.change != a.change);
}

/* The file's link count moves with LINK and REMOVE of another of its names. */
static void link_and_remove_then_getattr(void **state)
{
	struct fo_mask m = attr_mask();
	struct nfs4clnt_compound *cmp = fo_cmp();
	component4 name = xdr_opaque_str("f2");
	struct nfs4clnt_res res;
	struct LINK4resok lok;
	struct REMOVE4resok rok;
	struct fo_attrs a, b, c;
	struct fo_fh d, f;

	(void)state;
	make_file(&d, "ln", &f);
	fo_add_putfh(cmp, &f);
	fo_add_getattr(cmp, &m);
	fo_add(cmp, OP_SAVEFH);
	fo_add_putfh(cmp, &d);
	assert_true(xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_LINK), &name));
	fo_add(cmp, OP_RESTOREFH);
	fo_add_getattr(cmp, &m);
	fo_add_putfh(cmp, &d);
	assert_true(xdr_enc_component4(nfs4clnt_compound_add(cmp, OP_REMOVE), &name));
	fo_add(cmp, OP_RESTOREFH);
	fo_add_getattr(cmp, &m);
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &a), NFS4_OK);
	assert_nfs(fo_res(&res, OP_SAVEFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_LINK), NFS4_OK);
	assert_true(xdr_dec_LINK4resok(nfs4clnt_res_body(&res), &lok));
	assert_nfs(fo_res(&res, OP_RESTOREFH), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &b), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_REMOVE), NFS4_OK);
	assert_true(xdr_dec_REMOVE4resok(nfs4clnt_res_body(&res), &rok));
	assert_nfs(fo_res(&res, OP_RESTOREFH), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &c), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(a.numlinks, 1);
	assert_int_equal(b.numlinks, 2);
	assert_int_equal(c.numlinks, 1);
	assert_true(b.change != a.change);
	assert_true(c.change != b.change);
}

/*
 * PUTFH dir, OPEN (UNCHECKED4 with size 0: a truncate of the existing file),
 * GETFH, GETATTR: the GETATTR sees size 0 and a change the file did not have
 * before. The OPEN looked the file up (and read its attributes) before the
 * truncate.
 */
static void open_truncate_then_getattr(void **state)
{
	struct fo_mask m = attr_mask();
	struct nfs4clnt_compound *cmp = fo_cmp();
	struct nfs4clnt_res res;
	struct fo_attrs before, a, after;
	struct fo_sattr size0;
	struct fo_fh d, f, got;
	struct st_open o;

	(void)state;
	make_file(&d, "tr", &f);
	assert_nfs(fo_getattr(&env, &f, &m, &before), NFS4_OK);
	assert_int_equal(before.size, 5);
	fo_sa_init(&size0);
	fo_sa_u64(&size0, FATTR4_SIZE, 0);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = env.cl.clientid;
	o.owner = "truncate";
	o.access = OPEN4_SHARE_ACCESS_BOTH;
	o.create = true;
	o.createmode = UNCHECKED4;
	o.attrs = &size0;
	fo_add_putfh(cmp, &d);
	assert_true(st_add_open(cmp, &o));
	fo_add(cmp, OP_GETFH);
	fo_add_getattr(cmp, &m);
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_OPEN), NFS4_OK);
	assert_true(st_dec_open(nfs4clnt_res_body(&res), &o));
	assert_nfs(fo_res_getfh(&res, &got), NFS4_OK);
	assert_nfs(fo_res_getattr(&res, &a), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	assert_int_equal(got.len, f.len);
	assert_memory_equal(got.data, f.data, f.len);
	assert_int_equal(a.size, 0);
	assert_true(a.change != before.change);
	/* And what a later COMPOUND reads agrees. */
	assert_nfs(fo_getattr(&env, &f, &m, &after), NFS4_OK);
	assert_int_equal(after.size, 0);
	assert_int_equal(after.change, a.change);
	assert_nfs(st_close(env.cl.sess, &f, &o.sid, NULL), NFS4_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(setattr_then_getattr),
		cmocka_unit_test(write_then_getattr),
		cmocka_unit_test(link_and_remove_then_getattr),
		cmocka_unit_test(open_truncate_then_getattr),
	};

	return fo_run_both("files_attr_compound", tests, &env);
}
