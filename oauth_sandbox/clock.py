"""The one source of "now" for the whole sandbox, so expiry can be tested by moving it."""
import time

_offset_seconds = 0
_adopted_version = None  # the version of the shared (database) clock this process last adopted


def now():
    """Current sandbox time as whole Unix seconds (real time plus the offset)."""
    return int(time.time()) + _offset_seconds


def advance(seconds):
    """Move the sandbox clock forward (or back, if negative) by `seconds`."""
    global _offset_seconds
    _offset_seconds += int(seconds)


def reset():
    """Put the sandbox clock back on real time."""
    global _offset_seconds, _adopted_version
    _offset_seconds = 0
    _adopted_version = None


def offset():
    """Seconds the sandbox clock is ahead of real time (negative: behind)."""
    return _offset_seconds


def adopt(shared_offset, version):
    """Take the shared clock's offset when it changed since this process last looked (see settings.py)."""
    global _offset_seconds, _adopted_version
    if version != _adopted_version:
        _offset_seconds, _adopted_version = int(shared_offset), version
_adopted_version = None  # the version of the shared (database) clock this process last adopted
