#!/usr/bin/env python3
"""Loops as they really are, against real programs started here: a loop stuck when
coscope attaches (CPython asyncio — with stalls, stat, record and top —, a raw epoll
loop, libcorun), wait calls inside a handler
(CPython select and a socket with a timeout, Node's execSync), a busy asyncio server
under load, and a Go server (not an event loop: exit 10).

    test_real_loops.py COSCOPE_EXE EPOLL_TARGET STALLGEN MEMCACHED_LOAD SCRATCH_DIR

Each case prints "ok: ..." or "FAILED: ..."; the exit status is the number of failures.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

COSCOPE, EPOLL_TARGET, STALLGEN, MEMCACHED_LOAD, SCRATCH = sys.argv[1:6]
PYTHON = "/usr/bin/python3"
failures = []
# How many attaches the busy-loop cases make, and the asyncio load's connections: small
# for the suite; docs/stalls.md quotes a run with CS_REAL_LOOPS_ATTACHES=20
# CS_REAL_LOOPS_CONNS=50.
BUSY_ATTACHES = int(os.environ.get("CS_REAL_LOOPS_ATTACHES", "5"))
BUSY_CONNS = int(os.environ.get("CS_REAL_LOOPS_CONNS", "16"))


def check(what, ok, detail=""):
    print("%s: %s" % ("ok" if ok else "FAILED", what), flush=True)
    if not ok:
        failures.append(what)
        if detail:
            print("    " + str(detail)[:3000], flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Coscope:
    """`coscope stalls ... --json` with each stdout line and the "watching" stderr line
    time-stamped as they arrive."""

    def __init__(self, args):
        self.p = subprocess.Popen([COSCOPE, "stalls", "--json"] + args, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines, self.stderr, self.watching_ns = [], [], None
        self.t_out = threading.Thread(target=self._read_out)
        self.t_err = threading.Thread(target=self._read_err)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for line in self.p.stdout:
            try:
                self.lines.append((mono_ns(), json.loads(line)))
            except ValueError:
                self.lines.append((mono_ns(), {"type": "not-json", "text": line}))

    def _read_err(self):
        for line in self.p.stderr:
            if "watching" in line and self.watching_ns is None:
                self.watching_ns = mono_ns()
            self.stderr.append(line)

    def wait(self, timeout=60):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "hung"
        self.t_out.join()
        self.t_err.join()
        return rc

    def of(self, kind):
        return [(t, o) for t, o in self.lines if o.get("type") == kind]

    def wait_for(self, kind, timeout_s):
        """True once a line of `kind` arrived (within timeout_s)."""
        end = time.time() + timeout_s
        while time.time() < end:
            if self.of(kind):
                return True
            if self.p.poll() is not None and not self.t_out.is_alive():
                return bool(self.of(kind))
            time.sleep(0.02)
        return False

    def err(self):
        return "".join(self.stderr)


def stat_json(pid, duration="1s"):
    r = subprocess.run([COSCOPE, "stat", "-p", str(pid), "-d", duration, "--json"],
                       capture_output=True, text=True, timeout=60)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"stdout": r.stdout, "stderr": r.stderr}


def stall_with(stalls, syscall, min_off_us):
    """The first stall off-CPU at least min_off_us in `syscall` (a name or a tuple)."""
    names = (syscall,) if isinstance(syscall, str) else syscall
    for _, s in stalls:
        if s["off_cpu_us"] >= min_off_us and any(c["name"] in names for c in s["syscalls"]):
            return s
    return None


def python(code, *args):
    path = os.path.join(SCRATCH, "prog_%d.py" % abs(hash(code)))
    with open(path, "w") as f:
        f.write(code)
    return subprocess.Popen([PYTHON, path] + list(args), stdout=subprocess.PIPE, text=True)


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


STUCK_PY = """
import asyncio, time
async def main():
    await asyncio.sleep(0.2)
    print("sleep", time.clock_gettime_ns(time.CLOCK_MONOTONIC), flush=True)
    time.sleep(30)
