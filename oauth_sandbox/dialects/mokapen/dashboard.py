"""Account → Developer → My Applications (seed 001), organization switching, and the review page."""
import functools
import secrets
import uuid

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, session, url_for
from sqlalchemy import update

from ... import clock
from ...accounts import current_user, login_required
from ...demo import create_client
from ...extensions import db
from ...models import Client, Token
from .forms import SCOPE_DESCRIPTIONS, ActionForm, ApplicationForm, ScopesForm, image_type
from .models import SCOPES, Application, Membership, membership, organizations_of
from .oauth import generate_private_app_token

bp = Blueprint("mokapen_dashboard", __name__, url_prefix="/account")

# A draft's stored secret hash until its first secret is shown (seed 001: "Once status is Active, open the
# Credentials tab to retrieve your client_id and client_secret"). No secret hashes to it, so none authenticates.
UNREVEALED = "unrevealed"


def current_organization():
    """The organization the user works in (switchable); their first one by default."""
    organizations = organizations_of(current_user())
    chosen = next((org for org in organizations if org.id == session.get("organization_id")), None)
    return chosen or (organizations[0] if organizations else None)


def manager_required(view):
    """Owners and admins of the current organization manage its applications."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        organization = current_organization()
        member = membership(current_user(), organization.id) if organization else None
        if member is None or member.role not in ("owner", "admin"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def app_in_organization(client_pk):
    """An application of the current organization, or 404 (also for a user in no organization)."""
    organization = current_organization()
    app = db.session.get(Application, client_pk) if organization else None
    if app is None or app.organization_id != organization.id:
        abort(404)
    return app


@bp.context_processor
def inject_organizations():
    """The organization switcher's data for the dashboard pages."""
    user = current_user()
    return {"mokapen_organization": current_organization() if user else None}


@bp.app_template_global()
def scope_description(scope):
    """What a mokapen scope lets an app do ("" for other scopes): the consent page shows it."""
    return SCOPE_DESCRIPTIONS.get(scope, "")


@bp.get("/organizations")
@login_required
def organizations():
    """The user's organizations and their role in each."""
    memberships = db.session.scalars(db.select(Membership).filter_by(user_id=current_user().id)
                                     .order_by(Membership.organization_id)).all()
    return render_template("mokapen/organizations.html", memberships=memberships, form=ActionForm())


@bp.post("/organizations/<int:organization_id>/switch")
@login_required
def switch_organization(organization_id):
    """Work in another of the user's organizations."""
    if not ActionForm().validate_on_submit() or membership(current_user(), organization_id) is None:
        abort(400)
    session["organization_id"] = organization_id
    flash(f"Switched to organization {organization_id}.")
    return redirect(url_for("mokapen_dashboard.applications"))


@bp.get("/developer/apps")
@login_required
def applications():
    """My Applications: the current organization's apps."""
    organization = current_organization()
    apps = db.session.scalars(db.select(Application).filter_by(organization_id=organization.id)
                              .order_by(Application.created_at, Application.client_pk)).all() if organization else []
    return render_template("mokapen/applications.html", apps=apps)


@bp.route("/developer/apps/new", methods=["GET", "POST"])
@manager_required
def new_application():
    """Step 1: the application's details; Continue saves a draft and leads to the scopes."""
    organization = current_organization()
    form = ApplicationForm()
    members = db.session.scalars(db.select(Membership).filter_by(organization_id=organization.id)).all()
    form.dedicated_user.choices = [(m.user_id, m.user.username) for m in members]
    if form.validate_on_submit():
        app = create_draft(form, organization)
        return redirect(url_for("mokapen_dashboard.edit_scopes", client_pk=app.client_pk))
    return render_template("mokapen/new_application.html", form=form)


def create_draft(form, organization):
    """Store a draft application (status draft) with its validated logo."""
    logo = form.logo.data.read()
    public = form.kind.data == "public"
    client = create_client("mokapen", str(uuid.uuid4()), secrets.token_hex(32), form.name.data,
                           redirect_uris=[form.redirect_url.data] if public else [],
                           grant_types=["authorization_code", "refresh_token"] if public else ["client_credentials"])
    client.status = "draft"
    client.client_secret_hash = UNREVEALED  # the first secret is made when it is shown (Credentials tab)
    client.owner = current_user()
    db.session.flush()
    app = Application(client_pk=client.id, kind=form.kind.data, organization_id=organization.id,
                      company_name=form.company_name.data, company_url=form.company_url.data,
                      dedicated_user_id=None if public else form.dedicated_user.data,
                      stakeholders=form.stakeholders.data or "", logo=logo, logo_type=image_type(logo))
    db.session.add(app)
    db.session.commit()
    return app


