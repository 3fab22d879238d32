"""The request journal: every request to a dialect endpoint, with secrets redacted, bounded in size."""
import json
import logging
import time

from flask import current_app, g, request
from sqlalchemy import delete

from ..errors import dialect_owner
from ..extensions import db
from ..logs import redact
from .models import JournalEntry

log = logging.getLogger(__name__)

SECRET_KEYS = {"password", "client_secret", "code", "code_verifier", "access_token", "refresh_token", "token",
               "id_token"}
BODY_LIMIT = 4096
JOURNAL_INSERT = JournalEntry.__table__.insert()


def redact_value(value):
    """A JSON-like value with every secret field replaced, at any depth."""
    if isinstance(value, dict):
        return {key: "[REDACTED]" if key.lower() in SECRET_KEYS else redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


def redacted_request_body():
    """The request body as recorded: form or JSON with secrets redacted; other bodies by size only."""
    if request.form:
        return json.dumps(redact_value(request.form.to_dict()))
    data = request.get_data(cache=True, as_text=True)
    if not data:
        return ""
    try:
        return json.dumps(redact_value(json.loads(data)))[:BODY_LIMIT]
    except ValueError:
        return f"[{len(data)} bytes, not JSON or a form]"


def redacted_response_body(response):
    """The response body as recorded: JSON with secrets (and JWTs) redacted."""
    if response.is_streamed or not response.is_json:
        return ""
    try:
        return json.dumps(redact_value(response.get_json()))[:BODY_LIMIT]
    except (ValueError, TypeError):
        return ""


def caller():
    """(client id, username) of the request, as far as it tells."""
    token = g.get("request_token")
    if token is not None:
        return (token.client.client_id if token.client else None), (token.user.username if token.user else None)
    client_id = request.form.get("client_id") or request.args.get("client_id")
    if request.authorization and request.authorization.type == "basic":
        client_id = request.authorization.username
    return client_id, request.form.get("username") or request.args.get("username")


def start_timer():
    """before_request: note when the request began."""
    g.journal_started = time.perf_counter()


def record(response):
    """after_request: journal a dialect request; a failure to record never fails the request."""
    owner = dialect_owner()
    if owner is None or owner[0] == "sandbox" or not current_app.config["JOURNAL_ENABLED"]:
        return response
    try:
        client_id, username = caller()
        # One compiled Core insert with parameters: the ORM's unit of work would cost more than the row.
        inserted = db.session.execute(JOURNAL_INSERT, dict(
            at=time.time(), dialect=owner[0], method=request.method, path=request.path,
            query=redact(request.query_string.decode(errors="replace")), status=response.status_code,
            client_id=client_id, username=username,
            latency_ms=(time.perf_counter() - g.get("journal_started", time.perf_counter())) * 1000,
            request_body=redacted_request_body(), response_body=redacted_response_body(response)))
        trim(inserted.inserted_primary_key[0])
        db.session.commit()
    except Exception:  # noqa: BLE001 - the journal is an observer
        db.session.rollback()
        log.exception("could not journal %s %s", request.method, request.path)
    return response


def trim(newest):
    """Keep the newest JOURNAL_MAX_ENTRIES entries (trimmed every 100 inserts, so rarely costs a delete)."""
    limit = current_app.config["JOURNAL_MAX_ENTRIES"]
    if newest % 100 == 0 and newest > limit:
        db.session.execute(delete(JournalEntry).where(JournalEntry.id <= newest - limit))


def query_entries(dialect=None, client_id=None, path=None, status=None, since=None, limit=100):
    """Journal entries, newest first, filtered."""
    select = db.select(JournalEntry).order_by(JournalEntry.id.desc()).limit(limit)
    for column, value in ((JournalEntry.dialect, dialect), (JournalEntry.client_id, client_id),
                          (JournalEntry.path, path), (JournalEntry.status, status)):
        if value is not None:
            select = select.where(column == value)
    if since is not None:
        select = select.where(JournalEntry.at >= since)
    return db.session.scalars(select).all()


def clear():
    """Empty the journal."""
    db.session.execute(delete(JournalEntry))
    db.session.commit()
