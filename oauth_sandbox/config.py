"""Default settings, and how create_app layers instance config and the environment over them."""
import json
import math
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

PROFILES = ("development", "production", "testing")

DEFAULTS = {
    # development: demo data on first start; production: nothing implicit (see the README).
    "SANDBOX_PROFILE": "development",
    "SQLALCHEMY_DATABASE_URI": None,  # None: SQLite file instance/sandbox.db
    "SQLITE_BUSY_TIMEOUT_SECONDS": 30,
    # Rate limits (flask-limiter syntax); low enough to hit by hand.
    "RATELIMIT_STORAGE_URI": "sandbox-memory://",  # limits' memory storage without its timer (limits_storage.py)
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "oauth-sandbox",
    # Redis unreachable: count in each worker's memory instead (logged), and go back to Redis when it answers.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "PHP_TOKEN_RATE_LIMIT": "30 per minute",
    "PHP_USERINFO_RATE_LIMIT": "60 per minute",
    "V1_TOKEN_RATE_LIMIT": "20 per minute",
    "CONSUMER_RATE_LIMIT": "60 per minute",
    "MOKAPEN_TOKEN_RATE_LIMIT": "30 per minute",
    "MOKAPEN_API_RATE_LIMIT": "120 per minute",
    "V1_API_RATE_LIMIT": "60 per minute",
    # OAuth engine
    "AUTH_CODE_TTL_SECONDS": 600,  # RFC 6749 §4.1.2: at most 10 minutes recommended
    "PHP_ACCESS_TOKEN_TTL_SECONDS": 3600,  # seed 002: "expires_in": 3600
    "V1_ACCESS_TOKEN_TTL_SECONDS": 30 * 24 * 3600,  # seed 004: "expires every 30 days"
    "CONSUMER_TOKEN_TTL_SECONDS": 3600,  # seed 003: "expires_in": 3600
    "CONSUMER_REFRESH_TTL_SECONDS": 3 * 24 * 3600,  # Fusio's fusio_expire_refresh default (P3D)
    "CONSUMER_DEFAULT_ROLE": "Consumer",  # given to users who register at the developer portal
    "CONSUMER_JWT_SECRET": None,  # HS256 key; None derives one from SECRET_KEY
    "MOKAPEN_ACCESS_TOKEN_TTL_SECONDS": 31536000,  # seed 000: "expires_in": 31536000
    "MOKAPEN_REFRESH_TOKEN_TTL_SECONDS": 30 * 24 * 3600,
    "MOKAPEN_AUTO_APPROVE": False,  # True: public apps skip review (for QA)
    "MOKAPEN_LOGO_MAX_BYTES": 256 * 1024,
    "MOKAPEN_RSA_KEY_PATH": None,  # None: instance/mokapen-rsa.pem, generated on first start
    # Users who may review mokapen's public apps (the QA admin API of a later issue has its own token).
    "SANDBOX_ADMIN_USERS": ["johndoe"],
    # Requests and cookies
    # The URL clients reach the sandbox at (scheme://host[:port], e.g. https://sandbox.example.com): the issuer, the
    # metadata's URLs and Fusio's `iss` say it, and requests for any other host are refused (TRUSTED_HOSTS, unless
    # set). None: the request's own host (development; behind a proxy, set it).
    "PUBLIC_BASE_URL": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # The sample clients run on localhost too, and cookies ignore ports: a distinct name keeps
    # the sandbox's login from being overwritten by a sample's Flask `session` cookie.
    "SESSION_COOKIE_NAME": "oauth_sandbox_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: True in the production profile (behind TLS), False elsewhere
    "WTF_CSRF_TIME_LIMIT": 3600,
    "WTF_CSRF_CHECK_DEFAULT": False,  # the request envelope makes flask-wtf's check, for the unsafe methods only
    # Authlib refuses plain http except on loopback; a sandbox is often served over http.
    "ALLOW_INSECURE_HTTP": True,
    # QA controls
    "SANDBOX_ADMIN_TOKEN": None,  # development: generated into instance/admin_token; elsewhere None = off
    "SANDBOX_FIXTURES": None,  # a JSON or YAML fixtures file loaded by reset (and first start) instead of demo data
    "JOURNAL_ENABLED": True,
    "JOURNAL_MAX_ENTRIES": 10000,
    # Entries are written in batches at least this often (0: each in its own request, slower).
    "JOURNAL_FLUSH_SECONDS": 0.2,
    # Housekeeping: expired codes and tokens are purged after this long (`flask purge-expired`, and in the
    # production profile by each worker at most once per PURGE_INTERVAL_SECONDS).
    "PURGE_AFTER_SECONDS": 24 * 3600,
    "PURGE_INTERVAL_SECONDS": 3600,
}


