/*
 * The fattr4 codec (src/nfs4/attr.c): every supported attribute encoded and
 * read back by hand in attribute-number order, the returned mask (request ∩
 * supported, write-only and unavailable ones left out), overflow at every
 * capacity, SETATTR decoding with each of its errors, VERIFY comparison, and
 * owner strings numeric and mapped.
 */
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nfs4/attr.h"

#define BUF_MAX 4096

static struct arena test_arena;

static int setup(void **state)
{
	(void)state;
	arena_init(&test_arena, 1u << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_reset(&test_arena);
	return 0;
}

static const uint8_t fh_bytes[20] = {0xfa, 1,  2,  3,  4,  5,  6,  7,  8,  9,
				     10,   11, 12, 13, 14, 15, 16, 17, 18, 19};

static struct be_attr obj_attr;
static struct be_statfs obj_fs;

/* A regular file with every field distinct, so a value in the wrong place shows. */
static struct nfs4_attr_src make_src(void)
{
	struct nfs4_attr_src src;

	memset(&obj_attr, 0, sizeof(obj_attr));
	obj_attr.type = BE_REG;
	obj_attr.mode = 0100644; /* type bits are not part of mode4 */
	obj_attr.nlink = 3;
	obj_attr.uid = 1000;
	obj_attr.gid = 100;
	obj_attr.size = 0x123456789ull;
	obj_attr.space_used = 0x200000ull;
	obj_attr.rdev_major = 8;
	obj_attr.rdev_minor = 17;
	obj_attr.fsid_major = 0x1111222233334444ull;
	obj_attr.fsid_minor = 0x5555666677778888ull;
	obj_attr.fileid = 4242;
	obj_attr.change = 0xc0ffee00000001ull;
	obj_attr.atime = (struct timespec){1700000001, 11};
	obj_attr.mtime = (struct timespec){1700000002, 22};
	obj_attr.ctime = (struct timespec){1700000003, 33};
	obj_attr.btime = (struct timespec){-5, 999999999}; /* before 1970: a negative int64 */

	memset(&obj_fs, 0, sizeof(obj_fs));
	obj_fs.files_total = 1001;
	obj_fs.files_free = 1002;
	obj_fs.files_avail = 1003;
	obj_fs.space_total = 2001;
	obj_fs.space_free = 2002;
	obj_fs.space_avail = 2003;
	obj_fs.name_max = 255;
	obj_fs.max_filesize = 0x7fffffffffffffffull;
	obj_fs.max_link = 65000;

	memset(&src, 0, sizeof(src));
	src.attr = &obj_attr;
	src.fs = &obj_fs;
	src.fh.len = sizeof(fh_bytes);
	src.fh.data = fh_bytes;
	src.lease_time = 90;
	src.fh_expire_type = FH4_VOL_RENAME;
	src.mounted_on_fileid = 77;
	src.rdattr_error = NFS4_OK;
	src.maxread = 1048576;
	src.maxwrite = 524288;
	return src;
}

static bool mask_has(const bitmap4 *b, uint32_t n)
{
	return nfs4_bitmap_isset(b, n);
}

/* Encodes with request words; returns the length and leaves the bytes in out. */
static size_t encode(const uint32_t *words, uint32_t nwords, const struct nfs4_attr_src *src,
		     uint8_t *out, uint32_t *status)
{
	bitmap4 req = {nwords, (uint32_t *)words};
	struct xdr_enc e;

	xdr_enc_init(&e, out, BUF_MAX);
	*status = nfs4_attr_encode(&e, &req, src);
	return e.len;
}

/* Decodes the fattr4 header: the returned mask and the attr_vals stream. */
static void open_fattr(const uint8_t *buf, size_t len, struct nfs4_attrmask *m,
		       struct xdr_dec *vals)
{
	struct xdr_dec d;
	struct fattr4 f;

	xdr_dec_init(&d, buf, len, &test_arena);
	assert_true(xdr_dec_fattr4(&d, &f));
	assert_int_equal(xdr_dec_remaining(&d), 0);
	/* the mask is sent without trailing zero words */
	if (f.attrmask.len)
		assert_int_not_equal(f.attrmask.val[f.attrmask.len - 1], 0);
	assert_false(nfs4_attrmask_from_bitmap(m, &f.attrmask));
	xdr_dec_init(vals, f.attr_vals.data, f.attr_vals.len, NULL);
}

static uint32_t get32(struct xdr_dec *d)
{
	uint32_t v = 0;

	assert_true(xdr_dec_u32(d, &v));
	return v;
}

static uint64_t get64(struct xdr_dec *d)
{
	uint64_t v = 0;

	assert_true(xdr_dec_u64(d, &v));
	return v;
}

static void get_time(struct xdr_dec *d, int64_t sec, uint32_t nsec)
{
	int64_t s = 0;

	assert_true(xdr_dec_i64(d, &s));
	assert_int_equal(s, sec);
	assert_int_equal(get32(d), nsec);
}

static void get_string(struct xdr_dec *d, const char *want)
{
	struct xdr_opaque o;
	struct xdr_opaque w = xdr_opaque_str(want);

	assert_true(xdr_dec_opaque(d, &o, XDR_UNLIMITED));
	if (!xdr_opaque_eq(&o, &w))
		fail_msg("got \"%.*s\", want \"%s\"", (int)o.len, (const char *)o.data, want);
}

/* A bitmap value: its words, trailing zero words not sent. */
static void get_mask(struct xdr_dec *d, const struct nfs4_attrmask *want)
{
	struct nfs4_attrmask copy = *want;
	bitmap4 b;
	uint32_t n;

	nfs4_attrmask_to_bitmap(&copy, &b);
	n = get32(d);
	assert_int_equal(n, b.len);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(get32(d), b.val[i]);
}

static struct nfs4_attrmask mask_of(const bitmap4 *b)
{
	struct nfs4_attrmask m;

	nfs4_attrmask_from_bitmap(&m, b);
	return m;
}

static void test_supported(void **state)
{
	const bitmap4 *s = nfs4_attr_supported();
	const bitmap4 *x = nfs4_attr_exclcreat();
	const bitmap4 *w = nfs4_attr_writable();
	static const uint32_t yes[] = {FATTR4_SUPPORTED_ATTRS,
				       FATTR4_TYPE,
				       FATTR4_FH_EXPIRE_TYPE,
				       FATTR4_CHANGE,
				       FATTR4_SIZE,
				       FATTR4_LINK_SUPPORT,
				       FATTR4_SYMLINK_SUPPORT,
				       FATTR4_NAMED_ATTR,
				       FATTR4_FSID,
				       FATTR4_UNIQUE_HANDLES,
				       FATTR4_LEASE_TIME,
				       FATTR4_RDATTR_ERROR,
				       FATTR4_FILEHANDLE,
				       FATTR4_SUPPATTR_EXCLCREAT,
				       FATTR4_CANSETTIME,
				       FATTR4_CASE_INSENSITIVE,
				       FATTR4_CASE_PRESERVING,
				       FATTR4_CHOWN_RESTRICTED,
				       FATTR4_FILEID,
				       FATTR4_FILES_AVAIL,
				       FATTR4_FILES_FREE,
				       FATTR4_FILES_TOTAL,
				       FATTR4_HOMOGENEOUS,
				       FATTR4_MAXFILESIZE,
				       FATTR4_MAXLINK,
				       FATTR4_MAXNAME,
				       FATTR4_MAXREAD,
				       FATTR4_MAXWRITE,
				       FATTR4_MODE,
				       FATTR4_NO_TRUNC,
				       FATTR4_NUMLINKS,
				       FATTR4_OWNER,
				       FATTR4_OWNER_GROUP,
				       FATTR4_RAWDEV,
				       FATTR4_SPACE_AVAIL,
				       FATTR4_SPACE_FREE,
				       FATTR4_SPACE_TOTAL,
				       FATTR4_SPACE_USED,
				       FATTR4_TIME_ACCESS,
				       FATTR4_TIME_ACCESS_SET,
				       FATTR4_TIME_CREATE,
				       FATTR4_TIME_DELTA,
				       FATTR4_TIME_METADATA,
				       FATTR4_TIME_MODIFY,
				       FATTR4_TIME_MODIFY_SET,
				       FATTR4_MOUNTED_ON_FILEID};
	uint32_t n, count = 0;

	(void)state;
	/* The RFC's numbers, spot-checked against RFC 8881 section 5.8. */
	assert_int_equal(FATTR4_FILEHANDLE, 19);
	assert_int_equal(FATTR4_TIME_DELTA, 51);
	assert_int_equal(FATTR4_MOUNTED_ON_FILEID, 55);
	assert_int_equal(FATTR4_SUPPATTR_EXCLCREAT, 75);

	for (n = 0; n < sizeof(yes) / sizeof(yes[0]); n++)
		assert_true(mask_has(s, yes[n]));
	for (n = 0; n < 96; n++)
		count += mask_has(s, n);
	assert_int_equal(count, sizeof(yes) / sizeof(yes[0]));
	assert_false(mask_has(s, FATTR4_ACL));
	assert_false(mask_has(s, FATTR4_FS_LOCATIONS));
	assert_false(mask_has(s, FATTR4_MODE_SET_MASKED));
	assert_false(mask_has(s, FATTR4_FS_CHARSET_CAP));
	assert_false(mask_has(s, 200));

	/* exclcreat ⊂ writable ⊂ supported */
	for (n = 0; n < 96; n++) {
		if (mask_has(x, n))
			assert_true(mask_has(w, n));
		if (mask_has(w, n))
			assert_true(mask_has(s, n));
	}
	assert_true(mask_has(x, FATTR4_SIZE) && mask_has(x, FATTR4_MODE) &&
		    mask_has(x, FATTR4_OWNER) && mask_has(x, FATTR4_OWNER_GROUP));
	assert_false(mask_has(x, FATTR4_TIME_ACCESS_SET));
	assert_true(mask_has(w, FATTR4_TIME_MODIFY_SET));
	assert_false(mask_has(w, FATTR4_TIME_MODIFY));
	assert_false(mask_has(w, FATTR4_TYPE));
}

static void test_mask_helpers(void **state)
{
	uint32_t words[5] = {0x3, 0x80000000, 0x800, 0, 0};
	bitmap4 b = {5, words};
	struct nfs4_attrmask m, o;
	bitmap4 back;

	(void)state;
	assert_false(nfs4_attrmask_from_bitmap(&m, &b));
	assert_true(nfs4_attrmask_isset(&m, 0) && nfs4_attrmask_isset(&m, 1));
	assert_true(nfs4_attrmask_isset(&m, 63) && nfs4_attrmask_isset(&m, 75));
	assert_false(nfs4_attrmask_isset(&m, 2) || nfs4_attrmask_isset(&m, 96));
	words[4] = 1; /* attribute 128: beyond what we know */
	assert_true(nfs4_attrmask_from_bitmap(&m, &b));
	assert_true(nfs4_bitmap_isset(&b, 128));
	assert_false(nfs4_bitmap_isset(&b, 160));

	memset(&o, 0, sizeof(o));
	nfs4_attrmask_set(&o, 1);
	nfs4_attrmask_set(&o, 75);
	nfs4_attrmask_set(&o, 500); /* ignored */
	nfs4_attrmask_and(&m, &o);
	assert_int_equal(m.w[0], 0x2);
	assert_int_equal(m.w[1], 0);
	assert_int_equal(m.w[2], 0x800);
	nfs4_attrmask_to_bitmap(&m, &back);
	assert_int_equal(back.len, 3);
	nfs4_attrmask_clear(&m, 75);
	nfs4_attrmask_to_bitmap(&m, &back);
	assert_int_equal(back.len, 1);
	assert_ptr_equal(back.val, m.w);
	nfs4_attrmask_clear(&m, 1);
	assert_true(nfs4_attrmask_empty(&m));
	nfs4_attrmask_to_bitmap(&m, &back);
	assert_int_equal(back.len, 0);
	assert_null(back.val);

	b.len = 0;
	b.val = NULL;
	assert_false(nfs4_attrmask_from_bitmap(&m, &b));
	assert_true(nfs4_attrmask_empty(&m));

	/* statfs need */
	words[0] = 1u << FATTR4_TYPE;
	words[1] = 0;
	b.len = 2;
	b.val = words;
	assert_false(nfs4_attr_needs_statfs(&b));
	words[1] = 1u << (FATTR4_SPACE_TOTAL - 32);
	assert_true(nfs4_attr_needs_statfs(&b));
	words[0] = 1u << FATTR4_MAXNAME;
	words[1] = 0;
	assert_true(nfs4_attr_needs_statfs(&b));

	/* write-only wanted */
	assert_false(nfs4_attr_wants_writeonly(&b));
	words[1] = 1u << (FATTR4_TIME_MODIFY_SET - 32);
	assert_true(nfs4_attr_wants_writeonly(&b));
	words[1] = 1u << (FATTR4_TIME_ACCESS_SET - 32);
	assert_true(nfs4_attr_wants_writeonly(&b));
	b.len = 1;
	assert_false(nfs4_attr_wants_writeonly(&b));
}

/* Every attribute: request all 96 bits, read every value back in order. */
static void test_encode_all(void **state)
{
	static const uint32_t all[3] = {0xffffffff, 0xffffffff, 0xffffffff};
	struct nfs4_attr_src src = make_src();
	struct nfs4_attrmask m, want, supp;
	struct xdr_dec d;
	struct xdr_opaque o;
	uint8_t out[BUF_MAX];
	uint32_t status, n;
	size_t len;

	(void)state;
	len = encode(all, 3, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);

	supp = mask_of(nfs4_attr_supported());
	want = supp;
	nfs4_attrmask_clear(&want, FATTR4_TIME_ACCESS_SET);
	nfs4_attrmask_clear(&want, FATTR4_TIME_MODIFY_SET);
	assert_memory_equal(&m, &want, sizeof(m));

	for (n = 0; n < 96; n++) {
		if (!nfs4_attrmask_isset(&m, n))
			continue;
		switch (n) {
		case FATTR4_SUPPORTED_ATTRS:
			get_mask(&d, &supp);
			break;
		case FATTR4_TYPE:
			assert_int_equal(get32(&d), NF4REG);
			break;
		case FATTR4_FH_EXPIRE_TYPE:
			assert_int_equal(get32(&d), FH4_VOL_RENAME);
			break;
		case FATTR4_CHANGE:
			assert_int_equal(get64(&d), 0xc0ffee00000001ull);
			break;
		case FATTR4_SIZE:
			assert_int_equal(get64(&d), 0x123456789ull);
			break;
		case FATTR4_LINK_SUPPORT:
		case FATTR4_SYMLINK_SUPPORT:
		case FATTR4_UNIQUE_HANDLES:
		case FATTR4_CANSETTIME:
		case FATTR4_CASE_PRESERVING:
		case FATTR4_CHOWN_RESTRICTED:
		case FATTR4_HOMOGENEOUS:
		case FATTR4_NO_TRUNC:
			assert_int_equal(get32(&d), 1);
			break;
		case FATTR4_NAMED_ATTR:
		case FATTR4_CASE_INSENSITIVE:
			assert_int_equal(get32(&d), 0);
			break;
		case FATTR4_FSID:
			assert_int_equal(get64(&d), 0x1111222233334444ull);
			assert_int_equal(get64(&d), 0x5555666677778888ull);
			break;
		case FATTR4_LEASE_TIME:
			assert_int_equal(get32(&d), 90);
			break;
		case FATTR4_RDATTR_ERROR:
			assert_int_equal(get32(&d), NFS4_OK);
			break;
		case FATTR4_FILEHANDLE:
			assert_true(xdr_dec_opaque(&d, &o, NFS4_FHSIZE));
			assert_int_equal(o.len, sizeof(fh_bytes));
			assert_memory_equal(o.data, fh_bytes, sizeof(fh_bytes));
			break;
		case FATTR4_FILEID:
			assert_int_equal(get64(&d), 4242);
			break;
		case FATTR4_FILES_AVAIL:
			assert_int_equal(get64(&d), 1003);
			break;
		case FATTR4_FILES_FREE:
			assert_int_equal(get64(&d), 1002);
			break;
		case FATTR4_FILES_TOTAL:
			assert_int_equal(get64(&d), 1001);
			break;
		case FATTR4_MAXFILESIZE:
			assert_int_equal(get64(&d), 0x7fffffffffffffffull);
			break;
		case FATTR4_MAXLINK:
			assert_int_equal(get32(&d), 65000);
			break;
		case FATTR4_MAXNAME:
			assert_int_equal(get32(&d), 255);
			break;
		case FATTR4_MAXREAD: /* uint64_t on the wire */
			assert_int_equal(get64(&d), 1048576);
			break;
		case FATTR4_MAXWRITE:
			assert_int_equal(get64(&d), 524288);
			break;
		case FATTR4_MODE:
			assert_int_equal(get32(&d), 0644);
			break;
		case FATTR4_NUMLINKS:
			assert_int_equal(get32(&d), 3);
			break;
		case FATTR4_OWNER:
			get_string(&d, "1000");
			break;
		case FATTR4_OWNER_GROUP:
			get_string(&d, "100");
			break;
		case FATTR4_RAWDEV:
			assert_int_equal(get32(&d), 8);
			assert_int_equal(get32(&d), 17);
			break;
		case FATTR4_SPACE_AVAIL:
			assert_int_equal(get64(&d), 2003);
			break;
		case FATTR4_SPACE_FREE:
			assert_int_equal(get64(&d), 2002);
			break;
		case FATTR4_SPACE_TOTAL:
			assert_int_equal(get64(&d), 2001);
			break;
		case FATTR4_SPACE_USED:
			assert_int_equal(get64(&d), 0x200000);
			break;
		case FATTR4_TIME_ACCESS:
			get_time(&d, 1700000001, 11);
			break;
		case FATTR4_TIME_CREATE:
			get_time(&d, -5, 999999999);
			break;
		case FATTR4_TIME_DELTA:
			get_time(&d, 0, 1);
			break;
		case FATTR4_TIME_METADATA:
			get_time(&d, 1700000003, 33);
			break;
		case FATTR4_TIME_MODIFY:
			get_time(&d, 1700000002, 22);
			break;
		case FATTR4_MOUNTED_ON_FILEID:
			assert_int_equal(get64(&d), 77);
			break;
		case FATTR4_SUPPATTR_EXCLCREAT: {
			struct nfs4_attrmask x = mask_of(nfs4_attr_exclcreat());

			get_mask(&d, &x);
			break;
		}
		default:
			fail_msg("attribute %u returned but not checked", n);
		}
	}
	assert_int_equal(xdr_dec_remaining(&d), 0);
}

static void test_encode_intersection(void **state)
{
	struct nfs4_attr_src src = make_src();
	struct nfs4_attrmask m;
	struct xdr_dec d;
	uint8_t out[BUF_MAX];
	uint32_t req[6] = {0}, status;
	size_t len;

	(void)state;
	/* unsupported: acl, fs_locations, hidden, quota_used, dacl, mode_set_masked, 80, 95,
	 * 170; supported: type (1) and size (4) */
	req[0] = 1u << FATTR4_ACL | 1u << FATTR4_FS_LOCATIONS | 1u << FATTR4_HIDDEN |
		 1u << FATTR4_TYPE | 1u << FATTR4_SIZE;
	req[1] = 1u << (FATTR4_QUOTA_USED - 32) | 1u << (FATTR4_DACL - 32);
	req[2] = 1u << (FATTR4_MODE_SET_MASKED - 64) | 1u << (80 - 64) | 1u << (95 - 64);
	req[5] = 1u << (170 - 160);
	len = encode(req, 6, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_int_equal(m.w[0], 1u << FATTR4_TYPE | 1u << FATTR4_SIZE);
	assert_int_equal(m.w[1], 0);
	assert_int_equal(m.w[2], 0);
	assert_int_equal(get32(&d), NF4REG);
	assert_int_equal(get64(&d), 0x123456789ull);
	assert_int_equal(xdr_dec_remaining(&d), 0);
	/* bitmap<1 word> + attr_vals<4 + 8> */
	assert_int_equal(len, 4 + 4 + 4 + 12);

	/* write-only attributes are never returned */
	memset(req, 0, sizeof(req));
	req[1] = 1u << (FATTR4_TIME_ACCESS_SET - 32) | 1u << (FATTR4_TIME_MODIFY_SET - 32);
	len = encode(req, 2, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_true(nfs4_attrmask_empty(&m));
	assert_int_equal(len, 8); /* empty bitmap, empty attr_vals */

	/* an empty request */
	len = encode(NULL, 0, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	assert_int_equal(len, 8);
	assert_int_equal(xdr_get_be32(out), 0);
	assert_int_equal(xdr_get_be32(out + 4), 0);

	/* only word 2 asked: the reply mask has three words */
	memset(req, 0, sizeof(req));
	req[2] = 1u << (FATTR4_SUPPATTR_EXCLCREAT - 64);
	len = encode(req, 3, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	assert_int_equal(xdr_get_be32(out), 3);
	open_fattr(out, len, &m, &d);
	assert_int_equal(m.w[2], 1u << (FATTR4_SUPPATTR_EXCLCREAT - 64));
}

static void test_encode_unavailable(void **state)
{
	static const uint32_t all[3] = {0xffffffff, 0xffffffff, 0xffffffff};
	struct nfs4_attr_src src = make_src();
	struct nfs4_attrmask m, supp;
	struct xdr_dec d;
	uint8_t out[BUF_MAX];
	uint32_t req[2], status;
	size_t len;

	(void)state;
	/* btime unknown: time_create neither returned nor in this object's supported_attrs */
	obj_attr.btime = (struct timespec){0, 0};
	req[0] = 1u << FATTR4_SUPPORTED_ATTRS;
	req[1] = 1u << (FATTR4_TIME_CREATE - 32) | 1u << (FATTR4_TIME_MODIFY - 32);
	len = encode(req, 2, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_true(nfs4_attrmask_isset(&m, FATTR4_SUPPORTED_ATTRS));
	assert_false(nfs4_attrmask_isset(&m, FATTR4_TIME_CREATE));
	assert_true(nfs4_attrmask_isset(&m, FATTR4_TIME_MODIFY));
	supp = mask_of(nfs4_attr_supported());
	nfs4_attrmask_clear(&supp, FATTR4_TIME_CREATE);
	get_mask(&d, &supp);
	get_time(&d, 1700000002, 22);
	assert_int_equal(xdr_dec_remaining(&d), 0);

	/* no statfs figures, no filehandle: those are left out */
	src = make_src();
	src.fs = NULL;
	src.fh.len = 0;
	src.fh.data = NULL;
	len = encode(all, 3, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_false(nfs4_attrmask_isset(&m, FATTR4_SPACE_TOTAL));
	assert_false(nfs4_attrmask_isset(&m, FATTR4_FILES_FREE));
	assert_false(nfs4_attrmask_isset(&m, FATTR4_MAXNAME));
	assert_false(nfs4_attrmask_isset(&m, FATTR4_MAXFILESIZE));
	assert_false(nfs4_attrmask_isset(&m, FATTR4_FILEHANDLE));
	assert_true(nfs4_attrmask_isset(&m, FATTR4_SPACE_USED)); /* from be_attr */
	assert_true(nfs4_attrmask_isset(&m, FATTR4_MAXREAD));

	/* READDIR entry whose attributes failed: rdattr_error alone */
	src = make_src();
	src.attr = NULL;
	src.rdattr_error = NFS4ERR_ACCESS;
	len = encode(all, 3, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_int_equal(m.w[0], 1u << FATTR4_RDATTR_ERROR);
	assert_int_equal(m.w[1], 0);
	assert_int_equal(m.w[2], 0);
	assert_int_equal(get32(&d), NFS4ERR_ACCESS);
	assert_int_equal(xdr_dec_remaining(&d), 0);

	/* ... and without rdattr_error requested: the error, nothing encoded */
	req[0] = 1u << FATTR4_TYPE;
	req[1] = 0;
	len = encode(req, 1, &src, out, &status);
	assert_int_equal(status, NFS4ERR_ACCESS);
	assert_int_equal(len, 0);
	src.rdattr_error = NFS4_OK;
	len = encode(req, 1, &src, out, &status);
	assert_int_equal(status, NFS4ERR_SERVERFAULT);
	assert_int_equal(len, 0);
}

static void test_encode_overflow(void **state)
{
	static const uint32_t all[3] = {0xffffffff, 0xffffffff, 0xffffffff};
	struct nfs4_attr_src src = make_src();
	bitmap4 req = {3, (uint32_t *)all};
	uint8_t full[BUF_MAX];
	uint32_t status;
	struct xdr_enc e;
	size_t len, n;

	(void)state;
	len = encode(all, 3, &src, full, &status);
	assert_int_equal(status, NFS4_OK);
	for (n = 0; n < len; n++) {
		uint8_t *small = malloc(n ? n : 1);

		assert_non_null(small);
		xdr_enc_init(&e, small, n);
		assert_int_equal(nfs4_attr_encode(&e, &req, &src), NFS4ERR_RESOURCE);
		assert_true(e.overflow);
		free(small);
	}
	{
		uint8_t *exact = malloc(len);

		assert_non_null(exact);
		xdr_enc_init(&e, exact, len);
		assert_int_equal(nfs4_attr_encode(&e, &req, &src), NFS4_OK);
		assert_false(e.overflow);
		assert_memory_equal(exact, full, len);
		free(exact);
	}

	/* appended after other data: the attr_vals length is patched at the right place */
	{
		uint8_t buf[BUF_MAX];

		xdr_enc_init(&e, buf, sizeof(buf));
		assert_true(xdr_enc_u32(&e, 0xdeadbeef));
		assert_int_equal(nfs4_attr_encode(&e, &req, &src), NFS4_OK);
		assert_int_equal(e.len, len + 4);
		assert_memory_equal(buf + 4, full, len);
	}
}

/*
 * Owners
 */
static void owner_of(uint32_t uid, uint32_t gid, const struct nfs4_idmap *map, char *user,
		     char *group)
{
	struct nfs4_attr_src src = make_src();
	uint32_t req[2] = {0, 1u << (FATTR4_OWNER - 32) | 1u << (FATTR4_OWNER_GROUP - 32)};
	struct nfs4_attrmask m;
	struct xdr_dec d;
	struct xdr_opaque o;
	uint8_t out[BUF_MAX];
	uint32_t status;
	size_t len;

	obj_attr.uid = uid;
	obj_attr.gid = gid;
	src.idmap = map;
	len = encode(req, 2, &src, out, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(out, len, &m, &d);
	assert_true(xdr_dec_opaque(&d, &o, 1024));
	snprintf(user, 1100, "%.*s", (int)o.len, (const char *)o.data);
	assert_true(xdr_dec_opaque(&d, &o, 1024));
	snprintf(group, 1100, "%.*s", (int)o.len, (const char *)o.data);
	assert_int_equal(xdr_dec_remaining(&d), 0);
}

/* The local name of uid 0 / gid 0 (or NULL in a container without one). */
static const char *root_user(char *buf, size_t cap, bool group)
{
	char tmp[4096];

	if (group) {
		struct group gr, *res = NULL;

		if (getgrgid_r(0, &gr, tmp, sizeof(tmp), &res) != 0 || !res)
			return NULL;
		snprintf(buf, cap, "%s", res->gr_name);
	} else {
		struct passwd pw, *res = NULL;

		if (getpwuid_r(0, &pw, tmp, sizeof(tmp), &res) != 0 || !res)
			return NULL;
		snprintf(buf, cap, "%s", res->pw_name);
	}
	return buf;
}

static void test_owner_encode(void **state)
{
	struct nfs4_idmap numeric = {0};
	struct nfs4_idmap names = {true, "Example.ORG"};
	struct nfs4_idmap names_default = {true, NULL};
	char user[1100], group[1100], want[600], name[256];

	(void)state;
	owner_of(1000, 100, NULL, user, group);
	assert_string_equal(user, "1000");
	assert_string_equal(group, "100");
	owner_of(0, 0, &numeric, user, group);
	assert_string_equal(user, "0");
	assert_string_equal(group, "0");
	owner_of(4294967294u, 4294967294u, NULL, user, group);
	assert_string_equal(user, "4294967294");

	/* names: an id with no name stays numeric */
	owner_of(3999999999u, 3999999998u, &names, user, group);
	assert_string_equal(user, "3999999999");
	assert_string_equal(group, "3999999998");
	if (root_user(name, sizeof(name), false)) {
		owner_of(0, 3999999998u, &names, user, group);
		snprintf(want, sizeof(want), "%s@Example.ORG", name);
		assert_string_equal(user, want);
		owner_of(0, 0, &names_default, user, group);
		snprintf(want, sizeof(want), "%s@localdomain", name);
		assert_string_equal(user, want);
	}
	if (root_user(name, sizeof(name), true)) {
		owner_of(3999999999u, 0, &names, user, group);
		snprintf(want, sizeof(want), "%s@Example.ORG", name);
		assert_string_equal(group, want);
	}
}

/*
 * SETATTR
 */

/* A fattr4 from mask words and the bytes of e (its attr_vals). */
static struct fattr4 fattr_of(uint32_t *words, uint32_t nwords, const struct xdr_enc *e)
{
	struct fattr4 f;

	f.attrmask.len = nwords;
	f.attrmask.val = words;
	f.attr_vals.len = (uint32_t)e->len;
	f.attr_vals.data = e->base;
	return f;
}

static uint32_t decode_set(uint32_t *words, uint32_t nwords, const struct xdr_enc *e,
			   const struct nfs4_idmap *map, struct be_sattr *out, bitmap4 *set)
{
	struct fattr4 f = fattr_of(words, nwords, e);

	return nfs4_attr_decode_set(&f, map, out, set, &test_arena);
}

static void enc_str(struct xdr_enc *e, const char *s)
{
	struct xdr_opaque o = xdr_opaque_str(s);

	assert_true(xdr_enc_opaque(e, &o, XDR_UNLIMITED));
}

static void test_decode_set(void **state)
{
	uint32_t words[2] = {1u << FATTR4_SIZE, 1u << (FATTR4_MODE - 32) |
							1u << (FATTR4_OWNER - 32) |
							1u << (FATTR4_OWNER_GROUP - 32) |
							1u << (FATTR4_TIME_ACCESS_SET - 32) |
							1u << (FATTR4_TIME_MODIFY_SET - 32)};
	uint8_t vals[512];
	struct be_sattr s;
	struct xdr_enc e;
	bitmap4 set;
	size_t full, n;

	(void)state;
	xdr_enc_init(&e, vals, sizeof(vals));
	assert_true(xdr_enc_u64(&e, 0x100000000ull));
	assert_true(xdr_enc_u32(&e, 04755));
	enc_str(&e, "1001");
	enc_str(&e, "27");
	assert_true(xdr_enc_u32(&e, SET_TO_CLIENT_TIME4));
	assert_true(xdr_enc_i64(&e, -2));
	assert_true(xdr_enc_u32(&e, 999999999));
	assert_true(xdr_enc_u32(&e, SET_TO_SERVER_TIME4));
	full = e.len;

	assert_int_equal(decode_set(words, 2, &e, NULL, &s, &set), NFS4_OK);
	assert_int_equal(s.mask, BE_SET_SIZE | BE_SET_MODE | BE_SET_UID | BE_SET_GID |
					 BE_SET_ATIME | BE_SET_MTIME_NOW);
	assert_int_equal(s.size, 0x100000000ull);
	assert_int_equal(s.mode, 04755);
	assert_int_equal(s.uid, 1001);
	assert_int_equal(s.gid, 27);
	assert_int_equal(s.atime.tv_sec, -2);
	assert_int_equal(s.atime.tv_nsec, 999999999);
	assert_int_equal(set.len, 2);
	assert_int_equal(set.val[0], words[0]);
	assert_int_equal(set.val[1], words[1]);
	assert_ptr_not_equal(set.val, words); /* a copy in the arena */

	/* every truncation of attr_vals, and one byte word too many */
	for (n = 0; n < full; n++) {
		e.len = n;
		assert_int_equal(decode_set(words, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);
		assert_int_equal(set.len, 0);
		assert_int_equal(s.mask, 0);
	}
	e.len = full;
	assert_true(xdr_enc_u32(&e, 0));
	assert_int_equal(decode_set(words, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);
	/* attr_vals of a length that is not a multiple of 4 */
	e.len = full - 1;
	assert_int_equal(decode_set(words, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);

	/* an empty mask with no values: nothing to do */
	e.len = 0;
	assert_int_equal(decode_set(words, 0, &e, NULL, &s, &set), NFS4_OK);
	assert_int_equal(s.mask, 0);
	assert_int_equal(set.len, 0);
	/* ... trailing zero mask words are fine, and left off attrsset */
	{
		uint32_t zero[4] = {0, 0, 0, 0};

		assert_int_equal(decode_set(zero, 4, &e, NULL, &s, &set), NFS4_OK);
		assert_int_equal(set.len, 0);
	}

	/* both times to server time */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_TIME_ACCESS_SET - 32) |
					    1u << (FATTR4_TIME_MODIFY_SET - 32)};

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, SET_TO_SERVER_TIME4));
		assert_true(xdr_enc_u32(&e, SET_TO_SERVER_TIME4));
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4_OK);
		assert_int_equal(s.mask, BE_SET_ATIME_NOW | BE_SET_MTIME_NOW);
		assert_int_equal(set.len, 2);
		/* time_how4 2 is no time_how4 */
		xdr_enc_patch_u32(&e, 4, 2);
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);
		/* nseconds past a second */
		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, SET_TO_SERVER_TIME4));
		assert_true(xdr_enc_u32(&e, SET_TO_CLIENT_TIME4));
		assert_true(xdr_enc_i64(&e, 5));
		assert_true(xdr_enc_u32(&e, 1000000000));
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_INVAL);
		assert_int_equal(set.len, 0);
		xdr_enc_patch_u32(&e, e.len - 4, 999999999);
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4_OK);
		assert_int_equal(s.mask, BE_SET_ATIME_NOW | BE_SET_MTIME);
		assert_int_equal(s.mtime.tv_sec, 5);
	}

	/* no arena for attrsset */
	{
		uint32_t w[1] = {1u << FATTR4_SIZE};
		struct fattr4 f;

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u64(&e, 1));
		f = fattr_of(w, 1, &e);
		assert_int_equal(nfs4_attr_decode_set(&f, NULL, &s, &set, NULL),
				 NFS4ERR_SERVERFAULT);
		assert_int_equal(s.mask, 0);
		assert_int_equal(set.len, 0);
	}
}

