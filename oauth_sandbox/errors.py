"""Error shapes: each dialect's JSON under its path prefixes, HTML pages everywhere else."""
import logging
import sqlite3

from flask import g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    NotFound,
    ServiceUnavailable,
)

from . import jsonbody
from .database import release_session
from .extensions import db

log = logging.getLogger(__name__)


class DialectError(Exception):
    """An error a dialect answers in its own JSON shape; each dialect subclasses it once."""

    status = 400
    #: The dialect's documented errors by name, each a factory of the error (for fault injection).
    DOCUMENTED = {}

    def __init__(self, error, description, status=None, headers=None):
        super().__init__(description)
        self.error = error
        self.description = description
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})

    def body(self):
        """The JSON body in the dialect's shape."""
        raise NotImplementedError

    @classmethod
    def from_http_status(cls, status, description):
        """The dialect's error for a plain HTTP failure (404, 405, 413, 429, 500, …)."""
        raise NotImplementedError

    @classmethod
    def documented_error(cls, name):
        """A new instance of the documented error called `name` (KeyError if there is none)."""
        return cls.DOCUMENTED[name]()

    def to_response(self):
        """The Flask response for this error."""
        response = jsonify(self.body())
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


# Path prefix -> (dialect name, DialectError subclass); the longest prefix wins (/api/v1/ before /api/).
_API_PREFIXES = {}
_PREFIXES_LONGEST_FIRST = []  # kept sorted at registration, not on every request
# Dialects that own paths no route matches (consumer operations): name -> (error class, claims(path)).
_DYNAMIC_OWNERS = {}


def register_api_prefix(prefix, dialect_name, error_class):
    """Declare that paths under `prefix` belong to a dialect, whose errors are `error_class`."""
    global _OWNER_BY_PATH
    _API_PREFIXES[prefix] = (dialect_name, error_class)
    _PREFIXES_LONGEST_FIRST[:] = sorted(_API_PREFIXES, key=len, reverse=True)
    _OWNER_BY_PATH = {}  # a new one: a lookup racing this registration writes into the one thrown away


def register_dynamic_owner(dialect_name, error_class, claims):
    """Declare that a dialect owns the unrouted paths for which `claims(path)` is true."""
    _DYNAMIC_OWNERS[dialect_name] = (error_class, claims)


def dialect_owner():
    """(dialect name, DialectError subclass) owning this request's path, or None for a page (cached per request)."""
    request_globals = g._get_current_object()  # asked several times a request: one context lookup each time
    owner = request_globals.get("dialect_owner", UNKNOWN)  # (not an AttributeError the first time: it costs more)
    if owner is UNKNOWN:
        this_request = request._get_current_object()
        owner = find_owner(this_request.path, unrouted=isinstance(this_request.routing_exception, NotFound))
        request_globals.dialect_owner = owner
    return owner


UNKNOWN = object()


def find_owner(path, unrouted):
    """The owner by prefix, else (for a path no route matches: `unrouted`) by a dynamic owner's claim."""
    owner = prefix_owner(path)
    if owner is not None:
        return owner
    if unrouted:
        for name, (error_class, claims) in _DYNAMIC_OWNERS.items():
            if claims(path):
                return name, error_class
    return None


def prefix_owner(path):
    """(dialect name, DialectError subclass) of the longest API prefix `path` starts with, or None (kept for the
    paths seen last: most requests ask for a path asked before)."""
    known = _OWNER_BY_PATH  # taken before the prefixes are read (see register_api_prefix)
    owner = known.get(path, _UNKNOWN)
    if owner is not _UNKNOWN:
        return owner
    owner = next((_API_PREFIXES[prefix] for prefix in _PREFIXES_LONGEST_FIRST if path.startswith(prefix)), None)
    if len(path) <= 256:  # long paths (rare, and each up to the request line's size) are not kept
        if len(known) >= 4096:
            known.clear()
        known[path] = owner
    return owner


_OWNER_BY_PATH = {}  # path -> prefix_owner(path); replaced when a prefix is registered, emptied when full
_UNKNOWN = object()


def dialect_error_class():
    """The DialectError subclass owning this request's path, or None for a page."""
    owner = dialect_owner()
    return owner[1] if owner else None


def json_object_body(make_error):
    """The request body as a JSON object ({} when empty); `make_error(message)` for one that is not."""
    try:
        data = jsonbody.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise make_error("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise make_error("The request body must be a JSON object")
    return data


def wants_json():
    """Whether the client prefers JSON over HTML (for pages that answer both)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error_page(status, title, message):
    """An HTML error page."""
    return render_template("errors/error.html", status=status, title=title, message=message), status


def handle_dialect_error(exc):
    """A dialect's documented error: what the request wrote and did not commit is rolled back now, not at teardown
    (the journal entry written after it must not wait for SQLite's lock that write holds)."""
    db.session.rollback()
    return exc.to_response()


def handle_http_exception(exc):
    """404/405/413/429/… : the dialect's JSON under an API prefix, an HTML page elsewhere."""
    error_class = dialect_error_class()
    if error_class is None and request_ctx.url_adapter is None:
        # The Host cannot be bound (outside TRUSTED_HOSTS: a SecurityError; not a host name at all: BadHost), so no
        # page's URLs can be built: plain text.
        return f"{exc.code} {exc.name}: {exc.description}\n", exc.code, {"Content-Type": "text/plain; charset=utf-8"}
    if error_class is None:
        return render_error_page(exc.code, exc.name, exc.description)
    error = error_class.from_http_status(exc.code, exc.description)
    response = error.to_response()
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def handle_unexpected_error(exc):
    """Any other exception: roll back, log it, answer 500 without leaking details."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def database_unavailable(exc):
    """Whether a database error means "cannot reach it now" rather than a bug (a missing table, say)."""
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.Error):  # SQLite reports its schema errors as OperationalError too
        return any(message in str(exc.orig).lower() for message in SQLITE_UNAVAILABLE)
    return True  # PostgreSQL: connection refused, cut, or the server shutting down


def cannot_be_stored(exc):
    """Whether a database error says a value of the request cannot be stored: PostgreSQL's "data exception"
    (SQLSTATE class 22: a NUL character, a string longer than its column, a number out of its column's range).
    The views check what they take (a dialect's own message is better); this is the net under them."""
    return isinstance(exc, DataError)


def handle_database_error(exc):
    """The database is unreachable (restarting, connections cut, locked past the busy timeout): 503, retry soon.

    Other database errors are bugs: 500. Neither response says more than its status; the engine hides
    statement parameters from every message (database.py).
    """
    if cannot_be_stored(exc):
        db.session.rollback()
        return handle_http_exception(BadRequest("The request holds a value that cannot be stored (a NUL character, "
                                                "or a value too long or too large)"))
    if not database_unavailable(exc):
        return handle_unexpected_error(exc)
    release_session()  # the pool replaces a dead connection on the next checkout
    log.error("Database unavailable on %s %s: %s", request.method, request.path, first_line(exc.orig))
    response = make_response(handle_http_exception(ServiceUnavailable()))
    response.headers["Retry-After"] = "1"
    return response


def first_line(error):
    """An exception as one log line: its class and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def handle_csrf_error(exc):
    """A form posted without a valid CSRF token: say so, change nothing."""
    return render_error_page(400, "Form expired or forged", exc.description + " Reload the page and try again.")


def register_error_handlers(app):
    """Wire every error handler into the app."""
    app.register_error_handler(DialectError, handle_dialect_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
