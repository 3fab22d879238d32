"""The application factory: config → extensions → blueprints → error handlers → CLI."""
import os
from pathlib import Path

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from . import bootstrap, cli, database, envelope, logs, reads
from .config import load_config
from .dialects import DIALECTS
from .errors import register_api_prefix, register_error_handlers
from .extensions import csrf
from .qa import admin, console, faults, observe
from .ratelimit import limiter
from .web import auth, front, openapi

PACKAGE = Path(__file__).resolve().parent


def resource_root():
    """Where templates/, static/ and migrations/ are: inside the installed package, or beside it in the checkout."""
    return PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent


class SandboxFlask(Flask):
    """Flask for an app whose views and hooks are all synchronous: each is called as it is, without the coroutine
    check Flask makes on every call (about 10 µs a request here)."""

    def ensure_sync(self, func):
        return func


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once per secret key, not on every request,
    and a request without cookies (every API client's) given its new empty session at once, as Flask would after
    looking for the cookie."""

    def open_session(self, app, request):
        if not request.environ.get("HTTP_COOKIE") and app.secret_key:
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        cache = app.extensions.setdefault("sandbox_session_serializers", {})
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in cache:
            cache[key] = super().get_signing_serializer(app)
        return cache[key]


def create_app(test_config=None, instance_path=None):
    """Create the sandbox app; `test_config` replaces instance/config.py and the environment; `instance_path` is the
    data dir (default: instance/ beside the resources)."""
    root = resource_root()
    app = SandboxFlask("oauth_sandbox", root_path=str(root), instance_path=str(instance_path or root / "instance"),
                instance_relative_config=True)
    load_config(app, test_config)
    app.session_interface = SessionInterface()
    if app.config["ALLOW_INSECURE_HTTP"]:
        # Authlib reads this flag from the environment only; a sandbox is commonly served over http.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    logs.init_app(app)

    database.init_app(app)
    reads.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    envelope.init_app(app)  # the per-request duties, in one before/after pair (envelope.py says which, in order)
    app.register_blueprint(front.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(observe.bp)  # /_sandbox/health (no token) and /metrics
    register_api_prefix("/_sandbox/", "sandbox", admin.AdminError)
    for dialect in DIALECTS:
        for blueprint in dialect.blueprints:
            app.register_blueprint(blueprint)
        for prefix in dialect.api_prefixes:
            register_api_prefix(prefix, dialect.name, dialect.error_class)
        dialect.init_app(app)
    register_error_handlers(app)
    cli.init_app(app)
    bootstrap.prepare_profile(app)
    app.wsgi_app = faults.DropConnection(app.wsgi_app)  # a `drop` fault closes the connection without a response
    return app

