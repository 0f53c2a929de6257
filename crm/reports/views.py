"""Pages for this feature."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
