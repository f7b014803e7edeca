/*
 * The mem backend: an in-memory POSIX tree with the semantics of an ext4
 * directory exported through the vfs backend (see backend.h), for tests and
 * protocol benchmarks.
 *
 * Objects:
 *  - struct mem_inode: one per file of any type, found by its inode number in
 *    be->inodes[]. It lives while its link count is not zero: directory
 *    entries are the only references (the interface has no open files), so
 *    the last unlink frees it at once and its handle becomes -ESTALE.
 *    Freed inode numbers are reused (LIFO), with a new generation number.
 *  - struct mem_dirent: a name in a directory. A directory keeps its entries
 *    in insertion order in ents[] (removed ones leave a NULL hole until the
 *    array is compacted) and in a name hash. Each entry gets the directory's
 *    next cookie (3, 4, 5, …) when added, so the cookie of an entry that
 *    survives stays valid whatever else is added or removed, and the readdir
 *    verifier never changes.
 *  - A handle is {magic, generation, instance, inode number}: another
 *    instance's handle or a dead generation is -ESTALE, a wrong size or magic
 *    is -EBADF.
 *
 * Locking: one rwlock, be->lock, protects everything. Operations that change
 * nothing (getattr, lookup, lookupp, access, read, readlink, readdir,
 * statfs) take it shared, everything else exclusive. Reads do not update
 * atime (like a noatime mount), so they really change nothing. readdir calls
 * its callback with the lock dropped.
 *
 * Durability: nothing outlives the process, so there is nothing to sync.
 * WRITE answers FILE_SYNC4 and COMMIT only checks its handle: the data is as
 * stable as it will ever be, and after a restart every handle is another
 * instance's (-ESTALE), so no client can believe it kept data it did not.
 *
 * Permission checks follow the kernel's generic_permission() and the
 * may_delete()/may_create()/setattr_prepare() rules for a caller whose
 * capabilities are those of root when uid is 0 and none otherwise; hard links
 * follow fs.protected_hardlinks=1 (the default on Debian).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/mem.h"
#include "util/hash.h"

#define MEM_FH_MAGIC 0x4d454d31u      /* "MEM1" */
#define MEM_ROOT_INO 2		      /* like ext4's root */
#define MEM_MAX_FILESIZE (1ull << 44) /* 16 TiB, like ext4 with 4 KiB blocks */
#define MEM_BLOCK 4096u		      /* space_used granularity, directory size */
#define MEM_INODE_COST 256u	      /* charged per inode against the limit */
#define MEM_DIRENT_COST 64u	      /* charged per entry, plus its name */
#define MEM_READDIR_BATCH 32	      /* entries copied out per lock hold */
#define MEM_MODE_MASK 07777u

#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4

struct mem_inode;

struct mem_dirent {
	struct mem_dirent *hnext; /* name hash chain */
	struct mem_inode *inode;
	uint64_t cookie;
	uint32_t namelen;
	char name[]; /* NUL-terminated */
};

struct mem_dir {
	struct mem_inode *parent; /* the root points to itself */
	struct mem_dirent **ents; /* insertion (= cookie) order; NULL where removed */
	uint64_t *cookies;	  /* cookies[i] == ents[i]->cookie, kept for removed slots too */
	size_t nents;		  /* slots used in ents[] */
	size_t cap;		  /* slots allocated */
	size_t nlive;		  /* entries that are not NULL */
	uint64_t next_cookie;	  /* starts at 3 */
	struct mem_dirent **hash; /* nbuckets chains */
	size_t nbuckets;	  /* power of two, 0 until the first entry */
};

struct mem_reg {
	uint8_t *data;
	size_t alloc; /* bytes allocated (charged) */
	size_t dlen;  /* bytes of data valid; [dlen, size) reads as zeros */
};

struct mem_inode {
	uint64_t ino;
	uint32_t gen;
	enum be_ftype type;
	uint32_t mode; /* 07777 bits */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev_major;
	uint32_t rdev_minor;
	uint64_t size;
	uint64_t change;
	struct timespec atime, mtime, ctime, btime;
	union {
		struct mem_dir dir;
		struct mem_reg reg;
		char *target; /* BE_LNK: NUL-terminated, size == strlen */
	} u;
};

struct mem_backend {
	struct backend base;
	pthread_rwlock_t lock;
	/* Fixed at creation: */
	uint64_t instance;
	char *name;
	uint32_t max_link;
	/* Under lock: */
	uint64_t limit;
	uint64_t used;		   /* bytes charged against limit */
	struct mem_inode **inodes; /* by inode number; NULL when free */
	size_t ninodes;		   /* slots in inodes[] */
	uint64_t next_ino;	   /* lowest never-used number */
	uint64_t *free_inos;	   /* stack of freed numbers */
	size_t nfree, free_cap;
	uint64_t nfiles; /* live inodes */
	uint32_t next_gen;
	uint64_t change_seq; /* last change value handed out */
};

struct mem_fh_wire {
	uint32_t magic;
	uint32_t gen;
	uint64_t instance;
	uint64_t ino;
};

static struct mem_backend *mem_be(struct backend *be)
{
	return (struct mem_backend *)be;
}

static struct timespec mem_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* ---- memory accounting ---- */

static int mem_charge(struct mem_backend *m, uint64_t bytes)
{
	if (bytes > m->limit || m->used > m->limit - bytes)
		return -ENOSPC;
	m->used += bytes;
	return 0;
}

static void mem_uncharge(struct mem_backend *m, uint64_t bytes)
{
	m->used -= bytes;
}

/* ---- permissions (the kernel's generic_permission and friends) ---- */

static bool mem_in_group(const struct be_cred *cred, uint32_t gid)
{
	uint32_t n = cred->ngroups < BE_MAX_GROUPS ? cred->ngroups : BE_MAX_GROUPS;

	if (cred->gid == gid)
		return true;
	for (uint32_t i = 0; i < n; i++)
		if (cred->groups[i] == gid)
			return true;
	return false;
}

