/*
 * A SETATTR that changes a file's size on vfs is on stable storage before
 * the reply (docs/recovery.md), proven with a crash of the filesystem
 * itself rather than with strace: the export is an ext4 image mounted with
 * a journal commit interval far longer than the test, so nothing reaches
 * the disk unless someone syncs it. After the SETATTRs (a shrink and an
 * extension) have replied, EXT4_IOC_SHUTDOWN with NOLOGFLUSH stops the
 * filesystem as a power cut would: what the journal has not committed is
 * lost. Mounted again (the journal replayed), the files must have their new
 * sizes.
 *
 * The image is mounted in a private mount namespace that this program enters
 * first thing (the server it starts inherits it). That needs root, loop
 * devices and mkfs.ext4 (e2fsprogs, from scripts/deps.sh), as
 * test_files_errors does; without them the test fails, saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "state_helpers.h"

/* ext4's shutdown ioctl (fs/ext4/ext4.h); not in Debian 12's uapi headers. */
#define EXT4_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#define EXT4_GOING_FLAGS_NOLOGFLUSH 0x2

static struct fo_env env;
static char ns_error[256]; /* why there is no private mount namespace; "" if there is one */
static char mnt[256], img[300];

static void enter_private_mount_namespace(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		snprintf(ns_error, sizeof(ns_error),
			 "unshare(CLONE_NEWNS): %s (this test mounts an ext4 image: run as root)",
			 strerror(errno));
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		snprintf(ns_error, sizeof(ns_error), "making / private: %s", strerror(errno));
}

/* Runs a shell command (mkfs.ext4 lives in /usr/sbin, which PATH may lack); fails the test. */
static void sh(const char *cmd)
{
	char full[1200];
	int st;

	snprintf(full, sizeof(full), "(PATH=\"$PATH:/usr/sbin:/sbin\"; %s) >/dev/null 2>&1", cmd);
	st = system(full);
	if (st != 0)
		harness_fail("`%s` failed (wait status 0x%x)", cmd, st);
}

/* The image mounted on mnt, with commit=600: only a sync commits the journal. */
static void image_mount(void)
{
	char cmd[1000];

	snprintf(cmd, sizeof(cmd), "mount -o loop,commit=600 %s %s", img, mnt);
	sh(cmd);
}

static off_t size_of(const char *name)
{
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/d/%s", mnt, name);
	if (stat(path, &st) != 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	return st.st_size;
}

static void setattr_size_survives_a_crash(void **state)
{
	/* No delegations: the test client returns none, so DESTROY_CLIENTID would be BUSY. */
	const char *args[] = {"--backend", "vfs", "--max-delegations", "0", "--export", NULL, NULL};
	uint32_t flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
	char line[400], cmd[1000], data[10000];
	struct fo_fh d, shrunk, grown;
	int fd;

	(void)state;
	if (ns_error[0])
		harness_fail("no private mount namespace for the ext4 image: %s", ns_error);
	snprintf(mnt, sizeof(mnt), "%s/nfs4d-durable-XXXXXX", harness_tmpdir());
	if (!mkdtemp(mnt))
		harness_fail("mkdtemp: %s", strerror(errno));
	snprintf(img, sizeof(img), "%s.img", mnt);
	snprintf(cmd, sizeof(cmd), "truncate -s 32M %s && mkfs.ext4 -q -F -b 4096 %s", img, img);
	sh(cmd);
	image_mount();
	snprintf(line, sizeof(line), "%s *(rw,no_root_squash)", mnt);
	args[5] = line;
	fo_env_attach(&env, fo_srv_start(args), mnt);

	memset(data, 'x', sizeof(data));
	assert_nfs(fo_mkdir(&env, &env.exp, "d", &d), NFS4_OK);
	assert_nfs(
		st_mkfile(env.cl.sess, env.cl.clientid, &d, "shrunk", data, sizeof(data), &shrunk),
		NFS4_OK);
	assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &d, "grown", data, sizeof(data), &grown),
		   NFS4_OK);
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(syncfs(fd), 0); /* the files as made: on disk */

	assert_nfs(st_truncate(env.cl.sess, &shrunk, &fo_anon_stateid, 3), NFS4_OK);
	assert_nfs(st_truncate(env.cl.sess, &grown, &fo_anon_stateid, 100000), NFS4_OK);
	/* The power cut: the running transaction never reaches the disk. */
	if (ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) != 0)
		fail_msg("EXT4_IOC_SHUTDOWN on %s: %s", mnt, strerror(errno));
	close(fd);
	fo_env_teardown(&env);

	if (umount2(mnt, 0) != 0)
		fail_msg("umount %s: %s", mnt, strerror(errno));
	image_mount();
	assert_int_equal(size_of("shrunk"), 3);
	assert_int_equal(size_of("grown"), 100000);
}

static int teardown(void **state)
{
	(void)state;
	if (env.srv)
		fo_env_teardown(&env);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	unlink(img);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(setattr_size_survives_a_crash, teardown),
	};

	enter_private_mount_namespace();
	return harness_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
