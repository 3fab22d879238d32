"""The mokapen dialect (seeds 000 and 001): the OAuth 2.0 server, the organization API, the dashboard."""
import base64
import io
import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from helpers import csrf_token, login
from oauth_sandbox import clock
from oauth_sandbox.dialects.mokapen import DEMO_LOGO

PUBLIC = {"client_id": "mokapen-public-demo", "client_secret": "mokapen-public-demo-secret"}
PRIVATE = {"client_id": "mokapen-private-demo", "client_secret": "mokapen-private-demo-secret"}
REDIRECT = "https://example.com/callback"
STATE = "0123456789abcdef"
SEED_JWT_HEADER = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni"  # {"typ":"JWT","alg":"RS256"… as the seed's token begins
PNG = DEMO_LOGO  # a 1×1 PNG


def basic(credentials):
    """HTTP Basic credentials for {"client_id", "client_secret"}."""
    return base64.b64encode(f"{credentials['client_id']}:{credentials['client_secret']}".encode()).decode()


def authorize_url(**params):
    query = {"client_id": "mokapen-public-demo", "redirect_uri": REDIRECT, "response_type": "code",
             "scope": "tasks.read tasks.write", "state": STATE}
    query.update(params)
    return "/oauth/authorize?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


def query_of(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def approve(client, url, organization_id="849"):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"csrf_token": csrf_token(page.text), "approve": "Approve",
                                  "organization_id": organization_id})


def code_for(client, organization_id="849", **params):
    login(client)
    response = approve(client, authorize_url(**params), organization_id)
    assert response.status_code == 302, response.text
    return query_of(response.headers["Location"])["code"]


def exchange(client, code, **extra):
    return client.post("/oauth/token", data={"grant_type": "authorization_code", **PUBLIC, "redirect_uri": REDIRECT,
                                             "code": code, **extra})


def private_token(client, scope="tasks.read tasks.write contacts.read", organization_id="849"):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", **PRIVATE, "scope": scope,
                                                 "organization_id": organization_id})
    assert response.status_code == 200, response.text
    return response.json["access_token"]


def api(client, method, path, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **kwargs.pop("headers", {})}
    return client.open(path, method=method, headers=headers, **kwargs)


def assert_error(response, status, error):
    assert response.status_code == status, response.text
    assert response.json["error"] == error and response.json["error_description"]


# --- /oauth/token ------------------------------------------------------------------------------

def test_seed_client_credentials_request(client):
    response = client.post("/oauth/token", data="grant_type=client_credentials&client_id=mokapen-private-demo"
                           "&client_secret=mokapen-private-demo-secret&scope=tasks.read tasks.write contacts.read"
                           "&organization_id=849", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.text
    assert list(response.json) == ["token_type", "expires_in", "access_token", "organization_id", "organization_name"]
    assert response.json["token_type"] == "Bearer" and response.json["expires_in"] == 31536000
    assert (response.json["organization_id"], response.json["organization_name"]) == (849, "Your Organization")
    assert response.json["access_token"].startswith(SEED_JWT_HEADER)
    assert response.headers["Cache-Control"] == "no-store"


def test_client_credentials_with_http_basic(client):
    basic = base64.b64encode(b"mokapen-private-demo:mokapen-private-demo-secret").decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "organization_id": "849"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


@pytest.mark.parametrize("data, status, error", [
    ({"organization_id": None}, 400, "invalid_request"),
    ({"organization_id": "850"}, 400, "invalid_request"),
    ({"scope": "contacts.write"}, 400, "invalid_scope"),
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({**PUBLIC}, 400, "unauthorized_client"),
])
def test_client_credentials_errors(client, data, status, error):
    form = {"grant_type": "client_credentials", **PRIVATE, "organization_id": "849", **data}
    response = client.post("/oauth/token", data={k: v for k, v in form.items() if v is not None})
    assert_error(response, status, error)


def test_authorization_code_flow_as_the_seed_shows(client):
    page = None
    login(client)
    page = client.get(authorize_url())
    assert "Your Organization (849)" in page.text and "Other Organization" not in page.text
    response = approve(client, authorize_url())
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT + "?") and params["state"] == STATE

    response = exchange(client, params["code"])
    assert response.status_code == 200, response.text
    body = response.json
    assert list(body) == ["token_type", "expires_in", "access_token", "refresh_token", "organization_id",
                          "organization_name"]
    assert body["refresh_token"].startswith("def50200") and body["expires_in"] == 31536000
    assert (body["organization_id"], body["organization_name"]) == (849, "Your Organization")
    tasks = api(client, "GET", "/api/v1/849/tasks", body["access_token"])
    assert [task["title"] for task in tasks.json["data"]] == ["Send the quarterly report", "Call Ada"]


