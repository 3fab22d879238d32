"""Database setup: SQLite tuned for concurrency (the first start's migration and demo data: bootstrap.py)."""
import fcntl
import os
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, migrate


def init_app(app):
    """Bind SQLAlchemy; on SQLite use WAL and a busy timeout so concurrent requests wait, not fail.

    Statement parameters (names, hashes, journal bodies) stay out of error messages and so out of the logs.
    """
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("hide_parameters", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {})["timeout"] = app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]
    else:
        options.setdefault("pool_pre_ping", True)  # a connection cut by a database restart is replaced
    db.init_app(app)
    app.teardown_appcontext(release_session)  # runs before Flask-SQLAlchemy's own (teardowns run in reverse)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"))
    with app.app_context():
        event.listen(db.engine, "connect", configure_sqlite_connection)
        database = db.engine.url.database if db.engine.url.get_backend_name() == "sqlite" else None
    app.extensions["sandbox_writer_lock"] = WriterLock(database if database and database != ":memory:" else None)


class WriterLock:
    """One writer at a time on a SQLite database file, across this machine's processes, queued by the kernel.

    A SQLite writer that finds the database locked sleeps 1, 2, 5, 10… ms before it tries again, far longer
    than a token's INSERT and commit take: under load one write in eight waited a millisecond or more. The
    high-volume writers (the fast lane's token grants, the journal's batches) take this lock (a `flock` on a
    file beside the database) around their transaction instead, so each waits only as long as the write before
    it. Other writers still rely on SQLite's busy timeout. Without a database file (PostgreSQL, an in-memory
    SQLite) it does nothing.
    """

    def __init__(self, database):
        self.path = database + ".writer-lock" if database else None
        self.threads = threading.Lock()  # a flock is shared by the threads of a process: one of them at a time
        self.fd = None
        self.pid = None  # the process `fd` was opened in (a forked worker opens its own)

    def __enter__(self):
        if self.path is None:
            return self
        self.threads.acquire()
        try:
            if self.pid != os.getpid():
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self.pid = os.getpid()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise
        return self

    def __exit__(self, *_exc):
        if self.path is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.threads.release()


def writer_lock(app):
    """The app's WriterLock."""
    return app.extensions["sandbox_writer_lock"]


def release_session(_exc=None):
    """End the request's session; a connection the database cut (a restart) is discarded, not rolled back.

    Rolling back on a dead connection raises, and would turn the end of a request into a 500.
    """
    try:
        db.session.remove()
    except SQLAlchemyError:
        db.session().invalidate()
        db.session.remove()


def configure_sqlite_connection(dbapi_connection, _record):
    """WAL lets readers run beside a writer; foreign keys make ON DELETE rules hold."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
