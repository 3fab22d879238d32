"""What every section of a fixtures file shares: typed fields, entry labels, user look-ups, the error they raise.

qa/fixtures.py loads the file and the core sections (users, clients); each dialect loads its own sections
with these helpers (its `Dialect.fixture_sections`).
"""
from dataclasses import dataclass
from typing import Callable

from .models import User


class FixtureError(ValueError):
    """A fixtures file that cannot be loaded; the message names the bad entry."""


@dataclass(frozen=True)
class FixtureSection:
    """A top-level section of a fixtures file that a dialect owns."""

    name: str
    load: Callable  # load(data): add the section's entries (not committed), or raise FixtureError
    before_clients: bool = True  # clients may refer to it (mokapen's organizations); False: loaded after clients


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
    """The user a fixture entry names, or FixtureError: users are loaded first."""
    user = User.by_username(username)
    if user is None:
        raise FixtureError(f"{where}: no user {username!r} (declare it under users)")
    return user
