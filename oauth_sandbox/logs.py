"""Logging that never records a secret: passwords, codes and tokens are redacted from every line."""
import json
import logging
import re
import time
from functools import lru_cache
from urllib.parse import unquote_plus

# The names of secret parameters and fields: redacted from every log line here, and from the journal (qa/journal.py),
# matched on the name as the app reads it (percent-decoded, any case: `pass%77ord=` and `PASSWORD=` are `password`).
SECRET_NAMES = frozenset(("password", "client_secret", "code", "code_verifier", "access_token", "refresh_token",
                          "token", "id_token"))
# A `name=value` pair of a query string or form in a line: the name (letters, digits, `_`, `%XX` escapes and the
# `+` of a space), not preceded by another of those; the value up to the next `&`, space or quote.
_PARAMETER = re.compile(r"(?<![\w%+])([\w%+]+)=([^&\s\"']*)")
# A credential after its scheme (RFC 6750's b64token, or Basic's base64); not a challenge's parameter, which follows
# its scheme the same way (`WWW-Authenticate: Bearer realm="Fusio"`, `Bearer error="invalid_token"`): one of their
# names, then `="` (a token's `=` is padding at its end; none of those names with it is a credential in use).
_BEARER = re.compile(r'(?i)\b(Bearer|Basic)\s+(?!(?:realm|error|error_description|error_uri|scope|charset)=")'
                     r"[A-Za-z0-9\-._~+/]+=*")


def is_secret_name(name):
    """Whether a parameter or field called `name` (as written on the wire, or already decoded) holds a secret. The
    answer for a name up to 64 characters is kept (most recur from request to request: `grant_type`…)."""
    return _short_name_is_secret(name) if len(name) <= 64 else _names_a_secret(name)


def _names_a_secret(name):
    for _ in range(3):  # an escape of an escape (`%2577`) is decoded too: redacting more is harmless
        if "%" not in name and "+" not in name:
            break
        name = unquote_plus(name)
    return name.strip().lower() in SECRET_NAMES


_short_name_is_secret = lru_cache(maxsize=4096)(_names_a_secret)


def could_name_a_secret(text):
    """Whether a name in `text` (JSON) could be a secret's as is_secret_name reads it, kept beside it (the journal
    asks before it walks a body): one of SECRET_NAMES in it, in any case, or what could spell one (a `%` escape,
    which the name is decoded from, or a `\\u` escape of a character whose lower case is a letter of one, such as the
    Kelvin sign). A `+` decodes to a space, which no secret's name holds: it can only be stripped from around one
    that is in the text as it is."""
    if "%" in text or "\\u" in text:
        return True
    lowered = text.lower()
    return any(name in lowered for name in SECRET_NAMES)


def _redact_parameter(match):
    return f"{match.group(1)}=[REDACTED]" if is_secret_name(match.group(1)) else match.group(0)


def redact(text):
    """`text` with sensitive query/form values and Authorization credentials replaced."""
    if "=" in text:
        text = _PARAMETER.sub(_redact_parameter, text)
    if " " not in text and "\t" not in text:  # no credential follows a scheme here (most header values, paths)
        return text
    return _BEARER.sub(r"\1 [REDACTED]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler sees it."""

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line (SANDBOX_LOG_FORMAT=json): time, level, logger, message and any exception, each
    redacted by `redact` as every other log line is."""

    def format(self, record):
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z", "level": record.levelname, "logger": record.name,
                 "message": redact(record.getMessage())}
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def use_json_logs(app):
    """Every line of the app's, werkzeug's and gunicorn's logs as a JSON object (handlers keep their streams)."""
    formatter = JsonLogFormatter()
    root = logging.getLogger()
    if not any(getattr(handler, "sandbox_json", False) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.sandbox_json = True
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in ("", "werkzeug", "gunicorn.error", "gunicorn.access", app.logger.name):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)


def init_app(app):
    """Redact the request log (werkzeug), the app's log and Authlib's; keep Authlib's token dumps off."""
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    if app.config.get("LOG_FORMAT") == "json":
        use_json_logs(app)
    # Authlib logs whole token responses at DEBUG ("Issue token {...}").
    logging.getLogger("authlib").setLevel(logging.INFO)
