"""mokapen's part of the QA admin API: organizations with their members, created, listed, read, changed and
deleted at runtime (validated by the fixtures' loader: an entry of `organizations`)."""
from ...extensions import db
from ...models import Token, User
from .fixtures import members, organization_name
from .models import Application, Membership, Organization

MAX_ID = 2**31 - 1


def organization_json(organization):
    rows = db.session.execute(db.select(Membership.user_id, Membership.role).filter_by(
        organization_id=organization.id).order_by(Membership.user_id))
    return {"id": organization.id, "name": organization.name,
            "members": [{"username": db.session.get(User, user_id).username, "role": role} for user_id, role in rows]}


def admin_routes(bp, admin):
    """Add /_sandbox/organizations[/<id>] to the admin API's blueprint."""

    def found(organization_id):
        organization = db.session.get(Organization, organization_id) if organization_id <= MAX_ID else None
        if organization is None:
            raise admin.not_found(f"No organization {organization_id}")
        return organization

    @bp.post("/organizations")
    def create_organization():
        """An organizations entry ({"id", "name", "members"?: [{"username", "role"?}]}); 409 when the id is
        taken."""
        entry = admin.body()
        organization_id = entry.get("id")
        if (isinstance(organization_id, int) and not isinstance(organization_id, bool)
                and 0 < organization_id <= MAX_ID and db.session.get(Organization, organization_id) is not None):
            raise admin.conflict(f"Organization {organization_id} already exists")
        admin.create("organizations", entry)
        return organization_json(db.session.get(Organization, organization_id)), 201

    @bp.get("/organizations")
    def list_organizations():
        return {"organizations": [organization_json(organization) for organization in
                                  db.session.scalars(db.select(Organization).order_by(Organization.id))]}

    @bp.get("/organizations/<int:organization_id>")
    def get_organization(organization_id):
        return organization_json(found(organization_id))

    @bp.patch("/organizations/<int:organization_id>")
    def change_organization(organization_id):
        """{"name"?, "members"?}: `members` replaces the members."""
        data = admin.body()
        organization = found(organization_id)
        unknown = set(data) - {"name", "members"}
        if unknown:
            raise admin.bad_request(f"{sorted(unknown)[0]!r}: only name and members can be changed")
        if "name" in data:
            organization.name = admin.checked(lambda: organization_name(data, "organizations[0]"))
        if "members" in data:
            wanted = admin.checked(lambda: members(data, "organizations[0]"))
            db.session.execute(db.delete(Membership).where(Membership.organization_id == organization.id))
            db.session.add_all(Membership(organization_id=organization.id, user_id=user_id, role=role)
                               for user_id, role in wanted.items())
        db.session.commit()
        return organization_json(organization)

    @bp.delete("/organizations/<int:organization_id>")
    def delete_organization(organization_id):
        """With its memberships, contacts, tasks and tokens; refused (409) while apps belong to it."""
        organization = found(organization_id)
        apps = db.session.scalars(db.select(Application).filter_by(organization_id=organization.id)).all()
        if apps:
            raise admin.conflict(f"Apps belong to organization {organization.id}: "
                                 f"{', '.join(app.client.client_id for app in apps)}; delete them first "
                                 "(DELETE /_sandbox/clients/<client_id>)")
        db.session.execute(db.delete(Token).where(Token.organization_id == organization.id,
                                                  Token.dialect == "mokapen"))
        db.session.execute(db.delete(Organization).where(Organization.id == organization.id))
        db.session.commit()
        return {"deleted": organization_id}


def admin_openapi_paths(collection):
    """/_sandbox/organizations in /openapi.json."""
    from .fixtures import ORGANIZATION_SCHEMA

    change = {**ORGANIZATION_SCHEMA, "properties": {name: value for name, value in
                                                    ORGANIZATION_SCHEMA["properties"].items() if name != "id"}}
    return collection("/_sandbox/organizations", "organization_id", {"type": "integer"}, ORGANIZATION_SCHEMA,
                      "mokapen organization", change)
