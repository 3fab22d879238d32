"""The request journal: every request to a dialect endpoint, with secrets redacted, bounded in size.

Entries are buffered per worker and written in batches by a background thread (at least every
JOURNAL_FLUSH_SECONDS, sooner when BATCH_SIZE are waiting), so a request pays for building its row, not for an
INSERT and a commit. A read of the journal first writes this worker's buffer and, when several worker processes
serve the app, waits one flush interval so every request that finished before the read is in it.
"""
import atexit
import json
import logging
import os
import re
import threading
import time
import weakref
from typing import NamedTuple, Optional

from flask import current_app, g, has_request_context, request
from flask.globals import request_ctx
from sqlalchemy import JSON, delete, func
from sqlalchemy.exc import OperationalError

from .. import jsonbody
from ..database import without_nul
from ..errors import first_line
from ..extensions import db
from ..logs import could_name_a_secret, is_secret_name, redact
from .models import JournalEntry

log = logging.getLogger(__name__)

BODY_LIMIT = 4096
# A full buffer is written on the next tick, whatever the interval. Each batch is a transaction whose commit
# rewrites the journal's last pages into SQLite's log (and brings the next checkpoint nearer): 100-row batches,
# 16 commits a second per worker under a JWKS load, cost that request about 13 % more of its worker's CPU than the
# batches the interval makes (~300 rows). Past it, the buffer is written at the next tick, not after the interval.
BATCH_SIZE = 1000
TICK_SECONDS = 0.05  # how often the background thread looks for a buffer that is due
JOURNAL_INSERT = JournalEntry.__table__.insert()
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def redact_value(value):
    """A JSON-like value with every secret field replaced, at any depth (names matched as logs.is_secret_name says:
    decoded, any case)."""
    if isinstance(value, dict):
        return {key: "[REDACTED]" if isinstance(key, str) and is_secret_name(key)
                else item if type(item) in SCALARS else redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):  # (a tuple: the values of `jsonify(a, b)`, sent as a list)
        return [item if type(item) in SCALARS else redact_value(item) for item in value]
    return value


SCALARS = frozenset((str, int, float, bool, type(None)))  # values with nothing inside to redact
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # json.dumps(…, separators=…) makes an encoder every call


def form_fields(current):
    """The request's form fields (the first value of each), or {} when its body is not a form (not parsed then: most
    requests have none). A dict: a werkzeug MultiDict raises and catches an HTTP error for each name it lacks."""
    if current.environ.get("CONTENT_TYPE") and current.mimetype in FORM_TYPES:
        return current.form.to_dict()
    return {}


def redacted_request_body(current, form):
    """The request body as recorded: form (`form`, its fields) or JSON with secrets redacted; other bodies by size
    only."""
    if form:
        return redacted_form(form)
    if not current.environ.get("CONTENT_LENGTH") or not current.content_length:  # (most requests: no body to parse)
        return ""
    return redacted_body_text(current.get_data(cache=True, as_text=True))


def redacted_form(fields):
    """A form body as recorded: its fields (the first value of each), secrets redacted."""
    return COMPACT_JSON.encode(redact_value(fields))


def redacted_body_text(data):
    """A non-form body as recorded: JSON with secrets redacted, anything else by its size."""
    if not data:
        return ""
    try:
        return redacted_json(jsonbody.loads(data))
    except ValueError:
        return f"[{len(data)} bytes, not JSON or a form]"


def redacted_response_body(response):
    """The response body as recorded: JSON with secrets (and JWTs) redacted; the value the view made it from, when
    it was made by Flask's JSON provider (envelope.JournaledJSONProvider), else the body parsed."""
    if hasattr(response, "json_value"):
        return redacted_json(response.json_value, lambda: response.get_data(as_text=True))
    if response.is_streamed or not response.is_json:
        return ""
    try:
        return redacted_json(response.get_json())
    except (ValueError, TypeError):
        return ""


