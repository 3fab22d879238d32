"""Custom claims: a user's, a client's and a client's next N tokens' claims in consumer's and mokapen's JWTs and in
mokapen's introspection; a registered claim is refused, never overridden."""
import base64
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

from oauth_sandbox.client import SandboxAdmin, SandboxAdminError

ADMIN = {"Authorization": "Bearer test-admin-token"}
JWT_SECRET = "test-jwt-secret-of-at-least-32-bytes"
PRIVATE = {"client_id": "mokapen-private-demo", "client_secret": "mokapen-private-demo-secret"}
PUBLIC = {"client_id": "mokapen-public-demo", "client_secret": "mokapen-public-demo-secret"}
SEED_APP = "Basic " + base64.b64encode(b"s6BhdRkqt3:gX1fBat3bV").decode()  # seed 003's app, johndoe's
MOKAPEN_CLAIMS = {"aud", "jti", "iat", "nbf", "exp", "sub", "scopes", "organization_id"}
CONSUMER_CLAIMS = {"iss", "sub", "iat", "exp", "name", "preferred_username", "email", "jti"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "test-admin-token", "CONSUMER_JWT_SECRET": JWT_SECRET}


def admin(client, method, path, payload=None):
    return client.open(f"/_sandbox{path}", method=method, headers=ADMIN, json=payload)


def consumer_claims(client, username="johndoe"):
    """The claims of a consumer login's JWT, its HS256 signature checked."""
    response = client.post("/consumer/login", json={"username": username, "password": "demo-password"})
    assert response.status_code == 200, response.text
    return jwt.decode(response.json["token"], JWT_SECRET, algorithms=["HS256"])


def app_token_claims(client):
    """The claims of a token for seed 003's app (client_credentials, as its owner johndoe)."""
    response = client.post("/authorization/token", data="grant_type=client_credentials",
                           headers={"Authorization": SEED_APP, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    return jwt.decode(response.json["access_token"], JWT_SECRET, algorithms=["HS256"])


def private_token(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", **PRIVATE,
                                                 "scope": "tasks.read", "organization_id": "849"})
    assert response.status_code == 200, response.text
    return response.json["access_token"]


def mokapen_claims(client, token):
    """The claims of a mokapen JWT, checked with the key its JWKS publishes."""
    jwks = client.get("/oauth/jwks").json
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=jwt.decode(
        token, options={"verify_signature": False})["aud"], options={"verify_iat": False, "verify_nbf": False})


def introspect(client, token, credentials=PRIVATE):
    response = client.post("/oauth/introspect", data={"token": token, **credentials})
    assert response.status_code == 200, response.text
    return response.json


def extra(claims, own):
    return {name: value for name, value in claims.items() if name not in own}


def test_a_users_and_a_clients_claims_are_in_consumer_tokens(client):
    assert extra(consumer_claims(client), CONSUMER_CLAIMS) == {}  # none by default
    changed = admin(client, "PATCH", "/users/johndoe", {"claims": {"tenant": "acme", "roles": ["qa", "admin"],
                                                                   "level": 3}})
    assert changed.status_code == 200 and changed.json["claims"] == {"tenant": "acme", "roles": ["qa", "admin"],
                                                                     "level": 3}
    claims = consumer_claims(client)
    assert extra(claims, CONSUMER_CLAIMS) == {"tenant": "acme", "roles": ["qa", "admin"], "level": 3}
    assert claims["name"] == "johndoe" and claims["iss"] == "http://localhost"
    assert extra(consumer_claims(client, "janedoe"), CONSUMER_CLAIMS) == {}  # only johndoe's tokens

    # An app's claims go over its owner's; the user's own login does not get them.
    assert admin(client, "PATCH", "/clients/s6BhdRkqt3", {"claims": {"tenant": "app-tenant", "app": True}}).json[
        "claims"] == {"tenant": "app-tenant", "app": True}
    assert extra(app_token_claims(client), CONSUMER_CLAIMS) == {"tenant": "app-tenant", "roles": ["qa", "admin"],
                                                                "level": 3, "app": True}
    assert extra(consumer_claims(client), CONSUMER_CLAIMS)["tenant"] == "acme"

    # A PATCH replaces the mapping; null clears it.
    admin(client, "PATCH", "/users/johndoe", {"claims": {"level": 4}})
    assert extra(consumer_claims(client), CONSUMER_CLAIMS) == {"level": 4}
    assert admin(client, "PATCH", "/users/johndoe", {"claims": None}).json["claims"] == {}
    assert extra(consumer_claims(client), CONSUMER_CLAIMS) == {}

    # A refreshed token carries them too.
    admin(client, "PATCH", "/users/johndoe", {"claims": {"tenant": "after-refresh"}})
    first = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json
    refreshed = client.put("/consumer/login", json={"refresh_token": first["refresh_token"]}).json
    assert jwt.decode(refreshed["token"], JWT_SECRET, algorithms=["HS256"])["tenant"] == "after-refresh"