static bool mem_is_root(const struct be_cred *cred)
{
	return cred->uid == 0;
}

/* mask: MAY_READ | MAY_WRITE | MAY_EXEC. 0 or -EACCES. */
static int mem_permission(const struct be_cred *cred, const struct mem_inode *ip, int mask)
{
	uint32_t mode = ip->mode;

	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	if (mem_is_root(cred)) {
		/* CAP_DAC_OVERRIDE: all but executing a file that nobody may execute. */
		if (!(mask & MAY_EXEC) || ip->type == BE_DIR || (mode & 0111))
			return 0;
		return -EACCES;
	}
	if (cred->uid == ip->uid)
		mode >>= 6;
	else if (mem_in_group(cred, ip->gid))
		mode >>= 3;
	return (mask & ~mode & 7) ? -EACCES : 0;
}

static bool mem_owner_or_root(const struct be_cred *cred, const struct mem_inode *ip)
{
	return mem_is_root(cred) || cred->uid == ip->uid;
}

/* may_delete()'s sticky-directory rule. */
static int mem_check_sticky(const struct be_cred *cred, const struct mem_inode *dir,
			    const struct mem_inode *victim)
{
	if (!(dir->mode & S_ISVTX))
		return 0;
	if (cred->uid == victim->uid || cred->uid == dir->uid || mem_is_root(cred))
		return 0;
	return -EPERM;
}

/* may_delete(): w+x on the directory, sticky bit, type of the victim. */
static int mem_may_delete(const struct be_cred *cred, const struct mem_inode *dir,
			  const struct mem_inode *victim, int isdir)
{
	int err = mem_permission(cred, dir, MAY_WRITE | MAY_EXEC);

	if (err)
		return err;
	err = mem_check_sticky(cred, dir, victim);
	if (err)
		return err;
	if (isdir > 0 && victim->type != BE_DIR)
		return -ENOTDIR;
	if (isdir == 0 && victim->type == BE_DIR)
		return -EISDIR;
	return 0;
}

