"""The schema comes from the Flask-Migrate (Alembic) migrations, and they match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from helpers import make_app
from oauth_sandbox.extensions import db


def test_migrations_build_exactly_the_schema_the_models_describe(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"users", "clients", "tokens", "authorization_codes", "sandbox_journal"} <= tables
