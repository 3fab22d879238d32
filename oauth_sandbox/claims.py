"""Custom claims: what a user's, a client's and a client's next N tokens carry beside the claims a dialect sets.

One rule, here: a registered claim is never set or overridden by a custom one. `check_claims` refuses it (a 400 in
the admin API, a located error in a fixtures file) wherever claims are given; `merge` drops it again where a token
is minted or introspected, so the dialect's own claims win whatever is stored. The registered claims are
REGISTERED (JWT's, RFC 9068's and RFC 7662's) and each dialect's own (`Dialect.token_claims`, which the caller
passes: this module is core and does not know the dialects).

Precedence, lowest first: the user's claims, the client's, the client's next one-off claims (`NextTokenClaims`,
consumed by `token_claims` as the token is issued).
"""
import json
from typing import Optional

from sqlalchemy import JSON, ForeignKey, bindparam, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .extensions import db
from .fixture_fields import FixtureError
from .models import Client, User
from .reads import CatalogRead

# RFC 7519 §4.1, RFC 9068 §2.2 (scope, client_id) and RFC 7662 §2.2 (active, token_type, username).
REGISTERED = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "client_id",
                        "active", "token_type", "username"})
MAX_CLAIMS_BYTES = 4096  # a mapping's JSON; tokens travel in headers
MAX_NEXT_COUNT = 1000  # how many next tokens one batch of one-off claims may cover


class ClaimsError(FixtureError):
    """Claims that cannot be set; the message names the claim (`users[0].claims.iss: …`). A FixtureError, so that
    the fixtures' loaders and the admin API's provisioning report it as they report any field."""


def check_claims(value, reserved, where="claims"):
    """`value` as a mapping of claims to store ({} for None: cleared), or ClaimsError naming the bad one.
    `reserved`: the registered claims (REGISTERED and the dialects' own) that a custom claim may not be."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ClaimsError(f"{where}: must be a dict of claim names to JSON values, or null; "
                          f"not {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or not name.strip() or "\x00" in name:
            raise ClaimsError(f"{where}: claim names must be non-empty strings without NUL, not {name!r}")
        if name in reserved:
            raise ClaimsError(f"{where}.{name}: a registered claim, set by the dialect, cannot be given "
                              f"(registered: {', '.join(sorted(reserved))})")
    try:
        size = len(json.dumps(value, allow_nan=False, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        raise ClaimsError(f"{where}: claim values must be JSON values (no NaN or Infinity)") from None
    if size > MAX_CLAIMS_BYTES:
        raise ClaimsError(f"{where}: at most {MAX_CLAIMS_BYTES} bytes of JSON, not {size}")
    return value


def merge(own, *extra):
    """The dialect's `own` claims, then the `extra` mappings' (later ones winning) that are neither REGISTERED nor
    one of `own`: a custom claim never overrides a registered one."""
    merged = {}
    for claims in extra:
        merged.update(claims or {})
    return {**own, **{name: value for name, value in merged.items() if name not in own and name not in REGISTERED}}


class NextTokenClaims(db.Model):
    """One-off claims for the next `remaining` tokens issued to a client (the oldest batch first); taken one token
    at a time by an atomic decrement, so two workers never both take the last one."""

    __tablename__ = "next_token_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    claims: Mapped[dict] = mapped_column(JSON)
    remaining: Mapped[int]
    created_at: Mapped[int] = mapped_column(default=clock.now)

    def to_json(self, client_id):
        return {"id": self.id, "client_id": client_id, "claims": self.claims, "remaining": self.remaining,
                "created_at": self.created_at}


# A token's stored claims and whether one-off claims wait, in one read on the request's read connection.
STORED = CatalogRead(select(
    select(User.claims).where(User.id == bindparam("user_id")).scalar_subquery(),
    select(Client.claims).where(Client.id == bindparam("client_pk")).scalar_subquery(),
    select(NextTokenClaims.id).where(NextTokenClaims.client_id == bindparam("client_pk"),
                                     NextTokenClaims.remaining > 0).limit(1).scalar_subquery(),
))


def stored_claims(user_id, client_pk):
    """(the user's claims, the client's claims, whether the client's next tokens have one-off claims)."""
    row = STORED.first(user_id=user_id if user_id is not None else -1,
                       client_pk=client_pk if client_pk is not None else -1)
    return row[0] or {}, row[1] or {}, row[2] is not None


def claims_of(user_id, client_pk):
    """The custom claims a token of this user (id) and client (row id; either may be None) would carry, without
    taking one-off claims: the user's, then the client's."""
    user_claims, client_claims, _ = stored_claims(user_id, client_pk)
    return {**user_claims, **client_claims}


def token_claims(user_id, client_pk):
    """The custom claims of a token being issued now to this user and client: the user's, the client's, and the
    client's oldest waiting one-off claims, taken in the request's transaction (committed with the token; a failed
    issue gives them back). The dialect merges them beneath its own (`merge`)."""
    user_claims, client_claims, waiting = stored_claims(user_id, client_pk)
    one_off = take_next_claims(client_pk) if waiting else None
    return {**user_claims, **client_claims, **(one_off or {})}


def take_next_claims(client_pk) -> Optional[dict]:
    """The claims of the client's oldest batch with tokens left, its count decremented atomically (a concurrent
    request that took the last one first makes this one try the next batch); None when none is left."""
    table = NextTokenClaims.__table__
    for _ in range(8):
        oldest = (select(table.c.id).where(table.c.client_id == client_pk, table.c.remaining > 0)
                  .order_by(table.c.id).limit(1).scalar_subquery())
        taken = db.session.execute(
            update(table).where(table.c.id == oldest, table.c.remaining > 0)
            .values(remaining=table.c.remaining - 1).returning(table.c.id, table.c.claims, table.c.remaining)
        ).first()
        if taken is None:
            if db.session.scalar(select(table.c.id).where(table.c.client_id == client_pk,
                                                          table.c.remaining > 0).limit(1)) is None:
                return None
            continue  # another request took the batch's last one between the two statements
        if taken.remaining <= 0:
            db.session.execute(delete(table).where(table.c.id == taken.id, table.c.remaining <= 0))
        return taken.claims
    return None


def pending_claims(client_pk):
    """The client's batches of one-off claims with tokens left, oldest (next to be taken) first."""
    return db.session.scalars(select(NextTokenClaims).where(NextTokenClaims.client_id == client_pk,
                                                            NextTokenClaims.remaining > 0)
                              .order_by(NextTokenClaims.id)).all()
