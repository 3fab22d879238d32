"""The login and logout pages, shared by every dialect that has an authorization step (the session's user:
accounts.py)."""
import time
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from ..accounts import current_user
from ..forms import LoginForm, LogoutForm
from ..models import User
from ..ratelimit import rate_limited

bp = Blueprint("auth", __name__)

# What a login is for, by the path it continues to (`next`); the consent pages name the client too.
AREAS = (
    ("/api/authorize.php", "the php dialect's consent page (seed 002)"),
    ("/oauth/authorize", "Mokapen's consent page (seed 000)"),
    ("/account/developer/", "Mokapen's developer dashboard (seed 001)"),
    ("/account/organizations", "Mokapen's organizations (seed 001)"),
    ("/portal/", "Fusio's developer portal (seed 003)"),
    ("/account/devices/", "My devices, the v1 dialect's sessions (seed 004)"),
)


def safe_next(target):
    """`target` if it is a local path on this server, else the front page (no open redirect, and no control
    character: a line break cannot go into the Location header)."""
    if target and target.isprintable():
        parts = urlsplit(target)
        # Browsers read "/\\host" as "//host": a backslash anywhere disqualifies the target.
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("front.index")


@bp.route("/login", methods=["GET", "POST"])
@rate_limited("LOGIN_RATE_LIMIT", methods=["POST"])
def login():
    """Show the login form; on valid credentials start a fresh session and follow a local `next`."""
    form = LoginForm()
    if form.validate_on_submit():
        user = User.authenticate(form.username.data.strip(), form.password.data)
        if user is not None:
            session.clear()  # no session fixation: the logged-in session starts empty
            session["user_id"] = user.id
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append("Unknown username or wrong password.")
    return render_template("auth/login.html", form=form, next=request.args.get("next"), area=login_area())


def login_area():
    """What the login continues to, in words (the sandbox's front page when `next` names nothing else)."""
    target = urlsplit(safe_next(request.args.get("next")))
    for prefix, area in AREAS:
        if target.path.startswith(prefix):
            client_id = parse_qs(target.query).get("client_id", [""])[0]
            return f"{area}, for the client {client_id}" if client_id else area
    return "the sandbox (its front page)"


@bp.errorhandler(429)
def too_many_logins(exc):
    """The login form's rate limit: the form again, saying when to try again (Retry-After says it too)."""
    state = g.get("rate_limit")
    wait = state.retry_after if state is not None else 60
    retry_at = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + wait))
    message = (f"Too many login attempts from your address ({exc.description}). "
               f"Try again in {wait} second{'s' if wait != 1 else ''}, at {retry_at}.")
    return render_template("auth/login.html", form=LoginForm(formdata=None), next=request.args.get("next"),
                           area=login_area(), too_many=message), 429


@bp.post("/logout")
def logout():
    """End the browser session."""
    form = LogoutForm()
    if form.validate_on_submit():
        session.clear()
        flash("You are logged out.")
    return redirect(url_for("front.index"))


@bp.app_context_processor
def inject_user():
    """Make the logged-in user and a logout form available to every template. The form only renders here: it reads
    no form data (reading it would parse the body again, and the 413 page of a body over the limit would raise)."""
    user = current_user()
    return {"current_user": user, "logout_form": LogoutForm(formdata=None) if user else None}
