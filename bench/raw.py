"""The bare route without Flask: a plain WSGI callable answering what bench/bare.py's /bare answers (its form keys
as JSON), so that the benchmark can measure what Flask's own request handling costs a request. A fast lane in front
of Flask that holds no rule of its own could save at most that (bench.py prints the bound). At /bare/in-context it
answers the same inside the bare Flask app's request context, pushed and popped around it: the least a lane that
calls the views' own functions needs (they read `request`, `g` and `current_app`), so bench.py prints that bound too.
"""
import json
from urllib.parse import parse_qsl

import bare


def app(environ, start_response):
    """/bare without Flask; /bare/in-context the same inside a Flask request context."""
    if environ.get("PATH_INFO") == "/bare/in-context":
        with bare.app.request_context(environ):
            return answer(environ, start_response)
    return answer(environ, start_response)


def answer(environ, start_response):
    """/bare as a WSGI callable: `{"keys": [...], "ok": true}` for GET and for a form POST."""
    keys = []
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        keys = sorted(name for name, _ in parse_qsl(environ["wsgi.input"].read(length).decode("latin-1")))
    body = json.dumps({"keys": keys, "ok": True}, separators=(",", ":")).encode() + b"\n"  # as Flask sends it
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
