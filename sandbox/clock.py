"""The one source of "now" for the whole sandbox, so expiry can be tested by moving it."""
import time

_offset_seconds = 0


def now():
    """Current sandbox time as whole Unix seconds (real time plus the offset)."""
    return int(time.time()) + _offset_seconds


def advance(seconds):
    """Move the sandbox clock forward (or back, if negative) by `seconds`."""
    global _offset_seconds
    _offset_seconds += int(seconds)


def reset():
    """Put the sandbox clock back on real time."""
    global _offset_seconds
    _offset_seconds = 0
