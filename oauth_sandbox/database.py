"""Database setup: SQLite tuned for concurrency (the first start's migration and demo data: bootstrap.py)."""
import fcntl
import os
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import IntegerConverter

from . import process
from .extensions import db, migrate

MAX_COLUMN_ID = 2**31 - 1  # PostgreSQL's INTEGER; SQLite's INTEGER holds 2^63 - 1


def init_app(app):
    """Bind SQLAlchemy; on SQLite use WAL, writers taking turns (WriterLock) and a busy timeout for the rest.

    Statement parameters (names, hashes, journal bodies) stay out of error messages and so out of the logs. A new
    SQLite file is created readable by its owner only (SQLite gives its -wal and -shm files the same mode). Ids in
    paths (`<int:…>`) are bounded by the columns they are looked up in (ColumnId).
    """
    app.url_map.converters["int"] = ColumnId  # before any blueprint adds its rules
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("hide_parameters", True)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        connect_args = options.setdefault("connect_args", {})
        connect_args["timeout"] = app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]
        if url.database and url.database != ":memory:":
            # A request reads on a connection of its own beside its session's (reads.py): no upper bound, so that
            # many threads (`flask run`) never wait for one held by another waiting in turn (file connections are
            # cheap).
            options.setdefault("max_overflow", -1)
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            create_private_file(url.database)
            connect_args["factory"] = writer_locked_connection(WriterLock(url.database + ".writer-lock"))
    else:
        options.setdefault("pool_pre_ping", True)  # a connection cut by a database restart is replaced
    db.init_app(app)
    if url.get_backend_name() != "sqlite":
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lookups_without_nul, retval=True)
    app.teardown_appcontext(release_session)  # runs before Flask-SQLAlchemy's own (teardowns run in reverse)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"))
    with app.app_context():
        event.listen(db.engine, "connect", configure_sqlite_connection)


class ColumnId(IntegerConverter):
    """`<int:…>` in every route: a non-negative integer that fits an id column (PostgreSQL's INTEGER, the smaller
    of the two databases'); a larger one matches no route (404 in the path's shape) instead of failing in the
    database (an overflow: 500)."""

    def __init__(self, url_map, fixed_digits=0, min=0, max=MAX_COLUMN_ID, signed=False):  # noqa: A002 (werkzeug's)
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_private_file(path):
    """Create the file at `path` (empty, mode 0600 whatever the umask) unless it exists; SQLite then opens it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # no such directory, or not writable: SQLite's own open says so, as it did before


class WriterLock:
    """One writer at a time on a SQLite database file, across this machine's processes, queued by the kernel.

    A SQLite writer that finds the database locked sleeps 1, 2, 5, 10… ms before it tries again, far longer than a
    token's INSERT and commit take: under load one write in eight waited a millisecond or more. So every
    connection to the file takes this lock (a `flock` on a file beside the database) right before its
    transaction's first write and gives it back after the commit or rollback (WriterLockedConnection): each writer
    waits only as long as the write before it. Reentrant within a thread (a thread's second connection writing
    while its first holds the lock would otherwise wait for itself).
    """

    def __init__(self, path):
        self.path = path
        self.threads = threading.RLock()  # a flock is shared by the threads of a process: one of them at a time
        self.depth = 0  # how many of this thread's connections hold it
        self.fd = None
        self.pid = None  # the process `fd` was opened in (a forked worker opens its own)

    def acquire(self):
        self.threads.acquire()
        self.depth += 1
        if self.depth > 1:
            return
        try:
            if self.pid != process.pid():
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self.pid = process.pid()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.depth -= 1
            self.threads.release()
            raise

    def release(self):
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.threads.release()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterLockedConnection(sqlite3.Connection):
    """A SQLite connection that holds its database's WriterLock from its first write until commit or rollback
    (sqlite3 begins the transaction at that first write, so the flock is always taken before SQLite's lock)."""

    writer_lock = None  # set on the subclass made for each database file
    holds_writer_lock = False

    def cursor(self, factory=None):
        return super().cursor(factory or WriterLockedCursor)

    def before_statement(self, sql):
        if not self.holds_writer_lock and sql.lstrip()[:7].upper().startswith(WRITES):
            self.writer_lock.acquire()
            self.holds_writer_lock = True

    def release_writer_lock(self):
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            self.writer_lock.release()

    def commit(self):
        try:
            super().commit()
        finally:
            self.release_writer_lock()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self):
        try:
            super().close()
        finally:
            self.release_writer_lock()


class WriterLockedCursor(sqlite3.Cursor):
    """A cursor of a WriterLockedConnection: takes the lock before a write statement."""

    def execute(self, sql, parameters=()):
        self.connection.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, parameters):
        self.connection.before_statement(sql)
        return super().executemany(sql, parameters)


def writer_locked_connection(lock):
    """The sqlite3 connection class whose writers take turns through `lock`."""
    return type("WriterLockedConnection", (WriterLockedConnection,), {"writer_lock": lock})


def without_nul(parameters):
    """A lookup's parameters with NUL characters replaced (see lookups_without_nul)."""
    if isinstance(parameters, dict):
        return {name: value.replace("\x00", "\ufffd") if isinstance(value, str) else value
                for name, value in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        return type(parameters)(value.replace("\x00", "\ufffd") if isinstance(value, str) else value
                                for value in parameters)
    return parameters


def lookups_without_nul(_conn, _cursor, statement, parameters, _context, executemany):
    """PostgreSQL refuses text holding a NUL character, which no stored value can hold: a SELECT looking one up
    (a username, a client_id) matches nothing, the answer an unknown value gets, instead of failing. A write of
    such a value is refused with a 400 (errors.handle_database_error)."""
    if not executemany and statement.lstrip()[:6].upper() == "SELECT":
        return statement, without_nul(parameters)
    return statement, parameters


def release_session(_exc=None):
    """End the request's session; a connection the database cut (a restart) is discarded, not rolled back.

    Rolling back on a dead connection raises, and would turn the end of a request into a 500.
    """
    try:
        db.session.remove()
    except SQLAlchemyError:
        db.session().invalidate()
        db.session.remove()


WAL_CHECKPOINT_PAGES = 10000  # ~40 MB of log between checkpoints (SQLite's default: 1000)


def configure_sqlite_connection(dbapi_connection, _record):
    """WAL lets readers run beside a writer; foreign keys make ON DELETE rules hold.

    The log is folded into the database every WAL_CHECKPOINT_PAGES pages instead of every 1000: the pages every
    write changes (the last leaf of the tokens, the journal and their indexes) are then copied, and the file
    synced, once for ten times as many commits (measured on this project's machine: an INSERT and its commit took
    220 µs with the default, 110–135 µs with this). The price: the log file stays at ~40 MB, and the commit that
    runs a checkpoint waits for it longer (~45 ms, not ~14 ms), ten times less often. Memory-mapped reads
    (`PRAGMA mmap_size`) were measured too, and left off: with two workers, mokapen's issuance fell from 0.58–0.60
    to 0.55 of the bench's RS256 route, paired run by run."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
