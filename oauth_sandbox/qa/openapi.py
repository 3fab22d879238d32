"""The QA admin API's part of /openapi.json: every route under /_sandbox/ and /metrics, tagged `sandbox admin`
(the readiness probe `sandbox health`), apart from the dialects' tags. web/openapi.py adds it to the document."""
from ..openapi_schema import ADMIN_ERROR, ADMIN_TAG, BOOLEAN, INTEGER, STRING, json_body, obj, path_param, query

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


def admin_responses(success_status="200", success_schema=ANY_OBJECT):
    """The success, and the admin API's errors: 400 (what is wrong), 401 (no token), 404 (off, or not found)."""
    result = {success_status: {"description": "Success", "content": {"application/json": {"schema": success_schema}}}}
    for status in ("400", "401", "404", "405", "413", "500", "503"):
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
        "/_sandbox/users/{username}": {"patch": operation(
            "Change a user's email, full name or password", parameters=[name_param("username")],
            body=json_body(email=STRING, full_name=STRING, password=STRING))},
        "/_sandbox/clients/{client_id}": {"patch": operation(
            "Change a client's status or headless user", parameters=[name_param("client_id")],
            body=json_body(status=STRING, headless_user={"type": "string", "nullable": True}))},
    }
