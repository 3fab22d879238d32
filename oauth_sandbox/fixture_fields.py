"""What every section of a fixtures file shares: typed fields, entry labels, user look-ups, the error they raise.

qa/fixtures.py loads the file and the core sections (users, clients); each dialect loads its own sections
with these helpers (its `Dialect.fixture_sections`).
"""
from dataclasses import dataclass
from typing import Callable, Optional

from .models import User


class FixtureError(ValueError):
    """A fixtures file that cannot be loaded; the message names the bad entry."""


@dataclass(frozen=True)
class FixtureSection:
    """A top-level section of a fixtures file that a dialect owns."""

    name: str
    load: Callable  # load(data): add the section's entries (not committed), or raise FixtureError
    before_clients: bool = True  # clients may refer to it (mokapen's organizations); False: loaded after clients
    schema: Optional[dict] = None  # the JSON Schema of one entry (GET /_sandbox/fixtures/schema)


MAX_INT = 2**31 - 1  # the integer columns (PostgreSQL's INTEGER)


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
    if isinstance(value, str) and "\x00" in value:  # no database column takes it (PostgreSQL refuses it)
        raise FixtureError(f"{where}.{name}: must not contain NUL")
    if kind is int and not -MAX_INT - 1 <= value <= MAX_INT:
        raise FixtureError(f"{where}.{name}: must be a whole number from {-MAX_INT - 1} to {MAX_INT}")
    return value


def schema_object(required=(), **properties):
    """A JSON Schema object with these properties (JSON Schema dicts), `required` among them."""
    found = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        found["required"] = list(required)
    return found


STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
INTEGER = {"type": "integer", "minimum": -MAX_INT - 1, "maximum": MAX_INT}
CLAIMS = {"type": "object", "description": "Extra claims for tokens: an object of JSON values"}


def entries(data, section, schema=None):
    """The section's list of mappings, each with its `section[i]` label; with `schema` (an entry's JSON Schema),
    a field it does not declare is refused."""
    items = data.get(section) or []
    if not isinstance(items, list):
        raise FixtureError(f"{section}: must be a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FixtureError(f"{section}[{index}]: must be a mapping")
        if schema is not None:
            known_fields(item, f"{section}[{index}]", schema)
        yield f"{section}[{index}]", item


def known_fields(entry, where, schema):
    """FixtureError naming the first field of `entry` that `schema` (a JSON Schema object) does not declare."""
    for name in entry:
        if name not in schema["properties"]:
            raise FixtureError(f"{where}.{name}: unknown field; expected {', '.join(schema['properties'])}")


def user_named(username, where):
    """The user a fixture entry names, or FixtureError: users are loaded first."""
    user = User.by_username(username)
    if user is None:
        raise FixtureError(f"{where}: no user {username!r} (declare it under users)")
    return user
