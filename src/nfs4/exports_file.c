/*
 * The exports syntax (docs/exports.md): one line is
 *
 *     PATH [CLIENT[(OPTIONS)]]...
 *
 * parsed into one struct nfs4_export with one rule per client address
 * (a host name becomes one rule per address it resolves to, resolved once,
 * here). Files add '#' comments, blank lines and '\' continuation.
 *
 * Every error is one line naming what was wrong ("client 10.0.0.0/33: bad
 * prefix length"), and a failed line or file leaves the table as it was.
 */
#include "nfs4/export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORTS_ANON_ID 65534		/* nobody/nogroup, as knfsd */
#define EXPORTS_MAX_LINE (64 * 1024)	/* a logical line, continuations joined */
#define EXPORTS_MAX_CLIENT 256		/* a client spec, options excluded */
#define EXPORTS_ID_MAX (UINT32_MAX - 1) /* anonuid/anongid: (uid_t)-1 means "no id" */

__attribute__((format(printf, 3, 4))) static int exports_fail(char *err, size_t errlen,
							      const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool exports_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *exports_skip_blanks(const char *p)
{
	while (*p && exports_blank(*p))
		p++;
	return p;
}

/* Whether the n bytes at s are exactly lit. */
static bool exports_slice_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* A decimal number in [min, max], digits only (no sign, no spaces). */
static bool exports_parse_u32(const char *s, size_t n, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* 32-bit FNV-1a of the normalised path: the export id when there is no fsid=. */
static uint32_t exports_path_id(const char *path)
{
	uint32_t h = 2166136261u;

	for (const char *p = path; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 16777619u;
	}
	return h ? h : 1;
}

/* "\ooo" (three octal digits, 1..0377) as in exports(5): "\040" is a blank. */
static bool exports_octal(const char *s, char *out)
{
	unsigned v = 0;

	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '7')
			return false;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 0377)
		return false;
	*out = (char)v;
	return true;
}

/*
 * Reads the path token at *pp (quoted with "..." and \" \\ escapes, or up to
 * the next blank; \ooo octal escapes in both) and writes it normalised to
 * out: absolute, components joined by single '/', no trailing '/', no "." or
 * ".." components.
 */
