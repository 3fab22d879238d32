"""JSON from a request: the one parser every body goes through (Flask's `request.get_json`, through the app's JSON
provider, and `loads` here), refusing what would break what handles it after.

Python's parser raises RecursionError on deep nesting (`[` × 100,000), which is no ValueError, so the callers'
"not JSON" answers missed it and the request ended in a 500; and a document just shallow enough to parse would
break the code that walks it recursively (the journal's redaction). Both are a ValueError here, which every caller
already answers in its dialect's shape.
"""
import json

#: How deeply arrays and objects may nest in a request body; the documents' bodies nest two or three levels.
MAX_DEPTH = 32


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_DEPTH."""


def loads(text, **kwargs):
    """`json.loads(text)`, or a ValueError for a document nested deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"The JSON is nested more than {MAX_DEPTH} levels deep") from None
    if isinstance(value, (list, dict)) and _openers(text) > MAX_DEPTH:
        check_depth(value)
    return value


def _openers(text):
    """How many arrays and objects the text opens at most (cheap bound: no walk for small documents)."""
    if isinstance(text, (bytes, bytearray)):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def check_depth(value):
    """A ValueError when `value` nests deeper than MAX_DEPTH (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise JSONTooDeep(f"The JSON is nested more than {MAX_DEPTH} levels deep")
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))
