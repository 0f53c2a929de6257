"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("pipeline", __name__)