static int exports_parse_path(const char **pp, char out[4096], char *err, size_t errlen)
{
	char raw[4096];
	size_t n = 0;
	const char *p = *pp;

	if (*p == '"') {
		for (p++;; p++) {
			char c = *p;

			if (c == '\0')
				return exports_fail(err, errlen, "unterminated quote in path");
			if (c == '"')
				break;
			if (c == '\\' && exports_octal(p + 1, &c))
				p += 3;
			else if (c == '\\' && (p[1] == '"' || p[1] == '\\'))
				c = *++p;
			if (n + 1 >= sizeof(raw))
				return exports_fail(err, errlen,
						    "path too long (at most %zu bytes)",
						    sizeof(raw) - 1);
			raw[n++] = c;
		}
		p++;
		if (*p && !exports_blank(*p))
			return exports_fail(err, errlen, "junk after the quoted path: \"%.40s\"",
					    p);
	} else {
		for (; *p && !exports_blank(*p); p++) {
			char c = *p;

			if (c == '\\' && exports_octal(p + 1, &c))
				p += 3;
			if (n + 1 >= sizeof(raw))
				return exports_fail(err, errlen,
						    "path too long (at most %zu bytes)",
						    sizeof(raw) - 1);
			raw[n++] = c;
		}
	}
	raw[n] = '\0';
	*pp = p;

	if (n == 0)
		return exports_fail(err, errlen, "empty path");
	if (raw[0] != '/')
		return exports_fail(err, errlen, "path \"%s\" is not absolute", raw);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			return exports_fail(err, errlen, "path \"%s\" has a control character",
					    raw);

	size_t o = 0;
	const char *c = raw;
	while (*c) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		if (exports_slice_is(c, len, ".") || exports_slice_is(c, len, ".."))
			return exports_fail(err, errlen,
					    "path \"%s\" has a \".\" or \"..\" component", raw);
		/* Normalising only shrinks the path, so it fits in out. */
		out[o++] = '/';
		memcpy(out + o, c, len);
		o += len;
		c += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* The options a line's clients may set, before they are folded into a rule. */
struct exports_opts {
	struct nfs4_export_rule rule;
	bool root_squash; /* knfsd keeps these two apart: all_squash wins over no_root_squash */
	bool all_squash;
	bool have_fsid;
	uint32_t fsid;
};

static void exports_opts_default(struct exports_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rule.rw = false;
	o->rule.secure = false; /* knfsd's default is secure; ours is not (docs/exports.md) */
	o->rule.anonuid = EXPORTS_ANON_ID;
	o->rule.anongid = EXPORTS_ANON_ID;
	o->rule.sec_flavors = UINT32_C(1) << RPC_AUTH_SYS;
	o->root_squash = true;
	o->all_squash = false;
}

/* sec=FLAVOR[:FLAVOR]... */
static int exports_parse_sec(const char *v, size_t vn, uint32_t *flavors, char *err, size_t errlen)
{
	uint32_t f = 0;
	const char *s = v, *end = v + vn;

	if (vn == 0)
		return exports_fail(err, errlen,
				    "sec= needs a flavor list (sec=sys, sec=none, "
				    "sec=sys:none)");
	while (s <= end) {
		const char *colon = memchr(s, ':', (size_t)(end - s));
		const char *e = colon ? colon : end;
		size_t n = (size_t)(e - s);

		if (exports_slice_is(s, n, "sys"))
			f |= UINT32_C(1) << RPC_AUTH_SYS;
		else if (exports_slice_is(s, n, "none"))
			f |= UINT32_C(1) << RPC_AUTH_NONE;
		else if (exports_slice_is(s, n, "krb5") || exports_slice_is(s, n, "krb5i") ||
			 exports_slice_is(s, n, "krb5p") || exports_slice_is(s, n, "lkey") ||
			 exports_slice_is(s, n, "lkeyi") || exports_slice_is(s, n, "lkeyp") ||
			 exports_slice_is(s, n, "spkm3") || exports_slice_is(s, n, "spkm3i") ||
			 exports_slice_is(s, n, "spkm3p"))
			return exports_fail(err, errlen,
					    "sec=%.*s: flavor %.*s is not supported (nfs4d has "
					    "sys and none)",
					    (int)vn, v, (int)n, s);
		else if (n == 0)
			return exports_fail(err, errlen, "sec=%.*s: empty flavor", (int)vn, v);
		else
			return exports_fail(err, errlen, "sec=%.*s: unknown flavor \"%.*s\"",
					    (int)vn, v, (int)n, s);
		if (!colon)
			break;
		s = colon + 1;
	}
	*flavors = f;
	return 0;
}

/* fsid=N: 1..2^32-1. fsid=0/root (the v4 pseudo-root in knfsd) and UUIDs are not for nfs4d. */
static int exports_parse_fsid(const char *v, size_t vn, uint32_t *out, char *err, size_t errlen)
{
	bool digits = vn > 0, uuidish = vn > 0;

	if (exports_slice_is(v, vn, "0") || exports_slice_is(v, vn, "root"))
		return exports_fail(err, errlen,
				    "fsid=%.*s: nfs4d builds the NFSv4 pseudo-root itself; "
				    "fsid=0 and fsid=root are not used",
				    (int)vn, v);
	for (size_t i = 0; i < vn; i++) {
		char c = v[i];
		bool hex =
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

		if (c < '0' || c > '9')
			digits = false;
		if (!hex && c != '-' && c != ':')
			uuidish = false;
	}
	if (digits && exports_parse_u32(v, vn, 1, UINT32_MAX, out))
		return 0;
	if (!digits && uuidish && vn >= 8)
		return exports_fail(err, errlen,
				    "fsid=%.*s: UUID fsids are not supported; use a number "
				    "1..4294967295",
				    (int)vn, v);
	return exports_fail(err, errlen, "fsid=%.*s: not a number 1..4294967295", (int)vn, v);
}

/* One option (name or name=value) of a client's list; n bytes at s, already trimmed. */
static int exports_parse_opt(struct exports_opts *o, const char *s, size_t n, char *err,
			     size_t errlen)
{
	static const char *const flags_ignored[] = {
		"no_subtree_check", "subtree_check", "wdelay", "no_wdelay", "hide",
		"nohide",	    "crossmnt",	     "no_acl",
	};
	const char *eq = memchr(s, '=', n);
	size_t kn = eq ? (size_t)(eq - s) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vn = eq ? n - kn - 1 : 0;

	if (n == 0)
		return exports_fail(err, errlen, "empty option");

	if (exports_slice_is(s, kn, "anonuid") || exports_slice_is(s, kn, "anongid")) {
		uint32_t *dst = s[4] == 'u' ? &o->rule.anonuid : &o->rule.anongid;

		if (!eq)
			return exports_fail(err, errlen, "option %.*s needs a value (%.*s=N)",
					    (int)kn, s, (int)kn, s);
		if (!exports_parse_u32(v, vn, 0, EXPORTS_ID_MAX, dst))
			return exports_fail(err, errlen, "%.*s: not a number 0..%u", (int)n, s,
					    (unsigned)EXPORTS_ID_MAX);
		return 0;
	}
	if (exports_slice_is(s, kn, "sec")) {
		if (!eq)
			return exports_fail(err, errlen, "option sec needs a value (sec=sys)");
		return exports_parse_sec(v, vn, &o->rule.sec_flavors, err, errlen);
	}
	if (exports_slice_is(s, kn, "fsid")) {
		if (!eq)
			return exports_fail(err, errlen, "option fsid needs a value (fsid=N)");
		if (exports_parse_fsid(v, vn, &o->fsid, err, errlen) < 0)
			return -1;
		o->have_fsid = true;
		return 0;
	}

	/* Everything else is a flag. */
	bool known = true;
	if (exports_slice_is(s, kn, "rw"))
		o->rule.rw = true;
	else if (exports_slice_is(s, kn, "ro"))
		o->rule.rw = false;
	else if (exports_slice_is(s, kn, "root_squash"))
		o->root_squash = true;
	else if (exports_slice_is(s, kn, "no_root_squash"))
		o->root_squash = false;
	else if (exports_slice_is(s, kn, "all_squash"))
		o->all_squash = true;
	else if (exports_slice_is(s, kn, "no_all_squash"))
		o->all_squash = false;
	else if (exports_slice_is(s, kn, "secure"))
		o->rule.secure = true;
	else if (exports_slice_is(s, kn, "insecure"))
		o->rule.secure = false;
	else if (exports_slice_is(s, kn, "sync"))
		o->rule.async = false;
	else if (exports_slice_is(s, kn, "async"))
		o->rule.async = true;
	else {
		known = false;
		for (size_t i = 0; i < sizeof(flags_ignored) / sizeof(flags_ignored[0]); i++)
			if (exports_slice_is(s, kn, flags_ignored[i]))
				known = true;
	}
	if (!known)
		return exports_fail(err, errlen, "unknown option \"%.*s\"", (int)kn, s);
	if (eq)
		return exports_fail(err, errlen, "option %.*s takes no value", (int)kn, s);
	return 0;
}

/* The option list between the parentheses: n bytes at s, comma separated. */
static int exports_parse_opts(struct exports_opts *o, const char *s, size_t n, char *err,
			      size_t errlen)
{
	const char *end = s + n;

	if (exports_skip_blanks(s) >= end)
		return 0; /* "()" : the defaults */
	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *b = s, *e = comma ? comma : end;

		while (b < e && exports_blank(*b))
			b++;
		while (e > b && exports_blank(e[-1]))
			e--;
		if (exports_parse_opt(o, b, (size_t)(e - b), err, errlen) < 0)
			return -1;
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
}

/* Appends one address rule (a copy of tmpl for addr/prefix_len) to e. */
static int exports_add_rule(struct nfs4_export *e, const struct nfs4_export_rule *tmpl, int family,
			    const uint8_t *addr, unsigned prefix_len, char *err, size_t errlen)
{
	struct nfs4_export_rule r = *tmpl;
	size_t alen = family == AF_INET ? 4 : 16;

	/* An IPv4 peer on a dual-stack socket is matched as IPv4, so its rules are too. */
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == AF_INET6 && prefix_len >= 96 && memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
		prefix_len -= 96;
		alen = 4;
	}
	r.any = false;
	r.family = family;
	r.prefix_len = (uint8_t)prefix_len;
	memset(r.addr, 0, sizeof(r.addr));
	memcpy(r.addr, addr, alen);
	/* Host bits of a subnet are ignored, as knfsd does: 10.1.2.3/8 is 10.0.0.0/8. */
	for (unsigned bit = prefix_len; bit < alen * 8; bit++)
		r.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));

	if (e->rules->n == NFS4_EXPORT_MAX_RULES)
		return exports_fail(err, errlen,
				    "too many clients (at most %d per export, counting each "
				    "address of a host name)",
				    NFS4_EXPORT_MAX_RULES);
	e->rules->v[e->rules->n++] = r;
	return 0;
}

