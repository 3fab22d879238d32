"""QA controls over HTTP: journal, reset and fixtures, clock, token expiry, faults, runtime changes, headless login."""
import json
import time

import pytest

from app import create_app
from helpers import PHP_CLIENT, PHP_REDIRECT_URI, authorize_url, csrf_token, login, obtain_code, obtain_token, query_of

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


def admin(client, method, path, payload=None):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# --- protection --------------------------------------------------------------------------------

def test_admin_api_needs_the_admin_token(client):
    assert client.get("/_sandbox/requests").status_code == 401
    response = client.get("/_sandbox/requests", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert admin(client, "GET", "/requests").status_code == 200


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "production"}])
def test_admin_api_and_console_are_off_without_a_token(client):
    response = client.get("/_sandbox/requests", headers=ADMIN)
    assert response.status_code == 404 and "SANDBOX_ADMIN_TOKEN" in response.json["message"]
    assert client.get("/console/").status_code == 404


def test_bad_admin_requests_say_what_is_wrong(client):
    for method, path, payload, words in [
        ("POST", "/clock", {"advance": "soon"}, "advance"),
        ("POST", "/clock", None, "JSON object"),
        ("POST", "/faults", {"path": "/api/token.php", "error": "nope"}, "invalid_client"),
        ("POST", "/faults", {"path": "/nowhere", "status": 500}, "not a dialect endpoint"),
        ("POST", "/faults", {"path": "/api/token.php", "status": 418}, "429, 500, 502, 503, 504"),
        ("PUT", "/rate-limits", {"PHP_TOKEN_RATE_LIMIT": "lots"}, "not a limit"),
        ("PUT", "/rate-limits", {"NOPE_RATE_LIMIT": "1 per minute"}, "Unknown limit"),
        ("PATCH", "/users/johndoe", {"email": "not-an-email"}, "not an email"),
        ("PATCH", "/clients/php-demo", {"status": "sleeping"}, "status"),
        ("POST", "/tokens/expire", {}, "token"),
    ]:
        response = admin(client, method, path, payload)
        assert response.status_code == 400 and words in response.json["message"], (path, response.json)


# --- journal -----------------------------------------------------------------------------------

def test_journal_records_a_body_without_secrets_as_sent_and_redacts_every_spelling_of_a_secret_name(client):
    # A body in which no name could be a secret's is recorded as it was sent; otherwise every field whose name reads
    # as a secret's (any case, around spaces, through an escape: "toKen" with a Kelvin sign) is redacted.
    spellings = {"/upper": "ACCESS_TOKEN", "/spaced": " code ", "/plus": "+token+", "/kelvin": "to\u212aen",
                 "/escaped": "pass%77ord"}
    bodies = {"/plain": {"greeting": "hello", "entries": [{"phone": "+44 20 7946 0018"}]},
              **{path: {name: f"secret-{index}", "kept": "v"} for index, (path, name) in enumerate(spellings.items())}}
    for path, response in bodies.items():
        created = admin(client, "POST", "/operations", {"method": "GET", "path": path, "public": True,
                                                        "response": response})
        assert created.status_code == 201, created.json
    sent = {path: client.get(path) for path in bodies}
    assert {response.status_code for response in sent.values()} == {200}
    entries = {entry["path"]: entry for entry in admin(client, "GET", "/requests?dialect=consumer").json["requests"]}
    assert entries["/plain"]["response_body"] == sent["/plain"].get_data(as_text=True).strip()
    for path, name in spellings.items():
        assert json.loads(entries[path]["response_body"]) == {name: "[REDACTED]", "kept": "v"}, path
    assert "secret-" not in json.dumps(entries)


def test_journal_records_dialect_requests_with_secrets_redacted(client):
    code = obtain_code(client)
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"]
    client.get("/api/userinfo.php", headers=bearer(token))
    client.post("/v1/oauth/?username=janedoe&password=demo-password")

    entries = admin(client, "GET", "/requests").json["requests"]
    userinfo, token_request = [e for e in entries if e["dialect"] == "php" and e["method"] != "GET" or
                               e["path"] == "/api/userinfo.php"][:2]
    assert (userinfo["path"], userinfo["status"], userinfo["client_id"], userinfo["user"]) == (
        "/api/userinfo.php", 200, "php-demo", "johndoe")
    assert json.loads(userinfo["response_body"])["email"] == "john@example.com"
    assert token_request["path"] == "/api/token.php" and token_request["client_id"] == "php-demo"
    assert json.loads(token_request["request_body"]) == {"code": "[REDACTED]", "client_id": "php-demo",
                                                         "client_secret": "[REDACTED]"}
    assert json.loads(token_request["response_body"])["access_token"] == "[REDACTED]"
    v1 = entries[0]
    assert v1["dialect"] == "v1" and "password=[REDACTED]" in v1["query"] and "demo-password" not in json.dumps(v1)
    everything = json.dumps(entries)
    for secret in (code, token, "php-demo-secret"):
        assert secret not in everything
    assert all(entry["latency_ms"] >= 0 for entry in entries)


