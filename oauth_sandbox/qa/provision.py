"""Provisioning at runtime: users, clients and each dialect's entries created from one fixtures entry, by the
fixtures' own loaders (the same checks, the same located errors), and shown, changed and deleted.

The admin API (qa/admin.py) and the `flask create-client` command create through here. Everything is in the
database and committed, so every worker sees it at once; a reset's snapshot is not touched (it is the data a reset
loads, not what is there now).
"""
import re

from ..dialects import DIALECTS
from ..extensions import db
from ..fixture_fields import FixtureError
from ..models import Client, User
from .fixtures import EMAIL, PEOPLES_PASSWORDS, apply_fixtures, claims_field, store, text_field

__all__ = ["FixtureError", "client_json", "create", "delete_client", "delete_user", "find_client", "user_json"]


def create(section, entry):
    """Store one `section` entry (a dict as a fixtures file has it) with the fixtures' loaders and commit; or
    FixtureError naming the field without the entry's place (`email: required`), and nothing stored."""
    reset_token = PEOPLES_PASSWORDS.set(True)  # a user's password is hashed anew, as sign-up's is
    try:
        store(lambda: apply_fixtures({section: [entry]}))
    except FixtureError as error:
        raise FixtureError(located(str(error))) from None
    finally:
        PEOPLES_PASSWORDS.reset(reset_token)


def located(message, section=None):
    """A loader's message about a one-entry document's entry as the admin API says it: the field quoted, without
    the entry's place (`users[0].email: required` -> `'email': required`)."""
    match = re.fullmatch(r"[a-z_]+\[0\]\.([^:\s]+): (.*)", message, re.S)
    if match:
        return f"'{match.group(1)}': {match.group(2)}"
    return re.sub(r"^[a-z_]+\[0\]: ", "", message)


def user_json(user):
    """A user as the admin API shows it: the core's fields and each dialect's part."""
    found = {"username": user.username, "email": user.email, "full_name": user.full_name,
             "claims": dict(user.claims or {})}
    for dialect in DIALECTS:
        found.update(dialect.describe_user(user))
    return found


def find_client(client_id):
    return db.session.scalar(db.select(Client).filter_by(client_id=client_id))


def client_json(client):
    """A client as the admin API shows it (never its secret): the core's fields and its dialect's part."""
    def username(user_id):
        user = db.session.get(User, user_id) if user_id else None
        return user.username if user else None

    found = {"client_id": client.client_id, "dialect": client.dialect, "name": client.name,
             "redirect_uris": list(client.redirect_uris or []), "scopes": client.scope.split(),
             "grant_types": list(client.grant_types or []), "status": client.status,
             "owner": username(client.owner_id), "headless_user": username(client.headless_user_id),
             "claims": dict(client.claims or {})}
    for dialect in DIALECTS:
        if dialect.name == client.dialect:
            found.update(dialect.describe_client(client))
    return found


USER_FIELDS = ("email", "full_name", "password", "claims")


def change_user(user, data):
    """Apply a PATCH body (the users entry's fields but username; each dialect applies its own) and commit; or
    FixtureError naming the field, and nothing changed."""
    dialect_fields = {name for dialect in DIALECTS for name in dialect.fixture_fields.get("users", {})}
    for name in data:
        if name not in USER_FIELDS and name not in dialect_fields:
            raise FixtureError(f"{name!r}: cannot be changed; expected {', '.join([*USER_FIELDS, *dialect_fields])}")

    def change():
        entry = {"email": user.email, "full_name": user.full_name, "password": "unchanged", **data}
        email = text_field(entry, "users[0]", "email", 255, pattern=EMAIL)
        full_name = text_field(entry, "users[0]", "full_name", 255, required=False, default="")
        password = text_field(entry, "users[0]", "password", 255)
        if email != user.email and db.session.scalar(db.select(User.id).filter_by(email=email)) is not None:
            raise FixtureError(f"users[0].email: {email!r} is already another user's")
        user.email, user.full_name = email, full_name
        if "password" in data:
            user.set_password(password)
        if "claims" in data:
            user.claims = claims_field(data, "users[0]")
        for dialect in DIALECTS:
            dialect.change_user(user, data)

    try:
        store(change)
    except FixtureError as error:
        raise FixtureError(located(str(error))) from None


class Refused(Exception):
    """A deletion refused (409): the message says what depends on the thing."""


def delete_user(user):
    """Delete a user with their tokens, codes, sessions' tokens, role and memberships (the database's cascades);
    a client whose headless or dedicated user they were keeps working without one. Refused while clients belong to
    them (their consumer apps, say)."""
    owned = db.session.scalars(db.select(Client.client_id).filter_by(owner_id=user.id).order_by(Client.client_id))
    owned = list(owned)
    if owned:
        raise Refused(f"Clients belong to {user.username!r}: {', '.join(owned)}; delete them first "
                      "(DELETE /_sandbox/clients/<client_id>)")
    db.session.execute(db.delete(User).where(User.id == user.id))
    db.session.commit()


def delete_client(client):
    """Delete a client with its tokens, codes and what its dialect keeps beside it (the database's cascades)."""
    db.session.execute(db.delete(Client).where(Client.id == client.id))
    db.session.commit()
