/*
 * nfs4ctl against a live nfs4d (docs/nfs4ctl.md): clients holding opens,
 * locks and delegations are seen with the right counts, ids and back-channel
 * state in every subcommand's JSON (read by a small JSON parser of the
 * test's own, so malformed JSON fails too); "expire" forgets a client so that
 * another client's conflicting open proceeds and the expired client's
 * stateids answer NFS4ERR_EXPIRED; and the socket refuses who is neither
 * root nor in its group, by its mode and by SO_PEERCRED.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cb_agent.h"
#include "fileops.h"
#include "state_helpers.h"

#define OUT_MAX (256 * 1024)

static struct fo_env env;
static char state_dir[300];
#define B (&env.cl)

/* ------------------------------------------------------- a tiny JSON reader */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	char *str;
	size_t n; /* J_ARR, J_OBJ: members */
	struct jv *kids;
	char **keys; /* J_OBJ */
};

struct jp {
	const char *s;
	bool bad;
};

static void jskip(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r')
		p->s++;
}

static char *jparse_str(struct jp *p)
{
	char *out = malloc(strlen(p->s) + 1), *o = out;

	assert_non_null(out);
	if (*p->s++ != '"')
		goto bad;
	while (*p->s && *p->s != '"') {
		char c = *p->s++;

		if ((unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			c = *p->s++;
			if (c == 'u') {
				unsigned v;

				if (sscanf(p->s, "%4x", &v) != 1)
					goto bad;
				p->s += 4;
				c = v < 0x80 ? (char)v : '?';
			} else if (c == 'n') {
				c = '\n';
			} else if (c == 't') {
				c = '\t';
			} else if (c != '"' && c != '\\' && c != '/') {
				goto bad;
			}
		}
		*o++ = c;
	}
	if (*p->s++ != '"')
		goto bad;
	*o = 0;
	return out;
bad:
	p->bad = true;
	*o = 0;
	return out;
}

static void jparse(struct jp *p, struct jv *v)
{
	memset(v, 0, sizeof(*v));
	jskip(p);
	if (*p->s == '{' || *p->s == '[') {
		bool obj = *p->s++ == '{';

		v->t = obj ? J_OBJ : J_ARR;
		jskip(p);
		if (*p->s == (obj ? '}' : ']')) {
			p->s++;
			return;
		}
		for (;;) {
			v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			assert_true(v->kids && v->keys);
			v->keys[v->n] = NULL;
			if (obj) {
				jskip(p);
				v->keys[v->n] = jparse_str(p);
				jskip(p);
				if (*p->s++ != ':')
					p->bad = true;
			}
			jparse(p, &v->kids[v->n++]);
			jskip(p);
			if (p->bad)
				return;
			if (*p->s == ',') {
				p->s++;
				continue;
			}
			if (*p->s++ != (obj ? '}' : ']'))
				p->bad = true;
			return;
		}
	} else if (*p->s == '"') {
		v->t = J_STR;
		v->str = jparse_str(p);
	} else if (strncmp(p->s, "true", 4) == 0 || strncmp(p->s, "false", 5) == 0) {
		v->t = J_BOOL;
		v->b = *p->s == 't';
		p->s += v->b ? 4 : 5;
	} else if (strncmp(p->s, "null", 4) == 0) {
		p->s += 4;
	} else {
		char *end;

		v->t = J_NUM;
		v->num = strtod(p->s, &end);
		if (end == p->s)
			p->bad = true;
		p->s = end;
	}
}

static void jfree(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->kids[i]);
		free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
}

/* Parses text as one JSON document, failing the test if it is not. */
static void jdoc(const char *text, struct jv *v)
{
	struct jp p = {text, false};

	jparse(&p, v);
	jskip(&p);
	if (p.bad || *p.s)
		fail_msg("not JSON (at \"%.40s\"): %s", p.s, text);
}

static struct jv *jget(struct jv *obj, const char *key)
{
	assert_int_equal(obj->t, J_OBJ);
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->kids[i];
	fail_msg("no \"%s\" in a JSON object", key);
	return NULL;
}

