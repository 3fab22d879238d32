"""Housekeeping: purge expired codes and tokens so that the database stays bounded under a long run."""
import time

from flask import current_app
from sqlalchemy import delete, or_

from . import clock
from .extensions import db
from .models import AuthorizationCode, Token

_last_purge = 0.0  # per process: when this worker last purged (monotonic seconds)


def purge_expired():
    """Delete codes and tokens dead for PURGE_AFTER_SECONDS (expired, used or revoked); the counts."""
    cutoff = clock.now() - current_app.config["PURGE_AFTER_SECONDS"]
    codes = db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.expires_at < cutoff)).rowcount
    # A token is dead once its access token expired and it can no longer be refreshed (no refresh token, or one
    # issued long enough ago: the longest refresh lifetime of any dialect), or once revoked.
    refresh_ttl = max(value for name, value in current_app.config.items()
                      if "REFRESH" in name and name.endswith("_TTL_SECONDS"))
    tokens = db.session.execute(delete(Token).where(or_(
        Token.revoked_at < cutoff,
        (Token.issued_at + Token.expires_in < cutoff)
        & (Token.refresh_token_hash.is_(None) | (Token.issued_at + refresh_ttl < cutoff)),
    ))).rowcount
    db.session.commit()
    return {"codes": codes, "tokens": tokens}


def purge_on_schedule():
    """After a request in production (request envelope): purge at most once per PURGE_INTERVAL_SECONDS per worker."""
    global _last_purge
    if time.monotonic() - _last_purge >= current_app.config["PURGE_INTERVAL_SECONDS"]:
        _last_purge = time.monotonic()
        try:
            purge_expired()
        except Exception:  # noqa: BLE001 - housekeeping must never fail a request
            db.session.rollback()
            current_app.logger.exception("scheduled purge failed")
