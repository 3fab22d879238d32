"""A stored token as every path that checks one sees it: one row shape, one lookup, one liveness rule.

The four dialects' bearer checks, Fusio's operations, mokapen's introspection and revocation, the admin API and
the journal all find a presented token with `query_token` (its hash, joined with its client and user, in one
compiled statement) and judge it with `TokenRecord.refusal`.
"""
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import bindparam, select, update

from . import clock
from .extensions import db
from .models import Client, Token, TokenLifetime, User
from .reads import CompiledRead
from .security import hash_token


@dataclass(frozen=True)
class TokenRecord(TokenLifetime):
    """A token row with what its checks and resources need of its client and user."""

    id: int
    dialect: str
    scope: str
    token_type: str
    issued_at: int
    expires_in: int
    revoked_at: Optional[int]
    last_used_at: Optional[int]
    organization_id: Optional[int]
    device_info: Optional[str]
    user_id: Optional[int]
    client_pk: Optional[int]  # the client's row id
    client_id: Optional[str]  # the client's public id
    client_status: Optional[str]
    username: Optional[str]
    email: Optional[str]
    full_name: Optional[str]

    def refusal(self, dialect):
        """Why the token does not work for `dialect` now (`unknown`, `client_disabled`, `expired`, `revoked`), or
        None. A disabled or pending client's tokens stop working at once."""
        if self.dialect != dialect:
            return "unknown"
        if self.client_status not in (None, "active"):
            return "client_disabled"
        if self.is_expired():
            return "expired"
        if self.is_revoked():
            return "revoked"
        return None

    def check_client(self, client):
        """Whether the token was issued to `client` (Authlib's revocation and introspection ask)."""
        return client is not None and self.client_pk == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in


def _record_select(column):
    """The TokenRecord columns of the token whose `column` equals the bound `hash`."""
    return (select(Token.id, Token.dialect, Token.scope, Token.token_type, Token.issued_at, Token.expires_in,
                   Token.revoked_at, Token.last_used_at, Token.organization_id, Token.device_info, Token.user_id,
                   Token.client_id, Client.client_id, Client.status, User.username, User.email, User.full_name)
            .outerjoin(Client, Client.id == Token.client_id).outerjoin(User, User.id == Token.user_id)
            .where(column == bindparam("hash")))


BY_ACCESS_TOKEN = CompiledRead(_record_select(Token.access_token_hash))
BY_REFRESH_TOKEN = CompiledRead(_record_select(Token.refresh_token_hash))


def query_token(access_token=None, refresh_token=None):
    """The TokenRecord of a presented access token (or refresh token), or None."""
    statement, presented = (BY_ACCESS_TOKEN, access_token) if access_token else (BY_REFRESH_TOKEN, refresh_token)
    if not presented:
        return None
    row = statement.first(hash=hash_token(presented))
    return TokenRecord(*row) if row is not None else None


def record_use(token):
    """Note that the token was used now, when it is due (at most once a minute, so that validation rarely writes)."""
    if token.is_use_due():
        db.session.execute(update(Token).where(Token.id == token.id).values(last_used_at=clock.now()))
        db.session.commit()


def revoke(token):
    """Revoke a token now (it stays revoked if it already was)."""
    db.session.execute(update(Token).where(Token.id == token.id, Token.revoked_at.is_(None))
                       .values(revoked_at=clock.now()))
    db.session.commit()
