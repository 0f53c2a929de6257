"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("conversations", __name__)
