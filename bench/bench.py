"""Benchmark: the sandbox and a bare Flask app under the same gunicorn settings, driven by wrk on loopback.

    apt-get install wrk            # Debian's load generator
    .venv/bin/python bench/bench.py [--seconds 5] [--connections 8] [--stored-tokens 1000 1000000]

Prints requests/s and p50/p99 latency for token issuance in each dialect, bearer validation, JWKS, and the bare
GET and POST routes, each as a ratio to the bare route of its method: each of a scenario's --repeats runs (after a
warm-up) is paired with a run of the bare route just before it, and the pair with the median ratio is reported.
For reference it measures the bare app's routes that only sign a JWT (HS256, RS256): the most a token endpoint
signing such tokens can reach before it stores or checks anything (mokapen's issuance, whose tokens are RS256 JWTs,
is paired with that route too); and the bare route without Flask (bench/raw.py, a plain WSGI callable), from
which it prints the most a fast lane in front of Flask could add to each validation and JWKS figure (`lane_bound`),
and the same route inside a Flask request context, which a lane calling the views' own functions needs: the bound
for such a lane (`in context`).
With --stored-tokens it measures validation again after filling the token table to each size, to show whether
latency stays flat.
"""
import argparse
import base64
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

GUNICORN = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "--log-level", "warning"]
UNLIMITED = "1000000 per minute"
SECRET = secrets.token_hex(32)
ADMIN_TOKEN = secrets.token_hex(32)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MOKAPEN_CC = {"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
              "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app_spec, env, cwd=ROOT):
    """Start gunicorn on a free port; (process, base url)."""
    port = free_port()
    process = subprocess.Popen(GUNICORN + ["-b", f"127.0.0.1:{port}", app_spec], cwd=cwd, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/", timeout=5)
            return process, base
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError(f"{app_spec} did not start")


def lua_script(method, body, headers):
    """A wrk script sending one fixed request."""
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f"wrk.body = {json.dumps(body)}")
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = {json.dumps(value)}')
    return "\n".join(lines) + "\n"


def to_ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url, method="GET", body=None, headers=None, seconds=5, connections=8):
    """(requests/s, p50 ms, p99 ms, non-2xx count) for one request shape."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(method, body, headers or {}))
    try:
        output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
                                 url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, to_ms(percentiles["50"]), to_ms(percentiles["99"]), int(errors.group(1)) if errors else 0


def measure(url, method="GET", body=None, headers=None, seconds=5, connections=8, repeats=3):
    """The median (by requests/s) of `repeats` wrk runs, after a 1 s warm-up that also waits out what the previous
    scenario left queued in the workers (a scrypt login takes half a second)."""
    run_wrk(url, method, body, headers, seconds=1, connections=connections)
    runs = sorted((run_wrk(url, method, body, headers, seconds, connections) for _ in range(repeats)),
                  key=lambda figures: figures[0])
    return runs[len(runs) // 2]


def measure_against(bare, url, method="GET", body=None, headers=None, seconds=5, connections=8, repeats=3):
    """(ratio to the bare route, figures) of a scenario: each of its `repeats` wrk runs follows a run of the bare
    route, and the pair with the median ratio is reported, so that a machine whose speed drifts during the
    benchmark (a shared VM) still compares like with like."""
    run_wrk(url, method, body, headers, seconds=1, connections=connections)
    pairs = []
    for _ in range(repeats):
        bare_rate = run_wrk(*bare, seconds=seconds, connections=connections)[0]
        figures = run_wrk(url, method, body, headers, seconds, connections)
        pairs.append((figures[0] / bare_rate, figures))
    pairs.sort(key=lambda pair: pair[0])
    return pairs[len(pairs) // 2]


def signing_route(bare_url, algorithm):
    """The bare app's route that only signs a JWT with `algorithm` (a request shape for run_wrk)."""
    return f"{bare_url}/bare/{algorithm.lower()}", "POST", urlencode({"a": "b"}), FORM


def prepare_database(path):
    """A SQLite database with the schema and demo data (the production profile creates none itself): SQLite
    whatever the tests' SANDBOX_TEST_DATABASE_URL says."""
    from helpers import make_app, sqlite_url

    make_app(path, SQLALCHEMY_DATABASE_URI=sqlite_url(path))
    return sqlite_url(path)


