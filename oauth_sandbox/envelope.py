"""The request envelope: what every request does besides its view, from one before/after pair, in this order.

Before the view:
0. CSRF, for the methods that change something (flask-wtf's check, which skips reads only after resolving the view's
   exemptions: not worth a GET's time; an endpoint it found exempt, an API's, is not resolved again);
1. note when the request began (the journal's latency);
2. the shared settings, re-read only when their version changed, and that version read only when the database
   changed (settings.load; the clock adopted from them);
3. an injected fault for this path, when any are configured (a flag in the settings says whether);
4. the route's rate limit, counted once (the limit its view declared with `ratelimit.rate_limited`; Fusio's
   operations, which have no route, are counted by their dispatcher).
After it:
5. the rate-limit headers, under the names the path's dialect uses, and `Retry-After` on the 429 of a limit;
6. the security headers every page and API response carries, and `Cache-Control: no-store` on every answer of a
   route declared a token endpoint (`oauth.token_endpoint`), its errors too;
7. the journal entry of a dialect request, from the JSON the view returned, and the request's metrics;
8. in production, the scheduled purge of dead codes and tokens;
9. the request lets go of its routing exception (the NotFound of a path no route matches: each Fusio operation's).
   Its traceback holds the frame that holds the request's context, a cycle only the garbage collector frees: on the
   operations' path a collection every 13th request, about a twentieth of its time.
CORS is flask-cors's, on the blueprint of a dialect that opens a path to browsers (php's userinfo.php), so no other
request pays for it: it also answers that path's preflight requests and its errors.
"""
import json
import time

from flask import current_app, g, request
from flask.json.provider import DefaultJSONProvider

from . import housekeeping, jsonbody, settings
from .dialects import DIALECTS
from .errors import dialect_owner
from .extensions import csrf
from .oauth import is_token_endpoint
from .qa import faults, journal, metrics, observe
from .ratelimit import count_request, route_limit
from .security import SECURITY_HEADERS

X_RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
CONSTANT_BODIES_KEPT = 1024
COMPACT_SEPARATORS = (",", ":")  # Flask's compact JSON
LIMIT_HEADERS = {dialect.name: dialect.rate_limit_headers for dialect in DIALECTS}
SECURITY_HEADERS_LOWERED = tuple((name, name.lower(), value) for name, value in SECURITY_HEADERS)


class JournaledJSONProvider(DefaultJSONProvider):
    """Flask's JSON, in the documents' key order, keeping on each response the value it was made from (the
    journal records that, rather than parsing the body again); bodies are parsed by `jsonbody.loads`."""

    sort_keys = False  # "success" before "data", as the documents show
    compact = True  # in debug mode too (Flask indents then): the journal records a body as it was sent

    def loads(self, s, **kwargs):
        """Request bodies (`request.get_json`) through the one parser, which refuses deep nesting."""
        return jsonbody.loads(s, **kwargs)

    def __init__(self, app):
        super().__init__(app)
        self.constant_bodies = {}  # id of a constant document -> (the document, its body)
        # The encoder of every compact response, made once (json.dumps with arguments makes one each call).
        self.compact_encoder = json.JSONEncoder(default=self.default, ensure_ascii=self.ensure_ascii,
                                                sort_keys=self.sort_keys, separators=COMPACT_SEPARATORS)

    def dumps(self, obj, **kwargs):
        if kwargs.keys() == {"separators"} and kwargs["separators"] == COMPACT_SEPARATORS:  # (response's own call)
            return self.compact_encoder.encode(obj)
        return super().dumps(obj, **kwargs)

    def response(self, *args, **kwargs):
        response = super().response(*args, **kwargs)
        response.json_value = (args[0] if len(args) == 1 else args) if args else kwargs
        return response

    def constant_response(self, document):
        """The response of a document a view keeps and answers unchanged (the JWKS, a Fusio operation's answer as
        the catalog keeps it): encoded once, not each time (its encoding was a tenth of such a request). The
        document must never change once answered. At most CONSTANT_BODIES_KEPT are kept (a document the catalog
        reads anew after a change is another one)."""
        kept = self.constant_bodies.get(id(document))
        if kept is None or kept[0] is not document:
            if len(self.constant_bodies) >= CONSTANT_BODIES_KEPT:
                self.constant_bodies.clear()
            kept = self.constant_bodies[id(document)] = (document, self.response(document).get_data())
        response = self._app.response_class(kept[1], mimetype=self.mimetype)
        response.json_value = document
        return response


def init_app(app):
    """Wire the envelope into the app, and the JSON provider whose values the journal records."""
    app.json = JournaledJSONProvider(app)
    app.before_request(before_request)
    app.after_request(after_request)


def before_request():
    """Steps 0–4."""
    app, current, request_globals = context()
    config, endpoint = app.config, current.endpoint
    if current.method in config["WTF_CSRF_METHODS"] and config["WTF_CSRF_ENABLED"]:
        exempt = app.extensions.setdefault("sandbox_csrf_exempt", set())
        if endpoint not in exempt:
            csrf.protect(apply_exemptions=True)
            if endpoint is not None and not request_globals.get("csrf_valid"):
                exempt.add(endpoint)  # (flask-wtf marks each request it checked: this one's view is exempt)
    request_globals.started = time.perf_counter()
    if endpoint == observe.HEALTH_ENDPOINT:  # the readiness probe asks the database itself, nothing else
        return None
    settings.load()
    injected = faults.inject()
    if injected is not None:  # a fault's redirect, or the empty response of a dropped connection
        return injected
    if endpoint is not None:
        count_request(route_limit(endpoint, app), endpoint)


def after_request(response):
    """Steps 5–9."""
    app, current, request_globals = context()
    owner = dialect_owner()
    headers = response.headers
    present = {name.lower() for name, _ in headers}  # a header absent is added, not looked for again
    state = request_globals.get("rate_limit")
    if state is not None and app.config["RATELIMIT_HEADERS_ENABLED"]:
        names = LIMIT_HEADERS.get(owner[0]) if owner else None
        values = (state.amount, state.remaining, state.reset_at)
        for name, value in zip(names or X_RATE_LIMIT_HEADERS, values, strict=True):
            if name:
                set_header(headers, present, name, str(value))
        if state.exceeded and response.status_code == 429 and "retry-after" not in present:
            set_header(headers, present, "Retry-After", str(state.retry_after))
    for name, lowered, value in SECURITY_HEADERS_LOWERED:
        if lowered not in present:
            headers.add(name, value)
    endpoint = current.endpoint
    if endpoint is not None and is_token_endpoint(endpoint, app):
        set_header(headers, present, "Cache-Control", "no-store")
    if owner is not None and owner[0] != "sandbox":
        journal.record(response, owner[0])
    metrics.record(response, owner)
    if app.config["SANDBOX_PROFILE"] == "production":
        housekeeping.purge_on_schedule()
    current.routing_exception = None
    return response


def context():
    """(app, request, g) of this request: each context proxy looked up once, not at every use."""
    return current_app._get_current_object(), request._get_current_object(), g._get_current_object()


def set_header(headers, present, name, value):
    """Set a response header (replacing any of its name); `present`: the lower-cased names it has, kept up to date."""
    lowered = name.lower()
    if lowered in present:
        headers[name] = value
    else:
        headers.add(name, value)
        present.add(lowered)
