/*
 * File handles of the vfs backend.
 *
 * Layout (host byte order: handles are only ever decoded by this host):
 *   off  0  u8   kind: VFS_FH_PERSISTENT or VFS_FH_VOLATILE
 *   off  1  u8   enum be_ftype of the object (checked again on every use)
 *   off  2  u16  zero
 *   off  4  i32  persistent: the kernel's file_handle.handle_type; volatile: 0
 *   off  8  u64  MAC: SipHash-2-4 under the export's key of bytes 0..7 and 16..len
 *   off 16       persistent: file_handle.f_handle (1..96 bytes, what
 *                name_to_handle_at returned); volatile: dev, ino, gen (3 x u64)
 *
 * Persistent mode (the process can call open_by_handle_at): the kernel's
 * handle is decoded with open_by_handle_at() on the export root (opened
 * O_RDONLY: the kernel ignores O_PATH fds there) as mount fd, so a handle of another filesystem is
 * decoded in this one and fails
 * (-ESTALE). The key lives in the export root's "trusted.nfs4d.fhkey" xattr
 * (created on first use; trusted.* is readable only with CAP_SYS_ADMIN), so it
 * survives restarts and local users cannot read it. What keeps a caller
 * inside the export:
 *   - only handles this export issued carry a valid MAC: a handle crafted for
 *     any other object (outside the export on the same filesystem, or a
 *     guessed inode/generation) is refused before the kernel sees it;
 *   - directories are additionally walked up by ".." to the export root
 *     (bounded by VFS_MAX_DEPTH), so a directory that was moved out of the
 *     export after its handle was issued is refused too. Non-directories
 *     cannot be walked (their dentry may be disconnected): a regular file
 *     moved out of the export by a local process stays reachable by its old
 *     handle, as with knfsd's no_subtree_check. Everything reached from it is
 *     the file itself, never a name outside.
 * Cost: the ".." walk is (depth x 2) syscalls; it is cached with the
 * directory's fd and repeated only when a directory may have moved (see
 * vfs_inside_gen() below).
 *
 * Resolved handles stay open as O_PATH fds in a bounded cache
 * (vfs_fdcache.h), so a known handle costs a hash probe and a statx. The
 * statx answers what reopening by handle did: an object whose last name is
 * gone (nlink 0: removed or replaced, by nfs4d or a local process) gives
 * -ESTALE and leaves the cache. A cached fd keeps such an object's inode, and
 * its disk space, until then, until nfs4d removes a name of it, or until it
 * is evicted.
 *
 * Volatile mode (no CAP_DAC_READ_SEARCH, a filesystem without export support
 * such as overlayfs, no trusted xattrs, or asked for): a handle names an entry
 * of an in-memory table (dev, ino) -> O_PATH fd learned at lookup/create time,
 * plus a generation number unique within this process. It loses:
 *   - validity across a restart: every handle goes stale (the key is random
 *     per process, so old handles fail the MAC check: -ESTALE);
 *   - validity after eviction: the table holds at most VFS_VTABLE_MAX objects
 *     (least recently used evicted first), each an open fd;
 *   - an unlinked object open by the table keeps its disk space until it is
 *     forgotten (REMOVE/RENAME through this backend forget it at once).
 * persistent_handles() says which mode is active.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "backend/vfs_internal.h"
#include "util/hash.h"
#include "util/log.h"

#define VFS_FH_PERSISTENT 0x50 /* 'P' */
#define VFS_FH_VOLATILE 0x56   /* 'V' */
#define VFS_FH_HDR 16
#define VFS_FH_KERNEL_MAX (BE_FH_MAX - VFS_FH_HDR)
#define VFS_FH_VOLATILE_LEN (VFS_FH_HDR + 24)
#define VFS_KEY_XATTR "trusted.nfs4d.fhkey"
#define VFS_VTABLE_BUCKETS 8192

