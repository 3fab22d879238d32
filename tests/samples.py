"""Seed 002's sample clients, filled in and run beside a live sandbox as a tutorial reader runs them."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


def filled_in(name, sandbox_url, redirect_uri):
    """A sample's text with its placeholders filled in and example.com replaced by the sandbox."""
    text = (SAMPLES / name).read_text()
    for placeholder, value in (("YOUR_CLIENT_ID", "php-demo"), ("YOUR_CLIENT_SECRET", "php-demo-secret"),
                               ("YOUR_REDIRECT_URI", redirect_uri), ("https://example.com", sandbox_url)):
        text = text.replace(placeholder, value)
    return text


def free_port(preferred=None):
    """`preferred` if nothing listens there, else any free loopback port."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def wait_for_port(port, process, timeout=20):
    """Block until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else "see its log"
            raise RuntimeError(f"server exited early (code {process.returncode}): {output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def require_program(path):
    """The program's path; in CI (which installs it) its absence fails, elsewhere it skips."""
    found = shutil.which(path)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{path} is not installed; .ci/run installs it")
    pytest.skip(f"{path} is not installed (apt-get install it to run this test)")


class SampleProcess:
    """A sample client served by a child process on a loopback port."""

    def __init__(self, command, cwd, port):
        self.port = port
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def __enter__(self):
        wait_for_port(self.port, self.process)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)


def run_python_sample(tmp_path, sandbox_url, preferred_port=8000):
    """Seed 002's Python sample as `flask --app sample run --port 8000` (another port if 8000 is taken)."""
    port = free_port(preferred_port)
    (tmp_path / "sample.py").write_text(filled_in("sample.py", sandbox_url, f"http://localhost:{port}/callback"))
    command = [sys.executable, "-m", "flask", "--app", "sample", "run", "--port", str(port)]
    return SampleProcess(command, tmp_path, port)


def run_php_sample(tmp_path, sandbox_url):
    """Seed 002's PHP sample, its two steps as two pages, under `php -S`.

    Step 2 is served at /callback (as callback/index.php) to match the demo client's redirect URI.
    """
    php = require_program("php")
    port = free_port()
    redirect_uri = f"http://localhost:{port}/callback"
    (tmp_path / "callback").mkdir()
    for page, target in (("authorize.php", "authorize.php"), ("callback.php", "callback/index.php")):
        (tmp_path / target).write_text(filled_in(page, sandbox_url, redirect_uri))
    return SampleProcess([php, "-S", f"127.0.0.1:{port}", "-t", str(tmp_path)], tmp_path, port)
