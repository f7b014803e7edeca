/* Exports: the line and file syntax, rule matching, squashing and admission (docs/exports.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "nfs4/export.h"

static struct nfs4_exports T;
static char err[1024];

static int exp_setup(void **state)
{
	memset(&T, 0, sizeof(T));
	err[0] = '\0';
	return 0;
}

static int exp_teardown(void **state)
{
	nfs4_exports_free(&T);
	return 0;
}

static const struct nfs4_export *add_ok(const char *line)
{
	int n = T.n;

	if (nfs4_exports_add_line(&T, line, err, sizeof(err)) != 0)
		fail_msg("line \"%s\" failed: %s", line, err);
	assert_int_equal(T.n, n + 1);
	return &T.v[T.n - 1];
}

/* The line is rejected, the reason contains want, and the table is unchanged. */
static void add_err(const char *line, const char *want)
{
	int n = T.n;

	err[0] = '\0';
	if (nfs4_exports_add_line(&T, line, err, sizeof(err)) != -1)
		fail_msg("line \"%s\" was accepted", line);
	assert_int_equal(T.n, n);
	if (!strstr(err, want))
		fail_msg("line \"%s\": error \"%s\" lacks \"%s\"", line, err, want);
}

/* The single rule of a one-client line. */
static const struct nfs4_export_rule *rule1(const char *line)
{
	const struct nfs4_export *e = add_ok(line);

	assert_int_equal(e->rules->n, 1);
	return &e->rules->v[0];
}

static struct sockaddr_storage peer(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return ss;
}

/* Which rule (index) of e matches the address, -1 for none. */
static int match_idx(const struct nfs4_export *e, const char *addr)
{
	struct sockaddr_storage ss = peer(addr, 700);
	const struct nfs4_export_rule *r = nfs4_export_match(e, &ss);

	return r ? (int)(r - e->rules->v) : -1;
}

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h ? h : 1;
}

static const uint32_t SYS = 1u << RPC_AUTH_SYS;
static const uint32_t NONE = 1u << RPC_AUTH_NONE;

/* ---- defaults and paths ---- */

static void test_path_alone_is_world_with_defaults(void **state)
{
	const struct nfs4_export *e = add_ok("  /srv/data \t");
	const struct nfs4_export_rule *r = &e->rules->v[0];

	assert_string_equal(e->path, "/srv/data");
	assert_int_equal(e->id, fnv1a32("/srv/data"));
	assert_null(e->be);
	assert_int_equal(e->rules->n, 1);
	assert_true(r->any);
	assert_false(r->rw);
	assert_false(r->secure);
	assert_int_equal(r->squash, NFS4_ROOT_SQUASH);
	assert_int_equal(r->anonuid, 65534);
	assert_int_equal(r->anongid, 65534);
	assert_int_equal(r->sec_flavors, SYS);
}

static void test_client_without_options_gets_defaults(void **state)
{
	const struct nfs4_export *e = add_ok("/srv * 10.0.0.1 ::1 10.0.0.2()");

	assert_int_equal(e->rules->n, 4);
	for (int i = 0; i < 4; i++) {
		assert_false(e->rules->v[i].rw);
		assert_false(e->rules->v[i].secure);
		assert_int_equal(e->rules->v[i].squash, NFS4_ROOT_SQUASH);
		assert_int_equal(e->rules->v[i].anonuid, 65534);
		assert_int_equal(e->rules->v[i].sec_flavors, SYS);
	}
	assert_true(e->rules->v[0].any);
	assert_int_equal(e->rules->v[1].family, AF_INET);
	assert_int_equal(e->rules->v[2].family, AF_INET6);
}

static void test_path_normalised(void **state)
{
	assert_string_equal(add_ok("//srv///a//b/")->path, "/srv/a/b");
	assert_string_equal(add_ok("/")->path, "/");
	add_err("///", "duplicate export /");
	assert_string_equal(add_ok("/x/...y/.z/a..")->path, "/x/...y/.z/a..");
}

static void test_path_errors(void **state)
{
	add_err("srv/data", "path \"srv/data\" is not absolute");
	add_err("./srv", "not absolute");
	add_err("/srv/./data", "\".\" or \"..\" component");
	add_err("/srv/../etc", "\".\" or \"..\" component");
	add_err("/srv/..", "\".\" or \"..\" component");
	add_err("/.", "\".\" or \"..\" component");
	add_err("\"\" *", "empty path");
	add_err("\"/srv/a", "unterminated quote in path");
	add_err("\"/srv/a\"x *", "junk after the quoted path");
	add_err("\"/srv/\tx\"", "control character");
	add_err("", "empty line");
	add_err("   \t", "empty line");

	char *line = malloc(5000);
	assert_non_null(line);
	line[0] = '/';
	memset(line + 1, 'a', 4200);
	line[4201] = '\0';
	add_err(line, "path too long");
	line[4095] = '\0'; /* 4095 bytes: fits */
	assert_int_equal(strlen(add_ok(line)->path), 4095);
	free(line);
}

static void test_quoted_path(void **state)
{
	const struct nfs4_export *e = add_ok("\"/srv/my share//\" 10.0.0.1(rw)");

	assert_string_equal(e->path, "/srv/my share");
	assert_true(e->rules->v[0].rw);
	e = add_ok("\"/srv/say \\\"hi\\\" \\\\ back\"");
	assert_string_equal(e->path, "/srv/say \"hi\" \\ back");
	assert_true(e->rules->v[0].any);
}

