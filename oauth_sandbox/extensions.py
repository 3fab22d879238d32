"""Flask extensions, created unbound here and bound to the app in create_app()."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
csrf = CSRFProtect()
# SQLite needs batch mode to alter tables in later migrations.
migrate = Migrate(render_as_batch=True)

