"""The QA admin API under /_sandbox/: journal, reset, clock, token expiry, faults, runtime changes, headless login.

A dialect adds its own routes (`Dialect.admin_routes`: consumer's roles).
"""
import hmac
import re
from typing import Callable, NamedTuple

from flask import Blueprint, current_app, jsonify, request, session
from limits import parse as parse_limit
from sqlalchemy import update

from .. import clock
from ..dialects import DIALECTS
from ..errors import DialectError, find_owner
from ..extensions import csrf, db
from ..models import Client, Token, User
from ..settings import put_setting, set_clock_offset, setting
from ..tokens import query_token
from . import journal
from .faults import INJECTABLE_STATUSES, add_fault, clear_faults
from .fixtures import FixtureError, reset_all
from .models import Fault

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


def is_admin_token(presented):
    """Whether `presented` is the configured admin token (constant time; False when none is configured)."""
    token = current_app.config.get("SANDBOX_ADMIN_TOKEN")
    return bool(token) and hmac.compare_digest(presented.encode(), token.encode())


@bp.before_request
def require_admin():
    """The admin token as a Bearer token (or a console session); off when no token is configured."""
    token = current_app.config.get("SANDBOX_ADMIN_TOKEN")
    if not token:
        raise AdminError("not_found", "The QA admin API is off: set SANDBOX_ADMIN_TOKEN to enable it", 404)
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if session.get("sandbox_admin") or is_admin_token(presented):
        return None
    raise AdminError("unauthorized", "Send the admin token as 'Authorization: Bearer ADMIN_TOKEN'", 401,
                     {"WWW-Authenticate": 'Bearer realm="OAuth Sandbox admin"'})


