"""Reads on the path every request takes: Core statements compiled once, run on one pooled connection a request.

Each request reads the shared settings' version, and most API requests read one token. Through the ORM session each
such read cost ~60 µs of session and transaction set-up (measured; the read itself is ~5 µs on SQLite), more than
Flask's own work for a request. Here a request checks out one DBAPI connection from the engine's pool on its first
read and gives it back at teardown; writes still go through the session. A driver error is raised as SQLAlchemy
raises it (DBAPIError, the connection invalidated when it is gone), so the 503 handling is the same for both.
"""
from flask import g
from sqlalchemy.exc import DBAPIError

from .database import without_nul
from .extensions import db


class CompiledRead:
    """A Core select, compiled once per database dialect, run with keyword parameters; its rows as tuples of Python
    values, converted as SQLAlchemy converts them (JSON text parsed and 0/1 made booleans on SQLite)."""

    def __init__(self, statement):
        self.statement = statement
        self.compiled = {}  # dialect name -> (SQL, default parameters, parameter order or None, value converters)

    def for_dialect(self, dialect):
        if dialect.name not in self.compiled:
            compiled = self.statement.compile(dialect=dialect)
            defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
            converters = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                          for column in self.statement.selected_columns]
            self.compiled[dialect.name] = (compiled.string, defaults, compiled.positiontup,
                                           converters if any(converters) else None)
        return self.compiled[dialect.name]

    def rows(self, **params):
        """Run with `params` (bound by name) on the request's read connection."""
        engine = db.engine
        sql, defaults, order, converters = self.for_dialect(engine.dialect)
        values = {**defaults, **params}
        arguments = tuple(values[name] for name in order) if order is not None else values
        if engine.dialect.name != "sqlite":
            arguments = without_nul(arguments)  # as for every lookup on PostgreSQL: database.lookups_without_nul
        connection = read_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, arguments)
            rows = cursor.fetchall()
            cursor.close()
        except engine.dialect.loaded_dbapi.Error as error:
            gone = engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
            release_read_connection(invalidate=True)
            raise DBAPIError.instance(sql, None, error, engine.dialect.loaded_dbapi.Error, hide_parameters=True,
                                      connection_invalidated=gone, dialect=engine.dialect) from error
        if converters is None:
            return rows
        return [tuple(value if convert is None or value is None else convert(value)
                      for convert, value in zip(converters, row, strict=True)) for row in rows]

    def first(self, **params):
        """The first row, or None."""
        rows = self.rows(**params)
        return rows[0] if rows else None


def read_connection():
    """The request's read connection, on first use: on SQLite its own connection from the pool (a file connection
    is cheap, and the pool has no upper bound: database.py); elsewhere the session's, so that a request holds one
    server connection (two per request could exhaust the pool: requests holding one while waiting for the other)."""
    request_globals = g._get_current_object()
    connection = request_globals.get("read_connection")
    if connection is None:
        if db.engine.dialect.name == "sqlite":
            connection = request_globals.read_connection = db.engine.raw_connection()
        else:
            connection = db.session.connection().connection  # the session's own: it gives it back
    return connection


def release_read_connection(_exc=None, invalidate=False):
    """teardown: give the read connection back to the pool (or discard it, when its database cut it)."""
    connection = g.pop("read_connection", None)
    if connection is None:
        if invalidate:
            db.session().invalidate()  # a server connection the database cut: the pool replaces it
        return
    try:
        if invalidate:
            connection.invalidate()
        connection.close()
    except Exception:  # noqa: BLE001 - a connection the database cut cannot be reset: the pool discards it
        connection.invalidate()


def init_app(app):
    """Return each request's read connection at teardown."""
    app.teardown_appcontext(release_read_connection)