def test_user_chooses_another_organization(client):
    login(client, "janedoe")
    response = approve(client, authorize_url(), organization_id="850")
    body = exchange(client, query_of(response.headers["Location"])["code"]).json
    assert (body["organization_id"], body["organization_name"]) == (850, "Other Organization")


def test_consent_refuses_an_organization_the_user_is_not_in(client):
    login(client)
    response = approve(client, authorize_url(), organization_id="850")
    assert response.status_code == 200 and "Location" not in response.headers and "Not a valid choice" in response.text


@pytest.mark.parametrize("params, error", [
    ({"scope": None}, "invalid_scope"),
    ({"scope": "tasks.read contacts.write"}, "invalid_scope"),
    ({"state": "short"}, "invalid_request"),
    ({"state": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_authorize_errors_redirect_back(client, params, error):
    login(client)
    response = client.get(authorize_url(**params))
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?")
    assert query_of(response.headers["Location"])["error"] == error


@pytest.mark.parametrize("params", [{"client_id": "nobody"}, {"redirect_uri": "https://evil.example/cb"},
                                    {"redirect_uri": None}])
def test_authorize_never_redirects_to_unknown_places(client, params):
    response = client.get(authorize_url(**params), headers={"Accept": "application/json"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_refresh_rotates_and_keeps_the_organization(client):
    body = exchange(client, code_for(client)).json
    response = client.post("/oauth/token", data={"grant_type": "refresh_token", **PUBLIC,
                                                 "refresh_token": body["refresh_token"]})
    assert response.status_code == 200, response.text
    assert response.json["organization_id"] == 849 and response.json["refresh_token"].startswith("def50200")
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", **PUBLIC,
                                              "refresh_token": body["refresh_token"]})
    assert_error(again, 400, "invalid_grant")
    assert api(client, "GET", "/api/v1/849/tasks", body["access_token"]).status_code == 401


def test_twenty_concurrent_refreshes_leave_one_successor(client, live_server):
    refresh_token = exchange(client, code_for(client)).json["refresh_token"]
    barrier = Barrier(20)

    def refresh(_):
        barrier.wait()
        return requests.post(f"{live_server.url}/oauth/token", timeout=60, data={
            "grant_type": "refresh_token", **PUBLIC, "refresh_token": refresh_token}).status_code

    with ThreadPoolExecutor(20) as pool:
        assert sorted(pool.map(refresh, range(20))) == [200] + [400] * 19


def test_revocation_and_introspection(client):
    token = private_token(client)
    response = client.post("/oauth/introspect", data={"token": token, **PRIVATE})
    assert response.json["active"] is True and response.json["organization_id"] == 849
    assert response.json["scope"] == "tasks.read tasks.write contacts.read"
    assert client.post("/oauth/revoke", data={"token": token, **PRIVATE}).status_code == 200
    assert client.post("/oauth/introspect", data={"token": token, **PRIVATE}).json == {"active": False}
    assert api(client, "GET", "/api/v1/849/contacts", token).status_code == 401


def test_metadata_and_jwks(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json
    assert metadata["token_endpoint"] == "http://localhost/oauth/token"
    assert metadata["jwks_uri"] == "http://localhost/oauth/jwks"
    keys = client.get("/oauth/jwks").json["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"


# --- /api/v1/{org_id} --------------------------------------------------------------------------

def test_contacts_and_the_seeds_headers(client):
    response = api(client, "GET", "/api/v1/849/contacts", private_token(client))
    assert response.status_code == 200
    assert [c["name"] for c in response.json["data"]] == ["Ada Lovelace", "Grace Hopper"]


def test_tasks_crud(client):
    token = private_token(client)
    created = api(client, "POST", "/api/v1/849/tasks", token, json={"title": "Write tests"})
    assert created.status_code == 201 and created.json["data"]["title"] == "Write tests"
    task_id = created.json["data"]["id"]
    updated = api(client, "PATCH", f"/api/v1/849/tasks/{task_id}", token, json={"done": True})
    assert updated.json["data"] == {"id": task_id, "title": "Write tests", "done": True}
    assert api(client, "GET", f"/api/v1/849/tasks/{task_id}", token).json["data"]["done"] is True
    assert api(client, "DELETE", f"/api/v1/849/tasks/{task_id}", token).status_code == 204
    assert_error(api(client, "GET", f"/api/v1/849/tasks/{task_id}", token), 404, "not_found")
    assert_error(api(client, "POST", "/api/v1/849/tasks", token, json={"done": True}), 400, "invalid_request")
    assert_error(api(client, "POST", "/api/v1/849/tasks", token, data="{", content_type="application/json"), 400,
                 "invalid_request")


def test_scope_is_enforced(client):
    token = private_token(client, scope="tasks.read")
    assert api(client, "GET", "/api/v1/849/tasks", token).status_code == 200
    assert_error(api(client, "POST", "/api/v1/849/tasks", token, json={"title": "x"}), 403, "insufficient_scope")
    assert_error(api(client, "GET", "/api/v1/849/contacts", token), 403, "insufficient_scope")


def test_organization_is_enforced(client):
    token = private_token(client)
    assert_error(api(client, "GET", "/api/v1/850/contacts", token), 403, "access_denied")
    other_contact = 3  # Alan Turing, organization 850
    assert_error(api(client, "GET", f"/api/v1/849/contacts/{other_contact}", token), 404, "not_found")


def test_missing_expired_and_garbage_tokens_are_401_with_www_authenticate(client):
    response = client.get("/api/v1/849/contacts", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(api(client, "GET", "/api/v1/849/contacts", "garbage"), 401, "invalid_token")
    token = private_token(client)
    clock.advance(31536000)
    response = api(client, "GET", "/api/v1/849/contacts", token)
    assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_another_scheme_than_bearer_is_answered_as_no_token_saying_how_to_send_one(client):
    response = client.get("/api/v1/849/contacts", headers={"Accept": "application/json",
                                                           "Authorization": "Basic " + basic(PRIVATE)})
    assert response.status_code == 401 and response.json == {
        "error": "missing_authorization",
        "error_description": "Send the access token as 'Authorization: Bearer ACCESS_TOKEN'"}
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="OAuth Sandbox", error="missing_authorization", '
        'error_description="Send the access token as \'Authorization: Bearer ACCESS_TOKEN\'"')


@pytest.mark.parametrize("endpoint", ["/oauth/revoke", "/oauth/introspect"])
def test_an_unknown_token_type_hint_is_still_unsupported_token_type(client, endpoint):
    response = client.post(endpoint, data={**PRIVATE, "token": "x", "token_type_hint": "bogus"})
    assert response.json == {"error": "unsupported_token_type", "error_description": "unsupported token type"}


@pytest.mark.parametrize("how", ["body", "basic", "none"])
def test_a_wrong_secret_is_told_client_authentication_failed(client, how):
    wrong = {**PRIVATE, "client_secret": "wrong"}
    data = {"grant_type": "client_credentials", "organization_id": "849", **(wrong if how == "body" else {})}
    headers = {"Authorization": "Basic " + basic(wrong)} if how == "basic" else {}
    response = client.post("/oauth/token", data=data, headers=headers)
    assert response.status_code == 401 and response.json == {"error": "invalid_client",
                                                             "error_description": "Client authentication failed"}
    assert response.headers["WWW-Authenticate"] == (
        'Basic error="invalid_client", error_description="Client authentication failed"')


def test_accept_header_is_honoured(client):
    token = private_token(client)
    assert_error(api(client, "GET", "/api/v1/849/contacts", token, headers={"Accept": "text/html"}), 406,
                 "not_acceptable")


# --- the developer dashboard -------------------------------------------------------------------

def dashboard_post(client, url, data, page_url=None, **kwargs):
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)


def new_app(client, kind="public", logo=PNG, **fields):
    data = {"kind": kind, "company_name": "Acme", "company_url": "https://acme.example", "name": f"Acme {kind}",
            "redirect_url": "https://acme.example/cb" if kind == "public" else "", "dedicated_user": "1",
            "stakeholders": "", **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo), "logo.png")
    return dashboard_post(client, "/account/developer/apps/new", data, content_type="multipart/form-data")


def save_scopes(client, location, scopes):
    return dashboard_post(client, location, {"scopes": scopes})


def test_private_app_is_active_at_once_generates_tokens_and_can_be_disabled(client):
    login(client)
    response = new_app(client, "private")
    assert response.status_code == 302 and response.headers["Location"].endswith("/scopes")
    page = save_scopes(client, response.headers["Location"], ["contacts.read"])
    client_id = re.search(r'id="client-id">([^<]+)<', page.text).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', page.text).group(1)
    app_url = response.headers["Location"].rsplit("/", 1)[0]

    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                              "client_secret": secret, "organization_id": "849"}).json
    assert api(client, "GET", "/api/v1/849/contacts", token["access_token"]).status_code == 200

    generated = dashboard_post(client, app_url + "/token", {}, page_url=app_url + "/token")
    dashboard_token = re.search(r'id="generated-token">([^<]+)<', generated.text).group(1)
    assert api(client, "GET", "/api/v1/849/contacts", dashboard_token).status_code == 200

    dashboard_post(client, app_url + "/disable", {}, page_url=app_url)
    assert_error(api(client, "GET", "/api/v1/849/contacts", dashboard_token), 401, "invalid_token")
    dashboard_post(client, app_url + "/enable", {}, page_url=app_url)
    assert api(client, "GET", "/api/v1/849/contacts", dashboard_token).status_code == 200


def test_public_app_review_credentials_and_scope_change(client):
    login(client)
    location = new_app(client, "public").headers["Location"]
    app_url = location.rsplit("/", 1)[0]
    save_scopes(client, location, ["tasks.read"])
    assert ">pending<" in client.get(app_url).text
    assert "available once the application is active" in client.get(app_url + "/credentials").text

    review = client.get("/account/developer/review")
    client_id = re.search(r'id="review-([^"]+)"', review.text).group(1)
    pk = app_url.rsplit("/", 1)[1]
    dashboard_post(client, f"/account/developer/review/{pk}/approve", {}, page_url="/account/developer/review")
    assert ">active<" in client.get(app_url).text

    page = dashboard_post(client, app_url + "/secret", {}, page_url=app_url + "/credentials")
    secret = re.search(r'id="client-secret">([^<]+)<', page.text).group(1)
    response = approve(client, authorize_url(client_id=client_id, redirect_uri="https://acme.example/cb",
                                             scope="tasks.read"))
    code = query_of(response.headers["Location"])["code"]
    token = client.post("/oauth/token", data={"grant_type": "authorization_code", "client_id": client_id,
                                              "client_secret": secret, "redirect_uri": "https://acme.example/cb",
                                              "code": code}).json["access_token"]
    assert api(client, "GET", "/api/v1/849/tasks", token).status_code == 200

    save_scopes(client, location, ["tasks.read", "contacts.read"])
    assert ">pending<" in client.get(app_url).text
    assert api(client, "GET", "/api/v1/849/tasks", token).status_code == 401


@pytest.mark.parametrize("app_config", [{"MOKAPEN_AUTO_APPROVE": True}])
def test_auto_approve_for_qa(client):
    login(client)
    location = new_app(client, "public").headers["Location"]
    page = save_scopes(client, location, ["tasks.read"])
    assert ">active<" in page.text and 'id="client-secret"' in page.text


@pytest.mark.parametrize("fields, error", [
    ({"logo": None}, "A company logo is required."),
    ({"logo": b"<svg></svg>"}, "must be a PNG, JPEG, GIF or WebP"),
    ({"logo": PNG + b"\0" * 300 * 1024}, "at most 256 KiB"),
    ({"redirect_url": ""}, "Public apps need a redirect URL."),
    ({"company_url": "acme.example"}, "Enter an absolute URL"),
    ({"kind": "private", "dedicated_user": "999"}, "choose one"),
    ({"name": ""}, "This field is required."),
])
def test_bad_application_input_gets_the_form_back(client, fields, error):
    login(client)
    kind = fields.pop("kind", "public")
    logo = fields.pop("logo", PNG)
    response = new_app(client, kind, logo=logo, **fields)
    assert response.status_code == 200 and error in response.text


def test_members_cannot_manage_apps_but_can_switch_organizations(client):
    login(client, "janedoe")
    assert client.get("/account/developer/apps/new").status_code == 403  # member of 849, her first
    page = client.get("/account/organizations")
    client.post("/account/organizations/850/switch", data={"csrf_token": csrf_token(page.text)})
    assert "Other Organization" in client.get("/account/developer/apps").text
    assert client.get("/account/developer/apps/new").status_code == 200  # owner of 850


# --- apps that may not act say why ------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"SANDBOX_ADMIN_TOKEN": "test-admin-token"}])
@pytest.mark.parametrize("status, says", [("pending", "pending review"), ("rejected", "rejected"),
                                          ("disabled", "disabled")])
def test_a_request_for_an_app_that_is_not_active_says_its_status(client, status, says):
    admin = {"Authorization": "Bearer test-admin-token"}
    token = private_token(client)
    for client_id in ("mokapen-public-demo", "mokapen-private-demo"):
        patched = client.patch(f"/_sandbox/clients/{client_id}", headers=admin, json={"status": status})
        assert patched.status_code == 200, patched.text

    authorize = client.get(authorize_url(), headers={"Accept": "application/json"})
    assert_error(authorize, 400, "invalid_client")
    assert says in authorize.json["error_description"]
    assert "Location" not in authorize.headers

    grant = {"grant_type": "client_credentials", **PRIVATE, "organization_id": "849"}
    in_body = client.post("/oauth/token", data=grant)
    assert_error(in_body, 400, "invalid_client")
    assert says in in_body.json["error_description"]
    basic = base64.b64encode(b"mokapen-private-demo:mokapen-private-demo-secret").decode()
    as_basic = client.post("/oauth/token", data={"grant_type": "client_credentials", "organization_id": "849"},
                           headers={"Authorization": f"Basic {basic}"})
    assert_error(as_basic, 401, "invalid_client")
    assert says in as_basic.json["error_description"]

    listed = api(client, "GET", "/api/v1/849/contacts", token)  # a token the app was issued before
    assert_error(listed, 401, "invalid_token")
    assert says in listed.json["error_description"]


def test_an_unknown_client_is_still_one_the_server_does_not_know(client):
    unknown = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "no-such-app",
                                                "client_secret": "x", "organization_id": "849"})
    assert_error(unknown, 400, "invalid_client")
    assert unknown.json["error_description"] == "The client does not exist on this server."
    authorize = client.get(authorize_url(client_id="no-such-app"), headers={"Accept": "application/json"})
    assert authorize.json["error_description"] == "The client does not exist on this server."


