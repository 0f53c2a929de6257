"""The tasks blueprint: views.py and edit_views.py add routes to it, and the app factory
registers it once both are imported."""
from flask import Blueprint

bp = Blueprint("tasks", __name__)
