"""The front page, the sandbox's own callback helper, and template filters."""
import time

from flask import Blueprint, render_template, request

from ..dialects import DIALECTS
from ..models import LOOPBACK_HOSTS

bp = Blueprint("front", __name__)


@bp.get("/")
def index():
    """Every dialect with its endpoints, demo credentials and copy-paste requests."""
    return render_template("front/index.html", dialects=DIALECTS, base_url=request.host_url.rstrip("/"),
                           is_loopback=request.scheme == "http" and request.host.split(":")[0] in LOOPBACK_HOSTS)


@bp.get("/callback")
def callback():
    """A redirect_uri for people trying the flow by hand: shows the code and the request to redeem it.

    The demo php client registers http://127.0.0.1:8000/callback; loopback redirect URIs match on any
    port (RFC 8252 §7.3), so http://127.0.0.1:5000/callback on the sandbox itself is accepted too.
    """
    return render_template("front/callback.html", code=request.args.get("code"), state=request.args.get("state"),
                           error=request.args.get("error"), error_description=request.args.get("error_description"),
                           base_url=request.host_url.rstrip("/"))


@bp.app_template_filter("timestamp")
def format_timestamp(unix_seconds):
    """Unix seconds as a UTC date and time for pages."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(unix_seconds))
