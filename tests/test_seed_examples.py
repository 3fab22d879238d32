"""Every request and response example of the seeds, as a test: the seed's text quoted beside it (and checked to be
the seed's, character for character), sent as it stands with only the host and the placeholders changed. Where the
sandbox answers otherwise on purpose, the test says so and README.md's "The seeds' examples" says why.

Seed 002's three sample clients are run by tests/test_sample_clients.py and tests/browser/test_login_consent.py,
seed 001's dashboard steps by tests/test_mokapen.py and tests/browser/test_mokapen_dashboard.py."""
import base64
import json
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from helpers import csrf_token, login

SEEDS = Path("/work/shared/seeds")
SEED_FILES = {number: f"{number}_{suffix}.txt" for number, suffix in (
    ("000", "be7a25a2f1b3733a"), ("001", "a239673c9af53746"), ("002", "685b52e64b2371f0"), ("003", "002feee3a8f03160"),
    ("004", "8eca1d7ed3a6f808"))}
LOCAL_SEEDS = Path(__file__).parent / "samples"  # copies of seed 000's and 002's text, where /work/shared is absent


def seed_text(number):
    for folder in (SEEDS, LOCAL_SEEDS):
        for path in (folder / SEED_FILES[number], folder / f"seed_{number}.txt"):
            if path.exists():
                return path.read_text()
    return None


def quoted(number, text):
    """The seed's own text (asserted verbatim where the seed is at hand)."""
    seed = seed_text(number)
    if seed is not None:
        assert text in seed, f"not seed {number}'s text: {text!r}"
    return text


def send(client, raw, **placeholders):
    """Send a request as a seed prints it: `METHOD URL`, header lines, then the body (a form body's `&…` lines
    joined, a JSON body as it stands). Only the host goes (the test client's is the sandbox's)."""
    for name, value in placeholders.items():
        raw = raw.replace(name, value)
    lines = raw.strip("\n").splitlines()
    method, target = lines[0].split()[:2]
    target = re.sub(r"^https://mokapen\.com", "", target)
    headers, i = {}, 1
    while i < len(lines) and re.match(r"^[A-Za-z-]+: ", lines[i]):
        name, value = lines[i].split(": ", 1)
        headers[name] = value
        i += 1
    body_lines = [line for line in lines[i:] if line.strip()]
    if headers.get("Content-Type") == "application/x-www-form-urlencoded":
        body = "".join(line.strip() for line in body_lines)
    else:
        body = "\n".join(body_lines)
    return client.open(target, method=method, headers=headers, data=body.encode() if body else None)


def consent(client, url, **extra):
    """Log in as johndoe and approve at `url`; the redirect's Location."""
    login(client)
    page = client.get(url)
    assert page.status_code == 200, page.text
    response = client.post(url, data={"csrf_token": csrf_token(page.text), "approve": "Approve", **extra})
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def shown_keys(text):
    """The keys of a response a seed shows, in its order."""
    return re.findall(r'^"([^"]+)":', text, re.M)


# --- seed 000 (Mokapen: public and private apps) ---------------------------------------------------

SEED_000_AUTHORIZE = quoted("000", """$params = [
'client_id' => 'YOUR_CLIENT_ID',
'redirect_uri' => 'https://example.com/oauth/callback',
'response_type' => 'code',
'scope' => 'tasks.read tasks.write',
'state' => bin2hex(random_bytes(8)),
];
$url = 'https://mokapen.com/oauth/authorize?' . http_build_query($params);""")

SEED_000_EXCHANGE = quoted("000", """POST https://mokapen.com/oauth/token
Content-Type: application/x-www-form-urlencoded
grant_type=authorization_code
&client_id=YOUR_CLIENT_ID
&client_secret=YOUR_CLIENT_SECRET
&redirect_uri=https://example.com/oauth/callback
&code=AUTHORIZATION_CODE_FROM_CALLBACK""")

SEED_000_TOKEN_RESPONSE = quoted("000", """{
"token_type": "Bearer",
"expires_in": 31536000,
"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9...",
"refresh_token": "def50200...",
"organization_id": 849,
"organization_name": "Your Organization"
}""")

SEED_000_REFRESH = quoted("000", """POST https://mokapen.com/oauth/token
Content-Type: application/x-www-form-urlencoded
grant_type=refresh_token
&client_id=YOUR_CLIENT_ID
&client_secret=YOUR_CLIENT_SECRET
&refresh_token=YOUR_REFRESH_TOKEN""")

