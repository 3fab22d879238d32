"""The distribution as a QA team gets it: `python -m build`, pip install the wheel into a fresh venv, then the
`oauth-sandbox` command and the pytest plugin from a directory that is not the checkout."""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_FIXTURES = """
users:
  - {username: qa-user, email: qa@example.com, full_name: QA User, password: qa-password}
clients:
  - {dialect: php, client_id: qa-php, client_secret: qa-secret, redirect_uris: ["https://qa.example/cb"]}
"""
BAD_FIXTURES = {"users": [{"username": "qa-user", "full_name": "QA User", "password": "qa-password"}]}


def clean_env(**extra):
    """The environment without anything pointing at the checkout or configuring a sandbox."""
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONPATH" and not name.startswith(("SANDBOX_", "OAUTH_SANDBOX_", "PYTEST_"))}
    env.update(extra)
    return env


def check(*command, cwd, timeout=300, **kwargs):
    """Run a command to its end; fail with its output when it fails."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=kwargs.pop("env", clean_env()),
                          capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel `python -m build` makes from the checkout (the wheel from the sdist)."""
    pytest.importorskip("build", reason="needs build (pip install -r requirements-dev.txt)")
    out = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    check(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    print(f"\npython -m build: {time.monotonic() - started:.1f}s")
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def checkout_wheel(dist, tmp_path_factory):
    """The wheel `python -m build --wheel` (and so `pip install CHECKOUT`) makes from the checkout directly."""
    out = tmp_path_factory.mktemp("wheel")
    check(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT, cwd=out)
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh venv (no system site-packages) with the wheel installed, and a working dir outside the checkout."""
    wheel, _ = dist
    base = tmp_path_factory.mktemp("installed")
    started = time.monotonic()
    check(sys.executable, "-m", "venv", base / "venv", cwd=base)
    bin_dir = base / "venv" / ("Scripts" if os.name == "nt" else "bin")
    check(bin_dir / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=base)
    print(f"\nvenv + pip install of the wheel: {time.monotonic() - started:.1f}s")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return bin_dir, elsewhere


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, token=None):
    """(status, headers, text) of a GET."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


class Running:
    """`oauth-sandbox run …` in the background, until the front page answers."""

    def __init__(self, bin_dir, cwd, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        self.process = subprocess.Popen([str(bin_dir / "oauth-sandbox"), "run", "--port", str(self.port), *args],
                                        cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.seconds_to_first_200 = self.wait()

    def wait(self, timeout=90):
        while time.monotonic() - self.started < timeout:
            if self.process.poll() is not None:
                pytest.fail(f"oauth-sandbox run exited {self.process.returncode}:\n{self.stop()}")
            try:
                if get(self.url + "/")[0] == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"oauth-sandbox run did not answer in {timeout}s:\n{self.stop()}")

    def stop(self):
        """Stop it as a service manager would (SIGTERM); what it printed."""
        self.process.terminate()
        out, err = self.process.communicate(timeout=30)
        return out + err


def test_the_wheel_carries_the_package_with_its_resources_and_nothing_else(dist):
    wheel, sdist = dist
    assert wheel.name.startswith("oauth_sandbox-") and sdist.name.startswith("oauth_sandbox-")
    names = zipfile.ZipFile(wheel).namelist()
    for resource in ("oauth_sandbox/templates/base.html", "oauth_sandbox/static/style.css",
                     "oauth_sandbox/migrations/env.py", "oauth_sandbox/factory.py", "oauth_sandbox/pytest_plugin.py"):
        assert resource in names
    assert any(name.startswith("oauth_sandbox/migrations/versions/") for name in names)
    tops = {name.split("/")[0] for name in names}
    assert tops == {"oauth_sandbox", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    metadata = next(n for n in names if n.endswith("entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "oauth-sandbox = oauth_sandbox.command:main" in entry_points
    assert "oauth_sandbox = oauth_sandbox.pytest_plugin" in entry_points
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    sdist_names = tarfile.open(sdist).getnames()
    assert not [name for name in sdist_names if "/tests/" in name or "/instance/" in name]


def test_the_checkout_and_the_sdist_give_the_same_wheel(dist, checkout_wheel):
    wheel, _ = dist
    assert sorted(zipfile.ZipFile(checkout_wheel).namelist()) == sorted(zipfile.ZipFile(wheel).namelist())


def test_the_installed_package_is_imported_from_the_venv(venv):
    bin_dir, elsewhere = venv
    done = check(bin_dir / "python", "-c", "import oauth_sandbox; print(oauth_sandbox.__file__)", cwd=elsewhere)
    location = Path(done.stdout.strip()).resolve()
    assert location.is_relative_to(bin_dir.parent.resolve()), location
    assert not location.is_relative_to(ROOT)


def test_help(venv):
    bin_dir, elsewhere = venv
    assert "run" in check(bin_dir / "oauth-sandbox", "--help", cwd=elsewhere).stdout
    run_help = check(bin_dir / "oauth-sandbox", "run", "--help", cwd=elsewhere).stdout
    for option in ("--host", "--port", "--data-dir", "--fixtures", "oauth-sandbox"):
        assert option in run_help
    assert "FILE" in check(bin_dir / "oauth-sandbox", "check-fixtures", "--help", cwd=elsewhere).stdout
    create_help = check(bin_dir / "oauth-sandbox", "create-client", "--help", cwd=elsewhere).stdout
    assert "Usage: oauth-sandbox create-client [OPTIONS] CLIENT_ID" in create_help, create_help
    for option in ("--data-dir DIRECTORY", "--dialect", "--organization", "--dedicated-user"):
        assert f"\n  {option}" in create_help, create_help


def test_run_serves_the_sandbox_from_its_data_dir(venv, tmp_path, capsys):
    bin_dir, elsewhere = venv
    data_dir = tmp_path / "data"
    server = Running(bin_dir, elsewhere, "--data-dir", data_dir)
    with capsys.disabled():  # shown in every run: a figure to watch, not a limit
        print(f"\n[oauth-sandbox run, fresh data dir, to its first 200: {server.seconds_to_first_200:.2f}s] ", end="")
    try:
        status, _, page = get(server.url + "/")
        assert status == 200 and "/static/style.css" in page and "johndoe" in page
        status, headers, css = get(server.url + "/static/style.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css") and "{" in css
        token = (data_dir / "admin_token").read_text().strip()
        status, _, clock = get(server.url + "/_sandbox/clock", token)
        assert status == 200 and json.loads(clock)["offset"] == 0
        assert get(server.url + "/_sandbox/clock", "wrong-token")[0] == 401
        assert (data_dir / "sandbox.db").is_file()
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700  # created so: it holds the secrets
        assert not list(elsewhere.iterdir()), "nothing is written to the working dir"
    finally:
        output = server.stop()
    assert server.process.returncode == 0, output
    assert f"{server.url}/" in output
    assert str(data_dir / "admin_token") in output


def test_run_with_fixtures(venv, tmp_path):
    bin_dir, elsewhere = venv
    fixtures = tmp_path / "qa.yaml"
    fixtures.write_text(GOOD_FIXTURES)
    server = Running(bin_dir, elsewhere, "--data-dir", tmp_path / "data", "--fixtures", fixtures)
    try:
        login = urllib.request.Request(server.url + "/v1/oauth/?username=qa-user&password=qa-password", method="POST")
        with urllib.request.urlopen(login, timeout=10) as response:
            assert json.loads(response.read())["success"] is True
        demo = urllib.request.Request(server.url + "/v1/oauth/?username=johndoe&password=demo-password",
                                      method="POST")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(demo, timeout=10)
    finally:
        output = server.stop()
    assert str(fixtures) in output


def test_check_fixtures(venv, tmp_path):
    bin_dir, elsewhere = venv
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.json"
    good.write_text(GOOD_FIXTURES)
    bad.write_text(json.dumps(BAD_FIXTURES))
    check(bin_dir / "oauth-sandbox", "check-fixtures", good, cwd=elsewhere)
    refused = subprocess.run([str(bin_dir / "oauth-sandbox"), "check-fixtures", str(bad)], cwd=elsewhere,
                             env=clean_env(), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "users[0].email: required" in refused.stdout + refused.stderr


def test_the_plugin_is_there_once_installed(dist, venv, tmp_path):
    """The README's plugin example as its first line says: install what it names (the wheel for `oauth-sandbox`),
    then the venv's own `pytest`, no -p and no conftest: the pytest11 entry point loads the plugin."""
    wheel, _ = dist
    bin_dir, _ = venv
    elsewhere = tmp_path
    example = (ROOT / "README.md").read_text().split("<!-- plugin-example:start -->")[1].split(
        "<!-- plugin-example:end -->")[0].split("```python\n")[1].split("```")[0]
    install = re.search(r"`pip install ([^`]+)`, then `pytest`", example.splitlines()[0]).group(1)
    packages = [part.strip('"').replace("oauth-sandbox", str(wheel), 1) for part in install.split()]
    check(bin_dir / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages, cwd=elsewhere)
    (elsewhere / "test_my_client.py").write_text(example)
    done = check(bin_dir / "pytest", "-q", "-p", "no:cacheprovider", cwd=elsewhere)
    assert "3 passed" in done.stdout
