"""Reset puts back everything a test can change (and nothing when it is refused); fixtures at first start.

Through the real app (test client), the `oauth-sandbox` command, and gunicorn with two workers for what each worker
keeps in its own memory (the rate-limit counters).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from werkzeug.security import check_password_hash

from app import create_app
from helpers import authorize_url, login, make_app, obtain_token, query_of
from oauth_sandbox.extensions import db
from oauth_sandbox.models import User
from oauth_sandbox.qa.fixtures import FixtureError

ADMIN = {"Authorization": "Bearer test-admin-token"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token", "PHP_USERINFO_RATE_LIMIT": "2 per minute"}


def admin(client, method, path, payload=None):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def userinfo(client, token="nothing"):
    return client.get("/api/userinfo.php", headers=bearer(token))


def change_everything(client):
    """Every kind of state a test can change, changed; returns a token issued before."""
    token = obtain_token(client)
    assert admin(client, "PATCH", "/users/johndoe", {"full_name": "Changed", "password": "changed"}).status_code == 200
    assert admin(client, "PATCH", "/clients/php-demo", {"headless_user": "janedoe"}).status_code == 200
    assert admin(client, "PATCH", "/clients/mokapen-private-demo", {"status": "disabled"}).status_code == 200
    assert admin(client, "POST", "/clock", {"advance": 7200}).json["offset"] == 7200
    assert admin(client, "POST", "/faults", {"path": "/v1/user/", "error": "session_deauthorized",
                                             "count": 5}).status_code == 201
    assert admin(client, "PUT", "/rate-limits", {"V1_TOKEN_RATE_LIMIT": "1 per hour"}).status_code == 200
    assert [userinfo(client).status_code for _ in range(3)] == [401, 401, 429]  # the counter is full
    assert admin(client, "GET", "/requests").json["requests"]
    return token


def test_reset_puts_back_everything_a_test_can_change(client):
    token = change_everything(client)

    response = admin(client, "POST", "/reset")
    assert response.status_code == 200
    assert (response.json["fixtures"], response.json["journal"]) == ("demo", "emptied")

    assert admin(client, "GET", "/requests").json["requests"] == [], "the journal is emptied"
    assert admin(client, "GET", "/clock").json["offset"] == 0
    assert admin(client, "GET", "/faults").json["faults"] == []
    assert admin(client, "GET", "/rate-limits").json["V1_TOKEN_RATE_LIMIT"] == "20 per minute"
    assert userinfo(client, token).status_code == 401, "counters empty again (no 429), tokens issued before gone"
    page = client.get(authorize_url())  # the consent page, or the login page when the reset gave new user ids
    assert page.status_code == 200 or "code=" not in page.headers["Location"], "headless login is off again"
    assert login(client, "johndoe", "demo-password").status_code == 302, "the demo password again"
    fresh = obtain_token(client)
    assert userinfo(client, fresh).json["full_name"] == "John Doe"
    private = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
                                                "client_secret": "mokapen-private-demo-secret",
                                                "organization_id": "849"})
    assert private.status_code == 200, private.json
    first_v1 = client.post("/v1/oauth/?username=janedoe&password=demo-password")
    assert first_v1.status_code == 200, "no fault, and the configured limit"
    assert client.get("/v1/user/", headers=bearer(first_v1.json["data"]["access_token"])).status_code == 200


def test_keep_journal_keeps_it(client):
    userinfo(client)
    assert admin(client, "POST", "/reset", {"keep_journal": True}).json["journal"] == "kept"
    assert [entry["path"] for entry in admin(client, "GET", "/requests").json["requests"]] == ["/api/userinfo.php"]
    response = admin(client, "POST", "/reset", {"keep_journal": "yes"})
    assert response.status_code == 400 and "keep_journal" in response.json["message"]


def test_demo_passwords_verify_with_the_configured_hasher(app, client):
    admin(client, "POST", "/reset")
    with app.app_context():
        stored = db.session.scalar(db.select(User.password_hash).filter_by(username="janedoe"))
    assert stored.startswith("scrypt:") and check_password_hash(stored, "demo-password")
    assert not check_password_hash(stored, "demo-passwort")
    assert client.post("/consumer/login", json={"username": "janedoe", "password": "demo-password"}).status_code == 200


DOCUMENT = {
    "users": [{"username": "qa-user", "email": "qa@example.com", "full_name": "QA User", "password": "qa-password"}],
    "clients": [{"dialect": "php", "client_id": "qa-php", "client_secret": "qa-secret",
                 "redirect_uris": ["https://qa.example/cb"], "headless_user": "qa-user"}],
}


def test_reset_loads_a_fixtures_document_from_its_body_once(client):
    response = admin(client, "POST", "/reset", DOCUMENT)
    assert response.status_code == 200 and response.json["fixtures"] == "request body"
    assert client.post("/v1/oauth/?username=qa-user&password=qa-password").status_code == 200
    assert client.post("/v1/oauth/?username=johndoe&password=demo-password").json["success"] is False
    # headless_user from the document: a code at once, without the login and consent pages
    redirect = client.get("/api/authorize.php?client_id=qa-php&redirect_uri=https://qa.example/cb"
                          "&response_type=code&state=s")
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith("https://qa.example/cb?code=")
    code = query_of(redirect.headers["Location"])["code"]
    token = client.post("/api/token.php", data={"code": code, "client_id": "qa-php", "client_secret": "qa-secret"})
    assert userinfo(client, token.json["access_token"]).json["username"] == "qa-user"

    assert admin(client, "POST", "/reset").json["fixtures"] == "demo", "the next reset loads the demo data again"
    assert client.post("/v1/oauth/?username=johndoe&password=demo-password").status_code == 200


@pytest.mark.parametrize("document, message", [
    ({"users": [{"username": "x"}]}, "users[0].email: required"),
    ({"users": [{"username": "x", "email": "x@e", "password": "p"}], "pets": []}, "unknown section(s): pets"),
    ({"clients": [{"dialect": "php", "client_id": "a", "client_secret": "b", "headless_user": "ghost"}]},
     "clients[0].headless_user: no user 'ghost'"),
    ({"clients": [{"dialect": "consumer", "client_id": "a", "client_secret": "b", "headless_user": "x"}]},
     "clients[0].headless_user: consumer apps have no authorization page"),
    ({"users": [{"username": "a", "email": "same@e", "password": "p"},
                {"username": "b", "email": "same@e", "password": "p"}]}, "cannot be stored"),
    ({"users": "everyone"}, "users: must be a list"),
])
def test_a_refused_document_changes_nothing(client, document, message):
    token = change_everything(client)
    journal = admin(client, "GET", "/requests").json["requests"]

    response = admin(client, "POST", "/reset", document)
    assert response.status_code == 400, response.json
    assert message in response.json["message"] and "nothing changed" in response.json["message"]

    assert admin(client, "GET", "/clock").json["offset"] == 7200
    assert len(admin(client, "GET", "/faults").json["faults"]) == 1
    assert admin(client, "GET", "/rate-limits").json["V1_TOKEN_RATE_LIMIT"] == "1 per hour"
    assert admin(client, "GET", "/requests").json["requests"] == journal
    assert userinfo(client).status_code == 429, "the counters are as they were"
    assert admin(client, "POST", "/tokens/expire", {"token": token}).json["expired"] == 1, "the tokens are kept"
    assert client.post("/consumer/login", json={"username": "johndoe", "password": "changed"}).status_code == 200


# --- fixtures at first start ---------------------------------------------------------------------

def development_app(tmp_path, fixtures):
    return create_app({"SANDBOX_PROFILE": "development", "SECRET_KEY": "k" * 64, "SANDBOX_FIXTURES": str(fixtures),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'first.db'}"},
                      instance_path=str(tmp_path))


def test_the_first_start_loads_the_fixtures_and_a_later_start_keeps_the_data(tmp_path):
    fixtures = tmp_path / "qa.json"
    fixtures.write_text(json.dumps(DOCUMENT))
    client = development_app(tmp_path, fixtures).test_client()
    assert client.post("/v1/oauth/?username=qa-user&password=qa-password").status_code == 200
    assert client.post("/v1/oauth/?username=johndoe&password=demo-password").json["success"] is False

    (tmp_path / "other.json").write_text(json.dumps({"users": [
        {"username": "other", "email": "o@example.com", "password": "other-password"}]}))
    again = development_app(tmp_path, tmp_path / "other.json").test_client()
    assert again.post("/v1/oauth/?username=qa-user&password=qa-password").status_code == 200, "data kept"
    token = again.application.config["SANDBOX_ADMIN_TOKEN"]
    again.post("/_sandbox/reset", headers=bearer(token))
    assert again.post("/v1/oauth/?username=other&password=other-password").status_code == 200, "until a reset"


def test_the_pages_name_the_data_dirs_admin_token_file(tmp_path):
    client = development_app(tmp_path, "").test_client()
    token_file = str(tmp_path / "admin_token")
    assert f"<code>{token_file}</code>" in client.get("/").text
    assert f"<code>{token_file}</code>" in client.get("/console/login").text


@pytest.mark.parametrize("first_start", [True, False])
def test_a_broken_fixtures_file_stops_start_up_naming_the_entry(tmp_path, first_start):
    if not first_start:
        development_app(tmp_path, "").test_client()  # a data dir holding the demo data
    broken = tmp_path / "broken.yaml"
    broken.write_text("users:\n  - {username: qa-user, password: x}\n")
    with pytest.raises(FixtureError, match=r"users\[0\]\.email: required"):
        development_app(tmp_path, broken)


def test_the_command_prints_the_located_error_and_exits_1(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"users": [{"username": "x", "password": "p"}]}))
    result = subprocess.run([sys.executable, "-m", "oauth_sandbox.command", "run", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), "--fixtures", str(broken)], cwd=tmp_path, timeout=60,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert "users[0].email: required" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# --- several workers -----------------------------------------------------------------------------

def test_reset_empties_every_workers_counters_and_settings(tmp_path):
    """gunicorn -w 2: each worker counts in its own memory (or both in Redis); a reset served by one empties both."""
    from test_multiworker import ADMIN, REDIS, at_once, start_gunicorn, stop_gunicorn

    database = make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"]
    process, base = start_gunicorn(database, tmp_path / "gunicorn.log", worker_count=2,
                                   PHP_USERINFO_RATE_LIMIT="2 per minute")
    headers = ADMIN
    slow = {"path": "/api/userinfo.php", "latency_ms": 250, "rate": 1}  # each request holds a worker: both serve

    def answers_within_the_limit():
        assert requests.post(f"{base}/_sandbox/faults", headers=headers, json=slow).status_code == 201
        statuses = at_once(8, lambda _: requests.get(f"{base}/api/userinfo.php", timeout=30).status_code)
        assert 429 in statuses, statuses
        return len([status for status in statuses if status != 429])  # a refusal of the missing token

    try:
        allowed = 2 if REDIS else 4  # the limit's 2, counted once (Redis) or by each worker
        assert answers_within_the_limit() == allowed
        requests.post(f"{base}/_sandbox/clock", headers=headers, json={"advance": 600})
        requests.put(f"{base}/_sandbox/rate-limits", headers=headers, json={"V1_TOKEN_RATE_LIMIT": "1 per hour"})
        assert requests.post(f"{base}/_sandbox/reset", headers=headers, timeout=30).status_code == 200
        for _ in range(4):  # whichever worker answers
            assert requests.get(f"{base}/_sandbox/clock", headers=headers).json()["offset"] == 0
            assert requests.get(f"{base}/_sandbox/rate-limits", headers=headers).json()[
                "V1_TOKEN_RATE_LIMIT"] == "20 per minute"
        assert answers_within_the_limit() == allowed, "every worker's counters were emptied by the reset"
    finally:
        stop_gunicorn(process)