def redacted_json(value, encoded=None):
    """A JSON value as recorded: secrets redacted, compact, cut to BODY_LIMIT characters. `encoded`: a function
    giving the value as the app's JSON provider encoded it (a response's body), recorded as it is when no name in it
    could be a secret's (none of them in it, in any case, and no escape that could spell one): walking the value
    cost more than the rest of its entry. The same object as last time (a document a view keeps and answers
    unchanged, such as the JWKS) is not redacted again, nor its body decoded."""
    global _last_redacted
    last_value, last_text = _last_redacted
    if value is last_value:
        return last_text
    if isinstance(value, dict) and any(isinstance(key, str) and is_secret_name(key) for key in value):
        encoded = None  # a secret's field at the top (a token answer): walked, without looking for one in the text
    else:
        encoded = encoded() if encoded is not None else None
    if encoded is not None and not could_name_a_secret(encoded):
        text = encoded.rstrip("\n")[:BODY_LIMIT]
    else:
        text = COMPACT_JSON.encode(redact_value(value))[:BODY_LIMIT]
    _last_redacted = (value, text)
    return text


_last_redacted = (None, "")  # (the last value redacted, its text): a reference keeps its id from being reused


def redacted_query(query_string):
    """A raw query string as recorded: the value of every parameter whose decoded name is a secret's redacted."""
    return redact(query_string.decode(errors="replace"))


def caller(current, request_globals, form):
    """(client id, username) of the request (`current`, its `g` `request_globals`, its form's fields `form`), as far
    as it tells: its token's, else the credentials it carries (Basic, a form, the query or a JSON body), else the
    logged-in user the view read (an authorization page)."""
    token = request_globals.get("request_token")
    if token is not None:
        return token.client_id, token.username
    environ = current.environ
    client_id = username = None
    if "HTTP_AUTHORIZATION" in environ or environ.get("CONTENT_TYPE") or current.query_string:
        # (A request with none of these, a JWKS or a page, names no caller itself: nothing to parse.)
        try:
            authorization = current.authorization if "HTTP_AUTHORIZATION" in environ else None
        except ValueError:  # werkzeug's parse fails on Basic credentials with a non-ASCII character (UnicodeError)
            authorization = None
        basic = authorization.username if authorization and authorization.type == "basic" else None
        data = json_fields(current)
        args = current.args.to_dict() if current.query_string else {}
        client_id = basic if basic is not None else (form.get("client_id") or args.get("client_id")
                                                      or data.get("client_id"))
        username = form.get("username") or args.get("username") or data.get("username")
    user = request_globals.get("current_user")
    if username is None and user is not None:  # read by the view (accounts.current_user)
        username = user.username
    return client_id, username


def json_fields(current):
    """The request's JSON object body's string fields (a login's username, say), or {} for any other body."""
    if not current.environ.get("CONTENT_TYPE") or not current.is_json or not current.content_length:
        return {}
    try:
        data = current.get_json(silent=True)
    except RecursionError:  # nested too deep to parse: its view answered that
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str) and len(value) <= 255}


CREDENTIAL_HEADER = re.compile(r"(?i)authorization|cookie|token|secret|password|api[-_]?key|session|credential")


def redacted_headers(headers):
    """Headers as recorded: name -> value (repeated ones joined by ", "); credentials (Authorization, Cookie,
    Set-Cookie, anything named like a token, secret, key or session) replaced, the scheme of an Authorization kept;
    secret query values (a redirect's code) redacted in the rest."""
    recorded = {}
    for name, value in headers:
        value = recorded_header(name, value)
        recorded[name] = f"{recorded[name]}, {value}" if name in recorded else value
    return recorded


def recorded_header(name, value):
    """One header's value as recorded (see redacted_headers). Most of a request's and a response's headers are the
    same from one request to the next (the security headers, a content type, a host), so the answer is kept for
    each (name, value) seen — but for credentials, values that redaction changes and values long enough to differ
    each time."""
    known = _recorded_headers.get((name, value))
    if known is not None:
        return known
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, credentials = value.partition(" ")
        return f"{scheme} [REDACTED]" if credentials else "[REDACTED]"
    if CREDENTIAL_HEADER.search(lowered):
        return "[REDACTED]"
    recorded = redact(value)[:BODY_LIMIT]
    # Kept only when redaction changed nothing (no code of a redirect stays in memory) and short enough to recur.
    if recorded == value and len(value) <= 200 and len(name) <= 64:
        if len(_recorded_headers) >= 4096:
            _recorded_headers.clear()
        _recorded_headers[(name, value)] = recorded
    return recorded


_recorded_headers = {}  # (name, value) -> the value as recorded, for values that are not credentials


