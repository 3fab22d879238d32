"""The request path's shortcuts keep what a request sees exact: the shared settings it reads (reads.unchanged_since
skips their version when nothing committed), the SQLite connection each thread keeps, and the journal's batches.
(Found by a review of the performance pass; each test fails without its fix.)"""
import gc
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from flask import request, request_started
from sqlalchemy import delete, select, text, update

from helpers import make_app
from oauth_sandbox import reads, settings
from oauth_sandbox.dialects.consumer.models import Operation
from oauth_sandbox.dialects.mokapen.models import Application, Contact, Membership
from oauth_sandbox.extensions import db
from oauth_sandbox.models import Client, Token
from oauth_sandbox.qa import faults

ADMIN = {"Authorization": "Bearer test-admin-token"}
FAULT = {"path": "/api/userinfo.php", "status": 503, "rate": 1.0}  # a shared setting (faults on) that no other
# app in this process shares (rate-limit counters in memory are the process's)


def admin(client, method, path, payload=None):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload)



def test_two_threads_loading_the_settings_at_once_leave_the_newer_copy(tmp_path):
    worker = make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token", JOURNAL_ENABLED=False)
    other = make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token", JOURNAL_ENABLED=False)  # another worker
    other_client = other.test_client()
    a, b = ThreadPoolExecutor(1), ThreadPoolExecutor(1)  # two threads of `worker`

    def get():
        return worker.test_client().get("/api/userinfo.php").status_code

    assert a.submit(get).result() == 400 and b.submit(get).result() == 400
    real_rows = settings.EVERYTHING.rows
    read, go_on = threading.Event(), threading.Event()

    def slow_rows(**params):
        rows = real_rows(**params)
        if threading.current_thread().name.startswith("B"):
            read.set()
            go_on.wait(10)
        return rows

    b = ThreadPoolExecutor(1, thread_name_prefix="B")
    assert b.submit(get).result() == 400
    settings.EVERYTHING.rows = slow_rows
    try:
        other_client.put("/_sandbox/rate-limits", headers=ADMIN, json={"PHP_USERINFO_RATE_LIMIT": "1 per minute"})
        slow = b.submit(get)  # reads the settings with the fault, slowly
        assert read.wait(10)
        other_client.put("/_sandbox/rate-limits", headers=ADMIN, json={"PHP_USERINFO_RATE_LIMIT": "1000 per minute"})
        assert a.submit(get).result() == 400
        go_on.set()
        slow.result()
    finally:
        settings.EVERYTHING.rows = real_rows
    # The 1-per-minute limit was lifted before this request began, on a worker whose database nothing changed since:
    assert [a.submit(get).result() for _ in range(3)] == [400, 400, 400]


@pytest.mark.parametrize("lifo", [True, False])
def test_a_change_committed_on_a_pooled_connection_is_seen_by_a_thread_that_keeps_it_next(tmp_path, lifo):
    app = make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token", JOURNAL_ENABLED=False,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_use_lifo": lifo})

    def in_new_thread(method, path, **kwargs):  # werkzeug's threaded server: a thread per connection
        result = []
        thread = threading.Thread(target=lambda: result.append(app.test_client().open(path, method=method, **kwargs)))
        thread.start()
        thread.join()
        gc.collect()
        return result[0]

    assert in_new_thread("GET", "/api/userinfo.php").status_code == 400
    real_inject, admin_loaded, go_on = faults.inject, threading.Event(), threading.Event()

    def inject():
        if threading.current_thread().name.startswith("admin"):
            admin_loaded.set()
            go_on.wait(10)
        return real_inject()

    faults.inject = inject
    try:
        admin_thread = ThreadPoolExecutor(1, thread_name_prefix="admin")  # a keep-alive connection's thread
        change = admin_thread.submit(lambda: app.test_client().post("/_sandbox/faults", headers=ADMIN, json=FAULT))
        assert admin_loaded.wait(10)
        assert in_new_thread("GET", "/api/userinfo.php").status_code == 400  # loads the settings last
        go_on.set()
        assert change.result().status_code == 201
    finally:
        faults.inject = real_inject
    # The fault was committed before these requests began.
    statuses = [in_new_thread("GET", "/api/userinfo.php").status_code for _ in range(3)]
    assert statuses == [503, 503, 503]


def test_an_in_memory_database_sees_its_own_settings_change(tmp_path):
    app = make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token", SQLALCHEMY_DATABASE_URI="sqlite://")
    client = app.test_client()
    assert client.get("/public_endpoint").status_code == 200
    assert admin(client, "POST", "/faults", {"path": "/public_endpoint", "status": 503, "rate": 1.0}).status_code < 300
    assert client.get("/public_endpoint").status_code == 503


