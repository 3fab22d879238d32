"""The README's pytest example for QA teams (the plugin's), run as written: with the plugin's own sandbox, and twice
in a row against a sandbox that was used before (its state changed every way a test can change it)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from test_plugin import run, user_project  # noqa: F401 - the fixture pytester runs a QA team's project with

from oauth_sandbox import testing

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"
ADMIN_TOKEN = "readme-admin-token"
MARKERS = ("<!-- plugin-example:start -->", "<!-- plugin-example:end -->")


def readme_example():
    section = README.read_text().split(MARKERS[0])[1].split(MARKERS[1])[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def use(sandbox):
    """What an earlier suite leaves behind: every kind of state changed."""
    admin, url = sandbox.admin, sandbox.url
    for _ in range(3):
        requests.post(f"{url}/authorization/token", auth=("consumer-demo", "consumer-demo-secret"),
                      data={"grant_type": "client_credentials"})
    admin.rate_limits.set(CONSUMER_RATE_LIMIT="3 per hour")  # the counter is full at this limit
    admin.clock.advance(7200)
    admin.faults.add("/authorization/token", error="invalid_client", count=5)
    admin.users.update("johndoe", email="someone-else@example.com")
    admin.clients.update("consumer-demo", status="disabled")
    admin.clients.update("php-demo", headless_user="janedoe")


def test_the_readme_example_passes(user_project):  # noqa: F811
    user_project.makepyfile(test_my_client=readme_example())
    run(user_project).assert_outcomes(passed=3)  # as the README says: pytest, nothing else to set up

    with testing.start() as used:
        use(used)
        remote = ("--oauth-sandbox-url", used.url, "--oauth-sandbox-admin-token", used.admin_token)
        for attempt in ("first", "second"):
            result = run(user_project, *remote)
            assert result.ret == pytest.ExitCode.OK, f"{attempt} run against a used sandbox:\n{result.stdout.str()}"
            result.assert_outcomes(passed=3)


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN}


def test_the_readme_sandbox_admin_calls_work_as_printed(live_server):
    """README's SandboxAdmin script (beside its curl block), run as printed by Python against a live sandbox; its
    asserts are the check."""
    section = README.read_text().split("<!-- qa-python:start -->")[1].split("<!-- qa-python:end -->")[0]
    script = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    for call in ("health", "faults.add", "faults.list", "faults.delete", "faults.clear", "count_requests", "requests",
                 "metrics", "clock.get", "clock.advance", "clock.set", "clock.now", "clock.reset", "expire_tokens",
                 "rate_limits.set", "rate_limits.get", "users.update", "clients.update", "roles.set",
                 "clear_requests", "reset"):  # every control of the curl block, and the client's other calls
        assert f"admin.{call}(" in script, call
    env = {**os.environ, "SANDBOX": live_server.url, "ADMIN_TOKEN": ADMIN_TOKEN}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=README.parent, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
