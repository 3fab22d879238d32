"""What a reviewer of an OAuth server checks: CSRF, redirects, limits, CORS, headers, secrets at rest, logs."""
import logging
import time

import pytest
import requests

from helpers import PHP_CLIENT, authorize_url, csrf_token, login, obtain_code, obtain_token
from oauth_sandbox.extensions import db


def test_login_without_csrf_token_is_rejected(client):
    client.get("/login")
    response = client.post("/login", data={"username": "johndoe", "password": "demo-password"})
    assert response.status_code == 400 and "CSRF" in response.text
    assert client.get(authorize_url()).headers["Location"].startswith("/login")


def test_a_form_is_checked_for_its_csrf_token_every_time_beside_the_apis_that_take_none(client):
    for _ in range(2):  # the envelope remembers the exempt endpoints it met: a form's is never one of them
        assert client.post("/api/token.php", data={"code": "x", **PHP_CLIENT}).status_code == 400  # exempt: the API's
        assert client.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code in (400, 401)
        response = client.post("/login", data={"username": "johndoe", "password": "demo-password"})
        assert response.status_code == 400 and "CSRF" in response.text
    assert login(client).status_code == 302  # with its token, the same form logs in


def test_consent_without_csrf_token_issues_no_code(client):
    login(client)
    client.get(authorize_url())
    response = client.post(authorize_url(), data={"approve": "Approve"})
    assert response.status_code == 400 and "Location" not in response.headers
    response = client.post(authorize_url(), data={"approve": "Approve", "csrf_token": "forged"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_wrong_password_shows_the_form_again(client):
    response = login(client, password="not-it")
    assert response.status_code == 200 and "wrong password" in response.text


@pytest.mark.parametrize("next_url, expected", [
    ("/api/authorize.php?client_id=php-demo", "/api/authorize.php?client_id=php-demo"),
    ("https://evil.example/steal", "/"),
    ("//evil.example/steal", "/"),
    ("javascript:alert(1)", "/"),
    ("/\\evil.example/steal", "/"),
])
def test_login_follows_only_a_local_next(client, next_url, expected):
    response = login(client, next_url=next_url)
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_pages_cannot_be_framed(client):
    login(client)
    response = client.get(authorize_url())
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_session_cookie_does_not_clash_with_a_sample_clients_session(client):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("oauth_sandbox_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"PHP_TOKEN_RATE_LIMIT": "3 per minute"}])
def test_token_endpoint_rate_limit_is_429_in_the_seed_shape(client):
    for remaining in (2, 1, 0):
        response = client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
        assert response.status_code == 400
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert "Retry-After" not in response.headers
    response = client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
    assert response.status_code == 429
    assert response.json["error"] == "rate_limit_exceeded" and "3 per 1 minute" in response.json["error_description"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Remaining"] == "0" and int(response.headers["X-RateLimit-Reset"]) > 0


@pytest.mark.parametrize("app_config", [{"PHP_TOKEN_RATE_LIMIT": "5 per minute; 3 per hour"}])
def test_a_setting_of_several_limits_shows_the_one_with_fewest_left_then_the_first_exceeded(client):
    def limit_headers():
        response = client.post("/api/token.php", data={"code": "x", **PHP_CLIENT})
        return (response.status_code, response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"],
                int(response.headers["X-RateLimit-Reset"]) - int(time.time()))
    status, limit, remaining, reset_in = limit_headers()
    assert (status, limit, remaining) == (400, "3", "2") and 60 < reset_in <= 3601  # the hour's: 2 left, not 4
    assert limit_headers()[:3] == (400, "3", "1")
    assert limit_headers()[:3] == (400, "3", "0")
    status, limit, remaining, reset_in = limit_headers()  # the 4th: within the minute's 5, over the hour's 3
    assert (status, limit, remaining) == (429, "3", "0") and 60 < reset_in <= 3601


def test_default_limits_are_low_enough_to_hit_by_hand(client, app):
    assert app.config["PHP_TOKEN_RATE_LIMIT"] == "30 per minute"
    statuses = [client.get("/api/userinfo.php", headers={"Authorization": "Bearer x"}).status_code
                for _ in range(61)]
    assert statuses[:60] == [401] * 60 and statuses[60] == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_RATE_LIMIT": "2 per minute"}])
def test_login_form_is_rate_limited(client):
    for _ in range(2):
        assert login(client, password="guess").status_code == 200
    response = login(client, password="guess")
    assert response.status_code == 429 and response.mimetype == "text/html"
    wait = int(response.headers["Retry-After"])
    assert f"Try again in {wait} second" in response.text and "2 per 1 minute" in response.text


@pytest.mark.parametrize("app_config", [{"LOGIN_RATE_LIMIT": "1 per minute"}])
@pytest.mark.parametrize("next_url, area", [
    ("/portal/", "Fusio&#39;s developer portal"), ("/account/developer/apps", "Mokapen&#39;s developer dashboard"),
    ("/oauth/authorize?client_id%3Dmokapen-public-demo", "Mokapen&#39;s consent page (seed 000), for the client "
                                                         "mokapen-public-demo"),
    (None, "the sandbox")])
def test_login_page_says_which_area_it_is_for_also_when_rate_limited(client, next_url, area):
    assert area in client.get("/login" + (f"?next={next_url}" if next_url else "")).text
    login(client, password="guess", next_url=next_url)
    response = login(client, password="guess", next_url=next_url)
    assert response.status_code == 429 and area in response.text and "Try again in" in response.text


def test_userinfo_answers_cors_preflight_with_authorization_allowed(client):
    response = client.options("/api/userinfo.php", headers={
        "Origin": "http://localhost:8000",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:8000")
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    token = obtain_token(client)
    response = client.get("/api/userinfo.php", headers={"Origin": "http://localhost:8000",
                                                        "Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"]


def test_userinfo_errors_are_readable_cross_origin_and_no_other_path_is_opened(client):
    refused = client.get("/api/userinfo.php", headers={"Origin": "http://localhost:8000",
                                                         "Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert client.get("/api/userinfo.php").headers["Access-Control-Allow-Origin"] == "*"  # no Origin: any
    for path in ("/oauth/jwks", "/api/token.php", "/v1/user/", "/authorization/whoami"):
        assert "Access-Control-Allow-Origin" not in client.get(path, headers={"Origin": "http://localhost:8000"}).headers


def test_secrets_passwords_codes_and_tokens_are_stored_only_as_hashes(client, app):
    code = obtain_code(client)
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"]
    with app.app_context():
        dump = "\n".join(repr(row) for table in db.metadata.sorted_tables
                         for row in db.session.execute(table.select()))
    for secret in ("php-demo-secret", "demo-password", code, token):
        assert secret not in dump
    assert "scrypt:" in dump  # passwords use a slow salted hash


def test_no_secret_code_or_token_in_the_request_log(live_server, caplog):
    caplog.set_level(logging.INFO)
    session = requests.Session()
    page = session.get(f"{live_server.url}/login")
    session.post(f"{live_server.url}/login", data={"csrf_token": csrf_token(page.text), "username": "johndoe",
                                                   "password": "demo-password"})
    page = session.get(live_server.url + authorize_url(redirect_uri=f"http://127.0.0.1:{live_server.port}/callback"))
    response = session.post(page.url, data={"csrf_token": csrf_token(page.text), "approve": "Approve"})
    assert response.url.startswith(f"http://127.0.0.1:{live_server.port}/callback?code=")
    code = response.url.split("code=")[1].split("&")[0]
    token = requests.post(f"{live_server.url}/api/token.php", data={"code": code, **PHP_CLIENT}).json()["access_token"]
    requests.get(f"{live_server.url}/api/userinfo.php", params={"access_token": token})
    requests.get(f"{live_server.url}/api/userinfo.php?password=hunter2&client_secret=php-demo-secret")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /callback?code=[REDACTED]" in logged
    for secret in (code, token, "hunter2", "php-demo-secret", "demo-password"):
        assert secret not in logged


def test_an_api_answer_reads_no_session_so_it_does_not_vary_on_cookie(client, app):
    token = obtain_token(client)
    api = app.test_client(use_cookies=False)
    response = api.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "Vary" not in response.headers  # journaled, and cacheable by Vary alone