static void test_path_octal_escapes(void **state)
{
	assert_string_equal(add_ok("/srv/my\\040share *(rw)")->path, "/srv/my share");
	assert_string_equal(add_ok("\"/srv/q\\043x\"")->path, "/srv/q#x");
	/* Not three octal digits, or \000: the backslash is literal. */
	assert_string_equal(add_ok("/srv/a\\08x")->path, "/srv/a\\08x");
	assert_string_equal(add_ok("/srv/b\\000")->path, "/srv/b\\000");
	add_err("/srv/c\\011d", "control character");
	add_err("/srv/\\056\\056/x", "\".\" or \"..\" component");
}

/* ---- options ---- */

static void test_opt_rw_ro(void **state)
{
	assert_true(rule1("/a *(rw)")->rw);
	assert_false(rule1("/b *(ro)")->rw);
	assert_false(rule1("/c *(rw,ro)")->rw); /* the last one wins */
	assert_true(rule1("/d *(ro,rw)")->rw);
}

static void test_opt_squash(void **state)
{
	assert_int_equal(rule1("/a *(root_squash)")->squash, NFS4_ROOT_SQUASH);
	assert_int_equal(rule1("/b *(no_root_squash)")->squash, NFS4_NO_ROOT_SQUASH);
	assert_int_equal(rule1("/c *(all_squash)")->squash, NFS4_ALL_SQUASH);
	/* As knfsd: all_squash is a separate flag and wins whatever the order. */
	assert_int_equal(rule1("/d *(all_squash,no_root_squash)")->squash, NFS4_ALL_SQUASH);
	assert_int_equal(rule1("/e *(no_root_squash,all_squash)")->squash, NFS4_ALL_SQUASH);
	assert_int_equal(rule1("/f *(all_squash,no_all_squash)")->squash, NFS4_ROOT_SQUASH);
	assert_int_equal(rule1("/g *(no_root_squash,root_squash)")->squash, NFS4_ROOT_SQUASH);
}

static void test_opt_anonuid_anongid(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *(anonuid=1000,anongid=100)");

	assert_int_equal(r->anonuid, 1000);
	assert_int_equal(r->anongid, 100);
	r = rule1("/b *(anonuid=0,anongid=4294967294)");
	assert_int_equal(r->anonuid, 0);
	assert_int_equal(r->anongid, 4294967294u);

	add_err("/c *(anonuid=4294967295)", "anonuid=4294967295: not a number 0..4294967294");
	add_err("/c *(anongid=99999999999)", "anongid=99999999999: not a number");
	add_err("/c *(anonuid=-2)", "anonuid=-2: not a number");
	add_err("/c *(anonuid=)", "anonuid=: not a number");
	add_err("/c *(anonuid=1x)", "anonuid=1x: not a number");
	add_err("/c *(anonuid=+1)", "anonuid=+1: not a number");
	add_err("/c *(anonuid)", "option anonuid needs a value");
	add_err("/c *(anongid)", "option anongid needs a value");
}

static void test_opt_sec(void **state)
{
	assert_int_equal(rule1("/a *(sec=sys)")->sec_flavors, SYS);
	assert_int_equal(rule1("/b *(sec=none)")->sec_flavors, NONE);
	assert_int_equal(rule1("/c *(sec=sys:none)")->sec_flavors, SYS | NONE);
	assert_int_equal(rule1("/d *(sec=none:sys)")->sec_flavors, SYS | NONE);
	assert_int_equal(rule1("/e *(sec=none,sec=sys)")->sec_flavors, SYS);

	add_err("/f *(sec=krb5)", "flavor krb5 is not supported");
	add_err("/f *(sec=sys:krb5p)", "flavor krb5p is not supported");
	add_err("/f *(sec=bogus)", "sec=bogus: unknown flavor \"bogus\"");
	add_err("/f *(sec=)", "sec= needs a flavor list");
	add_err("/f *(sec=sys:)", "sec=sys:: empty flavor");
	add_err("/f *(sec)", "option sec needs a value");
}

static void test_opt_secure(void **state)
{
	assert_true(rule1("/a *(secure)")->secure);
	assert_false(rule1("/b *(insecure)")->secure);
	assert_false(rule1("/c *(secure,insecure)")->secure);
	assert_false(rule1("/d *(rw)")->secure); /* nfs4d's default differs from knfsd's */
}

static void test_opt_fsid(void **state)
{
	const struct nfs4_export *e = add_ok("/a *(fsid=7)");

	assert_int_equal(e->id, 7);
	assert_int_equal(add_ok("/b *(fsid=4294967295)")->id, 4294967295u);
	assert_int_equal(add_ok("/c *(fsid=1)")->id, 1);
	/* fsid is per export: the same value on two clients is fine, two values are not. */
	e = add_ok("/d 10.0.0.1(fsid=9) 10.0.0.2(fsid=9,rw) 10.0.0.3");
	assert_int_equal(e->id, 9);
	add_err("/e 10.0.0.1(fsid=10) 10.0.0.2(fsid=11)", "fsid=11 conflicts with fsid=10");

	add_err("/f *(fsid=0)", "fsid=0: nfs4d builds the NFSv4 pseudo-root itself");
	add_err("/f *(fsid=root)", "fsid=root: nfs4d builds the NFSv4 pseudo-root itself");
	add_err("/f *(fsid=6fa459ea-ee8a-3ca4-894e-db77e160355e)", "UUID fsids are not supported");
	add_err("/f *(fsid=deadbeefcafe)", "UUID fsids are not supported");
	add_err("/f *(fsid=4294967296)", "fsid=4294967296: not a number 1..4294967295");
	add_err("/f *(fsid=abc)", "fsid=abc: not a number");
	add_err("/f *(fsid=)", "fsid=: not a number");
	add_err("/f *(fsid)", "option fsid needs a value");
}

