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
        self.get(key)  # a counter whose window is over starts again
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
            count = self.storage[key]
        self.counts_since_sweep += 1
        if self.counts_since_sweep >= SWEEP_EVERY:
            self.counts_since_sweep = 0
            self.sweep()
        return count

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
