"""The consumer dialect (seed 003, Fusio): its requests verbatim, every documented behaviour and error."""
import base64
import re

import jwt
import pytest

from helpers import csrf_token, login
from oauth_sandbox import clock

SEED_BASIC = {"Authorization": "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
              "Content-Type": "application/x-www-form-urlencoded"}
SEED_LOGIN_BODY = '{\n"username": "johndoe",\n"password": "demo-password",\n}'


def basic(user, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def consumer_login(client, username="johndoe", **extra):
    response = client.post("/consumer/login", json={"username": username, "password": "demo-password", **extra})
    assert response.status_code == 200, response.text
    return response.json


def assert_fusio_error(response, status, message):
    assert response.status_code == status, response.text
    assert response.json == {"success": False, "title": "Internal Server Error", "message": message}


def assert_token_error(response, status, error, description):
    assert response.status_code == status, response.text
    assert response.json == {"error": error, "error_description": description}


def invoke_protected(client, token, body='{\n"title": "lorem ipsum"\n}'):
    return client.post("/protected_endpoint", data=body, headers={**bearer(token), "Content-Type": "application/json"})


# --- the seed's requests, verbatim -------------------------------------------------------------

def test_seed_client_credentials_refresh_and_protected_endpoint_verbatim(client):
    response = client.post("/authorization/token", data="grant_type=client_credentials", headers=SEED_BASIC)
    assert response.status_code == 200
    body = response.json
    assert list(body) == ["access_token", "token_type", "expires_in", "refresh_token", "scope"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["scope"] == "authorization,consumer,default,protected"
    assert response.headers["Cache-Control"] == "no-store"

    assert invoke_protected(client, body["access_token"]).json == {
        "success": True, "message": "You have invoked a protected operation"}

    refreshed = client.post("/authorization/token", headers=SEED_BASIC,
                            data=f"grant_type=refresh_token&refresh_token={body['refresh_token']}")
    assert refreshed.status_code == 200 and refreshed.json["access_token"] != body["access_token"]
    assert invoke_protected(client, refreshed.json["access_token"]).status_code == 200

    # Rotation: the old refresh token and the old access token are retired.
    again = client.post("/authorization/token", headers=SEED_BASIC,
                        data=f"grant_type=refresh_token&refresh_token={body['refresh_token']}")
    assert_token_error(again, 400, "invalid_request", "Invalid refresh token")
    assert_fusio_error(invoke_protected(client, body["access_token"]), 401, "Invalid access token")


def test_seed_login_body_with_its_trailing_comma_gets_a_clear_400(client):
    response = client.post("/consumer/login", data=SEED_LOGIN_BODY, content_type="application/json")
    assert_fusio_error(response, 400, "The request body is not valid JSON")


# --- /consumer/login ---------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"CONSUMER_JWT_SECRET": "test-jwt-secret-of-at-least-32-bytes"}])
def test_login_returns_an_hs256_jwt_with_fusios_claims(client):
    body = consumer_login(client)
    assert list(body) == ["token", "expires_in", "refresh_token", "scope"]
    assert body["expires_in"] == 3600 and body["scope"] == "authorization,backend,consumer,default,protected"
    claims = jwt.decode(body["token"], "test-jwt-secret-of-at-least-32-bytes", algorithms=["HS256"])
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"
    assert claims["iss"] == "http://localhost"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", claims["sub"])
    assert claims["exp"] - claims["iat"] == 3600
    assert (claims["name"], claims["preferred_username"], claims["email"]) == ("johndoe", "johndoe",
                                                                              "john@example.com")


def test_login_by_email_and_the_same_subject(client):
    by_name = jwt.decode(consumer_login(client)["token"], options={"verify_signature": False})
    by_email = jwt.decode(consumer_login(client, "john@example.com")["token"], options={"verify_signature": False})
    assert by_name["sub"] == by_email["sub"]


@pytest.mark.parametrize("body, message", [
    ({"password": "demo-password"}, "No username provided"),
    ({"username": "johndoe"}, "No password provided"),
    ({"username": "johndoe", "password": "wrong"}, "Invalid name or password"),
    ({"username": "nobody", "password": "demo-password"}, "Invalid name or password"),
    ({"username": "jo", "password": "demo-password"}, "Invalid name or password"),  # too short: an email lookup
    ({"username": "johndoe", "password": "demo-password", "scopes": ["nope"]}, "No scopes provided"),
])
def test_login_errors(client, body, message):
    assert_fusio_error(client.post("/consumer/login", json=body), 400, message)


def test_requested_scopes_are_intersected_with_the_users(client):
    assert consumer_login(client, "janedoe", scopes=["protected", "backend", "nope"])["scope"] == "protected"
    assert consumer_login(client, "janedoe")["scope"] == "authorization,consumer,default,protected"


def test_put_login_refreshes_and_retires_the_old_refresh_token(client):
    first = consumer_login(client)
    response = client.put("/consumer/login", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200 and list(response.json) == ["token", "expires_in", "refresh_token", "scope"]
    assert invoke_protected(client, response.json["token"]).status_code == 200
    assert_fusio_error(client.put("/consumer/login", json={"refresh_token": first["refresh_token"]}), 400,
                       "Invalid refresh token")


def test_refresh_token_expires(client, app):
    first = consumer_login(client)
    clock.advance(app.config["CONSUMER_REFRESH_TTL_SECONDS"])
    assert_fusio_error(client.put("/consumer/login", json={"refresh_token": first["refresh_token"]}), 400,
                       "Refresh token is expired")


# --- /authorization/token ----------------------------------------------------------------------

def test_client_credentials_with_a_users_name_and_password(client):
    response = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                           headers=basic("janedoe", "demo-password"))
    assert response.status_code == 200 and response.json["scope"] == "authorization,consumer,default,protected"


@pytest.mark.parametrize("scope", ["protected,default", "protected default", "default protected nope"])
def test_scopes_comma_or_space_separated(client, scope):
    response = client.post("/authorization/token", data={"grant_type": "client_credentials", "scope": scope},
                           headers=basic("consumer-demo", "consumer-demo-secret"))
    assert sorted(response.json["scope"].split(",")) == ["default", "protected"]


def test_app_scopes_narrow_the_users(client):
    # consumer-demo does not hold "backend", though its owner johndoe (Administrator) does.
    response = client.post("/authorization/token", data={"grant_type": "client_credentials", "scope": "backend"},
                           headers=basic("consumer-demo", "consumer-demo-secret"))
    assert_token_error(response, 400, "invalid_scope", "No valid scope given")
    response = client.post("/authorization/token", data={"grant_type": "client_credentials", "scope": "backend"},
                           headers=basic("johndoe", "demo-password"))
    assert response.json["scope"] == "backend"


def test_token_endpoint_errors(client):
    assert_token_error(client.post("/authorization/token", data={"grant_type": "client_credentials"}), 400,
                       "invalid_request", "Credentials not available")
    response = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                           headers=basic("consumer-demo", "wrong"))
    assert_token_error(response, 401, "invalid_client", "Unknown credentials")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    for grant_type in ("password-ish", ""):
        response = client.post("/authorization/token", data={"grant_type": grant_type},
                               headers=basic("consumer-demo", "consumer-demo-secret"))
        assert_token_error(response, 400, "server_error", "Provided an invalid grant type")
    response = client.post("/authorization/token", data={"grant_type": "refresh_token"}, headers=SEED_BASIC)
    assert_token_error(response, 400, "invalid_request", "Parameter refresh_token is missing")
    response = client.post("/authorization/token", data={"grant_type": "refresh_token", "refresh_token": "nope"},
                           headers=SEED_BASIC)
    assert_token_error(response, 400, "invalid_request", "Invalid refresh token")


# --- operations --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, message", [
    ({}, "Missing authorization header"),
    ({"Authorization": "Basic abc"}, "Invalid authorization type"),
    ({"Authorization": "Bearer"}, "No authorization token was provided"),
    ({"Authorization": "Bearer not-a-token"}, "Invalid access token"),
    ({"Authorization": "Bearer a.b"}, "Wrong number of segments"),
    # php-jwt's checks, in its order, on what has a dot (as Fusio decodes it before looking it up)
    ({"Authorization": "Bearer a.b.c"}, "Syntax error, malformed JSON"),  # "a" is no JSON (Fusio: a 500)
    ({"Authorization": "Bearer bnVsbA.e30.x"}, "Invalid header encoding"),  # null
    ({"Authorization": "Bearer e30.bnVsbA.x"}, "Invalid claims encoding"),
    ({"Authorization": "Bearer e30.NQ.x"}, "Payload must be a JSON object"),  # 5
    ({"Authorization": "Bearer eyJ0eXAiOiJKV1QifQ.e30.x"}, "Empty algorithm"),  # {"typ":"JWT"}
    ({"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, "Algorithm not supported"),  # {"alg":"none"}
    ({"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.x"}, "Incorrect key for this algorithm"),  # RS256
    ({"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}, "Signature verification failed"),  # HS256
])
def test_private_operation_refuses_without_a_valid_token(client, headers, message):
    response = client.post("/protected_endpoint", json={"title": "lorem ipsum"}, headers=headers)
    assert_fusio_error(response, 401, message)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Fusio"'


def test_token_without_the_operations_scope_is_refused(client):
    token = consumer_login(client, scopes=["default"])["token"]
    assert_fusio_error(invoke_protected(client, token), 403,
                       "Access to this operation is not in the scope of the provided token")


def test_expired_token_is_refused(client):
    token = consumer_login(client)["token"]
    clock.advance(3600)
    assert_fusio_error(invoke_protected(client, token), 401, "Expired token")


def test_a_token_issued_while_the_clock_is_ahead_works_until_it_expires(client):
    clock.advance(86400)  # a QA run moved the sandbox clock a day ahead of real time
    token = consumer_login(client)["token"]
    assert invoke_protected(client, token).status_code == 200
    clock.advance(3600)
    assert_fusio_error(invoke_protected(client, token), 401, "Expired token")


def test_public_operation_needs_no_token_and_wrong_methods_get_405(client):
    assert client.get("/public_endpoint").json == {"success": True, "message": "This operation is public"}
    response = client.delete("/protected_endpoint")
    assert_fusio_error(response, 405, "Given request method is not supported")
    assert response.headers["Allow"] == "OPTIONS, POST"


def test_malformed_json_body_on_an_operation(client):
    token = consumer_login(client)["token"]
    assert_fusio_error(invoke_protected(client, token, body='{"title": "x",}'), 400,
                       "The request body is not valid JSON")


@pytest.mark.parametrize("app_config", [{"CONSUMER_RATE_LIMIT": "2 per minute"}])
def test_rate_limit_headers_and_429(client):
    for remaining in (1, 0):
        response = client.get("/public_endpoint")
        assert response.headers["RateLimit-Limit"] == "2"
        assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert "X-RateLimit-Limit" not in response.headers
    response = client.get("/public_endpoint")
    assert_fusio_error(response, 429, "Rate limit exceeded")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("app_config", [{"CONSUMER_RATE_LIMIT": "1 per minute"}])
def test_rate_limit_on_the_token_endpoints_is_in_fusios_shape(client):
    consumer_login(client)
    response = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"})
    assert_fusio_error(response, 429, "Rate limit exceeded")
    assert response.headers["RateLimit-Remaining"] == "0"


def test_unknown_consumer_path_is_json(client):
    assert_fusio_error(client.get("/consumer/nothing"), 404, "Could not find a route for the provided uri")


# --- roles, the portal and its admin pages -----------------------------------------------------

def post_form(client, url, data, form_prefix=""):
    page = client.get(url)
    token = re.search(rf'name="{form_prefix}csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    return client.post(url, data={f"{form_prefix}csrf_token": token, **data})


def role_id(client, name):
    return re.search(rf'<option value="(\d+)">{name}</option>', client.get("/portal/admin/users").text).group(1)


def test_admin_changes_a_roles_scopes_and_the_next_token_reflects_it(client):
    login(client)  # johndoe is an Administrator
    page = client.get("/portal/admin/roles").text
    consumer_id = re.search(r'id="role-Consumer">\s*<h2>Consumer</h2>\s*<input id="role(\d+)-csrf', page).group(1)
    response = post_form(client, "/portal/admin/roles", {
        f"role{consumer_id}-scopes": ["authorization", "default"], f"role{consumer_id}-new_scope": "todo",
        f"role{consumer_id}-submit": "Save"}, form_prefix=f"role{consumer_id}-")
    assert response.status_code == 302
    assert consumer_login(client, "janedoe")["scope"] == "authorization,default,todo"
    token = consumer_login(client, "janedoe", scopes=["protected", "default"])["token"]
    assert invoke_protected(client, token).status_code == 403


def test_admin_changes_a_users_role(client):
    login(client)
    jane = client.get("/portal/admin/users").text
    user_id = re.search(r'id="user-janedoe">.*?name="user(\d+)-csrf_token"', jane, re.S).group(1)
    response = post_form(client, "/portal/admin/users", {f"user{user_id}-role": role_id(client, "Backend"),
                                                         f"user{user_id}-submit": "Change"},
                         form_prefix=f"user{user_id}-")
    assert response.status_code == 302
    assert consumer_login(client, "janedoe")["scope"] == "authorization,backend,default,protected"


def test_admin_pages_are_for_administrators_only(client):
    assert client.get("/portal/admin/roles").headers["Location"].startswith("/login")
    login(client, "janedoe")
    for page in ("roles", "users", "operations"):
        assert client.get(f"/portal/admin/{page}").status_code == 403


def test_admin_declares_an_operation_and_it_answers_at_once(client):
    login(client)
    response = post_form(client, "/portal/admin/operations", {
        "method": "GET", "path": "/todos", "scope": "default", "status_code": "200",
        "response": '{"entries": [{"title": "lorem ipsum"}]}'})
    assert response.status_code == 302
    assert_fusio_error(client.get("/todos"), 401, "Missing authorization header")
    token = consumer_login(client)["token"]
    assert client.get("/todos", headers=bearer(token)).json == {"entries": [{"title": "lorem ipsum"}]}

    post_form(client, "/portal/admin/operations", {"method": "GET", "path": "/status", "public": "y",
                                                   "status_code": "503", "response": '{"up": false}'})
    response = client.get("/status")
    assert response.status_code == 503 and response.json == {"up": False}


@pytest.mark.parametrize("data, error", [
    ({"path": "/api/userinfo.php", "scope": "default"}, "belongs to another part"),
    ({"path": "/protected_endpoint", "method": "POST", "scope": "default"}, "exists already"),
    ({"path": "/x", "response": "{nope"}, "Not valid JSON"),
    ({"path": "/x", "scope": ""}, "needs a scope"),
])
def test_bad_operations_get_the_form_back_with_errors(client, data, error):
    login(client)
    response = post_form(client, "/portal/admin/operations", {
        "method": "GET", "scope": "default", "status_code": "200", "response": "{}", **data})
    assert response.status_code == 200 and error in response.text


def test_register_gets_the_default_role_and_can_log_in(client):
    response = post_form(client, "/portal/register", {"username": "newdev", "email": "newdev@example.com",
                                                      "password": "newdev-password", "confirm": "newdev-password"})
    assert response.status_code == 302
    page = client.get("/portal/").text
    assert 'id="role">Consumer<' in page and "protected" in page
    body = client.post("/consumer/login", json={"username": "newdev", "password": "newdev-password"}).json
    assert body["scope"] == "authorization,consumer,default,protected"


@pytest.mark.parametrize("app_config", [{"CONSUMER_DEFAULT_ROLE": "Backend"}])
def test_default_role_is_configurable(client):
    post_form(client, "/portal/register", {"username": "newdev", "email": "newdev@example.com",
                                           "password": "newdev-password", "confirm": "newdev-password"})
    assert 'id="role">Backend<' in client.get("/portal/").text


def test_register_rejects_a_taken_username_and_a_bad_email(client):
    response = post_form(client, "/portal/register", {"username": "johndoe", "email": "not-an-email",
                                                      "password": "12345678", "confirm": "12345678"})
    assert "That username is taken." in response.text and "Not an email address" in response.text


def test_portal_app_key_and_secret_work_and_rotating_retires_the_secret(client):
    login(client, "janedoe")
    response = post_form(client, "/portal/apps/new", {"name": "My app", "scopes": ["default", "protected"]})
    key = re.search(r'id="app-key">([^<]+)<', response.text).group(1)
    secret = re.search(r'id="app-secret">([^<]+)<', response.text).group(1)
    token = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                        headers=basic(key, secret))
    assert token.status_code == 200 and token.json["scope"] == "default,protected"

    app_url = re.search(r'action="(/portal/apps/\d+)/secret"', response.text).group(1)
    page = client.get(app_url)
    rotated = client.post(app_url + "/secret", data={"csrf_token": csrf_token(page.text)})
    new_secret = re.search(r'id="app-secret">([^<]+)<', rotated.text).group(1)
    old = client.post("/authorization/token", data={"grant_type": "client_credentials"}, headers=basic(key, secret))
    assert old.status_code == 401
    new = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                      headers=basic(key, new_secret))
    assert new.status_code == 200


def test_another_users_app_is_not_visible(client):
    login(client, "janedoe")
    assert client.get("/portal/apps/1").status_code == 404
