"""Mokapen's endpoints: /oauth/* on the shared engine, and the organization-scoped /api/v1/{org_id}/… API."""
import functools
import json
from typing import NamedTuple, Optional

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from flask import Blueprint, jsonify, request, url_for
from wtforms import SelectField

from ...consent import authorization_endpoint
from ...errors import json_object_body
from ...extensions import csrf, db, limiter
from ...fastlane import ClientRow
from ...fastlane import route as fast_route
from ...forms import ConsentForm
from ...oauth import SandboxResourceProtector, token_columns
from ...runtime import parse, rate_limit
from .keys import jwks, mint_access_token
from .models import SCOPES, Contact, Task, organizations_of
from .oauth import DIALECT, MokapenError, mokapen_error_for, server, token_fields

bp = Blueprint("mokapen", __name__)
require_token = SandboxResourceProtector("mokapen", mokapen_error_for)


class OrganizationConsentForm(ConsentForm):
    """Seed 001: users authorize a public app and select which organization to grant access to."""

    organization_id = SelectField("Organization")


def consent_form(user):
    """The consent form, offering the user's organizations."""
    form = OrganizationConsentForm()
    form.organization_id.choices = [(str(org.id), f"{org.name} ({org.id})") for org in organizations_of(user)]
    return form


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """Seed 000's authorization endpoint; the user picks the organization on the consent page."""
    return authorization_endpoint(server, make_form=consent_form)


@bp.post("/oauth/token")
@csrf.exempt
@limiter.limit(rate_limit("MOKAPEN_TOKEN_RATE_LIMIT"))
def token():
    """authorization_code, refresh_token and client_credentials (with organization_id)."""
    return server.create_token_response()


PRIVATE_APP_SQL = (
    "SELECT c.id, c.client_secret_hash, c.status, c.grant_types, c.scope, a.organization_id, o.name,"
    " a.dedicated_user_id, m.user_id FROM clients c JOIN mokapen_applications a ON a.client_pk = c.id"
    " JOIN mokapen_organizations o ON o.id = a.organization_id LEFT JOIN mokapen_memberships m"
    " ON m.organization_id = a.organization_id AND m.user_id = a.dedicated_user_id"
    " WHERE c.client_id = ? AND c.dialect = 'mokapen'")
CLIENT_CREDENTIALS_FIELDS = {"grant_type", "client_id", "client_secret", "organization_id", "scope"}


class Ids(NamedTuple):
    """A client, user or organization as a token needs it."""

    id: Optional[int] = None
    client_id: Optional[str] = None
    name: Optional[str] = None


@fast_route("POST", "/oauth/token", dialect="mokapen", endpoint="mokapen.token", limit="MOKAPEN_TOKEN_RATE_LIMIT",
            headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")], reads_authorization=False,
            serialize=json.dumps)  # as Authlib writes it
def fast_client_credentials(request):
    """The fast lane's client_credentials grant (secret in the body, as seed 000 sends it) of an active private app
    whose dedicated user is a member of its organization. HTTP Basic, every other grant and every refusal are
    Flask's (Authlib's)."""
    form = request.form
    if (form is None or set(form) - CLIENT_CREDENTIALS_FIELDS or form.get("grant_type") != "client_credentials"
            or not form.get("client_secret")):
        return None
    found = request.rows(PRIVATE_APP_SQL, form.get("client_id", ""))
    if not found:
        return None
    client_pk, secret_hash, status, grant_types, app_scope, org_id, org_name, user_id, member_id = found[0]
    client = ClientRow(secret_hash, status, tuple(parse(grant_types)))
    requested = form.get("scope") or ""
    if (not client.is_active() or not client.check_client_secret(form["client_secret"])
            or not client.check_grant_type("client_credentials") or not set(requested.split()) <= set(app_scope.split())
            or str(org_id) != form.get("organization_id") or user_id is None or member_id is None):
        return None

    def issue():
        expires_in = request.app.config[server.ttl_setting]
        scope = requested or app_scope
        organization = Ids(id=org_id, name=org_name)
        access_token = mint_access_token(Ids(client_id=form["client_id"]), Ids(id=user_id), scope.split(),
                                         organization, expires_in, request.app)
        request.insert("tokens", token_columns(DIALECT, access_token, expires_in, user_id=user_id,
                                               client_id=client_pk, scope=scope, organization_id=org_id))
        return 200, server.sent_fields(token_fields(expires_in, access_token, None, organization, scope))
    return issue


@bp.post("/oauth/revoke")
@csrf.exempt
@limiter.limit(rate_limit("MOKAPEN_TOKEN_RATE_LIMIT"))
def revoke():
    """RFC 7009 token revocation."""
    return server.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
@csrf.exempt
@limiter.limit(rate_limit("MOKAPEN_TOKEN_RATE_LIMIT"))
def introspect():
    """RFC 7662 token introspection."""
    return server.create_endpoint_response("introspection")


@bp.get("/.well-known/jwks.json")
@bp.get("/oauth/jwks")
def jwks_document():
    """The public key that verifies access tokens."""
    return jwks()


@fast_route("GET", "/oauth/jwks", dialect="mokapen", endpoint="mokapen.jwks_document",
            reads_authorization=False, constant=True)