def load_config(app, test_config=None):
    """Fill app.config: defaults, then instance/config.py (or the test config), then the environment."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(settings_from_environment(os.environ))
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            app.config["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
    else:
        app.config.from_mapping(test_config)

    profile = app.config["SANDBOX_PROFILE"]
    if profile not in PROFILES:
        raise RuntimeError(f"SANDBOX_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}")
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)  # secrets and the SQLite file live there
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "sandbox.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if profile == "production":
        check_production_secrets(app.config)
    if app.config["PUBLIC_BASE_URL"]:
        app.config["PUBLIC_BASE_URL"], host = public_base_url(app.config["PUBLIC_BASE_URL"])
        if app.config.get("TRUSTED_HOSTS") is None:
            app.config["TRUSTED_HOSTS"] = [host]
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = profile == "production"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"], _ = instance_secret(Path(app.instance_path) / "secret_key")
    if not app.config["SANDBOX_ADMIN_TOKEN"] and profile == "development":
        token_file = Path(app.instance_path) / "admin_token"
        token, created = instance_secret(token_file)
        app.config["SANDBOX_ADMIN_TOKEN"] = token
        app.config["SANDBOX_ADMIN_TOKEN_FILE"] = str(token_file)  # where the pages say it is
        if created:  # shown once, on the console that started the sandbox; it is in the data dir's file after
            print(f" * QA admin token (also in {token_file}): {token}")


WEAK_SECRETS = {"", "dev", "development", "secret", "changeme", "change-me", "please-change-me", "test", "key"}
MIN_SECRET_LENGTH = 32
# Estimated as length × log2(distinct characters), the length being that of the shortest unit the secret repeats:
# 'a' * 32 scores 0, 'demo-password' * 3 about 43; a random 32-hex-character value about 120 (below 96 once in 25
# million), `secrets.token_hex(32)` 256.
MIN_SECRET_BITS = 96
STRONG_SECRET_HINT = "python -c 'import secrets; print(secrets.token_hex(32))'"


def estimated_bits(secret):
    """A rough upper bound of a secret's entropy: the length of the unit it repeats (all of it, usually) × log2(the
    number of distinct characters in it)."""
    distinct = len(set(secret))
    return repeating_unit_length(secret) * math.log2(distinct) if distinct > 1 else 0.0


def repeating_unit_length(text):
    """The smallest period of `text`: 2 for 'ababa', len(text) when nothing repeats."""
    return next((period for period in range(1, len(text) // 2 + 1) if text[period:] == text[:-period]), len(text))


def weak_secret(secret):
    """Why `secret` is too weak for production (a phrase), or None."""
    if secret.lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if estimated_bits(secret) < MIN_SECRET_BITS:
        return f"too little entropy (about {estimated_bits(secret):.0f} bits; at least {MIN_SECRET_BITS} needed)"
    return None


def check_production_secrets(config):
    """The production profile refuses to start without its own secret key, or with a weak secret key, consumer JWT
    secret or admin token (too short, or too few distinct characters for its length)."""
    key = config.get("SECRET_KEY") or ""
    if weak_secret(key):
        raise RuntimeError(f"The production profile needs SANDBOX_SECRET_KEY: a random value of at least "
                           f"{MIN_SECRET_LENGTH} characters ({STRONG_SECRET_HINT}); this one is {weak_secret(key)}")
    jwt_secret = config.get("CONSUMER_JWT_SECRET")
    if jwt_secret and weak_secret(jwt_secret):
        raise RuntimeError(f"SANDBOX_CONSUMER_JWT_SECRET must be a random value of at least {MIN_SECRET_LENGTH} "
                           f"characters ({STRONG_SECRET_HINT}), or unset (derived from the secret key); this one is "
                           f"{weak_secret(jwt_secret)}")
    token = config.get("SANDBOX_ADMIN_TOKEN")
    if token is not None and weak_secret(token):
        raise RuntimeError(f"SANDBOX_ADMIN_TOKEN must be a random value of at least {MIN_SECRET_LENGTH} characters "
                           f"({STRONG_SECRET_HINT}), or unset (QA controls off); this one is {weak_secret(token)}")


def public_base_url(url):
    """(the URL without a trailing slash, its host name) of a PUBLIC_BASE_URL; RuntimeError if it is not one."""
    parts = urlsplit(str(url).rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise RuntimeError(f"PUBLIC_BASE_URL must be scheme://host[:port] (e.g. https://sandbox.example.com), "
                           f"not {url!r}")
    return parts.geturl(), parts.hostname


TEXT_SETTINGS = {"SECRET_KEY", "SANDBOX_ADMIN_TOKEN", "CONSUMER_JWT_SECRET", "SQLALCHEMY_DATABASE_URI",
                 "SANDBOX_FIXTURES", "MOKAPEN_RSA_KEY_PATH", "PUBLIC_BASE_URL"}


def settings_from_environment(environ):
    """SANDBOX_<NAME>=value settings: SANDBOX_PROFILE sets SANDBOX_PROFILE (a setting named so), SANDBOX_PHP_…
    sets PHP_…; values are read as JSON when they parse (numbers, true/false, lists), else as strings."""
    settings = {}
    for name, raw in environ.items():
        if not name.startswith("SANDBOX_"):
            continue
        key = name if name in DEFAULTS else name[len("SANDBOX_"):]
        if key in TEXT_SETTINGS or isinstance(DEFAULTS.get(key), str):
            settings[key] = raw  # secrets and texts stay strings, even when they look like numbers
            continue
        try:
            settings[key] = json.loads(raw)
        except ValueError:
            settings[key] = raw
    return settings


def normalize_database_url(url):
    """Accept the common postgres:// spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_secret(path):
    """(secret, created): a generated secret read from instance/, created (mode 0600) on first start."""
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key, True
