"""The OpenAPI 3.0 document of every API endpoint, served at /openapi.json with a docs page at /docs.

Each dialect writes its own paths (`Dialect.openapi_paths`, with the blocks of openapi_schema.py); this module
puts them together in front-page order.
"""
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
    """A page listing every operation of the OpenAPI document."""
    return render_template("front/docs.html", paths=operations())
