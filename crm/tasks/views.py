"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("tasks", __name__)
