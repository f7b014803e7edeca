/*
 * A thread about to block for long (a disk flush, or waiting for another
 * thread's) says so, and whoever runs the thread may act on it at once
 * instead of noticing later: the rpc pool lets another of its threads run
 * calls meanwhile (src/rpc/watchdog.c), so that requests that could share
 * the wait (a group commit, src/backend/vfs_gcommit.h) get to it.
 * The hook is per thread; a thread without one ignores the hint.
 */
#ifndef NFS4D_UTIL_BLOCKHINT_H
#define NFS4D_UTIL_BLOCKHINT_H

typedef void (*block_hint_fn)(void *ctx);

/* This thread's hook (NULL: none). */
void block_hint_set(block_hint_fn fn, void *ctx);
/* The calling thread is about to block for long. */
void block_hint(void);

#endif
