"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("imports", __name__)
