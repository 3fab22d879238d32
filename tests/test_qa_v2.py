"""QA controls v2 over HTTP: faults the way real servers fail, admin bodies validated, the readiness probe, the
journal that verifies."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from app import create_app
from helpers import PHP_CLIENT, PHP_REDIRECT_URI, authorize_url, login, obtain_code, query_of
from samples import free_port

ADMIN = {"Authorization": "Bearer test-admin-token"}
MOKAPEN_REDIRECT = "https://example.com/callback"
STATE = "0123456789abcdef"


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


def admin(client, method, path, payload=None, **kwargs):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload, **kwargs)


def mokapen_authorize(**params):
    query = {"client_id": "mokapen-public-demo", "redirect_uri": MOKAPEN_REDIRECT, "response_type": "code",
             "scope": "tasks.read", "state": STATE}
    query.update(params)
    return "/oauth/authorize?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


# --- documented errors on authorization endpoints ----------------------------------------------

def test_an_injected_error_on_mokapens_authorize_redirects_back_with_error_and_state(client):
    assert admin(client, "POST", "/faults", {"path": "/oauth/authorize", "error": "access_denied"}).status_code == 201
    login(client)
    response = client.get(mokapen_authorize())
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(MOKAPEN_REDIRECT + "?")
    params = query_of(response.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == STATE and "code" not in params
    assert client.get(mokapen_authorize()).status_code == 200  # the fault fired once: the consent page again


def test_an_injected_error_on_php_authorize_redirects_even_before_login(client):
    admin(client, "POST", "/faults", {"path": "/api/authorize.php", "error": "invalid_request"})
    response = client.get(authorize_url(state="s-42"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(PHP_REDIRECT_URI + "?")
    assert query_of(response.headers["Location"]) == {
        "error": "invalid_request", "error_description": "The request is missing required parameters",
        "state": "s-42"}


@pytest.mark.parametrize("params", [{"client_id": "nobody"}, {"redirect_uri": "https://evil.example/cb"}])
def test_an_injected_error_with_an_unknown_client_or_redirect_uri_is_the_400_that_never_redirects(client, params):
    admin(client, "POST", "/faults", {"path": "/oauth/authorize", "error": "access_denied", "count": 2})
    response = client.get(mokapen_authorize(**params), headers={"Accept": "application/json"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.json["error"] == "access_denied"
    page = client.get(mokapen_authorize(**params))
    assert page.status_code == 400 and "Location" not in page.headers and "<html" in page.text.lower()


# --- more statuses, stall and drop --------------------------------------------------------------

@pytest.mark.parametrize("path, method, status, check", [
    ("/api/token.php", "POST", 502, lambda r: r.json["error"] == "server_error"),
    ("/oauth/token", "POST", 504, lambda r: r.json["error"] == "server_error"),
    ("/v1/oauth/", "POST", 502, lambda r: r.json["success"] is False),
    ("/protected_endpoint", "POST", 504, lambda r: r.json["success"] is False),
])
def test_502_and_504_come_in_the_dialects_shape(client, path, method, status, check):
    admin(client, "POST", "/faults", {"path": path, "status": status})
    response = client.open(path, method=method)
    assert response.status_code == status and check(response), response.text
    assert "Retry-After" not in response.headers


def test_a_stall_sends_nothing_for_longer_than_the_client_waits(app, live_server):
    with app.test_client() as client:
        admin(client, "POST", "/faults", {"path": "/api/token.php", "stall_ms": 1500})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{live_server.url}/api/token.php", data=PHP_CLIENT, timeout=0.5)
    assert time.monotonic() - started < 1.4
    time.sleep(1.2)  # the stalled request then answers (to nobody); the next one is served at once
    response = requests.post(f"{live_server.url}/api/token.php", data=PHP_CLIENT, timeout=5)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_drop_closes_the_connection_without_a_response(app, live_server):
    with app.test_client() as client:
        admin(client, "POST", "/faults", {"path": "/api/token.php", "drop": True, "count": 2})
        assert admin(client, "GET", "/faults").json["faults"][0]["drop"] is True
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(f"{live_server.url}/api/token.php", data=PHP_CLIENT, timeout=10)
    assert requests.post(f"{live_server.url}/api/token.php", data=PHP_CLIENT, timeout=10).status_code == 400
    with app.test_client() as client:
        statuses = [entry["status"] for entry in admin(client, "GET", "/requests?path=/api/token.php").json["requests"]]
        assert statuses == [400, 444, 444]  # newest first; 444: closed without a response (nginx's code)
        assert admin(client, "DELETE", "/faults").json == {"cleared": True}
        assert admin(client, "GET", "/faults").json == {"faults": []}


# --- admin bodies ------------------------------------------------------------------------------

def raw(client, method, path, text):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, data=text, content_type="application/json")


@pytest.mark.parametrize("path, text, field", [
    ("/clock", '{"advance": 1e308}', "advance"),
    ("/clock", '{"advance": NaN}', "advance"),
    ("/clock", '{"advance": Infinity}', "advance"),
    ("/clock", '{"advance": -Infinity}', "advance"),
    ("/clock", '{"set": 1e308}', "set"),
    ("/clock", '{"set": NaN}', "set"),
    ("/clock", '{"set": 4102444800}', "set"),  # 2100: a token issued then would expire past 2^31 - 1
    ("/clock", '{"set": -1}', "set"),
    ("/clock", '{"advance": "soon"}', "advance"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "count": 100000000000000000000000000000}', "count"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "count": 2147483648}', "count"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "count": 1e308}', "count"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "count": true}', "count"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "count": 0}', "count"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "rate": NaN}', "rate"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "rate": Infinity}', "rate"),
    ("/faults", '{"path": "/api/token.php", "status": 503, "retry_after": "soon"}', "retry_after"),
    ("/faults", '{"path": "/api/token.php", "status": 503, "retry_after": 1e308}', "retry_after"),
    ("/faults", '{"path": "/api/token.php", "status": 503, "retry_after": NaN}', "retry_after"),
    ("/faults", '{"path": "/api/token.php", "latency_ms": NaN}', "latency_ms"),
    ("/faults", '{"path": "/api/token.php", "latency_ms": Infinity}', "latency_ms"),
    ("/faults", '{"path": "/api/token.php", "stall_ms": 120001}', "stall_ms"),
    ("/faults", '{"path": "/api/token.php", "stall_ms": 1e308}', "stall_ms"),
    ("/faults", '{"path": "/api/token.php", "drop": "yes"}', "drop"),
    ("/faults", '{"path": "/api/token.php", "drop": true, "status": 500}', "drop"),
    ("/faults", '{"path": "/api/token.php", "status": 500.0}', "status"),
    ("/faults", '{"path": "/api/token.php", "status": 500, "method": "BREW-COFFEE-NOW"}', "method"),
    ("/faults", '{"path": "/api/token.php", "error": ["invalid_client"]}', "error"),
])
def test_bad_numbers_in_admin_bodies_are_a_400_naming_the_field(client, path, text, field):
    before = admin(client, "GET", "/clock").json["offset"]
    response = raw(client, "POST", path, text)
    assert response.status_code == 400 and f"'{field}'" in response.json["message"], response.json
    assert admin(client, "GET", "/faults").json == {"faults": []}
    clock = admin(client, "GET", "/clock")
    assert clock.status_code == 200 and clock.json["offset"] == before


def test_the_clock_goes_as_far_as_a_tokens_expiry_can_be_stored(client):
    too_far = admin(client, "POST", "/clock", {"set": 2**31 - 1})
    assert too_far.status_code == 400 and "2115947647" in too_far.json["message"]  # 2^31 - 1 minus mokapen's year
    moved = admin(client, "POST", "/clock", {"set": 2115947647})
    assert moved.status_code == 200 and moved.json["now"] - 2115947647 in (0, 1)  # a second may tick meanwhile
    code = obtain_code(client)
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert token.status_code == 200
    assert client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token.json['access_token']}"}
                      ).status_code == 200
    assert admin(client, "POST", "/clock", {"advance": 1}).status_code == 400
    assert admin(client, "POST", "/clock", {"advance": -3600}).json["now"] - (2115947647 - 3600) in (0, 1, 2)


def test_an_email_already_taken_is_a_400_naming_the_field(client):
    response = admin(client, "PATCH", "/users/johndoe", {"email": "jane@example.com"})  # janedoe's
    assert response.status_code == 400 and "'email'" in response.json["message"], response.json
    for field, text in (("full_name", "x" * 256), ("email", "a@" + "b" * 254), ("full_name", "nul\u0000")):
        response = admin(client, "PATCH", "/users/johndoe", {field: text})
        assert response.status_code == 400 and f"'{field}'" in response.json["message"], response.json
    assert admin(client, "PATCH", "/users/johndoe", {"email": "john.new@example.com"}).status_code == 200
    ok = admin(client, "PATCH", "/users/johndoe", {"email": "john.new@example.com"})  # its own address again
    assert ok.status_code == 200 and ok.json["email"] == "john.new@example.com"


def test_a_fault_id_beyond_the_column_is_404(client):
    assert admin(client, "DELETE", f"/faults/{2**63}").status_code == 404


# --- readiness probe ---------------------------------------------------------------------------

def test_health_needs_no_token_and_says_ok_when_the_database_answers(client):
    response = client.get("/_sandbox/health")
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert client.get("/_sandbox/requests").status_code == 401  # the rest of the admin API still needs the token


def unreachable_database_app(tmp_path, url):
    return create_app({"SANDBOX_PROFILE": "testing", "TESTING": True, "SANDBOX_ADMIN_TOKEN": "test-admin-token",
                       "SECRET_KEY": "test-secret-key-" + "0123456789abcdef" * 3, "SQLALCHEMY_DATABASE_URI": url})


@pytest.mark.parametrize("where", ["sqlite", "postgresql"])
def test_health_is_503_when_the_database_does_not_answer(tmp_path, where):
    if where == "sqlite":
        (tmp_path / "not-a-directory").write_text("")  # the database's directory is a file: it cannot be opened
        url = f"sqlite:///{tmp_path / 'not-a-directory' / 'sandbox.db'}"
    else:
        url = f"postgresql://sandbox:sandbox@127.0.0.1:{free_port()}/sandbox?connect_timeout=2"  # nothing listens
    app = unreachable_database_app(tmp_path, url)
    response = app.test_client().get("/_sandbox/health")
    assert response.status_code == 503 and response.json["status"] == "unavailable", response.text
    assert response.headers["Retry-After"] == "1"
    assert "sandbox:sandbox" not in response.text and "Traceback" not in response.text


# --- a journal that verifies -------------------------------------------------------------------

def entries(client, query=""):
    return admin(client, "GET", f"/requests{query}").json["requests"]


def test_the_journal_records_request_and_response_headers_with_credentials_redacted(client):
    client.set_cookie("oauth_sandbox_session", "S3CRET-COOKIE")
    client.get("/api/userinfo.php", headers={"Authorization": "Bearer S3CRET-BEARER", "X-Api-Key": "S3CRET-KEY",
                                             "X-Request-Id": "trace-42", "Referer": "http://app.test/?code=S3CRET-CODE"})
    entry = entries(client, "?path=/api/userinfo.php")[0]
    sent, answered = entry["request_headers"], entry["response_headers"]
    assert sent["Authorization"] == "Bearer [REDACTED]" and sent["Cookie"] == "[REDACTED]"
    assert sent["X-Api-Key"] == "[REDACTED]" and sent["X-Request-Id"] == "trace-42"
    assert sent["Referer"] == "http://app.test/?code=[REDACTED]"
    assert answered["Content-Type"] == "application/json" and answered["WWW-Authenticate"].startswith("Bearer")
    login(client)
    client.get(authorize_url())  # the consent page: its response sets the session cookie
    page = entries(client, "?path=/api/authorize.php")[0]
    assert page["response_headers"]["Set-Cookie"] == "[REDACTED]"
    code = obtain_code(client)  # approved: the redirect's Location carries the code
    location = entries(client, "?path=/api/authorize.php&method=POST")[0]["response_headers"]["Location"]
    assert location.startswith(PHP_REDIRECT_URI + "?code=[REDACTED]") and code not in location
    assert "S3CRET" not in json.dumps(entries(client))


def test_the_journal_records_each_dialects_challenge_as_sent_and_still_redacts_credentials_beside_it(client):
    fusio = client.post("/protected_endpoint", json={"title": "lorem ipsum"})
    mokapen = client.get("/api/v1/849/contacts", headers={"Authorization": "Bearer not-a-token",
                                                          "Accept": "application/json"})
    php = client.post("/api/token.php", headers={"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="},
                      data={"code": "x"})
    challenges = {entry["path"]: entry["response_headers"].get("WWW-Authenticate")
                  for entry in entries(client, "?status=401")}
    assert challenges["/protected_endpoint"] == fusio.headers["WWW-Authenticate"] == 'Bearer realm="Fusio"'
    assert challenges["/api/v1/849/contacts"] == mokapen.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in mokapen.headers["WWW-Authenticate"]
    sent = entries(client, "?path=/api/token.php")[0]["request_headers"]
    assert php.status_code == 401 and sent["Authorization"] == "Basic [REDACTED]"
    client.get("/api/userinfo.php", headers={"X-Note": 'Bearer bm9ib2R5Om5vdGhpbmc= realm="x"'})
    note = entries(client, "?path=/api/userinfo.php")[0]["request_headers"]["X-Note"]
    assert note == 'Bearer [REDACTED] realm="x"', note


def test_the_journal_names_the_user_of_every_dialects_login(client):
    client.post("/consumer/login", json={"username": "janedoe", "password": "demo-password"})
    client.post("/v1/oauth/?username=johndoe&password=demo-password")
    client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
                                      "client_secret": "mokapen-private-demo-secret", "scope": "tasks.read",
                                      "organization_id": "849"})
    login(client)
    client.get(authorize_url())
    users = {entry["path"]: entry["user"] for entry in entries(client)}
    assert users["/consumer/login"] == "janedoe" and users["/v1/oauth/"] == "johndoe"
    assert users["/api/authorize.php"] == "johndoe"  # the logged-in user who sees the consent page
    assert entries(client, "?path=/oauth/token")[0]["client_id"] == "mokapen-private-demo"


def test_journal_filters_and_count(client):
    client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
    client.get("/api/userinfo.php")
    client.post("/consumer/login", json={"username": "janedoe", "password": "demo-password"})
    client.post("/consumer/login", json={"username": "janedoe", "password": "wrong"})
    client.get("/v1/user/")
    started = time.time()
    client.get("/v1/user/")

    def count(query):
        response = admin(client, "GET", f"/requests/count?{query}")
        assert response.status_code == 200, response.json
        return response.json["count"]

    assert count("") == 6
    assert count("path_prefix=/api/") == 2 and count("path_prefix=/api/%25") == 0  # % is no wildcard
    assert {e["path"] for e in entries(client, "?path_prefix=/api/")} == {"/api/token.php", "/api/userinfo.php"}
    assert count("method=post") == 3 and count("method=GET&dialect=v1") == 2
    assert count("client_id=php-demo") == 1 and count("user=janedoe") == 2
    assert count("user=janedoe&status=200") == 1
    assert count(f"since={started}&path=/v1/user/") == 1
    assert [e["user"] for e in entries(client, "?user=janedoe&limit=1")] == ["janedoe"]
    for query, field in [("dialect=nope", "dialect"), ("status=abc", "status"),
                         ("status=99999999999999999999", "status"), ("since=nan", "since"), ("since=inf", "since")]:
        for path in ("/requests/count", "/requests"):
            response = admin(client, "GET", f"{path}?{query}")
            assert response.status_code == 400 and f"'{field}'" in response.json["message"], (path, query)
    for query in ("limit=0", "limit=1e308", "limit=99999999999999999999"):
        response = admin(client, "GET", f"/requests?{query}")
        assert response.status_code == 400 and "'limit'" in response.json["message"], query
    assert "mokapen" in admin(client, "GET", "/requests/count?dialect=nope").json["message"]  # the names it knows


# --- the README's requests, run as printed -----------------------------------------------------

def readme_commands():
    """(command, expected output or None) of the README's QA curl block; continuation lines joined."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- qa-curl:start -->")[1].split("<!-- qa-curl:end -->")[0]
    lines = re.search(r"```sh\n(.*?)```", block, re.S).group(1).replace("\\\n", " ").splitlines()
    commands = []
    for line in lines[1:]:  # the first sets SANDBOX and ADMIN_TOKEN, which the test sets
        if line.startswith("# → "):
            expected = line.removeprefix("# → ").split("…")[0].split(" (")[0].strip()
            commands[-1] = (commands[-1][0], expected)
        elif line.strip():
            commands.append((line, None))
    return commands


