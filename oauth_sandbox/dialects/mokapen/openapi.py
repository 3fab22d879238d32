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
from .api import RESOURCES

MOKAPEN_TOKEN = obj(["token_type", "expires_in", "access_token", "organization_id", "organization_name"],
                    token_type=STRING, expires_in=INTEGER, access_token=STRING, refresh_token=STRING,
                    organization_id=INTEGER, organization_name=STRING)


def column_schema(column):
    """A field as its column holds it (api.field_problem refuses anything else): true/false, or a string no
    longer than the column, without NUL."""
    if column.type.python_type is bool:
        return BOOLEAN
    schema = {"type": "string", "pattern": "^[^\\x00]*$"}
    if column.type.length:
        schema["maxLength"] = column.type.length
    return schema


def resource_schemas(resource):
    """(the fields' schemas, the required field, an item as answered) of /api/v1/{org_id}/<resource>."""
    model, fields, required = RESOURCES[resource]
    properties = {name: column_schema(model.__table__.c[name]) for name in fields}
    return properties, required, obj(["id", *fields], id=INTEGER, **properties)


ITEM_VERBS = {"get": "read", "put": "replace", "patch": "update", "delete": "delete"}


def item_links(resource):
    """OpenAPI links from a created item to what can be done with it (Schemathesis's stateful tests follow them)."""
    return {f"{verb.title()}{resource.title()}Item": {
        "operationId": f"{verb}-{resource}-item",
        "parameters": {"org_id": "$request.path.org_id", "item_id": "$response.body#/data/id"}}
        for verb in ITEM_VERBS.values()}


def resource_paths():
    """The organization's contacts and tasks: list, create, read, replace, update, delete."""
    paths = {}
    for resource in RESOURCES:
        properties, required, item = resource_schemas(resource)
        one = obj(["data"], data=item)
        listed = obj(["data"], data={"type": "array", "items": item})
        by_id = {"tags": ["mokapen"], "parameters": [path_param("org_id"), path_param("item_id"), bearer_header()],
                 "responses": responses("200", one, OAUTH_ERROR)}
        created = responses("201", one, OAUTH_ERROR)
        created["201"]["links"] = item_links(resource)
        paths[f"/api/v1/{{org_id}}/{resource}"] = {
            "get": {"summary": f"List the organization's {resource}", "tags": ["mokapen"],
                    "operationId": f"list-{resource}", "parameters": [path_param("org_id"), bearer_header()],
                    "responses": responses("200", listed, OAUTH_ERROR)},
            "post": {"summary": f"Create one of the organization's {resource}", "tags": ["mokapen"],
                     "operationId": f"create-{resource}-item", "parameters": [path_param("org_id"), bearer_header()],
                     "requestBody": json_body([required], **properties), "responses": created},
        }
        paths[f"/api/v1/{{org_id}}/{resource}/{{item_id}}"] = {
            "get": {**by_id, "summary": "Read one"},
            "put": {**by_id, "summary": f"Replace one ('{required}' required)",
                    "requestBody": json_body([required], **properties)},
            "patch": {**by_id, "summary": "Update the fields sent", "requestBody": json_body(**properties)},
            "delete": {**by_id, "summary": "Delete one",
                       "responses": {**responses("200", one, OAUTH_ERROR), "204": {"description": "Deleted"}}},
        }
        for method, verb in ITEM_VERBS.items():
            paths[f"/api/v1/{{org_id}}/{resource}/{{item_id}}"][method]["operationId"] = f"{verb}-{resource}-item"
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
        "/.well-known/jwks.json": {"get": {
            "summary": "The same key set, at its well-known path", "tags": ["mokapen"],
            "responses": responses("200", obj(["keys"], keys={"type": "array"}), OAUTH_ERROR)}},
        "/.well-known/oauth-authorization-server": {"get": {
            "summary": "RFC 8414 metadata", "tags": ["mokapen"],
            "responses": responses("200", obj(["issuer", "token_endpoint"], issuer=STRING, token_endpoint=STRING),
                                   OAUTH_ERROR)}},
        **resource_paths(),
    }
