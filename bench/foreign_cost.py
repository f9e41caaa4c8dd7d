#!/usr/bin/env python3
"""The cost of coscope on a foreign event loop: bench/echo's raw-epoll echo server
(epoll_echo, no libcorun) under bench/echo/loadgen, detached vs with `coscope stalls -p`
(and `coscope stat -p`) attached, interleaved, medians of paired ratios.

    bench/foreign_cost.py [--build DIR] [--runs N] [--duration S] [--sched other|fifo]

Same method and helpers as bench/run.py (docs/performance.md, "Echo server"): server
pinned to one CPU, loadgen and coscope to the other, a fresh server per run, modes run
A B C A B C ..., each attached run compared with the detached run of its own round.
Prints a table and writes bench/results/foreign_cost.json (--out).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (bench/run.py: the shared server/loadgen helpers)

MODES = [
    ("detached", None),
    ("stalls", ["stalls", "-p", "{pid}"]),
    ("stat", ["stat", "-p", "{pid}"]),
]


def attacher(exe, template, cpu):
    def attach(pid):
        cmd = [exe] + [w.format(pid=pid) for w in template]
        tool = subprocess.Popen(bench.pinned(cpu) + cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(bench.PROBE_ATTACH_S)
        if tool.poll() is not None:
            raise RuntimeError("'%s' exited at start (status %d): %s"
                               % (" ".join(cmd[1:]), tool.returncode, bench.stop(tool)))
        return tool
    return attach


def parse_args(argv):
    ap = argparse.ArgumentParser(description="coscope's cost on a foreign event loop")
    ap.add_argument("--build", default=os.path.join(bench.ROOT, "build"))
    ap.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    ap.add_argument("--duration", type=float, default=3.0, help="measured s per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up s per run")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--sched", choices=["fifo", "other"], default="other",
                    help="policy of server, loadgen and coscope (default other: the "
                    "machine is shared)")
    ap.add_argument("--modes", default="detached,stalls,stat",
                    help="comma-separated subset of detached,stalls,stat")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "foreign_cost.json"))
    args = ap.parse_args(argv)
    args.modes = args.modes.split(",")
    if "detached" not in args.modes or not set(args.modes) <= {m for m, _ in MODES}:
        ap.error("--modes: a subset of detached,stalls,stat that includes detached")
    args.build = os.path.abspath(args.build)
    return args


def main(argv):
    args = parse_args(argv)
    if args.sched == "fifo":
        bench.SCHED_PREFIX = ["chrt", "-f", "1"]
    exe = os.path.join(args.build, "coscope")
    server = [os.path.join(args.build, "bench", "epoll_echo")]
    for path in (exe, server[0], os.path.join(args.build, "bench", "loadgen")):
        if not os.access(path, os.X_OK):
            sys.exit("foreign_cost.py: %s not built" % path)
    load_before = os.getloadavg()
    res = {"server": "epoll", "config": dict(vars(args)), "modes": {}}
    modes = [(n, t) for n, t in MODES if n in args.modes]
    for name, template in modes:
        res["modes"][name] = {"status": "ok", "runs": [],
                              "command": " ".join(template) if template else None}
    for i in range(args.runs):
        for name, template in modes:  # interleaved
            entry = res["modes"][name]
            if entry["status"] != "ok":
                continue
            bench.log("foreign-cost run %d/%d: %s" % (i + 1, args.runs, name))
            try:
                attach = attacher(exe, template, args.client_cpu) if template else None
                r = bench.one_run(args, server, attach)
                r["round"] = i
                entry["runs"].append(r)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                entry["status"] = "failed: %s" % str(e).splitlines()[0]
                bench.log("  " + entry["status"])
    base = res["modes"]["detached"]
    for name, entry in res["modes"].items():
        if entry["runs"]:
            entry.update(bench.summarize(entry["runs"]))
        if name == "detached" or not entry["runs"]:
            continue
        rps = bench.paired_ratio(entry["runs"], base["runs"], "rps")
        cpu = bench.paired_ratio(entry["runs"], base["runs"], "server_cpu_us_per_req")
        if rps is not None:
            entry["throughput_kept_pct"] = round(100.0 * rps, 1)
        if cpu is not None:
            entry["cpu_overhead_pct"] = round(100.0 * (cpu - 1), 1)
    res["load_average"] = {"before": [round(x, 2) for x in load_before],
                           "after": [round(x, 2) for x in os.getloadavg()]}

    print("epoll_echo, %d conns x %d B, %d rounds of %.1f s, SCHED_%s; medians"
          % (args.conns, args.size, args.runs, args.duration, args.sched.upper()))
    print("%-10s %12s %10s %10s %14s %12s %10s" % ("mode", "rps", "p50 us", "p99 us",
                                                   "cpu us/req", "throughput", "cpu"))
    for name, e in res["modes"].items():
        if not e.get("runs"):
            print("%-10s %s" % (name, e["status"]))
            continue
        kept = "%.1f%%" % e["throughput_kept_pct"] if "throughput_kept_pct" in e else "-"
        over = "%+.1f%%" % e["cpu_overhead_pct"] if "cpu_overhead_pct" in e else "-"
        print("%-10s %12.0f %10.1f %10.1f %14.3f %12s %10s"
              % (name, e["median_rps"], e["p50_us"], e["p99_us"],
                 e["server_cpu_us_per_req"] or 0, kept, over))
    print("load average before %.2f, after %.2f" % (load_before[0],
                                                  res["load_average"]["after"][0]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    failed = [n for n, e in res["modes"].items() if e["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