asyncio.run(main())
"""


def case_python_stuck():
    """A CPython asyncio loop stuck in time.sleep when coscope attaches (found as stuck,
    reported at once with its real start, final record marked unfinished)."""
    p = python(STUCK_PY)
    sleep_ns = int(p.stdout.readline().split()[1])
    time.sleep(1.0)
    c = Coscope(["-p", str(p.pid), "-d", "2500ms"])
    rc = c.wait()
    src, st = stat_json(p.pid)
    rec = os.path.join(SCRATCH, "stuck.csrec")
    if os.path.exists(rec):
        os.unlink(rec)
    rrc = subprocess.run([COSCOPE, "record", "-p", str(p.pid), "-d", "1500ms", "-o", rec],
                         capture_output=True, text=True, timeout=60)
    stop(p)
    rep = subprocess.run([COSCOPE, "report", "--format", "json", rec], capture_output=True,
                         text=True, timeout=60)
    txt = subprocess.run([COSCOPE, "report", rec], capture_output=True, text=True, timeout=60)
    rstalls = json.loads(rep.stdout).get("stalls", []) if rep.returncode == 0 else []
    check("python stuck: record keeps the stall in progress, unfinished, with its start",
          rrc.returncode == 0 and len(rstalls) == 1 and rstalls[0]["unfinished"] and
          rstalls[0]["start"] == "last_ran" and rstalls[0]["duration_ns"] > 3e9 and
          "unfinished: still going when the recording stopped" in txt.stdout and
          "blocked since the thread last ran" in txt.stdout,
          (rrc.stderr, rep.stderr, rstalls, txt.stdout))
    loop = (st.get("loops") or [{}])[0]
    check("python stuck: stat counts the stall in progress",
          src == 0 and loop.get("stalls") == 1 and (loop.get("stall_in_progress_us") or 0) > 3e6,
          st)
    loops = c.of("loop")
    check("python stuck: coscope exits 0", rc == 0, c.err())
    check("python stuck: the main thread is found as stuck",
          len(loops) == 1 and loops[0][1]["found_by"] == "stuck" and loops[0][1]["tid"] == p.pid,
          loops)
    stalls = c.of("stall")
    ongoing = [(t, s) for t, s in stalls if s["ongoing"]]
    check("python stuck: announced as ongoing", bool(ongoing), c.lines)
    if not ongoing:
        return
    t0, first = ongoing[0]
    check("python stuck: first record within 1 s of attaching",
          c.watching_ns is not None and t0 - c.watching_ns < 1_000_000_000,
          (t0 - (c.watching_ns or 0)) / 1e6)
    check("python stuck: start is when the thread last ran (within 100 ms of the sleep)",
          first["start"] == "last_ran" and abs(first["start_ns"] - sleep_ns) < 100_000_000,
          (first["start"], (first["start_ns"] - sleep_ns) / 1e6))
    check("python stuck: off-CPU in clock_nanosleep, with its stack",
          stall_with(ongoing, "clock_nanosleep", 900_000) is not None and
          any("clock_nanosleep" in (f.get("symbol") or "") for f in first["stack"]), first)
    final = [s for _, s in stalls if not s["ongoing"]]
    check("python stuck: one final record, unfinished, counted",
          len(final) == 1 and final[0]["unfinished"] and final[0]["start"] == "last_ran" and
          c.of("summary")[0][1]["stalls"] == 1 and c.of("summary")[0][1]["loops_watched"] == 1,
          final + [s for _, s in c.of("summary")])


def case_top_stuck():
    """`coscope top` on a CPython loop stuck when it attaches: the stall in progress is on
    its first screens, with its real start (longer than coscope has been attached)."""
    p = python(STUCK_PY)
    p.stdout.readline()
    time.sleep(2.0)
    session = "cs-real-loops-%d" % os.getpid()
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                    "%s top -p %d; sleep 30" % (COSCOPE, p.pid)], check=True)
    t0, screen, row = time.time(), "", None
    try:
        while time.time() - t0 < 10 and row is None:
            time.sleep(0.2)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
            row = next((l for l in screen.splitlines()
                        if "ongoing" in l and "clock_nanosleep" in l), None)
        seen_after = time.time() - t0
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], capture_output=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        stop(p)
    check("top stuck: the stall in progress is shown within 3 s", row is not None and
          seen_after < 3.0, screen)
    if row is None:
        return
    # "ongoing      3.87s+": blocked since 2 s before top started.
    dur = next((w for w in row.split() if w.endswith("s+")), "")
    secs = float(dur[:-2]) if dur[:-2].replace(".", "", 1).isdigit() else 0.0
    check("top stuck: its duration counts from its real start, before top attached",
          secs > seen_after + 1.5, (row, seen_after))


def case_epoll_stuck():
    """A raw epoll loop stuck in a 4 s nanosleep, attached 1 s in."""
    p = subprocess.Popen([EPOLL_TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    sent_ns = mono_ns()
    p.stdin.write("sleep 5000\n")
    p.stdin.flush()
    time.sleep(1.0)
    c = Coscope(["-p", str(p.pid), "-d", "1500ms"])
    rc = c.wait()
    fp = Coscope(["-p", str(p.pid), "-d", "300ms", "--stack=fp"])
    fp.wait()
    stop(p)
    fp_stall = stall_with(fp.of("stall"), "clock_nanosleep", 900_000)
    check("epoll stuck, --stack=fp: frame pointers walked over the copied window",
          fp_stall is not None and
          any(f.get("symbol") == "stall_run_command" for f in fp_stall["stack"]),
          fp.err() + str(fp.lines)[:2000])
    stalls = c.of("stall")
    s = stall_with([x for x in stalls if x[1]["ongoing"]], "clock_nanosleep", 900_000)
    check("epoll stuck: exit 0, found, ongoing in clock_nanosleep", rc == 0 and s is not None,
          c.err() + str(c.lines)[:2000])
    if s:
        check("epoll stuck: start within 100 ms of the command",
              s["start"] == "last_ran" and abs(s["start_ns"] - sent_ns) < 100_000_000,
              (s["start_ns"] - sent_ns) / 1e6)
        check("epoll stuck: the stack names the sleeping function",
              any(f.get("symbol") == "stall_blocking_sleep" for f in s["stack"]), s["stack"])


def case_corun_stuck():
    """A libcorun task stuck in an 8 s nanosleep when coscope attaches: reported at once,
    naming the task, then unfinished at exit."""
    p = subprocess.Popen([STALLGEN, "--port", str(free_port()), "--every", "500ms", "--stalls", "sleep:8s"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    c = Coscope(["-p", str(p.pid), "-d", "1500ms"])
    rc = c.wait()
    src, st = stat_json(p.pid)
    stop(p)
    stuck = (st.get("loops") or [{}])[0].get("stuck_task") or {}
    check("corun stuck: stat names the task holding the loop",
          src == 0 and stuck.get("name") == "stall-sleep" and stuck.get("at_least_us", 0) > 9e5,
          st)
    stalls = c.of("stall")
    ongoing = [s for _, s in stalls if s["ongoing"]]
    final = [s for _, s in stalls if not s["ongoing"]]
    check("corun stuck: exit 0, ongoing at once, the task named, blocked in clock_nanosleep",
          rc == 0 and ongoing and ongoing[0]["start"] == "last_ran" and
          (ongoing[0]["task"] or {}).get("name") == "stall-sleep" and
          stall_with([(0, ongoing[0])], "clock_nanosleep", 500_000) is not None and
          any(f.get("symbol") == "stall_blocking_sleep" for f in ongoing[0]["stack"]),
          c.err() + str(c.lines)[:2000])
    check("corun stuck: one final record, unfinished, with the task",
          len(final) == 1 and final[0]["unfinished"] and
          (final[0]["task"] or {}).get("name") == "stall-sleep", final)


def case_stallgen_attaches():
    """20 attaches at random phases of stallgen (stalling every 300 ms): the loop is found
    and stalls are seen every time, the ones in progress at attach included."""
    import random
    p = subprocess.Popen([STALLGEN, "--port", str(free_port()), "--every", "300ms", "--stalls",
                          "sleep:150ms,cpu:100ms"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    rng = random.Random(12)
    found = seen = 0
    for _ in range(20):
        time.sleep(rng.uniform(0, 0.3))
        c = Coscope(["-p", str(p.pid), "-d", "800ms"])
        c.wait()
        found += any(l["found_by"] == "debug_table" for _, l in c.of("loop"))
        seen += any(not x["ongoing"] for _, x in c.of("stall"))
    stop(p)
    check("stallgen: loop found in %d of 20 attaches, stalls seen in %d" % (found, seen),
          found == 20 and seen == 20)


NESTED_PY = """
import asyncio, select, socket, sys, time
mode = sys.argv[1]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
async def ticker():
    while True:
        await asyncio.sleep(0.01)