static void test_decode_set_errors(void **state)
{
	uint8_t vals[512];
	struct be_sattr s;
	struct xdr_enc e;
	bitmap4 set;

	(void)state;
	xdr_enc_init(&e, vals, sizeof(vals));
	assert_true(xdr_enc_u32(&e, 0644)); /* a plausible value for any u32 attribute */

	/* unsupported: acl, hidden, dacl (word 1), mode_set_masked (word 2), 80, word 3 */
	{
		uint32_t w0[1] = {1u << FATTR4_ACL | 1u << FATTR4_HIDDEN};
		uint32_t w1[2] = {0, 1u << (FATTR4_DACL - 32)};
		uint32_t w2[3] = {0, 0, 1u << (FATTR4_MODE_SET_MASKED - 64)};
		uint32_t w3[3] = {0, 0, 1u << (80 - 64)};
		uint32_t w4[4] = {0, 0, 0, 1};

		assert_int_equal(decode_set(w0, 1, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(decode_set(w1, 2, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(decode_set(w2, 3, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(decode_set(w3, 3, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(decode_set(w4, 4, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(set.len, 0);
	}
	/* read-only: type, rdattr_error, time_modify, fileid, supported_attrs, exclcreat */
	{
		static const uint32_t ro[] = {
			FATTR4_TYPE,	 FATTR4_RDATTR_ERROR,	 FATTR4_TIME_MODIFY,
			FATTR4_FILEID,	 FATTR4_SUPPORTED_ATTRS, FATTR4_SUPPATTR_EXCLCREAT,
			FATTR4_NUMLINKS, FATTR4_SPACE_USED};

		for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
			uint32_t w[3] = {0, 0, 0};

			w[ro[i] / 32] = 1u << (ro[i] % 32);
			assert_int_equal(decode_set(w, 3, &e, NULL, &s, &set), NFS4ERR_INVAL);
		}
	}
	/* ATTRNOTSUPP wins over INVAL, INVAL (read-only) over BADXDR */
	{
		uint32_t w[1] = {1u << FATTR4_TYPE | 1u << FATTR4_ACL};
		uint32_t w2[1] = {1u << FATTR4_TYPE | 1u << FATTR4_SIZE};

		assert_int_equal(decode_set(w, 1, &e, NULL, &s, &set), NFS4ERR_ATTRNOTSUPP);
		assert_int_equal(decode_set(w2, 1, &e, NULL, &s, &set), NFS4ERR_INVAL);
	}
	/* mode */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_MODE - 32)};

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, 07777));
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4_OK);
		assert_int_equal(s.mode, 07777);
		xdr_enc_patch_u32(&e, 0, 010000);
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_INVAL);
		xdr_enc_patch_u32(&e, 0, 0100644);
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_INVAL);
		assert_int_equal(set.len, 0);
		/* BADXDR wins over a bad value */
		assert_true(xdr_enc_u32(&e, 0));
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);
	}
	/* the first bad value in attribute order: mode (33) before owner (36) */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_MODE - 32) | 1u << (FATTR4_OWNER - 32)};

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, 077777));
		enc_str(&e, "bob");
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_INVAL);
		xdr_enc_patch_u32(&e, 0, 0600);
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_BADOWNER);
	}
	/* an owner string longer than attr_vals */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_OWNER - 32)};

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, 0xffffffff));
		assert_int_equal(decode_set(w, 2, &e, NULL, &s, &set), NFS4ERR_BADXDR);
	}
}

