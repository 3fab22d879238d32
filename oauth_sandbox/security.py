"""Secrets at rest: slow hashes for passwords, SHA-256 for high-entropy secrets and tokens."""
import functools
import hashlib
import hmac
import secrets
import threading

from werkzeug.security import check_password_hash, generate_password_hash

# Sent with every response: pages cannot be framed (clickjacking on consent), sniffed, or leak URLs with codes in
# Referer.
SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


def hash_password(password):
    """Hash a user's password with werkzeug's salted scrypt."""
    return generate_password_hash(password)


def password_matches(password_hash, password):
    """Check a password against its hash; no hash (an unknown user) fails after the same work.

    Checking against a throwaway hash keeps unknown usernames from answering faster than wrong passwords.
    """
    if password_hash is None:
        check_password_hash(_throwaway_password_hash(), password)
        return False
    return check_password_hash(password_hash, password)


KNOWN_HASHES_KEPT = 1024
_known_hashes = {}  # demo and fixture password -> its hash
_hashing_known = threading.Lock()


def known_password_hash(password):
    """The hash of a demo or fixture password, made with hash_password once per process and reused.

    A reset recreates the demo users (or a fixtures file's) every time, and scrypt takes ~50 ms a password by
    design: so each distinct password of that test data is hashed once, and every reset stores that same salted
    hash for it (users given one password share its hash and salt). It verifies like any other, with
    password_matches. Passwords people choose (sign-up, `flask create-user`, the admin API) are hashed anew.
    One password is hashed at a time: asked for while another thread hashes it, it waits for that hash.
    """
    known = _known_hashes.get(password)
    if known is None:
        with _hashing_known:
            known = _known_hashes.get(password)
            if known is None:
                if len(_known_hashes) >= KNOWN_HASHES_KEPT:
                    _known_hashes.clear()
                known = _known_hashes[password] = hash_password(password)
    return known


@functools.cache
def _throwaway_password_hash():
    """A hash of a random password, made once per process on first use."""
    return hash_password(secrets.token_hex(16))


def hash_token(value):
    """SHA-256 hex digest of a random secret (client secret, code, token): its stored form.

    These values carry 256 bits of entropy, so a fast hash is enough and keeps lookups indexable.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def token_matches(stored_hash, presented):
    """Compare a presented secret with its stored hash in constant time."""
    return hmac.compare_digest(stored_hash, hash_token(presented))


def new_token(prefix=""):
    """A new random secret, with a prefix naming its kind (e.g. `php_at_`)."""
    return prefix + secrets.token_urlsafe(32)
