"""The signed-in user as a page's code needs them: the user itself and their time zone."""
from flask import g
from flask_login import current_user


def me():
    """The signed-in user itself rather than Flask-Login's `current_user` proxy, which looks
    the user up again on every attribute read: a page's loops pass the user to the policy
    hundreds of times."""
    return current_user._get_current_object()


def viewer_timezone() -> str:
    """The signed-in user's time zone (UTC otherwise), looked up once per request: a page
    formats dozens of timestamps."""
    if "viewer_tz" not in g:
        g.viewer_tz = current_user.timezone if current_user.is_authenticated else "UTC"
    return g.viewer_tz
