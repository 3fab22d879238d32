"""The front page: every dialect, the demo credentials, and requests that work exactly as shown."""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from helpers import csrf_token

PRE = re.compile(r"<pre[^>]*>(.*?)</pre>", re.S)


def shown_commands(page_html):
    """The shell commands in a page's <pre> blocks, as a reader would copy them."""
    return [html.unescape(block) for block in PRE.findall(page_html) if block.lstrip().startswith("curl")]


def run_shell(command):
    """Run a copied command with bash; returns (body, HTTP status)."""
    assert shutil.which("curl"), "curl is needed to run the front page's requests"
    result = subprocess.run(["bash", "-c", command + " -w '\\n%{http_code}'"], capture_output=True, text=True,
                            timeout=30, check=True)
    body, _, status = result.stdout.rpartition("\n")
    return body, int(status)


def test_front_page_lists_the_php_dialect_and_demo_credentials(client):
    page = client.get("/").text
    for text in ("/api/authorize.php", "/api/token.php", "/api/userinfo.php", "php-demo-secret", "johndoe",
                 "demo-password", "002_685b52e64b2371f0.txt"):
        assert text in page


ANNOTATED = re.compile(r"^(curl .*?)\s+# (\d{3}) (\S+)$")


def test_every_annotated_error_request_on_the_front_page_answers_as_annotated(live_server):
    page = requests.get(live_server.url + "/").text
    annotated = [ANNOTATED.match(line) for block in shown_commands(page) for line in block.splitlines()]
    annotated = [match.groups() for match in annotated if match]
    assert len(annotated) >= 10  # php's and v1's error blocks
    for command, status, error in annotated:
        body, got = run_shell(command)
        assert got == int(status), command
        assert error in body, (command, body)  # php names the error, v1 gives its numeric code


def test_try_it_walkthrough_works_as_shown(live_server):
    username = "johndoe"
    session = requests.Session()
    front = session.get(live_server.url + "/").text
    authorize_link = html.unescape(re.search(r'id="php-authorize" href="([^"]+)"', front).group(1))
    login_page = session.get(authorize_link)
    consent = session.post(login_page.url, data={"csrf_token": csrf_token(login_page.text), "username": username,
                                                 "password": "demo-password"})
    callback = session.post(consent.url, data={"csrf_token": csrf_token(consent.text), "approve": "Approve"})
    assert callback.url.startswith(f"{live_server.url}/callback?code=") and "state=xyz" in callback.url

    redeem, userinfo = shown_commands(callback.text)
    body, status = run_shell(redeem)
    assert status == 200, body
    access_token = json.loads(body)["access_token"]

    assert userinfo in shown_commands(front)
    body, status = run_shell(userinfo.replace("ACCESS_TOKEN", access_token))
    assert status == 200 and json.loads(body)["username"] == username


def test_api_reference_page_lists_every_operation_of_the_openapi_document(client):
    document = client.get("/openapi.json").json
    page = client.get("/docs").text
    for path in document["paths"]:
        assert f"<code>{path}</code>" in page
    assert {"/api/token.php", "/consumer/login", "/v1/oauth/", "/oauth/token"} <= set(document["paths"])


def readme_mokapen_authorize_url(base_url):
    """The public app's authorize URL README's mokapen section prints, on this server."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    url = re.search(r"^# (http://127\.0\.0\.1:5000/oauth/authorize\?\S+)$", readme, re.M).group(1)
    return url.replace("http://127.0.0.1:5000", base_url)


@pytest.mark.parametrize("link", ["front page", "README"])
def test_callback_page_shows_the_token_request_of_the_codes_dialect_and_client(live_server, link):
    """The front page's mokapen authorize link (scopes tasks.read contacts.read), and the README's (tasks.read
    tasks.write), land on /callback, whose request (mokapen's /oauth/token with mokapen-public-demo) redeems the
    code as shown; its API request, a list the code's scope may read, then answers."""
    session = requests.Session()
    front = session.get(live_server.url + "/").text
    authorize_link = (html.unescape(re.search(r'id="mokapen-authorize" href="([^"]+)"', front).group(1))
                      if link == "front page" else readme_mokapen_authorize_url(live_server.url))
    login_page = session.get(authorize_link)
    consent = session.post(login_page.url, data={"csrf_token": csrf_token(login_page.text), "username": "johndoe",
                                                 "password": "demo-password"})
    callback = session.post(consent.url, data={"csrf_token": csrf_token(consent.text), "approve": "Approve",
                                               "organization_id": "849"})
    assert callback.url.startswith(f"{live_server.url}/callback?code="), callback.url
    assert 'id="code-client">mokapen-public-demo<' in callback.text
    redeem, listing = shown_commands(callback.text)
    assert "/oauth/token" in redeem and "token.php" not in callback.text
    assert listing.split()[2].endswith("/api/v1/849/contacts" if link == "front page" else "/api/v1/849/tasks")
    body, status = run_shell(redeem)
    assert status == 200, body
    assert json.loads(body)["organization_id"] == 849
    body, status = run_shell(listing.replace("ACCESS_TOKEN", json.loads(body)["access_token"]))
    assert status == 200 and json.loads(body)["data"], body


def test_callback_page_says_so_for_a_code_it_never_issued(client):
    page = client.get("/callback?code=made-up&state=xyz").text
    assert "not one this sandbox issued" in page and "curl" not in page


def test_docs_show_every_operations_parameters_bodies_responses_and_a_working_example(live_server):
    document = requests.get(live_server.url + "/openapi.json").json()
    page = requests.get(live_server.url + "/docs").text
    sections = re.findall(r'<section class="card operation" id="[^"]+">(.*?)</section>', page, re.S)
    operations = [(path, method, op) for path, methods in document["paths"].items() for method, op in methods.items()]
    assert len(sections) == len(operations)
    ran = 0
    for (path, method, operation), section in zip(operations, sections, strict=True):
        assert f"<code>{method.upper()} {path}</code>" in section
        for parameter in operation.get("parameters", []):
            assert f"<code>{parameter['name']}</code>" in section, (path, parameter)
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for field in content["schema"].get("properties", {}):
                assert f"<code>{field}</code>" in section, (path, field)
        for status in operation["responses"]:
            assert re.search(rf"<td>[\d, ]*\b{status}\b", section), (path, status)
        example = html.unescape(re.search(r'<pre class="example">(.*?)</pre>', section, re.S).group(1))
        assert example.startswith("curl ") and path.split("{")[0] in example
        if not re.search(r"\b[A-Z][A-Z_]{3,}\b", re.sub(r"-X [A-Z]+", "", example)):
            body, status = run_shell(example)  # an example with nothing to fill in answers as is
            assert status < 400, (example, status, body)
            ran += 1
    assert ran >= 5
