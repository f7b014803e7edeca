/*
 * The fattr4 codec: see attr.h. Values go on the wire with the primitives of
 * xdr/xdr.h in the types RFC 8881 section 5.8 gives them (fattr4_<name> in
 * RFC 5662); the masks below are the single list of what is supported,
 * settable and write-only.
 */
#include "nfs4/attr.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Bit of attribute n in word w of a mask (0 when n is in another word). */
#define AW(n, w) ((uint32_t)((n) / 32 == (w)) << ((n) % 32))

/* Read from struct be_statfs. */
#define MASK_STATFS(w)                                                                      \
	(AW(FATTR4_FILES_AVAIL, w) | AW(FATTR4_FILES_FREE, w) | AW(FATTR4_FILES_TOTAL, w) | \
	 AW(FATTR4_MAXFILESIZE, w) | AW(FATTR4_MAXLINK, w) | AW(FATTR4_MAXNAME, w) |        \
	 AW(FATTR4_SPACE_AVAIL, w) | AW(FATTR4_SPACE_FREE, w) | AW(FATTR4_SPACE_TOTAL, w))

/* Settable but never returned. */
#define MASK_WRITEONLY(w) (AW(FATTR4_TIME_ACCESS_SET, w) | AW(FATTR4_TIME_MODIFY_SET, w))

/*
 * Settable at EXCLUSIVE4_1 create: the writable ones but the times, which an
 * exclusive create conventionally uses to keep the client's verifier.
 */
#define MASK_EXCLCREAT(w) \
	(AW(FATTR4_SIZE, w) | AW(FATTR4_MODE, w) | AW(FATTR4_OWNER, w) | AW(FATTR4_OWNER_GROUP, w))

#define MASK_WRITABLE(w) (MASK_EXCLCREAT(w) | MASK_WRITEONLY(w))

#define MASK_SUPPORTED(w)                                                                       \
	(AW(FATTR4_SUPPORTED_ATTRS, w) | AW(FATTR4_TYPE, w) | AW(FATTR4_FH_EXPIRE_TYPE, w) |    \
	 AW(FATTR4_CHANGE, w) | AW(FATTR4_SIZE, w) | AW(FATTR4_LINK_SUPPORT, w) |               \
	 AW(FATTR4_SYMLINK_SUPPORT, w) | AW(FATTR4_NAMED_ATTR, w) | AW(FATTR4_FSID, w) |        \
	 AW(FATTR4_UNIQUE_HANDLES, w) | AW(FATTR4_LEASE_TIME, w) | AW(FATTR4_RDATTR_ERROR, w) | \
	 AW(FATTR4_CANSETTIME, w) | AW(FATTR4_CASE_INSENSITIVE, w) |                            \
	 AW(FATTR4_CASE_PRESERVING, w) | AW(FATTR4_CHOWN_RESTRICTED, w) |                       \
	 AW(FATTR4_FILEHANDLE, w) | AW(FATTR4_FILEID, w) | AW(FATTR4_HOMOGENEOUS, w) |          \
	 AW(FATTR4_MAXREAD, w) | AW(FATTR4_MAXWRITE, w) | AW(FATTR4_MODE, w) |                  \
	 AW(FATTR4_NO_TRUNC, w) | AW(FATTR4_NUMLINKS, w) | AW(FATTR4_OWNER, w) |                \
	 AW(FATTR4_OWNER_GROUP, w) | AW(FATTR4_RAWDEV, w) | AW(FATTR4_SPACE_USED, w) |          \
	 AW(FATTR4_TIME_ACCESS, w) | AW(FATTR4_TIME_CREATE, w) | AW(FATTR4_TIME_DELTA, w) |     \
	 AW(FATTR4_TIME_METADATA, w) | AW(FATTR4_TIME_MODIFY, w) |                              \
	 AW(FATTR4_MOUNTED_ON_FILEID, w) | AW(FATTR4_SUPPATTR_EXCLCREAT, w) | MASK_STATFS(w) |  \
	 MASK_WRITEONLY(w))

