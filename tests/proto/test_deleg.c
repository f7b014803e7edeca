/*
 * Delegations (RFC 8881 §10.2-10.4): granted on OPEN where safe, recalled
 * with CB_RECALL when another client's OPEN, READ/WRITE, SETATTR, REMOVE,
 * RENAME or LINK conflicts (which gets NFS4ERR_DELAY meanwhile), returned with
 * DELEGRETURN, asked for size and change with CB_GETATTR, retried through
 * NFS4ERR_DELAY answers, and revoked when not returned within a lease — the
 * holder then sees SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID.
 *
 * Client A (the holder) answers callbacks through a cb_agent; client B (the
 * env's client) has no back channel, so it never holds a delegation itself.
 */
#include <string.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

#define LEASE_S 3

static struct fo_env env;
#define B (&env.cl)

static int setup(void **state)
{
	(void)state;
	cbc_env_setup(&env, "3");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fo_env_teardown(&env);
	return 0;
}

static void read_delegation_recalled_by_a_writer(void **state)
{
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;
	uint8_t buf[8];
	uint32_t n;

	(void)state;
	cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
	fo_testdir(&env, "rd", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);

	/* Reading does not conflict with a read delegation. */
	assert_nfs(st_read(B->sess, &f, &fo_anon_stateid, 0, 3, buf, &n), NFS4_OK);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0);

	/* Writing does: B waits (DELAY) while A is asked to return the delegation. */
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);
	assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, 1, 5000), 1);
	assert_true(st_sid_same_other(&a.ag.recall_sid, &ao.dsid));
	assert_int_equal(a.ag.recall_fh_len, f.len);
	assert_memory_equal(a.ag.recall_fh, f.data, f.len);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);

	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 1); /* one recall, not one per retry */
	/* A returned stateid is gone. */
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

static void write_delegation_answers_getattr_then_is_recalled(void **state)
{
	struct fo_mask m = fo_mask_of(FATTR4_SIZE, FATTR4_CHANGE, -1);
	struct cb_client a;
	struct fo_attrs before, at;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;
	uint8_t data[4096];
	uint32_t st;

	(void)state;
	cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
	fo_testdir(&env, "wr", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(fo_getattr(&env, &f, &m, &before), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &ao);

	/* A has written 4096 bytes it keeps in its cache: it says so through CB_GETATTR. */
	pthread_mutex_lock(&a.ag.lock);
	a.ag.size = sizeof(data);
	a.ag.change = 77;
	pthread_mutex_unlock(&a.ag.lock);
	assert_nfs(fo_getattr(&env, &f, &m, &at), NFS4ERR_DELAY);
	assert_int_equal(cba_wait(&a.ag, &a.ag.getattrs, 1, 5000), 1);
	for (int waited = 0; (st = fo_getattr(&env, &f, &m, &at)) == NFS4ERR_DELAY; waited += 50) {
		assert_true(waited < 5000);
		harness_sleep_ms(50);
	}
	assert_nfs(st, NFS4_OK);
	assert_int_equal(at.size, sizeof(data));
	assert_true(at.change > before.change);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0); /* asking is not recalling */

	/* B's READ conflicts with a write delegation: recalled; A flushes and returns. */
	assert_nfs(st_read(B->sess, &f, &fo_anon_stateid, 0, 3, data, &st), NFS4ERR_DELAY);
	assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, 1, 5000), 1);
	memset(data, 'w', sizeof(data));
	assert_nfs(st_write(a.cl.sess, &f, &ao.dsid, 0, data, sizeof(data)), NFS4_OK);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_READ, &bs), NFS4_OK);
	assert_nfs(fo_getattr(&env, &f, &m, &at), NFS4_OK);
	assert_int_equal(at.size, sizeof(data));
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/* Each operation of B that changes A's delegated file, its name or its attributes recalls it. */
static void conflicting_operations_recall(void **state)
{
	enum { REMOVE, RENAME, LINK, SETATTR, WRITE, NOPS };
	static const char *const names[] = {"remove", "rename", "link", "setattr", "write"};
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct fo_sattr sa;

	(void)state;
	cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
	fo_testdir(&env, "ops", &d, NULL, 0);
	for (int op = 0; op < NOPS; op++) {
		uint32_t st = 0;
		int recalls = cba_count(&a.ag, &a.ag.recalls);

		assert_nfs(st_mkfile(B->sess, B->clientid, &d, names[op], "abc", 3, &f), NFS4_OK);
		cbc_hold(&a, &d, names[op], OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
		for (int round = 0; round < 2; round++) {
			switch (op) {
			case REMOVE:
				st = fo_remove(&env, &d, names[op], NULL);
				break;
			case RENAME:
				st = fo_rename(&env, &d, names[op], &d, "renamed", NULL, NULL);
				break;
			case LINK:
				st = fo_link(&env, &f, &d, "linked", NULL);
				break;
			case SETATTR:
				fo_sa_init(&sa);
				fo_sa_u32(&sa, FATTR4_MODE, 0600);
				st = fo_setattr(&env, B, &f, &fo_anon_stateid, &sa, NULL);
				break;
			case WRITE:
				st = st_write(B->sess, &f, &fo_anon_stateid, 0, "x", 1);
				break;
			}
			if (round == 0) {
				/* First B waits and A is recalled; then A returns and B goes on. */
				if (st != NFS4ERR_DELAY)
					fail_msg("%s: %u, not DELAY", names[op], st);
				assert_int_equal(cba_wait(&a.ag, &a.ag.recalls, recalls + 1, 5000),
						 recalls + 1);
				assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
			} else if (st != NFS4_OK) {
				fail_msg("%s after DELEGRETURN: %u", names[op], st);
			}
		}
		assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
		if (op == RENAME)
			assert_nfs(fo_remove(&env, &d, "renamed", NULL), NFS4_OK);
		else if (op != REMOVE)
			assert_nfs(fo_remove(&env, &d, names[op], NULL), NFS4_OK);
		if (op == LINK)
			assert_nfs(fo_remove(&env, &d, "linked", NULL), NFS4_OK);
	}
	cbc_free(&a, false);
}

/* NFS4ERR_DELAY from the client: the recall is sent again later, until answered. */
static void delay_answers_are_retried(void **state)
{
	const enum cba_mode modes[] = {CBA_DELAY, CBA_OP_DELAY};
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;

	(void)state;
	fo_testdir(&env, "delay", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
		cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
		cba_set_mode(&a.ag, modes[i]);
		assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs),
			   NFS4ERR_DELAY);
		/* The agent checks each retry's slot and sequence id (same for a CB_SEQUENCE
		 * DELAY). */
		assert_true(cba_wait(&a.ag, &a.ag.delays, 3, 8000) >= 3);
		cba_set_mode(&a.ag, CBA_OK);
		assert_true(cba_wait(&a.ag, &a.ag.recalls, 1, 8000) >= 1);
		assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
		assert_nfs(cbc_plain_open_retry(B, &a, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs),
			   NFS4_OK);
		assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
		assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
		cbc_free(&a, false);
	}
}

