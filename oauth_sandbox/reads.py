"""Reads on the path every request takes: Core statements compiled once, run on one connection a request.

Each request reads the shared settings' version, and most API requests read one token. Through the ORM session each
such read cost ~60 µs of session and transaction set-up (measured; the read itself is ~5 µs on SQLite), more than
Flask's own work for a request. Here they run on one DBAPI connection (`read_connection`: on a SQLite file each
thread's own, kept), and so does the token INSERT when nothing else was written before it (`CompiledWrite`); other
writes go through the session. A driver error is raised as SQLAlchemy raises it (DBAPIError, the connection
invalidated when it is gone), so the 503 handling is the same for both.
"""
import mmap
import struct
import threading
import weakref
from typing import NamedTuple

from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.util import find_tables

from . import process
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
        """Its rows for `params` (bound by name): the answer this process already had while the database has not
        changed at all since (`g.unchanged_answers`, settings.load), else read on the request's read connection."""
        return kept_answer(g.get("unchanged_answers") if has_request_context() else None, self, params, self.read)

    def read(self, **params):
        """Run with `params` (bound by name) on the request's read connection."""
        reader = read_connection()
        dialect = reader.dialect
        sql, defaults, order, converters = self.compiled.get(dialect.name) or self.for_dialect(dialect)
        values = {**defaults, **params} if defaults else params
        arguments = tuple(values[name] for name in order) if order is not None else values
        if reader.nul_free:
            arguments = without_nul(arguments)  # as for every lookup on PostgreSQL: database.lookups_without_nul
        try:
            cursor = reader.dbapi_connection.cursor()
            cursor.execute(sql, arguments)
            rows = cursor.fetchall()
            cursor.close()
        except dialect.loaded_dbapi.Error as error:
            raise driver_error(reader, sql, error) from error
        if converters is None:
            return rows
        return [tuple(value if convert is None or value is None else convert(value)
                      for convert, value in zip(converters, row, strict=True)) for row in rows]

    def first(self, **params):
        """The first row, or None."""
        rows = self.rows(**params)
        return rows[0] if rows else None


CATALOG_TABLES = set()  # the names of the tables CatalogReads read (settings.py versions every change to them)
ANSWERS_KEPT = 4096  # answers kept at most per settings version, or per database state (unknown ids are answers too)
LONGEST_KEPT_PARAMETER = 255  # no stored name or id is longer: a longer one is asked, its answer not kept


class CatalogRead(CompiledRead):
    """A compiled read of the catalog (clients, users, apps, organizations, roles, claims): rows that change far
    less often than requests read them. A request's answer is kept in this process (`g.catalog`: the answers of
    the shared settings' version the request loaded, settings.load) and given again to every later request, until
    that version moves, as it does with every change to a table a CatalogRead reads, whoever makes it (a trigger
    on each: settings.create_version_triggers). Under load every other worker's commit makes each read in a
    request begin with an empty page cache, so a read the database does not do saves more than its own cost.
    Outside a request (a command), and in a request once it has written through its session (what it changed is
    not in the version it loaded), the database is read. The rows are shared: callers never change them."""

    def __init__(self, statement):
        super().__init__(statement)
        CATALOG_TABLES.update(table.name for table in find_tables(statement, include_joins=True))

    def rows(self, **params):
        catalog = g.get("catalog") if has_request_context() else None
        if catalog is None:  # no version to keep it for: kept, as any read, only while the database stands still
            return super().rows(**params)
        return kept_answer(catalog, self, params, self.read)


def kept_answer(answers, read, params, ask):
    """`read`'s rows for `params` from `answers` (a dict this process keeps while they hold), else `ask(**params)`,
    then kept there; with no `answers` (none hold now), or a parameter too long to keep, just asked."""
    if answers is None or any(isinstance(value, str) and len(value) > LONGEST_KEPT_PARAMETER
                              for value in params.values()):
        return ask(**params)
    key = (read, *sorted(params.items()))
    rows = answers.get(key)
    if rows is None:
        rows = ask(**params)
        if len(answers) >= ANSWERS_KEPT:
            answers.clear()
        answers[key] = rows
    return rows


def write_in_request(*_args):
    """Session event: the request wrote through its session (its unit of work or `session.execute`; a write on
    `session.connection()` itself is not seen: only CompiledWrite writes so, and it says so itself); its reads go to
    the database from now on."""
    if has_request_context():
        g.pop("catalog", None)
        token_written()


def token_written():
    """The request wrote a token on its read connection (CompiledWrite; none of the catalog): its reads but the
    catalog's go to the database from now on."""
    if has_request_context():
        g.pop("unchanged_answers", None)


def forget_catalog(_exc=None):
    """teardown_request: the request's kept answers are not for what its app context does after it."""
    request_globals = g._get_current_object()
    request_globals.pop("catalog", None)
    request_globals.pop("unchanged_answers", None)


