/*
 * The errors of a filesystem that is too small, full, over quota or broken,
 * over the wire (RFC 8881 §15.1.4): NFS4ERR_FBIG, NFS4ERR_NOSPC,
 * NFS4ERR_DQUOT and NFS4ERR_IO, each provoked for real:
 *
 *  - FBIG: WRITE and SETATTR(size) past the maxfilesize the server announces,
 *    and WRITE ranges that run past 2^64, on mem and vfs; on vfs over ext4
 *    with 4 KiB blocks, the kernel's own limit (16 TiB - 4 KiB), which is
 *    below what glibc lets the server announce.
 *  - NOSPC: mem with --mem-limit; vfs over a tmpfs with size= and nr_inodes=.
 *  - DQUOT: vfs over btrfs with a qgroup limit. Qgroups bind root too; user
 *    quotas do not bind a server that keeps CAP_SYS_RESOURCE, and kernels
 *    without CONFIG_TMPFS_QUOTA and CONFIG_QFMT_V2 (the CI machine's) have
 *    neither tmpfs quotas nor ext4's.
 *  - IO: vfs over ext4 after EXT4_IOC_SHUTDOWN, from which on the
 *    filesystem answers EIO to every read and write.
 * mem has no quotas and no device: it can give neither DQUOT nor IO.
 *
 * The filesystems are mounted in a private mount namespace that this program
 * enters first thing (the servers it starts inherit it, so nothing is seen
 * outside and everything goes when the program exits). That needs root, loop
 * devices, mkfs.ext4 (e2fsprogs) and mkfs.btrfs/btrfs (btrfs-progs, from
 * scripts/deps.sh). Without them those groups fail, saying why: they never
 * pass by skipping.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fileops.h"

/* ext4's shutdown ioctl (fs/ext4/ext4.h); not in Debian 12's uapi headers. */
#define EXT4_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#define EXT4_GOING_FLAGS_NOLOGFLUSH 0x2

#define CHUNK (64 * 1024)
#define EXT4_4K_MAXBYTES ((UINT64_C(1) << 44) - 4096) /* ext4_max_size(), 4 KiB blocks */

static struct fo_env env;
static uint8_t chunk[CHUNK];

/* ------------------------------------------------ mounts and servers */

static char ns_error[256]; /* why there is no private mount namespace; "" if there is one */

/* First thing in main: the new namespace is the calling thread's, and its children's. */
static void enter_private_mount_namespace(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		snprintf(ns_error, sizeof(ns_error),
			 "unshare(CLONE_NEWNS): %s (these tests mount filesystems: run as root)",
			 strerror(errno));
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		snprintf(ns_error, sizeof(ns_error), "making / private: %s", strerror(errno));
}

/* Runs a shell command: 0, or -1 with the command and its output (stdout and stderr) in why. */
__attribute__((format(printf, 3, 4))) static int sh(char *why, size_t len, const char *fmt, ...)
{
	char cmd[512], full[580], out[512];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	/* mkfs.* live in /usr/sbin, which a non-login root shell may lack in PATH. */
	snprintf(full, sizeof(full), "(PATH=\"$PATH:/usr/sbin:/sbin\"; %s) 2>&1", cmd);
	p = popen(full, "r");
	if (!p) {
		snprintf(why, len, "popen(%s): %s", cmd, strerror(errno));
		return -1;
	}
	while (n < sizeof(out) - 1 && fgets(out + n, (int)(sizeof(out) - n), p))
		n += strlen(out + n);
	out[n] = 0;
	st = pclose(p);
	if (st == 0)
		return 0;
	snprintf(why, len, "`%s` failed (wait status 0x%x): %s", cmd, st, out);
	return -1;
}

/* The filesystem under test: none (mem, or vfs in $TMPDIR), tmpfs, btrfs or ext4. */
enum fs_kind { FS_NONE, FS_TMPFS, FS_BTRFS, FS_EXT4 };

static enum fs_kind cur_fs;
static char mnt[256], img[300];

/*
 * Mounts a fresh filesystem of kind on a new directory mnt (over an image
 * file img for a block filesystem). On failure, removes what it made and
 * fails the test, saying why.
 */
