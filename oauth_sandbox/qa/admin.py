"""The QA admin API under /_sandbox/: journal, reset, clock, token expiry, faults, provisioning (users, clients),
headless login.

A dialect adds its own routes (`Dialect.admin_routes`: consumer's roles and operations, mokapen's organizations).
"""
import hmac
from typing import Callable, NamedTuple

from flask import Blueprint, current_app, jsonify, request
from limits import parse as parse_limit
from sqlalchemy import update

from .. import clock
from ..dialects import DIALECTS
from ..errors import DialectError, find_owner
from ..extensions import csrf, db
from ..models import Client, Token, User
from ..settings import put_setting, set_clock_offset, setting
from ..tokens import query_token
from . import journal, provision
from .faults import INJECTABLE_STATUSES, MAX_LATENCY_MS, MAX_STALL_MS, add_fault, clear_faults
from .fixtures import CLIENT_STATUSES, FixtureError, claims_field, fixtures_schema, reset_all, text_field
from .models import Fault
from .token_claims import admin_routes as claims_routes

bp = Blueprint("sandbox_admin", __name__, url_prefix="/_sandbox")
csrf.exempt(bp)  # bearer-token API; the console's forms carry their own CSRF tokens


class AdminError(DialectError):
    """`{"error", "message"}` for the admin API; a 400 names what is wrong."""

    def body(self):
        return {"error": self.error, "message": self.description}

    @classmethod
    def from_http_status(cls, status, description):
        return cls({404: "not_found", 405: "method_not_allowed"}.get(status, "error"), description, status)


def bad_request(message):
    return AdminError("bad_request", message, 400)


def not_found(message):
    return AdminError("not_found", message, 404)


def is_admin_token(presented):
    """Whether `presented` is the configured admin token (constant time; False when none is configured)."""
    token = current_app.config.get("SANDBOX_ADMIN_TOKEN")
    return bool(token) and isinstance(presented, str) and hmac.compare_digest(presented.encode(), token.encode())


