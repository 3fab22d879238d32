"""The php dialect (seed 002): /api/authorize.php, /api/token.php and /api/userinfo.php."""

from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Blueprint, request
from flask_cors import CORS

from ..consent import authorization_endpoint, authorization_view
from ..demo import PHP_DEMO_REDIRECT_URIS, create_client
from ..errors import DialectError, json_object_body
from ..extensions import csrf
from ..oauth import (
    BEARER_ONLY,
    CLIENT_AUTHENTICATION_FAILED,
    AuthorizationCodeGrant,
    PayloadRequest,
    SandboxAuthorizationServer,
    SandboxResourceProtector,
    register_authorization_code_grant,
    token_endpoint,
)
from ..openapi_schema import INTEGER, OAUTH_ERROR, STRING, bearer_header, form_body, obj, responses
from ..ratelimit import rate_limited
from .base import Dialect

bp = Blueprint("php", __name__, url_prefix="/api")
# userinfo.php is open to the browser clients of other origins (seed 002's JS client), its errors too, and answers
# their preflight requests: flask-cors on this blueprint only, so no other request pays for matching its paths.
CORS(bp, resources={r"/api/userinfo.php": {"origins": "*", "methods": ["GET"], "allow_headers": ["Authorization"]}})

# Seed 002's error table, plus the codes a server needs beyond it (not_found, rate limits, …).
SEED_DESCRIPTIONS = {
    "invalid_request": "The request is missing required parameters",
    "invalid_client": CLIENT_AUTHENTICATION_FAILED,
    "invalid_code": "The authorization code is invalid or expired",
    "invalid_token": "The access token is invalid or expired",
}
HTTP_ERRORS = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "temporarily_unavailable",
}


class PhpError(DialectError):
    """`{"error", "error_description"}` with seed 002's statuses."""

    def body(self):
        return {"error": self.error, "error_description": self.description}

    @classmethod
    def from_http_status(cls, status, description):
        return cls(HTTP_ERRORS.get(status, "server_error" if status >= 500 else "invalid_request"),
                   description, status)


PhpError.DOCUMENTED = {
    "invalid_request": lambda: PhpError("invalid_request", SEED_DESCRIPTIONS["invalid_request"], 400),
    "invalid_client": lambda: PhpError("invalid_client", SEED_DESCRIPTIONS["invalid_client"], 401,
                                       {"WWW-Authenticate": 'Basic realm="OAuth Sandbox"'}),
    "invalid_code": lambda: PhpError("invalid_code", SEED_DESCRIPTIONS["invalid_code"], 400),
    "invalid_token": lambda: PhpError("invalid_token", SEED_DESCRIPTIONS["invalid_token"], 401,
                                      {"WWW-Authenticate": 'Bearer realm="OAuth Sandbox", error="invalid_token"'}),
}


def php_error_for(error):
    """Seed 002's codes for an Authlib error: invalid_grant is invalid_code, clients fail with 401."""
    description = error.get_error_description()
    if error.error in ("invalid_client", "unauthorized_client"):
        return PhpError("invalid_client", SEED_DESCRIPTIONS["invalid_client"], 401,
                        {"WWW-Authenticate": 'Basic realm="OAuth Sandbox"'})
    if error.error == "invalid_grant":
        return PhpError("invalid_code", f"{SEED_DESCRIPTIONS['invalid_code']}: {description}", 400)
    if error.error == "unsupported_grant_type":
        return PhpError("invalid_request", "grant_type, when sent, must be authorization_code", 400)
    if error.error == "invalid_token":
        return PhpError("invalid_token", SEED_DESCRIPTIONS["invalid_token"], 401, dict(error.get_headers()))
    if error.error == "missing_authorization":  # (another scheme than Bearer too: SandboxResourceProtector)
        return PhpError("invalid_request", BEARER_ONLY, 400,
                        {"WWW-Authenticate": 'Bearer realm="OAuth Sandbox"'})
    return PhpError(error.error if error.error in SEED_DESCRIPTIONS else "invalid_request", description, 400)


