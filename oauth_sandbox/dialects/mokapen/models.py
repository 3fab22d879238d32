"""Mokapen's world: organizations and members, applications with their review state, contacts and tasks."""
from dataclasses import dataclass
from typing import NamedTuple, Optional

from sqlalchemy import ForeignKey, LargeBinary, String, Text, and_, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ... import clock
from ...extensions import db
from ...models import Client, User
from ...reads import CatalogRead

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


@dataclass(frozen=True)
class PrivateApp:
    """What a private app's client-credentials grant needs: its organization, and its dedicated user if a member."""

    kind: str
    organization_id: int
    organization_name: str
    dedicated_user_id: Optional[int]
    member_id: Optional[int]  # the dedicated user's id when they are still a member of the organization

    @property
    def organization(self):
        return Party(self.organization_id, self.organization_name)


class Party(NamedTuple):
    """An organization or a user, as a token names it (id, and name)."""

    id: int
    name: Optional[str] = None


PRIVATE_APP = CatalogRead(
    select(Application.kind, Application.organization_id, Organization.name, Application.dedicated_user_id,
           Membership.user_id)
    .join(Organization, Organization.id == Application.organization_id)
    .outerjoin(Membership, and_(Membership.organization_id == Application.organization_id,
                                Membership.user_id == Application.dedicated_user_id))
    .where(Application.client_pk == bindparam("client_pk")))


def private_app(client):
    """The PrivateApp of a client (one read), or None when it has no mokapen application."""
    row = PRIVATE_APP.first(client_pk=client.id)
    return PrivateApp(*row) if row else None
