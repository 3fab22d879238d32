"""The bare Flask app the benchmark compares the sandbox with: one JSON route, GET and POST."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
@app.route("/bare", methods=["GET", "POST"])
def bare():
    """Echo the form keys as JSON: the least a JSON API route does."""
    return jsonify(ok=True, keys=sorted(request.form))
