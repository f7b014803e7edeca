/*
 * OPEN, CLOSE and OPEN_DOWNGRADE (RFC 8881 §18.16, §18.2, §18.18): claims,
 * create modes, share reservations between owners and clients (§9.7),
 * upgrade/downgrade, the access checks of READ/WRITE/SETATTR against the
 * open's mode and other opens' deny modes (§9.1.2, §8.2.3), and the current
 * stateid in COMPOUND chaining (§16.2.3.1.2). Run on the mem and vfs backends.
 */
#include <string.h>

#include "state_helpers.h"

static struct fo_env env;

#define SA (env.cl.sess)
#define CIDA (env.cl.clientid)

static void check_close_result(const struct stateid4 *s)
{
	static const uint8_t zero[12];

	/* §18.2.4: the stateid CLOSE returns is the invalid special stateid. */
	assert_int_equal(s->seqid, 0xffffffffu);
	assert_memory_equal(s->other, zero, 12);
}

static void open_create_unchecked(void **state)
{
	struct fo_fh d;
	struct fo_sattr sa;
	struct st_open o;
	struct stateid4 first, cl;
	struct fo_attrs a;
	char buf[16];
	uint32_t n;

	(void)state;
	fo_testdir(&env, "unch", &d, NULL, 0);
	fo_sa_init(&sa);
	fo_sa_u32(&sa, FATTR4_MODE, 0640);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = CIDA;
	o.owner = "oo-unch";
	o.access = OPEN4_SHARE_ACCESS_BOTH;
	o.create = true;
	o.createmode = UNCHECKED4;
	o.attrs = &sa;
	assert_nfs(st_open(SA, &o), NFS4_OK);
	first = o.sid;
	assert_int_equal(o.sid.seqid, 1);
	assert_true(o.rflags & OPEN4_RESULT_LOCKTYPE_POSIX);
	assert_false(o.rflags & OPEN4_RESULT_CONFIRM); /* §18.16.4: never in 4.1 */
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE);
	assert_true(fo_mask_has(o.attrset.w, o.attrset.n, FATTR4_MODE));
	assert_true(o.cinfo.after != o.cinfo.before);
	assert_nfs(fo_stat(&env, &o.ofh, &a), NFS4_OK);
	assert_int_equal(a.type, NF4REG);
	assert_int_equal(a.mode & 07777, 0640);
	assert_nfs(st_write(SA, &o.ofh, &o.sid, 0, "hello", 5), NFS4_OK);
	assert_nfs(st_read(SA, &o.ofh, &o.sid, 0, 16, buf, &n), NFS4_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);

	/* UNCHECKED4 on an existing file opens it; size 0 in the attributes truncates. */
	fo_sa_init(&sa);
	fo_sa_u64(&sa, FATTR4_SIZE, 0);
	assert_nfs(st_open(SA, &o), NFS4_OK);
	assert_true(st_sid_same_other(&o.sid, &first)); /* same owner, same file: one stateid */
	assert_int_equal(o.sid.seqid, 2);
	assert_nfs(fo_stat(&env, &o.ofh, &a), NFS4_OK);
	assert_int_equal(a.size, 0);

	assert_nfs(st_close(SA, &o.ofh, &o.sid, &cl), NFS4_OK);
	check_close_result(&cl);
	/* The open is gone: its stateid no longer works. */
	assert_nfs(st_read(SA, &o.ofh, &o.sid, 0, 16, buf, &n), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &o.ofh, &o.sid, NULL), NFS4ERR_BAD_STATEID);
	/* Without create, a missing name is NOENT (§18.16.3). */
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "missing";
	o.clientid = CIDA;
	o.owner = "oo-unch";
	o.access = OPEN4_SHARE_ACCESS_READ;
	assert_nfs(st_open(SA, &o), NFS4ERR_NOENT);
}

