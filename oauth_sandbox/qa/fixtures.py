"""Reset: empty the data and load the demo data, or a fixtures file (JSON or YAML) validated entry by entry."""
import json
import time
from pathlib import Path

import yaml
from flask import current_app

from .. import clock, demo
from ..extensions import db
from ..models import User
from .models import JournalEntry

KEPT_TABLES = {JournalEntry.__tablename__}  # the journal is a record of what happened, not fixture data


class FixtureError(ValueError):
    """A fixtures file that cannot be loaded; the message names the bad entry."""


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
        demo.load_demo_data()
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
        raise FixtureError(f"{path}: the top level must be a mapping of users, clients, roles, organizations, "
                           "operations")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise FixtureError(f"unknown section(s): {', '.join(sorted(unknown))}; expected {', '.join(SECTIONS)}")
    return data


def field(entry, where, name, kind=str, required=True, default=None):
    """entry[name] checked for presence and type, or FixtureError naming `where.name`."""
    if name not in entry or entry[name] is None:
        if required:
            raise FixtureError(f"{where}.{name}: required")
        return default
    value = entry[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise FixtureError(f"{where}.{name}: must be a {names}, not {type(value).__name__}")
    return value


def entries(data, section):
    """The section's list of mappings, each with its `section[i]` label."""
    items = data.get(section) or []
    if not isinstance(items, list):
        raise FixtureError(f"{section}: must be a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FixtureError(f"{section}[{index}]: must be a mapping")
        yield f"{section}[{index}]", item


def user_named(username, where):
    user = User.by_username(username)
    if user is None:
        raise FixtureError(f"{where}: no user {username!r} (declare it under users)")
    return user


def load_users(data):
    for where, entry in entries(data, "users"):
        username = field(entry, where, "username")
        if User.by_username(username) is not None:
            raise FixtureError(f"{where}.username: {username!r} is declared twice")
        demo.create_user(username, field(entry, where, "email"),
                         field(entry, where, "full_name", required=False, default=""), field(entry, where, "password"))
        db.session.flush()


def load_roles(data):
    from ..dialects.consumer.models import Role, Scope, set_role

    names = set()
    for where, entry in entries(data, "roles"):
        scopes = field(entry, where, "scopes", list)
        names.update(scopes)
        db.session.add(Role(name=field(entry, where, "name"), scopes=scopes))
    db.session.add_all(Scope(name=name) for name in sorted(names))
    db.session.flush()
    for where, entry in entries(data, "users"):
        if entry.get("consumer_role"):
            role = Role.by_name(entry["consumer_role"])
            if role is None:
                raise FixtureError(f"{where}.consumer_role: no role {entry['consumer_role']!r} under roles")
            set_role(User.by_username(entry["username"]), role)


def load_organizations(data):
    from ..dialects.mokapen.models import MEMBER_ROLES, Membership, Organization

    for where, entry in entries(data, "organizations"):
        organization = Organization(id=field(entry, where, "id", int), name=field(entry, where, "name"))
        db.session.add(organization)
        db.session.flush()
        for index, member in enumerate(field(entry, where, "members", list, required=False, default=[])):
            label = f"{where}.members[{index}]"
            role = field(member, label, "role", default="member", required=False)
            if role not in MEMBER_ROLES:
                raise FixtureError(f"{label}.role: one of {', '.join(MEMBER_ROLES)}")
            db.session.add(Membership(organization_id=organization.id, role=role,
                                      user_id=user_named(field(member, label, "username"), label).id))


def load_clients(data):
    from ..dialects import DIALECTS
    from ..dialects.mokapen.models import Application

    dialects = [dialect.name for dialect in DIALECTS if dialect.name != "v1"]
    for where, entry in entries(data, "clients"):
        dialect = field(entry, where, "dialect")
        if dialect not in dialects:
            raise FixtureError(f"{where}.dialect: one of {', '.join(dialects)}")
        kind = field(entry, where, "kind", required=False, default="public")
        grant_types = {"php": ["authorization_code"], "consumer": [],
                       "mokapen": ["authorization_code", "refresh_token"] if kind == "public" else
                       ["client_credentials"]}[dialect]
        client = demo.create_client(dialect, field(entry, where, "client_id"), field(entry, where, "client_secret"),
                                    field(entry, where, "name", required=False, default=entry.get("client_id")),
                                    redirect_uris=field(entry, where, "redirect_uris", list, required=False,
                                                        default=[]),
                                    grant_types=grant_types,
                                    scope=" ".join(field(entry, where, "scopes", list, required=False, default=[])))
        client.status = field(entry, where, "status", required=False, default="active")
        if entry.get("owner"):
            client.owner = user_named(entry["owner"], f"{where}.owner")
        db.session.flush()
        if dialect == "mokapen":
            dedicated = entry.get("dedicated_user")
            db.session.add(Application(
                client_pk=client.id, kind=kind, organization_id=field(entry, where, "organization", int),
                company_name=field(entry, where, "company_name", required=False, default="Example Ltd"),
                company_url=field(entry, where, "company_url", required=False, default="https://example.com"),
                dedicated_user=user_named(dedicated, f"{where}.dedicated_user") if dedicated else None,
                logo=demo_logo(), logo_type="image/png"))


def load_operations(data):
    from ..dialects.consumer.models import Operation

    for where, entry in entries(data, "operations"):
        public = field(entry, where, "public", bool, required=False, default=False)
        db.session.add(Operation(
            method=field(entry, where, "method").upper(), path=field(entry, where, "path"), public=public,
            scope=field(entry, where, "scope", required=not public), response=entry.get("response", {}),
            status_code=field(entry, where, "status_code", int, required=False, default=200)))


def demo_logo():
    from ..dialects.mokapen import DEMO_LOGO

    return DEMO_LOGO


SECTIONS = {"users": load_users, "roles": load_roles, "organizations": load_organizations,
            "clients": load_clients, "operations": load_operations}


def apply_fixtures(data):
    """Create everything the fixtures declare, section by section (users first)."""
    for load in SECTIONS.values():
        load(data)
