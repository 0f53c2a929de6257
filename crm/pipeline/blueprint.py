"""The pipeline blueprint: views.py and its sibling view modules add routes to it, and the
app factory registers it once all of them are imported."""
from flask import Blueprint

bp = Blueprint("pipeline", __name__)
