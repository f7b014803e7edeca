/*
 * Byte-range locks between two clients (RFC 8881 §9, §18.10 LOCK, §18.11
 * LOCKT, §18.12 LOCKU): conflicts with the exact LOCK4denied, read sharing,
 * to-EOF ranges, split/merge/upgrade/downgrade of one owner's locks, argument
 * errors, CLOSE with locks held (§18.2.3), and locks released by lease
 * expiry (§8.3). Run on the mem and vfs backends; the expiry group on mem
 * with --lease 3.
 */
#include <string.h>

#include "state_helpers.h"

static struct fo_env env;

#define SA (env.cl.sess)
#define CIDA (env.cl.clientid)

/* A file opened for read and write by A (owner "oa") and by a new client B (owner "ob"). */
struct two {
	struct harness_client b;
	struct fo_fh d, f;
	struct stateid4 oa, ob;
};

static void two_open(struct two *t, const char *prefix)
{
	fo_client_new(&env, &t->b, NULL);
	fo_testdir(&env, prefix, &t->d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &t->d, "f", "0123456789", 10, &t->f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &t->d, "f", "oa", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &t->oa, NULL),
		   NFS4_OK);
	assert_nfs(st_open_simple(t->b.sess, t->b.clientid, &t->d, "f", "ob",
				  OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, false, &t->ob,
				  NULL),
		   NFS4_OK);
}

static void two_close(struct two *t)
{
	assert_nfs(st_close(SA, &t->f, &t->oa, NULL), NFS4_OK);
	assert_nfs(st_close(t->b.sess, &t->f, &t->ob, NULL), NFS4_OK);
	harness_client_free(&t->b, false);
}

static void check_denied(const struct st_denied *d, uint64_t off, uint64_t len, uint32_t type,
			 uint64_t clientid, const char *owner)
{
	assert_int_equal(d->offset, off);
	assert_int_equal(d->length, len);
	assert_int_equal(d->locktype, type);
	assert_int_equal(d->clientid, clientid);
	assert_int_equal(d->olen, strlen(owner));
	assert_memory_equal(d->owner, owner, d->olen);
}

static void write_lock_conflicts(void **state)
{
	struct two t;
	struct stateid4 la, lb, l2;
	struct st_denied dn;

	(void)state;
	two_open(&t, "wl");
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 100, &t.oa, CIDA, "la", &la, NULL), NFS4_OK);
	assert_false(st_sid_same_other(&la, &t.oa));
	/* B: overlapping WRITE and READ are denied, with A's lock described (§18.10.4). */
	memset(&dn, 0, sizeof(dn));
	assert_nfs(
		st_lock_new(t.b.sess, &t.f, WRITE_LT, 50, 10, &t.ob, t.b.clientid, "lb", &lb, &dn),
		NFS4ERR_DENIED);
	check_denied(&dn, 0, 100, WRITE_LT, CIDA, "la");
	assert_nfs(st_lock_new(t.b.sess, &t.f, READ_LT, 99, 1, &t.ob, t.b.clientid, "lb", &lb, &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, 100, WRITE_LT, CIDA, "la");
	/* The blocking variants are answered the same way (no blocking). */
	assert_nfs(
		st_lock_new(t.b.sess, &t.f, WRITEW_LT, 0, 1, &t.ob, t.b.clientid, "lb", &lb, &dn),
		NFS4ERR_DENIED);
	assert_nfs(st_lock_new(t.b.sess, &t.f, READW_LT, 0, 1, &t.ob, t.b.clientid, "lb", &lb, &dn),
		   NFS4ERR_DENIED);
	/* LOCKT agrees; beyond the range it is free. */
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 99, 1, t.b.clientid, "lb", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, 100, WRITE_LT, CIDA, "la");
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 100, ST_ALL_ONES, t.b.clientid, "lb", &dn),
		   NFS4_OK);
	/* The owner's own lock never conflicts with itself (LOCKT with A's owner). */
	assert_nfs(st_lockt(SA, &t.f, WRITE_LT, 0, 100, CIDA, "la", &dn), NFS4_OK);
	/* Another lock owner of A's own client conflicts like anyone else. */
	assert_nfs(st_lockt(SA, &t.f, READ_LT, 0, 1, CIDA, "la-other", &dn), NFS4ERR_DENIED);
	check_denied(&dn, 0, 100, WRITE_LT, CIDA, "la");
	/* B locks beyond A's range: OK, seqid 1 for B's new lock stateid. */
	assert_nfs(st_lock_new(t.b.sess, &t.f, WRITE_LT, 100, 10, &t.ob, t.b.clientid, "lb", &lb,
			       NULL),
		   NFS4_OK);
	/* Now A is denied at 105 by B. */
	assert_nfs(st_lock_exist(SA, &t.f, READ_LT, 105, 1, &la, &l2, &dn), NFS4ERR_DENIED);
	check_denied(&dn, 100, 10, WRITE_LT, t.b.clientid, "lb");
	/* A failed LOCK does not change the lock stateid. */
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 100, &l2), NFS4_OK);
	assert_true(st_sid_same_other(&la, &l2));
	assert_int_equal(l2.seqid, la.seqid + 1);
	/* A's range is free for B now. */
	l2 = lb;
	assert_nfs(st_lock_exist(t.b.sess, &t.f, WRITE_LT, 0, 100, &lb, &lb, NULL), NFS4_OK);
	assert_int_equal(lb.seqid, l2.seqid + 1);
	assert_nfs(st_locku(t.b.sess, &t.f, WRITE_LT, &lb, 0, ST_ALL_ONES, &lb), NFS4_OK);
	assert_int_equal(lb.seqid, l2.seqid + 2);
	two_close(&t);
}

