"""Fault injection: make requests to a path answer a documented error of its dialect, 429/500/503, or wait."""
import random
import time

from flask import request
from sqlalchemy import update

from ..errors import dialect_owner
from ..extensions import db
from ..settings import put_setting, setting
from .models import Fault

INJECTABLE_STATUSES = (429, 500, 503)


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
    """On a dialect path, when faults are configured, wait and/or answer the injected error (request envelope)."""
    if not setting("faults_active"):
        return None
    owner = dialect_owner()
    if owner is None or owner[0] == "sandbox":
        return None
    fault = matching_fault()
    if fault is None:
        return None
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)
    if fault.error:
        raise owner[1].documented_error(fault.error)
    if fault.status:
        error = owner[1].from_http_status(fault.status, f"Injected fault: HTTP {fault.status}")
        if fault.status in (429, 503):
            error.headers["Retry-After"] = str(fault.retry_after)
        raise error
    return None


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
