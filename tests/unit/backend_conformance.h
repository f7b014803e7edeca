/*
 * The backend conformance suite: one cmocka group that every backend
 * (struct backend_ops, src/backend/backend.h) must pass. It asserts the
 * semantics of a local ext4 directory used by root through the kernel's VFS
 * (POSIX plus Linux's rules), so mem and vfs agree with each other and with
 * what a client sees from knfsd.
 *
 * Each test gets a fresh backend from make(), works inside a directory "t"
 * it creates as root (mode 0755, 0:0) under the backend's root, and ends
 * with ops->destroy() and then cleanup(arg) (cleanup may be NULL). make()
 * for vfs creates a temporary directory; the suite never relies on the
 * root directory's owner or mode.
 *
 * Credentials used: root (0:0), uid 1000 gid 1000, uid 1001 gid 1001 and
 * supplementary group 500. The process must be able to act as them (for vfs:
 * run as root).
 */
#ifndef NFS4D_TESTS_BACKEND_CONFORMANCE_H
#define NFS4D_TESTS_BACKEND_CONFORMANCE_H

#include "backend/backend.h"

/*
 * Runs every conformance test as the cmocka group group_name. make() returns
 * 0 and a new backend, or -errno (the test then fails). Returns the number of
 * failed tests, as cmocka_run_group_tests() does.
 */
int backend_conformance_run(const char *group_name, int (*make)(struct backend **be, void *arg),
			    void (*cleanup)(void *arg), void *arg);

#endif
