/*
 * The fattr4 codec (RFC 8881 section 5): GETATTR and READDIR encode an
 * object's attributes with nfs4_attr_encode(); SETATTR and CREATE turn a
 * client's fattr4 into a struct be_sattr with nfs4_attr_decode_set(); VERIFY
 * and NVERIFY compare one with nfs4_attr_compare(). The module knows nothing
 * of compounds, sessions or state: everything it needs about one object is
 * in struct nfs4_attr_src, filled by the caller from the backend.
 *
 * Supported attributes (nfs4_attr_supported(), the value of supported_attrs):
 *   REQUIRED: supported_attrs, type, fh_expire_type, change, size,
 *     link_support, symlink_support, named_attr, fsid, unique_handles,
 *     lease_time, rdattr_error, filehandle, suppattr_exclcreat.
 *   RECOMMENDED: cansettime, case_insensitive (false), case_preserving,
 *     chown_restricted, fileid, files_avail, files_free, files_total,
 *     homogeneous, maxfilesize, maxlink, maxname, maxread, maxwrite, mode,
 *     no_trunc, numlinks, owner, owner_group, rawdev, space_avail, space_free,
 *     space_total, space_used, time_access, time_access_set, time_create,
 *     time_delta (1 ns), time_metadata, time_modify, time_modify_set,
 *     mounted_on_fileid.
 * Settable (SETATTR, CREATE): size, mode, owner, owner_group,
 * time_access_set, time_modify_set. The write-only time_*_set attributes
 * are never returned by GETATTR. Everything else is read-only.
 *
 * Owners are numeric strings ("1000") by default, which is what the Linux
 * client sends and expects under AUTH_SYS. With struct nfs4_idmap.names set,
 * they are "name@domain" (getpwuid_r/getgrgid_r; an id with no name stays
 * numeric), and incoming names are mapped back with getpwnam_r/getgrnam_r;
 * numeric strings are accepted either way.
 *
 * Everything here is reentrant and keeps no state; the only globals are
 * constant attribute masks.
 */
#ifndef NFS4D_NFS4_ATTR_H
#define NFS4D_NFS4_ATTR_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "util/arena.h"
#include "xdr/nfs4_xdr.h"

/* Words of an attribute mask nfs4d looks at: attributes 0..95 (we know 0..76). */
#define NFS4_ATTR_WORDS 3

/* An attribute mask with its own storage (bitmap4 only points at words). */
struct nfs4_attrmask {
	uint32_t w[NFS4_ATTR_WORDS];
};

/* How owner/owner_group strings are spelled. All-zero = numeric (the default). */
struct nfs4_idmap {
	bool names;	    /* "name@domain" instead of "1000" */
	const char *domain; /* NFSv4 id domain for names; NULL or "": "localdomain" */
};

/*
 * One object's attributes as the caller knows them. Only attr is required;
 * the others are needed only by the attributes that read them.
 */
struct nfs4_attr_src {
	/*
	 * The object's backend attributes. NULL for a READDIR entry whose
	 * attributes could not be read: then only rdattr_error is returned
	 * (see nfs4_attr_encode()).
	 */
	const struct be_attr *attr;
	/*
	 * The file system's figures, for files_*, space_avail/free/total,
	 * maxfilesize, maxlink and maxname. May be NULL when
	 * nfs4_attr_needs_statfs() says none of them is requested; when NULL
	 * anyway those attributes are left out of the reply.
	 */
	const struct be_statfs *fs;
	struct xdr_opaque fh;		/* the object's nfs_fh4; len 0: filehandle left out */
	uint32_t lease_time;		/* seconds */
	uint32_t fh_expire_type;	/* FH4_* bits (FH4_PERSISTENT = 0) */
	uint64_t mounted_on_fileid;	/* = attr->fileid except at a mount point */
	uint32_t rdattr_error;		/* nfsstat4 for READDIR's rdattr_error; NFS4_OK otherwise */
	uint32_t maxread, maxwrite;	/* bytes */
	bool named_attr;		/* the object has named attributes: false */
	const struct nfs4_idmap *idmap; /* NULL: numeric owners */
};

/* The attributes nfs4d supports (supported_attrs). Constant; never written through. */
const bitmap4 *nfs4_attr_supported(void);
/* The attributes settable at EXCLUSIVE4_1 create (suppattr_exclcreat). */
const bitmap4 *nfs4_attr_exclcreat(void);
/* The attributes SETATTR/CREATE accept. */
const bitmap4 *nfs4_attr_writable(void);

/* Whether a request asks for an attribute read from struct be_statfs. */
bool nfs4_attr_needs_statfs(const bitmap4 *request);
/*
 * Whether a request asks for a write-only attribute (time_access_set,
 * time_modify_set). nfs4_attr_encode() leaves them out; a GETATTR that wants
 * to refuse them with NFS4ERR_INVAL, as knfsd does, asks this first.
 */
bool nfs4_attr_wants_writeonly(const bitmap4 *request);