def response_headers(response):
    """The response's headers as recorded, with the session cookie Flask sets after the envelope (a changed session)."""
    recorded = redacted_headers(response.headers)
    # The session as opened, not through `session` (since Flask 3.1 any access marks it accessed, and so every
    # journaled response `Vary: Cookie`).
    opened = getattr(request_ctx._get_current_object(), "_session", None)
    if getattr(opened, "modified", False):
        recorded["Set-Cookie"] = f"{recorded['Set-Cookie']}, [REDACTED]" if "Set-Cookie" in recorded else "[REDACTED]"
    return recorded


def record(response, dialect):
    """Journal this request to `dialect`'s endpoint (request envelope); a failure to record never fails it."""
    app = current_app._get_current_object()
    if not app.config["JOURNAL_ENABLED"]:
        return
    current, request_globals = request._get_current_object(), g._get_current_object()
    try:
        form = form_fields(current)
        client_id, username = caller(current, request_globals, form)
        started = request_globals.get("started")
        writer(app).add(Entry(
            time.time(), dialect, current.method, current.path,
            redacted_query(current.query_string) if current.query_string else "", response.status_code, client_id,
            username, (time.perf_counter() - started) * 1000 if started is not None else 0.0,
            redacted_request_body(current, form), redacted_response_body(response), redacted_headers(current.headers),
            response_headers(response)))
    except Exception:  # noqa: BLE001 - the journal is an observer
        log.exception("could not journal %s %s", current.method, current.path)


class Entry(NamedTuple):
    """One journal entry as buffered: the columns of JournalEntry but its id, in the table's order."""

    at: float
    dialect: str
    method: str
    path: str
    query: str
    status: int
    client_id: Optional[str]
    username: Optional[str]
    latency_ms: float
    request_body: str
    response_body: str
    request_headers: dict
    response_headers: dict


JOURNAL_COLUMNS = tuple(column.name for column in JournalEntry.__table__.c if column.name != "id")
assert Entry._fields == JOURNAL_COLUMNS, "journal.Entry names the table's columns in their order"
JSON_COLUMNS = frozenset(column.name for column in JournalEntry.__table__.c if isinstance(column.type, JSON))
_insert_sql = {}  # database dialect name -> (INSERT, positional?, [(column, its index in an Entry, JSON?)],
#                   [column length]) in the statement's order
COLUMN_LENGTHS = {column.name: column.type.length for column in JournalEntry.__table__.c
                  if getattr(column.type, "length", None)}


def insert_rows(connection, rows):
    """Insert buffered rows in one executemany on the driver: the statement compiled once per database, the JSON
    columns encoded here (SQLAlchemy's parameter processing for each row cost half as much again as the insert)."""
    dialect = connection.dialect
    if dialect.name not in _insert_sql:
        compiled = JOURNAL_INSERT.compile(dialect=dialect, column_keys=list(JOURNAL_COLUMNS))
        names = compiled.positiontup or JOURNAL_COLUMNS
        _insert_sql[dialect.name] = (compiled.string, compiled.positiontup is not None,
                                     [(name, JOURNAL_COLUMNS.index(name), name in JSON_COLUMNS) for name in names],
                                     [COLUMN_LENGTHS.get(name) for name in names])
    sql, positional, plan, lengths = _insert_sql[dialect.name]
    strict = dialect.name != "sqlite"  # SQLite stores any length, and NUL
    parameters = []
    for row in rows:
        values = [json.dumps(row[index]) if is_json else row[index] for _, index, is_json in plan]
        if strict:  # PostgreSQL: no NUL, and a string cut to its column (a client_id or path longer than any
            # stored one), so that one such request does not lose its batch
            values = [value[:length] if length and isinstance(value, str) else value
                      for value, length in zip(without_nul(values), lengths, strict=True)]
        parameters.append(tuple(values) if positional else dict(zip((name for name, _, _ in plan), values,
                                                                    strict=True)))
    connection.exec_driver_sql(sql, parameters)


