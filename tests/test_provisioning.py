"""Provisioning at runtime: users, clients, organizations, roles and operations created, listed, read, changed and
deleted through the admin API (validated as the fixtures file is, with the field named), the fixtures' JSON Schema,
and the CLI's create-client and seed-demo. Everything is checked as a user sees it: logins, tokens, refusals."""
import base64
import json
import re
import stat
from pathlib import Path

import pytest

from helpers import csrf_token, login, query_of

ADMIN = {"Authorization": "Bearer test-admin-token"}
QA_USER = {"username": "qa-user", "email": "qa@example.com", "full_name": "QA User", "password": "qa-password"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token"}


def admin(client, method, path, payload=None):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload)


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# --- users -------------------------------------------------------------------------------------

def test_a_created_user_logs_in_on_every_dialects_login(client):
    created = admin(client, "POST", "/users", {**QA_USER, "consumer_role": "Consumer",
                                               "memberships": [{"organization": 849, "role": "member"}],
                                               "claims": {"tenant": "qa"}})
    assert created.status_code == 201, created.json
    assert created.json == {"username": "qa-user", "email": "qa@example.com", "full_name": "QA User",
                            "claims": {"tenant": "qa"}, "consumer_role": "Consumer",
                            "memberships": [{"organization": 849, "role": "member"}]}
    assert "password" not in json.dumps(created.json)
    # consumer: /consumer/login gives a JWT with the role's scopes
    consumer = client.post("/consumer/login", json={"username": "qa-user", "password": "qa-password"})
    assert consumer.status_code == 200 and consumer.json["token"], consumer.json
    # v1: /v1/oauth/ gives a token
    v1 = client.post("/v1/oauth/?username=qa-user&password=qa-password")
    assert v1.status_code == 200 and v1.json["success"] is True, v1.json
    # php (and mokapen's pages): the login page, then php's authorization code and userinfo
    page = login(client, "qa-user", "qa-password")
    assert page.status_code == 302, page.text
    consent = client.get("/api/authorize.php?client_id=php-demo&redirect_uri=http://localhost:8000/callback"
                         "&response_type=code&state=xyz")
    answer = client.post(consent.request.url, data={"csrf_token": csrf_token(consent.text), "approve": "Approve"})
    code = query_of(answer.headers["Location"])["code"]
    token = client.post("/api/token.php", data={"code": code, "client_id": "php-demo",
                                                "client_secret": "php-demo-secret"}).json["access_token"]
    userinfo = client.get("/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.json == {"username": "qa-user", "email": "qa@example.com", "full_name": "QA User"}
    # mokapen: the user's membership of 849 is offered on the consent page
    mokapen = client.get("/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/callback"
                         "&response_type=code&scope=tasks.read&state=0123456789abcdef")
    assert mokapen.status_code == 200 and "Your Organization" in mokapen.text and "Other Organization" not in \
        mokapen.text
    approved = client.post(mokapen.request.url, data={"csrf_token": csrf_token(mokapen.text), "approve": "Approve",
                                                      "organization_id": "849"})
    issued = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query_of(approved.headers["Location"])["code"],
        "client_id": "mokapen-public-demo", "client_secret": "mokapen-public-demo-secret",
        "redirect_uri": "https://example.com/callback"})
    assert issued.status_code == 200 and issued.json["organization_id"] == 849, issued.json
    # listed and read
    assert "qa-user" in [user["username"] for user in admin(client, "GET", "/users").json["users"]]
    assert admin(client, "GET", "/users/qa-user").json["memberships"] == [{"organization": 849, "role": "member"}]


