/*
 * The watchdog: notices calls that run long and makes up for them.
 *
 * Every pool thread has a slot saying whether it runs a call, since when,
 * and of which connection it is still the reader (internal.h: inline
 * first). A thread of its own ticks every RPC_CALL_SLOW_US while some call
 * runs and, for each call running longer than that:
 *  - re-arms its connection if the call still holds it, so the
 *    connection's next calls go to other threads;
 *  - lets one more pool thread be active (pool.c parks the threads beyond
 *    the active limit), so a call that blocks (fsync, a slow disk, a stuck
 *    backend) costs the others no thread, up to the size of the pool.
 * A call that knows it is about to block (util/blockhint.h: a directory
 * fsync) is made slow at once by its own thread, the same way: calls that
 * take a millisecond would otherwise hold the active threads all the time
 * they block, and calls that could share a flush with them (group commit)
 * would wait in the socket instead of next to them.
 * It is a thread of its own, not an event in the pool's epoll set, because
 * the threads that would take that event may be the ones that are stuck.
 */
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "rpc/internal.h"
#include "util/clock.h"
#include "util/log.h"

static void watchdog_timer(struct rpc_server *srv, long ns, long interval_ns)
{
	struct itimerspec its = {.it_value.tv_nsec = ns, .it_interval.tv_nsec = interval_ns};

	if (timerfd_settime(srv->watchdogfd, 0, &its, NULL) < 0)
		log_warn(RPC_MODULE, "watchdog timer: %s", strerror(errno));
}

/* The watchdog must be ticking: a call is starting. */
static void watchdog_ensure(struct rpc_server *srv)
{
	if (!atomic_load_explicit(&srv->watching, memory_order_relaxed) &&
	    !atomic_exchange(&srv->watching, true))
		watchdog_timer(srv, RPC_CALL_SLOW_US * 1000L, RPC_CALL_SLOW_US * 1000L);
}

void rpc_slot_begin(struct rpc_slot *s, struct rpc_conn *reader_of, bool held)
{
	pthread_mutex_lock(&s->lock);
	s->running = true;
	s->conn = reader_of;
	s->held = held && reader_of;
	s->since = time_mono_ns();
	pthread_mutex_unlock(&s->lock);
	watchdog_ensure(s->srv);
}

bool rpc_slot_end(struct rpc_slot *s)
{
	struct rpc_server *srv = s->srv;
	bool kept, slow;

	pthread_mutex_lock(&s->lock);
	kept = s->conn != NULL;
	slow = s->slow;
	s->conn = NULL;
	s->held = false;
	s->running = false;
	s->slow = false;
	pthread_mutex_unlock(&s->lock);
	if (slow) {
		pthread_mutex_lock(&srv->pool_lock);
		atomic_fetch_sub(&srv->allowed, 1);
		pthread_mutex_unlock(&srv->pool_lock);
	}
	return kept;
}

/*
 * The call on s (locked) becomes slow: its connection, if it still holds it,
 * goes back to the pool, with the reply held back for it sent. True if it
 * was not slow yet (one more active thread is then wanted: pool_allow).
 */
static bool slot_slow(struct rpc_slot *s)
{
	if (!s->running || s->slow)
		return false;
	s->slow = true;
	if (s->conn) {
		log_debug(RPC_MODULE,
			  "conn=%llu: a call runs long: its connection goes to the pool",
			  (unsigned long long)s->conn->id);
		if (s->held)
			rpc_conn_push(s->conn);
		rpc_io_rearm(s->conn);
		s->conn = NULL;
		s->held = false;
	}
	return true;
}

/* More pool threads may be active: as many parked ones wake (not all of them, to park again). */
static void pool_allow(struct rpc_server *srv, int more)
{
	pthread_mutex_lock(&srv->pool_lock);
	atomic_fetch_add(&srv->allowed, more);
	for (int i = 0; i < more; i++)
		pthread_cond_signal(&srv->pool_cond);
	pthread_mutex_unlock(&srv->pool_lock);
}

void rpc_slot_blocking(void *slot)
{
	struct rpc_slot *s = slot;
	bool now;

	pthread_mutex_lock(&s->lock);
	now = slot_slow(s);
	pthread_mutex_unlock(&s->lock);
	if (now)
		pool_allow(s->srv, 1);
}

/* One tick: deals with the calls that became slow; true if any call still runs. */
static bool watchdog_scan(struct rpc_server *srv)
{
	uint64_t now = time_mono_ns();
	bool running = false;
	int more = 0;

	for (int i = 0; i < srv->nthreads; i++) {
		struct rpc_slot *s = &srv->slots[i];

		pthread_mutex_lock(&s->lock);
		running |= s->running;
		if (s->running && now - s->since >= RPC_CALL_SLOW_US * 1000ull && slot_slow(s))
			more++;
		pthread_mutex_unlock(&s->lock);
	}
	if (more)
		pool_allow(srv, more);
	return running;
}

/*
 * Stops ticking once no call runs. A call that starts meanwhile either sees
 * watching false and starts the timer itself, or is seen by the second scan
 * (its slot is set before it looks at watching, under the lock the scan
 * takes); the timer is stopped before watching is cleared, so a start is
 * never undone.
 */
void *rpc_watchdog_main(void *arg)
{
	struct rpc_server *srv = arg;
	uint64_t ticks;

	while (!atomic_load(&srv->stopping)) {
		if (read(srv->watchdogfd, &ticks, sizeof(ticks)) < 0) {
			if (errno == EINTR)
				continue;
			log_err(RPC_MODULE, "watchdog timer read: %s", strerror(errno));
			break;
		}
		if (atomic_load(&srv->stopping) || watchdog_scan(srv))
			continue;
		watchdog_timer(srv, 0, 0);
		atomic_store(&srv->watching, false);
		if (watchdog_scan(srv))
			watchdog_ensure(srv);
	}
	return NULL;
}

void rpc_watchdog_stop(struct rpc_server *srv)
{
	watchdog_timer(srv, 1, 0); /* a tick at once: it sees stopping */
}