static void open_create_guarded(void **state)
{
	struct fo_fh d;
	struct st_open o;
	struct stateid4 sid;

	(void)state;
	fo_testdir(&env, "guard", &d, NULL, 0);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "g";
	o.clientid = CIDA;
	o.owner = "oo-guard";
	o.access = OPEN4_SHARE_ACCESS_READ;
	o.create = true;
	o.createmode = GUARDED4;
	assert_nfs(st_open(SA, &o), NFS4_OK);
	sid = o.sid;
	/* §18.16.3: GUARDED4 on an existing name fails with NFS4ERR_EXIST. */
	assert_nfs(st_open(SA, &o), NFS4ERR_EXIST);
	o.owner = "oo-guard-2";
	assert_nfs(st_open(SA, &o), NFS4ERR_EXIST);
	assert_nfs(st_close(SA, &o.ofh, &sid, NULL), NFS4_OK);
}

static void open_create_exclusive(void **state)
{
	struct fo_fh d, first;
	struct st_open o;
	struct fo_sattr sa;
	struct fo_attrs a;
	struct fo_mask m = fo_mask_of(FATTR4_SUPPATTR_EXCLCREAT, -1);

	(void)state;
	fo_testdir(&env, "excl", &d, NULL, 0);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "x4";
	o.clientid = CIDA;
	o.owner = "oo-excl";
	o.access = OPEN4_SHARE_ACCESS_BOTH;
	o.create = true;
	o.createmode = EXCLUSIVE4;
	memcpy(o.verf, "verf-one", 8);
	assert_nfs(st_open(SA, &o), NFS4_OK);
	first = o.ofh;
	/* §18.16.3: a retry with the same verifier succeeds on the same file... */
	assert_nfs(st_open(SA, &o), NFS4_OK);
	assert_int_equal(o.ofh.len, first.len);
	assert_memory_equal(o.ofh.data, first.data, first.len);
	/* ...another verifier is NFS4ERR_EXIST. */
	memcpy(o.verf, "verf-two", 8);
	assert_nfs(st_open(SA, &o), NFS4ERR_EXIST);
	o.createmode = GUARDED4;
	assert_nfs(st_open(SA, &o), NFS4ERR_EXIST);
	memcpy(o.verf, "verf-one", 8);
	o.createmode = EXCLUSIVE4;
	assert_nfs(st_open(SA, &o), NFS4_OK);
	assert_nfs(st_close(SA, &o.ofh, &o.sid, NULL), NFS4_OK);

	/* EXCLUSIVE4_1 with attributes (when the server lets mode be set at exclusive create). */
	assert_nfs(fo_getattr(&env, &d, &m, &a), NFS4_OK);
	assert_true(a.has[FATTR4_SUPPATTR_EXCLCREAT]);
	fo_sa_init(&sa);
	if (fo_mask_has(a.suppattr_exclcreat, 3, FATTR4_MODE))
		fo_sa_u32(&sa, FATTR4_MODE, 0600);
	o.name = "x41";
	o.createmode = EXCLUSIVE4_1;
	o.attrs = &sa;
	memcpy(o.verf, "verf-41a", 8);
	assert_nfs(st_open(SA, &o), NFS4_OK);
	first = o.ofh;
	if (sa.n) {
		assert_true(fo_mask_has(o.attrset.w, o.attrset.n, FATTR4_MODE));
		assert_nfs(fo_stat(&env, &o.ofh, &a), NFS4_OK);
		assert_int_equal(a.mode & 07777, 0600);
	}
	assert_nfs(st_open(SA, &o), NFS4_OK);
	assert_memory_equal(o.ofh.data, first.data, first.len);
	memcpy(o.verf, "verf-41b", 8);
	assert_nfs(st_open(SA, &o), NFS4ERR_EXIST);
	/* Another owner retrying with the right verifier gets the file too. */
	memcpy(o.verf, "verf-41a", 8);
	{
		struct st_open o2 = o;

		o2.owner = "oo-excl-2";
		assert_nfs(st_open(SA, &o2), NFS4_OK);
		assert_false(st_sid_same_other(&o2.sid, &o.sid));
		assert_nfs(st_close(SA, &o2.ofh, &o2.sid, NULL), NFS4_OK);
	}
	assert_nfs(st_close(SA, &o.ofh, &o.sid, NULL), NFS4_OK);
}