async def blocker():
    while True:
        await asyncio.sleep(0.5)
        if mode == "select":
            select.select([], [], [], 0.25)
        else:
            c = socket.create_connection(srv.getsockname())
            c.settimeout(0.25)
            try:
                c.recv(10)
            except socket.timeout:
                pass
            c.close()
async def main():
    print("ready", flush=True)
    await asyncio.gather(ticker(), blocker())
asyncio.run(main())
"""


def case_python_nested(mode, syscall):
    """A wait call inside a coroutine (select on no fds, a socket with a timeout, which
    polls) is a blocking call of the stall, not the end of the slice."""
    p = python(NESTED_PY, mode)
    p.stdout.readline()
    c = Coscope(["-p", str(p.pid), "-d", "3s", "-t", "150ms"])
    rc = c.wait()
    stop(p)
    stalls = [x for x in c.of("stall") if not x[1]["ongoing"]]
    s = stall_with(stalls, syscall, 200_000)
    check("python %s: stalls of ~250 ms off-CPU in %s (%d found)" % (mode, "/".join(
        (syscall,) if isinstance(syscall, str) else syscall), len(stalls)),
          rc == 0 and s is not None and len(stalls) >= 3 and
          all(200_000 <= x["duration_us"] <= 400_000 for _, x in stalls),
          c.err() + str([(x["duration_us"], x["syscalls"]) for _, x in stalls]))


NODE_JS = """
const { execSync } = require('child_process');
setInterval(() => {}, 10);
function blockOnChild() { execSync('sleep 0.25'); }
setInterval(blockOnChild, 600);
console.log('ready');
"""


def case_node_execsync():
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        check("node execSync: node is installed", False)
        return
    path = os.path.join(SCRATCH, "exec_sync.js")
    with open(path, "w") as f:
        f.write(NODE_JS)
    p = subprocess.Popen([node, path], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    time.sleep(0.5)
    c = Coscope(["-p", str(p.pid), "-d", "3s", "-t", "150ms"])
    rc = c.wait()
    stop(p)
    stalls = [x for x in c.of("stall") if not x[1]["ongoing"]]
    ok = rc == 0 and len(stalls) >= 3 and all(
        200_000 <= s["duration_us"] <= 500_000 and s["off_cpu_us"] >= 150_000 for _, s in stalls)
    check("node execSync: every ~250 ms child wait is a stall, off-CPU (%d found)" % len(stalls),
          ok, c.err() + str([(s["duration_us"], s["syscalls"]) for _, s in stalls]))


BUSY_PY = """
import asyncio, sys, time
async def handle(reader, writer):
    while True:
        data = await reader.read(100)
        if not data:
            break
        if data.startswith(b"stall"):
            time.sleep(0.25)
        writer.write(data)
        await writer.drain()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
