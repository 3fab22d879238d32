"""`flask` commands: create the database, load the demo data, add users and clients."""
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from . import bootstrap, demo
from .dialects import DIALECTS
from .extensions import db


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Migrate the schema to the newest revision (Flask-Migrate; the same as `flask db upgrade`)."""
    upgrade()
    click.echo(f"Database ready: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo users and clients into an empty database (migrated first)."""
    upgrade()
    if not demo.is_empty():
        raise click.ClickException("The database already holds users; demo data is only loaded into an empty one.")
    bootstrap.load_demo_data()
    click.echo("Demo data loaded (johndoe / demo-password, php-demo / php-demo-secret).")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--email", required=True)
@click.option("--full-name", default="")
@click.password_option()
def create_user_command(username, email, full_name, password):
    """Add a user who can log in at the login page."""
    from .models import User

    if User.by_username(username) is not None:
        raise click.ClickException(f"User {username!r} already exists.")
    demo.create_user(username, email, full_name, password)
    db.session.commit()
    click.echo(f"User {username} created.")


@click.command("create-client")
@with_appcontext
@click.argument("client_id")
@click.option("--dialect", type=click.Choice([d.name for d in DIALECTS]), default="php", show_default=True)
@click.option("--name", default=None, help="Display name on the consent page.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True, help="Repeat for several.")
@click.option("--secret", default=None, help="Generated and printed once when omitted.")
def create_client_command(client_id, dialect, name, redirect_uris, secret):
    """Register an OAuth client for the authorization code flow."""
    from .models import Client

    if db.session.scalar(db.select(Client).filter_by(client_id=client_id)) is not None:
        raise click.ClickException(f"Client {client_id!r} already exists.")
    secret = secret or secrets.token_urlsafe(32)
    demo.create_client(dialect, client_id, secret, name or client_id, redirect_uris=redirect_uris,
                       grant_types=["authorization_code"])
    db.session.commit()
    click.echo(f"Client {client_id} created for the {dialect} dialect.\nclient_secret: {secret}\n"
               "The secret is stored hashed: copy it now, it cannot be shown again.")


@click.command("purge-expired")
@with_appcontext
def purge_expired_command():
    """Delete expired authorization codes and dead tokens (see PURGE_AFTER_SECONDS)."""
    from .housekeeping import purge_expired

    counts = purge_expired()
    click.echo(f"Purged {counts['codes']} codes and {counts['tokens']} tokens.")


def init_app(app):
    """Register the commands with the app's `flask` CLI."""
    for command in (init_db_command, seed_demo_command, create_user_command, create_client_command,
                    purge_expired_command):
        app.cli.add_command(command)
