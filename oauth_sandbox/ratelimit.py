"""Rate limits: a route declares the limit setting it is counted against; each request is counted once.

flask-limiter owns the storage (RATELIMIT_STORAGE_URI: `sandbox-memory://` by default, `redis://…` for several
workers), its `limits` strategy and the in-memory fallback used while Redis is unreachable. Its own request hooks
are not installed: they resolve every limit twice per request and cost more than the rest of a request does
(measured: 100–190 µs on a bare route). Instead the request envelope calls `count_request` once, with the limit the
route declared (`rate_limited`), keyed as flask-limiter keys it (prefix, client address, endpoint).

A reset empties the counters on every worker: the worker that resets empties the storage (Redis: every worker's
counters) and its own memory, and stores a new `limits_epoch` in the shared settings; every other worker, seeing
a new epoch on its next counted request, empties its own in-memory counters (the default `sandbox-memory://`
storage, or the fallback used while Redis is down) — a dict lookup per request while the epoch is unchanged.
"""
import logging
import time
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Optional

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from .limits_storage import SweptMemoryStorage  # registers sandbox-memory://, the default storage
from .settings import limit_text, setting

log = logging.getLogger(__name__)
MAX_RECOVERY_WAIT = 32  # seconds between looks at a storage that stopped answering, at the most


@dataclass(frozen=True)
class RouteLimit:
    """The limit setting a route is counted against, and the methods counted (None: all)."""

    setting: str
    methods: Optional[frozenset] = None


def rate_limited(setting, methods=None):
    """Declare that a view is counted against the rate limit called `setting` (only for `methods`, if given)."""
    def declare(view):
        view.rate_limit = RouteLimit(setting, frozenset(methods) if methods else None)
        return view
    return declare


@dataclass
class LimitState:
    """A request's count against its limit, for the response's headers."""

    amount: int
    remaining: int
    reset_at: int  # unix time the window ends
    exceeded: bool

    @cached_property
    def retry_after(self):
        """Seconds until the window ends, at least 1: worked out once, so that every part of the answer (the
        Retry-After header, the login page's text) says the same."""
        return max(int(self.reset_at - time.time()), 1)


class RequestLimiter(Limiter):
    """flask-limiter's storage, strategy and fallback, counted once per request by `count_request`."""

    def init_app(self, app):
        """Configure storage and strategy from the app's RATELIMIT_* settings, without flask-limiter's hooks."""
        app.extensions.setdefault("limiter", set()).add(self)  # flask-limiter hooks only into an app it has not seen
        super().init_app(app)
        self.next_recovery_check, self.recovery_wait = 0.0, 1

    def hit(self, item, *key):
        """Count one request against `item`; (allowed, window stats). Falls back to memory while storage is down.
        With the fixed window (the default) that is one increment and one expiry read, not limits' three calls
        (hit, then get and get_expiry: three round trips to Redis)."""
        self.look_for_recovery()
        strategy = self.limiter
        try:
            if type(strategy) is FixedWindowRateLimiter:  # the default: its count is the increment's answer
                counter = counter_key(item, key)
                storage = strategy.storage
                if type(storage) is SweptMemoryStorage:  # both in one call
                    count, expires_at = storage.incr_with_expiry(counter, item.get_expiry())
                else:
                    count = storage.incr(counter, item.get_expiry())
                    expires_at = storage.get_expiry(counter)
                return count <= item.amount, (expires_at, max(0, item.amount - count))
            return strategy.hit(item, *key), strategy.get_window_stats(item, *key)
        except Exception:  # noqa: BLE001 - whatever the storage's client raises when its server is gone
            if self._storage_dead or not self._in_memory_fallback_enabled:
                raise
            log.warning("Rate limit storage unreachable - falling back to in-memory storage")
            self._storage_dead = True
            self.next_recovery_check, self.recovery_wait = time.monotonic() + 1, 1
            return self.hit(item, *key)

    def look_for_recovery(self):
        """While counting in memory, ask the storage again after 1, 2, 4… up to 32 seconds."""
        if not self._storage_dead or time.monotonic() < self.next_recovery_check:
            return
        try:
            recovered = self.storage.check()
        except Exception:  # noqa: BLE001 - still down
            recovered = False
        if recovered:
            log.info("Rate limit storage recovered")
            self._storage_dead = False
        else:
            self.recovery_wait = min(self.recovery_wait * 2, MAX_RECOVERY_WAIT)
            self.next_recovery_check = time.monotonic() + self.recovery_wait


