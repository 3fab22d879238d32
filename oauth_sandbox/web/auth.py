"""The login and logout pages, shared by every dialect that has an authorization step (the session's user:
accounts.py)."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from ..accounts import current_user
from ..forms import LoginForm, LogoutForm
from ..models import User
from ..ratelimit import rate_limited

bp = Blueprint("auth", __name__)


def safe_next(target):
    """`target` if it is a local path on this server, else the front page (no open redirect)."""
    if target:
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
    return render_template("auth/login.html", form=form, next=request.args.get("next"))


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
    """Make the logged-in user and a logout form available to every template."""
    user = current_user()
    return {"current_user": user, "logout_form": LogoutForm() if user else None}
