"""The pytest plugin (entry point `pytest11`: installing oauth-sandbox is all it takes).

Fixtures:
    oauth_sandbox_server  session scope: a private sandbox (oauth_sandbox.testing.start) on a free loopback port in
                          a temporary data dir, stopped at the end; under pytest-xdist one per worker. With
                          --oauth-sandbox-url and --oauth-sandbox-admin-token (or OAUTH_SANDBOX_URL and
                          OAUTH_SANDBOX_ADMIN_TOKEN), the sandbox already running there instead.
    oauth_sandbox         function scope: the same sandbox, reset before the test (POST /_sandbox/reset: the demo
                          data or the fixtures, the real time, no faults, rate limits and counters as configured,
                          an empty journal).
Both give an object with `.url`, `.admin_token` and `.admin` (an oauth_sandbox.client.SandboxAdmin).

Importing this module starts nothing and imports nothing of the sandbox: a server starts when a test first uses
one of the fixtures.
"""
import os

import pytest

URL_ENV = "OAUTH_SANDBOX_URL"
TOKEN_ENV = "OAUTH_SANDBOX_ADMIN_TOKEN"
FIXTURES_ENV = "OAUTH_SANDBOX_FIXTURES"


def pytest_addoption(parser):
    group = parser.getgroup("oauth-sandbox", "OAuth Sandbox (fixtures oauth_sandbox, oauth_sandbox_server)")
    group.addoption("--oauth-sandbox-url", metavar="URL", default=None,
                    help=f"Use the sandbox running at URL instead of starting one (env {URL_ENV}).")
    group.addoption("--oauth-sandbox-admin-token", metavar="TOKEN", default=None,
                    help=f"The admin token of the sandbox at --oauth-sandbox-url (env {TOKEN_ENV}).")
    group.addoption("--oauth-sandbox-fixtures", metavar="FILE", default=None,
                    help=f"Fixtures file (JSON or YAML) the started sandbox loads instead of the demo data "
                         f"(env {FIXTURES_ENV}); a sandbox at --oauth-sandbox-url keeps its own.")


def remote_sandbox(config):
    """(url, admin token) of the sandbox to use instead of starting one, or (None, None)."""
    url = config.getoption("oauth_sandbox_url") or os.environ.get(URL_ENV)
    token = config.getoption("oauth_sandbox_admin_token") or os.environ.get(TOKEN_ENV)
    return url or None, token or None


def pytest_configure(config):
    url, token = remote_sandbox(config)
    if url and not token:
        raise pytest.UsageError(f"--oauth-sandbox-url needs --oauth-sandbox-admin-token (or {TOKEN_ENV})")


class RemoteSandbox:
    """A sandbox someone else started: `url`, `admin_token`, `admin`."""

    def __init__(self, url, admin_token):
        from .client import SandboxAdmin

        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.admin = SandboxAdmin(self.url, admin_token)

    def __repr__(self):
        return f"<RemoteSandbox {self.url}>"


@pytest.fixture(scope="session")
def oauth_sandbox_server(request, tmp_path_factory):
    """The session's sandbox (`.url`, `.admin_token`, `.admin`): started here, or the one at --oauth-sandbox-url."""
    config = request.config
    url, token = remote_sandbox(config)
    if url:
        yield RemoteSandbox(url, token)
        return
    from . import testing

    fixtures = config.getoption("oauth_sandbox_fixtures") or os.environ.get(FIXTURES_ENV)
    if fixtures:
        fixtures = os.path.join(str(config.invocation_params.dir), fixtures)  # relative to where pytest was run
    sandbox = testing.start(data_dir=tmp_path_factory.mktemp("oauth-sandbox"), fixtures=fixtures)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def oauth_sandbox(oauth_sandbox_server):
    """The session's sandbox, reset before the test: demo data (or the fixtures), no faults, the clock on real time,
    rate limits and counters as configured, an empty journal (so `admin.requests()` holds this test's requests)."""
    oauth_sandbox_server.admin.reset()
    return oauth_sandbox_server