/*
 * §8.2.2: "When such a set of locks is first created, the server returns a
 * stateid with seqid value of one"; each LOCK/LOCKU that changes it adds one.
 */
static void new_lock_stateid_seqid(void **state)
{
	struct two t;
	struct stateid4 la, l2;

	(void)state;
	two_open(&t, "seq");
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 1, &t.oa, CIDA, "sa", &la, NULL), NFS4_OK);
	assert_int_equal(la.seqid, 1);
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 5, 1, &la, &l2, NULL), NFS4_OK);
	assert_int_equal(l2.seqid, 2);
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &l2, 0, ST_ALL_ONES, &l2), NFS4_OK);
	assert_int_equal(l2.seqid, 3);
	two_close(&t);
}

static void read_locks_share(void **state)
{
	struct two t;
	struct stateid4 la, lb;
	struct st_denied dn;

	(void)state;
	two_open(&t, "rl");
	assert_nfs(st_lock_new(SA, &t.f, READ_LT, 0, 10, &t.oa, CIDA, "ra", &la, NULL), NFS4_OK);
	assert_nfs(
		st_lock_new(t.b.sess, &t.f, READ_LT, 5, 10, &t.ob, t.b.clientid, "rb", &lb, NULL),
		NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 0, ST_ALL_ONES, t.b.clientid, "rb", &dn),
		   NFS4_OK);
	/* A write lock over A's own read lock is denied by B's read lock only. */
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 0, 5, &la, &la, &dn), NFS4_OK);
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 0, 6, &la, &la, &dn), NFS4ERR_DENIED);
	check_denied(&dn, 5, 10, READ_LT, t.b.clientid, "rb");
	/* B's write inside its own read lock is denied by A's read lock on [5,10). */
	assert_nfs(st_lock_exist(t.b.sess, &t.f, WRITE_LT, 9, 1, &lb, &lb, &dn), NFS4ERR_DENIED);
	check_denied(&dn, 5, 5, READ_LT, CIDA, "ra");
	assert_nfs(st_lock_exist(t.b.sess, &t.f, WRITE_LT, 10, 1, &lb, &lb, &dn), NFS4_OK);
	/* A holds [0,5) WRITE and [5,10) READ; B holds [5,10) READ, [10,11) WRITE, [11,15) READ. */
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 4, 1, t.b.clientid, "rb", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, 5, WRITE_LT, CIDA, "ra");
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 7, 1, t.b.clientid, "rb-2", &dn),
		   NFS4ERR_DENIED);
	assert_true(dn.locktype == READ_LT);
	assert_nfs(st_locku(SA, &t.f, READ_LT, &la, 0, ST_ALL_ONES, &la), NFS4_OK);
	assert_nfs(st_locku(t.b.sess, &t.f, READ_LT, &lb, 0, ST_ALL_ONES, &lb), NFS4_OK);
	two_close(&t);
}