@bp.route("/developer/apps/<int:client_pk>/scopes", methods=["GET", "POST"])
@manager_required
def edit_scopes(client_pk):
    """Step 2, and later changes: the scopes; a changed active public app goes back to review."""
    app = app_in_organization(client_pk)
    form = ScopesForm(scopes=app.client.scope.split())
    form.scopes.choices = [(scope, f"{scope} — {SCOPE_DESCRIPTIONS[scope]}") for scope in SCOPES]
    if not form.validate_on_submit():
        return render_template("mokapen/scopes.html", app=app, form=form)
    first_save = app.client.status == "draft"
    changed = set(form.scopes.data) != set(app.client.scope.split())
    app.client.scope = " ".join(form.scopes.data)
    if first_save:
        return activate_new_application(app)
    if changed and app.kind == "public" and app.client.status == "active":
        app.client.status = "pending"
        revoke_client_tokens(app.client)
        flash("Scopes changed: the app is pending review again and its tokens are revoked.")
    db.session.commit()
    return redirect(url_for("mokapen_dashboard.show_application", client_pk=client_pk))


def activate_new_application(app):
    """Private apps are active at once (their secret shown once); public ones wait for review."""
    auto = current_app.config["MOKAPEN_AUTO_APPROVE"]
    app.client.status = "active" if app.kind == "private" or auto else "pending"
    db.session.commit()
    if app.client.status == "active":
        return show_new_secret(app, "Application created and active.")
    flash("Application created: pending review.")
    return redirect(url_for("mokapen_dashboard.show_application", client_pk=app.client_pk))


def show_new_secret(app, message):
    """Give the app a new secret and show it, once, on the Credentials tab."""
    secret = secrets.token_hex(32)
    app.client.set_secret(secret)
    db.session.commit()
    flash(message)
    return render_template("mokapen/application.html", app=app, tab="credentials", secret=secret, form=ActionForm())


def revoke_client_tokens(client):
    """Revoke every live token of a client (not committed)."""
    db.session.execute(update(Token).where(Token.client_id == client.id, Token.revoked_at.is_(None))
                       .values(revoked_at=clock.now()))


@bp.get("/developer/apps/<int:client_pk>")
@bp.get("/developer/apps/<int:client_pk>/<any(details, credentials, token):tab>")
@login_required
def show_application(client_pk, tab="details"):
    """An application's tabs: Details, Credentials (with Generate Token for private apps, as seed 000 says), and
    Generate Token for private apps."""
    app = app_in_organization(client_pk)
    return render_template("mokapen/application.html", app=app, tab=tab, secret=None, form=ActionForm(),
                           unrevealed=app.client.client_secret_hash == UNREVEALED)


@bp.post("/developer/apps/<int:client_pk>/secret")
@manager_required
def rotate_secret(client_pk):
    """Show an active app's first secret (a public app's, once it is approved), or replace the secret and show the
    new one; either once."""
    app = app_in_organization(client_pk)
    if not ActionForm().validate_on_submit() or app.client.status != "active":
        abort(400)
    if app.client.client_secret_hash == UNREVEALED:
        return show_new_secret(app, "Your client secret: it is shown this once.")
    return show_new_secret(app, "New client secret generated; the old one no longer works.")


@bp.post("/developer/apps/<int:client_pk>/token")
@manager_required
def generate_token(client_pk):
    """Generate Token: a client_credentials token of a private app for the current organization."""
    app = app_in_organization(client_pk)
    if not ActionForm().validate_on_submit() or app.kind != "private" or app.client.status != "active":
        abort(400)
    token = generate_private_app_token(app.client, current_organization().id)
    return render_template("mokapen/application.html", app=app, tab="token", secret=None, token=token,
                           expires_at=clock.now() + token["expires_in"], form=ActionForm())


@bp.post("/developer/apps/<int:client_pk>/<any(disable, enable):action>")
@manager_required
def toggle(client_pk, action):
    """Owners and admins disable or re-enable a private app (its tokens stop or resume working)."""
    app = app_in_organization(client_pk)
    if not ActionForm().validate_on_submit() or app.kind != "private":
        abort(400)
    app.client.status = "disabled" if action == "disable" else "active"
    db.session.commit()
    flash(f"Application {app.client.status}.")
    return redirect(url_for("mokapen_dashboard.show_application", client_pk=client_pk))


@bp.get("/developer/apps/<int:client_pk>/logo")
@login_required
def logo(client_pk):
    """The application's company logo."""
    app = app_in_organization(client_pk)
    return Response(app.logo, mimetype=app.logo_type, headers={"Content-Security-Policy": "default-src 'none'"})


def reviewer_required(view):
    """Sandbox administrators (SANDBOX_ADMIN_USERS) review public apps."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user().username not in current_app.config["SANDBOX_ADMIN_USERS"]:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/developer/review")
@reviewer_required
def review():
    """Public apps pending review, across organizations."""
    pending = db.session.scalars(db.select(Application).join(Client, Client.id == Application.client_pk)
                                 .filter(Client.status == "pending").order_by(Application.created_at)).all()
    return render_template("mokapen/review.html", apps=pending, form=ActionForm())


@bp.post("/developer/review/<int:client_pk>/<any(approve, reject):decision>")
@reviewer_required
def decide(client_pk, decision):
    """Approve (active) or reject a pending public app."""
    client = db.session.get(Client, client_pk)
    if not ActionForm().validate_on_submit() or client is None or client.status != "pending":
        abort(400)
    client.status = "active" if decision == "approve" else "rejected"
    db.session.commit()
    flash(f"{client.name}: {client.status}.")
    return redirect(url_for("mokapen_dashboard.review"))
