"""The OAuth 2.0 engine the dialects share, built on Authlib.

Each dialect gets its own `SandboxAuthorizationServer` and `SandboxResourceProtector` (its clients,
token format, lifetime and error shape), but codes, tokens and their rules live here once.
"""
import base64
import binascii
import re
from functools import lru_cache

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    MissingAuthorizationError,
    UnsupportedResponseTypeError,
    UnsupportedTokenTypeError,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import (
    BearerTokenGenerator,
    BearerTokenValidator,
    InsufficientScopeError,
    InvalidTokenError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from blinker import signal
from flask import current_app, g, request, url_for
from flask import request as flask_request
from sqlalchemy import select, update
from werkzeug.sansio.utils import get_current_url

from . import clock
from .clients import SECRET_AUTH_METHODS, query_client
from .extensions import db
from .models import AuthorizationCode, Token
from .reads import CompiledWrite
from .security import hash_token, new_token
from .tokens import query_token, record_use

REALM = "OAuth Sandbox"
# Why a registered client may not act (find_client), by its status.
INACTIVE_CLIENT = {
    "pending": "The client is pending review: it can be used once it is approved.",
    "rejected": "The client was rejected at review: it cannot be used.",
    "disabled": "The client is disabled: it can be used again once it is enabled.",
    "draft": "The client is a draft: choose its scopes and save it first.",
}

# What a known, active client whose credentials do not match (or a request with none) is told: League OAuth2
# Server's words (mokapen's documents), as seed 002's table has them too; Authlib's own message lists the methods it
# tried as a Python tuple.
CLIENT_AUTHENTICATION_FAILED = "Client authentication failed"
# What a resource request with an Authorization of another scheme than Bearer (`Basic …`) is told.
BEARER_ONLY = "Send the access token as 'Authorization: Bearer ACCESS_TOKEN'"


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def issuer():
    """This server's URL as tokens and metadata name it: PUBLIC_BASE_URL when configured, else the request's."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured
    current = request._get_current_object()
    return root_url(current.scheme, current.host, current.root_path)


@lru_cache(maxsize=64)
def root_url(scheme, host, root_path):
    """`request.url_root` without its trailing slash, made once per host (werkzeug builds it anew each time, as an
    IRI: ~40 µs of a token request)."""
    return get_current_url(scheme, host, root_path).rstrip("/")


@lru_cache(maxsize=256)
def current_url(scheme, host, root_path, path, query_string):
    """`request.url`, made once per URL (see root_url): a token endpoint is asked at one URL, over and over."""
    return get_current_url(scheme, host, root_path, path, query_string)


def request_url():
    """The request's URL, as Authlib's request objects take it."""
    current = request._get_current_object()
    return current_url(current.scheme, current.host, current.root_path, current.path, current.query_string)


def public_url_for(endpoint):
    """The absolute URL of `endpoint`: under PUBLIC_BASE_URL when configured, else under the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return base + url_for(endpoint) if base else url_for(endpoint, _external=True)


def token_endpoint(view):
    """Declare `view` a token endpoint: every response it gives carries `Cache-Control: no-store` (RFC 6749 §5.1 and
    §5.2), its errors too, whether the view raised them or the rate limit, a fault or an error handler did (the
    request envelope sets it, after the view)."""
    view.token_endpoint = True
    return view


def is_token_endpoint(endpoint, app=None):
    """Whether the view at `endpoint` was declared a token endpoint (asked once per endpoint); `app`: the current app,
    when the caller has it."""
    app = app or current_app
    declared = app.extensions.setdefault("sandbox_token_endpoints", {})
    if endpoint not in declared:
        declared[endpoint] = getattr(app.view_functions.get(endpoint), "token_endpoint", False)
    return declared[endpoint]


def ambiguous_token_request(body=None):
    """Why this request to a token, revocation or introspection endpoint is ambiguous, or None: the client
    authenticates twice, with HTTP Basic and a `client_secret` in the body (RFC 6749 §2.3.1: one method per
    request), or a parameter comes more than once, in the body twice or in the query and the body (§3.2). A
    parameter without a value counts as omitted. `body`: the parameters of a body that is not a form (a JSON
    object), already read."""
    current = request._get_current_object()
    counts = {}  # name -> how many values it has
    sources = [current.args] if current.query_string else []
    if current.mimetype in FORM_TYPES:
        sources.append(current.form)
    for source in sources:
        for name, values in source.lists():
            for value in values:
                if value:
                    counts[name] = counts.get(name, 0) + 1
    for name, value in (body or {}).items():
        if value:
            counts[name] = counts.get(name, 0) + 1
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        named = repeated[0] if PLAIN_NAME.fullmatch(repeated[0]) else "A parameter"  # echo no odd bytes back
        return f"{named} must not be sent more than once."
    scheme = current.headers.get("Authorization", "").partition(" ")[0]
    if scheme.lower() == "basic" and counts.get("client_secret"):
        return "Authenticate the client once: with HTTP Basic or with client_secret in the body, not both."
    return None


def basic_credentials_readable(authorization):
    """Whether Authlib can read an Authorization header: not HTTP Basic, Basic that is no base64 (Authlib ignores
    it), or base64 of UTF-8 text. Not: base64 of other bytes, or a non-ASCII character (Authlib fails on both)."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return True
    try:
        base64.b64decode(credentials.strip()).decode("utf-8")
    except binascii.Error:  # before ValueError, which it is
        return True
    except ValueError:  # UnicodeDecodeError; or a str with a non-ASCII character, which b64decode refuses
        return False
    return True


class FormRequest(FlaskOAuth2Request):
    """Authlib's request over Flask's, with its URL from `request_url`."""

    def __init__(self, flask_request):  # FlaskOAuth2Request's, but for the URL
        OAuth2Request.__init__(self, flask_request.method, request_url(), headers=flask_request.headers)
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)


class PayloadRequest(OAuth2Request):
    """An OAuth2Request over a dict a dialect built from its own wire format (form or JSON)."""

    def __init__(self, data):
        super().__init__(request.method, request_url(), headers=request.headers)
        self.payload = BasicOAuth2Payload(data)

    @property
    def form(self):
        return self.payload.data

    @property
    def args(self):
        return request.args


class SandboxAuthorizationServer(AuthorizationServer):
    """An authorization server for one dialect: its clients, its token format, its error shape.

    `error_for` turns an Authlib OAuth2Error into the dialect's DialectError; errors that redirect
    back to the client (RFC 6749 §4.1.2.1) keep Authlib's redirect.
    """

    def __init__(self, dialect, token_prefixes, ttl_setting, error_for, omit_from_response=()):
        super().__init__()
        self.dialect = dialect
        self.access_token_prefix, self.refresh_token_prefix = token_prefixes
        self.ttl_setting = ttl_setting
        self.error_for = error_for
        self.omit_from_response = omit_from_response

    def init_app(self, app, query_client=None, save_token=None):
        """Bind to the app; clients and tokens always come from the shared core."""
        super().init_app(app, query_client=self.find_client, save_token=self.store_token)

    def create_bearer_token_generator(self, config):
        """Opaque prefixed tokens, living as long as the dialect's TTL setting says at issue time."""
        return BearerTokenGenerator(
            access_token_generator=lambda **_: new_token(self.access_token_prefix),
            refresh_token_generator=lambda **_: new_token(self.refresh_token_prefix),
            expires_generator=lambda client, grant_type: current_app.config[self.ttl_setting],
        )

    def create_oauth2_request(self, request):
        """Accept a request a dialect already built from its wire format; else Flask's, as FormRequest."""
        if isinstance(request, OAuth2Request):
            return request
        return FormRequest(flask_request._get_current_object())

    def create_token_response(self, request=None):
        """The token endpoint's answer; an ambiguous request (ambiguous_token_request) is refused first."""
        oauth_request = self.create_oauth2_request(request)
        self.refuse_ambiguous(oauth_request)
        return super().create_token_response(oauth_request)

    def create_endpoint_response(self, name, request=None):
        """A revocation or introspection endpoint's answer; an ambiguous request is refused first."""
        oauth_request = self.create_oauth2_request(request)
        self.refuse_ambiguous(oauth_request)
        return super().create_endpoint_response(name, oauth_request)

    def refuse_ambiguous(self, oauth_request):
        """invalid_request, in the dialect's shape, for a request that authenticates twice or repeats a parameter;
        invalid_client (401) for HTTP Basic credentials that are not base64 of UTF-8 text (Authlib would fail on
        them with a UnicodeDecodeError)."""
        if not basic_credentials_readable(request.headers.get("Authorization", "")):
            raise self.error_for(InvalidClientError(description="The Basic credentials cannot be read.",
                                                    status_code=401))
        body = oauth_request.payload.data if isinstance(oauth_request, PayloadRequest) and request.is_json else None
        reason = ambiguous_token_request(body)
        if reason is not None:
            raise self.error_for(InvalidRequestError(reason))

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's client authentication, its refusal of credentials that match no client in plain words
        (CLIENT_AUTHENTICATION_FAILED); the refusals find_client raises keep theirs."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            if error.description == f"The client cannot authenticate with methods: {methods}":
                error.description = CLIENT_AUTHENTICATION_FAILED
            raise

    def find_client(self, client_id):
        """The client with this id, if it is registered for this dialect and active; None for an unknown one.

        A known client that is not active (pending review, rejected, disabled, a draft) is refused with its status,
        as `invalid_client` with the status an unknown client gets (401 with HTTP Basic, else 400)."""
        client = query_client(client_id, self.dialect)
        if client is None or client.is_active():
            return client
        basic = request.headers.get("Authorization", "").lower().startswith("basic ")
        raise InvalidClientError(description=INACTIVE_CLIENT.get(client.status, f"The client is {client.status}."),
                                 status_code=401 if basic else 400)

    def store_token(self, token, oauth_request):
        """Persist a token Authlib generated, linked to its client, user and authorization code, and to the token
        whose refresh token it was issued for (a refresh grant's)."""
        save_token(self.dialect, token["access_token"], token["expires_in"], client=oauth_request.client,
                   user=oauth_request.user, authorization_code=oauth_request.authorization_code,
                   refresh_token=token.get("refresh_token"), scope=token.get("scope", ""),
                   token_type=token["token_type"], organization_id=token.get("organization_id"),
                   parent=getattr(oauth_request, "refresh_token", None))

    def handle_response(self, status_code, payload, headers):
        """Send a token response without the fields that were only for storage; a JSON body through the app's JSON
        provider, as every other (the journal records the value it was made from instead of parsing it again)."""
        if not isinstance(payload, dict):
            return super().handle_response(status_code, payload, headers)
        if "access_token" in payload:
            payload = self.sent_fields(payload)
        response = current_app.json.response(payload)
        response.status_code = status_code
        response.headers.update(headers)  # Authlib's Content-Type replaces the provider's (both application/json)
        return response

    def sent_fields(self, token):
        """What the client is sent of a generated token (some fields are only for storage)."""
        return {key: value for key, value in token.items() if key not in self.omit_from_response}

    def get_authorization_grant(self, oauth_request):
        """A missing response_type is invalid_request (RFC 6749 §4.1.2.1), not an unsupported one."""
        try:
            return super().get_authorization_grant(oauth_request)
        except UnsupportedResponseTypeError as error:
            if oauth_request.payload.response_type:
                raise
            raise InvalidRequestError("Missing 'response_type' parameter.", redirect_uri=error.redirect_uri) from None

    def handle_error_response(self, oauth_request, error):
        """Redirect errors go back to the client; the rest are raised in the dialect's shape."""
        if error.redirect_uri:
            return super().handle_error_response(oauth_request, error)
        raise self.error_for(error)


TOKEN_SAVED = signal("oauth-sandbox.token-saved")  # each token saved (the QA controls count them: qa/metrics.py)
TOKEN_COLUMNS = tuple(column.name for column in Token.__table__.c if column.name != "id")  # save_token gives each
# A Core statement: the ORM's unit of work costs more than the write.
TOKEN_INSERT = CompiledWrite(Token.__table__.insert(), TOKEN_COLUMNS)


def save_token(dialect, access_token, expires_in, *, user=None, client=None, authorization_code=None,
               refresh_token=None, scope="", token_type="Bearer", device_info=None, organization_id=None,
               parent=None):
    """Store an issued token as hashes, never the tokens (the one place every dialect's tokens are written), with
    what was written before it in the request's transaction (a retired refresh token); commit. Its expiry time.
    `parent`: the token whose refresh token this one replaces (revoke_successors follows the link)."""
    issued_at = clock.now()
    TOKEN_INSERT.commit(
        dialect=dialect, user_id=user.id if user is not None else None,
        client_id=client.id if client is not None else None,
        authorization_code_id=authorization_code.id if authorization_code is not None else None,
        access_token_hash=hash_token(access_token),
        refresh_token_hash=hash_token(refresh_token) if refresh_token else None,
        token_type=token_type, scope=scope, issued_at=issued_at, expires_in=expires_in,
        device_info=device_info, organization_id=organization_id, revoked_at=None, last_used_at=None,
        parent_id=parent.id if parent is not None else None)
    TOKEN_SAVED.send(dialect, code=authorization_code is not None, user=user is not None)
    return issued_at + expires_in


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The authorization code grant over the core's AuthorizationCode table.

    Codes are stored hashed, single-use and short-lived. Redeeming one is an atomic
    `UPDATE … WHERE used_at IS NULL`, so of many concurrent redemptions exactly one wins; a
    replayed code revokes every token the first redemption issued (RFC 6749 §4.1.2).
    """

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(oauth_request, client):
        """Every dialect here requires redirect_uri, matched against the registered ones."""
        if not oauth_request.payload.redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri' parameter.")
        if not client.check_redirect_uri(oauth_request.payload.redirect_uri):
            raise InvalidRequestError("The 'redirect_uri' is not registered for this client.")
        return oauth_request.payload.redirect_uri

    def save_authorization_code(self, code, oauth_request):
        """Store the new code's hash with everything it is bound to."""
        data = oauth_request.payload.data
        db.session.add(
            AuthorizationCode(
                code_hash=hash_token(code),
                client_id=oauth_request.client.id,
                user_id=oauth_request.user.id,
                redirect_uri=oauth_request.payload.redirect_uri or "",
                scope=oauth_request.scope or "",
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                issued_at=clock.now(),
                expires_at=clock.now() + current_app.config["AUTH_CODE_TTL_SECONDS"],
                organization_id=self.code_organization(oauth_request),
            )
        )
        db.session.commit()

    def code_organization(self, oauth_request):
        """The organization a new code is for; None where the dialect has no organizations."""
        return None

    def query_authorization_code(self, code, client):
        """The unexpired, unused code issued to this client; a replay revokes what it issued."""
        found = db.session.scalar(
            db.select(AuthorizationCode).filter_by(code_hash=hash_token(code), client_id=client.id)
        )
        if found is None or found.is_expired():
            return None
        if found.used_at is not None:
            revoke_tokens_of_code(found)
            return None
        return found

    def authenticate_user(self, authorization_code):
        """Claim the code atomically; the loser of a race sees it as already used."""
        claimed = db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == authorization_code.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=clock.now())
        ).rowcount
        if claimed != 1:
            revoke_tokens_of_code(authorization_code)
            raise InvalidGrantError("The authorization code has already been used.")
        return authorization_code.user

    def delete_authorization_code(self, authorization_code):
        """Keep the used code (marked used_at) so that a replay is recognised; purged later."""