static void fs_mount(enum fs_kind kind)
{
	char why[1100] = "";
	int rc = 0;

	if (ns_error[0])
		harness_fail("no private mount namespace for a test filesystem: %s", ns_error);
	snprintf(mnt, sizeof(mnt), "%s/nfs4d-fe-XXXXXX", harness_tmpdir());
	if (!mkdtemp(mnt))
		harness_fail("mkdtemp: %s", strerror(errno));
	snprintf(img, sizeof(img), "%s.img", mnt);
	switch (kind) {
	case FS_TMPFS:
		/* 1 MiB of data and 64 inodes: full after a few writes or creates. */
		rc = mount("nfs4d-test", mnt, "tmpfs", 0, "size=1m,nr_inodes=64,mode=0755");
		if (rc != 0)
			snprintf(why, sizeof(why), "mount tmpfs on %s: %s", mnt, strerror(errno));
		break;
	case FS_BTRFS:
		/* 128 MiB sparse (mkfs.btrfs's minimum is above 100), 1 MiB of qgroup. */
		rc = sh(why, sizeof(why),
			"truncate -s 128M %s && mkfs.btrfs -q -f %s && mount -o loop %s %s && "
			"btrfs quota enable %s && btrfs qgroup limit 1M %s",
			img, img, img, mnt, mnt, mnt);
		break;
	case FS_EXT4:
		rc = sh(why, sizeof(why),
			"truncate -s 32M %s && mkfs.ext4 -q -F -b 4096 %s && mount -o loop %s %s",
			img, img, img, mnt);
		break;
	case FS_NONE:
		break;
	}
	if (rc != 0) {
		umount2(mnt, MNT_DETACH); /* if the mount itself worked */
		rmdir(mnt);
		unlink(img);
		harness_fail("%s", why);
	}
	cur_fs = kind;
}

static void fs_unmount(void)
{
	if (cur_fs == FS_NONE)
		return;
	cur_fs = FS_NONE;
	/* The loop device of mount -o loop is released with the last unmount. */
	if (umount2(mnt, 0) != 0 && umount2(mnt, MNT_DETACH) != 0)
		harness_fail("umount %s: %s", mnt, strerror(errno));
	rmdir(mnt);
	unlink(img);
}

/* A vfs server exporting mnt: tmpdir set so that fo_make_file() writes there, on disk. */
static void start_vfs_on_mount(void)
{
	char line[400];
	const char *args[] = {"--backend", "vfs", "--export", line, NULL};
	struct fo_srv *srv;

	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", mnt);
	srv = fo_srv_start(args);
	snprintf(srv->tmpdir, sizeof(srv->tmpdir), "%s", mnt);
	snprintf(srv->expath, sizeof(srv->expath), "%s", mnt);
	fo_env_attach(&env, srv, mnt);
}

/* -------------------------------------------------------------- helpers */

/* maxfilesize of the file system fh is on. */
static uint64_t maxfilesize(const struct fo_fh *fh)
{
	struct fo_mask m = fo_mask_of(FATTR4_MAXFILESIZE, -1);
	struct fo_attrs a;

	assert_nfs(fo_getattr(&env, fh, &m, &a), NFS4_OK);
	assert_true(a.has[FATTR4_MAXFILESIZE]);
	return a.maxfilesize;
}

static uint64_t file_size(const struct fo_fh *fh)
{
	struct fo_attrs a;

	assert_nfs(fo_stat(&env, fh, &a), NFS4_OK);
	return a.size;
}

static uint32_t write_at(const struct fo_fh *f, uint64_t off, uint32_t len, uint32_t *count)
{
	return fo_write(&env, NULL, f, NULL, off, FILE_SYNC4, chunk, len, count, NULL, NULL);
}

static uint32_t set_size(const struct fo_fh *f, uint64_t size)
{
	struct fo_sattr sa;

	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, size);
	return fo_setattr(&env, NULL, f, NULL, &sa, NULL);
}

/*
 * Appends CHUNK-byte FILE_SYNC4 writes to f until one fails, at most max
 * of them: that failure's status (NFS4_OK if none failed). A short write
 * (the last bytes that fitted) is fine; the next one must fail.
 */
static uint32_t write_until_error(const struct fo_fh *f, int max)
{
	uint64_t off = 0;

	for (int i = 0; i < max; i++) {
		uint32_t count = 0, st = write_at(f, off, CHUNK, &count);

		if (st != NFS4_OK)
			return st;
		assert_true(count > 0 && count <= CHUNK);
		off += count;
	}
	return NFS4_OK;
}

