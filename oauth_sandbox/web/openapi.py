"""The OpenAPI 3.0 document of every API endpoint, served at /openapi.json with a docs page at /docs.

Each dialect writes its own paths (`Dialect.openapi_paths`, with the blocks of openapi_schema.py); this module
puts them together in front-page order.
"""
import json
import re
import shlex

from flask import Blueprint, render_template, request

from ..dialects import DIALECTS
from ..qa.openapi import ADMIN_TAG, HEALTH_TAG, admin_paths

bp = Blueprint("openapi", __name__)


def operations():
    """Every API operation: path -> method -> OpenAPI operation."""
    paths = {}
    for dialect in DIALECTS:
        fragment = dialect.openapi_paths()
        overlap = paths.keys() & fragment.keys()
        assert not overlap, f"{dialect.name} documents paths another dialect has: {', '.join(sorted(overlap))}"
        paths.update(fragment)
    paths.update(admin_paths())  # the QA admin API, tagged apart from the dialects
    return paths


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document (the browser endpoints /authorize are pages, not listed)."""
    return {"openapi": "3.0.3",
            "info": {"title": "OAuth Sandbox", "version": "1",
                     "description": "The documented token APIs the sandbox reproduces, with each dialect's errors."},
            "servers": [{"url": request.url_root.rstrip("/")}],
            "tags": [*({"name": dialect.name, "description": dialect.title} for dialect in DIALECTS),
                     {"name": ADMIN_TAG, "description": "QA controls: send Authorization: Bearer ADMIN_TOKEN"},
                     {"name": HEALTH_TAG, "description": "Readiness probe, no token"}],
            "paths": operations()}


@bp.get("/docs")
def docs():
    """Every operation of the OpenAPI document: its parameters, request body, responses and an example request."""
    base_url = request.url_root.rstrip("/")
    described = [describe(path, method, operation, base_url)
                 for path, methods in operations().items() for method, operation in methods.items()]
    return render_template("front/docs.html", operations=described)


# Example values for the example requests: the demo data's, by (dialect, field) or by field.
EXAMPLES = {
    ("php", "client_id"): "php-demo", ("php", "client_secret"): "php-demo-secret",
    ("mokapen", "client_id"): "mokapen-private-demo", ("mokapen", "client_secret"): "mokapen-private-demo-secret",
    ("mokapen", "grant_type"): "client_credentials", ("mokapen", "organization_id"): "849",
    ("mokapen", "scope"): "tasks.read tasks.write contacts.read", ("consumer", "grant_type"): "client_credentials",
    "code": "AUTHORIZATION_CODE", "username": "johndoe", "password": "demo-password", "device-info": "My laptop",
    "refresh_token": "REFRESH_TOKEN", "token": "ACCESS_TOKEN", "title": "lorem ipsum", "name": "Ada Lovelace",
    "org_id": "849", "item_id": "1", "session_id": "SESSION_ID",
}
# The fields an example sends beyond the required ones (the rest are optional and left out).
EXAMPLE_OPTIONAL = {"username", "password", "device-info", "organization_id", "scope"}
RESOURCE_BODIES = {"contacts": {"name": "Ada Lovelace"}, "tasks": {"title": "Send the quarterly report"}}


def example_value(dialect, name):
    return EXAMPLES.get((dialect, name), EXAMPLES.get(name, name.upper().replace("-", "_")))


def describe(path, method, operation, base_url):
    """What /docs shows of one operation."""
    dialect = (operation.get("tags") or [""])[0]
    parameters = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                   "type": p.get("schema", {}).get("type", "")} for p in operation.get("parameters", [])]
    bodies = []
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        schema = content.get("schema", {})
        required = set(schema.get("required", []))
        bodies.append({"media_type": media_type, "fields": [
            {"name": name, "type": field.get("type", ""), "required": name in required}
            for name, field in schema.get("properties", {}).items()]})
    return {"id": re.sub(r"[^a-z0-9]+", "-", f"{method}{path}".lower()).strip("-"),
            "method": method.upper(), "path": path, "dialect": dialect, "summary": operation.get("summary", ""),
            "parameters": parameters, "bodies": bodies, "responses": grouped_responses(operation["responses"]),
            "example": example_request(path, method, dialect, parameters, bodies, base_url)}


def grouped_responses(responses):
    """Responses with the same description and fields shown once: (statuses, description, fields)."""
    groups = {}
    for status, response in sorted(responses.items()):
        fields = []
        for content in response.get("content", {}).values():
            fields = list(content.get("schema", {}).get("properties", {}))
        key = (response.get("description", ""), tuple(fields))
        groups.setdefault(key, []).append(status)
    return [{"statuses": statuses, "description": description, "fields": fields}
            for (description, fields), statuses in groups.items()]


def example_request(path, method, dialect, parameters, bodies, base_url):
    """A curl command for the operation with the demo data's values (placeholders where a value comes from an earlier
    answer: ACCESS_TOKEN, AUTHORIZATION_CODE, …)."""
    url_path = path
    query, headers = [], []
    for parameter in parameters:
        value = example_value(dialect, parameter["name"])
        if parameter["in"] == "path":
            url_path = url_path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "query" and (parameter["required"] or parameter["name"] in EXAMPLE_OPTIONAL):
            query.append(f"{parameter['name']}={value.replace(' ', '%20')}")
        elif parameter["in"] == "header" and parameter["name"] == "Authorization":
            scheme = "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW" if path == "/authorization/token" else "Bearer ACCESS_TOKEN"
            headers.append(f"Authorization: {scheme}")
    if path.startswith("/api/v1/"):
        headers.append("Accept: application/json")
    url = base_url + url_path + ("?" + "&".join(query) if query else "")
    parts = [f"curl -s -X {method.upper()} {quote(url)}" if method != "get" else f"curl -s {quote(url)}"]
    parts += [f"-H {quote(header)}" for header in headers]
    for body in bodies[:1]:
        fields = [f for f in body["fields"] if f["required"] or f["name"] in EXAMPLE_OPTIONAL
                  or (dialect, f["name"]) in EXAMPLES]
        if body["media_type"] == "application/json":
            resource = url_path.split("/")[4] if path.startswith("/api/v1/") else None
            document = RESOURCE_BODIES.get(resource) or {f["name"]: example_value(dialect, f["name"]) for f in fields}
            parts += ["-H 'Content-Type: application/json'", "-d " + quote(json.dumps(document))]
        else:
            parts += [f"--data-urlencode {quote(f['name'] + '=' + example_value(dialect, f['name']))}"
                      if " " in example_value(dialect, f["name"])
                      else f"-d {f['name']}={example_value(dialect, f['name'])}" for f in fields]
    return " \\\n  ".join(parts)


def quote(text):
    """`text` as one shell word."""
    return text if re.fullmatch(r"[\w@%+=:,./-]+", text) else shlex.quote(text)
