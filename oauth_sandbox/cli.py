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
    """Load the demo users and clients into an empty database (migrated first); says what it did, or why not."""
    from .models import User

    bootstrap.migrate()
    profile = current_app.config["SANDBOX_PROFILE"]
    if not demo.is_empty():
        usernames = sorted(db.session.scalars(db.select(User.username)))
        demo_users = usernames == sorted(name for name, _, _ in demo.DEMO_USERS) \
            and not current_app.config.get("SANDBOX_FIXTURES")
        if demo_users:
            done = ("Nothing to do: the development profile loaded the demo data at this database's first start"
                    if profile == "development" else "The demo data is already loaded")
            click.echo(f"{done} (johndoe / {demo.DEMO_PASSWORD}, php-demo / php-demo-secret). To put it back as it "
                       "was: POST /_sandbox/reset (or the console's reset).")
            return
        shown = ", ".join(usernames[:5]) + (f" and {len(usernames) - 5} more" if len(usernames) > 5 else "")
        first_start = (" (the development profile loads the demo data, or SANDBOX_FIXTURES, at a database's first "
                       "start)") if profile == "development" else ""
        raise click.ClickException(
            f"The database already holds users ({shown}){first_start}; demo data is only loaded into an empty one. "
            "POST /_sandbox/reset replaces everything with the demo data (or the fixtures file).")
    bootstrap.load_demo_data()
    click.echo(f"Demo data loaded into the {profile} profile's database (johndoe / {demo.DEMO_PASSWORD}, "
               "php-demo / php-demo-secret).")
    if profile == "production":
        click.echo("Warning: the demo passwords and secrets are public (README, SPEC.md): anyone can log in with "
                   "them. Change them (PATCH /_sandbox/users/<username>) or delete them if the sandbox is reachable.")


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


# The options of create-client and the fields of a fixtures clients entry they fill.
CLIENT_OPTIONS = {"client_secret": "--secret", "name": "--name", "redirect_uris": "--redirect-uri",
                  "scopes": "--scope", "status": "--status", "owner": "--owner", "headless_user": "--headless-user",
                  "kind": "--kind", "organization": "--organization", "dedicated_user": "--dedicated-user"}


@click.command("create-client")
@with_appcontext
@click.argument("client_id")
@click.option("--dialect", type=click.Choice([d.name for d in DIALECTS]), default="php", show_default=True)
@click.option("--name", default=None, help="Display name on the consent page (default: the client id).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several.")
@click.option("--scope", "scopes", multiple=True,
              help="Repeat for several (consumer: the owner's scopes when omitted).")
@click.option("--secret", default=None, help="Generated and printed once when omitted.")
@click.option("--status", default=None, help="active (default), pending, disabled or rejected.")
@click.option("--owner", default=None, help="A username: the app's owner (required for consumer: its tokens "
                                            "are the owner's).")
@click.option("--headless-user", default=None, help="A username: authorization requests are approved for them "
                                                    "without the pages (php, mokapen public apps).")
@click.option("--kind", default=None, help="mokapen: public (default; authorization code) or private "
                                           "(client credentials).")
@click.option("--organization", type=int, default=None, help="mokapen: the app's organization id (required).")
@click.option("--dedicated-user", default=None, help="mokapen private apps: the user its tokens act for.")
def create_client_command(client_id, dialect, secret, **options):
    """Register a client of a dialect that has clients (php, consumer, mokapen), checked as a fixtures file's
    clients entry is; the app it makes gets tokens from that dialect's token endpoint."""
    from .qa import provision

    with_clients = [d.name for d in DIALECTS if d.load_client_fixture]
    if dialect not in with_clients:
        raise click.ClickException(f"The {dialect} dialect has no clients (its tokens are issued to users by "
                                   f"username and password); create-client works for {', '.join(with_clients)}.")
    if provision.find_client(client_id) is not None:
        raise click.ClickException(f"Client {client_id!r} already exists.")
    secret = secret or secrets.token_urlsafe(32)
    entry = {"dialect": dialect, "client_id": client_id, "client_secret": secret,
             **{name: list(value) if isinstance(value, tuple) else value for name, value in options.items()
                if value not in (None, ())}}
    try:
        provision.create("clients", entry)
    except provision.FixtureError as error:
        message = str(error)
        for name, option in CLIENT_OPTIONS.items():
            message = message.replace(f"'{name}'", option)
        raise click.ClickException(f"Client not created: {message}") from None
    created = provision.client_json(provision.find_client(client_id))
    extras = ", ".join(f"{name} {created[name]}" for name in ("owner", "kind", "organization", "headless_user")
                       if created.get(name) is not None)
    click.echo(f"Client {client_id} created for the {dialect} dialect"
               f"{f' ({extras})' if extras else ''}; scopes: {' '.join(created['scopes']) or 'none'}.\n"
               f"client_secret: {secret}\nThe secret is stored hashed: copy it now, it cannot be shown again.")


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
