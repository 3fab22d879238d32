"""The core every dialect shares: users, OAuth clients, authorization codes and tokens."""
from typing import Optional
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .extensions import db
from .security import hash_password, hash_token, password_matches

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
TOUCH_INTERVAL_SECONDS = 60  # a token's last use is recorded at most this often


class User(db.Model):
    """A resource owner: logs in at the login page and is what userinfo describes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Extra claims for this user's tokens (an object of JSON values; fixtures' and the admin API's "claims").
    claims: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    created_at: Mapped[int] = mapped_column(default=clock.now)

    def set_password(self, password):
        """Store a salted hash of `password`, never the password itself."""
        self.password_hash = hash_password(password)

    def check_password(self, password):
        """Whether `password` is this user's password."""
        return password_matches(self.password_hash, password)

    def get_user_id(self):
        """Authlib's name for the primary key."""
        return self.id

    @classmethod
    def by_username(cls, username):
        """The user with this exact username, or None."""
        return db.session.scalar(db.select(cls).filter_by(username=username))

    @classmethod
    def authenticate(cls, username, password):
        """The user with this username and password, or None; an unknown username costs a wrong password's time."""
        user = cls.by_username(username)
        return user if password_matches(user.password_hash if user else None, password) else None


def redirect_uri_matches(registered, requested):
    """Exact match, except that a loopback URI may use any port (RFC 8252 §7.3)."""
    if registered == requested:
        return True
    try:
        reg, req = urlsplit(registered), urlsplit(requested)
        reg.port, req.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if reg.scheme != "http" or reg.hostname not in LOOPBACK_HOSTS:
        return False

    def all_but_port(uri):
        return uri.scheme, uri.hostname, uri.username, uri.password, uri.path, uri.query, uri.fragment

    return all_but_port(req) == all_but_port(reg)


class Client(db.Model):
    """An OAuth client registered for one dialect, with its hashed secret and redirect URIs (as pages, fixtures and
    the admin API change it; every check of a client reads it as a clients.ClientRecord)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    dialect: Mapped[str] = mapped_column(String(32), index=True)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="")
    # The user the client belongs to or acts for (a consumer app's owner), where the dialect has one.
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, pending, disabled, …
    # QA's headless login: authorization requests are approved for this user without the pages.
    headless_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Extra claims for this client's tokens (an object of JSON values; fixtures' and the admin API's "claims").
    claims: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    created_at: Mapped[int] = mapped_column(default=clock.now)

    owner: Mapped[Optional["User"]] = relationship(foreign_keys=[owner_id])
    headless_user: Mapped[Optional["User"]] = relationship(foreign_keys=[headless_user_id])

    def set_secret(self, secret):
        """Store the SHA-256 of the client secret."""
        self.client_secret_hash = hash_token(secret)


class AuthorizationCode(db.Model, AuthorizationCodeMixin):
    """A single-use code, stored as its SHA-256, bound to client, user and redirect URI."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[Optional[str]] = mapped_column(String(128))
    code_challenge_method: Mapped[Optional[str]] = mapped_column(String(16))
    issued_at: Mapped[int] = mapped_column(default=clock.now)
    expires_at: Mapped[int]
    used_at: Mapped[Optional[int]]
    # The organization the user chose on the consent page, where the dialect has organizations.
    organization_id: Mapped[Optional[int]]

    client: Mapped[Client] = relationship()
    user: Mapped[User] = relationship()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def is_expired(self):
        """Whether the code has outlived its lifetime on the sandbox clock."""
        return clock.now() >= self.expires_at


class TokenLifetime:
    """When a token stops working, and when its use is next recorded: for the ORM row and the TokenRecord that
    every bearer check reads (tokens.py) alike (both have issued_at, expires_in, revoked_at and last_used_at)."""

    def get_expires_at(self):
        return self.issued_at + self.expires_in

    def is_expired(self):
        """Whether the access token has outlived its lifetime on the sandbox clock."""
        return clock.now() >= self.get_expires_at()

    def is_revoked(self):
        return self.revoked_at is not None

    def is_use_due(self):
        """Whether this use should be recorded (at most once per TOUCH_INTERVAL_SECONDS, so validation rarely
        writes)."""
        return self.last_used_at is None or clock.now() - self.last_used_at >= TOUCH_INTERVAL_SECONDS


def where_not_null(name, column, unique=False):
    """A partial index: only the rows where column is set have an entry."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, unique=unique, sqlite_where=where, postgresql_where=where)


class Token(db.Model, TokenLifetime, TokenMixin):
    """An issued access token (and optional refresh token), stored only as SHA-256 hashes."""

    __tablename__ = "tokens"
    # Each index a token's INSERT writes is one more B-tree page in its commit, so a token writes as few as its
    # lookups need. The links a token may lack, and the refresh token's hash (unique where there is one), are
    # indexed only where it has them (partial indexes): an INSERT writes no entry into the index of a column it
    # leaves NULL (a client-credentials token has no refresh token, no code and no parent, v1's no client). A
    # lookup by a value (`= ?`, an ON DELETE action's too) implies NOT NULL and uses them. organization_id has no
    # index: only deleting an organization (admin API, 409 while apps belong to it) looks tokens up by it, and a
    # scan there costs less than the page every mokapen token would write.
    __table_args__ = (
        *(where_not_null(f"ix_tokens_{column}", column)
          for column in ("client_id", "user_id", "authorization_code_id", "parent_id")),
        where_not_null("ux_tokens_refresh_token_hash", "refresh_token_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dialect: Mapped[str] = mapped_column(String(32))
    # None for dialects that issue tokens to a user without an OAuth client (v1's /v1/oauth/).
    client_id: Mapped[Optional[int]] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    authorization_code_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("authorization_codes.id", ondelete="SET NULL"))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[Optional[str]] = mapped_column(String(64))  # unique: ux_tokens_refresh_token_hash
    token_type: Mapped[str] = mapped_column(String(32), default="Bearer")
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[int] = mapped_column(default=clock.now)
    expires_in: Mapped[int]
    revoked_at: Mapped[Optional[int]]
    last_used_at: Mapped[Optional[int]]
    device_info: Mapped[Optional[str]] = mapped_column(String(200))  # v1's device sessions
    organization_id: Mapped[Optional[int]]  # mokapen's organization
    # The token whose refresh token this one was issued for (mokapen's rotation: a replay revokes the successors).
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tokens.id", ondelete="SET NULL"))

    client: Mapped[Optional[Client]] = relationship()
    user: Mapped[Optional[User]] = relationship()

    def check_client(self, client):
        return client is not None and self.client_id == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_refresh_expired(self, ttl_seconds):
        """Whether the refresh token has outlived `ttl_seconds` (its dialect's setting) on the sandbox clock."""
        return clock.now() >= self.issued_at + ttl_seconds

    @classmethod
    def by_refresh_token(cls, refresh_token, dialect):
        """The dialect's token row holding this refresh token, or None."""
        return db.session.scalar(db.select(cls).filter_by(refresh_token_hash=hash_token(refresh_token),
                                                          dialect=dialect))

