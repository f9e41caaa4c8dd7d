#!/usr/bin/env python3
"""coscope benchmark runner: the echo server against its peers, the probe cost, and the
runtime micro-benchmarks, into one table and bench/results/latest.json.

    bench/run.py [--build DIR] [--quick] [--runs N] [--duration S] [--warmup S] ...

Method (docs/performance.md, "Echo server"): each server is started pinned to one CPU
(taskset), bench/echo/loadgen pinned to another drives it closed-loop (N connections,
one fixed-size message in flight on each); servers are run interleaved (A B C ... A B C
...), a fresh server process per run, and the table shows medians over the runs. Server
CPU time per request comes from the server's utime+stime (/proc/PID/stat) read by loadgen
at the start and end of its measured window.

Only the Python standard library; the Python servers run under /usr/bin/python3 (the
Debian Python that has python3-uvloop), whatever Python runs this script.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSTEM_PYTHON = "/usr/bin/python3"
ASYNCIO_ECHO = os.path.join(HERE, "echo", "asyncio_echo.py")

# Seconds to wait for a server to listen (Python start-up on a busy machine is slow).
SERVER_START_TIMEOUT_S = 20.0
# Seconds a coscope attach may take before the load starts (BPF load + attach).
PROBE_ATTACH_S = 1.5


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def servers(build, noprobes_build=None):
    """The echo servers, in table order: (name, argv without --port, or None if not built)."""
    def built(path):
        return path if os.access(path, os.X_OK) else None

    corun = built(os.path.join(build, "runtime", "examples", "corun-echo"))
    # The same server with its USDT probes compiled out (-Dprobes=false), when built.
    noprobes = noprobes_build and built(os.path.join(noprobes_build, "runtime", "examples",
                                                     "corun-echo"))
    epoll = built(os.path.join(build, "bench", "epoll_echo"))
    uv = built(os.path.join(build, "bench", "uv_echo"))
    py = SYSTEM_PYTHON if os.access(SYSTEM_PYTHON, os.X_OK) else None
    has_uvloop = py and subprocess.run([py, "-c", "import uvloop"],
                                       capture_output=True).returncode == 0
    return [
        ("corun-echo", [corun] if corun else None),
        ("corun-echo-noprobes", [noprobes] if noprobes else None),
        ("epoll", [epoll] if epoll else None),
        ("libuv", [uv] if uv else None),
        ("uvloop", [py, ASYNCIO_ECHO, "--loop", "uvloop", "--api", "protocol"]
         if has_uvloop else None),
        ("asyncio-protocol", [py, ASYNCIO_ECHO, "--api", "protocol"] if py else None),
        ("asyncio-streams", [py, ASYNCIO_ECHO, "--api", "streams"] if py else None),
    ]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port):
    with socket.socket() as s:
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def stop(proc, sig=signal.SIGTERM, wait_s=5.0):
    """Stops a child we started: sig first, SIGKILL if it lingers. Returns its stderr."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    err = proc.stderr.read() if proc.stderr else b""
    return err.decode(errors="replace").strip()


# Set by main(): the chrt prefix for the server, loadgen and coscope ([] for SCHED_OTHER).
SCHED_PREFIX = []


def pinned(cpu):
    """The command prefix that runs a benchmark process on cpu with the chosen policy."""
    return SCHED_PREFIX + ["taskset", "-c", str(cpu)]


def start_server(argv, cpu):
    """Starts argv --port P pinned to cpu; returns (proc, port) once it accepts."""
    port = free_port()
    proc = subprocess.Popen(pinned(cpu) + argv + ["--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited at start (status %d): %s"
                               % (proc.returncode, stop(proc)))
        if port_accepts(port):
            return proc, port
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError("server did not listen within %.0f s" % SERVER_START_TIMEOUT_S)


def run_loadgen(args, port, pid, warmup_s=None):
    warmup_s = args.warmup if warmup_s is None else warmup_s
    argv = pinned(args.client_cpu) + [
            os.path.join(args.build, "bench", "loadgen"), "--port", str(port),
            "--conns", str(args.conns), "--size", str(args.size),
            "--duration", str(args.duration), "--warmup", str(warmup_s),
            "--timeout", "10", "--pid", str(pid)]
    # loadgen bounds itself; this is only a backstop.
    limit_s = warmup_s + args.duration + 10 + 60
    r = subprocess.run(argv, capture_output=True, text=True, timeout=limit_s)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip() or "loadgen exited with %d" % r.returncode)
    return json.loads(r.stdout.strip().splitlines()[-1])


