"""For a deployed sandbox: a readiness probe (`GET /_sandbox/health`, no token) and Prometheus metrics (`/metrics`).

/metrics is open in development and testing; in production it needs the admin token, unless METRICS_PUBLIC
(SANDBOX_METRICS_PUBLIC=true) opens it (or =false closes it everywhere).
"""
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from ..database import release_session
from ..errors import first_line
from ..extensions import db
from . import metrics
from .admin import AdminError, is_admin_token

bp = Blueprint("sandbox_observe", __name__)
HEALTH_ENDPOINT = "sandbox_observe.health"  # the request envelope leaves it alone: it must not need the database


@bp.get("/_sandbox/health")
def health():
    """200 {"status": "ok"} when the database answers; 503 {"status": "unavailable"} otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - whatever the driver raises, the answer is "not ready"
        release_session()
        response = jsonify({"status": "unavailable", "database": "unreachable", "detail": first_line(error)})
        response.status_code = 503
        response.headers["Retry-After"] = "1"
        return response
    return {"status": "ok", "database": "ok", "profile": current_app.config["SANDBOX_PROFILE"]}


@bp.get("/metrics")
def prometheus_metrics():
    """Every metric in Prometheus's text format (see the module doc for who may read it)."""
    public = current_app.config.get("METRICS_PUBLIC")
    if public is None:
        public = current_app.config["SANDBOX_PROFILE"] != "production"
    if not public:
        presented = request.headers.get("Authorization", "")
        if not (presented.startswith("Bearer ") and is_admin_token(presented.removeprefix("Bearer "))):
            raise AdminError("unauthorized", "Send the admin token as 'Authorization: Bearer ADMIN_TOKEN' "
                             "(or set SANDBOX_METRICS_PUBLIC=true)", 401,
                             {"WWW-Authenticate": 'Bearer realm="OAuth Sandbox metrics"'})
    body, content_type = metrics.exposition()
    return current_app.response_class(body, content_type=content_type)