/* ---- SipHash-2-4 (Aumasson & Bernstein), 64-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t siphash24(const uint8_t key[16], const uint8_t *in, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t fh_mac(const struct vfs_backend *vb, const struct be_fh *fh)
{
	uint8_t buf[BE_FH_MAX];

	memcpy(buf, fh->data, 8);
	memcpy(buf + 8, fh->data + VFS_FH_HDR, fh->len - VFS_FH_HDR);
	return siphash24(vb->key, buf, fh->len - 8);
}

static void fh_seal(const struct vfs_backend *vb, struct be_fh *fh)
{
	uint64_t mac = fh_mac(vb, fh);

	memcpy(fh->data + 8, &mac, 8);
}

/* Constant-time compare: the MAC must not leak how many bytes matched. */
static bool fh_mac_ok(const struct vfs_backend *vb, const struct be_fh *fh)
{
	uint64_t want = fh_mac(vb, fh), got;

	memcpy(&got, fh->data + 8, 8);
	return (want ^ got) == 0;
}

/* ---- volatile table ---- */

/*
 * (dev, ino) -> O_PATH fd. Entries are chained per bucket and on one LRU list
 * (most recent at head.next). Everything is under lock; entries are owned by
 * the table and freed when evicted, forgotten or at vfs_handle_fini().
 */
struct vfs_ventry {
	uint64_t dev;
	uint64_t ino;
	uint64_t gen;
	int fd;
	struct vfs_ventry *hnext;
	struct vfs_ventry *prev;
	struct vfs_ventry *next;
};

struct vfs_vtable {
	pthread_mutex_t lock;
	struct vfs_ventry *bucket[VFS_VTABLE_BUCKETS];
	struct vfs_ventry lru; /* sentinel */
	size_t count;
	uint64_t next_gen;
};

static size_t vt_bucket(uint64_t dev, uint64_t ino)
{
	return hash_u64(ino ^ hash_u64(dev)) % VFS_VTABLE_BUCKETS;
}

static struct vfs_ventry *vt_find(struct vfs_vtable *vt, uint64_t dev, uint64_t ino)
{
	for (struct vfs_ventry *e = vt->bucket[vt_bucket(dev, ino)]; e; e = e->hnext)
		if (e->dev == dev && e->ino == ino)
			return e;
	return NULL;
}

