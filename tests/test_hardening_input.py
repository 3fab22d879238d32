"""Hardening, bad input: no 5xx. Deep JSON, Basic credentials that are no UTF-8, ids beyond the column's range, a
user in no organization on the dashboard, a body over the limit while logged in, a `next` with a line break, wrong
JSON types and strings the columns cannot hold in mokapen's API, and a Fusio operation's impossible status.

Each answered 500 (or closed the connection) before. They run on SQLite and, with SANDBOX_TEST_DATABASE_URL, on
PostgreSQL (whose INTEGER ends at 2^31 and which cannot store NUL)."""
import io
import re

import pytest

from helpers import PHP_CLIENT, csrf_token, login

TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PRIVATE = {"client_id": "mokapen-private-demo", "client_secret": "mokapen-private-demo-secret"}
DEEP = "[" * 100_000
NOT_UTF8_BASIC = {"Authorization": "Basic /yD+/Q=="}  # base64 of ff 20 fe fd
BEYOND = [2**63, 2**31]  # past SQLite's INTEGER, past PostgreSQL's


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


def fusio_error(response, status):
    assert response.status_code == status, response.text
    assert response.json["success"] is False and response.json["message"], response.text


def oauth_error(response, status, error):
    assert response.status_code == status, response.text
    assert response.json["error"] == error and response.json["error_description"], response.text


ALL_SCOPES = "tasks.read tasks.write contacts.read contacts.write"
QA_FIXTURES = {
    "users": [{"username": "qa-user", "email": "qa@example.com", "password": "qa-password"}],
    "organizations": [{"id": 849, "name": "QA Org", "members": [{"username": "qa-user", "role": "owner"}]}],
    "clients": [{"dialect": "mokapen", "client_id": "qa-private", "client_secret": "qa-secret", "kind": "private",
                 "organization": 849, "dedicated_user": "qa-user", "scopes": ALL_SCOPES.split()}],
}


def mokapen_token(client, every_scope=False):
    """A bearer for organization 849's API: the demo private app's, or (`every_scope`) one that also writes contacts,
    on fixtures where 849 holds one task and one contact."""
    credentials = PRIVATE
    if every_scope:
        assert client.post("/_sandbox/reset", json=QA_FIXTURES, headers=ADMIN).status_code == 200
        credentials = {"client_id": "qa-private", "client_secret": "qa-secret"}
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", **credentials,
                                                 "organization_id": "849"})
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json['access_token']}", "Accept": "application/json"}
    if every_scope:
        for resource, body in (("tasks", {"title": "one"}), ("contacts", {"name": "Ada"})):
            assert client.post(f"/api/v1/849/{resource}", json=body, headers=headers).status_code == 201
    return headers


# --- deeply nested JSON -----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_deeply_nested_json_on_fusios_login_is_a_400_in_fusios_shape(client, method):
    fusio_error(client.open("/consumer/login", method=method, data=DEEP, content_type="application/json"), 400)
    fusio_error(client.open("/consumer/login", method=method, data="[" * 40 + "]" * 40,
                            content_type="application/json"), 400)


def test_deeply_nested_json_on_the_php_token_endpoint_is_invalid_request(client):
    oauth_error(client.post("/api/token.php", data=DEEP, content_type="application/json"), 400, "invalid_request")
    nested = '{"code": ' + "[" * 500 + "]" * 500 + "}"
    oauth_error(client.post("/api/token.php", data=nested, content_type="application/json"), 400, "invalid_request")


def test_deeply_nested_json_elsewhere_gets_each_apis_400(client):
    headers = mokapen_token(client)
    oauth_error(client.post("/api/v1/849/tasks", data=DEEP, content_type="application/json", headers=headers), 400,
                "invalid_request")
    admin = client.post("/_sandbox/faults", data=DEEP, content_type="application/json", headers=ADMIN)
    assert admin.status_code == 400 and admin.json["error"] == "bad_request"
    token = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json["token"]
    fusio_error(client.post("/protected_endpoint", data=DEEP, content_type="application/json",
                            headers={"Authorization": f"Bearer {token}"}), 400)
    # and the journal still records the request
    entries = client.get("/_sandbox/requests?path=/api/token.php", headers=ADMIN).json
    assert isinstance(entries, (list, dict))


def test_json_a_few_levels_deep_still_works(client):
    response = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password",
                                                     "extra": [[[{"a": [1, 2]}]]]})
    assert response.status_code == 200, response.text


# --- Basic credentials that are not UTF-8 -----------------------------------------------------------

