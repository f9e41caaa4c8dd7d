#!/usr/bin/env python3
"""A process whose name is not UTF-8 (prctl(PR_SET_NAME) takes any bytes): every JSON and
SVG output about it must still parse, strictly, with U+FFFD for each byte that is not
UTF-8 and the rest kept (docs/report.md, "Names that are not UTF-8").

    test_non_utf8_names.py COSCOPE_EXE SCRATCH_DIR

Each check prints "ok: ..." or "FAILED: ..."; the exit status is the number of failures.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

COSCOPE, SCRATCH = sys.argv[1:3]
failures = []

# Invalid lead bytes, XML's specials, a control character, DEL, a truncated sequence.
RAW_NAME = b"\xff\xfe<lo&op>\x01\x7f\xc3"
SHOWN_NAME = "\ufffd\ufffd<lo&op>\x01\x7f\ufffd"  # what a JSON reader must get back
# An epoll loop that renames itself, then stalls 120 ms in every iteration.
TARGET = r"""
import ctypes, selectors, sys, time
ctypes.CDLL(None).prctl(15, %r, 0, 0, 0)
sel = selectors.EpollSelector()
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    sel.select(0.01)
    t = time.monotonic()
    while time.monotonic() - t < 0.12:
        pass
""" % RAW_NAME


def check(what, ok, detail=""):
    print("%s: %s" % ("ok" if ok else "FAILED", what), flush=True)
    if not ok:
        failures.append(what)
        if detail:
            print("    " + str(detail)[:3000], flush=True)


def run(args):
    return subprocess.run([COSCOPE] + args, capture_output=True, timeout=120)


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)


def strict_json(data):
    """Parses UTF-8 JSON, refusing what a lenient reader lets pass: bytes that are not
    UTF-8, NaN and Infinity, and escaped lone surrogates. Raises on any of them."""
    def no_constant(name):
        raise ValueError("not JSON: " + name)

    value = json.loads(data.decode("utf-8", errors="strict"), parse_constant=no_constant)
    for s in strings_of(value):
        s.encode("utf-8", errors="strict")  # a lone surrogate from "\ud800" fails here
    return value


def parses(what, fn):
    try:
        value = fn()
    except Exception as e:  # any parse error is the failure this test is about
        check(what, False, e)
        return None, e
    check(what, True)
    return value, None


def target_cmd(seconds):
    return ["--", sys.executable, "-c", TARGET, str(seconds)]


def stalls_json():
    r = run(["stalls", "--json", "-d", "3s"] + target_cmd(5))
    check("stalls --json exits 0", r.returncode == 0, r.stderr)
    lines, err = parses("stalls --json is strict JSON, line by line",
                        lambda: [strict_json(l) for l in r.stdout.splitlines() if l.strip()])
    if err:
        return
    comms = {line.get("comm") for line in lines if line.get("type") == "stall"}
    check("a stall carries the name with U+FFFD for its non-UTF-8 bytes", SHOWN_NAME in comms,
          comms)


def stat_json():
    # a running target that already renamed itself: stat reads the name when it attaches
    target = subprocess.Popen(target_cmd(30)[1:])
    try:
        comm = "/proc/%d/comm" % target.pid
        for _ in range(1000):
            with open(comm, "rb") as f:
                if f.read().startswith(RAW_NAME[:2]):
                    break
            time.sleep(0.01)
        r = run(["stat", "--json", "-d", "2s", "-p", str(target.pid)])
    finally:
        target.kill()
        target.wait()
    check("stat --json exits 0", r.returncode == 0, r.stderr)
    doc, err = parses("stat --json is strict JSON", lambda: strict_json(r.stdout))
    if err:
        return
    check("stat --json names the loop thread with U+FFFD",
          SHOWN_NAME in set(strings_of(doc)), r.stdout[:2000])


def report_outputs():
    rec = os.path.join(SCRATCH, "names.rec")
    r = run(["record", "-o", rec, "--force", "-d", "3s"] + target_cmd(5))
    check("record exits 0", r.returncode == 0, r.stderr)
    for fmt in ("json", "chrome"):
        out = run(["report", rec, "--format", fmt])
        check("report --format %s exits 0" % fmt, out.returncode == 0, out.stderr)
        doc, err = parses("report --format %s is strict JSON" % fmt,
                          lambda: strict_json(out.stdout))
        if not err:
            check("report --format %s parses and keeps the name" % fmt,
                  any("<lo&op>" in s for s in strings_of(doc)), out.stdout[:2000])
    out = run(["report", rec, "--format", "svg"])
    check("report --format svg exits 0", out.returncode == 0, out.stderr)
    # expat refuses bytes that are not UTF-8 and control characters, as XML 1.0 does
    root, err = parses("report --format svg is well-formed XML",
                       lambda: ET.fromstring(out.stdout))
    if not err:
        text = "".join(root.itertext())
        check("the flame graph's title names the target with U+FFFD",
              "\ufffd\ufffd<lo&op>\ufffd\ufffd\ufffd" in text, text[:500])


def main():
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    stalls_json()
    stat_json()
    report_outputs()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    return len(failures)


if __name__ == "__main__":
    sys.exit(main())
