"""The `oauth-sandbox` command: `run` serves the sandbox from a data dir, `check-fixtures` validates a fixtures file."""
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import click

DATA_DIR_ENV = "OAUTH_SANDBOX_DATA_DIR"


def default_data_dir():
    """The platform's per-user data dir: $XDG_DATA_HOME/oauth-sandbox (~/.local/share/oauth-sandbox) on Linux,
    ~/Library/Application Support/oauth-sandbox on macOS, %LOCALAPPDATA%\\oauth-sandbox on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "oauth-sandbox"


def make_data_dir(data_dir):
    """The data dir (given, or the default), absolute, created when missing as the app creates its instance dir
    (config.py): 0700, since it holds the secrets, the admin token and the database."""
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def hash_the_demo_password_early():
    """Start-up: hash the demo password (security.known_password_hash) in a background thread, on another core
    while the rest of the app is imported and built (scrypt releases the GIL), rather than after, when the demo
    data is made. The thread imports nothing (two threads importing the same modules can see them half made)."""
    from .demo import DEMO_PASSWORD
    from .security import known_password_hash

    threading.Thread(target=known_password_hash, args=(DEMO_PASSWORD,), name="demo-password-hash",
                     daemon=True).start()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """OAuth Sandbox: four documented token APIs (php, consumer, v1, mokapen) on one server, with QA controls.

    `oauth-sandbox run` serves it; `oauth-sandbox check-fixtures FILE` validates a fixtures file;
    `oauth-sandbox create-client ID --dialect …` registers a client in its data dir.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every one).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar=DATA_DIR_ENV,
              help=f"Where the SQLite database (sandbox.db), the generated secret_key and admin_token, and the "
                   f"mokapen signing key live; created when missing. Default: ${DATA_DIR_ENV}, else the per-user "
                   f"data dir ({default_data_dir()}).")
@click.option("--fixtures", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON or YAML fixtures file loaded instead of the demo data at the first start in a data dir "
                   "and on every reset (the SANDBOX_FIXTURES setting); checked at every start (a refused file "
                   "stops it, naming the entry). A data dir that holds data keeps it until a reset.")
