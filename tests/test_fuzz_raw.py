"""A raw-HTTP fuzzer: Hypothesis writes the bytes of whole requests and sends them over a socket to the app served
by werkzeug (what the WSGI server does with bad bytes is included), for every operation of /openapi.json and every
page. Generated: the method, each path segment, the query, the headers (Authorization with random schemes and
bytes or a real credential, Host, Cookie, Content-Type, Content-Length or chunks), and the body (deep nesting, NUL,
huge numbers, invalid UTF-8, JSON of the wrong types, forms with a valid CSRF token or none).

It fails on any 5xx, on an API response outside its dialect's documented shape (the OpenAPI document's schema for
the operation and status; any error of a dialect's path in that dialect's error shape), on a traceback in a
response, and on a connection closed without an answer.

Budget: SANDBOX_FUZZ_RAW_EXAMPLES examples per target (default 12: about 30 s here); longer, e.g.
`SANDBOX_FUZZ_RAW_EXAMPLES=200 python -m pytest tests/test_fuzz_raw.py`. SANDBOX_FUZZ_RAW_SEED replays one run.
"""
import base64
import json
import os
import re
import socket
from urllib.parse import quote, unquote

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from helpers import PHP_CLIENT, csrf_token, login, obtain_token
from oauth_sandbox.dialects import DIALECTS

EXAMPLES = int(os.environ.get("SANDBOX_FUZZ_RAW_EXAMPLES", 12))
SEED = os.environ.get("SANDBOX_FUZZ_RAW_SEED")
ADMIN_TOKEN = "fuzz-admin-token"
ADMIN_TAG = "sandbox admin"
TIMEOUT = 30  # seconds for one answer (the machine may be busy)
TRACEBACK = re.compile(rb"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
# Rules that are no target of their own: static files (werkzeug's), the docs pages' source.
SKIPPED_RULES = ("/static/",)


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN}


@pytest.fixture
def fuzz_app(app):
    for name in [key for key in app.config if key.endswith("_RATE_LIMIT")]:
        app.config[name] = "1000000 per minute"
    return app


# --- what is fuzzed: the document's operations and the app's pages -----------------------------------

def document_targets(document):
    """(method, path template, operation) of every operation of the document."""
    return [(method.upper(), path, operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


CONVERTER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def page_targets(app, documented):
    """(method, path template, None) of every route the document does not list (pages, and API routes it omits)."""
    targets = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(SKIPPED_RULES):
            continue
        template = CONVERTER.sub(lambda m: "{" + f"{m.group(1) or 'string'}:{m.group(2) or ''}:{m.group(3)}" + "}",
                                 rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            openapi_path = CONVERTER.sub(lambda m: "{" + m.group(3) + "}", rule.rule)
            if (method, openapi_path) not in documented:
                targets.append((method, template, None))
    return targets


# --- the parts of a request ------------------------------------------------------------------------

def latin1(data):
    return data.decode("latin-1")


HUGE = st.sampled_from([2**31, 2**63, 2**64, 10**40, -(2**63) - 1, 0, -1])
ODD_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\ud7ff", "\u2028", "💥", "../..", "%00", "%", "%ff", " ", "\\", "//x",
                     "x" * 300, "x" * 5000, "NaN", "-0", "1e308", "0x10", "true", "null", "{}", "[]"]),
)


def segment(kind, choices):
    """A path segment for a converter: valid, huge, negative, or odd text (percent-encoded or raw)."""
    valid = {"int": st.integers(0, 2000).map(str), "any": st.sampled_from([c.strip(" '\"") for c in choices.split(",")]
                                                                           if choices else ["x"])}
    return st.one_of(
        valid.get(kind, st.sampled_from(["johndoe", "php-demo", "mokapen-private-demo", "Consumer", "1", "849"])),
        HUGE.map(str),
        ODD_TEXT.map(lambda text: quote(text, safe="")),
        st.binary(min_size=1, max_size=8).map(lambda b: "".join(chr(c) for c in b if c > 32 and c not in (127,)
                                                                 and chr(c) not in "?#/% ") or "x"),
    )


