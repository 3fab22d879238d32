"""The QA admin API's part of /openapi.json: every route under /_sandbox/ and /metrics, tagged `sandbox admin`
(the readiness probe `sandbox health`), apart from the dialects' tags. web/openapi.py adds it to the document."""
from ..dialects import DIALECTS
from ..openapi_schema import ADMIN_ERROR, ADMIN_TAG, BOOLEAN, INTEGER, STRING, json_body, obj, path_param, query
from .fixtures import CLIENT_STATUSES, client_schema, user_schema

HEALTH_TAG = "sandbox health"
NUMBER = {"type": "number"}
ANY_OBJECT = {"type": "object"}
ADMIN_AUTHORIZATION = {"name": "Authorization", "in": "header", "required": False, "schema": STRING,
                       "description": "Bearer ADMIN_TOKEN"}
JOURNAL_FILTERS = [query("dialect", schema={"type": "string", "enum": ["php", "consumer", "v1", "mokapen"]}),
                   query("client_id"), query("user"), query("path"), query("path_prefix"), query("method"),
                   query("status", schema={"type": "integer", "minimum": 100, "maximum": 599}),
                   query("since", schema=NUMBER)]
FAULT = obj(["id", "path"], id=INTEGER, path=STRING, method={"type": "string", "nullable": True},
            error={"type": "string", "nullable": True}, status={"type": "integer", "nullable": True},
            remaining={"type": "integer", "nullable": True}, rate={"type": "number", "nullable": True},
            latency_ms=INTEGER, stall_ms=INTEGER, drop=BOOLEAN, retry_after=INTEGER)
CLOCK = obj(["now", "offset"], now=INTEGER, offset=INTEGER)
NEXT_TOKEN_CLAIMS = obj(["id", "client_id", "claims", "remaining"], id=INTEGER, client_id=STRING, claims=ANY_OBJECT,
                        remaining=INTEGER, created_at=INTEGER)


def admin_responses(success_status="200", success_schema=ANY_OBJECT):
    """The success, and the admin API's errors: 400 (what is wrong), 401 (no token), 404 (off, or not found), 409
    (it exists already, or something depends on it)."""
    result = {success_status: {"description": "Success", "content": {"application/json": {"schema": success_schema}}}}
    for status in ("400", "401", "404", "405", "409", "413", "500", "503"):
        result[status] = {"description": "Error", "content": {"application/json": {"schema": ADMIN_ERROR}}}
    return result


def operation(summary, success_status="200", success_schema=ANY_OBJECT, parameters=(), body=None):
    found = {"summary": summary, "tags": [ADMIN_TAG], "parameters": [ADMIN_AUTHORIZATION, *parameters],
             "responses": admin_responses(success_status, success_schema)}
    if body is not None:
        found["requestBody"] = body
    return found