@pytest.mark.parametrize("credentials", ["/yD+/Q==", "\x80", "w6k="])  # not UTF-8; not ASCII; é (which is fine)
@pytest.mark.parametrize("path, data", [
    ("/oauth/token", {"grant_type": "client_credentials"}),
    ("/oauth/revoke", {"token": "x"}),
    ("/oauth/introspect", {"token": "x"}),
    ("/api/token.php", {"code": "x"}),
    ("/authorization/token", {"grant_type": "client_credentials"}),
])
def test_basic_credentials_that_are_not_utf8_are_an_unknown_client(client, path, data, credentials):
    """401 invalid_client with a challenge (php, mokapen); Fusio's token endpoint finds no credentials in them and
    answers as it does without any: 400 invalid_request "Credentials not available"."""
    response = client.post(path, data=data, headers={"Authorization": f"Basic {credentials}"})
    if path == "/authorization/token":
        assert (response.status_code, response.json) == (400, {"error": "invalid_request",
                                                               "error_description": "Credentials not available"})
    else:
        assert (response.status_code, response.json["error"]) == (401, "invalid_client"), response.text
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_php_json_token_request_with_basic_that_is_not_utf8(client):
    oauth_error(client.post("/api/token.php", json={"code": "x"}, headers=NOT_UTF8_BASIC), 401, "invalid_client")


# --- ids beyond the column's range --------------------------------------------------------------------

@pytest.mark.parametrize("number", BEYOND)
def test_ids_beyond_the_columns_range_are_404_in_the_paths_shape(client, number):
    headers = mokapen_token(client)
    for method in ("GET", "PUT", "DELETE"):
        oauth_error(client.open(f"/api/v1/849/tasks/{number}", method=method, json={"title": "x"},
                                headers=headers), 404, "not_found")
    oauth_error(client.get(f"/api/v1/{number}/tasks", headers=headers), 404, "not_found")

    v1 = client.post("/v1/oauth/?username=johndoe&password=demo-password").json["data"]
    session_delete = client.delete(f"/v1/sessions/{number}/", headers={"Authorization": f"Bearer {v1['access_token']}"})
    assert session_delete.status_code == 404 and session_delete.json["success"] is False, session_delete.text

    faults = client.delete(f"/_sandbox/faults/{number}", headers=ADMIN)
    assert faults.status_code == 404 and faults.json["error"] == "not_found", faults.text

    login(client)
    for path in (f"/account/developer/apps/{number}", f"/account/developer/apps/{number}/logo",
                 f"/account/developer/apps/{number}/credentials", f"/portal/apps/{number}"):
        page = client.get(path)
        assert page.status_code == 404 and "<html" in page.text, (path, page.status_code)


# --- a user in no organization on the dashboard ----------------------------------------------------

def register(client, username="loner"):
    page = client.get("/portal/register")
    response = client.post("/portal/register", data={
        "csrf_token": csrf_token(page.text), "username": username, "email": f"{username}@example.com",
        "password": "loner-password", "confirm": "loner-password"})
    assert response.status_code == 302, response.text


def test_a_user_in_no_organization_cannot_open_an_application(client):
    login(client)
    listing = client.get("/account/developer/apps")
    app_id = re.search(r'href="/account/developer/apps/(\d+)"', listing.text).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(listing.text)})
    register(client)
    for path in (f"/account/developer/apps/{app_id}", f"/account/developer/apps/{app_id}/logo",
                 f"/account/developer/apps/{app_id}/credentials", f"/account/developer/apps/{app_id}/token"):
        response = client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert b"Traceback" not in response.data
    assert client.get("/account/developer/apps").status_code in (200, 403, 404)


# --- over the body limit while logged in ------------------------------------------------------------

def test_a_body_over_the_limit_while_logged_in_gets_the_413_page(client):
    login(client)
    page = client.get("/account/developer/apps/new")
    response = client.post("/account/developer/apps/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page.text), "kind": "private", "company_name": "Acme",
        "company_url": "https://acme.example", "name": "Acme", "dedicated_user": "1",
        "logo": (io.BytesIO(b"\x89PNG" + b"\0" * (10 * 1024 * 1024)), "logo.png")})
    assert response.status_code == 413, response.status_code
    assert "<html" in response.text and "Log out" in response.text  # the page, with the logged-in layout


# --- `next` with a line break ----------------------------------------------------------------------

@pytest.mark.parametrize("next_url", ["/%0d%0aX", "/%0aSet-Cookie:x=y", "/ok%00"])
def test_login_with_a_next_holding_control_characters_ignores_it(client, next_url):
    url = f"/login?next={next_url}"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"csrf_token": csrf_token(page.text), "username": "johndoe",
                                      "password": "demo-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/", response.headers
    assert client.get("/account/developer/apps").status_code == 200  # logged in


# --- mokapen's contacts and tasks: types, lengths, NUL ----------------------------------------------

