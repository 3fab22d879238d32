"""Mokapen's world: organizations and members, applications with their review state, contacts and tasks."""
from typing import Optional

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ... import clock
from ...extensions import db
from ...models import Client, User

SCOPES = ("tasks.read", "tasks.write", "contacts.read", "contacts.write")
MEMBER_ROLES = ("owner", "admin", "member")


class Organization(db.Model):
    """An organization (the seed's 849 "Your Organization"); API URLs and tokens are scoped to one."""

    __tablename__ = "mokapen_organizations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))


class Membership(db.Model):
    """A user's membership of an organization, as owner, admin or member."""

    __tablename__ = "mokapen_memberships"

    organization_id: Mapped[int] = mapped_column(ForeignKey("mokapen_organizations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="member")

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()


class Application(db.Model):
    """Seed 001's application fields, beside the OAuth client (key, secret, scopes, status, redirect URL)."""

    __tablename__ = "mokapen_applications"

    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # public or private
    organization_id: Mapped[int] = mapped_column(ForeignKey("mokapen_organizations.id", ondelete="CASCADE"))
    company_name: Mapped[str] = mapped_column(String(255))
    company_url: Mapped[str] = mapped_column(String(2048))
    dedicated_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stakeholders: Mapped[str] = mapped_column(Text, default="")
    logo: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    logo_type: Mapped[Optional[str]] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(default=clock.now)

    client: Mapped[Client] = relationship()
    organization: Mapped[Organization] = relationship()
    dedicated_user: Mapped[Optional[User]] = relationship()


class Contact(db.Model):
    """An organization's contact (/api/v1/{org_id}/contacts)."""

    __tablename__ = "mokapen_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("mokapen_organizations.id", ondelete="CASCADE"),
                                                 index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")


class Task(db.Model):
    """An organization's task (/api/v1/{org_id}/tasks)."""

    __tablename__ = "mokapen_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("mokapen_organizations.id", ondelete="CASCADE"),
                                                 index=True)
    title: Mapped[str] = mapped_column(String(255))
    done: Mapped[bool] = mapped_column(default=False)


def membership(user, organization_id):
    """The user's membership of the organization, or None."""
    return db.session.get(Membership, (organization_id, user.id))


def organizations_of(user):
    """The organizations the user belongs to, by id."""
    return db.session.scalars(db.select(Organization).join(Membership).filter(Membership.user_id == user.id)
                              .order_by(Organization.id)).all()


def application_of(client):
    """The mokapen application details of a client."""
    return db.session.get(Application, client.id)