def test_journal_names_the_client_and_user_of_bearer_requests_in_every_dialect(client):
    consumer = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic Y29uc3VtZXItZGVtbzpjb25zdW1lci1kZW1vLXNlY3JldA=="})
    client.post("/protected_endpoint", json={"title": "x"}, headers=bearer(consumer.json["access_token"]))
    entry = admin(client, "GET", "/requests?path=/protected_endpoint").json["requests"][0]
    assert (entry["dialect"], entry["client_id"], entry["user"], entry["status"]) == (
        "consumer", "consumer-demo", "johndoe", 200)


def test_journal_filters_and_clear(client):
    client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
    client.get("/v1/user/")
    client.get("/public_endpoint")
    assert {e["dialect"] for e in admin(client, "GET", "/requests?dialect=consumer").json["requests"]} == {"consumer"}
    assert [e["path"] for e in admin(client, "GET", "/requests?status=401").json["requests"]] == ["/v1/user/"]
    assert len(admin(client, "GET", "/requests?path=/api/token.php&client_id=php-demo").json["requests"]) == 1
    assert admin(client, "GET", f"/requests?since={time.time() + 60}").json["requests"] == []
    assert admin(client, "GET", "/requests?status=abc").status_code == 400
    admin(client, "DELETE", "/requests")
    assert admin(client, "GET", "/requests").json["requests"] == []


@pytest.mark.parametrize("app_config", [{"SANDBOX_ADMIN_TOKEN": "test-admin-token", "JOURNAL_MAX_ENTRIES": 150}])
def test_journal_is_bounded_and_survives_a_restart(client, app):
    for _ in range(300):
        client.get("/api/nothing")
    entries = admin(client, "GET", "/requests?limit=1000").json["requests"]
    assert len(entries) == 150
    restarted = create_app({**{k: app.config[k] for k in ("SANDBOX_PROFILE", "TESTING", "SECRET_KEY",
                                                              "SQLALCHEMY_DATABASE_URI", "SANDBOX_ADMIN_TOKEN")}})
    again = restarted.test_client().get("/_sandbox/requests?limit=1000", headers=ADMIN).json["requests"]
    assert [e["id"] for e in again] == [e["id"] for e in entries]


# --- reset and fixtures ------------------------------------------------------------------------

def test_reset_restores_the_demo_data_quickly(client):
    admin(client, "PATCH", "/users/johndoe", {"full_name": "Changed"})
    admin(client, "PATCH", "/clients/php-demo", {"status": "disabled"})
    response = admin(client, "POST", "/reset")
    assert response.status_code == 200 and response.json["fixtures"] == "demo"
    assert response.json["seconds"] < 1
    token = obtain_token(client)
    assert client.get("/api/userinfo.php", headers=bearer(token)).json["full_name"] == "John Doe"


FIXTURES = {
    "users": [{"username": "qa-user", "email": "qa@example.com", "full_name": "QA User", "password": "qa-password",
               "consumer_role": "Tester"}],
    "roles": [{"name": "Tester", "scopes": ["authorization", "protected"]}],
    "organizations": [{"id": 7, "name": "QA Org", "members": [{"username": "qa-user", "role": "owner"}]}],
    "clients": [{"dialect": "php", "client_id": "qa-php", "client_secret": "qa-secret",
                 "redirect_uris": ["https://qa.example/cb"]},
                {"dialect": "mokapen", "client_id": "qa-private", "client_secret": "qa-secret", "kind": "private",
                 "organization": 7, "dedicated_user": "qa-user", "scopes": ["tasks.read"]}],
    "operations": [{"method": "POST", "path": "/protected_endpoint", "scope": "protected",
                    "response": {"fixture": True}}],
}


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_reset_loads_a_fixtures_file(client, app, tmp_path, suffix):
    import yaml

    path = tmp_path / f"fixtures{suffix}"
    path.write_text(json.dumps(FIXTURES) if suffix == ".json" else yaml.safe_dump(FIXTURES))
    app.config["SANDBOX_FIXTURES"] = str(path)
    assert admin(client, "POST", "/reset").status_code == 200
    assert login(client, "johndoe").status_code == 200  # demo users are gone
    login_response = client.post("/consumer/login", json={"username": "qa-user", "password": "qa-password"})
    assert login_response.json["scope"] == "authorization,protected"
    assert client.post("/protected_endpoint", json={}, headers=bearer(login_response.json["token"])).json == {
        "fixture": True}
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "qa-private",
                                              "client_secret": "qa-secret", "organization_id": "7"})
    assert token.status_code == 200 and token.json["organization_name"] == "QA Org"


