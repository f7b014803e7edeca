/*
 * Changes on vfs are on stable storage before the reply (docs/recovery.md),
 * proven with a crash of the filesystem itself rather than with strace: the
 * export is an ext4 image mounted with a journal commit interval far longer
 * than the test, so nothing reaches the disk unless someone syncs it. After
 * the replies, EXT4_IOC_SHUTDOWN with NOLOGFLUSH stops the filesystem as a
 * power cut would: what the journal has not committed is lost. Mounted
 * again (the journal replayed), the changes must be there:
 *  - SETATTRs of the size (a shrink and an extension): the new sizes;
 *  - many creates and removes in one directory from threads at once (their
 *    directory syncs are shared, src/backend/vfs_gcommit.h): exactly the
 *    names created and not removed.
 *
 * The image is mounted in a private mount namespace that this program enters
 * first thing (the server it starts inherits it). That needs root, loop
 * devices and mkfs.ext4 (e2fsprogs, from scripts/deps.sh), as
 * test_files_errors does; without them the test fails, saying why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* The concurrent test: threads on one session, each making FILES names and removing every other. */
#define THREADS 8
#define FILES 40

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

/* A fresh ext4 image mounted on mnt, exported by a new server; returns an fd of mnt. */
static int image_start(void)
{
	/* No delegations: the test client returns none, so DESTROY_CLIENTID would be BUSY. */
	const char *args[] = {"--backend", "vfs", "--max-delegations", "0", "--export", NULL, NULL};
	char line[400], cmd[1000];
	int fd;

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
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* The power cut (fd: of mnt): the running transaction never reaches the disk; then mounted again.
 */
static void image_crash(int fd)
{
	uint32_t flags = EXT4_GOING_FLAGS_NOLOGFLUSH;

	if (ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) != 0)
		fail_msg("EXT4_IOC_SHUTDOWN on %s: %s", mnt, strerror(errno));
	close(fd);
	fo_env_teardown(&env);
	if (umount2(mnt, 0) != 0)
		fail_msg("umount %s: %s", mnt, strerror(errno));
	image_mount();
}

static void setattr_size_survives_a_crash(void **state)
{
	char data[10000];
	struct fo_fh d, shrunk, grown;
	int fd;

	(void)state;
	fd = image_start();
	memset(data, 'x', sizeof(data));
	assert_nfs(fo_mkdir(&env, &env.exp, "d", &d), NFS4_OK);
	assert_nfs(
		st_mkfile(env.cl.sess, env.cl.clientid, &d, "shrunk", data, sizeof(data), &shrunk),
		NFS4_OK);
	assert_nfs(st_mkfile(env.cl.sess, env.cl.clientid, &d, "grown", data, sizeof(data), &grown),
		   NFS4_OK);
	assert_int_equal(syncfs(fd), 0); /* the files as made: on disk */

	assert_nfs(st_truncate(env.cl.sess, &shrunk, &fo_anon_stateid, 3), NFS4_OK);
	assert_nfs(st_truncate(env.cl.sess, &grown, &fo_anon_stateid, 100000), NFS4_OK);
	image_crash(fd);
	assert_int_equal(size_of("shrunk"), 3);
	assert_int_equal(size_of("grown"), 100000);
}

struct churn {
	pthread_t t;
	int id;
	struct nfs4clnt_session *sess;
	uint64_t clientid;
	const struct fo_fh *dir;
	int bad;       /* the first failure's status, 0 if none */
	char what[64]; /* ...and what failed */
};

static int remove_name(struct nfs4clnt_session *s, const struct fo_fh *dir, const char *name)
{
	struct st_call c;
	component4 n = xdr_opaque_str(name);
	struct xdr_enc *x = st_call_start(&c, dir, OP_REMOVE);
	int st = -ENOMEM;

	if (x && xdr_enc_component4(x, &n))
		st = st_call_run(s, &c, OP_REMOVE);
	st_call_end(&c);
	return st;
}

/* Creates t<id>-<j> for every j (OPEN-create, WRITE, CLOSE) and removes the odd ones at once. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	char owner[32], name[32];

	snprintf(owner, sizeof(owner), "churn%d", c->id);
	for (int j = 0; j < FILES && !c->bad; j++) {
		struct st_open o = {.dir = c->dir,
				    .name = name,
				    .clientid = c->clientid,
				    .owner = owner,
				    .access = OPEN4_SHARE_ACCESS_BOTH,
				    .deny = OPEN4_SHARE_DENY_NONE,
				    .create = true,
				    .createmode = UNCHECKED4};
		int st;

		snprintf(name, sizeof(name), "t%d-%d", c->id, j);
		st = st_create_file(c->sess, &o, "x", 1);
		if (st == NFS4_OK && (j & 1))
			st = remove_name(c->sess, c->dir, name);
		if (st != NFS4_OK) {
			c->bad = st;
			snprintf(c->what, sizeof(c->what), "%s %s",
				 (j & 1) ? "create/remove" : "create", name);
		}
	}
	return NULL;
}

static void concurrent_creates_and_removes_survive_a_crash(void **state)
{
	struct harness_client cl;
	struct churn c[THREADS];
	bool seen[THREADS][FILES] = {{false}};
	char owner[64], path[400];
	struct fo_fh d;
	struct dirent *de;
	DIR *dp;
	int fd, n = 0;

	(void)state;
	fd = image_start();
	assert_nfs(fo_mkdir(&env, &env.exp, "d", &d), NFS4_OK);
	assert_int_equal(syncfs(fd), 0); /* the directory as made: on disk */
	/* A client of its own, with a slot per thread, so that all are at the server at once. */
	harness_client_new(env.srv->hs, &cl, harness_owner(owner, sizeof(owner), "churn"), THREADS);
	for (int i = 0; i < THREADS; i++) {
		c[i] = (struct churn){.id = i, .sess = cl.sess, .clientid = cl.clientid, .dir = &d};
		assert_int_equal(pthread_create(&c[i].t, NULL, churn, &c[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(c[i].t, NULL);
	harness_client_free(&cl, false);
	for (int i = 0; i < THREADS; i++)
		if (c[i].bad)
			fail_msg("thread %d: %s: status %d", i, c[i].what, c[i].bad);
	image_crash(fd);

	snprintf(path, sizeof(path), "%s/d", mnt);
	dp = opendir(path);
	if (!dp)
		fail_msg("opendir %s: %s", path, strerror(errno));
	while ((de = readdir(dp))) {
		int t, j;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (sscanf(de->d_name, "t%d-%d", &t, &j) != 2 || t < 0 || t >= THREADS || j < 0 ||
		    j >= FILES || (j & 1))
			fail_msg("%s survived the crash: it was removed or never made", de->d_name);
		seen[t][j] = true;
		n++;
	}
	closedir(dp);
	for (int t = 0; t < THREADS; t++)
		for (int j = 0; j < FILES; j += 2)
			if (!seen[t][j])
				fail_msg("t%d-%d was lost in the crash", t, j);
	assert_int_equal(n, THREADS * FILES / 2);
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
		cmocka_unit_test_teardown(concurrent_creates_and_removes_survive_a_crash, teardown),
	};

	enter_private_mount_namespace();
	return harness_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
