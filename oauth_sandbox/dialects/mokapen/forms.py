"""Developer dashboard forms: seed 001's application fields, scope selection, review and app actions."""
from urllib.parse import urlsplit

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from ...forms import MultiCheckboxField

IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def image_type(data):
    """The MIME type of PNG, JPEG, GIF or WebP bytes, judged by their signature; None otherwise."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in IMAGE_SIGNATURES.items() if data.startswith(magic)), None)


def absolute_url(field, schemes=("https", "http")):
    """An absolute http(s) URL with a host."""
    parts = urlsplit(field.data or "")
    if parts.scheme not in schemes or not parts.netloc:
        raise ValidationError("Enter an absolute URL, such as https://example.com/callback.")


class ApplicationForm(FlaskForm):
    """Step 1 (seed 001's table): what the app is; Continue leads to the scopes."""

    kind = RadioField("Application type", choices=[("public", "Public app (OAuth authorization code)"),
                                                   ("private", "Private app (client credentials)")],
                      default="public")
    company_name = StringField("Company name", validators=[DataRequired(), Length(max=255)])
    company_url = StringField("Company website URL", validators=[DataRequired(), Length(max=2048)])
    name = StringField("Application name", validators=[DataRequired(), Length(max=255)])
    logo = FileField("Company logo (PNG, JPEG, GIF or WebP)", validators=[FileRequired("A company logo is required.")])
    redirect_url = StringField("Redirect URL (public apps)", validators=[Length(max=2048)])
    dedicated_user = SelectField("Dedicated user (private apps)", coerce=int, validate_choice=False)
    stakeholders = TextAreaField("Stakeholders (optional)", validators=[Length(max=2000)])
    submit = SubmitField("Continue")

    def validate_company_url(self, field):
        absolute_url(field)

    def validate_redirect_url(self, field):
        if self.kind.data == "public":
            if not field.data:
                raise ValidationError("Public apps need a redirect URL.")
            absolute_url(field)

    def validate_dedicated_user(self, field):
        if self.kind.data == "private" and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Private apps act as a member of the organization: choose one.")

    def validate_logo(self, field):
        limit = current_app.config["MOKAPEN_LOGO_MAX_BYTES"]
        data = field.data.read(limit + 1)
        field.data.seek(0)
        if len(data) > limit:
            raise ValidationError(f"The logo may be at most {limit // 1024} KiB.")
        if image_type(data) is None:
            raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")


# What each scope lets an app do (the scopes page and the consent page show it).
SCOPE_DESCRIPTIONS = {
    "tasks.read": "Read the organization's tasks",
    "tasks.write": "Create, change and delete the organization's tasks",
    "contacts.read": "Read the organization's contacts",
    "contacts.write": "Create, change and delete the organization's contacts",
}


class ScopesForm(FlaskForm):
    """Step 2: the API scopes the app may request (public) or include in tokens (private)."""

    scopes = MultiCheckboxField("API scopes")
    submit = SubmitField("Save")

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError("Choose at least one scope.")


class ActionForm(FlaskForm):
    """A button that changes something (CSRF-protected POST)."""

    submit = SubmitField("Go")
