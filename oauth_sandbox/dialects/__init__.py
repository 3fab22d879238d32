"""The dialects: one blueprint each, translating a document's wire format to and from the core.

This is the registry the host loops over; a dialect's record type is in `base` (a dialect imports that, not
this module, so the registry and the dialects import in one direction only).
"""
from .base import Dialect

__all__ = ["DIALECTS", "Dialect", "load_dialects"]


def load_dialects():
    """Every dialect that exists, in front-page order."""
    from . import consumer, mokapen, php, v1

    return (php.DIALECT, consumer.DIALECT, v1.DIALECT, mokapen.DIALECT)


DIALECTS = load_dialects()
