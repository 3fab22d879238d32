"""Hardening, hosts: with PUBLIC_BASE_URL the issuer, the metadata's URLs and Fusio's `iss` are that URL, and requests
for any other host are refused; without it (development) the sandbox answers for the request's host."""
import jwt
import pytest

from app import create_app
from helpers import make_app

PUBLIC = "https://sandbox.example.com"
METADATA = "/.well-known/oauth-authorization-server"
LOGIN = {"username": "johndoe", "password": "demo-password"}


@pytest.fixture
def app_config():
    return {"SANDBOX_PROFILE": "production", "PUBLIC_BASE_URL": PUBLIC + "/"}


def test_the_issuer_metadata_and_fusios_iss_come_from_the_public_base_url(client):
    metadata = client.get(METADATA, base_url="http://sandbox.example.com:8000")  # behind a proxy: http, a port
    assert metadata.status_code == 200
    assert metadata.json["issuer"] == PUBLIC
    assert metadata.json["token_endpoint"] == PUBLIC + "/oauth/token"
    assert all(metadata.json[name].startswith(PUBLIC + "/") for name in ("authorization_endpoint", "jwks_uri",
                                                                         "revocation_endpoint",
                                                                         "introspection_endpoint"))
    token = client.post("/consumer/login", json=LOGIN, base_url="http://sandbox.example.com").json["token"]
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == PUBLIC


def test_requests_for_another_host_are_refused_in_the_paths_shape(client):
    metadata = client.get(METADATA, headers={"Host": "evil.example"})
    assert metadata.status_code == 400 and metadata.json["error"] == "invalid_request"
    page = client.get("/login", headers={"Host": "evil.example"})
    assert page.status_code == 400 and "not trusted" in page.text
    login = client.post("/consumer/login", json=LOGIN, headers={"Host": "evil.example"})
    assert login.status_code == 400 and login.json["success"] is False and "token" not in login.json
    token = client.post("/api/token.php", data={"code": "x"}, headers={"Host": "evil.example"})
    assert token.status_code == 400 and token.json["error"] == "invalid_request"


@pytest.mark.parametrize("app_config", [{"SANDBOX_PROFILE": "development"}])
def test_development_answers_for_the_requests_host(client):
    assert client.get(METADATA, headers={"Host": "sandbox.test:5000"}).json["issuer"] == "http://sandbox.test:5000"


@pytest.mark.parametrize("url", ["sandbox.example.com", "ftp://sandbox.example.com", "https://sandbox.example.com/x",
                                 "https://sandbox.example.com/?a=b"])
def test_a_public_base_url_that_is_not_one_is_refused_at_start(tmp_path, url):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app({"SANDBOX_PROFILE": "testing", "SECRET_KEY": "k", "PUBLIC_BASE_URL": url,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})


def test_an_explicit_trusted_hosts_setting_is_kept(tmp_path):
    app = make_app(tmp_path, PUBLIC_BASE_URL=PUBLIC, TRUSTED_HOSTS=["sandbox.example.com", ".internal.example"])
    client = app.test_client()
    assert client.get(METADATA, headers={"Host": "a.internal.example"}).json["issuer"] == PUBLIC