@pytest.mark.skipif(bool(os.environ.get("SANDBOX_TEST_DATABASE_URL")), reason="SQLite's kept connections only")
def test_a_kept_connection_that_fails_costs_one_error_then_the_thread_opens_another(tmp_path):
    app = make_app(tmp_path, JOURNAL_ENABLED=False)
    client = app.test_client()
    unknown_token = {"Authorization": "Bearer not-a-token"}  # looked up on the kept connection
    assert client.get("/api/userinfo.php", headers=unknown_token).status_code == 401
    with app.app_context():
        reads.HELD.by_engine[db.engine].dbapi_connection.close()  # stands for any sqlite3.Error
    # (Another token each time: the answer for one already asked is kept while the database has not changed.)
    statuses = [client.get("/api/userinfo.php", headers={"Authorization": f"Bearer not-a-token-{n}"}).status_code
                for n in range(3)]
    assert statuses[0] >= 500 and statuses[1:] == [401, 401]  # (a closed connection: ProgrammingError, 500)


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


def test_a_client_id_longer_than_its_column_does_not_lose_the_journal_batch(client):
    client.post("/api/token.php", data={"grant_type": "client_credentials", "client_id": "c" * 300})
    client.get("/api/userinfo.php?probe=1")
    entries = client.get("/_sandbox/requests?limit=10", headers=ADMIN).json["requests"]
    assert [entry["path"] for entry in entries][:2] == ["/api/userinfo.php", "/api/token.php"], entries


