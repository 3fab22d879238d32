"""The consumer dialect (seed 003, Fusio): consumer login, OAuth2 token endpoint, operations, portal."""
from ...errors import register_dynamic_owner
from ...extensions import db
from ...models import User
from ..base import Dialect
from . import api, operations, portal
from .admin import admin_openapi_paths, admin_routes
from .api import ConsumerError
from .fixtures import FIXTURE_FIELDS, FIXTURE_SECTIONS, change_user, describe_user, load_client_fixture
from .models import Operation, Role, Scope, set_role
from .openapi import openapi_paths
from .tokens import OWN_CLAIMS

SCOPES = (
    ("authorization", "Obtain and refresh tokens"),
    ("backend", "The backend API"),
    ("consumer", "The consumer API"),
    ("default", "Operations without a scope of their own"),
    ("protected", "The seed's /protected_endpoint"),
)
ROLES = (
    ("Administrator", ["authorization", "backend", "consumer", "default", "protected"]),
    ("Backend", ["authorization", "backend", "default", "protected"]),
    ("Consumer", ["authorization", "consumer", "default", "protected"]),
)
APP_SCOPES = "authorization consumer default protected"


def load_demo_data():
    """Scopes, the default roles, the demo apps (seed 003's example app among them) and two operations."""
    from ...demo import create_client

    db.session.add_all(Scope(name=name, description=text) for name, text in SCOPES)
    roles = {name: Role(name=name, scopes=scopes) for name, scopes in ROLES}
    db.session.add_all(roles.values())
    db.session.flush()
    johndoe = User.by_username("johndoe")
    set_role(johndoe, roles["Administrator"])
    set_role(User.by_username("janedoe"), roles["Consumer"])
    for key, secret, name in (("consumer-demo", "consumer-demo-secret", "Consumer demo app"),
                              ("s6BhdRkqt3", "gX1fBat3bV", "Seed 003 example app")):
        app = create_client("consumer", key, secret, name, scope=APP_SCOPES)
        app.owner = johndoe
    db.session.add_all([
        Operation(method="GET", path="/public_endpoint", public=True,
                  response={"success": True, "message": "This operation is public"}),
        Operation(method="POST", path="/protected_endpoint", scope="protected",
                  response={"success": True, "message": "You have invoked a protected operation"}),
    ])


def init_app(app):
    """Operations answer where no route does."""
    register_dynamic_owner("consumer", ConsumerError, operations.is_operation_path)
    app.before_request(operations.dispatch_operation)


DIALECT = Dialect(
    name="consumer",
    title="Fusio consumer API",
    seed="003_002feee3a8f03160.txt",
    blueprints=(api.bp, portal.bp),
    error_class=ConsumerError,
    api_prefixes=("/consumer/", "/authorization/"),
    endpoints=(
        ("POST", "/consumer/login", "A JWT for a username (or email) and password, with refresh token and scopes"),
        ("PUT", "/consumer/login", "Refresh: a new pair for a refresh token"),
        ("POST", "/authorization/token", "OAuth2 client_credentials (app key:secret or user name:password in "
                                         "Basic) and refresh_token"),
        ("POST", "/protected_endpoint", "The seed's private operation (scope protected)"),
        ("GET", "/public_endpoint", "A public operation"),
        ("GET", "/portal/", "Developer portal: register, your scopes, your apps; admin pages"),
    ),
    front_template="front/consumer.html",
    init_app=init_app,
    load_demo=load_demo_data,
    rate_limit_headers=("RateLimit-Limit", "RateLimit-Remaining", None),  # Fusio's names, and no reset
    fixture_sections=FIXTURE_SECTIONS,
    load_client_fixture=load_client_fixture,
    fixture_fields=FIXTURE_FIELDS,
    describe_user=describe_user,
    change_user=change_user,
    admin_routes=admin_routes,
    admin_openapi_paths=admin_openapi_paths,
    openapi_paths=openapi_paths,
    token_claims=OWN_CLAIMS,
)
