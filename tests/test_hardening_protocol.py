"""Hardening, protocol details: no-store on every token endpoint's errors, WWW-Authenticate on every 401 and on
mokapen's insufficient_scope, ambiguous token requests refused, and a replayed mokapen refresh token revoking what was
issued from it."""
import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from helpers import PHP_CLIENT, csrf_token, login, obtain_code

TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PUBLIC = {"client_id": "mokapen-public-demo", "client_secret": "mokapen-public-demo-secret"}
PRIVATE = {"client_id": "mokapen-private-demo", "client_secret": "mokapen-private-demo-secret"}
REDIRECT = "https://example.com/callback"


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


def basic(user, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def mokapen_code(client):
    login(client)
    url = ("/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/callback"
           "&response_type=code&scope=tasks.read%20tasks.write&state=0123456789abcdef")
    page = client.get(url)
    response = client.post(url, data={"csrf_token": csrf_token(page.text), "approve": "Approve",
                                      "organization_id": "849"})
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def mokapen_pair(client):
    response = client.post("/oauth/token", data={"grant_type": "authorization_code", **PUBLIC,
                                                  "code": mokapen_code(client), "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    return response.json


def mokapen_refresh(client, refresh_token):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", **PUBLIC, "refresh_token": refresh_token})


def tasks(client, access_token):
    return client.get("/api/v1/849/tasks", headers={"Authorization": f"Bearer {access_token}",
                                                    "Accept": "application/json"})


def private_token(client, scope):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", **PRIVATE, "scope": scope,
                                                 "organization_id": "849"})
    assert response.status_code == 200, response.text
    return response.json["access_token"]


# --- Cache-Control: no-store on every answer of a token endpoint ----------------------------------------

TOKEN_ERRORS = [
    ("/api/token.php", {"data": {"code": "nope", **PHP_CLIENT}}, 400),
    ("/api/token.php", {"data": {"code": "nope", "client_id": "php-demo", "client_secret": "wrong"}}, 401),
    ("/api/token.php", {"data": {}}, 400),
    ("/oauth/token", {"data": {"grant_type": "refresh_token", **PUBLIC, "refresh_token": "nope"}}, 400),
    ("/oauth/token", {"data": {"grant_type": "password", **PUBLIC}}, 400),
    ("/authorization/token", {"data": {"grant_type": "client_credentials"}}, 400),
    ("/authorization/token", {"data": {"grant_type": "client_credentials"}, "headers": basic("nobody", "x")}, 401),
    ("/consumer/login", {"json": {"username": "johndoe", "password": "wrong"}}, 400),
    ("/v1/oauth/?username=johndoe&password=wrong", {}, 401),
    ("/v1/oauth/", {}, 400),
]


def test_token_endpoint_errors_are_not_stored(client):
    for path, request_options, status in TOKEN_ERRORS:
        response = client.post(path, **request_options)
        assert response.status_code == status, (path, response.text)
        assert response.headers.get("Cache-Control") == "no-store", (path, dict(response.headers))
    refresh = client.put("/consumer/login", json={"refresh_token": "nope"})
    assert refresh.status_code == 400 and refresh.headers["Cache-Control"] == "no-store"


def test_rate_limited_and_injected_token_errors_are_not_stored(client):
    for path, setting in [("/api/token.php", "PHP_TOKEN_RATE_LIMIT"), ("/oauth/token", "MOKAPEN_TOKEN_RATE_LIMIT"),
                          ("/v1/oauth/", "V1_TOKEN_RATE_LIMIT"), ("/authorization/token", "CONSUMER_RATE_LIMIT")]:
        client.put("/_sandbox/rate-limits", json={setting: "1 per minute"}, headers=ADMIN)
        client.post(path)
        limited = client.post(path)
        assert limited.status_code == 429 and limited.headers.get("Cache-Control") == "no-store", path
        client.put("/_sandbox/rate-limits", json={setting: None}, headers=ADMIN)
        client.post("/_sandbox/faults", json={"path": path, "status": 503}, headers=ADMIN)
        injected = client.post(path)
        assert injected.status_code == 503 and injected.headers.get("Cache-Control") == "no-store", path


def test_successes_stay_no_store_and_other_responses_are_untouched(client):
    code = obtain_code(client)
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).headers["Cache-Control"] == "no-store"
    assert client.post("/v1/oauth/?username=johndoe&password=demo-password").headers["Cache-Control"] == "no-store"
    login_ = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"})
    assert login_.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in client.get("/.well-known/jwks.json").headers


# --- WWW-Authenticate -------------------------------------------------------------------------------

def test_mokapens_insufficient_scope_says_so_in_www_authenticate(client):
    token = private_token(client, "tasks.read")
    response = client.get("/api/v1/849/contacts", headers={"Authorization": f"Bearer {token}",
                                                           "Accept": "application/json"})
    assert response.status_code == 403 and response.json["error"] == "insufficient_scope"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    client.post("/_sandbox/faults", json={"path": "/api/v1/849/tasks", "error": "insufficient_scope"}, headers=ADMIN)
    injected = tasks(client, token)
    assert injected.status_code == 403 and injected.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'