def test_a_clients_claims_are_in_mokapen_tokens_and_introspection(client):
    admin(client, "PATCH", "/clients/mokapen-private-demo", {"claims": {"tenant": "acme", "tier": {"plan": "gold"}}})
    token = private_token(client)
    claims = mokapen_claims(client, token)
    assert extra(claims, MOKAPEN_CLAIMS) == {"tenant": "acme", "tier": {"plan": "gold"}}
    assert claims["aud"] == "mokapen-private-demo" and claims["organization_id"] == 849
    answer = introspect(client, token)
    assert answer["active"] is True and answer["tenant"] == "acme" and answer["tier"] == {"plan": "gold"}
    assert answer["client_id"] == "mokapen-private-demo" and answer["organization_id"] == 849
    # What the token carries, as issued: changing the client's claims later changes new tokens only.
    admin(client, "PATCH", "/clients/mokapen-private-demo", {"claims": {"tenant": "other"}})
    assert introspect(client, token)["tenant"] == "acme"
    assert introspect(client, private_token(client))["tenant"] == "other"
    client.post("/oauth/revoke", data={"token": token, **PRIVATE})
    assert introspect(client, token) == {"active": False}


def test_a_users_claims_are_in_mokapen_tokens_their_refresh_and_its_introspection(client):
    admin(client, "PATCH", "/clients/mokapen-public-demo", {"headless_user": "janedoe", "claims": {"app": "public"}})
    admin(client, "PATCH", "/users/janedoe", {"claims": {"department": "QA", "app": "user's"}})
    location = client.get("/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/callback"
                          "&response_type=code&scope=tasks.read&state=0123456789abcdef").headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    token = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code, **PUBLIC,
                                              "redirect_uri": "https://example.com/callback"}).json
    assert extra(mokapen_claims(client, token["access_token"]), MOKAPEN_CLAIMS) == {"department": "QA",
                                                                                    "app": "public"}
    # A refresh token's introspection: the claims its user and client have now.
    admin(client, "PATCH", "/users/janedoe", {"claims": {"department": "Ops"}})
    answer = introspect(client, token["refresh_token"], PUBLIC)
    assert answer["active"] is True and (answer["department"], answer["app"]) == ("Ops", "public")
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", **PUBLIC,
                                                  "refresh_token": token["refresh_token"]})
    assert mokapen_claims(client, refreshed.json["access_token"])["department"] == "Ops"


@pytest.mark.parametrize("path, claims, message", [
    ("/users/johndoe", {"iss": "https://evil.example"}, "'claims.iss': a registered claim"),
    ("/users/johndoe", {"sub": "someone-else"}, "claims.sub"),
    ("/users/johndoe", {"exp": 99999999999}, "claims.exp"),
    ("/users/johndoe", {"scope": "admin"}, "claims.scope"),
    ("/users/johndoe", {"organization_id": 1}, "claims.organization_id"),  # mokapen's own
    ("/users/johndoe", {"email": "x@example.com"}, "claims.email"),  # consumer's own
    ("/clients/mokapen-private-demo", {"scopes": ["everything"]}, "claims.scopes"),
    ("/clients/mokapen-private-demo", {"client_id": "other"}, "claims.client_id"),
    ("/clients/s6BhdRkqt3", {"preferred_username": "root"}, "claims.preferred_username"),
    ("/users/johndoe", ["tenant"], "'claims': must be a dict"),
    ("/users/johndoe", {"": 1}, "claim names must be non-empty"),
    ("/users/johndoe", {"big": "x" * 5000}, "at most 4096 bytes"),
    ("/clients/php-demo", {"tenant": "acme"}, "php's tokens are opaque"),
])
def test_a_registered_claim_or_bad_claims_are_refused_naming_the_claim(client, path, claims, message):
    response = admin(client, "PATCH", path, {"claims": claims})
    assert response.status_code == 400 and message in response.json["message"], response.text
    assert response.json["error"] == "bad_request"
    assert extra(consumer_claims(client), CONSUMER_CLAIMS) == {}  # nothing changed
    assert extra(mokapen_claims(client, private_token(client)), MOKAPEN_CLAIMS) == {}


