"""consumer's part of the QA admin API: roles (and their scopes) and operations, created, listed, read, changed and
deleted at runtime (validated by the fixtures' loaders: an entry of `roles` or `operations`)."""
from flask import current_app

from ...extensions import db
from .fixtures import OPERATION_SCHEMA, ROLE_SCHEMA, add_scopes, role_scopes
from .models import Operation, Role, UserRole

ROLE_CHANGE_SCHEMA = {"type": "object", "properties": {"scopes": ROLE_SCHEMA["properties"]["scopes"]},
                      "required": ["scopes"], "additionalProperties": False}


def role_json(role):
    return {"name": role.name, "scopes": list(role.scopes)}


def operation_json(operation):
    return {"id": operation.id, "method": operation.method, "path": operation.path, "public": operation.public,
            "scope": operation.scope, "status_code": operation.status_code, "response": operation.response}


def admin_routes(bp, admin):
    """Add /_sandbox/roles[/<name>] and /_sandbox/operations[/<id>] to the admin API's blueprint."""

    def found_role(name):
        role = Role.by_name(name)
        if role is None:
            raise admin.not_found(f"No role {name!r}")
        return role

    @bp.post("/roles")
    def create_role():
        """A roles entry ({"name", "scopes"}); 409 when the name is taken."""
        entry = admin.body()
        if isinstance(entry.get("name"), str) and Role.by_name(entry["name"]) is not None:
            raise admin.conflict(f"Role {entry['name']!r} already exists")
        admin.create("roles", entry)
        return role_json(Role.by_name(entry["name"])), 201

    @bp.get("/roles")
    def list_roles():
        return {"roles": [role_json(role) for role in db.session.scalars(db.select(Role).order_by(Role.name))]}

    @bp.get("/roles/<name>")
    def get_role(name):
        return role_json(found_role(name))

    @bp.route("/roles/<name>", methods=["PUT", "PATCH"])
    def change_role(name):
        """{"scopes": [...]}: a consumer role's scopes; the next token reflects them."""
        data = admin.body()
        role = found_role(name)
        unknown = set(data) - {"scopes"}
        if unknown or not isinstance(data.get("scopes"), list):
            raise admin.bad_request("'scopes' must be a list of scope names (the only field of a role to change)")
        scopes = admin.checked(lambda: role_scopes(data, "roles[0]"))
        add_scopes(scopes)
        role.scopes = scopes
        db.session.commit()
        return role_json(role)

    @bp.delete("/roles/<name>")
    def delete_role(name):
        """Refused (409) while users hold the role, or when it is the default role."""
        role = found_role(name)
        if role.name == current_app.config["CONSUMER_DEFAULT_ROLE"]:
            raise admin.conflict(f"{role.name!r} is the default role (CONSUMER_DEFAULT_ROLE): it cannot go")
        holders = db.session.scalar(db.select(db.func.count()).select_from(UserRole).filter_by(role_id=role.id))
        if holders:
            raise admin.conflict(f"{holders} user(s) hold the role {role.name!r}: give them another consumer_role "
                                 "(PATCH /_sandbox/users/<username>) first")
        db.session.delete(role)
        db.session.commit()
        return {"deleted": name}

    def found_operation(operation_id):
        operation = db.session.get(Operation, operation_id) if operation_id <= 2**31 - 1 else None
        if operation is None:
            raise admin.not_found(f"No operation {operation_id}")
        return operation

    @bp.post("/operations")
    def create_operation():
        """An operations entry ({"method", "path", "public"?, "scope"?, "response"?, "status_code"?}); 409 when
        the method and path have one."""
        entry = admin.body()
        method, path = entry.get("method"), entry.get("path")
        if isinstance(method, str) and isinstance(path, str) and find(method, path) is not None:
            raise admin.conflict(f"{method.upper()} {path} has an operation already")
        admin.create("operations", entry)
        return operation_json(find(method, path)), 201

    def find(method, path):
        return db.session.scalar(db.select(Operation).filter_by(method=method.upper(), path=path))

    @bp.get("/operations")
    def list_operations():
        return {"operations": [operation_json(operation)
                               for operation in db.session.scalars(db.select(Operation).order_by(Operation.id))]}

    @bp.get("/operations/<int:operation_id>")
    def get_operation(operation_id):
        return operation_json(found_operation(operation_id))

    @bp.delete("/operations/<int:operation_id>")
    def delete_operation(operation_id):
        db.session.delete(found_operation(operation_id))
        db.session.commit()
        return {"deleted": operation_id}


def admin_openapi_paths(collection):
    """/_sandbox/roles and /_sandbox/operations in /openapi.json (a role's change: PUT or PATCH its scopes)."""
    paths = {**collection("/_sandbox/roles", "name", {"type": "string", "minLength": 1}, ROLE_SCHEMA,
                          "consumer role", change_schema=ROLE_CHANGE_SCHEMA),
             **collection("/_sandbox/operations", "operation_id", {"type": "integer"}, OPERATION_SCHEMA,
                          "consumer operation")}
    role = paths["/_sandbox/roles/{name}"]
    role["patch"]["requestBody"]["content"]["application/json"]["schema"] = ROLE_CHANGE_SCHEMA  # scopes required
    role["put"] = role["patch"]
    return paths
