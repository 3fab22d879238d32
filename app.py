"""The card's entry point: `flask run` in the checkout finds create_app here (the factory lives in the package)."""
from oauth_sandbox.factory import create_app

__all__ = ["create_app"]