def test_a_client_s_next_n_tokens_carry_one_off_claims_then_the_next_batch(client):
    admin(client, "PATCH", "/clients/mokapen-private-demo", {"claims": {"tenant": "acme", "stage": "base"}})
    first = admin(client, "POST", "/clients/mokapen-private-demo/next-token-claims",
                  {"claims": {"stage": "one-off", "trace": 1}, "count": 2})
    assert first.status_code == 201, first.text
    assert first.json["claims"] == {"stage": "one-off", "trace": 1} and first.json["remaining"] == 2
    second = admin(client, "POST", "/clients/mokapen-private-demo/next-token-claims", {"claims": {"trace": 2}})
    assert second.json["remaining"] == 1  # count defaults to 1
    pending = admin(client, "GET", "/clients/mokapen-private-demo/next-token-claims").json["next_token_claims"]
    assert [(batch["claims"], batch["remaining"]) for batch in pending] == [
        ({"stage": "one-off", "trace": 1}, 2), ({"trace": 2}, 1)]

    tokens = [private_token(client) for _ in range(4)]
    carried = [extra(mokapen_claims(client, token), MOKAPEN_CLAIMS) for token in tokens]
    assert carried == [{"tenant": "acme", "stage": "one-off", "trace": 1}] * 2 + [
        {"tenant": "acme", "stage": "base", "trace": 2}, {"tenant": "acme", "stage": "base"}]
    assert [introspect(client, token).get("trace") for token in tokens] == [1, 1, 2, None]
    assert admin(client, "GET", "/clients/mokapen-private-demo/next-token-claims").json == {"next_token_claims": []}

    # Another client's tokens never take them; clearing drops what waits.
    admin(client, "POST", "/clients/s6BhdRkqt3/next-token-claims", {"claims": {"once": True}, "count": 3})
    assert "once" not in extra(consumer_claims(client), CONSUMER_CLAIMS)  # johndoe's own login, no app
    assert app_token_claims(client)["once"] is True
    assert admin(client, "GET", "/clients/s6BhdRkqt3/next-token-claims").json["next_token_claims"][0][
        "remaining"] == 2
    assert admin(client, "DELETE", "/clients/s6BhdRkqt3/next-token-claims").json == {"cleared": 1}
    assert "once" not in app_token_claims(client)


@pytest.mark.parametrize("body, status, message", [
    ({"claims": {"iat": 0}}, 400, "'claims.iat': a registered claim"),
    ({"claims": {"nbf": 0}, "count": 2}, 400, "claims.nbf"),
    ({"claims": {}}, 400, "'claims' is required"),
    ({"count": 2}, 400, "'claims' is required"),
    ({"claims": {"a": 1}, "count": 0}, 400, "'count' must be a whole number from 1 to 1000"),
    ({"claims": {"a": 1}, "count": True}, 400, "'count'"),
    ({"claims": {"a": 1}, "count": 1.5}, 400, "'count'"),
    ({"claims": {"a": 1}, "times": 2}, 400, "only 'claims' and 'count'"),
])
def test_bad_one_off_claims_are_refused(client, body, status, message):
    response = admin(client, "POST", "/clients/mokapen-private-demo/next-token-claims", body)
    assert response.status_code == status and message in response.json["message"], response.text
    assert admin(client, "GET", "/clients/mokapen-private-demo/next-token-claims").json == {"next_token_claims": []}


def test_one_off_claims_for_unknown_or_opaque_clients(client):
    response = admin(client, "POST", "/clients/nope/next-token-claims", {"claims": {"a": 1}})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert admin(client, "GET", "/clients/nope/next-token-claims").status_code == 404
    response = admin(client, "POST", "/clients/php-demo/next-token-claims", {"claims": {"a": 1}})
    assert response.status_code == 400 and "php's tokens are opaque" in response.json["message"]


def test_concurrent_token_requests_take_each_one_off_claim_once(client):
    admin(client, "POST", "/clients/mokapen-private-demo/next-token-claims", {"claims": {"once": "yes"}, "count": 3})
    with ThreadPoolExecutor(12) as pool:
        tokens = list(pool.map(lambda _: private_token(client), range(12)))
    assert sum(mokapen_claims(client, token).get("once") == "yes" for token in tokens) == 3
    assert admin(client, "GET", "/clients/mokapen-private-demo/next-token-claims").json == {"next_token_claims": []}


def test_a_failed_token_request_does_not_take_one_off_claims(client):
    admin(client, "POST", "/clients/mokapen-private-demo/next-token-claims", {"claims": {"once": 1}})
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials", **PRIVATE,
                                                "scope": "tasks.read", "organization_id": "850"})
    assert refused.status_code == 400
    assert mokapen_claims(client, private_token(client))["once"] == 1