MOKAPEN_GRANT = {"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
                 "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}  # written on the kept one
JWKS_FAULT = {"path": "/oauth/jwks", "status": 503, "rate": 1.0}


def two_workers(tmp_path):
    """Two apps on one database, as two workers."""
    return [make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token", JOURNAL_ENABLED=False) for _ in range(2)]


def test_a_setting_changed_just_after_a_token_this_thread_wrote_is_seen(tmp_path):
    # The token is written on the thread's own connection, whose commit does not count as a change of the settings
    # (reads.WalIndexHeader.own_commit); a commit by another worker right after it does.
    worker, other = two_workers(tmp_path)
    client = worker.test_client()
    assert client.get("/oauth/jwks").status_code == 200
    assert client.post("/oauth/token", data=MOKAPEN_GRANT).status_code == 200
    assert client.get("/oauth/jwks").status_code == 200
    assert client.post("/oauth/token", data=MOKAPEN_GRANT).status_code == 200
    admin(other.test_client(), "POST", "/faults", JWKS_FAULT)
    assert client.get("/oauth/jwks").status_code == 503


@pytest.mark.skipif(bool(os.environ.get("SANDBOX_TEST_DATABASE_URL")), reason="SQLite's kept connections only")
def test_a_setting_another_worker_commits_between_a_token_commit_and_its_next_read_is_seen(tmp_path):
    # The thread's own commit releases the write lock before the header is read again: a commit of another worker
    # can land in between, and the two headers are then not this commit's alone (reads.WalIndexHeader).
    worker, other = two_workers(tmp_path)
    client = worker.test_client()
    assert client.get("/oauth/jwks").status_code == 200

    class CommitThenOtherWorker:  # the thread's kept connection, whose next commit another worker's follows at once
        def __init__(self, connection):
            self.connection, self.armed = connection, True

        def __getattr__(self, name):
            return getattr(self.connection, name)

        def commit(self):
            self.connection.commit()
            if self.armed:
                self.armed = False
                admin(other.test_client(), "POST", "/faults", JWKS_FAULT)

    with worker.app_context():
        kept = reads.HELD.by_engine[db.engine]
        assert kept.wal_index is not None  # SQLite in WAL mode: the header is read, not data_version
        reads.HELD.by_engine[db.engine] = kept._replace(dbapi_connection=CommitThenOtherWorker(kept.dbapi_connection))
    assert client.post("/oauth/token", data=MOKAPEN_GRANT).status_code == 200
    assert [client.get("/oauth/jwks").status_code for _ in range(2)] == [503, 503]


def test_the_catalog_a_worker_kept_is_read_again_after_any_change_to_it(tmp_path):
    # A worker keeps the catalog it read (reads.CatalogRead: clients, apps, memberships, users, claims) until the
    # shared settings' version moves, and a trigger on each of those tables moves it whoever writes: the admin API
    # through another worker, or a statement sent to the database on a connection of its own (psql, sqlite3).
    worker, other = two_workers(tmp_path)
    client = worker.test_client()
    assert client.post("/oauth/token", data=MOKAPEN_GRANT).status_code == 200
    changed = admin(other.test_client(), "PATCH", "/clients/mokapen-private-demo", {"status": "disabled"})
    assert changed.status_code == 200
    refused = client.post("/oauth/token", data=MOKAPEN_GRANT)
    assert refused.status_code == 400 and "disabled" in refused.json["error_description"]

    clients = Client.__table__
    with other.app_context(), db.engine.begin() as connection:
        connection.execute(update(clients).where(clients.c.client_id == "mokapen-private-demo")
                           .values(status="active", claims={"team": "qa"}))
    issued = client.post("/oauth/token", data=MOKAPEN_GRANT)
    assert issued.status_code == 200
    assert jwt.decode(issued.json["access_token"], options={"verify_signature": False})["team"] == "qa"

    applications, memberships = Application.__table__, Membership.__table__
    with other.app_context(), db.engine.begin() as connection:
        dedicated_user = (select(applications.c.dedicated_user_id)
                          .join(clients, clients.c.id == applications.c.client_pk)
                          .where(clients.c.client_id == "mokapen-private-demo").scalar_subquery())
        assert connection.execute(delete(memberships).where(memberships.c.user_id == dedicated_user)).rowcount == 1
    unlinked = client.post("/oauth/token", data=MOKAPEN_GRANT)
    assert (unlinked.status_code, unlinked.json["error"]) == (400, "invalid_grant")
    assert "not a member" in unlinked.json["error_description"]


def test_fusio_operations_a_worker_kept_are_read_again_after_any_change_to_them(tmp_path):
    # Fusio's operations are catalog too (each worker keeps the operations it found at a path, and that a path has
    # none): one declared through another worker answers at once, and one changed or deleted in the database on a
    # connection of its own (psql, sqlite3) answers as changed, or 404, at the worker's next request.
    worker, other = two_workers(tmp_path)
    client = worker.test_client()
    assert client.get("/qa/status").status_code == 404
    created = admin(other.test_client(), "POST", "/operations",
                    {"method": "GET", "path": "/qa/status", "public": True, "response": {"up": True}})
    assert created.status_code == 201
    answered = client.get("/qa/status")
    assert (answered.status_code, answered.json) == (200, {"up": True})

    operations = Operation.__table__
    with other.app_context(), db.engine.begin() as connection:
        connection.execute(update(operations).where(operations.c.path == "/qa/status")
                           .values(response={"up": False}, status_code=503))
    changed = client.get("/qa/status")
    assert (changed.status_code, changed.json) == (503, {"up": False})
    with other.app_context(), db.engine.begin() as connection:
        assert connection.execute(delete(operations).where(operations.c.path == "/qa/status")).rowcount == 1
    assert client.get("/qa/status").status_code == 404


def test_what_a_worker_read_while_the_database_stood_still_is_read_again_after_any_commit(tmp_path):
    # A worker answers a read it made before again while the database has not changed at all (the SQLite wal-index
    # header, which every commit moves): a token's lookup, an organization's contacts. Any commit, by another
    # worker or a connection of its own, and the next request reads anew.
    worker, other = two_workers(tmp_path)
    client, other_client = worker.test_client(), other.test_client()
    token = client.post("/oauth/token", data=MOKAPEN_GRANT).json["access_token"]
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    before = client.get("/api/v1/849/contacts", headers=bearer)
    assert before.status_code == 200
    assert client.get("/api/v1/849/contacts", headers=bearer).json == before.json
    with other.app_context(), db.engine.begin() as connection:  # (another worker, psql, the sqlite3 shell)
        connection.execute(Contact.__table__.insert().values(organization_id=849, name="Kept Not", email="k@x.io",
                                                             phone=""))
    after = client.get("/api/v1/849/contacts", headers=bearer).json
    assert [item["name"] for item in after["data"] if item["name"] == "Kept Not"] == ["Kept Not"], after

    revoked = other_client.post("/oauth/revoke", data={"token": token, "client_id": "mokapen-private-demo",
                                                       "client_secret": "mokapen-private-demo-secret"})
    assert revoked.status_code == 200
    refused = client.get("/api/v1/849/contacts", headers=bearer)
    assert (refused.status_code, refused.json["error"]) == (401, "invalid_token")

    second = client.post("/oauth/token", data=MOKAPEN_GRANT).json["access_token"]
    bearer = {"Authorization": f"Bearer {second}", "Accept": "application/json"}
    assert client.get("/api/v1/849/contacts", headers=bearer).status_code == 200
    tokens = Token.__table__
    with other.app_context(), db.engine.begin() as connection:
        connection.execute(update(tokens).where(tokens.c.revoked_at.is_(None)).values(revoked_at=1))
    assert client.get("/api/v1/849/contacts", headers=bearer).status_code == 401


def test_a_database_without_the_version_triggers_reads_the_catalog_at_every_request(tmp_path, caplog):
    # Not upgraded since the triggers came (`flask db upgrade`): nothing would tell a worker that the catalog
    # changed, so it keeps none of it, and the log says how to mend that.
    worker, other = two_workers(tmp_path)
    with worker.app_context(), db.engine.begin() as connection:
        settings.drop_version_triggers(connection, sorted(reads.CATALOG_TABLES))
    client = worker.test_client()
    worker.logger.addHandler(caplog.handler)  # (Alembic's logging set-up, run by make_app, took it off the root)
    try:
        assert client.post("/oauth/token", data=MOKAPEN_GRANT).status_code == 200
    finally:
        worker.logger.removeHandler(caplog.handler)
    assert any("flask db upgrade" in record.getMessage() for record in caplog.records)
    clients = Client.__table__
    with other.app_context(), db.engine.begin() as connection:
        connection.execute(update(clients).where(clients.c.client_id == "mokapen-private-demo")
                           .values(status="disabled"))
    refused = client.post("/oauth/token", data=MOKAPEN_GRANT)
    assert refused.status_code == 400 and "disabled" in refused.json["error_description"]


@pytest.mark.skipif(not os.environ.get("SANDBOX_TEST_DATABASE_URL"), reason="PostgreSQL's row locks (SQLite has one "
                    "writer at a time)")
def test_two_writers_of_the_catalog_do_not_deadlock_over_its_version(app):
    # Each catalog change writes the settings' version: were it written at once, a writer holding the version row
    # and then waiting for a row another writer holds (a reset deleting users, a user's change) would deadlock.
    # It is written as each transaction commits, after every other lock it takes.
    with app.app_context():
        first, second = db.engine.connect(), db.engine.connect()
        user = first.execute(text("SELECT id FROM users WHERE username = 'johndoe'")).scalar()
        first.execute(text("UPDATE mokapen_organizations SET name = name"))
        waiting = ThreadPoolExecutor(1).submit(
            lambda: (second.execute(text("UPDATE users SET claims = claims WHERE id = :id"), {"id": user}),
                     second.commit()))
        time.sleep(0.5)  # the second writer holds johndoe's row
        first.execute(text("UPDATE users SET claims = claims WHERE id = :id"), {"id": user})  # waits for it
        first.commit()
        waiting.result(timeout=30)  # neither failed with DeadlockDetected
        first.close(), second.close()


def test_a_process_forked_after_import_knows_its_own_id():
    # The process id is kept, not asked of the kernel on every request (oauth_sandbox/process.py): a child forked
    # after the package was imported (a worker of a server that loaded the app first) must still name its own
    # files and connections, not its parent's (prometheus-client's multiprocess files, the writer lock, the read
    # connection kept per process).
    from oauth_sandbox import process

    assert process.pid() == os.getpid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report and leave at once (no test teardown, no atexit)
        os.write(write_end, str(process.pid()).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end) as reader:
        assert int(reader.read()) == child
    assert process.pid() == os.getpid()


FREED = {  # case -> (fault set first, method, path, headers, status)
    "a Fusio operation": (None, "POST", "/protected_endpoint", {"Authorization": "Bearer nope"}, 401),
    "a 404": (None, "POST", "/no/such/path", {}, 404),
    "a 405": (None, "POST", "/api/userinfo.php", {}, 405),
    "a refused token": (None, "GET", "/api/userinfo.php", {"Authorization": "Bearer nope"}, 401),
    "a view's answer": (None, "GET", "/oauth/jwks", {}, 200),
    "an injected status": ({"path": "/oauth/jwks", "status": 503, "rate": 1.0}, "GET", "/oauth/jwks", {}, 503),
    "an injected error": ({"path": "/v1/user/", "error": "session_deauthorized"}, "GET", "/v1/user/", {}, 401),
}


@pytest.mark.parametrize("case", FREED)
def test_a_request_is_freed_once_answered_without_waiting_for_the_garbage_collector(client, app, case):
    """A server left running holds no finished request (its body, its context) until a collection comes round. (A
    routing exception's traceback held the request's context, and so did an error raised from a local of its frame:
    the frame in its own error's traceback.)"""
    fault, method, path, headers, status = FREED[case]
    if fault is not None:
        assert admin(client, "POST", "/faults", fault).status_code < 300
    answered = []

    def keep_a_weak_reference(sender, **extra):
        answered.append(weakref.ref(request._get_current_object()))

    client.open(path, method=method, headers=headers)  # the app's first such request (its caches, its connection)
    gc.collect()
    request_started.connect(keep_a_weak_reference, app)
    gc.disable()
    try:
        response = client.open(path, method=method, headers=headers, json={"title": "lorem ipsum"})
        assert response.status_code == status, response.text
        assert len(answered) == 1 and answered[0]() is None, "the request outlives its answer"
    finally:
        gc.enable()
        request_started.disconnect(keep_a_weak_reference, app)