/* Decodes one owner (group when group) string with map. */
static uint32_t set_owner(const char *str, bool group, const struct nfs4_idmap *map, uint32_t *id)
{
	uint32_t w[2] = {0, 1u << ((group ? FATTR4_OWNER_GROUP : FATTR4_OWNER) - 32)};
	uint8_t vals[2048];
	struct be_sattr s;
	struct xdr_enc e;
	bitmap4 set;
	uint32_t status;

	xdr_enc_init(&e, vals, sizeof(vals));
	enc_str(&e, str);
	status = decode_set(w, 2, &e, map, &s, &set);
	if (status == NFS4_OK) {
		assert_int_equal(s.mask, group ? BE_SET_GID : BE_SET_UID);
		*id = group ? s.gid : s.uid;
	}
	return status;
}

static void test_owner_decode(void **state)
{
	static const char *const bad_numeric[] = {
		"",	"-1",  "+5",	     "01",	   "00",	  " 1",
		"1 ",	"1x",  "4294967295", "4294967296", "12345678901", "1000@localdomain",
		"root", "0x10"};
	struct nfs4_idmap names = {true, "example.org"};
	char name[256], buf[600];
	uint32_t id = 0;

	(void)state;
	assert_int_equal(set_owner("0", false, NULL, &id), NFS4_OK);
	assert_int_equal(id, 0);
	assert_int_equal(set_owner("1000", false, NULL, &id), NFS4_OK);
	assert_int_equal(id, 1000);
	assert_int_equal(set_owner("4294967294", true, NULL, &id), NFS4_OK);
	assert_int_equal(id, 4294967294u);
	for (size_t i = 0; i < sizeof(bad_numeric) / sizeof(bad_numeric[0]); i++) {
		assert_int_equal(set_owner(bad_numeric[i], false, NULL, &id), NFS4ERR_BADOWNER);
		assert_int_equal(set_owner(bad_numeric[i], true, NULL, &id), NFS4ERR_BADOWNER);
	}
	/* an embedded NUL */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_OWNER - 32)};
		struct xdr_opaque o = {5, (const uint8_t *)"ro\0ot"};
		uint8_t vals[64];
		struct be_sattr s;
		struct xdr_enc e;
		bitmap4 set;

		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_opaque(&e, &o, XDR_UNLIMITED));
		assert_int_equal(decode_set(w, 2, &e, &names, &s, &set), NFS4ERR_BADOWNER);
	}

	/* with names: numeric still works; names resolve in our domain only */
	assert_int_equal(set_owner("1000", false, &names, &id), NFS4_OK);
	assert_int_equal(id, 1000);
	assert_int_equal(set_owner("nosuchuser-nfs4d@example.org", false, &names, &id),
			 NFS4ERR_BADOWNER);
	assert_int_equal(set_owner("@example.org", false, &names, &id), NFS4ERR_BADOWNER);
	assert_int_equal(set_owner("", false, &names, &id), NFS4ERR_BADOWNER);
	if (root_user(name, sizeof(name), false)) {
		id = 1;
		snprintf(buf, sizeof(buf), "%s@EXAMPLE.org", name); /* domains: case-insensitive */
		assert_int_equal(set_owner(buf, false, &names, &id), NFS4_OK);
		assert_int_equal(id, 0);
		id = 1;
		assert_int_equal(set_owner(name, false, &names, &id), NFS4_OK); /* no domain */
		assert_int_equal(id, 0);
		snprintf(buf, sizeof(buf), "%s@other.org", name);
		assert_int_equal(set_owner(buf, false, &names, &id), NFS4ERR_BADOWNER);
		assert_int_equal(set_owner(name, false, NULL, &id), NFS4ERR_BADOWNER);
	}
	if (root_user(name, sizeof(name), true)) {
		id = 1;
		snprintf(buf, sizeof(buf), "%s@example.org", name);
		assert_int_equal(set_owner(buf, true, &names, &id), NFS4_OK);
		assert_int_equal(id, 0);
	}
	/* longer than we accept */
	{
		char big[1500];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(set_owner(big, false, &names, &id), NFS4ERR_BADOWNER);
	}
}

