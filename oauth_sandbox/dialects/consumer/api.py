"""Fusio's consumer login and OAuth2 token endpoint (seed 003), with Fusio's shapes and messages."""
import base64
import re

from flask import Blueprint, jsonify, request

from ...errors import DialectError, json_object_body
from ...extensions import csrf, db
from ...models import User
from ...oauth import ambiguous_token_request, token_endpoint
from ...ratelimit import rate_limited
from ...security import password_matches
from .models import account, find_app, valid_scopes
from .tokens import TokenRefused, issue_token, refresh_token_grant

bp = Blueprint("consumer", __name__)

# Fusio looks a login name up as a username when it looks like one, otherwise as an email address.
USERNAME_PATTERN = re.compile(r"^[a-zA-Z0-9\-_.]{3,32}$")
HTTP_MESSAGES = {
    404: "Could not find a route for the provided uri",
    405: "Given request method is not supported",
    413: "Request entity too large",
    429: "Rate limit exceeded",
}
GENERIC_MESSAGE = "The server encountered an internal error and was unable to complete your request."


class ConsumerError(DialectError):
    """PSX's error model outside debug mode: the title is always "Internal Server Error"."""

    def body(self):
        return {"success": False, "title": "Internal Server Error", "message": self.description}

    @classmethod
    def from_http_status(cls, status, description):
        return cls("http", HTTP_MESSAGES.get(status, GENERIC_MESSAGE), status)


class TokenEndpointError(DialectError):
    """`{"error", "error_description"}` from Fusio's /authorization/token (RFC 6749 §5.2)."""

    def body(self):
        return {"error": self.error, "error_description": self.description}


def _fusio(message, status=400, headers=None):
    return lambda: ConsumerError("documented", message, status, headers)


def _token_endpoint(error, description, status=400, headers=None):
    return lambda: TokenEndpointError(error, description, status, headers)


_BEARER_REALM = {"WWW-Authenticate": 'Bearer realm="Fusio"'}
ConsumerError.DOCUMENTED = {
    "no_username": _fusio("No username provided"),
    "no_password": _fusio("No password provided"),
    "invalid_credentials": _fusio("Invalid name or password"),
    "invalid_refresh_token": _fusio("Invalid refresh token"),
    "refresh_token_expired": _fusio("Refresh token is expired"),
    "missing_authorization_header": _fusio("Missing authorization header", 401, _BEARER_REALM),
    "invalid_access_token": _fusio("Invalid access token", 401, _BEARER_REALM),
    "expired_token": _fusio("Expired token", 401, _BEARER_REALM),
    "insufficient_scope": _fusio("Access to this operation is not in the scope of the provided token", 403),
    "rate_limit_exceeded": _fusio("Rate limit exceeded", 429),
    # /authorization/token answers in the OAuth shape:
    "invalid_client": _token_endpoint("invalid_client", "Unknown credentials", 401, {"WWW-Authenticate": "Bearer"}),
    "credentials_not_available": _token_endpoint("invalid_request", "Credentials not available"),
    "invalid_grant_type": _token_endpoint("server_error", "Provided an invalid grant type"),
    "invalid_scope": _token_endpoint("invalid_scope", "No valid scope given"),
}


def json_body():
    """The request's JSON object, or a 400 in Fusio's shape for a body that is not one."""
    return json_object_body(lambda message: ConsumerError("invalid_json", message))


def authenticate_user(name, password):
    """The user with this username (or email) and password, or None."""
    column = User.username if USERNAME_PATTERN.match(name) else User.email
    user = db.session.scalar(db.select(User).where(column == name))
    return user if password_matches(user.password_hash if user else None, password) else None


def token_response(**fields):
    """A token response (sent with Cache-Control: no-store, as everything a token endpoint answers)."""
    return jsonify(**fields)


