"""Fusio's tokens: HS256 JWTs for users (optionally through an app), refreshable, checked per operation."""
import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

import jwt
from flask import current_app
from jwt.algorithms import HMACAlgorithm

from ... import clock
from ...claims import merge, token_claims
from ...clients import query_client
from ...jsonbody import JSONTooDeep
from ...jsonbody import loads as json_loads
from ...models import Token
from ...oauth import issuer, remember_token, retire_token, save_token
from ...tokens import query_token
from .models import scopes_of

NAME = "consumer"  # the dialect's name, on its tokens
# The claims mint_token_pair sets beside claims.REGISTERED (custom claims neither set nor override them).
OWN_CLAIMS = ("name", "preferred_username", "email")


class TokenRefused(Exception):
    """A refresh or bearer token was refused; the message is Fusio's."""


@dataclass
class IssuedToken:
    """What a token endpoint tells the client."""

    access_token: str
    expires_in: int
    refresh_token: str
    scopes: list


def jwt_secret(config=None):
    """The HS256 secret: CONSUMER_JWT_SECRET, or one derived from the app's secret key (of `config`, or the
    app's)."""
    config = config or current_app.config
    return config.get("CONSUMER_JWT_SECRET") or hmac.new(config["SECRET_KEY"].encode(), b"consumer-jwt",
                                                          hashlib.sha256).hexdigest()


class PreparedHMAC(HMACAlgorithm):
    """PyJWT's HMAC, its checks of a key (neither a PEM, SSH or DER key nor a JWK: ~40 µs, a tenth of a token
    request) made once per secret rather than on every token."""

    def __init__(self, hash_alg):
        super().__init__(hash_alg)
        self.prepared = {}

    def prepare_key(self, key):
        if key not in self.prepared:
            if len(self.prepared) >= 8:  # a few secrets at most (tests make apps with their own)
                self.prepared.clear()
            self.prepared[key] = super().prepare_key(key)
        return self.prepared[key]


SIGNER = jwt.PyJWS(algorithms=[])  # the tokens' JWS: `typ: JWT`, HS256 with its key prepared once
SIGNER.register_algorithm("HS256", PreparedHMAC(HMACAlgorithm.SHA256))


def psx_name_based_uuid(name):
    """PSX's Uuid::nameBased (a SHA-1, version-5-style UUID with PSX's own byte picks), as Fusio's `sub`."""
    digest = hashlib.sha1(name.encode()).hexdigest()
    time_high = format(int(digest[12:16], 16) & 0x0FFF | 0x5000, "x")
    clock_seq_high = format(int(digest[16:18], 16) & 0o77 | 0o200, "x")
    return f"{digest[0:8]}-{digest[8:12]}-{time_high}-{clock_seq_high}{digest[17:19]}-{digest[18:30]}"


def issue_token(user, scopes, app=None):
    """A new JWT access token and refresh token for `user` holding `scopes` (already validated)."""
    ttl = current_app.config["CONSUMER_TOKEN_TTL_SECONDS"]
    access_token, refresh_token = mint_token_pair(issuer(), user, ttl, current_app.config,
                                                  token_claims(user.id, app.id if app is not None else None))
    save_token(NAME, access_token, ttl, user=user, client=app, refresh_token=refresh_token,
               scope=",".join(scopes), token_type="bearer")
    return IssuedToken(access_token, ttl, refresh_token, scopes)


def mint_token_pair(issuer, user, ttl, config, custom_claims=None):
    """(JWT access token with Fusio's claims, and `custom_claims` beneath them, refresh token) for `user`."""
    now = clock.now()
    claims = {
        "iss": issuer,
        "sub": psx_name_based_uuid(f"{issuer}-{user.id}"),
        "iat": now,
        "exp": now + ttl,
        "name": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "jti": secrets.token_hex(8),  # two tokens issued in one second must still differ
    }
    payload = json.dumps(merge(claims, custom_claims), separators=(",", ":")).encode()  # as jwt.encode makes it
    return SIGNER.encode(payload, jwt_secret(config), algorithm="HS256"), secrets.token_hex(32)


def refresh_token_grant(refresh_token):
    """Rotate a refresh token: the old pair stops working, the user's current scopes bound the new one."""
    token = Token.by_refresh_token(refresh_token, NAME)
    if token is None or token.is_revoked() or not client_is_active(token):
        raise TokenRefused("Invalid refresh token")
    if token.is_refresh_expired(current_app.config["CONSUMER_REFRESH_TTL_SECONDS"]):
        raise TokenRefused("Refresh token is expired")
    if not retire_token(token):
        raise TokenRefused("Invalid refresh token")
    held = scopes_of(token.user)
    return issue_token(token.user, [s for s in token.scope.split(",") if s in held], app=token.client)