@pytest.mark.parametrize("broken, message", [
    ({"users": [{"username": "x"}]}, "users[0].email: required"),
    ({"clients": [{"dialect": "php", "client_id": "a", "client_secret": "b", "owner": "ghost"}]}, "no user 'ghost'"),
    ({"users": [{"username": "x", "email": "x@e", "password": 5}]}, "users[0].password: must be a str"),
    ({"pets": []}, "unknown section(s): pets"),
])
def test_a_bad_fixtures_file_is_refused_naming_the_entry_and_nothing_is_lost(client, app, tmp_path, broken, message):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    app.config["SANDBOX_FIXTURES"] = str(path)
    response = admin(client, "POST", "/reset")
    assert response.status_code == 400 and message in response.json["message"]
    assert login(client).status_code == 302  # johndoe is still there


# --- clock and token expiry --------------------------------------------------------------------

def test_clock_moves_expire_codes_and_tokens(client):
    now = admin(client, "GET", "/clock").json["now"]
    code = obtain_code(client)
    assert admin(client, "POST", "/clock", {"advance": 601}).json["offset"] == 601
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["error"] == "invalid_code"
    assert abs(admin(client, "POST", "/clock", {"set": now + 7200}).json["now"] - (now + 7200)) <= 1
    assert admin(client, "POST", "/clock", {"reset": True}).json["offset"] == 0


@pytest.mark.parametrize("selector", ["token", "client_id", "username"])
def test_expire_a_token_a_clients_or_a_users_tokens_now(client, selector):
    token = obtain_token(client)
    payload = {"token": token, "client_id": "php-demo", "username": "johndoe"}[selector]
    response = admin(client, "POST", "/tokens/expire", {selector: payload})
    assert response.json["expired"] >= 1
    assert client.get("/api/userinfo.php", headers=bearer(token)).status_code == 401


# --- faults ------------------------------------------------------------------------------------

def test_next_n_requests_answer_a_documented_error(client):
    admin(client, "POST", "/faults", {"path": "/api/token.php", "error": "invalid_client", "count": 2})
    code = obtain_code(client)
    for _ in range(2):
        response = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
        assert response.status_code == 401 and response.json == {
            "error": "invalid_client", "error_description": "Client authentication failed"}
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).status_code == 200
    assert admin(client, "GET", "/faults").json["faults"][0]["remaining"] == 0


@pytest.mark.parametrize("path, method, status, check", [
    ("/api/userinfo.php", "GET", 429, lambda r: r.json["error"] == "rate_limit_exceeded"),
    ("/v1/oauth/", "POST", 503, lambda r: r.json["success"] is False),
    ("/protected_endpoint", "POST", 500, lambda r: r.json["title"] == "Internal Server Error"),
    ("/oauth/token", "POST", 429, lambda r: r.json["error"] == "rate_limit_exceeded"),
])
def test_injected_statuses_come_in_the_dialects_shape(client, path, method, status, check):
    admin(client, "POST", "/faults", {"path": path, "status": status, "retry_after": 12})
    response = client.open(path, method=method)
    assert response.status_code == status and check(response)
    if status in (429, 503):
        assert response.headers["Retry-After"] == "12"


def test_documented_errors_of_other_dialects_and_latency(client):
    admin(client, "POST", "/faults", {"path": "/v1/user/", "error": "session_deauthorized"})
    response = client.get("/v1/user/")
    assert response.status_code == 401 and response.json["errors"]["token"]["code"] == 2005
    admin(client, "POST", "/faults", {"path": "/authorization/token", "error": "invalid_grant_type"})
    assert client.post("/authorization/token").json == {"error": "server_error",
                                                       "error_description": "Provided an invalid grant type"}
    admin(client, "POST", "/faults", {"path": "/public_endpoint", "latency_ms": 300})
    started = time.perf_counter()
    assert client.get("/public_endpoint").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_a_share_of_requests_and_clearing(client):
    admin(client, "POST", "/faults", {"path": "/public_endpoint", "status": 503, "rate": 1.0})
    assert [client.get("/public_endpoint").status_code for _ in range(3)] == [503] * 3
    admin(client, "DELETE", "/faults")
    assert client.get("/public_endpoint").status_code == 200