def fill_path(template, path_param=lambda name: None):
    """The path: each {…} of an OpenAPI template or of a route (`{kind:choices:name}`) replaced by a segment."""
    parts = re.split(r"(\{[^}]+\})", template)
    strategies = []
    for part in parts:
        if part.startswith("{"):
            kind, _, rest = part[1:-1].partition(":")
            choices, _, _name = rest.partition(":")
            if not rest:  # an OpenAPI parameter: {name}
                kind, choices = ("int" if path_param(kind) == "integer" else "string"), ""
            strategies.append(segment(kind, choices))
        else:
            strategies.append(st.just(part))
    path = st.tuples(*strategies).map("".join)
    mutated = st.tuples(path, st.sampled_from(["", "", "", "/", "//", "/x", "%00", "/%2e%2e/", ";x", "/%ff"])).map(
        "".join)
    return st.one_of(path, path, mutated)


def query_string(operation):
    """A query: none, the operation's parameters with odd values, or random pairs."""
    names = [p["name"] for p in (operation or {}).get("parameters", []) if p.get("in") == "query"]
    names += ["next", "username", "password", "client_id", "limit", "path", "debug", "code", "state"]
    pair = st.tuples(st.sampled_from(names) | ODD_TEXT, ODD_TEXT | HUGE.map(str) | st.just("demo-password"))
    encoded = st.lists(pair, max_size=5).map(
        lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs))
    raw = st.binary(max_size=30).map(lambda b: "".join(chr(c) for c in b if c > 32 and c != 127 and chr(c) != "#"))
    return st.one_of(st.just(""), encoded, encoded, raw).map(lambda q: "?" + q if q else "")


def authorization(credentials):
    """An Authorization header value: a real credential, or a scheme and bytes."""
    scheme = st.sampled_from(["Basic", "Bearer", "basic", "bearer", "BEARER", "Digest", "Negotiate", "", "Basic  "])
    blob = st.binary(max_size=40)
    odd = st.one_of(
        blob.map(lambda b: base64.b64encode(b).decode()),
        blob.map(lambda b: latin1(b.replace(b"\r", b"").replace(b"\n", b""))),
        st.sampled_from(["/yD+/Q==", "===", "YTo=", "OmI=", "Og==", "AA==", "x" * 5000, "", "a b c"]),
        st.sampled_from(credentials),
    )
    combined = st.tuples(scheme, odd).map(lambda pair: f"{pair[0]} {pair[1]}".strip())
    return st.one_of(st.sampled_from(credentials).map(lambda c: "Bearer " + c), combined,
                     st.sampled_from(["Basic " + base64.b64encode(f"{PHP_CLIENT['client_id']}:"
                                                                   f"{PHP_CLIENT['client_secret']}".encode()).decode(),
                                      f"Bearer {ADMIN_TOKEN}"]))


def json_value():
    """A JSON value of any type, with the awkward ones often."""
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), HUGE, st.floats(allow_nan=False, allow_infinity=False),
                     ODD_TEXT)
    return st.recursive(leaf, lambda children: st.lists(children, max_size=3)
                        | st.dictionaries(ODD_TEXT, children, max_size=3), max_leaves=8)


def json_body(operation):
    """A JSON body: the operation's fields with values of any type, or something else entirely."""
    fields = []
    for content in (operation or {}).get("requestBody", {}).get("content", {}).values():
        fields += list(content.get("schema", {}).get("properties", {}))
    fields += ["username", "password", "title", "done", "name", "grant_type", "refresh_token", "path", "status",
               "advance", "set", "count", "retry_after", "scopes", "keep_journal", "email"]
    objects = st.dictionaries(st.sampled_from(fields), json_value(), max_size=6)
    documents = st.one_of(objects, objects, json_value()).map(lambda v: json.dumps(v).encode())
    deep = st.tuples(st.sampled_from(["[", "{\"a\":", "[{\"x\":"]), st.sampled_from([40, 2000, 100_000])).map(
        lambda pair: (pair[0] * pair[1]).encode())
    raw = st.sampled_from([b'{"a": 1e999999}', b'{"a": NaN}', b'{"a": Infinity}', b"[" + b"9" * 5000 + b"]",
                           b'{"title": "\\u0000"}', b'{"a": "\xff\xfe"}', b"\xff\xfe\xfd", b'{"a":1,"a":2}',
                           b"\x00", b'"\\ud800"', b"{", b"null", b"[]", b'{"title":' + b'"' + b"x" * 70000 + b'"}'])
    return st.one_of(documents, documents, deep, raw)


