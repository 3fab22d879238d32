"""Mokapen's OAuth 2.0 server on the shared engine: the three grants, revocation, introspection, metadata."""
from dataclasses import dataclass, field, fields

import jwt
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app

from ...claims import claims_of, merge, token_claims
from ...clients import query_client
from ...errors import DialectError
from ...extensions import db
from ...models import Token
from ...oauth import (
    SECRET_AUTH_METHODS,
    AuthorizationCodeGrant,
    PayloadRequest,
    SandboxAuthorizationServer,
    register_authorization_code_grant,
    retire_token,
    revoke_successors,
)
from ...tokens import TokenRecord, query_token, revoke
from .keys import OWN_CLAIMS, mint_access_token
from .models import Organization, Party, membership, organizations_of, private_app

NAME = "mokapen"  # the dialect's name, on its tokens
MIN_STATE_LENGTH = 16


class MokapenError(DialectError):
    """`{"error", "error_description"}` (RFC 6749 §5.2 / RFC 6750 §3) for /oauth/ and /api/v1/.

    Every 401 says how to authenticate, and a 403 insufficient_scope says why in `WWW-Authenticate` (RFC 6750 §3.1),
    whoever raised it (Authlib, a view, an injected fault)."""

    def __init__(self, error, description, status=None, headers=None):
        super().__init__(error, description, status, headers)
        if "WWW-Authenticate" not in self.headers:
            if error == "insufficient_scope":
                self.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
            elif self.status == 401:
                self.headers["WWW-Authenticate"] = 'Bearer realm="OAuth Sandbox"'

    def body(self):
        return {"error": self.error, "error_description": self.description}

    @classmethod
    def from_http_status(cls, status, description):
        codes = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable", 413: "request_too_large",
                 429: "rate_limit_exceeded"}
        return cls(codes.get(status, "server_error" if status >= 500 else "invalid_request"), description, status)


# For the errors Authlib raises without a description.
DESCRIPTIONS = {
    "invalid_grant": "The authorization code or refresh token is invalid, expired, revoked or not this client's.",
    "invalid_request": "The request is missing a parameter or is malformed.",
    "invalid_scope": "The requested scope is invalid or not enabled for the app.",
    "invalid_token": "The access token is invalid, expired or revoked.",
}


def _documented(error, status, headers=None):
    return lambda: MokapenError(error, DESCRIPTIONS.get(error, error.replace("_", " ")), status, headers)


MokapenError.DOCUMENTED = {
    "invalid_request": _documented("invalid_request", 400),
    "invalid_client": _documented("invalid_client", 401, {"WWW-Authenticate": 'Basic realm="OAuth Sandbox"'}),
    "invalid_grant": _documented("invalid_grant", 400),
    "unauthorized_client": _documented("unauthorized_client", 400),
    "unsupported_grant_type": _documented("unsupported_grant_type", 400),
    "invalid_scope": _documented("invalid_scope", 400),
    "invalid_token": _documented("invalid_token", 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}),
    "insufficient_scope": _documented("insufficient_scope", 403),
    "access_denied": _documented("access_denied", 403),
}


def mokapen_error_for(error):
    """Authlib's error as it stands (status, headers), in the mokapen shape."""
    description = error.get_error_description() or DESCRIPTIONS.get(error.error, error.error.replace("_", " "))
    headers = dict(error.get_headers())
    if headers.get("WWW-Authenticate", "").startswith("bearer "):  # Authlib's spelling for a missing token
        headers["WWW-Authenticate"] = "Bearer " + headers["WWW-Authenticate"][len("bearer "):]
    return MokapenError(error.error, description, error.status_code, headers)


def check_scopes_enabled(scope, client, redirect_uri=None):
    """Seed 000: every requested scope (space-separated) must be one the app enabled."""
    if not set((scope or "").split()) <= set(client.scope.split()):
        raise InvalidScopeError("The app has not enabled every requested scope.", redirect_uri=redirect_uri)


