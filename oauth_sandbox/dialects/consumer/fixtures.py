"""consumer's sections of a fixtures file: roles (and the users' `consumer_role`), operations."""
import re

from ...extensions import db
from ...fixture_fields import STRING, STRINGS, FixtureError, FixtureSection, entries, field, schema_object
from ...models import User
from .models import (
    SCOPE_NAME,
    STATUS_CODES,
    STATUS_CODES_TEXT,
    Operation,
    Role,
    Scope,
    UserRole,
    all_scope_names,
    role_of,
    set_role,
)

ROLE_SCHEMA = schema_object(["name", "scopes"], name={**STRING, "minLength": 1, "maxLength": 64}, scopes=STRINGS)
OPERATION_SCHEMA = schema_object(
    ["method", "path"], method={"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
    path={**STRING, "pattern": "^/", "maxLength": 255}, public={"type": "boolean"},
    scope={**STRING, "description": "required unless public"}, response={"description": "the JSON it answers"},
    status_code={"type": "integer", "minimum": STATUS_CODES.start, "maximum": STATUS_CODES.stop - 1})
FIXTURE_FIELDS = {"users": {"consumer_role": {**STRING, "description": "a role under roles (consumer)"}}}
OPERATION_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def add_scopes(names):
    """Create the scopes named that do not exist yet (not committed)."""
    existing = set(all_scope_names())
    db.session.add_all(Scope(name=name) for name in sorted(set(names) - existing))


def role_scopes(entry, where):
    scopes = field(entry, where, "scopes", list)
    if not all(isinstance(scope, str) and re.fullmatch(SCOPE_NAME, scope) for scope in scopes):
        raise FixtureError(f"{where}.scopes: must be a list of scope names (lowercase letters, digits, '.', '_' or "
                           "'-', at most 64)")
    return list(dict.fromkeys(scopes))


def load_roles(data):
    """Roles with their scopes (every scope named is created), then each user's `consumer_role`."""
    names = set()
    for where, entry in entries(data, "roles", ROLE_SCHEMA):
        scopes = role_scopes(entry, where)
        names.update(scopes)
        name = field(entry, where, "name")
        if not name or len(name) > 64:
            raise FixtureError(f"{where}.name: must be 1 to 64 characters")
        db.session.add(Role(name=name, scopes=scopes))
    add_scopes(names)
    db.session.flush()
    for where, entry in entries(data, "users"):
        if entry.get("consumer_role"):
            set_role(User.by_username(entry["username"]), role_named(entry["consumer_role"], where))


def role_named(name, where):
    role = Role.by_name(name) if isinstance(name, str) else None
    if role is None:
        raise FixtureError(f"{where}.consumer_role: no role {name!r} under roles")
    return role


def load_operations(data):
    """Operations: public, or private with the scope each needs, and the response each gives."""
    for where, entry in entries(data, "operations", OPERATION_SCHEMA):
        public = field(entry, where, "public", bool, required=False, default=False)
        method = field(entry, where, "method").upper()
        if method not in OPERATION_METHODS:
            raise FixtureError(f"{where}.method: one of {', '.join(OPERATION_METHODS)}")
        path = field(entry, where, "path")
        if not path.startswith("/") or len(path) > 255:
            raise FixtureError(f"{where}.path: a path starting with /, at most 255 characters")
        status_code = field(entry, where, "status_code", int, required=False, default=200)
        if status_code not in STATUS_CODES:
            raise FixtureError(f"{where}.status_code: must be {STATUS_CODES_TEXT}, not {status_code}")
        db.session.add(Operation(
            method=method, path=path, public=public,
            scope=field(entry, where, "scope", required=not public), response=entry.get("response", {}),
            status_code=status_code))


def load_client_fixture(entry, where, create):
    """A `clients[i]` entry of consumer: an app of its `owner` (Fusio's tokens are the owner's), whose grants are
    the token endpoint's own (no authorization page, so no `headless_user`); without `scopes`, the owner's."""
    if entry.get("headless_user"):
        raise FixtureError(f"{where}.headless_user: consumer apps have no authorization page to skip")
    if not entry.get("owner"):
        raise FixtureError(f"{where}.owner: required (a consumer app belongs to a user, whose tokens it gets)")
    client = create([])
    if "scopes" not in entry:
        role = role_of(client.owner)
        client.scope = " ".join(role.scopes if role else [])
    return client


def describe_user(user):
    """A user's consumer part: the role (None: the default role)."""
    assigned = db.session.get(UserRole, user.id)
    return {"consumer_role": assigned.role.name if assigned else None}


def change_user(user, data):
    """PATCH's `consumer_role`: a role's name, or null for the default role."""
    if "consumer_role" not in data:
        return
    if data["consumer_role"] is None:
        assigned = db.session.get(UserRole, user.id)
        if assigned is not None:
            db.session.delete(assigned)
        return
    set_role(user, role_named(data["consumer_role"], "users[0]"))


FIXTURE_SECTIONS = (
    FixtureSection("roles", load_roles, schema=ROLE_SCHEMA),
    FixtureSection("operations", load_operations, before_clients=False, schema=OPERATION_SCHEMA),
)