static const struct nfs4_attrmask supported = {
	{MASK_SUPPORTED(0), MASK_SUPPORTED(1), MASK_SUPPORTED(2)}};
static const struct nfs4_attrmask exclcreat = {
	{MASK_EXCLCREAT(0), MASK_EXCLCREAT(1), MASK_EXCLCREAT(2)}};
static const struct nfs4_attrmask writable = {
	{MASK_WRITABLE(0), MASK_WRITABLE(1), MASK_WRITABLE(2)}};
static const struct nfs4_attrmask writeonly = {
	{MASK_WRITEONLY(0), MASK_WRITEONLY(1), MASK_WRITEONLY(2)}};
static const struct nfs4_attrmask statfs_attrs = {{MASK_STATFS(0), MASK_STATFS(1), MASK_STATFS(2)}};

/* bitmap4.val is not const-qualified; nothing writes through these. */
static const bitmap4 supported_bm = {NFS4_ATTR_WORDS, (uint32_t *)supported.w};
static const bitmap4 exclcreat_bm = {NFS4_ATTR_WORDS, (uint32_t *)exclcreat.w};
static const bitmap4 writable_bm = {NFS4_ATTR_WORDS, (uint32_t *)writable.w};

#define NFS4_ATTR_MAX (NFS4_ATTR_WORDS * 32)
#define OWNER_MAX 1024 /* longest owner string we format or parse */
#define PW_BUF 4096    /* getpw*_r / getgr*_r scratch */
#define NSEC_MAX 999999999u

const bitmap4 *nfs4_attr_supported(void)
{
	return &supported_bm;
}

const bitmap4 *nfs4_attr_exclcreat(void)
{
	return &exclcreat_bm;
}

const bitmap4 *nfs4_attr_writable(void)
{
	return &writable_bm;
}

bool nfs4_attrmask_from_bitmap(struct nfs4_attrmask *m, const bitmap4 *b)
{
	bool beyond = false;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	if (!b->val)
		return false;
	for (i = 0; i < b->len; i++) {
		if (i < NFS4_ATTR_WORDS)
			m->w[i] = b->val[i];
		else if (b->val[i])
			beyond = true;
	}
	return beyond;
}

void nfs4_attrmask_to_bitmap(struct nfs4_attrmask *m, bitmap4 *b)
{
	uint32_t len = NFS4_ATTR_WORDS;

	while (len > 0 && m->w[len - 1] == 0)
		len--;
	b->len = len;
	b->val = len ? m->w : NULL;
}

bool nfs4_bitmap_isset(const bitmap4 *b, uint32_t n)
{
	return b->val && n / 32 < b->len && (b->val[n / 32] >> (n % 32) & 1);
}

/* Whether m has a bit that other lacks. */
static bool attrmask_beyond(const struct nfs4_attrmask *m, const struct nfs4_attrmask *other)
{
	for (int i = 0; i < NFS4_ATTR_WORDS; i++)
		if (m->w[i] & ~other->w[i])
			return true;
	return false;
}

static bool attrmask_meets(const struct nfs4_attrmask *m, const struct nfs4_attrmask *other)
{
	for (int i = 0; i < NFS4_ATTR_WORDS; i++)
		if (m->w[i] & other->w[i])
			return true;
	return false;
}

/* m &= ~other */
static void attrmask_minus(struct nfs4_attrmask *m, const struct nfs4_attrmask *other)
{
	for (int i = 0; i < NFS4_ATTR_WORDS; i++)
		m->w[i] &= ~other->w[i];
}

bool nfs4_attr_needs_statfs(const bitmap4 *request)
{
	struct nfs4_attrmask m;

	nfs4_attrmask_from_bitmap(&m, request);
	return attrmask_meets(&m, &statfs_attrs);
}

