"""The bare Flask app the benchmark compares the sandbox with: one JSON route, GET and POST; and, for reference,
routes that do nothing but sign a JWT, to show what a signature alone costs against the bare route."""
import secrets
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request

app = Flask(__name__)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # as the sandbox's mokapen key
HMAC_KEY = secrets.token_hex(32)


@app.route("/")
@app.route("/bare", methods=["GET", "POST"])
def bare():
    """Echo the form keys as JSON: the least a JSON API route does."""
    return jsonify(ok=True, keys=sorted(request.form))


@app.post("/bare/<any(rs256, hs256):algorithm>")
def signed(algorithm):
    """The least a JWT token endpoint does: sign a token (RS256 with a 2048-bit key, or HS256) and answer it."""
    now = int(time.time())
    claims = {"iss": request.url_root, "sub": "1", "iat": now, "exp": now + 3600, "jti": secrets.token_hex(8),
              "scope": " ".join(sorted(request.form))}
    key = RSA_KEY if algorithm == "rs256" else HMAC_KEY
    token = jwt.encode(claims, key, algorithm=algorithm.upper())
    return jsonify(access_token=token, token_type="Bearer", expires_in=3600)