def retire_token(token):
    """Revoke a token atomically; False if it was already revoked (another refresh won the race).

    Rotating a refresh token starts here: of concurrent refreshes of one token exactly one retires it.
    Not committed: the successor's save_token commits both, so no refresh ends with neither token.
    """
    retired = db.session.execute(
        update(Token).where(Token.id == token.id, Token.revoked_at.is_(None)).values(revoked_at=clock.now())
    ).rowcount
    return retired == 1


def revoke_successors(token):
    """Revoke every token issued from `token` by refreshing, and from those in turn (its refresh token was presented
    again after it was rotated: it leaked, and the live successor may be the thief's; RFC 9700 §4.14.2)."""
    successors = select(Token.id).where(Token.parent_id == token.id).cte("successors", recursive=True)
    successors = successors.union_all(select(Token.id).where(Token.parent_id == successors.c.id))
    revoked = db.session.execute(
        update(Token).where(Token.id.in_(select(successors.c.id)), Token.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    ).rowcount
    db.session.commit()
    return revoked


def revoke_tokens_of_code(authorization_code):
    """Revoke every token issued from this code (its replay means the code leaked)."""
    db.session.execute(
        update(Token)
        .where(Token.authorization_code_id == authorization_code.id, Token.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    db.session.commit()


def register_authorization_code_grant(server, grant_class=AuthorizationCodeGrant):
    """Register the code grant with PKCE honoured when the client sends a challenge (RFC 7636)."""
    server.register_grant(grant_class, [CodeChallenge(required=False)])


class SandboxBearerTokenValidator(BearerTokenValidator):
    """Bearer tokens of one dialect (tokens.query_token, judged by TokenRecord.refusal); says why one is refused."""

    def __init__(self, dialect):
        super().__init__(realm=REALM)
        self.dialect = dialect

    def authenticate_token(self, token_string):
        return query_token(token_string)

    def validate_token(self, token, scopes, request):
        """The token must work for this dialect and hold `scopes`; `reason` is kept on the error for dialects."""
        reason = "unknown" if token is None else token.refusal(self.dialect)
        if reason is not None:
            raise self.invalid_token(reason, token)
        if self.scope_insufficient(token.get_scope(), scopes):
            raise InsufficientScopeError()
        record_use(token)
        remember_token(token)

    def invalid_token(self, reason, token):
        """The error refusing `token` for `reason`. (Made here, not in a local of the frame that raises it: that
        frame in its own traceback would be a cycle holding the whole stack, and the request, until a collection.)"""
        description = INACTIVE_CLIENT.get(token.client_status) if reason == "client_disabled" else None
        error = InvalidTokenError(description=description, realm=self.realm)
        error.reason = reason
        return error


def remember_token(token):
    """Note the request's accepted bearer token (the journal records its client and user)."""
    g.request_token = token


class ResourceRequest:
    """What bearer validation reads of a request: its headers. (Authlib's own request object also works out the
    request's URL, which costs more than checking the token does.)"""

    def __init__(self, headers):
        self.headers = headers


class SandboxResourceProtector(ResourceProtector):
    """Protects a dialect's resources; failures are raised in the dialect's error shape."""

    def __init__(self, dialect, error_for):
        super().__init__()
        self.error_for = error_for
        self.register_token_validator(SandboxBearerTokenValidator(dialect))

    def acquire_token(self, scopes=None, **kwargs):
        """The request's valid token holding `scopes` (Authlib's checks, on the request's headers)."""
        token = self.validate_request([scopes] if isinstance(scopes, str) else scopes, ResourceRequest(request.headers))
        g.authlib_server_oauth2_token = token  # what authlib's current_token reads
        return token

    def valid_token(self, scopes=None):
        """The request's valid token holding `scopes`, else its error raised in the dialect's shape: what Authlib's
        `with acquire(scopes)` gives, without a context manager around the view's own checks."""
        try:
            return self.acquire_token(scopes)
        except OAuth2Error as error:
            self.raise_error_response(error)

    def raise_error_response(self, error):
        """The error in the dialect's shape. An Authorization of another scheme than Bearer (`Basic …`) is one without
        a token, saying how to send one (Authlib's unsupported_token_type has no description; revocation and
        introspection keep theirs, for a token_type_hint they do not know: RFC 7009 §2.2.1)."""
        if isinstance(error, UnsupportedTokenTypeError):
            error = MissingAuthorizationError(error.auth_type, error.realm)
            error.description = BEARER_ONLY
        raise self.error_for(error)