static void test_opt_sync_async(void **state)
{
	const struct nfs4_export *e;

	assert_false(rule1("/a")->async); /* sync is the default, as in knfsd */
	assert_false(rule1("/b *(rw)")->async);
	assert_true(rule1("/c *(async)")->async);
	assert_false(rule1("/d *(sync)")->async);
	assert_false(rule1("/e *(async,sync)")->async); /* the last one wins */
	assert_true(rule1("/f *(sync,rw,async)")->async);
	/* Per client, as every option but fsid=; -async sets the line's default. */
	e = add_ok("/g 10.0.0.1(rw,async) 10.0.0.2(rw) -async 10.0.0.3 10.0.0.4(sync)");
	assert_int_equal(e->rules->n, 4);
	assert_true(e->rules->v[0].async);
	assert_false(e->rules->v[1].async);
	assert_true(e->rules->v[2].async);
	assert_false(e->rules->v[3].async);
	add_err("/h *(async=1)", "option async takes no value");
	add_err("/h *(sync=1)", "option sync takes no value");
}

static void test_opt_ignored(void **state)
{
	const struct nfs4_export_rule *r =
		rule1("/a *(no_subtree_check,subtree_check,wdelay,no_wdelay,hide,nohide,"
		      "crossmnt,no_acl)");

	/* Nothing changed from the defaults. */
	assert_false(r->rw);
	assert_false(r->secure);
	assert_false(r->async);
	assert_int_equal(r->squash, NFS4_ROOT_SQUASH);
	assert_int_equal(r->sec_flavors, SYS);
	add_err("/b *(wdelay=1)", "option wdelay takes no value");
}

static void test_opt_errors(void **state)
{
	add_err("/a *(rw,bogus)", "client *: unknown option \"bogus\"");
	add_err("/a 10.0.0.0/8(rw,foo=1)", "client 10.0.0.0/8: unknown option \"foo\"");
	add_err("/a *(rw=1)", "option rw takes no value");
	add_err("/a *(no_root_squash=yes)", "option no_root_squash takes no value");
	add_err("/a *(rw,,sync)", "empty option");
	add_err("/a *(rw,)", "empty option");
	add_err("/a *(RW)", "unknown option \"RW\"");
	add_err("/a *(rw", "client *: missing ')'");
	add_err("/a *(rw)x", "client *: junk after ')'");
	add_err("/a *(rw)(ro)", "junk after ')'");
	add_err("/a 10.0.0.1 (rw)", "options \"(rw)\" have no client");
}

static void test_opt_list_spacing_and_empty(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *( rw , no_root_squash )");

	assert_true(r->rw);
	assert_int_equal(r->squash, NFS4_NO_ROOT_SQUASH);
	r = rule1("/b *()");
	assert_false(r->rw);
	/* "/pub (ro,all_squash)" from exports(5): options alone are for everyone. */
	r = rule1("/pub (rw,all_squash)");
	assert_true(r->any);
	assert_true(r->rw);
	assert_int_equal(r->squash, NFS4_ALL_SQUASH);
}

static void test_options_are_per_client(void **state)
{
	const struct nfs4_export *e =
		add_ok("/a 192.168.1.0/24(rw,no_root_squash) *(ro,anonuid=5) 10.0.0.1");

	assert_int_equal(e->rules->n, 3);
	assert_true(e->rules->v[0].rw);
	assert_int_equal(e->rules->v[0].squash, NFS4_NO_ROOT_SQUASH);
	assert_int_equal(e->rules->v[0].anonuid, 65534);
	assert_false(e->rules->v[1].rw);
	assert_int_equal(e->rules->v[1].anonuid, 5);
	assert_int_equal(e->rules->v[1].squash, NFS4_ROOT_SQUASH);
	assert_false(e->rules->v[2].rw);
	assert_int_equal(e->rules->v[2].anonuid, 65534);
}

static void test_default_options_dash(void **state)
{
	/* exports(5): "-OPTIONS" sets the defaults of the clients after it on the line. */
	const struct nfs4_export *e =
		add_ok("/a 10.0.0.1 -rw,anonuid=7 10.0.0.2 10.0.0.3(ro) -all_squash 10.0.0.4");

	assert_int_equal(e->rules->n, 4);
	assert_false(e->rules->v[0].rw);
	assert_int_equal(e->rules->v[0].anonuid, 65534);
	assert_true(e->rules->v[1].rw);
	assert_int_equal(e->rules->v[1].anonuid, 7);
	assert_false(e->rules->v[2].rw);
	assert_int_equal(e->rules->v[2].anonuid, 7);
	assert_true(e->rules->v[3].rw);
	assert_int_equal(e->rules->v[3].squash, NFS4_ALL_SQUASH);

	/* Only defaults: they apply to the implicit "*". */
	e = add_ok("/b -rw,fsid=12");
	assert_int_equal(e->rules->n, 1);
	assert_true(e->rules->v[0].any);
	assert_true(e->rules->v[0].rw);
	assert_int_equal(e->id, 12);

	add_err("/c - 10.0.0.1", "\"-\" without default options");
	add_err("/c -rw,bogus 10.0.0.1", "default options -rw,bogus: unknown option \"bogus\"");
}

/* ---- clients ---- */

