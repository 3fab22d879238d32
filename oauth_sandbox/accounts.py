"""The browser session's user, for the pages and the dialects: who is logged in, and a login-required guard.

The login and logout pages that set and end it are in web/auth.py.
"""
import functools

from flask import g, redirect, request, session, url_for

from .extensions import db
from .models import User


def current_user():
    """The logged-in user of this browser session, or None."""
    if "current_user" not in g:
        user_id = session.get("user_id")
        g.current_user = db.session.get(User, user_id) if user_id is not None else None
    return g.current_user


def login_required(view):
    """Send a visitor who is not logged in to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