def body():
    """The JSON object the request carries, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise bad_request("Send a JSON object body (Content-Type: application/json)")
    return data


def optional_number(name, kind=float):
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise bad_request(f"'{name}' must be a number, not {value!r}") from None


@bp.get("/requests")
def list_requests():
    """The journal, newest first; filters: dialect, client_id, path, status, since (unix time), limit."""
    entries = journal.query_entries(dialect=request.args.get("dialect"), client_id=request.args.get("client_id"),
                                    path=request.args.get("path"), status=optional_number("status", int),
                                    since=optional_number("since"), limit=optional_number("limit", int) or 100)
    return {"requests": [entry.to_json() for entry in entries]}


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
    """{"set": unix time} | {"advance": seconds} | {"reset": true}."""
    data = body()
    if data.get("reset") is True:
        set_clock_offset(0)
    elif isinstance(data.get("advance"), (int, float)) and not isinstance(data.get("advance"), bool):
        set_clock_offset(clock.offset() + int(data["advance"]))
    elif isinstance(data.get("set"), (int, float)) and not isinstance(data.get("set"), bool):
        set_clock_offset(clock.offset() + int(data["set"]) - clock.now())
    else:
        raise bad_request('Send {"set": UNIX_TIME}, {"advance": SECONDS} or {"reset": true}')
    return get_clock()


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
    """{"path", "method"?, "error" | "status" (429, 500, 503)?, "count"? | "rate"?, "latency_ms"?, "retry_after"?}."""
    fault = fault_from(body())
    add_fault(fault)
    return jsonify(fault.to_json()), 201


def fault_from(data):
    """A validated Fault from its JSON description."""
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise bad_request("'path' is required: the endpoint's path, e.g. /api/token.php")
    owner = find_owner(path, unrouted=True)
    if owner is None or owner[0] == "sandbox":
        raise bad_request(f"{path} is not a dialect endpoint")
    error, status = data.get("error"), data.get("status")
    if error is not None and error not in owner[1].DOCUMENTED:
        raise bad_request(f"'error' must be one of {owner[0]}'s documented errors: "
                          f"{', '.join(sorted(owner[1].DOCUMENTED))}")
    if status is not None and status not in INJECTABLE_STATUSES:
        raise bad_request(f"'status' must be one of {', '.join(map(str, INJECTABLE_STATUSES))}")
    latency = data.get("latency_ms", 0)
    if not isinstance(latency, int) or not 0 <= latency <= 60000:
        raise bad_request("'latency_ms' must be a whole number of milliseconds, 0 to 60000")
    if error is None and status is None and not latency:
        raise bad_request("Give an 'error', a 'status' or a 'latency_ms'")
    count, rate = data.get("count"), data.get("rate")
    if rate is not None and not (isinstance(rate, (int, float)) and 0 < rate <= 1):
        raise bad_request("'rate' must be a share of requests, above 0 and at most 1")
    if count is not None and not (isinstance(count, int) and count > 0):
        raise bad_request("'count' must be a positive whole number")
    method = data.get("method")
    return Fault(path=path, method=method.upper() if isinstance(method, str) else None, error=error, status=status,
                 remaining=count if count is not None or rate is not None else 1, rate=rate, latency_ms=latency,
                 retry_after=int(data.get("retry_after", 30)))


@bp.delete("/faults")
def delete_all_faults():
    clear_faults()
    return {"cleared": True}


@bp.delete("/faults/<int:fault_id>")
def delete_fault(fault_id):
    fault = db.session.get(Fault, fault_id)
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
    overrides = dict(setting("rate_limits") or {})
    for name, value in body().items():
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


@bp.patch("/users/<username>")
def change_user(username):
    """{"email"?, "full_name"?, "password"?}: what userinfo and the other dialects return, at once."""
    user = User.by_username(username)
    if user is None:
        raise AdminError("not_found", f"No user {username!r}", 404)
    data = body()
    for name in data:
        if name not in ("email", "full_name", "password") or not isinstance(data[name], str):
            raise bad_request(f"{name!r}: only email, full_name and password (strings) can be changed")
    if "email" in data and not re.fullmatch(r"[^@\s]+@[^@\s]+", data["email"]):
        raise bad_request(f"{data['email']!r} is not an email address")
    user.email = data.get("email", user.email)
    user.full_name = data.get("full_name", user.full_name)
    if "password" in data:
        user.set_password(data["password"])
    db.session.commit()
    return {"username": user.username, "email": user.email, "full_name": user.full_name}


@bp.patch("/clients/<client_id>")
def change_client(client_id):
    """{"status"?: active|pending|disabled|rejected, "headless_user"?: username or null}."""
    client = db.session.scalar(db.select(Client).filter_by(client_id=client_id))
    if client is None:
        raise AdminError("not_found", f"No client {client_id!r}", 404)
    data = body()
    if "status" in data:
        if data["status"] not in ("active", "pending", "disabled", "rejected"):
            raise bad_request("'status' must be active, pending, disabled or rejected")
        client.status = data["status"]
    if "headless_user" in data:
        if data["headless_user"] is None:
            client.headless_user_id = None
        else:
            user = User.by_username(str(data["headless_user"]))
            if user is None:
                raise bad_request(f"No user {data['headless_user']!r}")
            client.headless_user_id = user.id
    db.session.commit()
    headless = db.session.get(User, client.headless_user_id) if client.headless_user_id else None
    return {"client_id": client.client_id, "dialect": client.dialect, "status": client.status,
            "headless_user": headless.username if headless else None}


class AdminKit(NamedTuple):
    """What a dialect's admin routes use to answer in the admin API's shape (Dialect.admin_routes)."""

    body: Callable  # body(): the request's JSON object, or a 400
    bad_request: Callable  # bad_request(message) -> AdminError 400
    not_found: Callable  # not_found(message) -> AdminError 404


def not_found(message):
    return AdminError("not_found", message, 404)


ADMIN_KIT = AdminKit(body=body, bad_request=bad_request, not_found=not_found)
for dialect in DIALECTS:  # consumer: PUT /_sandbox/roles/<name>
    dialect.admin_routes(bp, ADMIN_KIT)
