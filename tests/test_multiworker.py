"""Several workers: the sandbox under gunicorn with 4 workers, on the test database (SQLite, or PostgreSQL and
Redis when SANDBOX_TEST_DATABASE_URL / SANDBOX_TEST_RATELIMIT_STORAGE_URI are set, as in CI's second run)."""
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
import requests

from helpers import PHP_CLIENT, make_app, query_of
from oauth_sandbox.qa import journal
from samples import free_port, wait_for_port

ROOT = Path(__file__).parent.parent
SECRET = "6e5975652d8a9d21b62da9324b0dd5b4ded318822e47736894c3db18b522dd80"  # production refuses "s" * 64
ADMIN_TOKEN = "acb62fd38ea59bd22028988ded63dbe2bb84f3e867c296683b814f2f4cfa56ff"
ADMIN = {"Authorization": "Bearer " + ADMIN_TOKEN}
REDIS = os.environ.get("SANDBOX_TEST_RATELIMIT_STORAGE_URI")
MASTERS = {}  # base url -> gunicorn master pid


def start_gunicorn(database_url, log_path, worker_count=4, **settings):
    """gunicorn -w N wsgi:app in the production profile on that database, logging to a file (a pipe nobody
    reads would fill up and block the workers); (process, base url)."""
    port = free_port()
    env = {**os.environ, "SANDBOX_PROFILE": "production", "SANDBOX_SECRET_KEY": SECRET,
           "SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN, "DATABASE_URL": database_url,
           "RATELIMIT_STORAGE_URI": REDIS or "sandbox-memory://", "SANDBOX_SESSION_COOKIE_SECURE": "false",
           **{f"SANDBOX_{name}": str(value) for name, value in settings.items()}}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(worker_count), "-b", f"127.0.0.1:{port}",
                                "wsgi:app"], cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    wait_for_port(port, process, timeout=60)
    MASTERS[f"http://127.0.0.1:{port}"] = process.pid
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def workers(tmp_path):
    """gunicorn -w 4 wsgi:app in the production profile, over a database holding the demo data."""
    process, base = start_gunicorn(make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log")
    try:
        yield base
    finally:
        stop_gunicorn(process)


def stop_gunicorn(process):
    """Graceful stop (workers finish and write their journal buffers); killed if it hangs."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def at_once(count, call):
    """Run `call(i)` from `count` threads released together; the results."""
    barrier = Barrier(count)

    def run(index):
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def headless_code(base):
    """A php authorization code for janedoe, through QA's headless login (no pages, no cookies)."""
    requests.patch(f"{base}/_sandbox/clients/php-demo", headers=ADMIN, json={"headless_user": "janedoe"})
    response = requests.get(f"{base}/api/authorize.php", allow_redirects=False, params={
        "client_id": "php-demo", "redirect_uri": "http://localhost:8000/callback", "response_type": "code"})
    return query_of(response.headers["Location"])["code"]


def test_fifty_concurrent_redemptions_of_one_code_give_one_token(workers):
    requests.put(f"{workers}/_sandbox/rate-limits", headers=ADMIN, json={"PHP_TOKEN_RATE_LIMIT": "600 per minute"})
    code = headless_code(workers)
    statuses = at_once(50, lambda _: requests.post(f"{workers}/api/token.php", timeout=60,
                                                   data={"code": code, **PHP_CLIENT}).status_code)
    assert sorted(statuses) == [200] + [400] * 49


def test_twenty_concurrent_refreshes_leave_one_live_successor(workers):
    first = requests.post(f"{workers}/consumer/login", json={"username": "johndoe", "password": "demo-password"})
    refresh = first.json()["refresh_token"]
    responses = at_once(20, lambda _: requests.put(f"{workers}/consumer/login", timeout=60,
                                                   json={"refresh_token": refresh}))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 19
    successor = next(r.json() for r in responses if r.status_code == 200)
    live = [requests.post(f"{workers}/protected_endpoint", json={},
                          headers={"Authorization": f"Bearer {token}"}).status_code
            for token in (first.json()["token"], successor["token"])]
    assert live == [401, 200]


def test_a_token_from_one_worker_validates_on_every_other_and_the_clock_is_shared(workers):
    token = requests.post(f"{workers}/v1/oauth/?username=johndoe&password=demo-password").json()["data"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    # New connections each time: the four workers take turns accepting them.
    assert set(at_once(20, lambda _: requests.get(f"{workers}/v1/user/", headers=headers).status_code)) == {200}
    requests.post(f"{workers}/_sandbox/clock", headers=ADMIN, json={"advance": 30 * 24 * 3600})
    assert set(at_once(20, lambda _: requests.get(f"{workers}/v1/user/", headers=headers).status_code)) == {401}


def test_a_fault_set_through_one_worker_is_injected_by_every_other_at_its_next_request(workers):
    # The JWKS reads nothing but the shared settings: each worker learns of the change from the database alone
    # (on SQLite, its wal-index header: reads.WalIndexHeader).
    assert set(at_once(20, lambda _: requests.get(f"{workers}/oauth/jwks").status_code)) == {200}
    requests.post(f"{workers}/_sandbox/faults", headers=ADMIN,
                  json={"path": "/oauth/jwks", "status": 503, "rate": 1.0}).raise_for_status()
    assert set(at_once(20, lambda _: requests.get(f"{workers}/oauth/jwks").status_code)) == {503}
    requests.delete(f"{workers}/_sandbox/faults", headers=ADMIN).raise_for_status()
    assert set(at_once(20, lambda _: requests.get(f"{workers}/oauth/jwks").status_code)) == {200}


def test_a_client_changed_through_one_worker_is_seen_by_every_other_at_its_next_request(workers):
    # Each worker keeps the clients and apps it read until the settings' version moves (reads.CatalogRead): the
    # admin API's change moves it (a trigger on the clients table), and every worker reads the client again.
    grant = {"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
             "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}

    def issue(_):
        return requests.post(f"{workers}/oauth/token", data=grant).status_code

    requests.put(f"{workers}/_sandbox/rate-limits", headers=ADMIN,  # 60 tokens: beyond the limit, exact on Redis
                 json={"MOKAPEN_TOKEN_RATE_LIMIT": "1000 per minute"}).raise_for_status()
    assert set(at_once(20, issue)) == {200}
    requests.patch(f"{workers}/_sandbox/clients/mokapen-private-demo", headers=ADMIN,
                   json={"status": "disabled"}).raise_for_status()
    assert set(at_once(20, issue)) == {400}
    requests.patch(f"{workers}/_sandbox/clients/mokapen-private-demo", headers=ADMIN,
                   json={"status": "active"}).raise_for_status()
    assert set(at_once(20, issue)) == {200}


@pytest.mark.skipif(not REDIS, reason="exact limits across workers need the Redis storage (CI's second run)")
def test_rate_limit_is_exact_across_workers(workers):
    token = requests.post(f"{workers}/v1/oauth/?username=johndoe&password=demo-password").json()["data"]
    valid = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{workers}/v1/user/", headers=valid).status_code == 200  # its use recorded: the lane's now
    requests.put(f"{workers}/_sandbox/rate-limits", headers=ADMIN, json={"V1_API_RATE_LIMIT": "10 per minute"})
    # Valid tokens (answered in the fast lane) and none (answered by Flask) count against one limit.
    statuses = at_once(30, lambda n: requests.get(f"{workers}/v1/user/", headers=valid if n % 2 else {}).status_code)
    assert statuses.count(429) == 20 and statuses.count(401) + statuses.count(200) == 10


def test_workers_killed_mid_request_come_back_and_leave_nothing_half_written(workers):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the master forks its four workers after binding the port
        children = subprocess.run(["pgrep", "-P", str(MASTERS[workers])], capture_output=True, text=True).stdout.split()
        if len(children) == 4:
            break
        time.sleep(0.2)
    assert len(children) == 4
    code, spare = headless_code(workers), headless_code(workers)
    # The next token request waits 2 s inside a worker: long enough to kill it mid-request.
    requests.post(f"{workers}/_sandbox/faults", headers=ADMIN,
                  json={"path": "/api/token.php", "latency_ms": 2000, "count": 1})
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.post, f"{workers}/api/token.php", data={"code": code, **PHP_CLIENT},
                              timeout=30)
        time.sleep(0.7)
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        try:
            first = pending.result().status_code  # served after all, if it was still queued at the kill
        except requests.ConnectionError:
            first = None  # died with its worker
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the master starts new workers
        try:
            if requests.get(f"{workers}/v1/user/", timeout=2).status_code == 401:
                break
        except (requests.ConnectionError, requests.Timeout):  # refused, or queued while the new workers boot
            time.sleep(0.2)
    # Nothing half-written: a request that died left its code unused, so the code redeems exactly once overall.
    retry = requests.post(f"{workers}/api/token.php", data={"code": code, **PHP_CLIENT}).status_code
    assert [first, retry].count(200) == 1 and retry in (200, 400)
    assert requests.post(f"{workers}/api/token.php", data={"code": spare, **PHP_CLIENT}).status_code == 200


def test_the_journal_read_on_one_worker_holds_requests_every_worker_served(workers):
    # Workers buffer journal entries; a read waits one flush interval, so nothing served before it is missing.
    statuses = at_once(40, lambda i: requests.get(f"{workers}/v1/user/", params={"n": i}).status_code)
    assert set(statuses) == {401}
    entries = requests.get(f"{workers}/_sandbox/requests", headers=ADMIN,
                           params={"path": "/v1/user/", "limit": 100}).json()["requests"]
    assert sorted(int(entry["query"].removeprefix("n=")) for entry in entries) == list(range(40))


def test_journal_entries_still_buffered_are_written_when_gunicorn_stops(tmp_path):
    app = make_app(tmp_path)
    process, base = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log", 2,
                                   JOURNAL_FLUSH_SECONDS=600)
    try:
        for index in range(6):
            requests.get(f"{base}/v1/user/", params={"n": index})
    finally:
        stop_gunicorn(process)  # graceful: each worker writes its buffer on the way out
    with app.app_context():
        assert sorted(entry.query for entry in journal.query_entries(path="/v1/user/")) == [f"n={i}" for i in range(6)]


PG_RESTART = os.environ.get("SANDBOX_TEST_PG_RESTART")  # a shell command restarting the test PostgreSQL server
LEAKS = ("Traceback", 'File "', "psycopg", "sqlalchemy", "SELECT ", "INSERT ", "UPDATE ")


@pytest.mark.skipif(not PG_RESTART, reason="needs SANDBOX_TEST_PG_RESTART, a command restarting PostgreSQL (CI)")
def test_postgresql_restarted_under_load_the_app_recovers_without_a_restart_and_leaks_nothing(workers):
    import psycopg

    database_url = os.environ["SANDBOX_TEST_DATABASE_URL"]
    requests.put(f"{workers}/_sandbox/rate-limits", headers=ADMIN, json={
        "V1_API_RATE_LIMIT": "100000 per minute", "CONSUMER_RATE_LIMIT": "100000 per minute"})
    v1_token = requests.post(f"{workers}/v1/oauth/?username=johndoe&password=demo-password").json()["data"]
    children = sorted(subprocess.run(["pgrep", "-P", str(MASTERS[workers])], capture_output=True,
                                     text=True).stdout.split())
    calls = [
        lambda: requests.get(f"{workers}/v1/user/", headers={"Authorization": f"Bearer {v1_token['access_token']}"},
                             timeout=30),
        lambda: requests.post(f"{workers}/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                              data={"grant_type": "client_credentials"}, timeout=30),
    ]
    outcomes = []  # (finished at, status, content type, body)
    stop = time.monotonic() + 600

    def load(index):
        while time.monotonic() < stop:
            response = calls[index % 2]()
            outcomes.append((time.monotonic(), response.status_code, response.headers.get("Content-Type"),
                             response.text))

    def started_at():
        with psycopg.connect(database_url) as connection:
            return connection.execute("SELECT pg_postmaster_start_time()").fetchone()[0]

    before = started_at()
    with ThreadPoolExecutor(8) as pool:
        running = [pool.submit(load, index) for index in range(8)]
        try:
            time.sleep(2)
            subprocess.run(PG_RESTART, shell=True, check=True)
            restarted = time.monotonic()
            time.sleep(8)
        finally:
            stop = time.monotonic()  # the clients stop even if the restart command failed
        for future in running:
            future.result()
    assert started_at() > before  # the server really restarted under the load

    statuses = {status for _, status, _, _ in outcomes}
    assert statuses <= {200, 503}, statuses  # while it is down: 503 (Retry-After), never a 500
    assert all(content_type == "application/json" for _, _, content_type, _ in outcomes)
    assert not [body for _, _, _, body in outcomes if any(leak in body for leak in LEAKS)]
    # Recovered by itself: the same workers answer everything a few seconds after the restart.
    assert [status for at, status, _, _ in outcomes if at > restarted + 3] and \
        {status for at, status, _, _ in outcomes if at > restarted + 3} == {200}
    assert sorted(subprocess.run(["pgrep", "-P", str(MASTERS[workers])], capture_output=True,
                                 text=True).stdout.split()) == children


SOAK_SECONDS = float(os.environ.get("SANDBOX_TEST_SOAK_SECONDS", 60))
UNLIMITED = {f"{name}_RATE_LIMIT": "1000000 per minute"
             for name in ("PHP_TOKEN", "PHP_USERINFO", "V1_API", "CONSUMER", "MOKAPEN_TOKEN", "MOKAPEN_API")}


@pytest.mark.skipif(bool(os.environ.get("SANDBOX_TEST_DATABASE_URL")), reason="the SQLite soak (CI's first run)")
def test_sqlite_under_200_concurrent_clients_for_a_minute_never_locks_or_fails(tmp_path):
    app = make_app(tmp_path)
    log = tmp_path / "gunicorn.log"
    process, base = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], log, **UNLIMITED)
    requests.patch(f"{base}/_sandbox/clients/php-demo", headers=ADMIN, json={"headless_user": "janedoe"})
    v1_token = requests.post(f"{base}/v1/oauth/?username=johndoe&password=demo-password").json()["data"]
    bearer = {"Authorization": f"Bearer {v1_token['access_token']}"}

    def php_code_flow(session):  # writes a code, claims it, writes a token
        location = session.get(f"{base}/api/authorize.php", allow_redirects=False, params={
            "client_id": "php-demo", "redirect_uri": "http://localhost:8000/callback", "response_type": "code"})
        if location.status_code != 302:
            return location
        return session.post(f"{base}/api/token.php", data={"code": query_of(location.headers["Location"])["code"],
                                                           **PHP_CLIENT})

    flows = [
        php_code_flow,
        lambda session: session.post(f"{base}/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                                     data={"grant_type": "client_credentials"}),
        lambda session: session.post(f"{base}/oauth/token", data={
            "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
            "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}),
        lambda session: session.get(f"{base}/v1/user/", headers=bearer),
    ]
    deadline = time.monotonic() + SOAK_SECONDS

    def client(index):
        """One client's statuses: the same flow over and over until the deadline."""
        statuses = Counter()
        with requests.Session() as session:
            while time.monotonic() < deadline:
                statuses[flows[index % len(flows)](session).status_code] += 1
        return statuses

    try:
        with ThreadPoolExecutor(200) as pool:
            statuses = sum((future.result() for future in [pool.submit(client, i) for i in range(200)]), Counter())
    finally:
        stop_gunicorn(process)
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) > 200
    assert "database is locked" not in log.read_text()


@pytest.mark.skipif(bool(os.environ.get("SANDBOX_TEST_DATABASE_URL")), reason="SQLite's writer lock (CI's first run)")
def test_token_grants_on_four_workers_take_turns_writing_sqlite_instead_of_failing(tmp_path):
    # With no busy timeout at all, a write that found SQLite locked would fail (503): the grants and the journal's
    # batches take turns through the writer lock instead, so that none of them waits out SQLite's busy sleeps.
    # (Flask's writes do not take the lock: no scheduled purge here, which would hand each worker's first grant to
    # Flask.)
    app = make_app(tmp_path)
    process, base = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log",
                                   SQLITE_BUSY_TIMEOUT_SECONDS=0, PURGE_INTERVAL_SECONDS=10**9, **UNLIMITED)
    grants = [
        lambda session: session.post(f"{base}/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                                     data={"grant_type": "client_credentials"}),
        lambda session: session.post(f"{base}/oauth/token", data={
            "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
            "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}),
    ]

    def client(index):
        with requests.Session() as session:
            return [grants[index % 2](session) for _ in range(10)]

    try:
        responses = sum(at_once(40, client), [])
        assert Counter(response.status_code for response in responses) == {200: 400}
        tokens = {response.json()["access_token"] for response in responses}
        assert len(tokens) == 400
        bodies = [response.json() for response in responses]
        consumer = next(body["access_token"] for body in bodies if "refresh_token" in body)
        mokapen = next(body["access_token"] for body in bodies if "refresh_token" not in body)
        assert requests.post(f"{base}/protected_endpoint", headers={"Authorization": f"Bearer {consumer}"},
                             json={"title": "lorem ipsum"}).status_code == 200
        assert requests.get(f"{base}/api/v1/849/contacts", headers={"Authorization": f"Bearer {mokapen}",
                                                                    "Accept": "application/json"}).status_code == 200
    finally:
        stop_gunicorn(process)
