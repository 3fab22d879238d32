"""The fast lane: the requests a load test sends most, answered in plain WSGI.

A bearer token reading its resource (userinfo.php, /v1/user/, a Fusio operation, mokapen's lists), the JWKS, and
the client-credentials grants of Fusio and mokapen pass through Flask, SQLAlchemy's ORM, Authlib and
flask-limiter at several times the cost of the answer itself. The lane answers them with a few plain SQL
statements instead, and still as a sandbox request: it reads the shared settings (clock, faults, limit
overrides), counts the request against the route's rate limit in flask-limiter's own storage under
flask-limiter's own key (before it writes anything), journals it, and sends the route's headers.

Flask stays the reference. The lane answers only the plain success, exactly as the Flask route would, and hands
every other request to Flask untouched: no, unknown, expired or revoked token, a disabled client, a token whose
use is due to be recorded, faults configured, a limit reached, a cookie or an Origin header, a scheduled purge
due (production), anything unusual, any error. tests/test_fastlane.py sends each request both ways and compares.
FAST_LANE_ENABLED=False turns it off.
"""
import base64
import io
import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional
from urllib.parse import parse_qsl

from limits import parse_many
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_current_url

from . import housekeeping, runtime
from .database import writer_lock
from .extensions import db, limiter
from .models import ClientChecks, TokenLifetime
from .qa import journal
from .security import SECURITY_HEADERS, hash_token

log = logging.getLogger(__name__)

X_RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MAX_BODY = 64 * 1024  # a larger body goes to Flask (which has its own MAX_CONTENT_LENGTH)


@dataclass(frozen=True)
class Route:
    """A request shape the lane may answer."""

    method: str
    pattern: re.Pattern  # matched against the whole path
    dialect: str  # whose journal entry it is
    endpoint: str  # the Flask endpoint the limiter counts the request under
    limit: Optional[str]  # the config name of the route's rate limit (None: not limited)
    # (LaneRequest) -> (status code, JSON-able body), or None to hand the request to Flask; or a callable giving
    # them, which writes: it is called once the request is counted against its limit, and committed.
    answer: Callable
    headers: tuple  # further headers the Flask route sends (CORS)
    limit_headers: tuple  # names of the limit, remaining and reset headers (None: not sent)
    reads_authorization: bool  # the answer reads the Authorization header (else a request with one is Flask's)
    catch_all: bool  # tried after every other route
    serialize: Optional[Callable]  # body -> JSON text, when the route's answer is not written as jsonify writes it
    constant: bool  # the answer's body never changes while the app runs (serialized once)


ROUTES = []


def route(methods, pattern, *, dialect, endpoint, limit=None, headers=(), limit_headers=X_RATE_LIMIT_HEADERS,
          reads_authorization=True, catch_all=False, serialize=None, constant=False):
    """Register `answer(request)` as the lane's answer to `methods` (one or a tuple) on paths matching `pattern`."""
    def register(answer):
        for method in (methods,) if isinstance(methods, str) else methods:
            ROUTES.append(Route(method, re.compile(pattern + r"\Z"), dialect, endpoint, limit, answer, tuple(headers),
                                limit_headers, reads_authorization, catch_all, serialize, constant))
        return answer
    return register


@dataclass
class TokenRow(TokenLifetime):
    """A stored token with what a resource needs of its client and user (names as on the ORM models)."""

    dialect: str
    scope: str
    issued_at: int
    expires_in: int
    revoked_at: Optional[int]
    last_used_at: Optional[int]
    organization_id: Optional[int]
    client_status: Optional[str]
    client_id: Optional[str]  # the client's public id
    username: Optional[str]
    email: Optional[str]
    full_name: Optional[str]


@dataclass
class ClientRow(ClientChecks):
    """A stored client as a grant checks it (names as on the ORM model; grant_types parsed)."""

    client_secret_hash: str
    status: str
    grant_types: tuple = ()


TOKEN_SQL = ("SELECT t.dialect, t.scope, t.issued_at, t.expires_in, t.revoked_at, t.last_used_at, t.organization_id,"
             " c.status, c.client_id, u.username, u.email, u.full_name FROM tokens t"
             " LEFT JOIN clients c ON c.id = t.client_id LEFT JOIN users u ON u.id = t.user_id"
             " WHERE t.access_token_hash = ?")


