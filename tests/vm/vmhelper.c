// vmhelper: the few things the guest's busybox cannot do, built with
// `gcc -static` by tests/vm/run.sh and put in the guest's initramfs.
//
//   vmhelper mount SOURCE TARGET FSTYPE OPTIONS   mount(2) with text options (NFSv4)
//   vmhelper umount TARGET [-f]                  umount2(2), MNT_FORCE with -f
//   vmhelper poweroff                            sync and reboot(RB_POWER_OFF)
//   vmhelper fcntl FILE START LEN r|w try|wait HOLD_MS
//       takes a POSIX byte-range lock (F_SETLK or F_SETLKW), prints "locked",
//       holds it HOLD_MS milliseconds, exits 0; with "try" and a conflict it
//       prints "denied" and exits 3.  A negative HOLD_MS holds the lock until
//       SIGUSR1 comes, for at most -HOLD_MS milliseconds (exit 4 if it
//       did not come)
//   vmhelper flock FILE sh|ex try|wait HOLD_MS   the same with flock(2)
//   vmhelper fcntl-test FILE START LEN r|w       F_GETLK: prints "free" or
//       "conflict PID START LEN"
//   vmhelper randwrite FILE BLOCKS N SEED        N pwrite(2)s of 4 KiB at block
//       offsets in [0, BLOCKS) and pseudo-random data, both from a generator
//       seeded with SEED (the same arguments write the same bytes), on one
//       open file, then fsync(2)
//   vmhelper fsync FILE                          open O_RDWR, fsync(2)
//   vmhelper msleep MS
//   vmhelper now                                 milliseconds since the epoch
//
// Exit status: 0 ok, 1 error (message on stderr), 2 usage, 3 lock denied.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

// hold HOLD_MS: sleep, or with a negative value wait for SIGUSR1 (blocked
// since main started) at most -HOLD_MS ms.  Returns 0, or 4 on a timeout.
static int hold(long ms)
{
	if (ms >= 0) {
		msleep(ms);
		return 0;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	struct timespec ts = { -ms / 1000, (-ms % 1000) * 1000000L };
	for (int i = 0; i < 1000; i++) {
		if (sigtimedwait(&set, NULL, &ts) == SIGUSR1)
			return 0;
		if (errno != EINTR)
			break;
	}
	fprintf(stderr, "vmhelper: no SIGUSR1 within %ld ms\n", -ms);
	return 4;
}

static int usage(void)
{
	fprintf(stderr, "vmhelper: bad usage (see the comment in tests/vm/vmhelper.c)\n");
	return 2;
}

static int do_fcntl(int argc, char **argv)
{
	if (argc != 7)
		return usage();
	int wr = strcmp(argv[4], "w") == 0;
	int wait = strcmp(argv[5], "wait") == 0;
	int fd = open(argv[1], wr ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "vmhelper fcntl: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct flock fl = { .l_type = wr ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET,
		.l_start = atoll(argv[2]), .l_len = atoll(argv[3]) };
	if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) != 0) {
		if (errno == EAGAIN || errno == EACCES) {
			printf("denied\n");
			return 3;
		}
		fprintf(stderr, "vmhelper fcntl: lock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	int rc = hold(atol(argv[6]));
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		fprintf(stderr, "vmhelper fcntl: unlock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return rc;
}

static int do_fcntl_test(int argc, char **argv)
{
	if (argc != 5)
		return usage();
	int wr = strcmp(argv[4], "w") == 0;
	int fd = open(argv[1], wr ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "vmhelper fcntl-test: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct flock fl = { .l_type = wr ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET,
		.l_start = atoll(argv[2]), .l_len = atoll(argv[3]) };
	if (fcntl(fd, F_GETLK, &fl) != 0) {
		fprintf(stderr, "vmhelper fcntl-test: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (fl.l_type == F_UNLCK)
		printf("free\n");
	else
		printf("conflict %s %lld %lld\n", fl.l_type == F_WRLCK ? "w" : "r",
			(long long)fl.l_start, (long long)fl.l_len);
	close(fd);
	return 0;
}

static int do_flock(int argc, char **argv)
{
	if (argc != 5)
		return usage();
	int op = strcmp(argv[2], "ex") == 0 ? LOCK_EX : LOCK_SH;
	if (strcmp(argv[3], "try") == 0)
		op |= LOCK_NB;
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vmhelper flock: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (flock(fd, op) != 0) {
		if (errno == EWOULDBLOCK) {
			printf("denied\n");
			return 3;
		}
		fprintf(stderr, "vmhelper flock: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	int rc = hold(atol(argv[4]));
	if (flock(fd, LOCK_UN) != 0) {
		fprintf(stderr, "vmhelper flock: unlock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return rc;
}

static uint64_t rng_next(uint64_t *x)
{
	// splitmix64
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int do_randwrite(int argc, char **argv)
{
	if (argc != 5)
		return usage();
	uint64_t blocks = strtoull(argv[2], NULL, 0), n = strtoull(argv[3], NULL, 0);
	uint64_t x = strtoull(argv[4], NULL, 0);
	if (blocks == 0)
		return usage();
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vmhelper randwrite: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t buf[512];
	for (uint64_t i = 0; i < n; i++) {
		off_t off = (off_t)(rng_next(&x) % blocks) * 4096;
		for (size_t k = 0; k < 512; k++)
			buf[k] = rng_next(&x);
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf)) {
			fprintf(stderr, "vmhelper randwrite: pwrite %s at %lld: %s\n", argv[1],
				(long long)off, strerror(errno));
			return 1;
		}
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "vmhelper randwrite: fsync/close %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	// SIGUSR1 ends a negative hold; blocked so that it waits in sigtimedwait.
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "mount") == 0) {
		if (argc != 5)
			return usage();
		if (mount(argv[1], argv[2], argv[3], 0, argv[4]) != 0) {
			fprintf(stderr, "vmhelper mount %s %s -o %s: %s\n", argv[1], argv[2], argv[4],
				strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "umount") == 0) {
		if (argc < 2)
			return usage();
		int flags = argc > 2 && strcmp(argv[2], "-f") == 0 ? MNT_FORCE : 0;
		if (umount2(argv[1], flags) != 0) {
			fprintf(stderr, "vmhelper umount %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "poweroff") == 0) {
		sync();
		reboot(RB_POWER_OFF);
		fprintf(stderr, "vmhelper poweroff: %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(cmd, "fcntl") == 0)
		return do_fcntl(argc, argv);
	if (strcmp(cmd, "fcntl-test") == 0)
		return do_fcntl_test(argc, argv);
	if (strcmp(cmd, "flock") == 0)
		return do_flock(argc, argv);
	if (strcmp(cmd, "randwrite") == 0)
		return do_randwrite(argc, argv);
	if (strcmp(cmd, "fsync") == 0 && argc == 2) {
		int fd = open(argv[1], O_RDWR);
		if (fd < 0 || fsync(fd) != 0 || close(fd) != 0) {
			fprintf(stderr, "vmhelper fsync %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "msleep") == 0 && argc == 2) {
		msleep(atol(argv[1]));
		return 0;
	}
	if (strcmp(cmd, "now") == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		return 0;
	}
	return usage();
}
