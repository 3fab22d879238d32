"""Logging that never records a secret: passwords, codes and tokens are redacted from every line."""
import logging
import re

# The names of secret parameters and fields: redacted from every log line here, and from the journal (qa/journal.py).
SECRET_NAMES = frozenset(("password", "client_secret", "code", "code_verifier", "access_token", "refresh_token",
                          "token", "id_token"))
_QUERY_VALUE = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_NAMES)) + r")=[^&\s\"']*")
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*")


def redact(text):
    """`text` with sensitive query/form values and Authorization credentials replaced."""
    return _BEARER.sub(r"\1 [REDACTED]", _QUERY_VALUE.sub(r"\1=[REDACTED]", text))


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler sees it."""

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def init_app(app):
    """Redact the request log (werkzeug), the app's log and Authlib's; keep Authlib's token dumps off."""
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    # Authlib logs whole token responses at DEBUG ("Issue token {...}").
    logging.getLogger("authlib").setLevel(logging.INFO)
