"""A private sandbox for a test run, from any test runner (unittest, pytest, a script):

    from oauth_sandbox import testing

    with testing.start() as sandbox:           # a free loopback port, a temporary data dir, the demo data
        requests.post(f"{sandbox.url}/v1/oauth/?username=johndoe&password=demo-password")
        sandbox.admin.clock.advance(3600)      # oauth_sandbox.client.SandboxAdmin

The sandbox runs in a background thread of the calling process, served by werkzeug's threaded server, in the
development profile (migrated schema, demo data or fixtures, the admin API on) with in-memory rate limits.
Settings come from the arguments only (not from SANDBOX_* environment variables), so a run is reproducible.
The sandbox clock is one per process: start one sandbox per process (pytest-xdist workers are processes).
"""
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from .client import SandboxAdmin

__all__ = ["Sandbox", "start"]


class Sandbox:
    """A running sandbox: `url` (no trailing slash), `admin_token`, `admin` (a SandboxAdmin), `data_dir`, `app`."""

    def __init__(self, app, server, data_dir, admin_token, remove_data_dir):
        self.app = app
        self.server = server
        self.data_dir = Path(data_dir)
        self.admin_token = admin_token
        self.host, self.port = server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.admin = SandboxAdmin(self.url, admin_token)
        self._remove_data_dir = remove_data_dir
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"oauth-sandbox-{self.port}", daemon=True)
        self._thread.start()

    def __repr__(self):
        return f"<Sandbox {self.url} data_dir={str(self.data_dir)!r}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop serving, close the database, and delete the data dir if start() made it (idempotent)."""
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
        self.server = None
        from . import clock
        from .extensions import db
        from .qa import journal

        journal.writer(self.app).flush()  # the entries still buffered, before the database closes
        with self.app.app_context():
            db.engine.dispose()
        clock.reset()  # the process's clock was this sandbox's: back on real time for whatever runs next
        if self._remove_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def start(data_dir=None, fixtures=None, port=0, host="127.0.0.1", **settings):
    """Start a sandbox in a background thread and return its Sandbox (also a context manager).

    `data_dir`: where SQLite (sandbox.db), the generated secrets and `admin_token` go; None makes a temporary one,
    deleted by stop(). `fixtures`: a JSON or YAML fixtures file loaded instead of the demo data at the first start
    in `data_dir` and on every reset (the SANDBOX_FIXTURES setting); a file that is refused raises FixtureError
    (its message names the entry, e.g. ``users[0].email: required``). `port` 0 picks a free one. Other
    keyword arguments are settings (e.g. ``PHP_TOKEN_RATE_LIMIT="5 per minute"``, ``SANDBOX_ADMIN_TOKEN=…``).
    """
    from .command import hash_the_demo_password_early

    if fixtures is None and not settings.get("SANDBOX_FIXTURES"):
        hash_the_demo_password_early()
    from werkzeug.serving import make_server

    from .factory import create_app

    remove = data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="oauth-sandbox-") if remove else data_dir).resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        token_file = data_dir / "admin_token"
        admin_token = settings.get("SANDBOX_ADMIN_TOKEN")
        if not admin_token:
            admin_token = token_file.read_text().strip() if token_file.exists() else secrets.token_hex(32)
        token_file.write_text(admin_token)
        token_file.chmod(0o600)
        config = {"SANDBOX_PROFILE": "development", **settings, "SANDBOX_ADMIN_TOKEN": admin_token,
                  "SANDBOX_ADMIN_TOKEN_FILE": str(token_file)}
        if fixtures is not None:
            config["SANDBOX_FIXTURES"] = str(Path(fixtures).resolve())
        app = create_app(config, instance_path=str(data_dir))  # first start: the schema, the fixtures or demo data
        server = make_server(host, port, app, threaded=True)
    except BaseException:
        if remove:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Sandbox(app, server, data_dir, admin_token, remove)
