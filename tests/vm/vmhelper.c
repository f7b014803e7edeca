// vmhelper: the few things the guest's busybox cannot do, built with
// `gcc -static` by tests/vm/run.sh and put in the guest's initramfs.
//
//   vmhelper mount SOURCE TARGET FSTYPE OPTIONS   mount(2) with text options (NFSv4)
//   vmhelper umount TARGET [-f]                  umount2(2), MNT_FORCE with -f
//   vmhelper poweroff                            sync and reboot(RB_POWER_OFF)
//   vmhelper fcntl FILE START LEN r|w try|wait HOLD_MS
//       takes a POSIX byte-range lock (F_SETLK or F_SETLKW), prints "locked",
//       holds it HOLD_MS milliseconds, exits 0; with "try" and a conflict it
//       prints "denied" and exits 3
//   vmhelper flock FILE sh|ex try|wait HOLD_MS   the same with flock(2)
//   vmhelper fcntl-test FILE START LEN r|w       F_GETLK: prints "free" or
//       "conflict PID START LEN"
//   vmhelper msleep MS
//   vmhelper now                                 milliseconds since the epoch
//
// Exit status: 0 ok, 1 error (message on stderr), 2 usage, 3 lock denied.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
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
	msleep(atol(argv[6]));
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		fprintf(stderr, "vmhelper fcntl: unlock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
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
	msleep(atol(argv[4]));
	if (flock(fd, LOCK_UN) != 0) {
		fprintf(stderr, "vmhelper flock: unlock %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
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
