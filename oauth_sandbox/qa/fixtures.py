"""The sandbox's data: the demo data or a fixtures document (a JSON or YAML file, or a reset's body), validated
entry by entry, and reset, which puts everything a test can change back in one transaction.

The core sections (users, clients) are loaded here; each dialect loads its own (`Dialect.fixture_sections`) and
what a client of its own keeps beside the core client (`Dialect.load_client_fixture`); the demo data is the core's
demo users and each dialect's `Dialect.load_demo`.
"""
import contextvars
import functools
import json
import re
import time
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import DataError, IntegrityError

from .. import demo, settings
from ..dialects import DIALECTS
from ..errors import first_line
from ..extensions import db
from ..fixture_fields import (
    CLAIMS,
    STRING,
    STRINGS,
    FixtureError,
    entries,
    field,
    known_fields,
    schema_object,
    user_named,
)
from ..models import User
from ..ratelimit import reset_counters
from . import journal
from .models import JournalEntry
from .token_claims import claims_field

__all__ = ["FixtureError", "SECTIONS", "add_demo_data", "apply_fixtures", "check_configured_data", "check_document",
           "fixtures_schema", "load_configured_data",
           "load_fixture_file", "reset_all"]


def reset_all(fixtures=None, keep_journal=False):
    """Put back everything a test can change, in one transaction: every table emptied (the journal too, unless
    `keep_journal`) and loaded again with `fixtures` (a fixtures document), else the SANDBOX_FIXTURES file, else
    the demo data; the shared settings at their defaults (the clock on real time, no faults, no rate-limit
    overrides); then the rate-limit counters emptied, on every worker. Seconds taken.

    A document or file that is refused raises FixtureError, and nothing has changed.
    """
    started = time.perf_counter()
    if fixtures is not None:
        source, data = None, check_document(fixtures, "the fixtures")  # loaded once: not worth a snapshot
    else:
        data = configured_fixtures()
        source = current_app.extensions["sandbox_fixtures"]["signature"] if data is not None else "demo"
    if not keep_journal:
        journal.settle()  # what this worker (and, given a flush interval, the others) still buffers goes too
    kept = {settings.Setting.__tablename__} | ({JournalEntry.__tablename__} if keep_journal else set())
    tables = [table for table in db.metadata.sorted_tables if table.name not in kept]

    def replace_everything():
        for table in reversed(tables):
            db.session.execute(table.delete())
        snapshot = snapshots().get(source)
        if snapshot is None:
            load_data(data)
            if source is not None:
                db.session.flush()
                snapshot = take_snapshot(source, tables)
        else:
            restore_snapshot(snapshot)
        return settings.reset_settings()

    defaults = store(replace_everything)
    reset_counters(defaults["limits_epoch"])
    settings.load()  # this worker adopts the defaults now (the clock among them)
    return time.perf_counter() - started


def snapshots():
    """This app's snapshots of the data a reset loads (the demo data, the configured file), by source."""
    return current_app.extensions.setdefault("sandbox_snapshots", {})


def take_snapshot(source, tables):
    """The rows the loaders just made, table by table in dependency order, kept for the next resets from `source`:
    those insert the same rows with one statement a table instead of running the loaders (and their ORM) again."""
    snapshot = [(table, [dict(row._mapping) for row in db.session.execute(table.select())]) for table in tables]
    snapshot = [(table, rows) for table, rows in snapshot if rows]
    kept = snapshots()
    kept.clear()  # one source at a time (the configured one)
    kept[source] = snapshot
    return snapshot


def restore_snapshot(snapshot):
    """Insert a snapshot's rows (not committed); what it records as created is created now."""
    now = int(time.time())  # the sandbox clock is on real time again after a reset
    for table, rows in snapshot:
        if "created_at" in table.c:
            rows = [{**row, "created_at": now} for row in rows]
        db.session.execute(table.insert(), rows)


def load_configured_data():
    """First start: load the SANDBOX_FIXTURES file, else the demo data, into the empty database; commit.
    FixtureError (nothing stored) when the file is refused."""
    data = configured_fixtures()
    store(lambda: load_data(data))


def check_configured_data():
    """A later start with SANDBOX_FIXTURES: load the file in place of the data in a transaction that is rolled back
    (the data dir keeps its data until a reset), so that a file a reset would refuse stops start-up now."""
    data = configured_fixtures()

    def load_then_undo():
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in (settings.Setting.__tablename__, JournalEntry.__tablename__):
                db.session.execute(table.delete())
        apply_fixtures(data)
        db.session.flush()

    try:
        load_then_undo()
    except (IntegrityError, DataError) as error:
        raise FixtureError(f"cannot be stored: {first_line(error.orig)}") from None
    finally:
        db.session.rollback()


