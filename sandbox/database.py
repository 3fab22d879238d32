"""Database setup: SQLite tuned for concurrency, and the first start of the development profile."""
import sqlite3
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event, inspect

from . import demo
from .extensions import db, migrate


def init_app(app):
    """Bind SQLAlchemy; on SQLite use WAL and a busy timeout so concurrent requests wait, not fail."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {})["timeout"] = app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}).setdefault("pool_pre_ping", True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"))
    with app.app_context():
        event.listen(db.engine, "connect", configure_sqlite_connection)


def configure_sqlite_connection(dbapi_connection, _record):
    """WAL lets readers run beside a writer; foreign keys make ON DELETE rules hold."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def prepare_profile(app):
    """Development profile: migrate the schema to the newest revision, and add the demo data on first start."""
    if app.config["SANDBOX_PROFILE"] != "development":
        return
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        if tables and "alembic_version" not in tables:
            raise RuntimeError(f"{db.engine.url} was created without migrations: delete it (the demo data is "
                               "created again) or, if its schema is current, run `flask db stamp head`.")
        upgrade()
        if demo.is_empty():
            demo.load_demo_data()
            app.logger.info("Demo data created: see the front page for the credentials.")