def session_write(orm_execute_state):
    """Session event: a statement run through the session that writes (an UPDATE of a batch of one-off claims…)."""
    if not orm_execute_state.is_select:
        write_in_request()


class CompiledWrite:
    """A Core INSERT or UPDATE of the path every request may take (a token's), compiled once per database dialect
    for the columns it is always given, and run and committed by `commit`."""

    def __init__(self, statement, columns):
        self.statement = statement
        self.columns = list(columns)
        self.compiled = {}  # dialect name -> (SQL, parameter order or None, value converters by name)

    def for_dialect(self, dialect):
        if dialect.name not in self.compiled:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
            converters = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                          for name, bind in compiled.binds.items()}
            self.compiled[dialect.name] = (compiled.string, compiled.positiontup,
                                           {name: convert for name, convert in converters.items() if convert})
        return self.compiled[dialect.name]

    def commit(self, **values):
        """Run with `values` (one for each of its columns) and commit: in the session's transaction when the request
        began one (what it wrote before goes with it, or nothing does), else on the thread's own SQLite connection
        (read_connection), without the session's check-out, transaction bookkeeping and commit (~100 µs of a token
        request, as much as the INSERT and the commit themselves)."""
        token_written()
        # (Asked without making the request a session, when it has none yet: making one and closing it costs more.)
        in_session = db.session.registry.has() and db.session().in_transaction()
        reader = read_connection() if not in_session else None
        if reader is None or not reader.kept:
            db.session.connection().execute(self.statement, values)
            db.session.commit()
            return
        sql, order, converters = self.for_dialect(reader.dialect)
        for name, convert in converters.items():
            values[name] = convert(values[name]) if values[name] is not None else None
        arguments = tuple(values[name] for name in order) if order is not None else values
        connection, wal_index = reader.dbapi_connection, reader.wal_index
        try:
            cursor = connection.cursor()
            cursor.execute(sql, arguments)
            cursor.close()
            # (The write holds the database's write lock until the commit: no other commit comes between the two.)
            before = wal_index.read() if wal_index is not None else None
            connection.commit()
            if wal_index is not None:
                wal_index.note_own_commit(before, wal_index.read())
        except reader.dialect.loaded_dbapi.Error as error:  # rolled back as it closes (the writer lock released)
            raise driver_error(reader, sql, error) from error


class Reader(NamedTuple):
    """A request's read connection: its database dialect and DBAPI connection, and whether it is the thread's own."""

    dialect: object
    dbapi_connection: object
    kept: bool  # the thread's own SQLite connection (else the session's)
    nul_free: bool  # PostgreSQL: lookups' NUL characters replaced (database.lookups_without_nul)
    wal_index: object = None  # a kept connection's database's wal-index header (WalIndexHeader), when it can be read


WAL_INDEX_HEADER_BYTES = 48  # https://www.sqlite.org/walformat.html §2.5: the first copy of the WalIndexHdr
COMMIT_COUNTER = struct.Struct("=I")  # its iChange (bytes 8-11, native order): one more with every commit