def sandbox_env(database_url):
    """The production profile on that database, with limits out of the way."""
    env = {**os.environ, "SANDBOX_PROFILE": "production", "SANDBOX_SECRET_KEY": SECRET,
           "SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN, "DATABASE_URL": database_url, "SANDBOX_SESSION_COOKIE_SECURE": "false"}
    for name in ("PHP_TOKEN", "PHP_USERINFO", "V1_TOKEN", "V1_API", "CONSUMER", "MOKAPEN_TOKEN", "MOKAPEN_API"):
        env[f"SANDBOX_{name}_RATE_LIMIT"] = UNLIMITED
    return env


def live_tokens(base):
    """One live token per dialect, through the documented requests (php's code via headless login)."""
    requests.patch(f"{base}/_sandbox/clients/php-demo", json={"headless_user": "johndoe"},
                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).raise_for_status()
    location = requests.get(f"{base}/api/authorize.php", allow_redirects=False, params={
        "client_id": "php-demo", "redirect_uri": "http://localhost:8000/callback", "response_type": "code"}
    ).headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    return {
        "php": requests.post(f"{base}/api/token.php", data={"code": code, "client_id": "php-demo",
                                                            "client_secret": "php-demo-secret"}).json()["access_token"],
        "v1": requests.post(f"{base}/v1/oauth/?username=johndoe&password=demo-password").json()["data"]["access_token"],
        "consumer": requests.post(f"{base}/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                                  data={"grant_type": "client_credentials"}).json()["access_token"],
        "mokapen": requests.post(f"{base}/oauth/token", data=MOKAPEN_CC).json()["access_token"],
    }


def scenarios(base, live):
    """(name, method, url, body, headers, the bare route it is compared with)."""
    basic = "Basic " + base64.b64encode(b"consumer-demo:consumer-demo-secret").decode()
    return [
        ("issue: consumer client_credentials", "POST", f"{base}/authorization/token",
         urlencode({"grant_type": "client_credentials"}), {**FORM, "Authorization": basic}, "POST"),
        ("issue: mokapen client_credentials", "POST", f"{base}/oauth/token", urlencode(MOKAPEN_CC), FORM, "POST"),
        ("issue: v1 /v1/oauth/ (scrypt password check)", "POST",
         f"{base}/v1/oauth/?username=johndoe&password=demo-password", None, {}, "POST"),
        ("validate: php userinfo.php", "GET", f"{base}/api/userinfo.php", None,
         {"Authorization": f"Bearer {live['php']}"}, "GET"),
        ("validate: consumer /protected_endpoint", "POST", f"{base}/protected_endpoint", '{"title": "lorem ipsum"}',
         {"Authorization": f"Bearer {live['consumer']}", "Content-Type": "application/json"}, "POST"),
        ("validate: v1 /v1/user/", "GET", f"{base}/v1/user/", None, {"Authorization": f"Bearer {live['v1']}"}, "GET"),
        ("validate: mokapen /api/v1/849/contacts", "GET", f"{base}/api/v1/849/contacts", None,
         {"Authorization": f"Bearer {live['mokapen']}", "Accept": "application/json"}, "GET"),
        ("jwks: /oauth/jwks", "GET", f"{base}/oauth/jwks", None, {}, "GET"),
    ]


def fill_tokens(database_url, count):
    """Bulk-insert expired dummy tokens until the table holds `count` rows."""
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        have = connection.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
        rows = ((secrets.token_hex(32), "php", 1, 0, 3600, "Bearer", "") for _ in range(have, count))
        connection.executemany("INSERT INTO tokens (access_token_hash, dialect, client_id, issued_at, expires_in, "
                               "token_type, scope) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        # Fold the write-ahead log into the database, as SQLite's automatic checkpoints do over a long run
        # (a log of a million fresh rows would slow every read until then).
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def lane_bound(ratio, without_flask):
    """The best ratio a fast lane could reach on a scenario the one request path serves at `ratio` (both to the
    bare route): a lane that holds no rule of its own does all that path does but Flask's own request handling,
    which costs the bare route's time less its time without Flask (`without_flask`, its ratio). In units of the
    bare route's time: the path takes 1/ratio, the lane at best 1/ratio - (1 - 1/without_flask)."""
    return 1 / (1 / ratio - (1 - 1 / without_flask))


def report(name, rate, p50, p99, errors, ratio=None):
    ratio_text = f"{ratio:6.2f}" if ratio is not None else " " * 6
    print(f"{name:48} {rate:9.0f} {p50:8.2f} {p99:8.2f} {ratio_text} {errors:8}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per scenario; the median is reported")
    parser.add_argument("--stored-tokens", type=int, nargs="*", default=[])
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    database_url = prepare_database(Path(tempfile.mkdtemp()))
    bare, bare_url = serve("bare:app", os.environ.copy(), cwd=ROOT / "bench")
    raw, raw_url = serve("raw:app", os.environ.copy(), cwd=ROOT / "bench")
    sandbox, base = serve("wsgi:app", sandbox_env(database_url))
    try:
        run = {"seconds": options.seconds, "connections": options.connections, "repeats": options.repeats}
        bare_routes = {"GET": (f"{bare_url}/bare", "GET", None, None),
                       "POST": (f"{bare_url}/bare", "POST", urlencode({"a": "b"}), FORM)}
        print(f"{'scenario':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'non-2xx':>8}")
        for method, bare_route in bare_routes.items():
            report(f"bare Flask {method} /bare", *measure(*bare_route, **run), ratio=1)
        live = live_tokens(base)
        ratios = {}
        for name, method, url, body, headers, baseline in scenarios(base, live):
            ratio, figures = measure_against(bare_routes[baseline], url, method, body, headers, **run)
            report(name, *figures, ratio=ratio)
            ratios[name] = (ratio, baseline)
        signing = {}
        for algorithm in ("HS256", "RS256"):  # the ceiling a token endpoint signing such JWTs can reach
            ratio, figures = measure_against(bare_routes["POST"], *signing_route(bare_url, algorithm), **run)
            report(f"reference: bare route signing a {algorithm} JWT", *figures, ratio=ratio)
            signing[algorithm] = ratio
        # Mokapen's tokens are RS256 JWTs: its issuance paired with the route that only signs one, run after run
        # (a quotient of its two ratios to the bare POST, measured a minute apart, carries both pairs' drift).
        mokapen_share, figures = measure_against(signing_route(bare_url, "RS256"), f"{base}/oauth/token", "POST",
                                                 urlencode(MOKAPEN_CC), FORM, **run)
        report("issue: mokapen, paired with the RS256 route", *figures, ratio=mokapen_share)
        without_flask, in_context = {}, {}
        for method, bare_route in bare_routes.items():  # what Flask's own request handling costs a request
            ratio, figures = measure_against(bare_route, raw_url + "/bare", *bare_route[1:], **run)
            report(f"reference: the bare {method} route without Flask", *figures, ratio=ratio)
            without_flask[method] = ratio
        for method, bare_route in bare_routes.items():  # and what of it is left to a lane calling the views' code
            ratio, figures = measure_against(bare_route, raw_url + "/bare/in-context", *bare_route[1:], **run)
            report(f"reference: {method} without Flask, in its context", *figures, ratio=ratio)
            in_context[method] = ratio
        quotient = ratios["issue: mokapen client_credentials"][0] / signing["RS256"]
        print(f"\n{'issue: mokapen, as a share of the RS256 route':48} {mokapen_share:9.2f} (paired; the quotient "
              f"of the two ratios to the bare POST: {quotient:.2f})")
        print(f"\n{'the most a fast lane in front of Flask could add':48} {'lane':>9} {'gain':>8}"
              f" {'in context':>11} {'gain':>8}")
        for name, (ratio, baseline) in ratios.items():
            if name.startswith(("validate:", "jwks:")):
                lane = lane_bound(ratio, without_flask[baseline])
                lane_in_context = lane_bound(ratio, in_context[baseline])
                print(f"{name:48} {lane:9.2f} {lane / ratio:7.2f}x {lane_in_context:11.2f} "
                      f"{lane_in_context / ratio:7.2f}x", flush=True)
        for count in options.stored_tokens:
            fill_tokens(database_url, count)
            report(f"validate php with {count:,} stored tokens",
                   *measure(f"{base}/api/userinfo.php", "GET", None, {"Authorization": f"Bearer {live['php']}"}, **run))
    finally:
        for process in (bare, raw, sandbox):
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
