"""WSGI entry point: `gunicorn wsgi:app` and `flask --app wsgi …`."""
import os

from crm import create_app

app = create_app(os.environ.get("RAPPORT_CONFIG", "config.Config"))