def bearer_credentials(authorization):
    """The credentials of an `Authorization: Bearer …` header (the scheme is case-insensitive), else None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


@bp.before_request
def require_admin():
    """The admin token as a Bearer token, and nothing else: never a cookie (the console's session), which a page on
    another origin could make the browser send with a forged form. Off when no token is configured."""
    token = current_app.config.get("SANDBOX_ADMIN_TOKEN")
    if not token:
        raise AdminError("not_found", "The QA admin API is off: set SANDBOX_ADMIN_TOKEN to enable it", 404)
    if is_admin_token(bearer_credentials(request.headers.get("Authorization"))):
        return None
    raise AdminError("unauthorized", "Send the admin token as 'Authorization: Bearer ADMIN_TOKEN'", 401,
                     {"WWW-Authenticate": 'Bearer realm="OAuth Sandbox admin"'})


def body():
    """The JSON object the request carries, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise bad_request("Send a JSON object body (Content-Type: application/json)")
    return data


def optional_number(name, kind=float, low=None, high=None):
    """The query parameter `name` as a finite number (from `low` to `high` when given), None when absent; or a 400."""
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise bad_request(f"'{name}' must be a number, not {value!r}") from None
    if number != number or abs(number) == float("inf") or (low is not None and not low <= number <= high):
        bounds = f" from {low} to {high}" if low is not None else ""
        raise bad_request(f"'{name}' must be a finite number{bounds}, not {value!r}")
    return number


DIALECT_NAMES = tuple(dialect.name for dialect in DIALECTS)
TEXT_FILTERS = ("client_id", "user", "path", "path_prefix", "method")


def journal_filters():
    """The journal filters of the query string: dialect, client_id, user, path, path_prefix, method, status, since."""
    filters = {name: request.args.get(name) for name in TEXT_FILTERS}
    dialect = request.args.get("dialect")
    if dialect is not None and dialect not in DIALECT_NAMES:
        raise bad_request(f"'dialect' must be one of {', '.join(DIALECT_NAMES)}, not {dialect!r}")
    return {**filters, "dialect": dialect, "status": optional_number("status", int, 100, 599),
            "since": optional_number("since")}


@bp.get("/requests")
def list_requests():
    """The journal, newest first; filters (journal_filters) and limit."""
    limit = optional_number("limit", int, 1, 100000) or 100
    entries = journal.query_entries(limit=limit, **journal_filters())
    return {"requests": [entry.to_json() for entry in entries]}


@bp.get("/requests/count")
def count_requests():
    """{"count": N}: how many journal entries match the filters (journal_filters), for asserting call counts."""
    return {"count": journal.count_entries(**journal_filters())}


@bp.delete("/requests")
def clear_requests():
    journal.clear()
    return {"cleared": True}


@bp.post("/reset")
def reset():
    """Everything a test can change put back, on every worker: the data (the demo data, the SANDBOX_FIXTURES file,
    or the fixtures document the body carries), the clock, faults, rate-limit overrides and counters, headless
    logins, and the journal unless the body says {"keep_journal": true}. Refused (400): nothing changed."""
    data = body() if request.get_data(cache=True) else {}
    keep_journal = data.pop("keep_journal", False)
    if not isinstance(keep_journal, bool):
        raise bad_request("'keep_journal' must be true or false")
    try:
        seconds = reset_all(fixtures=data or None, keep_journal=keep_journal)
    except FixtureError as error:
        raise bad_request(f"fixtures not loaded, nothing changed: {error}") from None
    return {"reset": True, "fixtures": "request body" if data else current_app.config["SANDBOX_FIXTURES"] or "demo",
            "journal": "kept" if keep_journal else "emptied", "seconds": round(seconds, 3)}


@bp.get("/clock")
def get_clock():
    return {"now": clock.now(), "offset": clock.offset()}


@bp.post("/clock")
def move_clock():
    """{"set": unix time} | {"advance": seconds} | {"reset": true}; within what a token's expiry can be stored as."""
    data = body()
    if data.get("reset") is True:
        set_clock_offset(0)
    elif "advance" in data:
        set_clock_offset(clock.offset() + clock_move(data, "advance", clock.now()))
    elif "set" in data:
        set_clock_offset(clock.offset() + clock_move(data, "set", 0) - clock.now())
    else:
        raise bad_request('Send {"set": UNIX_TIME}, {"advance": SECONDS} or {"reset": true}')
    return get_clock()


MAX_STORED_TIME = 2**31 - 1  # the token and code columns are plain integers (PostgreSQL's INTEGER)


def latest_clock():
    """The latest sandbox time at which every token and code issued still has an expiry that can be stored."""
    longest = max(value for name, value in current_app.config.items()
                  if name.endswith("_TTL_SECONDS") and isinstance(value, int) and not isinstance(value, bool))
    return MAX_STORED_TIME - longest


def clock_move(data, name, base):
    """`data[name]` as whole seconds, such that `base` + it is a sandbox time between 0 and latest_clock()."""
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise bad_request(f"'{name}' must be a number of seconds, not {value!r}")
    latest = latest_clock()
    if not 0 <= base + value <= latest:
        what = "the clock" if name == "set" else "the clock advanced"
        raise bad_request(f"'{name}': {what} must stay between 0 and {latest} (Unix time), so that a token's "
                          f"expiry can still be stored; got {value!r}")
    return int(value)


@bp.post("/tokens/expire")
def expire_tokens():
    """Expire now one token ({"token"}), or all of a client's ({"client_id"}) or a user's ({"username"})."""
    data = body()
    condition = None
    if isinstance(data.get("token"), str):
        found = query_token(data["token"])
        condition = Token.id == (found.id if found else -1)
    elif isinstance(data.get("client_id"), str):
        client = db.session.scalar(db.select(Client).filter_by(client_id=data["client_id"]))
        if client is None:
            raise bad_request(f"No client {data['client_id']!r}")
        condition = Token.client_id == client.id
    elif isinstance(data.get("username"), str):
        user = User.by_username(data["username"])
        if user is None:
            raise bad_request(f"No user {data['username']!r}")
        condition = Token.user_id == user.id
    else:
        raise bad_request('Send {"token": ACCESS_TOKEN}, {"client_id": ID} or {"username": NAME}')
    now = clock.now()
    expired = db.session.execute(update(Token).where(condition).values(expires_in=now - Token.issued_at)).rowcount
    db.session.commit()
    return {"expired": expired}


@bp.get("/faults")
def list_faults():
    return {"faults": [fault.to_json() for fault in db.session.scalars(db.select(Fault).order_by(Fault.id))]}


@bp.post("/faults")
def post_fault():
    """{"path", "method"?, "error" | "status" (429, 500, 502, 503, 504) | "drop"?, "count"? | "rate"?,
    "latency_ms"?, "stall_ms"?, "retry_after"?}."""
    fault = fault_from(body())
    add_fault(fault)
    return jsonify(fault.to_json()), 201


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_COUNT = 2**31 - 1  # the column is an integer


def whole_number(data, name, low, high, default=None):
    """`data[name]` as a whole number from `low` to `high` (`default` when absent), or a 400 naming it."""
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(f"'{name}' must be a whole number from {low} to {high}, not {value!r}")
    return value


def fault_from(data):
    """A validated Fault from its JSON description."""
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 255:
        raise bad_request("'path' is required: the endpoint's path, e.g. /api/token.php")
    owner = find_owner(path, unrouted=True)
    if owner is None or owner[0] == "sandbox":
        raise bad_request(f"{path} is not a dialect endpoint")
    error, status = data.get("error"), data.get("status")
    if error is not None and (not isinstance(error, str) or error not in owner[1].DOCUMENTED):
        raise bad_request(f"'error' must be one of {owner[0]}'s documented errors: "
                          f"{', '.join(sorted(owner[1].DOCUMENTED))}")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                               or status not in INJECTABLE_STATUSES):
        raise bad_request(f"'status' must be one of {', '.join(map(str, INJECTABLE_STATUSES))}")
    latency = whole_number(data, "latency_ms", 0, MAX_LATENCY_MS, 0)
    stall = whole_number(data, "stall_ms", 0, MAX_STALL_MS, 0)
    drop = data.get("drop", False)
    if not isinstance(drop, bool):
        raise bad_request("'drop' must be true or false")
    if drop and (error is not None or status is not None):
        raise bad_request("'drop' closes the connection without a response: not with an 'error' or a 'status'")
    if error is None and status is None and not (latency or stall or drop):
        raise bad_request("Give an 'error', a 'status', 'drop', a 'stall_ms' or a 'latency_ms'")
    count, rate = whole_number(data, "count", 1, MAX_COUNT), data.get("rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1):
        raise bad_request(f"'rate' must be a share of requests, above 0 and at most 1, not {rate!r}")
    retry_after = whole_number(data, "retry_after", 0, 86400, 30)
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or method.upper() not in HTTP_METHODS):
        raise bad_request(f"'method' must be one of {', '.join(HTTP_METHODS)}, or absent for every method")
    return Fault(path=path, method=method.upper() if method else None, error=error, status=status,
                 remaining=count if count is not None or rate is not None else 1, rate=rate, latency_ms=latency,
                 stall_ms=stall, drop=drop, retry_after=retry_after)


