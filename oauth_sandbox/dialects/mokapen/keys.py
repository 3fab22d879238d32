"""The RSA key that signs mokapen's access tokens: generated into instance/ once, published as a JWKS."""
import base64
import hashlib
import json
import os
import secrets
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from ... import clock
from ...claims import merge

# The claims mint_access_token sets beside claims.REGISTERED, and its introspection (custom claims neither set nor
# override them).
OWN_CLAIMS = ("scopes", "organization_id")


def key_path(app):
    """Where the PEM lives: MOKAPEN_RSA_KEY_PATH, or instance/mokapen-rsa.pem."""
    return Path(app.config.get("MOKAPEN_RSA_KEY_PATH") or Path(app.instance_path) / "mokapen-rsa.pem")


def once_per_app(name, make, app=None):
    """`make(app)`, made once per app (by default the current one) and kept in its extensions."""
    app = app or current_app
    cache = app.extensions.setdefault("mokapen_keys", {})
    if name not in cache:
        cache[name] = make(app)
    return cache[name]


def private_key(app=None):
    """The signing key, loaded (or generated, mode 0600) once per app."""
    return once_per_app("private", lambda app: load_or_create(key_path(app)), app)


def load_or_create(path):
    """Read the PEM at `path`; on first start write a new 2048-bit key there (another worker may win)."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        except FileExistsError:
            pass
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_jwk(app=None):
    """The public key as a JWK, its `kid` the RFC 7638 thumbprint (computed once per app)."""
    return once_per_app("jwk", lambda app: make_public_jwk(private_key(app)), app)


def make_public_jwk(key):
    """The JWK of `key`'s public half, with its thumbprint as kid."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    members = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def jwks(app=None):
    """The JSON Web Key Set (RFC 7517) that verifies access tokens: one document per app, never changed (so the
    journal redacts and serializes it once)."""
    return once_per_app("jwks", lambda app: {"keys": [public_jwk(app)]}, app)


def mint_access_token(client, user, scopes, organization, expires_in, custom_claims=None):
    """An RS256 JWT like Mokapen's (League OAuth2 Server's claims, plus the organization, and `custom_claims`
    beneath them), signed with the app's key. `client`, `user` and `organization` need only their ids."""
    now = clock.now()
    claims = {
        "aud": client.client_id,
        "jti": secrets.token_hex(40),
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "sub": str(user.id) if user is not None else "",
        "scopes": scopes,
        "organization_id": organization.id,
    }
    # Header {"typ":"JWT","alg":"RS256",…} in this order, as the seed's "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni…";
    # the kid after them lets JWKS clients (PyJWKClient, jose libraries) pick the key.
    return jwt.encode(merge(claims, custom_claims), private_key(), algorithm="RS256",
                      headers={"typ": "JWT", "kid": public_jwk()["kid"]}, sort_headers=False)
