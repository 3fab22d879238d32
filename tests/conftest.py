"""Fixtures: the real app on a real SQLite file, its test client, and a live server for real clients."""
import pytest

from helpers import LiveServer, make_app
from oauth_sandbox import clock
from oauth_sandbox.extensions import db
from oauth_sandbox.qa import journal


@pytest.fixture
def app_config():
    """Per-test config overrides (parametrize or override this fixture)."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    app = make_app(tmp_path, **app_config)
    yield app
    clock.reset()
    journal.writer(app).flush()  # its buffered entries, into its own database (PostgreSQL's is the next test's too)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server
