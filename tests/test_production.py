"""The production profile's safeguards, the rate limits with Redis down, and housekeeping of expired codes and
tokens."""
import re
import subprocess
import time
from pathlib import Path

import pytest
import redis

from app import create_app
from helpers import login, make_app, obtain_code, obtain_token
from oauth_sandbox import bootstrap, clock
from oauth_sandbox.extensions import db
from oauth_sandbox.models import AuthorizationCode, Token
from oauth_sandbox.tokens import query_token
from samples import free_port, require_program, wait_for_port

STRONG = "6e5975652d8a9d21b62da9324b0dd5b4ded318822e47736894c3db18b522dd80"  # production refuses "f" * 64
ADMIN_TOKEN = "f9f4eb28660a8225009b9652c0ba6a882916f4ff570d979c144fc65660fd564f"


def production_config(tmp_path, **overrides):
    return {"SANDBOX_PROFILE": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
            "SECRET_KEY": STRONG, **overrides}


@pytest.mark.parametrize("overrides, words", [
    ({"SECRET_KEY": None}, "SANDBOX_SECRET_KEY"),
    ({"SECRET_KEY": "changeme"}, "SANDBOX_SECRET_KEY"),
    ({"SANDBOX_ADMIN_TOKEN": "admin"}, "SANDBOX_ADMIN_TOKEN"),
])
def test_production_refuses_to_start_with_default_or_weak_secrets(tmp_path, overrides, words):
    with pytest.raises(RuntimeError, match=words):
        create_app(production_config(tmp_path, **overrides))


def test_production_sets_secure_cookies_creates_no_demo_data_and_keeps_qa_off(tmp_path):
    app = create_app(production_config(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        db.create_all()
        assert db.session.scalar(db.select(db.func.count(Token.id))) == 0
    client = app.test_client()
    assert client.get("/_sandbox/requests", headers={"Authorization": "Bearer x"}).status_code == 404
    assert "Secure" in client.get("/login").headers["Set-Cookie"]


def test_purge_removes_dead_codes_and_tokens_and_keeps_live_ones(client, runner, app):
    obtain_code(client)  # expires unused
    dead = obtain_token(client)
    clock.advance(app.config["PHP_ACCESS_TOKEN_TTL_SECONDS"] + app.config["PURGE_AFTER_SECONDS"] + 1)
    live = obtain_token(client)
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "Purged" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuthorizationCode.id)).where(
            AuthorizationCode.expires_at < clock.now())) == 0
        assert query_token(dead) is None and query_token(live) is not None
    assert client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {live}"}).status_code == 200


def test_in_production_a_run_of_client_credentials_grants_purges_on_schedule(tmp_path):
    app = make_app(tmp_path, SANDBOX_PROFILE="production", SANDBOX_ADMIN_TOKEN=ADMIN_TOKEN, PURGE_INTERVAL_SECONDS=2)
    api = app.test_client(use_cookies=False)

    def grant():  # mokapen's client-credentials grant: a token without a refresh token
        return api.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
                                              "client_secret": "mokapen-private-demo-secret", "organization_id": "849"})

    def stored_tokens():
        with app.app_context():
            return db.session.scalar(db.select(db.func.count(Token.id)))

    dead = grant().json["access_token"]
    time.sleep(2.1)  # the worker's next purge is due
    grant()  # the first request of the interval purges (nothing is dead yet)
    assert grant().status_code == 200 and stored_tokens() == 3
    api.post("/_sandbox/clock", headers={"Authorization": "Bearer " + ADMIN_TOKEN},
             json={"advance": app.config["MOKAPEN_ACCESS_TOKEN_TTL_SECONDS"] + app.config["PURGE_AFTER_SECONDS"] + 60})
    assert grant().status_code == 200 and stored_tokens() == 4  # not due yet: nothing purged

    time.sleep(2.1)
    assert grant().status_code == 200  # due: purged after answering
    assert stored_tokens() == 2  # the three dead ones are gone
    with app.test_request_context():
        assert query_token(dead) is None


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                                         "PHP_USERINFO_RATE_LIMIT": "2 per minute"}])
def test_with_redis_down_limits_fall_back_to_memory(client):
    statuses = [client.get("/api/userinfo.php").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]  # answered, and still limited, per worker


def start_redis(port):
    process = subprocess.Popen([require_program("redis-server"), "--port", str(port), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


def test_limits_go_back_to_redis_when_it_answers_again(tmp_path):
    port = free_port()
    server = start_redis(port)
    try:
        app = make_app(tmp_path, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0")
        headers = {"Authorization": f"Bearer {obtain_token(app.test_client())}"}
        api, counts = app.test_client(use_cookies=False), redis.Redis(port=port)

        assert api.get("/api/userinfo.php", headers=headers).status_code == 200
        assert counts.keys("*userinfo*")  # counted in Redis

        server.terminate()
        server.wait(10)
        statuses = [api.get("/api/userinfo.php", headers=headers).status_code for _ in range(3)]
        assert statuses == [200] * 3  # counted in memory meanwhile

        server = start_redis(port)  # an empty Redis, as after a restart
        time.sleep(2.5)  # the limiter looks again 1, 2, 4… seconds after its last look
        assert [api.get("/api/userinfo.php", headers=headers).status_code for _ in range(3)] == [200] * 3
        assert redis.Redis(port=port).keys("*userinfo*")  # back in Redis
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                                         "PHP_USERINFO_RATE_LIMIT": "3 per minute"}])
def test_with_redis_down_valid_tokens_are_answered_and_limited_too(app, client):
    headers = {"Authorization": f"Bearer {obtain_token(client)}"}
    api = app.test_client(use_cookies=False)
    statuses = [api.get("/api/userinfo.php", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_readme_deployment_block_logs_in_over_the_plain_http_it_serves(tmp_path, monkeypatch):
    block = (Path(__file__).parent.parent / "README.md").read_text().split("export SANDBOX_PROFILE=production")[1]
    settings = dict(re.findall(r"^export (SANDBOX_SESSION_COOKIE_SECURE)=(\S+)", block.split("```")[0], re.M))
    assert settings == {"SANDBOX_SESSION_COOKIE_SECURE": "false"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SANDBOX_PROFILE", "production")
    monkeypatch.setenv("SANDBOX_SECRET_KEY", STRONG)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    app = create_app()
    with app.app_context():
        db.create_all()
        bootstrap.load_demo_data()
    client = app.test_client()  # plain http, no browser
    assert "Secure" not in client.get("/login").headers["Set-Cookie"]
    assert login(client).status_code == 302  # logged in: the session cookie came back over http
