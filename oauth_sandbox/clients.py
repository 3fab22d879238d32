"""A registered client as every check of one sees it: one row shape, one lookup, the rules Authlib asks about.

Authlib's token, authorization, revocation and introspection endpoints (php, mokapen) and Fusio's app grant all
find a client with `query_client` and authenticate it with `ClientRecord.check_client_secret` and `is_active`. The
ORM model (models.Client) is what pages, fixtures and the admin API create and change.
"""
from dataclasses import dataclass
from typing import Optional

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import bindparam, select

from .models import Client, redirect_uri_matches
from .reads import CatalogRead
from .security import token_matches

# How clients authenticate at every token, revocation and introspection endpoint here (RFC 6749 §2.3.1).
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class ClientRecord(ClientMixin):
    """A stored client: how it authenticates, where it may redirect, what it may ask for."""

    id: int
    client_id: str
    name: str
    dialect: str
    client_secret_hash: str
    redirect_uris: tuple
    grant_types: tuple
    scope: str
    owner_id: Optional[int]
    status: str  # active, pending, rejected, disabled, draft
    headless_user_id: Optional[int]  # QA's headless login approves authorization requests for this user

    def is_active(self):
        """Whether the client may act and its tokens work (not pending review, rejected or disabled)."""
        return self.status == "active"

    def check_client_secret(self, client_secret):
        return token_matches(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in SECRET_AUTH_METHODS

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types

    def check_response_type(self, response_type):
        return response_type == "code" and self.check_grant_type("authorization_code")

    def check_redirect_uri(self, redirect_uri):
        return any(redirect_uri_matches(uri, redirect_uri) for uri in self.redirect_uris)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        """The requested scopes this client may have (all of them when none are requested)."""
        if not scope:
            return self.scope
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)


BY_CLIENT_ID = CatalogRead(
    select(Client.id, Client.client_id, Client.name, Client.dialect, Client.client_secret_hash, Client.redirect_uris,
           Client.grant_types, Client.scope, Client.owner_id, Client.status, Client.headless_user_id)
    .where(Client.client_id == bindparam("client_id")))


def query_client(client_id, dialect):
    """The client of `dialect` registered as `client_id` (whatever its status), or None."""
    if not isinstance(client_id, str) or not client_id:
        return None
    row = BY_CLIENT_ID.first(client_id=client_id)
    if row is None or row[3] != dialect:
        return None
    values = list(row)
    values[5], values[6] = tuple(row[5] or ()), tuple(row[6] or ())
    return ClientRecord(*values)


def authenticate_client(client_id, client_secret, dialect):
    """The active client of `dialect` with this id and secret, or None."""
    client = query_client(client_id, dialect)
    if client is not None and client.is_active() and client.check_client_secret(client_secret):
        return client
    return None
