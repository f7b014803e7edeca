/*
 * Call credentials and verifiers (RFC 5531 section 8 and appendix A). We
 * implement AUTH_NONE and AUTH_SYS; every other flavor (AUTH_SHORT, AUTH_DH,
 * RPCSEC_GSS, unknown numbers) is refused with AUTH_BADCRED. Whether a known
 * flavor is strong enough for a procedure is the program's choice (msg.c).
 */
#ifndef NFS4D_RPC_AUTH_H
#define NFS4D_RPC_AUTH_H

#include <stdbool.h>

#include "rpc/rpc.h"

/* True for the flavors this layer can decode (AUTH_NONE, AUTH_SYS). */
bool rpc_auth_flavor_known(uint32_t flavor);

/*
 * Checks and decodes a credential into *cred: AUTH_OK, or AUTH_BADCRED when
 * the flavor is not implemented or the body is malformed (AUTH_NONE with a
 * body; AUTH_SYS with machinename > 255 bytes, more than 16 gids, a short body
 * or trailing bytes).
 */
enum rpc_auth_stat rpc_auth_decode_cred(uint32_t flavor, const struct xdr_opaque *body,
					struct rpc_cred *cred);

/* The call verifier must be AUTH_NONE with an empty body: AUTH_OK or AUTH_BADVERF. */
enum rpc_auth_stat rpc_auth_check_verf(uint32_t flavor, const struct xdr_opaque *body);

#endif
