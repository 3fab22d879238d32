"""The schema comes from the Flask-Migrate (Alembic) migrations, and they match the models."""
from urllib.parse import parse_qs, urlsplit

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from helpers import csrf_token, login, make_app
from oauth_sandbox import bootstrap, reads
from oauth_sandbox.extensions import db


def test_migrations_build_exactly_the_schema_the_models_describe(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"users", "clients", "tokens", "authorization_codes", "sandbox_journal"} <= tables
        migrated, migrated_triggers = indexes(), triggers()
        empty_database()
        db.create_all()
        assert migrated == indexes()  # what compare_metadata does not compare: a partial index's WHERE
        # Nor triggers: every table a catalog read reads versions the settings on each change (settings.py).
        assert migrated_triggers == triggers()
        assert {table for table, _ in migrated_triggers} == reads.CATALOG_TABLES


def empty_database():
    """No table left, Alembic's neither."""
    db.drop_all()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


def app_at_revision(tmp_path, revision):
    """An app whose database is migrated only up to `revision`, with the demo data."""
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
        upgrade(revision=revision)
        bootstrap.load_demo_data()
    return app


def indexes():
    """Every table's indexes as the database reflects them: name, columns, uniqueness and WHERE clause."""
    inspector = db.inspect(db.engine)
    return {(table, index["name"], tuple(index["column_names"]), bool(index["unique"]),
             " ".join(str(value) for name, value in sorted(index.get("dialect_options", {}).items())
                      if name.endswith("_where")))
            for table in inspector.get_table_names() for index in inspector.get_indexes(table)}


def triggers():
    """Every trigger as the database lists it: (its table, its name and what fires it)."""
    if db.engine.dialect.name == "sqlite":
        query = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = ("SELECT event_object_table, trigger_name || ' ' || event_manipulation "
                 "FROM information_schema.triggers WHERE trigger_schema = current_schema()")
    with db.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(text(query))}


def test_upgrading_a_database_with_tokens_keeps_them_working(tmp_path):
    """A sandbox upgraded from the revision before the partial token indexes (a9e8d7c6b5f4): its tokens still
    validate and revoke, and new ones are issued and found."""
    app = app_at_revision(tmp_path, "f1a2b3c4d5e6")
    client = app.test_client()
    credentials = {"grant_type": "client_credentials", "client_id": "mokapen-private-demo",
                   "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}
    before = client.post("/oauth/token", data=credentials).json["access_token"]
    with app.app_context():
        upgrade()
    listed = client.get("/api/v1/849/contacts", headers={"Authorization": f"Bearer {before}",
                                                         "Accept": "application/json"})
    assert listed.status_code == 200
    after = client.post("/oauth/token", data=credentials).json["access_token"]
    app_secret = {"client_id": credentials["client_id"], "client_secret": credentials["client_secret"]}
    for token in (before, after):
        introspected = client.post("/oauth/introspect", data={**app_secret, "token": token})
        assert introspected.json["active"] is True
    assert client.post("/oauth/revoke", data={**app_secret, "token": before}).status_code == 200
    refused = client.get("/api/v1/849/contacts", headers={"Authorization": f"Bearer {before}",
                                                          "Accept": "application/json"})
    assert refused.status_code == 401


def mokapen_pair(client, refresh_token=None):
    """A mokapen public app's tokens: from a code johndoe approves, or from `refresh_token`."""
    public = {"client_id": "mokapen-public-demo", "client_secret": "mokapen-public-demo-secret"}
    if refresh_token is not None:
        return client.post("/oauth/token", data={"grant_type": "refresh_token", **public,
                                                 "refresh_token": refresh_token})
    login(client)
    url = ("/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/callback"
           "&response_type=code&scope=tasks.read&state=0123456789abcdef")
    approved = client.post(url, data={"csrf_token": csrf_token(client.get(url).text), "approve": "Approve",
                                      "organization_id": "849"})
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    return client.post("/oauth/token", data={"grant_type": "authorization_code", **public, "code": code,
                                             "redirect_uri": "https://example.com/callback"})


def test_upgrading_keeps_refresh_chains_so_a_replayed_refresh_token_still_revokes_its_successors(tmp_path):
    """Rotated before the upgrade to the partial refresh-hash index (5b2d8c1e7f30, a table rebuild on SQLite, as its
    downgrade is) and replayed after it: what was issued from the replayed token is revoked, as without an upgrade."""
    app = app_at_revision(tmp_path, "3e8f1a2b4c6d")
    client = app.test_client()
    first = mokapen_pair(client).json
    second = mokapen_pair(client, first["refresh_token"]).json
    with app.app_context():
        upgrade()
        downgrade(revision="3e8f1a2b4c6d")  # (and back: the downgrade rebuilds the table too)
        upgrade()
    tasks = {"Authorization": f"Bearer {second['access_token']}", "Accept": "application/json"}
    assert client.get("/api/v1/849/tasks", headers=tasks).status_code == 200
    assert mokapen_pair(client, first["refresh_token"]).json["error"] == "invalid_grant"  # the replay
    assert client.get("/api/v1/849/tasks", headers=tasks).status_code == 401
    assert mokapen_pair(client, second["refresh_token"]).json["error"] == "invalid_grant"