def form_body(operation, csrf):
    """A form body: the operation's fields (and often a valid CSRF token) with odd values, or random bytes."""
    fields = []
    for content in (operation or {}).get("requestBody", {}).get("content", {}).values():
        fields += list(content.get("schema", {}).get("properties", {}))
    fields += ["username", "password", "code", "client_id", "client_secret", "grant_type", "token", "name", "kind",
               "company_name", "company_url", "redirect_url", "scopes", "status_code", "path", "method", "response",
               "email", "confirm", "approve", "organization_id", "role", "public", "scope", "advance", "admin_token"]
    value = ODD_TEXT | HUGE.map(str) | st.sampled_from(["demo-password", "johndoe", "authorization_code", "y", "849",
                                                        "client_credentials", "private", "public", "200", "100"])
    pairs = st.lists(st.tuples(st.sampled_from(fields), value), max_size=8)
    token = st.sampled_from([[("csrf_token", csrf)], [], [("csrf_token", "x")]])
    encoded = st.tuples(token, pairs).map(
        lambda parts: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in parts[0] + parts[1]).encode())
    return st.one_of(encoded, encoded, st.binary(max_size=60), st.just(b"a=%ff%fe&b=%00&=&&c"))


BOUNDARY = "fuzzboundary"


def multipart_body():
    part = st.tuples(st.sampled_from(["logo", "name", "csrf_token", "x"]), st.binary(max_size=40))
    good = st.lists(part, max_size=3).map(lambda parts: b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{n}"; filename="a.png"\r\n\r\n'.encode() + data
        + b"\r\n" for n, data in parts) + f"--{BOUNDARY}--\r\n".encode())
    return st.one_of(good, st.binary(max_size=60), st.just(f"--{BOUNDARY}\r\n\r\n".encode()))


def content_type():
    return st.sampled_from([None, "application/json", "application/json; charset=latin-1",
                            "application/x-www-form-urlencoded", f"multipart/form-data; boundary={BOUNDARY}",
                            "multipart/form-data", "text/plain", "application/json; charset=\xff", "*/*", "",
                            "application/x-www-form-urlencoded; charset=utf-16", "application/vnd.x+json"])


def body_for(operation, csrf):
    return st.one_of(st.just(b""), json_body(operation), form_body(operation, csrf), multipart_body(),
                     st.binary(max_size=200))


def framing():
    """The body's framing: the right Content-Length, none, a wrong or bad one, or chunks."""
    return st.sampled_from(["exact", "exact", "exact", "none", "short", "long", "bad", "chunked", "huge"])


