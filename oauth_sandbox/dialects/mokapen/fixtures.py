"""mokapen's part of a fixtures file: organizations with their members (or a user's `memberships`), and the
Application beside a client."""
import base64

from ...database import MAX_COLUMN_ID
from ...extensions import db
from ...fixture_fields import INTEGER, STRING, FixtureError, FixtureSection, entries, field, schema_object, user_named
from ...models import User
from .models import MEMBER_ROLES, Application, Membership, Organization

# A 1×1 PNG: the company logo of the demo apps and of a fixtures file's apps (seed 001 requires one).
DEMO_LOGO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
                             "wAAAABJRU5ErkJggg==")
ROLE = {"enum": list(MEMBER_ROLES)}
MEMBER_SCHEMA = schema_object(["username"], username=STRING, role=ROLE)
ORGANIZATION_SCHEMA = schema_object(["id", "name"], id={**INTEGER, "minimum": 1},
                                    name={**STRING, "minLength": 1, "maxLength": 255},
                                    members={"type": "array", "items": MEMBER_SCHEMA})
MEMBERSHIP_SCHEMA = schema_object(["organization"], organization=INTEGER, role=ROLE)
FIXTURE_FIELDS = {
    "users": {"memberships": {"type": "array", "items": MEMBERSHIP_SCHEMA,
                              "description": "mokapen organizations the user belongs to"}},
    "clients": {"kind": {"enum": ["public", "private"]}, "organization": INTEGER,
                "company_name": {**STRING, "maxLength": 255}, "company_url": {**STRING, "maxLength": 2048},
                "dedicated_user": {**STRING, "description": "a username: a private app's tokens act for them"}},
}


def member_role(member, label):
    role = field(member, label, "role", default="member", required=False)
    if role not in MEMBER_ROLES:
        raise FixtureError(f"{label}.role: one of {', '.join(MEMBER_ROLES)}")
    return role


def organization_name(entry, where):
    name = field(entry, where, "name")
    if not name or len(name) > 255:
        raise FixtureError(f"{where}.name: must be 1 to 255 characters")
    return name


def members(entry, where):
    """The (user id, role) of an organizations entry's `members`."""
    found = {}
    for index, member in enumerate(field(entry, where, "members", list, required=False, default=[])):
        label = f"{where}.members[{index}]"
        if not isinstance(member, dict):
            raise FixtureError(f"{label}: must be a mapping")
        found[user_named(field(member, label, "username"), label).id] = member_role(member, label)
    return found


def load_organizations(data):
    """Organizations, each with its members (users declared under users) and their roles; then the users'
    `memberships`."""
    for where, entry in entries(data, "organizations", ORGANIZATION_SCHEMA):
        organization = Organization(id=organization_id(entry, where, "id"), name=organization_name(entry, where))
        db.session.add(organization)
        db.session.flush()
        db.session.add_all(Membership(organization_id=organization.id, user_id=user_id, role=role)
                           for user_id, role in members(entry, where).items())
    db.session.flush()
    for where, entry in entries(data, "users"):
        if entry.get("memberships") is not None:
            set_memberships(User.by_username(entry["username"]), entry["memberships"], where)


def set_memberships(user, memberships, where):
    """The user's memberships replaced by `memberships` ([{"organization", "role"?}]; not committed)."""
    if not isinstance(memberships, list):
        raise FixtureError(f"{where}.memberships: must be a list")
    wanted = {}
    for index, item in enumerate(memberships):
        label = f"{where}.memberships[{index}]"
        if not isinstance(item, dict):
            raise FixtureError(f"{label}: must be a mapping")
        organization_id = field(item, label, "organization", int)
        if db.session.get(Organization, organization_id) is None:
            raise FixtureError(f"{label}.organization: no organization {organization_id}")
        wanted[organization_id] = member_role(item, label)
    db.session.execute(db.delete(Membership).where(Membership.user_id == user.id))
    db.session.add_all(Membership(organization_id=organization_id, user_id=user.id, role=role)
                       for organization_id, role in wanted.items())


def organization_id(entry, where, name):
    """entry[name] as an organization id: what an id column holds and a path's <int:org_id> matches."""
    value = field(entry, where, name, int)
    if not 1 <= value <= MAX_COLUMN_ID:
        raise FixtureError(f"{where}.{name}: must be from 1 to {MAX_COLUMN_ID}, not {value}")
    return value


def load_client_fixture(entry, where, create):
    """A `clients[i]` entry of mokapen: a public or private app of an organization (its Application row); a
    public app's `headless_user` (kept by the core client) is approved without the pages, for the request's
    organization_id or the user's first organization."""
    kind = field(entry, where, "kind", required=False, default="public")
    if kind not in ("public", "private"):
        raise FixtureError(f"{where}.kind: public or private")
    if kind != "public" and entry.get("headless_user"):
        raise FixtureError(f"{where}.headless_user: only public apps have an authorization page to skip")
    organization = organization_id(entry, where, "organization")
    if db.session.get(Organization, organization) is None:
        raise FixtureError(f"{where}.organization: no organization {organization} (declare it under "
                           "organizations)")
    client = create(["authorization_code", "refresh_token"] if kind == "public" else ["client_credentials"])
    dedicated = field(entry, where, "dedicated_user", required=False)
    db.session.add(Application(
        client_pk=client.id, kind=kind, organization_id=organization,
        company_name=field(entry, where, "company_name", required=False, default="Example Ltd"),
        company_url=field(entry, where, "company_url", required=False, default="https://example.com"),
        dedicated_user=user_named(dedicated, f"{where}.dedicated_user") if dedicated else None,
        logo=DEMO_LOGO, logo_type="image/png"))
    return client


def describe_user(user):
    """A user's mokapen part: the organizations they belong to, with their role."""
    rows = db.session.scalars(db.select(Membership).filter_by(user_id=user.id).order_by(Membership.organization_id))
    return {"memberships": [{"organization": row.organization_id, "role": row.role} for row in rows]}


def describe_client(client):
    """A mokapen client's Application: kind, organization, company, dedicated user."""
    application = db.session.get(Application, client.id)
    if application is None:
        return {}
    dedicated = db.session.get(User, application.dedicated_user_id) if application.dedicated_user_id else None
    return {"kind": application.kind, "organization": application.organization_id,
            "company_name": application.company_name, "company_url": application.company_url,
            "dedicated_user": dedicated.username if dedicated else None}


def change_user(user, data):
    """PATCH's `memberships`: the user's organizations replaced."""
    if "memberships" in data:
        set_memberships(user, data["memberships"], "users[0]")


FIXTURE_SECTIONS = (FixtureSection("organizations", load_organizations, schema=ORGANIZATION_SCHEMA),)