/*
 * VERIFY / NVERIFY
 */

/* Builds a client fattr4 of our own encoding of words (in buf), for compare. */
static struct fattr4 fattr_from_encode(const uint32_t *words, uint32_t nwords,
				       const struct nfs4_attr_src *src, uint8_t *buf)
{
	struct nfs4_attrmask m;
	struct xdr_dec d;
	struct fattr4 f;
	uint32_t status;
	size_t len;

	len = encode(words, nwords, src, buf, &status);
	assert_int_equal(status, NFS4_OK);
	open_fattr(buf, len, &m, &d);
	xdr_dec_init(&d, buf, len, &test_arena);
	assert_true(xdr_dec_fattr4(&d, &f));
	return f;
}

static void test_compare(void **state)
{
	/* every readable attribute but rdattr_error */
	uint32_t all[3] = {0xffffffff & ~(1u << FATTR4_RDATTR_ERROR), 0xffffffff, 0xffffffff};
	struct nfs4_attr_src src = make_src();
	uint8_t buf[BUF_MAX];
	struct fattr4 f;

	(void)state;
	all[1] &= ~(1u << (FATTR4_TIME_ACCESS_SET - 32) | 1u << (FATTR4_TIME_MODIFY_SET - 32));
	f = fattr_from_encode(all, 3, &src, buf);
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);

	/* each value changed in turn */
	obj_attr.size++;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
	obj_attr.size--;
	obj_attr.mtime.tv_nsec++;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
	obj_attr.mtime.tv_nsec--;
	obj_attr.uid = 1001;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
	obj_attr.uid = 1000;
	obj_fs.space_free = 1;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
	obj_fs.space_free = 2002;
	src.fh.len--;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
	src.fh.len++;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);

	/* every truncation of attr_vals is BADXDR; so is a trailing word */
	{
		struct fattr4 t = f;

		for (uint32_t n = 0; n < f.attr_vals.len; n++) {
			t.attr_vals.len = n;
			assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_BADXDR);
		}
	}
	{
		uint8_t more[BUF_MAX];
		struct fattr4 t = f;

		memcpy(more, f.attr_vals.data, f.attr_vals.len);
		memset(more + f.attr_vals.len, 0, 4);
		t.attr_vals.data = more;
		t.attr_vals.len = f.attr_vals.len + 4;
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_BADXDR);
	}

	/* errors */
	{
		uint32_t w[3] = {1u << FATTR4_RDATTR_ERROR | 1u << FATTR4_SIZE, 0, 0};
		struct fattr4 t = {{3, w}, {0, NULL}};

		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_INVAL);
		w[0] = 1u << FATTR4_SIZE;
		w[1] = 1u << (FATTR4_TIME_MODIFY_SET - 32);
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_INVAL);
		w[1] = 1u << (FATTR4_TIME_ACCESS_SET - 32);
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_INVAL);
		w[1] = 0;
		w[0] = 1u << FATTR4_ACL | 1u << FATTR4_RDATTR_ERROR;
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_ATTRNOTSUPP);
		w[0] = 0;
		w[2] = 1u << (FATTR4_FS_CHARSET_CAP - 64);
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_ATTRNOTSUPP);
		w[2] = 0;
		/* time_create with btime unknown */
		w[1] = 1u << (FATTR4_TIME_CREATE - 32);
		obj_attr.btime = (struct timespec){0, 0};
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_ATTRNOTSUPP);
		/* caller bugs: no statfs, no fh */
		w[1] = 1u << (FATTR4_SPACE_TOTAL - 32);
		src.fs = NULL;
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_SERVERFAULT);
		w[1] = 0;
		w[0] = 1u << FATTR4_FILEHANDLE;
		src.fh.len = 0;
		assert_int_equal(nfs4_attr_compare(&t, &src), NFS4ERR_SERVERFAULT);
	}
}

