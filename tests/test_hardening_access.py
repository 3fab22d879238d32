"""Hardening, access control: the admin API takes only a Bearer admin token, console sessions end with the token,
a disabled Fusio app's tokens are refused, and the console login and portal registration are rate limited."""
import base64

import pytest

from helpers import csrf_token

TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


def open_console(client, token=TOKEN):
    page = client.get("/console/login")
    return client.post("/console/login", data={"csrf_token": csrf_token(page.text), "token": token})


def clock_offset(client):
    return client.get("/_sandbox/clock", headers=ADMIN).json["offset"]


# --- the admin API: Bearer only ------------------------------------------------------------------

def test_the_admin_token_counts_only_after_the_bearer_scheme(client):
    for authorization in [TOKEN, f"Basic {TOKEN}", f"Token {TOKEN}", f"Bearer{TOKEN}", "Bearer ", f"{TOKEN} Bearer"]:
        response = client.get("/_sandbox/requests", headers={"Authorization": authorization})
        assert response.status_code == 401 and response.json["error"] == "unauthorized", authorization
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for authorization in [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}"]:  # the scheme's case is free
        assert client.get("/_sandbox/requests", headers={"Authorization": authorization}).status_code == 200


def test_a_console_session_does_not_open_the_admin_api(client):
    """What a page on another origin can make a browser send: the console's cookie, and a form body."""
    assert open_console(client).status_code == 302
    assert client.get("/console/").status_code == 200  # the console itself works
    forged = client.post("/_sandbox/clock", data='{"advance": 3600}', headers={"Content-Type": "text/plain"})
    assert forged.status_code == 401 and forged.json["error"] == "unauthorized"
    assert client.post("/_sandbox/clock", json={"advance": 3600}).status_code == 401
    assert client.post("/_sandbox/reset").status_code == 401
    assert client.get("/_sandbox/requests").status_code == 401
    assert clock_offset(client) == 0


def test_the_console_works_through_its_own_csrf_protected_forms(client):
    open_console(client)
    console = client.get("/console/")
    client.post("/console/clock", data={"csrf_token": csrf_token(console.text), "advance": "60"})
    assert clock_offset(client) == 60
    forged = client.post("/console/clock", data={"advance": "600"})  # what another origin's page could post
    assert forged.status_code == 400 and "Form expired or forged" in forged.text
    assert clock_offset(client) == 60


# --- console sessions end with the token ------------------------------------------------------------

def test_a_console_session_ends_when_the_admin_token_changes(client, app):
    open_console(client)
    assert client.get("/console/").status_code == 200
    app.config["SANDBOX_ADMIN_TOKEN"] = "another-admin-token"  # a restart with a new token
    response = client.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")
    console = client.get("/console/login")
    refused = client.post("/console/clock", data={"csrf_token": csrf_token(console.text), "advance": "60"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/console/login")
    assert client.get("/_sandbox/clock", headers={"Authorization": "Bearer another-admin-token"}).json["offset"] == 0
    app.config["SANDBOX_ADMIN_TOKEN"] = TOKEN  # and back: the old session was ended, not just hidden
    assert client.get("/console/").status_code == 302
    open_console(client, "another-admin-token")  # the old token no longer opens one either
    assert client.get("/console/").status_code == 302


def test_the_session_cookie_does_not_hold_the_admin_token(client):
    open_console(client)
    cookie = client.get_cookie("oauth_sandbox_session").value
    payload = cookie.lstrip(".").split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.startswith("."):  # compressed
        import zlib
        decoded = zlib.decompress(decoded)
    assert TOKEN.encode() not in decoded and b"sandbox_admin" in decoded


# --- a disabled Fusio app --------------------------------------------------------------------------

APP_BASIC = {"Authorization": "Basic " + base64.b64encode(b"consumer-demo:consumer-demo-secret").decode()}


def test_a_disabled_fusio_apps_access_and_refresh_tokens_are_refused(client):
    pairs = [client.post("/authorization/token", data={"grant_type": "client_credentials"}, headers=APP_BASIC).json
             for _ in range(2)]
    protected = {"Content-Type": "application/json"}
    for pair in pairs:
        assert client.post("/protected_endpoint", data="{}",
                           headers={**protected, "Authorization": f"Bearer {pair['access_token']}"}).status_code == 200
    disabled = client.patch("/_sandbox/clients/consumer-demo", json={"status": "disabled"}, headers=ADMIN)
    assert disabled.status_code == 200

    refused = client.post("/protected_endpoint", data="{}",
                          headers={**protected, "Authorization": f"Bearer {pairs[0]['access_token']}"})
    assert refused.status_code == 401 and refused.json["message"] == "Invalid access token"
    by_token_endpoint = client.post("/authorization/token", headers=APP_BASIC,
                                    data={"grant_type": "refresh_token", "refresh_token": pairs[0]["refresh_token"]})
    assert by_token_endpoint.status_code == 400, by_token_endpoint.text
    assert by_token_endpoint.json == {"error": "invalid_request", "error_description": "Invalid refresh token"}
    by_login = client.put("/consumer/login", json={"refresh_token": pairs[1]["refresh_token"]})
    assert by_login.status_code == 400
    assert by_login.json == {"success": False, "title": "Internal Server Error", "message": "Invalid refresh token"}

    # enabled again, its unused refresh token works again (it was refused, not spent)
    client.patch("/_sandbox/clients/consumer-demo", json={"status": "active"}, headers=ADMIN)
    assert client.put("/consumer/login", json={"refresh_token": pairs[1]["refresh_token"]}).status_code == 200


def test_a_users_own_fusio_refresh_token_still_works(client):
    pair = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json
    assert client.put("/consumer/login", json={"refresh_token": pair["refresh_token"]}).status_code == 200


# --- rate limits on the console login and portal registration ---------------------------------------

def test_wrong_console_logins_are_rate_limited_like_the_login_page(client, app):
    page = client.get("/console/login")
    statuses = [client.post("/console/login", data={"csrf_token": csrf_token(page.text), "token": f"guess-{n}"}
                            ).status_code for n in range(15)]
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    assert statuses == [200] * limit + [429] * (15 - limit)
    assert client.get("/console/login").status_code == 200  # the page itself is not counted
    too_many = client.post("/console/login", data={"csrf_token": csrf_token(page.text), "token": TOKEN})
    assert too_many.status_code == 429 and too_many.mimetype == "text/html"
    assert client.get("/console/").status_code == 302  # not even the right token gets in while limited


def test_portal_registration_is_rate_limited_like_the_login_page(client, app):
    page = client.get("/portal/register")
    statuses = [client.post("/portal/register", data={
        "csrf_token": csrf_token(page.text), "username": f"dev{n}", "email": "not-an-email",
        "password": "long-enough", "confirm": "long-enough"}).status_code for n in range(15)]
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    assert statuses == [200] * limit + [429] * (15 - limit)
    assert client.get("/portal/register").status_code == 200