def test_a_bad_user_body_gives_the_located_400_and_stores_nothing(client):
    for body, words in [
        ({"username": "x"}, "'email': required"),
        ({**QA_USER, "email": 5}, "'email': must be a str"),
        ({**QA_USER, "email": "nope"}, "'email': 'nope' is not an email address"),
        ({**QA_USER, "colour": "red"}, "'colour': unknown field"),
        ({**QA_USER, "consumer_role": "Ghost"}, "'consumer_role': no role 'Ghost'"),
        ({**QA_USER, "memberships": [{"organization": 999}]}, "'memberships[0].organization': no organization 999"),
        ({**QA_USER, "memberships": [{"organization": 849, "role": "boss"}]}, "'memberships[0].role': one of"),
        ({**QA_USER, "claims": ["a"]}, "'claims': must be a dict"),
        ({**QA_USER, "username": "u" * 65}, "'username': must be 1 to 64 characters"),
        ({**QA_USER, "email": "jane@example.com"}, "'email': 'jane@example.com' is already another user's"),
    ]:
        response = admin(client, "POST", "/users", body)
        assert response.status_code == 400 and words in response.json["message"], (body, response.json)
        assert response.json["error"] == "bad_request"
        assert admin(client, "GET", "/users/qa-user").status_code == 404
    assert admin(client, "POST", "/users", {**QA_USER, "username": "johndoe"}).status_code == 409
    assert admin(client, "POST", "/users", None).status_code == 400


def test_a_user_is_changed_at_once_and_a_deleted_one_is_refused(client):
    assert admin(client, "POST", "/users", QA_USER).status_code == 201
    token = client.post("/v1/oauth/?username=qa-user&password=qa-password").json["data"]["access_token"]
    changed = admin(client, "PATCH", "/users/qa-user", {"full_name": "Renamed", "consumer_role": "Backend",
                                                         "memberships": [{"organization": 850, "role": "owner"}],
                                                         "claims": {"level": 3}})
    assert changed.status_code == 200, changed.json
    assert (changed.json["full_name"], changed.json["consumer_role"], changed.json["memberships"],
            changed.json["claims"]) == ("Renamed", "Backend", [{"organization": 850, "role": "owner"}], {"level": 3})
    me = client.get("/v1/user/", headers={"Authorization": f"Bearer {token}"})
    assert me.json["data"]["full_name"] == "Renamed", me.json
    assert admin(client, "PATCH", "/users/qa-user", {"consumer_role": None}).json["consumer_role"] is None
    refused = admin(client, "PATCH", "/users/qa-user", {"username": "other"})
    assert refused.status_code == 400 and "'username': cannot be changed" in refused.json["message"]
    assert admin(client, "DELETE", "/users/qa-user").json == {"deleted": "qa-user"}
    assert client.get("/v1/user/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/v1/oauth/?username=qa-user&password=qa-password").json["success"] is False
    assert admin(client, "GET", "/users/qa-user").status_code == 404
    assert admin(client, "DELETE", "/users/qa-user").status_code == 404


def test_deleting_a_user_who_owns_clients_is_a_409_naming_them(client):
    response = admin(client, "DELETE", "/users/johndoe")
    assert response.status_code == 409 and response.json["error"] == "conflict"
    assert "consumer-demo" in response.json["message"] and "delete them first" in response.json["message"]
    assert client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).status_code == 200


# --- clients -----------------------------------------------------------------------------------