class LaneRequest:
    """What an answer sees of the request, and its access to the database (one connection, plain SQL)."""

    def __init__(self, lane, environ, match):
        self.lane = lane
        self.app = lane.app
        self.environ = environ
        self.method = environ["REQUEST_METHOD"]
        self.path = environ["PATH_INFO"]
        self.view_args = match.groupdict()
        self.settings = {}
        self.token = None  # the accepted token, for the journal
        self.body = b""
        self.form = None  # a form body's fields (the first value of each), when the body is a form
        self.writes = []  # (statement, parameters) to run in one transaction once the answer is made
        self._cursor = None

    def use(self, cursor, settings):
        """Answer with this database cursor and these shared settings."""
        self._cursor = cursor
        self.settings = settings

    def read_body(self):
        """Read the body (and put it back for Flask to read again); False when the lane should not answer it."""
        length = self.environ.get("CONTENT_LENGTH") or "0"
        if self.environ.get("HTTP_TRANSFER_ENCODING") or not length.isdigit() or int(length) > MAX_BODY:
            return False
        if int(length) == 0:
            return True
        content_type = self.environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        if content_type not in ("application/json", "application/x-www-form-urlencoded"):
            return False
        self.body = self.environ["wsgi.input"].read(int(length))
        self.environ["wsgi.input"] = io.BytesIO(self.body)
        if content_type == "application/x-www-form-urlencoded":
            fields = parse_qsl(self.body.decode(), keep_blank_values=True)
            self.form = dict(fields)
            if len(self.form) < len(fields):
                return False  # a repeated field: which one counts is Flask's (and Authlib's) to say
        return True

    def execute(self, sql, *params):
        """Run a statement written with `?` placeholders."""
        self._cursor.execute(sql if self.lane.paramstyle == "qmark" else sql.replace("?", "%s"), params)

    def rows(self, sql, *params):
        """All rows of a statement written with `?` placeholders."""
        self.execute(sql, *params)
        return self._cursor.fetchall()

    def insert(self, table, columns):
        """Insert one row, {column: value}, once the answer is made (written and committed with it)."""
        self.writes.append((f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})",
                            tuple(columns.values())))

    def caller(self):
        """(client id, username) for the journal, found as journal.caller finds them."""
        if self.token is not None:
            return self.token.client_id, self.token.username
        args = dict(parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)[::-1])  # first wins
        basic = None
        kind, _, credentials = self.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if kind.lower() == "basic":
            try:
                basic = base64.b64decode(credentials).decode().partition(":")[0]
            except ValueError:
                pass
        return journal.caller_named(self.form or {}, args, basic)

    def url_root(self):
        """The app's root URL as Flask's request.url_root gives it, without the trailing slash."""
        return url_root(self.environ.get("wsgi.url_scheme"), self.environ.get("HTTP_HOST"),
                        self.environ.get("SERVER_NAME"), self.environ.get("SERVER_PORT"),
                        self.environ.get("SCRIPT_NAME", ""))

    def bearer(self):
        """The token of an `Authorization: Bearer …` header, or None."""
        kind, _, value = self.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        return value if kind == "Bearer" and value and " " not in value else None

    def is_routed(self):
        """Whether a Flask route (of any method) has this path."""
        return self.lane.is_routed(self.path)

    def live_token(self, dialect, access_token=None, records_use=True):
        """The dialect's live token (the bearer, by default), when no write is due for it; else None.

        `records_use`: the dialect notes a token's last use (then a token due for that is left to Flask).
        """
        access_token = access_token or self.bearer()
        if access_token is None:
            return None
        found = self.rows(TOKEN_SQL, hash_token(access_token))
        if not found:
            return None
        token = TokenRow(*found[0])
        if (token.dialect != dialect or token.is_revoked() or token.is_expired()
                or token.client_status not in (None, "active") or records_use and token.is_use_due()):
            return None
        self.token = token
        return token


