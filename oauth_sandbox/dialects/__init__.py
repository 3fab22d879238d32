"""The dialects: one blueprint each, translating a document's wire format to and from the core."""
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Dialect:
    """What the app needs to know to mount a dialect and show it on the front page."""

    name: str
    title: str
    seed: str
    blueprints: tuple  # of Blueprint: the API, and pages where the dialect has any
    error_class: type
    api_prefixes: tuple
    endpoints: tuple  # (method, path, what it does)
    front_template: str
    init_app: Callable = lambda app: None  # binds the dialect's OAuth servers to the app
    cors_resources: dict = field(default_factory=dict)
    load_demo: Callable = lambda: None  # adds the dialect's demo data (not committed)
    # The names of the limit, remaining and reset headers on its rate-limited responses (None: not sent); None:
    # X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.
    rate_limit_headers: tuple = None


def load_dialects():
    """Every dialect that exists, in front-page order."""
    from . import consumer, mokapen, php, v1

    return (php.DIALECT, consumer.DIALECT, v1.DIALECT, mokapen.DIALECT)


DIALECTS = load_dialects()
