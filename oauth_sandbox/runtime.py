"""Runtime settings every worker shares through the database: the clock offset and rate-limit overrides.

They are read once per request (one small query in plain SQL, its JSON parsed only when it changed), so a
change over the admin API applies at once, on every worker; config stays the default.
"""
import json

from flask import current_app, g, has_request_context
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .extensions import db


class Setting(db.Model):
    """A runtime setting changed over the admin API (`clock`, `rate_limits`, `faults_active`)."""

    __tablename__ = "sandbox_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)


SETTINGS_SQL = "SELECT key, value FROM sandbox_settings"
_parsed = {}  # stored JSON text → its value


def load_settings():
    """before_request: this request's view of the shared settings; adopt a clock that was moved elsewhere."""
    # On the path every request takes: plain SQL on the session's connection, no statement compilation or ORM
    # (a third of the cost of a select() on SQLite); still through SQLAlchemy, so a cut connection is noticed.
    g.settings = parse_settings(db.session.connection().exec_driver_sql(SETTINGS_SQL).all())
    apply_settings(g.settings)


def parse_settings(rows):
    """The settings as a dict, from the (key, value) rows of SETTINGS_SQL."""
    return {key: parse(value) for key, value in rows}


def apply_settings(settings):
    """Adopt the shared clock when it was moved since this process last looked."""
    shared_clock = settings.get("clock")
    if shared_clock:
        clock.adopt(shared_clock["offset"], shared_clock["version"])


def parse(value):
    """A JSON column's value as a driver gives it (a setting's, or the fast lane's reads): SQLite gives JSON text,
    PostgreSQL's driver the value itself. Parsed text is remembered (such values are few and change rarely)."""
    if not isinstance(value, str):
        return value
    if value not in _parsed:
        if len(_parsed) > 1000:
            _parsed.clear()
        _parsed[value] = json.loads(value)
    return _parsed[value]


def setting(key, default=None):
    """A shared setting's value (as loaded for this request, or read now outside one)."""
    if has_request_context() and "settings" in g:
        return g.settings.get(key, default)
    row = db.session.get(Setting, key)
    return row.value if row is not None else default


def put_setting(key, value):
    """Store a shared setting and commit."""
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.commit()
    if has_request_context() and "settings" in g:
        g.settings[key] = value


def set_clock_offset(offset):
    """Move the sandbox clock for every worker (and this one, now)."""
    version = (setting("clock") or {}).get("version", 0) + 1
    put_setting("clock", {"offset": int(offset), "version": version})
    clock.adopt(int(offset), version)


def rate_limit(name):
    """A callable giving the limit called `name`: a runtime override, or the config value."""
    return lambda: limit_value(name, {"rate_limits": setting("rate_limits")}, current_app.config)


def limit_value(name, settings, config):
    """The limit called `name` (flask-limiter syntax): its runtime override in `settings`, or the config value."""
    return (settings.get("rate_limits") or {}).get(name) or config[name]