static void test_client_ipv4(void **state)
{
	const struct nfs4_export *e =
		add_ok("/a 10.1.2.3 10.0.0.0/8 192.168.7.9/24 172.16.0.0/255.240.0.0 0.0.0.0/0");
	const uint8_t a0[4] = {10, 1, 2, 3}, a1[4] = {10, 0, 0, 0}, a2[4] = {192, 168, 7, 0},
		      a3[4] = {172, 16, 0, 0};

	assert_int_equal(e->rules->n, 5);
	for (int i = 0; i < 5; i++) {
		assert_false(e->rules->v[i].any);
		assert_int_equal(e->rules->v[i].family, AF_INET);
	}
	assert_memory_equal(e->rules->v[0].addr, a0, 4);
	assert_int_equal(e->rules->v[0].prefix_len, 32);
	assert_memory_equal(e->rules->v[1].addr, a1, 4);
	assert_int_equal(e->rules->v[1].prefix_len, 8);
	assert_memory_equal(e->rules->v[2].addr, a2, 4); /* host bits dropped */
	assert_int_equal(e->rules->v[2].prefix_len, 24);
	assert_memory_equal(e->rules->v[3].addr, a3, 4);
	assert_int_equal(e->rules->v[3].prefix_len, 12);
	assert_int_equal(e->rules->v[4].prefix_len, 0);
}

static void test_client_ipv4_errors(void **state)
{
	add_err("/a 10.0.0.0/33", "client 10.0.0.0/33: bad prefix length (0..32 for IPv4)");
	add_err("/a 10.0.0.0/", "client 10.0.0.0/: bad prefix length");
	add_err("/a 10.0.0.0/-1(rw)", "client 10.0.0.0/-1: bad prefix length");
	add_err("/a 10.0.0.0/x", "client 10.0.0.0/x: bad prefix length");
	add_err("/a 10.0.0.0/8/8", "bad prefix length");
	add_err("/a 1.2.3/8", "client 1.2.3/8: bad IPv4 address");
	add_err("/a 1.2.3.4.5", "client 1.2.3.4.5: bad IPv4 address");
	add_err("/a 256.1.1.1(rw)", "client 256.1.1.1: bad IPv4 address");
	add_err("/a 10.0.0.0/255.0.255.0", "netmask is not contiguous");
	add_err("/a 10.0.0.0/255.0.0", "bad netmask");
	add_err("/a 12345", "client 12345: bad IPv4 address");
}

