"""The core's demo data (SPEC.md's users), and the helpers that create users and clients for the dialects' demo
data, the fixtures and the CLI. Loading all of it, each dialect's part included, is bootstrap.load_demo_data."""
from .extensions import db
from .models import Client, User
from .security import known_password_hash

DEMO_PASSWORD = "demo-password"
DEMO_USERS = (
    ("johndoe", "john@example.com", "John Doe"),  # seed 002's userinfo example
    ("janedoe", "jane@example.com", "Jane Doe"),
)
# The php demo client's, which mokapen's public demo app shares (SPEC.md).
PHP_DEMO_REDIRECT_URIS = (
    "http://localhost:8000/callback",
    "http://127.0.0.1:8000/callback",
    "https://example.com/callback",
)


def create_demo_users():
    """johndoe and janedoe (not committed)."""
    for username, email, full_name in DEMO_USERS:
        create_user(username, email, full_name, DEMO_PASSWORD, test_data=True)


def create_user(username, email, full_name, password, test_data=False):
    """Add a user with a hashed password (not committed). `test_data`: a demo or fixture password, whose hash is
    made once per process and reused (security.known_password_hash); otherwise it is hashed anew."""
    user = User(username=username, email=email, full_name=full_name)
    if test_data:
        user.password_hash = known_password_hash(password)
    else:
        user.set_password(password)
    db.session.add(user)
    return user


def create_client(dialect, client_id, client_secret, name, redirect_uris=(), grant_types=(), scope=""):
    """Add an OAuth client of `dialect` with a hashed secret (not committed)."""
    client = Client(client_id=client_id, name=name, dialect=dialect, redirect_uris=list(redirect_uris),
                    grant_types=list(grant_types), scope=scope)
    client.set_secret(client_secret)
    db.session.add(client)
    return client


def is_empty():
    """Whether the database holds no users yet (a first start)."""
    return db.session.scalar(db.select(User.id).limit(1)) is None
