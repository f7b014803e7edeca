#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_rpc_compound: whole RPC conversations as a
client would send them on one connection. Ids assume the fuzzer's fixed boot
epoch 1: clientid 0x0000000100000001, sessionid = clientid + 00000001 + 00000001.
Run: tests/fuzz/make_corpus.py tests/fuzz/corpus/fuzz_rpc_compound"""
import os
import struct
import sys

def u32(*v): return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)
def u64(v): return struct.pack(">Q", v)
def opq(b): return u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)

AUTH_SYS = u32(1) + opq(u32(0) + opq(b"fuzzhost") + u32(0, 0) + u32(1, 0))
CLIENTID = 0x0000000100000001
SESSIONID = u64(CLIENTID) + u32(1, 1)
CA = u32(0, 65536, 65536, 4096, 16, 8, 0)

def call(xid, proc, body, prog=100003, vers=4, cred=AUTH_SYS, frag=None):
    msg = u32(xid, 0, 2, prog, vers, proc) + cred + u32(0, 0) + body
    if frag:  # split into fragments of frag bytes
        out = b""
        for i in range(0, len(msg), frag):
            part = msg[i:i + frag]
            last = 0x80000000 if i + frag >= len(msg) else 0
            out += u32(last | len(part)) + part
        return out
    return u32(0x80000000 | len(msg)) + msg

def compound(ops, tag=b"fuzz", minor=1):
    return opq(tag) + u32(minor, len(ops)) + b"".join(ops)

EXID = u32(42) + b"verifie1" + opq(b"fuzz-owner") + u32(0) + u32(0) + u32(0)
CS = u32(43) + u64(CLIENTID) + u32(1, 2) + CA + CA + u32(0x40000000) + u32(1, 0)
def SEQ(seq, slot=0, cache=1): return u32(53) + SESSIONID + u32(seq, slot, 7, cache)
BIND = u32(41) + SESSIONID + u32(3, 0)
DS = u32(44) + SESSIONID
DC = u32(57) + u64(CLIENTID)
RC = u32(58) + u32(0)

# File operations, all reached from PUTROOTFH inside one COMPOUND.
ALL_ATTRS = u32(3, 0xffffffff, 0xffffffff, 0xffffffff)
NO_ATTRS = u32(0) + opq(b"")
def PUTROOTFH(): return u32(24)
def GETATTR(): return u32(9) + ALL_ATTRS
def GETFH(): return u32(10)
def LOOKUP(name): return u32(15) + opq(name)
def LOOKUPP(): return u32(16)
def SAVEFH(): return u32(32)
def RESTOREFH(): return u32(31)
def MKDIR(name): return u32(6) + u32(2) + opq(name) + NO_ATTRS
def SYMLINK(name, target): return u32(6) + u32(5) + opq(target) + opq(name) + NO_ATTRS
def FIFO(name): return u32(6) + u32(7) + opq(name) + u32(2, 0, 2) + opq(u32(0o600))
def READDIR(cookie=0): return u32(26) + u64(cookie) + b"\0" * 8 + u32(1000, 8000) + ALL_ATTRS
def REMOVE(name): return u32(28) + opq(name)
def RENAME(a, b): return u32(29) + opq(a) + opq(b)
def LINK(name): return u32(11) + opq(name)
def ACCESS(bits=0x3f): return u32(3) + u32(bits)
def SETATTR_MODE(mode): return u32(34) + u32(0) + b"\0" * 12 + u32(2, 0, 2) + opq(u32(mode))
def READ(off=0, n=4096): return u32(25) + u32(0) + b"\0" * 12 + u64(off) + u32(n)
def WRITE(data): return u32(38) + u32(0) + b"\0" * 12 + u64(0) + u32(2) + opq(data)
def SECINFO(name): return u32(33) + opq(name)
def VERIFY(): return u32(37) + u32(1, 2) + opq(u32(2))

SETUP = call(2, 1, compound([EXID])) + call(3, 1, compound([CS]))

seeds = {
    "files_walk": SETUP + call(4, 1, compound([SEQ(1), PUTROOTFH(), GETATTR(), MKDIR(b"d"),
        GETFH(), GETATTR(), LOOKUPP(), READDIR(), LOOKUP(b"d"), ACCESS(), LOOKUPP(),
        SECINFO(b"d")])),
    "files_change": SETUP + call(4, 1, compound([SEQ(1), PUTROOTFH(), MKDIR(b"a"), LOOKUPP(),
        SYMLINK(b"l", b"../../etc"), LOOKUPP(), FIFO(b"f"), SETATTR_MODE(0o644), READ(),
        WRITE(b"x" * 100), LOOKUPP(), SAVEFH(), RENAME(b"a", b"b"), REMOVE(b"l"),
        LOOKUP(b"f"), SAVEFH(), LOOKUPP(), LINK(b"g"), VERIFY()])),
    "files_errors": SETUP + call(4, 1, compound([SEQ(1), GETFH()])) +
        call(5, 1, compound([SEQ(2), PUTROOTFH(), LOOKUP(b""), ])) +
        call(6, 1, compound([SEQ(3), PUTROOTFH(), LOOKUP(b".."), ])) +
        call(7, 1, compound([SEQ(4), RESTOREFH()])) +
        call(8, 1, compound([SEQ(5), PUTROOTFH(), READDIR(1)])) +
        call(9, 1, compound([SEQ(6), u32(22) + opq(b"\1\2\0\0\0\1garbage"), GETATTR()])),

    "null": call(1, 0, b""),
    "exchange_id": call(2, 1, compound([EXID])),
    "session": call(2, 1, compound([EXID])) + call(3, 1, compound([CS])) +
        call(4, 1, compound([SEQ(1)])) + call(5, 1, compound([SEQ(1)])) +
        call(6, 1, compound([SEQ(2), RC])) + call(7, 1, compound([BIND])) +
        call(8, 1, compound([DS])) + call(9, 1, compound([DC])),
    "session_fragmented": call(2, 1, compound([EXID]), frag=16) +
        call(3, 1, compound([CS]), frag=7) + call(4, 1, compound([SEQ(1), u32(24)])),
    "cs_replay": call(2, 1, compound([EXID])) + call(3, 1, compound([CS])) +
        call(4, 1, compound([CS])) + call(5, 1, compound([SEQ(1, 1, 0), u32(9999)])),
    "bad_ops": call(2, 1, compound([u32(9999)])) + call(3, 1, compound([u32(24)])) +
        call(4, 1, compound([EXID, EXID])) + call(5, 1, compound([], minor=0)),
    "rpc_rejects": call(1, 0, b"", prog=100004) + call(2, 0, b"", vers=3) +
        call(3, 7, b"") + call(4, 1, b"\0\0") + call(5, 0, b"", cred=u32(6, 0)),
    "reply_record": u32(0x80000010) + u32(9, 1, 0, 0),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