# --- runtime changes and headless login --------------------------------------------------------

def test_rate_limits_change_at_once(client):
    admin(client, "PUT", "/rate-limits", {"PHP_USERINFO_RATE_LIMIT": "2 per minute"})
    statuses = [client.get("/api/userinfo.php").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert admin(client, "GET", "/rate-limits").json["PHP_USERINFO_RATE_LIMIT"] == "2 per minute"


def test_user_attributes_role_scopes_and_app_status_change_at_once(client):
    token = obtain_token(client)
    admin(client, "PATCH", "/users/johndoe", {"email": "john.doe@example.org", "full_name": "Johnny"})
    assert client.get("/api/userinfo.php", headers=bearer(token)).json == {
        "username": "johndoe", "email": "john.doe@example.org", "full_name": "Johnny"}

    admin(client, "PUT", "/roles/Consumer", {"scopes": ["authorization", "extra"]})
    body = client.post("/consumer/login", json={"username": "janedoe", "password": "demo-password"}).json
    assert body["scope"] == "authorization,extra"

    mokapen = client.post("/oauth/token", data={"grant_type": "client_credentials", "organization_id": "849",
                                                "client_id": "mokapen-private-demo",
                                                "client_secret": "mokapen-private-demo-secret"}).json
    admin(client, "PATCH", "/clients/mokapen-private-demo", {"status": "disabled"})
    response = client.get("/api/v1/849/contacts", headers={**bearer(mokapen["access_token"]),
                                                            "Accept": "application/json"})
    assert response.status_code == 401


def test_headless_login_approves_without_the_pages(client):
    assert admin(client, "PATCH", "/clients/php-demo", {"headless_user": "janedoe"}).json["headless_user"] == "janedoe"
    response = client.get(authorize_url())  # no login, no consent
    assert response.status_code == 302 and response.headers["Location"].startswith(PHP_REDIRECT_URI)
    code = query_of(response.headers["Location"])["code"]
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"]
    assert client.get("/api/userinfo.php", headers=bearer(token)).json["username"] == "janedoe"


def test_headless_login_for_mokapen_picks_the_organization(client):
    admin(client, "PATCH", "/clients/mokapen-public-demo", {"headless_user": "janedoe"})
    response = client.get("/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/callback"
                          "&response_type=code&scope=tasks.read&state=0123456789abcdef&organization_id=850")
    code = query_of(response.headers["Location"])["code"]
    token = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "client_id": "mokapen-public-demo",
                                              "client_secret": "mokapen-public-demo-secret",
                                              "redirect_uri": "https://example.com/callback"}).json
    assert token["organization_id"] == 850


# --- console -----------------------------------------------------------------------------------

def test_console_needs_the_token_and_shows_and_changes_state(client):
    assert client.get("/console/").headers["Location"].endswith("/console/login")
    page = client.get("/console/login")
    wrong = client.post("/console/login", data={"csrf_token": csrf_token(page.text), "token": "nope"})
    assert "not the admin token" in wrong.text
    client.post("/console/login", data={"csrf_token": csrf_token(page.text), "token": "test-admin-token"})
    client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
    console = client.get("/console/")
    assert "/api/token.php" in console.text and "Request journal" in console.text

    client.post("/console/add-fault", data={"csrf_token": csrf_token(console.text), "path": "/api/userinfo.php",
                                            "status": "503", "count": "1"})
    assert client.get("/api/userinfo.php").status_code == 503
    client.post("/console/clock", data={"csrf_token": csrf_token(console.text), "advance": "120"})
    assert admin(client, "GET", "/clock").json["offset"] == 120
    admin(client, "PATCH", "/users/johndoe", {"full_name": "Kept"})
    forged = client.post("/console/reset", data={})  # without the CSRF token: refused, nothing reset
    assert forged.status_code == 400 and "Form expired or forged" in forged.text
    token = obtain_token(client)
    assert client.get("/api/userinfo.php", headers=bearer(token)).json["full_name"] == "Kept"
