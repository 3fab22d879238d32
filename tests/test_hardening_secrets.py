"""Hardening, secrets: redaction on decoded names (logs and journal), the README's gunicorn command logs no query
string, production refuses low-entropy secrets, and instance/ files are created readable by their owner only."""
import http.client
import logging
import os
import re
import secrets
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from helpers import make_app
from samples import free_port, wait_for_port

ROOT = Path(__file__).parent.parent
TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
# v1 takes the password in the query by design; `%77` is `w`, so the app reads a `password` here.
V1_LOGIN = "/v1/oauth/?username=johndoe&pass%77ord=demo-password"


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


# --- redaction on decoded names -------------------------------------------------------------------

def test_the_request_log_redacts_a_percent_encoded_secret_name(live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    assert raw_request(live_server.port, "POST", V1_LOGIN) == 200  # the app did read it as the password
    raw_request(live_server.port, "POST", "/api/token.php?CLIENT_SECRE%54=php-demo-secret&co%64e=abc")
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/v1/oauth/" in line for line in lines) and any("/api/token.php" in line for line in lines), lines
    text = "\n".join(lines)
    assert "demo-password" not in text and "php-demo-secret" not in text and "=abc" not in text, text
    assert "password=[REDACTED]" in text and "username=johndoe" in text  # werkzeug logs the path decoded


def test_the_journal_redacts_decoded_secret_names_in_query_form_and_json(client):
    assert client.post(V1_LOGIN).status_code == 200
    client.post("/api/token.php?Client_Secre%74=php-demo-secret-in-query",
                data="client_id=php-demo&client_secre%74=php-demo-secret-in-form&code=a-code",
                content_type="application/x-www-form-urlencoded")
    client.post("/consumer/login", json={"username": "johndoe", "PassWord": "demo-password-in-json"})
    entries = client.get("/_sandbox/requests", headers=ADMIN).json["requests"]
    recorded = repr(entries)
    for secret in ("demo-password", "php-demo-secret", "a-code"):
        assert secret not in recorded, (secret, recorded)
    v1 = next(entry for entry in entries if entry["path"] == "/v1/oauth/")
    assert "username=johndoe" in v1["query"] and "pass%77ord=[REDACTED]" in v1["query"]


# --- the README's gunicorn command ----------------------------------------------------------------

def readme_gunicorn_command():
    """The gunicorn command line of the README's Deployment section, as its arguments."""
    section = ROOT.joinpath("README.md").read_text().split("### Deployment: several workers, PostgreSQL, Redis")[1]
    line = next(line for line in section.splitlines() if line.startswith(".venv/bin/gunicorn "))
    return shlex.split(line.split("#")[0])


def raw_request(port, method, target):
    """Send `target` exactly as written (requests would decode `%77` to `w` first); the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, target, body=b"" if method == "POST" else None)
        return connection.getresponse().status
    finally:
        connection.close()


def serve_and_log(tmp_path, arguments, workers="1"):
    """Run gunicorn with `arguments` (a command line's, its first word dropped) on a free port, send it the v1
    login with the password in the query and a userinfo read with a token in it, stop it; its log."""
    arguments = list(arguments)
    port = free_port()
    for option, value in (("-w", workers), ("-b", f"127.0.0.1:{port}")):  # fewer workers, a free port
        arguments[arguments.index(option) + 1] = value
    env = {**os.environ, "SANDBOX_PROFILE": "production", "SANDBOX_SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": make_app(tmp_path).config["SQLALCHEMY_DATABASE_URI"],
           "SANDBOX_SESSION_COOKIE_SECURE": "false"}
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", *arguments], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, timeout=60)
        assert raw_request(port, "POST", V1_LOGIN) == 200
        assert raw_request(port, "GET", "/api/userinfo.php?access_%74oken=php_at_secret-in-query") == 400
    finally:
        process.terminate()
        process.wait(20)
    log_text = log_path.read_text()
    access = [line for line in log_text.splitlines() if "/v1/oauth/" in line or "/api/userinfo.php" in line]
    assert len(access) == 2, log_text
    assert "demo-password" not in log_text and "secret-in-query" not in log_text, log_text
    return access


def test_the_readme_gunicorn_command_logs_requests_without_their_query_string(tmp_path):
    arguments = readme_gunicorn_command()
    assert "--access-logfile" in arguments and "--access-logformat" in arguments, arguments
    access = serve_and_log(tmp_path, arguments[1:], workers="2")
    assert re.search(r'"POST /v1/oauth/ HTTP/1\.1" 200', access[0]), access
    assert "?" not in "".join(access) and "johndoe" not in "".join(access), access


def test_with_gunicorns_default_access_log_the_query_is_redacted_on_decoded_names(tmp_path):
    """gunicorn's default format logs the request line as sent (`pass%77ord=`): the log filter still redacts it."""
    access = serve_and_log(tmp_path, ["-w", "1", "-b", "127.0.0.1:0", "--access-logfile", "-", "wsgi:app"])
    assert "username=johndoe&pass%77ord=[REDACTED]" in access[0], access
    assert "access_%74oken=[REDACTED]" in access[1], access


# --- production refuses weak secrets -----------------------------------------------------------------

def production_config(tmp_path, **overrides):
    return {"SANDBOX_PROFILE": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
            "SECRET_KEY": secrets.token_hex(32), **overrides}


@pytest.mark.parametrize("setting, environment_name", [("SECRET_KEY", "SANDBOX_SECRET_KEY"),
                                                       ("CONSUMER_JWT_SECRET", "SANDBOX_CONSUMER_JWT_SECRET"),
                                                       ("SANDBOX_ADMIN_TOKEN", "SANDBOX_ADMIN_TOKEN")])
@pytest.mark.parametrize("weak", ["a" * 32, "a" * 200, "ab" * 32, "demo-password" * 3, "0123456789" * 4])
def test_production_refuses_secrets_with_little_entropy(tmp_path, setting, environment_name, weak):
    with pytest.raises(RuntimeError, match=f"{environment_name}.*entropy"):
        create_app(production_config(tmp_path, **{setting: weak}))


@pytest.mark.parametrize("strong", [secrets.token_hex(16), secrets.token_hex(32), secrets.token_urlsafe(32),
                                    "4f1c9a0be27d58e3b6a41f07c9d2e85b"])
def test_production_accepts_random_secrets_of_32_hex_characters_or_more(tmp_path, strong):
    app = create_app(production_config(tmp_path, SECRET_KEY=strong, CONSUMER_JWT_SECRET=strong,
                                       SANDBOX_ADMIN_TOKEN=strong))
    assert app.config["SECRET_KEY"] == strong


# --- file modes in instance/ -------------------------------------------------------------------------

def test_instance_files_are_created_readable_by_their_owner_only(tmp_path):
    instance = tmp_path / "instance"
    previous = os.umask(0o022)  # the common default, which gave 0644 files
    try:
        app = create_app({"SANDBOX_PROFILE": "development"}, instance_path=instance)
        client = app.test_client()
        assert client.get("/.well-known/jwks.json").status_code in (200, 404)
        assert client.post("/api/token.php", data={"client_id": "php-demo", "client_secret": "x",
                                                   "code": "x"}).status_code == 401
    finally:
        os.umask(previous)
    files = {path.name: stat.S_IMODE(path.stat().st_mode) for path in instance.iterdir()}
    assert {"sandbox.db", "sandbox.db-wal", "secret_key", "admin_token", "mokapen-rsa.pem"} <= set(files), files
    assert {name: mode for name, mode in files.items() if mode & 0o077} == {}, {n: oct(m) for n, m in files.items()}
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_an_existing_sqlite_file_is_left_as_it_is(tmp_path):
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    database.chmod(0o640)
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    assert app.test_client().get("/").status_code == 200
    assert stat.S_IMODE(database.stat().st_mode) == 0o640

