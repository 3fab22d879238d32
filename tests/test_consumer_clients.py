"""The consumer dialect used as client developers do: requests-oauthlib, and the portal in Chromium."""
import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session


def test_backend_application_client_with_basic_auth(live_server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # as any client developer does against http://localhost
    session = OAuth2Session(client=BackendApplicationClient(client_id="consumer-demo"))
    token = session.fetch_token(f"{live_server.url}/authorization/token",
                                auth=HTTPBasicAuth("consumer-demo", "consumer-demo-secret"))
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    assert token["scope"] == ["authorization,consumer,default,protected"]  # Fusio's commas, one item to oauthlib

    response = session.post(f"{live_server.url}/protected_endpoint", json={"title": "lorem ipsum"})
    assert response.status_code == 200 and response.json()["success"] is True

    refreshed = session.refresh_token(f"{live_server.url}/authorization/token",
                                      auth=HTTPBasicAuth("consumer-demo", "consumer-demo-secret"))
    assert refreshed["access_token"] != token["access_token"]
    assert session.post(f"{live_server.url}/protected_endpoint", json={"title": "x"}).status_code == 200
    stale = requests.post(f"{live_server.url}/protected_endpoint", json={"title": "x"},
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert stale.status_code == 401 and stale.json()["message"] == "Invalid access token"
