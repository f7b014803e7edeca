/*
 * Exports at run time: which rule of an export applies to a peer, the
 * credentials a call runs with, whether a call's flavor and port are
 * admitted, and freeing the table. Parsing is in exports_file.c.
 *
 * Rule selection follows knfsd's effective behaviour (exportfs sorts clients
 * by kind: hosts, then subnets, then wildcards) as one rule: of the rules
 * that match, the one with the longest prefix wins, `*` only when no address
 * rule matches, and the earlier rule on the line breaks a tie. The rules stay
 * in the order they were written so the table reads like the file.
 */
#include "nfs4/export.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/*
 * The peer's address as the rules store it: a v4-mapped IPv6 peer
 * (::ffff:a.b.c.d, from a dual-stack listener) is an IPv4 peer.
 * Returns the family, or AF_UNSPEC for anything else.
 */
static int export_peer_addr(const struct sockaddr_storage *peer, uint8_t addr[16], uint16_t *port)
{
	if (!peer)
		return AF_UNSPEC;
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;

		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return AF_INET;
	}
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)peer;

		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(addr, &sin6->sin6_addr.s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(addr, &sin6->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

/* Whether the first bits of a and b are equal. */
static bool export_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

const struct nfs4_export_rule *nfs4_export_match(const struct nfs4_export *e,
						 const struct sockaddr_storage *peer)
{
	const struct nfs4_export_rule *best = NULL, *any = NULL;
	uint8_t addr[16];
	uint16_t port;
	int family = export_peer_addr(peer, addr, &port);
	const struct nfs4_export_rules *rules = rcu_fetch(e->rules);

	for (int i = 0; i < rules->n; i++) {
		const struct nfs4_export_rule *r = &rules->v[i];

		if (r->any) {
			if (!any)
				any = r;
			continue;
		}
		if (r->family != family || !export_prefix_eq(r->addr, addr, r->prefix_len))
			continue;
		if (!best || r->prefix_len > best->prefix_len)
			best = r;
	}
	return best ? best : any;
}

void nfs4_export_cred(const struct nfs4_export_rule *r, const struct rpc_cred *in,
		      struct be_cred *out)
{
	memset(out, 0, sizeof(*out));
	out->async = r->async;
	/* AUTH_NONE (and anything that is not AUTH_SYS) carries no identity: anonymous. */
	if (in->flavor != RPC_AUTH_SYS || r->squash == NFS4_ALL_SQUASH) {
		out->uid = r->anonuid;
		out->gid = r->anongid;
		out->ngroups = 0;
		return;
	}
	out->uid = in->uid;
	out->gid = in->gid;
	out->ngroups = in->ngids < BE_MAX_GROUPS ? in->ngids : BE_MAX_GROUPS;
	if (out->ngroups > RPC_MAX_AUTH_GIDS)
		out->ngroups = RPC_MAX_AUTH_GIDS;
	memcpy(out->groups, in->gids, out->ngroups * sizeof(out->groups[0]));
	if (r->squash != NFS4_ROOT_SQUASH)
		return;
	/* As knfsd: root's uid, the primary gid 0 and group 0 in the list are squashed. */
	if (out->uid == 0)
		out->uid = r->anonuid;
	if (out->gid == 0)
		out->gid = r->anongid;
	for (uint32_t i = 0; i < out->ngroups; i++)
		if (out->groups[i] == 0)
			out->groups[i] = r->anongid;
}

bool nfs4_export_admits(const struct nfs4_export_rule *r, const struct rpc_cred *cred,
			const struct sockaddr_storage *peer)
{
	if (cred->flavor >= 32 || !(r->sec_flavors & (UINT32_C(1) << cred->flavor)))
		return false;
	if (r->secure) {
		uint8_t addr[16];
		uint16_t port;

		if (export_peer_addr(peer, addr, &port) == AF_UNSPEC || port >= 1024)
			return false;
	}
	return true;
}

void nfs4_exports_free(struct nfs4_exports *exps)
{
	for (int i = 0; i < exps->n; i++) {
		struct backend *be = exps->v[i].be;

		if (be)
			be->ops->destroy(be);
		free(exps->v[i].rules);
	}
	free(exps->v);
	exps->v = NULL;
	exps->n = 0;
}