/* "/N" after an address: 0..max. */
static bool exports_parse_prefix(const char *s, unsigned max, unsigned *out)
{
	uint32_t v;

	if (!exports_parse_u32(s, strlen(s), 0, max, &v))
		return false;
	*out = v;
	return true;
}

static int exports_client_v4(struct nfs4_export *e, const struct nfs4_export_rule *tmpl, char *name,
			     char *err, size_t errlen)
{
	char shown[EXPORTS_MAX_CLIENT];
	char *slash = strchr(name, '/');
	uint8_t addr[4];
	unsigned plen = 32;

	snprintf(shown, sizeof(shown), "%s", name);
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, name, addr) != 1)
		return exports_fail(err, errlen, "client %s: bad IPv4 address", shown);
	if (slash) {
		uint8_t mask[4];

		if (strchr(slash + 1, '.')) {
			/* a.b.c.d/255.255.255.0: a contiguous netmask. */
			if (inet_pton(AF_INET, slash + 1, mask) != 1)
				return exports_fail(err, errlen, "client %s: bad netmask", shown);
			uint32_t m = (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 |
				     (uint32_t)mask[2] << 8 | mask[3];
			uint32_t inv = ~m;

			if (inv & (inv + 1))
				return exports_fail(err, errlen,
						    "client %s: netmask is not contiguous", shown);
			plen = (unsigned)__builtin_popcount(m);
		} else if (!exports_parse_prefix(slash + 1, 32, &plen)) {
			return exports_fail(err, errlen,
					    "client %s: bad prefix length (0..32 for IPv4)", shown);
		}
	}
	return exports_add_rule(e, tmpl, AF_INET, addr, plen, err, errlen);
}

