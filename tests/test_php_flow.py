"""The php dialect end to end through HTTP: authorize → login → consent → token → userinfo."""
import base64
import hashlib

import pytest

from helpers import PHP_CLIENT, PHP_REDIRECT_URI, approve, authorize_url, csrf_token, login, obtain_code, query_of
from oauth_sandbox import clock


def test_whole_flow_from_login_to_userinfo(client):
    response = client.get(authorize_url())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/api/authorize.php")

    response = login(client, next_url=response.headers["Location"].split("next=", 1)[1])
    assert response.status_code == 302
    consent_url = response.headers["Location"]
    assert consent_url.startswith("/api/authorize.php?")

    page = client.get(consent_url)
    assert "PHP demo client" in page.text and "Approve" in page.text and "Deny" in page.text
    response = client.post(consent_url, data={"csrf_token": csrf_token(page.text), "approve": "Approve"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(PHP_REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "xyz" and len(params["code"]) > 20

    response = client.post("/api/token.php", data={"code": params["code"], **PHP_CLIENT})
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in"}
    assert response.json["token_type"] == "Bearer" and response.json["expires_in"] == 3600
    assert response.headers["Cache-Control"] == "no-store"

    response = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {response.json['access_token']}"})
    assert response.status_code == 200
    assert response.json == {"username": "johndoe", "email": "john@example.com", "full_name": "John Doe"}


def test_state_is_optional_and_not_invented(client):
    login(client)
    response = approve(client, authorize_url(state=None))
    assert set(query_of(response.headers["Location"])) == {"code"}


def test_each_user_gets_their_own_userinfo(client):
    login(client, "janedoe")
    code = query_of(approve(client, authorize_url()).headers["Location"])["code"]
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"]
    response = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert response.json == {"username": "janedoe", "email": "jane@example.com", "full_name": "Jane Doe"}


def test_token_request_as_json_body(client):
    code = obtain_code(client)
    response = client.post("/api/token.php", json={"code": code, **PHP_CLIENT})
    assert response.status_code == 200 and response.json["token_type"] == "Bearer"


def test_token_request_with_http_basic_client_authentication(client):
    code = obtain_code(client)
    basic = base64.b64encode(b"php-demo:php-demo-secret").decode()
    response = client.post("/api/token.php", data={"code": code}, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


def test_explicit_grant_type_and_matching_redirect_uri_are_accepted(client):
    code = obtain_code(client)
    response = client.post("/api/token.php", data={
        "code": code, "grant_type": "authorization_code", "redirect_uri": PHP_REDIRECT_URI, **PHP_CLIENT})
    assert response.status_code == 200


def test_deny_redirects_with_access_denied_and_state(client):
    login(client)
    response = approve(client, authorize_url(), decision="deny")
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(PHP_REDIRECT_URI + "?")
    assert (params["error"], params["state"]) == ("access_denied", "xyz") and "code" not in params


def test_logged_in_user_goes_straight_to_consent(client):
    login(client)
    response = client.get(authorize_url())
    assert response.status_code == 200 and "Authorize PHP demo client" in response.text


def test_logout_ends_the_session(client):
    login(client)
    page = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert client.get(authorize_url()).headers["Location"].startswith("/login")


@pytest.mark.parametrize("loopback_uri", ["http://localhost:53124/callback", "http://127.0.0.1:5000/callback"])
def test_loopback_redirect_uri_may_use_any_port(client, loopback_uri):
    login(client)
    response = approve(client, authorize_url(redirect_uri=loopback_uri))
    assert response.headers["Location"].startswith(loopback_uri + "?code=")


def test_pkce_s256_is_honoured_when_sent(client):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"code_challenge": challenge, "code_challenge_method": "S256"}

    code = obtain_code(client, **params)
    response = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert "code_verifier" in response.json["error_description"]

    response = client.post("/api/token.php", data={"code": code, "code_verifier": "w" * 50, **PHP_CLIENT})
    assert response.status_code == 400 and response.json["error"] == "invalid_code"

    response = client.post("/api/token.php", data={"code": code, "code_verifier": verifier, **PHP_CLIENT})
    assert response.status_code == 200


def test_code_expires_after_its_lifetime(client, app):
    code = obtain_code(client)
    clock.advance(app.config["AUTH_CODE_TTL_SECONDS"])
    response = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert response.status_code == 400 and response.json["error"] == "invalid_code"


def test_access_token_expires_after_an_hour(client):
    code = obtain_code(client)
    token = client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).json["access_token"]
    clock.advance(3595)  # a few seconds of margin: real time moves on during the test
    assert client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.advance(5)
    response = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["error"] == "invalid_token"


def test_second_use_of_a_code_fails_and_revokes_the_first_token(client):
    code = obtain_code(client)
    first = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert first.status_code == 200
    headers = {"Authorization": f"Bearer {first.json['access_token']}"}
    assert client.get("/api/userinfo.php", headers=headers).status_code == 200

    second = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert second.status_code == 400 and second.json["error"] == "invalid_code"
    assert client.get("/api/userinfo.php", headers=headers).status_code == 401


def test_failed_redemption_does_not_burn_the_code(client):
    code = obtain_code(client)
    wrong = client.post("/api/token.php", data={"code": code, "redirect_uri": "https://example.com/callback",
                                                **PHP_CLIENT})
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_code"
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).status_code == 200