"""


def load(port, stop_evt, conns=16):
    def one():
        s = socket.create_connection(("127.0.0.1", port))
        while not stop_evt.is_set():
            s.sendall(b"x" * 32)
            s.recv(100)
        s.close()
    ts = [threading.Thread(target=one) for _ in range(conns)]
    for t in ts:
        t.start()
    return ts


def case_busy_asyncio():
    """An asyncio server under load (16 connections) is found at every attach (busy making
    wait calls), and its injected 250 ms sleeps are seen."""
    p = python(BUSY_PY)
    port = int(p.stdout.readline())
    stop_evt = threading.Event()
    ts = load(port, stop_evt, BUSY_CONNS)
    found = 0
    seen = 0
    attaches = BUSY_ATTACHES
    for i in range(attaches):
        time.sleep(0.1 * i)
        c = Coscope(["-p", str(p.pid), "-d", "4s", "-t", "150ms"])
        # The sleep is injected once the loop is watched: on a loaded machine attaching
        # can take longer than a fixed pause, and a sleep before it is not this test's.
        c.wait_for("loop", 3.0)
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"stall")
        s.recv(100)
        s.close()
        c.wait()
        if any(l["tid"] == p.pid for _, l in c.of("loop")):
            found += 1
        if stall_with([x for x in c.of("stall") if not x[1]["ongoing"]], "clock_nanosleep",
                      200_000):
            seen += 1
    stop_evt.set()
    for t in ts:
        t.join()
    stop(p)
    check("busy asyncio: loop found in %d of %d attaches, sleeps seen in %d" % (
        found, attaches, seen), found == attaches and seen == attaches)


NGINX_CONF = """
load_module /usr/lib/nginx/modules/ngx_http_perl_module.so;
user root;
daemon off;
worker_processes 1;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events {}
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        location /slow {
            perl 'sub { my $r = shift; select(undef, undef, undef, 0.3);
                        $r->send_http_header("text/plain"); $r->print("slow\\n"); return 0; }';
        }
        location / { return 200 "ok\\n"; }
    }
}
"""


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
        while s.recv(4096):
            pass


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def case_nginx_perl():
    """An nginx worker whose embedded Perl handler calls select(undef, undef, undef, 0.3):
    each request is a stall off-CPU in select."""
    nginx = "/usr/sbin/nginx"
    if not os.path.exists(nginx) or not os.path.exists(
            "/usr/lib/nginx/modules/ngx_http_perl_module.so"):
        check("nginx: nginx-light and libnginx-mod-http-perl are installed", False)
        return
    d = os.path.join(SCRATCH, "nginx")
    os.makedirs(d, exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"dir": d, "port": port})
    master = subprocess.Popen([nginx, "-c", conf, "-p", d], stderr=subprocess.PIPE, text=True)
    worker = None
    for _ in range(100):
        kids = children(master.pid)
        if kids:
            worker = kids[0]
            try:
                http_get(port, "/")
                break
            except OSError:
                pass
        time.sleep(0.1)
    if not worker:
        stop(master)
        check("nginx: a worker starts", False, master.stderr.read() if master.stderr else "")
        return
    c = Coscope(["-p", str(worker), "-d", "3s", "-t", "150ms"])
    while c.watching_ns is None and c.p.poll() is None:
        time.sleep(0.05)
    for _ in range(4):
        http_get(port, "/slow")
        time.sleep(0.2)
    rc = c.wait()
    master.send_signal(signal.SIGQUIT)
    try:
        master.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stop(master)
    stalls = [x for x in c.of("stall") if not x[1]["ongoing"]]
    found = [x for x in stalls if stall_with([x], ("select", "pselect6"), 250_000)]
    check("nginx perl select: 4 requests, 4 stalls off-CPU in select (%d found)" % len(found),
          rc == 0 and len(found) == 4, c.err() + str([(x["duration_us"], x["syscalls"])
                                                     for _, x in stalls]))


HAPROXY_CONF = """
global
    nbthread 2
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:%(front)d
    default_backend be
