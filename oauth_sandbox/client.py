"""A small client of the sandbox's QA admin API (/_sandbox/), usable from any test runner or script.

    from oauth_sandbox.client import SandboxAdmin

    admin = SandboxAdmin("http://127.0.0.1:5000", open("oauth-sandbox-data/admin_token").read().strip())
    admin.reset()
    admin.faults.add("/api/token.php", error="invalid_client")
    admin.clock.advance(3600)
    assert admin.requests(path="/api/token.php")[0]["status"] == 401

Only the standard library is used (urllib), so it adds no dependency to a test suite.
"""
import json
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

__all__ = ["SandboxAdmin", "SandboxAdminError"]


class SandboxAdminError(Exception):
    """The admin API refused a request (4xx/5xx), or the sandbox could not be reached (`status` None).

    `status` is the HTTP status, `error` the server's error code (`bad_request`, `not_found`, `unauthorized`, …),
    `message` the server's explanation, `body` the parsed JSON body (or the raw text when it was not JSON).
    """

    def __init__(self, message, status=None, error=None, body=None, method=None, url=None):
        self.message, self.status, self.error, self.body = message, status, error, body
        self.method, self.url = method, url
        where = f"{method} {url}: " if method else ""
        super().__init__(f"{where}{status} {error}: {message}" if status else f"{where}{message}")