static void to_eof_split_and_merge(void **state)
{
	struct two t;
	struct stateid4 la, lb;
	struct st_denied dn;

	(void)state;
	two_open(&t, "eof");
	/* To EOF: length all ones is reported back as such. */
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 100, ST_ALL_ONES, &t.oa, CIDA, "ea", &la, NULL),
		   NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, UINT64_MAX - 1, 1, t.b.clientid, "eb", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 100, ST_ALL_ONES, WRITE_LT, CIDA, "ea");
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 0, 100, t.b.clientid, "eb", &dn), NFS4_OK);
	/* Split: unlock [150, 200) out of [100, EOF). */
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 150, 50, &lb), NFS4_OK);
	assert_int_equal(lb.seqid, la.seqid + 1);
	la = lb;
	assert_nfs(st_lock_new(t.b.sess, &t.f, WRITE_LT, 160, 10, &t.ob, t.b.clientid, "eb", &lb,
			       NULL),
		   NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 149, 1, t.b.clientid, "eb2", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 100, 50, WRITE_LT, CIDA, "ea");
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 199, 10, t.b.clientid, "eb2", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 200, ST_ALL_ONES, WRITE_LT, CIDA, "ea");
	/* Merge: A fills [150,160) and [170,200) back; adjacent ranges coalesce (POSIX). */
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 150, 10, &la, &la, NULL), NFS4_OK);
	assert_nfs(st_locku(t.b.sess, &t.f, WRITE_LT, &lb, 160, 10, &lb), NFS4_OK);
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 160, 40, &la, &la, NULL), NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 0, ST_ALL_ONES, t.b.clientid, "eb2", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 100, ST_ALL_ONES, WRITE_LT, CIDA, "ea");
	/* Unlock all of it at once. */
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, ST_ALL_ONES, &la), NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 0, ST_ALL_ONES, t.b.clientid, "eb2", &dn),
		   NFS4_OK);
	/* Unlocking what is not locked is fine under POSIX semantics. */
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 10, &la), NFS4_OK);
	two_close(&t);
}

