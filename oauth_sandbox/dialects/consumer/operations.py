"""Fusio operations: any path an operation declares answers, private ones behind a scoped bearer token."""
from dataclasses import dataclass
from typing import Optional

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from werkzeug.exceptions import NotFound

from ... import jsonbody
from ...errors import dialect_error_class
from ...ratelimit import RouteLimit, count_request
from ...reads import CatalogRead
from .api import ConsumerError
from .models import Operation
from .tokens import TokenRefused, authenticate_bearer

BODY_METHODS = ("POST", "PUT", "PATCH")
OPERATION_LIMIT = RouteLimit("CONSUMER_RATE_LIMIT")  # every operation, counted under the endpoint below


@dataclass(frozen=True)
class DeclaredOperation:
    """An operation as a call to it needs it."""

    method: str
    public: bool
    scope: Optional[str]
    status_code: int
    response: object  # its JSON answer


# The catalog (kept by each worker for the settings' version): every request to a path no route matches asks it,
# and under load a read of the database there began each such request with an empty page cache.
OPERATIONS_AT = CatalogRead(select(Operation.method, Operation.public, Operation.scope, Operation.status_code,
                                    Operation.response).where(Operation.path == bindparam("path"))
                            .order_by(Operation.id))


def operations_at(path):
    """The operations declared at `path`, read once per request (the owner check and the dispatch both ask)."""
    found = g.setdefault("consumer_operations", {})
    if path not in found:
        found[path] = [DeclaredOperation(method, public, scope, status_code, response)
                       for method, public, scope, status_code, response in OPERATIONS_AT.rows(path=path)]
    return found[path]


def is_operation_path(path):
    """Whether an operation is declared at `path` (asked only for paths no route matches)."""
    return bool(operations_at(path))


def dispatch_operation():
    """before_request: answer a path no route matched when an operation declares it (else fall through)."""
    this_request = request._get_current_object()
    if not isinstance(this_request.routing_exception, NotFound) or dialect_error_class() is not ConsumerError:
        return None
    operations = operations_at(this_request.path)
    if not operations:
        return None
    method = "GET" if this_request.method == "HEAD" else this_request.method
    operation = next((op for op in operations if op.method == method), None)
    allowed = ", ".join(sorted({op.method for op in operations} | {"OPTIONS"}))
    if method == "OPTIONS":
        return "", 200, {"Allow": allowed}
    if operation is None:
        raise ConsumerError("http", "Given request method is not supported", 405, {"Allow": allowed})
    count_request(OPERATION_LIMIT, "consumer.operation")
    return invoke_operation(operation, this_request)


def invoke_operation(operation, this_request):
    """Check the token where the operation needs one (or one is sent, as Fusio does), then answer."""
    authorization = this_request.headers.get("Authorization")
    if not operation.public or authorization:
        try:
            token = authenticate_bearer(authorization)
        except TokenRefused as refused:
            raise ConsumerError("unauthorized", str(refused), 401,
                                {"WWW-Authenticate": 'Bearer realm="Fusio"'}) from None
        if not operation.public and operation.scope not in token.scope.split(","):
            raise ConsumerError("forbidden", "Access to this operation is not in the scope of the provided token",
                                403)
    if this_request.method in BODY_METHODS and this_request.get_data():
        try:
            jsonbody.loads(this_request.get_data(as_text=True))
        except ValueError:
            raise ConsumerError("invalid_json", "The request body is not valid JSON") from None
    response = current_app.json.constant_response(operation.response)  # (the catalog's object: never changed)
    response.status_code = operation.status_code
    return response