def test_a_created_client_of_each_dialect_gets_tokens_and_a_deleted_one_is_refused(client):
    php = admin(client, "POST", "/clients", {"dialect": "php", "client_id": "qa-php", "client_secret": "qa-secret",
                                             "redirect_uris": ["https://qa.example/cb"], "headless_user": "janedoe",
                                             "claims": {}})  # php's tokens are opaque: claims are refused (test_claims)
    assert php.status_code == 201, php.json
    assert php.json["headless_user"] == "janedoe" and php.json["claims"] == {}
    assert "client_secret" not in php.json
    answer = client.get("/api/authorize.php?client_id=qa-php&redirect_uri=https://qa.example/cb&response_type=code"
                        "&state=s")
    code = query_of(answer.headers["Location"])["code"]
    assert client.post("/api/token.php", data={"code": code, "client_id": "qa-php",
                                               "client_secret": "qa-secret"}).status_code == 200

    consumer = admin(client, "POST", "/clients", {"dialect": "consumer", "client_id": "qa-app",
                                                  "client_secret": "qa-secret", "owner": "janedoe"})
    assert consumer.status_code == 201 and consumer.json["owner"] == "janedoe", consumer.json
    token = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                        headers=basic("qa-app", "qa-secret"))
    assert token.status_code == 200 and token.json["access_token"], token.json

    admin(client, "POST", "/organizations", {"id": 7, "name": "QA Org",
                                             "members": [{"username": "janedoe", "role": "owner"}]})
    mokapen = admin(client, "POST", "/clients", {"dialect": "mokapen", "client_id": "qa-private",
                                                 "client_secret": "qa-secret", "kind": "private", "organization": 7,
                                                 "dedicated_user": "janedoe", "scopes": ["tasks.read"]})
    assert mokapen.status_code == 201, mokapen.json
    assert (mokapen.json["kind"], mokapen.json["organization"], mokapen.json["dedicated_user"]) == \
        ("private", 7, "janedoe")
    grant = {"grant_type": "client_credentials", "client_id": "qa-private", "client_secret": "qa-secret",
             "scope": "tasks.read", "organization_id": "7"}
    issued = client.post("/oauth/token", data=grant)
    assert issued.status_code == 200 and issued.json["organization_id"] == 7, issued.json
    bearer = {"Authorization": f"Bearer {issued.json['access_token']}", "Accept": "application/json"}
    assert client.get("/api/v1/7/tasks", headers=bearer).status_code == 200
    listed = admin(client, "GET", "/clients?dialect=mokapen").json["clients"]
    assert {"qa-private", "mokapen-public-demo"} <= {found["client_id"] for found in listed}
    assert {found["dialect"] for found in listed} == {"mokapen"}

    for client_id in ("qa-php", "qa-app", "qa-private"):
        assert admin(client, "DELETE", f"/clients/{client_id}").json == {"deleted": client_id}
        assert admin(client, "GET", f"/clients/{client_id}").status_code == 404
    refused = client.post("/oauth/token", data=grant)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_client", refused.json
    assert client.post("/authorization/token", data={"grant_type": "client_credentials"},
                       headers=basic("qa-app", "qa-secret")).status_code == 401
    assert client.get("/api/v1/7/tasks", headers=bearer).status_code == 401  # its tokens went with it


def test_a_client_is_changed_at_once(client):
    changed = admin(client, "PATCH", "/clients/php-demo", {"client_secret": "new-secret", "name": "Renamed",
                                                            "redirect_uris": ["https://new.example/cb"],
                                                            "headless_user": "janedoe"})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Renamed" and changed.json["redirect_uris"] == ["https://new.example/cb"]
    answer = client.get("/api/authorize.php?client_id=php-demo&redirect_uri=https://new.example/cb"
                        "&response_type=code&state=s")
    code = query_of(answer.headers["Location"])["code"]
    assert client.post("/api/token.php", data={"code": code, "client_id": "php-demo",
                                               "client_secret": "php-demo-secret"}).status_code == 401
    for body, words in [({"kind": "private"}, "'kind': cannot be changed"),
                        ({"scopes": "all"}, "'scopes' must be a list"), ({"claims": 1}, "'claims': must be a dict"),
                        ({"name": "x" * 256}, "'name': must be 1 to 255")]:
        response = admin(client, "PATCH", "/clients/php-demo", body)
        assert response.status_code == 400 and words in response.json["message"], (body, response.json)