static void open_non_regular_files(void **state)
{
	struct fo_fh d, sub, l, p, f;
	struct st_open o;

	(void)state;
	fo_testdir(&env, "types", &d, NULL, 0);
	assert_nfs(fo_mkdir(&env, &d, "sub", &sub), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4LNK, "l", "f", 0, 0, NULL, &l, NULL, NULL), NFS4_OK);
	assert_nfs(fo_create(&env, &d, NF4FIFO, "p", NULL, 0, 0, NULL, &p, NULL, NULL), NFS4_OK);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "x", 1, &f), NFS4_OK);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.clientid = CIDA;
	o.owner = "oo-types";
	o.access = OPEN4_SHARE_ACCESS_READ;
	/* §18.16.3 */
	o.name = "sub";
	assert_nfs(st_open(SA, &o), NFS4ERR_ISDIR);
	o.name = "l";
	assert_nfs(st_open(SA, &o), NFS4ERR_SYMLINK);
	o.name = "p";
	assert_nfs(st_open(SA, &o), NFS4ERR_WRONG_TYPE);
	o.create = true;
	o.createmode = UNCHECKED4;
	o.name = "sub";
	assert_nfs(st_open(SA, &o), NFS4ERR_ISDIR);
	o.create = false;
	/* CLAIM_FH on the objects themselves. */
	o.claim = CLAIM_FH;
	o.fh = &sub;
	assert_nfs(st_open(SA, &o), NFS4ERR_ISDIR);
	o.fh = &l;
	assert_nfs(st_open(SA, &o), NFS4ERR_SYMLINK);
	o.fh = &p;
	assert_nfs(st_open(SA, &o), NFS4ERR_WRONG_TYPE);
	/* CLAIM_NULL needs a directory as the current filehandle. */
	o.claim = CLAIM_NULL;
	o.dir = &f;
	o.name = "x";
	assert_nfs(st_open(SA, &o), NFS4ERR_NOTDIR);
}