static void test_client_ipv6(void **state)
{
	const struct nfs4_export *e =
		add_ok("/a 2001:db8::1 [2001:db8::2] 2001:db8:1::/48 [2001:db8:2::5]/64(rw) ::/0");
	uint8_t want[16];

	assert_int_equal(e->rules->n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(e->rules->v[i].family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::1", want);
	assert_memory_equal(e->rules->v[0].addr, want, 16);
	assert_int_equal(e->rules->v[0].prefix_len, 128);
	inet_pton(AF_INET6, "2001:db8::2", want);
	assert_memory_equal(e->rules->v[1].addr, want, 16);
	assert_int_equal(e->rules->v[2].prefix_len, 48);
	inet_pton(AF_INET6, "2001:db8:2::", want);
	assert_memory_equal(e->rules->v[3].addr, want, 16);
	assert_int_equal(e->rules->v[3].prefix_len, 64);
	assert_true(e->rules->v[3].rw);
	assert_int_equal(e->rules->v[4].prefix_len, 0);
}

static void test_client_ipv6_errors(void **state)
{
	add_err("/a 2001:db8::/129", "client 2001:db8::/129: bad prefix length (0..128 for IPv6)");
	add_err("/a [2001:db8::]/200", "bad prefix length (0..128 for IPv6)");
	add_err("/a 2001:db8:::1", "client 2001:db8:::1: bad IPv6 address");
	add_err("/a [2001:db8::1", "missing ']'");
	add_err("/a [2001:db8::1]x", "junk after ']'");
	add_err("/a fe80::1%eth0", "zone ids are not supported");
	add_err("/a [10.0.0.1]", "bad IPv6 address");
}

static void test_client_v4mapped_rule_is_ipv4(void **state)
{
	const struct nfs4_export *e = add_ok("/a ::ffff:10.1.0.0/112 [::ffff:10.2.3.4]");
	const uint8_t a0[4] = {10, 1, 0, 0}, a1[4] = {10, 2, 3, 4};

	assert_int_equal(e->rules->v[0].family, AF_INET);
	assert_int_equal(e->rules->v[0].prefix_len, 16);
	assert_memory_equal(e->rules->v[0].addr, a0, 4);
	assert_int_equal(e->rules->v[1].family, AF_INET);
	assert_int_equal(e->rules->v[1].prefix_len, 32);
	assert_memory_equal(e->rules->v[1].addr, a1, 4);
	assert_int_equal(match_idx(e, "10.1.200.1"), 0);
	assert_int_equal(match_idx(e, "::ffff:10.2.3.4"), 1);
}

static void test_client_hostname(void **state)
{
	const struct nfs4_export *e = add_ok("/a localhost(rw)");

	/* localhost is 127.0.0.1 and/or ::1 depending on the resolver: host rules either way. */
	assert_true(e->rules->n >= 1);
	for (int i = 0; i < e->rules->n; i++) {
		assert_false(e->rules->v[i].any);
		assert_true(e->rules->v[i].rw);
		assert_int_equal(e->rules->v[i].prefix_len,
				 e->rules->v[i].family == AF_INET ? 32 : 128);
		for (int j = 0; j < i; j++)
			assert_false(e->rules->v[j].family == e->rules->v[i].family &&
				     memcmp(e->rules->v[j].addr, e->rules->v[i].addr, 16) == 0);
	}
	if (e->rules->v[0].family == AF_INET ||
	    (e->rules->n > 1 && e->rules->v[1].family == AF_INET))
		assert_int_not_equal(match_idx(e, "127.0.0.1"), -1);
	assert_int_equal(match_idx(e, "10.9.9.9"), -1);
}

static void test_client_hostname_errors(void **state)
{
	add_err("/a no-such-host.invalid(rw)", "client no-such-host.invalid: cannot resolve");
	add_err("/a *.example.com(rw)", "wildcard host names are not supported");
	add_err("/a host?.example.com", "wildcard host names are not supported");
	add_err("/a @trusted(rw)", "client @trusted: netgroups are not supported");
	add_err("/a gss/krb5(rw)", "gss/ clients are not supported");
	add_err("/a host.example/24", "a prefix length needs an IP address, not a name");
	add_err("/a bad!name", "client bad!name: not an address, a subnet, * or a host name");
}

static void test_too_many_clients(void **state)
{
	char line[2048];
	int o = snprintf(line, sizeof(line), "/a");

	for (int i = 0; i < NFS4_EXPORT_MAX_RULES; i++)
		o += snprintf(line + o, sizeof(line) - (size_t)o, " 10.0.0.%d(rw)", i + 1);
	assert_int_equal(add_ok(line)->rules->n, NFS4_EXPORT_MAX_RULES);
	snprintf(line + o, sizeof(line) - (size_t)o, " 10.0.1.1");
	line[1] = 'b';
	add_err(line, "too many clients (at most 32 per export");
	snprintf(line + o, sizeof(line) - (size_t)o, " *");
	add_err(line, "too many clients (at most 32 per export)");
}

/* ---- ids and duplicates ---- */

static void test_ids_and_duplicates(void **state)
{
	const struct nfs4_export *e = add_ok("/srv/a");
	uint32_t ida = e->id;

	assert_int_equal(ida, fnv1a32("/srv/a"));
	assert_int_not_equal(ida, 0);
	assert_int_not_equal(add_ok("/srv/b")->id, ida);

	add_err("/srv/a 10.0.0.1(rw)", "duplicate export /srv/a");
	add_err("//srv//a/", "duplicate export /srv/a");
	add_ok("/srv/c *(fsid=42)");
	add_err("/srv/d *(fsid=42)", "fsid=42 of /srv/d is already the id of /srv/c");

	char line[128];
	snprintf(line, sizeof(line), "/srv/e *(fsid=%u)", ida);
	add_err(line, "is already the id of /srv/a");

	/* A path whose hash is taken by an fsid= of an earlier line. */
	snprintf(line, sizeof(line), "/srv/f *(fsid=%u)", fnv1a32("/srv/g"));
	add_ok(line);
	add_err("/srv/g", "(a hash of the path /srv/g) is already the id of /srv/f: give one "
			  "of them an fsid=");
	assert_int_equal(T.n, 4);
}

/* ---- matching ---- */

static void test_match_most_specific_wins(void **state)
{
	const struct nfs4_export *e = add_ok("/a *(ro) 10.0.0.0/8(rw) 10.1.2.3(all_squash) "
					     "10.1.0.0/16(no_root_squash) 10.1.0.0/16(secure)");

	assert_int_equal(match_idx(e, "10.1.2.3"), 2);	  /* host beats the subnets */
	assert_int_equal(match_idx(e, "10.1.9.9"), 3);	  /* /16 beats /8; first of equals */
	assert_int_equal(match_idx(e, "10.200.0.1"), 1);  /* /8 */
	assert_int_equal(match_idx(e, "192.168.0.1"), 0); /* only * left */
	assert_int_equal(match_idx(e, "2001:db8::1"), 0);
	assert_int_equal(match_idx(e, "::ffff:10.1.2.3"), 2);
	assert_int_equal(match_idx(e, "::ffff:10.1.9.9"), 3);
	assert_int_equal(match_idx(e, "::ffff:192.168.0.1"), 0);
}

static void test_match_without_star(void **state)
{
	const struct nfs4_export *e = add_ok("/a 192.168.1.0/24(rw) 2001:db8::/32");

	assert_int_equal(match_idx(e, "192.168.1.77"), 0);
	assert_int_equal(match_idx(e, "192.168.2.1"), -1);
	assert_int_equal(match_idx(e, "2001:db8:ffff::1"), 1);
	assert_int_equal(match_idx(e, "2001:db9::1"), -1);
	/* A v6 peer never matches a v4 rule, even with the same bits. */
	assert_int_equal(match_idx(e, "c0a8:0100::"), -1);
	assert_null(nfs4_export_match(e, NULL));

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_null(nfs4_export_match(e, &ss));
}

static void test_match_ipv6_precedence(void **state)
{
	const struct nfs4_export *e =
		add_ok("/a 2001:db8::/32 * 2001:db8:1::/48(rw) [2001:db8:1::7] ::/0 10.0.0.0/8");

	assert_int_equal(match_idx(e, "2001:db8:1::7"), 3);
	assert_int_equal(match_idx(e, "2001:db8:1::8"), 2);
	assert_int_equal(match_idx(e, "2001:db8:2::1"), 0);
	assert_int_equal(match_idx(e, "fe80::1"), 4); /* ::/0 beats * */
	assert_int_equal(match_idx(e, "10.0.0.1"), 5);
	assert_int_equal(match_idx(e, "11.0.0.1"), 1); /* ::/0 is IPv6 only */
	assert_int_equal(match_idx(e, "::ffff:11.0.0.1"), 1);
	assert_int_equal(match_idx(e, "::ffff:10.0.0.1"), 5);

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(nfs4_export_match(e, &ss) - e->rules->v, 1);
}

static void test_match_odd_prefixes(void **state)
{
	const struct nfs4_export *e = add_ok("/a 10.0.0.128/25 10.0.0.0/31 2001:db8::80/121");

	assert_int_equal(match_idx(e, "10.0.0.200"), 0);
	assert_int_equal(match_idx(e, "10.0.0.127"), -1);
	assert_int_equal(match_idx(e, "10.0.0.1"), 1);
	assert_int_equal(match_idx(e, "10.0.0.2"), -1);
	assert_int_equal(match_idx(e, "2001:db8::ff"), 2);
	assert_int_equal(match_idx(e, "2001:db8::7f"), -1);
}

/* ---- credentials ---- */

static struct rpc_cred sys_cred(uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids)
{
	struct rpc_cred c;

	memset(&c, 0, sizeof(c));
	c.flavor = RPC_AUTH_SYS;
	c.uid = uid;
	c.gid = gid;
	c.ngids = ngids;
	memcpy(c.gids, gids, ngids * sizeof(*gids));
	return c;
}

static void test_cred_root_squash(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *(anonuid=99,anongid=98)");
	const uint32_t gids[] = {5, 0, 7};
	struct rpc_cred in = sys_cred(0, 0, 3, gids);
	struct be_cred out;

	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 99);
	assert_int_equal(out.gid, 98);
	assert_int_equal(out.ngroups, 3);
	assert_int_equal(out.groups[0], 5);
	assert_int_equal(out.groups[1], 98);
	assert_int_equal(out.groups[2], 7);

	/* A non-root caller with group 0 still loses group 0. */
	in = sys_cred(1000, 0, 3, gids);
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.gid, 98);
	assert_int_equal(out.groups[1], 98);

	/* An ordinary caller is untouched. */
	const uint32_t g2[] = {100, 200};
	in = sys_cred(1000, 1000, 2, g2);
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.gid, 1000);
	assert_int_equal(out.ngroups, 2);
	assert_int_equal(out.groups[0], 100);
	assert_int_equal(out.groups[1], 200);

	/* Root with default anon ids. */
	r = rule1("/b");
	in = sys_cred(0, 10, 0, gids);
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 65534);
	assert_int_equal(out.gid, 10);
	assert_int_equal(out.ngroups, 0);
}

