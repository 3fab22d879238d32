"""The developer portal: register, see your scopes, create apps; administrators edit roles, users, operations."""
import functools
import secrets
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for

from ...accounts import current_user, login_required
from ...demo import create_client, create_user
from ...extensions import db
from ...models import Client, Token, User
from ...ratelimit import rate_limited
from .forms import AppForm, DeleteForm, OperationForm, RegisterForm, RoleScopesForm, UserRoleForm
from .models import Operation, Role, Scope, all_scope_names, role_of, scopes_of, set_role

bp = Blueprint("portal", __name__, url_prefix="/portal")


def admin_required(view):
    """Only users whose role is Administrator."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        role = role_of(current_user())
        if role is None or role.name != "Administrator":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def own_app(app_id):
    """The logged-in user's consumer app, or 404."""
    app = db.session.get(Client, app_id)
    if app is None or app.dialect != "consumer" or app.owner_id != current_user().id:
        abort(404)
    return app


@bp.route("/register", methods=["GET", "POST"])
@rate_limited("LOGIN_RATE_LIMIT", methods=["POST"])
def register():
    """Create an account with the default role and log in."""
    form = RegisterForm()
    if form.validate_on_submit():
        user = create_user(form.username.data, form.email.data, "", form.password.data)
        db.session.commit()
        session.clear()
        session["user_id"] = user.id
        flash(f"Welcome, {user.username}: you have the {role_of(user).name} role.")
        return redirect(url_for("portal.dashboard"))
    return render_template("consumer/register.html", form=form)


@bp.get("/")
@login_required
def dashboard():
    """Your role, your scopes and your apps."""
    user = current_user()
    apps = db.session.scalars(db.select(Client).filter_by(dialect="consumer", owner_id=user.id)
                              .order_by(Client.id)).all()
    return render_template("consumer/dashboard.html", role=role_of(user), scopes=scopes_of(user), apps=apps)


@bp.route("/apps/new", methods=["GET", "POST"])
@login_required
def new_app():
    """Create an app limited to some of your scopes; its secret is shown once."""
    form = AppForm()
    form.scopes.choices = scopes_of(current_user())
    if form.validate_on_submit():
        secret = secrets.token_hex(32)
        app = create_client("consumer", str(uuid.uuid4()), secret, form.name.data, scope=" ".join(form.scopes.data))
        app.owner = current_user()
        db.session.commit()
        return render_template("consumer/app.html", app=app, secret=secret, form=DeleteForm())
    return render_template("consumer/new_app.html", form=form)


@bp.get("/apps/<int:app_id>")
@login_required
def show_app(app_id):
    """An app's key and scopes (the secret is stored hashed: rotate it to see a new one)."""
    return render_template("consumer/app.html", app=own_app(app_id), secret=None, form=DeleteForm())


@bp.post("/apps/<int:app_id>/secret")
@login_required
def rotate_secret(app_id):
    """Replace an app's secret and show the new one once."""
    app = own_app(app_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    secret = secrets.token_hex(32)
    app.set_secret(secret)
    db.session.commit()
    return render_template("consumer/app.html", app=app, secret=secret, form=form)


@bp.route("/admin/roles", methods=["GET", "POST"])
@admin_required
def roles():
    """Each role's scopes; the next token of its users reflects a change."""
    roles = db.session.scalars(db.select(Role).order_by(Role.id)).all()
    forms = {role.id: RoleScopesForm(prefix=f"role{role.id}", scopes=role.scopes) for role in roles}
    for role in roles:
        form = forms[role.id]
        form.scopes.choices = all_scope_names()
        if form.submit.data and form.validate_on_submit():
            update_role_scopes(role, form)
            return redirect(url_for("portal.roles"))
    return render_template("consumer/roles.html", roles=roles, forms=forms)


def update_role_scopes(role, form):
    """Save the role's scopes from its form, creating the new scope if one was named."""
    scopes = list(form.scopes.data)
    if form.new_scope.data:
        if form.new_scope.data not in all_scope_names():
            db.session.add(Scope(name=form.new_scope.data))
        scopes.append(form.new_scope.data)
    role.scopes = list(dict.fromkeys(scopes))
    db.session.commit()
    flash(f"Scopes of {role.name} saved.")


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    """Every user with their role, and a form to change it."""
    users = db.session.scalars(db.select(User).order_by(User.id)).all()
    choices = [(role.id, role.name) for role in db.session.scalars(db.select(Role).order_by(Role.id))]
    forms = {}
    for user in users:
        form = forms[user.id] = UserRoleForm(prefix=f"user{user.id}", role=role_of(user).id)
        form.role.choices = choices
        if form.submit.data and form.validate_on_submit():
            set_role(user, db.session.get(Role, form.role.data))
            db.session.commit()
            flash(f"{user.username} now has the {role_of(user).name} role.")
            return redirect(url_for("portal.users"))
    return render_template("consumer/users.html", users=users, forms=forms, role_of=role_of)


@bp.route("/admin/operations", methods=["GET", "POST"])
@admin_required
def operations():
    """The operations, and a form to declare another; it answers at once."""
    form = OperationForm()
    form.scope.choices = [("", "—")] + [(name, name) for name in all_scope_names()]
    if form.validate_on_submit():
        db.session.add(Operation(method=form.method.data, path=form.path.data, public=form.public.data,
                                 scope=form.scope.data or None, status_code=form.status_code.data,
                                 response=form.parsed_response))
        db.session.commit()
        flash(f"{form.method.data} {form.path.data} answers now.")
        return redirect(url_for("portal.operations"))
    listed = db.session.scalars(db.select(Operation).order_by(Operation.path, Operation.method)).all()
    return render_template("consumer/operations.html", form=form, operations=listed, delete_form=DeleteForm())


@bp.post("/admin/operations/<int:operation_id>/delete")
@admin_required
def delete_operation(operation_id):
    """Remove an operation."""
    operation = db.session.get(Operation, operation_id) or abort(404)
    if DeleteForm().validate_on_submit():
        db.session.delete(operation)
        db.session.commit()
        flash(f"{operation.method} {operation.path} removed.")
    return redirect(url_for("portal.operations"))


@bp.app_template_global()
def token_count(app):
    """How many live tokens an app has (shown on its page)."""
    return db.session.scalar(db.select(db.func.count(Token.id)).filter_by(client_id=app.id, revoked_at=None))
