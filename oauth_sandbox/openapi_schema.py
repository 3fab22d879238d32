"""Building blocks of the OpenAPI document: schemas, parameters, request bodies and responses.

web/openapi.py serves the document; each dialect writes its paths with these (its `Dialect.openapi_paths`).
"""


def obj(required=(), **properties):
    """A JSON object schema."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
# RFC 6749 §5.2's error shape: php's, Fusio's token endpoint's and mokapen's. The others are in their dialect.
OAUTH_ERROR = obj(["error", "error_description"], error=STRING, error_description=STRING)
# The QA admin API's tag and error shape (qa/openapi.py; a dialect's admin routes use them too).
ADMIN_TAG = "sandbox admin"
ADMIN_ERROR = obj(["error", "message"], error=STRING, message=STRING)
ERROR_STATUSES = ("400", "401", "403", "404", "405", "406", "413", "429", "500", "503")


def responses(success_status, success_schema, error_schema, extra_errors=()):
    """Responses: the success, and every error status in the dialect's shape."""
    result = {success_status: {"description": "Success",
                               "content": {"application/json": {"schema": success_schema}}}}
    for status in ERROR_STATUSES + tuple(extra_errors):
        result[status] = {"description": "Error", "content": {"application/json": {"schema": error_schema}}}
    return result


def request_object(required=(), **properties):
    """A request body's object: a required string must not be empty (the endpoints count an empty value as
    missing, RFC 6749 §3.1)."""
    for name in required:
        if properties.get(name, {}).get("type") == "string":
            properties[name] = {"minLength": 1, **properties[name]}
    return obj(required, **properties)


def form_body(required=(), **properties):
    return {"required": bool(required), "content": {
        "application/x-www-form-urlencoded": {"schema": request_object(required, **properties)}}}


def json_body(required=(), **properties):
    return {"required": bool(required), "content": {"application/json": {
        "schema": request_object(required, **properties)}}}


def query(name, required=False, schema=STRING):
    if required and schema.get("type") == "string":
        schema = {"minLength": 1, **schema}
    return {"name": name, "in": "query", "required": required, "schema": schema}


def bearer_header():
    return {"name": "Authorization", "in": "header", "required": False, "schema": STRING}


# An id in a path: what the routes' <int:…> converter matches (database.ColumnId); a larger one is a 404.
PATH_ID = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def path_param(name):
    return {"name": name, "in": "path", "required": True, "schema": PATH_ID}
