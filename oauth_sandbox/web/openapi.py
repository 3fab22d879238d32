"""The OpenAPI 3.0 document of every API endpoint, served at /openapi.json with a docs page at /docs."""
from flask import Blueprint, render_template, request

bp = Blueprint("openapi", __name__)


def obj(required=(), **properties):
    """A JSON object schema."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
# Each dialect's error shape: what every error of its paths looks like.
PHP_ERROR = obj(["error", "error_description"], error=STRING, error_description=STRING)
V1_ERROR = obj(["success", "errors"], success={"type": "boolean", "enum": [False]},
               errors={"type": "object", "additionalProperties": obj(["code", "message"], code=INTEGER,
                                                                        message=STRING)})
FUSIO_ERROR = obj(["success", "message"], success={"type": "boolean", "enum": [False]}, title=STRING, message=STRING)
OAUTH_ERROR = PHP_ERROR  # RFC 6749 §5.2: Fusio's token endpoint and mokapen
ERROR_STATUSES = ("400", "401", "403", "404", "405", "406", "413", "429", "500", "503")


def responses(success_status, success_schema, error_schema, extra_errors=()):
    """Responses: the success, and every error status in the dialect's shape."""
    result = {success_status: {"description": "Success",
                               "content": {"application/json": {"schema": success_schema}}}}
    for status in ERROR_STATUSES + tuple(extra_errors):
        result[status] = {"description": "Error", "content": {"application/json": {"schema": error_schema}}}
    return result


def form_body(required=(), **properties):
    return {"required": bool(required), "content": {
        "application/x-www-form-urlencoded": {"schema": obj(required, **properties)}}}


def json_body(required=(), **properties):
    return {"required": bool(required), "content": {"application/json": {"schema": obj(required, **properties)}}}


def query(name, required=False, schema=STRING):
    return {"name": name, "in": "query", "required": required, "schema": schema}


def bearer_header():
    return {"name": "Authorization", "in": "header", "required": False, "schema": STRING}


def path_param(name):
    return {"name": name, "in": "path", "required": True, "schema": INTEGER}


TOKEN_PHP = obj(["access_token", "token_type", "expires_in"], access_token=STRING, token_type=STRING,
                expires_in=INTEGER)
USER = obj(["username", "email", "full_name"], username=STRING, email=STRING, full_name=STRING)
FUSIO_LOGIN = obj(["token", "expires_in", "refresh_token", "scope"], token=STRING, expires_in=INTEGER,
                  refresh_token=STRING, scope=STRING)
FUSIO_TOKEN = obj(["access_token", "token_type", "expires_in", "refresh_token", "scope"], access_token=STRING,
                  token_type=STRING, expires_in=INTEGER, refresh_token=STRING, scope=STRING)
MOKAPEN_TOKEN = obj(["token_type", "expires_in", "access_token", "organization_id", "organization_name"],
                    token_type=STRING, expires_in=INTEGER, access_token=STRING, refresh_token=STRING,
                    organization_id=INTEGER, organization_name=STRING)
V1_SUCCESS = obj(["success", "data"], success={"type": "boolean", "enum": [True]}, data={"type": "object"})
DATA = obj(["data"], data={})


