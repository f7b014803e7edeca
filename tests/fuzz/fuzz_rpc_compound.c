/*
 * libFuzzer target: bytes as they would arrive on a TCP connection → record
 * marking → RPC call checks → COMPOUND decode and execution against a fresh
 * NFSv4.1 server state. The state is rebuilt for every input with a fixed
 * boot epoch, so client and session ids are predictable and the corpus can
 * carry whole EXCHANGE_ID → CREATE_SESSION → SEQUENCE conversations.
 */
#include <stdlib.h>
#include <string.h>

#include "nfs4/nfs4.h"
#include "rpc/msg.h"
#include "rpc/record.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/rcu.h"

#define FUZZ_MAX_RECORD (256 * 1024)
#define FUZZ_MAX_REPLY (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_record(const struct rpc_program *prog, const uint8_t *rec, size_t len,
			uint8_t *reply_buf)
{
	size_t have = len < RPC_BULK_PREFIX ? len : RPC_BULK_PREFIX, off, blen;
	struct arena arena;
	struct xdr_enc reply;
	uint32_t xid;

	/*
	 * What the server's reader asks of a large record's first bytes
	 * (rpc/bulk.c): the walk stays within them (ASan), and a bulk it names
	 * lies within the record.
	 */
	if (prog->find_bulk(rec, have, len, &off, &blen) && (off > len || blen > len - off))
		abort();
	arena_init(&arena, XDR_ARENA_LIMIT);
	xdr_enc_init(&reply, reply_buf, FUZZ_MAX_REPLY);
	rpc_msg_process(prog, 1, NULL, rec, len, NULL, &arena, &reply, &xid);
	arena_reset(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	static uint8_t *reply_buf, *rec_buf;
	struct nfs4_config cfg = {
		.lease_seconds = 90, .laundromat = false, .boot_epoch = 1, .backend = "mem"};
	char err[256];
	struct nfs4_server *srv;
	struct rpc_program prog;
	struct rpc_record rr;

	if (!registered) {
		rcu_register_thread();
		log_set_level(LOG_ERR);
		reply_buf = malloc(FUZZ_MAX_REPLY);
		rec_buf = malloc(FUZZ_MAX_RECORD);
		registered = true;
	}
	/* One export at the pseudo root, so file operations are reachable from PUTROOTFH. */
	if (nfs4_exports_add_line(&cfg.exports, "/ *(rw,no_root_squash)", err, sizeof(err)) < 0)
		abort();
	srv = nfs4_server_create(&cfg);
	if (!srv)
		abort();
	prog = nfs4_server_program(srv);
	rpc_record_init(&rr, FUZZ_MAX_RECORD);
	/*
	 * As the server reads a socket: never past what the reassembler asks
	 * for, the next record's header along with a record's last bytes.
	 */
	while (size > 0 || rr.ready) {
		uint8_t *dst, *mark;
		size_t n, m;
		enum rpc_record_status st = rr.ready ? RPC_RECORD_READY : RPC_RECORD_MORE;

		if (rr.error)
			break;
		if (st == RPC_RECORD_MORE) {
			if (rpc_record_wants_buf(&rr))
				rpc_record_attach(&rr, rec_buf);
			n = rpc_record_next(&rr, &dst);
			m = rpc_record_next_mark(&rr, &mark);
			if (n > size)
				n = size, m = 0;
			else if (m > size - n)
				m = size - n;
			memcpy(dst, data, n);
			if (m)
				memcpy(mark, data + n, m);
			data += n + m;
			size -= n + m;
			st = rpc_record_advance(&rr, n + m);
		}
		if (st == RPC_RECORD_ERROR)
			break;
		if (st == RPC_RECORD_READY) {
			size_t len;
			const uint8_t *rec = rpc_record_take(&rr, &len);

			fuzz_record(&prog, rec, len, reply_buf);
		}
	}
	nfs4_server_destroy(srv);
	return 0;
}
