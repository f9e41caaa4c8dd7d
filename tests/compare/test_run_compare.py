#!/usr/bin/env python3
"""`bench/run.py --compare BASE` (what `./dev bench --compare` runs): the run's metrics go
through `coscope compare`, and the runner exits with compare's status.

    test_run_compare.py BUILD_DIR SOURCE_DIR SCRATCH_DIR

Runs only the quick micro-benchmarks (a few seconds) or nothing at all, at normal
priority, and never writes into bench/results/.
"""
import json
import os
import subprocess
import sys


def main(build, source, scratch):
    os.makedirs(scratch, exist_ok=True)
    run_py = os.path.join(source, "bench", "run.py")
    baseline = os.path.join(source, "bench", "results", "baseline.json")
    out = os.path.join(scratch, "run-compare.json")
    failures = []

    def run(extra, base):
        argv = [sys.executable, run_py, "--build", build, "--sched", "other", "--quick",
                "--out", out, "--compare", base] + extra
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def check(what, ok, detail=""):
        print("%s: %s" % ("ok" if ok else "FAILED", what))
        if not ok:
            failures.append(what)
            if detail:
                print(detail)

    with open(baseline) as f:
        base = json.load(f)
    check("the committed baseline has the metrics shape",
          base.get("kind") == "coscope-bench" and base.get("metrics_version") == 1 and
          any(k.startswith("micro.") for k in base.get("metrics", {})))

    # A baseline doctored to be ten times faster: this machine cannot keep up with it.
    doctored = dict(base)
    doctored["metrics"] = {k: dict(v, value=v["value"] / 10) if k.startswith("micro.") and
                           v.get("unit") == "ns" else v for k, v in base["metrics"].items()}
    doctored_path = os.path.join(scratch, "doctored-baseline.json")
    with open(doctored_path, "w") as f:
        json.dump(doctored, f)
    rc, so, se = run(["--only", "micro"], doctored_path)
    check("a doctored baseline: exit 1 and REGRESSED rows", rc == 1 and "REGRESSED" in so,
          "exit %d\n%s\n%s" % (rc, so, se))
    check("the results file carries the metrics compare read",
          os.path.exists(out) and any(k.startswith("micro.corun_micro.timer_fire")
                                      for k in json.load(open(out)).get("metrics", {})))

    # The rest needs no benchmark to run (an empty server list makes the run empty):
    # every metric is then "only in base", which fails nothing.
    rc, so, se = run(["--only", "echo", "--servers", "none"], doctored_path)
    check("an empty run against the baseline: exit 0", rc == 0 and "only in base" in so,
          "exit %d\n%s" % (rc, se))
    # --max-regress reaches compare (a bad rule is compare's usage error).
    rc, so, se = run(["--only", "echo", "--servers", "none", "--max-regress", "p99"],
                     doctored_path)
    check("--max-regress is passed to compare", rc == 2 and "expected PATTERN=LIMIT" in se,
          "exit %d\n%s" % (rc, se))
    other = os.path.join(scratch, "report-kind.json")
    with open(other, "w") as f:
        json.dump({"kind": "coscope-report", "metrics_version": 1, "metrics": {}}, f)
    rc, so, se = run(["--only", "echo", "--servers", "none"], other)
    check("a baseline of another kind: exit 2 with one line",
          rc == 2 and "only files of the same kind compare" in se, "exit %d\n%s" % (rc, se))
    broken = os.path.join(scratch, "broken.json")
    with open(broken, "w") as f:
        f.write('{"kind": "coscope-bench", "metrics_version": 1, "metrics": {')
    rc, so, se = run(["--only", "echo", "--servers", "none"], broken)
    check("a baseline that is not JSON: exit 2", rc == 2 and "not valid JSON" in se,
          "exit %d\n%s" % (rc, se))
    rc, so, se = run(["--only", "echo", "--servers", "none"],
                     os.path.join(scratch, "missing.json"))
    check("a missing baseline: usage error before any run", rc == 2 and "no such file" in se,
          "exit %d\n%s" % (rc, se))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
