#include "rpc/auth.h"

#include <string.h>

#define RPC_NOBODY 65534

bool rpc_auth_flavor_known(uint32_t flavor)
{
	return flavor == RPC_AUTH_NONE || flavor == RPC_AUTH_SYS;
}

/*
 * struct authsys_parms {
 *	unsigned int stamp;
 *	string machinename<255>;
 *	unsigned int uid;
 *	unsigned int gid;
 *	unsigned int gids<16>;
 * };
 * The body is exactly this structure: trailing bytes are malformed too.
 */
static enum rpc_auth_stat auth_sys_decode(const struct xdr_opaque *body, struct rpc_cred *cred)
{
	struct xdr_dec x;
	struct xdr_opaque name;

	xdr_dec_init(&x, body->data, body->len, NULL);
	if (!xdr_dec_u32(&x, &cred->stamp) || !xdr_dec_opaque(&x, &name, RPC_MAX_MACHINENAME) ||
	    !xdr_dec_u32(&x, &cred->uid) || !xdr_dec_u32(&x, &cred->gid) ||
	    !xdr_dec_count(&x, &cred->ngids, RPC_MAX_AUTH_GIDS, 4))
		return RPC_AUTH_BADCRED;
	for (uint32_t i = 0; i < cred->ngids; i++)
		if (!xdr_dec_u32(&x, &cred->gids[i]))
			return RPC_AUTH_BADCRED;
	if (xdr_dec_remaining(&x) != 0)
		return RPC_AUTH_BADCRED;
	if (name.len)
		memcpy(cred->machinename, name.data, name.len);
	cred->machinename[name.len] = '\0';
	cred->flavor = RPC_AUTH_SYS;
	return RPC_AUTH_OK;
}

enum rpc_auth_stat rpc_auth_decode_cred(uint32_t flavor, const struct xdr_opaque *body,
					struct rpc_cred *cred)
{
	memset(cred, 0, sizeof(*cred));
	cred->uid = RPC_NOBODY;
	cred->gid = RPC_NOBODY;
	switch (flavor) {
	case RPC_AUTH_NONE:
		if (body->len != 0)
			return RPC_AUTH_BADCRED;
		cred->flavor = RPC_AUTH_NONE;
		return RPC_AUTH_OK;
	case RPC_AUTH_SYS: {
		enum rpc_auth_stat st = auth_sys_decode(body, cred);

		if (st != RPC_AUTH_OK) {
			memset(cred, 0, sizeof(*cred));
			cred->uid = RPC_NOBODY;
			cred->gid = RPC_NOBODY;
		}
		return st;
	}
	default:
		return RPC_AUTH_BADCRED;
	}
}

enum rpc_auth_stat rpc_auth_check_verf(uint32_t flavor, const struct xdr_opaque *body)
{
	return flavor == RPC_AUTH_NONE && body->len == 0 ? RPC_AUTH_OK : RPC_AUTH_BADVERF;
}