/* Makes directories "<prefix>N" in dir until one fails, at most max: that status. */
static uint32_t mkdir_until_error(const struct fo_fh *dir, const char *prefix, int max, int *made)
{
	char name[64];

	for (*made = 0; *made < max; (*made)++) {
		uint32_t st;

		snprintf(name, sizeof(name), "%s%d", prefix, *made);
		st = fo_mkdir(&env, dir, name, NULL);
		if (st != NFS4_OK)
			return st;
	}
	return NFS4_OK;
}

/* -------------------------------------- FBIG: on mem and vfs ($TMPDIR) */

/*
 * RFC 8881 §15.1.4.4: NFS4ERR_FBIG, "the operation would have caused the
 * file to grow beyond the server's limit" — the maxfilesize attribute.
 */
static void write_past_maxfilesize_is_fbig(void **state)
{
	struct fo_fh d, f;
	char dname[64];
	uint64_t max;

	(void)state;
	fo_testdir(&env, "fbig", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "x", 1, &f);
	max = maxfilesize(&f);
	assert_true(max >= UINT64_C(1) << 40);
	assert_nfs(write_at(&f, max, 1, NULL), NFS4ERR_FBIG);
	assert_nfs(write_at(&f, max - 1, 2, NULL), NFS4ERR_FBIG);
	assert_nfs(write_at(&f, max + 1, 1, NULL), NFS4ERR_FBIG);
	assert_int_equal(file_size(&f), 1);
}

/*
 * offset + count past 2^64 - 1. RFC 8881 gives WRITE no rule of its own for
 * it (LOCK's NFS4ERR_INVAL for a range past 2^64 is about lock ranges): such
 * a write would end beyond any maxfilesize, so it is FBIG, as in knfsd.
 */
static void write_range_past_2_64_is_fbig(void **state)
{
	struct fo_fh d, f;
	char dname[64];
	uint32_t count = 1;

	(void)state;
	fo_testdir(&env, "wrap", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "x", 1, &f);
	assert_nfs(write_at(&f, UINT64_MAX, 1, NULL), NFS4ERR_FBIG);
	assert_nfs(write_at(&f, UINT64_MAX - 2, 8, NULL), NFS4ERR_FBIG);
	assert_nfs(write_at(&f, UINT64_MAX - CHUNK + 1, CHUNK, NULL), NFS4ERR_FBIG);
	assert_nfs(write_at(&f, UINT64_C(1) << 63, 1, NULL), NFS4ERR_FBIG);
	assert_int_equal(file_size(&f), 1);
	/* "If the count is zero, the WRITE will succeed" (§18.32.3), wherever it is. */
	assert_nfs(write_at(&f, UINT64_MAX, 0, &count), NFS4_OK);
	assert_int_equal(count, 0);
	assert_int_equal(file_size(&f), 1);
	/* The file is still usable. */
	assert_nfs(write_at(&f, 1, 1, NULL), NFS4_OK);
	assert_int_equal(file_size(&f), 2);
}

static void setattr_size_past_maxfilesize_is_fbig(void **state)
{
	struct fo_fh d, f;
	char dname[64];
	uint64_t max;

	(void)state;
	fo_testdir(&env, "tbig", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "abc", 3, &f);
	max = maxfilesize(&f);
	assert_nfs(set_size(&f, max + 1), NFS4ERR_FBIG);
	assert_nfs(set_size(&f, UINT64_MAX), NFS4ERR_FBIG);
	assert_int_equal(file_size(&f), 3);
	/* Up to the limit is fine (sparse on both backends). */
	assert_nfs(set_size(&f, UINT64_C(1) << 40), NFS4_OK);
	assert_int_equal(file_size(&f), UINT64_C(1) << 40);
}

/* ----------------------------- NOSPC: mem --mem-limit, vfs over tmpfs */