static int exports_client_v6(struct nfs4_export *e, const struct nfs4_export_rule *tmpl, char *name,
			     char *err, size_t errlen)
{
	char shown[EXPORTS_MAX_CLIENT];
	char *a = name, *rest;
	uint8_t addr[16];
	unsigned plen = 128;

	snprintf(shown, sizeof(shown), "%s", name);
	if (*a == '[') {
		char *close = strchr(a, ']');

		if (!close)
			return exports_fail(err, errlen, "client %s: missing ']'", shown);
		*close = '\0';
		a++;
		rest = close + 1;
		if (*rest && *rest != '/')
			return exports_fail(err, errlen, "client %s: junk after ']'", shown);
	} else {
		rest = strchr(a, '/');
		if (!rest)
			rest = a + strlen(a);
	}
	if (*rest == '/') {
		*rest++ = '\0';
		if (!exports_parse_prefix(rest, 128, &plen))
			return exports_fail(err, errlen,
					    "client %s: bad prefix length (0..128 for IPv6)",
					    shown);
	}
	if (strchr(a, '%'))
		return exports_fail(err, errlen, "client %s: IPv6 zone ids are not supported",
				    shown);
	if (inet_pton(AF_INET6, a, addr) != 1)
		return exports_fail(err, errlen, "client %s: bad IPv6 address", shown);
	return exports_add_rule(e, tmpl, AF_INET6, addr, plen, err, errlen);
}

