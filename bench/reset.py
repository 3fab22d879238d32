"""Benchmark: what a QA suite waits for — `oauth-sandbox run` to its first 200, and POST /_sandbox/reset.

In one run, on this machine:
1. start-up: `oauth-sandbox run` (python -m oauth_sandbox.command run) on a fresh data dir, from another
   directory, timed from the process's spawn to the first 200 of GET /; --starts times (the first warms the file
   cache), median and best;
2. reset: --resets POST /_sandbox/reset in a row over HTTP (one keep-alive connection, as SandboxAdmin's urllib
   would use a new one: both are shown) against the last sandbox started, with the demo data on SQLite: p50, p99,
   max; the database file (with its WAL) and the server's RSS after a warm-up of 100 resets and at the end;
3. the bare Flask route of bench/bare.py served the same way (werkzeug's threaded server in its own process), its
   request latency over the same kind of connection: each figure is printed beside its ratio to it.

    .venv/bin/python bench/reset.py [--resets 1000] [--starts 5] [--checkout DIR]

--checkout runs another checkout's code (e.g. an export of an older commit, to compare).
Speed targets (README, QA controls): reset p50 ≤ 20 ms and p99 ≤ 60 ms; start-up ≤ 1.0 s.
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BARE_SERVER = """
import sys
from werkzeug.serving import make_server
sys.path.insert(0, {bench!r})
from bare import app
server = make_server("127.0.0.1", {port}, app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(checkout):
    """The environment a user's shell would give: no SANDBOX_* settings, the checkout importable."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SANDBOX_", "OAUTH_SANDBOX_")) and name not in ("DATABASE_URL",
                                                                                   "RATELIMIT_STORAGE_URI")}
    env["PYTHONPATH"] = str(checkout)
    return env


def start_sandbox(checkout, data_dir, port):
    """`oauth-sandbox run` on a fresh data dir; (process, seconds from spawn to the first 200 of GET /)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "oauth_sandbox.command", "run", "--port", str(port),
                                "--data-dir", str(data_dir)], cwd=data_dir.parent, env=clean_env(checkout),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if process.poll() is not None:
            raise SystemExit(f"oauth-sandbox run exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return process, time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() - started > 60:
            process.kill()
            raise SystemExit("oauth-sandbox run did not answer within 60 s")
        time.sleep(0.002)


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def timed_requests(port, method, path, count, headers=None, keep_alive=True):
    """The latency in ms of `count` requests in a row (one connection, or a new one each)."""
    latencies = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        if not keep_alive:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        began = time.perf_counter()
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            raise SystemExit(f"{method} {path}: {response.status}")
        if not keep_alive or response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()
    return latencies


def percentiles(latencies):
    ordered = sorted(latencies)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1])


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def database_bytes(data_dir):
    """(the database file's size, its WAL's) in KiB: the WAL grows to SQLite's checkpoint size (1,000 pages) and is
    reused from there."""
    return tuple((data_dir / name).stat().st_size / 1024 if (data_dir / name).exists() else 0
                 for name in ("sandbox.db", "sandbox.db-wal"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resets", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose code runs (default: this)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="oauth-sandbox-bench-"))
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER.format(bench=str(HERE), port=bare_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sandbox = None
    try:
        bare.stdout.readline()
        timed_requests(bare_port, "GET", "/bare", 200)  # warm-up
        bare_keep = percentiles(timed_requests(bare_port, "GET", "/bare", args.resets))
        bare_new = percentiles(timed_requests(bare_port, "GET", "/bare", args.resets, keep_alive=False))

        start_times = []
        for index in range(args.starts):
            if sandbox is not None:
                stop(sandbox)
            data_dir = scratch / f"data-{index}"
            port = free_port()
            sandbox, seconds = start_sandbox(checkout, data_dir, port)
            start_times.append(seconds)
        token = (data_dir / "admin_token").read_text().strip()
        admin = {"Authorization": f"Bearer {token}"}
        fresh = (database_bytes(data_dir), rss_kib(sandbox.pid))
        warm_up = min(100, args.resets)
        timed_requests(port, "POST", "/_sandbox/reset", warm_up, admin)
        warm = (database_bytes(data_dir), rss_kib(sandbox.pid))
        resets = percentiles(timed_requests(port, "POST", "/_sandbox/reset", args.resets, admin))
        after = (database_bytes(data_dir), rss_kib(sandbox.pid))
        resets_new = percentiles(timed_requests(port, "POST", "/_sandbox/reset", min(200, args.resets), admin,
                                                keep_alive=False))
        end = (database_bytes(data_dir), rss_kib(sandbox.pid))
    finally:
        for process in (bare, sandbox):
            if process is not None:
                stop(process)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"code: {checkout}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    print(f"bare Flask GET /bare (werkzeug threaded), keep-alive: p50 {bare_keep[0]:.2f} ms, p99 {bare_keep[1]:.2f} ms;"
          f" new connection each: p50 {bare_new[0]:.2f} ms, p99 {bare_new[1]:.2f} ms")
    print(f"POST /_sandbox/reset x{args.resets}, keep-alive: p50 {resets[0]:.1f} ms ({resets[0] / bare_keep[0]:.1f}x"
          f" bare), p99 {resets[1]:.1f} ms ({resets[1] / bare_keep[1]:.1f}x bare), max {resets[2]:.1f} ms"
          f"   [target p50 <= 20 ms, p99 <= 60 ms]")
    print(f"POST /_sandbox/reset x{min(200, args.resets)}, new connection each (as SandboxAdmin): "
          f"p50 {resets_new[0]:.1f} ms ({resets_new[0] / bare_new[0]:.1f}x bare), p99 {resets_new[1]:.1f} ms "
          f"({resets_new[1] / bare_new[1]:.1f}x bare)")
    print(f"database file / its WAL (KiB): {fresh[0][0]:.0f} / {fresh[0][1]:.0f} fresh, {warm[0][0]:.0f} / "
          f"{warm[0][1]:.0f} after {warm_up} resets, {after[0][0]:.0f} / {after[0][1]:.0f} after "
          f"{warm_up + args.resets}, {end[0][0]:.0f} / {end[0][1]:.0f} at the end")
    print(f"server RSS: {fresh[1] / 1024:.1f} MiB fresh, {warm[1] / 1024:.1f} MiB after {warm_up} resets, "
          f"{after[1] / 1024:.1f} MiB after {warm_up + args.resets}, {end[1] / 1024:.1f} MiB at the end")
    median_start = statistics.median(start_times)
    print(f"oauth-sandbox run, fresh data dir, spawn to first 200: median {median_start:.2f} s, best "
          f"{min(start_times):.2f} s of {args.starts} ({median_start * 1000 / bare_new[0]:.0f}x a bare request)"
          f"   [target <= 1.0 s]")


if __name__ == "__main__":
    main()