static void open_claims(void **state)
{
	struct fo_fh d, f;
	struct st_open o;
	struct stateid4 gone;

	(void)state;
	fo_testdir(&env, "claims", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abc", 3, &f), NFS4_OK);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.fh = &f;
	o.clientid = CIDA;
	o.owner = "oo-claims";
	o.access = OPEN4_SHARE_ACCESS_READ;
	/* CLAIM_FH opens the current filehandle (§18.16.3). */
	o.claim = CLAIM_FH;
	assert_nfs(st_open(SA, &o), NFS4_OK);
	assert_memory_equal(o.ofh.data, f.data, f.len);
	gone = o.sid;
	assert_nfs(st_close(SA, &f, &o.sid, NULL), NFS4_OK);
	/* CLAIM_FH with OPEN4_CREATE: nothing to name, NFS4ERR_INVAL. */
	o.create = true;
	o.createmode = UNCHECKED4;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.create = false;
	/* Reclaims outside a grace period: NFS4ERR_NO_GRACE (§8.4.2, §18.16.3). */
	o.claim = CLAIM_PREVIOUS;
	o.deleg_type = OPEN_DELEGATE_NONE;
	assert_nfs(st_open(SA, &o), NFS4ERR_NO_GRACE);
	o.claim = CLAIM_DELEGATE_PREV;
	assert_nfs(st_open(SA, &o), NFS4ERR_NO_GRACE);
	o.claim = CLAIM_DELEG_PREV_FH;
	assert_nfs(st_open(SA, &o), NFS4ERR_NO_GRACE);
	/* Claims on a delegation the client does not hold (here: a closed open): BAD_STATEID. */
	o.deleg_sid = gone;
	o.claim = CLAIM_DELEGATE_CUR;
	assert_nfs(st_open(SA, &o), NFS4ERR_BAD_STATEID);
	o.claim = CLAIM_DELEG_CUR_FH;
	assert_nfs(st_open(SA, &o), NFS4ERR_BAD_STATEID);
}

static void open_bad_share_arguments(void **state)
{
	struct fo_fh d, f;
	struct st_open o;

	(void)state;
	fo_testdir(&env, "badshare", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", NULL, 0, &f), NFS4_OK);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = CIDA;
	o.owner = "oo-badshare";
	/* §18.16.3: share_access must have READ and/or WRITE, no unknown bits; deny <= BOTH. */
	o.access = 0;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.access = 4;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.access = OPEN4_SHARE_ACCESS_READ | 0x40000; /* no such flag */
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.access = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL;
	assert_nfs(st_open(SA, &o), NFS4_OK); /* a defined flag */
	assert_nfs(st_close(SA, &o.ofh, &o.sid, NULL), NFS4_OK);
	o.access = OPEN4_SHARE_ACCESS_READ;
	o.deny = 4;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	o.deny = OPEN4_SHARE_DENY_NONE;
	o.access = OPEN4_SHARE_ACCESS_WANT_NO_DELEG; /* a want without access */
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
	/* The want field (mask 0xFF00) is an enumeration 0..5: 8 is no defined value. */
	o.access = OPEN4_SHARE_ACCESS_READ | 0x0800;
	assert_nfs(st_open(SA, &o), NFS4ERR_INVAL);
}

static void open_want_bits(void **state)
{
	static const struct {
		uint32_t want, deleg, why;
	} cases[] = {
		{OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, OPEN_DELEGATE_NONE, 0},
		{OPEN4_SHARE_ACCESS_WANT_NO_DELEG, OPEN_DELEGATE_NONE_EXT, WND4_NOT_WANTED},
		{OPEN4_SHARE_ACCESS_WANT_CANCEL, OPEN_DELEGATE_NONE_EXT, WND4_CANCELLED},
		{OPEN4_SHARE_ACCESS_WANT_READ_DELEG, OPEN_DELEGATE_NONE_EXT, WND4_RESOURCE},
		{OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, OPEN_DELEGATE_NONE_EXT, WND4_RESOURCE},
		{OPEN4_SHARE_ACCESS_WANT_ANY_DELEG, OPEN_DELEGATE_NONE_EXT, WND4_RESOURCE},
	};
	struct fo_fh d, f;
	struct st_open o;

	(void)state;
	fo_testdir(&env, "want", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", NULL, 0, &f), NFS4_OK);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = CIDA;
	o.owner = "oo-want";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o.access = OPEN4_SHARE_ACCESS_READ | cases[i].want;
		assert_nfs(st_open(SA, &o), NFS4_OK);
		assert_int_equal(o.deleg, cases[i].deleg);
		if (o.deleg == OPEN_DELEGATE_NONE_EXT)
			assert_int_equal(o.why, cases[i].why);
		assert_int_equal(o.sid.seqid, i + 1);
	}
	assert_nfs(st_close(SA, &f, &o.sid, NULL), NFS4_OK);
}

/* §9.7: share reservations between two clients and between owners of one client. */
static void share_reservations(void **state)
{
	struct harness_client b;
	struct fo_fh d, f;
	struct stateid4 a1, a2, b1, b2, b3;

	(void)state;
	fo_client_new(&env, &b, NULL);
	fo_testdir(&env, "share", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "data", 4, &f), NFS4_OK);

	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "a1", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_WRITE, false, &a1, NULL),
		   NFS4_OK);
	/* B wants write: A denies it. */
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b1", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &b1, NULL),
		   NFS4ERR_SHARE_DENIED);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b1", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &b1, NULL),
		   NFS4ERR_SHARE_DENIED);
	/* Reading is fine. */
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b1", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &b1, NULL),
		   NFS4_OK);
	/* B denying read conflicts with A's read access. */
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b2", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_READ, false, &b2, NULL),
		   NFS4ERR_SHARE_DENIED);
	/* B denying write conflicts with nobody's access (everyone reads). */
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b2", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_WRITE, false, &b2, NULL),
		   NFS4_OK);
	/* Another owner of A's own client is refused just the same. */
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "a2", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &a2, NULL),
		   NFS4ERR_SHARE_DENIED);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "a2", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &a2, NULL),
		   NFS4_OK);
	/* A's deny stays after B's opens close; it goes with A's close. */
	assert_nfs(st_close(b.sess, &f, &b2, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &f, &a1, NULL), NFS4_OK);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "b3", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &b3, NULL),
		   NFS4_OK);
	/* Now a DENY_WRITE open conflicts with B's write access. */
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "a1", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_WRITE, false, &a1, NULL),
		   NFS4ERR_SHARE_DENIED);
	/* An upgrade of an existing open that would conflict is refused; the open stays. */
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "a2", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_WRITE, false, NULL, NULL),
		   NFS4ERR_SHARE_DENIED);
	assert_nfs(st_read(SA, &f, &a2, 0, 4, NULL, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &f, &a2, NULL), NFS4_OK);
	assert_nfs(st_close(b.sess, &f, &b1, NULL), NFS4_OK);
	assert_nfs(st_close(b.sess, &f, &b3, NULL), NFS4_OK);
	harness_client_free(&b, false);
}

