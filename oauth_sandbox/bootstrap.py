"""Start-up above the dialects: migrate the development profile's database, and create the demo data.

The demo data is the core's (the demo users) and then each dialect's (`Dialect.load_demo`), so this module sits
above the dialects; the factory calls `prepare_profile`, a reset and `flask seed-demo` call `load_demo_data`.
"""
from flask_migrate import upgrade
from sqlalchemy import inspect

from . import demo
from .dialects import DIALECTS
from .extensions import db


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
            load_demo_data()
            app.logger.info("Demo data created: see the front page for the credentials.")


def load_demo_data():
    """Create the demo users of SPEC.md, then each dialect's demo data, and commit."""
    demo.create_demo_users()
    db.session.flush()
    for dialect in DIALECTS:
        dialect.load_demo()
    db.session.commit()