/* A host name: every address it resolves to now becomes a host rule. */
static int exports_client_host(struct nfs4_export *e, const struct nfs4_export_rule *tmpl,
			       const char *name, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int first = e->rules->n;
	int rc;

	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_';
		if (!ok)
			return exports_fail(err, errlen,
					    "client %s: not an address, a subnet, * or a host "
					    "name",
					    name);
	}
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0)
		return exports_fail(err, errlen, "client %s: cannot resolve: %s", name,
				    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	rc = 0;
	for (struct addrinfo *ai = res; ai && rc == 0; ai = ai->ai_next) {
		const uint8_t *addr;
		int family = ai->ai_family;
		unsigned plen;

		if (family == AF_INET) {
			addr = (const uint8_t *)&((struct sockaddr_in *)(void *)ai->ai_addr)
				       ->sin_addr;
			plen = 32;
		} else if (family == AF_INET6) {
			addr = (const uint8_t *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)
				       ->sin6_addr;
			plen = 128;
		} else {
			continue;
		}
		rc = exports_add_rule(e, tmpl, family, addr, plen, err, errlen);
		if (rc < 0)
			break;
		/* The resolver may list an address more than once. */
		const struct nfs4_export_rule *nr = &e->rules->v[e->rules->n - 1];
		for (int i = first; i < e->rules->n - 1; i++) {
			if (e->rules->v[i].family == nr->family &&
			    memcmp(e->rules->v[i].addr, nr->addr, sizeof(nr->addr)) == 0) {
				e->rules->n--;
				break;
			}
		}
	}
	freeaddrinfo(res);
	if (rc == 0 && e->rules->n == first)
		return exports_fail(err, errlen, "client %s: resolves to no IP address", name);
	return rc;
}

/* One client spec (the part before '('), given the options already parsed. */
static int exports_parse_client(struct nfs4_export *e, const struct nfs4_export_rule *tmpl,
				const char *s, size_t n, char *err, size_t errlen)
{
	char name[EXPORTS_MAX_CLIENT];

	if (n >= sizeof(name))
		return exports_fail(err, errlen, "client %.40s...: name too long", s);
	memcpy(name, s, n);
	name[n] = '\0';

	if (strcmp(name, "*") == 0) {
		if (e->rules->n == NFS4_EXPORT_MAX_RULES)
			return exports_fail(err, errlen, "too many clients (at most %d per export)",
					    NFS4_EXPORT_MAX_RULES);
		e->rules->v[e->rules->n] = *tmpl;
		e->rules->v[e->rules->n].any = true;
		e->rules->v[e->rules->n].family = AF_UNSPEC;
		e->rules->n++;
		return 0;
	}
	if (name[0] == '/')
		return exports_fail(err, errlen,
				    "client %s: looks like a path (one export per line)", name);
	if (name[0] == '@')
		return exports_fail(err, errlen, "client %s: netgroups are not supported", name);
	if (n >= 4 && memcmp(name, "gss/", 4) == 0)
		return exports_fail(err, errlen,
				    "client %s: gss/ clients are not supported; use sec=", name);
	if (strpbrk(name, "*?"))
		return exports_fail(err, errlen,
				    "client %s: wildcard host names are not supported; use * or "
				    "a subnet",
				    name);
	if (name[0] == '[' || strchr(name, ':'))
		return exports_client_v6(e, tmpl, name, err, errlen);
	if (strspn(name, "0123456789.") == strcspn(name, "/") && name[0] != '/')
		return exports_client_v4(e, tmpl, name, err, errlen);
	if (strchr(name, '/'))
		return exports_fail(err, errlen,
				    "client %s: a prefix length needs an IP address, not a name",
				    name);
	return exports_client_host(e, tmpl, name, err, errlen);
}

/* Grows the table by one export and returns it, zeroed (capacity: powers of two). */
static struct nfs4_export *exports_append(struct nfs4_exports *out)
{
	int n = out->n;

	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n == 0 ? 1 : (size_t)n * 2;
		struct nfs4_export *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		out->v = v;
	}
	memset(&out->v[n], 0, sizeof(out->v[n]));
	out->v[n].rules = calloc(1, sizeof(*out->v[n].rules));
	return out->v[n].rules ? &out->v[n] : NULL;
}