/* §18.16.3 (upgrade by the same owner) and §18.18.3 (OPEN_DOWNGRADE). */
static void upgrade_and_downgrade(void **state)
{
	struct fo_fh d, f;
	struct stateid4 s1, s2, s3, s4;

	(void)state;
	fo_testdir(&env, "updown", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "0123", 4, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "ud", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &s1, NULL),
		   NFS4_OK);
	assert_int_equal(s1.seqid, 1);
	assert_nfs(st_write(SA, &f, &s1, 0, "x", 1), NFS4ERR_OPENMODE);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "ud", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &s2, NULL),
		   NFS4_OK);
	assert_true(st_sid_same_other(&s1, &s2));
	assert_int_equal(s2.seqid, 2);
	assert_nfs(st_write(SA, &f, &s2, 0, "x", 1), NFS4_OK);
	/* Back to read only. */
	assert_nfs(st_downgrade(SA, &f, &s2, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &s3),
		   NFS4_OK);
	assert_true(st_sid_same_other(&s1, &s3));
	assert_int_equal(s3.seqid, 3);
	assert_nfs(st_write(SA, &f, &s3, 0, "x", 1), NFS4ERR_OPENMODE);
	assert_nfs(st_read(SA, &f, &s3, 0, 4, NULL, NULL), NFS4_OK);
	/* Not a subset of what is open now / never opened with that deny: INVAL. */
	assert_nfs(st_downgrade(SA, &f, &s3, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s4),
		   NFS4ERR_INVAL);
	assert_nfs(st_downgrade(SA, &f, &s3, OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE, &s4),
		   NFS4ERR_INVAL);
	assert_nfs(st_downgrade(SA, &f, &s3, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_WRITE, &s4),
		   NFS4ERR_INVAL);
	/* An older seqid of the open stateid: NFS4ERR_OLD_STATEID (§8.2.2). */
	assert_nfs(st_downgrade(SA, &f, &s2, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &s4),
		   NFS4ERR_OLD_STATEID);
	/* A failed downgrade does not bump the seqid. */
	assert_nfs(st_downgrade(SA, &f, &s3, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &s4),
		   NFS4_OK);
	assert_int_equal(s4.seqid, 4);
	assert_nfs(st_close(SA, &f, &s3, NULL), NFS4ERR_OLD_STATEID);
	assert_nfs(st_close(SA, &f, &s4, NULL), NFS4_OK);
}

