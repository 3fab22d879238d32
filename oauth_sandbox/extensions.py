"""Flask extensions, created unbound here and bound to the app in create_app()."""
from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from . import limits_storage  # noqa: F401 - registers sandbox-memory://, the default rate-limit storage


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
csrf = CSRFProtect()
# SQLite needs batch mode to alter tables in later migrations.
migrate = Migrate(render_as_batch=True)


def request_identity():
    """What the limiter keys limits on: the endpoint, or the dynamic route that answered (operations)."""
    return request.endpoint or g.get("dynamic_endpoint", "")


limiter = Limiter(key_func=get_remote_address, request_identifier=request_identity)
