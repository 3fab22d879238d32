"""The page a reader of seed 002's JS sample builds: the sample's script plus 'your backend' endpoint."""
import requests
from flask import Flask, request

PAGE = """<!doctype html><title>JS sample</title>
<button id="authorize" onclick="authorize()">Log in with the sandbox</button>
<script>{script}</script>
<script>handleRedirect();</script>"""


def create_js_sample_app(script, token_url):
    """Serve the filled-in sample at / and /callback, and exchange codes at /your-backend-endpoint."""
    app = Flask(__name__)

    @app.get("/")
    @app.get("/callback")
    def page():
        return PAGE.format(script=script)

    @app.post("/your-backend-endpoint")
    def exchange_code():
        response = requests.post(token_url, data={"code": request.json["code"], "client_id": "php-demo",
                                                  "client_secret": "php-demo-secret"}, timeout=30)
        return response.json(), response.status_code

    return app
