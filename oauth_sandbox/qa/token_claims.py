"""Custom claims as the QA controls set them: users' and clients' `claims` (fixtures, provisioning, the admin API's
PATCH) and a client's next tokens' one-off claims (`/_sandbox/clients/<client_id>/next-token-claims`).

The rule is claims.py's; this module supplies what it leaves to the host: the registered claims of every dialect
(`Dialect.token_claims`), and which dialects' tokens carry custom claims at all (php's and v1's are opaque).
"""
from sqlalchemy import delete

from ..claims import MAX_NEXT_COUNT, REGISTERED, ClaimsError, NextTokenClaims, check_claims, pending_claims
from ..dialects import DIALECTS
from ..extensions import db
from ..models import Client

__all__ = ["CARRYING", "RESERVED", "ClaimsError", "admin_routes", "claims_field", "client_claims", "user_claims"]

# A user's claims go into every dialect's tokens that carry claims: none of any dialect's own may be given.
RESERVED = REGISTERED.union(*(dialect.token_claims or () for dialect in DIALECTS))
CARRYING = {dialect.name: REGISTERED.union(dialect.token_claims) for dialect in DIALECTS
            if dialect.token_claims is not None}


def user_claims(value, where="claims"):
    """A user's claims to store ({} for None), or ClaimsError naming the bad claim."""
    return check_claims(value, RESERVED, where)


def client_claims(value, dialect, where="claims"):
    """A client of `dialect`'s claims to store ({} for None), or ClaimsError: a registered claim, or a dialect whose
    tokens are opaque."""
    if dialect not in CARRYING:
        if not check_claims(value, REGISTERED, where):
            return {}
        raise ClaimsError(f"{where}: {dialect}'s tokens are opaque and carry no claims; custom claims go into the "
                          f"tokens of {', '.join(CARRYING)}")
    return check_claims(value, CARRYING[dialect], where)


def claims_field(entry, where, dialect=None):
    """entry["claims"] of a `users[i]` entry (or of a `clients[i]` entry of `dialect`) as stored ({} when absent or
    null), or ClaimsError, a FixtureError naming it (`users[0].claims.iss: a registered claim…`). The fixtures'
    loaders, provisioning and the admin API's PATCH all check claims here."""
    where = f"{where}.claims"
    value = entry.get("claims")
    return dict(user_claims(value, where) if dialect is None else client_claims(value, dialect, where))


def admin_routes(bp, admin):
    """POST, GET and DELETE /_sandbox/clients/<client_id>/next-token-claims on the admin API's blueprint."""

    def find_client(client_id):
        client = db.session.scalar(db.select(Client).filter_by(client_id=client_id))
        if client is None:
            raise admin.not_found(f"No client {client_id!r}")
        return client

    @bp.post("/clients/<client_id>/next-token-claims")
    def add_next_token_claims(client_id):
        """{"claims": {...}, "count"?: N (1)}: the client's next N tokens carry these claims too (over the user's
        and the client's), after the batches added before it are used up."""
        client = find_client(client_id)
        data = admin.body()
        unknown = set(data) - {"claims", "count"}
        if unknown:
            raise admin.bad_request(f"{', '.join(sorted(map(repr, unknown)))}: only 'claims' and 'count' are taken")
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_NEXT_COUNT:
            raise admin.bad_request(f"'count' must be a whole number from 1 to {MAX_NEXT_COUNT}, not {count!r}")
        if not isinstance(data.get("claims"), dict) or not data["claims"]:
            raise admin.bad_request("'claims' is required: a mapping of claim names to JSON values")
        claims = admin.checked(lambda: claims_field(data, "next_token_claims[0]", client.dialect))  # 'claims.x': …
        batch = NextTokenClaims(client_id=client.id, claims=claims, remaining=count)
        db.session.add(batch)
        db.session.commit()
        return batch.to_json(client.client_id), 201

    @bp.get("/clients/<client_id>/next-token-claims")
    def list_next_token_claims(client_id):
        """The batches waiting, the next to be taken first."""
        client = find_client(client_id)
        return {"next_token_claims": [batch.to_json(client.client_id) for batch in pending_claims(client.id)]}

    @bp.delete("/clients/<client_id>/next-token-claims")
    def clear_next_token_claims(client_id):
        client = find_client(client_id)
        cleared = db.session.execute(delete(NextTokenClaims).where(NextTokenClaims.client_id == client.id)).rowcount
        db.session.commit()
        return {"cleared": cleared}