def name_param(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def entry_body(schema, required=True):
    """A JSON request body: a fixtures entry's schema (without its required fields when not `required`)."""
    if not required:
        schema = {key: value for key, value in schema.items() if key != "required"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def collection(path, key, key_schema, entry_schema, noun, change_schema=None, item_schema=ANY_OBJECT):
    """The operations of a provisioned collection at `path` (e.g. /_sandbox/users): POST (201) and GET, and GET,
    PATCH (when `change_schema` is given) and DELETE of `path/{key}`."""
    parameter = {"name": key, "in": "path", "required": True, "schema": key_schema}
    item = {
        "get": operation(f"One {noun}", success_schema=item_schema, parameters=[parameter]),
        "delete": operation(f"Delete a {noun} and what depends on it (409: what refuses it)",
                            parameters=[parameter])}
    if change_schema is not None:
        item["patch"] = operation(f"Change a {noun} at once", success_schema=item_schema, parameters=[parameter],
                                  body=entry_body(change_schema, required=False))
    return {
        path: {"post": operation(f"Create a {noun} (a fixtures entry; 409 when it exists)", "201", item_schema,
                                 body=entry_body(entry_schema)),
               "get": operation(f"Every {noun}")},
        f"{path}/{{{key}}}": item,
    }


def admin_paths():
    """path -> method -> OpenAPI operation of the admin API."""
    fault_body = json_body(["path"], path=STRING, method=STRING, error=STRING, status=INTEGER, drop=BOOLEAN,
                           count=INTEGER, rate=NUMBER, latency_ms=INTEGER, stall_ms=INTEGER, retry_after=INTEGER)
    return {
        "/_sandbox/health": {"get": {
            "summary": "Readiness probe: 200 when the database answers, 503 otherwise (no token)",
            "tags": [HEALTH_TAG], "responses": {
                status: {"description": description, "content": {"application/json": {
                    "schema": obj(["status"], status=STRING, database=STRING)}}}
                for status, description in (("200", "Ready"), ("503", "The database does not answer"))}}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics (the admin token in production)", "tags": [ADMIN_TAG],
            "parameters": [ADMIN_AUTHORIZATION],
            "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {
                "schema": STRING}}},
                **{status: {"description": "Error", "content": {"application/json": {"schema": ADMIN_ERROR}}}
                   for status in ("401", "500")}}}},
        "/_sandbox/requests": {
            "get": operation("The journal, newest first, filtered", success_schema=obj(
                ["requests"], requests={"type": "array", "items": ANY_OBJECT}),
                parameters=[*JOURNAL_FILTERS, query("limit", schema={"type": "integer", "minimum": 1,
                                                                      "maximum": 100000})]),
            "delete": operation("Clear the journal", success_schema=obj(["cleared"], cleared=BOOLEAN))},
        "/_sandbox/requests/count": {"get": operation(
            "How many journal entries match the filters", success_schema=obj(["count"], count=INTEGER),
            parameters=JOURNAL_FILTERS)},
        "/_sandbox/reset": {"post": operation("Restore the demo data or the fixtures file")},
        "/_sandbox/clock": {
            "get": operation("The sandbox clock", success_schema=CLOCK),
            "post": operation("Move the sandbox clock: set, advance or reset", success_schema=CLOCK,
                              body=json_body(set=NUMBER, advance=NUMBER, reset=BOOLEAN))},
        "/_sandbox/tokens/expire": {"post": operation(
            "Expire a token, or a client's or a user's tokens", success_schema=obj(["expired"], expired=INTEGER),
            body=json_body(token=STRING, client_id=STRING, username=STRING))},
        "/_sandbox/faults": {
            "get": operation("The faults configured", success_schema=obj(
                ["faults"], faults={"type": "array", "items": FAULT})),
            "post": operation("Inject a fault", "201", FAULT, body=fault_body),
            "delete": operation("Clear every fault", success_schema=obj(["cleared"], cleared=BOOLEAN))},
        "/_sandbox/faults/{fault_id}": {"delete": operation(
            "Remove one fault", success_schema=obj(["deleted"], deleted=INTEGER),
            parameters=[path_param("fault_id")])},
        "/_sandbox/rate-limits": {
            "get": operation("Every rate limit in force"),
            "put": operation("Override rate limits ('5 per minute'; null restores)",
                             body={"required": True, "content": {"application/json": {"schema": ANY_OBJECT}}})},
        "/_sandbox/fixtures/schema": {"get": operation("The JSON Schema of a fixtures file")},
        **provisioning_paths(),
        "/_sandbox/clients/{client_id}/next-token-claims": {
            "post": operation("One-off claims for the client's next `count` tokens", "201", NEXT_TOKEN_CLAIMS,
                              parameters=[name_param("client_id")],
                              body=json_body(["claims"], claims=ANY_OBJECT, count=INTEGER)),
            "get": operation("The one-off claims waiting, the next first", parameters=[name_param("client_id")],
                             success_schema=obj(["next_token_claims"], next_token_claims={
                                 "type": "array", "items": NEXT_TOKEN_CLAIMS})),
            "delete": operation("Drop the one-off claims waiting", parameters=[name_param("client_id")],
                                success_schema=obj(["cleared"], cleared=INTEGER))},
    }


def provisioning_paths():
    """Users and clients (the core's), and each dialect's collections (Dialect.admin_openapi_paths)."""
    user = user_schema()
    user_change = {**user, "properties": {name: value for name, value in user["properties"].items()
                                          if name != "username"}}
    clients = {"oneOf": [client_schema(dialect.name) for dialect in DIALECTS if dialect.load_client_fixture]}
    client_change = obj(status={"enum": list(CLIENT_STATUSES)}, headless_user={"type": "string", "nullable": True},
                        name=STRING, redirect_uris={"type": "array", "items": STRING},
                        scopes={"type": "array", "items": STRING}, client_secret=STRING, claims=ANY_OBJECT)
    paths = {**collection("/_sandbox/users", "username", STRING, user, "user", user_change),
             **collection("/_sandbox/clients", "client_id", STRING, clients, "client", client_change)}
    paths["/_sandbox/clients"]["get"]["parameters"].append(
        query("dialect", schema={"type": "string", "enum": [dialect.name for dialect in DIALECTS]}))
    for dialect in DIALECTS:
        paths.update(dialect.admin_openapi_paths(collection))
    return paths