static void upgrade_and_downgrade(void **state)
{
	struct two t;
	struct stateid4 la;
	struct st_denied dn;
	uint32_t first;

	(void)state;
	two_open(&t, "updn");
	assert_nfs(st_lock_new(SA, &t.f, READ_LT, 0, 100, &t.oa, CIDA, "ua", &la, NULL), NFS4_OK);
	first = la.seqid;
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 0, 1, t.b.clientid, "ub", &dn), NFS4_OK);
	/* Upgrade in place. */
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 0, 100, &la, &la, NULL), NFS4_OK);
	assert_int_equal(la.seqid, first + 1);
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 0, 1, t.b.clientid, "ub", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, 100, WRITE_LT, CIDA, "ua");
	/* Downgrade half of it. */
	assert_nfs(st_lock_exist(SA, &t.f, READ_LT, 50, 50, &la, &la, NULL), NFS4_OK);
	assert_int_equal(la.seqid, first + 2);
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 50, 50, t.b.clientid, "ub", &dn), NFS4_OK);
	assert_nfs(st_lockt(t.b.sess, &t.f, WRITE_LT, 60, 1, t.b.clientid, "ub", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 50, 50, READ_LT, CIDA, "ua");
	assert_nfs(st_lockt(t.b.sess, &t.f, READ_LT, 49, 1, t.b.clientid, "ub", &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, 50, WRITE_LT, CIDA, "ua");
	assert_nfs(st_locku(SA, &t.f, READ_LT, &la, 0, 100, &la), NFS4_OK);
	assert_int_equal(la.seqid, first + 3);
	two_close(&t);
}

static void argument_errors(void **state)
{
	struct two t;
	struct stateid4 la, ro, dummy;
	struct LOCK4args a;
	struct st_denied dn;

	(void)state;
	two_open(&t, "args");
	/* §18.10.3 / §18.11.3 / §18.12.3: length 0, or a range past 2^64-1, is NFS4ERR_INVAL. */
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 0, &t.oa, CIDA, "xa", &la, NULL),
		   NFS4ERR_INVAL);
	assert_nfs(
		st_lock_new(SA, &t.f, WRITE_LT, UINT64_MAX - 10, 100, &t.oa, CIDA, "xa", &la, NULL),
		NFS4ERR_INVAL);
	assert_nfs(st_lockt(SA, &t.f, WRITE_LT, 0, 0, CIDA, "xa", &dn), NFS4ERR_INVAL);
	assert_nfs(st_lockt(SA, &t.f, WRITE_LT, UINT64_MAX - 10, 100, CIDA, "xa", &dn),
		   NFS4ERR_INVAL);
	/*
	 * A range ending exactly at 2^64-1 is valid. mem supports it; a backend
	 * that cannot represent it (vfs: fcntl offsets are 63-bit) may refuse
	 * it, but with NFS4ERR_BAD_RANGE (RFC 8881 §15.1.8, "a range that
	 * cannot be handled by that server"), never NFS4ERR_LOCK_RANGE, which is about
	 * partial overlaps with the owner's own locks.
	 */
	if (env.be == FO_MEM) {
		assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, UINT64_MAX - 10, 10, &t.oa, CIDA, "xa",
				       &la, NULL),
			   NFS4_OK);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 0, &dummy), NFS4ERR_INVAL);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, UINT64_MAX - 10, 100, &dummy),
			   NFS4ERR_INVAL);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, UINT64_MAX - 10, 10, &la), NFS4_OK);
	} else {
		int st = st_lock_new(SA, &t.f, WRITE_LT, UINT64_MAX - 10, 10, &t.oa, CIDA, "xa",
				     &la, NULL);

		assert_nfs2(st, NFS4_OK, NFS4ERR_BAD_RANGE);
		if (st != NFS4_OK)
			assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 10, &t.oa, CIDA, "xa", &la,
					       NULL),
				   NFS4_OK);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 0, &dummy), NFS4ERR_INVAL);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, UINT64_MAX - 10, 100, &dummy),
			   NFS4ERR_INVAL);
		assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, ST_ALL_ONES, &la), NFS4_OK);
	}
	/* Reclaims outside the grace period: NFS4ERR_NO_GRACE (§18.10.3). */
	memset(&a, 0, sizeof(a));
	a.locktype = READ_LT;
	a.reclaim = true;
	a.offset = 0;
	a.length = 1;
	a.locker.new_lock_owner = false;
	a.locker.u.lock_owner.lock_stateid = la;
	assert_nfs(st_lock_args(SA, &t.f, &a, &dummy, NULL), NFS4ERR_NO_GRACE);
	/* WRITE_LT needs an open with write access (§18.10.3: NFS4ERR_OPENMODE). */
	assert_nfs(st_open_simple(SA, CIDA, &t.d, "f", "xro", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &ro, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 1, &ro, CIDA, "xro-l", &dummy, NULL),
		   NFS4ERR_OPENMODE);
	assert_nfs(st_lock_new(SA, &t.f, READ_LT, 0, 1, &ro, CIDA, "xro-l", &dummy, NULL), NFS4_OK);
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 0, 1, &dummy, NULL, NULL), NFS4ERR_OPENMODE);
	assert_nfs(st_locku(SA, &t.f, READ_LT, &dummy, 0, 1, &dummy), NFS4_OK);
	/* Stateids of the wrong kind: an open stateid as lock stateid and vice versa. */
	assert_nfs(st_lock_exist(SA, &t.f, READ_LT, 0, 1, &t.oa, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_lock_new(SA, &t.f, READ_LT, 0, 1, &la, CIDA, "xa2", NULL, NULL),
		   NFS4ERR_BAD_STATEID);
	assert_nfs(st_locku(SA, &t.f, READ_LT, &t.oa, 0, 1, NULL), NFS4ERR_BAD_STATEID);
	/* B cannot use A's lock stateid. */
	assert_nfs(st_lock_exist(t.b.sess, &t.f, READ_LT, 0, 1, &la, NULL, NULL),
		   NFS4ERR_BAD_STATEID);
	assert_nfs(st_locku(t.b.sess, &t.f, READ_LT, &la, 0, 1, NULL), NFS4ERR_BAD_STATEID);
	/* The current stateid when none is set. */
	assert_nfs(st_locku(SA, &t.f, READ_LT, &st_current_sid, 0, 1, NULL), NFS4ERR_BAD_STATEID);
	{
		struct stateid4 old = st_sid_seq(&la, la.seqid - 1);

		assert_nfs(st_lock_exist(SA, &t.f, READ_LT, 0, 1, &old, NULL, NULL),
			   NFS4ERR_OLD_STATEID);
	}
	assert_nfs(st_close(SA, &t.f, &ro, NULL), NFS4_OK);
	two_close(&t);
}