static void vt_lru_unlink(struct vfs_ventry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void vt_lru_front(struct vfs_vtable *vt, struct vfs_ventry *e)
{
	e->next = vt->lru.next;
	e->prev = &vt->lru;
	vt->lru.next->prev = e;
	vt->lru.next = e;
}

static void vt_remove(struct vfs_vtable *vt, struct vfs_ventry *e)
{
	struct vfs_ventry **pp = &vt->bucket[vt_bucket(e->dev, e->ino)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	vt_lru_unlink(e);
	vt->count--;
	close(e->fd);
	free(e);
}

/* The generation of (dev, ino), entering it with a duplicate of fd if new. */
static int vt_enter(struct vfs_vtable *vt, int fd, uint64_t dev, uint64_t ino, uint64_t *gen)
{
	struct vfs_ventry *e;
	int err = 0;

	pthread_mutex_lock(&vt->lock);
	e = vt_find(vt, dev, ino);
	if (e) {
		vt_lru_unlink(e);
		vt_lru_front(vt, e);
		*gen = e->gen;
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0) {
		err = -errno;
		free(e);
		goto out;
	}
	e->dev = dev;
	e->ino = ino;
	e->gen = ++vt->next_gen;
	size_t b = vt_bucket(dev, ino);
	e->hnext = vt->bucket[b];
	vt->bucket[b] = e;
	vt_lru_front(vt, e);
	vt->count++;
	*gen = e->gen;
	if (vt->count > VFS_VTABLE_MAX)
		vt_remove(vt, vt->lru.prev);
out:
	pthread_mutex_unlock(&vt->lock);
	return err;
}

/* A duplicate of the entry's fd, or -ESTALE. */
static int vt_open(struct vfs_vtable *vt, uint64_t dev, uint64_t ino, uint64_t gen)
{
	struct vfs_ventry *e;
	int fd = -ESTALE;

	pthread_mutex_lock(&vt->lock);
	e = vt_find(vt, dev, ino);
	if (e && e->gen == gen) {
		vt_lru_unlink(e);
		vt_lru_front(vt, e);
		fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&vt->lock);
	return fd;
}

/* The generation the table gave (dev, ino), if it knows it. */
static bool vt_gen(struct vfs_vtable *vt, uint64_t dev, uint64_t ino, uint64_t *gen)
{
	struct vfs_ventry *e;

	pthread_mutex_lock(&vt->lock);
	e = vt_find(vt, dev, ino);
	if (e)
		*gen = e->gen;
	pthread_mutex_unlock(&vt->lock);
	return e != NULL;
}

void vfs_handle_forget(struct vfs_backend *vb, uint64_t dev, uint64_t ino)
{
	struct vfs_vtable *vt = vb->vt;
	struct vfs_ventry *e;
	struct stat st;

	if (!vt)
		return;
	pthread_mutex_lock(&vt->lock);
	e = vt_find(vt, dev, ino);
	if (e && (fstat(e->fd, &st) != 0 || st.st_nlink == 0))
		vt_remove(vt, e);
	pthread_mutex_unlock(&vt->lock);
}

/* ---- handles ---- */

static uint64_t stx_dev(const struct statx *stx)
{
	return makedev(stx->stx_dev_major, stx->stx_dev_minor);
}

/* Fills out's kind and body with the kernel's handle of (dirfd, name, flags). */
static int fh_fill_persistent(struct vfs_backend *vb, int dirfd, const char *name, int flags,
			      struct be_fh *out)
{
	_Alignas(struct file_handle) unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	struct file_handle *h = (struct file_handle *)raw;
	int mnt_id, type;

	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dirfd, name, h, &mnt_id, flags) != 0)
		return errno == EOVERFLOW ? -ENAMETOOLONG : -errno;
	if (mnt_id != vb->mnt_id)
		return -EXDEV;
	if (h->handle_bytes == 0 || h->handle_bytes > VFS_FH_KERNEL_MAX)
		return -ENAMETOOLONG;
	out->data[0] = VFS_FH_PERSISTENT;
	type = h->handle_type;
	memcpy(out->data + 4, &type, 4);
	memcpy(out->data + VFS_FH_HDR, h->f_handle, h->handle_bytes);
	out->len = VFS_FH_HDR + h->handle_bytes;
	return 0;
}

static void fh_fill_volatile(struct be_fh *out, uint64_t dev, uint64_t ino, uint64_t gen)
{
	out->data[0] = VFS_FH_VOLATILE;
	memcpy(out->data + VFS_FH_HDR, &dev, 8);
	memcpy(out->data + VFS_FH_HDR + 8, &ino, 8);
	memcpy(out->data + VFS_FH_HDR + 16, &gen, 8);
	out->len = VFS_FH_VOLATILE_LEN;
}

int vfs_handle_make(struct vfs_backend *vb, int fd, const struct statx *stx, struct be_fh *out)
{
	uint64_t dev = stx_dev(stx), ino = stx->stx_ino, gen = 0;
	int err;

	if (dev != vb->root_dev)
		return -EXDEV; /* another filesystem mounted inside the export */
	memset(out, 0, sizeof(*out));
	out->data[1] = (uint8_t)vfs_ftype(stx->stx_mode);
	if (vb->persistent) {
		err = fh_fill_persistent(vb, fd, "", AT_EMPTY_PATH, out);
	} else {
		err = vt_enter(vb->vt, fd, dev, ino, &gen);
		if (!err)
			fh_fill_volatile(out, dev, ino, gen);
	}
	if (err)
		return err;
	fh_seal(vb, out);
	return 0;
}