static void full_filesystem_write_is_nospc(void **state)
{
	struct fo_mask m = fo_mask_of(FATTR4_SPACE_AVAIL, -1);
	struct fo_fh d, f, g;
	struct fo_attrs a;
	char dname[64];

	(void)state;
	fo_testdir(&env, "full", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	/* 1 MiB (tmpfs) or 256 KiB (mem) in 64 KiB writes: full well within 32. */
	assert_nfs(write_until_error(&f, 32), NFS4ERR_NOSPC);
	assert_nfs(fo_getattr(&env, &f, &m, &a), NFS4_OK);
	assert_true(a.space_avail < CHUNK);
	/* Space comes back with the file. */
	assert_nfs(fo_remove(&env, &d, "f", NULL), NFS4_OK);
	fo_make_file(&env, dname, "g", NULL, 0, &g);
	assert_nfs(write_at(&g, 0, CHUNK, NULL), NFS4_OK);
	assert_nfs(fo_remove(&env, &d, "g", NULL), NFS4_OK);
}

/* Inodes run out (tmpfs nr_inodes=64; mem charges each inode against the limit). */
static void full_filesystem_create_is_nospc(void **state)
{
	struct fo_fh d;
	int made;

	(void)state;
	fo_testdir(&env, "inodes", &d, NULL, 0);
	assert_nfs(mkdir_until_error(&d, "d", 5000, &made), NFS4ERR_NOSPC);
	assert_true(made > 0);
	assert_nfs(fo_create(&env, &d, NF4LNK, "l", "target", 0, 0, NULL, NULL, NULL, NULL),
		   NFS4ERR_NOSPC);
	/* Freeing one makes room for one. */
	assert_nfs(fo_remove(&env, &d, "d0", NULL), NFS4_OK);
	assert_nfs(fo_mkdir(&env, &d, "again", NULL), NFS4_OK);
}

static void bad_mem_limit_is_refused_at_start(void **state)
{
	static const char *const bad[] = {"0", "-1", "12X", "K", "99999999999999999999G"};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = {"--backend", "mem", "--mem-limit", bad[i],
				      "--export",  "/",	  NULL};

		assert_int_equal(harness_run_expect_exit(args, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "--mem-limit"));
	}
	{
		/* It would be ignored: the vfs backend's space is the filesystem's. */
		const char *args[] = {"--backend", "vfs",  "--mem-limit", "1M",
				      "--export",  "/tmp", NULL};

		assert_int_equal(harness_run_expect_exit(args, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "--mem-limit is for --backend mem"));
	}
}

/* ------------------------------------------------ DQUOT: vfs over btrfs */

static void write_past_quota_is_dquot(void **state)
{
	struct fo_fh d, f;
	char dname[64];

	(void)state;
	fo_testdir(&env, "quota", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	/* A 1 MiB qgroup in 64 KiB writes. */
	assert_nfs(write_until_error(&f, 32), NFS4ERR_DQUOT);
}

/* After the write above, the qgroup is full: metadata for a new object does not fit either. */
static void create_past_quota_is_dquot(void **state)
{
	int made;

	(void)state;
	assert_nfs(mkdir_until_error(&env.exp, "q", 100, &made), NFS4ERR_DQUOT);
}

/* -------------------------------------------------- FBIG and IO on ext4 */

/* ext4 (4 KiB blocks) stops files at 16 TiB - 4 KiB, below the maxfilesize glibc reports. */
static void ext4_own_size_limit_is_fbig(void **state)
{
	struct fo_fh d, f;
	char dname[64];

	(void)state;
	fo_testdir(&env, "ext4big", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", NULL, 0, &f);
	assert_true(maxfilesize(&f) > EXT4_4K_MAXBYTES);
	assert_nfs(write_at(&f, EXT4_4K_MAXBYTES - 4096, 1, NULL), NFS4_OK);
	assert_nfs(write_at(&f, EXT4_4K_MAXBYTES, 1, NULL), NFS4ERR_FBIG);
	assert_nfs(set_size(&f, EXT4_4K_MAXBYTES + 1), NFS4ERR_FBIG);
	assert_int_equal(file_size(&f), EXT4_4K_MAXBYTES - 4095);
}

/* Last in its group: the filesystem stays shut down until it is unmounted. */
static void shut_down_filesystem_is_io(void **state)
{
	uint32_t flags = EXT4_GOING_FLAGS_NOLOGFLUSH, n;
	struct fo_fh d, f;
	char dname[64], buf[16];
	bool eof;
	int fd;

	(void)state;
	fo_testdir(&env, "io", &d, dname, sizeof(dname));
	fo_make_file(&env, dname, "f", "0123456789", 10, &f);
	assert_nfs(fo_read(&env, &f, NULL, 0, 16, buf, &n, &eof), NFS4_OK);
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) != 0)
		fail_msg("EXT4_IOC_SHUTDOWN on %s: %s", mnt, strerror(errno));
	close(fd);
	assert_nfs(fo_read(&env, &f, NULL, 0, 16, buf, &n, &eof), NFS4ERR_IO);
	assert_nfs(write_at(&f, 0, 4, NULL), NFS4ERR_IO);
	assert_nfs(fo_mkdir(&env, &d, "sub", NULL), NFS4ERR_IO);
	assert_nfs(fo_commit(&env, &f, 0, 0, NULL), NFS4ERR_IO);
}