@bp.post("/consumer/login")
@csrf.exempt
@rate_limited("CONSUMER_RATE_LIMIT")
@token_endpoint
def login():
    """`{"username", "password", "scopes"?}` → `{"token", "expires_in", "refresh_token", "scope"}`."""
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not username or not isinstance(username, str):
        raise ConsumerError("login", "No username provided")
    if not password or not isinstance(password, str):
        raise ConsumerError("login", "No password provided")
    user = authenticate_user(username, password)
    if user is None:
        raise ConsumerError("login", "Invalid name or password")
    scopes = valid_scopes(user, data.get("scopes"))
    if not scopes:
        raise ConsumerError("login", "No scopes provided")
    issued = issue_token(user, scopes)
    return token_response(token=issued.access_token, expires_in=issued.expires_in,
                          refresh_token=issued.refresh_token, scope=",".join(issued.scopes))


@bp.put("/consumer/login")
@csrf.exempt
@rate_limited("CONSUMER_RATE_LIMIT")
@token_endpoint
def refresh_login():
    """`{"refresh_token"}` → a new token pair; the old one stops working."""
    refresh_token = json_body().get("refresh_token")
    if not refresh_token or not isinstance(refresh_token, str):
        raise ConsumerError("login", "No refresh token provided")
    try:
        issued = refresh_token_grant(refresh_token)
    except TokenRefused as refused:
        raise ConsumerError("login", str(refused)) from None
    return token_response(token=issued.access_token, expires_in=issued.expires_in,
                          refresh_token=issued.refresh_token, scope=",".join(issued.scopes))


def basic_credentials(authorization=None):
    """(id, secret) from `Authorization: Basic …` (this request's, by default) as PSX reads it, or None."""
    if authorization is None:
        authorization = request.headers.get("Authorization", "")
    kind, _, data = authorization.partition(" ")
    if kind != "Basic" or not data:
        return None
    try:
        client_id, _, secret = base64.b64decode(data).decode().partition(":")
    except ValueError:  # no base64 (binascii.Error), not UTF-8 (UnicodeDecodeError), a non-ASCII character
        return None
    return (client_id, secret) if client_id and secret else None


def invalid_client():
    """Fusio's 401, with `WWW-Authenticate: Bearer` when an Authorization header was sent."""
    headers = {"WWW-Authenticate": "Bearer"} if "Authorization" in request.headers else {}
    return TokenEndpointError("invalid_client", "Unknown credentials", 401, headers)


def client_credentials_grant(credentials):
    """An app's key:secret (the app's owner, narrowed by the app's scopes) or a user's name:password."""
    app = find_app(*credentials)
    user = account(app.owner_id) if app is not None else authenticate_user(*credentials)
    if user is None:
        raise invalid_client()
    scopes = valid_scopes(user, request.form.get("scope"), app)
    if not scopes:
        raise TokenEndpointError("invalid_scope", "No valid scope given")
    return issue_token(user, scopes, app)


@bp.post("/authorization/token")
@csrf.exempt
@rate_limited("CONSUMER_RATE_LIMIT")
@token_endpoint
def token():
    """client_credentials and refresh_token grants, answered as Fusio's token controller does; a request that
    authenticates twice or repeats a parameter is refused first, as at every token endpoint here."""
    ambiguity = ambiguous_token_request()
    if ambiguity is not None:
        raise TokenEndpointError("invalid_request", ambiguity)
    grant_type = request.form.get("grant_type")
    if grant_type == "refresh_token" and not request.form.get("refresh_token"):
        raise TokenEndpointError("invalid_request", "Parameter refresh_token is missing")
    if grant_type not in ("client_credentials", "refresh_token"):
        raise TokenEndpointError("server_error", "Provided an invalid grant type")
    credentials = basic_credentials()
    if credentials is None:
        raise TokenEndpointError("invalid_request", "Credentials not available")
    if grant_type == "client_credentials":
        issued = client_credentials_grant(credentials)
    else:
        try:
            issued = refresh_token_grant(request.form["refresh_token"])
        except TokenRefused as refused:
            raise TokenEndpointError("invalid_request", str(refused)) from None
    return token_response(**token_endpoint_body(issued))


def token_endpoint_body(issued):
    """What /authorization/token answers for an issued token."""
    return {"access_token": issued.access_token, "token_type": "bearer", "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token, "scope": ",".join(issued.scopes)}