@st.composite
def raw_request(draw, target, port, credentials, cookies, csrf):
    """The bytes of one request to `target` and a description of it."""
    method, template, operation = target
    params = {p["name"]: p.get("schema", {}).get("type") for p in (operation or {}).get("parameters", [])
              if p.get("in") == "path"}
    method = draw(st.one_of(st.just(method), st.just(method), st.just(method), st.sampled_from(
        ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "get", "TRACE", "FOO", "M-SEARCH"])))
    path = draw(fill_path(template, params.get)) + draw(query_string(operation))
    headers = []
    host = draw(st.sampled_from([f"localhost:{port}", f"127.0.0.1:{port}", "evil.example", "", "[::1", "a" * 300,
                                 "localhost:99999", "loc\xe9lhost", None]))
    if host is not None:
        headers.append(("Host", host))
    if draw(st.booleans()):
        headers.append(("Authorization", draw(authorization(credentials))))
    cookie = draw(st.sampled_from([None, None, *cookies, "oauth_sandbox_session=garbage", "=;;=", "a=\xff",
                                   "oauth_sandbox_session=" + "x" * 5000]))
    if cookie is not None:
        headers.append(("Cookie", cookie))
    kind = draw(content_type())
    if kind is not None:
        headers.append(("Content-Type", kind))
    accept = draw(st.sampled_from([None, "application/json", "text/html", "*/*", "application/xml", "\xff"]))
    if accept is not None:
        headers.append(("Accept", accept))
    for name, value in draw(st.lists(st.tuples(st.sampled_from(["X-Forwarded-For", "Origin", "Referer",
                                                                 "X-Requested-With", "Range", "If-None-Match",
                                                                 "Expect", "Transfer-Encoding", "Connection"]),
                                               ODD_TEXT.map(lambda t: t.replace("\r", "").replace("\n", ""))),
                                     max_size=2)):
        if name not in ("Transfer-Encoding", "Connection", "Expect"):
            headers.append((name, value))
    body = draw(body_for(operation, csrf))
    frame = draw(framing())
    if frame == "exact" and (body or method not in ("GET", "HEAD")):
        headers.append(("Content-Length", str(len(body))))
    elif frame == "short" and body:
        headers.append(("Content-Length", str(len(body) // 2)))
    elif frame == "long":
        headers.append(("Content-Length", str(len(body) + 10)))
    elif frame == "bad":
        headers.append(("Content-Length", draw(st.sampled_from(["-1", "abc", "1e3", " 5", "99999999999999999999",
                                                                "0x10", "5, 6"]))))
    elif frame == "huge":
        headers.append(("Content-Length", str(50 * 1024 * 1024)))
    elif frame == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        body = draw(st.sampled_from([f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n",
                                     b"zz\r\n" + body, b"ffffffffffffffff\r\n" + body]))
    headers.append(("Connection", "close"))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return head.encode("latin-1", "replace") + body


# --- sending, and what an answer must be ---------------------------------------------------------------

def send(port, data):
    """Send the bytes, close our side, read the whole answer (b"" when the server closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        try:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered (413, 400) and closed before reading all of it: its answer is there to read
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def parse(answer):
    """(status, headers as a dict of lower-case names, body) of an HTTP answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    assert match, f"no HTTP status line: {answer[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return int(match.group(1)), headers, body


def dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


class Shapes:
    """What the document says each API answer looks like."""

    def __init__(self, document, pages):
        self.pages = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(page)) + "$") for page in pages]
        self.operations = {}  # (METHOD, regex of the path) -> operation
        self.error_shapes = {}  # dialect tag -> validator of its error body
        for path, methods in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in methods.items():
                self.operations[(method.upper(), pattern)] = operation
                tag = operation["tags"][0]
                error = operation["responses"].get("404", {}).get("content", {}).get("application/json")
                if error and tag not in self.error_shapes:
                    self.error_shapes[tag] = jsonschema_rs.validator_for(error["schema"])
        self.prefixes = sorted([(prefix, dialect.name) for dialect in DIALECTS for prefix in dialect.api_prefixes]
                               + [("/_sandbox/", ADMIN_TAG)], key=lambda item: len(item[0]), reverse=True)

    def operation(self, method, path):
        for (known_method, pattern), operation in self.operations.items():
            if known_method == method and pattern.match(path):
                return operation
        return None

    def owner(self, path):
        """The dialect (or the admin API) answering at `path`; None for a page (also one under an API prefix:
        the authorization endpoints)."""
        if any(page.match(path) for page in self.pages):
            return None
        return next((tag for prefix, tag in self.prefixes if path.startswith(prefix)), None)


def request_line(data):
    """(method, path without the query) of the bytes sent."""
    first = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split(" ")
    method, target = (parts[0], parts[1]) if len(parts) >= 3 else ("", "")
    return method, target.split("?", 1)[0]


