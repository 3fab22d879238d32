"""The shared settings every worker reads: the clock offset, rate-limit overrides, whether faults are configured,
and the epoch of the rate-limit counters.

They live in the database so that a change over the admin API applies at once, on every worker; config stays the
default. Each change also stores a new `version`: a request reads that one value and re-reads the rest only when it
differs from what this process last saw. Every change to the catalog moves it too (a trigger on each table a
`reads.CatalogRead` reads: create_version_triggers), so the same one value also says whether the catalog answers this
process kept are still the database's. A reset puts them all back (`reset_settings`) and starts a new
`limits_epoch`: each worker empties its own in-memory rate-limit counters when it sees a new one (ratelimit.py).
"""
import secrets

from flask import current_app, g, has_request_context
from sqlalchemy import JSON, String, event, select, text
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .extensions import db
from .reads import CATALOG_TABLES, CompiledRead, unchanged_since


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
    version, their values, the catalog answers kept for that version), replaced as a whole (two threads loading at
    once cannot leave a mix)."""

    def __init__(self):
        self.snapshot = (None, self, {}, {})  # a version that matches no stored one: the first request reads all
        self.versioned = None  # whether the catalog's tables have their version triggers (asked once)
        self.unchanged = (None, None)  # (a SQLite wal-index header, the answers of reads made while it was current)


def load():
    """The request's view of the shared settings (re-read when their version changed, and their version read only
    when the database may have changed: reads.unchanged_since); adopts a moved clock."""
    extensions = current_app.extensions
    cache = extensions.get("sandbox_settings") or extensions.setdefault("sandbox_settings", SettingsCache())
    # (not a new SettingsCache each request for setdefault to drop: its snapshot refers to itself, a cycle that
    # only the garbage collector frees)
    seen, version, values, answers = cache.snapshot
    unchanged, token = unchanged_since(seen)
    if not unchanged:
        row = VERSION.first()
        stored = row[0] if row else None
        if stored != version:
            values, answers = dict(EVERYTHING.rows()), {}
            shared_clock = values.get("clock")
            clock.adopt(*(shared_clock["offset"], shared_clock["version"]) if shared_clock else (0, None))
        cache.snapshot = (token, stored, values, answers)
    elif token != seen:  # nothing but this connection's own commit since (a token's): the same settings, as of now
        cache.snapshot = (token, version, values, answers)
    if cache.versioned is None:
        cache.versioned = catalog_versioned()
    request_globals = g._get_current_object()
    request_globals.settings, request_globals.catalog = values, answers if cache.versioned else None
    request_globals.unchanged_answers = unchanged_answers(cache, token)


def unchanged_answers(cache, token):
    """The answers of reads this process made while the database was as it is now, or None where that cannot be
    told. On SQLite the wal-index header (the `token` of reads.unchanged_since, bytes) moves with every commit on any
    connection, this process's own included: the same header, the same database, and so the same answer to every
    read (a token's lookup, an organization's list) until a commit moves it. Elsewhere: None."""
    if not isinstance(token, bytes):
        return None
    header, answers = cache.unchanged
    if header != token:
        answers = {}
        cache.unchanged = (token, answers)
    return answers


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


def limit_text(name, app=None):
    """The rate limit called `name` (flask-limiter syntax): its shared override, or the config value (of `app`, the
    current app, when the caller has it)."""
    return (setting("rate_limits") or {}).get(name) or (app or current_app).config[name]


# What every catalog change runs, in the same transaction: a new version, made if there was none.
NEW_VERSION = {
    "sqlite": "INSERT INTO sandbox_settings (key, value) VALUES ('version', json_quote(lower(hex(randomblob(8))))) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    "postgresql": "INSERT INTO sandbox_settings (key, value) VALUES ('version', to_json(md5(random()::text))) "
                  "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
}
VERSIONED_OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def create_version_triggers(connection, tables):
    """On each of `tables`, the triggers that give the shared settings a new version whenever a statement inserts,
    changes or deletes its rows: whoever writes (the admin API, a page, a reset, a fixtures file, a migration,
    someone with psql or the sqlite3 shell), every worker's next request reads the catalog anew (reads.CatalogRead).
    Made by `db.create_all` (below) and by the migration that introduced them; `tables`: names.
    On PostgreSQL the new version is written as the transaction commits (a deferred constraint trigger): the
    version row is then the last lock a writer takes, and two writers of the catalog cannot deadlock over it."""
    name = connection.dialect.name
    if name == "postgresql":
        connection.execute(text(f"CREATE OR REPLACE FUNCTION sandbox_new_version() RETURNS trigger LANGUAGE plpgsql "
                                f"AS $$ BEGIN {NEW_VERSION[name]}; RETURN NULL; END $$"))
        for table in tables:
            drop_postgresql_triggers(connection, table)  # (CREATE OR REPLACE TRIGGER: PostgreSQL 14 and newer only)
            connection.execute(text(f"CREATE CONSTRAINT TRIGGER sandbox_version AFTER INSERT OR UPDATE OR DELETE "
                                    f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                                    f"EXECUTE FUNCTION sandbox_new_version()"))
            connection.execute(text(f"CREATE TRIGGER sandbox_version_truncate AFTER TRUNCATE ON {table} "
                                    f"FOR EACH STATEMENT EXECUTE FUNCTION sandbox_new_version()"))
    elif name == "sqlite":
        for table in tables:
            for operation in VERSIONED_OPERATIONS:
                connection.execute(text(f"CREATE TRIGGER IF NOT EXISTS sandbox_version_{table}_{operation.lower()} "
                                        f"AFTER {operation} ON {table} BEGIN {NEW_VERSION[name]}; END"))
    else:
        raise RuntimeError(f"no version triggers for {name}: the catalog answers kept would never be renewed")


def catalog_versioned():
    """Whether every table the catalog reads has its version triggers, for each of VERSIONED_OPERATIONS. A database
    not upgraded since they came has none: its catalog is then read on every request, as before, and a warning
    says so."""
    if db.engine.dialect.name == "sqlite":
        query = ("SELECT tbl_name, upper(substr(name, length('sandbox_version_' || tbl_name || '_') + 1)) "
                 "FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'sandbox_version_%'")
    else:
        query = ("SELECT event_object_table, event_manipulation FROM information_schema.triggers "
                 "WHERE trigger_schema = current_schema() AND trigger_name = 'sandbox_version'")
    with db.engine.connect() as connection:
        found = {tuple(row) for row in connection.execute(text(query))}
    missing = sorted(table for table in CATALOG_TABLES
                     if any((table, operation) not in found for operation in VERSIONED_OPERATIONS))
    if missing:
        current_app.logger.warning(
            f"No version triggers on {', '.join(missing)}: run `flask db upgrade` (a database made without "
            f"migrations and stamped: `flask db stamp a9e8d7c6b5f4`, then upgrade). Until then every request reads "
            f"the catalog from the database. (Asked once per worker: restart the workers after a downgrade.)")
    return not missing


def drop_postgresql_triggers(connection, table):
    """A table's version triggers on PostgreSQL, gone if they were there."""
    for trigger in ("sandbox_version", "sandbox_version_truncate"):
        connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {table}"))


def drop_version_triggers(connection, tables):
    """The triggers of create_version_triggers on `tables`, gone (a migration's downgrade); on PostgreSQL their
    function too, once no table's trigger runs it."""
    name = connection.dialect.name
    for table in tables:
        if name == "postgresql":
            drop_postgresql_triggers(connection, table)
        else:
            for operation in VERSIONED_OPERATIONS:
                connection.execute(text(f"DROP TRIGGER IF EXISTS sandbox_version_{table}_{operation.lower()}"))
    if name == "postgresql" and not connection.execute(text(
            "SELECT 1 FROM information_schema.triggers WHERE trigger_schema = current_schema() "
            "AND trigger_name IN ('sandbox_version', 'sandbox_version_truncate') LIMIT 1")).first():
        connection.execute(text("DROP FUNCTION IF EXISTS sandbox_new_version()"))


@event.listens_for(db.metadata, "after_create")
def version_the_catalog(_metadata, connection, tables=(), **_kwargs):
    """`db.create_all`: the catalog's tables it made get their version triggers, as a migrated database has them."""
    create_version_triggers(connection, sorted(table.name for table in tables if table.name in CATALOG_TABLES))