def client_is_active(token):
    """Whether the app a token was issued through (if any) is active: a disabled app's tokens are refused, its
    refresh tokens as well as its access tokens (TokenRecord.refusal)."""
    if token.client_id is None:
        return True
    client = query_client(token.client.client_id, NAME)
    return client is not None and client.is_active()


def authenticate_bearer(authorization):
    """The live consumer token in an Authorization header; TokenRefused says why not, as Fusio does."""
    kind, _, access_token = (authorization or "").partition(" ")
    if not kind:
        raise TokenRefused("Missing authorization header")
    if kind != "Bearer":
        raise TokenRefused("Invalid authorization type")
    if not access_token:
        raise TokenRefused("No authorization token was provided")
    check_jwt(access_token, current_app.config)
    token = query_token(access_token)
    if token is None or token.refusal(NAME) is not None:
        raise TokenRefused("Invalid access token")
    remember_token(token)
    return token


def check_jwt(access_token, config):
    """A token that looks like a JWT must be ours and unexpired (Fusio decodes it before looking it up)."""
    if "." not in access_token:
        return
    if clock.now() >= signed_claims(access_token, jwt_secret(config)).get("exp", 0):
        raise TokenRefused("Expired token")


@functools.lru_cache(maxsize=4096)
def signed_claims(access_token, secret):
    """The claims of a JWT signed with `secret` (TokenRefused if it is not). Remembered per process: whether a
    signature checks out never changes; expiry is judged by the caller, on the sandbox clock (as is `iat`: a token
    issued while the clock is ahead of real time is valid)."""
    try:
        return jwt.decode(access_token, secret, algorithms=["HS256"],
                          options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        raise TokenRefused(php_jwt_refusal(access_token)) from None


# firebase/php-jwt's JWT::decode, which Fusio runs on a token with a dot before it looks it up, passing on the
# message of what it raises: its checks, in its order. A header or claims segment that is not JSON at all fails in
# php-jwt's JSON decoder with PHP's error message (a DomainException, which Fusio does not catch: its answer is a 500
# with that message); here it is the same message in the 401 every other refusal gets, as no API path answers 5xx.
PHP_JWT_ALGORITHMS = frozenset(("ES384", "ES256", "ES256K", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                "EdDSA"))


class NotJSON(ValueError):
    """A segment php-jwt's JSON decoder refuses; the message is PHP's (as php-jwt words json_last_error)."""


def php_jwt_refusal(access_token):
    """What php-jwt says of a token PyJWT refused with Fusio's HS256 key."""
    segments = access_token.split(".")
    if len(segments) != 3:
        return "Wrong number of segments"
    try:
        header = php_json_segment(segments[0])
        if header is None:
            return "Invalid header encoding"
        claims = php_json_segment(segments[1])
    except NotJSON as error:
        return str(error)
    if claims is None:
        return "Invalid claims encoding"
    if not isinstance(claims, (dict, list)):  # (php-jwt makes a JSON array an object)
        return "Payload must be a JSON object"
    algorithm = header.get("alg") if isinstance(header, dict) else None
    if not algorithm:
        return "Empty algorithm"
    if not isinstance(algorithm, str) or algorithm not in PHP_JWT_ALGORITHMS:
        return "Algorithm not supported"
    if algorithm != "HS256":
        return "Incorrect key for this algorithm"
    return "Signature verification failed"


def php_json_segment(segment):
    """A segment as php-jwt reads it: base64url as PHP's base64_decode reads it (characters outside the alphabet
    skipped, a lone last character dropped), then JSON; NotJSON with PHP's message where that is no JSON."""
    text = re.sub(r"[^A-Za-z0-9+/]", "", segment.replace("-", "+").replace("_", "/"))
    text = text[:len(text) - 1] if len(text) % 4 == 1 else text
    try:
        return json_loads(base64.b64decode(text + "=" * (-len(text) % 4)).decode())
    except UnicodeDecodeError:
        raise NotJSON("Malformed UTF-8 characters") from None
    except JSONTooDeep:
        raise NotJSON("Maximum stack depth exceeded") from None
    except ValueError:  # (binascii.Error too)
        raise NotJSON("Syntax error, malformed JSON") from None