class PhpAuthorizationCodeGrant(AuthorizationCodeGrant):
    """Seed 002's token request: code, client_id and client_secret required; redirect_uri optional."""

    def validate_token_request(self):
        """Name every missing parameter as invalid_request before checking any of them."""
        data = self.request.payload.data
        required = ["code"]
        if extract_basic_authorization(self.request.headers) == (None, None):
            required += ["client_id", "client_secret"]
        missing = [name for name in required if not data.get(name)]
        if missing:
            raise InvalidRequestError(f"Missing required parameter(s): {', '.join(missing)}")
        super().validate_token_request()

    def query_authorization_code(self, code, client):
        """Seed 002's token request has no redirect_uri: the binding is checked only when one is sent."""
        found = super().query_authorization_code(code, client)
        if found is not None and not self.request.payload.redirect_uri:
            self.request.payload.data["redirect_uri"] = found.redirect_uri
        return found


server = SandboxAuthorizationServer("php", ("php_at_", "php_rt_"), "PHP_ACCESS_TOKEN_TTL_SECONDS", php_error_for)
register_authorization_code_grant(server, PhpAuthorizationCodeGrant)
require_token = SandboxResourceProtector("php", php_error_for)


def token_request_payload():
    """The token request's parameters from a form or a JSON body; grant_type defaults to the code grant."""
    if request.is_json:
        data = json_object_body(lambda message: PhpError("invalid_request", message))
        data = {key: value for key, value in data.items() if isinstance(value, str)}
    else:
        data = request.form.to_dict()
    data.setdefault("grant_type", "authorization_code")
    return data


@bp.route("/authorize.php", methods=["GET", "POST"])
@authorization_view(server)
def authorize():
    """Seed 002's authorization endpoint: login, consent, then redirect_uri?code=…&state=…."""
    return authorization_endpoint(server)


@bp.post("/token.php")
@csrf.exempt
@rate_limited("PHP_TOKEN_RATE_LIMIT")
@token_endpoint
def token():
    """Exchange a code for `{"access_token", "token_type": "Bearer", "expires_in": 3600}`."""
    return server.create_token_response(PayloadRequest(token_request_payload()))


@bp.get("/userinfo.php")
@rate_limited("PHP_USERINFO_RATE_LIMIT")
@require_token()
def userinfo():
    """The token's user as `{"username", "email", "full_name"}`."""
    token = current_token._get_current_object()
    return {"username": token.username, "email": token.email, "full_name": token.full_name}


def load_demo_data():
    """The php client of SPEC.md."""
    create_client("php", "php-demo", "php-demo-secret", "PHP demo client", redirect_uris=PHP_DEMO_REDIRECT_URIS,
                  grant_types=["authorization_code"])


def load_client_fixture(entry, where, create):
    """A `clients[i]` entry of php: an authorization-code client (its `headless_user`, if any, kept by the core
    client)."""
    return create(["authorization_code"])


PHP_ERROR = OAUTH_ERROR
TOKEN_PHP = obj(["access_token", "token_type", "expires_in"], access_token=STRING, token_type=STRING,
                expires_in=INTEGER)
USER = obj(["username", "email", "full_name"], username=STRING, email=STRING, full_name=STRING)


def openapi_paths():
    """php's part of /openapi.json (authorize.php is a page, not listed)."""
    return {
        "/api/token.php": {"post": {
            "summary": "Exchange an authorization code for an access token (seed 002)", "tags": ["php"],
            "requestBody": form_body(["code", "client_id", "client_secret"], code=STRING, client_id=STRING,
                                     client_secret=STRING, grant_type=STRING, redirect_uri=STRING,
                                     code_verifier=STRING),
            "responses": responses("200", TOKEN_PHP, PHP_ERROR)}},
        "/api/userinfo.php": {"get": {
            "summary": "The token's user (seed 002)", "tags": ["php"], "parameters": [bearer_header()],
            "responses": responses("200", USER, PHP_ERROR)}},
    }


DIALECT = Dialect(
    name="php",
    title="PHP OAuth 2.0 API",
    seed="002_685b52e64b2371f0.txt",
    blueprints=(bp,),
    error_class=PhpError,
    api_prefixes=("/api/",),
    endpoints=(
        ("GET", "/api/authorize.php", "Log in, approve, and get redirected with ?code=…&state=…"),
        ("POST", "/api/token.php", "Exchange the code for a Bearer access token (1 hour)"),
        ("GET", "/api/userinfo.php", "The token's user: username, email, full_name (CORS enabled)"),
    ),
    front_template="front/php.html",
    init_app=server.init_app,
    load_demo=load_demo_data,
    load_client_fixture=load_client_fixture,
    openapi_paths=openapi_paths,
)
