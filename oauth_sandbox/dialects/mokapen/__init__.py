"""The mokapen dialect (seeds 000 and 001): OAuth 2.0 with organizations, an org-scoped API, a dashboard."""
import struct
import zlib

from ...demo import PHP_DEMO_REDIRECT_URIS, create_client
from ...extensions import db
from ...models import User
from ..base import Dialect
from . import api, dashboard
from .admin import admin_openapi_paths, admin_routes
from .fixtures import DEMO_LOGO as DEMO_LOGO  # re-exported: the 1×1 PNG the tests upload
from .fixtures import FIXTURE_FIELDS, FIXTURE_SECTIONS, change_user, describe_client, describe_user, load_client_fixture
from .keys import OWN_CLAIMS
from .models import Application, Contact, Membership, Organization, Task
from .oauth import MokapenError, server
from .openapi import openapi_paths

DEMO_SCOPES = "tasks.read tasks.write contacts.read"
# The php client's, and the one seed 000's authorize snippet sends as it stands.
PUBLIC_DEMO_REDIRECT_URIS = (*PHP_DEMO_REDIRECT_URIS, "https://example.com/oauth/callback")


def square_png(size, rgb, border=(255, 255, 255)):
    """A PNG of a `size`-pixel square of one colour inside a 2-pixel border: the demo apps' visible logos."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"".join(bytes(border if min(x, y, size - 1 - x, size - 1 - y) < 2 else rgb)
                                        for x in range(size)) for y in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


DEMO_APP_LOGOS = {"public": square_png(48, (36, 87, 197)), "private": square_png(48, (230, 126, 34))}


def load_demo_data():
    """Organizations 849 and 850 with members and sample data, and the demo public and private apps."""
    johndoe, janedoe = User.by_username("johndoe"), User.by_username("janedoe")
    db.session.add_all([Organization(id=849, name="Your Organization"),
                        Organization(id=850, name="Other Organization")])
    db.session.flush()
    db.session.add_all([
        Membership(organization_id=849, user_id=johndoe.id, role="owner"),
        Membership(organization_id=849, user_id=janedoe.id, role="member"),
        Membership(organization_id=850, user_id=janedoe.id, role="owner"),
        Contact(organization_id=849, name="Ada Lovelace", email="ada@example.com", phone="+44 20 7946 0018"),
        Contact(organization_id=849, name="Grace Hopper", email="grace@example.com"),
        Contact(organization_id=850, name="Alan Turing", email="alan@example.com"),
        Task(organization_id=849, title="Send the quarterly report"),
        Task(organization_id=849, title="Call Ada", done=True),
        Task(organization_id=850, title="Review the contract"),
    ])
    public = create_client("mokapen", "mokapen-public-demo", "mokapen-public-demo-secret", "Mokapen public demo",
                           redirect_uris=PUBLIC_DEMO_REDIRECT_URIS, grant_types=["authorization_code", "refresh_token"],
                           scope=DEMO_SCOPES)
    private = create_client("mokapen", "mokapen-private-demo", "mokapen-private-demo-secret", "Mokapen private demo",
                            grant_types=["client_credentials"], scope=DEMO_SCOPES)
    public.owner = private.owner = johndoe
    db.session.flush()
    for client, kind, dedicated in ((public, "public", None), (private, "private", johndoe)):
        db.session.add(Application(client_pk=client.id, kind=kind, organization_id=849, company_name="Example Ltd",
                                   company_url="https://example.com", dedicated_user=dedicated,
                                   logo=DEMO_APP_LOGOS[kind], logo_type="image/png"))


DIALECT = Dialect(
    name="mokapen",
    title="Mokapen API",
    seed="000_be7a25a2f1b3733a.txt, 001_a239673c9af53746.txt",
    blueprints=(api.bp, dashboard.bp),
    error_class=MokapenError,
    api_prefixes=("/oauth/", "/api/v1/", "/.well-known/"),
    endpoints=(
        ("GET", "/oauth/authorize", "client_id, redirect_uri, response_type=code, scope, state (16+ chars); "
                                    "the user picks the organization"),
        ("POST", "/oauth/token", "authorization_code, refresh_token, client_credentials (+ organization_id)"),
        ("GET", "/api/v1/{org_id}/contacts", "Contacts (and /tasks): list, read, create, update, delete"),
        ("GET", "/oauth/jwks", "The RS256 public key (JWKS); metadata at /.well-known/oauth-authorization-server"),
        ("POST", "/oauth/revoke", "RFC 7009 revocation; /oauth/introspect for RFC 7662"),
        ("GET", "/account/developer/apps", "Account → Developer → My Applications"),
    ),
    front_template="front/mokapen.html",
    init_app=server.init_app,
    load_demo=load_demo_data,
    fixture_sections=FIXTURE_SECTIONS,
    load_client_fixture=load_client_fixture,
    fixture_fields=FIXTURE_FIELDS,
    describe_user=describe_user,
    describe_client=describe_client,
    change_user=change_user,
    admin_routes=admin_routes,
    admin_openapi_paths=admin_openapi_paths,
    openapi_paths=openapi_paths,
    token_claims=OWN_CLAIMS,
)