def test_fixtures_declare_claims_with_located_errors(client):
    document = {
        "users": [{"username": "qa", "email": "qa@example.com", "password": "qa-password",
                   "claims": {"tenant": "fixture"}}],
        "organizations": [{"id": 7, "name": "QA Org", "members": [{"username": "qa", "role": "owner"}]}],
        "clients": [{"dialect": "mokapen", "client_id": "qa-private", "client_secret": "qa-secret", "kind": "private",
                     "organization": 7, "dedicated_user": "qa", "scopes": ["tasks.read"],
                     "claims": {"app": "qa-private"}}],
    }
    assert admin(client, "POST", "/reset", document).status_code == 200
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "qa-private",
                                              "client_secret": "qa-secret", "organization_id": "7"}).json
    assert extra(mokapen_claims(client, token["access_token"]), MOKAPEN_CLAIMS) == {"tenant": "fixture",
                                                                                    "app": "qa-private"}
    for broken, message in [
        ({"users": [{**document["users"][0], "claims": {"jti": "x"}}]}, "users[0].claims.jti: a registered claim"),
        ({"users": [{**document["users"][0], "claims": "tenant"}]}, "users[0].claims: must be a dict"),
        ({**document, "clients": [{**document["clients"][0], "claims": {"aud": "x"}}]},
         "clients[0].claims.aud: a registered claim"),
        ({"clients": [{"dialect": "php", "client_id": "a", "client_secret": "b", "claims": {"t": 1}}]},
         "clients[0].claims: php's tokens are opaque"),
    ]:
        response = admin(client, "POST", "/reset", broken)
        assert response.status_code == 400 and message in response.json["message"], (message, response.text)
    assert client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "qa-private",
                                             "client_secret": "qa-secret", "organization_id": "7"}).status_code == 200


def test_sandbox_admin_sets_claims_and_one_off_claims(live_server):
    sandbox = SandboxAdmin(live_server.url, "test-admin-token")
    assert sandbox.users.set_claims("johndoe", {"tenant": "acme"})["claims"] == {"tenant": "acme"}
    assert sandbox.clients.set_claims("mokapen-private-demo", {"tier": "gold"})["claims"] == {"tier": "gold"}
    batch = sandbox.clients.next_token_claims("mokapen-private-demo", {"trace": "t-1"}, count=2)
    assert batch["remaining"] == 2 and batch["client_id"] == "mokapen-private-demo"
    assert [b["claims"] for b in sandbox.clients.pending_token_claims("mokapen-private-demo")] == [{"trace": "t-1"}]
    with pytest.raises(SandboxAdminError) as refused:
        sandbox.users.set_claims("johndoe", {"iss": "x"})
    assert refused.value.status == 400 and "claims.iss" in refused.value.message
    assert sandbox.clients.clear_token_claims("mokapen-private-demo") == 1
    assert sandbox.users.set_claims("johndoe", None)["claims"] == {}
    assert json.dumps(sandbox.clients.pending_token_claims("mokapen-private-demo")) == "[]"


def test_registered_claims_stored_by_other_means_never_override_the_dialects(client, app):
    from oauth_sandbox.extensions import db
    from oauth_sandbox.models import Client, User

    stored = {"iss": "https://evil.example", "sub": "evil", "exp": 1, "email": "evil@example.com",
              "organization_id": 1, "scopes": ["everything"], "active": False, "tenant": "kept"}
    with app.app_context():  # as a database edited by hand would hold them
        User.by_username("johndoe").claims = stored
        db.session.scalar(db.select(Client).filter_by(client_id="mokapen-private-demo")).claims = stored
        db.session.commit()
    claims = consumer_claims(client)
    assert (claims["iss"], claims["email"], claims["tenant"]) == ("http://localhost", "john@example.com", "kept")
    assert claims["sub"] != "evil" and claims["exp"] > 1 and "active" not in claims
    token = private_token(client)
    claims = mokapen_claims(client, token)
    assert (claims["organization_id"], claims["scopes"], claims["tenant"]) == (849, ["tasks.read"], "kept")
    assert "iss" not in claims and "active" not in claims and claims["sub"] != "evil"
    answer = introspect(client, token)
    assert answer["active"] is True and answer["organization_id"] == 849 and answer["tenant"] == "kept"
    assert answer["scope"] == "tasks.read" and answer["sub"] != "evil"


def test_the_readme_custom_claims_requests_work_as_printed(live_server):
    """README's "Custom claims" block, run as one script: each `# → …` line is in its output, in order (`…` standing
    for any text)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- claims-curl:start -->")[1].split("<!-- claims-curl:end -->")[0]
    lines = re.search(r"```sh\n(.*?)```", block, re.S).group(1).splitlines()
    assert lines[0].startswith("SANDBOX=")  # set by the test instead
    script = "\n".join(["set -eo pipefail", *(line for line in lines[1:] if not line.startswith("# → "))])
    expected = [line.removeprefix("# → ") for line in lines if line.startswith("# → ")]
    env = {**os.environ, "SANDBOX": live_server.url, "ADMIN_TOKEN": "test-admin-token"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.stdout, done.stderr)
    position = 0
    for sample in expected:
        found = re.compile(".*?".join(re.escape(part) for part in sample.split("…"))).search(done.stdout, position)
        assert found, f"{sample}\n{done.stdout[position:]}"
        position = found.end()
    assert len(expected) >= 7