bool nfs4_attr_wants_writeonly(const bitmap4 *request)
{
	struct nfs4_attrmask m;

	nfs4_attrmask_from_bitmap(&m, request);
	return attrmask_meets(&m, &writeonly);
}

static bool btime_known(const struct be_attr *attr)
{
	return attr->btime.tv_sec != 0 || attr->btime.tv_nsec != 0;
}

/* What this object supports: everything, but time_create only with a known btime. */
static void object_supported(const struct nfs4_attr_src *src, struct nfs4_attrmask *m)
{
	*m = supported;
	if (src->attr && !btime_known(src->attr))
		nfs4_attrmask_clear(m, FATTR4_TIME_CREATE);
}

/*
 * Owners
 */
static const char *idmap_domain(const struct nfs4_idmap *map)
{
	return map->domain && map->domain[0] ? map->domain : "localdomain";
}

/* id in decimal, as snprintf's "%u" but cheaper (two per GETATTR); returns its length (< cap). */
static size_t owner_format_numeric(char *buf, size_t cap, uint32_t id)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	if (n >= cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* Formats uid or gid id as the owner string; returns its length (< cap). */
static size_t owner_format(char *buf, size_t cap, uint32_t id, bool group,
			   const struct nfs4_idmap *map)
{
	int n;

	if (map && map->names) {
		char tmp[PW_BUF];
		const char *name = NULL;

		if (group) {
			struct group gr, *res = NULL;

			if (getgrgid_r((gid_t)id, &gr, tmp, sizeof(tmp), &res) == 0 && res)
				name = res->gr_name;
		} else {
			struct passwd pw, *res = NULL;

			if (getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res) == 0 && res)
				name = res->pw_name;
		}
		if (name) {
			n = snprintf(buf, cap, "%s@%s", name, idmap_domain(map));
			if (n > 0 && (size_t)n < cap)
				return (size_t)n;
		}
	}
	return owner_format_numeric(buf, cap, id);
}

/*
 * A decimal id: digits only, no sign, no leading zero, below 2^32 - 1 (which
 * chown(2) reads as "no change").
 */
