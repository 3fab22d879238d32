"""The flask commands, and the development profile's first start with demo data."""
import subprocess
import sys

from app import create_app
from helpers import PHP_CLIENT, approve, authorize_url, login, obtain_code, query_of


def test_create_user_then_log_in_with_it(client, runner):
    result = runner.invoke(args=["create-user", "alice", "--email", "alice@example.com", "--full-name", "Alice A",
                                 "--password", "alice-password"])
    assert result.exit_code == 0, result.output
    assert login(client, "alice", "alice-password").status_code == 302


def test_create_user_refuses_a_duplicate(runner):
    result = runner.invoke(args=["create-user", "johndoe", "--email", "x@example.com", "--password", "x"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_client_prints_a_secret_that_works_once_stored_hashed(client, runner):
    result = runner.invoke(args=["create-client", "my-app", "--redirect-uri", "https://app.example/cb"])
    assert result.exit_code == 0, result.output
    secret = result.output.split("client_secret: ")[1].split()[0]
    login(client)
    response = approve(client, authorize_url(client_id="my-app", redirect_uri="https://app.example/cb"))
    code = query_of(response.headers["Location"])["code"]
    response = client.post("/api/token.php", data={"code": code, "client_id": "my-app", "client_secret": secret})
    assert response.status_code == 200


def test_seed_demo_refuses_a_database_with_users(runner):
    assert runner.invoke(args=["seed-demo"]).output.startswith("The demo data is already loaded")  # just the demo's
    runner.invoke(args=["create-user", "alice", "--email", "alice@example.com", "--password", "x"])
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "already holds users (alice, janedoe, johndoe)" in result.output


def test_init_db_and_seed_demo_on_an_empty_database(tmp_path):

    app = create_app({"SANDBOX_PROFILE": "testing", "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    client = app.test_client()
    code = obtain_code(client)
    assert client.post("/api/token.php", data={"code": code, **PHP_CLIENT}).status_code == 200


def test_development_profile_creates_demo_data_on_first_start_only(tmp_path):
    """`flask run` starts the development profile: schema and demo data appear on the first start."""
    script = (
        "from app import create_app\n"
        "from oauth_sandbox.extensions import db\n"
        "from oauth_sandbox.models import User\n"
        "app = create_app()\n"
        "with app.app_context(): print(sorted(u.username for u in db.session.scalars(db.select(User))))\n"
    )
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}", "SANDBOX_SECRET_KEY": "k", "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip().splitlines()[-1] == "['janedoe', 'johndoe']"
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.strip().splitlines()[-1] == "['janedoe', 'johndoe']"


def test_development_start_refuses_a_database_made_without_migrations(tmp_path):
    import pytest
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError, match="created without migrations"):
        create_app({"SANDBOX_PROFILE": "development", "SECRET_KEY": "k", "SANDBOX_ADMIN_TOKEN": "t",
                    "SQLALCHEMY_DATABASE_URI": url})
