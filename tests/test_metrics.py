"""Prometheus metrics at /metrics: requests, latency, tokens, rate-limit refusals and faults; one sum for every
gunicorn worker; open in development, behind the admin token in production."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from test_multiworker import ADMIN as WORKERS_ADMIN
from test_multiworker import at_once, start_gunicorn, stop_gunicorn

from helpers import PHP_CLIENT, make_app, obtain_token

ADMIN = {"Authorization": "Bearer test-admin-token"}
ROOT = Path(__file__).parent.parent

PRODUCTION_TOKEN = "9f1c6d0b7a3e48f2a51d6c9e0b4f7a2d8c3e5f1a6b9d0c2e4f7a8b1c3d5e6f70"  # not "a" * 64: refused


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


def samples(text):
    """{(sample name, sorted labels): value} of an exposition."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0)


def read(client, headers=None):
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.text)


def test_requests_latency_tokens_refusals_and_faults_are_counted(client):
    before = read(client)
    token = obtain_token(client)  # php: authorization_code
    assert client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).status_code == 200
    assert client.post("/v1/oauth/?username=johndoe&password=demo-password").status_code == 200
    client.put("/_sandbox/rate-limits", headers=ADMIN, json={"PHP_USERINFO_RATE_LIMIT": "1 per minute"})
    assert [client.get("/api/userinfo.php").status_code for _ in range(3)][1:] == [429, 429]
    client.post("/_sandbox/faults", headers=ADMIN, json={"path": "/api/token.php", "status": 502})
    assert client.post("/api/token.php", data=PHP_CLIENT).status_code == 502
    after = read(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("oauth_sandbox_requests_total", dialect="php", endpoint="/api/userinfo.php", status="200") == 1
    assert delta("oauth_sandbox_requests_total", dialect="php", endpoint="/api/userinfo.php", status="429") == 2
    assert delta("oauth_sandbox_requests_total", dialect="php", endpoint="/api/token.php", status="502") == 1
    assert delta("oauth_sandbox_request_duration_seconds_count", dialect="php", endpoint="/api/token.php") == 2
    assert delta("oauth_sandbox_tokens_issued_total", dialect="php", grant="authorization_code") == 1
    assert delta("oauth_sandbox_tokens_issued_total", dialect="consumer", grant="password") == 1
    assert delta("oauth_sandbox_tokens_issued_total", dialect="v1", grant="password") == 1
    assert delta("oauth_sandbox_rate_limit_refusals_total", dialect="php", endpoint="/api/userinfo.php") == 2
    assert delta("oauth_sandbox_faults_injected_total", dialect="php", path="/api/token.php", kind="502") == 1
    assert client.get("/public_endpoint").status_code == 200  # a Fusio operation: no route, its path
    assert client.get("/no/such/operation").status_code == 404
    last = read(client)
    assert value(last, "oauth_sandbox_requests_total", dialect="consumer", endpoint="/public_endpoint",
                 status="200") - value(after, "oauth_sandbox_requests_total", dialect="consumer",
                                       endpoint="/public_endpoint", status="200") == 1
    assert not any(dict(labels).get("endpoint") == "/no/such/operation" for _, labels in last)


def test_mokapens_grants_are_told_apart(client):
    before = read(client)
    for _ in range(2):
        response = client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
            "client_secret": "mokapen-private-demo-secret", "scope": "tasks.read", "organization_id": "849"})
        assert response.status_code == 200, response.text
    after = read(client)
    grant = ("oauth_sandbox_tokens_issued_total", (("dialect", "mokapen"), ("grant", "client_credentials")))
    assert after[grant] - before.get(grant, 0) == 2


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "production", "SANDBOX_ADMIN_TOKEN": PRODUCTION_TOKEN}])
def test_in_production_metrics_need_the_admin_token(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": PRODUCTION_TOKEN}).status_code == 401  # no scheme: refused
    read(client, {"Authorization": "Bearer " + PRODUCTION_TOKEN})


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "production", "SANDBOX_ADMIN_TOKEN": PRODUCTION_TOKEN,
                                         "METRICS_PUBLIC": True}])
def test_a_setting_opens_them_in_production(client):
    read(client)


def public_endpoint_count(base):
    """The requests to /public_endpoint answered 200, as /metrics sums them (whichever worker answers)."""
    found = samples(requests.get(f"{base}/metrics", headers=WORKERS_ADMIN, timeout=30).text)
    return value(found, "oauth_sandbox_requests_total", dialect="consumer", endpoint="/public_endpoint", status="200")


