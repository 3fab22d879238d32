"""The pytest plugin as a QA team uses it: test files of their own, run by pytest in a fresh process (pytester)."""
import json
from importlib.metadata import entry_points
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from oauth_sandbox import testing
from oauth_sandbox.client import SandboxAdmin, SandboxAdminError

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
# Installed, the package's pytest11 entry point loads the plugin; in the checkout it is not installed, so load it
# by name (both at once would register it twice).
INSTALLED = any(ep.value == "oauth_sandbox.pytest_plugin" for ep in entry_points(group="pytest11"))
PLUGIN = [] if INSTALLED else ["-p", "oauth_sandbox.pytest_plugin"]

FIXTURES = """
users:
  - {username: qa-user, email: qa@example.com, full_name: QA User, password: qa-password}
clients:
  - {dialect: php, client_id: qa-php, client_secret: qa-secret, redirect_uris: ["https://qa.example/cb"]}
"""

# A QA team's test file: their client (here: requests) against the sandbox the fixtures give.
USER_TESTS = '''
import sys

import pytest
import requests


def test_nothing_is_started_for_a_test_without_the_fixtures():
    assert "oauth_sandbox.factory" not in sys.modules and "oauth_sandbox.testing" not in sys.modules


def test_v1_token_and_the_journal(oauth_sandbox):
    response = requests.post(f"{oauth_sandbox.url}/v1/oauth/?username=johndoe&password=demo-password")
    assert response.status_code == 200
    token = response.json()["data"]["access_token"]
    assert len(token) == 40
    entry = oauth_sandbox.admin.requests(path="/v1/oauth/")[0]
    assert (entry["status"], entry["user"]) == (200, "johndoe")


def test_both_fixtures_are_one_sandbox(oauth_sandbox_server, oauth_sandbox):
    assert oauth_sandbox.url == oauth_sandbox_server.url
    assert oauth_sandbox.admin_token == oauth_sandbox_server.admin_token
    oauth_sandbox.admin.clock.advance(3600)
    oauth_sandbox.admin.faults.add("/api/token.php", error="invalid_client")


def test_each_test_starts_reset(oauth_sandbox):
    assert oauth_sandbox.admin.clock.get()["offset"] == 0
    assert oauth_sandbox.admin.faults.list() == []
    assert oauth_sandbox.admin.requests() == [], "the journal holds this test's requests only"


def test_php_token_by_headless_login(oauth_sandbox):
    oauth_sandbox.admin.clients.update("php-demo", headless_user="johndoe")
    redirect = requests.get(f"{oauth_sandbox.url}/api/authorize.php", allow_redirects=False, params={
        "client_id": "php-demo", "redirect_uri": "http://localhost:8000/callback", "response_type": "code",
        "state": "xyz"})
    assert redirect.status_code == 302
    code = requests.utils.urlparse(redirect.headers["Location"]).query.split("code=")[1].split("&")[0]
    token = requests.post(f"{oauth_sandbox.url}/api/token.php", data={
        "code": code, "client_id": "php-demo", "client_secret": "php-demo-secret"}).json()["access_token"]
    me = requests.get(f"{oauth_sandbox.url}/api/userinfo.php", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "johndoe", "email": "john@example.com", "full_name": "John Doe"}
'''