class SandboxAdmin:
    """The admin API of the sandbox at `url` (e.g. ``http://127.0.0.1:5000``), authenticated with `admin_token`.

    Every method returns the server's JSON answer (or the part of it named in its docstring) and raises
    SandboxAdminError, carrying the server's message and status, when the server answers 4xx or 5xx.
    """

    def __init__(self, url, admin_token, timeout=30):
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout
        self.clock = Clock(self)
        self.faults = Faults(self)
        self.rate_limits = RateLimits(self)
        self.users = Users(self)
        self.clients = Clients(self)
        self.roles = Roles(self)
        self.organizations = Organizations(self)
        self.operations = Operations(self)

    def __repr__(self):
        return f"SandboxAdmin({self.url!r})"

    def call(self, method, path, body=None, query=None, authenticate=True):
        """Send one request to the sandbox (`path` from the root, e.g. ``/_sandbox/clock``); its JSON answer."""
        url = self.url + path
        if query:
            url += "?" + urlencode({name: value for name, value in query.items() if value is not None})
        headers = {"Accept": "application/json"}
        if authenticate and self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            with urlopen(Request(url, data=data, headers=headers, method=method), timeout=self.timeout) as response:
                return parse(response.read())
        except HTTPError as failure:
            answer = parse(failure.read())
            failure.close()
            message, error = (answer.get("message") or answer.get("error_description") or failure.reason,
                              answer.get("error")) if isinstance(answer, dict) else (answer or failure.reason, None)
            raise SandboxAdminError(message, failure.code, error, answer, method, url) from None
        except (URLError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            raise SandboxAdminError(f"cannot reach the sandbox: {reason}", method=method, url=url) from None

    def health(self):
        """GET /_sandbox/health (no admin token needed): the server's health answer."""
        return self.call("GET", "/_sandbox/health", authenticate=False)

    def reset(self, fixtures=None, keep_journal=False):
        """POST /_sandbox/reset: everything a test can change put back — the demo data (or the configured fixtures
        file, or `fixtures`: a fixtures document as a dict, loaded this once), the clock on real time, no faults,
        rate-limit overrides and counters gone, and the journal emptied unless `keep_journal`. A document the
        server refuses raises SandboxAdminError naming the entry, and nothing changed. Returns
        ``{"reset": true, "fixtures", "journal": "emptied" | "kept", "seconds"}``."""
        body = dict(fixtures or {})
        if keep_journal:
            body["keep_journal"] = True
        if fixtures is not None and not fixtures:
            raise ValueError("an empty fixtures document loads nothing: give its sections, e.g. {'users': []}")
        return self.call("POST", "/_sandbox/reset", body or None)

    def requests(self, dialect=None, client_id=None, path=None, status=None, since=None, limit=None, user=None,
                 path_prefix=None, method=None):
        """GET /_sandbox/requests: the journal's entries (dicts), newest first, filtered by `dialect`, `client_id`,
        `path`, `status`, `since` (unix time), `user`, `path_prefix`, `method` and at most `limit` (the server's
        default is 100). An unknown dialect or a bad number raises SandboxAdminError (400)."""
        return self.call("GET", "/_sandbox/requests", query={
            "dialect": dialect, "client_id": client_id, "path": path, "status": status, "since": since,
            "limit": limit, "user": user, "path_prefix": path_prefix, "method": method})["requests"]

    def count_requests(self, dialect=None, client_id=None, path=None, status=None, since=None, user=None,
                       path_prefix=None, method=None):
        """GET /_sandbox/requests/count: how many journal entries match the filters (those of `requests`), as an
        int: for asserting how often a client called."""
        return self.call("GET", "/_sandbox/requests/count", query={
            "dialect": dialect, "client_id": client_id, "path": path, "status": status, "since": since,
            "user": user, "path_prefix": path_prefix, "method": method})["count"]

    def metrics(self):
        """GET /metrics: the Prometheus metrics, as text (the admin token is sent: production may need it)."""
        return self.call("GET", "/metrics")

    def clear_requests(self):
        """DELETE /_sandbox/requests: empty the journal."""
        return self.call("DELETE", "/_sandbox/requests")

    def expire_tokens(self, token=None, client_id=None, username=None):
        """POST /_sandbox/tokens/expire: expire now one access `token`, or every token of `client_id` or of
        `username` (give exactly one). Returns how many tokens were expired."""
        given = {name: value for name, value in
                 (("token", token), ("client_id", client_id), ("username", username)) if value is not None}
        if len(given) != 1:
            raise ValueError("give exactly one of token, client_id, username")
        return self.call("POST", "/_sandbox/tokens/expire", given)["expired"]


    # --- provisioning (the collections above: admin.users, admin.clients, … list and do the same) ---

    def fixtures_schema(self):
        """GET /_sandbox/fixtures/schema: the JSON Schema of a fixtures file."""
        return self.call("GET", "/_sandbox/fixtures/schema")

    def create_user(self, username, email, password, **fields):
        """POST /_sandbox/users: a user who logs in on every dialect at once (`full_name`, `claims`,
        `consumer_role`, `memberships`); returns the user."""
        return self.users.create(username=username, email=email, password=password, **fields)

    def user(self, username):
        """GET /_sandbox/users/<username>."""
        return self.users.get(username)

    def change_user(self, username, **fields):
        """PATCH /_sandbox/users/<username> (see Users.update)."""
        return self.users.update(username, **fields)

    def delete_user(self, username):
        """DELETE /_sandbox/users/<username>: with their tokens, codes, role and memberships (409 while clients
        belong to them)."""
        return self.users.delete(username)

    def create_client(self, dialect, client_id, client_secret, **fields):
        """POST /_sandbox/clients: a client of `dialect` its token endpoint accepts at once (see Clients)."""
        return self.clients.create(dialect=dialect, client_id=client_id, client_secret=client_secret, **fields)

    def client(self, client_id):
        """GET /_sandbox/clients/<client_id> (never the secret)."""
        return self.clients.get(client_id)

    def change_client(self, client_id, **fields):
        """PATCH /_sandbox/clients/<client_id> (see Clients.update)."""
        return self.clients.update(client_id, **fields)

    def delete_client(self, client_id):
        """DELETE /_sandbox/clients/<client_id>: with its tokens and codes; they are refused from then on."""
        return self.clients.delete(client_id)

    def create_organization(self, organization_id, name, members=()):
        """POST /_sandbox/organizations (mokapen): `members` as ``[{"username", "role"}]``."""
        return self.organizations.create(id=organization_id, name=name, members=list(members))

    def delete_organization(self, organization_id):
        """DELETE /_sandbox/organizations/<id>: with its members, contacts, tasks and tokens (409 while apps
        belong to it)."""
        return self.organizations.delete(organization_id)

    def create_role(self, name, scopes):
        """POST /_sandbox/roles (consumer)."""
        return self.roles.create(name=name, scopes=list(scopes))

    def delete_role(self, name):
        """DELETE /_sandbox/roles/<name> (409 while users hold it, or for the default role)."""
        return self.roles.delete(name)

    def create_operation(self, method, path, **fields):
        """POST /_sandbox/operations (consumer): `public`, `scope`, `response`, `status_code`."""
        return self.operations.create(method=method, path=path, **fields)

    def delete_operation(self, operation_id):
        """DELETE /_sandbox/operations/<id>."""
        return self.operations.delete(operation_id)


class Part:
    def __init__(self, admin):
        self.admin = admin


class Clock(Part):
    """The sandbox clock (`admin.clock`), shared by every worker of the sandbox."""

    def get(self):
        """GET /_sandbox/clock: ``{"now": unix time, "offset": seconds ahead of real time}``."""
        return self.admin.call("GET", "/_sandbox/clock")

    def now(self):
        """The sandbox's current time, in whole unix seconds."""
        return self.get()["now"]

    def advance(self, seconds):
        """Move the clock forward by `seconds` (back when negative); returns the new ``{"now", "offset"}``."""
        return self.admin.call("POST", "/_sandbox/clock", {"advance": seconds})

    def set(self, unix_time):
        """Put the clock at `unix_time`; returns the new ``{"now", "offset"}``."""
        return self.admin.call("POST", "/_sandbox/clock", {"set": unix_time})

    def reset(self):
        """Put the clock back on real time; returns the new ``{"now", "offset"}``."""
        return self.admin.call("POST", "/_sandbox/clock", {"reset": True})


class Faults(Part):
    """Injected faults (`admin.faults`)."""

    def add(self, path, **fields):
        """POST /_sandbox/faults: the next requests to `path` fail. Fields: `method`, `error` (a documented error of
        the dialect, e.g. ``invalid_client``) or `status` (429, 500, 502, 503, 504) or `drop` (True: the connection
        closed without a response), `count` or `rate`, `latency_ms`, `stall_ms`, `retry_after`. Returns the fault as
        stored (with its ``id``)."""
        return self.admin.call("POST", "/_sandbox/faults", {"path": path, **fields})

    def list(self):
        """GET /_sandbox/faults: the faults still pending, oldest first."""
        return self.admin.call("GET", "/_sandbox/faults")["faults"]

    def delete(self, fault_id):
        """DELETE /_sandbox/faults/<id>: remove one fault."""
        return self.admin.call("DELETE", f"/_sandbox/faults/{int(fault_id)}")

    def clear(self):
        """DELETE /_sandbox/faults: remove every fault."""
        return self.admin.call("DELETE", "/_sandbox/faults")


class RateLimits(Part):
    """Rate limits per endpoint (`admin.rate_limits`), changed at once for every worker."""

    def get(self):
        """GET /_sandbox/rate-limits: every limit in force, e.g. ``{"PHP_TOKEN_RATE_LIMIT": "30 per minute", …}``."""
        return self.admin.call("GET", "/_sandbox/rate-limits")

    def set(self, **limits):
        """PUT /_sandbox/rate-limits: e.g. ``set(PHP_TOKEN_RATE_LIMIT="5 per minute")``; None restores the
        configured limit. Returns every limit in force."""
        return self.admin.call("PUT", "/_sandbox/rate-limits", limits)


class Collection(Part):
    """A provisioned collection of the admin API (`admin.users`, `admin.clients`, …): call it to list, and
    create, get, update and delete by key. A refused body raises SandboxAdminError naming the field (400); an
    existing key, or a deletion something depends on, 409; an unknown key, 404."""

    path = ""
    listed = ""

    def __call__(self, **query):
        """GET: every entry (dicts), as the admin API shows them."""
        return self.admin.call("GET", self.path, query=query or None)[self.listed]

    def item(self, key):
        return f"{self.path}/{quote(str(key), safe='')}"

    def create(self, **fields):
        """POST: a new entry, with the fields of a fixtures file's entry; returns it as stored."""
        return self.admin.call("POST", self.path, fields)

    def get(self, key):
        """GET one entry."""
        return self.admin.call("GET", self.item(key))

    def update(self, key, **fields):
        """PATCH: change fields at once; returns the entry."""
        return self.admin.call("PATCH", self.item(key), fields)

    def delete(self, key):
        """DELETE: the entry and what depends on it; returns ``{"deleted": key}``."""
        return self.admin.call("DELETE", self.item(key))


class Users(Collection):
    """The sandbox's users (`admin.users`): ``admin.users()`` lists them. Fields: `username`, `email`,
    `password`, `full_name`, `claims` (extra claims for tokens), `consumer_role` (consumer), `memberships`
    (mokapen: ``[{"organization": 849, "role": "member"}]``)."""

    path, listed = "/_sandbox/users", "users"

    def update(self, username, **fields):
        """PATCH /_sandbox/users/<username>: change `email`, `full_name`, `password`, `claims`, `consumer_role`
        (None: the default role) or `memberships`; returns the user (never the password)."""
        return super().update(username, **fields)

    def set_claims(self, username, claims):
        """PATCH /_sandbox/users/<username> {"claims"}: the extra claims of the user's tokens issued from now on
        (consumer's and mokapen's JWTs, mokapen's introspection), replacing the earlier ones; None or {} clears
        them. A registered claim (iss, sub, exp, …) is refused. Returns the user as update() does."""
        return self.update(username, claims=claims)


class Clients(Collection):
    """The sandbox's OAuth clients and apps (`admin.clients`): ``admin.clients(dialect="mokapen")`` lists them.
    Fields: `dialect` (php, consumer, mokapen), `client_id`, `client_secret`, `name`, `redirect_uris`, `scopes`,
    `status`, `owner` (required for consumer), `headless_user`, `claims`; mokapen: `kind`, `organization`,
    `dedicated_user`, `company_name`, `company_url`."""

    path, listed = "/_sandbox/clients", "clients"

    def update(self, client_id, **fields):
        """PATCH /_sandbox/clients/<client_id>: `status` (active, pending, disabled, rejected), `headless_user` (a
        username: its authorization requests are approved for that user without the login and consent pages; None
        turns that off), `name`, `redirect_uris`, `scopes`, `client_secret`, `claims`. Returns the client."""
        return super().update(client_id, **fields)

    def set_claims(self, client_id, claims):
        """PATCH /_sandbox/clients/<client_id> {"claims"}: the extra claims of the client's tokens issued from now
        on (over its users' claims), replacing the earlier ones; None or {} clears them. Returns the client as
        update() does."""
        return self.update(client_id, claims=claims)

    def next_token_claims(self, client_id, claims, count=1):
        """POST /_sandbox/clients/<client_id>/next-token-claims: the client's next `count` tokens also carry
        `claims` (over the user's and the client's), after batches added earlier are used up. Returns the batch
        ``{"id", "client_id", "claims", "remaining", "created_at"}``."""
        return self.admin.call("POST", self.next_claims_path(client_id), {"claims": claims, "count": count})

    def pending_token_claims(self, client_id):
        """GET /_sandbox/clients/<client_id>/next-token-claims: the batches still waiting, the next first."""
        return self.admin.call("GET", self.next_claims_path(client_id))["next_token_claims"]

    def clear_token_claims(self, client_id):
        """DELETE /_sandbox/clients/<client_id>/next-token-claims: drop every waiting batch; how many there were."""
        return self.admin.call("DELETE", self.next_claims_path(client_id))["cleared"]

    def next_claims_path(self, client_id):
        return f"{self.item(client_id)}/next-token-claims"


class Roles(Collection):
    """The consumer dialect's roles (`admin.roles`): ``{"name", "scopes"}``."""

    path, listed = "/_sandbox/roles", "roles"

    def set(self, name, scopes):
        """PUT /_sandbox/roles/<name>: the role's scopes; returns ``{"name", "scopes"}``."""
        return self.admin.call("PUT", self.item(name), {"scopes": list(scopes)})


class Organizations(Collection):
    """The mokapen dialect's organizations (`admin.organizations`): ``{"id", "name", "members": [{"username",
    "role"}]}``."""

    path, listed = "/_sandbox/organizations", "organizations"


class Operations(Collection):
    """The consumer dialect's operations (`admin.operations`): ``{"id", "method", "path", "public", "scope",
    "status_code", "response"}``, by id."""

    path, listed = "/_sandbox/operations", "operations"


def parse(raw):
    """A response body: its JSON, or its text when it is not JSON."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