def test_the_readme_requests_work_as_printed(live_server):
    commands = readme_commands()
    assert len(commands) >= 15
    env = {**os.environ, "SANDBOX": live_server.url, "ADMIN_TOKEN": "test-admin-token"}
    for command, expected in commands:
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if expected is not None:
            assert expected in done.stdout, (command, done.stdout)


# --- the admin API in the OpenAPI document, fuzzed with the token -------------------------------

def test_the_admin_api_is_in_the_openapi_document_tagged_apart_and_on_the_docs_page(client):
    document = client.get("/openapi.json").json
    admin_operations = {(path, method) for path, methods in document["paths"].items()
                        for method, operation in methods.items() if operation["tags"] == ["sandbox admin"]}
    assert {("/_sandbox/faults", "post"), ("/_sandbox/requests/count", "get"), ("/_sandbox/clock", "post"),
            ("/metrics", "get")} <= admin_operations
    assert document["paths"]["/_sandbox/health"]["get"]["tags"] == ["sandbox health"]
    assert {"sandbox admin", "sandbox health", "php", "mokapen"} <= {tag["name"] for tag in document["tags"]}
    assert all(not path.startswith("/_sandbox/") for path, methods in document["paths"].items()
               for operation in methods.values() if operation["tags"][0] in ("php", "consumer", "v1", "mokapen"))
    page = client.get("/docs").text
    assert "/_sandbox/requests/count" in page and "sandbox admin" in page


def test_the_admin_api_answers_generated_input_without_a_5xx_in_its_documented_shape(app):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    admin_operations = [op for op in operations if op.path.startswith("/_sandbox/") and op.path != "/_sandbox/reset"]
    assert len(admin_operations) >= 15
    for operation in admin_operations:
        @given(operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.call_and_validate(headers=ADMIN, checks=[not_a_server_error, response_schema_conformance])

        fuzz()
