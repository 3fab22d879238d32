"""Mokapen's endpoints: /oauth/* on the shared engine, and the organization-scoped /api/v1/{org_id}/… API."""
from functools import lru_cache

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import bindparam, select
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from wtforms import SelectField

from ...consent import authorization_endpoint, authorization_view
from ...errors import json_object_body
from ...extensions import csrf, db
from ...forms import ConsentForm
from ...oauth import SandboxResourceProtector, issuer, public_url_for, token_endpoint
from ...ratelimit import rate_limited
from ...reads import CompiledRead
from .keys import jwks
from .models import SCOPES, Contact, Task, organizations_of
from .oauth import MokapenError, mokapen_error_for, server

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
@authorization_view(server)
def authorize():
    """Seed 000's authorization endpoint; the user picks the organization on the consent page."""
    return authorization_endpoint(server, make_form=consent_form)


@bp.post("/oauth/token")
@csrf.exempt
@rate_limited("MOKAPEN_TOKEN_RATE_LIMIT")
@token_endpoint
def token():
    """authorization_code, refresh_token and client_credentials (with organization_id)."""
    return server.create_token_response()


@bp.post("/oauth/revoke")
@csrf.exempt
@rate_limited("MOKAPEN_TOKEN_RATE_LIMIT")
def revoke():
    """RFC 7009 token revocation."""
    return server.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
@csrf.exempt
@rate_limited("MOKAPEN_TOKEN_RATE_LIMIT")
def introspect():
    """RFC 7662 token introspection."""
    return server.create_endpoint_response("introspection")


@bp.get("/.well-known/jwks.json")
@bp.get("/oauth/jwks")
def jwks_document():
    """The public key that verifies access tokens (one document per app, encoded once)."""
    return current_app.json.constant_response(jwks())


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414 authorization server metadata, validated by Authlib's model."""
    document = AuthorizationServerMetadata({  # under PUBLIC_BASE_URL when configured
        "issuer": issuer(),
        "authorization_endpoint": public_url_for("mokapen.authorize"),
        "token_endpoint": public_url_for("mokapen.token"),
        "jwks_uri": public_url_for("mokapen.jwks_document"),
        "revocation_endpoint": public_url_for("mokapen.revoke"),
        "introspection_endpoint": public_url_for("mokapen.introspect"),
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
# An organization's items as the list answers them: one compiled read per resource.
LISTS = {name: CompiledRead(select(*(model.__table__.c[column] for column in ("id", *fields)))
                            .where(model.organization_id == bindparam("org_id")).order_by(model.id))
         for name, (model, fields, _) in RESOURCES.items()}


@lru_cache(maxsize=256)
def accepts_json(accept):
    """Whether an Accept header's value lets the answer be JSON (werkzeug's reading of it; kept per value: clients
    send the same one request after request)."""
    return parse_accept_header(accept, MIMEAccept).accept_json


def check_request(org_id, resource, write):
    """JSON must be acceptable, the token must hold the scope and be for this organization."""
    if not accepts_json(request.headers.get("Accept")):
        raise MokapenError("not_acceptable", "This API answers application/json only", 406)
    token = require_token.valid_token([f"{resource}.{'write' if write else 'read'}"])
    if token.organization_id != org_id:
        raise MokapenError("access_denied", f"The token is for organization {token.organization_id}, not {org_id}",
                           403)


def as_json(item, fields):
    return {"id": item.id, **{name: getattr(item, name) for name in fields}}


def request_fields(model, fields, required):
    """The writable fields of a JSON body, each one its column can hold (field_problem); `required` must be among
    them on create."""
    body = json_object_body(lambda message: MokapenError("invalid_request", message))
    values = {name: body[name] for name in fields if name in body}
    for name, value in values.items():
        problem = field_problem(model.__table__.c[name], value)
        if problem:
            raise MokapenError("invalid_request", f"'{name}' {problem}")
    if required and not values.get(required):
        raise MokapenError("invalid_request", f"'{required}' is required")
    return values


def field_problem(column, value):
    """Why `value` cannot be stored in `column` (the same on SQLite and PostgreSQL), or None: a boolean column
    takes true or false; a string column a string that fits its length, without NUL (PostgreSQL cannot store it)."""
    if column.type.python_type is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if not isinstance(value, str):
        return "must be a string"
    if column.type.length is not None and len(value) > column.type.length:
        return f"must be at most {column.type.length} characters"
    if "\x00" in value:
        return "must not hold a NUL character"
    return None


def find_item(model, org_id, item_id):
    item = db.session.get(model, item_id)
    if item is None or item.organization_id != org_id:
        raise MokapenError("not_found", f"No such item: {item_id}", 404)
    return item


@bp.route("/api/v1/<int:org_id>/<any(contacts, tasks):resource>", methods=["GET", "POST"])
@csrf.exempt
@rate_limited("MOKAPEN_API_RATE_LIMIT")
def collection(org_id, resource):
    """List the organization's items, or create one."""
    model, fields, required = RESOURCES[resource]
    check_request(org_id, resource, write=request.method == "POST")
    if request.method == "POST":
        item = model(organization_id=org_id, **request_fields(model, fields, required))
        db.session.add(item)
        db.session.commit()
        return jsonify(data=as_json(item, fields)), 201
    columns = ("id", *fields)
    return jsonify(data=[dict(zip(columns, row, strict=True)) for row in LISTS[resource].rows(org_id=org_id)])


@bp.route("/api/v1/<int:org_id>/<any(contacts, tasks):resource>/<int:item_id>",
          methods=["GET", "PUT", "PATCH", "DELETE"])
@csrf.exempt
@rate_limited("MOKAPEN_API_RATE_LIMIT")
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
        for name, value in request_fields(model, fields, required if request.method == "PUT" else None).items():
            setattr(found, name, value)
        db.session.commit()
    return jsonify(data=as_json(found, fields))

