"""Start-up above the dialects: migrate the development profile's database, and load its data at first start.

The data is the fixtures file (SANDBOX_FIXTURES) or the demo data — the core's demo users and each dialect's
(`Dialect.load_demo`) — loaded by qa/fixtures.py, which a reset uses too; so this module sits above the dialects.
The factory calls `prepare_profile`; `flask seed-demo` calls `load_demo_data`.
"""
from flask_migrate import upgrade
from sqlalchemy import inspect

from . import demo
from .extensions import db
from .qa import fixtures


def prepare_profile(app):
    """Development profile: migrate the schema to the newest revision; on first start (no users yet) load the
    fixtures file, or the demo data. A fixtures file that is refused raises FixtureError (located: `users[0].email:
    required`) at every start, so that a broken file stops start-up; on a later start the data stays (a reset loads
    the file)."""
    if app.config["SANDBOX_PROFILE"] != "development":
        return
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        if tables and "alembic_version" not in tables:
            raise RuntimeError(f"{db.engine.url} was created without migrations: delete it (the demo data is "
                               "created again) or, if its schema is current, run `flask db stamp head`.")
        migrate()
        source = app.config["SANDBOX_FIXTURES"]
        if demo.is_empty():
            fixtures.load_configured_data()
            app.logger.info(f"Fixtures {source} loaded." if source else
                            "Demo data created: see the front page for the credentials.")
        elif source:
            fixtures.check_configured_data()
            app.logger.info(f"The database holds data from an earlier start: POST /_sandbox/reset loads {source}.")


def migrate():
    """The schema to the newest revision, without Alembic's INFO line per revision (migrations/env.py's `-x
    log=quiet`): the sandbox migrates itself at start and in `seed-demo`, where they would precede every command's
    own output; `flask db upgrade` / `flask init-db` show them."""
    upgrade(x_arg=["log=quiet"])


def load_demo_data():
    """Create the demo users of SPEC.md, then each dialect's demo data, and commit."""
    fixtures.add_demo_data()
    db.session.commit()
