"""Fault injection: make requests to a path fail the way real servers fail.

A fault answers a documented error of the path's dialect (on an authorization endpoint: the redirect back to the
client with `error` and `state`, as the endpoint sends its own errors), a bare 429/500/502/503/504, waits
(`latency_ms`), sends nothing for longer than a client waits (`stall_ms`), or closes the connection without any
response (`drop`: DropConnection, the WSGI middleware the factory installs).
"""
import errno
import random
import socket
import time

from authlib.oauth2 import OAuth2Error
from flask import current_app, request
from sqlalchemy import update

from ..consent import refuse_authorization
from ..database import release_session
from ..errors import dialect_owner
from ..extensions import db
from ..settings import put_setting, setting
from . import metrics
from .models import Fault

INJECTABLE_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_STATUSES = (429, 503)
MAX_LATENCY_MS = 60000
MAX_STALL_MS = 120000
DROP_STATUS = 444  # the journal's status of a dropped request (nginx's "connection closed without response")
DROP_KEY = "oauth_sandbox.drop_connection"  # set in the WSGI environ by a drop fault


def matching_fault():
    """The first fault for this request's path and method that fires now (counting it down atomically)."""
    faults = db.session.scalars(db.select(Fault).filter_by(path=request.path).order_by(Fault.id)).all()
    for fault in faults:
        if fault.method not in (None, request.method):
            continue
        if fault.rate is not None and random.random() >= fault.rate:
            continue
        if fault.remaining is not None:
            taken = db.session.execute(update(Fault).where(Fault.id == fault.id, Fault.remaining > 0)
                                       .values(remaining=Fault.remaining - 1)).rowcount
            db.session.commit()
            if taken != 1:
                continue
        return fault
    return None


def inject():
    """On a dialect path, when faults are configured, wait and/or answer the injected error (request envelope):
    None, or the response to send instead of the view's."""
    if not setting("faults_active"):
        return None
    owner = dialect_owner()
    if owner is None or owner[0] == "sandbox":
        return None
    fault = matching_fault()
    if fault is None:
        return None
    fault = fault.to_json()  # plain values: the session is released before any wait
    metrics.fault_injected(owner[0], fault)
    wait_ms = (fault["latency_ms"] or 0) + (fault["stall_ms"] or 0)
    if wait_ms:
        release_session()  # a stalled request holds no database connection
        time.sleep(wait_ms / 1000)
    if fault["drop"]:
        request.environ[DROP_KEY] = True
        return current_app.response_class(status=DROP_STATUS)
    # (The errors are raised as made, not from a local of this frame: the frame in its own error's traceback would
    # be a cycle holding the request until a garbage collection.)
    if fault["error"]:
        server = authorization_server()
        if server is not None:
            return authorization_fault(server, owner[1].documented_error(fault["error"]))
        raise owner[1].documented_error(fault["error"])
    if fault["status"]:
        raise status_error(owner[1], fault)
    return None


def status_error(error_class, fault):
    """The error of a fault that injects an HTTP status: the dialect's body for the nearest error it has (v1:
    server_error), with that status, and `Retry-After` where the status takes one."""
    error = error_class.from_http_status(fault["status"], f"Injected fault: HTTP {fault['status']}")
    error.status = fault["status"]
    if fault["status"] in RETRY_AFTER_STATUSES:
        error.headers["Retry-After"] = str(fault["retry_after"])
    return error


def authorization_server():
    """The Authlib server of this request's view when it is an authorization endpoint (consent.authorization_view)."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "authorization_server", None)


def authorization_fault(server, error):
    """A documented error on an authorization endpoint, as the endpoint sends errors: back to the client's
    redirect_uri with `error` and `state` once the dialect's server finds client and redirect_uri valid, else
    its 400 page (or JSON)."""
    try:
        grant = server.get_consent_grant(end_user=None)
        redirect_uri, state = grant.redirect_uri, grant.request.payload.state
    except OAuth2Error as invalid:  # a request that could not be approved anyway: redirect only if it may
        redirect_uri, state = invalid.redirect_uri, invalid.state
    db.session.rollback()
    return refuse_authorization(server, OAuth2Error(error.description, state=state, redirect_uri=redirect_uri,
                                                    error=error.error))


class DropConnection:
    """WSGI middleware: a request a `drop` fault fired for gets no response at all; its connection is closed.

    The socket is shut down where the server exposes it (werkzeug's `werkzeug.socket`, gunicorn's
    `gunicorn.socket`), then a ConnectionResetError tells the server the client is gone, so it writes nothing.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        iterable = self.wsgi_app(environ, start_response)
        if not environ.get(DROP_KEY):
            return iterable
        if hasattr(iterable, "close"):
            iterable.close()
        connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionResetError(errno.ECONNRESET, "Injected fault: connection dropped without a response")


def add_fault(fault):
    """Store a validated fault and switch fault checking on for every worker."""
    db.session.add(fault)
    db.session.commit()
    put_setting("faults_active", True)


def clear_faults():
    """Remove every fault and switch fault checking off (no per-request fault query)."""
    db.session.execute(Fault.__table__.delete())
    db.session.commit()
    put_setting("faults_active", False)