SEED_000_CLIENT_CREDENTIALS = quoted("000", """POST https://mokapen.com/oauth/token
Content-Type: application/x-www-form-urlencoded
grant_type=client_credentials
&client_id=YOUR_CLIENT_ID
&client_secret=YOUR_CLIENT_SECRET
&scope=tasks.read tasks.write contacts.read
&organization_id=849""")

SEED_000_API_CALL = quoted("000", """$url = 'https://mokapen.com/api/v1/849/contacts';
$token = 'YOUR_ACCESS_TOKEN';
$ch = curl_init($url);
curl_setopt_array($ch, [
CURLOPT_RETURNTRANSFER => true,
CURLOPT_HTTPHEADER => [
'Authorization: Bearer ' . $token,
'Accept: application/json',
],
]);""")

PUBLIC = {"YOUR_CLIENT_ID": "mokapen-public-demo", "YOUR_CLIENT_SECRET": "mokapen-public-demo-secret"}
PRIVATE = {"YOUR_CLIENT_ID": "mokapen-private-demo", "YOUR_CLIENT_SECRET": "mokapen-private-demo-secret"}


def seed_000_code(client):
    """Seed 000's authorize snippet for the demo public app, approved by johndoe for organization 849."""
    params = {"client_id": "mokapen-public-demo", "redirect_uri": "https://example.com/oauth/callback",
              "response_type": "code", "scope": "tasks.read tasks.write", "state": secrets.token_hex(8)}
    location = consent(client, "/oauth/authorize?" + urlencode(params), organization_id="849")  # http_build_query
    assert location.startswith("https://example.com/oauth/callback?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [params["state"]]
    return query["code"][0]


def assert_seed_000_token_response(response, refresh=True):
    assert response.status_code == 200, response.text
    keys = shown_keys(SEED_000_TOKEN_RESPONSE)
    assert list(response.json) == (keys if refresh else [key for key in keys if key != "refresh_token"])
    body = response.json
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 31536000)
    assert (body["organization_id"], body["organization_name"]) == (849, "Your Organization")
    # On purpose: the JWT header adds "kid" after the seed's {"typ":"JWT","alg":"RS256"} (JWKS clients pick the key).
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    assert list(header)[:2] == ["typ", "alg"] and header["alg"] == "RS256"
    if refresh:
        assert body["refresh_token"].startswith("def50200")


def test_seed_000_authorize_snippet_and_code_exchange_as_written(client):
    code = seed_000_code(client)
    response = send(client, SEED_000_EXCHANGE, AUTHORIZATION_CODE_FROM_CALLBACK=code, **PUBLIC)
    assert_seed_000_token_response(response)


def test_seed_000_refresh_as_written(client):
    code = seed_000_code(client)
    first = send(client, SEED_000_EXCHANGE, AUTHORIZATION_CODE_FROM_CALLBACK=code, **PUBLIC).json
    response = send(client, SEED_000_REFRESH, YOUR_REFRESH_TOKEN=first["refresh_token"], **PUBLIC)
    assert_seed_000_token_response(response)


def test_seed_000_private_app_client_credentials_as_written(client):
    response = send(client, SEED_000_CLIENT_CREDENTIALS, **PRIVATE)
    assert_seed_000_token_response(response, refresh=False)  # RFC 6749 §4.4.3: no refresh token


def test_seed_000_api_call_as_written(client):
    token = send(client, SEED_000_CLIENT_CREDENTIALS, **PRIVATE).json["access_token"]
    headers = dict(line.strip("',").split(": ", 1) for line in
                   ("'Authorization: Bearer ' . $token,".replace("' . $token", token), "'Accept: application/json',"))
    response = client.get(urlsplit(re.search(r"\$url = '([^']+)'", SEED_000_API_CALL).group(1)).path,
                          headers=headers)
    assert response.status_code == 200 and response.json["data"], response.text


# --- seed 001 (Mokapen's application requirements) -----------------------------------------------

SEED_001_PRIVATE_ACTIVE = quoted("001", "Private applications are activated immediately after creation.")
SEED_001_CREDENTIALS = quoted("001", "Once status is Active, open the Credentials tab to retrieve your client_id and "
                                     "client_secret")


def test_seed_001_the_demo_apps_are_active_with_their_credentials_on_the_credentials_tab(client):
    login(client)
    apps = client.get("/account/developer/apps").text
    for name in ("Mokapen public demo", "Mokapen private demo"):
        pk = re.search(rf'href="/account/developer/apps/(\d+)"[^>]*>{name}<', apps).group(1)
        tab = client.get(f"/account/developer/apps/{pk}/credentials").text
        assert 'id="status">active<' in tab and 'id="client-id">' in tab