class FastLane:
    """WSGI middleware in front of the Flask app: answers the lane's routes, passes everything else on."""

    def __init__(self, app, flask_wsgi_app):
        self.app = app
        self.flask = flask_wsgi_app
        with app.app_context():
            self.engine = db.engine
        self.paramstyle = self.engine.dialect.paramstyle
        self.answered = 0  # requests this process answered in the lane (the tests check it did)
        self.constant_texts = {}  # constant route -> its body as sent and as journaled
        self.routed = {}  # path -> whether a Flask route has it (the routes are fixed once the app is made)
        self.routes = {}
        for lane_route in sorted(ROUTES, key=lambda candidate: candidate.catch_all):
            self.routes.setdefault(lane_route.method, []).append(lane_route)

    def __call__(self, environ, start_response):
        found = self.find(environ)
        if found is not None:
            started = time.perf_counter()
            try:
                answered = self.answer(*found, environ, started)
            except Exception as error:  # noqa: BLE001 - Flask answers instead, and knows how to report it
                log.debug("fast lane passed %s on: %r", environ.get("PATH_INFO"), error)
                answered = None
            if answered is not None:
                self.answered += 1
                status, headers, payload = answered
                start_response(status, headers)
                return [payload]
        return self.flask(environ, start_response)

    def is_routed(self, path):
        """Whether a Flask route, of any method, has `path` (else Flask would answer 404, or run an operation)."""
        if path not in self.routed:
            if len(self.routed) > 10000:
                self.routed.clear()
            try:
                self.app.url_map.bind("localhost").match(path)
                self.routed[path] = True
            except NotFound:
                self.routed[path] = False
            except HTTPException:  # another method's route, or a redirect to the path with a slash
                self.routed[path] = True
        return self.routed[path]

    def find(self, environ):
        """(route, match) when the request has a shape the lane answers."""
        if "HTTP_ORIGIN" in environ or "HTTP_COOKIE" in environ or not environ.get("PATH_INFO", "").isascii():
            return None  # CORS, sessions and the decoding of non-ASCII paths are Flask's
        if housekeeping.is_purge_due(self.app):
            return None  # Flask purges after this request (else a run the lane answers alone would never purge)
        for lane_route in self.routes.get(environ["REQUEST_METHOD"], ()):
            match = lane_route.pattern.match(environ.get("PATH_INFO", ""))
            if match is not None and (lane_route.reads_authorization or "HTTP_AUTHORIZATION" not in environ):
                return lane_route, match
        return None

    def answer(self, lane_route, match, environ, started):
        """(status line, headers, payload) of the plain success, or None."""
        request = LaneRequest(self, environ, match)
        if not request.read_body():
            return None
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(runtime.SETTINGS_SQL)
            settings = runtime.parse_settings(cursor.fetchall())
            if settings.get("faults_active"):
                return None
            runtime.apply_settings(settings)
            request.use(cursor, settings)
            answered = lane_route.answer(request)
            if answered is None:
                return None
            limit_headers = self.count(lane_route, environ, settings)
            if limit_headers is None:
                return None  # Flask answers the 429
            if callable(answered):
                # After the count, so a request over its limit writes nothing. (A failed write goes to Flask,
                # which counts the request once more.) The answer is made (a token signed) before the writer
                # lock is taken, so that the lock is held only for the transaction.
                answered = answered()
                with writer_lock(self.app):
                    for statement, parameters in request.writes:
                        request.execute(statement, *parameters)
                    connection.commit()
        finally:
            connection.close()
        status_code, content = answered
        payload, recorded = self.texts(lane_route, content)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                   *SECURITY_HEADERS, *lane_route.headers, *limit_headers]
        self.journal(lane_route, request, status_code, recorded, started)
        return f"{status_code} {HTTP_STATUS_CODES[status_code].upper()}", headers, payload

    def count(self, lane_route, environ, settings):
        """Count the request as flask-limiter would; its limit headers, or None when the limit is reached."""
        if lane_route.limit is None or not limiter.enabled:
            return []
        limits = parse_limits(runtime.limit_value(lane_route.limit, settings, self.app.config))
        if len(limits) != 1:
            return None
        limit = limits[0]
        key = (self.app.config["RATELIMIT_KEY_PREFIX"], environ.get("REMOTE_ADDR") or "127.0.0.1",
               lane_route.endpoint)
        strategy = limiter.limiter
        if strategy.storage is not limiter.storage:
            return None  # counting in memory while Redis is down: Flask's (it also notices when Redis is back)
        if not strategy.hit(limit, *key):
            return None
        if not self.app.config["RATELIMIT_HEADERS_ENABLED"]:
            return []
        reset_at, remaining = strategy.get_window_stats(limit, *key)
        values = (str(limit.amount), str(remaining), str(int(reset_at + 1)))
        return [(name, value) for name, value in zip(lane_route.limit_headers, values, strict=True) if name]

    def dumps(self, content):
        """The body as Flask's jsonify would write it."""
        json = self.app.json
        if (json.compact is None and self.app.debug) or json.compact is False:
            return (json.dumps(content, indent=2) + "\n").encode()
        return (json.dumps(content, separators=(",", ":")) + "\n").encode()

    def texts(self, lane_route, content):
        """(the body as sent, as journaled); a constant route's are made once."""
        if lane_route in self.constant_texts:
            return self.constant_texts[lane_route]
        payload = lane_route.serialize(content).encode() if lane_route.serialize else self.dumps(content)
        texts = payload, journal.redacted_json(content)
        if lane_route.constant:
            self.constant_texts[lane_route] = texts
        return texts

    def journal(self, lane_route, request, status_code, recorded, started):
        """The journal entry the Flask route would have written."""
        if not self.app.config["JOURNAL_ENABLED"]:
            return
        client_id, username = request.caller()
        journal.add_entry(
            self.app, dialect=lane_route.dialect, method=request.method, path=request.path,
            query=journal.redacted_query(request.environ.get("QUERY_STRING", "").encode("latin-1")),
            status=status_code, client_id=client_id, username=username,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_body=journal.redacted_form(request.form) if request.form else
            journal.redacted_body_text(request.body.decode()),
            response_body=recorded)


@lru_cache(maxsize=64)
def url_root(scheme, host, server_name, server_port, script_name):
    """get_current_url's root URL for these parts of an environ (few and repeating)."""
    environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server_name, "SERVER_PORT": server_port,
               "SCRIPT_NAME": script_name, **({"HTTP_HOST": host} if host is not None else {})}
    return get_current_url(environ, root_only=True).rstrip("/")


@lru_cache(maxsize=64)
def parse_limits(text):
    """A limit string (flask-limiter syntax) as `limits` items."""
    return tuple(parse_many(text))


def install(app):
    """Put the lane in front of the app, unless FAST_LANE_ENABLED is off."""
    if app.config["FAST_LANE_ENABLED"]:
        app.wsgi_app = FastLane(app, app.wsgi_app)
