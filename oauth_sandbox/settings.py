"""The shared settings every worker reads: the clock offset, rate-limit overrides, whether faults are configured,
and the epoch of the rate-limit counters.

They live in the database so that a change over the admin API applies at once, on every worker; config stays the
default. Each change also stores a new `version`: a request reads that one value and re-reads the rest only when it
differs from what this process last saw. A reset puts them all back (`reset_settings`) and starts a new
`limits_epoch`: each worker empties its own in-memory rate-limit counters when it sees a new one (ratelimit.py).
"""
import secrets

from flask import current_app, g, has_request_context
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .extensions import db
from .reads import CompiledRead, unchanged_since


class Setting(db.Model):
    """A shared setting changed over the admin API (`clock`, `rate_limits`, `faults_active`, and their `version`),
    or by a reset (`limits_epoch`)."""

    __tablename__ = "sandbox_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)


VERSION = CompiledRead(select(Setting.value).where(Setting.key == "version"))
EVERYTHING = CompiledRead(select(Setting.key, Setting.value))


class SettingsCache:
    """This process's copy of one app's settings: (the reads.unchanged_since token they were read after, their
    version, their values), replaced as a whole (two threads loading at once cannot leave a mix)."""

    def __init__(self):
        self.snapshot = (None, self, {})  # a version that matches no stored one: the first request reads all


def load():
    """The request's view of the shared settings (re-read when their version changed, and their version read only
    when the database may have changed: reads.unchanged_since); adopts a moved clock."""
    cache = current_app.extensions.setdefault("sandbox_settings", SettingsCache())
    seen, version, values = cache.snapshot
    unchanged, token = unchanged_since(seen)
    if not unchanged:
        row = VERSION.first()
        stored = row[0] if row else None
        if stored != version:
            values = dict(EVERYTHING.rows())
            shared_clock = values.get("clock")
            clock.adopt(*(shared_clock["offset"], shared_clock["version"]) if shared_clock else (0, None))
        cache.snapshot = (token, stored, values)
    elif token != seen:  # nothing but this connection's own commit since (a token's): the same settings, as of now
        cache.snapshot = (token, version, values)
    g.settings = values


def setting(key, default=None):
    """A shared setting's value (as loaded for this request, or read now outside one)."""
    try:
        return g.settings.get(key, default)
    except (AttributeError, RuntimeError):  # not loaded for a request (a command, a script): read it now
        pass
    row = db.session.get(Setting, key)
    return row.value if row is not None else default


def put_setting(key, value):
    """Store a shared setting, and a new version so that every worker re-reads them; commit."""
    for name, stored in ((key, value), ("version", secrets.token_hex(8))):
        row = db.session.get(Setting, name)
        if row is None:
            db.session.add(Setting(key=name, value=stored))
        else:
            row.value = stored
    db.session.commit()
    if has_request_context() and "settings" in g:
        g.settings = {**g.settings, key: value}


def reset_settings():
    """Every shared setting back to its default, in the session's transaction (not committed): the clock on real
    time, no rate-limit overrides, no faults, a new `limits_epoch` and a new version. The clock's own version moves
    on, so that every worker adopts the real time, whatever it saw last. Returns the new values."""
    table = Setting.__table__
    shared_clock = db.session.execute(select(table.c.value).where(table.c.key == "clock")).scalar()
    values = {"clock": {"offset": 0, "version": (shared_clock or {}).get("version", 0) + 1},
              "limits_epoch": secrets.token_hex(8)}
    db.session.execute(table.delete())
    db.session.execute(table.insert(), [{"key": key, "value": value} for key, value in
                                        {**values, "version": secrets.token_hex(8)}.items()])
    return values


def set_clock_offset(offset):
    """Move the sandbox clock for every worker (and this one, now)."""
    version = (setting("clock") or {}).get("version", 0) + 1
    put_setting("clock", {"offset": int(offset), "version": version})
    clock.adopt(int(offset), version)


def limit_text(name):
    """The rate limit called `name` (flask-limiter syntax): its shared override, or the config value."""
    return (setting("rate_limits") or {}).get(name) or current_app.config[name]
