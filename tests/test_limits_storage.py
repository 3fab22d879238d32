"""The default in-memory rate-limit storage counts as limits' own does, and forgets finished windows by itself."""
import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from oauth_sandbox import limits_storage


def test_a_limit_holds_for_its_window_and_then_starts_again(monkeypatch):
    monkeypatch.setattr(limits_storage, "SWEEP_EVERY", 5)
    storage = storage_from_string("sandbox-memory://")
    assert isinstance(storage, limits_storage.SweptMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("3 per second")
    time.sleep(0.05)  # limits starts one timer when the storage is made; it lives 10 ms
    threads = threading.active_count()
    assert [limiter.hit(limit, "client-a") for _ in range(4)] == [True, True, True, False]
    assert limiter.get_window_stats(limit, "client-a").remaining == 0
    assert threading.active_count() == threads  # no timer thread was started for the counts
    time.sleep(1.1)
    assert limiter.hit(limit, "client-b")
    assert [limiter.hit(limit, "client-a") for _ in range(4)] == [True, True, True, False]  # a new window

    time.sleep(1.1)  # both windows over: the next sweep (every fifth count here) forgets them
    for _ in range(5):
        limiter.hit(limit, "client-c")
    assert len(storage.expirations) == 1