/*
 * Encodes a fattr4 for GETATTR or one READDIR entry: attrmask = request ∩
 * supported, minus the write-only attributes and those this object cannot
 * give (statfs figures when src->fs is NULL, filehandle when src->fh is
 * empty), then attr_vals with the values in attribute-number order.
 * time_create is supported only for objects whose btime is known (non-zero):
 * for the others it is neither returned nor listed in their supported_attrs. Requested attributes
 * nfs4d does not support are simply not returned (RFC 8881 section 18.7.3).
 *
 * When src->attr is NULL (a READDIR entry whose attributes failed), the
 * fattr4 holds rdattr_error alone if requested; if it was not requested,
 * nothing is encoded and src->rdattr_error is returned for the caller to fail
 * READDIR with.
 *
 * Returns NFS4_OK, or NFS4ERR_RESOURCE when x overflowed (x->overflow set; the
 * caller rolls back to its own mark or answers NFS4ERR_REP_TOO_BIG).
 */
uint32_t nfs4_attr_encode(struct xdr_enc *x, const bitmap4 *request,
			  const struct nfs4_attr_src *src);

/*
 * Parses the fattr4 of SETATTR (RFC 8881 section 18.30) or CREATE into *out
 * (out->mask says what to change) and sets *attrsset_out to the attributes
 * it holds, allocated from a. In order of precedence:
 *   NFS4ERR_ATTRNOTSUPP  a bit for an attribute nfs4d does not support;
 *   NFS4ERR_INVAL        a supported but read-only attribute;
 *   NFS4ERR_BADXDR       attr_vals too short, with bytes left over, or a
 *                        time_how4 that is not one;
 *   then the first bad value in attribute order:
 *     NFS4ERR_INVAL      mode above 07777, nseconds above 999999999;
 *     NFS4ERR_BADOWNER   an owner/owner_group that maps to no id (empty,
 *                        not decimal, 4294967295, or an unknown name);
 *   NFS4ERR_SERVERFAULT  a is NULL or exhausted.
 * On error *attrsset_out is empty: the caller answers SETATTR with it.
 * On success the caller applies *out at once; if the backend fails, it must
 * answer with an empty attrsset, since nothing was set.
 * SET_TO_SERVER_TIME4 becomes BE_SET_ATIME_NOW / BE_SET_MTIME_NOW.
 */
uint32_t nfs4_attr_decode_set(const struct fattr4 *in, const struct nfs4_idmap *idmap,
			      struct be_sattr *out, bitmap4 *attrsset_out, struct arena *a);

/*
 * Compares a client's fattr4 with the object's attributes for VERIFY /
 * NVERIFY (RFC 8881 sections 18.31, 18.15). Returns NFS4ERR_SAME when every
 * attribute matches, NFS4ERR_NOT_SAME otherwise; the caller maps them
 * (VERIFY: SAME → NFS4_OK, NOT_SAME stays an error; NVERIFY: NOT_SAME →
 * NFS4_OK, SAME stays an error). Other results are errors for both:
 *   NFS4ERR_ATTRNOTSUPP  an unsupported attribute, or time_create when this
 *                        object's creation time is unknown;
 *   NFS4ERR_INVAL        rdattr_error or a write-only attribute (time_*_set);
 *   NFS4ERR_BADXDR       attr_vals too short or with bytes left over;
 *   NFS4ERR_SERVERFAULT  src lacks what a requested attribute needs (fs, fh).
 * Owners compare by id, so "1000" matches the owner "alice@domain" whose uid
 * is 1000; bitmaps compare by their bits, ignoring trailing zero words.
 */
uint32_t nfs4_attr_compare(const struct fattr4 *in, const struct nfs4_attr_src *src);

/*
 * Attribute masks. A bitmap4 from the wire may have any number of words;
 * nfs4_attrmask_from_bitmap() keeps the first NFS4_ATTR_WORDS and reports
 * whether any later word had a bit set.
 */
bool nfs4_attrmask_from_bitmap(struct nfs4_attrmask *m, const bitmap4 *b);
/* Points b at m's words (valid while m lives), trailing zero words left off. */
void nfs4_attrmask_to_bitmap(struct nfs4_attrmask *m, bitmap4 *b);
/* Whether bit n of a wire bitmap is set (false beyond its words). */
bool nfs4_bitmap_isset(const bitmap4 *b, uint32_t n);

static inline bool nfs4_attrmask_isset(const struct nfs4_attrmask *m, uint32_t n)
{
	return n / 32 < NFS4_ATTR_WORDS && (m->w[n / 32] >> (n % 32) & 1);
}

static inline void nfs4_attrmask_set(struct nfs4_attrmask *m, uint32_t n)
{
	if (n / 32 < NFS4_ATTR_WORDS)
		m->w[n / 32] |= 1u << (n % 32);
}

static inline void nfs4_attrmask_clear(struct nfs4_attrmask *m, uint32_t n)
{
	if (n / 32 < NFS4_ATTR_WORDS)
		m->w[n / 32] &= ~(1u << (n % 32));
}

/* m &= other */
static inline void nfs4_attrmask_and(struct nfs4_attrmask *m, const struct nfs4_attrmask *other)
{
	for (int i = 0; i < NFS4_ATTR_WORDS; i++)
		m->w[i] &= other->w[i];
}

static inline bool nfs4_attrmask_empty(const struct nfs4_attrmask *m)
{
	for (int i = 0; i < NFS4_ATTR_WORDS; i++)
		if (m->w[i])
			return false;
	return true;
}

#endif
