"""consumer's sections of a fixtures file: roles (and the users' `consumer_role`), operations."""
from ...extensions import db
from ...fixture_fields import FixtureError, FixtureSection, entries, field
from ...models import User
from .models import STATUS_CODES, STATUS_CODES_TEXT, Operation, Role, Scope, set_role


def load_roles(data):
    """Roles with their scopes (every scope named is created), then each user's `consumer_role`."""
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


def load_operations(data):
    """Operations: public, or private with the scope each needs, and the response (status and body) each gives."""
    for where, entry in entries(data, "operations"):
        public = field(entry, where, "public", bool, required=False, default=False)
        status_code = field(entry, where, "status_code", int, required=False, default=200)
        if status_code not in STATUS_CODES:
            raise FixtureError(f"{where}.status_code: must be {STATUS_CODES_TEXT}, not {status_code}")
        db.session.add(Operation(
            method=field(entry, where, "method").upper(), path=field(entry, where, "path"), public=public,
            scope=field(entry, where, "scope", required=not public), response=entry.get("response", {}),
            status_code=status_code))


def load_client_fixture(entry, where, create):
    """A `clients[i]` entry of consumer: an app, whose grants are the token endpoint's own (no authorization page,
    so no `headless_user`)."""
    if entry.get("headless_user"):
        raise FixtureError(f"{where}.headless_user: consumer apps have no authorization page to skip")
    return create([])


FIXTURE_SECTIONS = (
    FixtureSection("roles", load_roles),
    FixtureSection("operations", load_operations, before_clients=False),
)