def test_a_bad_client_body_gives_the_located_400(client):
    for body, words in [
        ({"dialect": "v1", "client_id": "a", "client_secret": "b"}, "'dialect': one of php, consumer, mokapen"),
        ({"dialect": "php", "client_id": "a"}, "'client_secret': required"),
        ({"dialect": "php", "client_id": "a", "client_secret": "b", "redirect_uris": "x"},
         "'redirect_uris': must be a list"),
        ({"dialect": "php", "client_id": "a", "client_secret": "b", "status": "sleeping"}, "'status': one of"),
        ({"dialect": "php", "client_id": "a", "client_secret": "b", "kind": "public"}, "'kind': unknown field"),
        ({"dialect": "consumer", "client_id": "a", "client_secret": "b"}, "'owner': required"),
        ({"dialect": "mokapen", "client_id": "a", "client_secret": "b", "organization": 9},
         "'organization': no organization 9"),
        ({"dialect": "mokapen", "client_id": "a", "client_secret": "b", "organization": 2**40},
         "'organization': must be a whole number"),
        ({"dialect": "php", "client_id": "a", "client_secret": "b", "headless_user": "ghost"},
         "'headless_user': no user 'ghost'"),
    ]:
        response = admin(client, "POST", "/clients", body)
        assert response.status_code == 400 and words in response.json["message"], (body, response.json)
        assert admin(client, "GET", "/clients/a").status_code == 404
    assert admin(client, "POST", "/clients", {"dialect": "php", "client_id": "php-demo",
                                              "client_secret": "x"}).status_code == 409


# --- mokapen organizations, consumer roles and operations --------------------------------------

def test_organizations_are_created_changed_and_deleted(client):
    created = admin(client, "POST", "/organizations", {"id": 7, "name": "QA Org",
                                                       "members": [{"username": "janedoe"}]})
    assert created.status_code == 201 and created.json == {
        "id": 7, "name": "QA Org", "members": [{"username": "janedoe", "role": "member"}]}
    assert admin(client, "POST", "/organizations", {"id": 7, "name": "Again"}).status_code == 409
    bad = admin(client, "POST", "/organizations", {"id": 8, "name": "X", "members": [{"username": "ghost"}]})
    assert bad.status_code == 400 and "'members[0]': no user 'ghost'" in bad.json["message"], bad.json
    changed = admin(client, "PATCH", "/organizations/7", {"name": "Renamed", "members": [
        {"username": "johndoe", "role": "owner"}]})
    assert changed.json == {"id": 7, "name": "Renamed", "members": [{"username": "johndoe", "role": "owner"}]}
    assert admin(client, "GET", "/users/johndoe").json["memberships"] == [
        {"organization": 7, "role": "owner"}, {"organization": 849, "role": "owner"}]
    assert 7 in [found["id"] for found in admin(client, "GET", "/organizations").json["organizations"]]
    refused = admin(client, "DELETE", "/organizations/849")
    assert refused.status_code == 409 and "mokapen-public-demo" in refused.json["message"]
    assert admin(client, "DELETE", "/organizations/7").json == {"deleted": 7}
    assert admin(client, "GET", "/organizations/7").status_code == 404
    assert admin(client, "GET", f"/organizations/{2**63}").status_code == 404