static double jnum(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	assert_int_equal(v->t, J_NUM);
	return v->num;
}

static const char *jstr(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	assert_int_equal(v->t, J_STR);
	return v->str;
}

static bool jbool(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	assert_int_equal(v->t, J_BOOL);
	return v->b;
}

static struct jv *jarr(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	assert_int_equal(v->t, J_ARR);
	return v;
}

/* The member of array arr whose key has the string value want, or NULL. */
static struct jv *jfind(struct jv *arr, const char *key, const char *want)
{
	for (size_t i = 0; i < arr->n; i++)
		if (strcmp(jstr(&arr->kids[i], key), want) == 0)
			return &arr->kids[i];
	return NULL;
}

/* ------------------------------------------------------------- nfs4ctl */

/* nfs4ctl --state-dir state_dir ARGS... (NULL-terminated): its exit status; its stdout in out. */
#define ctl(out, ...) harness_ctl(state_dir, false, out, OUT_MAX, __VA_ARGS__)

/* nfs4ctl --json ARGS (one argument at most), asserting success; its output parsed into v. */
static void ctl_json(struct jv *v, const char *cmd, const char *arg)
{
	char *out = malloc(OUT_MAX);

	assert_non_null(out);
	if (ctl(out, "--json", cmd, arg, NULL) != 0)
		fail_msg("nfs4ctl --json %s %s failed: %s", cmd, arg ? arg : "", out);
	jdoc(out, v);
	free(out);
}