static void test_compare_values(void **state)
{
	struct nfs4_attr_src src = make_src();
	uint8_t vals[256];
	struct xdr_enc e;
	struct fattr4 f;

	(void)state;
	/* an empty fattr4 is the same as anything */
	f.attrmask.len = 0;
	f.attrmask.val = NULL;
	f.attr_vals.len = 0;
	f.attr_vals.data = NULL;
	assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);

	/* owners compare by id: "1000" == uid 1000; a mapped name of uid 0 == "0" */
	{
		uint32_t w[2] = {0, 1u << (FATTR4_OWNER - 32) | 1u << (FATTR4_OWNER_GROUP - 32)};
		struct nfs4_idmap names = {true, "example.org"};
		char name[256], buf[600];

		xdr_enc_init(&e, vals, sizeof(vals));
		enc_str(&e, "1000");
		enc_str(&e, "100");
		f = fattr_of(w, 2, &e);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);
		obj_attr.gid = 101;
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
		xdr_enc_init(&e, vals, sizeof(vals));
		enc_str(&e, "1000");
		enc_str(&e, "nobody-in-particular"); /* names nothing: not the same */
		f = fattr_of(w, 2, &e);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
		if (root_user(name, sizeof(name), false)) {
			obj_attr.uid = 0;
			obj_attr.gid = 7;
			src.idmap = &names;
			snprintf(buf, sizeof(buf), "%s@example.org", name);
			xdr_enc_init(&e, vals, sizeof(vals));
			enc_str(&e, buf);
			enc_str(&e, "7");
			f = fattr_of(w, 2, &e);
			assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);
			src.idmap = NULL;
			assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
		}
	}

	/* bitmaps compare by bits: trailing zero words do not matter */
	{
		uint32_t w[1] = {1u << FATTR4_SUPPORTED_ATTRS};
		const bitmap4 *s = nfs4_attr_supported();

		src = make_src();
		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, s->len + 2));
		for (uint32_t i = 0; i < s->len; i++)
			assert_true(xdr_enc_u32(&e, s->val[i]));
		assert_true(xdr_enc_u32(&e, 0));
		assert_true(xdr_enc_u32(&e, 0));
		f = fattr_of(w, 1, &e);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_SAME);
		xdr_enc_patch_u32(&e, e.len - 4, 1);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
		/* fewer words than ours */
		xdr_enc_init(&e, vals, sizeof(vals));
		assert_true(xdr_enc_u32(&e, 1));
		assert_true(xdr_enc_u32(&e, s->val[0]));
		f = fattr_of(w, 1, &e);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_NOT_SAME);
		/* a count the bytes cannot hold */
		xdr_enc_patch_u32(&e, 0, 0xffffffff);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_BADXDR);
	}

	/* a filehandle over NFS4_FHSIZE is bad XDR */
	{
		uint32_t w[1] = {1u << FATTR4_FILEHANDLE};
		uint8_t fh[NFS4_FHSIZE + 1];
		struct xdr_opaque o = {sizeof(fh), fh};
		uint8_t big[256];

		memset(fh, 0, sizeof(fh));
		xdr_enc_init(&e, big, sizeof(big));
		assert_true(xdr_enc_opaque(&e, &o, XDR_UNLIMITED));
		f = fattr_of(w, 1, &e);
		assert_int_equal(nfs4_attr_compare(&f, &src), NFS4ERR_BADXDR);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_supported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_intersection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_encode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_set_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_values, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