class MokapenTokenMixin:
    """Seed 000's token response: an RS256 JWT, refresh token `def50200…`, and the organization."""

    def organization(self):
        raise NotImplementedError

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True):
        token = super().generate_token(user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
                                       include_refresh_token=include_refresh_token)
        organization = self.organization()
        client = self.request.client
        access_token = mint_access_token(client, user, (scope or "").split(), organization, token["expires_in"],
                                         token_claims(user.id if user is not None else None, client.id))
        return token_fields(token["expires_in"], access_token, token.get("refresh_token"), organization, scope)


def token_fields(expires_in, access_token, refresh_token, organization, scope):
    """Seed 000's token response, and the scope stored with it (not sent: omit_from_response)."""
    fields = {"token_type": "Bearer", "expires_in": expires_in, "access_token": access_token}
    if refresh_token:
        fields["refresh_token"] = refresh_token
    fields.update(organization_id=organization.id, organization_name=organization.name, scope=scope or "")
    return fields


class MokapenAuthorizationCodeGrant(MokapenTokenMixin, AuthorizationCodeGrant):
    """Seed 000: scope (a subset of the app's) and state (16+ characters) are required too."""

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        data = self.request.payload.data
        if not (data.get("scope") or "").split():
            raise InvalidScopeError("The 'scope' parameter is required.", redirect_uri=redirect_uri)
        check_scopes_enabled(data.get("scope"), self.request.client, redirect_uri)
        if len(data.get("state") or "") < MIN_STATE_LENGTH:
            raise InvalidRequestError(f"'state' must be at least {MIN_STATE_LENGTH} characters.",
                                      redirect_uri=redirect_uri)
        return redirect_uri

    def code_organization(self, oauth_request):
        """The organization the consent form posted (validated there); for a headless login, the request's
        organization_id if the user is a member, else the user's first organization."""
        requested = oauth_request.payload.data.get("organization_id")
        user = oauth_request.user
        if requested and str(requested).isdigit() and membership(user, int(requested)) is not None:
            return int(requested)
        if requested:
            raise InvalidRequestError(f"{user.username} is not a member of organization {requested}.",
                                      redirect_uri=self.redirect_uri)
        organizations = organizations_of(user)
        if not organizations:
            raise InvalidRequestError(f"{user.username} belongs to no organization.", redirect_uri=self.redirect_uri)
        return organizations[0].id

    def organization(self):
        return db.session.get(Organization, self.request.authorization_code.organization_id)