static void hex(const uint8_t *p, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void clientid_hex(uint64_t id, char *out)
{
	sprintf(out, "%016llx", (unsigned long long)id);
}

/* ------------------------------------------------------------- setup */

static int setup(void **state)
{
	char dir[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/nfs4d-ctl-XXXXXX", harness_tmpdir());
	assert_non_null(mkdtemp(dir));
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	{
		const char *args[] = {"--backend", "mem", "--export",	 "/ *(rw,no_root_squash)",
				      "--lease",   "10",  "--state-dir", state_dir,
				      NULL};

		fo_env_attach(&env, fo_srv_start(args), "/");
	}
	/* B has no back channel: only A gets delegations. */
	harness_client_free(&env.cl, false);
	cbc_new_plain(env.srv->hs, &env.cl, "ctl-b");
	return 0;
}

static int teardown(void **state)
{
	char dir[300];

	(void)state;
	fo_env_teardown(&env);
	/* nfs4d removed its socket at exit; the directories it was in are ours. */
	rmdir(state_dir);
	snprintf(dir, sizeof(dir), "%s", state_dir);
	*strrchr(dir, '/') = 0;
	rmdir(dir);
	return 0;
}

/* ------------------------------------------------------------- tests */

/* Every subcommand, in JSON, with A holding an open, a lock and a delegation and B an open. */
static void every_subcommand_shows_the_state(void **state)
{
	char aid[17], bid[17], sid[33], other[25], dother[25], lother[25];
	struct cb_client a;
	struct fo_fh d, f, g;
	struct st_open ao;
	struct stateid4 lsid, bsid;
	struct jv v, *c, *arr, *o;
	char *out = malloc(OUT_MAX);

	(void)state;
	assert_non_null(out);
	cbc_new(env.srv->hs, &a, "ctl-a", CBA_OK);
	fo_testdir(&env, "ctl", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "g", "xyz", 3, &g), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, &ao);
	assert_nfs(st_lock_new(a.cl.sess, &f, READ_LT, 0, 10, &ao.sid, a.cl.clientid, "a-lock",
			       &lsid, NULL),
		   NFS4_OK);
	assert_nfs(st_open_simple(B->sess, B->clientid, &d, "g", "b-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &bsid, NULL),
		   NFS4_OK);
	clientid_hex(a.cl.clientid, aid);
	clientid_hex(B->clientid, bid);

	/* clients: both, with their counts and back channels. */
	ctl_json(&v, "clients", NULL);
	arr = jarr(&v, "clients");
	assert_int_equal(arr->n, 2);
	c = jfind(arr, "clientid", aid);
	assert_non_null(c);
	assert_true(jbool(c, "confirmed"));
	assert_int_equal(jnum(c, "sessions"), 1);
	assert_string_equal(jstr(c, "backchannel"), "UP");
	assert_int_equal(jnum(c, "opens"), 1);
	assert_int_equal(jnum(c, "locks"), 1);
	assert_int_equal(jnum(c, "delegations"), 1);
	assert_int_equal(jnum(c, "revoked"), 0);
	assert_true(jnum(c, "lease_left_ms") > 0 && jnum(c, "lease_left_ms") <= 10000);
	assert_true(strncmp(jstr(c, "address"), "127.0.0.1:", 10) == 0);
	assert_non_null(strstr(jstr(c, "owner"), "ctl-a"));
	c = jfind(arr, "clientid", bid);
	assert_non_null(c);
	assert_string_equal(jstr(c, "backchannel"), "UNKNOWN");
	assert_int_equal(jnum(c, "opens"), 1);
	assert_int_equal(jnum(c, "locks"), 0);
	assert_int_equal(jnum(c, "delegations"), 0);
	jfree(&v);

	/* client A: its session, connection, open, lock and delegation by their ids. */
	ctl_json(&v, "client", aid);
	assert_string_equal(jstr(jget(&v, "client"), "clientid"), aid);
	arr = jarr(&v, "sessions");
	assert_int_equal(arr->n, 1);
	hex(a.cl.cs.sessionid, 16, sid);
	assert_string_equal(jstr(&arr->kids[0], "sessionid"), sid);
	assert_int_equal(jnum(&arr->kids[0], "fore_slots"), a.cl.cs.fore.maxrequests);
	assert_int_equal(jnum(&arr->kids[0], "back_slots"), CBA_SLOTS);
	assert_int_equal(jnum(&arr->kids[0], "back_busy"), 0);
	o = jarr(&arr->kids[0], "connections");
	assert_int_equal(o->n, 1);
	assert_string_equal(jstr(&o->kids[0], "dir"), "both");
	assert_false(jbool(&o->kids[0], "closed"));
	hex(ao.sid.other, 12, other);
	hex(ao.dsid.other, 12, dother);
	hex(lsid.other, 12, lother);
	arr = jarr(&v, "opens");
	assert_int_equal(arr->n, 1);
	assert_string_equal(jstr(&arr->kids[0], "stateid"), other);
	assert_string_equal(jstr(&arr->kids[0], "access"), "read");
	assert_string_equal(jstr(&arr->kids[0], "deny"), "none");
	assert_string_equal(jstr(&arr->kids[0], "owner"), "holder");
	assert_string_equal(jstr(&arr->kids[0], "export"), "/");
	arr = jarr(&v, "locks");
	assert_int_equal(arr->n, 1);
	assert_string_equal(jstr(&arr->kids[0], "stateid"), lother);
	assert_int_equal(jnum(&arr->kids[0], "ranges"), 1);
	assert_string_equal(jstr(&arr->kids[0], "owner"), "a-lock");
	arr = jarr(&v, "delegations");
	assert_int_equal(arr->n, 1);
	assert_string_equal(jstr(&arr->kids[0], "stateid"), dother);
	assert_string_equal(jstr(&arr->kids[0], "type"), "read");
	assert_false(jbool(&arr->kids[0], "recalled"));
	assert_true(jnum(&arr->kids[0], "age_ms") >= 0);
	/* The open and the delegation are on the same file. */
	assert_string_equal(jstr(&arr->kids[0], "fh"), jstr(&jarr(&v, "opens")->kids[0], "fh"));
	jfree(&v);

	/* exports: the one export and its rule. */
	ctl_json(&v, "exports", NULL);
	arr = jarr(&v, "exports");
	assert_int_equal(arr->n, 1);
	assert_string_equal(jstr(&arr->kids[0], "path"), "/");
	o = jarr(&arr->kids[0], "clients");
	assert_int_equal(o->n, 1);
	assert_string_equal(jstr(&o->kids[0], "who"), "*");
	assert_non_null(strstr(jstr(&o->kids[0], "options"), "rw,sync,no_root_squash"));
	/* mem keeps nothing on disk: no syncs (vfs's counts: test_async). */
	assert_int_equal(jnum(&arr->kids[0], "meta_syncs"), 0);
	assert_int_equal(jnum(&arr->kids[0], "data_syncs"), 0);
	jfree(&v);

	/* stats: what the clients did so far, and the state alive now. */
	ctl_json(&v, "stats", NULL);
	assert_int_equal(jnum(jget(&v, "state"), "clients"), 2);
	assert_int_equal(jnum(jget(&v, "state"), "delegations"), 1);
	assert_true(jnum(jget(&v, "delegations"), "granted") >= 1);
	assert_true(jnum(jget(&v, "callbacks"), "sent") >= 1); /* A's back channel probe */
	arr = jarr(&v, "ops");
	o = jfind(arr, "op", "OPEN");
	assert_non_null(o);
	assert_true(jnum(o, "calls") >= 4); /* two files made, A's open, B's */
	o = jfind(arr, "op", "LOCK");
	assert_non_null(o);
	assert_int_equal(jnum(o, "calls"), 1);
	assert_int_equal(jnum(o, "errors"), 0);
	{
		struct jv *lat = jarr(o, "latency_us");
		double sum = 0;

		for (size_t i = 0; i < lat->n; i++)
			sum += lat->kids[i].num;
		assert_int_equal(sum, 1); /* one LOCK, in one bucket */
	}
	assert_non_null(jfind(arr, "op", "SEQUENCE"));
	jfree(&v);

	/* trace: the probes of docs/tracing.md. */
	ctl_json(&v, "trace", NULL);
	arr = jarr(&v, "probes");
	assert_non_null(jfind(arr, "name", "cb_send"));
	assert_non_null(jfind(arr, "name", "deleg_revoke"));
	jfree(&v);

	/* The tables carry the same ids. */
	assert_int_equal(ctl(out, "clients", NULL), 0);
	assert_non_null(strstr(out, aid));
	assert_non_null(strstr(out, bid));
	assert_int_equal(ctl(out, "client", aid, NULL), 0);
	assert_non_null(strstr(out, sid));
	assert_non_null(strstr(out, dother));
	assert_int_equal(ctl(out, "stats", NULL), 0);
	assert_non_null(strstr(out, "LOCK"));
	assert_int_equal(ctl(out, "exports", NULL), 0);
	assert_int_equal(ctl(out, "trace", NULL), 0);
	assert_non_null(strstr(out, "deleg_grant"));

	/* Errors: an unknown client (1), a bad command (1), bad usage (2). */
	assert_int_equal(ctl(out, "client", "ffffffffffffffff", NULL), 1);
	assert_int_equal(ctl(out, "client", "xyz", NULL), 1);
	assert_int_equal(ctl(out, "bogus", NULL), 1);
	assert_int_equal(ctl(out, NULL), 2);

	assert_nfs(st_close(B->sess, &g, &bsid, NULL), NFS4_OK);
	assert_nfs(st_locku(a.cl.sess, &f, READ_LT, &lsid, 0, 10, &lsid), NFS4_OK);
	assert_nfs(st_free_stateid(a.cl.sess, &lsid), NFS4_OK);
	assert_nfs(st_delegreturn(a.cl.sess, &f, &ao.dsid), NFS4_OK);
	assert_nfs(st_close(a.cl.sess, &f, &ao.sid, NULL), NFS4_OK);
	cbc_free(&a, false);
	free(out);
}

/*
 * expire: A holds a write delegation and a deny-write open; B's open waits
 * (DELAY, then the recall is not answered) until A is expired, then it
 * proceeds, and A's stateids answer NFS4ERR_EXPIRED.
 */
static void expire_forgets_a_client_and_frees_its_state(void **state)
{
	char aid[17];
	struct cb_client a;
	struct fo_fh d, f;
	struct st_open ao;
	struct stateid4 bsid;
	struct jv v;
	char *out = malloc(OUT_MAX);
	uint8_t buf[4];
	uint32_t n;

	(void)state;
	assert_non_null(out);
	cbc_new(env.srv->hs, &a, "ctl-exp", CBA_SILENT); /* never answers the recall */
	fo_testdir(&env, "exp", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	cbc_hold(&a, &d, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE, &ao);
	clientid_hex(a.cl.clientid, aid);

	assert_nfs(st_open_simple(B->sess, B->clientid, &d, "f", "b-owner",
				  OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &bsid, NULL),
		   NFS4ERR_DELAY);
	/* The recall is out (and never answered): nfs4ctl sees it on the delegation and client. */
	ctl_json(&v, "client", aid);
	assert_true(jnum(jget(&v, "client"), "callbacks") >= 1);
	assert_int_equal(jarr(&v, "delegations")->n, 1);
	assert_string_equal(jstr(&jarr(&v, "delegations")->kids[0], "type"), "write");
	assert_true(jbool(&jarr(&v, "delegations")->kids[0], "recalled"));
	assert_string_equal(jstr(&jarr(&v, "opens")->kids[0], "access"), "both");
	jfree(&v);
	ctl_json(&v, "stats", NULL);
	assert_true(jnum(jget(&v, "delegations"), "recalled") >= 1);
	jfree(&v);

	assert_int_equal(ctl(out, "--json", "expire", aid, NULL), 0);
	jdoc(out, &v);
	assert_string_equal(jstr(&v, "expired"), aid);
	jfree(&v);

	/* Gone from the table, and a second expire finds nothing. */
	ctl_json(&v, "clients", NULL);
	assert_null(jfind(jarr(&v, "clients"), "clientid", aid));
	jfree(&v);
	assert_int_equal(ctl(out, "client", aid, NULL), 1);
	assert_int_equal(ctl(out, "expire", aid, NULL), 1);

	/* Its delegation and open went with it: B's open proceeds at once. */
	assert_nfs(st_open_simple(B->sess, B->clientid, &d, "f", "b-owner",
				  OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &bsid, NULL),
		   NFS4_OK);
	/* Its stateids are those of an expired client (RFC 8881 §8.2.2 / §15.1.5.3). */
	assert_nfs(st_read(B->sess, &f, &ao.sid, 0, 3, buf, &n), NFS4ERR_EXPIRED);
	assert_nfs(st_read(B->sess, &f, &ao.dsid, 0, 3, buf, &n), NFS4ERR_EXPIRED);
	ctl_json(&v, "stats", NULL);
	assert_int_equal(jnum(jget(&v, "state"), "clients"), 1);
	jfree(&v);

	assert_nfs(st_close(B->sess, &f, &bsid, NULL), NFS4_OK);
	cbc_free(&a, true); /* its record is gone: no DESTROY_* */
	free(out);
}

/*
 * revoke: A's lock, then its open go (B may open for write at once) while A,
 * its session and its clientid stay; the client view counts them as revoked
 * until A frees them.
 */
static void revoke_takes_the_state_and_keeps_the_client(void **state)
{
	char aid[17], lother[25];
	struct harness_client a;
	struct fo_fh d, f;
	struct stateid4 asid, lsid, bsid;
	struct jv v, *c;
	char *out = malloc(OUT_MAX), owner[64];

	(void)state;
	assert_non_null(out);
	harness_client_new(env.srv->hs, &a, harness_owner(owner, sizeof(owner), "ctl-rev"), 2);
	clientid_hex(a.clientid, aid);
	fo_testdir(&env, "rev", &d, NULL, 0);
	assert_nfs(st_mkfile(B->sess, B->clientid, &d, "f", "abc", 3, &f), NFS4_OK);
	assert_nfs(st_open_simple(a.sess, a.clientid, &d, "f", "a-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_WRITE, false, &asid, NULL),
		   NFS4_OK);
	assert_nfs(
		st_lock_new(a.sess, &f, WRITE_LT, 0, 10, &asid, a.clientid, "a-lock", &lsid, NULL),
		NFS4_OK);

	/* The lock stateid alone: the open stays. */
	hex(lsid.other, 12, lother);
	assert_int_equal(ctl(out, "--json", "revoke", aid, lother, NULL), 0);
	jdoc(out, &v);
	assert_int_equal(jnum(&v, "stateids"), 1);
	jfree(&v);
	assert_nfs(st_locku(a.sess, &f, WRITE_LT, &lsid, 0, 10, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_nfs(st_read(a.sess, &f, &asid, 0, 1, NULL, NULL), NFS4_OK);
	assert_int_equal(ctl(out, "revoke", aid, lother, NULL), 1); /* not held any more */
	assert_int_equal(ctl(out, "revoke", aid, "xyz", NULL), 1);
	/* Then everything else: the open. */
	assert_int_equal(ctl(out, "--json", "revoke", aid, NULL), 0);
	jdoc(out, &v);
	assert_string_equal(jstr(&v, "revoked"), aid);
	assert_int_equal(jnum(&v, "stateids"), 1);
	jfree(&v);
	ctl_json(&v, "clients", NULL);
	c = jfind(jarr(&v, "clients"), "clientid", aid);
	assert_non_null(c);
	assert_int_equal(jnum(c, "sessions"), 1);
	assert_int_equal(jnum(c, "opens"), 0);
	assert_int_equal(jnum(c, "locks"), 0);
	assert_int_equal(jnum(c, "revoked"), 2);
	assert_false(jbool(c, "expired"));
	jfree(&v);
	assert_nfs(st_open_simple(B->sess, B->clientid, &d, "f", "b-owner",
				  OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				  OPEN4_SHARE_DENY_NONE, false, &bsid, NULL),
		   NFS4_OK);
	assert_nfs(st_read(a.sess, &f, &asid, 0, 1, NULL, NULL), NFS4ERR_ADMIN_REVOKED);
	assert_int_equal(ctl(out, "revoke", aid, NULL), 0);
	assert_non_null(strstr(out, "0 stateids revoked"));

	/* Errors: no such client, no client ID. */
	assert_int_equal(ctl(out, "revoke", "ffffffffffffffff", NULL), 1);
	assert_int_equal(ctl(out, "revoke", NULL), 1);

	assert_nfs(st_free_stateid(a.sess, &asid), NFS4_OK);
	assert_nfs(st_free_stateid(a.sess, &lsid), NFS4_OK);
	ctl_json(&v, "client", aid);
	assert_int_equal(jnum(jget(&v, "client"), "revoked"), 0);
	jfree(&v);
	assert_nfs(st_close(B->sess, &f, &bsid, NULL), NFS4_OK);
	harness_client_free(&a, false);
	free(out);
}

/* A child that becomes nobody and asks for "clients": 0 refused by connect, 1 by nfs4d, 2 served.
 */
static int as_nobody(const char *path)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un addr = {.sun_family = AF_UNIX};
		char reply[64] = {0};
		int fd;

		signal(SIGPIPE, SIG_IGN);
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
			_exit(errno == EACCES ? 0 : 11);
		/* A refused peer may find the socket closed before it asks: the answer is read
		 * anyway. */
		if (write(fd, "json clients\n", 13) < 0 && errno != EPIPE)
			_exit(12);
		if (read(fd, reply, sizeof(reply) - 1) <= 0)
			_exit(13);
		_exit(strncmp(reply, "error permission denied", 23) == 0 ? 1
		      : strncmp(reply, "ok", 2) == 0			 ? 2
									 : 14);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* One request straight on the socket (no nfs4ctl process): the answer's body into out. */
static void ask(const char *req, char *out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char path[340];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(path, sizeof(path), "%s/nfs4d.ctl", state_dir);
	assert_true(strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len < OUT_MAX - 1 && (n = read(fd, out + len, OUT_MAX - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(fd);
	if (strncmp(out, "ok\n", 3) != 0)
		fail_msg("%s: %s", req, out);
	memmove(out, out + 3, len - 2);
}

#define CHURN_ROUNDS 150

struct churn {
	struct harness_client *cl;
	const struct fo_fh *dir;
	int errors;
};

/* Opens, locks, unlocks and closes a file over and over (no cmocka asserts in a thread). */
static void *churn_thread(void *arg)
{
	struct churn *ch = arg;

	for (int i = 0; i < CHURN_ROUNDS; i++) {
		struct stateid4 os, ls;
		struct fo_fh fh;

		if (st_open_simple(ch->cl->sess, ch->cl->clientid, ch->dir, "churn", "churner",
				   OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true, &os,
				   &fh) != NFS4_OK) {
			ch->errors++;
			continue;
		}
		if (st_lock_new(ch->cl->sess, &fh, WRITE_LT, 0, 100, &os, ch->cl->clientid,
				"churn-lock", &ls, NULL) != NFS4_OK ||
		    st_locku(ch->cl->sess, &fh, WRITE_LT, &ls, 0, 100, &ls) != NFS4_OK ||
		    st_free_stateid(ch->cl->sess, &ls) != NFS4_OK)
			ch->errors++;
		if (st_close(ch->cl->sess, &fh, &os, NULL) != NFS4_OK)
			ch->errors++;
	}
	return NULL;
}

/*
 * Snapshots while a client's state changes under them: every answer is
 * whole JSON, and nfs4d (under TSan or ASan in those builds) sees no race.
 */
static void snapshots_while_state_changes(void **state)
{
	char *out = malloc(OUT_MAX), req[64], bid[17];
	struct churn ch = {.cl = B};
	struct fo_fh d;
	pthread_t t;
	struct jv v;
	int rounds = 0;

	(void)state;
	assert_non_null(out);
	fo_testdir(&env, "churn", &d, NULL, 0);
	ch.dir = &d;
	clientid_hex(B->clientid, bid);
	snprintf(req, sizeof(req), "json client %s\n", bid);
	assert_int_equal(pthread_create(&t, NULL, churn_thread, &ch), 0);
	/* As many rounds as the churn takes, but at least a few, at most a bound. */
	for (; rounds < 2000; rounds++) {
		ask("json clients\n", out);
		jdoc(out, &v);
		jfree(&v);
		ask(req, out);
		jdoc(out, &v);
		assert_true(jarr(&v, "opens")->n <= 1);
		assert_true(jarr(&v, "locks")->n <= 1);
		jfree(&v);
		ask("json stats\n", out);
		jdoc(out, &v);
		jfree(&v);
		if (rounds >= 5 && pthread_tryjoin_np(t, NULL) == 0)
			break;
	}
	if (rounds == 2000)
		pthread_join(t, NULL);
	print_message("%d snapshot rounds during %d churn rounds\n", rounds + 1, CHURN_ROUNDS);
	assert_int_equal(ch.errors, 0);
	ctl_json(&v, "client", bid);
	assert_int_equal(jarr(&v, "opens")->n, 0);
	assert_int_equal(jarr(&v, "locks")->n, 0);
	jfree(&v);
	free(out);
}

static void socket_refuses_other_users(void **state)
{
	char path[340], dir[300], *out = malloc(OUT_MAX);
	struct stat st;
	struct jv v;

	(void)state;
	assert_non_null(out);
	snprintf(path, sizeof(path), "%s/nfs4d.ctl", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* Whoever runs nfs4d (the test's user) may use it. */
	ctl_json(&v, "clients", NULL);
	jfree(&v);
	if (geteuid() != 0) {
		print_message("not root: cannot become another user, peer checks skipped\n");
		free(out);
		return;
	}
	/* Let nobody reach the socket's directory: the socket's own mode refuses it. */
	snprintf(dir, sizeof(dir), "%s", state_dir);
	*strrchr(dir, '/') = 0;
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(state_dir, 0711), 0);
	assert_int_equal(as_nobody(path), 0);
	/* With the mode opened up, SO_PEERCRED still refuses nobody. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(as_nobody(path), 1);
	assert_int_equal(chmod(path, 0660), 0);
	/* And the server still serves the next one. */
	assert_int_equal(ctl(out, "clients", NULL), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_subcommand_shows_the_state),
		cmocka_unit_test(expire_forgets_a_client_and_frees_its_state),
		cmocka_unit_test(revoke_takes_the_state_and_keeps_the_client),
		cmocka_unit_test(snapshots_while_state_changes),
		cmocka_unit_test(socket_refuses_other_users),
	};

	return harness_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
