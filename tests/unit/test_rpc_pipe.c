/* The pool of bulk pipes (rpc/pipe.c): size, reuse, the cap, and never a pipe with bytes in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "rpc/pipe.h"
#include "util/limits.h"

static void test_pipes_hold_a_bulk_and_are_reused_empty(void **state)
{
	struct rpc_pipes p;
	struct rpc_pipe a, b;
	char byte = 'x';
	int left = -1;

	assert_int_equal(rpc_pipes_init(&p, 2), 0);
	assert_true(rpc_pipe_get(&p, &a));
	assert_true(fcntl(a.w, F_GETPIPE_SZ) >= (int)RPC_BULK_MAX);
	assert_true(fcntl(a.r, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(a.w, F_GETFL) & O_NONBLOCK);
	rpc_pipe_put(&p, &a);
	assert_true(rpc_pipe_get(&p, &b));
	assert_int_equal(b.r, a.r); /* the spare */
	/* One left holding a byte is closed, and the next one is empty. */
	assert_int_equal(write(b.w, &byte, 1), 1);
	rpc_pipe_put(&p, &b);
	assert_int_equal(fcntl(b.w, F_GETFD), -1);
	assert_true(rpc_pipe_get(&p, &a));
	assert_int_equal(ioctl(a.r, FIONREAD, &left), 0);
	assert_int_equal(left, 0);
	rpc_pipe_put(&p, &a);
	rpc_pipes_destroy(&p);
}

static void test_at_most_rpc_bulk_pipes_open(void **state)
{
	static struct rpc_pipe out[RPC_BULK_PIPES];
	struct rpc_pipes p;
	struct rpc_pipe extra;

	assert_int_equal(rpc_pipes_init(&p, 4), 0);
	for (int i = 0; i < RPC_BULK_PIPES; i++)
		assert_true(rpc_pipe_get(&p, &out[i]));
	assert_false(rpc_pipe_get(&p, &extra));
	/* Back (4 as spares, the rest closed): each put frees a place. */
	for (int i = 0; i < RPC_BULK_PIPES; i++)
		rpc_pipe_put(&p, &out[i]);
	for (int i = 0; i < RPC_BULK_PIPES; i++)
		assert_true(rpc_pipe_get(&p, &out[i]));
	assert_false(rpc_pipe_get(&p, &extra));
	for (int i = 0; i < RPC_BULK_PIPES; i++)
		rpc_pipe_put(&p, &out[i]);
	rpc_pipes_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipes_hold_a_bulk_and_are_reused_empty),
		cmocka_unit_test(test_at_most_rpc_bulk_pipes_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