class MokapenRefreshTokenGrant(MokapenTokenMixin, grants.RefreshTokenGrant):
    """Rotating refresh tokens: of concurrent refreshes of one token, exactly one succeeds; a rotated refresh token
    presented again by its client revokes what was issued from it (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        token = Token.by_refresh_token(refresh_token, NAME)
        ttl = current_app.config["MOKAPEN_REFRESH_TOKEN_TTL_SECONDS"]
        if token is not None and token.is_revoked() and token.check_client(self.request.client):
            revoke_successors(token)
        if token is None or token.is_revoked() or token.is_refresh_expired(ttl):
            return None
        return token

    def authenticate_user(self, refresh_token):
        if membership(refresh_token.user, refresh_token.organization_id) is None:
            raise InvalidGrantError("The user is no longer a member of the organization.")
        if not retire_token(refresh_token):
            db.session.rollback()
            revoke_successors(refresh_token)  # another request rotated it a moment ago: this is a replay too
            raise InvalidGrantError("The refresh token has already been used.")
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        """Already retired, atomically, before the new token was issued."""

    def organization(self):
        return db.session.get(Organization, self.request.refresh_token.organization_id)


class MokapenClientCredentialsGrant(MokapenTokenMixin, grants.ClientCredentialsGrant):
    """Private apps: a token for `organization_id`, acting as the app's dedicated user."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS

    def validate_token_request(self):
        super().validate_token_request()
        self.check_app()

    def check_app(self):
        """The scopes are the app's, the organization is the app's, the dedicated user is still a member."""
        check_scopes_enabled(self.request.payload.scope, self.request.client)
        self.app = private_app(self.request.client)
        organization_id = self.request.payload.data.get("organization_id")
        if not organization_id:
            raise InvalidRequestError("Missing 'organization_id' parameter.")
        if str(self.app.organization_id) != str(organization_id):
            raise InvalidRequestError("The app does not belong to that organization.")
        if self.app.member_id is None:
            raise InvalidGrantError("The app's dedicated user is not a member of the organization.")

    def create_token_response(self):
        scope = self.request.payload.scope or self.request.client.scope
        self.request.user = Party(self.app.member_id)
        token = self.generate_token(user=self.request.user, scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER

    def organization(self):
        return self.app.organization


def find_token(token_string):
    """A mokapen token, by its access or its refresh token (Authlib checks it is the client's)."""
    token = query_token(token_string) or query_token(refresh_token=token_string)
    return token if token is not None and token.dialect == NAME else None


class MokapenRevocationEndpoint(RevocationEndpoint):
    """RFC 7009: a client revokes its own access or refresh token."""

    CLIENT_AUTH_METHODS = SECRET_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def revoke_token(self, token, request):
        revoke(token)


@dataclass(frozen=True)
class IntrospectedToken(TokenRecord):
    """A token being introspected, with the custom claims its introspection carries."""

    custom_claims: dict = field(default_factory=dict)

    @classmethod
    def of(cls, token, token_string):
        """`token` (found by `token_string`) with its custom claims: an access token's are those its JWT carries
        (as issued: the user's, the client's and one-off ones); a refresh token's, the user's and client's now."""
        try:
            carried = jwt.decode(token_string, options={"verify_signature": False})  # found by its hash: ours
            custom = {name: value for name, value in carried.items() if name not in MINTED_CLAIMS}
        except jwt.PyJWTError:
            custom = claims_of(token.user_id, token.client_pk)
        return cls(**{f.name: getattr(token, f.name) for f in fields(TokenRecord)}, custom_claims=custom)


MINTED_CLAIMS = frozenset({"aud", "jti", "iat", "nbf", "exp", "sub", *OWN_CLAIMS})  # what mint_access_token sets


class MokapenIntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662: a client asks whether its token is active, and for what (with the token's custom claims)."""

    CLIENT_AUTH_METHODS = SECRET_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        token = find_token(token_string)
        return IntrospectedToken.of(token, token_string) if token is not None else None

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token):
        if token.refusal(NAME) is not None:
            return {"active": False}
        return merge({"active": True, "client_id": token.client_id, "token_type": "Bearer",
                      "scope": token.scope, "sub": str(token.user_id or ""), "exp": token.get_expires_at(),
                      "iat": token.issued_at, "organization_id": token.organization_id}, token.custom_claims)


server = SandboxAuthorizationServer(NAME, ("mokapen_at_", "def50200"), "MOKAPEN_ACCESS_TOKEN_TTL_SECONDS",
                                    mokapen_error_for, omit_from_response=("scope",))
register_authorization_code_grant(server, MokapenAuthorizationCodeGrant)
server.register_grant(MokapenRefreshTokenGrant)
server.register_grant(MokapenClientCredentialsGrant)
server.register_endpoint(MokapenRevocationEndpoint)
server.register_endpoint(MokapenIntrospectionEndpoint)


def generate_private_app_token(client, organization_id):
    """Generate Token on the dashboard: the client_credentials grant for the current organization."""
    oauth_request = PayloadRequest({"grant_type": "client_credentials", "organization_id": str(organization_id)})
    oauth_request.client = query_client(client.client_id, NAME)
    grant = MokapenClientCredentialsGrant(oauth_request, server)
    grant.check_app()
    return grant.create_token_response()[1]