def test_roles_and_operations_are_created_and_deleted(client):
    created = admin(client, "POST", "/roles", {"name": "Tester", "scopes": ["authorization", "qa-scope"]})
    assert created.status_code == 201 and created.json == {"name": "Tester", "scopes": ["authorization", "qa-scope"]}
    assert admin(client, "POST", "/roles", {"name": "Tester", "scopes": []}).status_code == 409
    assert "'scopes': required" in admin(client, "POST", "/roles", {"name": "X"}).json["message"]
    admin(client, "POST", "/users", {**QA_USER, "consumer_role": "Tester"})
    operation = admin(client, "POST", "/operations", {"method": "GET", "path": "/qa_endpoint", "scope": "qa-scope",
                                                      "response": {"qa": True}})
    assert operation.status_code == 201, operation.json
    token = client.post("/consumer/login", json={"username": "qa-user", "password": "qa-password"}).json["token"]
    answer = client.get("/qa_endpoint", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json == {"qa": True}
    refused = admin(client, "DELETE", "/roles/Tester")
    assert refused.status_code == 409 and "hold the role" in refused.json["message"]
    assert admin(client, "DELETE", "/roles/Consumer").status_code == 409  # the default role
    assert admin(client, "POST", "/operations", {"method": "GET", "path": "/qa_endpoint",
                                                 "public": True}).status_code == 409
    bad = admin(client, "POST", "/operations", {"method": "GET", "path": "/x"})
    assert bad.status_code == 400 and "'scope': required" in bad.json["message"]
    assert admin(client, "DELETE", f"/operations/{operation.json['id']}").status_code == 200
    assert client.get("/qa_endpoint", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    admin(client, "DELETE", "/users/qa-user")
    assert admin(client, "DELETE", "/roles/Tester").json == {"deleted": "Tester"}
    assert admin(client, "GET", "/roles/Tester").status_code == 404


# --- every worker, and the reset --------------------------------------------------------------

def test_provisioned_data_is_seen_at_once_by_another_worker_and_a_reset_removes_it(app, client):
    from app import create_app

    worker = create_app({name: app.config[name] for name in (
        "SANDBOX_PROFILE", "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "RATELIMIT_STORAGE_URI",
        "SANDBOX_ADMIN_TOKEN")}).test_client()  # a second app on the same database
    # warm the other worker's reads (compiled statements, the mokapen key) before the data changes
    assert worker.post("/consumer/login", json={"username": "qa-user", "password": "qa-password"}).status_code != 200
    assert admin(client, "POST", "/users", {**QA_USER, "consumer_role": "Backend"}).status_code == 201
    assert admin(client, "POST", "/clients", {"dialect": "consumer", "client_id": "qa-app", "client_secret": "s",
                                              "owner": "qa-user"}).status_code == 201
    assert worker.post("/consumer/login", json={"username": "qa-user", "password": "qa-password"}).status_code == 200
    token = worker.post("/authorization/token", data={"grant_type": "client_credentials"},
                        headers=basic("qa-app", "s"))
    assert token.status_code == 200 and "backend" in token.json["scope"], token.json
    assert admin(worker, "DELETE", "/clients/qa-app").status_code == 200
    assert client.post("/authorization/token", data={"grant_type": "client_credentials"},
                       headers=basic("qa-app", "s")).status_code == 401
    admin(worker, "POST", "/reset")  # the reset's snapshot is the demo data's, not what was provisioned
    assert admin(client, "GET", "/users/qa-user").status_code == 404
    assert admin(client, "POST", "/users", QA_USER).status_code == 201
    admin(client, "POST", "/reset")
    assert admin(worker, "GET", "/users/qa-user").status_code == 404
    assert admin(worker, "GET", "/users/johndoe").status_code == 200


# --- the fixtures' JSON Schema -----------------------------------------------------------------

def readme_fixtures_example():
    """The fixtures document the README shows (its YAML block)."""
    import yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    text = readme.split("A fixtures file (JSON, or YAML")[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))


def test_the_fixtures_schema_validates_the_readme_example_and_refuses_what_the_loaders_refuse(client):
    import jsonschema_rs  # schemathesis's JSON Schema validator (requirements-dev)

    response = admin(client, "GET", "/fixtures/schema")
    assert response.status_code == 200 and response.mimetype == "application/json"
    schema = response.json
    assert jsonschema_rs.meta.is_valid(schema)
    validator = jsonschema_rs.validator_for(schema)
    example = readme_fixtures_example()
    assert validator.is_valid(example), [error.message for error in validator.iter_errors(example)]
    assert admin(client, "POST", "/reset", example).status_code == 200  # the loaders take it too
    for document, words in [
        ({"users": [{"username": "x", "password": "p"}]}, "users[0].email: required"),
        ({"users": [{**QA_USER, "colour": "red"}]}, "users[0].colour: unknown field"),
        ({"clients": [{"dialect": "php", "client_id": "a", "client_secret": "b", "kind": "private"}]},
         "clients[0].kind: unknown field"),
        ({"clients": [{"dialect": "v1", "client_id": "a", "client_secret": "b"}]}, "clients[0].dialect: one of"),
        ({"organizations": [{"id": "7", "name": "x"}]}, "organizations[0].id: must be a int"),
        ({"nope": []}, "unknown section"),
    ]:
        assert not validator.is_valid(document), document
        refused = admin(client, "POST", "/reset", document)
        assert refused.status_code == 400 and words in refused.json["message"], (document, refused.json)
    assert client.get("/_sandbox/fixtures/schema").status_code == 401  # behind the admin token


# --- the command line --------------------------------------------------------------------------

def secret_of(output):
    return output.split("client_secret: ")[1].split()[0]


def test_create_client_makes_an_app_each_dialects_token_endpoint_accepts(client, runner):
    php = runner.invoke(args=["create-client", "cli-php", "--redirect-uri", "https://cli.example/cb",
                              "--headless-user", "janedoe"])
    assert php.exit_code == 0, php.output
    answer = client.get("/api/authorize.php?client_id=cli-php&redirect_uri=https://cli.example/cb"
                        "&response_type=code&state=s")
    code = query_of(answer.headers["Location"])["code"]
    assert client.post("/api/token.php", data={"code": code, "client_id": "cli-php",
                                               "client_secret": secret_of(php.output)}).status_code == 200

    consumer = runner.invoke(args=["create-client", "cli-app", "--dialect", "consumer", "--owner", "janedoe"])
    assert consumer.exit_code == 0 and "owner janedoe" in consumer.output, consumer.output
    token = client.post("/authorization/token", data={"grant_type": "client_credentials"},
                        headers=basic("cli-app", secret_of(consumer.output)))
    assert token.status_code == 200 and token.json["access_token"], token.json

    mokapen = runner.invoke(args=["create-client", "cli-private", "--dialect", "mokapen", "--kind", "private",
                                  "--organization", "849", "--dedicated-user", "johndoe", "--scope", "tasks.read",
                                  "--secret", "cli-secret"])
    assert mokapen.exit_code == 0, mokapen.output
    issued = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "cli-private",
                                               "client_secret": "cli-secret", "scope": "tasks.read",
                                               "organization_id": "849"})
    assert issued.status_code == 200 and issued.json["organization_id"] == 849, issued.json