@pytest.fixture
def user_project(pytester, monkeypatch):
    """A QA team's project dir; the checkout importable in pytest's subprocess, no sandbox given by environment."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    for name in ("OAUTH_SANDBOX_URL", "OAUTH_SANDBOX_ADMIN_TOKEN", "OAUTH_SANDBOX_FIXTURES"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider", *args, timeout=120)


def test_the_fixtures_give_a_private_sandbox_reset_before_each_test(user_project):
    user_project.makepyfile(test_client=USER_TESTS)
    result = run(user_project, "-v")
    result.assert_outcomes(passed=5)


def test_fixtures_file_replaces_the_demo_data(user_project):
    user_project.makefile(".yaml", qa_fixtures=FIXTURES)
    user_project.makepyfile(test_fixtures='''
import requests

def test_only_the_fixtures_users(oauth_sandbox):
    ok = requests.post(f"{oauth_sandbox.url}/v1/oauth/?username=qa-user&password=qa-password")
    assert ok.status_code == 200
    gone = requests.post(f"{oauth_sandbox.url}/v1/oauth/?username=johndoe&password=demo-password")
    assert gone.json()["success"] is False
    assert oauth_sandbox.admin.reset()["fixtures"].endswith("qa_fixtures.yaml")
''')
    run(user_project, "--oauth-sandbox-fixtures", "qa_fixtures.yaml").assert_outcomes(passed=1)


def test_each_xdist_worker_gets_its_own_sandbox(user_project, monkeypatch):
    pytest.importorskip("xdist")
    user_project.makepyfile(test_workers='''
import json
import os

import requests


def record(sandbox, worker_id):
    assert requests.get(f"{sandbox.url}/static/style.css").status_code == 200
    with open(os.environ["URLS_FILE"], "a") as urls:
        urls.write(json.dumps([worker_id, sandbox.url]) + "\\n")


def test_one(oauth_sandbox, worker_id):
    record(oauth_sandbox, worker_id)


def test_two(oauth_sandbox, worker_id):
    record(oauth_sandbox, worker_id)
''')
    urls_file = user_project.path / "urls.jsonl"
    monkeypatch.setenv("URLS_FILE", str(urls_file))
    run(user_project, "-n", "2", "--dist", "each").assert_outcomes(passed=4)
    seen = [tuple(json.loads(line)) for line in urls_file.read_text().splitlines()]
    by_worker = {}
    for worker, url in seen:
        by_worker.setdefault(worker, set()).add(url)
    assert sorted(by_worker) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in by_worker.values()), "one sandbox per worker, for the whole session"
    assert by_worker["gw0"] != by_worker["gw1"], "each worker has its own sandbox"


def test_a_sandbox_already_running_is_used_by_url(user_project, monkeypatch):
    with testing.start() as remote:
        user_project.makepyfile(test_remote=f'''
import requests


def test_uses_the_given_sandbox(oauth_sandbox):
    assert oauth_sandbox.url == "{remote.url}"
    assert requests.post(f"{{oauth_sandbox.url}}/v1/oauth/?username=janedoe&password=demo-password").ok
    oauth_sandbox.admin.clock.advance(60)
''')
        result = run(user_project, "--oauth-sandbox-url", remote.url, "--oauth-sandbox-admin-token",
                     remote.admin_token)
        result.assert_outcomes(passed=1)
        assert remote.admin.requests(path="/v1/oauth/")[0]["user"] == "janedoe"
        assert remote.admin.clock.get()["offset"] == 60

        # The same by environment, as a CI job would give it.
        monkeypatch.setenv("OAUTH_SANDBOX_URL", remote.url)
        monkeypatch.setenv("OAUTH_SANDBOX_ADMIN_TOKEN", remote.admin_token)
        run(user_project).assert_outcomes(passed=1)
        assert remote.admin.clock.get()["offset"] == 60, "reset before the test, then moved by it again"


def test_a_url_without_its_admin_token_is_a_usage_error(user_project):
    user_project.makepyfile(test_remote="def test_x(oauth_sandbox):\n    pass\n")
    result = run(user_project, "--oauth-sandbox-url", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--oauth-sandbox-url needs --oauth-sandbox-admin-token*"])


def test_the_plugin_lists_its_options_in_help(user_project):
    result = run(user_project, "--help")
    result.stdout.fnmatch_lines(["*--oauth-sandbox-url=URL*", "*--oauth-sandbox-admin-token=TOKEN*",
                                 "*--oauth-sandbox-fixtures=FILE*"])


def http(method, url, token=None):
    """(status, JSON body) of a request, as a client under test would send it."""
    request = Request(url, method=method, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def test_sandbox_admin_without_pytest():
    """oauth_sandbox.client.SandboxAdmin against testing.start(): each call's effect, as a client sees it."""
    with testing.start() as sandbox:
        admin, url = sandbox.admin, sandbox.url
        login = f"{url}/v1/oauth/?username=johndoe&password=demo-password"
        status, body = http("POST", login)
        assert status == 200
        token = body["data"]["access_token"]
        assert http("GET", f"{url}/v1/user/", token) == (200, {"success": True, "data": {
            "username": "johndoe", "email": "john@example.com", "full_name": "John Doe"}})

        assert admin.users.update("johndoe", full_name="J. Doe")["full_name"] == "J. Doe"
        assert http("GET", f"{url}/v1/user/", token)[1]["data"]["full_name"] == "J. Doe"
        assert admin.expire_tokens(token=token) == 1
        assert http("GET", f"{url}/v1/user/", token)[0] == 401

        now = admin.clock.now()
        assert admin.clock.advance(3600)["now"] >= now + 3600
        assert admin.clock.set(1900000000)["now"] == 1900000000
        assert admin.clock.reset()["offset"] == 0

        fault = admin.faults.add("/api/token.php", error="invalid_client", count=2)
        assert [f["id"] for f in admin.faults.list()] == [fault["id"]]
        assert http("POST", f"{url}/api/token.php")[1]["error"] == "invalid_client"
        admin.faults.clear()
        assert admin.faults.list() == []

        assert admin.rate_limits.set(V1_TOKEN_RATE_LIMIT="1 per minute")["V1_TOKEN_RATE_LIMIT"] == "1 per minute"
        assert http("POST", login)[0] == 200 and http("POST", login)[0] == 429
        assert admin.rate_limits.get()["V1_TOKEN_RATE_LIMIT"] == "1 per minute"

        assert admin.clients.update("php-demo", status="disabled")["status"] == "disabled"
        assert [entry["status"] for entry in admin.requests(path="/v1/oauth/", limit=2)] == [429, 200]
        admin.clear_requests()
        assert admin.requests() == []

        assert admin.reset()["reset"] is True
        assert http("POST", login)[0] == 200, "reset restores the rate limits, the counters and the data"
        assert admin.rate_limits.get()["V1_TOKEN_RATE_LIMIT"] != "1 per minute"

        with pytest.raises(SandboxAdminError) as refused:
            admin.rate_limits.set(V1_TOKEN_RATE_LIMIT="often")
        assert refused.value.status == 400 and "is not a limit" in refused.value.message
        with pytest.raises(SandboxAdminError) as unknown:
            admin.users.update("nobody", full_name="X")
        assert (unknown.value.status, unknown.value.error) == (404, "not_found")
        with pytest.raises(SandboxAdminError) as unauthorized:
            SandboxAdmin(url, "not-the-token").reset()
        assert unauthorized.value.status == 401
        with pytest.raises(ValueError):
            admin.expire_tokens()
    with pytest.raises(SandboxAdminError) as unreachable:
        sandbox.admin.clock.now()
    assert unreachable.value.status is None and "cannot reach" in unreachable.value.message
    assert not sandbox.data_dir.exists(), "the temporary data dir goes with the sandbox"