static bool owner_parse_numeric(const struct xdr_opaque *o, uint32_t *id)
{
	uint64_t v = 0;

	if (o->len == 0 || o->len > 10 || (o->data[0] == '0' && o->len > 1))
		return false;
	for (uint32_t i = 0; i < o->len; i++) {
		if (o->data[i] < '0' || o->data[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(o->data[i] - '0');
	}
	if (v >= UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* Maps an owner (or owner_group) string to an id; false when it names no one. */
static bool owner_parse(const struct xdr_opaque *o, bool group, const struct nfs4_idmap *map,
			uint32_t *id)
{
	char name[OWNER_MAX + 1], tmp[PW_BUF];
	char *at;

	if (owner_parse_numeric(o, id))
		return true;
	if (!map || !map->names || o->len == 0 || o->len > OWNER_MAX ||
	    memchr(o->data, '\0', o->len))
		return false;
	memcpy(name, o->data, o->len);
	name[o->len] = '\0';
	at = strrchr(name, '@');
	if (at) {
		if (strcasecmp(at + 1, idmap_domain(map)) != 0)
			return false;
		*at = '\0';
	}
	if (name[0] == '\0')
		return false;
	if (group) {
		struct group gr, *res = NULL;

		if (getgrnam_r(name, &gr, tmp, sizeof(tmp), &res) != 0 || !res)
			return false;
		*id = (uint32_t)res->gr_gid;
	} else {
		struct passwd pw, *res = NULL;

		if (getpwnam_r(name, &pw, tmp, sizeof(tmp), &res) != 0 || !res)
			return false;
		*id = (uint32_t)res->pw_uid;
	}
	return true;
}

/*
 * Encoding
 */
static bool enc_mask(struct xdr_enc *x, const struct nfs4_attrmask *m)
{
	struct nfs4_attrmask copy = *m;
	bitmap4 b;

	nfs4_attrmask_to_bitmap(&copy, &b);
	return xdr_enc_bitmap4(x, &b);
}

static bool enc_time(struct xdr_enc *x, const struct timespec *t)
{
	return xdr_enc_i64(x, (int64_t)t->tv_sec) && xdr_enc_u32(x, (uint32_t)t->tv_nsec);
}

static bool enc_owner(struct xdr_enc *x, uint32_t id, bool group, const struct nfs4_idmap *map)
{
	char buf[OWNER_MAX];
	struct xdr_opaque o;

	o.len = (uint32_t)owner_format(buf, sizeof(buf), id, group, map);
	o.data = (const uint8_t *)buf;
	return xdr_enc_opaque(x, &o, XDR_UNLIMITED);
}

/*
 * Encodes the value of attribute n, which the caller has checked is
 * supported and available for src (attr and, where needed, fs non-NULL).
 */
static bool enc_attr(struct xdr_enc *x, uint32_t n, const struct nfs4_attr_src *src)
{
	const struct be_attr *a = src->attr;
	const struct be_statfs *fs = src->fs;

	switch (n) {
	case FATTR4_SUPPORTED_ATTRS: {
		struct nfs4_attrmask m;

		object_supported(src, &m);
		return enc_mask(x, &m);
	}
	case FATTR4_TYPE:
		return xdr_enc_u32(x, (uint32_t)a->type); /* enum be_ftype = nfs_ftype4 */
	case FATTR4_FH_EXPIRE_TYPE:
		return xdr_enc_u32(x, src->fh_expire_type);
	case FATTR4_CHANGE:
		return xdr_enc_u64(x, a->change);
	case FATTR4_SIZE:
		return xdr_enc_u64(x, a->size);
	case FATTR4_LINK_SUPPORT:
	case FATTR4_SYMLINK_SUPPORT:
	case FATTR4_UNIQUE_HANDLES:
	case FATTR4_CANSETTIME:
	case FATTR4_CASE_PRESERVING:
	case FATTR4_CHOWN_RESTRICTED:
	case FATTR4_HOMOGENEOUS:
	case FATTR4_NO_TRUNC:
		return xdr_enc_bool(x, true);
	case FATTR4_CASE_INSENSITIVE:
		return xdr_enc_bool(x, false);
	case FATTR4_NAMED_ATTR:
		return xdr_enc_bool(x, src->named_attr);
	case FATTR4_FSID:
		return xdr_enc_u64(x, a->fsid_major) && xdr_enc_u64(x, a->fsid_minor);
	case FATTR4_LEASE_TIME:
		return xdr_enc_u32(x, src->lease_time);
	case FATTR4_RDATTR_ERROR:
		return xdr_enc_u32(x, src->rdattr_error);
	case FATTR4_FILEHANDLE:
		return xdr_enc_opaque(x, &src->fh, NFS4_FHSIZE);
	case FATTR4_FILEID:
		return xdr_enc_u64(x, a->fileid);
	case FATTR4_FILES_AVAIL:
		return xdr_enc_u64(x, fs->files_avail);
	case FATTR4_FILES_FREE:
		return xdr_enc_u64(x, fs->files_free);
	case FATTR4_FILES_TOTAL:
		return xdr_enc_u64(x, fs->files_total);
	case FATTR4_MAXFILESIZE:
		return xdr_enc_u64(x, fs->max_filesize);
	case FATTR4_MAXLINK:
		return xdr_enc_u32(x, fs->max_link);
	case FATTR4_MAXNAME:
		return xdr_enc_u32(x, fs->name_max);
	case FATTR4_MAXREAD:
		return xdr_enc_u64(x, src->maxread);
	case FATTR4_MAXWRITE:
		return xdr_enc_u64(x, src->maxwrite);
	case FATTR4_MODE:
		return xdr_enc_u32(x, a->mode & 07777);
	case FATTR4_NUMLINKS:
		return xdr_enc_u32(x, a->nlink);
	case FATTR4_OWNER:
		return enc_owner(x, a->uid, false, src->idmap);
	case FATTR4_OWNER_GROUP:
		return enc_owner(x, a->gid, true, src->idmap);
	case FATTR4_RAWDEV:
		return xdr_enc_u32(x, a->rdev_major) && xdr_enc_u32(x, a->rdev_minor);
	case FATTR4_SPACE_AVAIL:
		return xdr_enc_u64(x, fs->space_avail);
	case FATTR4_SPACE_FREE:
		return xdr_enc_u64(x, fs->space_free);
	case FATTR4_SPACE_TOTAL:
		return xdr_enc_u64(x, fs->space_total);
	case FATTR4_SPACE_USED:
		return xdr_enc_u64(x, a->space_used);
	case FATTR4_TIME_ACCESS:
		return enc_time(x, &a->atime);
	case FATTR4_TIME_CREATE:
		return enc_time(x, &a->btime);
	case FATTR4_TIME_DELTA:
		return xdr_enc_i64(x, 0) && xdr_enc_u32(x, 1);
	case FATTR4_TIME_METADATA:
		return enc_time(x, &a->ctime);
	case FATTR4_TIME_MODIFY:
		return enc_time(x, &a->mtime);
	case FATTR4_MOUNTED_ON_FILEID:
		return xdr_enc_u64(x, src->mounted_on_fileid);
	case FATTR4_SUPPATTR_EXCLCREAT:
		return enc_mask(x, &exclcreat);
	}
	/* Not reached: callers pass supported, readable attributes only. */
	x->overflow = true;
	return false;
}

uint32_t nfs4_attr_encode(struct xdr_enc *x, const bitmap4 *request,
			  const struct nfs4_attr_src *src)
{
	struct nfs4_attrmask m, supp;
	size_t start;

	nfs4_attrmask_from_bitmap(&m, request);
	object_supported(src, &supp);
	nfs4_attrmask_and(&m, &supp);
	attrmask_minus(&m, &writeonly);
	if (!src->attr) {
		if (!nfs4_attrmask_isset(&m, FATTR4_RDATTR_ERROR))
			return src->rdattr_error != NFS4_OK ? src->rdattr_error
							    : NFS4ERR_SERVERFAULT;
		memset(&m, 0, sizeof(m));
		nfs4_attrmask_set(&m, FATTR4_RDATTR_ERROR);
	}
	if (!src->fs)
		attrmask_minus(&m, &statfs_attrs);
	if (src->fh.len == 0)
		nfs4_attrmask_clear(&m, FATTR4_FILEHANDLE);

	if (!enc_mask(x, &m))
		return NFS4ERR_RESOURCE;
	start = x->len;
	if (!xdr_enc_u32(x, 0)) /* attr_vals length, patched below */
		return NFS4ERR_RESOURCE;
	for (uint32_t n = 0; n < NFS4_ATTR_MAX; n++)
		if (nfs4_attrmask_isset(&m, n) && !enc_attr(x, n, src))
			return NFS4ERR_RESOURCE;
	xdr_enc_patch_u32(x, start, (uint32_t)(x->len - start - 4));
	return NFS4_OK;
}

/*
 * SETATTR / CREATE
 */

/* Records the first value error; a later one does not replace it. */
static void note_err(uint32_t *err, uint32_t e)
{
	if (*err == NFS4_OK)
		*err = e;
}

static bool dec_settime(struct xdr_dec *d, uint32_t *err, uint32_t set_flag, uint32_t now_flag,
			struct timespec *t, struct be_sattr *out)
{
	struct settime4 st;

	if (!xdr_dec_settime4(d, &st))
		return false;
	if (st.set_it == SET_TO_SERVER_TIME4) {
		out->mask |= now_flag;
		return true;
	}
	if (st.u.time.nseconds > NSEC_MAX) {
		note_err(err, NFS4ERR_INVAL);
		return true;
	}
	t->tv_sec = (time_t)st.u.time.seconds;
	t->tv_nsec = (long)st.u.time.nseconds;
	out->mask |= set_flag;
	return true;
}

static uint32_t decode_set(const struct fattr4 *in, const struct nfs4_idmap *idmap,
			   struct be_sattr *out, struct nfs4_attrmask *m)
{
	struct xdr_dec d;
	struct xdr_opaque o;
	uint32_t err = NFS4_OK;

	if (nfs4_attrmask_from_bitmap(m, &in->attrmask) || attrmask_beyond(m, &supported))
		return NFS4ERR_ATTRNOTSUPP;
	if (attrmask_beyond(m, &writable))
		return NFS4ERR_INVAL;

	xdr_dec_init(&d, in->attr_vals.data, in->attr_vals.len, NULL);
	if (nfs4_attrmask_isset(m, FATTR4_SIZE)) {
		if (!xdr_dec_u64(&d, &out->size))
			return NFS4ERR_BADXDR;
		out->mask |= BE_SET_SIZE;
	}
	if (nfs4_attrmask_isset(m, FATTR4_MODE)) {
		if (!xdr_dec_u32(&d, &out->mode))
			return NFS4ERR_BADXDR;
		if (out->mode > 07777)
			note_err(&err, NFS4ERR_INVAL);
		out->mask |= BE_SET_MODE;
	}
	if (nfs4_attrmask_isset(m, FATTR4_OWNER)) {
		if (!xdr_dec_opaque(&d, &o, XDR_UNLIMITED))
			return NFS4ERR_BADXDR;
		if (!owner_parse(&o, false, idmap, &out->uid))
			note_err(&err, NFS4ERR_BADOWNER);
		out->mask |= BE_SET_UID;
	}
	if (nfs4_attrmask_isset(m, FATTR4_OWNER_GROUP)) {
		if (!xdr_dec_opaque(&d, &o, XDR_UNLIMITED))
			return NFS4ERR_BADXDR;
		if (!owner_parse(&o, true, idmap, &out->gid))
			note_err(&err, NFS4ERR_BADOWNER);
		out->mask |= BE_SET_GID;
	}
	if (nfs4_attrmask_isset(m, FATTR4_TIME_ACCESS_SET) &&
	    !dec_settime(&d, &err, BE_SET_ATIME, BE_SET_ATIME_NOW, &out->atime, out))
		return NFS4ERR_BADXDR;
	if (nfs4_attrmask_isset(m, FATTR4_TIME_MODIFY_SET) &&
	    !dec_settime(&d, &err, BE_SET_MTIME, BE_SET_MTIME_NOW, &out->mtime, out))
		return NFS4ERR_BADXDR;
	if (xdr_dec_remaining(&d) != 0)
		return NFS4ERR_BADXDR;
	return err;
}

uint32_t nfs4_attr_decode_set(const struct fattr4 *in, const struct nfs4_idmap *idmap,
			      struct be_sattr *out, bitmap4 *attrsset_out, struct arena *a)
{
	struct nfs4_attrmask m;
	bitmap4 b;
	uint32_t status;

	memset(out, 0, sizeof(*out));
	attrsset_out->len = 0;
	attrsset_out->val = NULL;
	status = decode_set(in, idmap, out, &m);
	if (status != NFS4_OK) {
		memset(out, 0, sizeof(*out));
		return status;
	}
	nfs4_attrmask_to_bitmap(&m, &b);
	if (b.len) {
		uint32_t *words = a ? arena_alloc(a, b.len * sizeof(uint32_t)) : NULL;

		if (!words) {
			memset(out, 0, sizeof(*out));
			return NFS4ERR_SERVERFAULT;
		}
		memcpy(words, b.val, b.len * sizeof(uint32_t));
		attrsset_out->len = b.len;
		attrsset_out->val = words;
	}
	return NFS4_OK;
}

/*
 * VERIFY / NVERIFY
 */

/* Compares a bitmap4 from d with m by bits; false on bad XDR. */
static bool cmp_mask(struct xdr_dec *d, const struct nfs4_attrmask *m, bool *same)
{
	uint32_t count, word;

	if (!xdr_dec_count(d, &count, XDR_UNLIMITED, 4))
		return false;
	for (uint32_t i = 0; i < count; i++) {
		if (!xdr_dec_u32(d, &word))
			return false;
		if (word != (i < NFS4_ATTR_WORDS ? m->w[i] : 0))
			*same = false;
	}
	for (uint32_t i = count; i < NFS4_ATTR_WORDS; i++)
		if (m->w[i])
			*same = false;
	return true;
}

/* Compares the client's value of attribute n with ours; false on bad XDR. */
static bool cmp_attr(struct xdr_dec *d, uint32_t n, const struct nfs4_attr_src *src, bool *same)
{
	struct xdr_opaque o;
	uint32_t id;

	switch (n) {
	case FATTR4_SUPPORTED_ATTRS: {
		struct nfs4_attrmask m;

		object_supported(src, &m);
		return cmp_mask(d, &m, same);
	}
	case FATTR4_SUPPATTR_EXCLCREAT:
		return cmp_mask(d, &exclcreat, same);
	case FATTR4_OWNER:
	case FATTR4_OWNER_GROUP:
		if (!xdr_dec_opaque(d, &o, XDR_UNLIMITED))
			return false;
		if (!owner_parse(&o, n == FATTR4_OWNER_GROUP, src->idmap, &id) ||
		    id != (n == FATTR4_OWNER ? src->attr->uid : src->attr->gid))
			*same = false;
		return true;
	case FATTR4_FILEHANDLE:
		if (!xdr_dec_opaque(d, &o, NFS4_FHSIZE))
			return false;
		if (!xdr_opaque_eq(&o, &src->fh))
			*same = false;
		return true;
	default: {
		/* Fixed-size values: the same bytes or not. */
		uint8_t ours[32];
		const uint8_t *theirs;
		struct xdr_enc e;

		xdr_enc_init(&e, ours, sizeof(ours));
		if (!enc_attr(&e, n, src))
			return false; /* not reached: every other value fits */
		theirs = xdr_dec_inline(d, e.len);
		if (!theirs)
			return false;
		if (memcmp(theirs, ours, e.len) != 0)
			*same = false;
		return true;
	}
	}
}

uint32_t nfs4_attr_compare(const struct fattr4 *in, const struct nfs4_attr_src *src)
{
	struct nfs4_attrmask m, supp;
	struct xdr_dec d;
	bool same = true;

	if (nfs4_attrmask_from_bitmap(&m, &in->attrmask) || attrmask_beyond(&m, &supported))
		return NFS4ERR_ATTRNOTSUPP;
	if (nfs4_attrmask_isset(&m, FATTR4_RDATTR_ERROR) || attrmask_meets(&m, &writeonly))
		return NFS4ERR_INVAL;
	if (!src->attr)
		return NFS4ERR_SERVERFAULT;
	object_supported(src, &supp);
	if (attrmask_beyond(&m, &supp))
		return NFS4ERR_ATTRNOTSUPP;
	if ((!src->fs && attrmask_meets(&m, &statfs_attrs)) ||
	    (src->fh.len == 0 && nfs4_attrmask_isset(&m, FATTR4_FILEHANDLE)))
		return NFS4ERR_SERVERFAULT;

	xdr_dec_init(&d, in->attr_vals.data, in->attr_vals.len, NULL);
	for (uint32_t n = 0; n < NFS4_ATTR_MAX; n++)
		if (nfs4_attrmask_isset(&m, n) && !cmp_attr(&d, n, src, &same))
			return NFS4ERR_BADXDR;
	if (xdr_dec_remaining(&d) != 0)
		return NFS4ERR_BADXDR;
	return same ? NFS4ERR_SAME : NFS4ERR_NOT_SAME;
}
