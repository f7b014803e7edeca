/* Every limit nfs4d enforces, in one place. Decoders check against these. */
#ifndef NFS4D_UTIL_LIMITS_H
#define NFS4D_UTIL_LIMITS_H

/* RPC transport */
#define RPC_MAX_RECORD (4u * 1024 * 1024 + 64 * 1024) /* a 4 MiB WRITE plus headers */
#define RPC_MAX_FRAGMENTS 64			      /* fragments per record */
#define RPC_MAX_AUTH_BYTES 400			      /* RFC 5531: opaque_auth body <= 400 */
#define RPC_MAX_MACHINENAME 255			      /* AUTH_SYS machinename<255> */
#define RPC_MAX_AUTH_GIDS 16			      /* AUTH_SYS gids<16> */
#define RPC_MAX_CONNS 4096			      /* open connections at once */
#define RPC_MAX_INFLIGHT_PER_CONN 256		      /* calls of one connection running at once */
/*
 * Bulk data (rpc/pipe.h): a single-fragment record longer than RPC_BULK_MIN
 * may leave up to RPC_BULK_MAX bytes of an opaque in a pipe; its first
 * RPC_BULK_PREFIX bytes are read first to find that opaque.
 */
#define RPC_BULK_MIN (64u * 1024)
#define RPC_BULK_MAX (1u * 1024 * 1024)
#define RPC_BULK_PREFIX 1024u
#define RPC_BULK_PIPES 256 /* pipes open at once */
/* Record buffer bytes kept in memory between calls: a 1 MiB WRITE and its headers. */
#define RPC_BUF_RESIDENT (1u * 1024 * 1024 + 64 * 1024)

/* Per-request decode memory (arrays, optional members) */
#define XDR_ARENA_LIMIT (1u * 1024 * 1024)

/* NFSv4.1 COMPOUND and sessions */
#define NFS4_MAX_TAG 1024     /* bytes of COMPOUND tag we accept */
#define NFS4_MAX_OPS_HARD 256 /* ops in a COMPOUND before any session limit */
#define NFS4_MAX_OPS 64	      /* ca_maxoperations we grant */
#define NFS4_MAX_SLOTS 128    /* fore channel ca_maxrequests we grant */
#define NFS4_MAX_CB_SLOTS 16  /* back channel slots we use */
#define NFS4_MAX_REQ_SIZE (1u * 1024 * 1024 + 4096)
#define NFS4_MAX_RESP_SIZE (1u * 1024 * 1024 + 4096)
#define NFS4_MAX_RESP_CACHED 8192  /* ca_maxresponsesize_cached we grant */
#define NFS4_MIN_CHANNEL_SIZE 1024 /* smaller requested sizes get NFS4ERR_TOOSMALL */
#define NFS4_MAX_OWNER 1024	   /* co_ownerid / so_major_id bytes */
#define NFS4_MAX_SESSIONS_PER_CLIENT 32
#define NFS4_MAX_CONNS_PER_SESSION 16
#define NFS4_MAX_CLIENTS 100000
/* Expired clients kept to be told so when they return (client.c): how long, how many. */
#define NFS4_EXPIRED_KEEP_S (24 * 3600)
#define NFS4_MAX_EXPIRED_CLIENTS 10000

/* File I/O */
#define NFS4_MAX_IO (1u * 1024 * 1024) /* maxread and maxwrite we announce */

/* vfs backend: the LOOKUP name cache (backend/vfs_ncache.h), per export */
#define VFS_NCACHE_DIRS 4096   /* directories watched (inotify watches) */
#define VFS_NCACHE_NAMES 65536 /* names cached */
#define VFS_NCACHE_CREDS 4     /* callers remembered per directory as allowed to search it */

/* Defaults */
#define NFS4_DEFAULT_LEASE 90	      /* seconds */
#define NFS4_DEFAULT_MAX_DELEGS 10000 /* delegations granted at once (--max-delegations) */
#define NFS4_DEFAULT_PORT 2049

#endif
