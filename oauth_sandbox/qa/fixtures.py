"""Reset: empty the data and load the demo data, or a fixtures file (JSON or YAML) validated entry by entry.

The core sections (users, clients) are loaded here; each dialect loads its own (`Dialect.fixture_sections`) and
what a client of its own keeps beside the core client (`Dialect.load_client_fixture`).
"""
import functools
import json
import time
from pathlib import Path

import yaml
from flask import current_app

from .. import bootstrap, clock, demo
from ..dialects import DIALECTS
from ..extensions import db
from ..fixture_fields import FixtureError, entries, field, user_named
from ..models import User
from .models import JournalEntry

__all__ = ["FixtureError", "SECTIONS", "apply_fixtures", "load_fixture_file", "reset_all"]

KEPT_TABLES = {JournalEntry.__tablename__}  # the journal is a record of what happened, not fixture data


def reset_all():
    """Empty every table but the journal, load the configured fixtures (or the demo data); seconds taken."""
    started = time.perf_counter()
    fixtures = load_fixture_file(current_app.config["SANDBOX_FIXTURES"]) if current_app.config[
        "SANDBOX_FIXTURES"] else None
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEPT_TABLES:
            db.session.execute(table.delete())
    clock.reset()
    if fixtures is None:
        bootstrap.load_demo_data()
    else:
        apply_fixtures(fixtures)
        db.session.commit()
    return time.perf_counter() - started


def load_fixture_file(path):
    """Parse a JSON or YAML fixtures file into a dict, or raise FixtureError."""
    try:
        text = Path(path).read_text()
        data = yaml.safe_load(text) if str(path).endswith((".yaml", ".yml")) else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise FixtureError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        dialects_own = [name for name in SECTIONS if name not in CORE_SECTIONS]
        raise FixtureError(f"{path}: the top level must be a mapping of {', '.join(CORE_SECTIONS + dialects_own)}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise FixtureError(f"unknown section(s): {', '.join(sorted(unknown))}; expected {', '.join(SECTIONS)}")
    return data


def load_users(data):
    """Users, each with a password (and what a dialect reads beside, such as consumer's `consumer_role`)."""
    for where, entry in entries(data, "users"):
        username = field(entry, where, "username")
        if User.by_username(username) is not None:
            raise FixtureError(f"{where}.username: {username!r} is declared twice")
        demo.create_user(username, field(entry, where, "email"),
                         field(entry, where, "full_name", required=False, default=""), field(entry, where, "password"))
        db.session.flush()


def load_clients(data):
    """Clients of every dialect that has them; the dialect adds what it keeps beside the core client."""
    dialects = {dialect.name: dialect.load_client_fixture for dialect in DIALECTS if dialect.load_client_fixture}
    for where, entry in entries(data, "clients"):
        dialect = field(entry, where, "dialect")
        if dialect not in dialects:
            raise FixtureError(f"{where}.dialect: one of {', '.join(dialects)}")
        dialects[dialect](entry, where, functools.partial(create_client, entry, where, dialect))


def create_client(entry, where, dialect, grant_types):
    """The core client a `clients[i]` entry declares (flushed, so that the dialect can refer to it)."""
    client = demo.create_client(dialect, field(entry, where, "client_id"), field(entry, where, "client_secret"),
                                field(entry, where, "name", required=False, default=entry.get("client_id")),
                                redirect_uris=field(entry, where, "redirect_uris", list, required=False, default=[]),
                                grant_types=grant_types,
                                scope=" ".join(field(entry, where, "scopes", list, required=False, default=[])))
    client.status = field(entry, where, "status", required=False, default="active")
    if entry.get("owner"):
        client.owner = user_named(entry["owner"], f"{where}.owner")
    db.session.flush()
    return client


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
