"""The QA console for people: the journal (paged, filtered), faults, the clock, rate limits and reset, behind the
admin token.

It does its work through its own forms (CSRF-checked FlaskForms, and the app-wide CSRFProtect) and its own session,
never through the admin API, which accepts only the token in an Authorization header (a cookie would let another
origin's page act for you). Each form calls what the admin API calls: the same filters, the same validation.
"""
import hashlib
import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import StopValidation

from .. import clock
from ..errors import DialectError
from ..extensions import db
from ..ratelimit import rate_limited
from ..settings import set_clock_offset, setting
from . import journal
from .admin import (
    DIALECT_NAMES,
    HTTP_METHODS,
    change_rate_limits,
    fault_from,
    get_rate_limits,
    is_admin_token,
    journal_filters,
)
from .faults import add_fault, clear_faults
from .fixtures import FixtureError, reset_all
from .models import Fault

bp = Blueprint("sandbox_console", __name__, url_prefix="/console")

PAGE_SIZES = (10, 25, 50, 100, 500)
FILTER_NAMES = ("path_prefix", "path", "method", "dialect", "client_id", "user", "status", "since")


class AdminLoginForm(FlaskForm):
    token = PasswordField("Admin token")
    submit = SubmitField("Open the console")


class ConsoleForm(FlaskForm):
    """The CSRF token of the console's buttons; their fields are read from the form as posted."""


class ConsoleLogoutForm(FlaskForm):
    """Close the console session (a POST, so that another site cannot close it with a link)."""

    submit = SubmitField("Close console session")


def confirmed(form, field):
    """The box is ticked (checked here, not by the browser's `required`, so that every browser shows why)."""
    if not field.data:
        raise StopValidation("Tick the box to confirm the reset; nothing was changed.")


class ResetForm(FlaskForm):
    """The reset's confirmation step: nothing happens until the box is ticked (no JavaScript needed)."""

    confirm = BooleanField("Yes, put everything back: data, clock, faults, rate limits and their counters",
                           validators=[confirmed])
    keep_journal = BooleanField("Keep the request journal")
    submit = SubmitField("Reset the sandbox")


class RateLimitForm(FlaskForm):
    """One rate limit: a new value, or back to the configured one."""

    name = HiddenField()
    value = StringField("Limit")
    save = SubmitField("Save")
    restore = SubmitField("Restore configured")


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


@bp.context_processor
def console_header():
    """The header of every console page: the admin session is open, and the button that closes it."""
    return {"console_logout_form": ConsoleLogoutForm() if has_console_session() else None}


@bp.post("/logout")
def logout():
    """End this browser's console session (the admin token is needed again); its CSRF token checked by the
    app-wide CSRFProtect before this runs (ConsoleLogoutForm has no other field)."""
    session.pop("sandbox_admin", None)
    flash("Console session closed.")
    return redirect(url_for("sandbox_console.login"))


@bp.get("/")
def index():
    """Journal (filtered as GET /_sandbox/requests filters it, a page at a time), faults, clock, rate limits."""
    if any(not value for value in request.args.values()):  # the filter form's empty fields: not filtered on
        kept = {name: value for name, value in request.args.items() if value}
        return redirect(url_for("sandbox_console.index", **kept))
    filters, error, status = {}, None, 200
    try:
        filters = journal_filters()
    except DialectError as refused:
        error, status = refused.description, 400
    per_page = page_number("per_page", 25)
    per_page = per_page if per_page in PAGE_SIZES else 25
    page = page_number("page", 1)
    total = journal.count_entries(**filters) if error is None else 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    entries = journal.query_entries(limit=per_page, offset=(page - 1) * per_page, **filters) if error is None else []
    shown = {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}
    overrides = setting("rate_limits") or {}
    faults = db.session.scalars(db.select(Fault).order_by(Fault.id)).all()
    return render_template(
        "qa/console.html", entries=entries, faults=faults, filters=shown, filter_error=error, total=total,
        page=page, pages=pages, per_page=per_page, page_sizes=PAGE_SIZES, first=(page - 1) * per_page + 1,
        dialects=DIALECT_NAMES, methods=HTTP_METHODS, now=clock.now(), offset=clock.offset(),
        limits=get_rate_limits(), overrides=overrides, limit_form=RateLimitForm(), form=ConsoleForm()), status


def page_number(name, default):
    """A whole number of at least 1 from the query string, else `default` (paging never fails a page)."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else default


@bp.route("/reset", methods=["GET", "POST"])
def reset():
    """The reset, behind a confirmation page: what POST /_sandbox/reset does (the configured data)."""
    form = ResetForm()
    if form.validate_on_submit():
        try:
            seconds = reset_all(keep_journal=form.keep_journal.data)
        except FixtureError as error:
            db.session.rollback()
            flash(f"Not done: {error}")
        else:
            kept = "kept" if form.keep_journal.data else "emptied"
            flash(f"Reset in {seconds:.2f} s (journal {kept}).")
        return redirect(url_for("sandbox_console.index"))
    return render_template("qa/reset.html", form=form, fixtures=current_app.config.get("SANDBOX_FIXTURES")), (
        400 if form.is_submitted() else 200)


@bp.post("/rate-limits")
def rate_limits():
    """Change one rate limit, or restore its configured value: validated as PUT /_sandbox/rate-limits is."""
    form = RateLimitForm()
    if form.validate_on_submit():
        name, value = form.name.data or "", None if form.restore.data else (form.value.data or "").strip()
        try:
            change_rate_limits({name: value})
        except DialectError as error:
            flash(f"Not done: {error.description}")
        else:
            flash(f"{name} restored to {get_rate_limits()[name]}." if value is None else f"{name} is now {value}.")
    return redirect(url_for("sandbox_console.index", _anchor="rate-limits"))


@bp.post("/<any('clear-journal', 'clear-faults', 'add-fault', 'clock'):action>")
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