def run(host, port, data_dir, fixtures):
    """Serve the sandbox (development profile: demo data, QA admin API on, in-memory rate limits).

    The schema is migrated and the demo data (or the fixtures) loaded on the first start in a data dir. The admin
    token is in DATA_DIR/admin_token: send it as `Authorization: Bearer TOKEN` to /_sandbox/. SANDBOX_* environment
    variables and DATA_DIR/config.py change settings as in the checkout (see the README's Configuration).
    """
    if fixtures is None and not os.environ.get("SANDBOX_FIXTURES"):
        hash_the_demo_password_early()
    from werkzeug.serving import make_server

    from .config import instance_secret
    from .factory import create_app
    from .qa.fixtures import FixtureError

    data_dir = make_data_dir(data_dir)
    if fixtures is not None:
        os.environ["SANDBOX_FIXTURES"] = str(fixtures.resolve())
    token_file = data_dir / "admin_token"
    token_created = False
    if not os.environ.get("SANDBOX_ADMIN_TOKEN") and os.environ.get("SANDBOX_PROFILE", "development") == "development":
        _, token_created = instance_secret(token_file)  # made here, so that the message below names the data dir

    try:
        app = create_app(instance_path=str(data_dir))  # first start: the schema, then the fixtures or demo data
        server = make_server(host, port, app, threaded=True)
    except FixtureError as error:
        raise click.ClickException(f"fixtures not loaded: {error}") from None
    except (OSError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None

    bound_host, bound_port = server.server_address[:2]
    shown_host = "127.0.0.1" if bound_host in ("0.0.0.0", "::") else bound_host
    url = f"http://{shown_host}:{bound_port}/"
    token = app.config.get("SANDBOX_ADMIN_TOKEN")
    if not token:
        where = "off (no SANDBOX_ADMIN_TOKEN in this profile)"
    elif token_file.exists() and token_file.read_text().strip() == token:
        where = f"in {token_file}" + (f" (new: {token})" if token_created else "")
    else:
        where = "from SANDBOX_ADMIN_TOKEN"
    echo(f" * OAuth Sandbox ({app.config['SANDBOX_PROFILE']} profile) running on {url}")
    echo(f" * Data dir: {data_dir}")
    echo(f" * Data: {app.config.get('SANDBOX_FIXTURES') or 'demo data (see the front page for the credentials)'}")
    echo(f" * QA admin token: {where}")
    echo(f" * Admin API: {url}_sandbox/ with Authorization: Bearer $(cat {token_file})" if token else
         " * Admin API: off")
    echo(" * Press CTRL+C to quit")
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def stop_on_signal(signum, frame):
    """SIGTERM stops the server as CTRL+C does, so the journal's buffered entries are written at exit."""
    raise KeyboardInterrupt


def echo(line):
    click.echo(line)
    sys.stdout.flush()


@main.command("create-client", context_settings={"ignore_unknown_options": True},
              add_help_option=False)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar=DATA_DIR_ENV,
              help="The data dir of `oauth-sandbox run` (default: as for run).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def create_client(data_dir, args):
    """Register a client in a data dir's sandbox: the options of `flask create-client` (`oauth-sandbox
    create-client --help` lists them), e.g. `oauth-sandbox create-client my-app --dialect consumer --owner johndoe`.
    A running sandbox sees it at once."""
    from .cli import create_client_command
    from .factory import create_app
    from .qa.fixtures import FixtureError

    if {"--help", "-h"} & set(args):  # its help, --data-dir among its options, without making a data dir
        context = click.get_current_context()
        described = click.Command("create-client", help=create_client_command.help, params=[
            *(param for param in context.command.params if isinstance(param, click.Option)),
            *create_client_command.params])
        echo(described.get_help(click.Context(described, info_name="oauth-sandbox create-client")))
        context.exit()
    data_dir = make_data_dir(data_dir)
    try:
        app = create_app(instance_path=str(data_dir))
    except (FixtureError, OSError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    with app.app_context():
        create_client_command.main(list(args), prog_name="oauth-sandbox create-client", standalone_mode=True)


@main.command("check-fixtures")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_fixtures(file):
    """Validate a fixtures FILE (JSON, or YAML ending .yaml/.yml) offline, as the sandbox would load it.

    Exit 0 when it loads; exit 1 naming the bad entry (e.g. `users[0].email: required`) when not.
    """
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from .extensions import db
    from .factory import create_app
    from .qa.fixtures import FixtureError, apply_fixtures, load_fixture_file

    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="oauth-sandbox-check-") as scratch:
        app = create_app({"SANDBOX_PROFILE": "testing", "SECRET_KEY": "check-fixtures-" + "0" * 32,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(scratch) / 'check.db'}",
                          "JOURNAL_ENABLED": False, "FAST_LANE_ENABLED": False}, instance_path=scratch)
        with app.app_context():
            try:
                db.create_all()
                data = load_fixture_file(file)
                apply_fixtures(data)
                db.session.commit()
            except FixtureError as error:
                message = str(error)
                click.echo(message if message.startswith(str(file)) else f"{file}: {message}", err=True)
                sys.exit(1)
            except SQLAlchemyError as error:  # e.g. a duplicate the loader does not name itself
                click.echo(f"{file}: cannot be stored: {str(error.orig if hasattr(error, 'orig') else error)}",
                           err=True)
                sys.exit(1)
            finally:
                db.session.remove()
                db.engine.dispose()
    counts = ", ".join(f"{len(data[section])} {section}" for section in data if isinstance(data[section], list))
    click.echo(f"{file}: OK ({counts or 'empty'})")


if __name__ == "__main__":
    main()