def check_answer(shapes, data, answer):
    """The assertions: an answer, no 5xx, no traceback, an API answer in its documented shape."""
    assert answer, "the connection closed without an answer"
    status, headers, body = parse(answer)
    assert status < 500, f"{status}: {body[:500]!r}"
    assert not TRACEBACK.search(answer), f"a traceback in the answer: {answer[:2000]!r}"
    method, raw_path = request_line(data)
    path = unquote(raw_path, errors="replace")
    if "x-content-type-options" not in headers:
        return  # the WSGI server's own answer to a request it could not read (400, 414, 431): never reached the app
    owner = shapes.owner(path)
    if owner is None or method.upper() in ("HEAD", "OPTIONS") or status in (204, 304) or 300 <= status < 400:
        return
    if path in ("/metrics", "/_sandbox/health"):
        return
    assert headers.get("content-type", "").startswith("application/json"), \
        f"{status} {headers.get('content-type')} on {path}: {body[:300]!r}"
    document = json.loads(body)
    operation = shapes.operation(method.upper(), path)
    documented = (operation or {}).get("responses", {}).get(str(status), {}).get("content", {}).get(
        "application/json")
    if documented and operation["tags"][0] == owner:
        validator = jsonschema_rs.validator_for(documented["schema"])
        assert validator.is_valid(document), f"{status} on {method} {path}, not as documented: {body[:500]!r}"
    elif status >= 400:
        assert shapes.error_shapes[owner].is_valid(document), \
            f"{status} on {method} {path}, not in {owner}'s error shape: {body[:500]!r}"


# --- the test ------------------------------------------------------------------------------------------

def real_credentials(client):
    """Tokens of every dialect, a logged-in session and its CSRF token (the fuzzer also sends valid ones)."""
    php = obtain_token(client)
    fusio = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json["token"]
    v1 = client.post("/v1/oauth/?username=johndoe&password=demo-password").json["data"]["access_token"]
    mokapen = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
        "client_secret": "mokapen-private-demo-secret", "organization_id": "849"}).json["access_token"]
    return [php, fusio, v1, mokapen, ADMIN_TOKEN]


def test_raw_bytes_to_every_operation_and_page_get_no_5xx_and_documented_shapes(fuzz_app, live_server):
    client = fuzz_app.test_client()
    document = client.get("/openapi.json").json
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    pages = page_targets(fuzz_app, documented)
    shapes = Shapes(document, {template for _, template, _ in pages})
    targets = document_targets(document) + pages
    assert len(targets) >= 80, len(targets)
    credentials = real_credentials(client)
    browser = fuzz_app.test_client()
    login(browser)
    page = browser.get("/account/developer/apps/new")
    csrf = csrf_token(page.text)
    session_cookie = browser.get_cookie("oauth_sandbox_session")
    cookies = [f"oauth_sandbox_session={session_cookie.value}"] if session_cookie else []
    port = live_server.port

    for target in targets:
        @given(raw_request(target, port, credentials, cookies, csrf))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.generate, Phase.shrink])
        def fuzz(data):
            answer = send(port, data)
            try:
                check_answer(shapes, data, answer)
            except AssertionError as error:
                raise AssertionError(f"{error}\nthe request: {data[:1500]!r}") from None
            finally:
                restore_if_changed(client, data, answer)

        if SEED is not None:
            fuzz = seed(int(SEED))(fuzz)
        try:
            fuzz()
        except Exception as error:  # name the target; Hypothesis printed the request it shrank to
            raise AssertionError(f"{target[0]} {target[1]}: {str(error)[:3000]}") from None


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def restore_if_changed(client, data, answer):
    """A request the admin API carried out may have injected faults (5xx or a dropped connection, by design), set
    tight rate limits or moved the clock: those are put back (the data and the tokens stay)."""
    if not request_line(data)[1].startswith("/_sandbox/") or not re.match(rb"HTTP/1\.[01] [23]", answer or b""):
        return
    assert client.delete("/_sandbox/faults", headers=ADMIN).status_code == 200
    assert client.post("/_sandbox/clock", json={"reset": True}, headers=ADMIN).status_code == 200
    limits = client.get("/_sandbox/rate-limits", headers=ADMIN).json
    assert client.put("/_sandbox/rate-limits", json=dict.fromkeys(limits), headers=ADMIN).status_code == 200
