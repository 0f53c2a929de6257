"""Sign-in and user forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from crm.accounts.models import ROLE_LABELS, ROLES


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=255)])
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=10)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in ROLES])


class EmptyForm(FlaskForm):
    """A POST button: nothing but the CSRF token."""