@fast_route("GET", r"/\.well-known/jwks\.json", dialect="mokapen", endpoint="mokapen.jwks_document",
            reads_authorization=False, constant=True)
def fast_jwks(request):
    """The fast lane's JWKS (a request with a query string is Flask's: the journal records its client_id)."""
    return None if request.environ.get("QUERY_STRING") else (200, jwks(request.app))


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414 authorization server metadata, validated by Authlib's model."""
    issuer = request.url_root.rstrip("/")
    document = AuthorizationServerMetadata({
        "issuer": issuer,
        "authorization_endpoint": url_for("mokapen.authorize", _external=True),
        "token_endpoint": url_for("mokapen.token", _external=True),
        "jwks_uri": url_for("mokapen.jwks_document", _external=True),
        "revocation_endpoint": url_for("mokapen.revoke", _external=True),
        "introspection_endpoint": url_for("mokapen.introspect", _external=True),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256", "plain"],
    })
    document.validate()
    return dict(document)


# --- /api/v1/{org_id}/contacts and /tasks --------------------------------------------------------

RESOURCES = {
    "contacts": (Contact, ("name", "email", "phone"), "name"),
    "tasks": (Task, ("title", "done"), "title"),
}


def check_request(org_id, resource, write):
    """JSON must be acceptable, the token must hold the scope and be for this organization."""
    if not request.accept_mimetypes.accept_json:
        raise MokapenError("not_acceptable", "This API answers application/json only", 406)
    with require_token.acquire([f"{resource}.{'write' if write else 'read'}"]) as token:
        if token.organization_id != org_id:
            raise MokapenError("access_denied", f"The token is for organization {token.organization_id}, "
                                                f"not {org_id}", 403)


def as_json(item, fields):
    return {"id": item.id, **{name: getattr(item, name) for name in fields}}


@fast_route("GET", r"/api/v1/(?P<org_id>[1-9][0-9]*)/(?P<resource>contacts|tasks)", dialect="mokapen",
            endpoint="mokapen.collection", limit="MOKAPEN_API_RATE_LIMIT")
def fast_collection(request):
    """The fast lane's list of an organization's items, for a live token of that organization with the scope."""
    resource, org_id = request.view_args["resource"], int(request.view_args["org_id"])
    if request.environ.get("HTTP_ACCEPT") not in ("application/json", "*/*"):
        return None  # what else is acceptable is Flask's to judge
    token = request.live_token("mokapen")
    if token is None or f"{resource}.read" not in token.scope.split() or token.organization_id != org_id:
        return None
    sql, columns = collection_query(resource)
    # Values as the ORM gives them (SQLite stores a boolean as 0 or 1).
    return 200, {"data": [{name: convert(value) for (name, convert), value in zip(columns, row, strict=True)}
                          for row in request.rows(sql, org_id)]}


@functools.cache
def collection_query(resource):
    """(SQL listing an organization's items, [(column, its Python type)]) for the fast lane."""
    model, fields, _ = RESOURCES[resource]
    columns = [model.__table__.c[name] for name in ("id", *fields)]
    sql = (f"SELECT {', '.join(column.name for column in columns)} FROM {model.__tablename__} "
           "WHERE organization_id = ? ORDER BY id")
    return sql, [(column.name, column.type.python_type) for column in columns]


def request_fields(fields, required):
    """The writable fields of a JSON body; `required` must be among them on create."""
    body = json_object_body(lambda message: MokapenError("invalid_request", message))
    values = {name: body[name] for name in fields if name in body}
    if required and not values.get(required):
        raise MokapenError("invalid_request", f"'{required}' is required")
    return values


def find_item(model, org_id, item_id):
    item = db.session.get(model, item_id)
    if item is None or item.organization_id != org_id:
        raise MokapenError("not_found", f"No such item: {item_id}", 404)
    return item


@bp.route("/api/v1/<int:org_id>/<any(contacts, tasks):resource>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(rate_limit("MOKAPEN_API_RATE_LIMIT"))
def collection(org_id, resource):
    """List the organization's items, or create one."""
    model, fields, required = RESOURCES[resource]
    check_request(org_id, resource, write=request.method == "POST")
    if request.method == "POST":
        item = model(organization_id=org_id, **request_fields(fields, required))
        db.session.add(item)
        db.session.commit()
        return jsonify(data=as_json(item, fields)), 201
    items = db.session.scalars(db.select(model).filter_by(organization_id=org_id).order_by(model.id))
    return jsonify(data=[as_json(item, fields) for item in items])


@bp.route("/api/v1/<int:org_id>/<any(contacts, tasks):resource>/<int:item_id>",
          methods=["GET", "PUT", "PATCH", "DELETE"])
@csrf.exempt
@limiter.limit(rate_limit("MOKAPEN_API_RATE_LIMIT"))
def item(org_id, resource, item_id):
    """Read, update or delete one item."""
    model, fields, required = RESOURCES[resource]
    check_request(org_id, resource, write=request.method != "GET")
    found = find_item(model, org_id, item_id)
    if request.method == "DELETE":
        db.session.delete(found)
        db.session.commit()
        return "", 204
    if request.method in ("PUT", "PATCH"):
        for name, value in request_fields(fields, required if request.method == "PUT" else None).items():
            setattr(found, name, value)
        db.session.commit()
    return jsonify(data=as_json(found, fields))