def store(load):
    """Run `load` in the session's transaction and commit; roll back and raise FixtureError when the data is
    refused (an entry the loaders name, or one the database refuses, such as an email declared twice)."""
    try:
        value = load()
        db.session.commit()
        return value
    except (IntegrityError, DataError) as error:  # DataError: e.g. a name beyond its column on PostgreSQL
        db.session.rollback()
        raise FixtureError(f"cannot be stored: {first_line(error.orig)}") from None
    except BaseException:
        db.session.rollback()
        raise


def load_data(data):
    """Add `data` (a checked fixtures document), or the demo data when it is None (not committed)."""
    if data is None:
        add_demo_data()
    else:
        apply_fixtures(data)


def add_demo_data():
    """The demo users of SPEC.md, then each dialect's demo data (not committed)."""
    demo.create_demo_users()
    db.session.flush()
    for dialect in DIALECTS:
        dialect.load_demo()


def configured_fixtures():
    """The SANDBOX_FIXTURES file's document, or None (the demo data). Parsed again only when the file changed."""
    path = current_app.config["SANDBOX_FIXTURES"]
    if not path:
        return None
    try:
        stat = Path(path).stat()
    except OSError as error:
        raise FixtureError(f"{path}: {error}") from None
    cache = current_app.extensions.setdefault("sandbox_fixtures", {})
    signature = (str(path), stat.st_mtime_ns, stat.st_size)
    if cache.get("signature") != signature:
        cache["document"], cache["signature"] = load_fixture_file(path), signature
    return cache["document"]


def load_fixture_file(path):
    """Parse a JSON or YAML fixtures file into a checked document (check_document), or raise FixtureError."""
    import yaml  # only a fixtures file needs it (not a start with the demo data)

    try:
        text = Path(path).read_text()
        data = yaml.safe_load(text) if str(path).endswith((".yaml", ".yml")) else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise FixtureError(f"{path}: {error}") from None
    return check_document(data, str(path))


