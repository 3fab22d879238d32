"""The in-memory rate-limit storage (`sandbox-memory://`, the default): limits' own, without its timer thread.

limits' MemoryStorage drops expired counters from a threading.Timer that lives 10 ms and is started anew by the
next count after it ends: under load, a thread start every few requests, whose wait for the new thread was 7 % of
a worker's time (py-spy, gunicorn, client credentials). A counter whose window is over is dropped when it is read
(as limits already does), and the expired rest every SWEEP_EVERY counts, on the counting thread. The moving-window
strategy keeps limits' timer.
"""
import time

from limits.storage import MemoryStorage

SWEEP_EVERY = 1000


class SweptMemoryStorage(MemoryStorage):
    """MemoryStorage whose fixed-window counters expire without a timer thread."""

    STORAGE_SCHEME = ["sandbox-memory"]  # limits registers the scheme when the class is made

    def __init__(self, uri=None, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.counts_since_sweep = 0

    def incr(self, key, expiry, amount=1):
        """MemoryStorage.incr, sweeping now and then instead of scheduling the timer."""
        return self.incr_with_expiry(key, expiry, amount)[0]

    def incr_with_expiry(self, key, expiry, amount=1):
        """(the count after `incr`, the unix time its window ends): the count of a request and the end of its window
        in one call (not incr, then get_expiry: each through limits' error wrapper)."""
        now = time.time()
        if self.expirations.get(key, 0) <= now:  # a counter whose window is over starts again (MemoryStorage.get)
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        with self.locks[key]:
            self.storage[key] += amount
            count = self.storage[key]
            if count == amount:
                self.expirations[key] = now + expiry
            expires_at = self.expirations.get(key, now)
        self.counts_since_sweep += 1
        if self.counts_since_sweep >= SWEEP_EVERY:
            self.counts_since_sweep = 0
            self.sweep()
        return count, expires_at

    def decr(self, key, amount=1):
        """MemoryStorage.decr, without scheduling the timer."""
        self.get(key)
        with self.locks[key]:
            self.storage[key] = max(self.storage[key] - amount, 0)
            return self.storage[key]

    def sweep(self):
        """Drop every counter whose window is over (what MemoryStorage's timer does for them)."""
        now = time.time()
        for key in [key for key, expiry in list(self.expirations.items()) if expiry <= now]:
            self.get(key)
