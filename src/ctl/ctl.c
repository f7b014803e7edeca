/*
 * The control socket's listener and its one thread (ctl.h). Requests are
 * served one at a time: each is small, and a peer that stalls is cut off
 * after CTL_IO_TIMEOUT_S, so one thread is enough and nothing here can
 * slow the NFS workers down.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/listener.h"
#include "ctl/render.h"
#include "util/log.h"

struct ctl_server {
	struct nfs4_server *srv;
	struct ctl_listener listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made: removed at stop only if it is still ours */
	ino_t ino;
	gid_t gid; /* the socket file's group */
};

/* Whether uid is in group gid by its supplementary groups (the group database). */
static bool ctl_uid_in_group(uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	gid_t groups[256];
	int ngroups = 256;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
		return false;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Root, our own user, or a member of the socket's group (the file mode says the same). */
static bool ctl_peer_allowed(struct ctl_server *ctl, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid() || cred.gid == ctl->gid)
		return true;
	return ctl_uid_in_group(cred.uid, ctl->gid);
}

/* Reads one request line (without its '\n') into buf. false: none, or too long. */
static bool ctl_read_request(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char *nl;

	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = 0;
		nl = memchr(buf, '\n', n);
		if (nl) {
			*nl = 0;
			return true;
		}
	}
	return false;
}

static void ctl_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the peer went or stalled: its answer is lost, nothing else */
		p += w;
		len -= (size_t)w;
	}
}

static void ctl_reply_error(int fd, const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "error %s\n", msg);

	ctl_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Splits a request into words at single spaces; returns the number of words. */
static int ctl_split(char *line, char **argv, int max)
{
	int argc = 0;

	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && argc < max;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return argc;
}

/* One request on fd (ctl_listener's serve). */
static void ctl_serve(void *arg, int fd)
{
	struct ctl_server *ctl = arg;
	char req[CTL_MAX_REQUEST + 1], err[256];
	struct ctl_buf out = {0};
	char *argv[8];
	int argc;

	if (!ctl_peer_allowed(ctl, fd)) {
		log_warn("ctl", "control socket: peer refused (not root or in the socket's group)");
		ctl_reply_error(fd, "permission denied");
		return;
	}
	if (!ctl_read_request(fd, req, sizeof(req))) {
		ctl_reply_error(fd, "bad request: one line of at most 512 bytes expected");
		return;
	}
	argc = ctl_split(req, argv, 8);
	if (argc < 2 || (strcmp(argv[0], "text") != 0 && strcmp(argv[0], "json") != 0)) {
		ctl_reply_error(fd, "bad request: expected \"text|json COMMAND [ARG]\"");
		return;
	}
	log_debug("ctl", "control request: %s", argv[1]);
	if (ctl_run(ctl->srv, argv[0][0] == 'j', argc - 1, argv + 1, &out, err, sizeof(err)) < 0) {
		ctl_reply_error(fd, err);
	} else if (out.oom) {
		ctl_reply_error(fd, "out of memory");
	} else {
		ctl_write_all(fd, "ok\n", 3);
		ctl_write_all(fd, out.p, out.len);
	}
	ctl_buf_free(&out);
}

/* Binds addr, removing a stale socket file left by an nfs4d that died; refuses a live one. */
static int ctl_bind(int fd, const struct sockaddr_un *addr)
{
	int probe;

	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -1;
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	if (connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
		close(probe);
		errno = EADDRINUSE; /* another nfs4d serves this state directory */
		return -1;
	}
	close(probe);
	if (errno != ECONNREFUSED)
		return -1;
	if (unlink(addr->sun_path) != 0)
		return -1;
	return bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
}

struct ctl_server *ctl_start(const char *state_dir, struct nfs4_server *srv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct ctl_server *ctl;
	struct stat st;
	const char *what;
	int lfd = -1, err;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return NULL;
	ctl->srv = srv;
	if (snprintf(ctl->path, sizeof(ctl->path), "%s/%s", state_dir, CTL_SOCKET_NAME) >=
	    (int)sizeof(ctl->path)) {
		errno = ENAMETOOLONG;
		what = "socket path";
		goto fail;
	}
	memcpy(addr.sun_path, ctl->path, sizeof(addr.sun_path));
	what = "mkdir";
	if (mkdir(state_dir, 0750) != 0 && errno != EEXIST)
		goto fail;
	what = "socket";
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		goto fail;
	what = "bind";
	if (ctl_bind(lfd, &addr) != 0)
		goto fail;
	/* Before listen(): nobody can connect while the mode is still the umask's. */
	what = "chmod";
	if (chmod(ctl->path, 0660) != 0 || stat(ctl->path, &st) != 0)
		goto fail_unlink;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->gid = st.st_gid;
	what = "listen";
	if (listen(lfd, 16) != 0)
		goto fail_unlink;
	what = "thread";
	err = ctl_listener_start(&ctl->listener, lfd, "control socket", CTL_IO_TIMEOUT_S, ctl_serve,
				 ctl);
	if (err < 0) {
		errno = -err;
		goto fail_unlink;
	}
	log_info("ctl", "control socket %s", ctl->path);
	return ctl;

fail_unlink:
	unlink(ctl->path);
fail:
	log_warn("ctl", "no control socket (%s %s: %s): nfs4ctl cannot reach this nfs4d", what,
		 ctl->path, strerror(errno));
	if (lfd >= 0)
		close(lfd);
	free(ctl);
	return NULL;
}

void ctl_stop(struct ctl_server *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	ctl_listener_stop(&ctl->listener);
	/* Another nfs4d may have replaced a socket it took for stale: leave that one alone. */
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}