@pytest.mark.parametrize("resource, body", [
    ("tasks", {"title": {}}),
    ("tasks", {"title": ["x"]}),
    ("tasks", {"title": 5}),
    ("tasks", {"title": "x", "done": "x"}),
    ("tasks", {"title": "x", "done": 1}),
    ("tasks", {"title": "x" * 256}),
    ("tasks", {"title": "a\u0000b"}),
    ("contacts", {"name": {"a": 1}}),
    ("contacts", {"name": "Ada", "email": ["x"]}),
    ("contacts", {"name": "Ada", "phone": "1" * 65}),
    ("contacts", {"name": "Ada\u0000"}),
    ("contacts", {"name": "x" * 256}),
])
def test_mokapen_items_with_wrong_types_or_values_the_column_cannot_hold_are_400(client, resource, body):
    headers = mokapen_token(client, every_scope=True)
    oauth_error(client.post(f"/api/v1/849/{resource}", json=body, headers=headers), 400, "invalid_request")
    item_id = client.get(f"/api/v1/849/{resource}", headers=headers).json["data"][0]["id"]
    for method in ("PUT", "PATCH"):
        oauth_error(client.open(f"/api/v1/849/{resource}/{item_id}", method=method, json=body, headers=headers),
                    400, "invalid_request")
    assert client.get(f"/api/v1/849/{resource}/{item_id}", headers=headers).status_code == 200


def test_mokapen_items_within_the_columns_are_stored(client):
    headers = mokapen_token(client, every_scope=True)
    created = client.post("/api/v1/849/tasks", json={"title": "t" * 255, "done": True}, headers=headers)
    assert created.status_code == 201 and created.json["data"]["done"] is True, created.text
    contact = client.post("/api/v1/849/contacts", json={"name": "Ada", "phone": "1" * 64}, headers=headers)
    assert contact.status_code == 201, contact.text


# --- Fusio operations: a status outside 200–599 --------------------------------------------------------

@pytest.mark.parametrize("status", [100, 199, 600, 10**30, -1])
def test_a_fusio_operation_with_an_impossible_status_is_refused_when_declared(client, status):
    fixtures = {"operations": [{"method": "GET", "path": "/weird", "public": True, "status_code": status}]}
    response = client.post("/_sandbox/reset", json=fixtures, headers=ADMIN)
    assert response.status_code == 400 and "operations[0].status_code" in response.json["message"], response.text
    assert client.post("/api/token.php", data={"code": "x", **PHP_CLIENT}).status_code == 400  # demo data kept

    login(client)
    page = client.get("/portal/admin/operations")
    form = client.post("/portal/admin/operations", data={
        "csrf_token": csrf_token(page.text), "method": "GET", "path": "/weird", "public": "y",
        "status_code": str(status), "response": "{}"})
    assert form.status_code == 200 and "between 200 and 599" in form.text
    assert client.get("/weird").status_code == 404


def test_a_fusio_operation_with_a_possible_status_answers_it(client):
    fixtures = {"operations": [{"method": "GET", "path": "/teapot", "public": True, "status_code": 418}]}
    assert client.post("/_sandbox/reset", json=fixtures, headers=ADMIN).status_code == 200
    assert client.get("/teapot").status_code == 418


# --- found by the raw fuzzer (test_fuzz_raw.py) ------------------------------------------------------

def test_a_host_that_is_no_host_name_gets_a_400_not_a_broken_error_page(client):
    for path in ("/", "/nope", "/login"):
        response = client.get(path, headers={"Host": "a" * 300})
        assert response.status_code == 400, (path, response.status_code)
    api = client.post("/api/token.php", headers={"Host": "a" * 300})
    assert api.status_code == 400 and api.json["error"] == "invalid_request"


def test_role_scopes_that_are_no_scope_names_are_refused(client):
    for scopes in (["x" * 100], ["Has Space"], ["a\u0000"], [""]):
        response = client.put("/_sandbox/roles/Consumer", json={"scopes": scopes}, headers=ADMIN)
        assert response.status_code == 400 and "scope names" in response.json["message"], response.text
    assert client.put("/_sandbox/roles/Consumer", json={"scopes": ["default", "new.scope-1"]},
                      headers=ADMIN).status_code == 200


@pytest.mark.parametrize("organization_id", [2**63, 2**31, -1])
def test_fixture_ids_beyond_the_columns_range_are_refused(client, organization_id):
    fixtures = {"organizations": [{"id": organization_id, "name": "Big"}]}
    response = client.post("/_sandbox/reset", json=fixtures, headers=ADMIN)
    assert response.status_code == 400 and "organizations[0].id" in response.json["message"], response.text


def test_a_fixture_client_of_an_organization_beyond_the_range_is_refused(client):
    fixtures = {"users": [{"username": "qa-user", "email": "qa@example.com", "password": "qa-password"}],
                "clients": [{"dialect": "mokapen", "client_id": "qa", "client_secret": "qa-secret",
                             "kind": "private", "organization": 2**63}]}
    response = client.post("/_sandbox/reset", json=fixtures, headers=ADMIN)
    assert response.status_code == 400 and "clients[0].organization" in response.json["message"], response.text