/* Options into o (starting from what o holds), naming what they belong to on error. */
static int exports_parse_opts_for(struct exports_opts *o, const char *opts, size_t opts_len,
				  const char *what, const char *name, size_t name_len, char *err,
				  size_t errlen)
{
	char reason[256];

	if (exports_parse_opts(o, opts, opts_len, err, errlen) == 0)
		return 0;
	if (errlen == 0)
		return -1;
	snprintf(reason, sizeof(reason), "%s", err);
	return exports_fail(err, errlen, "%s%.*s: %s", what, (int)name_len, name, reason);
}

/* Adds the rules of one client with options o; fsid=, per export, must agree across clients. */
static int exports_line_client(struct nfs4_export *e, struct exports_opts *o, const char *name,
			       size_t name_len, bool *have_fsid, uint32_t *fsid, char *err,
			       size_t errlen)
{
	o->rule.squash = o->all_squash	  ? NFS4_ALL_SQUASH
			 : o->root_squash ? NFS4_ROOT_SQUASH
					  : NFS4_NO_ROOT_SQUASH;
	if (o->have_fsid) {
		if (*have_fsid && *fsid != o->fsid)
			return exports_fail(err, errlen,
					    "fsid=%u conflicts with fsid=%u of another client of "
					    "the same path",
					    o->fsid, *fsid);
		*have_fsid = true;
		*fsid = o->fsid;
	}
	return exports_parse_client(e, &o->rule, name, name_len, err, errlen);
}

/* Parses the line from p into e, the entry past the end of out (not yet counted). */
static int exports_parse_line(const struct nfs4_exports *out, struct nfs4_export *e, const char *p,
			      char *err, size_t errlen)
{
	struct exports_opts defs, o;
	bool have_fsid = false;
	uint32_t fsid = 0;
	int nclients = 0;

	if (exports_parse_path(&p, e->path, err, errlen) < 0)
		return -1;

	/* "-OPTIONS" tokens change the defaults of the clients after them on the line. */
	exports_opts_default(&defs);
	for (;;) {
		const char *name, *opts = NULL;
		size_t name_len, opts_len = 0;

		p = exports_skip_blanks(p);
		if (!*p)
			break;
		name = p;
		if (*p == '-') {
			while (*p && !exports_blank(*p))
				p++;
			if (p - name == 1)
				return exports_fail(err, errlen, "\"-\" without default options");
			if (exports_parse_opts_for(&defs, name + 1, (size_t)(p - name - 1),
						   "default options ", name, (size_t)(p - name),
						   err, errlen) < 0)
				return -1;
			continue;
		}
		while (*p && *p != '(' && !exports_blank(*p))
			p++;
		name_len = (size_t)(p - name);
		if (*p == '(') {
			const char *close = strchr(p, ')');

			if (!close)
				return exports_fail(err, errlen, "client %.*s: missing ')'",
						    (int)name_len, name);
			opts = p + 1;
			opts_len = (size_t)(close - opts);
			p = close + 1;
			if (*p && !exports_blank(*p))
				return exports_fail(err, errlen,
						    "client %.*s: junk after ')': \"%.20s\"",
						    (int)name_len, name, p);
		}
		if (name_len == 0) {
			/* "host (rw)" would give the world rw in knfsd: almost always a typo. */
			if (nclients > 0)
				return exports_fail(
					err, errlen,
					"options \"(%.*s)\" have no client: write "
					"CLIENT(OPTIONS) without a space, or *(OPTIONS)",
					(int)opts_len, opts);
			/* "/pub (ro)" right after the path: for everyone, as in knfsd. */
			name = "*";
			name_len = 1;
		}
		o = defs;
		if (opts && exports_parse_opts_for(&o, opts, opts_len, "client ", name, name_len,
						   err, errlen) < 0)
			return -1;
		if (exports_line_client(e, &o, name, name_len, &have_fsid, &fsid, err, errlen) < 0)
			return -1;
		nclients++;
	}
	if (nclients == 0) {
		o = defs;
		if (exports_line_client(e, &o, "*", 1, &have_fsid, &fsid, err, errlen) < 0)
			return -1;
	}

	e->id = have_fsid ? fsid : exports_path_id(e->path);
	for (int i = 0; i < out->n; i++) {
		if (strcmp(out->v[i].path, e->path) == 0)
			return exports_fail(err, errlen, "duplicate export %s", e->path);
		if (out->v[i].id != e->id)
			continue;
		if (have_fsid)
			return exports_fail(err, errlen, "fsid=%u of %s is already the id of %s",
					    fsid, e->path, out->v[i].path);
		return exports_fail(err, errlen,
				    "export id %u (a hash of the path %s) is already the id of "
				    "%s: give one of them an fsid=",
				    e->id, e->path, out->v[i].path);
	}
	return 0;
}