def one_run(args, argv, attach=None):
    """One fresh server, optionally a coscope attached to it, one loadgen run."""
    proc, port = start_server(argv, args.server_cpu)
    tool = None
    try:
        if attach:
            tool = attach(proc.pid)
        result = run_loadgen(args, port, proc.pid)
        if tool and tool.poll() is not None:
            raise RuntimeError("coscope exited during the run (status %d): %s"
                               % (tool.returncode, stop(tool)))
        return result
    finally:
        if tool:
            stop(tool, signal.SIGINT)
        err = stop(proc)
        if proc.returncode not in (0, -signal.SIGTERM) and err:
            log("  server stderr: " + err.splitlines()[-1])


def summarize(runs):
    def med(key):
        vals = [r[key] for r in runs if key in r]
        return round(statistics.median(vals), 3) if vals else None

    cpu = [r["server_cpu_us_per_req"] for r in runs if r.get("server_cpu_us_per_req")]
    return {
        # Interference from other work only ever adds cost: the cheapest run is the
        # least disturbed one, a useful second figure on a busy machine.
        "best_server_cpu_us_per_req": min(cpu) if cpu else None,
        "median_rps": med("rps"),
        "p50_us": med("p50_us"),
        "p99_us": med("p99_us"),
        "server_cpu_us_per_req": med("server_cpu_us_per_req"),
        "runs": runs,
    }


def echo_benchmark(args):
    table = {}
    todo = []
    for name, argv in servers(args.build, args.noprobes_build):
        if args.servers and name not in args.servers:
            continue
        if argv is None:
            table[name] = {"status": "not built"}
        else:
            table[name] = {"status": "ok", "runs": []}
            todo.append((name, argv))
    for i in range(args.runs):
        for name, argv in todo:  # interleaved: A B C ... A B C ...
            entry = table[name]
            if entry["status"] != "ok":
                continue
            log("echo run %d/%d: %s" % (i + 1, args.runs, name))
            try:
                run = one_run(args, argv)
                run["round"] = i
                entry["runs"].append(run)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                entry["status"] = "failed: %s" % str(e).splitlines()[0]
                log("  " + entry["status"])
    for name, entry in table.items():
        if entry.get("runs"):
            entry.update(summarize(entry["runs"]))
    ref = table.get(REFERENCE_SERVER, {})
    for name, entry in table.items():
        ratio = paired_ratio(entry.get("runs", []), ref.get("runs", []),
                             "server_cpu_us_per_req")
        if ratio is not None:
            entry["cpu_vs_" + REFERENCE_SERVER] = round(ratio, 3)
    # What the probes cost while nobody is attached: corun-echo against itself built with
    # -Dprobes=false, run by run (goal: within 1%).
    corun, bare = table.get("corun-echo", {}), table.get("corun-echo-noprobes", {})
    for key, out in (("server_cpu_us_per_req", "cpu_vs_noprobes"), ("rps", "rps_vs_noprobes")):
        ratio = paired_ratio(corun.get("runs", []), bare.get("runs", []), key)
        if ratio is not None:
            corun[out] = round(ratio, 4)
    return table


# The server the others are compared with, run by run (it is the floor: raw epoll).
REFERENCE_SERVER = "epoll"


def paired_ratio(runs, ref_runs, key):
    """Median over rounds of runs[round][key] / ref_runs[round][key]: each run is compared
    with the reference run of its own round (seconds apart), so a machine that is slower
    for a while slows both sides of each ratio instead of moving the median."""
    ref = {r["round"]: r for r in ref_runs}
    ratios = [r[key] / ref[r["round"]][key] for r in runs
              if r["round"] in ref and r.get(key) and ref[r["round"]].get(key)]
    return statistics.median(ratios) if ratios else None


def coscope_commands(args):
    """Which coscope modes exist ('coscope help' lists them); the rest say why not."""
    exe = os.path.join(args.build, "coscope")
    if not os.access(exe, os.X_OK):
        return exe, "", "coscope not built"
    r = subprocess.run([exe, "help"], capture_output=True, text=True, timeout=30)
    return exe, r.stdout + r.stderr, None