def test_seed_001_an_approved_public_apps_secret_is_retrieved_once_on_the_credentials_tab(client):
    """Seed 001: "Once status is Active, open the Credentials tab to retrieve your client_id and client_secret"."""
    login(client)
    location = new_app(client, "public").headers["Location"]
    app_url = location.rsplit("/", 1)[0]
    save_scopes(client, location, ["tasks.read"])
    pk = app_url.rsplit("/", 1)[1]
    dashboard_post(client, f"/account/developer/review/{pk}/approve", {}, page_url="/account/developer/review")

    tab = client.get(app_url + "/credentials").text
    client_id = re.search(r'id="client-id">([^<]+)<', tab).group(1)
    assert 'value="Retrieve client secret"' in tab and 'id="client-secret"' not in tab
    shown = dashboard_post(client, app_url + "/secret", {}, page_url=app_url + "/credentials")
    secret = re.search(r'id="client-secret">([^<]+)<', shown.text).group(1)
    assert "shown this once" in shown.text

    again = client.get(app_url + "/credentials").text
    assert "Retrieve client secret" not in again and secret not in again and "stored hashed" in again
    response = approve(client, authorize_url(client_id=client_id, redirect_uri="https://acme.example/cb",
                                             scope="tasks.read"))
    code = query_of(response.headers["Location"])["code"]
    exchanged = client.post("/oauth/token", data={"grant_type": "authorization_code", "client_id": client_id,
                                                  "client_secret": secret, "redirect_uri": "https://acme.example/cb",
                                                  "code": code})
    assert exchanged.status_code == 200, exchanged.text


def test_seed_000_generate_token_is_on_the_credentials_tab_of_a_private_app(client):
    """Seed 000: "From the Developer dashboard, open your application, go to Credentials, and click Generate Token"."""
    login(client)
    apps = client.get("/account/developer/apps").text
    pk = re.search(r'href="/account/developer/apps/(\d+)"[^>]*>Mokapen private demo', apps).group(1)
    credentials = f"/account/developer/apps/{pk}/credentials"
    tab = client.get(credentials).text
    assert f'action="/account/developer/apps/{pk}/token"' in tab and 'value="Generate Token"' in tab
    generated = dashboard_post(client, f"/account/developer/apps/{pk}/token", {}, page_url=credentials)
    token = re.search(r'id="generated-token">([^<]+)<', generated.text).group(1)
    assert re.search(r'id="token-expiry">\d{4}-\d\d-\d\d \d\d:\d\d UTC<', generated.text)
    assert api(client, "GET", "/api/v1/849/contacts", token).status_code == 200
