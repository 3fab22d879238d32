"""The fast lane answers plain bearer reads and the JWKS exactly as the Flask routes do, and hands on the rest.

Each request is sent twice: through the app as a client reaches it (the lane in front), and to Flask directly.
Status, body and headers must match; the limit counter must be the same one (the second answer has one request
fewer remaining); and both must be journaled alike.
"""
import jwt
import pytest
from werkzeug.test import Client

from helpers import PHP_CLIENT, obtain_code
from oauth_sandbox.extensions import db
from oauth_sandbox.fastlane import FastLane
from oauth_sandbox.models import Token
from oauth_sandbox.qa.journal import query_entries

ADMIN = {"Authorization": "Bearer test-admin-token"}
MOKAPEN_CC = {"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
              "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}
VARYING = {"X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Remaining"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


@pytest.fixture
def api(app):
    """A client without cookies, as an API client is (a session cookie sends a request to Flask)."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def lane(app):
    assert isinstance(app.wsgi_app, FastLane)
    return app.wsgi_app


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


def live_tokens(app, client):
    """A token of each dialect, used once (its use recorded, as a first request through Flask does)."""
    code = obtain_code(client)
    api = app.test_client(use_cookies=False)
    tokens = {
        "php": api.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"],
        "v1": api.post("/v1/oauth/?username=johndoe&password=demo-password").json["data"]["access_token"],
        "consumer": api.post("/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                             data={"grant_type": "client_credentials"}).json["access_token"],
        "mokapen": api.post("/oauth/token", data=MOKAPEN_CC).json["access_token"],
    }
    for path, token in (("/api/userinfo.php", tokens["php"]), ("/v1/user/", tokens["v1"]),
                        ("/api/v1/849/contacts", tokens["mokapen"])):
        assert api.get(path, headers=bearer(token, Accept="application/json")).status_code == 200
    return tokens


def requests_of(tokens):
    """(method, path, headers, body) of each request shape the lane answers."""
    json_body = {"Content-Type": "application/json"}
    return [
        ("GET", "/api/userinfo.php", bearer(tokens["php"]), None),
        ("GET", "/v1/user/", bearer(tokens["v1"]), None),
        ("POST", "/protected_endpoint", bearer(tokens["consumer"], **json_body), b'{"title": "lorem ipsum"}'),
        ("POST", "/protected_endpoint", bearer(tokens["consumer"]), None),
        ("GET", "/api/v1/849/contacts", bearer(tokens["mokapen"], Accept="application/json"), None),
        ("GET", "/api/v1/849/tasks?page=2", bearer(tokens["mokapen"], Accept="*/*"), None),
        ("GET", "/oauth/jwks", {}, None),
        ("GET", "/.well-known/jwks.json", {}, None),
    ]


def comparable(response):
    headers = sorted((name, value) for name, value in response.headers.items() if name not in VARYING)
    return response.status_code, headers, response.data


def remaining(response):
    return response.headers.get("X-RateLimit-Remaining") or response.headers.get("RateLimit-Remaining")


def journal_fields(entry):
    return {name: getattr(entry, name) for name in ("dialect", "method", "path", "query", "status", "client_id",
                                                    "username", "request_body", "response_body")}


def test_the_lane_answers_as_flask_does_counts_the_same_limit_and_journals_alike(app, client, lane):
    tokens = live_tokens(app, client)
    through_lane = app.test_client(use_cookies=False)
    flask_only = Client(lane.flask)
    for method, path, headers, body in requests_of(tokens):
        answered = lane.answered
        fast = through_lane.open(path, method=method, headers=headers, data=body)
        assert lane.answered == answered + 1, f"the lane did not answer {method} {path}"
        slow = flask_only.open(path, method=method, headers=headers, data=body)
        assert lane.answered == answered + 1
        again = through_lane.open(path, method=method, headers=headers, data=body)
        assert fast.status_code == 200, fast.text
        assert comparable(fast) == comparable(slow) == comparable(again), path
        if remaining(fast) is not None:  # one counter: each answer has one request fewer left
            assert [int(remaining(r)) for r in (fast, slow, again)] == [int(remaining(fast)) - n for n in range(3)]
        with app.test_request_context():
            entries = query_entries(limit=3)
            assert [journal_fields(e) for e in entries[1:]] == [journal_fields(entries[0])] * 2, path


def issued_alike(fast, slow):
    """Two token responses alike but for the tokens themselves and when they were made."""
    assert fast.status_code == slow.status_code == 200, fast.text
    assert sorted(fast.headers.keys()) == sorted(slow.headers.keys())
    assert list(fast.json) == list(slow.json)
    fixed = {name: value for name, value in fast.json.items() if "token" not in name}
    assert fixed == {name: value for name, value in slow.json.items() if "token" not in name}
    claims = [jwt.decode(r.json["access_token"], options={"verify_signature": False}) for r in (fast, slow)]
    made = ("iat", "nbf", "exp", "jti")
    assert [{k: v for k, v in c.items() if k not in made} for c in claims] == [
        {k: v for k, v in claims[0].items() if k not in made}] * 2
    assert [jwt.get_unverified_header(r.json["access_token"]) for r in (fast, slow)] == [
        jwt.get_unverified_header(slow.json["access_token"])] * 2
    assert [c["exp"] - c["iat"] for c in claims] == [claims[0]["exp"] - claims[0]["iat"]] * 2


@pytest.mark.parametrize("body", ["grant_type=client_credentials",
                                  "grant_type=client_credentials&scope=protected,nonexistent"])
def test_the_lane_issues_client_credentials_tokens_as_flask_does(app, lane, body):
    through_lane = app.test_client(use_cookies=False)
    flask_only = Client(lane.flask)
    request = {"method": "POST", "auth": ("consumer-demo", "consumer-demo-secret"), "data": body,
               "content_type": "application/x-www-form-urlencoded"}
    answered = lane.answered
    fast = through_lane.open("/authorization/token", **request)
    assert lane.answered == answered + 1
    slow = flask_only.open("/authorization/token", **request)
    issued_alike(fast, slow)
    assert int(slow.headers["RateLimit-Remaining"]) == int(fast.headers["RateLimit-Remaining"]) - 1
    with app.test_request_context():
        newest, before = query_entries(limit=2)
        assert journal_fields(before) == journal_fields(newest)
        assert newest.client_id == "consumer-demo" and "[REDACTED]" in newest.response_body
    # The lane's token is stored as Flask's is: it works (checked by Flask), and refreshes.
    for response in (fast, slow):
        assert flask_only.post("/protected_endpoint", headers=bearer(response.json["access_token"])).status_code == 200
        refreshed = flask_only.post("/authorization/token", auth=request["auth"], data={
            "grant_type": "refresh_token", "refresh_token": response.json["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize("body", [MOKAPEN_CC, {**MOKAPEN_CC, "scope": "contacts.read"}])
def test_the_lane_issues_mokapen_client_credentials_tokens_as_authlib_does(app, lane, body):
    through_lane = app.test_client(use_cookies=False)
    flask_only = Client(lane.flask)
    answered = lane.answered
    fast = through_lane.post("/oauth/token", data=body)
    assert lane.answered == answered + 1
    slow = flask_only.post("/oauth/token", data=body)
    issued_alike(fast, slow)
    assert fast.data.startswith(b'{"token_type": "Bearer", "expires_in": 31536000, "access_token": "eyJ0eXAi')
    assert int(slow.headers["X-RateLimit-Remaining"]) == int(fast.headers["X-RateLimit-Remaining"]) - 1
    with app.test_request_context():
        newest, before = query_entries(limit=2)
        assert journal_fields(before) == journal_fields(newest)
    for response in (fast, slow):
        listed = flask_only.get("/api/v1/849/contacts", headers=bearer(response.json["access_token"],
                                                                       Accept="application/json"))
        assert listed.status_code == 200
        introspected = flask_only.post("/oauth/introspect", data={"token": response.json["access_token"], **{
            k: MOKAPEN_CC[k] for k in ("client_id", "client_secret")}}).json
        assert introspected["active"] and introspected["scope"] == body.get("scope", introspected["scope"])


def test_what_the_lane_does_not_answer_goes_to_flask(app, client, api, lane):
    tokens = live_tokens(app, client)
    php = bearer(tokens["php"])
    cases = [
        ("GET", "/api/userinfo.php", {}, 400),  # no token: php's documented error
        ("GET", "/api/userinfo.php", bearer("php_at_unknown"), 401),
        ("GET", "/api/userinfo.php", bearer(tokens["v1"]), 401),  # another dialect's token
        ("GET", "/api/userinfo.php", {**php, "Origin": "https://app.example"}, 200),  # CORS is Flask's
        ("GET", "/api/userinfox.php", php, 404),
        ("GET", "/api/v1/850/contacts", bearer(tokens["mokapen"], Accept="application/json"), 403),
        ("GET", "/api/v1/849/contacts", bearer(tokens["mokapen"], Accept="text/html"), 406),
        ("GET", "/api/v1/849/contacts", bearer(tokens["mokapen"]), 406),  # no Accept header: as Flask judges it
        ("POST", "/protected_endpoint", bearer(tokens["php"]), 401),
        ("POST", "/protected_endpoint", bearer(tokens["consumer"], **{"Content-Type": "application/json"}), 400),
        ("POST", "/public_endpoint", bearer(tokens["consumer"]), 405),
        ("POST", "/api/token.php", bearer(tokens["consumer"]), 400),  # a route's path is never an operation's
        ("POST", "/authorization/token", {"Authorization": "Basic Y29uc3VtZXItZGVtbzp3cm9uZw=="}, 401),
        ("POST", "/authorization/token", {"Authorization": "Basic am9obmRvZTpkZW1vLXBhc3N3b3Jk"}, 200),  # a user
        ("POST", "/oauth/token", {}, 400),  # a wrong organization
        ("POST", "/oauth/token", {}, 401),  # a wrong secret
        ("POST", "/oauth/token", {}, 400),  # a scope the app has not enabled
    ]
    token_requests = iter([{**MOKAPEN_CC, "organization_id": "850"}, {**MOKAPEN_CC, "client_secret": "wrong"},
                           {**MOKAPEN_CC, "scope": "tasks.read nonexistent"}])
    for method, path, headers, status in cases:
        answered = lane.answered
        body = b"{not json" if status == 400 and "Content-Type" in headers else None
        if path == "/authorization/token":
            body = {"grant_type": "client_credentials"}
        if path == "/oauth/token":
            body = next(token_requests)
        response = api.open(path, method=method, headers=headers, data=body)
        assert response.status_code == status, (path, response.text)
        assert response.is_json, path
        assert lane.answered == answered, f"the lane answered {method} {path}"


def test_changes_made_elsewhere_apply_to_the_very_next_lane_request(app, client, api, lane):
    tokens = live_tokens(app, client)
    php = bearer(tokens["php"])
    admin = app.test_client(use_cookies=False)

    admin.patch("/_sandbox/users/johndoe", headers=ADMIN, json={"full_name": "Johnny"})
    assert api.get("/api/userinfo.php", headers=php).json["full_name"] == "Johnny"

    admin.put("/_sandbox/rate-limits", headers=ADMIN, json={"PHP_USERINFO_RATE_LIMIT": "3 per minute"})
    statuses = [api.get("/api/userinfo.php", headers=php).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # counted with the requests before it: one limit, one counter
    admin.put("/_sandbox/rate-limits", headers=ADMIN, json={"PHP_USERINFO_RATE_LIMIT": None})

    answered = lane.answered
    admin.post("/_sandbox/faults", headers=ADMIN, json={"path": "/v1/user/", "status": 503, "retry_after": 7})
    response = api.get("/v1/user/", headers=bearer(tokens["v1"]))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    admin.delete("/_sandbox/faults", headers=ADMIN)
    assert api.get("/v1/user/", headers=bearer(tokens["v1"])).status_code == 200
    assert lane.answered == answered + 1

    admin.patch("/_sandbox/clients/mokapen-private-demo", headers=ADMIN, json={"status": "disabled"})
    assert api.get("/api/v1/849/contacts", headers=bearer(tokens["mokapen"], Accept="application/json")
                   ).status_code == 401

    admin.post("/_sandbox/clock", headers=ADMIN, json={"advance": 3601})
    assert api.get("/api/userinfo.php", headers=php).json["error"] == "invalid_token"
    assert api.post("/protected_endpoint", headers=bearer(tokens["consumer"])).status_code == 401


def test_a_revoked_token_is_refused_at_once(app, client, api):
    tokens = live_tokens(app, client)
    headers = bearer(tokens["mokapen"], Accept="application/json")
    assert api.get("/api/v1/849/tasks", headers=headers).status_code == 200
    assert api.post("/oauth/revoke", data={"token": tokens["mokapen"], **{
        k: MOKAPEN_CC[k] for k in ("client_id", "client_secret")}}).status_code == 200
    assert api.get("/api/v1/849/tasks", headers=headers).status_code == 401


def test_a_tokens_use_is_still_recorded(app, client, api):
    """The lane never writes: a token whose last use is older than a minute goes to Flask, which records it."""
    tokens = live_tokens(app, client)
    with app.app_context():
        token = Token.by_access_token(tokens["v1"])
        token.last_used_at -= 120
        db.session.commit()
        stale = token.last_used_at
    assert api.get("/v1/user/", headers=bearer(tokens["v1"])).status_code == 200
    with app.app_context():
        assert Token.by_access_token(tokens["v1"]).last_used_at >= stale + 120


@pytest.mark.parametrize("app_config", [{"SANDBOX_ADMIN_TOKEN": "test-admin-token", "FAST_LANE_ENABLED": False}])
def test_the_lane_can_be_turned_off(app, client, api):
    assert not isinstance(app.wsgi_app, FastLane)
    tokens = live_tokens(app, client)
    assert api.get("/api/userinfo.php", headers=bearer(tokens["php"])).json["username"] == "johndoe"