def probe_cost(args):
    """Echo server CPU per request: detached, with `coscope stalls`, with full collection."""
    exe, help_text, why = coscope_commands(args)
    if why:
        return {"skipped": why}
    words = help_text.split()
    if "stalls" not in words:
        return {"skipped": "coscope stalls not available"}
    target = None
    for name, argv in servers(args.build):
        if name in ("corun-echo", "epoll") and argv:
            target = (name, argv)
            break
    if not target:
        return {"skipped": "no echo server built"}
    tmpdir = tempfile.mkdtemp(prefix="cs-bench-")

    def attacher(template):
        def attach(pid):
            cmd = [exe] + [w.format(pid=pid, out=os.path.join(tmpdir, "record-%d" % pid))
                           for w in template.split()]
            # coscope shares the load generator's CPU: the server's CPU stays its own.
            tool = subprocess.Popen(pinned(args.client_cpu) + cmd,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            time.sleep(PROBE_ATTACH_S)
            if tool.poll() is not None:
                raise RuntimeError("'%s' exited at start (status %d): %s"
                                   % (" ".join(cmd[1:]), tool.returncode, stop(tool)))
            return tool
        return attach

    modes = [("detached", None, None)]
    # stat reads libcorun's own accounting: only a libcorun server has it.
    for name, template, corun_only in (("stalls", args.stalls_cmd, False),
                                       ("stat", args.stat_cmd, True),
                                       ("full", args.full_cmd, False),
                                       ("record-polls", args.polls_cmd, True)):
        verb = template.split()[0]
        if verb not in words:
            modes.append((name, None, "coscope %s not available" % verb))
        elif corun_only and target[0] != "corun-echo":
            modes.append((name, None, "needs corun-echo"))
        else:
            modes.append((name, template, None))
    out = {"server": target[0], "modes": {}}
    for name, template, why_not in modes:
        out["modes"][name] = ({"status": "ok", "runs": [], "command": template}
                              if not why_not else {"status": "skipped: " + why_not})
    for i in range(args.probe_runs):
        for name, template, _ in modes:
            entry = out["modes"][name]
            if entry["status"] != "ok":
                continue
            log("probe-cost run %d/%d: %s" % (i + 1, args.probe_runs, name))
            try:
                run = one_run(args, target[1], attacher(template) if template else None)
                run["round"] = i
                entry["runs"].append(run)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                entry["status"] = "failed: %s" % str(e).splitlines()[0]
                log("  " + entry["status"])
    base = out["modes"]["detached"]
    for name, entry in out["modes"].items():
        if entry.get("runs"):
            entry.update(summarize(entry["runs"]))
    # Each mode is compared with the detached run of its own round.
    for name, entry in out["modes"].items():
        if name == "detached" or not entry.get("runs"):
            continue
        cpu = paired_ratio(entry["runs"], base.get("runs", []), "server_cpu_us_per_req")
        rps = paired_ratio(entry["runs"], base.get("runs", []), "rps")
        if cpu is not None:
            entry["cpu_overhead_pct"] = round(100.0 * (cpu - 1), 1)
        if rps is not None:
            entry["throughput_kept_pct"] = round(100.0 * rps, 1)
    shutil.rmtree(tmpdir, ignore_errors=True)
    return out


# USDT probes each probe-cost mode attaches to a libcorun target: the stall engine's slice
# edges (stall_collector.c), the attribution's long slices and iterations
# (corun_attribution.c), stat's and record's statistics (cmd_stat.c, corun_tasks.c) and
# record --polls' every poll and wake (corun_polls.c).
MODE_PROBES = {
    "stalls": ("poll_enter", "poll_exit", "slice_long", "iter_long"),
    "stat": ("stats", "slice_long", "exec_done"),
    "full": ("poll_enter", "poll_exit", "slice_long", "iter_long", "stats"),
    "record-polls": ("poll_enter", "poll_exit", "slice_long", "iter_long", "stats",
                     "task_ready", "task_resume", "task_suspend", "task_done"),
}


def probe_hits(args):
    """USDT probe hits per echo request on corun-echo, all probes attached (bpftrace)."""
    corun = dict(servers(args.build)).get("corun-echo")
    if not corun:
        return {"skipped": "corun-echo not built"}
    bpftrace = shutil.which("bpftrace")
    if not bpftrace:
        return {"skipped": "bpftrace not installed"}
    proc, port = start_server(corun, args.server_cpu)
    tracer = None
    try:
        # The probes live in libcorun.so when corun-echo links it dynamically.
        module = corun[0]
        with open("/proc/%d/maps" % proc.pid) as f:
            for line in f:
                path = line.split()[-1]
                if "/libcorun" in path and path.startswith("/"):
                    module = path
                    break
        script = "usdt:%s:corun:* { @hits[probe] = count(); }" % module
        tracer = subprocess.Popen(pinned(args.client_cpu) + [bpftrace, "-p",
                                   str(proc.pid), "-e", script],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        # bpftrace prints "Attaching N probes..." once attached; give it time.
        time.sleep(3.0)
        if tracer.poll() is not None:
            # Its first line may be a harmless RLIMIT_MEMLOCK warning: show the last.
            err = tracer.stderr.read().decode(errors="replace").strip().splitlines()
            return {"skipped": "bpftrace failed: %s" % (err[-1] if err else "no output")}
        result = run_loadgen(args, port, proc.pid, warmup_s=0)
    finally:
        if tracer and tracer.poll() is None:
            tracer.send_signal(signal.SIGINT)
        text = ""
        if tracer:
            try:
                text = tracer.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                tracer.kill()
                text = tracer.communicate()[0].decode(errors="replace")
        stop(proc)
    hits = {}
    for line in text.splitlines():
        # @hits[usdt:/path:corun:name]: 12345
        if line.startswith("@hits[") and "]:" in line:
            key, val = line[len("@hits["):].rsplit("]:", 1)
            hits[key.rsplit(":", 1)[-1]] = int(val)
    reqs = result["requests"]
    # Without warm-up, the hits also cover connecting and the last requests in flight
    # (at most --conns of them): noise well under 1% at these counts.
    per_req = {k: round(v / reqs, 3) for k, v in sorted(hits.items())} if reqs else {}
    # The probes each coscope mode attaches on a libcorun target (the rest of this run's
    # hits are probes no mode uses): what the mode costs the target per request.
    by_mode = {name: round(sum(per_req.get(p, 0) for p in probes), 3) if reqs else None
               for name, probes in MODE_PROBES.items()}
    return {"requests": reqs,
            "hits_per_request": per_req,
            "total_hits_per_request": round(sum(hits.values()) / reqs, 3) if reqs else None,
            "hits_per_request_by_mode": by_mode}


def fuzz_reader(args):
    """The long fuzz run of the recording reader and report writers (the test suite runs
    a short one). A crash is a failure of the whole benchmark."""
    if args.fuzz_s <= 0:
        return {"skipped": "--fuzz 0"}
    script = os.path.join(ROOT, "tests", "record", "fuzz", "run_fuzz.sh")
    if not os.path.isfile(script):
        return {"skipped": "no fuzz target in this checkout"}
    work = os.path.join(args.build, "bench-fuzz")
    log("fuzzing the recording reader for %d s" % args.fuzz_s)
    t0 = time.monotonic()
    p = subprocess.run(["sh", script, ROOT, work, "-max_total_time=%d" % args.fuzz_s],
                       capture_output=True, text=True, timeout=args.fuzz_s + 600)
    out = (p.stdout + p.stderr).strip().splitlines()
    runs = [l for l in out if "Done " in l or "stat::number_of_executed_units" in l]
    if p.returncode == 77:
        return {"skipped": out[-1] if out else "fuzzer not available"}
    return {"status": "ok" if p.returncode == 0 else "failed: exit %d: %s"
            % (p.returncode, out[-1] if out else ""),
            "seconds": round(time.monotonic() - t0, 1), "summary": runs[-1] if runs else ""}


def micro_benchmarks(args):
    """Runs every executable in build/bench/micro; each prints JSON objects, one a line."""
    d = os.path.join(args.build, "bench", "micro")
    if not os.path.isdir(d):
        return {"skipped": "no micro-benchmarks built"}
    out = {}
    env = dict(os.environ, CS_BENCH_QUICK="1" if args.quick else "0")
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        log("micro: %s" % name)
        try:
            # Same CPU and policy as the echo servers (--sched other: plain SCHED_OTHER).
            r = subprocess.run(pinned(args.server_cpu) + [path],
                               capture_output=True, text=True, timeout=180, env=env)
        except subprocess.TimeoutExpired:
            out[name] = {"status": "failed: timed out after 180 s"}
            continue
        objs = []
        for line in r.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    objs.append(json.loads(line))
                except ValueError:
                    pass
        out[name] = {"status": "ok" if r.returncode == 0 else
                     "failed: exit %d: %s" % (r.returncode, r.stderr.strip()[-200:]),
                     "results": objs}
    return out or {"skipped": "no micro-benchmarks built"}


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    py = subprocess.run([SYSTEM_PYTHON, "-c", "import sys;print(sys.version.split()[0])"],
                        capture_output=True, text=True).stdout.strip() \
        if os.access(SYSTEM_PYTHON, os.X_OK) else None
    return {"hostname": platform.node(), "cpu_model": model, "cpus": os.cpu_count(),
            "kernel": platform.release(), "python": py}


# The metrics shape of docs/ci.md: what `coscope compare` reads from this file.
METRICS_KIND = "coscope-bench"
METRICS_VERSION = 1

# Suggested limits (docs/performance.md, "Comparing with a baseline"). Figures of one
# server alone drift by tens of percent on a shared machine; ratios measured side by
# side in the same round do not, so they get the tight limits.
LIMIT_ECHO_ABSOLUTE = "25%"
LIMIT_ECHO_PAIRED = "15%"
LIMIT_PROBE_OVERHEAD_PCT = "+3"   # percentage points of server CPU
LIMIT_PROBE_KEPT_PCT = "-3"       # percentage points of throughput
LIMIT_PROBE_HITS = "+0.1"         # probe hits per request
LIMIT_MICRO = "20%"
LIMIT_MICRO_RATIO = "15%"


def metric(value, unit, better="lower", limit=None):
    m = {"value": value, "unit": unit, "better": better}
    if limit is not None:
        m["limit"] = limit
    return m


def bench_metrics(res):
    """The flat "metrics" object: one entry per figure worth holding against a baseline."""
    out = {}
    for name, e in res["echo"].items():
        if not e.get("runs"):
            continue
        pre = "echo.%s." % name
        for key, suffix, unit, better in (("median_rps", "rps", "req/s", "higher"),
                                          ("p50_us", "p50", "us", "lower"),
                                          ("p99_us", "p99", "us", "lower"),
                                          ("server_cpu_us_per_req", "cpu_per_req", "us", "lower")):
            if e.get(key) is not None:
                out[pre + suffix] = metric(e[key], unit, better, LIMIT_ECHO_ABSOLUTE)
        ref_key = "cpu_vs_" + REFERENCE_SERVER
        if e.get(ref_key) is not None and name != REFERENCE_SERVER:
            out[pre + ref_key] = metric(e[ref_key], "ratio", "lower", LIMIT_ECHO_PAIRED)
        if e.get("cpu_vs_noprobes") is not None:
            out[pre + "cpu_vs_noprobes"] = metric(e["cpu_vs_noprobes"], "ratio", "lower",
                                                  LIMIT_ECHO_PAIRED)
    pc = res["probe_cost"]
    for name, e in pc.get("modes", {}).items():
        if not e.get("runs"):
            continue
        pre = "probe_cost.%s." % name
        if e.get("server_cpu_us_per_req") is not None:
            out[pre + "cpu_per_req"] = metric(e["server_cpu_us_per_req"], "us", "lower",
                                              LIMIT_ECHO_ABSOLUTE)
        if e.get("cpu_overhead_pct") is not None:
            out[pre + "cpu_overhead"] = metric(e["cpu_overhead_pct"], "pct", "lower",
                                               LIMIT_PROBE_OVERHEAD_PCT)
        if e.get("throughput_kept_pct") is not None:
            out[pre + "throughput_kept"] = metric(e["throughput_kept_pct"], "pct", "higher",
                                                  LIMIT_PROBE_KEPT_PCT)
    ph = res["probe_hits"]
    if ph.get("total_hits_per_request") is not None:
        out["probe_hits.total"] = metric(ph["total_hits_per_request"], "hits/req", "lower",
                                         LIMIT_PROBE_HITS)
    for name, v in ph.get("hits_per_request_by_mode", {}).items():
        if v is not None:
            out["probe_hits.%s" % name] = metric(v, "hits/req", "lower", LIMIT_PROBE_HITS)
    micro = res["micro"]
    for exe, m in ({} if "skipped" in micro else micro).items():
        for r in m.get("results", []):
            if not isinstance(r.get("value"), (int, float)) or not r.get("name"):
                continue
            unit = r.get("unit", "")
            # Memory per task is counted in whole pages: any growth is a change.
            limit = {"ratio": LIMIT_MICRO_RATIO, "bytes": "0"}.get(unit, LIMIT_MICRO)
            out["micro.%s.%s" % (exe, r["name"])] = metric(r["value"], unit, "lower", limit)
    return out


def run_compare(args):
    """`coscope compare BASE args.out`: prints its table, returns its exit code."""
    exe = os.path.join(args.build, "coscope")
    if not os.access(exe, os.X_OK):
        log("compare: %s is not built" % exe)
        return 2
    try:
        with open(args.compare) as f:
            base_config = json.load(f).get("config", {})
    except (OSError, ValueError, AttributeError):
        base_config = {}  # coscope compare says what is wrong with it
    differ = ["%s %s here, %s in the baseline" % (k, getattr(args, k), base_config[k])
              for k in ("sched", "quick", "conns", "runs") if k in base_config and
              base_config[k] != getattr(args, k)]
    if differ:
        log("note: measured differently from the baseline (%s): expect differences that are "
            "not regressions" % "; ".join(differ))
    argv = [exe, "compare", args.compare, args.out]
    for rules in args.max_regress:
        argv += ["--max-regress", rules]
    print()
    sys.stdout.flush()
    return subprocess.run(argv).returncode


def fmt(v, pattern):
    return pattern % v if v is not None else "-"


def print_tables(res):
    if not res["echo"]:
        print("echo: skipped: not asked for (--only)")
    else:
        print_echo_table(res)
    print_probe_and_micro(res)


def print_echo_table(res):
    print("echo: %d conns, %d-byte messages, %g s x %d runs (+%g s warm-up), "
          "server on CPU %d, loadgen on CPU %d, SCHED_%s; medians"
          % (res["config"]["conns"], res["config"]["size_bytes"], res["config"]["duration_s"],
             res["config"]["runs"], res["config"]["warmup_s"], res["config"]["server_cpu"],
             res["config"]["client_cpu"], res["config"]["sched"].upper()))
    ref_key = "cpu_vs_" + REFERENCE_SERVER
    print("%-17s %8s %7s %7s %10s %9s %12s %4s" % (
        "server", "req/s", "p50 us", "p99 us", "CPU us/req", "best CPU", "CPU vs " +
        REFERENCE_SERVER, "runs"))
    for name, e in res["echo"].items():
        if e.get("runs"):
            line = "%-17s %8s %7s %7s %10s %9s %12s %4d" % (
                name, fmt(e["median_rps"], "%.0f"), fmt(e["p50_us"], "%.1f"),
                fmt(e["p99_us"], "%.1f"), fmt(e["server_cpu_us_per_req"], "%.2f"),
                fmt(e["best_server_cpu_us_per_req"], "%.2f"), fmt(e.get(ref_key), "%.2fx"),
                len(e["runs"]))
            if e["status"] != "ok":
                line += "  (" + e["status"] + ")"
            print(line)
        else:
            print("%-18s %s" % (name, e["status"]))
    corun = res["echo"].get("corun-echo", {})
    if corun.get("cpu_vs_noprobes") is not None:
        print("probes compiled in, nobody attached: corun-echo uses %.3fx the CPU per request "
              "and serves %.3fx the requests/s of its -Dprobes=false build (run by run, "
              "median; goal: within 1%%)" % (corun["cpu_vs_noprobes"],
                                            corun.get("rps_vs_noprobes") or 0))


def print_probe_and_micro(res):
    pc = res["probe_cost"]
    print()
    if "skipped" in pc:
        print("probe cost: skipped: %s" % pc["skipped"].replace("skipped: ", ""))
    else:
        print("probe cost on %s:" % pc["server"])
        for name, e in pc["modes"].items():
            if e.get("runs"):
                extra = ""
                if "cpu_overhead_pct" in e:
                    extra = "  CPU %+.1f%%, throughput kept %.1f%% (paired medians)" % (
                        e["cpu_overhead_pct"], e["throughput_kept_pct"])
                print("  %-10s %10s req/s %8s CPU us/req%s" % (
                    name, fmt(e["median_rps"], "%.0f"), fmt(e["server_cpu_us_per_req"], "%.2f"),
                    extra))
            else:
                print("  %-10s %s" % (name, e["status"]))
    ph = res["probe_hits"]
    if "skipped" in ph:
        print("probe hits per request: skipped: %s" % ph["skipped"])
    else:
        print("probe hits per request: %s total %s" % (
            ", ".join("%s %.2f" % kv for kv in ph["hits_per_request"].items()),
            ph["total_hits_per_request"]))
        if ph.get("hits_per_request_by_mode"):
            print("  by mode (the probes it attaches): %s" % ", ".join(
                "%s %s" % (k, fmt(v, "%.2f")) for k, v in ph["hits_per_request_by_mode"].items()))
    micro = res["micro"]
    if "skipped" in micro:
        print("micro-benchmarks: skipped: %s" % micro["skipped"])
    else:
        for name, m in micro.items():
            figures = ", ".join("%s %g %s" % (r.get("name"), r.get("value"), r.get("unit", ""))
                                for r in m.get("results", []) if "value" in r)
            print("micro %s: %s%s" % (name, m["status"], ": " + figures if figures else ""))
    fz = res.get("fuzz", {})
    if "skipped" in fz:
        print("fuzz (recording reader): skipped: %s" % fz["skipped"])
    elif fz:
        print("fuzz (recording reader): %s, %g s%s" % (fz["status"], fz["seconds"],
                                                       ": " + fz["summary"] if fz["summary"]
                                                       else ""))


def parse_args(argv):
    ap = argparse.ArgumentParser(description="coscope benchmarks (see docs/performance.md)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="meson build directory (default: build/)")
    ap.add_argument("--quick", action="store_true",
                    help="a ~1 minute smoke run: 1 run each, 1.5 s windows")
    ap.add_argument("--runs", type=int, help="runs per server (default 7; --quick 1)")
    ap.add_argument("--probe-runs", type=int,
                    help="runs per probe-cost mode (default 9; --quick 1)")
    ap.add_argument("--duration", type=float, help="measured seconds per run (default 3)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds per run (default 1)")
    ap.add_argument("--conns", type=int, default=50, help="connections (default 50)")
    ap.add_argument("--size", type=int, default=64, help="message bytes (default 64)")
    ap.add_argument("--server-cpu", type=int, default=0, help="server CPU (default 0)")
    ap.add_argument("--client-cpu", type=int, default=1, help="loadgen CPU (default 1)")
    ap.add_argument("--sched", choices=["fifo", "other"], default="fifo",
                    help="scheduling policy of server, loadgen and coscope: fifo (SCHED_FIFO "
                    "priority 1, the default: other work on the machine cannot delay them) "
                    "or other (plain SCHED_OTHER)")
    ap.add_argument("--servers", help="comma-separated subset of the echo servers")
    ap.add_argument("--noprobes-build", metavar="DIR",
                    help="a build configured with -Dprobes=false: its corun-echo runs beside "
                    "the normal one (probes compiled in, nobody attached); ./dev bench makes "
                    "build-noprobes/ for this")
    ap.add_argument("--fuzz", dest="fuzz_s", type=int,
                    help="seconds of fuzzing the recording reader (default 60; --quick 0)")
    ap.add_argument("--only", choices=["echo", "probe-cost", "micro", "fuzz", "ci-noise"],
                    help="run one part only")
    ap.add_argument("--stalls-cmd", default="stalls -p {pid}",
                    help="coscope arguments for the stall mode ({pid} is the server)")
    ap.add_argument("--stat-cmd", default="stat -p {pid}",
                    help="coscope arguments for libcorun's own accounting ({pid})")
    ap.add_argument("--full-cmd", default="record -p {pid} -o {out}",
                    help="coscope arguments for full collection ({out}: a scratch file)")
    ap.add_argument("--polls-cmd", default="record --polls -p {pid} -o {out}",
                    help="coscope arguments for every poll and wake edge recorded ({out})")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"),
                    help="JSON results file (default bench/results/latest.json)")
    ap.add_argument("--compare", metavar="BASE.json",
                    help="then run `coscope compare BASE.json OUT` and exit with its status "
                    "(0 no limit broken, 1 a regression, 2 bad input)")
    ap.add_argument("--max-regress", action="append", default=[], metavar="RULES",
                    help="passed to coscope compare (e.g. 'p99=+10%%,*.rps=-5%%'); repeatable")
    args = ap.parse_args(argv)
    q = args.quick
    args.runs = args.runs if args.runs is not None else (1 if q else 7)
    args.probe_runs = args.probe_runs if args.probe_runs is not None else (1 if q else 9)
    args.duration = args.duration if args.duration is not None else (1.5 if q else 3.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if q else 1.0)
    args.build = os.path.abspath(args.build)
    args.fuzz_s = args.fuzz_s if args.fuzz_s is not None else (0 if q else 60)
    if args.noprobes_build:
        args.noprobes_build = os.path.abspath(args.noprobes_build)
    args.servers = set(args.servers.split(",")) if args.servers else None
    if args.runs < 1 or args.probe_runs < 1 or args.duration <= 0 or args.warmup < 0:
        ap.error("--runs and --probe-runs must be >= 1, --duration > 0, --warmup >= 0")
    if not os.access(os.path.join(args.build, "bench", "loadgen"), os.X_OK):
        ap.error("no %s/bench/loadgen: build first (meson setup build && ninja -C build)"
                 % args.build)
    if args.max_regress and not args.compare:
        ap.error("--max-regress needs --compare BASE.json")
    if args.compare and not os.path.isfile(args.compare):
        ap.error("--compare: no such file: %s" % args.compare)
    if not shutil.which("taskset"):
        ap.error("taskset not found (Debian package util-linux)")
    ncpu = os.cpu_count() or 1
    if max(args.server_cpu, args.client_cpu) >= ncpu or args.server_cpu == args.client_cpu:
        ap.error("--server-cpu and --client-cpu must be two different CPUs below %d" % ncpu)
    return args


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    global SCHED_PREFIX
    if args.sched == "fifo":
        if subprocess.run(["chrt", "-f", "1", "true"], capture_output=True).returncode == 0:
            SCHED_PREFIX = ["chrt", "-f", "1"]
        else:
            log("note: cannot use SCHED_FIFO (not root / no CAP_SYS_NICE?): using SCHED_OTHER")
            args.sched = "other"
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        log("note: load average %.2f before the run: other work is running, figures will be "
            "noisy" % load_before[0])
    res = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "config": {"conns": args.conns, "size_bytes": args.size, "duration_s": args.duration,
                   "warmup_s": args.warmup, "runs": args.runs, "probe_runs": args.probe_runs,
                   "server_cpu": args.server_cpu,
                   "client_cpu": args.client_cpu, "sched": args.sched,
                   "quick": args.quick},
    }
    skipped = {"skipped": "not asked for (--only)"}
    res["echo"] = echo_benchmark(args) if args.only in (None, "echo") else {}
    res["probe_cost"] = probe_cost(args) if args.only in (None, "probe-cost") else skipped
    res["probe_hits"] = probe_hits(args) if args.only in (None, "probe-cost") else skipped
    res["micro"] = micro_benchmarks(args) if args.only in (None, "micro") else skipped
    res["fuzz"] = fuzz_reader(args) if args.only in (None, "fuzz") else skipped
    if args.only in (None, "ci-noise"):
        import ci_noise  # bench/ci_noise.py: the docs/ci.md recipe's false/true verdicts

        res["ci_noise"] = ci_noise.measure(args.build, 3 if args.quick else 20, 3, 6)
        log("ci_noise: %(false_regressions)d/%(pairs)d false regressions, "
            "%(detected)d/%(pairs)d regressions detected" % res["ci_noise"])
    res["load_average"] = {"before": [round(x, 2) for x in load_before],
                           "after": [round(x, 2) for x in os.getloadavg()]}
    res["wall_s"] = round(time.monotonic() - started, 1)
    res["kind"] = METRICS_KIND
    res["metrics_version"] = METRICS_VERSION
    res["about"] = {"date": res["date"], "machine": res["machine"]["hostname"],
                    "cpu": res["machine"]["cpu_model"], "kernel": res["machine"]["kernel"],
                    "sched": args.sched, "quick": args.quick,
                    "load_before": res["load_average"]["before"][0]}
    res["metrics"] = bench_metrics(res)

    print_tables(res)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print("\nload average before %.2f, after %.2f; %.0f s; results in %s"
          % (load_before[0], res["load_average"]["after"][0], res["wall_s"],
             os.path.relpath(args.out)))
    failed = [n for n, e in res["echo"].items() if e["status"].startswith("failed")]
    micro = res["micro"]
    failed += [n for n, e in ({} if "skipped" in micro else micro).items()
               if e["status"].startswith("failed")]
    if res["fuzz"].get("status", "").startswith("failed"):
        failed.append("fuzz")
    if args.compare:
        rc = run_compare(args)
        # A benchmark that failed is a failure even when the figures that exist compare well.
        return 1 if failed and rc == 0 else rc
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