@pytest.mark.parametrize("args, words", [
    (["create-client", "x", "--dialect", "v1"], "The v1 dialect has no clients"),
    (["create-client", "x", "--dialect", "consumer"], "--owner: required"),
    (["create-client", "x", "--dialect", "mokapen"], "--organization: required"),
    (["create-client", "x", "--dialect", "php", "--kind", "private"], "--kind: unknown field"),
    (["create-client", "php-demo"], "already exists"),
])
def test_create_client_refuses_with_a_clear_message(runner, args, words):
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and words in result.output, result.output
    assert "Traceback" not in result.output


def run_seed_demo(tmp_path, profile, database="seed.db", **config):
    from app import create_app

    app = create_app({"SANDBOX_PROFILE": profile, "SECRET_KEY": "6e5975652d8a9d21b62da9324b0dd5b4ded318822e47736"
                                                              "894c3db18b522dd80",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / database}", **config})
    return app, app.test_cli_runner().invoke(args=["seed-demo"])


@pytest.mark.parametrize("profile", ["testing", "production"])
def test_seed_demo_loads_an_empty_database_and_says_so(tmp_path, profile):
    app, result = run_seed_demo(tmp_path, profile)
    assert result.exit_code == 0 and f"Demo data loaded into the {profile} profile's database" in result.output
    assert ("demo passwords and secrets are public" in result.output) == (profile == "production")
    assert "alembic" not in result.output  # no INFO line per migration before the command's own answer
    assert app.test_client().post("/consumer/login", json={"username": "johndoe",
                                                           "password": "demo-password"}).status_code == 200
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0 and again.output.startswith("The demo data is already loaded"), again.output
    app.test_cli_runner().invoke(args=["create-user", "alice", "--email", "alice@example.com", "--password", "x"])
    refused = app.test_cli_runner().invoke(args=["seed-demo"])
    assert refused.exit_code == 1 and "already holds users (alice, janedoe, johndoe)" in refused.output


def test_seed_demo_in_the_development_profile_says_why_there_is_nothing_to_do(tmp_path):
    app, result = run_seed_demo(tmp_path, "development", SANDBOX_ADMIN_TOKEN="test-admin-token")  # first start: demo
    assert result.exit_code == 0 and "Nothing to do: the development profile loaded the demo data" in result.output
    assert app.test_cli_runner().invoke(args=["create-user", "alice", "--email", "alice@example.com",
                                              "--password", "x"]).exit_code == 0
    refused = app.test_cli_runner().invoke(args=["seed-demo"])
    assert refused.exit_code == 1 and "already holds users (alice, janedoe, johndoe)" in refused.output
    assert "the development profile loads the demo data" in refused.output and "POST /_sandbox/reset" in \
        refused.output


# --- SandboxAdmin ------------------------------------------------------------------------------

def test_sandbox_admin_provisions_over_http(live_server):
    import requests

    from oauth_sandbox.client import SandboxAdmin, SandboxAdminError

    admin_client = SandboxAdmin(live_server.url, "test-admin-token")
    created = admin_client.create_user("qa-user", "qa@example.com", "qa-password", consumer_role="Consumer")
    assert created["consumer_role"] == "Consumer"
    assert "qa-user" in [user["username"] for user in admin_client.users()]
    assert admin_client.change_user("qa-user", full_name="Renamed")["full_name"] == "Renamed"
    admin_client.create_organization(7, "QA Org", members=[{"username": "qa-user", "role": "owner"}])
    assert admin_client.user("qa-user")["memberships"] == [{"organization": 7, "role": "owner"}]
    admin_client.create_client("consumer", "qa-app", "qa-secret", owner="qa-user", claims={"env": "qa"})
    assert admin_client.client("qa-app")["claims"] == {"env": "qa"}
    assert [found["client_id"] for found in admin_client.clients(dialect="consumer")][-1] == "qa-app"
    token = requests.post(f"{live_server.url}/authorization/token", data={"grant_type": "client_credentials"},
                          auth=("qa-app", "qa-secret"), timeout=10)
    assert token.status_code == 200, token.text
    with pytest.raises(SandboxAdminError) as refused:
        admin_client.delete_user("qa-user")
    assert refused.value.status == 409 and "qa-app" in refused.value.message
    with pytest.raises(SandboxAdminError) as bad:
        admin_client.create_client("php", "x", "y", redirect_uris="https://nope")
    assert bad.value.status == 400 and "'redirect_uris': must be a list" in bad.value.message
    assert admin_client.delete_client("qa-app") == {"deleted": "qa-app"}
    assert admin_client.delete_organization(7) == {"deleted": 7}
    assert admin_client.delete_user("qa-user") == {"deleted": "qa-user"}
    assert admin_client.create_role("Tester", ["authorization"]) == {"name": "Tester", "scopes": ["authorization"]}
    operation = admin_client.create_operation("GET", "/qa_ping", public=True, response={"pong": True})
    assert requests.get(f"{live_server.url}/qa_ping", timeout=10).json() == {"pong": True}
    admin_client.delete_operation(operation["id"])
    assert admin_client.delete_role("Tester") == {"deleted": "Tester"}
    assert "users" in admin_client.fixtures_schema()["properties"]


# --- the README's Provisioning subsection, run as printed ---------------------------------------

def readme_block(name, language):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0]
    return re.search(rf"```{language}\n(.*?)```", block, re.S).group(1)


