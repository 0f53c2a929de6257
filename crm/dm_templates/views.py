"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("dm_templates", __name__)
