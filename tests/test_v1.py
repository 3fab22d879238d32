"""The v1 dialect (seed 004): /v1/oauth/, its error table, debug mode, device sessions."""
import re

import pytest
import requests
from sqlalchemy import text

from helpers import csrf_token, login
from oauth_sandbox import clock
from oauth_sandbox.extensions import db

LOGIN = "/v1/oauth/?username=johndoe&password=demo-password"
THIRTY_DAYS = 30 * 24 * 3600


def v1_token(client, device_info=None, username="johndoe"):
    """A v1 access token for `username`, made through the documented request."""
    url = f"/v1/oauth/?username={username}&password=demo-password"
    if device_info is not None:
        url += f"&device-info={device_info}"
    response = client.post(url)
    assert response.status_code == 200, response.text
    return response.json["data"]["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_v1_error(response, status, field, code):
    assert response.status_code == status, response.text
    assert response.json["success"] is False
    assert response.json["errors"][field]["code"] == code and response.json["errors"][field]["message"]


def test_seed_request_gives_a_40_hex_token_expiring_in_30_days(client):
    response = client.post(LOGIN + "&device-info=Pixel%208")
    assert response.status_code == 200
    assert list(response.json) == ["success", "data"] and response.json["success"] is True
    data = response.json["data"]
    assert re.fullmatch(r"[0-9a-f]{40}", data["access_token"])
    assert data["expiry"] == pytest.approx(clock.now() + THIRTY_DAYS, abs=2)
    assert response.headers["Cache-Control"] == "no-store"


def test_each_token_is_new_and_random(client):
    assert len({v1_token(client) for _ in range(5)}) == 5


@pytest.mark.parametrize("path", ["/v1/oauth/", "/v1/oauth/index.php", "/v1/add/index.php"])
def test_parameters_in_a_form_body_and_alternative_paths(client, path):
    response = client.post(path, data={"username": "janedoe", "password": "demo-password"})
    assert response.status_code == 200 and len(response.json["data"]["access_token"]) == 40


@pytest.mark.parametrize("query, status, field, code", [
    ("?password=demo-password", 400, "username", 1001),
    ("?username=johndoe", 400, "password", 1002),
    ("?username=johndoe&password=demo-password&device-info=" + "x" * 201, 400, "device-info", 1003),
    ("?username=johndoe&password=demo-password&debug=2", 400, "debug", 1004),
    ("?username=johndoe&password=demo-password&debug=", 400, "debug", 1004),
    ("?username=johndoe&password=wrong", 401, "credentials", 2001),
    ("?username=nobody&password=demo-password", 401, "credentials", 2001),
])
def test_error_table(client, query, status, field, code):
    assert_v1_error(client.post("/v1/oauth/" + query), status, field, code)


def test_all_missing_parameters_are_reported_together(client):
    response = client.post("/v1/oauth/")
    assert response.status_code == 400
    assert {field: e["code"] for field, e in response.json["errors"].items()} == {"username": 1001, "password": 1002}


def test_device_info_of_200_characters_is_accepted_and_kept(client):
    token = v1_token(client, device_info="d" * 200)
    sessions = client.get("/v1/sessions/", headers=bearer(token)).json["data"]
    assert sessions[0]["device_info"] == "d" * 200


@pytest.mark.parametrize("method, path, status, field, code", [
    ("GET", "/v1/oauth/", 405, "method", 4002),
    ("PUT", "/v1/oauth/", 405, "method", 4002),
    ("GET", "/v1/nothing/", 404, "endpoint", 4001),
    ("POST", "/v1/user/", 405, "method", 4002),
])
def test_wrong_method_and_unknown_path(client, method, path, status, field, code):
    assert_v1_error(client.open(path, method=method), status, field, code)


@pytest.mark.parametrize("app_config", [{"V1_TOKEN_RATE_LIMIT": "2 per minute"}])
def test_rate_limit(client):
    for _ in range(2):
        client.post("/v1/oauth/?username=johndoe&password=wrong")
    response = client.post(LOGIN)
    assert_v1_error(response, 429, "rate_limit", 3001)
    assert int(response.headers["Retry-After"]) > 0 and response.headers["X-RateLimit-Limit"] == "2"


def test_oversized_body(client, app):
    response = client.post("/v1/oauth/", data={"username": "x" * app.config["MAX_CONTENT_LENGTH"]})
    assert_v1_error(response, 413, "request", 4003)


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "development"}])
@pytest.mark.parametrize("query, status, debug", [
    (LOGIN + "&debug=1", 200, {"mysql": "", "username": "", "password": ""}),
    ("/v1/oauth/?username=nobody&password=x&debug=1", 401, {"mysql": "", "username": "Username not found",
                                                            "password": ""}),
    ("/v1/oauth/?username=johndoe&password=x&debug=1", 401, {"mysql": "", "username": "",
                                                             "password": "Password incorrect"}),
])
def test_debug_mode_in_the_development_profile(client, query, status, debug):
    response = client.post(query)
    assert response.status_code == status and response.json["debug"] == debug


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "development"}])
def test_debug_mode_reports_the_database_error(client, app):
    with app.app_context():
        db.session.execute(text("DROP TABLE tokens"))
        db.session.commit()
    response = client.post(LOGIN + "&debug=1")
    assert_v1_error(response, 500, "server", 5001)
    assert "tokens" in response.json["debug"]["mysql"]
    assert "debug" not in client.post(LOGIN).json


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "production"}, {"SANDBOX_PROFILE": "testing"}])
@pytest.mark.parametrize("query", [LOGIN + "&debug=1", "/v1/oauth/?username=nobody&password=x&debug=1"])
def test_debug_is_ignored_outside_development(client, query):
    response = client.post(query)
    assert "debug" not in response.json and "not found" not in response.text


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "production"}])
def test_database_error_leaks_nothing_in_production(client, app):
    with app.app_context():
        db.session.execute(text("DROP TABLE tokens"))
        db.session.commit()
    response = client.post(LOGIN + "&debug=1")
    assert_v1_error(response, 500, "server", 5001)
    assert "tokens" not in response.text and "debug" not in response.json