def test_the_readme_provisioning_requests_and_calls_work_as_printed(live_server, tmp_path):
    import os
    import subprocess

    from oauth_sandbox.client import SandboxAdmin

    lines = readme_block("provisioning-curl", "sh").replace("\\\n", " ").splitlines()
    commands = []
    for line in lines[1:]:  # the first sets SANDBOX and ADMIN_TOKEN, which the test sets
        if line.startswith("# → "):
            commands[-1] = (commands[-1][0], line.removeprefix("# → "))
        elif line.strip():
            commands.append((line, None))
    assert len(commands) >= 15
    env = {**os.environ, "SANDBOX": live_server.url, "ADMIN_TOKEN": "test-admin-token"}
    for command, expected in commands:
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30,
                              cwd=tmp_path)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if expected is not None:
            pattern = ".*?".join(re.escape(part) for part in expected.split("…"))
            assert re.fullmatch(pattern, done.stdout.strip(), re.S), (command, expected, done.stdout)
    schema = json.loads((tmp_path / "fixtures.schema.json").read_text())
    assert schema["title"] == "OAuth Sandbox fixtures"
    namespace = {"admin": SandboxAdmin(live_server.url, "test-admin-token")}
    exec(readme_block("provisioning-python", "python"), namespace)  # noqa: S102 - the README's own code
    assert namespace["schema"] == schema
    assert namespace["admin"].users.get("janedoe")["username"] == "janedoe"
    assert "qa-user" not in [user["username"] for user in namespace["admin"].users()]


