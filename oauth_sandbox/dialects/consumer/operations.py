"""Fusio operations: any path an operation declares answers, private ones behind a scoped bearer token."""
import json

from flask import g, jsonify, request
from werkzeug.exceptions import NotFound

from ...errors import dialect_error_class, prefix_owner
from ...extensions import db, limiter
from ...fastlane import route as fast_route
from ...runtime import parse, rate_limit
from .api import FUSIO_LIMIT_HEADERS, ConsumerError
from .models import Operation
from .tokens import DIALECT, TokenRefused, authenticate_bearer, check_jwt

BODY_METHODS = ("POST", "PUT", "PATCH")


def operations_at(path):
    """The operations declared at `path`, read once per request (the owner check and the dispatch both ask)."""
    found = g.setdefault("consumer_operations", {})
    if path not in found:
        found[path] = db.session.scalars(db.select(Operation).filter_by(path=path)).all()
    return found[path]


def is_operation_path(path):
    """Whether an operation is declared at `path` (asked only for paths no route matches)."""
    return bool(operations_at(path))


def dispatch_operation():
    """before_request: answer a path no route matched when an operation declares it (else fall through)."""
    if dialect_error_class() is not ConsumerError or not isinstance(request.routing_exception, NotFound):
        return None
    operations = operations_at(request.path)
    if not operations:
        return None
    g.dynamic_endpoint = "consumer.operation"  # operations have no endpoint; the limiter needs one
    method = "GET" if request.method == "HEAD" else request.method
    operation = next((op for op in operations if op.method == method), None)
    allowed = ", ".join(sorted({op.method for op in operations} | {"OPTIONS"}))
    if request.method == "OPTIONS":
        return "", 200, {"Allow": allowed}
    if operation is None:
        raise ConsumerError("http", "Given request method is not supported", 405, {"Allow": allowed})
    return invoke_operation(operation)


@limiter.limit(rate_limit("CONSUMER_RATE_LIMIT"))
def invoke_operation(operation):
    """Check the token where the operation needs one (or one is sent, as Fusio does), then answer."""
    if not operation.public or request.headers.get("Authorization"):
        try:
            token = authenticate_bearer(request.headers.get("Authorization"))
        except TokenRefused as refused:
            raise ConsumerError("unauthorized", str(refused), 401,
                                {"WWW-Authenticate": 'Bearer realm="Fusio"'}) from None
        if not operation.public and operation.scope not in token.scope.split(","):
            raise ConsumerError("forbidden", "Access to this operation is not in the scope of the provided token",
                                403)
    if request.method in BODY_METHODS and request.get_data():
        try:
            json.loads(request.get_data(as_text=True))
        except ValueError:
            raise ConsumerError("invalid_json", "The request body is not valid JSON") from None
    response = jsonify(operation.response)
    response.status_code = operation.status_code
    return response


@fast_route(("GET", "POST", "PUT", "PATCH", "DELETE"), r"/.*", dialect="consumer", endpoint="consumer.operation",
            limit="CONSUMER_RATE_LIMIT", limit_headers=FUSIO_LIMIT_HEADERS, catch_all=True)
def fast_operation(request):
    """The fast lane's operation call with a live bearer token holding the operation's scope."""
    access_token = request.bearer()
    if access_token is None or prefix_owner(request.path) is not None or request.is_routed():
        return None
    found = request.rows("SELECT public, scope, status_code, response FROM consumer_operations "
                         "WHERE path = ? AND method = ? ORDER BY id", request.path, request.method)
    if not found:
        return None
    public, scope, status_code, response = found[0]
    try:
        check_jwt(access_token, request.app.config)
    except TokenRefused:
        return None
    token = request.live_token(DIALECT, access_token, records_use=False)
    if token is None or not public and scope not in token.scope.split(","):
        return None
    if request.method in BODY_METHODS and request.body:
        json.loads(request.body.decode())  # not JSON: raises, and Flask answers the error
    return status_code, parse(response)


def use_fusio_rate_limit_headers(response):
    """Fusio names its limit headers RateLimit-Limit and RateLimit-Remaining (no X-, no reset)."""
    if dialect_error_class() is ConsumerError:
        for name in ("Limit", "Remaining"):
            value = response.headers.pop(f"X-RateLimit-{name}", None)
            if value is not None:
                response.headers[f"RateLimit-{name}"] = value
        response.headers.pop("X-RateLimit-Reset", None)
    return response
