"""The v1 dialect (seed 004): POST /v1/oauth/ gives a 30-day opaque token for a username and password."""
import secrets

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SubmitField

from .. import clock
from ..accounts import current_user, login_required
from ..errors import DialectError, cannot_be_stored
from ..extensions import csrf, db
from ..models import Token, User
from ..oauth import SandboxResourceProtector, save_token, token_endpoint
from ..openapi_schema import INTEGER, STRING, bearer_header, obj, path_param, query, responses
from ..ratelimit import rate_limited
from ..security import password_matches
from .base import Dialect

bp = Blueprint("v1", __name__, url_prefix="/v1")

DEVICE_INFO_MAX = 200

# The error table seed 004 points to ("Errors and Exceptions") but does not include: one stable
# code per error, keyed in `errors` by what it is about. The README reproduces this table.
ERRORS = {
    "username_required": ("username", 1001, "Username is required", 400),
    "password_required": ("password", 1002, "Password is required", 400),
    "device_info_too_long": ("device-info", 1003, f"device-info must be at most {DEVICE_INFO_MAX} characters", 400),
    "debug_invalid": ("debug", 1004, "debug must be 0 or 1", 400),
    "invalid_request": ("request", 1005, "The request holds a value that cannot be stored", 400),
    "invalid_credentials": ("credentials", 2001, "Invalid username or password", 401),
    "token_missing": ("token", 2002, "Access token is missing: send 'Authorization: Bearer ACCESS_TOKEN'", 401),
    "token_invalid": ("token", 2003, "Access token is invalid", 401),
    "token_expired": ("token", 2004, "Access token has expired", 401),
    "session_deauthorized": ("token", 2005, "This device session has been deauthorized", 401),
    "rate_limited": ("rate_limit", 3001, "Too many requests", 429),
    "not_found": ("endpoint", 4001, "No such endpoint", 404),
    "method_not_allowed": ("method", 4002, "Method not allowed", 405),
    "request_too_large": ("request", 4003, "Request body too large", 413),
    "session_not_found": ("session", 4004, "No such device session", 404),
    "server_error": ("server", 5001, "Internal server error", 500),
    "service_unavailable": ("server", 5002, "Service temporarily unavailable", 503),
}
CHALLENGE = 'Bearer realm="OAuth Sandbox"'  # v1's API takes Bearer tokens; its login, username and password
HTTP_ERRORS = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
               429: "rate_limited", 503: "service_unavailable"}


class V1Error(DialectError):
    """`{"success": false, "errors": {what: {"code", "message"}}}`, with `debug` where enabled; every 401 (a wrong
    password or a refused token) carries `WWW-Authenticate` (RFC 9110 §15.5.2)."""

    def __init__(self, *names, detail=None, debug=None, headers=None):
        self.names = names
        field, _code, message, status = ERRORS[names[0]]
        super().__init__(names[0], detail or message, status, headers)
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", CHALLENGE)
        self.debug = debug

    def body(self):
        errors = {}
        for name in self.names:
            field, code, message, _status = ERRORS[name]
            errors[field] = {"code": code, "message": self.description if name == self.error else message}
        body = {"success": False, "errors": errors}
        if self.debug is not None:
            body["debug"] = self.debug
        return body

    @classmethod
    def from_http_status(cls, status, description):
        name = HTTP_ERRORS.get(status, "server_error")
        return cls(name, detail=description if name == "rate_limited" else None)


V1Error.DOCUMENTED = {name: (lambda name=name: V1Error(name)) for name in ERRORS}


def v1_error_for(error):
    """The v1 code for a refused bearer token (all 401, with WWW-Authenticate)."""
    reason = getattr(error, "reason", None)
    name = {"expired": "token_expired", "revoked": "session_deauthorized", "unknown": "token_invalid"}.get(
        reason, "token_missing")
    return V1Error(name)  # a 401, with WWW-Authenticate


require_token = SandboxResourceProtector("v1", v1_error_for)