@bp.delete("/faults")
def delete_all_faults():
    clear_faults()
    return {"cleared": True}


@bp.delete("/faults/<int:fault_id>")
def delete_fault(fault_id):
    fault = db.session.get(Fault, fault_id) if fault_id <= MAX_COUNT else None  # beyond the column: none
    if fault is None:
        raise AdminError("not_found", f"No fault {fault_id}", 404)
    db.session.delete(fault)
    db.session.commit()
    return {"deleted": fault_id}


@bp.get("/rate-limits")
def get_rate_limits():
    """Every rate limit in force: the config value, or the runtime override."""
    overrides = setting("rate_limits") or {}
    return {name: overrides.get(name, value) for name, value in sorted(current_app.config.items())
            if name.endswith("_RATE_LIMIT")}


@bp.put("/rate-limits")
def set_rate_limits():
    """{"PHP_TOKEN_RATE_LIMIT": "5 per minute", …}; null removes an override. Effective at once."""
    return change_rate_limits(body())


def change_rate_limits(changes):
    """Apply {"NAME_RATE_LIMIT": "5 per minute" | None, …} (None removes the override), all or nothing: an unknown
    name or a value that is not a limit is a 400 and nothing changes. Every limit in force (the API and the console)."""
    overrides = dict(setting("rate_limits") or {})
    for name, value in changes.items():
        if not name.endswith("_RATE_LIMIT") or name not in current_app.config:
            raise bad_request(f"Unknown limit {name!r}; see GET /_sandbox/rate-limits")
        if value is None:
            overrides.pop(name, None)
            continue
        try:
            parse_limit(value)
        except ValueError:
            raise bad_request(f"{name}: {value!r} is not a limit such as '5 per minute'") from None
        overrides[name] = value
    put_setting("rate_limits", overrides)
    return get_rate_limits()