/*
 * A holder that never answers: after a lease its delegation is revoked and B
 * proceeds; A is told (RECALLABLE_STATE_REVOKED) until it frees the stateid.
 */
static void unreturned_delegation_is_revoked(void **state)
{
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bs;
	uint32_t code;

	(void)state;
	cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
	fo_testdir(&env, "revoke", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
	assert_int_equal(cbc_renew(&a.cl) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED, 0);
	cba_set_mode(&a.ag, CBA_SILENT);

	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4ERR_DELAY);
	assert_nfs(cbc_plain_open_retry(B, &a, &d, "f", OPEN4_SHARE_ACCESS_WRITE, &bs), NFS4_OK);
	assert_true(cba_count(&a.ag, &a.ag.compounds) >= 1); /* it was asked */

	assert_true(cbc_renew(&a.cl) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	assert_nfs(st_test_stateids(a.cl.sess, &ao.dsid, 1, &code), NFS4_OK);
	assert_int_equal(code, NFS4ERR_DELEG_REVOKED);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4ERR_DELEG_REVOKED);
	assert_nfs(st_free_stateid(a.cl.sess, &ao.dsid), NFS4_OK);
	assert_int_equal(cbc_renew(&a.cl) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED, 0);
	assert_nfs(st_test_stateids(a.cl.sess, &ao.dsid, 1, &code), NFS4_OK);
	assert_int_equal(code, NFS4ERR_BAD_STATEID);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/* What OPEN answers about delegations, as the WANT bits ask (RFC 8881 §18.16.3). */
static void want_bits_and_delegation_claims(void **state)
{
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao, o;
	struct stateid4 bs;

	(void)state;
	cbc_new(env.srv->hs, &a, "deleg-a", CBA_OK);
	fo_testdir(&env, "want", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
		 OPEN_DELEGATE_READ, &ao);

	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = a.cl.clientid;
	o.owner = "other-owner";
	/* Not wanted. */
	o.access = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.why, WND4_NOT_WANTED);
	/* A write delegation while it holds a read one: no upgrades. */
	o.access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.why, WND4_NOT_SUPP_UPGRADE);
	/* No preference: plain NONE. */
	o.access = OPEN4_SHARE_ACCESS_READ;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE);
	assert_nfs(st_close(a.cl.sess, &f, &o.sid, NULL), NFS4_OK);

	/* Opening under the delegation it holds (CLAIM_DELEG_CUR_FH, CLAIM_DELEGATE_CUR). */
	memset(&o, 0, sizeof(o));
	o.claim = CLAIM_DELEG_CUR_FH;
	o.fh = &f;
	o.clientid = a.cl.clientid;
	o.owner = "cur-owner";
	o.access = OPEN4_SHARE_ACCESS_READ;
	o.deleg_sid = ao.dsid;
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE);
	o.claim = CLAIM_DELEGATE_CUR;
	o.dir = &d;
	o.name = "f";
	assert_nfs(st_open(a.cl.sess, &o), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &o.sid, NULL), NFS4_OK);
	/* Another client's delegation cannot be claimed. */
	o.clientid = B->clientid;
	assert_nfs(st_open(B->sess, &o), NFS4ERR_BAD_STATEID);

	/* B has no back channel: no delegation, for want of resources to recall it. */
	memset(&o, 0, sizeof(o));
	o.dir = &d;
	o.name = "f";
	o.clientid = B->clientid;
	o.owner = "b-owner";
	o.access = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	assert_nfs(st_open(B->sess, &o), NFS4_OK);
	assert_int_equal(o.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.why, WND4_RESOURCE);
	assert_nfs(st_close(B->sess, &f, &o.sid, NULL), NFS4_OK);

	/* A read delegation for a reader is compatible with another client's read open. */
	assert_nfs(cbc_plain_open(B, &d, "f", OPEN4_SHARE_ACCESS_READ, &bs), NFS4_OK);
	assert_int_equal(cba_count(&a.ag, &a.ag.recalls), 0);
	assert_nfs(st_close(B->sess, &f, &bs, NULL), NFS4_OK);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
}