def test_post_without_trailing_slash_is_301_and_a_following_client_loses_the_post(live_server):
    url = f"{live_server.url}/v1/oauth?username=johndoe&password=demo-password"
    response = requests.post(url, allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/v1/oauth/?username=johndoe&password=demo-password")
    followed = requests.post(url)  # requests, like browsers and curl -L, re-sends a 301'd POST as GET
    assert followed.history[0].status_code == 301 and followed.request.method == "GET"
    assert followed.status_code == 405 and followed.json()["errors"]["method"]["code"] == 4002


def test_token_returns_the_user(client):
    response = client.get("/v1/user/", headers=bearer(v1_token(client, username="janedoe")))
    assert response.status_code == 200
    assert response.json == {"success": True, "data": {"username": "janedoe", "email": "jane@example.com",
                                                       "full_name": "Jane Doe"}}


@pytest.mark.parametrize("headers, code", [({}, 2002), ({"Authorization": "Bearer " + "0" * 40}, 2003)])
def test_missing_or_unknown_token(client, headers, code):
    response = client.get("/v1/user/", headers=headers)
    assert_v1_error(response, 401, "token", code)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_expires_after_30_days(client):
    token = v1_token(client)
    clock.advance(THIRTY_DAYS - 5)  # a few seconds of margin: real time moves on during the test
    assert client.get("/v1/user/", headers=bearer(token)).status_code == 200
    clock.advance(5)
    assert_v1_error(client.get("/v1/user/", headers=bearer(token)), 401, "token", 2004)


def test_sessions_list_deauthorize_and_ownership(client):
    laptop = v1_token(client, device_info="Laptop")
    clock.advance(5)
    phone = v1_token(client)
    janes = v1_token(client, username="janedoe")

    sessions = client.get("/v1/sessions/", headers=bearer(phone)).json["data"]
    assert [(s["device_info"], s["current"]) for s in sessions] == [("Unknown", True), ("Laptop", False)]
    assert set(sessions[0]) == {"id", "device_info", "created", "last_used", "expiry", "current"}
    laptop_id = sessions[1]["id"]

    jane_session = client.get("/v1/sessions/", headers=bearer(janes)).json["data"][0]["id"]
    assert_v1_error(client.delete(f"/v1/sessions/{jane_session}/", headers=bearer(phone)), 404, "session", 4004)

    response = client.delete(f"/v1/sessions/{laptop_id}/", headers=bearer(phone))
    assert response.json == {"success": True, "data": {"id": laptop_id, "deauthorized": True}}
    assert_v1_error(client.get("/v1/user/", headers=bearer(laptop)), 401, "token", 2005)
    assert client.get("/v1/user/", headers=bearer(phone)).status_code == 200
    assert [s["device_info"] for s in client.get("/v1/sessions/", headers=bearer(phone)).json["data"]] == ["Unknown"]


def test_tokens_are_stored_hashed(client, app):
    token = v1_token(client)
    with app.app_context():
        dump = "\n".join(repr(row) for row in db.session.execute(text("SELECT * FROM tokens")))
    assert token not in dump


def test_my_devices_page_lists_and_deauthorizes(client):
    token = v1_token(client, device_info="Kitchen tablet")
    assert client.get("/account/devices/").headers["Location"].startswith("/login?next=/account/devices/")
    login(client)
    page = client.get("/account/devices/")
    assert "Kitchen tablet" in page.text and "Deauthorize" in page.text
    session_id = client.get("/v1/sessions/", headers=bearer(token)).json["data"][0]["id"]

    forged = client.post(f"/account/devices/{session_id}/deauthorize")
    assert forged.status_code == 400
    assert client.get("/v1/user/", headers=bearer(token)).status_code == 200

    response = client.post(f"/account/devices/{session_id}/deauthorize", data={"csrf_token": csrf_token(page.text)},
                           follow_redirects=True)
    assert "Device session deauthorized" in response.text and "Kitchen tablet" not in response.text
    assert_v1_error(client.get("/v1/user/", headers=bearer(token)), 401, "token", 2005)


def test_my_devices_shows_only_the_users_own_sessions(client):
    v1_token(client, device_info="Janes%20phone", username="janedoe")
    login(client)
    assert "Janes phone" not in client.get("/account/devices/").text