int nfs4_exports_add_line(struct nfs4_exports *out, const char *line, char *err, size_t errlen)
{
	struct nfs4_export *e;
	const char *p = exports_skip_blanks(line);

	if (!*p)
		return exports_fail(err, errlen, "empty line: expected PATH [CLIENT(OPTIONS)]...");
	e = exports_append(out);
	if (!e)
		return exports_fail(err, errlen, "out of memory");
	if (exports_parse_line(out, e, p, err, errlen) == 0) {
		out->n++;
		return 0;
	}
	/* Not counted, so the table is as it was: only the entry's rules are to free. */
	free(e->rules);
	e->rules = NULL;
	return -1;
}

/*
 * Removes a '#' comment: from the first '#' outside a "quoted string" to the
 * end of the physical line.
 */
static void exports_strip_comment(char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (quoted && *s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '#' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

int nfs4_exports_load_file(struct nfs4_exports *out, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL, *logical = NULL;
	size_t bufcap = 0, llen = 0;
	unsigned lineno = 0, first = 0;
	int n0 = out->n, rc = 0;
	bool pending = false; /* the previous physical line ended in '\' */
	char reason[512];

	if (!f)
		return exports_fail(err, errlen, "%s: %s", path, strerror(errno));
	logical = malloc(EXPORTS_MAX_LINE + 1);
	if (!logical) {
		fclose(f);
		return exports_fail(err, errlen, "%s: out of memory", path);
	}

	for (;;) {
		ssize_t n = getline(&buf, &bufcap, f);
		bool cont = false;

		if (n < 0) {
			if (ferror(f)) {
				rc = exports_fail(err, errlen, "%s: %s", path, strerror(errno));
				goto out;
			}
			if (!pending)
				break;
			/* A '\' on the last line continues into nothing. */
		} else {
			lineno++;
			if (!pending)
				first = lineno;
			if (memchr(buf, '\0', (size_t)n)) {
				rc = exports_fail(err, errlen, "%s:%u: NUL byte in line", path,
						  lineno);
				goto out;
			}
			exports_strip_comment(buf);
			size_t len = strlen(buf);
			while (len > 0 && exports_blank(buf[len - 1]))
				len--;
			if (len > 0 && buf[len - 1] == '\\') {
				cont = true;
				len--;
			}
			if (llen + len + 1 > EXPORTS_MAX_LINE) {
				rc = exports_fail(err, errlen,
						  "%s:%u: line too long (over %d bytes)", path,
						  first, EXPORTS_MAX_LINE);
				goto out;
			}
			memcpy(logical + llen, buf, len);
			llen += len;
			logical[llen++] = ' ';
		}
		pending = cont;
		if (cont)
			continue;
		logical[llen] = '\0';
		if (*exports_skip_blanks(logical) &&
		    nfs4_exports_add_line(out, logical, reason, sizeof(reason)) < 0) {
			rc = exports_fail(err, errlen, "%s:%u: %s", path, first, reason);
			goto out;
		}
		llen = 0;
		if (n < 0)
			break;
	}
out:
	for (; rc < 0 && out->n > n0; out->n--)
		free(out->v[out->n - 1].rules);
	free(buf);
	free(logical);
	fclose(f);
	return rc;
}