class WalIndexHeader:
    """The header of a SQLite WAL database's wal-index (its `-shm` file, which every connection to it maps), read
    without a query: it changes with every commit on any connection, as `PRAGMA data_version` does, but reading it
    takes no read transaction, no locks and no system call (a data_version query cost ~25 µs of every request: a
    read transaction begun cold in a request's middle; measured). Its layout is documented and fixed: connections
    of every SQLite version share one wal-index. A read racing a commit may see a mix of the old and new headers:
    a difference, and so a change, which is then read through a query as always. The file is mapped only once its
    connection has opened it (SQLite truncates it only when it opens the database with no other connection)."""

    def __init__(self, path):
        with open(path, "rb") as file:
            self.map = mmap.mmap(file.fileno(), WAL_INDEX_HEADER_BYTES, access=mmap.ACCESS_READ)
        self.own_commit = (None, None)  # (the header before, after) this connection's last commit (CompiledWrite)

    def read(self):
        return self.map[:WAL_INDEX_HEADER_BYTES]

    def unchanged_since(self, seen):
        """(whether no other connection committed since the header `seen` was read, the header now): this
        connection's own commit, a token's, changes it too, but no setting (as data_version, which it does not
        move)."""
        now = self.read()
        return now == seen or self.own_commit == (seen, now), now

    def note_own_commit(self, before, after):
        """This connection committed between reading the header `before` (holding the write lock) and `after`
        (the lock released: another connection's commit may have come in between, and then the two headers are
        not taken as this commit alone, which moved the commit counter by exactly one)."""
        (counted_before,), (counted_after,) = (COMMIT_COUNTER.unpack_from(header, 8) for header in (before, after))
        alone = counted_after == (counted_before + 1) & 0xFFFFFFFF
        self.own_commit = (before, after) if alone else (None, None)

    def close(self):
        self.map.close()

    @classmethod
    def of(cls, engine, dbapi_connection):
        """The header of the database file `dbapi_connection` (a connection of `engine`) has open in WAL mode, or
        None: in memory, another journal mode, an `-shm` file not there or too short, an error of the driver.
        The file is the one SQLite opened (`PRAGMA database_list`: a symbolic link followed)."""
        try:
            if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                return None
            dbapi_connection.execute("PRAGMA data_version").fetchone()  # a read: the connection maps the file
            path = next((row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"), "")
            return cls(path + "-shm") if path else None
        except (OSError, ValueError, engine.dialect.loaded_dbapi.Error):  # not there, shorter than the header
            return None


class HeldConnections(threading.local):
    """The SQLite read connection each thread keeps, per engine (an app's database), in the process it opened it.
    Weakly: it is taken out of the engine's pool (which would keep the engine alive), so an app that is gone takes
    its connection with it."""

    def __init__(self):
        self.pid = process.pid()
        self.by_engine = weakref.WeakKeyDictionary()  # engine -> its Reader, kept


HELD = HeldConnections()


def read_connection():
    """The request's read connection (a Reader). On a SQLite file the thread's own connection to it, opened on the
    thread's first read and kept (out of the pool: no session ever commits on it): a SELECT outside a transaction
    sees every commit made before it, so the same connection serves request after request without the pool's
    check-out and reset (~25 µs a request). Elsewhere the session's (an in-memory SQLite database has a single
    connection; a server, one per request: two could exhaust the pool, requests holding one while waiting for the
    other)."""
    request_globals = g._get_current_object()
    reader = request_globals.get("reader")
    if reader is None:
        engine = db.engine
        if engine.dialect.name != "sqlite" or not isinstance(engine.pool, QueuePool):
            # Asked anew each time: a rollback or commit gives the session's connection back to the pool.
            dbapi_connection = db.session.connection().connection.dbapi_connection
            return Reader(engine.dialect, dbapi_connection, False, engine.dialect.name != "sqlite")
        if HELD.pid != process.pid():  # a forked worker: its parent's connections are not its own to use
            HELD.__init__()
        reader = HELD.by_engine.get(engine)
        if reader is None:
            pooled = engine.raw_connection()
            pooled.detach()  # the thread's from now on, closed when its engine or its thread is gone
            connection = pooled.dbapi_connection
            reader = HELD.by_engine[engine] = Reader(engine.dialect, connection, True, False,
                                                     WalIndexHeader.of(engine, connection))
        request_globals.reader = reader
    return reader


def unchanged_since(seen):
    """(whether the database may have changed since `seen`, the token to pass next time). On the thread's own
    SQLite connection the token is its database's wal-index header (WalIndexHeader), which every commit changes;
    where that cannot be read, the connection and its `PRAGMA data_version`, which moves whenever any other
    connection commits: every session and process writes on another one (a write on this very connection is a
    token's, CompiledWrite, never a setting's). Elsewhere there is no such token: always changed."""
    reader = read_connection()
    if not reader.kept:
        return False, None
    if reader.wal_index is not None:
        return reader.wal_index.unchanged_since(seen)
    try:
        cursor = reader.dbapi_connection.execute("PRAGMA data_version")
        token = (reader.dbapi_connection, cursor.fetchone()[0])
        cursor.close()
    except reader.dialect.loaded_dbapi.Error as error:
        raise driver_error(reader, "PRAGMA data_version", error) from error
    return token == seen, token


def driver_error(reader, sql, error):
    """The DBAPIError SQLAlchemy raises for a driver `error` of `sql` on the read connection, which is discarded
    (marked invalidated when the database cut it)."""
    gone = reader.dialect.is_disconnect(error, reader.dbapi_connection, None)
    release_read_connection(invalidate=True)
    return DBAPIError.instance(sql, None, error, reader.dialect.loaded_dbapi.Error, hide_parameters=True,
                               connection_invalidated=gone, dialect=reader.dialect)


def release_read_connection(_exc=None, invalidate=False):
    """teardown: forget the request's read connection (the session gives its own back); one the database cut, or
    that failed, is discarded, and the thread opens another on its next read."""
    reader = g.pop("reader", None)
    if not invalidate:
        return
    if reader is None or not reader.kept:
        db.session().invalidate()  # a server connection the database cut: the pool replaces it
        return
    HELD.by_engine.pop(db.engine, None)
    if reader.wal_index is not None:
        reader.wal_index.close()
    try:
        reader.dbapi_connection.close()
    except Exception:  # noqa: BLE001 - already unusable
        pass


def init_app(app):
    """Return each request's read connection at teardown; a request that writes through its session stops using the
    kept catalog answers (CatalogRead)."""
    app.teardown_appcontext(release_read_connection)
    app.teardown_request(forget_catalog)
    if not event.contains(db.session, "after_flush", write_in_request):
        event.listen(db.session, "after_flush", write_in_request)
        event.listen(db.session, "do_orm_execute", session_write)
