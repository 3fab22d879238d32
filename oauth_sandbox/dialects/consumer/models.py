"""Fusio's access model: scopes, roles holding scopes, each user's role, and operations."""
from dataclasses import dataclass
from typing import Optional

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...clients import authenticate_client
from ...extensions import db
from ...models import User
from ...reads import CatalogRead


class Scope(db.Model):
    """A named permission, e.g. `protected`; roles and apps hold scopes, operations require one."""

    __tablename__ = "consumer_scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")


class Role(db.Model):
    """A role (Administrator, Backend, Consumer, …); a user's scopes are their role's."""

    __tablename__ = "consumer_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)

    @classmethod
    def by_name(cls, name):
        return db.session.scalar(db.select(cls).filter_by(name=name))


class UserRole(db.Model):
    """A user's role; users without a row have the default role (CONSUMER_DEFAULT_ROLE)."""

    __tablename__ = "consumer_user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("consumer_roles.id", ondelete="CASCADE"))

    role: Mapped[Role] = relationship()


# The statuses an operation may answer with, however it is declared (fixtures, the portal's admin page): a 1xx is
# no final answer (the server closed the connection without one) and HTTP has nothing past 599.
STATUS_CODES = range(200, 600)
STATUS_CODES_TEXT = "between 200 and 599"
SCOPE_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"  # a scope's name, as the portal and the fixtures take it


class Operation(db.Model):
    """An API operation at a path of its own: public, or private and requiring a scope."""

    __tablename__ = "consumer_operations"
    __table_args__ = (UniqueConstraint("method", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255), index=True)
    public: Mapped[bool] = mapped_column(default=False)
    scope: Mapped[Optional[str]] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(default=200)  # in STATUS_CODES
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")


def role_of(user):
    """The user's role (the default role when none is assigned)."""
    assigned = db.session.get(UserRole, user.id)
    return assigned.role if assigned else Role.by_name(current_app.config["CONSUMER_DEFAULT_ROLE"])


def set_role(user, role):
    """Give the user `role` (not committed)."""
    assigned = db.session.get(UserRole, user.id)
    if assigned is None:
        db.session.add(UserRole(user_id=user.id, role_id=role.id))
    else:
        assigned.role_id = role.id


ROLE_SCOPES = CatalogRead(select(Role.scopes).join(UserRole, UserRole.role_id == Role.id)
                          .where(UserRole.user_id == bindparam("user_id")))
NAMED_ROLE_SCOPES = CatalogRead(select(Role.scopes).where(Role.name == bindparam("name")))
ACCOUNT = CatalogRead(select(User.id, User.username, User.email).where(User.id == bindparam("id")))


@dataclass(frozen=True)
class Account:
    """A user as Fusio's tokens name them."""

    id: int
    username: str
    email: str


def account(user_id):
    """The Account of the user with this id (an app's owner), or None."""
    row = ACCOUNT.first(id=user_id)
    return Account(*row) if row else None


def scopes_of(user):
    """The scopes the user holds through their role (the default role when none is assigned), in its order."""
    row = ROLE_SCOPES.first(user_id=user.id) or NAMED_ROLE_SCOPES.first(name=current_app.config[
        "CONSUMER_DEFAULT_ROLE"])
    return list(row[0]) if row else []


def parse_scopes(value):
    """Scopes given comma- or space-separated (or as a list), without blanks or repeats."""
    items = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def valid_scopes(user, requested=None, app=None):
    """Fusio's rule: the requested scopes (all of the user's when none) that the user and app both hold."""
    held = scopes_of(user)
    wanted = parse_scopes(requested) or held
    allowed = set(held) & (set(app.scope.split()) if app is not None else set(held))
    return [scope for scope in wanted if scope in allowed]


def find_app(key, secret):
    """The active consumer app with this key and secret, or None."""
    return authenticate_client(key, secret, "consumer")


def all_scope_names():
    """Every scope's name, alphabetically."""
    return list(db.session.scalars(db.select(Scope.name).order_by(Scope.name)))

