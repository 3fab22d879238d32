"""The `Dialect` record: what a dialect declares so that the app, the QA controls and the pages can use it.

The host (the factory, qa/, web/) loops over the registered dialects and asks them; it never imports a
dialect's modules. Each field has a default, so a dialect declares only what it has.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class Dialect:
    """What the app needs to know to mount a dialect, load its fixtures, extend the admin API and document it."""

    name: str
    title: str
    seed: str
    blueprints: tuple  # of Blueprint: the API, and pages where the dialect has any
    error_class: type
    api_prefixes: tuple
    endpoints: tuple  # (method, path, what it does), for the front page
    front_template: str  # its part of the front page (templates/front/…)
    init_app: Callable = lambda app: None  # binds the dialect's OAuth servers to the app
    load_demo: Callable = lambda: None  # adds the dialect's demo data (not committed)
    # Its sections of a fixtures file (fixture_fields.FixtureSection), loaded in this order.
    fixture_sections: tuple = ()
    # load_client_fixture(entry, where, create): one `clients[i]` entry of this dialect; create(grant_types) adds
    # the core Client from the entry's common fields (flushed) and returns it, the hook adds what the dialect
    # keeps beside it. None: the dialect has no clients, and a fixtures file that declares one is refused.
    load_client_fixture: Optional[Callable] = None
    # The fields it adds to the core entries, as JSON Schema properties: {"users": {...}, "clients": {...}}
    # (its clients' fields; consumer's `consumer_role` on users). Fields no schema declares are refused.
    fixture_fields: dict = field(default_factory=dict)
    # Its parts of a user and of a client as the admin API shows them ({"consumer_role": …}, {"kind": …}).
    describe_user: Callable = lambda user: {}
    describe_client: Callable = lambda client: {}
    # change_user(user, data): applies the fields of a PATCH /_sandbox/users/<name> body it declares under
    # fixture_fields["users"] (not committed), or raises fixture_fields.FixtureError naming the field.
    change_user: Callable = lambda user, data: None
    # admin_routes(bp, admin): adds the dialect's routes to the QA admin API's blueprint (under /_sandbox/);
    # `admin` offers body(), bad_request(message) and not_found(message) in the admin API's error shape.
    admin_routes: Callable = lambda bp, admin: None
    # admin_openapi_paths(collection): those routes' part of /openapi.json; collection(path, key, key_schema,
    # entry_schema, noun, change_schema=None) gives a provisioned collection's operations (POST, GET, GET, PATCH,
    # DELETE) in the admin API's shape.
    admin_openapi_paths: Callable = lambda collection: {}
    openapi_paths: Callable = lambda: {}  # its part of /openapi.json: path -> method -> operation
    # The names of its rate-limited responses' limit, remaining and reset headers (None: that one is not sent);
    # None: X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset.
    rate_limit_headers: Optional[tuple] = None
    # The claims its JWT access tokens and its introspection set themselves, which a custom claim (claims.py) may
    # neither set nor override, beside claims.REGISTERED; None: its tokens are opaque and carry no custom claims
    # (a client of it takes none).
    token_claims: Optional[tuple] = None