/* The kernel's file_remove_privs()/should_remove_suid() for a write or truncate. */
static void mem_kill_suid(const struct be_cred *cred, struct mem_inode *ip)
{
	if (mem_is_root(cred))
		return;
	ip->mode &= ~(uint32_t)S_ISUID;
	if ((ip->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		ip->mode &= ~(uint32_t)S_ISGID;
}

static int mem_check_name(const char *name)
{
	size_t len;

	if (!name || !name[0])
		return -EINVAL;
	len = strnlen(name, BE_NAME_MAX + 1);
	if (len > BE_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len))
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return 0;
}

/* ---- change and times ---- */

static void mem_bump(struct mem_backend *m, struct mem_inode *ip, const struct timespec *now)
{
	ip->change = ++m->change_seq;
	ip->ctime = *now;
}

static void mem_bump_mtime(struct mem_backend *m, struct mem_inode *ip, const struct timespec *now)
{
	mem_bump(m, ip, now);
	ip->mtime = *now;
}

/* ---- handles and the inode table ---- */

static void mem_fh_make(const struct mem_backend *m, const struct mem_inode *ip, struct be_fh *fh)
{
	struct mem_fh_wire w = {
		.magic = MEM_FH_MAGIC, .gen = ip->gen, .instance = m->instance, .ino = ip->ino};

	memset(fh, 0, sizeof(*fh));
	fh->len = sizeof(w);
	memcpy(fh->data, &w, sizeof(w));
}

static int mem_fh_resolve(const struct mem_backend *m, const struct be_fh *fh,
			  struct mem_inode **out)
{
	struct mem_fh_wire w;
	struct mem_inode *ip;

	if (!fh || fh->len != sizeof(w))
		return -EBADF;
	memcpy(&w, fh->data, sizeof(w));
	if (w.magic != MEM_FH_MAGIC)
		return -EBADF;
	if (w.instance != m->instance || w.ino >= m->ninodes)
		return -ESTALE;
	ip = m->inodes[w.ino];
	if (!ip || ip->gen != w.gen)
		return -ESTALE;
	*out = ip;
	return 0;
}

static int mem_fh_resolve_dir(const struct mem_backend *m, const struct be_fh *fh,
			      struct mem_inode **out)
{
	int err = mem_fh_resolve(m, fh, out);

	if (err)
		return err;
	return (*out)->type == BE_DIR ? 0 : -ENOTDIR;
}

/* A new inode, not yet in any directory (nlink 0) but in the table. */
static int mem_inode_new(struct mem_backend *m, enum be_ftype type, struct mem_inode **out)
{
	struct mem_inode *ip;
	struct timespec now = mem_now();
	uint64_t ino;

	if (mem_charge(m, MEM_INODE_COST))
		return -ENOSPC;
	ip = calloc(1, sizeof(*ip));
	if (!ip)
		goto nospc;
	if (m->nfree > 0) {
		ino = m->free_inos[--m->nfree];
	} else {
		if (m->next_ino >= m->ninodes) {
			size_t n = m->ninodes ? m->ninodes * 2 : 64;
			struct mem_inode **t = realloc(m->inodes, n * sizeof(*t));

			if (!t) {
				free(ip);
				goto nospc;
			}
			memset(t + m->ninodes, 0, (n - m->ninodes) * sizeof(*t));
			m->inodes = t;
			m->ninodes = n;
		}
		ino = m->next_ino++;
	}
	ip->ino = ino;
	ip->gen = ++m->next_gen;
	ip->type = type;
	ip->atime = ip->mtime = ip->ctime = ip->btime = now;
	ip->change = ++m->change_seq;
	if (type == BE_DIR)
		ip->u.dir.next_cookie = 3;
	m->inodes[ino] = ip;
	m->nfiles++;
	*out = ip;
	return 0;
nospc:
	mem_uncharge(m, MEM_INODE_COST);
	return -ENOSPC;
}

/* Frees an inode whose last name is gone (directories: empty). */
static void mem_inode_free(struct mem_backend *m, struct mem_inode *ip)
{
	switch (ip->type) {
	case BE_REG:
		mem_uncharge(m, ip->u.reg.alloc);
		free(ip->u.reg.data);
		break;
	case BE_LNK:
		mem_uncharge(m, ip->size + 1);
		free(ip->u.target);
		break;
	case BE_DIR:
		free(ip->u.dir.ents);
		free(ip->u.dir.cookies);
		free(ip->u.dir.hash);
		break;
	default:
		break;
	}
	m->inodes[ip->ino] = NULL;
	m->nfiles--;
	/* The stack was sized for every number handed out, so this cannot fail. */
	m->free_inos[m->nfree++] = ip->ino;
	mem_uncharge(m, MEM_INODE_COST);
	free(ip);
}

/* Room on the free-number stack for every number in use, so freeing never fails. */
static int mem_reserve_free_slot(struct mem_backend *m)
{
	if (m->free_cap < m->next_ino + 1) {
		size_t n = m->free_cap ? m->free_cap * 2 : 64;
		uint64_t *t;

		while (n < m->next_ino + 1)
			n *= 2;
		t = realloc(m->free_inos, n * sizeof(*t));
		if (!t)
			return -ENOSPC;
		m->free_inos = t;
		m->free_cap = n;
	}
	return 0;
}

/* ---- directories ---- */

static size_t mem_name_bucket(const struct mem_dir *d, const char *name, size_t len)
{
	return (size_t)hash_bytes(name, len, 0) & (d->nbuckets - 1);
}

static struct mem_dirent *mem_dir_find(const struct mem_inode *dir, const char *name)
{
	const struct mem_dir *d = &dir->u.dir;
	size_t len = strlen(name);

	if (d->nbuckets == 0)
		return NULL;
	for (struct mem_dirent *e = d->hash[mem_name_bucket(d, name, len)]; e; e = e->hnext)
		if (e->namelen == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

/*
 * The first steps of every operation on a name in a directory, in the order
 * the conformance tests expect their errors: dirfh must be a directory, name
 * a valid component, and the caller needs search permission on the directory.
 */
static int mem_dir_search(const struct mem_backend *m, const struct be_cred *cred,
			  const struct be_fh *dirfh, const char *name, struct mem_inode **dir)
{
	int err = mem_fh_resolve_dir(m, dirfh, dir);

	if (!err)
		err = mem_check_name(name);
	if (!err)
		err = mem_permission(cred, *dir, MAY_EXEC);
	return err;
}

/* mem_dir_search(), then the entry of name: -ENOENT when there is none. */
static int mem_dir_entry(const struct mem_backend *m, const struct be_cred *cred,
			 const struct be_fh *dirfh, const char *name, struct mem_inode **dir,
			 struct mem_dirent **e)
{
	int err = mem_dir_search(m, cred, dirfh, name, dir);

	if (err)
		return err;
	*e = mem_dir_find(*dir, name);
	return *e ? 0 : -ENOENT;
}

/* mem_dir_search() for a name about to be added: -EEXIST when it is taken. */
static int mem_dir_new_name(const struct mem_backend *m, const struct be_cred *cred,
			    const struct be_fh *dirfh, const char *name, struct mem_inode **dir)
{
	int err = mem_dir_search(m, cred, dirfh, name, dir);

	if (err)
		return err;
	return mem_dir_find(*dir, name) ? -EEXIST : 0;
}

static void mem_dir_compact(struct mem_dir *d)
{
	size_t j = 0;

	for (size_t i = 0; i < d->nents; i++) {
		if (!d->ents[i])
			continue;
		d->ents[j] = d->ents[i];
		d->cookies[j] = d->cookies[i];
		j++;
	}
	d->nents = j;
}

/*
 * Makes sure one more entry can be added without allocating: the step that
 * can fail, done before an operation changes anything.
 */
static int mem_dir_reserve(struct mem_inode *dir)
{
	struct mem_dir *d = &dir->u.dir;

	if (d->nents - d->nlive > d->nlive + 16)
		mem_dir_compact(d);
	if (d->nents == d->cap) {
		size_t n = d->cap ? d->cap * 2 : 16;
		struct mem_dirent **e = realloc(d->ents, n * sizeof(*e));
		uint64_t *c;

		if (!e)
			return -ENOSPC;
		d->ents = e;
		c = realloc(d->cookies, n * sizeof(*c));
		if (!c)
			return -ENOSPC;
		d->cookies = c;
		d->cap = n;
	}
	if (d->nlive + 1 > d->nbuckets) {
		size_t n = d->nbuckets ? d->nbuckets * 2 : 16;
		struct mem_dirent **h = calloc(n, sizeof(*h));

		if (!h)
			return -ENOSPC;
		for (size_t i = 0; i < d->nbuckets; i++) {
			struct mem_dirent *e = d->hash[i], *next;

			for (; e; e = next) {
				size_t b = (size_t)hash_bytes(e->name, e->namelen, 0) & (n - 1);

				next = e->hnext;
				e->hnext = h[b];
				h[b] = e;
			}
		}
		free(d->hash);
		d->hash = h;
		d->nbuckets = n;
	}
	return 0;
}

static int mem_dirent_new(struct mem_backend *m, const char *name, struct mem_dirent **out)
{
	size_t len = strlen(name);
	struct mem_dirent *e;

	if (mem_charge(m, MEM_DIRENT_COST + len))
		return -ENOSPC;
	e = malloc(sizeof(*e) + len + 1);
	if (!e) {
		mem_uncharge(m, MEM_DIRENT_COST + len);
		return -ENOSPC;
	}
	memcpy(e->name, name, len + 1);
	e->namelen = (uint32_t)len;
	e->inode = NULL;
	e->hnext = NULL;
	e->cookie = 0;
	*out = e;
	return 0;
}

static void mem_dirent_free(struct mem_backend *m, struct mem_dirent *e)
{
	mem_uncharge(m, MEM_DIRENT_COST + e->namelen);
	free(e);
}

/* Adds e (from mem_dirent_new) after mem_dir_reserve() succeeded: cannot fail. */
static void mem_dir_add(struct mem_inode *dir, struct mem_dirent *e, struct mem_inode *ip)
{
	struct mem_dir *d = &dir->u.dir;
	size_t b = mem_name_bucket(d, e->name, e->namelen);

	e->inode = ip;
	e->cookie = d->next_cookie++;
	e->hnext = d->hash[b];
	d->hash[b] = e;
	d->ents[d->nents] = e;
	d->cookies[d->nents] = e->cookie;
	d->nents++;
	d->nlive++;
}

/* Index of the first slot whose cookie is above cookie. */
static size_t mem_dir_seek(const struct mem_dir *d, uint64_t cookie)
{
	size_t lo = 0, hi = d->nents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->cookies[mid] <= cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Unhashes e and leaves a hole in ents[]; the caller frees e. */
static void mem_dir_del(struct mem_inode *dir, struct mem_dirent *e)
{
	struct mem_dir *d = &dir->u.dir;
	struct mem_dirent **pp = &d->hash[mem_name_bucket(d, e->name, e->namelen)];
	size_t i;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	i = mem_dir_seek(d, e->cookie - 1);
	d->ents[i] = NULL;
	d->nlive--;
}

/* Drops one name of ip (its entry is already gone); frees ip with its last name. */
static void mem_drop_link(struct mem_backend *m, struct mem_inode *ip, const struct timespec *now)
{
	if (ip->type == BE_DIR) {
		/* Empty: its own "." and its name go together. */
		ip->u.dir.parent->nlink--;
		ip->nlink = 0;
	} else {
		ip->nlink--;
	}
	if (ip->nlink == 0)
		mem_inode_free(m, ip);
	else
		mem_bump(m, ip, now);
}

static bool mem_is_ancestor(const struct mem_inode *anc, const struct mem_inode *dir)
{
	for (;;) {
		if (dir == anc)
			return true;
		if (dir->u.dir.parent == dir)
			return false;
		dir = dir->u.dir.parent;
	}
}

/* ---- attributes ---- */

static uint64_t mem_space_used(const struct mem_inode *ip)
{
	switch (ip->type) {
	case BE_REG:
		return ((uint64_t)ip->u.reg.dlen + MEM_BLOCK - 1) / MEM_BLOCK * MEM_BLOCK;
	case BE_DIR:
		return MEM_BLOCK;
	default:
		return 0;
	}
}

static void mem_fill_attr(const struct mem_backend *m, const struct mem_inode *ip,
			  struct be_attr *a)
{
	if (!a)
		return;
	memset(a, 0, sizeof(*a));
	a->type = ip->type;
	a->mode = ip->mode & MEM_MODE_MASK;
	a->nlink = ip->nlink;
	a->uid = ip->uid;
	a->gid = ip->gid;
	a->size = ip->type == BE_DIR ? MEM_BLOCK : ip->size;
	a->space_used = mem_space_used(ip);
	a->rdev_major = ip->rdev_major;
	a->rdev_minor = ip->rdev_minor;
	a->fsid_major = m->instance;
	a->fsid_minor = 0;
	a->fileid = ip->ino;
	a->change = ip->change;
	a->atime = ip->atime;
	a->mtime = ip->mtime;
	a->ctime = ip->ctime;
	a->btime = ip->btime;
}

static bool mem_ts_valid(const struct timespec *ts)
{
	return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

/* setattr_prepare(): may cred make these changes to ip? Changes nothing. */
static int mem_setattr_check(const struct be_cred *cred, const struct mem_inode *ip,
			     const struct be_sattr *sa)
{
	uint32_t mask = sa->mask;

	if ((mask & BE_SET_ATIME && !mem_ts_valid(&sa->atime)) ||
	    (mask & BE_SET_MTIME && !mem_ts_valid(&sa->mtime)))
		return -EINVAL;
	if (mask & BE_SET_SIZE) {
		if (ip->type == BE_DIR)
			return -EISDIR;
		if (ip->type != BE_REG)
			return -EINVAL;
		if (sa->size > MEM_MAX_FILESIZE)
			return -EFBIG;
	}
	/* chown_ok(): the owner may "change" the uid to itself; root anything. */
	if ((mask & BE_SET_UID) && !mem_is_root(cred) &&
	    !(cred->uid == ip->uid && sa->uid == ip->uid))
		return -EPERM;
	/* chgrp_ok(): the owner to a group it is in (or the same group); root anything. */
	if ((mask & BE_SET_GID) && !mem_is_root(cred) &&
	    !(cred->uid == ip->uid && (sa->gid == ip->gid || mem_in_group(cred, sa->gid))))
		return -EPERM;
	if ((mask & BE_SET_MODE) && !mem_owner_or_root(cred, ip))
		return -EPERM;
	if ((mask & (BE_SET_ATIME | BE_SET_MTIME)) && !mem_owner_or_root(cred, ip))
		return -EPERM;
	if ((mask & (BE_SET_ATIME_NOW | BE_SET_MTIME_NOW)) && !mem_owner_or_root(cred, ip) &&
	    mem_permission(cred, ip, MAY_WRITE))
		return -EACCES;
	if (mask & BE_SET_SIZE)
		return mem_permission(cred, ip, MAY_WRITE);
	return 0;
}

/* Resizes a regular file's data; only growing the allocation can fail. */
static int mem_reg_reserve(struct mem_backend *m, struct mem_inode *ip, uint64_t need)
{
	struct mem_reg *r = &ip->u.reg;
	size_t want, exact;
	uint8_t *p;

	if (need <= r->alloc)
		return 0;
	if (need > MEM_MAX_FILESIZE || need > m->limit)
		return -ENOSPC;
	exact = (size_t)((need + MEM_BLOCK - 1) / MEM_BLOCK * MEM_BLOCK);
	want = r->alloc * 2 > exact ? r->alloc * 2 : exact;
	if (mem_charge(m, want - r->alloc)) {
		want = exact;
		if (mem_charge(m, want - r->alloc))
			return -ENOSPC;
	}
	p = realloc(r->data, want);
	if (!p) {
		mem_uncharge(m, want - r->alloc);
		return -ENOSPC;
	}
	r->data = p;
	r->alloc = want;
	return 0;
}

static void mem_reg_truncate(struct mem_backend *m, struct mem_inode *ip, uint64_t size)
{
	struct mem_reg *r = &ip->u.reg;

	if (size < r->dlen)
		r->dlen = (size_t)size;
	if (size == 0) {
		free(r->data);
		mem_uncharge(m, r->alloc);
		r->data = NULL;
		r->alloc = 0;
	} else if (size < r->alloc / 2) {
		size_t want = (size_t)((size + MEM_BLOCK - 1) / MEM_BLOCK * MEM_BLOCK);
		uint8_t *p = realloc(r->data, want);

		if (p) {
			mem_uncharge(m, r->alloc - want);
			r->data = p;
			r->alloc = want;
		}
	}
	ip->size = size;
}

/* notify_change() after mem_setattr_check() said yes: cannot fail. */
static void mem_setattr_apply(struct mem_backend *m, const struct be_cred *cred,
			      struct mem_inode *ip, const struct be_sattr *sa,
			      const struct timespec *now)
{
	uint32_t mask = sa->mask;

	if (!mask)
		return;
	if (mask & BE_SET_SIZE) {
		if (sa->size != ip->size) {
			mem_reg_truncate(m, ip, sa->size);
			ip->mtime = *now;
		}
		mem_kill_suid(cred, ip);
	}
	if (mask & (BE_SET_UID | BE_SET_GID)) {
		/*
		 * chown_common(): for non-directories, ATTR_KILL_SUID, and
		 * setattr_should_drop_sgid() judged on the old owner and group.
		 */
		if (ip->type != BE_DIR) {
			ip->mode &= ~(uint32_t)S_ISUID;
			if ((ip->mode & S_ISGID) &&
			    ((ip->mode & S_IXGRP) ||
			     (!mem_is_root(cred) && !mem_in_group(cred, ip->gid))))
				ip->mode &= ~(uint32_t)S_ISGID;
		}
		if (mask & BE_SET_UID)
			ip->uid = sa->uid;
		if (mask & BE_SET_GID)
			ip->gid = sa->gid;
	}
	if (mask & BE_SET_MODE) {
		uint32_t mode = sa->mode & MEM_MODE_MASK;

		if (!mem_is_root(cred) && !mem_in_group(cred, ip->gid))
			mode &= ~(uint32_t)S_ISGID;
		ip->mode = mode;
	}
	if (mask & BE_SET_ATIME)
		ip->atime = sa->atime;
	else if (mask & BE_SET_ATIME_NOW)
		ip->atime = *now;
	if (mask & BE_SET_MTIME)
		ip->mtime = sa->mtime;
	else if (mask & BE_SET_MTIME_NOW)
		ip->mtime = *now;
	mem_bump(m, ip, now);
}

/* ---- operations ---- */

static int mem_root(struct backend *be, struct be_fh *out)
{
	struct mem_backend *m = mem_be(be);

	pthread_rwlock_rdlock(&m->lock);
	mem_fh_make(m, m->inodes[MEM_ROOT_INO], out);
	pthread_rwlock_unlock(&m->lock);
	return 0;
}

static int mem_getattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		       struct be_attr *out)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err)
		mem_fill_attr(m, ip, out);
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_setattr(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		       const struct be_sattr *sattr, struct be_attr *out)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct mem_inode *ip;
	int err;

	pthread_rwlock_wrlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (err)
		goto out;
	err = mem_setattr_check(cred, ip, sattr);
	if (err)
		goto out;
	mem_setattr_apply(m, cred, ip, sattr, &now);
	mem_fill_attr(m, ip, out);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_lookup(struct backend *be, const struct be_cred *cred, const struct be_fh *dirfh,
		      const char *name, struct be_fh *out, struct be_attr *attr)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *dir;
	struct mem_dirent *e;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_dir_entry(m, cred, dirfh, name, &dir, &e);
	if (err)
		goto out;
	mem_fh_make(m, e->inode, out);
	mem_fill_attr(m, e->inode, attr);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_lookupp(struct backend *be, const struct be_cred *cred, const struct be_fh *dirfh,
		       struct be_fh *out, struct be_attr *attr)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *dir;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve_dir(m, dirfh, &dir);
	if (err)
		goto out;
	err = mem_permission(cred, dir, MAY_EXEC);
	if (err)
		goto out;
	if (dir->ino == MEM_ROOT_INO) {
		err = -ENOENT;
		goto out;
	}
	mem_fh_make(m, dir->u.dir.parent, out);
	mem_fill_attr(m, dir->u.dir.parent, attr);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_access(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      int mode)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err)
		err = mem_permission(cred, ip, mode);
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_check_rw(const struct be_cred *cred, const struct mem_inode *ip, int may)
{
	if (ip->type == BE_DIR)
		return -EISDIR;
	if (ip->type != BE_REG)
		return -EINVAL;
	return mem_permission(cred, ip, may);
}

static int mem_read(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		    uint64_t offset, void *buf, size_t len, size_t *got, bool *eof)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	uint64_t n = 0;
	int err;

	*got = 0;
	*eof = false;
	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err)
		err = mem_check_rw(cred, ip, MAY_READ);
	if (err)
		goto out;
	if (offset < ip->size) {
		uint64_t dlen = ip->u.reg.dlen;

		n = ip->size - offset < len ? ip->size - offset : len;
		if (offset < dlen) {
			uint64_t c = dlen - offset < n ? dlen - offset : n;

			memcpy(buf, ip->u.reg.data + offset, (size_t)c);
			memset((uint8_t *)buf + c, 0, (size_t)(n - c));
		} else {
			memset(buf, 0, (size_t)n);
		}
	}
	*got = (size_t)n;
	*eof = offset + n >= ip->size;
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_write(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		     uint64_t offset, const void *buf, size_t len, enum be_stable how,
		     size_t *written, enum be_stable *committed)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct mem_inode *ip;
	struct mem_reg *r;
	uint64_t end;
	int err;

	*written = 0;
	pthread_rwlock_wrlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err)
		err = mem_check_rw(cred, ip, MAY_WRITE);
	if (err)
		goto out;
	*committed = BE_FILE_SYNC;
	/* Zero bytes succeed wherever they are (RFC 8881 §18.32.3), once allowed to write. */
	if (len == 0)
		goto out;
	if (offset > MEM_MAX_FILESIZE || len > MEM_MAX_FILESIZE - offset) {
		err = -EFBIG;
		goto out;
	}
	end = offset + len;
	err = mem_reg_reserve(m, ip, end);
	if (err)
		goto out;
	r = &ip->u.reg;
	if (offset > r->dlen)
		memset(r->data + r->dlen, 0, (size_t)(offset - r->dlen));
	memcpy(r->data + offset, buf, len);
	if (end > r->dlen)
		r->dlen = (size_t)end;
	if (end > ip->size)
		ip->size = end;
	mem_kill_suid(cred, ip);
	mem_bump_mtime(m, ip, &now);
	*written = len;
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_commit(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      uint64_t offset, uint64_t count)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err && ip->type == BE_DIR)
		err = -EISDIR;
	else if (!err && ip->type != BE_REG)
		err = -EINVAL;
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static void mem_dirchange_begin(const struct mem_inode *dir, struct be_dirchange *dc)
{
	if (dc) {
		dc->atomic = true;
		dc->before = dir->change;
		dc->after = dir->change;
	}
}