backend be
    server mc 127.0.0.1:%(back)d
"""


def case_haproxy_busy():
    """haproxy with 2 threads under a memcached-protocol load: both threads are found at
    every attach (busy loops rarely sit in their wait call)."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    memcached = shutil.which("memcached") or "/usr/bin/memcached"
    if not os.path.exists(haproxy) or not os.path.exists(memcached):
        check("haproxy: haproxy and memcached are installed", False)
        return
    back, front = free_port(), free_port()
    mc = subprocess.Popen([memcached, "-p", str(back), "-U", "0", "-t", "1", "-u", "root",
                           "-l", "127.0.0.1"])
    d = os.path.join(SCRATCH, "haproxy")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(HAPROXY_CONF % {"front": front, "back": back})
    hp = subprocess.Popen([haproxy, "-db", "-f", conf], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", front), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    attaches, both = BUSY_ATTACHES, 0
    ld = subprocess.Popen([MEMCACHED_LOAD, str(front), "50", "20"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    counts = []
    for i in range(attaches):
        time.sleep(0.13 * i)
        c = Coscope(["-p", str(hp.pid), "-d", "1s"])
        c.wait()
        tids = {l["tid"] for _, l in c.of("loop")}
        counts.append(len(tids))
        both += len(tids) >= 2
    ld.kill()
    ld.wait()
    stop(hp)
    stop(mc)
    check("haproxy under load: both threads found in %d of %d attaches" % (both, attaches),
          both == attaches, counts)


GO_SRC = """
package main
import ("fmt"; "net"; "net/http")
func main() {
    l, _ := net.Listen("tcp", "127.0.0.1:0")
    fmt.Println("ready")
    http.Serve(l, nil)
}
"""


def case_go():
    go = shutil.which("go")
    if not go:
        check("go: golang-go is installed", False)
        return
    d = os.path.join(SCRATCH, "goserver")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "main.go"), "w") as f:
        f.write(GO_SRC)
    env = dict(os.environ, GOCACHE=os.path.join(SCRATCH, "gocache"), GO111MODULE="off",
               GOFLAGS="", HOME=SCRATCH)
    b = subprocess.run([go, "build", "-o", os.path.join(d, "server"), "main.go"], cwd=d,
                       env=env, capture_output=True, text=True, timeout=300)
    check("go: the server builds", b.returncode == 0, b.stderr)
    if b.returncode:
        return
    p = subprocess.Popen([os.path.join(d, "server")], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    c = Coscope(["-p", str(p.pid), "-d", "2s"])
    rc = c.wait()
    stop(p)
    check("go: exit 10 with one line saying it is a Go program, no stalls",
          rc == 10 and "Go program" in c.err() and not c.of("stall") and
          len([l for l in c.stderr if l.strip()]) == 1, (rc, c.err()))


def main():
    os.makedirs(SCRATCH, exist_ok=True)
    for case in (case_python_stuck, case_top_stuck, case_epoll_stuck, case_corun_stuck, case_stallgen_attaches,
                 lambda: case_python_nested("select", ("select", "pselect6")),
                 lambda: case_python_nested("socket", "poll"),
                 case_node_execsync, case_nginx_perl, case_busy_asyncio, case_haproxy_busy,
                 case_go):
        t0 = time.time()
        try:
            case()
        except Exception as e:  # a case that breaks is a failure, the others still run
            check("%s ran" % getattr(case, "__name__", "case"), False, repr(e))
        print("    (%.1f s)" % (time.time() - t0), flush=True)
    print("%d failed" % len(failures))
    return min(len(failures), 100)


if __name__ == "__main__":
    sys.exit(main())
