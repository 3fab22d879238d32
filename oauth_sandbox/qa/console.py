"""The QA console for people: the journal, faults, the clock and reset, behind the admin token.

It does its work through its own forms (CSRF-checked by the app-wide CSRFProtect), never through the admin API,
which accepts only the token in an Authorization header (a cookie would let another origin's page act for you).
"""
import hashlib
import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField

from .. import clock
from ..errors import DialectError
from ..extensions import db
from ..ratelimit import rate_limited
from ..settings import set_clock_offset
from . import journal
from .admin import fault_from, get_rate_limits, is_admin_token
from .faults import add_fault, clear_faults
from .fixtures import FixtureError, reset_all
from .models import Fault

bp = Blueprint("sandbox_console", __name__, url_prefix="/console")


class AdminLoginForm(FlaskForm):
    token = PasswordField("Admin token")
    submit = SubmitField("Open the console")


class ConsoleForm(FlaskForm):
    """The CSRF token of the console's buttons; their fields are read from the form as posted."""


def admin_token_digest():
    """A digest of the configured admin token: what a console session keeps (the session cookie is signed, not
    encrypted, so never the token itself), so that the session ends when the token changes."""
    token = current_app.config.get("SANDBOX_ADMIN_TOKEN") or ""
    return hashlib.sha256(b"oauth-sandbox console session:" + token.encode()).hexdigest()


def has_console_session():
    """Whether this browser session was opened with the admin token configured now."""
    opened_with = session.get("sandbox_admin")
    return isinstance(opened_with, str) and hmac.compare_digest(opened_with, admin_token_digest())


@bp.before_request
def require_admin_session():
    """The console needs the admin token once per browser session; it is off without a configured token."""
    if not current_app.config.get("SANDBOX_ADMIN_TOKEN"):
        return render_template("errors/error.html", status=404, title="Console off",
                               message="Set SANDBOX_ADMIN_TOKEN to enable the QA console."), 404
    if request.endpoint != "sandbox_console.login" and not has_console_session():
        session.pop("sandbox_admin", None)  # opened with another token: that session is over
        return redirect(url_for("sandbox_console.login"))
    return None


@bp.route("/login", methods=["GET", "POST"])
@rate_limited("LOGIN_RATE_LIMIT", methods=["POST"])
def login():
    """Exchange the admin token for a console session."""
    form = AdminLoginForm()
    if form.validate_on_submit():
        if is_admin_token(form.token.data):
            session["sandbox_admin"] = admin_token_digest()
            return redirect(url_for("sandbox_console.index"))
        form.token.errors.append("That is not the admin token.")
    return render_template("qa/login.html", form=form)


@bp.get("/")
def index():
    """Journal (filtered), faults, clock, rate limits and reset on one page."""
    filters = {name: request.args.get(name) or None for name in ("dialect", "client_id", "path")}
    status = request.args.get("status")
    entries = journal.query_entries(**filters, status=int(status) if status and status.isdigit() else None)
    faults = db.session.scalars(db.select(Fault).order_by(Fault.id)).all()
    return render_template("qa/console.html", entries=entries, faults=faults, filters=filters, status=status,
                           now=clock.now(), offset=clock.offset(), limits=get_rate_limits(), form=ConsoleForm())


@bp.post("/<any('reset', 'clear-journal', 'clear-faults', 'add-fault', 'clock'):action>")
def act(action):
    """The console's buttons (CSRF checked by the app-wide CSRFProtect), each doing what the admin API does."""
    try:
        flash(perform(action))
    except (DialectError, FixtureError) as error:
        db.session.rollback()
        flash(f"Not done: {getattr(error, 'description', error)}")
    return redirect(url_for("sandbox_console.index"))


def perform(action):
    """Carry out one console action; the message to show."""
    if action == "reset":
        return f"Reset in {reset_all():.2f} s."
    if action == "clear-journal":
        journal.clear()
        return "Journal cleared."
    if action == "clear-faults":
        clear_faults()
        return "Faults cleared."
    if action == "add-fault":
        form = request.form
        data = {"path": form.get("path"), "method": form.get("method") or None, "error": form.get("error") or None,
                "status": int(form["status"]) if form.get("status", "").isdigit() else None,
                "count": int(form["count"]) if form.get("count", "").isdigit() else None,
                "latency_ms": int(form["latency_ms"]) if form.get("latency_ms", "").isdigit() else 0}
        fault = fault_from(data)
        add_fault(fault)
        return f"Fault added on {fault.path}."
    advance = request.form.get("advance", "")
    if not advance.lstrip("-").isdigit():
        return "Give the seconds to advance the clock by (negative to go back, 0 to reset)."
    set_clock_offset(0 if int(advance) == 0 else clock.offset() + int(advance))
    return f"Clock now {clock.now()} (offset {clock.offset()} s)."