def conflict(message):
    return AdminError("conflict", message, 409)


def checked(action):
    """`action()`'s value, or the 400 naming the field when it raises FixtureError (a loader's check)."""
    try:
        return action()
    except FixtureError as error:
        raise bad_request(provision.located(str(error))) from None


def create(section, entry):
    """Store one fixtures entry of `section` (provision.create), or the 400 naming the field."""
    checked(lambda: provision.create(section, entry))


def found_user(username):
    user = User.by_username(username)
    if user is None:
        raise not_found(f"No user {username!r}")
    return user


def found_client(client_id):
    client = provision.find_client(client_id)
    if client is None:
        raise not_found(f"No client {client_id!r}")
    return client


@bp.get("/fixtures/schema")
def fixtures_schema_document():
    """The JSON Schema of a fixtures file (for editors and CI linting)."""
    return fixtures_schema()


@bp.post("/users")
def create_user():
    """A users entry of a fixtures file ({"username", "email", "password", "full_name"?, "claims"?, and the
    dialects' fields: "consumer_role"?, "memberships"?}); 409 when the username is taken."""
    entry = body()
    if isinstance(entry.get("username"), str) and User.by_username(entry["username"]) is not None:
        raise conflict(f"User {entry['username']!r} already exists")
    if isinstance(entry.get("email"), str) and db.session.scalar(
            db.select(User.id).filter_by(email=entry["email"])) is not None:
        raise bad_request(f"'email': {entry['email']!r} is already another user's")
    create("users", entry)
    return provision.user_json(User.by_username(entry["username"])), 201


@bp.get("/users")
def list_users():
    return {"users": [provision.user_json(user) for user in db.session.scalars(db.select(User).order_by(User.id))]}


@bp.get("/users/<username>")
def get_user(username):
    return provision.user_json(found_user(username))


@bp.patch("/users/<username>")
def change_user(username):
    """{"email"?, "full_name"?, "password"?, "claims"?, "consumer_role"?, "memberships"?}: at once."""
    user = found_user(username)
    data = body()
    checked(lambda: provision.change_user(user, data))
    return provision.user_json(user)


@bp.delete("/users/<username>")
def delete_user(username):
    """With their tokens, codes, role and memberships; 409 while clients belong to them."""
    user = found_user(username)
    try:
        provision.delete_user(user)
    except provision.Refused as refusal:
        raise conflict(str(refusal)) from None
    return {"deleted": username}


@bp.post("/clients")
def create_client():
    """A clients entry of a fixtures file ({"dialect", "client_id", "client_secret", "name"?, "redirect_uris"?,
    "scopes"?, "status"?, "owner"?, "headless_user"?, "claims"?, and the dialect's fields}); 409 when the
    client_id is taken."""
    entry = body()
    if isinstance(entry.get("client_id"), str) and provision.find_client(entry["client_id"]) is not None:
        raise conflict(f"Client {entry['client_id']!r} already exists")
    create("clients", entry)
    return provision.client_json(provision.find_client(entry["client_id"])), 201