class Writer:
    """One app's buffered journal rows in this process, written in batches."""

    def __init__(self, app):
        self.app = app
        self.rows = []
        self.oldest = 0.0  # when the first row in `rows` was buffered
        self.lock = threading.Lock()  # guards `rows` and `oldest`
        self.writing = threading.Lock()  # one batch at a time, so ids follow request order
        WRITERS.add(self)

    def add(self, row):
        with self.lock:
            if not self.rows:
                self.oldest = time.monotonic()
            self.rows.append(row)
        if not self.app.config["JOURNAL_FLUSH_SECONDS"]:
            self.flush()
        else:
            FLUSHER.ensure_running()

    def flush_if_due(self):
        """Write the buffer when its oldest row has waited JOURNAL_FLUSH_SECONDS, or when it is full."""
        waited = time.monotonic() - self.oldest
        if self.rows and (waited >= self.app.config["JOURNAL_FLUSH_SECONDS"] or len(self.rows) >= BATCH_SIZE):
            self.flush()

    def flush(self):
        """Write the buffered rows in one transaction and trim the journal to JOURNAL_MAX_ENTRIES."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    insert_rows(connection, rows)
                    newest = connection.scalar(db.select(func.max(JournalEntry.id)))
                    limit = self.app.config["JOURNAL_MAX_ENTRIES"]
                    if newest > limit:
                        connection.execute(delete(JournalEntry).where(JournalEntry.id <= newest - limit))
            except OperationalError as error:  # the database is down or restarting: one line, not a trace
                log.error("could not write %d journal entries: %s", len(rows), first_line(error.orig))
            except Exception:  # noqa: BLE001 - the journal is an observer; a lost batch is logged
                log.exception("could not write %d journal entries", len(rows))


class Flusher:
    """The background thread of this process that writes each app's buffer once it is due."""

    def __init__(self):
        self.running = False  # in this process: a forked worker does not inherit its parent's thread
        self.lock = threading.Lock()
        os.register_at_fork(after_in_child=self.forked)

    def forked(self):
        self.running, self.lock = False, threading.Lock()

    def ensure_running(self):
        """Start the thread in this process, on its first entry."""
        if self.running:
            return
        with self.lock:
            if not self.running:
                self.running = True
                threading.Thread(target=self.run, name="journal-flusher", daemon=True).start()

    def run(self):
        while True:
            time.sleep(TICK_SECONDS)
            for journal_writer in list(WRITERS):
                try:
                    journal_writer.flush_if_due()
                except Exception:  # noqa: BLE001 - the thread must outlive one bad round
                    log.exception("journal flusher")


WRITERS = weakref.WeakSet()
FLUSHER = Flusher()


def flush_all():
    """Write every buffered entry of this process (at exit: gunicorn stopping a worker, or `flask run` ending)."""
    for journal_writer in list(WRITERS):
        journal_writer.flush()


atexit.register(flush_all)


def writer(app):
    """The app's journal writer in this process."""
    if "sandbox_journal" not in app.extensions:
        app.extensions["sandbox_journal"] = Writer(app)
    return app.extensions["sandbox_journal"]


def settle():
    """Before reading the journal: write this worker's buffer, and give the other workers one flush interval."""
    writer(current_app._get_current_object()).flush()
    if has_request_context() and request.environ.get("wsgi.multiprocess"):
        time.sleep(current_app.config["JOURNAL_FLUSH_SECONDS"] + 2 * TICK_SECONDS)


def filtered(select, dialect=None, client_id=None, user=None, path=None, path_prefix=None, method=None, status=None,
             since=None):
    """`select` narrowed to the journal entries that match every filter given (None: not filtered on)."""
    for column, value in ((JournalEntry.dialect, dialect), (JournalEntry.client_id, client_id),
                          (JournalEntry.username, user), (JournalEntry.path, path),
                          (JournalEntry.method, method.upper() if method else None), (JournalEntry.status, status)):
        if value is not None:
            select = select.where(column == value)
    if path_prefix is not None:
        select = select.where(JournalEntry.path.startswith(path_prefix, autoescape=True))
    if since is not None:
        select = select.where(JournalEntry.at >= since)
    return select


def query_entries(limit=100, offset=0, **filters):
    """Journal entries, newest first, filtered (see `filtered`); `offset` newer ones skipped (a page of them)."""
    settle()
    select = filtered(db.select(JournalEntry), **filters).order_by(JournalEntry.id.desc()).offset(offset).limit(limit)
    return db.session.scalars(select).all()


def count_entries(**filters):
    """How many journal entries match the filters (see `filtered`)."""
    settle()
    return db.session.scalar(filtered(db.select(func.count(JournalEntry.id)), **filters))


def clear():
    """Empty the journal (what other workers still buffer from before the call included)."""
    settle()
    db.session.execute(delete(JournalEntry))
    db.session.commit()