def check_document(data, where):
    """`data` if it is a mapping of known sections, or FixtureError (`where` names the file or the body)."""
    if not isinstance(data, dict):
        dialects_own = [name for name in SECTIONS if name not in CORE_SECTIONS]
        raise FixtureError(f"{where}: the top level must be a mapping of {', '.join(CORE_SECTIONS + dialects_own)}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise FixtureError(f"unknown section(s): {', '.join(sorted(unknown))}; expected {', '.join(SECTIONS)}")
    return data


# True while the admin API or the CLI provisions (qa/provision.py): the passwords are people's, hashed anew, not
# test data's (hashed once per process and remembered, security.known_password_hash).
PEOPLES_PASSWORDS = contextvars.ContextVar("peoples_passwords", default=False)
EMAIL = r"[^@\s]+@[^@\s]+"
CLIENT_STATUSES = ("active", "pending", "disabled", "rejected")


def text_field(entry, where, name, max_length, required=True, default=None, pattern=None):
    """A string field of at most `max_length` characters, without NUL (matching `pattern`), or FixtureError."""
    value = field(entry, where, name, required=required, default=default)
    if value is None:
        return value
    if not (value or not required) or len(value) > max_length or "\x00" in value:
        size = f"1 to {max_length}" if required else f"at most {max_length}"
        raise FixtureError(f"{where}.{name}: must be {size} characters, without NUL")
    if pattern and not re.fullmatch(pattern, value):
        raise FixtureError(f"{where}.{name}: {value!r} is not an email address")
    return value


def load_users(data):
    """Users, each with a password (and what a dialect reads beside, such as consumer's `consumer_role`)."""
    for where, entry in entries(data, "users", user_schema()):
        username = text_field(entry, where, "username", 64)
        if User.by_username(username) is not None:
            raise FixtureError(f"{where}.username: {username!r} is declared twice")
        user = demo.create_user(username, text_field(entry, where, "email", 255, pattern=EMAIL),
                                text_field(entry, where, "full_name", 255, required=False, default=""),
                                text_field(entry, where, "password", 255), test_data=not PEOPLES_PASSWORDS.get())
        user.claims = claims_field(entry, where)
        db.session.flush()


def load_clients(data):
    """Clients of every dialect that has them; the dialect adds what it keeps beside the core client."""
    dialects = {dialect.name: dialect.load_client_fixture for dialect in DIALECTS if dialect.load_client_fixture}
    for where, entry in entries(data, "clients"):
        dialect = field(entry, where, "dialect")
        if dialect not in dialects:
            raise FixtureError(f"{where}.dialect: one of {', '.join(dialects)}")
        known_fields(entry, where, client_schema(dialect))
        dialects[dialect](entry, where, functools.partial(create_client, entry, where, dialect))


def create_client(entry, where, dialect, grant_types):
    """The core client a `clients[i]` entry declares (flushed, so that the dialect can refer to it)."""
    redirect_uris = field(entry, where, "redirect_uris", list, required=False, default=[])
    scopes = field(entry, where, "scopes", list, required=False, default=[])
    for name, values in (("redirect_uris", redirect_uris), ("scopes", scopes)):
        if not all(isinstance(value, str) and value and "\x00" not in value for value in values):
            raise FixtureError(f"{where}.{name}: must be a list of non-empty strings")
    client_id = text_field(entry, where, "client_id", 128)
    client = demo.create_client(dialect, client_id, text_field(entry, where, "client_secret", 255),
                                text_field(entry, where, "name", 255, required=False, default=client_id),
                                redirect_uris=redirect_uris, grant_types=grant_types, scope=" ".join(scopes))
    client.status = field(entry, where, "status", required=False, default="active")
    if client.status not in CLIENT_STATUSES:
        raise FixtureError(f"{where}.status: one of {', '.join(CLIENT_STATUSES)}")
    client.claims = claims_field(entry, where, dialect)
    if entry.get("owner"):
        client.owner = user_named(field(entry, where, "owner"), f"{where}.owner")
    if entry.get("headless_user"):  # authorization requests approved for this user without the pages
        client.headless_user = user_named(field(entry, where, "headless_user"), f"{where}.headless_user")
    db.session.flush()
    return client


def user_schema():
    """The JSON Schema of a `users[i]` entry: the core's fields and those the dialects add."""
    extra = {name: value for dialect in DIALECTS for name, value in dialect.fixture_fields.get("users", {}).items()}
    return schema_object(["username", "email", "password"], username={**STRING, "minLength": 1, "maxLength": 64},
                         email={**STRING, "pattern": "^[^@\\s]+@[^@\\s]+$", "maxLength": 255},
                         full_name={**STRING, "maxLength": 255}, password={**STRING, "minLength": 1}, claims=CLAIMS,
                         **extra)


def client_schema(dialect_name):
    """The JSON Schema of a `clients[i]` entry of this dialect: the core's fields and the dialect's."""
    dialect = next(dialect for dialect in DIALECTS if dialect.name == dialect_name)
    return schema_object(
        ["dialect", "client_id", "client_secret"], dialect={"enum": [dialect_name]},
        client_id={**STRING, "minLength": 1, "maxLength": 128}, client_secret={**STRING, "minLength": 1},
        name={**STRING, "maxLength": 255}, redirect_uris=STRINGS, scopes=STRINGS,
        status={"enum": list(CLIENT_STATUSES)}, owner={**STRING, "description": "a username: the app's owner"},
        headless_user={**STRING, "description": "a username: its authorization requests are approved at once"},
        claims=CLAIMS, **dialect.fixture_fields.get("clients", {}))


def fixtures_schema():
    """The JSON Schema of a fixtures document (GET /_sandbox/fixtures/schema): its sections, each a list of entries
    as the loaders take them."""
    with_clients = [dialect.name for dialect in DIALECTS if dialect.load_client_fixture]
    sections = {"users": user_schema(),
                "clients": {"oneOf": [client_schema(name) for name in with_clients]},
                **{section.name: section.schema or {"type": "object"}
                   for dialect in DIALECTS for section in dialect.fixture_sections}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://oauth-sandbox.example/fixtures.schema.json", "title": "OAuth Sandbox fixtures",
            "type": "object", "additionalProperties": False,
            "properties": {name: {"type": "array", "items": sections[name]} for name in SECTIONS}}


def dialect_sections(before_clients):
    return {section.name: section.load for dialect in DIALECTS for section in dialect.fixture_sections
            if section.before_clients == before_clients}


CORE_SECTIONS = ["users", "clients"]
# Every section in load order: users first, then what clients may refer to, clients, and the rest.
SECTIONS = {"users": load_users, **dialect_sections(before_clients=True), "clients": load_clients,
            **dialect_sections(before_clients=False)}


def apply_fixtures(data):
    """Create everything the fixtures declare, section by section (users first)."""
    for load in SECTIONS.values():
        load(data)
