#!/usr/bin/env python3
"""How far the CI recipe of docs/ci.md can be trusted: false regressions on identical
runs, and detection of a real one, with the recipe's own commands and limits.

    bench/ci_noise.py [--build DIR] [--pairs N] [--baselines N] [--out FILE]

stallgen (runtime/examples) is recorded `--baselines` times (the baselines), then
`--pairs` times with the same stalls (each must compare clean: a failure is a false
regression) and `--pairs` times with every stall twice as long (each must fail: stall
time doubled). Each run is `coscope record ... -- stallgen --count N`, then
`coscope report --format json`, then `coscope compare BASES... -- NEW` with RULES.
Prints the two figures and writes them as JSON (--out). Exit 0 when the figures were
measured (whatever they are), 1 when a command failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The recipe's rules (docs/ci.md): rates over watched loop time, not raw counts.
RULES = "*=off,stall_rate=+30%,stalled_pct=+30%"
BASE_STALL, WORSE_STALL = "cpu:40ms", "cpu:80ms"


def run_once(build, workdir, name, stall, rounds, port):
    rec = os.path.join(workdir, name + ".cscope")
    out = os.path.join(workdir, name + ".json")
    cmd = [os.path.join(build, "coscope"), "record", "-o", rec, "-t", "20ms", "--",
           os.path.join(build, "runtime/examples/stallgen"), "--port", str(port),
           "--every", "250ms", "--count", str(rounds), "--stalls", stall]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit("ci_noise: %s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
    with open(out, "w") as f:
        r = subprocess.run([os.path.join(build, "coscope"), "report", rec, "--format", "json"],
                           stdout=f, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("ci_noise: report %s failed: %s" % (rec, r.stderr))
    os.unlink(rec)
    return out


def compare(build, bases, new):
    r = subprocess.run([os.path.join(build, "coscope"), "compare", "--max-regress", RULES] +
                       bases + ["--", new], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit("ci_noise: compare failed: %s" % r.stderr)
    return r.returncode == 1, r.stdout


def measure(build, pairs, baselines, rounds):
    """The two figures as a dict (also what run.py keeps under "ci_noise")."""
    port = 21000 + os.getpid() % 20000
    with tempfile.TemporaryDirectory(prefix="cs-ci-noise-") as d:
        bases = [run_once(build, d, "base%d" % i, BASE_STALL, rounds, port)
                 for i in range(baselines)]
        false_reg = detected = 0
        for i in range(pairs):
            same = run_once(build, d, "same%d" % i, BASE_STALL, rounds, port)
            worse = run_once(build, d, "worse%d" % i, WORSE_STALL, rounds, port)
            failed, table = compare(build, bases, same)
            if failed:
                false_reg += 1
                print(table, file=sys.stderr)
            detected += compare(build, bases, worse)[0]
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rules": RULES,
            "workload": "stallgen --every 250ms --stalls %s (regression: %s)"
                        % (BASE_STALL, WORSE_STALL),
            "baselines": baselines, "pairs": pairs,
            "false_regressions": false_reg, "detected": detected}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--baselines", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=6, help="stallgen rounds per run")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "ci_noise.json"))
    a = ap.parse_args()
    res = measure(a.build, a.pairs, a.baselines, a.rounds)
    print("ci_noise: %d baselines; identical runs: %d/%d false regressions; "
          "stall time doubled: %d/%d detected" % (a.baselines, res["false_regressions"],
                                                  a.pairs, res["detected"], a.pairs))
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
