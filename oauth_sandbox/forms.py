"""The browser forms the pages and the dialects share; every POST is a FlaskForm under the app-wide CSRFProtect.

A dialect's own forms are in its package.
"""
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """Username and password of a sandbox user."""

    username = StringField("Username", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Log in")


class ConsentForm(FlaskForm):
    """Approve or deny a client's authorization request."""

    approve = SubmitField("Approve")
    deny = SubmitField("Deny")


class LogoutForm(FlaskForm):
    """Log out (a POST, so that another site cannot log the user out with a link)."""

    submit = SubmitField("Log out")


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (scope pickers)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
