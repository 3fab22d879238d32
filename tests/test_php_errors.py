"""Every row of seed 002's error table, and every other failure, in the seed's JSON shape."""
import os
import sqlite3

import pytest
from sqlalchemy import text

from helpers import PHP_CLIENT, PHP_REDIRECT_URI, authorize_url, login, obtain_code, obtain_token, query_of
from oauth_sandbox.extensions import db
from oauth_sandbox.qa.journal import query_entries


def assert_php_error(response, status, error):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error", "error_description"}
    assert response.json["error"] == error and response.json["error_description"]


@pytest.mark.parametrize("missing", ["code", "client_id", "client_secret"])
def test_token_missing_parameter_is_invalid_request(client, missing):
    data = {"code": "anything", **PHP_CLIENT}
    del data[missing]
    response = client.post("/api/token.php", data=data)
    assert_php_error(response, 400, "invalid_request")
    assert missing in response.json["error_description"]


@pytest.mark.parametrize("credentials", [
    {"client_id": "php-demo", "client_secret": "wrong-secret"},
    {"client_id": "no-such-client", "client_secret": "php-demo-secret"},
])
def test_token_bad_client_is_invalid_client_401(client, credentials):
    code = obtain_code(client)
    response = client.post("/api/token.php", data={"code": code, **credentials})
    assert_php_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    # The code was not spent by the failed attempt.
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).status_code == 200


def test_token_unknown_code_is_invalid_code(client):
    assert_php_error(client.post("/api/token.php", data={"code": "made-up", **PHP_CLIENT}), 400, "invalid_code")


def test_token_redirect_uri_must_equal_the_authorize_one_when_sent(client):
    code = obtain_code(client)
    response = client.post("/api/token.php", data={"code": code, "redirect_uri": "http://localhost:8000/other",
                                                   **PHP_CLIENT})
    assert_php_error(response, 400, "invalid_code")


def test_token_other_grant_type_is_invalid_request(client):
    response = client.post("/api/token.php", data={"grant_type": "client_credentials", **PHP_CLIENT})
    assert_php_error(response, 400, "invalid_request")
    assert "authorization_code" in response.json["error_description"]


def test_token_malformed_json_body_is_invalid_request(client):
    response = client.post("/api/token.php", data='{"code": "x",', content_type="application/json")
    assert_php_error(response, 400, "invalid_request")
    assert "JSON" in response.json["error_description"]


def test_userinfo_without_token_is_invalid_request(client):
    response = client.get("/api/userinfo.php")
    assert_php_error(response, 400, "invalid_request")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Bearer php_at_forged"])
def test_userinfo_bad_token_is_invalid_token_401(client, authorization):
    response = client.get("/api/userinfo.php", headers={"Authorization": authorization})
    assert_php_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_userinfo_with_basic_credentials_is_invalid_request(client):
    response = client.get("/api/userinfo.php", headers={"Authorization": "Basic cGhwLWRlbW86eA=="})
    assert_php_error(response, 400, "invalid_request")


def test_authorize_unknown_client_is_400_and_never_redirects(client):
    login(client)
    response = client.get(authorize_url(client_id="nobody"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.mimetype == "text/html"
    response = client.get(authorize_url(client_id="nobody"), headers={"Accept": "application/json"})
    assert_php_error(response, 400, "invalid_client")


@pytest.mark.parametrize("redirect_uri", ["https://evil.example/callback", "http://localhost:8000/callback/extra",
                                          "https://example.com/callback?x=1", None])
def test_authorize_unregistered_or_missing_redirect_uri_is_400_and_never_redirects(client, redirect_uri):
    response = client.get(authorize_url(redirect_uri=redirect_uri), headers={"Accept": "application/json"})
    assert_php_error(response, 400, "invalid_request")
    assert "Location" not in response.headers


@pytest.mark.parametrize("response_type, error", [("token", "unsupported_response_type"),
                                                  (None, "invalid_request")])
def test_authorize_bad_response_type_redirects_with_error_and_state(client, response_type, error):
    response = client.get(authorize_url(response_type=response_type))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(PHP_REDIRECT_URI + "?")
    params = query_of(response.headers["Location"])
    assert (params["error"], params["state"]) == (error, "xyz")


@pytest.mark.parametrize("method, path", [("GET", "/api/nothing-here.php"), ("GET", "/api/"),
                                          ("DELETE", "/api/token.php"), ("GET", "/api/token.php"),
                                          ("POST", "/api/userinfo.php")])
def test_unknown_paths_and_wrong_methods_answer_json(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code in (404, 405)
    assert_php_error(response, response.status_code, "not_found" if response.status_code == 404
                     else "method_not_allowed")


def test_oversized_body_is_413_json(client, app):
    response = client.post("/api/token.php", data={"code": "x" * app.config["MAX_CONTENT_LENGTH"], **PHP_CLIENT})
    assert_php_error(response, 413, "request_too_large")


def test_server_error_is_500_json_without_details(client, app):
    token = obtain_token(client)
    with app.app_context():
        db.session.execute(text("DROP TABLE tokens"))
        db.session.commit()
    response = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert_php_error(response, 500, "server_error")
    assert "tokens" not in response.text and "Traceback" not in response.text


@pytest.mark.skipif(bool(os.environ.get("SANDBOX_TEST_DATABASE_URL")), reason="locks the SQLite file")
@pytest.mark.parametrize("app_config", [{"SQLITE_BUSY_TIMEOUT_SECONDS": 0.2}])
def test_a_database_locked_past_its_busy_timeout_is_503_retry_after_then_recovers(client, app):
    token = obtain_token(client)
    blocker = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock (WAL readers wait too)
    try:
        response = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
        assert_php_error(response, 503, "temporarily_unavailable")
        assert response.headers["Retry-After"] == "1" and "locked" not in response.text
    finally:
        blocker.rollback()
        blocker.close()
    assert client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_pages_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_a_nul_character_looked_up_is_unknown_and_one_to_be_stored_is_a_400_in_the_dialects_shape(client, app):
    # PostgreSQL cannot hold NUL in text: a lookup of such a value matches nothing, as an unknown value, and a
    # value to be stored is refused (SQLite stores it: there the request simply succeeds).
    unknown = client.post("/v1/oauth/?username=john%00doe&password=demo-password")
    assert unknown.status_code == 401 and unknown.json["errors"]["credentials"]["code"] == 2001
    assert client.post("/api/token.php", data={"code": "x", "client_id": "php\x00demo",
                                               "client_secret": "s"}).json["error"] == "invalid_client"
    stored = client.post("/v1/oauth/?username=johndoe&password=demo-password&device-info=My%00laptop")
    if client.application.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert stored.status_code == 200
    else:
        assert stored.status_code == 400 and stored.json["errors"]["request"]["code"] == 1005
    with app.app_context():  # and the journal keeps them all (a NUL is stored as U+FFFD)
        paths = [entry.path for entry in query_entries(limit=10)]
    assert paths == ["/v1/oauth/", "/api/token.php", "/v1/oauth/"]
