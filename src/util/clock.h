#ifndef NFS4D_UTIL_CLOCK_H
#define NFS4D_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic clock in nanoseconds: for leases, timeouts and latencies. */
static inline uint64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t time_mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

#endif