# --- seed 002 (the php dialect) -------------------------------------------------------------------

SEED_002_AUTHORIZE = quoted("002", "GET /api/authorize.php?client_id=YOUR_CLIENT_ID&redirect_uri=https://example.com/"
                                   "callback&response_type=code")
SEED_002_TOKEN = quoted("002", """POST /api/token.php
Content-Type: application/x-www-form-urlencoded
code=AUTHORIZATION_CODE&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET""")
SEED_002_TOKEN_RESPONSE = quoted("002", """{
"access_token": "ACCESS_TOKEN",
"token_type": "Bearer",
"expires_in": 3600
}""")
SEED_002_USERINFO = quoted("002", """GET /api/userinfo.php
Authorization: Bearer ACCESS_TOKEN""")
SEED_002_USERINFO_RESPONSE = quoted("002", """{
"username": "johndoe",
"email": "john@example.com",
"full_name": "John Doe"
}""")
SEED_002_ERROR = quoted("002", """{
"error": "error_code",
"error_description": "Human-readable description"
}""")
PHP = {"YOUR_CLIENT_ID": "php-demo", "YOUR_CLIENT_SECRET": "php-demo-secret"}


def php_token(client):
    location = consent(client, SEED_002_AUTHORIZE.split()[1].replace("YOUR_CLIENT_ID", "php-demo"))
    assert location.startswith("https://example.com/callback?code=")
    code = parse_qs(urlsplit(location).query)["code"][0]
    return send(client, SEED_002_TOKEN, AUTHORIZATION_CODE=code, **PHP)


def test_seed_002_authorize_and_token_as_written(client):
    response = php_token(client)
    assert response.status_code == 200, response.text
    # The seed's keys; sent in Authlib's order (token_type first): JSON objects are unordered (RFC 8259 §4).
    assert set(response.json) == set(shown_keys(SEED_002_TOKEN_RESPONSE))
    assert (response.json["token_type"], response.json["expires_in"]) == ("Bearer", 3600)


def test_seed_002_userinfo_as_written(client):
    token = php_token(client).json["access_token"]
    response = send(client, SEED_002_USERINFO, ACCESS_TOKEN=token)
    assert response.status_code == 200
    assert response.text.strip() == json.dumps(json.loads(SEED_002_USERINFO_RESPONSE), separators=(",", ":"))


@pytest.mark.parametrize("code, status, request_text", [
    ("invalid_request", 400, "POST /api/token.php\nContent-Type: application/x-www-form-urlencoded\n"
                             "client_id=YOUR_CLIENT_ID"),
    ("invalid_client", 401, "POST /api/token.php\nContent-Type: application/x-www-form-urlencoded\n"
                            "code=x&client_id=YOUR_CLIENT_ID&client_secret=wrong"),
    ("invalid_code", 400, "POST /api/token.php\nContent-Type: application/x-www-form-urlencoded\n"
                          "code=x&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET"),
    ("invalid_token", 401, "GET /api/userinfo.php\nAuthorization: Bearer made-up"),
])
def test_seed_002_error_table_as_written(client, code, status, request_text):
    quoted("002", f"{code} |\n{status} |")
    response = send(client, request_text, **PHP)
    assert response.status_code == status
    assert list(response.json) == shown_keys(SEED_002_ERROR) and response.json["error"] == code


# --- seed 003 (Fusio) -----------------------------------------------------------------------------

SEED_003_LOGIN = quoted("003", """POST /consumer/login
Content-Type: application/json

{
"username": "[username]",
"password": "[password]",
}""")
SEED_003_LOGIN_RESPONSE = quoted("003", """{
"token": "",
"expires_in": "",
"refresh_token": ""
}""")
SEED_003_CLIENT_CREDENTIALS = quoted("003", """POST /authorization/token
Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW
Content-Type: application/x-www-form-urlencoded

grant_type=client_credentials""")
SEED_003_TOKEN_RESPONSE = quoted("003", """{
"access_token": "",
"token_type": "bearer",
"expires_in": 3600,
"refresh_token": ""
}""")
SEED_003_REFRESH = quoted("003", """POST /authorization/token
Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW
Content-Type: application/x-www-form-urlencoded

grant_type=refresh_token&refresh_token=[refresh_token]""")
SEED_003_PROTECTED = quoted("003", """POST /protected_endpoint HTTP/1.1
Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5N2JkNDUzYjdlMDZlOWFlMDQxNi00YmY2MWFiYjg4MDJjZ""")
SEED_003_PROTECTED_BODY = quoted("003", """Content-Type: application/json

{
"title": "lorem ipsum"
}""")
FUSIO_USER = {"[username]": "johndoe", "[password]": "demo-password"}