REAL_401S = [
    ("POST", "/v1/oauth/?username=johndoe&password=wrong", {}),
    ("POST", "/v1/oauth/?username=nobody&password=wrong", {}),
    ("GET", "/v1/user/", {}),
    ("GET", "/v1/user/", {"headers": {"Authorization": "Bearer nope"}}),
    ("DELETE", "/v1/sessions/1/", {}),
    ("GET", "/api/userinfo.php", {"headers": {"Authorization": "Bearer nope"}}),
    ("POST", "/api/token.php", {"data": {"code": "x", "client_id": "php-demo", "client_secret": "wrong"}}),
    ("POST", "/oauth/token", {"data": {"grant_type": "client_credentials", **PRIVATE, "client_secret": "wrong",
                                       "organization_id": "849"}}),
    ("POST", "/oauth/token", {"data": {"grant_type": "client_credentials", "organization_id": "849"},
                              "headers": basic("mokapen-private-demo", "wrong")}),
    ("POST", "/oauth/revoke", {"data": {"token": "x"}, "headers": basic("mokapen-private-demo", "wrong")}),
    ("GET", "/api/v1/849/tasks", {"headers": {"Accept": "application/json"}}),
    ("GET", "/api/v1/849/tasks", {"headers": {"Accept": "application/json", "Authorization": "Bearer nope"}}),
    ("POST", "/protected_endpoint", {"json": {}}),
    ("POST", "/protected_endpoint", {"json": {}, "headers": {"Authorization": "Bearer nope"}}),
    ("POST", "/authorization/token", {"data": {"grant_type": "client_credentials"}, "headers": basic("no", "x")}),
    ("GET", "/_sandbox/requests", {}),
]


def test_every_401_says_how_to_authenticate(client):
    for method, path, request_options in REAL_401S:
        response = client.open(path, method=method, **request_options)
        assert response.status_code == 401, (path, response.text)
        assert response.headers.get("WWW-Authenticate"), (path, dict(response.headers))


def test_every_documented_401_injected_as_a_fault_says_how_to_authenticate(client):
    for path in ["/api/token.php", "/oauth/token", "/api/v1/849/tasks", "/v1/user/", "/v1/oauth/",
                 "/authorization/token", "/consumer/login"]:
        documented = client.post("/_sandbox/faults", json={"path": path, "error": "?"}, headers=ADMIN).json["message"]
        seen = 0
        for name in documented.split(": ", 1)[1].split(", "):
            client.delete("/_sandbox/faults", headers=ADMIN)
            client.post("/_sandbox/faults", json={"path": path, "error": name}, headers=ADMIN)
            response = client.open(path, method="GET" if path in ("/api/v1/849/tasks", "/v1/user/") else "POST")
            if response.status_code == 401:
                seen += 1
                assert response.headers.get("WWW-Authenticate"), (path, name, dict(response.headers))
        assert seen, path
    client.delete("/_sandbox/faults", headers=ADMIN)


# --- ambiguous token requests -----------------------------------------------------------------------

PHP_BASIC = basic("php-demo", "php-demo-secret")


AMBIGUOUS_PHP_REQUESTS = [
    {"data": {"code": "CODE", **PHP_CLIENT}, "headers": PHP_BASIC},  # Basic and client_secret
    {"json": {"code": "CODE", **PHP_CLIENT}, "headers": PHP_BASIC},  # the same, in JSON
    {"data": "code=CODE&client_id=php-demo&client_secret=php-demo-secret&code=CODE",
     "content_type": "application/x-www-form-urlencoded"},  # a parameter twice
    {"data": "grant_type=authorization_code&code=CODE&client_id=php-demo&client_secret=php-demo-secret"
             "&grant_type=authorization_code", "content_type": "application/x-www-form-urlencoded"},
    {"query_string": "client_id=php-demo", "data": {"code": "CODE", **PHP_CLIENT}},  # in the query and the body
    {"query_string": "grant_type=refresh_token", "json": {"code": "CODE", **PHP_CLIENT}},
]


def test_php_refuses_a_request_that_authenticates_twice_or_repeats_a_parameter(client):
    code = obtain_code(client)
    for request_options in AMBIGUOUS_PHP_REQUESTS:
        if isinstance(request_options.get("data"), str):
            request_options = {**request_options, "data": request_options["data"].replace("CODE", code)}
        else:
            key = "json" if "json" in request_options else "data"
            request_options = {**request_options, key: {**request_options[key], "code": code}}
        response = client.post("/api/token.php", **request_options)
        assert response.status_code == 400, (request_options, response.text)
        assert response.json["error"] == "invalid_request" and response.headers["Cache-Control"] == "no-store"
    # the code was not spent: the same exchange, unambiguous, works
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).status_code == 200


