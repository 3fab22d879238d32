"""Logging that never records a secret: passwords, codes and tokens are redacted from every line."""
import logging
import re
from urllib.parse import unquote_plus

# The names of secret parameters and fields: redacted from every log line here, and from the journal (qa/journal.py),
# matched on the name as the app reads it (percent-decoded, any case: `pass%77ord=` and `PASSWORD=` are `password`).
SECRET_NAMES = frozenset(("password", "client_secret", "code", "code_verifier", "access_token", "refresh_token",
                          "token", "id_token"))
# A `name=value` pair of a query string or form in a line: the name (letters, digits, `_`, `%XX` escapes and the
# `+` of a space), not preceded by another of those; the value up to the next `&`, space or quote.
_PARAMETER = re.compile(r"(?<![\w%+])([\w%+]+)=([^&\s\"']*)")
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*")


def is_secret_name(name):
    """Whether a parameter or field called `name` (as written on the wire, or already decoded) holds a secret."""
    for _ in range(3):  # an escape of an escape (`%2577`) is decoded too: redacting more is harmless
        if "%" not in name and "+" not in name:
            break
        name = unquote_plus(name)
    return name.strip().lower() in SECRET_NAMES


def _redact_parameter(match):
    return f"{match.group(1)}=[REDACTED]" if is_secret_name(match.group(1)) else match.group(0)


def redact(text):
    """`text` with sensitive query/form values and Authorization credentials replaced."""
    if "=" in text:
        text = _PARAMETER.sub(_redact_parameter, text)
    return _BEARER.sub(r"\1 [REDACTED]", text)


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
