#!/usr/bin/env python3
"""Checks on `coscope report` outputs for test_record.cpp: each subcommand prints a few
plain lines the C++ test compares, or exits 1 with the reason."""
import json
import re
import sys


def stalls(path):
    """One line per stall of a report --format json: 'TASK_ID TASK_NAME DURATION_NS'
    (task 0 '-' for a stall outside any task)."""
    with open(path) as f:
        rep = json.load(f)
    assert rep["type"] == "coscope-report" and rep["schema"] == 1, "not a report"
    for s in rep["stalls"]:
        t = s["task"]
        print(t["id"] if t else 0, t["name"] if t else "-", s["duration_ns"])


def stalled_us(path):
    """The sum of every stall's duration in whole µs, as folded weights count it."""
    with open(path) as f:
        rep = json.load(f)
    print(sum(s["duration_ns"] // 1000 for s in rep["stalls"]))


def warning(path):
    with open(path) as f:
        rep = json.load(f)
    print(rep["recording"]["warning"] or "none")


def chrome(path, tid):
    """A trace Perfetto opens: the loop's track is named, stalls sit on it as slices."""
    tid = int(tid)
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert any(e["tid"] == tid for e in names), "no thread_name for the loop %d" % tid
    assert any(e["ph"] == "M" and e["name"] == "process_name" for e in events), "no process"
    for e in events:
        assert e["ph"] in ("M", "X", "i", "s", "f", "b", "e"), "unexpected phase %r" % e["ph"]
        if e["ph"] == "X":
            assert isinstance(e["ts"], (int, float)) and isinstance(e["dur"], (int, float)), e
            assert e["ts"] >= 0 and e["dur"] >= 0, e
    stall_slices = [e for e in events if e["ph"] == "X" and e.get("cat") == "stall"]
    assert all(e["tid"] == tid for e in stall_slices), "a stall off the loop's track"
    task_slices = [e for e in events if e["ph"] == "X" and e.get("cat") == "task"]
    begins = [e for e in events if e["ph"] == "b"]
    ends = [e for e in events if e["ph"] == "e"]
    assert len(begins) == len(ends), "unbalanced task spans"
    assert all(b["ts"] <= e["ts"] for b, e in zip(begins, ends)), "a task ends before it begins"
    assert any(b["name"] == "ticker" for b in begins), "no span for the ticker task"
    print(len(stall_slices), len(task_slices))


def flows(path):
    """Wake arrows as Perfetto binds them: per id one "s" inside a poll slice on its track and
    one "f" ("bp":"e") inside a poll slice on its track, that poll the woken task's first
    after the wake; polls and stalls nest (a viewer needs proper nesting on a track). One
    line per arrow: 'WAKER_TASK_ID WOKEN_TASK_ID', then 'polls N'."""
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    polls = {}  # tid -> [(ts, end, task_id)]
    for e in events:
        if e["ph"] == "X" and e.get("cat") == "task" and "task_id" in e.get("args", {}):
            polls.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"], e["args"]["task_id"]))
    ends = {}
    for e in events:
        if e["ph"] in ("s", "f"):
            assert e.get("cat") == "wake" and e["name"] == "wake", e
            assert (e["id"], e["ph"]) not in ends, "two %r for flow %r" % (e["ph"], e["id"])
            ends[(e["id"], e["ph"])] = e
    ids = {i for i, _ in ends}
    for i in sorted(ids):
        s, f = ends.get((i, "s")), ends.get((i, "f"))
        assert s and f, "flow %r lacks an end" % i
        assert f.get("bp") == "e", "flow %r: f without bp e" % i
        assert s["ts"] <= f["ts"], "flow %r goes back in time" % i
        inside = [p for p in polls.get(s["tid"], []) if p[0] <= s["ts"] <= p[1] + 1e-3]
        assert inside, "flow %r starts outside any poll of thread %r" % (i, s["tid"])
        at = [p for p in polls.get(f["tid"], []) if p[0] < f["ts"] <= p[1]]
        assert at, "flow %r ends outside any poll of thread %r" % (i, f["tid"])
        woken = at[0][2]
        earlier = [p for ps in polls.values() for p in ps
                   if p[2] == woken and s["ts"] <= p[0] < at[0][0]]
        assert not earlier, "flow %r skips a poll of task %r" % (i, woken)
        print(inside[0][2], woken)
    stalls = [e for e in events if e["ph"] == "X" and e.get("cat") == "stall"]
    ns = lambda us: round(us * 1000)  # exact: times are written to the ns
    for st in stalls:
        a, b = ns(st["ts"]), ns(st["ts"]) + ns(st["dur"])
        for p in polls.get(st["tid"], []):
            p0, p1 = ns(p[0]), ns(p[0]) + ns(p[1] - p[0])
            assert p1 <= a or p0 >= b or (a <= p0 and p1 <= b), \
                "poll %r and stall %r overlap without nesting" % ((p0, p1), (a, b))
    print("polls", sum(len(v) for v in polls.values()))


def counts(path):
    """'POLLS WAKES WAKES_BY_LOOP' of a report --format json."""
    with open(path) as f:
        rec = json.load(f)["recording"]
    print(rec["polls"], rec["wakes"], rec["wakes_by_loop"])


def tasks(path):
    """One line per task of a report --format json:
    'ID NAME POLLS BUSY_NS DONE OUTCOME' (POLLS, BUSY_NS -1 without statistics; DONE 0/1;
    OUTCOME '-' when not recorded)."""
    with open(path) as f:
        for t in json.load(f)["tasks"]:
            st = t["stats"] or {"polls": -1, "busy_ns": -1}
            print(t["id"], t["name"] or "-", st["polls"], st["busy_ns"],
                  int(t["done_ns"] is not None), t["outcome"] or "-")


def folded(path):
    """Every line is 'frame;frame;... N' with N > 0; prints the sum of N."""
    total = 0
    with open(path) as f:
        for line in f:
            m = re.fullmatch(r"([^ ;\n][^\n]*) (\d+)\n", line)
            assert m, "bad folded line %r" % line
            assert all(m.group(1).split(";")), "empty frame in %r" % line
            assert int(m.group(2)) > 0, line
            total += int(m.group(2))
    print(total)



def svg(path):
    """The flame graph is well-formed XML with its interaction script, and refers to no
    http(s) URL but the SVG namespace (it must work offline). Prints the number of frames,
    whether the search and reset controls are there, and the script's size."""
    import xml.etree.ElementTree as ET

    text = open(path, encoding="utf-8").read()
    root = ET.fromstring(text)  # raises on malformed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == ns + "svg", root.tag
    urls = set(re.findall(r"https?://[^\s\"'<>)]*", text))
    assert urls <= {"http://www.w3.org/2000/svg"}, "external URLs: %s" % sorted(urls)
    scripts = [e.text or "" for e in root.iter(ns + "script")]
    assert len(scripts) == 1, "want one <script>, found %d" % len(scripts)
    for word in ("function zoom", "function reset", "function search", "addEventListener"):
        assert word in scripts[0], "script lacks %r" % word
    frames = [g for g in root.iter(ns + "g") if g.get("class") == "f"]
    assert frames and all(g.get("data-n") for g in frames)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    print(len(frames), "search" in ids, "reset" in ids, len(scripts[0]))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
