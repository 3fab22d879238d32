"""mokapen's part of /openapi.json: the token, revocation, introspection and key endpoints, and the org API."""
from ...openapi_schema import (
    BOOLEAN,
    INTEGER,
    OAUTH_ERROR,
    STRING,
    bearer_header,
    form_body,
    json_body,
    obj,
    path_param,
    responses,
)

MOKAPEN_TOKEN = obj(["token_type", "expires_in", "access_token", "organization_id", "organization_name"],
                    token_type=STRING, expires_in=INTEGER, access_token=STRING, refresh_token=STRING,
                    organization_id=INTEGER, organization_name=STRING)
DATA = obj(["data"], data={})


def resource_paths():
    """The organization's contacts and tasks: list, create, read, update, delete."""
    item = {"tags": ["mokapen"], "parameters": [path_param("org_id"), path_param("item_id"), bearer_header()],
            "responses": responses("200", DATA, OAUTH_ERROR)}
    paths = {}
    for resource in ("contacts", "tasks"):
        paths[f"/api/v1/{{org_id}}/{resource}"] = {
            "get": {"summary": f"List the organization's {resource}", "tags": ["mokapen"],
                    "parameters": [path_param("org_id"), bearer_header()],
                    "responses": responses("200", DATA, OAUTH_ERROR)},
            "post": {"summary": f"Create one of the organization's {resource}", "tags": ["mokapen"],
                     "parameters": [path_param("org_id"), bearer_header()], "requestBody": json_body(),
                     "responses": responses("201", DATA, OAUTH_ERROR)},
        }
        paths[f"/api/v1/{{org_id}}/{resource}/{{item_id}}"] = {
            "get": {**item, "summary": "Read one"},
            "patch": {**item, "summary": "Update one", "requestBody": json_body()},
            "delete": {**item, "summary": "Delete one",
                       "responses": {**responses("200", DATA, OAUTH_ERROR), "204": {"description": "Deleted"}}},
        }
    return paths


def openapi_paths():
    """path -> method -> OpenAPI operation (/oauth/authorize is a page, not listed)."""
    return {
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
        **resource_paths(),
    }