def test_php_still_takes_either_way_of_authenticating(client):
    assert client.post("/api/token.php", data={"code": obtain_code(client)}, headers=PHP_BASIC).status_code == 200
    assert client.post("/api/token.php", data={"code": obtain_code(client), **PHP_CLIENT}).status_code == 200
    empty_repeat = client.post("/api/token.php", content_type="application/x-www-form-urlencoded",
                               data=f"code={obtain_code(client)}&client_id=php-demo&client_secret=php-demo-secret"
                                    "&redirect_uri=&redirect_uri=")  # without a value: omitted (RFC 6749 §3.2)
    assert empty_repeat.status_code == 200, empty_repeat.text


MOKAPEN_BASIC = basic("mokapen-private-demo", "mokapen-private-demo-secret")
GRANT = "grant_type=client_credentials&organization_id=849&scope=tasks.read"


AMBIGUOUS_MOKAPEN_REQUESTS = [
    ("", GRANT + "&client_secret=mokapen-private-demo-secret&token=x", MOKAPEN_BASIC),
    ("", GRANT + "&client_id=mokapen-private-demo&client_secret=mokapen-private-demo-secret&token=x&token=y", {}),
    ("grant_type=authorization_code", GRANT + "&client_id=mokapen-private-demo"
                                              "&client_secret=mokapen-private-demo-secret&token=x", {}),
    ("client_secret=mokapen-private-demo-secret", GRANT + "&client_id=mokapen-private-demo"
                                                          "&client_secret=mokapen-private-demo-secret&token=x", {}),
]


def test_mokapen_refuses_a_request_that_authenticates_twice_or_repeats_a_parameter(client):
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]:
        for query, body, headers in AMBIGUOUS_MOKAPEN_REQUESTS:
            response = client.post(f"{path}?{query}" if query else path, data=body, headers=headers,
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code == 400, (path, query, body, response.text)
            assert response.json["error"] == "invalid_request", response.json


def test_mokapen_still_answers_unambiguous_requests(client):
    form = {"grant_type": "client_credentials", "organization_id": "849", "scope": "tasks.read"}
    assert client.post("/oauth/token", data=form, headers=MOKAPEN_BASIC).status_code == 200
    token = client.post("/oauth/token", data={**form, **PRIVATE}).json["access_token"]
    introspected = client.post("/oauth/introspect", data={"token": token}, headers=MOKAPEN_BASIC)
    assert introspected.status_code == 200 and introspected.json["active"] is True
    assert client.post("/oauth/revoke", data={"token": token, **PRIVATE}).status_code == 200


def test_fusio_refuses_a_request_that_authenticates_twice_or_repeats_a_parameter(client):
    app_basic = basic("consumer-demo", "consumer-demo-secret")
    for query, body in [("", "grant_type=client_credentials&client_secret=consumer-demo-secret"),
                        ("", "grant_type=client_credentials&grant_type=refresh_token"),
                        ("grant_type=refresh_token", "grant_type=client_credentials")]:
        response = client.post(f"/authorization/token?{query}" if query else "/authorization/token", data=body,
                               headers=app_basic, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400, (query, body, response.text)
        assert response.json["error"] == "invalid_request" and set(response.json) == {"error", "error_description"}
    fine = client.post("/authorization/token", data={"grant_type": "client_credentials"}, headers=app_basic)
    assert fine.status_code == 200


# --- a replayed mokapen refresh token --------------------------------------------------------------------

def test_replaying_a_rotated_mokapen_refresh_token_revokes_its_successors(client):
    first = mokapen_pair(client)
    second = mokapen_refresh(client, first["refresh_token"]).json
    third = mokapen_refresh(client, second["refresh_token"]).json
    assert tasks(client, third["access_token"]).status_code == 200

    replay = mokapen_refresh(client, first["refresh_token"])  # leaked, and used by someone after its rotation
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    assert tasks(client, third["access_token"]).status_code == 401  # what was issued from it, down the line
    assert mokapen_refresh(client, third["refresh_token"]).json["error"] == "invalid_grant"
    introspected = client.post("/oauth/introspect", data={"token": third["access_token"], **PUBLIC})
    assert introspected.json == {"active": False}


def test_a_mokapen_refresh_family_is_revoked_alone(client):
    """Another family of the same user and client, and a token refreshed once and not replayed, keep working."""
    replayed, untouched = mokapen_pair(client), mokapen_pair(client)
    successor = mokapen_refresh(client, replayed["refresh_token"]).json
    kept = mokapen_refresh(client, untouched["refresh_token"]).json
    mokapen_refresh(client, replayed["refresh_token"])
    assert tasks(client, successor["access_token"]).status_code == 401
    assert tasks(client, kept["access_token"]).status_code == 200
    assert mokapen_refresh(client, kept["refresh_token"]).status_code == 200


def test_fusio_keeps_its_own_refresh_behaviour(client):
    """Fusio refuses a used refresh token and leaves its successor working (as Fusio does)."""
    first = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json
    second = client.put("/consumer/login", json={"refresh_token": first["refresh_token"]}).json
    replay = client.put("/consumer/login", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 400 and replay.json["message"] == "Invalid refresh token"
    assert client.post("/protected_endpoint", json={},
                       headers={"Authorization": f"Bearer {second['token']}"}).status_code == 200