/* --------------------------------------------------------------- groups */

enum group_kind { G_MEM, G_VFS, G_MEM_LIMIT, G_TMPFS, G_BTRFS, G_EXT4 };

static enum group_kind cur_group;

static int group_setup(void **state)
{
	/* No delegations, as in the other file tests (fileops.c). */
	static const char *const mem_args[] = {"--backend",
					       "mem",
					       "--mem-limit",
					       "256K",
					       "--max-delegations",
					       "0",
					       "--export",
					       "/ *(rw,no_root_squash)",
					       NULL};

	(void)state;
	switch (cur_group) {
	case G_MEM:
	case G_VFS:
		fo_env_setup(&env, cur_group == G_MEM ? FO_MEM : FO_VFS);
		return 0;
	case G_MEM_LIMIT:
		fo_env_attach(&env, fo_srv_start(mem_args), "/");
		return 0;
	case G_TMPFS:
		fs_mount(FS_TMPFS);
		break;
	case G_BTRFS:
		fs_mount(FS_BTRFS);
		break;
	case G_EXT4:
		fs_mount(FS_EXT4);
		break;
	}
	start_vfs_on_mount();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (env.srv)
		fo_env_teardown(&env);
	fs_unmount();
	return 0;
}

static int run_group(const char *name, enum group_kind g, const struct CMUnitTest *tests, size_t n)
{
	cur_group = g;
	memset(&env, 0, sizeof(env));
	return _cmocka_run_group_tests(name, tests, n, group_setup, group_teardown);
}

#define RUN(name, g, tests) run_group(name, g, tests, sizeof(tests) / sizeof(tests[0]))

int main(void)
{
	const struct CMUnitTest fbig[] = {
		cmocka_unit_test(write_past_maxfilesize_is_fbig),
		cmocka_unit_test(write_range_past_2_64_is_fbig),
		cmocka_unit_test(setattr_size_past_maxfilesize_is_fbig),
	};
	const struct CMUnitTest nospc_mem[] = {
		cmocka_unit_test(bad_mem_limit_is_refused_at_start),
		cmocka_unit_test(full_filesystem_write_is_nospc),
		cmocka_unit_test(full_filesystem_create_is_nospc),
	};
	const struct CMUnitTest nospc_vfs[] = {
		cmocka_unit_test(write_past_maxfilesize_is_fbig),
		cmocka_unit_test(full_filesystem_write_is_nospc),
		cmocka_unit_test(full_filesystem_create_is_nospc),
	};
	const struct CMUnitTest dquot[] = {
		cmocka_unit_test(write_past_quota_is_dquot),
		cmocka_unit_test(create_past_quota_is_dquot),
	};
	const struct CMUnitTest ext4[] = {
		cmocka_unit_test(write_range_past_2_64_is_fbig),
		cmocka_unit_test(ext4_own_size_limit_is_fbig),
		cmocka_unit_test(shut_down_filesystem_is_io),
	};
	int failed;

	enter_private_mount_namespace();
	memset(chunk, 'z', sizeof(chunk));
	failed = RUN("files_errors[mem]", G_MEM, fbig);
	failed += RUN("files_errors[vfs]", G_VFS, fbig);
	failed += RUN("files_errors_nospc[mem --mem-limit]", G_MEM_LIMIT, nospc_mem);
	failed += RUN("files_errors_nospc[vfs on tmpfs]", G_TMPFS, nospc_vfs);
	failed += RUN("files_errors_dquot[vfs on btrfs]", G_BTRFS, dquot);
	failed += RUN("files_errors_io[vfs on ext4]", G_EXT4, ext4);
	return harness_exit_code(failed);
}