def login_parameters():
    """username, password, device-info and debug from the query string (or a form body), validated."""
    values = request.values
    debug = values.get("debug", "0")
    errors = [name for name, bad in (
        ("username_required", not values.get("username")),
        ("password_required", not values.get("password")),
        ("device_info_too_long", len(values.get("device-info", "")) > DEVICE_INFO_MAX),
        ("debug_invalid", debug not in ("0", "1")),
    ) if bad]
    if errors:
        raise V1Error(*errors)
    debug_enabled = debug == "1" and current_app.config["SANDBOX_PROFILE"] == "development"
    return values["username"], values["password"], values.get("device-info") or "Unknown", debug_enabled


def authenticate(username, password, debug):
    """The user with these credentials, or None; `debug` records which part was wrong."""
    user = User.by_username(username)
    if user is None:
        password_matches(None, password)  # as slow as a wrong password
        debug["username"] = "Username not found"
        return None
    if not user.check_password(password):
        debug["password"] = "Password incorrect"
        return None
    return user


@bp.route("/oauth", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@csrf.exempt
def oauth_without_slash():
    """As the documented Apache setup: a 301 to the slash form, so a following client loses the POST."""
    query = request.query_string.decode()
    return redirect(request.path + "/" + (f"?{query}" if query else ""), 301)


@bp.post("/oauth/")
@bp.post("/oauth/index.php")
@bp.post("/add/index.php")  # the path seed 004's trailing-slash note names
@csrf.exempt
@rate_limited("V1_TOKEN_RATE_LIMIT")
@token_endpoint
def issue_token():
    """Generate an access token: `{"success": true, "data": {"access_token", "expiry"}}`."""
    username, password, device_info, debug_enabled = login_parameters()
    debug = {"mysql": "", "username": "", "password": ""}
    shown_debug = debug if debug_enabled else None  # development profile only, never elsewhere
    try:
        user = authenticate(username, password, debug)
        if user is None:
            raise V1Error("invalid_credentials", debug=shown_debug)
        token = secrets.token_hex(20)
        expiry = save_token("v1", token, current_app.config["V1_ACCESS_TOKEN_TTL_SECONDS"], user=user,
                            device_info=device_info)
    except SQLAlchemyError as exc:
        db.session.rollback()
        debug["mysql"] = str(getattr(exc, "orig", exc))
        raise V1Error("invalid_request" if cannot_be_stored(exc) else "server_error", debug=shown_debug) from exc
    body = {"success": True, "data": {"access_token": token, "expiry": expiry}}
    if shown_debug is not None:
        body["debug"] = shown_debug
    return jsonify(body)  # with Cache-Control: no-store (a token endpoint)


def session_json(token):
    """One device session as the sessions endpoints show it."""
    return {"id": token.id, "device_info": token.device_info, "created": token.issued_at,
            "last_used": token.last_used_at, "expiry": token.get_expires_at(), "current": token.id == current_token.id}


def active_sessions(user_id):
    """The user's v1 tokens that are neither expired nor deauthorized, newest first."""
    tokens = db.session.scalars(db.select(Token).filter_by(dialect="v1", user_id=user_id, revoked_at=None)
                                .order_by(Token.issued_at.desc(), Token.id.desc()))
    return [token for token in tokens if not token.is_expired()]


def deauthorize_session(user_id, session_id):
    """Revoke one of the user's device sessions; False if the user has no such live session."""
    token = db.session.get(Token, session_id)
    if token is None or token.dialect != "v1" or token.user_id != user_id or token.is_revoked():
        return False
    token.revoked_at = clock.now()
    db.session.commit()
    return True


@bp.get("/user/")
@rate_limited("V1_API_RATE_LIMIT")
@require_token()
def user_info():
    """The token's user: `{"success": true, "data": {"username", "email", "full_name"}}`."""
    token = current_token
    return {"success": True, "data": {"username": token.username, "email": token.email, "full_name": token.full_name}}


@bp.get("/sessions/")
@rate_limited("V1_API_RATE_LIMIT")
@require_token()
def list_sessions():
    """The token user's live device sessions."""
    return {"success": True, "data": [session_json(token) for token in active_sessions(current_token.user_id)]}


@bp.delete("/sessions/<int:session_id>/")
@csrf.exempt
@rate_limited("V1_API_RATE_LIMIT")
@require_token()
def delete_session(session_id):
    """Deauthorize one of the token user's device sessions (its token stops working at once)."""
    if not deauthorize_session(current_token.user_id, session_id):
        raise V1Error("session_not_found")
    return {"success": True, "data": {"id": session_id, "deauthorized": True}}


pages = Blueprint("v1_pages", __name__, url_prefix="/account/devices")


class DeauthorizeForm(FlaskForm):
    """Deauthorize one device session (the "My devices" page)."""

    submit = SubmitField("Deauthorize")


@pages.get("/")
@login_required
def my_devices():
    """The logged-in user's device sessions with a Deauthorize button each."""
    return render_template("v1/devices.html", sessions=active_sessions(current_user().id), form=DeauthorizeForm())


@pages.post("/<int:session_id>/deauthorize")
@login_required
def deauthorize_device(session_id):
    """Deauthorize one device session from the page."""
    if DeauthorizeForm().validate_on_submit():
        if deauthorize_session(current_user().id, session_id):
            flash("Device session deauthorized: its token no longer works.")
        else:
            flash("That device session no longer exists.")
    return redirect(url_for("v1_pages.my_devices"))


V1_ERROR = obj(["success", "errors"], success={"type": "boolean", "enum": [False]},
               errors={"type": "object", "additionalProperties": obj(["code", "message"], code=INTEGER,
                                                                        message=STRING)})
V1_SUCCESS = obj(["success", "data"], success={"type": "boolean", "enum": [True]}, data={"type": "object"})
V1_SESSIONS = obj(["success", "data"], success={"type": "boolean", "enum": [True]},
                  data={"type": "array", "items": obj(["id"], id=INTEGER)})  # session_json's


def openapi_paths():
    """v1's part of /openapi.json."""
    login = {"summary": "Generate a 30-day token (seed 004)", "tags": ["v1"],
             "parameters": [query("username"), query("password"), query("device-info"), query("debug")],
             "responses": responses("200", V1_SUCCESS, V1_ERROR)}
    return {
        "/v1/oauth/": {"post": login},
        "/v1/oauth/index.php": {"post": {**login, "summary": "The same, at index.php"}},
        "/v1/add/index.php": {"post": {**login, "summary": "The same, at the path seed 004's trailing-slash note "
                                                           "names"}},
        "/v1/user/": {"get": {"summary": "The token's user", "tags": ["v1"], "parameters": [bearer_header()],
                              "responses": responses("200", V1_SUCCESS, V1_ERROR)}},
        "/v1/sessions/": {"get": {"summary": "The user's device sessions", "tags": ["v1"],
                                  "parameters": [bearer_header()],
                                  "responses": responses("200", V1_SESSIONS, V1_ERROR)}},
        "/v1/sessions/{session_id}/": {"delete": {
            "summary": "Deauthorize a device session", "tags": ["v1"],
            "parameters": [path_param("session_id"), bearer_header()],
            "responses": responses("200", V1_SUCCESS, V1_ERROR)}},
    }


DIALECT = Dialect(
    name="v1",
    title="v1 token API",
    seed="004_8eca1d7ed3a6f808.txt",
    blueprints=(bp, pages),
    error_class=V1Error,
    api_prefixes=("/v1/",),
    endpoints=(
        ("POST", "/v1/oauth/?username=…&password=…[&device-info=…&debug=0|1]",
         "A 30-day opaque access token (40 hex characters) and its expiry"),
        ("GET", "/v1/user/", "The token's user (Bearer token)"),
        ("GET", "/v1/sessions/", "The user's device sessions"),
        ("DELETE", "/v1/sessions/<id>/", "Deauthorize a device session"),
        ("GET", "/account/devices/", "My devices: the same, as a page"),
    ),
    front_template="front/v1.html",
    openapi_paths=openapi_paths,
)
