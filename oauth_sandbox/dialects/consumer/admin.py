"""consumer's part of the QA admin API: a role's scopes."""
import re

from ...extensions import db
from .forms import SCOPE_NAME
from .models import Role, Scope, all_scope_names


def admin_routes(bp, admin):
    """Add PUT /_sandbox/roles/<name> to the admin API's blueprint."""

    @bp.put("/roles/<name>")
    def change_role(name):
        """{"scopes": [...]}: a consumer role's scopes; the next token reflects them."""
        role = Role.by_name(name)
        scopes = admin.body().get("scopes")
        if role is None:
            raise admin.not_found(f"No role {name!r}")
        if not isinstance(scopes, list) or not all(isinstance(scope, str) and re.fullmatch(SCOPE_NAME, scope)
                                                   for scope in scopes):
            raise admin.bad_request("'scopes' must be a list of scope names (lowercase letters, digits, '.', '_' "
                                    "or '-', at most 64)")
        existing = set(all_scope_names())
        db.session.add_all(Scope(name=scope) for scope in dict.fromkeys(scopes) if scope not in existing)
        role.scopes = list(dict.fromkeys(scopes))
        db.session.commit()
        return {"name": role.name, "scopes": role.scopes}
