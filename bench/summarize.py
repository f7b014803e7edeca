#!/usr/bin/env python3
"""Summary of a bench/compare run: medians per workload and server, the ratio
nfs4d/Ganesha against the issue's targets, the loopback ceilings and memory.
Usage: summarize.py RESULTS_DIR ROUNDS WORKLOAD... [--async WORKLOAD...]
The workloads after --async also ran against nfs4d on an `async` export
(server "nfs4d-async"); each gets a row of its own, "WORKLOAD (nfs4d async)",
with its ratio to Ganesha's rounds of that workload. The issue's targets are
for nfs4d as it runs by default (sync), so those rows show no verdict."""
import json
import os
import statistics
import sys

# nfs4d/Ganesha ops/s targets of issue 7.
TARGETS = {"getattr": 2, "lookup": 2, "open-close": 2, "create": 2, "mixed": 2, "read": 1, "write": 1}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def runs(d, server, workload, rounds):
    """The result of every round that produced one, and the number of failed rounds."""
    out, failed = [], 0
    for r in range(1, rounds + 1):
        j = load(os.path.join(d, f"{server}-{workload}-{r}.json"))
        res = j and [x for x in j["results"] if x["workload"] == workload]
        if not res or res[0]["errors"] or not res[0]["ops"]:
            failed += 1
        if res:
            out.append(res[0])
    return out, failed


def med(rs, key, sub=None):
    v = [(x[key][sub] if sub else x[key]) for x in rs]
    return statistics.median(v) if v else float("nan")


def main():
    d, rounds, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    cut = args.index("--async") if "--async" in args else len(args)
    workloads, async_workloads = args[:cut], args[cut + 1:]
    # (label, nfs4d's server name, workload, target or None)
    rows = [(w, "nfs4d", w, TARGETS.get(w)) for w in workloads]
    rows += [(f"{w} (nfs4d async)", "nfs4d-async", w, None) for w in async_workloads]
    lw = max([11] + [len(r[0]) for r in rows])  # the label column
    print(f"Medians of {rounds} rounds. ops/s is what nfs4bench calls an op (see docs/benchmarks.md);")
    print("latency in microseconds, p50/p99/p99.9; 'failed' counts rounds with errors or no result.\n")
    hdr = (f"{'workload':<{lw}} {'nfs4d ops/s':>12} {'Ganesha ops/s':>14} {'ratio':>6} {'target':>7}  "
           f"{'nfs4d MiB/s':>11} {'Gan. MiB/s':>10}  {'nfs4d latency':>20}  {'Ganesha latency':>20}  failed")
    print(hdr)
    print("-" * len(hdr))
    med_of = {}
    for label, server, w, t in rows:
        n, nf = runs(d, server, w, rounds)
        g, gf = runs(d, "ganesha", w, rounds)
        no, go = med(n, "ops_per_sec"), med(g, "ops_per_sec")
        if server == "nfs4d":
            med_of[w] = (no, med(n, "mib_per_sec"), go, med(g, "mib_per_sec"))
        ratio = no / go if go and go == go else float("nan")
        verdict = "-" if t is None else (f">={t}x " + ("met" if ratio >= t else "MISSED"))
        lat = lambda rs: "/".join(f"{med(rs, 'latency_us', q):.0f}" for q in ("p50", "p99", "p999"))
        fail = f"{nf}/{gf}" + ("  <-- FAILURES" if nf or gf else "")
        print(f"{label:<{lw}} {no:12.0f} {go:14.0f} {ratio:6.2f} {verdict:>12}  {med(n, 'mib_per_sec'):11.1f} "
              f"{med(g, 'mib_per_sec'):10.1f}  {lat(n):>20}  {lat(g):>20}  {fail}")

    print("\nops/s of each round (nfs4d | Ganesha), to judge the noise:")
    for label, server, w, _ in rows:
        n, _ = runs(d, server, w, rounds)
        g, _ = runs(d, "ganesha", w, rounds)
        fmt = lambda rs: " ".join(f"{x['ops_per_sec']:8.0f}" for x in rs)
        print(f"  {label:<{lw}} {fmt(n)}  | {fmt(g)}")

    print("\nCeilings (loopback, same machine):")
    ts, ec = load(os.path.join(d, "tcpstream.json")), load(os.path.join(d, "rpcecho.json"))
    if ts:
        s = ts["mib_per_sec"]
        print(f"  raw TCP stream: {s:.0f} MiB/s")
        for w, target in (("read", 0.5), ("write", 0.5)):
            if w in med_of:
                no, nm, go, gm = med_of[w]
                print(f"    {w:<6} nfs4d {nm:7.0f} MiB/s = {nm / s:5.1%} of it (target >= {target:.0%}: "
                      f"{'met' if nm / s >= target else 'MISSED'}); Ganesha {gm / s:5.1%}")
    if ec:
        e = ec["round_trips_per_sec"]
        print(f"  RPC-framed echo, {ec['conns']} conns x {ec['depth']} in flight: {e:.0f} round trips/s")
        if "null" in med_of:
            no, _, go, _ = med_of["null"]
            print(f"    null   nfs4d {no:7.0f} ops/s = {no / e:5.1%} of it (target >= 70%: "
                  f"{'met' if no / e >= 0.7 else 'MISSED'}); Ganesha {go / e:5.1%}")
        be = load(os.path.join(d, "bench-echo.json"))
        if be:
            b = be["results"][0]["ops_per_sec"]
            print(f"    nfs4bench's own ceiling (its null against the echo server): {b:.0f} ops/s = "
                  f"{b / e:5.1%} of the echo; nfs4d null = {no / b:5.1%} of it")

    print("\nMemory (server RSS around idle clients, EXCHANGE_ID + CREATE_SESSION each):")
    for s in ("nfs4d", "ganesha"):
        c = load(os.path.join(d, f"clients-{s}.json"))
        if not c:
            print(f"  {s:<8} FAILED (no result)")
            continue
        r = c["rss_kib"]
        print(f"  {s:<8} {c['clients']} clients, {c['slots']} slots/session granted: RSS {r['before']} -> "
              f"{r['clients']} -> {r['sessions']} KiB (+1 session each); per idle client "
              f"{c['bytes_per_idle_client']:.0f} B, per session {c['bytes_per_session']:.0f} B"
              + ("  <-- ERRORS" if c["errors"] else ""))


main()