static void test_cred_no_root_squash(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *(no_root_squash)");
	const uint32_t gids[] = {0, 1};
	struct rpc_cred in = sys_cred(0, 0, 2, gids);
	struct be_cred out;

	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 0);
	assert_int_equal(out.gid, 0);
	assert_int_equal(out.ngroups, 2);
	assert_int_equal(out.groups[0], 0);
	assert_int_equal(out.groups[1], 1);
}

static void test_cred_all_squash(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *(all_squash,anonuid=500,anongid=501)");
	const uint32_t gids[] = {1, 2, 3};
	struct rpc_cred in = sys_cred(1000, 1000, 3, gids);
	struct be_cred out;

	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 500);
	assert_int_equal(out.gid, 501);
	assert_int_equal(out.ngroups, 0);
	in = sys_cred(0, 0, 3, gids);
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 500);
	assert_int_equal(out.gid, 501);
	assert_int_equal(out.ngroups, 0);
	/* all_squash beats no_root_squash. */
	r = rule1("/b *(no_root_squash,all_squash)");
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 65534);
}

/* The rule's async reaches the backend with the credentials, whatever the squash. */
static void test_cred_carries_async(void **state)
{
	const uint32_t gids[] = {1};
	struct rpc_cred in = sys_cred(1000, 1000, 1, gids);
	struct be_cred out;

	nfs4_export_cred(rule1("/a *(rw)"), &in, &out);
	assert_false(out.async);
	nfs4_export_cred(rule1("/b *(rw,async)"), &in, &out);
	assert_true(out.async);
	nfs4_export_cred(rule1("/c *(rw,async,all_squash)"), &in, &out);
	assert_true(out.async);
	memset(&in, 0, sizeof(in));
	in.flavor = RPC_AUTH_NONE;
	nfs4_export_cred(rule1("/d *(async,sec=none)"), &in, &out);
	assert_true(out.async);
	assert_int_equal(out.uid, 65534);
}

static void test_cred_auth_none_is_anonymous(void **state)
{
	const struct nfs4_export_rule *r =
		rule1("/a *(no_root_squash,sec=none,anonuid=7,anongid=8)");
	struct rpc_cred in;
	struct be_cred out;

	memset(&in, 0, sizeof(in));
	in.flavor = RPC_AUTH_NONE;
	in.uid = 0; /* whatever the rpc layer left there, AUTH_NONE carries no identity */
	in.gid = 0;
	in.ngids = 2;
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.uid, 7);
	assert_int_equal(out.gid, 8);
	assert_int_equal(out.ngroups, 0);
}

