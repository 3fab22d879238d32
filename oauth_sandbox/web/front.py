"""The front page, the sandbox's own callback helper, and template filters."""
import time

from flask import Blueprint, render_template, request

from ..dialects import DIALECTS
from ..extensions import db
from ..models import LOOPBACK_HOSTS, AuthorizationCode
from ..security import hash_token, token_matches

bp = Blueprint("front", __name__)


@bp.get("/")
def index():
    """Every dialect with its endpoints, demo credentials and copy-paste requests."""
    return render_template("front/index.html", dialects=DIALECTS, base_url=request.host_url.rstrip("/"),
                           is_loopback=request.scheme == "http" and request.host.split(":")[0] in LOOPBACK_HOSTS)


@bp.get("/callback")
def callback():
    """A redirect_uri for people trying the flow by hand: shows the code and the request to redeem it, in the
    dialect of the client the code was issued to (the code's row, found by its hash, knows it).

    The demo php client registers http://127.0.0.1:8000/callback; loopback redirect URIs match on any
    port (RFC 8252 §7.3), so http://127.0.0.1:5000/callback on the sandbox itself is accepted too.
    """
    code = request.args.get("code")
    issued = db.session.scalar(db.select(AuthorizationCode).filter_by(code_hash=hash_token(code))) if code else None
    return render_template("front/callback.html", code=code, state=request.args.get("state"),
                           error=request.args.get("error"), error_description=request.args.get("error_description"),
                           base_url=request.host_url.rstrip("/"), issued=issued,
                           client_secret=shown_secret(issued.client) if issued is not None else None)


def shown_secret(client):
    """The demo secret of a demo client (`<client_id>-secret`, when that is its secret), else a placeholder: other
    secrets are stored hashed."""
    demo_secret = f"{client.client_id}-secret"
    return demo_secret if token_matches(client.client_secret_hash, demo_secret) else "YOUR_CLIENT_SECRET"


@bp.app_template_filter("timestamp")
def format_timestamp(unix_seconds):
    """Unix seconds as a UTC date and time for pages."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(unix_seconds))