def test_the_provisioning_routes_are_in_the_openapi_document_as_sandbox_admin(client):
    paths = client.get("/openapi.json").json["paths"]
    expected = {("/_sandbox/users", "post"), ("/_sandbox/users", "get"), ("/_sandbox/users/{username}", "get"),
                ("/_sandbox/users/{username}", "patch"), ("/_sandbox/users/{username}", "delete"),
                ("/_sandbox/clients", "post"), ("/_sandbox/clients/{client_id}", "delete"),
                ("/_sandbox/organizations", "post"), ("/_sandbox/organizations/{organization_id}", "patch"),
                ("/_sandbox/roles", "post"), ("/_sandbox/roles/{name}", "put"), ("/_sandbox/operations", "post"),
                ("/_sandbox/operations/{operation_id}", "delete"), ("/_sandbox/fixtures/schema", "get")}
    for path, method in expected:
        assert paths[path][method]["tags"] == ["sandbox admin"], (path, method)
    assert "201" in paths["/_sandbox/users"]["post"]["responses"]
    assert "409" in paths["/_sandbox/users/{username}"]["delete"]["responses"]
    body = paths["/_sandbox/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"username", "email", "password", "claims", "consumer_role", "memberships"} <= set(body["properties"])


def test_oauth_sandbox_create_client_registers_in_a_data_dir(tmp_path):
    import os
    import subprocess
    import sys

    from oauth_sandbox.factory import create_app

    env = {name: value for name, value in os.environ.items() if not name.startswith(("SANDBOX_", "DATABASE_URL"))}
    env["PYTHONPATH"] = str(Path(__file__).parent.parent)  # the checkout's package
    data_dir = tmp_path / "sandbox-data"
    command = [sys.executable, "-m", "oauth_sandbox.command", "create-client", "--data-dir", str(data_dir)]
    made = subprocess.run([*command, "cli-app", "--dialect", "consumer", "--owner", "johndoe"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert made.returncode == 0 and "Client cli-app created for the consumer dialect" in made.stdout, made.stderr
    assert made.stderr == ""  # the data dir's first migration says nothing (Alembic's INFO lines are off)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700  # it holds the secrets
    refused = subprocess.run([*command, "x", "--dialect", "v1"], env=env, capture_output=True, text=True,
                             timeout=60, cwd=tmp_path)
    assert refused.returncode == 1 and "The v1 dialect has no clients" in refused.stderr
    app = create_app({"SANDBOX_ADMIN_TOKEN": "test-admin-token"}, instance_path=str(data_dir))  # `run` on that dir
    token = app.test_client().post("/authorization/token", data={"grant_type": "client_credentials"},
                                   headers=basic("cli-app", secret_of(made.stdout)))
    assert token.status_code == 200, token.json
