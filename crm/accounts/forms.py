"""Sign-in and user forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

# Sign-in emails are checked for shape only: internal domains (.local, .test) are fine here.
EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address like name@company.com.")

from crm.accounts.models import ROLE_LABELS, ROLES



def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), EMAIL_SHAPE], filters=[_strip],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in")


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), EMAIL_SHAPE, Length(max=255)],
                       filters=[_strip])
    # Least privilege first and by default: a new user is a rep unless an admin says otherwise.
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in reversed(ROLES)],
                       default="rep")
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=10)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in ROLES])


NEW_PASSWORD = {"autocomplete": "new-password", "minlength": 10}


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired()],
                                 description="At least 10 characters.", render_kw=NEW_PASSWORD)
    confirm = PasswordField("New password again", validators=[DataRequired()],
                            render_kw=NEW_PASSWORD)


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField("New password", validators=[DataRequired()],
                                 description="At least 10 characters.", render_kw=NEW_PASSWORD)
    confirm = PasswordField("New password again", validators=[DataRequired()],
                            render_kw=NEW_PASSWORD)


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)], filters=[_strip],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "spellcheck": "false", "autocapitalize": "off"})


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class EmptyForm(FlaskForm):
    """A POST button: nothing but the CSRF token."""


TOKEN_EXPIRIES = [("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"),
                  ("never", "Never")]


class ApiTokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)], filters=[_strip],
                       description="What will use it, e.g. “Lead form” or “LinkedIn bridge”.")
    expires = SelectField("Expires", choices=TOKEN_EXPIRIES, default="90")
