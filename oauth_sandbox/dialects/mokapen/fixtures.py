"""mokapen's part of a fixtures file: organizations with their members, and the Application beside a client."""
import base64

from ...database import MAX_COLUMN_ID
from ...extensions import db
from ...fixture_fields import FixtureError, FixtureSection, entries, field, user_named
from .models import MEMBER_ROLES, Application, Membership, Organization

# A 1×1 PNG: the company logo of the demo apps and of a fixtures file's apps (seed 001 requires one).
DEMO_LOGO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
                             "wAAAABJRU5ErkJggg==")


def load_organizations(data):
    """Organizations, each with its members (users declared under users) and their roles."""
    for where, entry in entries(data, "organizations"):
        organization = Organization(id=organization_id(entry, where, "id"), name=field(entry, where, "name"))
        db.session.add(organization)
        db.session.flush()
        for index, member in enumerate(field(entry, where, "members", list, required=False, default=[])):
            label = f"{where}.members[{index}]"
            role = field(member, label, "role", default="member", required=False)
            if role not in MEMBER_ROLES:
                raise FixtureError(f"{label}.role: one of {', '.join(MEMBER_ROLES)}")
            db.session.add(Membership(organization_id=organization.id, role=role,
                                      user_id=user_named(field(member, label, "username"), label).id))


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
    if kind != "public" and entry.get("headless_user"):
        raise FixtureError(f"{where}.headless_user: only public apps have an authorization page to skip")
    client = create(["authorization_code", "refresh_token"] if kind == "public" else ["client_credentials"])
    dedicated = entry.get("dedicated_user")
    db.session.add(Application(
        client_pk=client.id, kind=kind, organization_id=organization_id(entry, where, "organization"),
        company_name=field(entry, where, "company_name", required=False, default="Example Ltd"),
        company_url=field(entry, where, "company_url", required=False, default="https://example.com"),
        dedicated_user=user_named(dedicated, f"{where}.dedicated_user") if dedicated else None,
        logo=DEMO_LOGO, logo_type="image/png"))
    return client


FIXTURE_SECTIONS = (FixtureSection("organizations", load_organizations),)  # before clients: apps name one
