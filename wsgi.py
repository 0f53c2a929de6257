"""WSGI entry point: `gunicorn wsgi:app` and `flask --app wsgi …`."""
import gc
import os

from crm import NotConfigured, create_app, refuse_unsafe_serving

try:
    app = create_app(os.environ.get("RAPPORT_CONFIG", "config.Config"))
    refuse_unsafe_serving(app)
except NotConfigured as e:
    raise SystemExit(f"Error: {e}") from None   # one line for `flask …` and gunicorn alike
# What exists now (modules, the app, its mappers and configuration) lives as long as the
# process. Frozen, it is left out of the collector's full passes, which otherwise walk it
# every few dozen requests: a pause of 50–80 ms at benchmark size, 3–7 ms once frozen.
gc.freeze()
