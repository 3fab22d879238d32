"""The mokapen dialect used as client developers do: Authlib's OAuth2Session, PyJWKClient, the seed's PHP."""
import json
import subprocess

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

from helpers import csrf_token
from samples import SAMPLES, require_program

STATE = "a-state-of-sixteen-or-more"


def log_in_and_approve(session, page, organization_id="849"):
    """At the sandbox's login page: log in as johndoe, pick the organization, approve."""
    page = session.post(page.url, data={"csrf_token": csrf_token(page.text), "username": "johndoe",
                                        "password": "demo-password"})
    return session.post(page.url, data={"csrf_token": csrf_token(page.text), "approve": "Approve",
                                        "organization_id": organization_id}, allow_redirects=False)


def test_oauth2_session_code_refresh_and_client_credentials(live_server):
    callback = f"http://127.0.0.1:{live_server.port}/callback"  # loopback: any port matches the registered one
    oauth = OAuth2Session("mokapen-public-demo", "mokapen-public-demo-secret", scope="tasks.read contacts.read",
                          redirect_uri=callback, token_endpoint_auth_method="client_secret_post")
    url, state = oauth.create_authorization_url(f"{live_server.url}/oauth/authorize", state=STATE)
    browser = requests.Session()
    redirect = log_in_and_approve(browser, browser.get(url))
    token = oauth.fetch_token(f"{live_server.url}/oauth/token", authorization_response=redirect.headers["Location"],
                              state=state)
    assert token["organization_id"] == 849 and token["refresh_token"].startswith("def50200")
    contacts = oauth.get(f"{live_server.url}/api/v1/849/contacts", headers={"Accept": "application/json"})
    assert contacts.status_code == 200 and len(contacts.json()["data"]) == 2

    refreshed = oauth.refresh_token(f"{live_server.url}/oauth/token")
    assert refreshed["access_token"] != token["access_token"] and refreshed["organization_id"] == 849

    private = OAuth2Session("mokapen-private-demo", "mokapen-private-demo-secret", scope="tasks.read tasks.write")
    issued = private.fetch_token(f"{live_server.url}/oauth/token", grant_type="client_credentials",
                                 organization_id=849)
    created = private.post(f"{live_server.url}/api/v1/849/tasks", json={"title": "From Authlib"},
                           headers={"Accept": "application/json"})
    assert issued["organization_name"] == "Your Organization" and created.status_code == 201


def private_app_token(base_url):
    return requests.post(f"{base_url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
        "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}).json()["access_token"]


def test_pyjwkclient_verifies_an_access_token_against_the_jwks(live_server):
    token = private_app_token(live_server.url)
    signing_key = jwt.PyJWKClient(f"{live_server.url}/oauth/jwks").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience="mokapen-private-demo")
    assert claims["organization_id"] == 849 and claims["scopes"] == ["tasks.read", "tasks.write", "contacts.read"]
    header = jwt.get_unverified_header(token)
    assert list(header)[:2] == ["typ", "alg"] and (header["typ"], header["alg"]) == ("JWT", "RS256")
    assert header["kid"] == signing_key.key_id


def test_the_seeds_php_request_for_contacts(live_server, tmp_path):
    php = require_program("php")
    seed = (SAMPLES / "seed_000.txt").read_text()
    sample = (SAMPLES / "mokapen_contacts.php").read_text()
    assert all(line in seed for line in sample.splitlines()[1:])  # the seed's lines, verbatim
    script = (sample.replace("https://mokapen.com", live_server.url)
              .replace("YOUR_ACCESS_TOKEN", private_app_token(live_server.url))
              + "echo json_encode(['code' => $httpCode, 'body' => json_decode($response, true)]);\n")
    (tmp_path / "contacts.php").write_text(script)
    result = json.loads(subprocess.run([php, str(tmp_path / "contacts.php")], capture_output=True, text=True,
                                       check=True, timeout=30).stdout)
    assert result["code"] == 200
    assert [contact["name"] for contact in result["body"]["data"]] == ["Ada Lovelace", "Grace Hopper"]
