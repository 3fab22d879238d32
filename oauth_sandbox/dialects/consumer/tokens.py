"""Fusio's tokens: HS256 JWTs for users (optionally through an app), refreshable, checked per operation."""
import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import jwt
from flask import current_app
from jwt.algorithms import HMACAlgorithm

from ... import clock
from ...claims import merge, token_claims
from ...clients import query_client
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
    except jwt.InvalidSignatureError:
        raise TokenRefused("Signature verification failed") from None
    except jwt.PyJWTError:
        raise TokenRefused("Wrong number of segments") from None