static void test_cred_all_groups_copied(void **state)
{
	const struct nfs4_export_rule *r = rule1("/a *(no_root_squash)");
	uint32_t gids[RPC_MAX_AUTH_GIDS];
	struct rpc_cred in;
	struct be_cred out;

	for (uint32_t i = 0; i < RPC_MAX_AUTH_GIDS; i++)
		gids[i] = 1000 + i;
	in = sys_cred(1, 2, RPC_MAX_AUTH_GIDS, gids);
	memset(&out, 0xa5, sizeof(out));
	nfs4_export_cred(r, &in, &out);
	assert_int_equal(out.ngroups, BE_MAX_GROUPS);
	assert_memory_equal(out.groups, gids, BE_MAX_GROUPS * sizeof(uint32_t));
}

/* ---- admission ---- */

static void test_admits_flavors(void **state)
{
	struct sockaddr_storage p = peer("10.0.0.1", 40000);
	struct rpc_cred sys, none, gss;

	/* Pointers into the table only once it stops growing. */
	add_ok("/a");
	add_ok("/b *(sec=none)");
	add_ok("/c *(sec=sys:none)");
	const struct nfs4_export_rule *def = &T.v[0].rules->v[0], *n = &T.v[1].rules->v[0],
				      *both = &T.v[2].rules->v[0];

	memset(&sys, 0, sizeof(sys));
	sys.flavor = RPC_AUTH_SYS;
	none = sys;
	none.flavor = RPC_AUTH_NONE;
	gss = sys;
	gss.flavor = RPC_RPCSEC_GSS;

	assert_true(nfs4_export_admits(def, &sys, &p));
	assert_false(nfs4_export_admits(def, &none, &p));
	assert_false(nfs4_export_admits(def, &gss, &p));
	assert_false(nfs4_export_admits(n, &sys, &p));
	assert_true(nfs4_export_admits(n, &none, &p));
	assert_true(nfs4_export_admits(both, &sys, &p));
	assert_true(nfs4_export_admits(both, &none, &p));
	assert_false(nfs4_export_admits(both, &gss, &p));
	sys.flavor = 4000; /* no bit for it */
	assert_false(nfs4_export_admits(both, &sys, &p));
}

static void test_admits_secure_port(void **state)
{
	struct rpc_cred c;
	struct sockaddr_storage p;

	add_ok("/a *(secure)");
	add_ok("/b");
	const struct nfs4_export_rule *sec = &T.v[0].rules->v[0], *ins = &T.v[1].rules->v[0];

	memset(&c, 0, sizeof(c));
	c.flavor = RPC_AUTH_SYS;
	p = peer("10.0.0.1", 1023);
	assert_true(nfs4_export_admits(sec, &c, &p));
	p = peer("10.0.0.1", 1024);
	assert_false(nfs4_export_admits(sec, &c, &p));
	assert_true(nfs4_export_admits(ins, &c, &p));
	p = peer("2001:db8::1", 700);
	assert_true(nfs4_export_admits(sec, &c, &p));
	p = peer("2001:db8::1", 60000);
	assert_false(nfs4_export_admits(sec, &c, &p));
	p = peer("::ffff:10.0.0.1", 111);
	assert_true(nfs4_export_admits(sec, &c, &p));
	assert_false(nfs4_export_admits(sec, &c, NULL));
	assert_true(nfs4_export_admits(ins, &c, NULL));
}

/* ---- files ---- */

static char tmp_path[256];

static const char *write_file(const char *text)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "%s/nfs4d-exports-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return tmp_path;
}

static int load(const char *text)
{
	const char *path = write_file(text);
	int rc = nfs4_exports_load_file(&T, path, err, sizeof(err));

	unlink(path);
	return rc;
}

/* The load fails with "FILE:LINE: reason" and the table is unchanged. */
static void load_err(const char *text, int line, const char *want)
{
	int n = T.n;
	char prefix[300];

	assert_int_equal(load(text), -1);
	assert_int_equal(T.n, n);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", tmp_path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("error \"%s\", wanted \"%s%s\"", err, prefix, want);
}

static void test_file_comments_blanks_continuation(void **state)
{
	assert_int_equal(load("# exports for the lab\n"
			      "\n"
			      "   \t\n"
			      "/srv/a 10.0.0.0/8(rw) # the lab network\n"
			      "/srv/b \\\n"
			      "    10.0.0.1(rw,no_root_squash) \\\n"
			      "\t*(ro)\n"
			      "   # indented comment \\\n"
			      "/srv/c#no space before the comment\n"
			      "\"/srv/d#e\" *(rw)\r\n"
			      "/srv/last *(rw) \\"),
			 0);
	assert_int_equal(T.n, 5);
	assert_string_equal(T.v[0].path, "/srv/a");
	assert_int_equal(T.v[0].rules->n, 1);
	assert_true(T.v[0].rules->v[0].rw);
	assert_string_equal(T.v[1].path, "/srv/b");
	assert_int_equal(T.v[1].rules->n, 2);
	assert_int_equal(T.v[1].rules->v[0].squash, NFS4_NO_ROOT_SQUASH);
	assert_true(T.v[1].rules->v[1].any);
	assert_string_equal(T.v[2].path, "/srv/c");
	assert_string_equal(T.v[3].path, "/srv/d#e");
	assert_true(T.v[3].rules->v[0].rw);
	/* A '\\' on the last line continues into nothing. */
	assert_string_equal(T.v[4].path, "/srv/last");
	assert_true(T.v[4].rules->v[0].rw);
}

static void test_file_continued_line_error(void **state)
{
	/* "/srv/f \ /g" is a path and a client "/g": an error on the first line of the two. */
	load_err("/srv/ok\n"
		 "/srv/f\\\n"
		 "/g\n",
		 2, "client /g: looks like a path (one export per line)");
}

