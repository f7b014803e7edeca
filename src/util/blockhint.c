/* Hints of blocking to the thread's runner; see blockhint.h. */
#include <stddef.h>

#include "util/blockhint.h"

static _Thread_local block_hint_fn hook;
static _Thread_local void *hook_ctx;

void block_hint_set(block_hint_fn fn, void *ctx)
{
	hook = fn;
	hook_ctx = ctx;
}

void block_hint(void)
{
	if (hook)
		hook(hook_ctx);
}