def test_seed_003_login_as_written_is_not_json_and_says_so(client):
    """On purpose: the seed's body ends in `"password": "[password]",` — a trailing comma, which is not JSON."""
    response = send(client, SEED_003_LOGIN, **FUSIO_USER)
    assert response.status_code == 400
    assert response.json == {"success": False, "title": "Internal Server Error",
                             "message": "The request body is not valid JSON"}


def test_seed_003_login_without_the_trailing_comma(client):
    response = send(client, SEED_003_LOGIN.replace('"[password]",\n}', '"[password]"\n}'), **FUSIO_USER)
    assert response.status_code == 200, response.text
    # The seed's keys in its order, then "scope", as Fusio sends it.
    assert list(response.json)[:3] == shown_keys(SEED_003_LOGIN_RESPONSE) and list(response.json)[3:] == ["scope"]


def test_seed_003_client_credentials_and_refresh_as_written(client):
    response = send(client, SEED_003_CLIENT_CREDENTIALS)
    assert response.status_code == 200, response.text
    assert list(response.json)[:4] == shown_keys(SEED_003_TOKEN_RESPONSE) and list(response.json)[4:] == ["scope"]
    assert (response.json["token_type"], response.json["expires_in"]) == ("bearer", 3600)
    refreshed = send(client, SEED_003_REFRESH, **{"[refresh_token]": response.json["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert list(refreshed.json)[:4] == shown_keys(SEED_003_TOKEN_RESPONSE)


def test_seed_003_protected_endpoint_as_written(client):
    seed = seed_text("003")
    literal = re.search(r"Authorization: Bearer (\S+)", seed).group(1) if seed else "eyJ0eXAi.e30.x"
    token = send(client, SEED_003_CLIENT_CREDENTIALS).json["access_token"]
    request_text = "POST /protected_endpoint HTTP/1.1\nAuthorization: Bearer TOKEN\n" + SEED_003_PROTECTED_BODY
    response = send(client, request_text, TOKEN=token)
    assert response.status_code == 200, response.text
    assert response.json == {"success": True, "message": "You have invoked a protected operation"}
    # On purpose: the seed's own token was signed by another server in 2017 (it expired an hour after).
    assert send(client, request_text, TOKEN=literal).status_code == 401


# --- seed 004 (v1) --------------------------------------------------------------------------------

SEED_004_REQUEST = quoted("004", """POST /v1/oauth/
     ?username={username}
     &password={password}
     [&device-info={device-info}""")
SEED_004_RESPONSE = quoted("004", """{
  "success": true,
  "data": {
    "access_token": "6a9382f695dc36f38e46dc08726fc8a3a22a270f",
    "expiry": 1501257349
  }
}""")
SEED_004_SLASH = quoted("004", "Please make sure to either use a trailing slash, or supply the request to "
                               "/v1/add/index.php")
SEED_004_DEVICE_INFO = quoted("004", "device-info string Information of the device (Max length - 200)")


def v1_path(path="/v1/oauth/", **values):
    query = "".join(line.strip() for line in SEED_004_REQUEST.splitlines()[1:]).replace("[", "")
    for name, value in values.items():
        query = query.replace("{" + name + "}", value)
    return path + query


def test_seed_004_token_request_as_written(client):
    response = client.post(v1_path(username="johndoe", password="demo-password", **{"device-info": "My laptop"}))
    assert response.status_code == 200, response.text
    shown = json.loads(SEED_004_RESPONSE)
    assert list(response.json) == list(shown) and list(response.json["data"]) == list(shown["data"])
    assert re.fullmatch(r"[0-9a-f]{40}", response.json["data"]["access_token"])
    assert isinstance(response.json["data"]["expiry"], int)


def test_seed_004_trailing_slash_note(client):
    assert client.post(v1_path("/v1/add/index.php", username="johndoe", password="demo-password",
                               **{"device-info": "x"})).status_code == 200
    assert client.post(v1_path("/v1/oauth", username="johndoe", password="demo-password",
                               **{"device-info": "x"})).status_code == 301


def test_seed_004_device_info_at_most_200(client):
    response = client.post(v1_path(username="johndoe", password="demo-password", **{"device-info": "x" * 201}))
    assert response.status_code == 400 and response.json["errors"]["device-info"]["code"] == 1003


def test_the_readme_table_names_every_seed_and_what_differs_on_purpose():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## The seeds' examples")[1].split("\n## ")[0]
    for number in SEED_FILES:
        assert f"\n| {number} |" in section
    assert "trailing comma" in section and "on purpose" in section