/* §18.2.3: CLOSE with locks held is NFS4ERR_LOCKS_HELD; afterwards the lock stateid is gone. */
/* LOCKT of what is not a regular file (RFC 8881 §18.11.3). */
static void lockt_non_regular(void **state)
{
	struct fo_fh d, sub, link, fifo;
	struct st_denied dn;

	(void)state;
	fo_testdir(&env, "lockt-types", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4LNK, "link", "sub", 0, 0, NULL, &link, NULL, NULL),
		   NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "fifo", NULL, 0, 0, NULL, &fifo, NULL, NULL),
		   NFS4_OK);
	assert_nfs(st_lockt(SA, &sub, WRITE_LT, 0, 1, CIDA, "lt", &dn), NFS4ERR_ISDIR);
	assert_nfs(st_lockt(SA, &link, WRITE_LT, 0, 1, CIDA, "lt", &dn), NFS4ERR_SYMLINK);
	assert_nfs(st_lockt(SA, &fifo, WRITE_LT, 0, 1, CIDA, "lt", &dn), NFS4ERR_WRONG_TYPE);
}

static void close_with_locks_held(void **state)
{
	struct two t;
	struct stateid4 la, cl;

	(void)state;
	two_open(&t, "lh");
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 10, &t.oa, CIDA, "ha", &la, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &t.f, &t.oa, &cl), NFS4ERR_LOCKS_HELD);
	/* The open survived the refused CLOSE. */
	assert_nfs(st_write(SA, &t.f, &t.oa, 20, "z", 1), NFS4_OK);
	/* I/O with the lock stateid works inside and outside its range for its owner. */
	assert_nfs(st_write(SA, &t.f, &la, 0, "L", 1), NFS4_OK);
	assert_nfs(st_read(SA, &t.f, &la, 0, 1, NULL, NULL), NFS4_OK);
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 10, &la), NFS4_OK);
	assert_nfs(st_close(SA, &t.f, &t.oa, &cl), NFS4_OK);
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &la, 0, 10, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_lock_exist(SA, &t.f, WRITE_LT, 0, 10, &la, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_read(SA, &t.f, &la, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	/* Reopen so that two_close() has an open to close. */
	assert_nfs(st_open_simple(SA, CIDA, &t.d, "f", "oa", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &t.oa, NULL),
		   NFS4_OK);
	two_close(&t);
}

/* One lock owner with locks on two files (one lock stateid per file, §8.2.2 / §9.1.4). */
static void one_owner_two_files(void **state)
{
	struct two t;
	struct fo_fh g;
	struct stateid4 og, l1, l2;

	(void)state;
	two_open(&t, "2f");
	assert_nfs(st_mkfile(SA, CIDA, &t.d, "g", NULL, 0, &g), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &t.d, "g", "oa", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &og, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(SA, &t.f, WRITE_LT, 0, 1, &t.oa, CIDA, "same", &l1, NULL), NFS4_OK);
	assert_nfs(st_lock_new(SA, &g, WRITE_LT, 0, 1, &og, CIDA, "same", &l2, NULL), NFS4_OK);
	assert_false(st_sid_same_other(&l1, &l2));
	/* A lock stateid of f used on g is BAD_STATEID. */
	assert_nfs(st_locku(SA, &g, WRITE_LT, &l1, 0, 1, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_locku(SA, &t.f, WRITE_LT, &l1, 0, 1, NULL), NFS4_OK);
	assert_nfs(st_locku(SA, &g, WRITE_LT, &l2, 0, 1, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &g, &og, NULL), NFS4_OK);
	two_close(&t);
}

/* ------------------------------------------------ lease expiry (mem, --lease 3) */

static void locks_released_by_lease_expiry(void **state)
{
	struct harness_client a, b, a2;
	struct fo_fh d, f;
	struct stateid4 oa, la, ob, lb;
	struct st_denied dn;
	struct nfs4clnt_seq_res seq;
	int st = -1;

	(void)state;
	fo_client_new(&env, &a, NULL);
	fo_client_new(&env, &b, NULL);
	fo_testdir(&env, "lease", &d, NULL, 0);
	assert_nfs(st_mkfile(b.sess, b.clientid, &d, "f", "x", 1, &f), NFS4_OK);
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "oa", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_WRITE, false, &oa, NULL),
		   NFS4_OK);
	assert_nfs(
		st_lock_new(a.sess, &f, WRITE_LT, 0, ST_ALL_ONES, &oa, a.clientid, "la", &la, NULL),
		NFS4_OK);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &ob, NULL),
		   NFS4ERR_SHARE_DENIED);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &ob, NULL),
		   NFS4_OK);
	assert_nfs(st_lock_new(b.sess, &f, READ_LT, 0, 1, &ob, b.clientid, "lb", &lb, &dn),
		   NFS4ERR_DENIED);
	check_denied(&dn, 0, ST_ALL_ONES, WRITE_LT, a.clientid, "la");
	/* A goes silent; B (and the env client) keep renewing. Lease 3 s: expect ≤ ~6 s. */
	for (int i = 0; i < 40; i++) {
		harness_sleep_ms(250);
		assert_nfs(nfs4clnt_session_sequence(b.sess, &seq), NFS4_OK);
		assert_nfs(nfs4clnt_session_sequence(env.cl.sess, &seq), NFS4_OK);
		st = st_lock_new(b.sess, &f, READ_LT, 0, 1, &ob, b.clientid, "lb", &lb, &dn);
		if (st != NFS4ERR_DENIED)
			break;
	}
	assert_nfs(st, NFS4_OK);
	/* A's deny went with its open: B may now open for write. */
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "ob", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &ob, NULL),
		   NFS4_OK);
	/* A's session went with its client (§2.10.13? expiry destroys sessions: BADSESSION). */
	assert_nfs(nfs4clnt_session_sequence(a.sess, &seq), NFS4ERR_BADSESSION);
	/* A comes back as a new client; its old stateids are expired (§8.3). */
	fo_client_new(&env, &a2, NULL);
	assert_false(a2.clientid == a.clientid);
	assert_nfs(st_read(a2.sess, &f, &oa, 0, 1, NULL, NULL), NFS4ERR_EXPIRED);
	assert_nfs(st_locku(a2.sess, &f, WRITE_LT, &la, 0, 1, NULL), NFS4ERR_EXPIRED);
	{
		struct stateid4 sids[2] = {oa, la};
		uint32_t codes[2];

		assert_nfs(st_test_stateids(a2.sess, sids, 2, codes), NFS4_OK);
		assert_nfs(codes[0], NFS4ERR_EXPIRED);
		assert_nfs(codes[1], NFS4ERR_EXPIRED);
	}
	assert_nfs(st_locku(b.sess, &f, READ_LT, &lb, 0, 1, &lb), NFS4_OK);
	assert_nfs(st_close(b.sess, &f, &ob, NULL), NFS4_OK);
	harness_client_free(&a2, false);
	harness_client_free(&b, false);
	harness_client_free(&a, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_lock_stateid_seqid), cmocka_unit_test(write_lock_conflicts),
		cmocka_unit_test(read_locks_share),	  cmocka_unit_test(to_eof_split_and_merge),
		cmocka_unit_test(upgrade_and_downgrade),  cmocka_unit_test(argument_errors),
		cmocka_unit_test(lockt_non_regular),	  cmocka_unit_test(close_with_locks_held),
		cmocka_unit_test(one_owner_two_files),
	};
	const struct CMUnitTest lease_tests[] = {
		cmocka_unit_test(locks_released_by_lease_expiry),
	};
	int failed = fo_run_both("state_lock", tests, &env);

	failed += fo_run_lease("state_lock_lease", lease_tests,
			       sizeof(lease_tests) / sizeof(lease_tests[0]), &env, "3");
	return failed;
}