static void mem_dirchange_end(const struct mem_inode *dir, struct be_dirchange *dc)
{
	if (dc)
		dc->after = dir->change;
}

static int mem_create(struct backend *be, const struct be_cred *cred, const struct be_fh *dirfh,
		      const char *name, enum be_ftype type, const struct be_sattr *sattr,
		      const char *target, uint32_t rdev_major, uint32_t rdev_minor,
		      struct be_fh *out, struct be_attr *attr, struct be_dirchange *dc)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct be_sattr rest = {0};
	struct mem_inode *dir, *ip = NULL;
	struct mem_dirent *e = NULL;
	size_t tlen = 0;
	uint32_t mode;
	int err;

	if (sattr)
		rest = *sattr;
	mode = (rest.mask & BE_SET_MODE) ? rest.mode & MEM_MODE_MASK : 0;
	rest.mask &= ~(uint32_t)BE_SET_MODE;
	if (type < BE_REG || type > BE_FIFO)
		return -EINVAL;
	if (type == BE_LNK) {
		if (!target || !target[0])
			return -EINVAL;
		tlen = strnlen(target, BE_PATH_MAX);
		if (tlen >= BE_PATH_MAX)
			return -ENAMETOOLONG;
		mode = 0777;
	}

	pthread_rwlock_wrlock(&m->lock);
	err = mem_dir_new_name(m, cred, dirfh, name, &dir);
	if (err)
		goto out;
	err = mem_permission(cred, dir, MAY_WRITE | MAY_EXEC);
	if (err)
		goto out;
	if ((type == BE_BLK || type == BE_CHR) && !mem_is_root(cred)) {
		err = -EPERM;
		goto out;
	}
	if (type == BE_DIR && dir->nlink >= m->max_link) {
		err = -EMLINK;
		goto out;
	}
	err = mem_reserve_free_slot(m);
	if (!err)
		err = mem_dir_reserve(dir);
	if (!err)
		err = mem_dirent_new(m, name, &e);
	if (err)
		goto out;
	err = mem_inode_new(m, type, &ip);
	if (err) {
		mem_dirent_free(m, e);
		goto out;
	}

	/* inode_init_owner() */
	ip->uid = cred->uid;
	if (dir->mode & S_ISGID) {
		ip->gid = dir->gid;
		if (type == BE_DIR)
			mode |= S_ISGID;
		else if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
			 !mem_in_group(cred, ip->gid) && !mem_is_root(cred))
			mode &= ~(uint32_t)S_ISGID;
	} else {
		ip->gid = cred->gid;
	}
	/*
	 * The creator may set the other attributes as if it held the new file
	 * open for writing (a 0444 file can be created with size 0); the mode
	 * asked for is set last, whole.
	 */
	ip->mode = 0700;
	if (type == BE_LNK) {
		if (mem_charge(m, tlen + 1)) {
			err = -ENOSPC;
		} else if (!(ip->u.target = strndup(target, tlen))) {
			mem_uncharge(m, tlen + 1);
			err = -ENOSPC;
		}
		if (err) {
			ip->type = BE_SOCK; /* nothing type-specific to free */
			mem_inode_free(m, ip);
			mem_dirent_free(m, e);
			goto out;
		}
		ip->size = tlen;
	} else if (type == BE_BLK || type == BE_CHR) {
		ip->rdev_major = rdev_major;
		ip->rdev_minor = rdev_minor;
	} else if (type == BE_DIR) {
		ip->u.dir.parent = dir;
	}
	err = mem_setattr_check(cred, ip, &rest);
	if (err) {
		mem_inode_free(m, ip);
		mem_dirent_free(m, e);
		goto out;
	}

	mem_dirchange_begin(dir, dc);
	mem_dir_add(dir, e, ip);
	if (type == BE_DIR) {
		ip->nlink = 2;
		dir->nlink++;
	} else {
		ip->nlink = 1;
	}
	mem_setattr_apply(m, cred, ip, &rest, &now);
	ip->mode = mode;
	mem_bump_mtime(m, dir, &now);
	mem_dirchange_end(dir, dc);
	mem_fh_make(m, ip, out);
	mem_fill_attr(m, ip, attr);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_remove(struct backend *be, const struct be_cred *cred, const struct be_fh *dirfh,
		      const char *name, struct be_dirchange *dc)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct mem_inode *dir, *ip;
	struct mem_dirent *e;
	int err;

	pthread_rwlock_wrlock(&m->lock);
	err = mem_dir_entry(m, cred, dirfh, name, &dir, &e);
	if (err)
		goto out;
	ip = e->inode;
	err = mem_may_delete(cred, dir, ip, -1);
	if (err)
		goto out;
	if (ip->type == BE_DIR && ip->u.dir.nlive > 0) {
		err = -ENOTEMPTY;
		goto out;
	}
	mem_dirchange_begin(dir, dc);
	mem_dir_del(dir, e);
	mem_dirent_free(m, e);
	mem_drop_link(m, ip, &now);
	mem_bump_mtime(m, dir, &now);
	mem_dirchange_end(dir, dc);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_rename(struct backend *be, const struct be_cred *cred, const struct be_fh *sdirfh,
		      const char *sname, const struct be_fh *ddirfh, const char *dname,
		      struct be_dirchange *sdc, struct be_dirchange *ddc)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct mem_inode *sdir, *ddir, *src, *tgt;
	struct mem_dirent *se, *de, *ne = NULL;
	int isdir;
	int err;

	pthread_rwlock_wrlock(&m->lock);
	err = mem_fh_resolve_dir(m, sdirfh, &sdir);
	if (!err)
		err = mem_fh_resolve_dir(m, ddirfh, &ddir);
	if (!err)
		err = mem_check_name(sname);
	if (!err)
		err = mem_check_name(dname);
	if (!err)
		err = mem_permission(cred, sdir, MAY_EXEC);
	if (!err)
		err = mem_permission(cred, ddir, MAY_EXEC);
	if (err)
		goto out;
	se = mem_dir_find(sdir, sname);
	if (!se) {
		err = -ENOENT;
		goto out;
	}
	src = se->inode;
	de = mem_dir_find(ddir, dname);
	tgt = de ? de->inode : NULL;
	isdir = src->type == BE_DIR;
	/* lock_rename()'s trap: a directory into its own subtree. */
	if (isdir && mem_is_ancestor(src, ddir)) {
		err = -EINVAL;
		goto out;
	}
	if (tgt && tgt->type == BE_DIR && mem_is_ancestor(tgt, sdir)) {
		err = -ENOTEMPTY;
		goto out;
	}
	mem_dirchange_begin(sdir, sdc);
	mem_dirchange_begin(ddir, ddc);
	/* vfs_rename(): the same inode under both names is a successful no-op. */
	if (src == tgt)
		goto out;
	err = mem_may_delete(cred, sdir, src, isdir);
	if (err)
		goto out;
	if (tgt)
		err = mem_may_delete(cred, ddir, tgt, isdir);
	else
		err = mem_permission(cred, ddir, MAY_WRITE | MAY_EXEC);
	if (err)
		goto out;
	/* A directory moving to a new parent rewrites its "..". */
	if (isdir && sdir != ddir) {
		err = mem_permission(cred, src, MAY_WRITE);
		if (err)
			goto out;
	}
	if (tgt && tgt->type == BE_DIR && tgt->u.dir.nlive > 0) {
		err = -ENOTEMPTY;
		goto out;
	}
	if (isdir && !tgt && sdir != ddir && ddir->nlink >= m->max_link) {
		err = -EMLINK;
		goto out;
	}
	err = mem_dir_reserve(ddir);
	if (!err)
		err = mem_dirent_new(m, dname, &ne);
	if (err)
		goto out;

	/* Nothing fails from here on. */
	if (tgt) {
		mem_dir_del(ddir, de);
		mem_dirent_free(m, de);
		mem_drop_link(m, tgt, &now);
	}
	mem_dir_del(sdir, se);
	mem_dirent_free(m, se);
	mem_dir_add(ddir, ne, src);
	if (isdir && sdir != ddir) {
		sdir->nlink--;
		ddir->nlink++;
		src->u.dir.parent = ddir;
	}
	mem_bump(m, src, &now);
	mem_bump_mtime(m, sdir, &now);
	if (ddir != sdir)
		mem_bump_mtime(m, ddir, &now);
	mem_dirchange_end(sdir, sdc);
	mem_dirchange_end(ddir, ddc);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

