"""Helpers the tests share: the app on a real SQLite file, the browser-like OAuth steps, a live server."""
import os
import re
import threading
from urllib.parse import parse_qs, urlsplit

import redis
from flask_migrate import stamp
from werkzeug.serving import make_server

from app import create_app
from oauth_sandbox import bootstrap
from oauth_sandbox.extensions import db
from oauth_sandbox.qa import journal
from oauth_sandbox.ratelimit import limiter

PHP_CLIENT = {"client_id": "php-demo", "client_secret": "php-demo-secret"}
PHP_REDIRECT_URI = "http://localhost:8000/callback"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def sqlite_url(tmp_path):
    """The SQLite database a test app makes in `tmp_path` when no SANDBOX_TEST_DATABASE_URL is given."""
    return f"sqlite:///{tmp_path / 'sandbox.db'}"


def make_app(tmp_path, **overrides):
    """A testing-profile app on a fresh database holding the demo data.

    SQLite in `tmp_path` by default; SANDBOX_TEST_DATABASE_URL and SANDBOX_TEST_RATELIMIT_STORAGE_URI
    run the same tests against PostgreSQL and Redis (each test starts with empty tables and counters).
    """
    config = {
        "SANDBOX_PROFILE": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "0123456789abcdef" * 3,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("SANDBOX_TEST_DATABASE_URL") or sqlite_url(tmp_path),
        "RATELIMIT_STORAGE_URI": os.environ.get("SANDBOX_TEST_RATELIMIT_STORAGE_URI", "sandbox-memory://"),
    }
    config.update(overrides)
    journal.flush_all()  # what earlier apps still buffer goes to their database before this one empties it
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()  # faster than migrating; test_migrations proves the migrations give the same schema
        stamp()
        bootstrap.load_demo_data()
    # One limiter serves every app a test makes, and init_app does not forget that an earlier app's Redis was down
    # (test_production's): without this, later tests would count in its in-memory fallback instead of their storage.
    limiter._storage_dead = False
    try:
        limiter.reset()  # counters start at zero, also in a shared Redis
    except redis.exceptions.ConnectionError:
        pass  # a test that means the Redis storage to be down

    return app


def csrf_token(html):
    """The CSRF token of the (first) form in a page."""
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client, username="johndoe", password="demo-password", next_url=None):
    """Log in through the login form, as a browser would."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.text), "username": username, "password": password})


def authorize_url(**params):
    """/api/authorize.php with the demo client's parameters, overridable."""
    query = {"client_id": "php-demo", "redirect_uri": PHP_REDIRECT_URI, "response_type": "code", "state": "xyz"}
    query.update(params)
    return "/api/authorize.php?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


def approve(client, url, decision="approve"):
    """Submit the consent form at `url` (already logged in); returns the redirect response."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"csrf_token": csrf_token(page.text), decision: decision.title()})


def query_of(location):
    """The query parameters of a redirect Location, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def obtain_code(client, **params):
    """Log in as johndoe and approve the demo client; returns the code."""
    login(client)
    response = approve(client, authorize_url(**params))
    assert response.status_code == 302, response.text
    return query_of(response.headers["Location"])["code"]


def obtain_token(client, **params):
    """A fresh php access token for johndoe."""
    code = obtain_code(client, **params)
    response = client.post("/api/token.php", data={"code": code, **PHP_CLIENT})
    assert response.status_code == 200, response.text
    return response.json["access_token"]


class LiveServer:
    """The app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