def test_two_gunicorn_workers_count_into_one_sum_and_a_drop_closes_the_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the run's metrics directory with the test's files
    database = make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"]
    process, base = start_gunicorn(database, tmp_path / "gunicorn.log", worker_count=2)
    try:
        # Two requests that wait 1.5 s each, sent together: a sync worker serves one at a time, so each worker
        # serves one of them and counts it in its own process.
        requests.post(f"{base}/_sandbox/faults", headers=WORKERS_ADMIN,
                      json={"path": "/public_endpoint", "latency_ms": 1500, "count": 2})
        statuses = at_once(2, lambda _: requests.get(f"{base}/public_endpoint", timeout=30).status_code)
        assert statuses == [200, 200]
        readings = set()
        for _ in range(6):  # whichever worker answers, it reports both workers' counts
            readings.add(public_endpoint_count(base))
        assert readings == {2}
        requests.post(f"{base}/_sandbox/faults", headers=WORKERS_ADMIN, json={"path": "/api/token.php", "drop": True})
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(f"{base}/api/token.php", data=PHP_CLIENT, timeout=30)
        assert requests.post(f"{base}/api/token.php", data=PHP_CLIENT, timeout=30).status_code == 400
    finally:
        stop_gunicorn(process)
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()


def test_each_gunicorn_run_counts_from_zero_and_the_directories_of_finished_runs_go(tmp_path, monkeypatch):
    """The workers' multiprocess directory is the run's own: a master's pid comes round again, and a directory named
    after the pid alone gave the new run the counts an earlier run left in it."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # where the workers make the run's directory
    database = make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"]
    first, base = start_gunicorn(database, tmp_path / "first.log", worker_count=2)
    try:
        for _ in range(3):
            assert requests.get(f"{base}/public_endpoint", timeout=30).status_code == 200
        assert public_endpoint_count(base) == 3
    finally:
        stop_gunicorn(first)
    [finished] = temp.glob("oauth-sandbox-metrics-*")
    others = temp / "oauth-sandbox-metrics-4194305-1"  # a finished run's name, but a directory others may write in
    others.mkdir(mode=0o755)
    others.chmod(0o755)
    odd = temp / "oauth-sandbox-metrics-99999999999999999999"  # no pid: left alone, and no request fails over it
    odd.mkdir(mode=0o700)
    second, base = start_gunicorn(database, tmp_path / "second.log", worker_count=2)
    try:
        # What a run whose master had this pid would have left, under the name the pid alone gave.
        shutil.copytree(finished, temp / f"oauth-sandbox-metrics-{second.pid}")
        assert public_endpoint_count(base) == 0
        assert requests.get(f"{base}/public_endpoint", timeout=30).status_code == 200
        assert public_endpoint_count(base) == 1
        assert not finished.exists()
        assert others.exists() and odd.exists()
    finally:
        stop_gunicorn(second)


JSON_LOG_SCRIPT = """
import logging, sys, threading, urllib.request
from werkzeug.serving import make_server
from app import create_app
app = create_app({"SANDBOX_PROFILE": "testing", "SECRET_KEY": "k" * 64, "LOG_FORMAT": "json",
                  "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/userinfo.php?access_token=S3CRET-TOKEN"
                                 "&password=hunter2", headers={"Authorization": "Bearer S3CRET-BEARER"})
try:
    urllib.request.urlopen(request)
except urllib.error.HTTPError as error:
    print("status", error.code, file=sys.stdout)
logging.getLogger("oauth_sandbox.anywhere").warning("client_secret=S3CRET-CLIENT Basic UzNDUkVU")
server.shutdown()
"""


def test_json_logs_are_one_redacted_object_a_line(tmp_path):
    database = make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"]
    done = subprocess.run([sys.executable, "-c", JSON_LOG_SCRIPT, database], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert "status 401" in done.stdout, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    request_line = next(entry for entry in entries if entry["logger"] == "werkzeug" and "/api/userinfo.php" in
                        entry["message"])
    assert "access_token=[REDACTED]" in request_line["message"] and "password=[REDACTED]" in request_line["message"]
    warning = next(entry for entry in entries if entry["logger"] == "oauth_sandbox.anywhere")
    assert warning["level"] == "WARNING" and warning["message"] == "client_secret=[REDACTED] Basic [REDACTED]"
    assert "S3CRET" not in done.stderr and "hunter2" not in done.stderr
