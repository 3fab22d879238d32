"""The application factory: config → extensions → blueprints → error handlers → CLI."""
import os
from pathlib import Path

from flask import Flask, g
from flask_cors import CORS

from . import bootstrap, cli, database, fastlane, housekeeping, logs, runtime
from .config import load_config
from .dialects import DIALECTS
from .errors import register_api_prefix, register_error_handlers
from .extensions import csrf, limiter
from .qa import admin, console, faults, journal
from .security import SECURITY_HEADERS
from .web import auth, front, openapi

PACKAGE = Path(__file__).resolve().parent


def resource_root():
    """Where templates/, static/ and migrations/ are: inside the installed package, or beside it in the checkout."""
    return PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent


def create_app(test_config=None, instance_path=None):
    """Create the sandbox app; `test_config` replaces instance/config.py and the environment; `instance_path` is the
    data dir (default: instance/ beside the resources)."""
    root = resource_root()
    app = Flask("oauth_sandbox", root_path=str(root), instance_path=str(instance_path or root / "instance"),
                instance_relative_config=True)
    load_config(app, test_config)
    app.json.sort_keys = False  # keep keys in the documents' order ("success" before "data")
    if app.config["ALLOW_INSECURE_HTTP"]:
        # Authlib reads this flag from the environment only; a sandbox is commonly served over http.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    logs.init_app(app)

    database.init_app(app)
    csrf.init_app(app)
    # Shared runtime state first (the clock, limits), then the journal's timer and any injected fault.
    app.before_request(runtime.load_settings)
    app.before_request(journal.start_timer)
    app.before_request(faults.inject)
    app.after_request(journal.record)
    # Hooks registered before the limiter's run after it (Flask runs after_request in reverse), so
    # these see and adjust the rate-limit headers it adds.
    app.after_request(drop_retry_after_where_meaningless)
    app.register_blueprint(front.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)
    register_api_prefix("/_sandbox/", "sandbox", admin.AdminError)
    for dialect in DIALECTS:
        for blueprint in dialect.blueprints:
            app.register_blueprint(blueprint)
        for prefix in dialect.api_prefixes:
            register_api_prefix(prefix, dialect.name, dialect.error_class)
        dialect.init_app(app)
    limiter.init_app(app)
    CORS(app, resources={path: opts for d in DIALECTS for path, opts in d.cors_resources.items()})

    if app.config["SANDBOX_PROFILE"] == "production":
        app.after_request(housekeeping.purge_on_schedule)
    register_error_handlers(app)
    app.after_request(set_security_headers)
    cli.init_app(app)
    bootstrap.prepare_profile(app)
    fastlane.install(app)
    return app


def drop_retry_after_where_meaningless(response):
    """flask-limiter adds Retry-After to every limited response; it only means something on a 429 (or 503).

    A response that chose its own (an injected fault, a database outage) keeps it: the limiter would raise
    it to the end of its window, though no limit was exceeded.
    """
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif g.get("retry_after") is not None:
        response.headers["Retry-After"] = g.retry_after
    return response


def set_security_headers(response):
    """Pages cannot be framed (clickjacking on consent), sniffed, or leak URLs with codes in Referer."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response
