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
//   vmhelper holder LOCKED WRITTEN               state for a server restart to reclaim
//       (scenario 7): creates and opens both files O_RDWR, takes a POSIX write
//       lock on bytes [0, 1000) of LOCKED, writes, fsyncs and reads back 70000
//       bytes in each, prints "ready"; then, at each SIGUSR1 (waiting at most
//       300 s for each), without reopening: reads the first 70000 bytes back,
//       writes, fsyncs and reads back 70000 more in each file ("io ok"); unlocks
//       ("unlocked"); closes both ("closed") and exits 0. Any failure: a line
//       "FAIL ..." and exit 1
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

// The holder's data: HOLDER_LEN bytes per round, from a generator seeded with the round and file.
#define HOLDER_LEN 70000
#define HOLDER_WAIT_MS 300000

static void holder_fill(uint8_t *buf, uint64_t seed)
{
	for (size_t i = 0; i < HOLDER_LEN; i += 8) {
		uint64_t v = rng_next(&seed);
		memcpy(buf + i, &v, HOLDER_LEN - i < 8 ? HOLDER_LEN - i : 8);
	}
}

// Checks round r's data in fd.
static int holder_check(int fd, const char *name, int file, int r)
{
	static uint8_t want[HOLDER_LEN], got[HOLDER_LEN];

	holder_fill(want, (uint64_t)file * 100 + r);
	errno = 0;
	if (pread(fd, got, HOLDER_LEN, (off_t)r * HOLDER_LEN) != HOLDER_LEN ||
	    memcmp(want, got, HOLDER_LEN) != 0) {
		printf("FAIL read back %s (round %d): %s\n", name, r,
		       errno ? strerror(errno) : "data differs");
		return 1;
	}
	return 0;
}

// Checks the earlier rounds' data in fd, then writes round's at round * HOLDER_LEN, fsyncs
// and checks it.
static int holder_io(int fd, const char *name, int file, int round)
{
	static uint8_t buf[HOLDER_LEN];

	for (int r = 0; r < round; r++)
		if (holder_check(fd, name, file, r))
			return 1;
	holder_fill(buf, (uint64_t)file * 100 + round);
	if (pwrite(fd, buf, HOLDER_LEN, (off_t)round * HOLDER_LEN) != HOLDER_LEN ||
	    fsync(fd) != 0) {
		printf("FAIL write+fsync %s (round %d): %s\n", name, round, strerror(errno));
		return 1;
	}
	return holder_check(fd, name, file, round);
}

static int do_holder(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	int lfd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	int wfd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (lfd < 0 || wfd < 0) {
		printf("FAIL open %s / %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1000};
	if (fcntl(lfd, F_SETLK, &fl) != 0) {
		printf("FAIL lock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (holder_io(lfd, argv[1], 1, 0) || holder_io(wfd, argv[2], 2, 0))
		return 1;
	printf("ready\n");
	if (hold(-HOLDER_WAIT_MS))
		return 1;
	if (holder_io(lfd, argv[1], 1, 1) || holder_io(wfd, argv[2], 2, 1))
		return 1;
	printf("io ok\n");
	if (hold(-HOLDER_WAIT_MS))
		return 1;
	fl.l_type = F_UNLCK;
	if (fcntl(lfd, F_SETLK, &fl) != 0) {
		printf("FAIL unlock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("unlocked\n");
	if (hold(-HOLDER_WAIT_MS))
		return 1;
	if (close(lfd) != 0 || close(wfd) != 0) {
		printf("FAIL close: %s\n", strerror(errno));
		return 1;
	}
	printf("closed\n");
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
	if (strcmp(cmd, "holder") == 0)
		return do_holder(argc, argv);
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
