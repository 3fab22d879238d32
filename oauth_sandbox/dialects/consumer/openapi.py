"""consumer's part of /openapi.json: login, the token endpoint and the shipped operations."""
from ...openapi_schema import (
    ADMIN_ERROR,
    ADMIN_TAG,
    INTEGER,
    OAUTH_ERROR,
    STRING,
    bearer_header,
    form_body,
    json_body,
    obj,
    responses,
)
from .models import SCOPE_NAME

FUSIO_ERROR = obj(["success", "message"], success={"type": "boolean", "enum": [False]}, title=STRING, message=STRING)
FUSIO_LOGIN = obj(["token", "expires_in", "refresh_token", "scope"], token=STRING, expires_in=INTEGER,
                  refresh_token=STRING, scope=STRING)
FUSIO_TOKEN = obj(["access_token", "token_type", "expires_in", "refresh_token", "scope"], access_token=STRING,
                  token_type=STRING, expires_in=INTEGER, refresh_token=STRING, scope=STRING)


def openapi_paths():
    """path -> method -> OpenAPI operation."""
    return {
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
        # consumer's part of the QA admin API (admin.py), in the admin API's shape
        "/_sandbox/roles/{name}": {"put": {
            "summary": "Set a consumer role's scopes", "tags": [ADMIN_TAG],
            "parameters": [{"name": "name", "in": "path", "required": True,
                            "schema": {"type": "string", "minLength": 1}},
                           {"name": "Authorization", "in": "header", "required": False, "schema": STRING,
                            "description": "Bearer ADMIN_TOKEN"}],
            "requestBody": json_body(["scopes"], scopes={"type": "array", "items": {
                "type": "string", "pattern": SCOPE_NAME}}),
            "responses": responses("200", obj(["name", "scopes"], name=STRING, scopes={
                "type": "array", "items": STRING}), ADMIN_ERROR)}},
    }
