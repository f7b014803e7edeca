/*
 * Where a WRITE's data lies in a call record, told from the record's first
 * bytes (rpc_program.find_bulk), so the rpc layer can leave it in a pipe
 * and WRITE splice it to the file (op_io.c).
 *
 * Only the shape Linux and nfs4bench send is recognised: an RPC call of
 * NFSv4 COMPOUND with AUTH_NONE or AUTH_SYS, minor version 1, SEQUENCE,
 * one or more PUTFH, then WRITE of at most NFS4_MAX_IO bytes. Anything else
 * (other flavours, other ops first, a prefix too short to see the WRITE's
 * header) has no bulk and is read as before. The walk is bounds-checked on
 * the prefix only; what it finds is checked against the record's length.
 *
 * The bulk starts NFS4_DIGEST_BYTES after SEQUENCE's arguments at the
 * earliest, because SEQUENCE hashes those bytes into the request digest
 * (sequence.c): they must be in the buffer when it runs. A lying header
 * costs nothing: the COMPOUND decodes the same bytes and fails there.
 */
#include "nfs4/compound.h"
#include "nfs4/nfs4.h"

/* SEQUENCE4args: sessionid, sequenceid, slotid, highest_slotid, cachethis. */
#define NFS4_SEQUENCE_ARGS_BYTES (NFS4_SESSIONID_SIZE + 4 * 4)
/* WRITE4args before the data's length: stateid (seqid, other[12]), offset, stable. */
#define NFS4_WRITE_HEAD_BYTES (4 + 12 + 8 + 4)

/* The RPC call header up to the COMPOUND's arguments: true if it is one we read. */
static bool bulk_rpc_header(struct xdr_dec *x)
{
	uint32_t v[6], cflavor, vflavor;
	struct xdr_opaque cred, verf;

	for (int i = 0; i < 6; i++)
		if (!xdr_dec_u32(x, &v[i]))
			return false;
	/* xid, CALL, rpcvers 2, program, version, procedure COMPOUND */
	if (v[1] != RPC_MSG_CALL || v[2] != RPC_VERSION || v[3] != NFS4_PROGRAM ||
	    v[4] != NFS4_VERSION || v[5] != 1)
		return false;
	if (!xdr_dec_u32(x, &cflavor) || (cflavor != RPC_AUTH_NONE && cflavor != RPC_AUTH_SYS) ||
	    !xdr_dec_opaque(x, &cred, RPC_MAX_AUTH_BYTES))
		return false;
	return xdr_dec_u32(x, &vflavor) && xdr_dec_opaque(x, &verf, RPC_MAX_AUTH_BYTES);
}

bool nfs4_find_bulk(const uint8_t *rec, size_t have, size_t reclen, size_t *off, size_t *len)
{
	struct xdr_dec x;
	struct xdr_opaque tag, fh;
	uint32_t minor, numops, opnum, dlen;
	size_t digest_end, data_off, end;

	xdr_dec_init(&x, rec, have, NULL);
	if (!bulk_rpc_header(&x) || !xdr_dec_opaque(&x, &tag, NFS4_MAX_TAG) ||
	    !xdr_dec_u32(&x, &minor) || minor != 1 || !xdr_dec_u32(&x, &numops) ||
	    numops > NFS4_MAX_OPS_HARD)
		return false;
	if (numops < 3 || !xdr_dec_u32(&x, &opnum) || opnum != OP_SEQUENCE ||
	    !xdr_dec_inline(&x, NFS4_SEQUENCE_ARGS_BYTES))
		return false;
	digest_end = (size_t)(x.p - rec) + NFS4_DIGEST_BYTES;
	for (uint32_t i = 1; i < numops; i++) {
		if (!xdr_dec_u32(&x, &opnum))
			return false;
		if (opnum == OP_PUTFH) {
			if (!xdr_dec_opaque(&x, &fh, NFS4_FHSIZE))
				return false;
			continue;
		}
		/* Without a PUTFH the WRITE fails (NOFILEHANDLE): not worth a pipe. */
		if (opnum != OP_WRITE || i == 1 || !xdr_dec_inline(&x, NFS4_WRITE_HEAD_BYTES) ||
		    !xdr_dec_u32(&x, &dlen) || dlen > NFS4_MAX_IO)
			return false;
		data_off = (size_t)(x.p - rec);
		end = data_off + dlen;
		if (end > reclen)
			return false;
		*off = data_off > digest_end ? data_off : digest_end;
		if (*off >= end)
			return false;
		*len = end - *off;
		return true;
	}
	return false;
}