static void test_file_errors_name_file_and_line(void **state)
{
	load_err("/srv/a\n/srv/b *(bogus)\n", 2, "unknown option \"bogus\"");
	load_err("\n\n# c\n/srv/a 10.0.0.0/40\n", 4, "bad prefix length");
	load_err("/srv/a\nsrv/b\n", 2, "is not absolute");
	load_err("/srv/a\n/srv/a/\n", 2, "duplicate export /srv/a");
	load_err("/srv/a *(fsid=3)\n/srv/b *(fsid=3)\n", 2, "fsid=3 of /srv/b is already");
	load_err("/srv/a\n/srv/b \\\n  10.0.0.1(rw) \\\n  10.0.0.2(nope)\n/srv/c\n", 2,
		 "client 10.0.0.2: unknown option \"nope\"");
	load_err("/srv/a *(rw\n)\n", 1, "missing ')'");
	assert_int_equal(T.n, 0);
}

static void test_file_error_keeps_table(void **state)
{
	add_ok("/srv/cli");
	load_err("/srv/a\n/srv/cli\n", 2, "duplicate export /srv/cli");
	assert_int_equal(T.n, 1);
	assert_int_equal(load("/srv/a\n/srv/b\n"), 0);
	assert_int_equal(T.n, 3);
}

static void test_file_unreadable(void **state)
{
	assert_int_equal(nfs4_exports_load_file(&T, "/nonexistent/exports", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/exports: No such file or directory");
	assert_int_equal(T.n, 0);
	/* A directory opens but cannot be read. */
	assert_int_equal(nfs4_exports_load_file(&T, "/", err, sizeof(err)), -1);
	assert_string_equal(err, "/: Is a directory");
}

static void test_file_empty_and_nul(void **state)
{
	assert_int_equal(load(""), 0);
	assert_int_equal(load("# nothing\n\n"), 0);
	assert_int_equal(T.n, 0);

	const char *path = write_file("");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite("/srv/a\n/srv/b\0x\n", 1, 16, f);
	fclose(f);
	assert_int_equal(nfs4_exports_load_file(&T, path, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, ":2: NUL byte in line"));
	assert_int_equal(T.n, 0);
}

static void test_file_line_too_long(void **state)
{
	size_t n = 70 * 1024;
	char *text = malloc(n + 8);

	assert_non_null(text);
	memcpy(text, "/a", 2);
	memset(text + 2, ' ', n);
	memcpy(text + n, " *\n", 4);
	assert_int_equal(load(text), -1);
	assert_non_null(strstr(err, ":1: line too long"));
	free(text);
}

/* ---- ownership ---- */

static int destroyed;

static void fake_destroy(struct backend *be)
{
	destroyed++;
}

static void test_free_destroys_backends(void **state)
{
	static const struct backend_ops ops = {.destroy = fake_destroy};
	struct backend be = {.ops = &ops};

	add_ok("/a");
	add_ok("/b");
	T.v[0].be = &be;
	destroyed = 0;
	nfs4_exports_free(&T);
	assert_int_equal(destroyed, 1);
	assert_null(T.v);
	assert_int_equal(T.n, 0);
	nfs4_exports_free(&T); /* idempotent */
}

static void test_many_exports(void **state)
{
	char line[64];

	for (int i = 0; i < 300; i++) {
		snprintf(line, sizeof(line), "/srv/e%d 10.0.%d.0/24(rw)", i, i % 256);
		add_ok(line);
	}
	assert_int_equal(T.n, 300);
	assert_string_equal(T.v[299].path, "/srv/e299");
	assert_string_equal(T.v[0].path, "/srv/e0");
}

#define T_(fn) cmocka_unit_test_setup_teardown(fn, exp_setup, exp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_path_alone_is_world_with_defaults),
		T_(test_client_without_options_gets_defaults),
		T_(test_path_normalised),
		T_(test_path_errors),
		T_(test_quoted_path),
		T_(test_path_octal_escapes),
		T_(test_opt_rw_ro),
		T_(test_opt_squash),
		T_(test_opt_anonuid_anongid),
		T_(test_opt_sec),
		T_(test_opt_secure),
		T_(test_opt_fsid),
		T_(test_opt_sync_async),
		T_(test_opt_ignored),
		T_(test_opt_errors),
		T_(test_opt_list_spacing_and_empty),
		T_(test_options_are_per_client),
		T_(test_default_options_dash),
		T_(test_client_ipv4),
		T_(test_client_ipv4_errors),
		T_(test_client_ipv6),
		T_(test_client_ipv6_errors),
		T_(test_client_v4mapped_rule_is_ipv4),
		T_(test_client_hostname),
		T_(test_client_hostname_errors),
		T_(test_too_many_clients),
		T_(test_ids_and_duplicates),
		T_(test_match_most_specific_wins),
		T_(test_match_without_star),
		T_(test_match_ipv6_precedence),
		T_(test_match_odd_prefixes),
		T_(test_cred_root_squash),
		T_(test_cred_no_root_squash),
		T_(test_cred_carries_async),
		T_(test_cred_all_squash),
		T_(test_cred_auth_none_is_anonymous),
		T_(test_cred_all_groups_copied),
		T_(test_admits_flavors),
		T_(test_admits_secure_port),
		T_(test_file_comments_blanks_continuation),
		T_(test_file_continued_line_error),
		T_(test_file_errors_name_file_and_line),
		T_(test_file_error_keeps_table),
		T_(test_file_unreadable),
		T_(test_file_empty_and_nul),
		T_(test_file_line_too_long),
		T_(test_free_destroys_backends),
		T_(test_many_exports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
