"""Developer portal forms (all under CSRFProtect)."""
import json

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from ...extensions import db
from ...forms import MultiCheckboxField
from ...models import User
from .models import SCOPE_NAME, STATUS_CODES, STATUS_CODES_TEXT, Operation

USERNAME = r"^[a-zA-Z0-9\-_.]{3,32}$"
# Paths other parts of the sandbox own; an operation there would never be reached.
RESERVED_PREFIXES = ("/api/", "/v1/", "/oauth/", "/consumer/", "/authorization/", "/portal/", "/account/",
                     "/static/", "/login", "/logout", "/callback", "/_sandbox/")


class RegisterForm(FlaskForm):
    """Sign up at the developer portal."""

    username = StringField("Username", validators=[DataRequired(), Regexp(USERNAME, message=(
        "3 to 32 letters, digits, '-', '_' or '.'"))])
    email = StringField("Email", validators=[DataRequired(), Length(max=255), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                                                                      message="Not an email address")])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", message="Passwords differ")])
    submit = SubmitField("Register")

    def validate_username(self, field):
        if User.by_username(field.data) is not None:
            raise ValidationError("That username is taken.")

    def validate_email(self, field):
        if db.session.scalar(db.select(User.id).filter_by(email=field.data)) is not None:
            raise ValidationError("That email address is registered already.")


class AppForm(FlaskForm):
    """A new app: its name and the scopes (of the user's) it may use."""

    name = StringField("App name", validators=[DataRequired(), Length(max=255)])
    scopes = MultiCheckboxField("Scopes")
    submit = SubmitField("Create app")

    def validate_scopes(self, field):
        # Not DataRequired: that renders `required` on every checkbox, and browsers then demand all of them.
        if not field.data:
            raise ValidationError("Choose at least one scope.")


class RoleScopesForm(FlaskForm):
    """The scopes a role holds, and optionally a new scope to create and grant."""

    scopes = MultiCheckboxField("Scopes")
    new_scope = StringField("New scope", validators=[Optional(), Regexp(SCOPE_NAME, message=(
        "Lowercase letters, digits, '.', '_' or '-'"))])
    submit = SubmitField("Save")


class UserRoleForm(FlaskForm):
    """A user's role."""

    role = SelectField("Role", coerce=int)
    submit = SubmitField("Change")


class OperationForm(FlaskForm):
    """A new operation: method and path, public or the scope it needs, and its JSON answer."""

    method = SelectField("Method", choices=["GET", "POST", "PUT", "PATCH", "DELETE"])
    path = StringField("Path", validators=[DataRequired(), Length(max=255), Regexp(
        r"^/[A-Za-z0-9_\-./]*$", message="A path such as /todos, of letters, digits, '-', '_', '.', '/'")])
    public = BooleanField("Public (no token needed)")
    scope = SelectField("Scope required", validate_choice=False)
    status_code = IntegerField("Status code", default=200, validators=[NumberRange(
        STATUS_CODES.start, STATUS_CODES.stop - 1, message=f"A status {STATUS_CODES_TEXT}")])
    response = TextAreaField("JSON response", default='{"success": true}')
    submit = SubmitField("Add operation")

    def validate_path(self, field):
        if field.data.startswith(RESERVED_PREFIXES) or field.data == "/":
            raise ValidationError("That path belongs to another part of the sandbox.")
        if db.session.scalar(db.select(Operation.id).filter_by(method=self.method.data, path=field.data)):
            raise ValidationError("An operation with this method and path exists already.")

    def validate_scope(self, field):
        if not self.public.data and not field.data:
            raise ValidationError("A private operation needs a scope.")

    def validate_response(self, field):
        try:
            self.parsed_response = json.loads(field.data)
        except ValueError as error:
            raise ValidationError(f"Not valid JSON: {error}") from None


class DeleteForm(FlaskForm):
    """Confirm a deletion or a secret rotation (a POST with CSRF)."""

    submit = SubmitField("Delete")