limiter = RequestLimiter(key_func=get_remote_address)


@lru_cache(maxsize=4096)
def counter_key(item, key):
    """The storage key of `item`'s counter for `key` (prefix, client address, endpoint), as limits makes it
    (`key_for`), made once for each client address and endpoint."""
    return item.key_for(*key)


@lru_cache(maxsize=256)
def parse_limits(text):
    """A limit string (flask-limiter syntax, e.g. "10 per minute; 100 per hour") as `limits` items."""
    return tuple(parse_many(text))


def route_limit(endpoint, app=None):
    """The RouteLimit the view at `endpoint` declared, or None (asked once per endpoint); `app`: the current app, when
    the caller has it."""
    app = app or current_app
    limits = app.extensions.setdefault("sandbox_route_limits", {})
    if endpoint not in limits:
        limits[endpoint] = getattr(app.view_functions.get(endpoint), "rate_limit", None)
    return limits[endpoint]


def count_request(declared, endpoint):
    """Count this request against the limit its route declared; TooManyRequests (in the path's shape) when exceeded.

    The state is kept on `g` for the response's headers (request envelope)."""
    if declared is None or not limiter.enabled:
        return
    current = request._get_current_object()
    if declared.methods and current.method not in declared.methods:
        return
    app = current_app._get_current_object()
    adopt_limits_epoch(setting("limits_epoch"), app)
    key = (app.config["RATELIMIT_KEY_PREFIX"], current.remote_addr or "127.0.0.1", endpoint)
    shown = exceeded = None
    for item in parse_limits(limit_text(declared.setting, app)):
        allowed, (reset_at, remaining) = limiter.hit(item, *key)
        state = LimitState(item.amount, remaining, int(reset_at + 1), not allowed)
        if exceeded is None and not allowed:  # the state shown: the first limit exceeded,
            shown, exceeded = state, item
        elif exceeded is None and (shown is None or remaining < shown.remaining):  # else the fewest requests left
            shown = state
    g.rate_limit = shown
    if exceeded is not None:
        raise TooManyRequests(str(exceeded))  # "10 per 1 minute", as flask-limiter says it


def reset_counters(epoch):
    """A reset: empty every rate-limit counter of the storage (in Redis, every worker's) and of this worker's memory;
    `epoch` is the reset's `limits_epoch`, which this worker has then seen."""
    try:
        limiter.storage.reset()
    except Exception:  # noqa: BLE001 - Redis unreachable: its counters stay, the fallback's are emptied below
        log.warning("Rate limit storage unreachable - its counters were not reset")
    empty_memory_counters()
    current_app.extensions["sandbox_limits_epoch"] = epoch


def adopt_limits_epoch(epoch, app=None):
    """Another worker reset the sandbox (a new `limits_epoch`): empty this worker's in-memory counters. A shared
    storage is not touched: the resetting worker emptied it, and it may hold counts made since. `app`: the current
    app, when the caller has it."""
    extensions = (app or current_app).extensions
    if epoch != extensions.get("sandbox_limits_epoch"):
        extensions["sandbox_limits_epoch"] = epoch
        empty_memory_counters()


def empty_memory_counters():
    """Empty the counters this process keeps in memory: the storage's when it is in memory, and the fallback's."""
    for storage in (limiter.storage, getattr(limiter, "_fallback_storage", None)):
        if isinstance(storage, MemoryStorage):
            storage.reset()