/* may_linkat() with fs.protected_hardlinks=1. */
static int mem_may_linkat(const struct be_cred *cred, const struct mem_inode *ip)
{
	if (mem_owner_or_root(cred, ip))
		return 0;
	if (ip->type != BE_REG || (ip->mode & S_ISUID) ||
	    (ip->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) ||
	    mem_permission(cred, ip, MAY_READ | MAY_WRITE))
		return -EPERM;
	return 0;
}

static int mem_link(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		    const struct be_fh *ddirfh, const char *dname, struct be_dirchange *dc)
{
	struct mem_backend *m = mem_be(be);
	struct timespec now = mem_now();
	struct mem_inode *ip, *ddir;
	struct mem_dirent *e = NULL;
	int err;

	pthread_rwlock_wrlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (!err)
		err = mem_dir_new_name(m, cred, ddirfh, dname, &ddir);
	if (err)
		goto out;
	err = mem_may_linkat(cred, ip);
	if (!err)
		err = mem_permission(cred, ddir, MAY_WRITE | MAY_EXEC);
	if (!err && ip->type == BE_DIR)
		err = -EPERM;
	if (!err && ip->nlink >= m->max_link)
		err = -EMLINK;
	if (!err)
		err = mem_dir_reserve(ddir);
	if (!err)
		err = mem_dirent_new(m, dname, &e);
	if (err)
		goto out;
	mem_dirchange_begin(ddir, dc);
	mem_dir_add(ddir, e, ip);
	ip->nlink++;
	mem_bump(m, ip, &now);
	mem_bump_mtime(m, ddir, &now);
	mem_dirchange_end(ddir, dc);
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int mem_readlink(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
			char *buf, size_t *len)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (err)
		goto out;
	if (ip->type != BE_LNK) {
		err = -EINVAL;
		goto out;
	}
	if (*len < ip->size) {
		err = -ERANGE;
		goto out;
	}
	memcpy(buf, ip->u.target, (size_t)ip->size);
	*len = (size_t)ip->size;
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

/* One entry copied out of the directory so fn can run without the lock. */
struct mem_rd_ent {
	struct be_dirent ent;
	char name[BE_NAME_MAX + 1];
};

static int mem_readdir(struct backend *be, const struct be_cred *cred, const struct be_fh *dirfh,
		       uint64_t cookie, be_readdir_fn fn, void *ctx, uint64_t *verifier, bool *eof)
{
	struct mem_backend *m = mem_be(be);
	struct mem_rd_ent *batch;
	int err = 0;

	*eof = false;
	if (verifier)
		*verifier = m->instance;
	batch = malloc(MEM_READDIR_BATCH * sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	for (;;) {
		struct mem_inode *dir;
		size_t n = 0;
		bool end;

		pthread_rwlock_rdlock(&m->lock);
		err = mem_fh_resolve_dir(m, dirfh, &dir);
		if (!err)
			err = mem_permission(cred, dir, MAY_READ);
		if (err) {
			pthread_rwlock_unlock(&m->lock);
			break;
		}
		const struct mem_dir *d = &dir->u.dir;
		size_t i = mem_dir_seek(d, cookie);

		for (; i < d->nents && n < MEM_READDIR_BATCH; i++) {
			const struct mem_dirent *e = d->ents[i];
			struct mem_rd_ent *r = &batch[n];

			if (!e)
				continue;
			memcpy(r->name, e->name, e->namelen + 1);
			memset(&r->ent, 0, sizeof(r->ent)); /* no fh/attr: lookups are cheap here */
			r->ent.name = r->name;
			r->ent.namelen = e->namelen;
			r->ent.cookie = e->cookie;
			r->ent.fileid = e->inode->ino;
			r->ent.type = e->inode->type;
			n++;
		}
		while (i < d->nents && !d->ents[i])
			i++;
		end = i >= d->nents;
		pthread_rwlock_unlock(&m->lock);

		for (size_t k = 0; k < n; k++) {
			if (!fn(ctx, &batch[k].ent))
				goto out;
			cookie = batch[k].ent.cookie;
		}
		if (end) {
			*eof = true;
			break;
		}
	}
out:
	free(batch);
	return err;
}

static int mem_statfs(struct backend *be, const struct be_cred *cred, const struct be_fh *fh,
		      struct be_statfs *out)
{
	struct mem_backend *m = mem_be(be);
	struct mem_inode *ip;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	err = mem_fh_resolve(m, fh, &ip);
	if (err)
		goto out;
	memset(out, 0, sizeof(*out));
	out->space_total = m->limit;
	out->space_free = m->limit > m->used ? m->limit - m->used : 0;
	out->space_avail = out->space_free;
	out->files_total = m->limit / MEM_INODE_COST;
	out->files_free = out->space_free / MEM_INODE_COST;
	out->files_avail = out->files_free;
	out->name_max = BE_NAME_MAX;
	out->max_filesize = MEM_MAX_FILESIZE;
	out->max_link = m->max_link;
out:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static bool mem_private_data(struct backend *be)
{
	(void)be;
	return true;
}

static bool mem_persistent_handles(struct backend *be)
{
	return false;
}

static void mem_destroy(struct backend *be)
{
	struct mem_backend *m = mem_be(be);

	if (!m)
		return;
	for (size_t i = 0; i < m->ninodes; i++) {
		struct mem_inode *ip = m->inodes[i];

		if (!ip)
			continue;
		if (ip->type == BE_DIR) {
			for (size_t k = 0; k < ip->u.dir.nents; k++)
				free(ip->u.dir.ents[k]);
			free(ip->u.dir.ents);
			free(ip->u.dir.cookies);
			free(ip->u.dir.hash);
		} else if (ip->type == BE_REG) {
			free(ip->u.reg.data);
		} else if (ip->type == BE_LNK) {
			free(ip->u.target);
		}
		free(ip);
	}
	free(m->inodes);
	free(m->free_inos);
	free(m->name);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

static const struct backend_ops mem_ops = {
	.name = "mem",
	.root = mem_root,
	.getattr = mem_getattr,
	.setattr = mem_setattr,
	.lookup = mem_lookup,
	.lookupp = mem_lookupp,
	.access = mem_access,
	.read = mem_read,
	.write = mem_write,
	.commit = mem_commit,
	.create = mem_create,
	.remove = mem_remove,
	.rename = mem_rename,
	.link = mem_link,
	.readlink = mem_readlink,
	.readdir = mem_readdir,
	.statfs = mem_statfs,
	.persistent_handles = mem_persistent_handles,
	.private_data = mem_private_data,
	.destroy = mem_destroy,
};

void be_mem_set_limit(struct backend *be, uint64_t bytes)
{
	struct mem_backend *m = mem_be(be);

	pthread_rwlock_wrlock(&m->lock);
	m->limit = bytes;
	pthread_rwlock_unlock(&m->lock);
}

static uint64_t mem_new_instance(void)
{
	static _Atomic uint64_t counter;
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	v ^= hash_u64(++counter);
	return v ? v : 1;
}

int be_mem_create(const char *path, struct backend **out)
{
	struct mem_backend *m;
	pthread_rwlockattr_t attr;
	struct mem_inode *root;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->base.ops = &mem_ops;
	m->name = strdup(path ? path : "mem");
	if (!m->name) {
		free(m);
		return -ENOMEM;
	}
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_READER_NP);
	pthread_rwlock_init(&m->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	m->instance = mem_new_instance();
	m->limit = BE_MEM_DEFAULT_LIMIT;
	m->max_link = BE_MEM_MAX_LINK;
	m->next_ino = MEM_ROOT_INO;
	err = mem_reserve_free_slot(m);
	if (!err)
		err = mem_inode_new(m, BE_DIR, &root);
	if (err) {
		mem_destroy(&m->base);
		return -ENOMEM;
	}
	root->mode = 0755;
	root->nlink = 2;
	root->u.dir.parent = root;
	*out = &m->base;
	return 0;
}