def operations():
    """Every API operation: path -> method -> OpenAPI operation."""
    v1_login = {"summary": "Generate a 30-day token (seed 004)", "tags": ["v1"],
                "parameters": [query("username"), query("password"), query("device-info"), query("debug")],
                "responses": responses("200", V1_SUCCESS, V1_ERROR)}
    mokapen_item = {"tags": ["mokapen"], "parameters": [path_param("org_id"), path_param("item_id"), bearer_header()],
                    "responses": responses("200", DATA, OAUTH_ERROR)}
    mokapen_paths = {}
    for resource in ("contacts", "tasks"):
        mokapen_paths[f"/api/v1/{{org_id}}/{resource}"] = {
            "get": {"summary": f"List the organization's {resource}", "tags": ["mokapen"],
                    "parameters": [path_param("org_id"), bearer_header()],
                    "responses": responses("200", DATA, OAUTH_ERROR)},
            "post": {"summary": f"Create one of the organization's {resource}", "tags": ["mokapen"],
                     "parameters": [path_param("org_id"), bearer_header()], "requestBody": json_body(),
                     "responses": responses("201", DATA, OAUTH_ERROR)},
        }
        mokapen_paths[f"/api/v1/{{org_id}}/{resource}/{{item_id}}"] = {
            "get": {**mokapen_item, "summary": "Read one"},
            "patch": {**mokapen_item, "summary": "Update one", "requestBody": json_body()},
            "delete": {**mokapen_item, "summary": "Delete one",
                       "responses": {**responses("200", DATA, OAUTH_ERROR), "204": {"description": "Deleted"}}},
        }
    return {
        "/api/token.php": {"post": {
            "summary": "Exchange an authorization code for an access token (seed 002)", "tags": ["php"],
            "requestBody": form_body(["code", "client_id", "client_secret"], code=STRING, client_id=STRING,
                                     client_secret=STRING, grant_type=STRING, redirect_uri=STRING,
                                     code_verifier=STRING),
            "responses": responses("200", TOKEN_PHP, PHP_ERROR)}},
        "/api/userinfo.php": {"get": {
            "summary": "The token's user (seed 002)", "tags": ["php"], "parameters": [bearer_header()],
            "responses": responses("200", USER, PHP_ERROR)}},
        "/consumer/login": {
            "post": {"summary": "Log in: a JWT for a username and password (seed 003)", "tags": ["consumer"],
                     "requestBody": json_body(["username", "password"], username=STRING, password=STRING,
                                              scopes={"type": "array", "items": STRING}),
                     "responses": responses("200", FUSIO_LOGIN, FUSIO_ERROR)},
            "put": {"summary": "Refresh a login", "tags": ["consumer"],
                    "requestBody": json_body(["refresh_token"], refresh_token=STRING),
                    "responses": responses("200", FUSIO_LOGIN, FUSIO_ERROR)}},
        "/authorization/token": {"post": {
            "summary": "client_credentials and refresh_token with Basic credentials (seed 003)", "tags": ["consumer"],
            "parameters": [{"name": "Authorization", "in": "header", "required": False, "schema": STRING}],
            "requestBody": form_body(["grant_type"], grant_type=STRING, scope=STRING, refresh_token=STRING),
            "responses": responses("200", FUSIO_TOKEN, {"oneOf": [OAUTH_ERROR, FUSIO_ERROR]})}},
        "/protected_endpoint": {"post": {
            "summary": "The seed's private operation (scope protected)", "tags": ["consumer"],
            "parameters": [bearer_header()], "requestBody": json_body(title=STRING),
            "responses": responses("200", {"type": "object"}, FUSIO_ERROR)}},
        "/public_endpoint": {"get": {
            "summary": "A public operation", "tags": ["consumer"],
            "responses": responses("200", {"type": "object"}, FUSIO_ERROR)}},
        "/v1/oauth/": {"post": v1_login},
        "/v1/oauth/index.php": {"post": {**v1_login, "summary": "The same, at index.php"}},
        "/v1/user/": {"get": {"summary": "The token's user", "tags": ["v1"], "parameters": [bearer_header()],
                              "responses": responses("200", V1_SUCCESS, V1_ERROR)}},
        "/v1/sessions/": {"get": {"summary": "The user's device sessions", "tags": ["v1"],
                                  "parameters": [bearer_header()],
                                  "responses": responses("200", V1_SUCCESS, V1_ERROR)}},
        "/v1/sessions/{session_id}/": {"delete": {
            "summary": "Deauthorize a device session", "tags": ["v1"],
            "parameters": [path_param("session_id"), bearer_header()],
            "responses": responses("200", V1_SUCCESS, V1_ERROR)}},
        "/oauth/token": {"post": {
            "summary": "authorization_code, refresh_token, client_credentials (seed 000)", "tags": ["mokapen"],
            "requestBody": form_body(["grant_type"], grant_type=STRING, client_id=STRING, client_secret=STRING,
                                     code=STRING, redirect_uri=STRING, refresh_token=STRING, scope=STRING,
                                     organization_id=STRING),
            "responses": responses("200", MOKAPEN_TOKEN, OAUTH_ERROR)}},
        "/oauth/revoke": {"post": {
            "summary": "RFC 7009 revocation", "tags": ["mokapen"],
            "requestBody": form_body(["token"], token=STRING, token_type_hint=STRING, client_id=STRING,
                                     client_secret=STRING),
            "responses": responses("200", {"type": "object"}, OAUTH_ERROR)}},
        "/oauth/introspect": {"post": {
            "summary": "RFC 7662 introspection", "tags": ["mokapen"],
            "requestBody": form_body(["token"], token=STRING, token_type_hint=STRING, client_id=STRING,
                                     client_secret=STRING),
            "responses": responses("200", obj(["active"], active=BOOLEAN), OAUTH_ERROR)}},
        "/oauth/jwks": {"get": {"summary": "The RS256 public key set", "tags": ["mokapen"],
                                "responses": responses("200", obj(["keys"], keys={"type": "array"}), OAUTH_ERROR)}},
        "/.well-known/oauth-authorization-server": {"get": {
            "summary": "RFC 8414 metadata", "tags": ["mokapen"],
            "responses": responses("200", obj(["issuer", "token_endpoint"], issuer=STRING, token_endpoint=STRING),
                                   OAUTH_ERROR)}},
        **mokapen_paths,
    }


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document (the browser endpoints /authorize are pages, not listed)."""
    return {"openapi": "3.0.3",
            "info": {"title": "OAuth Sandbox", "version": "1",
                     "description": "The documented token APIs the sandbox reproduces, with each dialect's errors."},
            "servers": [{"url": request.url_root.rstrip("/")}],
            "paths": operations()}


@bp.get("/docs")
def docs():
    """A page listing every operation of the OpenAPI document."""
    return render_template("front/docs.html", paths=operations())