/* Near the limit (--max-delegations), holders are asked to give some back (CB_RECALL_ANY). */
static void recall_any_near_the_limit(void **state)
{
	const char *args[] = {"--backend",	   "mem", "--export", "/ *(rw,no_root_squash)",
			      "--max-delegations", "2",	  NULL};
	struct fo_env v;
	struct cb_client a;
	struct fo_fh d, f[3];
	struct st_open o[3];
	const char *names[] = {"f0", "f1", "f2"};

	(void)state;
	fo_env_attach(&v, fo_srv_start(args), "/");
	harness_client_free(&v.cl, false);
	cbc_new_plain(v.srv->hs, &v.cl, "recall-any-b");
	cbc_new(v.srv->hs, &a, "recall-any", CBA_OK);
	fo_testdir(&v, "any", &d, NULL, 0);
	for (int i = 0; i < 3; i++)
		assert_nfs(st_mkfile(v.cl.sess, v.cl.clientid, &d, names[i], "x", 1, &f[i]),
			   NFS4_OK);
	cbc_hold(&a, &d, "f0", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o[0]);
	assert_int_equal(cba_count(&a.ag, &a.ag.recall_anys), 0);
	cbc_hold(&a, &d, "f1", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &o[1]);
	assert_int_equal(cba_wait(&a.ag, &a.ag.recall_anys, 1, 5000), 1);
	/* At the limit: none, for want of resources. */
	memset(&o[2], 0, sizeof(o[2]));
	o[2].dir = &d;
	o[2].name = "f2";
	o[2].clientid = a.cl.clientid;
	o[2].owner = "holder";
	o[2].access = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	assert_nfs(st_open(a.cl.sess, &o[2]), NFS4_OK);
	assert_int_equal(o[2].deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o[2].why, WND4_RESOURCE);
	assert_nfs(st_close(a.cl.sess, &f[2], &o[2].sid, NULL), NFS4_OK);
	for (int i = 0; i < 2; i++) {
		assert_nfs(st_delegreturn(a.cl.sess, &f[i], &o[i].dsid), NFS4_OK);
		assert_nfs(st_close(a.cl.sess, &f[i], &o[i].sid, NULL), NFS4_OK);
	}
	cbc_free(&a, false);
	fo_env_teardown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_delegation_recalled_by_a_writer),
		cmocka_unit_test(write_delegation_answers_getattr_then_is_recalled),
		cmocka_unit_test(conflicting_operations_recall),
		cmocka_unit_test(delay_answers_are_retried),
		cmocka_unit_test(unreturned_delegation_is_revoked),
		cmocka_unit_test(want_bits_and_delegation_claims),
		cmocka_unit_test(recall_any_near_the_limit),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