/* §8.2.3, §9.1.2, §18.30.3: the open's access mode governs WRITE and SETATTR(size). */
static void open_mode_checks(void **state)
{
	struct fo_fh d, f;
	struct stateid4 r, w;
	char buf[8];
	uint32_t n;

	(void)state;
	fo_testdir(&env, "mode", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abcdef", 6, &f), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "ro", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_NONE, false, &r, NULL),
		   NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f", "wo", OPEN4_SHARE_ACCESS_WRITE,
				  OPEN4_SHARE_DENY_NONE, false, &w, NULL),
		   NFS4_OK);
	assert_nfs(st_write(SA, &f, &r, 0, "x", 1), NFS4ERR_OPENMODE);
	assert_nfs(st_truncate(SA, &f, &r, 2), NFS4ERR_OPENMODE);
	assert_nfs(st_read(SA, &f, &r, 0, 8, buf, &n), NFS4_OK);
	assert_int_equal(n, 6);
	/* A write-only open may read (the server allows it, §9.1.2 lets it). */
	assert_nfs(st_read(SA, &f, &w, 0, 8, buf, &n), NFS4_OK);
	assert_nfs(st_write(SA, &f, &w, 0, "X", 1), NFS4_OK);
	assert_nfs(st_truncate(SA, &f, &w, 3), NFS4_OK);
	assert_nfs(st_read(SA, &f, &r, 0, 8, buf, &n), NFS4_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "Xbc", 3);
	assert_nfs(st_close(SA, &f, &r, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &f, &w, NULL), NFS4_OK);
}

/* Special stateids against another open's deny modes (§8.2.3, §9.7): NFS4ERR_LOCKED. */
static void special_stateids_vs_deny(void **state)
{
	struct harness_client b;
	struct fo_fh d, f;
	struct stateid4 dw, dr;
	char buf[8];
	uint32_t n;

	(void)state;
	fo_client_new(&env, &b, NULL);
	fo_testdir(&env, "deny", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f", "abcdef", 6, &f), NFS4_OK);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "bdw", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_WRITE, false, &dw, NULL),
		   NFS4_OK);
	assert_nfs(st_write(SA, &f, &fo_anon_stateid, 0, "x", 1), NFS4ERR_LOCKED);
	assert_nfs(st_write(SA, &f, &fo_bypass_stateid, 0, "x", 1), NFS4ERR_LOCKED);
	assert_nfs(st_truncate(SA, &f, &fo_anon_stateid, 1), NFS4ERR_LOCKED);
	assert_nfs(st_truncate(SA, &f, &fo_bypass_stateid, 1), NFS4ERR_LOCKED);
	assert_nfs(st_read(SA, &f, &fo_anon_stateid, 0, 8, buf, &n), NFS4_OK);
	assert_nfs(st_read(SA, &f, &fo_bypass_stateid, 0, 8, buf, &n), NFS4_OK);
	/* The opener itself writes through its stateid. */
	assert_nfs(st_write(b.sess, &f, &dw, 0, "A", 1), NFS4_OK);
	assert_nfs(st_close(b.sess, &f, &dw, NULL), NFS4_OK);
	assert_nfs(st_open_simple(b.sess, b.clientid, &d, "f", "bdr", OPEN4_SHARE_ACCESS_READ,
				  OPEN4_SHARE_DENY_READ, false, &dr, NULL),
		   NFS4_OK);
	assert_nfs(st_read(SA, &f, &fo_anon_stateid, 0, 8, buf, &n), NFS4ERR_LOCKED);
	/* READ bypass ignores share reservations for READ. */
	assert_nfs(st_read(SA, &f, &fo_bypass_stateid, 0, 8, buf, &n), NFS4_OK);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "Abcdef", 6);
	assert_nfs(st_write(SA, &f, &fo_anon_stateid, 0, "x", 1), NFS4_OK);
	assert_nfs(st_close(b.sess, &f, &dr, NULL), NFS4_OK);
	/* With nothing open, anonymous I/O is free. */
	assert_nfs(st_write(SA, &f, &fo_anon_stateid, 0, "y", 1), NFS4_OK);
	assert_nfs(st_read(SA, &f, &fo_anon_stateid, 0, 8, buf, &n), NFS4_OK);
	harness_client_free(&b, false);
}