int vfs_handle_check_inside(struct vfs_backend *vb, int fd, const struct statx *stx)
{
	uint64_t dev = stx_dev(stx), ino = stx->stx_ino;
	struct statx pst;
	int cur = fd, err = -ESTALE;

	/* On the server's authority: the caller may not search every directory above. */
	vfs_cred_leave(&vb->cred);
	for (int depth = 0; depth <= VFS_MAX_DEPTH; depth++) {
		if (dev == vb->root_dev && ino == vb->root_ino) {
			err = 0;
			break;
		}
		int parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (cur != fd)
			close(cur);
		cur = parent;
		if (cur < 0 || vfs_statx_fd(cur, &pst) != 0)
			break;
		if (stx_dev(&pst) == dev && pst.stx_ino == ino)
			break; /* ".." of the filesystem's (or the process's) root */
		dev = stx_dev(&pst);
		ino = pst.stx_ino;
	}
	if (cur >= 0 && cur != fd)
		close(cur);
	return err;
}

static int handle_decode(struct vfs_backend *vb, const struct be_fh *fh)
{
	if (vb->persistent) {
		_Alignas(struct file_handle) unsigned char
			raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
		struct file_handle *h = (struct file_handle *)raw;
		int type, fd;

		memcpy(&type, fh->data + 4, 4);
		h->handle_type = type;
		h->handle_bytes = fh->len - VFS_FH_HDR;
		memcpy(h->f_handle, fh->data + VFS_FH_HDR, h->handle_bytes);
		fd = open_by_handle_at(vb->mount_fd, h, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno
										     : -ESTALE;
		return fd;
	}
	uint64_t dev, ino, gen;

	memcpy(&dev, fh->data + VFS_FH_HDR, 8);
	memcpy(&ino, fh->data + VFS_FH_HDR + 8, 8);
	memcpy(&gen, fh->data + VFS_FH_HDR + 16, 8);
	return vt_open(vb->vt, dev, ino, gen);
}

/* Well-formed (-EBADF if not) and of this export's kind (-ESTALE if not); the MAC is apart. */
static int handle_check_form(struct vfs_backend *vb, const struct be_fh *fh)
{
	uint8_t kind;

	if (!fh || fh->len < VFS_FH_HDR + 1 || fh->len > BE_FH_MAX)
		return -EBADF;
	kind = fh->data[0];
	if (kind != VFS_FH_PERSISTENT && kind != VFS_FH_VOLATILE)
		return -EBADF;
	if (fh->data[1] < BE_REG || fh->data[1] > BE_FIFO || fh->data[2] || fh->data[3])
		return -EBADF;
	if (kind == VFS_FH_VOLATILE && fh->len != VFS_FH_VOLATILE_LEN)
		return -EBADF;
	if (kind != (vb->persistent ? VFS_FH_PERSISTENT : VFS_FH_VOLATILE))
		return -ESTALE;
	return 0;
}

/* The cache entry of fh, opening it by handle (as the server) if it is not cached. */
static int handle_lookup(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **ent)
{
	int fd;

	/* Only handles that passed the MAC check are ever cached: a hit needs no check. */
	*ent = vfs_fdcache_get(vb->fdc, fh);
	if (*ent)
		return 0;
	if (!fh_mac_ok(vb, fh))
		return -ESTALE; /* of another export or forged: not ours */
	vfs_cred_leave(&vb->cred);
	fd = handle_decode(vb, fh);
	if (fd < 0)
		return fd;
	*ent = vfs_fdcache_add(vb->fdc, fh, fd, 0);
	if (!*ent) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* vfs_handle_get(), and with seen_ok the statx may be one seen earlier in the request. */
static int handle_get(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **entp,
		      struct statx *stx, bool seen_ok)
{
	struct vfs_fdent *ent;
	bool fresh = false;
	int err = handle_check_form(vb, fh);

	/* Every operation comes here to see the file system (vfs_ncache.h). */
	vfs_ncache_saw_fs();
	if (!err)
		err = handle_lookup(vb, fh, &ent);
	if (err)
		return err;
	/*
	 * Fresh attributes on every use, and a cached fd may outlive its
	 * object's names — or, for a pure read, what this request saw of them
	 * (vfs_seen.c), checked again below as a fresh statx would be.
	 */
	if (!seen_ok || !vfs_seen_get(vb, fh, stx)) {
		err = vfs_statx_fd(ent->fd, stx);
		if (err)
			goto fail;
		fresh = true;
	}
	err = -ESTALE;
	if (stx_dev(stx) != vb->root_dev || (uint8_t)vfs_ftype(stx->stx_mode) != fh->data[1])
		goto fail;
	if (stx->stx_nlink == 0) {
		/* Removed (perhaps by a local process): the handle is stale for good. */
		vfs_handle_forget(vb, stx_dev(stx), stx->stx_ino);
		goto fail;
	}
	if (atomic_load(&ent->ino) != stx->stx_ino)
		atomic_store(&ent->ino, stx->stx_ino);
	if (S_ISDIR(stx->stx_mode)) {
		uint64_t gen = vfs_inside_gen();

		if (atomic_load(&ent->stamp) != gen) {
			err = vfs_handle_check_inside(vb, ent->fd, stx);
			if (err)
				goto fail;
			atomic_store(&ent->stamp, gen);
		}
	}
	if (seen_ok && fresh)
		vfs_seen_put(vb, fh, stx);
	*entp = ent;
	return 0;
fail:
	/* Only objects last seen valid stay cached. */
	vfs_fdcache_drop_ent(vb->fdc, ent);
	vfs_handle_put(ent);
	return err;
}

int vfs_handle_get(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **entp,
		   struct statx *stx)
{
	/* The caller may be about to change something: nothing seen before stays (vfs_seen.c). */
	vfs_seen_forget();
	return handle_get(vb, fh, entp, stx, false);
}

int vfs_handle_get_seen(struct vfs_backend *vb, const struct be_fh *fh, struct vfs_fdent **entp,
			struct statx *stx)
{
	return handle_get(vb, fh, entp, stx, true);
}

void vfs_handle_remember(struct vfs_backend *vb, const struct be_fh *fh, int fd, uint64_t gen,
			 const struct statx *stx)
{
	struct vfs_fdent *ent = vfs_fdcache_add(vb->fdc, fh, fd, gen);

	if (!ent) {
		close(fd);
		return;
	}
	if (stx)
		atomic_store(&ent->ino, stx->stx_ino);
	vfs_handle_put(ent);
}

struct vfs_fdent *vfs_handle_proven_dir(struct vfs_backend *vb, const struct be_fh *fh)
{
	struct vfs_fdent *ent;

	if (handle_check_form(vb, fh) != 0)
		return NULL;
	/* Only handles that passed the MAC check are cached, and the MAC covers the type. */
	ent = vfs_fdcache_get(vb->fdc, fh);
	if (ent && (fh->data[1] != BE_DIR || atomic_load(&ent->stamp) != vfs_inside_gen())) {
		vfs_handle_put(ent);
		ent = NULL;
	}
	return ent;
}

int vfs_handle_lookup_cached(struct vfs_backend *vb, int dfd, const char *name, uint64_t gen,
			     struct be_fh *out, struct statx *stx)
{
	struct vfs_fdent *ent;
	bool same;
	int err;

	/* Volatile handles are made by entering an open fd in their table. */
	if (!vb->persistent)
		return -EAGAIN;
	vfs_ncache_saw_fs();
	err = vfs_statx(dfd, name, AT_NO_AUTOMOUNT, stx);
	if (err)
		return err == -ENOENT ? err : -EAGAIN;
	if (stx_dev(stx) != vb->root_dev)
		return -EAGAIN; /* a mount point: open_child() says what it is */
	memset(out, 0, sizeof(*out));
	out->data[1] = (uint8_t)vfs_ftype(stx->stx_mode);
	/* Also refuses another mount of this filesystem (mount id), as RESOLVE_NO_XDEV does. */
	if (fh_fill_persistent(vb, dfd, name, 0, out) != 0)
		return -EAGAIN;
	fh_seal(vb, out);
	ent = vfs_fdcache_get(vb->fdc, out);
	if (!ent)
		return -EAGAIN;
	/*
	 * The name may have moved to another object between the statx and the
	 * handle: the handle's object, known by its cached fd, must be the one
	 * statx described.
	 */
	same = atomic_load(&ent->ino) == stx->stx_ino;
	/* A directory found by name in one proven inside is inside (it is not ".."). */
	if (same && S_ISDIR(stx->stx_mode))
		atomic_store(&ent->stamp, gen);
	vfs_handle_put(ent);
	if (!same)
		return -EAGAIN;
	/* The OPEN that looked it up checks access and answers GETATTR with it (vfs_seen.c). */
	vfs_seen_put(vb, out, stx);
	return 0;
}

void vfs_handle_found(struct vfs_backend *vb, const struct be_fh *fh, uint64_t gen)
{
	struct vfs_fdent *ent;

	if (fh->data[1] != BE_DIR)
		return;
	ent = vfs_fdcache_get(vb->fdc, fh);
	if (ent) {
		/* Usually so already (a path walked again): spare the barrier of a store. */
		if (atomic_load(&ent->stamp) != gen)
			atomic_store(&ent->stamp, gen);
		vfs_handle_put(ent);
	}
}

void vfs_handle_unlinked(struct vfs_backend *vb, int dfd, const char *name, const struct statx *stx)
{
	uint64_t dev = stx_dev(stx), gen = 0;
	struct be_fh fh = {.len = 0};

	/* The handle it had, built as vfs_handle_make does but entering nothing anywhere. */
	fh.data[1] = (uint8_t)vfs_ftype(stx->stx_mode);
	if (vb->persistent) {
		/* By name: the caller still holds the name, or another object took it (no harm). */
		if (fh_fill_persistent(vb, dfd, name, 0, &fh) != 0)
			return;
	} else {
		if (!vt_gen(vb->vt, dev, stx->stx_ino, &gen))
			return;
		fh_fill_volatile(&fh, dev, stx->stx_ino, gen);
	}
	fh_seal(vb, &fh);
	vfs_fdcache_drop(vb->fdc, &fh);
}

/*
 * "Inside the export" verdicts. A directory's walk up to the root is cached
 * with its fd, stamped with this generation; the stamp is good while the
 * generation stays. It advances when nfs4d renames a directory (through any
 * export: exports may nest) and at least every VFS_INSIDE_TTL_MS. A local
 * process that moves a directory out of the export is not seen at once: its
 * handles keep working for at most that long, then are refused (-ESTALE).
 * knfsd with its default no_subtree_check never refuses them; non-directory
 * handles are never walked (vfs_handle.c's comment at the top).
 */
static _Atomic uint64_t inside_gen = 1;
static _Atomic uint64_t inside_tick_ms;

uint64_t vfs_inside_gen(void)
{
	struct timespec ts;
	uint64_t now, tick;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	tick = atomic_load(&inside_tick_ms);
	if (now - tick >= VFS_INSIDE_TTL_MS &&
	    atomic_compare_exchange_strong(&inside_tick_ms, &tick, now))
		atomic_fetch_add(&inside_gen, 1);
	return atomic_load(&inside_gen);
}

void vfs_inside_moved(void)
{
	atomic_fetch_add(&inside_gen, 1);
}

/* ---- setup ---- */

/* The export's MAC key from the root's trusted xattr, created on first use. */
static int key_load(struct vfs_backend *vb)
{
	char path[32];
	uint8_t key[VFS_KEY_LEN];
	ssize_t n;

	vfs_proc_path(vb->root_fd, path);
	for (int tries = 0; tries < 2; tries++) {
		n = getxattr(path, VFS_KEY_XATTR, vb->key, sizeof(vb->key));
		if (n == VFS_KEY_LEN)
			return 0;
		if (n >= 0)
			return -EINVAL; /* something else wrote that name */
		if (errno != ENODATA)
			return -errno;
		if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
			return -EIO;
		if (setxattr(path, VFS_KEY_XATTR, key, sizeof(key), XATTR_CREATE) == 0) {
			memcpy(vb->key, key, sizeof(key));
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
		/* Another nfs4d created it first: read theirs. */
	}
	return -EIO;
}

/* 0 when handles of this export can be persistent; else why not. */
static int persistent_probe(struct vfs_backend *vb)
{
	_Alignas(struct file_handle) unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	struct file_handle *h = (struct file_handle *)raw;
	int fd;

	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(vb->root_fd, "", h, &vb->mnt_id, AT_EMPTY_PATH) != 0)
		return -errno;
	if (h->handle_bytes > VFS_FH_KERNEL_MAX)
		return -EOVERFLOW;
	/* The mount fd must be a real open file: the kernel ignores O_PATH fds there. */
	vb->mount_fd = openat(vb->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (vb->mount_fd < 0)
		return -errno;
	fd = open_by_handle_at(vb->mount_fd, h, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* EPERM: no CAP_DAC_READ_SEARCH */
	close(fd);
	return key_load(vb);
}

/* The cache's cap: its fds must leave room for connections and everything else. */
static size_t fdcache_cap(void)
{
	struct rlimit rl;
	size_t cap = VFS_FDCACHE_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < cap)
		cap = rl.rlim_cur / 4;
	return cap;
}

int vfs_handle_init(struct vfs_backend *vb, bool want_persistent)
{
	struct statx stx;
	int err;

	err = vfs_fdcache_create(fdcache_cap(), &vb->fdc);
	if (err)
		return err;
	/* The probe opens by handle: this thread may still have a caller's identity. */
	vfs_cred_leave(&vb->cred);
	err = vfs_statx_fd(vb->root_fd, &stx);
	if (err)
		return err;
	vb->root_dev = stx_dev(&stx);
	vb->root_ino = stx.stx_ino;
	vb->persistent = false;
	if (want_persistent) {
		err = persistent_probe(vb);
		if (err == 0) {
			vb->persistent = true;
		} else {
			if (vb->mount_fd >= 0)
				close(vb->mount_fd);
			vb->mount_fd = -1;
			log_warn("vfs", "volatile file handles: persistent ones unavailable (%s)",
				 strerror(-err));
		}
	}
	if (!vb->persistent) {
		vb->vt = calloc(1, sizeof(*vb->vt));
		if (!vb->vt)
			return -ENOMEM;
		pthread_mutex_init(&vb->vt->lock, NULL);
		vb->vt->lru.next = vb->vt->lru.prev = &vb->vt->lru;
		if (getrandom(vb->key, sizeof(vb->key), 0) != (ssize_t)sizeof(vb->key))
			return -EIO;
	}
	return vfs_handle_make(vb, vb->root_fd, &stx, &vb->root_fh);
}

void vfs_handle_fini(struct vfs_backend *vb)
{
	struct vfs_vtable *vt = vb->vt;

	vfs_fdcache_destroy(vb->fdc);
	vb->fdc = NULL;
	if (!vt)
		return;
	while (vt->lru.next != &vt->lru)
		vt_remove(vt, vt->lru.next);
	pthread_mutex_destroy(&vt->lock);
	free(vt);
	vb->vt = NULL;
}