@bp.get("/clients")
def list_clients():
    """Every client (?dialect= one dialect's)."""
    dialect = request.args.get("dialect")
    if dialect is not None and dialect not in DIALECT_NAMES:
        raise bad_request(f"'dialect' must be one of {', '.join(DIALECT_NAMES)}, not {dialect!r}")
    query = db.select(Client).order_by(Client.id)
    if dialect is not None:
        query = query.filter_by(dialect=dialect)
    return {"clients": [provision.client_json(client) for client in db.session.scalars(query)]}


@bp.get("/clients/<client_id>")
def get_client(client_id):
    return provision.client_json(found_client(client_id))


CLIENT_CHANGES = ("status", "headless_user", "name", "redirect_uris", "scopes", "client_secret", "claims")


@bp.patch("/clients/<client_id>")
def change_client(client_id):
    """{"status"?: active|pending|disabled|rejected, "headless_user"?: username or null, "name"?,
    "redirect_uris"?, "scopes"?, "client_secret"?, "claims"?}; a dialect's own fields (mokapen's kind,
    organization…): delete the client and create it again."""
    client = found_client(client_id)
    data = body()
    for name in data:
        if name not in CLIENT_CHANGES:
            raise bad_request(f"{name!r}: cannot be changed; expected {', '.join(CLIENT_CHANGES)} (for the "
                              "dialect's own fields, delete the client and create it again)")
    if "status" in data:
        if data["status"] not in CLIENT_STATUSES:
            raise bad_request(f"'status' must be {', '.join(CLIENT_STATUSES[:-1])} or {CLIENT_STATUSES[-1]}")
        client.status = data["status"]
    if "headless_user" in data:
        if data["headless_user"] is None:
            client.headless_user_id = None
        else:
            user = User.by_username(str(data["headless_user"]))
            if user is None:
                raise bad_request(f"No user {data['headless_user']!r}")
            client.headless_user_id = user.id
    entry = {"client_id": client.client_id, "client_secret": "unchanged", **data}
    if "name" in data:
        client.name = checked(lambda: text_field(entry, "clients[0]", "name", 255))
    for name in ("redirect_uris", "scopes"):
        if name in data:
            values = data[name]
            if not isinstance(values, list) or not all(isinstance(value, str) and value and "\x00" not in value
                                                       for value in values):
                raise bad_request(f"'{name}' must be a list of non-empty strings")
            if name == "redirect_uris":
                client.redirect_uris = list(values)
            else:
                client.scope = " ".join(values)
    if "client_secret" in data:
        client.set_secret(checked(lambda: text_field(entry, "clients[0]", "client_secret", 255)))
    if "claims" in data:
        client.claims = checked(lambda: claims_field(entry, "clients[0]", client.dialect))
    db.session.commit()
    return provision.client_json(client)


@bp.delete("/clients/<client_id>")
def delete_client(client_id):
    """With its tokens, codes and what its dialect keeps beside it (mokapen's application)."""
    provision.delete_client(found_client(client_id))
    return {"deleted": client_id}


class AdminKit(NamedTuple):
    """What a dialect's admin routes use to answer in the admin API's shape (Dialect.admin_routes)."""

    body: Callable  # body(): the request's JSON object, or a 400
    bad_request: Callable  # bad_request(message) -> AdminError 400
    not_found: Callable  # not_found(message) -> AdminError 404
    conflict: Callable  # conflict(message) -> AdminError 409
    create: Callable  # create(section, entry): one fixtures entry stored by the loaders, or the 400 naming the field
    checked: Callable  # checked(action): action(), or the 400 naming the field when it raises FixtureError


ADMIN_KIT = AdminKit(body=body, bad_request=bad_request, not_found=not_found, conflict=conflict, create=create,
                     checked=checked)
for dialect in DIALECTS:  # consumer: /_sandbox/roles, /_sandbox/operations; mokapen: /_sandbox/organizations
    dialect.admin_routes(bp, ADMIN_KIT)
claims_routes(bp, ADMIN_KIT)  # /_sandbox/clients/<client_id>/next-token-claims