/* §8.2.4 / §8.2.2: a stateid is good only for the file it was issued for. */
static void stateid_of_another_file(void **state)
{
	struct fo_fh d, f1, f2;
	struct stateid4 s1, s2;

	(void)state;
	fo_testdir(&env, "other", &d, NULL, 0);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f1", "1", 1, &f1), NFS4_OK);
	assert_nfs(st_mkfile(SA, CIDA, &d, "f2", "2", 1, &f2), NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f1", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &s1, NULL),
		   NFS4_OK);
	assert_nfs(st_open_simple(SA, CIDA, &d, "f2", "o", OPEN4_SHARE_ACCESS_BOTH,
				  OPEN4_SHARE_DENY_NONE, false, &s2, NULL),
		   NFS4_OK);
	assert_false(st_sid_same_other(&s1, &s2));
	assert_nfs(st_read(SA, &f2, &s1, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_write(SA, &f2, &s1, 0, "x", 1), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f2, &s1, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f1, &s1, NULL), NFS4_OK);
	assert_nfs(st_close(SA, &f2, &s2, NULL), NFS4_OK);
}

/* §16.2.3.1.2: OPEN sets the current stateid; later ops of the COMPOUND use it. */
static void current_stateid_chaining(void **state)
{
	struct fo_fh d, f;
	struct st_open o;
	struct nfs4clnt_compound *cmp;
	struct nfs4clnt_res res;
	struct stateid4 cl, lk, lu;

	(void)state;
	fo_testdir(&env, "cur", &d, NULL, 0);
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = CIDA;
	o.owner = "oo-cur";
	o.access = OPEN4_SHARE_ACCESS_BOTH;
	o.create = true;
	o.createmode = UNCHECKED4;

	/* PUTFH d; OPEN; WRITE(cur); READ(cur); CLOSE(cur). */
	cmp = fo_cmp();
	fo_add_putfh(cmp, &d);
	assert_true(st_add_open(cmp, &o));
	{
		struct WRITE4args w = {.stateid = st_current_sid,
				       .offset = 0,
				       .stable = FILE_SYNC4,
				       .data = {3, (const uint8_t *)"abc"}};
		struct READ4args r = {.stateid = st_current_sid, .offset = 0, .count = 16};
		struct CLOSE4args c = {.seqid = 0, .open_stateid = st_current_sid};

		assert_true(xdr_enc_WRITE4args(nfs4clnt_compound_add(cmp, OP_WRITE), &w));
		assert_true(xdr_enc_READ4args(nfs4clnt_compound_add(cmp, OP_READ), &r));
		assert_true(xdr_enc_CLOSE4args(nfs4clnt_compound_add(cmp, OP_CLOSE), &c));
	}
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_OPEN), NFS4_OK);
	assert_true(st_dec_open(nfs4clnt_res_body(&res), &o));
	assert_nfs(fo_res(&res, OP_WRITE), NFS4_OK);
	{
		struct WRITE4resok w;
		struct READ4resok r;

		assert_true(xdr_dec_WRITE4resok(nfs4clnt_res_body(&res), &w));
		assert_int_equal(w.count, 3);
		assert_nfs(fo_res(&res, OP_READ), NFS4_OK);
		assert_true(xdr_dec_READ4resok(nfs4clnt_res_body(&res), &r));
		assert_int_equal(r.data.len, 3);
		assert_memory_equal(r.data.data, "abc", 3);
	}
	assert_nfs(fo_res(&res, OP_CLOSE), NFS4_OK);
	assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), &cl));
	check_close_result(&cl);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);
	/* The open really is closed. */
	assert_nfs(fo_lookup(&env, &d, "f", &f), NFS4_OK);
	assert_nfs(st_read(SA, &f, &o.sid, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);

	/* PUTFH d; OPEN; LOCK(new owner, open stateid = cur); LOCKU(cur); GETFH. */
	o.create = false;
	cmp = fo_cmp();
	fo_add_putfh(cmp, &d);
	assert_true(st_add_open(cmp, &o));
	{
		struct LOCK4args l;
		struct LOCKU4args u = {.locktype = WRITE_LT,
				       .seqid = 0,
				       .lock_stateid = st_current_sid,
				       .offset = 0,
				       .length = 10};

		memset(&l, 0, sizeof(l));
		l.locktype = WRITE_LT;
		l.offset = 0;
		l.length = 10;
		l.locker.new_lock_owner = true;
		l.locker.u.open_owner.open_stateid = st_current_sid;
		l.locker.u.open_owner.lock_owner.clientid = CIDA;
		l.locker.u.open_owner.lock_owner.owner = xdr_opaque_str("lo-cur");
		assert_true(xdr_enc_LOCK4args(nfs4clnt_compound_add(cmp, OP_LOCK), &l));
		assert_true(xdr_enc_LOCKU4args(nfs4clnt_compound_add(cmp, OP_LOCKU), &u));
	}
	fo_add(cmp, OP_GETFH);
	assert_nfs(fo_send(&env, NULL, cmp, &res), NFS4_OK);
	assert_nfs(fo_res(&res, OP_PUTFH), NFS4_OK);
	assert_nfs(fo_res(&res, OP_OPEN), NFS4_OK);
	assert_true(st_dec_open(nfs4clnt_res_body(&res), &o));
	assert_nfs(fo_res(&res, OP_LOCK), NFS4_OK);
	assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), &lk));
	assert_false(st_sid_same_other(&lk, &o.sid));
	assert_nfs(fo_res(&res, OP_LOCKU), NFS4_OK);
	assert_true(xdr_dec_stateid4(nfs4clnt_res_body(&res), &lu));
	assert_true(st_sid_same_other(&lk, &lu));
	assert_int_equal(lu.seqid, lk.seqid + 1);
	assert_nfs(fo_res_getfh(&res, &f), NFS4_OK);
	nfs4clnt_res_free(&res);
	nfs4clnt_compound_free(cmp);

	/* With no current stateid, using it is NFS4ERR_BAD_STATEID. */
	assert_nfs(st_read(SA, &f, &st_current_sid, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	/* The invalid special stateid (what CLOSE returns) is never valid. */
	assert_nfs(st_read(SA, &f, &st_invalid_sid, 0, 1, NULL, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f, &st_invalid_sid, NULL), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(SA, &f, &o.sid, &cl), NFS4_OK);
	check_close_result(&cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_create_unchecked),
		cmocka_unit_test(open_create_guarded),
		cmocka_unit_test(open_create_exclusive),
		cmocka_unit_test(open_non_regular_files),
		cmocka_unit_test(open_claims),
		cmocka_unit_test(open_bad_share_arguments),
		cmocka_unit_test(open_want_bits),
		cmocka_unit_test(share_reservations),
		cmocka_unit_test(upgrade_and_downgrade),
		cmocka_unit_test(open_mode_checks),
		cmocka_unit_test(special_stateids_vs_deny),
		cmocka_unit_test(stateid_of_another_file),
		cmocka_unit_test(current_stateid_chaining),
	};

	return fo_run_both("state_open", tests, &env);
}
