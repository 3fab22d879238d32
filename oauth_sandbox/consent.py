"""The authorization step every dialect with an authorize endpoint shares: validate, log in, consent."""
from authlib.oauth2 import OAuth2Error
from flask import redirect, render_template, request, url_for

from .accounts import current_user
from .errors import render_error_page, wants_json
from .extensions import db
from .forms import ConsentForm
from .models import User


def authorization_view(server):
    """Declare that a view is the authorization endpoint `server` validates (for the QA faults, which answer an
    injected error there as the endpoint answers its own: refuse_authorization)."""
    def declare(view):
        view.authorization_server = server
        return view
    return declare


def authorization_endpoint(server, make_form=lambda user: ConsentForm()):
    """GET shows the consent page (after login); POST approves or denies.

    The request is validated before anything else, so a bad one is answered at once: back to the
    client with `error` when its client and redirect_uri are known, otherwise a 400 here.
    `make_form(user)` lets a dialect ask more on the consent page (mokapen: the organization).
    """
    user = current_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return refuse_authorization(server, error)
    if grant.client.headless_user_id is not None:  # QA's headless login: approved without the pages
        return server.create_authorization_response(grant=grant,
                                                    grant_user=db.session.get(User, grant.client.headless_user_id))
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path))
    form = make_form(user)
    if form.validate_on_submit():
        return server.create_authorization_response(grant=grant, grant_user=user if form.approve.data else None)
    return render_template("consent/consent.html", form=form, client=grant.client,
                           scopes=(grant.request.scope or "").split(), user=user, redirect_uri=grant.redirect_uri)


def refuse_authorization(server, error):
    """An authorization request refused with `error`: back to the client when its client and redirect_uri are known
    (`error.redirect_uri`, RFC 6749 §4.1.2.1), otherwise a 400 here."""
    if error.redirect_uri:
        return server.handle_response(*error())
    return authorization_error(server, error)


def authorization_error(server, error):
    """An error that must not redirect (unknown client, unregistered redirect_uri): JSON or HTML 400."""
    if wants_json():
        response = server.error_for(error).to_response()
        response.status_code = 400  # even invalid_client: this is the authorize page, not token auth
        response.headers.pop("WWW-Authenticate", None)
        return response
    return render_error_page(400, "Authorization request rejected", error.get_error_description())
